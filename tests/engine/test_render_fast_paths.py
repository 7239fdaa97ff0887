"""Rendering's fast paths give exactly what the full paths give (issue 7: render_records' constant cost).

Each compares the fast path with the full one over inputs chosen to sit on its edges: IPv6 text against
dnspython, substitution against the match-by-match loop it replaced, what a TemplateRecord works out when
it is built (owner names, SPF rules, type) against rendering without it, the in-bounds TTL shortcut against
its definition.
"""

from __future__ import annotations

import dataclasses
import itertools
import re

import dns.exception
import dns.ipv6
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from django_domainconnect.engine.errors import EngineError, VariableError
from django_domainconnect.engine.render import (
    _canonical_ipv6,
    _ipv6_text,
    _is_canonical_ipv6,
    _Renderer,
    render_records,
)
from django_domainconnect.engine.types import Policy, Template, TemplateRecord
from django_domainconnect.engine.variables import NAMED_VARIABLE_RE, substitute

# -- IPv6 -------------------------------------------------------------------------------------------------


def packed(words) -> bytes:
    return b"".join(w.to_bytes(2, "big") for w in words)


def test_ipv6_text_equals_dnspython_on_every_zero_pattern():
    """Every placement of zero runs (and of ffff, for the IPv4-mapped form) among the eight words."""
    for words in itertools.product((0, 1, 0xFFFF, 0xABC), repeat=8):
        address = packed(words)
        assert _ipv6_text(address) == dns.ipv6.inet_ntoa(address), words


WORD = st.one_of(st.just(0), st.just(0xFFFF), st.integers(0, 0xFFFF), st.integers(1, 0x10))
ADDRESSES = st.one_of(
    st.lists(WORD, min_size=8, max_size=8).map(packed),
    st.binary(min_size=16, max_size=16),
    # ::a.b.c.d and ::ffff:a.b.c.d, with the IPv4 part's own zeros
    st.tuples(st.sampled_from([bytes(12), bytes(10) + b"\xff\xff", bytes(10) + b"\x00\x01"]),
              st.binary(min_size=4, max_size=4)).map(b"".join),
)


@settings(max_examples=3000, deadline=None)
@given(ADDRESSES)
@example(bytes(16))
@example(bytes(15) + b"\x01")
@example(bytes(10) + b"\xff\xff" + bytes(4))
@example(bytes(12) + b"\x00\x00\x00\x01")
def test_ipv6_text_equals_dnspython_and_parses_back(address):
    text = _ipv6_text(address)
    assert text == dns.ipv6.inet_ntoa(address)
    assert dns.ipv6.inet_aton(text) == address  # why a text equal to it needs no dnspython round trip


def canonical_or_none(text: str) -> str | None:
    try:
        return _canonical_ipv6.__wrapped__(text)
    except (dns.exception.DNSException, ValueError):
        return None


IPV6_TEXT = st.one_of(
    ADDRESSES.map(dns.ipv6.inet_ntoa),
    ADDRESSES.map(lambda a: dns.ipv6.inet_ntoa(a).upper()),
    ADDRESSES.map(lambda a: ":".join(f"{a[i]:02x}{a[i + 1]:02x}" for i in range(0, 16, 2))),  # leading zeros
    st.lists(st.sampled_from(["0", "00", "1", "ffff", "FFFF", "0db8", "::", ":", "1.2.3.4", "01.2.3.4", "%1",
                              " ", "g", "12345", "\u0661"]), max_size=9).map("".join),
)


@settings(max_examples=3000, deadline=None)
@given(IPV6_TEXT)
@example("2001:db8::10")
@example("::")
@example("::1")
@example("::ffff:192.0.2.1")
@example("::192.0.2.1")
@example("::0.0.0.1")  # dnspython writes ::1
@example("::ffff:0:0")  # five zero words then ffff, IPv4 part zero: dnspython writes ::ffff:0.0.0.0
@example("1:0:0:1:0:0:0:1")  # the longer run wins
@example("1:0:0:1:0:0:1:1")  # equal runs: the first one
@example("2001:db8::10%eth0")
@example("2001:db8::10\x00")
def test_is_canonical_ipv6_exactly_when_dnspython_writes_the_text_back(text):
    assert _is_canonical_ipv6(text) == (canonical_or_none(text) == text)


# -- substitution -----------------------------------------------------------------------------------------


def substitute_by_matches(text, values, *, field=None, record_index=None):
    """The match-by-match loop ``substitute`` used before it split the text once."""
    if "%" not in text:
        return text
    out, pos = [], 0
    for match in NAMED_VARIABLE_RE.finditer(text):
        name = match.group(1)
        if name not in values:
            raise VariableError(f"variable '%{name}%' has no value: pass it as a request parameter named '{name}'",
                                code="missing_variable", field=field, record_index=record_index)
        out.append(text[pos:match.start()])
        out.append(values[name])
        pos = match.end()
    out.append(text[pos:])
    return "".join(out)


def outcome(fn, *args, **kwargs):
    try:
        return ("ok", fn(*args, **kwargs))
    except EngineError as exc:
        return ("error", type(exc), exc.message, exc.code, exc.record_index, exc.field)


TEXT = st.lists(st.sampled_from(["%", "a", "%a%", "%b%", "%zz%", "%host%", "%a-b_c%", "x", "%%", "é", "%é%",
                                 " ", "\\", "%a", "a%"]), max_size=8).map("".join)
VALUES = st.dictionaries(st.sampled_from(["a", "b", "a-b_c", "host", "é", "%a%"]),
                         st.sampled_from(["", "v", "%b%", "%a%", "\\065"]), max_size=6)


