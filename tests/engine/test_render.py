"""Rendering template records (draft §9, §10.3): groups, variables, host names, record data, TTLs."""

from __future__ import annotations

import re
from typing import Any

import dns.rdata
import dns.rdataclass
import dns.rdatatype
import pytest

from django_domainconnect.engine.errors import (
    GroupError,
    HostError,
    RenderError,
    UnsupportedTypeError,
    VariableError,
)
from django_domainconnect.engine.render import render_records
from django_domainconnect.engine.types import Policy, Template, TemplateRecord

_SNAKE = re.compile(r"(?<!^)(?=[A-Z])")


def make_template(records: list[dict[str, Any]], **flags: Any) -> Template:
    """A ``Template`` built directly from JSON-style record dicts (no lint: tests reach the renderer)."""
    recs = []
    for i, rec in enumerate(records):
        fields = {_SNAKE.sub("_", k).lower(): v for k, v in rec.items()}
        recs.append(TemplateRecord(index=i, raw=rec, **fields))
    meta = {"provider_id": "example.net", "provider_name": "Example", "service_id": "svc",
            "service_name": "Service"}
    meta.update(flags)
    return Template(records=tuple(recs), **meta)


def render(records: list[dict[str, Any]], *, domain: str = "example.com", host: str = "",
           params: dict[str, str] | None = None, group_ids: list[str] | None = None,
           policy: Policy = Policy(), **flags: Any) -> list:  # noqa: B008
    return render_records(make_template(records, **flags), domain=domain, host=host, params=params or {},
                          group_ids=group_ids, policy=policy)


def one(record: dict[str, Any], **kwargs: Any):
    out = render([record], **kwargs)
    assert len(out) == 1
    return out[0].record


# -- group filtering (§10.3) ------------------------------------------------------------------------------

GROUPED = [
    {"type": "A", "host": "a", "pointsTo": "192.0.2.1", "groupId": "g1"},
    {"type": "A", "host": "b", "pointsTo": "192.0.2.2", "groupId": "g2"},
    {"type": "TXT", "host": "c", "data": "always"},
]


def test_no_group_id_makes_every_record_active() -> None:
    assert [r.record.name for r in render(GROUPED)] == ["a.example.com.", "b.example.com.", "c.example.com."]


def test_group_id_selects_its_records_and_ungrouped_ones() -> None:
    assert [r.record.name for r in render(GROUPED, group_ids=["g2"])] == ["b.example.com.", "c.example.com."]


def test_group_matching_is_case_sensitive_and_unknown_groups_fail() -> None:
    with pytest.raises(GroupError) as exc:
        render(GROUPED, group_ids=["G1"])
    assert "G1" in str(exc.value)
    with pytest.raises(GroupError):
        render(GROUPED, group_ids=["g1", "nope"])


def test_inactive_records_are_not_substituted() -> None:
    # The g2 record needs a variable that is not supplied: it must not matter when g2 is inactive.
    records = [{"type": "A", "host": "a", "pointsTo": "192.0.2.1", "groupId": "g1"},
               {"type": "A", "host": "b", "pointsTo": "%ip%", "groupId": "g2"}]
    assert len(render(records, group_ids=["g1"])) == 1
    with pytest.raises(VariableError):
        render(records)


# -- variables (§9.1, §9.2) -------------------------------------------------------------------------------

def test_builtins_host_domain_fqdn() -> None:
    rec = one({"type": "TXT", "host": "@", "data": "%host%|%domain%|%fqdn%"}, host="sub")
    assert rec.data == '"sub|example.com|sub.example.com"'


def test_request_params_cannot_override_builtins() -> None:
    rec = one({"type": "TXT", "host": "@", "data": "%domain%"}, params={"domain": "evil.example"})
    assert rec.data == '"example.com"'


def test_substitution_is_a_single_pass() -> None:
    rec = one({"type": "TXT", "host": "@", "data": "%a%-%b%"}, params={"a": "%b%", "b": "X"})
    assert rec.data == '"%b%-X"'
    rec = one({"type": "TXT", "host": "@", "data": "%a%"}, params={"a": "%fqdn%"})
    assert rec.data == '"%fqdn%"'


