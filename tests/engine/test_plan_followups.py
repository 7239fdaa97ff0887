"""Follow-ups on planning: records adopted from the zone (SECURITY.md 48) and SPF records shared by
several instances (§9.4). Each scenario runs the plans against a zone and an instance list kept the way
the service layer keeps them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from django_domainconnect.engine.plan import plan_apply, plan_revert
from django_domainconnect.engine.types import AppliedInstance, OwnedRecord, Plan, Policy, Record, Template
from tests.engine.test_plan import BASE, R, spf_of, tmpl

D = "example.com."


@dataclass
class Site:
    """A zone plus its applied instances, updated from plans exactly as services.py stores them."""

    zone: list[Record]
    instances: list[AppliedInstance] = field(default_factory=list)
    policy: Policy = field(default_factory=Policy)

    def _commit(self, plan: Plan) -> None:
        gone = set(plan.to_delete)
        assert gone <= set(self.zone), "a plan may only delete records the zone holds"
        self.zone = sorted((set(self.zone) - gone) | set(plan.to_add))
        removed = {i.instance_id for i in plan.removed_instances}
        updated = {i.instance_id: i for i in plan.updated_instances}
        kept = [updated.get(i.instance_id, i) for i in self.instances if i.instance_id not in removed]
        if plan.new_instance is not None:
            kept = [i for i in kept if i.instance_id != plan.new_instance.instance_id] + [plan.new_instance]
        self.instances = kept

    def apply(self, template: Template, *, new_id: str, params: dict[str, str] | None = None, **kw: Any) -> Plan:
        plan = plan_apply(template, domain="example.com", params=params or {}, zone=self.zone,
                          instances=self.instances, new_instance_id=new_id, policy=self.policy, **kw)
        self._commit(plan)
        return plan

    def revert(self, instance_id: str) -> Plan:
        inst = self.get(instance_id)
        plan = plan_revert(inst, domain="example.com", zone=self.zone, instances=self.instances, policy=self.policy)
        self._commit(plan)
        self.instances = [i for i in self.instances if i.instance_id != instance_id]
        return plan

    def get(self, instance_id: str) -> AppliedInstance:
        return next(i for i in self.instances if i.instance_id == instance_id)

    def owned(self, instance_id: str, rtype: str) -> list[OwnedRecord]:
        return [o for o in self.get(instance_id).records if o.record.type == rtype]


WWW_A = R("www", "A", "192.0.2.1")


# -- 1. identical records already in the zone are adopted, not taken over -------------------------------------

def test_an_identical_existing_record_is_adopted_and_survives_revert() -> None:
    site = Site([*BASE, WWW_A])
    plan = site.apply(tmpl({"type": "A", "host": "www", "pointsTo": "192.0.2.1", "ttl": 3600}), new_id="t")
    assert plan.is_noop and not plan.has_conflicts
    assert [(o.record, o.preexisting) for o in site.owned("t", "A")] == [(WWW_A, True)]
    rev = site.revert("t")
    assert rev.is_noop
    assert site.zone == sorted([*BASE, WWW_A])


def test_a_ttl_only_difference_keeps_the_existing_record_and_its_ttl() -> None:
    original = [*BASE, R("www", "A", "192.0.2.1", ttl=600)]
    site = Site(list(original))
    plan = site.apply(tmpl({"type": "A", "host": "www", "pointsTo": "192.0.2.1", "ttl": 3600}), new_id="t")
    assert plan.is_noop and not plan.has_conflicts
    assert [(o.record.ttl, o.preexisting) for o in site.owned("t", "A")] == [(600, True)]
    site.revert("t")
    assert site.zone == sorted(original)


def test_apply_then_revert_restores_the_zone_byte_for_byte_with_adopted_and_new_records() -> None:
    original = [*BASE, WWW_A, R("@", "TXT", '"hello"', ttl=300), R("@", "MX", "10 mx.example.net.")]
    site = Site(list(original))
    t = tmpl({"type": "A", "host": "www", "pointsTo": "192.0.2.1"},
             {"type": "TXT", "host": "@", "data": "hello", "ttl": 3600},
             {"type": "TXT", "host": "@", "data": "new"},
             {"type": "CNAME", "host": "shop", "pointsTo": "shops.example.net"})
    plan = site.apply(t, new_id="t")
    assert not plan.has_conflicts
    assert set(plan.to_add) == {R("@", "TXT", '"new"'), R("shop", "CNAME", "shops.example.net.")}
    site.revert("t")
    assert site.zone == sorted(original)


def test_reapplying_keeps_the_adopted_flag_and_changes_nothing() -> None:
    site = Site([*BASE, WWW_A])
    t = tmpl({"type": "A", "host": "www", "pointsTo": "%ip%", "ttl": 60})
    site.apply(t, new_id="t", params={"ip": "192.0.2.1"})
    again = site.apply(t, new_id="other", params={"ip": "192.0.2.1"})
    assert again.is_noop and again.new_instance is not None and again.new_instance.instance_id == "t"
    assert [o.preexisting for o in site.owned("t", "A")] == [True]
    site.revert("t")
    assert site.zone == sorted([*BASE, WWW_A])


def test_an_update_replaces_an_adopted_record_without_a_conflict() -> None:
    # A dynamic-DNS client whose first address happened to match the user's record must still be able to
    # move it later without force: the record is the instance's now.
    site = Site([*BASE, WWW_A])
    t = tmpl({"type": "A", "host": "www", "pointsTo": "%ip%", "ttl": 3600})
    site.apply(t, new_id="t", params={"ip": "192.0.2.1"})
    moved = site.apply(t, new_id="x", params={"ip": "192.0.2.2"})
    assert not moved.has_conflicts
    assert moved.to_delete == (WWW_A,) and moved.to_add == (R("www", "A", "192.0.2.2"),)
    assert [(o.record, o.preexisting) for o in site.owned("t", "A")] == [(R("www", "A", "192.0.2.2"), False)]


def test_an_update_no_longer_writing_an_adopted_record_leaves_it_to_the_user() -> None:
    original = [*BASE, R("@", "TXT", '"verify=1"')]
    site = Site(list(original))
    t = tmpl({"type": "TXT", "host": "@", "data": "verify=%v%"})
    site.apply(t, new_id="t", params={"v": "1"})
    second = site.apply(t, new_id="t", params={"v": "2"})
    assert second.to_delete == () and second.to_add == (R("@", "TXT", '"verify=2"'),)
    site.revert("t")
    assert site.zone == sorted(original)


def test_removing_an_instance_leaves_the_records_it_adopted() -> None:
    user_txt = R("@", "TXT", '"user"')
    site = Site([*BASE, user_txt])
    site.apply(tmpl({"type": "TXT", "host": "@", "data": "user"},
                    {"type": "A", "host": "www", "pointsTo": "192.0.2.1"}, service_id="one"), new_id="one")
    plan = site.apply(tmpl({"type": "CNAME", "host": "www", "pointsTo": "x.example.net"}, service_id="two"),
                      new_id="two")
    assert [i.instance_id for i in plan.removed_instances] == ["one"]
    assert plan.to_delete == (WWW_A,)
    assert user_txt in site.zone


def test_a_conflict_with_an_adopted_essential_record_still_removes_its_instance() -> None:
    site = Site([*BASE, WWW_A])
    site.apply(tmpl({"type": "A", "host": "www", "pointsTo": "192.0.2.1"},
                    {"type": "TXT", "host": "www", "data": "one"}, service_id="one"), new_id="one")
    plan = site.apply(tmpl({"type": "CNAME", "host": "www", "pointsTo": "x.example.net"}, service_id="two"),
                      new_id="two")
    assert [i.instance_id for i in plan.removed_instances] == ["one"]
    assert {c.instance_id for c in plan.conflicts} == {"one"}
    assert set(plan.to_delete) == {WWW_A, R("www", "TXT", '"one"')}


def test_a_record_another_template_wrote_is_shared_not_adopted() -> None:
    txt = {"type": "TXT", "host": "@", "data": "shared"}
    for order in (("one", "two"), ("two", "one")):
        site = Site(list(BASE))
        site.apply(tmpl(txt, service_id="one"), new_id="one")
        site.apply(tmpl(txt, service_id="two"), new_id="two")
        assert [o.preexisting for o in site.owned("two", "TXT")] == [False]
        site.revert(order[0])
        assert R("@", "TXT", '"shared"') in site.zone
        site.revert(order[1])
        assert site.zone == sorted(BASE), order


def test_a_user_record_adopted_by_two_templates_survives_both_reverts() -> None:
    original = [*BASE, R("@", "TXT", '"shared"')]
    txt = {"type": "TXT", "host": "@", "data": "shared"}
    for order in (("one", "two"), ("two", "one")):
        site = Site(list(original))
        site.apply(tmpl(txt, service_id="one"), new_id="one")
        site.apply(tmpl(txt, service_id="two"), new_id="two")
        assert [o.preexisting for o in site.owned("two", "TXT")] == [True]
        site.revert(order[0])
        site.revert(order[1])
        assert site.zone == sorted(original), order


def test_an_identical_record_written_back_after_a_conflict_is_still_adopted() -> None:
    # Prefix mode would remove the user's TXT, but the template writes that very record too.
    original = [*BASE, R("@", "TXT", '"site=1"')]
    site = Site(list(original))
    plan = site.apply(tmpl({"type": "TXT", "host": "@", "data": "site=1"},
                           {"type": "TXT", "host": "@", "data": "site=2", "txtConflictMatchingMode": "Prefix",
                            "txtConflictMatchingPrefix": "site="}), new_id="t")
    assert plan.conflicts == () and plan.to_delete == ()
    site.revert("t")
    assert site.zone == sorted(original)


# -- 2. SPF records shared by several instances -----------------------------------------------------------------

A_SPF = tmpl({"type": "SPFM", "host": "@", "spfRules": "include:a.example"}, service_id="a")
B_SPF = tmpl({"type": "SPFM", "host": "@", "spfRules": "include:b.example ip4:192.0.2.0/24"}, service_id="b")


def test_spf_apply_a_apply_b_revert_both_in_either_order_restores_the_zone() -> None:
    user_spf = [R("@", "TXT", '"v=spf1 mx -all"', ttl=600)]
    for start in (list(BASE), [*BASE, *user_spf]):
        for order in (("a", "b"), ("b", "a")):
            site = Site(list(start))
            site.apply(A_SPF, new_id="a")
            site.apply(B_SPF, new_id="b")
            # a's stored copy of the record is stale now: b rewrote it.
            stale = [o.record for o in site.owned("a", "TXT")]
            assert stale and stale[0] not in site.zone
            site.revert(order[0])
            remaining = "b.example" if order[0] == "a" else "a.example"
            assert any(remaining in s for s in spf_of(site.zone)), order
            assert not any(f"{order[0]}.example" in s for s in spf_of(site.zone)), order
            site.revert(order[1])
            assert site.zone == sorted(start), (start, order)


def test_spf_revert_removes_exactly_its_terms_from_the_record_as_it_is_now() -> None:
    site = Site(list(BASE))
    site.apply(A_SPF, new_id="a")
    site.apply(B_SPF, new_id="b")
    # The user edits the record after both merges: adds a term and tightens the qualifier.
    site.zone = [r for r in site.zone if r.type != "TXT"] + [
        R("@", "TXT", '"v=spf1 include:a.example mx include:b.example ip4:192.0.2.0/24 -all"')]
    site.revert("a")
    assert spf_of(site.zone) == ["v=spf1 mx include:b.example ip4:192.0.2.0/24 -all"]
    site.revert("b")
    assert spf_of(site.zone) == ["v=spf1 mx -all"]


def test_a_users_spf_record_without_terms_is_kept_after_revert() -> None:
    original = [*BASE, R("@", "TXT", '"v=spf1 ~all"')]
    for order in (("a",), ("a", "b"), ("b", "a")):
        site = Site(list(original))
        for iid in sorted(order):
            site.apply(A_SPF if iid == "a" else B_SPF, new_id=iid)
        for iid in order:
            site.revert(iid)
        assert site.zone == sorted(original), order


def test_a_merged_spf_record_left_without_terms_is_deleted_whatever_its_qualifier() -> None:
    site = Site(list(BASE))
    site.apply(A_SPF, new_id="a")
    site.apply(B_SPF, new_id="b")
    assert [o.preexisting for o in site.owned("b", "TXT")] == [False]
    # The provider's qualifier changed since (or the user tightened it): the record is still the templates'.
    site.policy = Policy(spf_qualifier="-")
    site.zone = [r for r in site.zone if r.type != "TXT"] + [
        R("@", "TXT", '"v=spf1 include:a.example include:b.example ip4:192.0.2.0/24 ?all"')]
    site.revert("b")
    site.revert("a")
    assert site.zone == sorted(BASE)


def test_a_merged_spf_record_outlives_the_instance_that_created_it() -> None:
    site = Site(list(BASE))
    site.apply(A_SPF, new_id="a")
    site.revert("a")
    assert site.zone == sorted(BASE)
    site.apply(A_SPF, new_id="a")
    site.apply(B_SPF, new_id="b")
    site.revert("a")
    assert spf_of(site.zone) == ["v=spf1 include:b.example ip4:192.0.2.0/24 ~all"]
    # A third template merging now still knows the record was the templates' own.
    site.apply(tmpl({"type": "SPFM", "host": "@", "spfRules": "mx"}, service_id="c"), new_id="c")
    assert [o.preexisting for o in site.owned("c", "TXT")] == [False]
    site.revert("b")
    site.revert("c")
    assert site.zone == sorted(BASE)


# -- the property itself: apply(s) then revert(s) on a zone without conflicts is the identity ------------------

TEMPLATE_RECORDS = st.sampled_from([
    {"type": "A", "host": "www", "pointsTo": "192.0.2.1", "ttl": 3600},
    {"type": "A", "host": "www", "pointsTo": "192.0.2.2", "ttl": 600},
    {"type": "TXT", "host": "@", "data": "v1", "ttl": 3600},
    {"type": "TXT", "host": "@", "data": "v2", "ttl": 300},
    {"type": "TXT", "host": "www", "data": "x", "ttl": 3600},
    {"type": "MX", "host": "@", "pointsTo": "mx1.example.net", "priority": 10, "ttl": 3600},
    {"type": "CNAME", "host": "shop", "pointsTo": "a.example.net", "ttl": 3600},
    {"type": "SPFM", "host": "@", "spfRules": "include:a.example"},
    {"type": "SPFM", "host": "@", "spfRules": "include:b.example mx"},
    {"type": "SPFM", "host": "@", "spfRules": "mx"},
])
ZONE_RECORDS = st.sampled_from([
    R("www", "A", "192.0.2.1"), R("www", "A", "192.0.2.1", ttl=600), R("@", "TXT", '"v1"', ttl=60),
    R("@", "MX", "10 mx1.example.net."), R("shop", "CNAME", "a.example.net.", ttl=900),
    R("@", "TXT", '"v=spf1 mx ~all"'), R("@", "TXT", '"v=spf1 ~all"', ttl=600),
])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ZONE_RECORDS, unique_by=lambda r: r.key(), max_size=5),
       st.lists(TEMPLATE_RECORDS, min_size=1, max_size=4, unique_by=str),
       st.lists(TEMPLATE_RECORDS, min_size=1, max_size=4, unique_by=str), st.booleans())
def test_applies_then_reverts_without_conflicts_restore_the_zone(
        extra: list[Record], first: list[dict], second: list[dict], first_out_first: bool) -> None:
    original = sorted([*BASE, *extra])
    site = Site(list(original))
    assume(not site.apply(tmpl(*first, service_id="one"), new_id="one").has_conflicts)
    one_only = Site(list(original))
    one_only.apply(tmpl(*first, service_id="one"), new_id="one")
    one_only.revert("one")
    assert one_only.zone == original
    assume(not site.apply(tmpl(*second, service_id="two"), new_id="two").has_conflicts)
    for iid in (("one", "two") if first_out_first else ("two", "one")):
        site.revert(iid)
    assert site.zone == original


def test_an_update_no_longer_writing_a_shared_record_leaves_it_to_the_other_instance() -> None:
    site = Site(list(BASE))
    site.apply(tmpl({"type": "TXT", "host": "@", "data": "shared"}, service_id="one"), new_id="one")
    t = tmpl({"type": "TXT", "host": "@", "data": "%v%"}, service_id="two")
    site.apply(t, new_id="two", params={"v": "shared"})
    update = site.apply(t, new_id="two", params={"v": "mine"})
    assert update.to_delete == () and update.to_add == (R("@", "TXT", '"mine"'),)
    assert R("@", "TXT", '"shared"') in site.zone
    site.revert("one")
    site.revert("two")
    assert site.zone == sorted(BASE)


def test_an_update_conflicting_with_a_shared_record_is_a_conflict_with_the_other_instance() -> None:
    site = Site(list(BASE))
    site.apply(tmpl({"type": "A", "host": "www", "pointsTo": "192.0.2.1"}, service_id="one"), new_id="one")
    t = tmpl({"type": "A", "host": "www", "pointsTo": "%ip%"}, service_id="two")
    site.apply(t, new_id="two", params={"ip": "192.0.2.1"})
    update = site.apply(t, new_id="two", params={"ip": "192.0.2.2"})
    assert [(c.record, c.instance_id) for c in update.conflicts] == [(WWW_A, "one")]
    assert [i.instance_id for i in update.removed_instances] == ["one"]
    assert [r for r in site.zone if r.type == "A"] == [R("www", "A", "192.0.2.2")]
