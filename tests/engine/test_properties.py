"""Property tests (SECURITY.md fuzz targets 1–3): substitution, owner names, TXT data."""

from __future__ import annotations

import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from django_domainconnect.engine.errors import EngineError
from django_domainconnect.engine.render import _unescape, render_records
from django_domainconnect.engine.variables import find_variables, substitute
from tests.engine.test_render import make_template

NAMES = st.sampled_from(["a", "b", "Host", "x-y", "v_1"])
PRINTABLE = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=30)
TOKENS = st.sampled_from(["%a%", "%b%", "%host%", "%fqdn%", "@", "%", "%%", "*", "."])
VALUES = st.one_of(PRINTABLE, TOKENS, st.lists(TOKENS, max_size=3).map("".join))

# A dc-prop-value: printable ASCII except backslash, or RFC 1035 escapes.
PROP_VALUE = st.lists(st.one_of(
    st.characters(min_codepoint=0x20, max_codepoint=0x7E, exclude_characters="\\"),
    st.integers(0, 255).map(lambda n: f"\\{n:03d}"),
    st.sampled_from(['\\"', "\\\\", "\\;", "\\a"]),
), max_size=400).map("".join)


@given(st.lists(st.one_of(st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E, exclude_characters="%"),
                                  max_size=5).map(lambda s: ("lit", s)),
                          NAMES.map(lambda n: ("var", n))), max_size=8),
       st.dictionaries(NAMES, VALUES), st.dictionaries(st.sampled_from(["zz", "unused"]), VALUES))
def test_substitution_is_one_pass_pure_and_ignores_unknown_params(parts: list[tuple[str, str]],
                                                                 values: dict[str, str],
                                                                 unknown: dict[str, str]) -> None:
    text = "".join(p if kind == "lit" else f"%{p}%" for kind, p in parts)
    needed = {p for kind, p in parts if kind == "var"}
    if not needed <= set(values):
        try:
            substitute(text, {**values, **unknown})
        except EngineError as exc:
            assert exc.code == "missing_variable"
        else:
            raise AssertionError("a missing variable must fail")
        return
    # Reference model: literals stay, each variable becomes its value, values are never re-scanned.
    expected = "".join(p if kind == "lit" else values[p] for kind, p in parts)
    first = substitute(text, {**values, **unknown})
    assert first == expected
    assert substitute(text, {**values, **unknown}) == first


ZONE = "example.com"
HOST_ALPHABET = st.sampled_from(["www", "a", "-", "_x", "*", "@", ".", "%v%", "%host%", "%fqdn%", "%domain%",
                                 "x" * 63, "y" * 64, "example.com", "evil", "bücher"])


@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=300)
@given(st.lists(HOST_ALPHABET, max_size=6).map("".join), st.one_of(
    st.sampled_from(["", "sub", "a.b", "Bär", "x" * 63]), st.text(max_size=10)),
    st.one_of(VALUES, st.sampled_from(["evilexample.com.", "x.", "..", "*", "@", "a.b"])))
@example("evilexample.com.", "", "x")
@example("%v%", "", "evilexample.com.")
@example("%v%.", "", "")
def test_owner_names_are_inside_the_zone_or_rejected(tmpl_host: str, host: str, value: str) -> None:
    template = make_template([{"type": "TXT", "host": tmpl_host, "data": "x"}])
    try:
        out = render_records(template, domain=ZONE, host=host, params={"v": value})
    except EngineError:
        return
    name = dns.name.from_text(out[0].record.name)
    assert name.is_subdomain(dns.name.from_text(ZONE + "."))
    assert all(len(label) <= 63 for label in name.labels)
    assert len(name.to_wire()) <= 255
    # Only a literal "*" from the template can make a wildcard.
    if "*" in name.to_text():
        assert "*" in tmpl_host


