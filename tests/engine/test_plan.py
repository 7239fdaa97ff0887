"""Stateful planning (draft §10.1–§10.5, §9.4; ARCHITECTURE.md "Template state")."""

from __future__ import annotations

from typing import Any

import pytest

from django_domainconnect.engine.errors import PlanError, UnsupportedTypeError
from django_domainconnect.engine.plan import instance_scope, names_needed, plan_apply, plan_revert
from django_domainconnect.engine.spf import txt_text
from django_domainconnect.engine.types import (
    AppliedInstance,
    NameScope,
    OwnedRecord,
    Plan,
    Policy,
    Record,
    Template,
)
from tests.engine.test_render import make_template

D = "example.com."


def R(name: str, rtype: str, data: str, ttl: int = 3600) -> Record:
    owner = D if name == "@" else f"{name}.{D}"
    return Record(owner, rtype, ttl, data)


BASE = [R("@", "SOA", "ns1.example.net. host.example.net. 1 7200 1800 1209600 3600"),
        R("@", "NS", "ns1.example.net."), R("@", "NS", "ns2.example.net.")]


def apply(template: Template, zone: list[Record], *, host: str = "", params: dict[str, str] | None = None,
          instances: tuple[AppliedInstance, ...] = (), new_id: str = "new", **kwargs: Any) -> Plan:
    return plan_apply(template, domain="example.com", host=host, params=params or {}, zone=zone,
                      instances=instances, new_instance_id=new_id, **kwargs)


def after(zone: list[Record], plan: Plan) -> set[Record]:
    gone = set(plan.to_delete)
    assert gone <= set(zone), "a plan may only delete records the zone holds"
    return (set(zone) - gone) | set(plan.to_add)


def tmpl(*records: dict[str, Any], **flags: Any) -> Template:
    return make_template(list(records), **flags)


# -- §10.4 conflict rules -------------------------------------------------------------------------------------

def test_new_cname_conflicts_with_anything_at_its_owner() -> None:
    zone = [*BASE, R("www", "A", "192.0.2.1"), R("www", "TXT", '"x"'), R("other", "A", "192.0.2.9")]
    plan = apply(tmpl({"type": "CNAME", "host": "www", "pointsTo": "t.example.net"}), zone)
    assert {c.record for c in plan.conflicts} == {R("www", "A", "192.0.2.1"), R("www", "TXT", '"x"')}
    assert all("CNAME" in c.reason and c.caused_by == R("www", "CNAME", "t.example.net.") for c in plan.conflicts)
    assert plan.to_add == (R("www", "CNAME", "t.example.net."),)


def test_existing_cname_conflicts_with_any_new_record() -> None:
    zone = [*BASE, R("www", "CNAME", "old.example.net.")]
    plan = apply(tmpl({"type": "TXT", "host": "www", "data": "hello"}), zone)
    assert [c.record for c in plan.conflicts] == [R("www", "CNAME", "old.example.net.")]


def test_new_ns_conflicts_with_its_owner_and_whole_subtree() -> None:
    zone = [*BASE, R("sub", "A", "192.0.2.1"), R("www.sub", "A", "192.0.2.2"), R("a.b.sub", "TXT", '"x"'),
            R("notsub", "A", "192.0.2.3"), R("xsub", "A", "192.0.2.4")]
    plan = apply(tmpl({"type": "NS", "host": "sub", "pointsTo": "ns.other.example"}), zone)
    assert set(plan.to_delete) == {R("sub", "A", "192.0.2.1"), R("www.sub", "A", "192.0.2.2"),
                                   R("a.b.sub", "TXT", '"x"')}


def test_new_record_below_an_existing_delegation_conflicts_with_its_ns() -> None:
    zone = [*BASE, R("sub", "NS", "ns.other.example."), R("sub", "NS", "ns2.other.example.")]
    plan = apply(tmpl({"type": "TXT", "host": "www.sub", "data": "x"}), zone)
    assert {c.record for c in plan.conflicts} == {R("sub", "NS", "ns.other.example."),
                                                 R("sub", "NS", "ns2.other.example.")}
    assert all("delegation" in c.reason for c in plan.conflicts)


