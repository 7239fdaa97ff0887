"""Planning work versus zone size, counted in operations (Python and builtin calls), never in seconds.

Given only the records ``names_needed`` covers (and the instances owning them), a plan must do the same
work on a zone of 1,000 records as on one of 20,000; given the whole zone it may grow, but linearly —
never quadratically, as the reference engine does when a plan removes large template instances.
The workloads are the engine benchmark's (``benchmarks/workloads.py``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import pytest

from benchmarks import workloads as w
from benchmarks.convert import ScopedStore, to_instances, to_record
from django_domainconnect.engine.template import parse_template
from django_domainconnect.engine.types import AppliedInstance, Record

plan_mod = pytest.importorskip("django_domainconnect.engine.plan", reason="engine/plan.py has not landed yet")


def count_ops(fn: Callable[[], Any]) -> tuple[int, Any]:
    """Number of function calls (Python and C) made while ``fn`` runs: a machine-independent work measure."""
    calls = 0

    def profiler(_frame: Any, event: str, _arg: Any) -> None:
        nonlocal calls
        if event in ("call", "c_call"):
            calls += 1

    previous = sys.getprofile()
    sys.setprofile(profiler)
    try:
        result = fn()
    finally:
        sys.setprofile(previous)
    return calls, result


def inputs(tpl_name: str, shape: str, size: int) -> dict[str, Any]:
    recs = w.zone(size, shape)
    records = [to_record(r) for r in recs]
    instances = to_instances(recs, records)
    template = parse_template(w.TEMPLATES[tpl_name]())
    args = {"domain": w.DOMAIN, "host": "", "params": dict(w.PARAMS)}
    scope = plan_mod.names_needed(template, **args)
    scoped_records, scoped_instances = ScopedStore(records, instances).select(scope)
    return {"template": template, "args": args, "records": records, "instances": instances, "scope": scope,
            "scoped_records": scoped_records, "scoped_instances": scoped_instances}


def plan(template: Any, args: dict[str, Any], records: list[Record], instances: list[AppliedInstance]) -> Any:
    return plan_mod.plan_apply(template, zone=records, instances=tuple(instances), new_instance_id="bench", **args)


def scoped_ops(data: dict[str, Any]) -> tuple[int, Any]:
    def run() -> Any:
        plan_mod.names_needed(data["template"], **data["args"])
        return plan(data["template"], data["args"], data["scoped_records"], data["scoped_instances"])

    return count_ops(run)


def whole_ops(data: dict[str, Any]) -> tuple[int, Any]:
    return count_ops(lambda: plan(data["template"], data["args"], data["records"], data["instances"]))


FIXED_SCOPE = [("hosting5", "plain"), ("big50", "plain"), ("hosting5", "instances"), ("big50", "instances")]


@pytest.mark.parametrize(("tpl_name", "shape"), FIXED_SCOPE)
def test_scoped_plan_does_the_same_work_on_a_20x_larger_zone(tpl_name: str, shape: str) -> None:
    small, large = inputs(tpl_name, shape, 1_000), inputs(tpl_name, shape, 20_000)
    # The workloads put the extra records of the large zone on names no plan touches.
    assert len(small["scoped_records"]) == len(large["scoped_records"]) > 0
    ops_small, plan_small = scoped_ops(small)
    ops_large, plan_large = scoped_ops(large)
    assert plan_small.fingerprint() == plan_large.fingerprint()
    # Same input sets; only set/dict iteration order may differ between the two runs.
    assert ops_large <= ops_small * 1.10, (ops_small, ops_large)


@pytest.mark.parametrize(("tpl_name", "shape"), [*FIXED_SCOPE, ("delegate", "ns")])
def test_scoped_records_give_the_same_plan_as_the_whole_zone(tpl_name: str, shape: str) -> None:
    data = inputs(tpl_name, shape, 2_000)
    assert len(data["scoped_records"]) < len(data["records"])
    whole = plan(data["template"], data["args"], data["records"], data["instances"])
    scoped = plan(data["template"], data["args"], data["scoped_records"], data["scoped_instances"])
    assert sorted(scoped.to_add) == sorted(whole.to_add)
    assert sorted(scoped.to_delete) == sorted(whole.to_delete)
    assert {i.instance_id for i in scoped.removed_instances} == {i.instance_id for i in whole.removed_instances}


def test_ns_scope_covers_the_delegated_subtree() -> None:
    data = inputs("delegate", "ns", 1_000)
    scope = data["scope"]
    assert scope.covers(f"sub.{w.DOMAIN}.") and scope.covers(f"www.x3.sub.{w.DOMAIN}.")
    assert not scope.covers(f"h1.{w.DOMAIN}.")
    # Every record below the delegation (about half this zone) is removed, with the instances owning them.
    the_plan = plan(data["template"], data["args"], data["scoped_records"], data["scoped_instances"])
    below = [r for r in data["records"] if r.name.endswith(f".sub.{w.DOMAIN}.")]
    assert len(below) >= 400
    assert {r.key() for r in below} <= {r.key() for r in the_plan.to_delete}


@pytest.mark.parametrize(("tpl_name", "shape"), [("big50", "plain"), ("big50", "instances"), ("delegate", "ns")])
def test_whole_zone_work_grows_at_most_linearly(tpl_name: str, shape: str) -> None:
    # 8x the records: linear work is about 8x the operations, quadratic (the reference engine on
    # large instances and on NS over owned records) would be about 64x.
    ops_small, _ = whole_ops(inputs(tpl_name, shape, 1_000))
    ops_large, _ = whole_ops(inputs(tpl_name, shape, 8_000))
    assert ops_large <= ops_small * 8 * 1.5, (ops_small, ops_large, ops_large / ops_small)


def test_ns_plan_work_is_linear_in_the_subtree_it_removes() -> None:
    ops_small, plan_small = scoped_ops(inputs("delegate", "ns", 1_000))
    ops_large, plan_large = scoped_ops(inputs("delegate", "ns", 8_000))
    assert len(plan_large.to_delete) >= 7 * len(plan_small.to_delete)
    assert ops_large <= ops_small * 8 * 1.5, (ops_small, ops_large, ops_large / ops_small)
