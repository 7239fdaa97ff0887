"""Rendering's per-template fast paths give exactly what the full paths give (issue 7: render_records'
constant cost).

``Template.self_conflict_free`` lets rendering skip the self-conflict check (§10.4): rendering with the flag
must equal rendering with it forced off (the full check), for every template, request and group subset.
``Template.record_types`` lets it skip the loop looking for an unsupported type when there is none. The
request's values are copied without a loop when they are all ``str``.
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from types import MappingProxyType

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from django_domainconnect.engine import spf
from django_domainconnect.engine.conflicts import self_conflict
from django_domainconnect.engine.errors import EngineError, GroupError, HostError, RenderError, UnsupportedTypeError
from django_domainconnect.engine.names import normalize_domain, normalize_host
from django_domainconnect.engine.render import (
    MAX_TXT_RDATA,
    _bad_values,
    _Renderer,
    _unescape,
    active_records,
    render_records,
)
from django_domainconnect.engine.template import parse_template
from django_domainconnect.engine.types import Policy, Record, Template, TemplateRecord
from django_domainconnect.engine.variables import builtin_values
from tests.engine.test_render_fast_paths import ttl_by_definition

ALL_TYPES = Policy(supported_types=Policy().supported_types | {"SRV", "TYPE2", "TYPE5", "TYPE1", "SPF", "REDIR301",
                                                               "APEXCNAME", "NS ", "BOGUS"})


def with_full_check(template: Template) -> Template:
    """The same template with the self-conflict check always run."""
    copy = dataclasses.replace(template)
    object.__setattr__(copy, "self_conflict_free", False)
    return copy


def outcome(template: Template, policy: Policy = ALL_TYPES, **kwargs):
    try:
        rendered = render_records(template, domain="example.com", policy=policy, **kwargs)
    except EngineError as exc:
        return ("error", type(exc), exc.message, exc.code, exc.record_index, exc.field)
    return ("ok", [(r.record, r.spf_rules, r.name, r.ttl, r.source.index) for r in rendered])


def record(index: int, rtype: str, host: str | None, group: str | None) -> TemplateRecord:
    data = {"CNAME": "target.example.net", "NS": "ns1.example.net", "TYPE2": "ns2.example.net.",
            "TYPE5": "t.example.net.", "TYPE1": "192.0.2.7", "SPF": '"v=spf1 -all"', "REDIR301": "https://x.example/",
            "APEXCNAME": "t.example.net"}.get(rtype, "text")
    return TemplateRecord(index=index, type=rtype, host=host, points_to="192.0.2.1" if rtype == "A" else data,
                          data=data, target=data, spf_rules="include:spf.example.net", priority=10, weight=1,
                          port=5060, service="_sip", protocol="_tcp", ttl=300, group_id=group)


HOSTS = st.one_of(st.none(), st.sampled_from(
    ["@", "", "sub", "a.sub", "b.a.sub", "SUB", "www", "*", "*.sub", "sub.", "sub.example.com.", "%v%", "%v%.sub",
     "x%w%", "-bad", "a" * 64, "xn--fa-hia", "ß"]))
TYPES = st.sampled_from(["A", "TXT", "MX", "CNAME", "cname", "NS", "ns", "SPFM", "SRV", "TYPE2", "TYPE5", "TYPE1",
                         "SPF", "REDIR301", "APEXCNAME", "NS ", "BOGUS", "CAA"])


@settings(max_examples=4000, deadline=None)
@given(st.lists(st.tuples(TYPES, HOSTS, st.sampled_from([None, "g1", "g2"])), min_size=1, max_size=5),
       st.sampled_from(["", "sub", "a.sub", "www"]),
       st.sampled_from([{"v": "sub", "w": "1"}, {"v": "www", "w": ""}, {"v": "a.sub", "w": "x"}]),
       st.sampled_from([None, ["g1"], ["g2"], ["g1", "g2"]]))
@example([("NS", "sub", None), ("NS", "sub", None)], "", {"v": "x", "w": ""}, None)  # the delegation benchmark
@example([("NS", "sub", None), ("A", "a.sub", None)], "", {"v": "x", "w": ""}, None)
@example([("NS", "@", None), ("A", "a", None)], "sub", {"v": "x", "w": ""}, None)
@example([("CNAME", "www", None), ("A", "WWW", None)], "", {"v": "x", "w": ""}, None)
@example([("CNAME", "www", None), ("CNAME", "www", None)], "", {"v": "x", "w": ""}, None)  # one record twice
@example([("TYPE5", "www", None), ("A", "www", None)], "", {"v": "x", "w": ""}, None)
@example([("TYPE2", "sub", None), ("A", "a.sub", None)], "", {"v": "x", "w": ""}, None)
def test_skipping_the_self_conflict_check_equals_running_it(rows, host, params, groups):
    template = Template("p", "P", "s", "S", tuple(record(i, *row) for i, row in enumerate(rows)))
    kwargs = {"host": host, "params": params, "group_ids": groups}
    assert outcome(template, **kwargs) == outcome(with_full_check(template), **kwargs)


def test_flag_when_the_template_is_built():
    def flag(*records: dict) -> bool:
        return parse_template({"providerId": "p", "providerName": "P", "serviceId": "s", "serviceName": "S",
                               "records": list(records)}).self_conflict_free

    a, txt = {"type": "A", "host": "@", "pointsTo": "%ip%"}, {"type": "TXT", "host": "@", "data": "x"}
    assert flag(a, txt, {"type": "CNAME", "host": "www", "pointsTo": "@"}, {"type": "SPFM", "host": "@"})
    assert flag({"type": "NS", "host": "sub", "pointsTo": "%ns1%"}, {"type": "NS", "host": "sub", "pointsTo": "x"})
    assert flag({"type": "NS", "host": "sub", "pointsTo": "x"}, {"type": "A", "host": "subway", "pointsTo": "%ip%"})
    assert flag({"type": "REDIR301", "host": "www", "target": "x"}, {"type": "APEXCNAME", "host": "www"})
    assert not flag({"type": "CNAME", "host": "www", "pointsTo": "@"}, {"type": "TXT", "host": "WWW", "data": "x"})
    assert not flag({"type": "NS", "host": "sub", "pointsTo": "x"}, {"type": "A", "host": "a.sub", "pointsTo": "x"})
    assert not flag({"type": "NS", "host": "@", "pointsTo": "x"}, a)  # "@" with a host: everything is below
    assert not flag({"type": "A", "host": "%v%", "pointsTo": "x"})  # owners from variables
    assert not flag({"type": "A", "host": "x.example.com.", "pointsTo": "x"})  # absolute
    assert not flag({"type": "SRV", "name": "@", "service": "_sip", "protocol": "_tcp"})
    assert not flag({"type": "TYPE5", "host": "www", "data": "x."})  # written back as CNAME


@given(st.lists(st.tuples(TYPES, HOSTS, st.none()), min_size=1, max_size=5))
@settings(max_examples=1000, deadline=None)
def test_a_free_template_renders_no_clash_under_the_full_check(rows):
    """The flag's claim itself, on every successful render: the conflict check finds nothing."""
    template = Template("p", "P", "s", "S", tuple(record(i, *row) for i, row in enumerate(rows)))
    if not template.self_conflict_free:
        return
    for host in ("", "sub", "a.b"):
        try:
            rendered = render_records(template, domain="example.com", host=host, params={"v": "x", "w": "y"},
                                      policy=ALL_TYPES)
        except EngineError:
            continue
        pairs = [(r.source.index, r.record or Record(r.owner, "TXT", 0, f"spfm {r.source.index}")) for r in rendered]
        assert self_conflict(pairs, "example.com.") is None