def test_missing_variable_is_an_error_naming_it() -> None:
    with pytest.raises(VariableError) as exc:
        one({"type": "A", "host": "@", "pointsTo": "%ip%"})
    assert "ip" in str(exc.value) and exc.value.record_index == 0 and exc.value.field == "pointsTo"


def test_variable_names_are_case_sensitive() -> None:
    with pytest.raises(VariableError):
        one({"type": "A", "host": "@", "pointsTo": "%IP%"}, params={"ip": "192.0.2.1"})


@pytest.mark.parametrize("value", ["a\nb", "a\rb", "tab\there", "nul\x00", "del\x7f", "caf\u00e9", "end\\", "\\256"])
def test_values_outside_dc_prop_value_are_rejected(value: str) -> None:
    with pytest.raises(VariableError) as exc:
        one({"type": "TXT", "host": "@", "data": "x=%v%"}, params={"v": value})
    assert exc.value.field == "data"


def test_unknown_params_are_ignored() -> None:
    rec = one({"type": "A", "host": "@", "pointsTo": "192.0.2.1"}, params={"junk": "\n\n", "other": "x"})
    assert rec.data == "192.0.2.1"


# -- host rendering (§9.3) --------------------------------------------------------------------------------

@pytest.mark.parametrize(("tmpl_host", "host", "expected"), [
    ("www", "", "www.example.com."),
    ("www", "bar", "www.bar.example.com."),
    ("@", "", "example.com."),
    ("@", "bar", "bar.example.com."),
    ("", "bar", "bar.example.com."),
    (None, "", "example.com."),
    ("example.com.", "bar", "example.com."),
    ("_dmarc.%domain%.", "bar", "_dmarc.example.com."),
    ("%fqdn%.", "bar", "bar.example.com."),
    ("*", "", "*.example.com."),
    ("*.shop", "bar", "*.shop.bar.example.com."),
    ("WWW", "", "www.example.com."),
    ("bücher", "", "xn--bcher-kva.example.com."),
])
def test_host_rendering(tmpl_host: str | None, host: str, expected: str) -> None:
    assert one({"type": "TXT", "host": tmpl_host, "data": "x"}, host=host).name == expected


def test_section_9_3_3_examples() -> None:
    records = [{"type": "CNAME", "host": "www", "pointsTo": "@", "ttl": 1800},
               {"type": "A", "host": "@", "pointsTo": "192.0.2.1", "ttl": 1800}]
    apex = [r.record.to_dict() for r in render(records)]
    assert apex == [
        {"name": "www.example.com.", "type": "CNAME", "ttl": 1800, "data": "example.com."},
        {"name": "example.com.", "type": "A", "ttl": 1800, "data": "192.0.2.1"},
    ]
    bar = [(r.record.name, r.record.data) for r in render(records, host="bar")]
    assert bar == [("www.bar.example.com.", "bar.example.com."), ("bar.example.com.", "192.0.2.1")]


def test_domain_and_host_accept_u_labels_and_upper_case() -> None:
    rec = one({"type": "A", "host": "www", "pointsTo": "192.0.2.1"}, domain="FAß.de", host="Bär")
    assert rec.name == "www.xn--br-via.xn--fa-hia.de."


@pytest.mark.parametrize("tmpl_host", ["evil.com.", "evilexample.com.", "example.com.evil.com.", "a..b",
                                       "-bad", "bad-", "x" * 64])
def test_hosts_outside_the_zone_or_malformed_are_rejected(tmpl_host: str) -> None:
    with pytest.raises(HostError) as exc:
        one({"type": "TXT", "host": tmpl_host, "data": "x"})
    assert exc.value.record_index == 0 and exc.value.field == "host"


@pytest.mark.parametrize("value", ["@", "*", "evil.com.", "x.", "*.www", "a@b"])
def test_variable_may_not_render_apex_wildcard_or_absolute(value: str) -> None:
    with pytest.raises(HostError):
        one({"type": "TXT", "host": "%sub%", "data": "x"}, params={"sub": value})


