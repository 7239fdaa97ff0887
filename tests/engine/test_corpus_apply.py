"""Every public template applied to a small zone with generated variable values (CORPUS.md).

Values follow how each variable is used (an IP address in A/AAAA pointsTo, a label in host names, a host
name in targets, a number in priority/port/TTL…). Every template whose types the policy supports must
apply; the few that legitimately cannot are pinned in ``EXPECTED_FAILURES`` (and in docs/engine.md).
"""

from __future__ import annotations

import re
from pathlib import Path

import dns.name
import pytest

from django_domainconnect.engine.errors import EngineError, RenderError
from django_domainconnect.engine.plan import plan_apply
from django_domainconnect.engine.template import parse_template
from django_domainconnect.engine.types import Policy, Record, Template

pytestmark = pytest.mark.corpus

VAR = re.compile(r"%([A-Za-z0-9_-]+)%")
DOMAIN = "example.com"
D = DOMAIN + "."
ZONE = [
    Record(D, "SOA", 3600, "ns1.example.net. hostmaster.example.net. 1 7200 1800 1209600 3600"),
    Record(D, "NS", 3600, "ns1.example.net."),
    Record(D, "NS", 3600, "ns2.example.net."),
    Record(D, "A", 3600, "198.51.100.1"),
    Record(D, "MX", 3600, "10 mx.example.net."),
    Record(D, "TXT", 3600, '"v=spf1 include:mail.example.net ~all"'),
    Record(f"www.{D}", "CNAME", 3600, "example.com."),
    Record(f"_dmarc.{D}", "TXT", 3600, '"v=DMARC1; p=none"'),
    Record(f"shop.{D}", "A", 3600, "198.51.100.2"),
]
POLICY = Policy(supported_types=Policy().supported_types | {"REDIR301", "REDIR302", "APEXCNAME"})

# file name -> why it cannot be applied (checked exactly: a fix or a new failure both show up here).
EXPECTED_FAILURES = {
    "aiprospectscout.com.mail.json": "invalid_template: duplicated JSON key syncPubKeyDomain (ambiguous)",
}

# Templates whose groups are alternatives (e.g. a CNAME in one group, a TXT at the same host in another):
# applied without groupId every group is active and the records clash, so the engine refuses them
# (self_conflict) instead of writing an invalid zone. Each group applies on its own.
ALTERNATIVE_GROUPS = {
    "brevo.com.domain-authentication.json", "brimble.io.domain.json", "demarcify.com.setup.json",
    "easydmarc.com.setup.json", "edka.io.cluster.json", "flowtag.dev.status-page-subdomain.json",
    "goentri.com.showit.json", "shopify.com.email.json", "streamnode.io.website.json", "vercel.com.website.json",
    "weblish.io.wordpress.json",
}


def value_for(rtype: str, attr: str, raw: str, name: str) -> str:
    whole = raw.strip() == f"%{name}%"
    if attr == "points_to" and rtype in ("A", "AAAA"):
        if whole:
            return "192.0.2.1" if rtype == "A" else "2001:db8::1"
        return "1"
    if attr in ("priority", "weight", "port", "ttl"):
        return "10"
    if attr == "service":
        return "_svc"
    if attr == "protocol":
        return "_tcp"
    if attr == "target" and rtype.startswith("REDIR"):
        return "https://www.example.net/" if whole else "path"
    if attr in ("points_to", "target"):
        return "target.example.net" if whole else f"v-{name.lower().replace('_', '-')}"
    if attr in ("host", "name"):
        # One label per variable: two variables with one value could make a template clash with itself
        # (a CNAME next to a TXT), which the engine refuses (self_conflict) though the template is fine.
        return f"v-{name.lower().replace('_', '-')}"
    if attr == "spf_rules":
        return "include:spf.example.net" if whole else "spf.example.net"
    if attr == "data" and rtype == "CAA":
        position = raw.split().index(next(t for t in raw.split() if f"%{name}%" in t))
        return ("0", "issue")[position] if position < 2 else "ca.example.net"
    return "value-1"


def generated_params(template: Template) -> dict[str, str]:
    """One value per variable; address contexts first, since they accept the fewest values."""
    params: dict[str, str] = {}
    ordered = sorted(template.records, key=lambda r: r.type.upper() not in ("A", "AAAA"))
    for rec in ordered:
        for attr in ("points_to", "target", "host", "name", "data", "spf_rules", "priority", "weight", "port",
                     "ttl", "service", "protocol"):
            raw = getattr(rec, attr)
            if isinstance(raw, str):
                for name in VAR.findall(raw):
                    params.setdefault(name, value_for(rec.type.upper(), attr, raw, name))
    return params


def check_plan(template: Template, *, host: str, group_ids: list[str] | None) -> None:
    plan = plan_apply(template, domain=DOMAIN, host=host, params=generated_params(template), zone=ZONE,
                      group_ids=group_ids, new_instance_id="corpus", policy=POLICY)
    assert set(plan.to_delete) <= set(ZONE)
    assert not [r for r in plan.to_delete if r.type == "SOA" or (r.type == "NS" and r.name == D)]
    zone = dns.name.from_text(D)
    for rec in plan.to_add:
        assert dns.name.from_text(rec.name).is_subdomain(zone), rec
        assert POLICY.min_ttl <= rec.ttl <= POLICY.max_ttl


def test_every_supported_corpus_template_applies(corpus_dir: Path) -> None:
    failures: dict[str, str] = {}
    clashing: set[str] = set()
    applied = 0
    for path in sorted(corpus_dir.glob("*.json")):
        try:
            template = parse_template(path.read_text(encoding="utf-8"), path=str(path))
            host = "sub" if template.host_required else ""
            for where in (host, "shop"):
                try:
                    check_plan(template, host=where, group_ids=None)
                except RenderError as exc:
                    if exc.code != "self_conflict":
                        raise
                    clashing.add(path.name)
            for group in sorted(template.group_ids):
                check_plan(template, host=host, group_ids=[group])
            applied += 1
        except EngineError as exc:
            failures[path.name] = f"{exc.code}: {exc}"
    assert set(failures) == set(EXPECTED_FAILURES), failures
    # Their groups are alternatives: each applies alone (above), all together they clash.
    assert clashing == ALTERNATIVE_GROUPS
    assert applied >= 1150


def test_templates_needing_pseudo_types_are_reported_unsupported_by_default(corpus_dir: Path) -> None:
    seen = 0
    for path in sorted(corpus_dir.glob("*.json")):
        if path.name in EXPECTED_FAILURES:
            continue
        template = parse_template(path.read_text(encoding="utf-8"), path=str(path))
        if not template.record_types & {"REDIR301", "REDIR302", "APEXCNAME"}:
            continue
        seen += 1
        with pytest.raises(EngineError) as exc:
            plan_apply(template, domain=DOMAIN, host="sub", params=generated_params(template), zone=ZONE,
                       new_instance_id="corpus")
        assert exc.value.code == "unsupported_type"
    assert seen >= 30