# -- the request's values -----------------------------------------------------------------------------------


class Str(str):
    pass


@pytest.mark.parametrize("params", [
    {}, {"a": "1"}, {"a": "1", "b": "x y"}, {"a": 1}, {"a": "1", "b": None}, {"a": Str("s")}, {"a": True},
    MappingProxyType({"a": "1"}), OrderedDict([("b", "2"), ("a", "1")]),
    {"host": "evil", "a": "1", "domain": "evil.example", "fqdn": "x"},  # never override the built-ins
])
@pytest.mark.parametrize("host", ["", "www"])
def test_renderer_values_equal_their_definition(params, host):
    before = list(params.items())
    renderer = _Renderer(None, "example.com", host, params, Policy())
    expected = {k: str(v) for k, v in params.items()}
    expected.update(builtin_values("example.com", host))
    assert renderer.values == expected and list(renderer.values) == list(expected)
    assert all(type(v) is str for v in renderer.values.values())
    assert renderer.values is not params and list(params.items()) == before  # a copy: the caller's stay as given


# -- unsupported types ----------------------------------------------------------------------------------------


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["A", "TXT", "caa", "MX", "SRV", "NS"]), st.sampled_from([None, "g1", "g2"])),
                min_size=1, max_size=5),
       st.sampled_from([frozenset({"A", "TXT"}), frozenset({"A", "TXT", "MX", "NS", "SRV"}), {"A", "CAA"},
                        ("A", "TXT", "CAA"), frozenset()]),
       st.sampled_from([None, [], [""], ["g1"], ["g2"], ["g1", "g2"]]))