@pytest.mark.parametrize(("host", "ns_at", "record_at", "below"), [
    ("", "sub", "www.sub", True),  # two labels below the apex: the parent is checked
    ("", "sub", "a.b.sub", True),  # three: every parent up to the apex
    ("", "b.sub", "a.b.sub", True),
    ("", "other", "a.b.sub", False),
    ("", "sub", "subx", False),  # one label below the apex has no parent but the apex: no walk at all
    ("", "b.sub", "a.xb.sub", False),  # a parent by name, not by text
    ("h", "h", "www", True),  # www.h: the host moves every record one label down
    ("h", "sub.h", "x.sub", True),
    ("h", "other", "x.sub", False),
])
def test_a_new_record_below_an_existing_delegation_at_any_depth(host: str, ns_at: str, record_at: str,
                                                                 below: bool) -> None:
    """The planner skips the walk up to the apex for names one label below it (a depth test on the name,
    written as a slice): every deeper name, with or without a host, still meets the NS above it."""
    zone = [*BASE, R(ns_at, "NS", "ns.other.example.")]
    plan = apply(tmpl({"type": "A", "host": record_at, "pointsTo": "192.0.2.7"}), zone, host=host)
    found = [c for c in plan.conflicts if c.record.type == "NS"]
    assert bool(found) is below
    assert all("delegation" in c.reason for c in found)
    assert plan.to_add == (R(f"{record_at}.{host}" if host else record_at, "A", "192.0.2.7"),)


def test_the_new_instance_keeps_the_templates_values_sorted_by_name_as_text() -> None:
    """Without groupId the instance keeps the values of the template's variables the request gives (not the
    others), as rendering read them (``str``), in name order (``Template.variable_order``)."""
    t = tmpl({"type": "A", "host": "%zeta%", "pointsTo": "%alpha%"},
             {"type": "TXT", "host": "@", "data": "%mid% %Beta%"})
    assert t.variable_order == tuple(sorted(t.variables)) == ("Beta", "alpha", "mid", "zeta")
    plan = apply(t, list(BASE), params={"zeta": "z", "alpha": "192.0.2.1", "mid": 900, "Beta": "b", "unused": "x"})
    assert plan.new_instance is not None
    assert plan.new_instance.params == (("Beta", "b"), ("alpha", "192.0.2.1"), ("mid", "900"), ("zeta", "z"))


def test_the_zone_soa_and_apex_ns_are_never_removed() -> None:
    zone = [*BASE, R("@", "A", "192.0.2.1")]
    plan = apply(tmpl({"type": "CNAME", "host": "@", "pointsTo": "t.example.net"}), zone,
                 policy=Policy(allow_apex_cname=True))
    assert set(plan.to_delete) == {R("@", "A", "192.0.2.1")}


def test_mx_and_srv_conflict_per_owner_and_type() -> None:
    zone = [*BASE, R("@", "MX", "10 old.example.net."), R("sub", "MX", "10 keep.example.net."),
            R("_sip._tcp", "SRV", "0 0 5060 old.example.net."), R("_xmpp._tcp", "SRV", "0 0 5222 keep.example.net."),
            R("@", "A", "192.0.2.1")]
    plan = apply(tmpl({"type": "MX", "host": "@", "pointsTo": "mx.example.net", "priority": 5},
                      {"type": "SRV", "name": "@", "service": "_sip", "protocol": "_tcp", "priority": 1,
                       "weight": 1, "port": 5061, "target": "sip.example.net"}), zone)
    assert set(plan.to_delete) == {R("@", "MX", "10 old.example.net."),
                                   R("_sip._tcp", "SRV", "0 0 5060 old.example.net.")}


def test_a_and_aaaa_conflict_with_each_other() -> None:
    zone = [*BASE, R("@", "A", "192.0.2.1"), R("@", "AAAA", "2001:db8::1"), R("@", "MX", "10 mx.example.net.")]
    plan = apply(tmpl({"type": "AAAA", "host": "@", "pointsTo": "2001:db8::2"}), zone)
    assert set(plan.to_delete) == {R("@", "A", "192.0.2.1"), R("@", "AAAA", "2001:db8::1")}


@pytest.mark.parametrize(("mode", "prefix", "deleted"), [
    (None, None, set()),
    ("None", None, set()),
    ("All", None, {'"google-site-verification=abc"', '"other"'}),
    ("Prefix", "google-site", {'"google-site-verification=abc"'}),
    ("Prefix", "nomatch", set()),
])
def test_txt_conflict_matching_modes(mode: str | None, prefix: str | None, deleted: set[str]) -> None:
    zone = [*BASE, R("@", "TXT", '"google-site-verification=abc"'), R("@", "TXT", '"other"'),
            R("www", "TXT", '"elsewhere"')]
    rec = {"type": "TXT", "host": "@", "data": "google-site-verification=new"}
    if mode:
        rec["txtConflictMatchingMode"] = mode
    if prefix:
        rec["txtConflictMatchingPrefix"] = prefix
    plan = apply(tmpl(rec), zone)
    assert {r.data for r in plan.to_delete} == deleted
    assert plan.to_add == (R("@", "TXT", '"google-site-verification=new"'),)