def test_variable_rendering_an_empty_label_is_rejected() -> None:
    with pytest.raises(HostError):
        one({"type": "TXT", "host": "www.%sub%", "data": "x"}, params={"sub": ""})


def test_variable_host_with_dots_stays_relative() -> None:
    rec = one({"type": "TXT", "host": "%sub%", "data": "x"}, params={"sub": "a.b"}, host="h")
    assert rec.name == "a.b.h.example.com."


def test_name_longer_than_253_is_rejected() -> None:
    host = ".".join(["a" * 60] * 4)
    with pytest.raises(HostError):
        one({"type": "TXT", "host": "x" * 10, "data": "x"}, host=host)


def test_host_required_without_host() -> None:
    record = {"type": "CNAME", "host": "@", "pointsTo": "target.example.net"}
    with pytest.raises(HostError) as exc:
        render([record], host_required=True)
    assert exc.value.code == "host_required"
    assert render([record], host="shop", host_required=True)[0].record.name == "shop.example.com."


@pytest.mark.parametrize(("domain", "host"), [("com", ""), ("exa mple.com", ""), ("example.com", "a..b"),
                                              ("example.com", "x.")])
def test_bad_domain_or_host_parameters(domain: str, host: str) -> None:
    with pytest.raises(HostError):
        one({"type": "A", "host": "@", "pointsTo": "192.0.2.1"}, domain=domain, host=host)


# -- record data --------------------------------------------------------------------------------------------

def test_a_and_aaaa_are_validated_and_canonical() -> None:
    assert one({"type": "AAAA", "host": "@", "pointsTo": "2001:DB8:0:0::1"}).data == "2001:db8::1"
    for bad in ("192.0.2", "192.0.2.256", "host.example", "192.0.2.1 192.0.2.2"):
        with pytest.raises(RenderError) as exc:
            one({"type": "A", "host": "@", "pointsTo": bad})
        assert exc.value.record_index == 0 and exc.value.field == "pointsTo"
    with pytest.raises(RenderError):
        one({"type": "AAAA", "host": "@", "pointsTo": "192.0.2.1"})


@pytest.mark.parametrize("rtype", ["A", "AAAA", "NS"])
def test_at_sign_in_pointsto_is_refused_for_a_aaaa_ns(rtype: str) -> None:
    with pytest.raises(RenderError):
        one({"type": rtype, "host": "sub", "pointsTo": "@"})


def test_cname_targets_are_absolute() -> None:
    assert one({"type": "CNAME", "host": "www", "pointsTo": "Target.Example.NET"}).data == "target.example.net."
    assert one({"type": "CNAME", "host": "www", "pointsTo": "target.example.net."}).data == "target.example.net."
    assert one({"type": "CNAME", "host": "www", "pointsTo": "@"}, host="b").data == "b.example.com."
    with pytest.raises(RenderError):
        one({"type": "CNAME", "host": "www", "pointsTo": "%t%"}, params={"t": "bad..name"})


def test_cname_at_apex_is_refused_unless_policy_allows() -> None:
    with pytest.raises(RenderError) as exc:
        one({"type": "CNAME", "host": "@", "pointsTo": "t.example.net"})
    assert exc.value.field == "host"
    rec = one({"type": "CNAME", "host": "@", "pointsTo": "t.example.net"},
              policy=Policy(allow_apex_cname=True))
    assert rec.name == "example.com."


def test_ns_at_apex_is_refused() -> None:
    with pytest.raises(RenderError):
        one({"type": "NS", "host": "@", "pointsTo": "ns1.example.net"})
    assert one({"type": "NS", "host": "sub", "pointsTo": "ns1.example.net"}).data == "ns1.example.net."


def test_mx_priority_and_at_target() -> None:
    rec = one({"type": "MX", "host": "@", "pointsTo": "mail.@", "priority": "10"}, host="h")
    assert rec.data == "10 mail.h.example.com."
    assert one({"type": "MX", "host": "@", "pointsTo": "mx.example.net", "priority": "%p%"},
               params={"p": "5"}).data == "5 mx.example.net."
    for bad in ("65536", "-1", "ten", ""):
        with pytest.raises(RenderError) as exc:
            one({"type": "MX", "host": "@", "pointsTo": "mx.example.net", "priority": bad})
        assert exc.value.field == "priority"