@settings(max_examples=3000, deadline=None)
@given(TEXT, VALUES)
@example("%a%-%b%", {"a": "%b%", "b": "X"})  # values are never re-scanned
@example("%a%%b%", {"a": "1", "b": "2"})
@example("%zz%%a%", {"a": "1"})  # the first missing name is the one reported
def test_substitute_equals_the_match_loop(text, values):
    assert (outcome(substitute, text, values, field="data", record_index=3)
            == outcome(substitute_by_matches, text, values, field="data", record_index=3))


# -- what a TemplateRecord works out when it is built -----------------------------------------------------


def without_derived(rec: TemplateRecord) -> TemplateRecord:
    """The same record with nothing precomputed: rendering takes its full path."""
    copy = dataclasses.replace(rec)
    object.__setattr__(copy, "literal_host", None)
    object.__setattr__(copy, "spf_text", None)
    return copy


def render_outcome(records, *, host="", params=None, policy=Policy()):  # noqa: B008
    template = Template("p", "P", "s", "S", tuple(records))
    try:
        rendered = render_records(template, domain="Example.COM", host=host, params=params or {"v": "x"},
                                  policy=policy)
    except EngineError as exc:
        return ("error", type(exc), exc.message, exc.code, exc.record_index, exc.field)
    return ("ok", [(r.record, r.spf_rules, r.name, r.ttl, r.source.index) for r in rendered])


HOSTS = st.one_of(st.none(), st.lists(st.sampled_from(
    ["@", "", " ", "www", "WWW", "_dmarc", "*", "*.a", "a.*", ".", "..", "a.", "-a", "a-", "xn--fa-hia", "xn--zz",
     "ß", "é", "\u212a", "%v%", "a" * 63, "b" * 64, "\t", "\n", "a b", "\\"]), max_size=4).map("".join))
RULES = st.one_of(st.none(), st.lists(st.sampled_from(
    ["include:spf.example.net", "ip4:192.0.2.1", "a", "mx", "~all", "v=spf1", "redirect=x.example", "exp=x",
     "ip4:", "include", "%v%", "-include:x.example", " ", "  ", "é"]), max_size=4).map(" ".join))
TYPES = st.sampled_from(["A", "a", "CNAME", "TXT", "txt", "SPFM", "spfm", "MX", "NS", "SRV", "CAA", "AAAA"])


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.tuples(TYPES, HOSTS, RULES), min_size=1, max_size=3), st.sampled_from(["", "sub", "a" * 63]))
@example([("A", "www", None)], "")
@example([("A", "a" * 63 + "." + "b" * 63, None)], "a" * 63)  # a literal host, too long under this host
@example([("SPFM", "@", "include:spf.example.net ip4:192.0.2.1")], "")
@example([("SPFM", "@", "v=spf1 include:x")], "")
@example([("CNAME", "@", None)], "")
def test_rendering_with_what_the_record_precomputed_equals_the_full_path(rows, host):
    records = [TemplateRecord(index=i, type=rtype, host=h, spf_rules=rules, points_to="192.0.2.1" if rtype == "A"
                              else "2001:db8::1" if rtype == "AAAA" else "target.example.net", data='0 issue "x"'
                              if rtype == "CAA" else "text", priority=10, weight=1, port=5060, service="_sip",
                              protocol="_tcp", target="sip.example.net", ttl=300)
               for i, (rtype, h, rules) in enumerate(rows)]
    policy = Policy(supported_types=Policy().supported_types | {"SRV"})
    fast = render_outcome(records, host=host, policy=policy)
    assert fast == render_outcome([without_derived(r) for r in records], host=host, policy=policy)


def test_derived_fields_leave_identity_alone():
    a = TemplateRecord(index=0, type="a", host="WWW")
    b = TemplateRecord(index=0, type="a", host="WWW")
    assert a == b and hash(a) == hash(b)
    assert a == without_derived(a) and hash(a) == hash(without_derived(a))
    assert "literal_host" not in repr(a) and "rtype" not in repr(a)
    assert (a.rtype, a.literal_host, a.spf_text) == ("A", "www", None)
    assert dataclasses.replace(a, host="@").literal_host == ""  # recomputed for the new values


# -- TTL --------------------------------------------------------------------------------------------------


def ttl_by_definition(renderer: _Renderer, rec: TemplateRecord) -> int:
    """§6.2 TTL as written before the in-bounds shortcut: clamp, default when missing or not a number."""
    raw, value = rec.ttl, None
    if isinstance(raw, int) and not isinstance(raw, bool):
        value = raw
    elif isinstance(raw, str):
        try:
            text = substitute(raw, renderer.values).strip()
        except VariableError:
            text = ""
        if re.fullmatch(r"[0-9]{1,10}", text):
            value = int(text)
    if value is None:
        value = renderer.policy.default_ttl
    return max(renderer.policy.min_ttl, min(renderer.policy.max_ttl, value))


@pytest.mark.parametrize("policy", [Policy(), Policy(min_ttl=600, max_ttl=600), Policy(min_ttl=900, max_ttl=60)])
@pytest.mark.parametrize("ttl", [None, 0, 1, 299, 300, 301, 3600, 86400, 86401, -5, True, False, "600", " 600 ",
                                 "%t%", "%missing%", "abc", "", "99999999999"])
def test_ttl_equals_its_definition(policy, ttl):
    renderer = _Renderer(None, "example.com", "", {"t": "1200"}, policy)
    rec = TemplateRecord(index=0, type="A", ttl=ttl)
    assert renderer.ttl(rec) == ttl_by_definition(renderer, rec)