def test_identical_records_are_neither_conflicts_nor_rewritten() -> None:
    zone = [*BASE, R("www", "A", "192.0.2.1", ttl=600)]
    plan = apply(tmpl({"type": "A", "host": "www", "pointsTo": "192.0.2.1", "ttl": 600}), zone)
    assert plan.is_noop and not plan.has_conflicts
    assert plan.new_instance is not None and plan.new_instance.records[0].record == R("www", "A", "192.0.2.1", 600)
    # Another TTL alone changes nothing in a record the template did not write (docs/engine.md "adopted").
    retimed = apply(tmpl({"type": "A", "host": "www", "pointsTo": "192.0.2.1", "ttl": 900}), zone)
    assert retimed.is_noop and not retimed.conflicts
    assert retimed.new_instance.records[0].record.ttl == 600 and retimed.new_instance.records[0].preexisting


def test_an_update_rewrites_the_ttl_of_the_instances_own_record() -> None:
    t = tmpl({"type": "A", "host": "www", "pointsTo": "192.0.2.1", "ttl": "%t%"})
    first = apply(t, list(BASE), params={"t": "600"}, new_id="i1")
    zone = sorted(after(BASE, first))
    again = apply(t, zone, params={"t": "900"}, instances=(first.new_instance,))
    assert not again.has_conflicts
    assert again.to_delete == (R("www", "A", "192.0.2.1", 600),)
    assert again.to_add == (R("www", "A", "192.0.2.1", 900),)
    assert [(o.record.ttl, o.preexisting) for o in again.new_instance.records] == [(900, False)]


def test_two_new_addresses_at_one_owner_keep_an_identical_existing_one() -> None:
    zone = [*BASE, R("@", "A", "192.0.2.1"), R("@", "A", "192.0.2.9")]
    plan = apply(tmpl({"type": "A", "host": "@", "pointsTo": "192.0.2.1", "ttl": 3600},
                      {"type": "A", "host": "@", "pointsTo": "192.0.2.2", "ttl": 3600}), zone)
    assert plan.to_delete == (R("@", "A", "192.0.2.9"),)
    assert plan.to_add == (R("@", "A", "192.0.2.2"),)


# -- state: essential, updates, multiInstance, groups ----------------------------------------------------------

def instance(iid: str, records: list[Record], *, essential: str = "Always", provider: str = "other.example",
             service: str = "svc", host: str = "", groups: list[str | None] | None = None,
             spf: dict[int, str] | None = None, multi: bool = False) -> AppliedInstance:
    owned = []
    for i, rec in enumerate(records):
        owned.append(OwnedRecord(rec, essential=essential,  # type: ignore[arg-type]
                                 group_id=(groups or [None] * len(records))[i],
                                 spf_rules=(spf or {}).get(i)))
    return AppliedInstance(iid, provider, service, host, tuple(owned), multi_instance=multi)


def test_conflict_with_an_essential_record_removes_the_whole_instance() -> None:
    owned = [R("www", "A", "192.0.2.1"), R("blog", "CNAME", "blog.host.example.")]
    zone = [*BASE, *owned, R("unrelated", "A", "192.0.2.5")]
    old = instance("i1", owned)
    plan = apply(tmpl({"type": "CNAME", "host": "www", "pointsTo": "t.example.net"}), zone, instances=(old,))
    assert plan.removed_instances == (old,)
    assert set(plan.to_delete) == set(owned)
    assert [c.instance_id for c in plan.conflicts] == ["i1"]
    assert plan.has_conflicts


def test_conflict_with_an_on_apply_record_removes_only_that_record() -> None:
    owned = [R("www", "A", "192.0.2.1"), R("blog", "CNAME", "blog.host.example.")]
    zone = [*BASE, *owned]
    old = instance("i1", owned, essential="OnApply")
    plan = apply(tmpl({"type": "CNAME", "host": "www", "pointsTo": "t.example.net"}), zone, instances=(old,))
    assert plan.removed_instances == ()
    assert plan.to_delete == (R("www", "A", "192.0.2.1"),)
    assert [i.instance_id for i in plan.updated_instances] == ["i1"]
    assert [o.record for o in plan.updated_instances[0].records] == [R("blog", "CNAME", "blog.host.example.")]


def test_unowned_conflicting_records_are_removed() -> None:
    zone = [*BASE, R("@", "A", "192.0.2.1")]
    plan = apply(tmpl({"type": "A", "host": "@", "pointsTo": "192.0.2.2"}), zone)
    assert plan.to_delete == (R("@", "A", "192.0.2.1"),) and plan.conflicts[0].instance_id is None


