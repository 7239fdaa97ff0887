"""SPF merging for SPFM (draft §9.4, ARCHITECTURE.md): order, de-duplication, qualifiers, limits, removal."""

from __future__ import annotations

import dataclasses

import dns.rdata
import dns.rdataclass
import dns.rdatatype
import pytest
from hypothesis import given
from hypothesis import strategies as st

from django_domainconnect.engine import spf


def rules(text: str) -> list[spf.Term]:
    return spf.parse_rules(text)


def test_existing_terms_first_new_ones_deduplicated_existing_all_kept() -> None:
    existing = spf.SpfRecord.parse("v=spf1 a include:spf.example.org -all")
    merged = spf.merge(existing, rules("include:spf.example.org include:spf.hoster.example a"), qualifier="~")
    assert merged.text() == "v=spf1 a include:spf.example.org include:spf.hoster.example -all"


def test_without_existing_record_the_policy_qualifier_ends_it() -> None:
    assert spf.merge(None, rules("a include:spf.example.net"), qualifier="~").text() == \
        "v=spf1 a include:spf.example.net ~all"
    assert spf.merge(None, rules("mx"), qualifier="-").text() == "v=spf1 mx -all"


def test_existing_redirect_is_not_disabled_by_an_added_all() -> None:
    existing = spf.SpfRecord.parse("v=spf1 mx redirect=_spf.example.org")
    assert spf.merge(existing, rules("include:x.example"), qualifier="~").text() == \
        "v=spf1 mx include:x.example redirect=_spf.example.org"


@pytest.mark.parametrize(("old", "new", "result"), [
    ("-include:x.example", "~include:x.example", "~include:x.example"),
    ("~include:x.example", "?include:x.example", "?include:x.example"),
    ("?include:x.example", "-include:x.example", "?include:x.example"),
    ("-include:x.example", "include:x.example", "include:x.example"),
])
def test_same_mechanism_takes_the_least_restrictive_qualifier(old: str, new: str, result: str) -> None:
    merged = spf.merge(spf.SpfRecord.parse(f"v=spf1 {old} a ~all"), rules(new), qualifier="~")
    assert merged.text() == f"v=spf1 {result} a ~all"


def test_more_than_ten_lookups_is_refused() -> None:
    existing = spf.SpfRecord.parse("v=spf1 " + " ".join(f"include:s{i}.example" for i in range(9)) + " ~all")
    assert spf.merge(existing, rules("include:ten.example ip4:192.0.2.1"), qualifier="~").lookups == 10
    with pytest.raises(spf.SpfLimitError):
        spf.merge(existing, rules("include:ten.example a"), qualifier="~")


def test_lookup_counting() -> None:
    assert spf.SpfRecord.parse("v=spf1 a mx ptr exists:x.example include:y.example ip4:192.0.2.0/24 "
                               "ip6:2001:db8::/32 redirect=z.example").lookups == 6


@pytest.mark.parametrize("bad", ["v=spf1 a", "a ~all", "-all", "redirect=x.example", "exp=x.example",
                                 "include", "ip4", "foo:bar", "a:", "", "   "])
def test_spf_rules_syntax_is_validated(bad: str) -> None:
    with pytest.raises(spf.SpfSyntaxError):
        spf.parse_rules(bad)


def test_removal_takes_out_exactly_the_given_terms() -> None:
    merged = spf.SpfRecord.parse("v=spf1 a include:spf.example.org include:spf.hoster.example ~all")
    assert spf.remove(merged, {t.key for t in rules("include:spf.hoster.example")}).text() == \
        "v=spf1 a include:spf.example.org ~all"


def test_long_records_are_split_into_255_octet_strings() -> None:
    text = "v=spf1 " + " ".join(f"ip4:192.0.2.{i}" for i in range(40)) + " ~all"
    data = spf.to_txt_data(text)
    strings = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.TXT, data).strings
    assert [len(s) for s in strings[:-1]] == [255] * (len(strings) - 1) and len(strings) == -(-len(text) // 255)
    assert b"".join(strings).decode() == text
    assert spf.txt_text(data) == text


def test_is_spf_text() -> None:
    assert spf.is_spf_text("v=spf1 -all") and spf.is_spf_text("V=SPF1") and not spf.is_spf_text("v=spf10")
    assert not spf.is_spf_text(None) and not spf.is_spf_text("google-site-verification=x")


TERMS = st.sampled_from(["a", "mx", "include:a.example", "include:b.example", "ip4:192.0.2.1", "ip6:2001:db8::1",
                         "-include:c.example", "~mx", "?a", "exists:d.example", "ip4:192.0.2.0/24"])


@given(st.lists(TERMS, max_size=6), st.lists(TERMS, min_size=1, max_size=6))
def test_merging_is_idempotent_and_removal_restores(old: list[str], new: list[str]) -> None:
    existing = spf.SpfRecord.parse(" ".join(["v=spf1", *old, "-all"]))
    merged = spf.merge(existing, rules(" ".join(new)), qualifier="~")
    # Idempotent: merging the same rules again changes nothing.
    assert spf.merge(merged, rules(" ".join(new)), qualifier="~") == merged
    # Parses back; at most 10 lookups; existing terms keep their order and come first.
    assert spf.SpfRecord.parse(merged.text()) == merged
    assert merged.lookups <= spf.MAX_LOOKUPS
    assert [t.key for t in merged.terms][: len(existing.terms)] == [t.key for t in existing.terms]
    # Removing exactly the keys that were added gives back the original terms.
    added = {t.key for t in merged.terms} - {t.key for t in existing.terms}
    assert [t.key for t in spf.remove(merged, added).terms] == [t.key for t in existing.terms]


@given(st.lists(TERMS, min_size=1, max_size=5), st.lists(TERMS, min_size=1, max_size=5))
def test_merging_two_rule_sets_is_commutative_up_to_order(a: list[str], b: list[str]) -> None:
    ab = spf.merge(spf.merge(None, rules(" ".join(a)), qualifier="~"), rules(" ".join(b)), qualifier="~")
    ba = spf.merge(spf.merge(None, rules(" ".join(b)), qualifier="~"), rules(" ".join(a)), qualifier="~")
    assert sorted(t.text() for t in ab.terms) == sorted(t.text() for t in ba.terms)
    assert ab.all_qualifier == ba.all_qualifier == "~"


def test_is_spf_data() -> None:
    assert spf.is_spf_data('"v=spf1 mx -all"') and spf.is_spf_data('"V=SPF1 " "mx -all"')
    assert not spf.is_spf_data('"v=spf10"') and not spf.is_spf_data('"hello"') and not spf.is_spf_data('"v=spf1')


@pytest.mark.parametrize("token,lookups", [
    ("include:a.example", 1), ("a", 1), ("mx:b.example", 1), ("ptr", 1), ("exists:c.example", 1),
    ("redirect=d.example", 1), ("ip4:192.0.2.1", 0), ("ip6:2001:db8::1", 0), ("~all", 0), ("exp=e.example", 0),
])
def test_a_term_and_a_record_count_dns_lookups_by_the_same_rule(token, lookups):
    term = spf.parse_term(token)
    assert term.lookups == lookups == spf.count_lookups([term])
    assert spf.SpfRecord((term, term), None).lookups == 2 * lookups


def test_term_key_is_derived_when_built_and_not_part_of_identity() -> None:
    term = spf.Term("~", "Include", ":Mail.Example")
    assert term.key == "include:mail.example"
    assert term == spf.Term("~", "Include", ":Mail.Example")
    assert "key" not in repr(term)
    assert dataclasses.replace(term, value=":x.example").key == "include:x.example"
