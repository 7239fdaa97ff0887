"""Fast paths of the engine give exactly what the full paths give (issue 7: per-plan constant cost).

Each fast path answers the common case without dnspython or idna and defers everything else to the full
path; these properties compare both over inputs chosen to sit on the edges (case, IDN, underscores,
wildcards, escapes, quotes, lengths around the limits).
"""

from __future__ import annotations

import re

import dns.exception
import dns.ipv4
import dns.rdataclass
import dns.rdatatype
import pytest
from dns.rdtypes.ANY.TXT import TXT
from hypothesis import example, given, settings
from hypothesis import strategies as st

from django_domainconnect.engine import conflicts, names, spf
from django_domainconnect.engine.conflicts import _self_conflict_full, same_owner_reason, self_conflict
from django_domainconnect.engine.errors import HostError
from django_domainconnect.engine.names import _plain_ascii_name, _to_alabel_name_slow, to_alabel_name
from django_domainconnect.engine.plan import _template_vars
from django_domainconnect.engine.render import RenderedRecord, _bad_values, _is_canonical_ipv4, _unescape
from django_domainconnect.engine.types import Record, Template, TemplateRecord
from django_domainconnect.engine.variables import (
    BUILTINS,
    PROP_VALUE_RE,
    find_variables,
    is_prop_value,
    substitute,
    substitute_parts,
)

# Pieces that put names on every edge of the fast pattern.
NAME_PIECES = st.sampled_from([
    "a", "Z", "0", "9", "-", "_", ".", "*", "xn--", "XN--", "xn--fa-hia", "ß", "é", "\u212a", " ", "\n", "\\",
    "ab", "www", "A" * 63, "b" * 64, "%", "@",
])
NAMES = st.lists(NAME_PIECES, min_size=0, max_size=12).map("".join)
LONG_NAMES = st.lists(st.sampled_from(["a" * 63, "b" * 62, "c"]), min_size=1, max_size=6).map(".".join).flatmap(
    lambda n: st.sampled_from([n, n + ".", n.upper()]))


def outcome(fn, *args, **kwargs):
    try:
        return ("ok", fn(*args, **kwargs))
    except HostError as exc:
        return ("error", exc.message)


@settings(max_examples=3000, deadline=None)
@given(st.one_of(NAMES, LONG_NAMES), st.booleans(), st.booleans())
@example("WWW.Example.COM.", False, False)
@example("_dmarc.Mail", True, False)
@example("_dmarc.mail", False, False)
@example("*.example.com", False, True)
@example("\u212aelvin.com", False, False)  # Kelvin sign lower-cases to ASCII "k": must take the IDNA path
@example("xn--fa-hia.de", False, False)
@example("xn--zz.de", False, False)  # invalid A-label: the full path's error
@example("a-.com", False, False)
@example(("a" * 63 + ".") * 4, False, False)  # 256 characters with the dot, 255 without: too long
def test_to_alabel_name_equals_the_full_path(name, underscore, wildcard):
    fast = outcome(to_alabel_name, name, what="host", allow_underscore=underscore, allow_wildcard=wildcard)
    slow = outcome(_to_alabel_name_slow, name, what="host", allow_underscore=underscore, allow_wildcard=wildcard)
    assert fast == slow
    if _plain_ascii_name(name, underscore) is not None:  # the fast path answered: it must be a success
        assert slow[0] == "ok"


@settings(max_examples=3000, deadline=None)
@given(st.one_of(NAMES, LONG_NAMES), st.booleans())
@example("_", True)
@example("_._", True)
@example("-", True)
@example("a.", False)
@example("a..", False)
@example(".a", False)
@example("", False)
@example(".", False)
@example("a" * 63 + ".b", False)
@example("a" * 64 + ".b", False)
@example("b." + "a" * 64, False)
@example("a.-b", False)
@example("a-.b", True)
@example("-a", True)
@example("a-", False)
@example("a_b.c", False)
def test_plain_ascii_name_is_its_pattern(name, underscore):
    pattern = names._LDHU_NAME if underscore else names._LDH_NAME
    low = name.lower().removesuffix(".")
    expected = low if pattern.fullmatch(name) and "xn--" not in low and len(low) <= names.MAX_NAME else None
    assert _plain_ascii_name(name, underscore) == expected


