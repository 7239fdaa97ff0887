"""Replay the audit log serially with the engine, to prove that concurrent writers left the zone as
*some* serial order of the same operations would.

The success rows of ``apply``/``revert`` are written under the zone lock, so their primary keys follow the
order in which writers held it. Replaying them one by one on the zone as it was before, with the engine
alone, must give (a) at each step the same records before and after as the row recorded (no writer
planned on a stale zone: no lost update) and (b) at the end the zone and the applied instances the
system holds. Pure engine: no Django import, so a host can use it on any audit export.

Limits: ``groupId`` applies cannot be replayed (the audit row does not store the groups).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django_domainconnect.engine.plan import plan_apply, plan_revert
from django_domainconnect.engine.types import AppliedInstance, Plan, Policy, Record, Template

Key = tuple[str, str, str]


class ReplayMismatch(AssertionError):
    """The log does not replay: the message names the row and what differed."""


@dataclass
class ReplayState:
    domain: str
    zone: dict[Key, Record] = field(default_factory=dict)
    instances: list[AppliedInstance] = field(default_factory=list)
    steps: int = 0
    # (providerId, serviceId, host) of the applied instances before the first step and after each one.
    history: list[frozenset[tuple[str, str, str]]] = field(default_factory=list)

    def applied(self) -> frozenset[tuple[str, str, str]]:
        return frozenset((i.provider_id, i.service_id, i.host) for i in self.instances)

    def records(self) -> list[Record]:
        return sorted(self.zone.values())

    def apply_plan(self, the_plan: Plan) -> None:
        for record in the_plan.to_delete:
            if record.key() not in self.zone:
                raise ReplayMismatch(f"plan deletes {record} which the replayed zone does not hold")
            del self.zone[record.key()]
        for record in the_plan.to_add:
            self.zone[record.key()] = record


def instance_summary(instances: Iterable[AppliedInstance]) -> set[tuple[Any, ...]]:
    """Comparable shape of applied instances (what ``AppliedTemplate``/``AppliedRecord`` rows hold)."""
    return {
        (i.instance_id, i.provider_id, i.service_id, i.host,
         frozenset((o.record.name, o.record.type, o.record.ttl, o.record.data, o.essential, o.group_id or "",
                    o.spf_rules or "") for o in i.records))
        for i in instances
    }


def replay(events: Iterable[Any], *, domain: str, initial: Iterable[Record] = (),
           templates: Mapping[tuple[str, str], Template], policy: Policy | None = None,
           start: ReplayState | None = None) -> ReplayState:
    """Replay ``events`` (objects with the ``AuditEvent`` fields, in lock order) on ``initial``, or
    continue ``start`` (a state from an earlier call, perhaps edited by hand as the zone was).

    Only ``outcome == "success"`` rows with ``action`` ``apply``/``revert`` change anything; others are
    skipped. Raises ``ReplayMismatch`` at the first row whose recorded before/after differs.
    """
    if start is None:
        state = ReplayState(domain=domain, zone={r.key(): r for r in initial})
        state.history.append(state.applied())
    else:
        state = start
    policy = policy or Policy()
    for event in events:
        if getattr(event, "outcome", "") != "success" or event.action not in ("apply", "revert"):
            continue
        before = dict(state.zone)
        if event.action == "apply":
            _replay_apply(state, event, templates, policy)
        else:
            _replay_revert(state, event, policy)
        state.steps += 1
        state.history.append(state.applied())
        _check_images(event, before, state.zone)
    return state


def _replay_apply(state: ReplayState, event: Any, templates: Mapping[tuple[str, str], Template],
                  policy: Policy) -> None:
    template = templates.get((event.provider_id, event.service_id))
    if template is None:
        raise ReplayMismatch(f"audit row {event.pk}: no template {event.provider_id}/{event.service_id}")
    # The row stores the resulting instance id: asking for it replaces that instance of a multiInstance
    # template, and names the new one otherwise (a non-multiInstance update keeps its old id anyway).
    the_plan = plan_apply(template, domain=state.domain, host=event.host, params=dict(event.params or {}),
                          zone=list(state.zone.values()), instances=state.instances,
                          instance_id=event.instance_id or None, new_instance_id=event.instance_id or "replayed",
                          policy=policy)
    state.apply_plan(the_plan)
    gone = {i.instance_id for i in the_plan.removed_instances}
    updated = {i.instance_id: i for i in the_plan.updated_instances}
    new = the_plan.new_instance
    kept = [updated.get(i.instance_id, i) for i in state.instances
            if i.instance_id not in gone and (new is None or i.instance_id != new.instance_id)]
    state.instances = kept + ([new] if new is not None else [])


def _replay_revert(state: ReplayState, event: Any, policy: Policy) -> None:
    ids = [i for i in (event.instance_id or "").split(",") if i]
    by_id = {i.instance_id: i for i in state.instances}
    missing = [i for i in ids if i not in by_id]
    if not ids or missing:
        raise ReplayMismatch(f"audit row {event.pk}: reverts {missing or ids} which the replay does not hold")
    for instance_id in ids:
        target = next((i for i in state.instances if i.instance_id == instance_id), None)
        if target is None:  # removed by an earlier revert of this same row
            continue
        the_plan = plan_revert(target, domain=state.domain, zone=list(state.zone.values()),
                               instances=state.instances, policy=policy)
        state.apply_plan(the_plan)
        gone = {i.instance_id for i in the_plan.removed_instances} | {instance_id}
        updated = {i.instance_id: i for i in the_plan.updated_instances}
        state.instances = [updated.get(i.instance_id, i) for i in state.instances if i.instance_id not in gone]


def _check_images(event: Any, before: dict[Key, Record], after: dict[Key, Record]) -> None:
    """The row's before/after images (scoped to the names the writer read) match the replay's."""
    logged_before = {_record(d) for d in event.records_before or ()}
    logged_after = {_record(d) for d in event.records_after or ()}
    names = {r.name for r in logged_before | logged_after}
    replay_before = {r for r in before.values() if r.name in names}
    replay_after = {r for r in after.values() if r.name in names}
    if logged_before != replay_before or logged_after != replay_after:
        raise ReplayMismatch(
            f"audit row {event.pk} ({event.action} {event.service_id}): the writer saw "
            f"{sorted(logged_before ^ replay_before)} differently before and "
            f"{sorted(logged_after ^ replay_after)} differently after than the serial replay"
        )


def _record(data: Mapping[str, Any]) -> Record:
    return Record(str(data["name"]), str(data["type"]), int(data["ttl"]), str(data["data"]))