DYNDNS = {"records": [{"groupId": "IPv4", "type": "A", "host": "@", "pointsTo": "%IPv4%", "ttl": "60"},
                      {"groupId": "IPv6", "type": "AAAA", "host": "@", "pointsTo": "%IPv6%", "ttl": "60"}]}


def dyndns() -> Template:
    return make_template(DYNDNS["records"], provider_id="domainconnect.org", service_id="dynamicdns-v2")


def test_reapply_on_the_same_host_is_an_update_not_a_conflict() -> None:
    t = dyndns()
    first = apply(t, list(BASE), params={"IPv4": "192.0.2.1"}, group_ids=["IPv4"], new_id="dd")
    zone = sorted(after(BASE, first))
    assert first.new_instance is not None
    second = apply(t, zone, params={"IPv4": "192.0.2.2"}, group_ids=["IPv4"], instances=(first.new_instance,),
                   new_id="other-id")
    assert not second.has_conflicts
    assert second.to_delete == (R("@", "A", "192.0.2.1", 300),)
    assert second.to_add == (R("@", "A", "192.0.2.2", 300),)
    assert second.new_instance is not None and second.new_instance.instance_id == "dd"


def test_group_apply_is_additive_within_the_same_instance() -> None:
    t = dyndns()
    v4 = apply(t, list(BASE), params={"IPv4": "192.0.2.1"}, group_ids=["IPv4"], new_id="dd")
    zone = sorted(after(BASE, v4))
    v6 = apply(t, zone, params={"IPv6": "2001:db8::1"}, group_ids=["IPv6"], instances=(v4.new_instance,))
    # The instance's own IPv4 record is not disturbed by the IPv6 group (§10.3.1), despite the A/AAAA rule.
    assert v6.to_delete == () and v6.to_add == (R("@", "AAAA", "2001:db8::1", 300),)
    assert not v6.has_conflicts
    inst = v6.new_instance
    assert inst is not None and inst.instance_id == "dd"
    assert {o.record.type for o in inst.records} == {"A", "AAAA"}
    assert dict(inst.params) == {"IPv4": "192.0.2.1", "IPv6": "2001:db8::1"}
    assert inst.group_ids == ("IPv4", "IPv6")
    # Re-applying IPv4 replaces only the IPv4 record.
    zone2 = sorted(after(zone, v6))
    v4b = apply(t, zone2, params={"IPv4": "192.0.2.7"}, group_ids=["IPv4"], instances=(inst,))
    assert v4b.to_delete == (R("@", "A", "192.0.2.1", 300),)
    assert v4b.to_add == (R("@", "A", "192.0.2.7", 300),)


def test_full_reapply_replaces_records_no_longer_rendered() -> None:
    t1 = tmpl({"type": "A", "host": "%h%", "pointsTo": "192.0.2.1"})
    first = apply(t1, list(BASE), params={"h": "one"})
    zone = sorted(after(BASE, first))
    second = apply(t1, zone, params={"h": "two"}, instances=(first.new_instance,))
    assert second.to_delete == (R("one", "A", "192.0.2.1"),) and second.to_add == (R("two", "A", "192.0.2.1"),)
    assert not second.has_conflicts


def test_multi_instance_templates_add_instances_and_still_check_conflicts() -> None:
    t = tmpl({"type": "TXT", "host": "@", "data": "verify=%v%"}, multi_instance=True)
    first = apply(t, list(BASE), params={"v": "1"}, new_id="m1")
    zone = sorted(after(BASE, first))
    second = apply(t, zone, params={"v": "2"}, instances=(first.new_instance,), new_id="m2")
    assert second.to_delete == () and second.new_instance is not None and second.new_instance.instance_id == "m2"
    # With instance_id the apply updates that instance.
    third = apply(t, zone, params={"v": "3"}, instances=(first.new_instance,), instance_id="m1", new_id="m3")
    assert third.to_delete == (R("@", "TXT", '"verify=1"'),) and third.new_instance.instance_id == "m1"
    # Regular rules still apply between instances: an All-mode TXT removes the other instance.
    t_all = tmpl({"type": "TXT", "host": "@", "data": "verify=%v%", "txtConflictMatchingMode": "All"},
                 multi_instance=True)
    fourth = apply(t_all, zone, params={"v": "4"}, instances=(first.new_instance,), new_id="m4")
    assert [i.instance_id for i in fourth.removed_instances] == ["m1"]


def test_other_host_is_another_instance() -> None:
    t = tmpl({"type": "A", "host": "@", "pointsTo": "192.0.2.1"})
    first = apply(t, list(BASE), host="a", new_id="a")
    zone = sorted(after(BASE, first))
    second = apply(t, zone, host="b", instances=(first.new_instance,), new_id="b")
    assert second.to_delete == () and second.new_instance.instance_id == "b"