def test_the_fast_name_path_is_taken_for_plain_names():
    assert _plain_ascii_name("WWW.Example.com.", False) == "www.example.com"
    assert _plain_ascii_name("_dmarc", True) == "_dmarc"
    assert _plain_ascii_name("_dmarc", False) is None
    assert _plain_ascii_name("xn--fa-hia.de", False) is None


# TXT data: quoted or bare strings over characters that matter to the tokenizer, joined in various ways.
TXT_CHARS = st.sampled_from(['a', 'Z', ' ', '"', '\\', ';', '(', ')', '\t', '\n', 'é', '\x7f', '0', '=', '\\"'])
TXT_STRING = st.one_of(
    st.lists(TXT_CHARS, max_size=8).map("".join),
    st.integers(250, 260).map(lambda n: "x" * n),
)
QUOTED_DATA = st.lists(TXT_STRING, min_size=1, max_size=4).flatmap(
    lambda parts: st.sampled_from([" ", "  ", "", "\t"]).map(lambda sep: sep.join(f'"{p}"' for p in parts)))
RAW_DATA = st.lists(TXT_CHARS, max_size=12).map("".join)


@settings(max_examples=3000, deadline=None)
@given(st.one_of(QUOTED_DATA, RAW_DATA, QUOTED_DATA.map(lambda d: d + " "), QUOTED_DATA.map(lambda d: " " + d)))
@example('"v=spf1 include:x ~all"')
@example('"hosting-verify=" "old"')
@example('""')
@example('"' + "x" * 255 + '"')
@example('"' + "x" * 256 + '"')  # one octet too many: dnspython refuses it
@example('"a" "b"')
@example('"a""b"')
@example('"a;b"')
@example('"a" " "b"')
@example('"a"  "b"')
@example('"')
@example('"a" "' + "x" * 256 + '"')
def test_txt_text_equals_dnspython(data):
    assert spf.txt_text(data) == spf._txt_text_dnspython(data)


OCTETS = st.lists(st.one_of(st.sampled_from([b'"', b"\\", b" ", b"a", b"~", b"\x7f", b"\x00", b"\xff", b"\x1f"]),
                            st.integers(250, 256).map(lambda n: b"y" * n)), max_size=6).map(b"".join)


@settings(max_examples=2000, deadline=None)
@given(st.lists(OCTETS, min_size=1, max_size=4))
@example([b""])
@example([b"v=spf1 include:x ~all"])
def test_quote_strings_equals_dnspython(chunks):
    try:
        expected = TXT(dns.rdataclass.IN, dns.rdatatype.TXT, chunks).to_text()
    except ValueError:
        with pytest.raises(ValueError):
            spf.quote_strings(chunks)
        return
    assert spf.quote_strings(chunks) == expected


def test_quote_strings_result_parses_back():
    chunks = [b"a" * 255, b'say "hi"', b""]
    assert spf.txt_text(spf.quote_strings(chunks)) == "".join(c.decode() for c in chunks)


IPV4_TEXT = st.one_of(
    st.lists(st.integers(0, 300).map(str), min_size=3, max_size=5).map(".".join),
    st.lists(st.sampled_from(["0", "00", "01", "255", "256", "1", " ", "", "+1", "\u0661", "10"]),
             min_size=1, max_size=5).map(".".join),
)


def canonical_ipv4(text):
    try:
        return dns.ipv4.inet_ntoa(dns.ipv4.inet_aton(text))
    except (dns.exception.DNSException, ValueError):
        return None


@settings(max_examples=3000, deadline=None)
@given(IPV4_TEXT)
@example("192.0.2.10")
@example("192.0.2.010")
@example("0.0.0.0")
@example("255.255.255.255")
@example("1.2.3.\u0664")  # an Arabic-Indic digit: not an ASCII digit
def test_canonical_ipv4_test_accepts_only_what_dnspython_writes_back_unchanged(text):
    if _is_canonical_ipv4(text):
        assert canonical_ipv4(text) == text
    else:
        assert canonical_ipv4(text) != text