def test_unsupported_types_are_found_as_by_the_loop_over_active_records(rows, supported, groups):
    template = Template("p", "P", "s", "S", tuple(record(i, rtype, "x", g) for i, (rtype, g) in enumerate(rows)))
    result = outcome(template, host="", params={"v": "x", "w": ""}, group_ids=groups,
                     policy=Policy(supported_types=supported))
    try:
        active = active_records(template, groups)
    except GroupError:
        assert result[1] is GroupError
        return
    first = next((r for r in active if r.rtype not in supported), None)
    if first is None:
        assert result[1] is not UnsupportedTypeError
    else:
        assert result == ("error", UnsupportedTypeError, f"this DNS Provider does not support {first.rtype} records",
                          "unsupported_type", first.index, "type")


# -- request-level shortcuts: domain, host, bad values ------------------------------------------------------


def normalized_outcome(domain, host):
    """What render_records' first steps give by definition: normalize_domain/normalize_host or their error."""
    try:
        domain_n = normalize_domain(domain)
    except HostError as exc:
        return ("error", HostError, exc.message, exc.code, None, "domain")
    try:
        host_n = normalize_host(host)
    except HostError as exc:
        return ("error", HostError, exc.message, exc.code, None, "host")
    return ("ok", domain_n, host_n)


DOMAINS = st.one_of(st.sampled_from(["example.com", "EXAMPLE.com.", "com", "com.", "", ".", "a..b", "-a.com", "a-.com",
                                     "xn--fa-hia.de", "xn--zz.de", "bücher.de", "_a.com", "a_b.com", "*.com",
                                     "a.com\n", " a.com", "a" * 64 + ".com", ("a" * 63 + ".") * 4 + "com",
                                     ("a" * 61 + ".") * 4 + "com", "\u212a.com"]),
                    st.text(alphabet="aZ0-._.é*", max_size=12))
HOSTS_PARAM = st.sampled_from(["", "@", "www", "WWW", "a.b", "_dmarc", "x.", "-x", "é", "a" * 64, " "])