def test_unsupported_type_fails_before_planning() -> None:
    with pytest.raises(UnsupportedTypeError):
        apply(tmpl({"type": "REDIR301", "host": "@", "target": "https://x.example"}), list(BASE))


# -- SPF through the planner ------------------------------------------------------------------------------------

def spf_of(records: set[Record] | list[Record], name: str = D) -> list[str]:
    return [txt_text(r.data) or "" for r in records if r.name == name and r.type == "TXT"
            and (txt_text(r.data) or "").startswith("v=spf1")]


def test_spfm_creates_merges_and_reverts() -> None:
    t1 = tmpl({"type": "SPFM", "host": "@", "spfRules": "include:one.example"}, service_id="one")
    t2 = tmpl({"type": "SPFM", "host": "@", "spfRules": "include:two.example a"}, service_id="two")
    p1 = apply(t1, list(BASE), new_id="i1")
    z1 = sorted(after(BASE, p1))
    assert spf_of(z1) == ["v=spf1 include:one.example ~all"]
    p2 = apply(t2, z1, instances=(p1.new_instance,), new_id="i2")
    z2 = sorted(after(z1, p2))
    assert spf_of(z2) == ["v=spf1 include:one.example include:two.example a ~all"]
    assert not p2.has_conflicts
    # Revert the first: only its term goes; revert the second: the record it all came from goes too.
    r1 = plan_revert(p1.new_instance, domain="example.com", zone=z2, instances=(p1.new_instance, p2.new_instance))
    z3 = sorted(after(z2, r1))
    assert spf_of(z3) == ["v=spf1 include:two.example a ~all"]
    r2 = plan_revert(p2.new_instance, domain="example.com", zone=z3, instances=(p2.new_instance,))
    assert sorted(after(z3, r2)) == sorted(BASE)


def test_spfm_keeps_user_terms_and_shared_terms_on_revert() -> None:
    zone = [*BASE, R("@", "TXT", '"v=spf1 mx include:shared.example -all"', ttl=600)]
    t1 = tmpl({"type": "SPFM", "host": "@", "spfRules": "include:shared.example include:one.example"},
              service_id="one")
    p1 = apply(t1, zone, new_id="i1")
    z1 = sorted(after(zone, p1))
    assert spf_of(z1) == ["v=spf1 mx include:shared.example include:one.example -all"]
    assert [r.ttl for r in z1 if r.type == "TXT"] == [600]
    spf_owned = [o for o in p1.new_instance.records if o.spf_rules is not None]
    assert spf_owned[0].spf_rules == "include:one.example" and spf_owned[0].essential == "OnApply"
    r1 = plan_revert(p1.new_instance, domain="example.com", zone=z1, instances=(p1.new_instance,))
    assert sorted(after(z1, r1)) == sorted(zone)


def test_multiple_spf_records_are_a_conflict_and_become_one() -> None:
    zone = [*BASE, R("@", "TXT", '"v=spf1 mx ~all"'), R("@", "TXT", '"v=spf1 include:b.example ~all"')]
    plan = apply(tmpl({"type": "SPFM", "host": "@", "spfRules": "include:c.example"}), zone)
    assert len(plan.conflicts) == 2 and all("more than one SPF" in c.reason for c in plan.conflicts)
    assert spf_of(after(zone, plan)) == ["v=spf1 mx include:b.example include:c.example ~all"]


def test_spf_over_ten_lookups_drops_the_users_terms_as_a_conflict() -> None:
    user = " ".join(f"include:u{i}.example" for i in range(9))
    zone = [*BASE, R("@", "TXT", f'"v=spf1 {user} ~all"')]
    plan = apply(tmpl({"type": "SPFM", "host": "@", "spfRules": "include:a.example include:b.example"}), zone)
    assert [c.record for c in plan.conflicts] == [zone[-1]]
    assert "10" in plan.conflicts[0].reason
    assert spf_of(after(zone, plan)) == ["v=spf1 include:a.example include:b.example ~all"]


def test_spf_rules_alone_over_ten_lookups_cannot_be_planned() -> None:
    rules = " ".join(f"include:t{i}.example" for i in range(11))
    with pytest.raises(PlanError):
        apply(tmpl({"type": "SPFM", "host": "@", "spfRules": rules}), list(BASE))


def test_unparseable_existing_spf_is_a_conflict() -> None:
    zone = [*BASE, R("@", "TXT", '"v=spf1 bogus:thing ~all"')]
    plan = apply(tmpl({"type": "SPFM", "host": "@", "spfRules": "mx"}), zone)
    assert [c.record for c in plan.conflicts] == [zone[-1]]
    assert spf_of(after(zone, plan)) == ["v=spf1 mx ~all"]