def _unescape_slow(text: str) -> bytes:
    """The escape loop of ``_unescape`` run on every input (the reference for its no-backslash shortcut)."""
    return b"".join(ch.encode("utf-8") for ch in text)


@given(st.text(st.characters(blacklist_characters="\\", blacklist_categories=("Cs",)), max_size=40))
def test_unescape_without_backslash_is_utf8(text):
    assert _unescape(text) == _unescape_slow(text)


@given(st.text(st.characters(blacklist_characters="%"), max_size=30))
def test_substitute_without_percent_is_identity(text):
    assert substitute(text, {}) == text


# Request values: printable text with escapes, broken escapes and characters that are never allowed.
VALUE_PIECES = st.sampled_from(["a", " ", "\\", "\\1", "\\12", "\\123", "\\255", "\\256", "\\\\", "\\ ", '\\"',
                                "0", "9", "%", "é", "\t", "\x7f", "~"])
VALUES = st.dictionaries(st.sampled_from(["a", "b", "c", "domain", "host", "fqdn"]),
                         st.lists(VALUE_PIECES, max_size=6).map("".join), max_size=5)


@settings(max_examples=3000, deadline=None)
@given(VALUES)
@example({"a": "x\\", "b": "123"})  # a dangling backslash must not borrow the next value's digits
@example({"a": "\\25", "b": "5"})
@example({"domain": "\t", "a": "ok"})  # built-ins are not request values
def test_bad_values_equal_a_check_of_each_value(values):
    expected = {k for k, v in values.items() if k not in BUILTINS and not is_prop_value(v)}
    assert _bad_values(values) == expected


def is_prop_value_by_pattern(value: str) -> bool:
    """The definition: the dc-prop-value pattern, then the range of every \\DDD escape."""
    return PROP_VALUE_RE.fullmatch(value) is not None and all(
        int(d) <= 255 for d in re.findall(r"\\([0-9]{3})", value))


@settings(max_examples=3000, deadline=None)
@given(st.one_of(st.lists(VALUE_PIECES, max_size=8).map("".join), st.text(max_size=12)))
@example("\x7f")
@example("\x1f")
@example("\u00a0")  # printable, but not ASCII
def test_is_prop_value_equals_its_pattern(value):
    assert is_prop_value(value) == is_prop_value_by_pattern(value)


FIELD_TEXT = st.lists(st.sampled_from(["%", "a", "%a%", "%host%", "%b-c%", "x", "\n", "%%", "_", "%é%"]),
                      max_size=6).map("".join)


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.tuples(FIELD_TEXT, FIELD_TEXT, st.one_of(st.none(), FIELD_TEXT)), min_size=1, max_size=4))
def test_template_vars_equal_a_scan_of_each_field(fields):
    rendered = [RenderedRecord(None, TemplateRecord(index=i, type="TXT", host=host, data=data, points_to=points_to))
                for i, (host, data, points_to) in enumerate(fields)]
    expected = {name for host, data, points_to in fields for text in (host, data, points_to) if text is not None
                for name in find_variables(text)} - BUILTINS
    assert _template_vars(rendered) == expected


@settings(max_examples=1000, deadline=None)
@given(st.one_of(st.text(st.characters(min_codepoint=0, max_codepoint=0x7F), max_size=20),
                 st.integers(250, 600).map(lambda n: "v=spf1 " + "a" * n)))
@example('v=spf1 include:"x" ~all')
@example("v=spf1 a:x\\y ~all")
@example("v=spf1 a:\x7f")
def test_to_txt_data_equals_dnspython(text):
    raw = text.encode("ascii")
    chunks = [raw[i:i + 255] for i in range(0, len(raw), 255)] or [b""]
    assert spf.to_txt_data(text) == TXT(dns.rdataclass.IN, dns.rdatatype.TXT, chunks).to_text()


