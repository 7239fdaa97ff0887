"""A template's own rendered records must not clash with each other (§10.4): with owner names from
variables, a CNAME could land next to other data, or records below the template's own NS. The engine
refuses such a set (``RenderError``, code ``self_conflict``) and nothing is written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from django_domainconnect.engine.errors import EngineError, RenderError
from django_domainconnect.engine.plan import names_needed, plan_apply
from django_domainconnect.engine.render import render_records
from django_domainconnect.engine.template import parse_template
from django_domainconnect.engine.types import Policy, Record
from tests.sync import conftest as sync_fixtures

SCRIPT = Path(sys.executable).with_name("domainconnect")
D = "example.com."
make_template = sync_fixtures.make_template  # the sync tests' fixture: an enabled template row
ZONE_TEXT = "@ 3600 IN SOA ns1.example.net. hostmaster.example.net. 1 7200 1800 1209600 3600\n" \
            "@ 3600 IN NS ns1.example.net.\n"


def template(*records: dict[str, Any], **extra: Any) -> Any:
    return parse_template({"providerId": "sp.example", "serviceId": "svc", "providerName": "SP",
                           "serviceName": "Svc", "records": list(records), **extra})


CNAME_VS_TXT = template({"type": "CNAME", "host": "c%a%", "pointsTo": "x.example.org"},
                        {"type": "TXT", "host": "c%b%", "data": "hi"})
NS_CNAME_BELOW = [{"type": "NS", "host": "%a%", "pointsTo": "ns1.example.net"},
                  {"type": "CNAME", "host": "%b%", "pointsTo": "x.example.org"},
                  {"type": "A", "host": "www.%b%", "pointsTo": "192.0.2.1"}]


def clash(tpl: Any, params: dict[str, str], **kwargs: Any) -> RenderError:
    with pytest.raises(RenderError) as exc:
        render_records(tpl, domain="example.com", params=params, **kwargs)
    assert exc.value.code == "self_conflict"
    return exc.value


# -- the QA reproductions --------------------------------------------------------------------------------

def test_variable_hosts_putting_a_cname_next_to_a_txt_are_refused() -> None:
    err = clash(CNAME_VS_TXT, {"a": "z", "b": "z"})
    assert "records 0 and 1" in str(err) and "cz.example.com." in str(err) and "CNAME" in str(err)
    assert err.record_index == 1 and err.field == "host"
    with pytest.raises(RenderError, match="records 0 and 1"):
        plan_apply(CNAME_VS_TXT, domain="example.com", params={"a": "z", "b": "z"}, zone=[], new_instance_id="i")
    with pytest.raises(RenderError, match="records 0 and 1"):  # the scope a backend lists fails the same way
        names_needed(CNAME_VS_TXT, domain="example.com", params={"a": "z", "b": "z"})


def test_the_same_template_with_distinct_hosts_renders() -> None:
    rendered = render_records(CNAME_VS_TXT, domain="example.com", params={"a": "z", "b": "y"})
    assert [(r.record.name, r.record.type) for r in rendered] == [(f"cz.{D}", "CNAME"), (f"cy.{D}", "TXT")]


def test_ns_with_a_cname_at_its_owner_and_data_below_it_is_refused() -> None:
    err = clash(template(*NS_CNAME_BELOW), {"a": "d", "b": "d"})
    assert "records 0 and 1" in str(err) and f"d.{D}" in str(err)
    ok = render_records(template(*NS_CNAME_BELOW), domain="example.com", params={"a": "d", "b": "e"})
    assert len(ok) == 3


def test_data_below_the_templates_own_ns_is_refused() -> None:
    tpl = template({"type": "NS", "host": "%a%", "pointsTo": "ns1.example.net"},
                   {"type": "A", "host": "www.%b%", "pointsTo": "192.0.2.1"})
    err = clash(tpl, {"a": "d", "b": "d"})
    assert "records 0 and 1" in str(err) and f"www.d.{D}" in str(err) and "below the delegation" in str(err)
    err = clash(tpl, {"a": "d", "b": "x.d"})  # deeper below counts too
    assert f"www.x.d.{D}" in str(err)
    assert len(render_records(tpl, domain="example.com", params={"a": "d", "b": "dd"})) == 2  # not a label suffix


def test_ns_with_other_data_at_its_owner_is_refused_but_two_ns_are_an_rrset() -> None:
    tpl = template({"type": "NS", "host": "%a%", "pointsTo": "ns1.example.net"},
                   {"type": "TXT", "host": "%b%", "data": "x"},
                   {"type": "NS", "host": "%a%", "pointsTo": "ns2.example.net"})
    assert "records 0 and 1" in str(clash(tpl, {"a": "d", "b": "d"}))
    assert len(render_records(tpl, domain="example.com", params={"a": "d", "b": "e"})) == 3


def test_two_different_cnames_at_one_owner_are_refused_identical_ones_are_one_record() -> None:
    tpl = template({"type": "CNAME", "host": "%a%", "pointsTo": "one.example.org"},
                   {"type": "CNAME", "host": "%b%", "pointsTo": "%t%"})
    assert "records 0 and 1" in str(clash(tpl, {"a": "w", "b": "w", "t": "two.example.org"}))
    same = render_records(tpl, domain="example.com", params={"a": "w", "b": "w", "t": "one.example.org"})
    assert len(same) == 2 and same[0].record == same[1].record


def test_spfm_counts_as_a_txt_at_its_owner() -> None:
    tpl = template({"type": "CNAME", "host": "%a%", "pointsTo": "x.example.org"},
                   {"type": "SPFM", "host": "%b%", "spfRules": "include:spf.example.org"})
    assert "records 0 and 1" in str(clash(tpl, {"a": "m", "b": "m"}))


def test_rrsets_from_one_template_are_fine() -> None:
    tpl = template({"type": "A", "host": "%a%", "pointsTo": "192.0.2.1"},
                   {"type": "A", "host": "%b%", "pointsTo": "192.0.2.2"},
                   {"type": "AAAA", "host": "%a%", "pointsTo": "2001:db8::1"},
                   {"type": "TXT", "host": "%a%", "data": "one"},
                   {"type": "TXT", "host": "%b%", "data": "two"},
                   {"type": "MX", "host": "%a%", "pointsTo": "mx1.example.org", "priority": 10},
                   {"type": "MX", "host": "%b%", "pointsTo": "mx2.example.org", "priority": 20},
                   {"type": "SRV", "name": "%a%", "service": "_sip", "protocol": "_tcp", "priority": 1,
                    "weight": 1, "port": 5060, "target": "sip1.example.org"},
                   {"type": "SRV", "name": "%b%", "service": "_sip", "protocol": "_tcp", "priority": 2,
                    "weight": 1, "port": 5060, "target": "sip2.example.org"},
                   {"type": "SPFM", "host": "%a%", "spfRules": "include:spf.example.org"})
    plan = plan_apply(tpl, domain="example.com", params={"a": "w", "b": "w"}, zone=[], new_instance_id="i")
    assert len(plan.to_add) == 10  # nine records and the SPF TXT the SPFM record makes


def test_a_cname_at_the_apex_with_other_apex_records_is_refused_even_when_allowed() -> None:
    tpl = template({"type": "CNAME", "host": "@", "pointsTo": "x.example.org"},
                   {"type": "TXT", "host": "%a%", "data": "v"})
    allowed = Policy(allow_apex_cname=True)
    assert len(render_records(tpl, domain="example.com", params={"a": "t"}, policy=allowed)) == 2
    with pytest.raises(RenderError, match="a CNAME record cannot be at the zone apex"):
        render_records(tpl, domain="example.com", params={"a": "t"})
    tpl = template({"type": "CNAME", "host": "@", "pointsTo": "x.example.org"},
                   {"type": "TXT", "host": "@", "data": "v"})
    assert "records 0 and 1" in str(clash(tpl, {}, policy=allowed))


def test_the_check_runs_after_group_filtering() -> None:
    tpl = template({"type": "CNAME", "host": "www", "pointsTo": "x.example.org", "groupId": "cname"},
                   {"type": "A", "host": "www", "pointsTo": "192.0.2.1", "groupId": "address"})
    for group in ("cname", "address"):
        assert len(render_records(tpl, domain="example.com", params={}, group_ids=[group])) == 1
    assert "records 0 and 1" in str(clash(tpl, {}))  # every group active: alternatives clash



def test_a_group_applied_later_displaces_the_instances_own_clashing_records_as_conflicts() -> None:
    # Groups are additive (§10.3.1): the instance keeps its other groups' records. They must still fit
    # with the new ones: the A of group "a" next to the kept CNAME of group "c" would be an invalid zone.
    tpl = template({"type": "CNAME", "host": "www", "pointsTo": "x.example.org", "groupId": "c"},
                   {"type": "A", "host": "www", "pointsTo": "192.0.2.1", "groupId": "a"},
                   {"type": "AAAA", "host": "www", "pointsTo": "2001:db8::1", "groupId": "b"})
    first = plan_apply(tpl, domain="example.com", params={}, zone=[], group_ids=["c"], new_instance_id="i")
    zone = list(first.to_add)
    cname = Record(f"www.{D}", "CNAME", 3600, "x.example.org.")
    address = Record(f"www.{D}", "A", 3600, "192.0.2.1")
    second = plan_apply(tpl, domain="example.com", params={}, zone=zone, instances=[first.new_instance],
                        group_ids=["a"], new_instance_id="j")
    assert second.to_add == (address,) and second.to_delete == (cname,)
    assert [c.record for c in second.conflicts] == [cname]  # shown to the user, not done silently
    assert [o.record for o in second.new_instance.records] == [address]
    zone = [r for r in zone if r not in second.to_delete] + list(second.to_add)
    third = plan_apply(tpl, domain="example.com", params={}, zone=zone, instances=[second.new_instance],
                       group_ids=["b"], new_instance_id="k")
    assert not third.conflicts and not third.to_delete  # an AAAA next to the kept A is fine: still additive
    assert {o.record.type for o in third.new_instance.records} == {"A", "AAAA"}



def test_a_kept_spf_contribution_that_clashes_with_a_new_cname_leaves_the_instance() -> None:
    tpl = template({"type": "SPFM", "host": "www", "spfRules": "include:x.example.org", "groupId": "s"},
                   {"type": "CNAME", "host": "www", "pointsTo": "x.example.org", "groupId": "c"})
    first = plan_apply(tpl, domain="example.com", params={}, zone=[], group_ids=["s"], new_instance_id="i")
    (spf_record,) = first.to_add
    second = plan_apply(tpl, domain="example.com", params={}, zone=[spf_record], instances=[first.new_instance],
                        group_ids=["c"], new_instance_id="j")
    assert second.to_delete == (spf_record,) and [c.record for c in second.conflicts] == [spf_record]
    assert [(o.record.type, o.spf_rules) for o in second.new_instance.records] == [("CNAME", None)]


# -- the CLI: one line, non-zero exit, zone file untouched -----------------------------------------------

def run_cli(tmp_path: Path, records: list[dict[str, Any]], *params: str) -> subprocess.CompletedProcess[str]:
    import json

    tpl = tmp_path / "t.json"
    tpl.write_text(json.dumps({"providerId": "sp.example", "serviceId": "svc", "providerName": "SP",
                               "serviceName": "Svc", "records": records}))
    zone = tmp_path / "example.com.zone"
    zone.write_text(ZONE_TEXT)
    args = [str(SCRIPT), "apply", "--template", str(tpl), "--zone", str(zone), "--domain", "example.com"]
    for p in params:
        args += ["--param", p]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)
    assert zone.read_text() == ZONE_TEXT
    return proc


def test_cli_refuses_ns_cname_and_data_below_from_variables(tmp_path: Path) -> None:
    proc = run_cli(tmp_path, NS_CNAME_BELOW, "a=d", "b=d")
    assert proc.returncode != 0 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert "self_conflict" in proc.stderr and "records 0 and 1" in proc.stderr and f"d.{D}" in proc.stderr


def test_cli_refuses_a_literal_cname_next_to_a_txt(tmp_path: Path) -> None:
    proc = run_cli(tmp_path, [{"type": "CNAME", "host": "z", "pointsTo": "x.example.org"},
                              {"type": "TXT", "host": "z", "data": "hi"}])
    assert proc.returncode != 0 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "self_conflict" in proc.stderr and f"z.{D}" in proc.stderr


def test_cli_applies_the_same_template_with_distinct_hosts(tmp_path: Path) -> None:
    proc = run_cli(tmp_path, NS_CNAME_BELOW, "a=d", "b=e")
    assert proc.returncode == 0, proc.stderr
    assert f"+ d.{D} 3600 IN NS ns1.example.net." in proc.stdout
    assert f"+ www.e.{D} 3600 IN A 192.0.2.1" in proc.stdout


# -- the Django layer: 4xx and nothing written -----------------------------------------------------------

@pytest.fixture
def web_zone(memory_backend, django_user_model) -> Any:
    user = django_user_model.objects.create_user("carol", password="pw-carol")
    memory_backend.add_zone("example.com", owners=["carol"], records=[Record(D, "A", 3600, "192.0.2.1")])
    return user, memory_backend


# Stored as tests/sync's ``make_template`` does (enabled, no lint): only the TXT host has a variable, and
# its value can make it the CNAME's host.
WEB_RECORDS = [{"type": "CNAME", "host": "www", "pointsTo": "sites.example.org"},
               {"type": "TXT", "host": "w%txthost%", "data": "verify=1"}]


@pytest.mark.django_db
def test_sync_flow_answers_400_and_writes_nothing(client, web_zone, make_template) -> None:
    from django_domainconnect import models
    from tests.sync.helpers import apply_url

    user, backend = web_zone
    make_template("clash", records=WEB_RECORDS)
    client.force_login(user)
    response = client.get(apply_url("clash", {"domain": "example.com", "txthost": "ww"}))
    assert response.status_code == 400
    assert "records 0 and 1" in response.content.decode()
    fine = client.get(apply_url("clash", {"domain": "example.com", "txthost": "eb"}))
    assert fine.status_code == 200  # the consent page: the same template with another host is fine
    assert backend.write_count == 0
    assert not models.AppliedTemplate.objects.exists()


@pytest.mark.django_db
def test_service_apply_raises_an_engine_error_and_writes_nothing(web_zone, make_template) -> None:
    from django_domainconnect import models, services

    user, backend = web_zone
    stored = make_template("clash", records=WEB_RECORDS)
    before = backend.records("example.com")
    with pytest.raises(EngineError) as exc:
        services.apply(user=user, domain="example.com", template=stored, params={"txthost": "ww"}, flow="sync")
    assert exc.value.code == "self_conflict"
    assert backend.write_count == 0
    assert not models.AppliedTemplate.objects.exists()
    assert backend.records("example.com") == before


# -- property: refused exactly when an independent check finds an invalid zone ----------------------------

HOSTS = ["%a%", "%b%", "x", "%a%.x", "w.%b%", "_t.%a%"]
TYPES = ["A", "TXT", "CNAME", "NS", "MX"]
POINTS = {"A": "192.0.2.1", "CNAME": "t.example.org", "NS": "ns.example.org", "MX": "mx.example.org"}


def _record(rtype: str, host: str, n: int) -> dict[str, Any]:
    rec: dict[str, Any] = {"type": rtype, "host": host}
    if rtype == "TXT":
        rec["data"] = f"t{n}"
    else:
        rec["pointsTo"] = POINTS[rtype] if rtype != "CNAME" else f"t{n % 2}.example.org"
    if rtype == "MX":
        rec["priority"] = n
    return rec


def _invalid(records: list[Record]) -> bool:
    """The §10.4 zone rules, written with dnspython names (not the engine's string suffixes)."""
    import dns.name

    distinct = {r.key(): r for r in records}.values()
    for rec in distinct:
        same = [r for r in distinct if r.name == rec.name and r is not rec]
        if rec.type == "CNAME" and same:
            return True
        if rec.type == "NS":
            ns = dns.name.from_text(rec.name)
            if any(r.type != "NS" and dns.name.from_text(r.name).is_subdomain(ns) for r in distinct):
                return True
    return False


def test_refused_exactly_when_the_rendered_set_is_an_invalid_zone(monkeypatch) -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from django_domainconnect.engine import render

    labels = st.sampled_from(["x", "y", "a.x", "x.y"])

    @settings(max_examples=300, deadline=None)
    @given(st.lists(st.tuples(st.sampled_from(TYPES), st.sampled_from(HOSTS)), min_size=1, max_size=5),
           labels, labels, st.randoms(use_true_random=False))
    def check(specs: list[tuple[str, str]], a: str, b: str, rnd: Any) -> None:
        raw = [_record(t, h, n) for n, (t, h) in enumerate(specs)]
        params = {"a": a, "b": b}
        with monkeypatch.context() as m:  # the unchecked set, to judge it independently
            m.setattr(render, "_check_self_conflicts", lambda *_a: None)
            rendered = render_records(template(*raw), domain="example.com", params=params)
        expect_refusal = _invalid([rr.record for rr in rendered])
        shuffled = raw[:]
        rnd.shuffle(shuffled)
        for records in (raw, shuffled):  # the verdict never depends on the order of the records
            try:
                render_records(template(*records), domain="example.com", params=params)
                refused = False
            except RenderError as exc:
                assert exc.code == "self_conflict"
                refused = True
            assert refused == expect_refusal, (records, params)

    check()