def test_losing_a_merged_spf_record_never_removes_a_template() -> None:
    t1 = tmpl({"type": "SPFM", "host": "@", "spfRules": "include:one.example"},
              {"type": "A", "host": "www", "pointsTo": "192.0.2.1"}, service_id="one")
    p1 = apply(t1, list(BASE), new_id="i1")
    z1 = sorted(after(BASE, p1))
    t2 = tmpl({"type": "TXT", "host": "@", "data": "v=spf1 -all", "txtConflictMatchingMode": "Prefix",
               "txtConflictMatchingPrefix": "v=spf1"}, service_id="two")
    p2 = apply(t2, z1, instances=(p1.new_instance,), new_id="i2")
    assert p2.removed_instances == ()
    assert [i.instance_id for i in p2.updated_instances] == ["i1"]
    assert all(o.spf_rules is None for o in p2.updated_instances[0].records)


# -- revert ----------------------------------------------------------------------------------------------------

def test_revert_removes_only_records_still_as_written() -> None:
    t = tmpl({"type": "A", "host": "www", "pointsTo": "192.0.2.1"}, {"type": "TXT", "host": "www", "data": "x"})
    p = apply(t, list(BASE), new_id="i1")
    zone = sorted(after(BASE, p))
    edited = [r for r in zone if r.type != "TXT"] + [R("www", "TXT", '"edited by the user"')]
    rev = plan_revert(p.new_instance, domain="example.com", zone=edited, instances=(p.new_instance,))
    assert rev.to_delete == (R("www", "A", "192.0.2.1"),) and rev.to_add == ()
    assert rev.new_instance is None


def test_revert_keeps_records_another_instance_owns() -> None:
    rec = R("www", "A", "192.0.2.1")
    a, b = instance("a", [rec]), instance("b", [rec], service="other")
    rev = plan_revert(a, domain="example.com", zone=[*BASE, rec], instances=(a, b))
    assert rev.to_delete == ()


def test_apply_then_revert_is_the_identity_on_a_conflict_free_zone() -> None:
    zone = [*BASE, R("@", "MX", "10 mx.example.net."), R("@", "TXT", '"v=spf1 mx ~all"')]
    t = tmpl({"type": "A", "host": "shop", "pointsTo": "192.0.2.1"},
             {"type": "CNAME", "host": "www.shop", "pointsTo": "@"},
             {"type": "TXT", "host": "_verify.shop", "data": "token"},
             {"type": "SPFM", "host": "@", "spfRules": "include:shop.example"})
    p = apply(t, zone, new_id="i1")
    assert not p.has_conflicts
    z1 = sorted(after(zone, p))
    rev = plan_revert(p.new_instance, domain="example.com", zone=z1, instances=(p.new_instance,))
    assert sorted(after(z1, rev)) == sorted(zone)


# -- scope ---------------------------------------------------------------------------------------------------

def test_names_needed_covers_owners_ancestors_and_ns_subtrees() -> None:
    t = tmpl({"type": "A", "host": "a.b", "pointsTo": "192.0.2.1"},
             {"type": "NS", "host": "sub", "pointsTo": "ns.example.net"},
             {"type": "SPFM", "host": "@", "spfRules": "mx"})
    scope = names_needed(t, domain="example.com", host="h", params={})
    assert {"a.b.h.example.com.", "b.h.example.com.", "h.example.com.", "sub.h.example.com."} <= scope.names
    assert scope.subtrees == frozenset({"sub.h.example.com."})
    assert scope.covers("x.y.sub.h.example.com.") and not scope.covers("other.example.com.")


def test_names_needed_lets_any_type_through() -> None:
    t = tmpl({"type": "REDIR301", "host": "@", "target": "https://x.example"})
    assert names_needed(t, domain="example.com", params={}).covers(D)


def test_scoped_zone_gives_the_same_plan_as_the_whole_zone() -> None:
    zone = [*BASE, R("www", "A", "192.0.2.1"), R("x.sub", "A", "192.0.2.2"), R("sub", "NS", "ns.x.example."),
            *[R(f"h{i}", "A", "192.0.2.3") for i in range(50)], R("@", "TXT", '"v=spf1 mx ~all"')]
    t = tmpl({"type": "CNAME", "host": "www", "pointsTo": "t.example.net"},
             {"type": "TXT", "host": "y.sub", "data": "x"},
             {"type": "SPFM", "host": "@", "spfRules": "include:z.example"})
    old = instance("i1", [R("www", "A", "192.0.2.1"), R("h3", "A", "192.0.2.3")])
    scope = names_needed(t, domain="example.com", params={})
    full_scope = NameScope(scope.names | instance_scope([old]).names, scope.subtrees)
    scoped = [r for r in zone if full_scope.covers(r.name)]
    assert len(scoped) < len(zone)
    whole = apply(t, zone, instances=(old,))
    part = apply(t, scoped, instances=(old,))
    assert whole.fingerprint() == part.fingerprint()
    assert set(whole.to_delete) == {R("www", "A", "192.0.2.1"), R("h3", "A", "192.0.2.3"),
                                    R("sub", "NS", "ns.x.example."), R("@", "TXT", '"v=spf1 mx ~all"')}