@pytest.mark.parametrize(("name", "host", "owner"), [
    ("", "", "_sip._tcp.example.com."),
    ("@", "h", "_sip._tcp.h.example.com."),
    (None, "", "_sip._tcp.example.com."),
    ("office", "h", "_sip._tcp.office.h.example.com."),
])
def test_srv_owner(name: str | None, host: str, owner: str) -> None:
    rec = one({"type": "SRV", "name": name, "service": "_sip", "protocol": "_tcp", "priority": 10,
               "weight": "20", "port": 5060, "target": "sip.example.net"}, host=host)
    assert rec.name == owner and rec.type == "SRV"
    assert rec.data == "10 20 5060 sip.example.net."


def test_srv_root_target_and_bad_fields() -> None:
    base = {"type": "SRV", "name": "@", "service": "_sip", "protocol": "_tcp", "priority": 0, "weight": 0,
            "port": 0, "target": "."}
    assert one(base).data == "0 0 0 ."
    with pytest.raises(RenderError):
        one({**base, "service": "sip"})
    with pytest.raises(RenderError):
        one({**base, "port": 70000})


def test_spfm_carries_validated_rules_not_a_record() -> None:
    out = render([{"type": "SPFM", "host": "@", "spfRules": "include:%inc% ip4:192.0.2.0/24"}],
                 params={"inc": "spf.example.net"})
    assert out[0].record is None
    assert out[0].spf_rules == "include:spf.example.net ip4:192.0.2.0/24"
    assert out[0].owner == "example.com."
    for bad in ("v=spf1 include:x", "include:x ~all", "redirect=x", "bogus:x", ""):
        with pytest.raises(RenderError) as exc:
            render([{"type": "SPFM", "host": "@", "spfRules": bad}])
        assert exc.value.field == "spfRules"


def test_caa_and_generic_types_from_data() -> None:
    rec = one({"type": "CAA", "host": "@", "data": '0 issue "%ca%"'}, params={"ca": "letsencrypt.org"})
    assert (rec.type, rec.data) == ("CAA", '0 issue "letsencrypt.org"')
    policy = Policy(supported_types=Policy().supported_types | {"TYPE65534", "TLSA"})
    assert one({"type": "TYPE65534", "host": "@", "data": r"\# 2 0102"}, policy=policy).data == r"\# 2 0102"
    tlsa = one({"type": "TLSA", "host": "_443._tcp", "data": "3 1 0 ABCDEF12"}, policy=policy)
    assert tlsa.data == "3 1 0 abcdef12"
    with pytest.raises(RenderError):
        one({"type": "CAA", "host": "@", "data": '0 issue "ca" ; injected'})
    with pytest.raises(RenderError):
        one({"type": "CAA", "host": "@", "data": "0 issue"})


def test_unsupported_types_are_reported_before_anything_renders() -> None:
    with pytest.raises(UnsupportedTypeError) as exc:
        render([{"type": "A", "host": "@", "pointsTo": "%missing%"},
                {"type": "REDIR301", "host": "@", "target": "https://example.net"}])
    assert "REDIR301" in str(exc.value) and exc.value.record_index == 1


def test_pseudo_types_pass_through_when_supported() -> None:
    policy = Policy(supported_types=Policy().supported_types | {"REDIR301", "REDIR302", "APEXCNAME"})
    out = render([{"type": "REDIR301", "host": "@", "target": "https://www.%domain%/x"},
                  {"type": "APEXCNAME", "host": "@", "pointsTo": "Site.Example.NET", "ttl": 600}], policy=policy)
    assert [r.record.to_dict() for r in out] == [
        {"name": "example.com.", "type": "REDIR301", "ttl": 3600, "data": "https://www.example.com/x"},
        {"name": "example.com.", "type": "APEXCNAME", "ttl": 600, "data": "site.example.net."},
    ]


# -- TXT (ARCHITECTURE.md) ---------------------------------------------------------------------------------