@settings(max_examples=300)
@given(PROP_VALUE)
@example("v=spf1 ; rm")
@example("a" * 600)
@example('"quoted" "twice"')
def test_txt_render_parse_render_round_trip_without_truncation(value: str) -> None:
    template = make_template([{"type": "TXT", "host": "@", "data": "%v%"}])
    data = render_records(template, domain=ZONE, params={"v": value})[0].record.data
    strings = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.TXT, data).strings
    assert all(len(s) <= 255 for s in strings)
    assert b"".join(strings) == _unescape(value)  # nothing lost, nothing added
    assert len(strings) == max(1, -(-len(_unescape(value)) // 255))
    # The rendered presentation form renders to itself when used as template data.
    # ("%x%" in the value reads as a variable there: give each one itself as its value — one pass.)
    identity = {n: f"%{n}%" for n in find_variables(data)}
    if set(identity) & {"host", "domain", "fqdn"}:
        return  # built-ins always render to their own values
    again = render_records(make_template([{"type": "TXT", "host": "@", "data": data}]), domain=ZONE,
                           params=identity)
    assert again[0].record.data == data


@settings(max_examples=200)
@given(PROP_VALUE.filter(lambda v: len(v) < 200))
def test_values_in_quoted_txt_never_change_the_string_count(value: str) -> None:
    template = make_template([{"type": "TXT", "host": "@", "data": '"pre %v% post" "second"'}])
    try:
        data = render_records(template, domain=ZONE, params={"v": value})[0].record.data
    except EngineError:
        return  # too long for one string: refused, never cut
    strings = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.TXT, data).strings
    assert len(strings) == 2 and strings[1] == b"second"
    assert strings[0] == b"pre " + _unescape(value) + b" post"


LABELS = st.sampled_from(["www", "a", "x-1", "_dmarc", "mail", "b2"])


@given(st.one_of(st.just("@"), st.just(""), st.lists(LABELS, min_size=1, max_size=3).map(".".join),
                 st.lists(LABELS, max_size=2).map(lambda ls: ".".join([*ls, "example", "com"]) + ".")),
       st.sampled_from(["", "sub", "a.b"]))
def test_owner_names_match_a_reference_model_of_section_9_3_2(tmpl_host: str, host: str) -> None:
    fqdn = f"{host}.{ZONE}" if host else ZONE
    if tmpl_host in ("@", ""):
        expected = fqdn + "."
    elif tmpl_host.endswith("."):
        expected = tmpl_host
    else:
        expected = f"{tmpl_host}.{fqdn}."
    out = render_records(make_template([{"type": "TXT", "host": tmpl_host, "data": "x"}]), domain=ZONE, host=host,
                         params={})
    assert out[0].record.name == expected


ANY_TEXT = st.one_of(st.none(), st.text(max_size=40), TOKENS, st.integers(-5, 70000))
FIELDS = ["host", "name", "pointsTo", "data", "target", "spfRules", "service", "protocol", "ttl", "priority",
          "weight", "port", "txtConflictMatchingMode", "txtConflictMatchingPrefix"]


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(["A", "AAAA", "CNAME", "MX", "TXT", "SRV", "SPFM", "NS", "CAA", "TLSA",
                                           "REDIR301", "APEXCNAME", "TYPE65534", "cname"]),
                          st.dictionaries(st.sampled_from(FIELDS), ANY_TEXT)), min_size=1, max_size=3),
       st.dictionaries(st.sampled_from(["a", "b", "v"]), st.text(max_size=20)),
       st.sampled_from(["", "sub", "x" * 63]))
def test_rendering_and_planning_raise_only_engine_errors(recs: list[tuple[str, dict]], params: dict[str, str],
                                                        host: str) -> None:
    from django_domainconnect.engine.plan import plan_apply
    from django_domainconnect.engine.types import Policy

    records = [{"type": rtype, **{k: (str(v) if isinstance(v, int) and k not in ("ttl", "priority", "weight", "port")
                                      else v) for k, v in fields.items()}} for rtype, fields in recs]
    policy = Policy(supported_types=Policy().supported_types | {"TLSA", "REDIR301", "APEXCNAME", "TYPE65534"})
    try:
        plan_apply(make_template(records), domain=ZONE, host=host, params=params, zone=[],
                   new_instance_id="x", policy=policy)
    except EngineError:
        pass