@settings(max_examples=2000, deadline=None)
@given(DOMAINS, HOSTS_PARAM)
def test_domain_and_host_are_normalised_as_by_definition(domain, host):
    template = Template("p", "P", "s", "S", (TemplateRecord(index=0, type="TXT", host="@", data="x"),))
    expected = normalized_outcome(domain, host)
    try:
        rendered = render_records(template, domain=domain, host=host, params={})
    except HostError as exc:
        if exc.code == "invalid_host" and expected[0] == "ok":  # the fqdn is too long: after normalising
            assert exc.field == "host"
            return
        assert ("error", HostError, exc.message, exc.code, exc.record_index, exc.field) == expected
        return
    assert expected[0] == "ok"
    domain_n, host_n = expected[1], expected[2]
    assert rendered[0].owner == (f"{host_n}.{domain_n}." if host_n else f"{domain_n}.")


VALUE = st.one_of(st.sampled_from(["", "a b", "\\065", "\\256", "\\", "\\\\", '\\"', "é", "\t", "\x7f", "~", "%v%"]),
                  st.text(max_size=6))


@settings(max_examples=2000, deadline=None)
@given(st.dictionaries(st.sampled_from(["a", "b", "host", "c"]), VALUE, max_size=4))
def test_bad_values_equal_the_full_check(params):
    renderer = _Renderer(None, "example.com", "", params, Policy())
    assert renderer.bad_values == _bad_values({k: str(v) for k, v in params.items()})


# -- TXT data: one plain string ------------------------------------------------------------------------------


TXT_TEXT = st.one_of(
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x80), max_size=300),
    st.text(alphabet='ab "\\\t~é', max_size=10),
    st.integers(250, 260).map(lambda n: "x" * n),
    st.sampled_from(["", " ", "a\\065", "v=spf1 -all", 'say "hi"', "\x7f", "é" * 130]),
)


@settings(max_examples=3000, deadline=None)
@given(TXT_TEXT)
def test_unquoted_txt_data_equals_quote_strings_of_its_octets(text):
    rec = TemplateRecord(index=0, type="TXT", host="@", data=text)
    renderer = _Renderer(None, "example.com", "", {}, Policy())
    if text.startswith('"'):
        return  # presentation format: another path
    expected = outcome_of(lambda: _full_txt_data(renderer.sub(text, rec, "data"), rec))
    assert outcome_of(lambda: renderer.txt_data(rec)) == expected


def _full_txt_data(text: str, rec: TemplateRecord) -> str:
    """txt_data for unquoted data as written before its one-plain-string shortcut."""
    octets = _unescape(text)
    if len(octets) <= 255:
        return spf.quote_strings([octets])
    chunks = [octets[i:i + 255] for i in range(0, len(octets), 255)]
    if sum(len(c) + 1 for c in chunks) > MAX_TXT_RDATA:
        raise RenderError("TXT data is longer than 65535 octets", record_index=rec.index, field="data")
    return spf.quote_strings(chunks)


def outcome_of(fn):
    try:
        return ("ok", fn())
    except EngineError as exc:
        return ("error", type(exc), exc.message, exc.code, exc.record_index, exc.field)


# -- A records: the canonical address shortcut, and the TTL of records without one ---------------------------


@pytest.mark.parametrize("address", ["192.0.2.1", "0.0.0.0", "255.255.255.255", "01.2.3.4", "1.2.3", "256.1.1.1",
                                     " 192.0.2.1 ", "1.2.3.4.5", "", "::1", "1.2.3.04"])
@pytest.mark.parametrize("ttl", [None, 300, "%t%", True])
def test_a_record_equals_the_address_path(address, ttl):
    rec = TemplateRecord(index=0, type="A", host="@", points_to="%ip%", ttl=ttl)
    renderer = _Renderer(None, "example.com", "", {"ip": address, "t": "600"}, Policy())
    got = outcome_of(lambda: renderer.render(rec).record)
    expected = outcome_of(lambda: Record("example.com.", "A", renderer.ttl(rec),
                                         renderer.address("A", address.strip(), rec)))
    assert got == expected
    assert renderer.ttl(rec) == ttl_by_definition(renderer, rec)