@pytest.mark.parametrize(("new", "old", "same"), [
    (("a.", "TXT", '"x"'), ("a.", "TXT", '"x"'), True),
    (("a.", "TXT", '"x"'), ("a.", "TXT", '"y"'), False),
    (("a.", "A", "192.0.2.1"), ("b.", "A", "192.0.2.1"), False),
    (("a.", "A", "192.0.2.1"), ("a.", "AAAA", "192.0.2.1"), False),
])
def test_same_owner_reason_treats_an_identical_record_as_no_conflict(new, old, same):
    reason = same_owner_reason(Record(new[0], new[1], 60, new[2]), Record(old[0], old[1], 300, old[2]),
                               txt_mode="All")
    assert (reason is None) == same


TYPES = ["A", "AAAA", "CAA", "CNAME", "MX", "NS", "SOA", "SRV", "TXT", "REDIR301", "APEXCNAME", "TYPE65534", "HINFO"]


@pytest.mark.parametrize("new_type", TYPES)
@pytest.mark.parametrize("old_type", TYPES)
def test_same_owner_rule_table_gives_the_rules_answer(new_type, old_type):
    """The pair table (and the fallback for types outside it) says what the rules say, message included."""
    name = "w{ww}.example.com."  # braces in a name must come out as they are
    new, old = Record(name, new_type, 60, '"new"'), Record(name, old_type, 300, '"old"')
    expected = (conflicts.txt_reason(name, old, "All", None) if (new_type, old_type) == ("TXT", "TXT")
                else conflicts._pair_reason(new_type, old_type, name))
    assert same_owner_reason(new, old, "All") == expected
    if (new_type, old_type) != ("TXT", "TXT"):
        assert conflicts.type_pair_reason(new_type, old_type, name) == expected
    if new_type in conflicts._TABLE_TYPES and old_type in conflicts._TABLE_TYPES:
        assert (new_type, old_type) in conflicts.SAME_OWNER_RULES


SELF_RECORDS = st.lists(st.tuples(st.sampled_from(["example.com.", "www.example.com.", "a.www.example.com."]),
                                  st.sampled_from(["A", "CNAME", "NS", "TXT", "MX"]),
                                  st.sampled_from(["x", "y"])), max_size=6)


@settings(max_examples=2000, deadline=None)
@given(SELF_RECORDS)
@example([("www.example.com.", "CNAME", "x"), ("www.example.com.", "CNAME", "x")])  # one record, twice
@example([("www.example.com.", "CNAME", "x"), ("example.com.", "A", "x")])
def test_self_conflict_shortcut_only_skips_sets_without_a_clash(rows):
    records = [(i, Record(name, rtype, 300, data)) for i, (name, rtype, data) in enumerate(rows)]
    assert self_conflict(records, "example.com.") == _self_conflict_full(records, "example.com.")


# SPF tokens on the edges of _MECHANISM_RE: qualifiers, separators, digits first, spaces, empty arguments.
TOKENS = st.lists(st.sampled_from(["+", "-", "~", "?", "a", "A", "ip4", "include", "9", ":", "/", "=", "x.y", " ",
                                   "-x", "_", ".", "1.2.3.4", "all", "mx", "%", "exists", "redirect", "é"]),
                  max_size=5).map("".join)