def test_filtering_a_large_zone_by_scope_gives_the_plan_of_indexing_it_whole(monkeypatch) -> None:
    """Above ``ZONE_FILTER_ABOVE`` records only the scope is indexed up front; a removed instance's record
    outside it (h3 here) makes the index take in the rest. Both ways give the same plan."""
    from django_domainconnect.engine import plan as plan_module

    zone = [*BASE, R("www", "A", "192.0.2.1"), R("x.sub", "A", "192.0.2.2"), R("sub", "NS", "ns.x.example."),
            *[R(f"h{i}", "A", "192.0.2.3") for i in range(50)], R("@", "TXT", '"v=spf1 mx ~all"')]
    t = tmpl({"type": "CNAME", "host": "www", "pointsTo": "t.example.net"},
             {"type": "TXT", "host": "y.sub", "data": "x"},
             {"type": "SPFM", "host": "@", "spfRules": "include:z.example"})
    old = instance("i1", [R("www", "A", "192.0.2.1"), R("h3", "A", "192.0.2.3")])
    plans = []
    for limit in (0, 10**9):  # filtered, whole
        monkeypatch.setattr(plan_module, "ZONE_FILTER_ABOVE", limit)
        plans.append(apply(t, zone, instances=(old,)))
    assert plans[0].fingerprint() == plans[1].fingerprint()
    assert plans[0].to_delete == plans[1].to_delete and not plans[0].warnings
    assert R("h3", "A", "192.0.2.3") in plans[0].to_delete


def test_a_crowded_owner_is_looked_up_by_identity_as_a_scan_would(monkeypatch) -> None:
    """An owner with more than ``SCAN_LIMIT`` records gets its own identity index; lookups there
    (a record the template writes again, the records of an instance it removes) find what a scan finds."""
    from django_domainconnect.engine import plan as plan_module

    crowd = [R("@", "TXT", f'"note {i}"') for i in range(40)]
    zone = [*BASE, *crowd, R("@", "A", "192.0.2.1"), R("www", "A", "192.0.2.9")]
    t = tmpl({"type": "TXT", "host": "@", "data": "note 7"}, {"type": "CNAME", "host": "www", "pointsTo": "x.example"})
    old = instance("i1", [R("www", "A", "192.0.2.9"), R("@", "TXT", '"note 3"'), R("@", "TXT", '"note 30"')])
    plans = []
    for limit in (0, 10**9):  # an index for every owner, a scan for every owner
        monkeypatch.setattr(plan_module, "SCAN_LIMIT", limit)
        plans.append(apply(t, zone, instances=(old,)))
    assert plans[0] == plans[1]
    gone = {R("www", "A", "192.0.2.9"), R("@", "TXT", '"note 3"'), R("@", "TXT", '"note 30"')}
    assert set(plans[0].to_delete) == gone
    assert plans[0].to_add == (R("www", "CNAME", "x.example."),)  # "note 7" is there already: adopted, not added
    assert R("@", "TXT", '"note 7"') in {o.record for o in plans[0].new_instance.records}


def test_records_of_removed_instances_outside_the_view_are_reported_not_deleted() -> None:
    old = instance("i1", [R("www", "A", "192.0.2.1"), R("far", "A", "192.0.2.3")])
    t = tmpl({"type": "CNAME", "host": "www", "pointsTo": "t.example.net"})
    plan = apply(t, [*BASE, R("www", "A", "192.0.2.1")], instances=(old,))
    assert plan.to_delete == (R("www", "A", "192.0.2.1"),)
    assert any("far.example.com." in w for w in plan.warnings)


def test_plan_is_deterministic() -> None:
    zone = [*BASE, R("@", "A", "192.0.2.1"), R("www", "CNAME", "x.example.")]
    t = tmpl({"type": "A", "host": "@", "pointsTo": "192.0.2.2"}, {"type": "A", "host": "www", "pointsTo": "192.0.2.2"})
    assert apply(t, zone).fingerprint() == apply(t, list(reversed(zone))).fingerprint()


