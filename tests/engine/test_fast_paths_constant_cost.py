"""Second pass on the per-plan constant cost (issue 7): each shortcut answers exactly as the full path.

``may_conflict`` lets the planner skip ``same_owner_reason`` for pairs of types no rule relates;
``no_self_conflict_possible`` lets rendering skip the full self-conflict check; ``SpfRecord.parse`` is
cached. The properties below compare each with the code it stands in for.
"""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from django_domainconnect.engine import spf
from django_domainconnect.engine.conflicts import (
    _self_conflict_full,
    may_conflict,
    no_self_conflict_possible,
    same_owner_reason,
)
from django_domainconnect.engine.types import Record

TYPES = st.sampled_from(["A", "AAAA", "CNAME", "NS", "MX", "SRV", "TXT", "CAA", "TYPE65534", "REDIR301",
                         "REDIR302", "APEXCNAME", "SOA"])
OWNERS = st.sampled_from(["example.com.", "www.example.com.", "a.www.example.com.", "sub.example.com.",
                          "x.sub.example.com.", "b.a.www.example.com."])
DATA = st.sampled_from(['"hosting-verify=old"', '"v=spf1 -all"', "1.2.3.4", "ns1.example.net.", "10 mx.example."])


@settings(max_examples=3000, deadline=None)
@given(TYPES, TYPES, DATA, DATA, st.sampled_from([None, "None", "All", "Prefix", "all", "prefix"]),
       st.sampled_from([None, "", "hosting-verify=", "v=spf1"]))
@example("A", "MX", "1.2.3.4", "10 mx.example.", None, None)
@example("TXT", "TXT", '"a"', '"hosting-verify=old"', "Prefix", "hosting-verify=")
def test_may_conflict_is_false_only_when_same_owner_reason_finds_nothing(new_type, old_type, new_data, old_data,
                                                                         mode, prefix):
    new = Record("example.com.", new_type, 300, new_data)
    old = Record("example.com.", old_type, 3600, old_data)
    reason = same_owner_reason(new, old, txt_mode=mode, txt_prefix=prefix)
    if not may_conflict(new_type, old_type):
        assert reason is None


def test_may_conflict_keeps_the_pairs_that_conflict():
    assert may_conflict("A", "CNAME") and may_conflict("CNAME", "TXT") and may_conflict("TXT", "NS")
    assert may_conflict("A", "AAAA") and may_conflict("REDIR301", "A") and may_conflict("MX", "MX")
    assert may_conflict("TXT", "TXT")
    assert not may_conflict("A", "MX") and not may_conflict("TXT", "A") and not may_conflict("MX", "SRV")


RECORD_SETS = st.lists(st.tuples(OWNERS, TYPES, DATA), min_size=0, max_size=6)


@settings(max_examples=3000, deadline=None)
@given(RECORD_SETS)
@example([("sub.example.com.", "NS", "ns1.example.net."), ("sub.example.com.", "NS", "ns2.example.net.")])
@example([("sub.example.com.", "NS", "ns1.example.net."), ("x.sub.example.com.", "A", "1.2.3.4")])
@example([("www.example.com.", "CNAME", "a."), ("www.example.com.", "CNAME", "a.")])
def test_no_self_conflict_possible_implies_the_full_check_finds_nothing(entries):
    records = [(i, Record(owner, rtype, 300, data)) for i, (owner, rtype, data) in enumerate(entries)]
    if no_self_conflict_possible([(r.name, r.type) for _i, r in records]):
        assert _self_conflict_full(records, "example.com.") is None


def test_a_delegation_alone_takes_the_shortcut_and_ns_with_data_below_does_not():
    ns_only = [("sub.example.com.", "NS"), ("sub.example.com.", "NS")]
    assert no_self_conflict_possible(ns_only)
    assert not no_self_conflict_possible([*ns_only, ("x.sub.example.com.", "A")])
    assert not no_self_conflict_possible([("www.example.com.", "CNAME"), ("www.example.com.", "TXT")])


@pytest.mark.parametrize("text", ["v=spf1 include:a.example ~all", "v=spf1 ip4:192.0.2.1 redirect=b.example",
                                  "V=SPF1 mx -all"])
def test_cached_spf_parse_equals_a_fresh_parse(text):
    fresh = spf.SpfRecord.parse.__wrapped__(spf.SpfRecord, text)
    assert spf.SpfRecord.parse(text) == fresh
    assert spf.SpfRecord.parse(text) == fresh  # the cached answer, second time


def test_cached_spf_parse_still_raises_for_bad_records_every_time():
    for _ in range(2):
        with pytest.raises(spf.SpfSyntaxError):
            spf.SpfRecord.parse("v=spf1 bogus:thing")