@settings(max_examples=3000, deadline=None)
@given(TOKENS)
@example("")
@example("+")
@example("a:b c")
@example("ip4:1.2.3.4/24")
@example("a/24:x")
@example("9a")
@example("ip4:1.2.3.4")
@example("-All")
@example("a:")
def test_parse_term_equals_parsing_by_its_pattern(token):
    def by_pattern(token):  # _parse_term as it was, with _MECHANISM_RE
        if not token.isascii() or not token.isprintable():
            raise spf.SpfSyntaxError(f"'{token}' has characters SPF does not allow (use A-labels for IDNs)")
        modifier = spf._MODIFIER_RE.fullmatch(token) if "=" in token else None
        if modifier and not token.lower().startswith(("ip4:", "ip6:")):
            return spf.Term("", modifier.group(1).lower(), "=" + modifier.group(2), True)
        match = spf._MECHANISM_RE.fullmatch(token)
        name = match.group(2).lower() if match is not None else ""
        if name not in spf.MECHANISMS:
            raise spf.SpfSyntaxError(f"'{token}' is not an SPF mechanism or modifier (RFC 7208 §5, §6)")
        value = match.group(3) or ""
        if name in {"include", "exists"} and not value.startswith(":"):
            raise spf.SpfSyntaxError(f"'{token}': {name} needs a domain (RFC 7208 §5.2, §5.7)")
        if name in {"ip4", "ip6"} and not value.startswith(":"):
            raise spf.SpfSyntaxError(f"'{token}': {name} needs an address (RFC 7208 §5.6)")
        if name == "all" and value:
            raise spf.SpfSyntaxError(f"'{token}': all takes no argument")
        if value in (":", "/"):
            raise spf.SpfSyntaxError(f"'{token}' has an empty argument")
        return spf.Term(match.group(1), name, value)

    def outcome(parse):
        try:
            term = parse(token)
        except spf.SpfSyntaxError as exc:
            return ("error", exc.message)
        return ("ok", term, term.key)

    assert outcome(spf._parse_term) == outcome(by_pattern)


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.sampled_from(["v=spf1", "V=SPF1", "v=\u017fpf1", " ", "\t", "\u00a0", "x", "0", "v=spf"]),
                max_size=4).map("".join))
@example("v=spf1")
@example("v=spf10")
@example("v=\u017fpf1 -all")  # LATIN SMALL LETTER LONG S folds to "s" under IGNORECASE, not under lower()
@example("v=spf1\u00a0-all")
def test_is_spf_text_equals_its_pattern(text):
    assert spf.is_spf_text(text) is (spf._SPF_START_RE.match(text) is not None)


@settings(max_examples=500, deadline=None)
@given(st.tuples(FIELD_TEXT, FIELD_TEXT, FIELD_TEXT).map(lambda t: tuple(" " + x + " " for x in t)))
def test_variable_parts_hold_the_split_of_every_text_rendering_substitutes(texts):
    host, data, points_to = texts
    rec = TemplateRecord(index=0, type="TXT", host=host, data=data, points_to=points_to + ".@")
    for raw in (host, data, points_to + ".@"):
        for text in (raw, raw.strip(), raw.strip()[:-2] if raw.strip().endswith(".@") else ""):
            if "%" in text:
                assert rec.variable_parts[text] == tuple(re.split(r"%([A-Za-z0-9_-]+)%", text))
    assert all("%" in text for text in rec.variable_parts)


def test_substitute_parts_leaves_the_stored_pieces_alone():
    parts = ("a", "x", "b", "y", "c")
    assert substitute_parts(parts, {"x": "1", "y": "2"}, None, None) == "a1b2c"
    assert parts == ("a", "x", "b", "y", "c")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(FIELD_TEXT, FIELD_TEXT), min_size=1, max_size=4))
def test_template_variables_are_the_variables_of_all_its_records(fields):
    records = tuple(TemplateRecord(index=i, type="TXT", host=host, data=data) for i, (host, data) in enumerate(fields))
    template = Template("p", "P", "s", "S", records)
    assert template.variables == _template_vars([RenderedRecord(None, r) for r in records])


NEW_RECORDS = {
    "A": {"type": "A", "pointsTo": "192.0.2.1"}, "AAAA": {"type": "AAAA", "pointsTo": "2001:db8::1"},
    "CNAME": {"type": "CNAME", "pointsTo": "target.example.net"}, "MX": {"type": "MX", "pointsTo": "mx.example.net",
                                                                      "priority": 10},
    "TXT": {"type": "TXT", "data": "v=new", "txtConflictMatchingMode": "Prefix", "txtConflictMatchingPrefix": "v="},
    "TXTALL": {"type": "TXT", "data": "all=new", "txtConflictMatchingMode": "All"},
    "NS": {"type": "NS", "pointsTo": "ns.example.net"}, "SRV": {"type": "SRV", "service": "_sip", "protocol": "_tcp",
                                                               "priority": 1, "weight": 1, "port": 5060,
                                                               "target": "sip.example.net"},
}
OLD_RECORDS = [("A", "198.51.100.1"), ("AAAA", "2001:db8::2"), ("CNAME", "old.example.net."),
               ("MX", "10 mx.old.example."), ("TXT", '"v=old"'), ("TXT", '"other"'), ("NS", "ns.old.example."),
               ("CAA", '0 issue "ca.example"'), ("REDIR301", "https://old.example/")]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(sorted(NEW_RECORDS)), min_size=1, max_size=3, unique=True),
       st.lists(st.sampled_from(OLD_RECORDS), max_size=5, unique=True))