def test_reapplying_spfm_does_not_reorder_the_record() -> None:
    t = tmpl({"type": "SPFM", "host": "@", "spfRules": "include:x.example"})
    first = apply(t, list(BASE), new_id="i1")
    z1 = sorted(after(BASE, first))
    # The user adds a term after the template's.
    z1 = [r for r in z1 if r.type != "TXT"] + [R("@", "TXT", '"v=spf1 include:x.example mx ~all"')]
    again = apply(t, z1, instances=(first.new_instance,))
    assert again.is_noop and not again.has_conflicts
    spf_owned = [o for o in again.new_instance.records if o.spf_rules is not None]
    assert spf_owned[0].spf_rules == "include:x.example"
    rev = plan_revert(again.new_instance, domain="example.com", zone=z1, instances=(again.new_instance,))
    assert spf_of(after(z1, rev)) == ["v=spf1 mx ~all"]


def test_an_instance_losing_its_last_record_is_removed() -> None:
    old = instance("i1", [R("www", "A", "192.0.2.1")], essential="OnApply")
    plan = apply(tmpl({"type": "CNAME", "host": "www", "pointsTo": "t.example.net"}), [*BASE, *old.records[0:0],
                 R("www", "A", "192.0.2.1")], instances=(old,))
    assert [i.instance_id for i in plan.removed_instances] == ["i1"] and plan.updated_instances == ()


def test_whole_zone_removed_instance_records_far_away_are_deleted() -> None:
    far = R("far", "A", "192.0.2.3")
    old = instance("i1", [R("www", "A", "192.0.2.1"), far], spf=None)
    zone = [*BASE, R("www", "A", "192.0.2.1"), far, *[R(f"h{i}", "A", "192.0.2.9") for i in range(20)]]
    plan = apply(tmpl({"type": "CNAME", "host": "www", "pointsTo": "t.example.net"}), zone, instances=(old,))
    assert set(plan.to_delete) == {R("www", "A", "192.0.2.1"), far} and plan.warnings == ()


def test_delegation_removing_instances_with_records_elsewhere() -> None:
    # Records below the new NS belong to instances that also own records (and SPF terms) elsewhere.
    spf_far = R("other", "TXT", '"v=spf1 include:a.example include:b.example ~all"')
    a = instance("a", [R("x.sub", "A", "192.0.2.1"), R("elsewhere", "A", "192.0.2.2"), spf_far],
                 spf={2: "include:a.example"})
    b = instance("b", [spf_far], service="b", spf={0: "include:b.example"})
    zone = [*BASE, R("x.sub", "A", "192.0.2.1"), R("elsewhere", "A", "192.0.2.2"), spf_far]
    plan = apply(tmpl({"type": "NS", "host": "sub", "pointsTo": "ns.example.net"}), zone, instances=(a, b))
    assert [i.instance_id for i in plan.removed_instances] == ["a"]
    assert R("elsewhere", "A", "192.0.2.2") in plan.to_delete
    assert spf_of(after(zone, plan), "other.example.com.") == ["v=spf1 include:b.example ~all"]


def test_a_merged_spf_record_equal_to_a_new_txt_record_is_owned_once() -> None:
    template = tmpl({"type": "TXT", "host": "@", "data": "v=spf1 include:x.example ~all", "ttl": 3600},
                    {"type": "SPFM", "host": "@", "spfRules": "include:x.example"})
    plan = apply(template, BASE)
    assert plan.to_add == (R("@", "TXT", '"v=spf1 include:x.example ~all"'),)
    assert [o.record for o in plan.new_instance.records] == [R("@", "TXT", '"v=spf1 include:x.example ~all"')]
    # A different TXT record stays a record of its own next to the merged SPF record.
    other = tmpl({"type": "TXT", "host": "@", "data": "hello", "ttl": 3600},
                 {"type": "SPFM", "host": "@", "spfRules": "include:x.example"})
    records = apply(other, BASE).new_instance.records
    assert [(o.record.data, o.spf_rules) for o in records] == [
        ('"hello"', None), ('"v=spf1 include:x.example ~all"', "include:x.example")]


def test_an_instance_removed_whole_never_takes_the_zone_apex_ns_or_soa_with_it() -> None:
    # State saying an instance wrote the apex NS (an import gone wrong, say): removing the instance keeps it.
    apex_ns, soa = BASE[1], BASE[0]
    old = instance("i1", [R("www", "A", "192.0.2.1"), apex_ns, soa])
    zone = [*BASE, R("www", "A", "192.0.2.1")]
    plan = apply(tmpl({"type": "CNAME", "host": "www", "pointsTo": "t.example.net"}), zone, instances=(old,))
    assert [i.instance_id for i in plan.removed_instances] == ["i1"]
    assert plan.to_delete == (R("www", "A", "192.0.2.1"),)