def txt_strings(data: str) -> list[bytes]:
    return list(dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.TXT, data).strings)


def test_unquoted_txt_is_one_string_even_with_spaces_and_semicolons() -> None:
    rec = one({"type": "TXT", "host": "_dmarc", "data": "v=DMARC1; p=none; rua=mailto:a@example.com"})
    assert txt_strings(rec.data) == [b"v=DMARC1; p=none; rua=mailto:a@example.com"]


def test_long_unquoted_txt_is_split_not_truncated() -> None:
    value = "k=" + "A" * 600
    rec = one({"type": "TXT", "host": "@", "data": "%v%"}, params={"v": value})
    strings = txt_strings(rec.data)
    assert [len(s) for s in strings] == [255, 255, 92]
    assert b"".join(strings).decode() == value


def test_quoted_txt_is_presentation_format() -> None:
    rec = one({"type": "TXT", "host": "@", "data": '"part one" "part;two"'})
    assert txt_strings(rec.data) == [b"part one", b"part;two"]
    with pytest.raises(RenderError):
        one({"type": "TXT", "host": "@", "data": '"a" ; rm'})
    with pytest.raises(RenderError):
        one({"type": "TXT", "host": "@", "data": '"' + "a" * 256 + '"'})


@pytest.mark.parametrize("value", ['a" "b', 'a"; rm -rf', '\\"', 'x\\" "y', "a ; b", '"', "; comment"])
def test_values_never_inject_strings_or_comments(value: str) -> None:
    for data in ("%v%", '"%v%"', 'pre %v% post'):
        rec = one({"type": "TXT", "host": "@", "data": data}, params={"v": value})
        joined = b"".join(txt_strings(rec.data))
        if data == "%v%":
            assert joined == value.replace('\\"', '"').encode()
        assert len(txt_strings(rec.data)) == 1


def test_txt_escapes_in_values_are_decoded() -> None:
    rec = one({"type": "TXT", "host": "@", "data": "%v%"}, params={"v": r"a\059b\"c"})
    assert txt_strings(rec.data) == [b'a;b"c']


# -- TTL ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("ttl", "params", "expected"), [
    (600, {}, 600),
    ("1800", {}, 1800),
    (None, {}, 3600),
    ("%ttl%", {"ttl": "7200"}, 7200),
    ("%ttl%", {}, 3600),
    ("%ttl%", {"ttl": "soon"}, 3600),
    ("abc", {}, 3600),
    (1, {}, 300),
    (10_000_000, {}, 86400),
    (-5, {}, 300),
])
def test_ttl_is_best_effort(ttl: Any, params: dict[str, str], expected: int) -> None:
    rec = one({"type": "A", "host": "@", "pointsTo": "192.0.2.1", "ttl": ttl}, params=params)
    assert rec.ttl == expected


def test_ttl_policy_bounds() -> None:
    policy = Policy(default_ttl=900, min_ttl=60, max_ttl=1200)
    assert one({"type": "A", "host": "@", "pointsTo": "192.0.2.1", "ttl": 30}, policy=policy).ttl == 60
    assert one({"type": "A", "host": "@", "pointsTo": "192.0.2.1"}, policy=policy).ttl == 900


def test_owner_name_errors_are_both_host_and_render_errors() -> None:
    with pytest.raises(RenderError) as exc:
        one({"type": "TXT", "host": "evil.com.", "data": "x"})
    assert isinstance(exc.value, HostError) and exc.value.code == "invalid_host"


def test_host_and_domain_together_longer_than_253_are_rejected() -> None:
    host = ".".join(["a" * 63] * 3)  # 191 characters
    domain = ".".join(["b" * 40, "c" * 40]) + ".com"
    with pytest.raises(HostError) as exc:
        one({"type": "TXT", "host": "@", "data": "x"}, domain=domain, host=host)
    assert exc.value.field == "host"


def test_non_ascii_spf_rules_are_a_clear_error() -> None:
    with pytest.raises(RenderError) as exc:
        render([{"type": "SPFM", "host": "@", "spfRules": "include:bücher.example"}])
    assert exc.value.field == "spfRules"
