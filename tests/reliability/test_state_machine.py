"""Zone state machine over the service layer (SECURITY.md fuzz target 9), memory backend.

Rules: apply (force or not), idempotent re-apply, revert (by service or by multiInstance instance), manual
zone edits outside Domain Connect, and applies with a failure injected at the k-th record write; over
templates with CNAME, TXT Prefix matching, two SPFM merges, multiInstance and essential OnApply records.

Invariants after every step: CNAME exclusivity; no record outside the zone; every record the state says an
instance owns is in the zone (unless a manual edit removed it); a failed apply changes nothing; an apply
followed by its revert on a conflict-free zone is the identity; and the audit log, replayed with the
engine (manual edits applied alongside), gives the current zone and state.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from django_domainconnect import services
from django_domainconnect.conf import dc_settings
from django_domainconnect.engine.types import Record
from django_domainconnect.exceptions import BackendError, ConflictsFound, NotApplied
from django_domainconnect.models import AppliedRecord, AppliedTemplate, AuditEvent
from django_domainconnect.testing.replay import instance_summary, replay

from .conftest import BASE_RECORDS, BODIES, DOMAIN, PROVIDER, params_for
from .conftest import state_summary as db_state

pytestmark = pytest.mark.django_db

ORIGIN = DOMAIN + "."
SIDS = st.sampled_from(sorted(BODIES))
NS = st.integers(0, 5)

# Manual edits a customer could make in the registrar's panel; each keeps the zone valid DNS.
EDITS = {
    "retarget www": lambda rs: [r for r in rs if r.name != "www." + ORIGIN] + [Record("www." + ORIGIN, "A", 60,
                                                                                     "198.51.100.1")],
    "drop verify": lambda rs: [r for r in rs if not (r.type == "TXT" and "verify=" in r.data)],
    "rewrite spf": lambda rs: [r for r in rs if not (r.type == "TXT" and "v=spf1" in r.data)]
    + [Record(ORIGIN, "TXT", 3600, '"v=spf1 a mx -all"')],
    "add unrelated": lambda rs: [*rs, Record("shop." + ORIGIN, "A", 3600, "203.0.113.5")],
    "drop multi": lambda rs: [r for r in rs if not r.name.startswith("_multi.")],
}


def cname_exclusive(records: list[Record]) -> bool:
    by_name: dict[str, set[str]] = {}
    for r in records:
        by_name.setdefault(r.name, set()).add(r.type)
    return all(types == {"CNAME"} or "CNAME" not in types for types in by_name.values())


def test_zone_state_machine(memory_backend, owner, templates, engine_templates):
    policy = dc_settings.policy()

    class ZoneMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            memory_backend.reset()
            memory_backend.add_zone(DOMAIN, owners=[owner.pk], records=BASE_RECORDS)
            AppliedTemplate.objects.all().delete()
            self.first_pk = (AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
            self.last_pk = self.first_pk - 1
            self.model = replay([], domain=DOMAIN, initial=BASE_RECORDS, templates=engine_templates, policy=policy)
            self.manually_removed: set[tuple[str, str, str]] = set()
            self.last_params: dict[str, dict[str, str]] = {}

        # -- helpers ------------------------------------------------------------------------------------

        def zone(self) -> list[Record]:
            return memory_backend.records(DOMAIN)

        def snapshot(self) -> tuple[Any, ...]:
            return self.zone(), db_state(), AuditEvent.objects.filter(outcome="success").count()

        def apply(self, sid: str, params: dict[str, str], **kwargs: Any) -> Any:
            outcome = services.apply(user=owner, domain=DOMAIN, template=templates[sid], params=params, flow="sync",
                                     **kwargs)
            self.last_params[sid] = params
            return outcome

        # -- rules --------------------------------------------------------------------------------------

        @rule(sid=SIDS, n=NS, force=st.booleans())
        def apply_template(self, sid: str, n: int, force: bool) -> None:
            before = self.snapshot()
            try:
                self.apply(sid, params_for(sid, n), force=force)
            except ConflictsFound:
                assert not force
                assert self.snapshot() == before
                return
            if sid != "multi":
                assert AppliedTemplate.objects.filter(service_id=sid).count() == 1  # a re-apply is an update

        @precondition(lambda self: any(s != "multi" for s in self.last_params))
        @rule(data=st.data())
        def reapply_is_idempotent(self, data: Any) -> None:
            applied = set(AppliedTemplate.objects.exclude(service_id="multi").values_list("service_id", flat=True))
            candidates = sorted(applied & set(self.last_params))
            if not candidates:
                return
            sid = data.draw(st.sampled_from(candidates))
            self.apply(sid, self.last_params[sid])  # settle (a manual edit may have changed its records)
            before = self.snapshot()
            outcome = self.apply(sid, self.last_params[sid], force=False)
            assert outcome.plan.is_noop, (outcome.plan.to_add, outcome.plan.to_delete)
            assert self.snapshot()[:2] == before[:2]

        @rule(sid=SIDS.filter(lambda s: s != "multi"))
        def revert(self, sid: str) -> None:
            try:
                services.revert(user=owner, domain=DOMAIN, provider_id=PROVIDER, service_id=sid, flow="sync")
            except NotApplied:
                assert not AppliedTemplate.objects.filter(service_id=sid).exists()
                return
            assert not AppliedTemplate.objects.filter(service_id=sid).exists()

        @rule(data=st.data())
        def revert_one_instance(self, data: Any) -> None:
            ids = sorted(AppliedTemplate.objects.filter(service_id="multi").values_list("instance_id", flat=True))
            if not ids:
                return
            instance_id = data.draw(st.sampled_from(ids))
            services.revert(user=owner, domain=DOMAIN, provider_id=PROVIDER, service_id="multi",
                            instance_id=instance_id, flow="sync")
            assert not AppliedTemplate.objects.filter(instance_id=instance_id).exists()
            assert AppliedTemplate.objects.filter(service_id="multi").count() == len(ids) - 1

        @rule(sid=SIDS, n=NS, k=st.integers(1, 4))
        def apply_with_failure(self, sid: str, n: int, k: int) -> None:
            before = self.snapshot()
            failures = AuditEvent.objects.filter(outcome="failure").count()
            memory_backend.fail_on_write(k)
            try:
                self.apply(sid, params_for(sid, n))
            except BackendError:
                assert self.snapshot() == before
                assert AuditEvent.objects.filter(outcome="failure").count() == failures + 1
            finally:
                memory_backend.fail_on_write(0)

        @rule(sid=SIDS, n=NS)
        def apply_then_revert_is_identity_on_a_conflict_free_zone(self, sid: str, n: int) -> None:
            if AppliedTemplate.objects.filter(service_id=sid).exists():
                return
            params = params_for(sid, n)
            result = services.plan(user=owner, domain=DOMAIN, template=templates[sid], params=params)
            existing = {r.key() for r in self.zone()}
            owned = {o.record.key() for o in result.plan.new_instance.records}
            if result.plan.has_conflicts or result.plan.to_delete or owned & existing:
                return  # identity is promised only where the apply purely adds
            before = self.snapshot()[:2]
            outcome = self.apply(sid, params, force=False)
            services.revert(user=owner, domain=DOMAIN, provider_id=PROVIDER, service_id=sid, flow="sync",
                            instance_id=outcome.applied.instance_id if sid == "multi" else None)
            assert self.snapshot()[:2] == before

        @rule(edit=st.sampled_from(sorted(EDITS)))
        def manual_edit(self, edit: str) -> None:
            self.sync_model()
            before = set(self.zone())
            after = EDITS[edit](sorted(before))
            memory_backend.set_records(DOMAIN, after)
            self.manually_removed |= {r.key() for r in before - set(after)}
            self.model.zone = {r.key(): r for r in after}  # the replay sees the same edit

        # -- invariants ---------------------------------------------------------------------------------

        def sync_model(self) -> None:
            events = list(AuditEvent.objects.filter(pk__gt=self.last_pk, domain=DOMAIN).order_by("pk"))
            if events:
                self.model = replay(events, domain=DOMAIN, templates=engine_templates, policy=policy,
                                    start=self.model)
                self.last_pk = events[-1].pk

        @invariant()
        def zone_is_valid(self) -> None:
            records = self.zone()
            assert cname_exclusive(records), records
            assert all(r.name == ORIGIN or r.name.endswith("." + ORIGIN) for r in records)
            assert len({r.key() for r in records}) == len(records)

        @invariant()
        def state_is_in_the_zone(self) -> None:
            zone = {r.key() for r in self.zone()}
            for r in AppliedRecord.objects.filter(applied__domain=DOMAIN, spf_rules=""):
                key = (r.name, r.type, r.data)
                assert key in zone or key in self.manually_removed, f"state owns {key}, the zone does not hold it"

        @invariant()
        def audit_log_replays_to_the_zone_and_state(self) -> None:
            self.sync_model()
            assert self.model.records() == self.zone()
            assert instance_summary(self.model.instances) == db_state()

    run_state_machine_as_test(ZoneMachine, settings=settings(
        max_examples=30, stateful_step_count=15, deadline=None, database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                               HealthCheck.filter_too_much]))
