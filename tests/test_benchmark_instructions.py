"""``benchmarks/instructions.py`` without valgrind: the measured child runs, and callgrind's totals are read."""

from __future__ import annotations

from typing import Any

import pytest

from benchmarks import instructions
from benchmarks import workloads as w


def test_per_plan_events_reads_callgrind_totals() -> None:
    out = ("version: 1\ncreator: callgrind-3.19.0\n"
           "events: Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw Bc Bcm Bi Bim\n"
           "summary: 1 2 3 4 5 6 7 8 9 10 11 12 13\n"
           "fn=(1) main\n0 5\n"
           "totals: 2000 0 0 400 300 100 2 4 6 0 60 0 40\n")
    assert instructions.per_plan_events(out, 100) == {
        "instructions": 20.0, "I1 misses": 4.0, "D1 misses": 4.0, "LL misses": 0.12, "mispredicted branches": 1.0,
    }


@pytest.mark.parametrize("cold", [False, True])
def test_the_child_plans_the_workload(monkeypatch: pytest.MonkeyPatch, cold: bool) -> None:
    """The child plans ``plans`` times, each right after a collection with ``cold`` (our side: the reference
    needs its own virtualenv)."""
    from django_domainconnect.engine import plan as plan_mod

    plans: list[Any] = []
    collections: list[int] = []
    real_plan, real_collect = plan_mod.plan_apply, instructions.gc.collect

    def counting_plan(*args: Any, **kwargs: Any) -> Any:
        plans.append(result := real_plan(*args, **kwargs))
        collections.append(len(collected))
        return result

    collected: list[int] = []
    monkeypatch.setattr(plan_mod, "plan_apply", counting_plan)
    monkeypatch.setattr(instructions.gc, "collect", lambda: collected.append(1) or real_collect())
    scenario = next(i for i, s in enumerate(w.SCENARIOS) if s[:2] == ("delegate", "ns"))
    try:
        instructions.child("ours", scenario, 10, 3, 3, cold=cold)
    finally:
        instructions.gc.enable()  # the warm child turns the collector off for the count
    assert len(plans) == 4  # a first plan outside the count, then three
    assert all(len(p.to_add) == 2 and len(p.to_delete) == 3 for p in plans)
    assert collections == ([0, 1, 2, 3] if cold else [0, 0, 0, 0])