def test_the_planner_gives_the_same_owner_reasons_of_the_rules(new_types, old_records):
    """The planner reads the rule table itself (no same_owner_reason call): its reasons are the rules'."""
    from django_domainconnect.engine.errors import EngineError
    from django_domainconnect.engine.plan import plan_apply
    from django_domainconnect.engine.types import Policy
    from tests.engine.test_render import make_template

    template = make_template([{**NEW_RECORDS[t], "host": "www", "ttl": 300} for t in new_types])
    zone = [Record("www.example.com.", rtype, 300, data) for rtype, data in old_records]
    policy = Policy(supported_types=frozenset({"A", "AAAA", "CNAME", "MX", "TXT", "NS", "SRV", "CAA", "REDIR301"}))
    try:
        plan = plan_apply(template, domain="example.com", params={}, zone=zone, new_instance_id="n", policy=policy)
    except EngineError:
        return  # the template clashes with itself: nothing planned
    def source_of(new):
        return NEW_RECORDS[next(t for t in new_types if NEW_RECORDS[t]["type"] == new.type and (
            new.type != "TXT" or new.data.strip('"').startswith(NEW_RECORDS[t]["data"])))]

    for conflict in plan.conflicts:
        new = conflict.caused_by
        if new is None or new.name != conflict.record.name:
            continue
        source = source_of(new)
        assert conflict.reason == same_owner_reason(new, conflict.record, source.get("txtConflictMatchingMode"),
                                                    source.get("txtConflictMatchingPrefix"))
    # ... and every record the rules say must go does go.
    new_records = [o.record for o in plan.new_instance.records]
    for old in zone:
        if old.key() in {n.key() for n in new_records}:
            continue
        for new in new_records:
            source = source_of(new)
            if new.name == old.name and same_owner_reason(new, old, source.get("txtConflictMatchingMode"),
                                                          source.get("txtConflictMatchingPrefix")):
                assert old in plan.to_delete


TARGET_PIECES = st.sampled_from(["%v%", "%w%", "%missing%", "@", ".@", "mail", ".", "-", "_x", "xn--fa-hia", "é",
                                 " ", "a" * 64, "Host", "%v", "example.net."])


@settings(max_examples=2000, deadline=None)
@given(st.lists(TARGET_PIECES, max_size=5).map("".join), st.sampled_from(["CNAME", "NS"]),
       st.sampled_from(["target.example.net", "T.Example.NET.", "", "@", "x y", "é.example", "a" * 64, "%w%"]))
@example("%v%", "NS", "ns1.example.net")
@example(" %v% ", "CNAME", "ns1.example.net")
@example("@", "CNAME", "x")
@example("mail.@", "CNAME", "x")
@example("%v%.@", "CNAME", "sub")
def test_alias_data_is_what_target_gives(points_to, rtype, value):
    from django_domainconnect.engine.errors import EngineError
    from django_domainconnect.engine.render import _Renderer
    from django_domainconnect.engine.types import Policy

    def outcome(fn, *args):
        try:
            return ("ok", fn(*args))
        except EngineError as exc:
            return ("error", type(exc), exc.message, exc.field)

    rec = TemplateRecord(index=0, type=rtype, host="www", points_to=points_to)
    renderer = _Renderer(None, "example.com", "", {"v": value, "w": "w.example"}, Policy())
    if rtype == "NS" and points_to.strip() == "@":
        return  # refused before any target is rendered
    assert outcome(renderer.alias_data, rec, rtype, "www.example.com.") == outcome(
        renderer.target, rec.points_to, rec, "pointsTo")
