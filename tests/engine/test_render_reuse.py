"""``plan_apply`` right after ``names_needed`` reuses its render, and plans exactly as it would alone.

``names_needed`` renders admitting every type and apex CNAMEs; ``plan_apply`` may take that
render only when the arguments are the same and the strict policy would not refuse it. Every test compares
a plan made after ``names_needed`` with one made alone (or the errors both raise).
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from benchmarks import workloads as w
from benchmarks.convert import to_instances, to_record
from django_domainconnect.engine import plan as plan_mod
from django_domainconnect.engine.errors import EngineError
from django_domainconnect.engine.plan import names_needed, plan_apply
from django_domainconnect.engine.template import parse_template
from django_domainconnect.engine.types import Policy, Record
from tests.engine.test_render import make_template

D = "example.com"
ZONE = [Record("example.com.", "A", 3600, "198.51.100.1"), Record("www.example.com.", "A", 3600, "198.51.100.2"),
        Record("example.com.", "TXT", 3600, '"v=spf1 include:old.example ~all"')]
TEMPLATE = [
    {"type": "A", "host": "@", "pointsTo": "%ip%", "ttl": 600, "groupId": "web"},
    {"type": "CNAME", "host": "www", "pointsTo": "@", "ttl": "%ttl%", "groupId": "web"},
    {"type": "TXT", "host": "%sub%", "data": "token=%token%", "groupId": "verify"},
    {"type": "SPFM", "host": "@", "spfRules": "include:%spf%"},
    {"type": "MX", "host": "@", "pointsTo": "mx.%target%", "priority": 10},
]
PARAMS = {"ip": "192.0.2.1", "ttl": "900", "sub": "_v", "token": "abc", "spf": "spf.example.net",
          "target": "example.net"}


def outcome(fn: Any) -> Any:
    try:
        return ("plan", fn())
    except EngineError as exc:
        return ("error", type(exc), exc.message, exc.record_index, exc.field)


def plan_alone(template: Any, **kwargs: Any) -> Any:
    plan_mod._memo.entry = None
    return outcome(lambda: plan_apply(template, zone=ZONE, new_instance_id="n", **kwargs))


def plan_after_scope(template: Any, scope_kwargs: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    scope_args = {k: v for k, v in kwargs.items() if k in ("domain", "host", "params", "group_ids", "policy")}
    outcome(lambda: names_needed(template, **(scope_kwargs or scope_args)))  # may fail, as plan_apply will
    return outcome(lambda: plan_apply(template, zone=ZONE, new_instance_id="n", **kwargs))


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many times the template is rendered (by ``names_needed`` or ``plan_apply``)."""
    calls: list[int] = []
    real = plan_mod.render_normalized  # the planner renders through it alone

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(plan_mod, "render_normalized", counting)
    return calls


@pytest.mark.parametrize("kwargs", [
    {"domain": D, "params": PARAMS},
    {"domain": "Example.COM.", "params": PARAMS},
    {"domain": D, "host": "shop", "params": PARAMS},
    {"domain": D, "params": PARAMS, "group_ids": ["web"]},
    {"domain": D, "params": PARAMS, "group_ids": ["verify", "", "verify"]},
    {"domain": D, "params": PARAMS, "policy": Policy(min_ttl=1000, default_ttl=2000)},
    {"domain": D, "params": PARAMS, "policy": Policy(supported_types=frozenset({"A", "CNAME", "TXT", "SPFM"}))},
    {"domain": D, "params": {**PARAMS, "ip": "not-an-ip"}},
    {"domain": D, "params": {k: v for k, v in PARAMS.items() if k != "token"}},
    {"domain": D, "params": PARAMS, "group_ids": ["nope"]},
    {"domain": "bad domain", "params": PARAMS},
    {"domain": D, "params": {**PARAMS, "ttl": 900}},  # a value that is not a str: rendered as str() gives it
    {"domain": D, "params": PARAMS, "policy": Policy(supported_types=frozenset({"A", "CNAME", "TXT", "SPFM"})),
     "group_ids": ["web"]},  # the refused type (MX) is in no active record
])
def test_plan_after_names_needed_equals_plan_alone(kwargs: dict[str, Any]) -> None:
    template = make_template(TEMPLATE)
    assert plan_after_scope(template, **kwargs) == plan_alone(template, **kwargs)


def test_the_render_of_names_needed_is_reused_once(renders: list[int]) -> None:
    template = make_template(TEMPLATE)
    names_needed(template, domain=D, params=PARAMS)
    first = plan_apply(template, domain=D, params=PARAMS, zone=ZONE, new_instance_id="n")
    assert len(renders) == 1  # names_needed's
    second = plan_apply(template, domain=D, params=PARAMS, zone=ZONE, new_instance_id="n")
    assert len(renders) == 2  # used once: the next plan renders again
    assert first == second


@pytest.mark.parametrize("change", [
    {"params": {**PARAMS, "ip": "192.0.2.99"}},
    {"host": "other"},
    {"group_ids": ["web"]},
    {"policy": Policy(max_ttl=500)},
    {"domain": "example.org"},
])
def test_other_arguments_render_afresh(renders: list[int], change: dict[str, Any]) -> None:
    template = make_template(TEMPLATE)
    kwargs = {"domain": D, "params": PARAMS, **change}
    after = plan_after_scope(template, {"domain": D, "params": PARAMS}, **kwargs)
    assert len(renders) == 2  # names_needed, then plan_apply again
    assert after == plan_alone(template, **kwargs)


@pytest.mark.parametrize(("scope_params", "plan_params", "reused"), [
    ({**PARAMS, "ttl": 900}, {**PARAMS, "ttl": "900"}, True),  # the same values as rendering reads them
    ({**PARAMS, "ttl": 900}, {**PARAMS, "ttl": 900.0}, False),  # 900 == 900.0, but they render differently
    ({**PARAMS, "ttl": True}, {**PARAMS, "ttl": 1}, False),
])
def test_values_are_compared_as_rendering_reads_them(renders: list[int], scope_params: dict[str, Any],
                                                     plan_params: dict[str, Any], reused: bool) -> None:
    template = make_template(TEMPLATE)
    names_needed(template, domain=D, params=scope_params)
    after = outcome(lambda: plan_apply(template, domain=D, params=plan_params, zone=ZONE, new_instance_id="n"))
    assert len(renders) == (1 if reused else 2)
    assert after == plan_alone(template, domain=D, params=plan_params)


def test_params_changed_in_place_between_the_calls_render_afresh() -> None:
    template = make_template(TEMPLATE)
    params = dict(PARAMS)
    names_needed(template, domain=D, params=params)
    params["ip"] = "192.0.2.77"
    plan = plan_apply(template, domain=D, params=params, zone=ZONE, new_instance_id="n")
    assert Record("example.com.", "A", 600, "192.0.2.77") in plan.to_add


def test_a_type_the_policy_refuses_is_still_refused(renders: list[int]) -> None:
    template = make_template(TEMPLATE)
    policy = Policy(supported_types=frozenset({"A", "CNAME", "TXT", "SPFM"}))  # no MX
    kwargs = {"domain": D, "params": PARAMS, "policy": policy}
    after = plan_after_scope(template, **kwargs)
    assert after == plan_alone(template, **kwargs)
    assert after[0] == "error" and "MX" in after[2]


def test_a_cname_at_the_apex_is_still_refused() -> None:
    template = make_template([{"type": "A", "host": "www", "pointsTo": "192.0.2.1"},
                              {"type": "CNAME", "host": "@", "pointsTo": "t.example.net"}])
    kwargs = {"domain": D, "params": {}}
    assert names_needed(template, **kwargs).covers("example.com.")  # its render admits apex CNAMEs
    after = plan_after_scope(template, **kwargs)
    assert after == plan_alone(template, **kwargs)
    assert after[0] == "error" and "apex" in after[2]
    allowed = {**kwargs, "policy": Policy(allow_apex_cname=True)}
    assert plan_after_scope(template, **allowed) == plan_alone(template, **allowed)
    assert plan_alone(template, **allowed)[0] == "plan"


def test_another_threads_names_needed_is_not_used(renders: list[int]) -> None:
    template = make_template(TEMPLATE)
    thread = threading.Thread(target=lambda: names_needed(template, domain=D, params=PARAMS))
    thread.start()
    thread.join()
    plan_mod._memo.entry = None
    plan_apply(template, domain=D, params=PARAMS, zone=ZONE, new_instance_id="n")
    assert len(renders) == 2  # the thread's own render, then this thread's


@pytest.mark.parametrize("scenario", range(len(w.SCENARIOS)))
def test_benchmark_workloads_plan_alike_with_and_without_reuse(scenario: int) -> None:
    tpl_name, shape, host = w.SCENARIOS[scenario]
    template = parse_template(w.TEMPLATES[tpl_name]())
    recs = w.zone(60, shape)
    records = [to_record(r) for r in recs]
    instances = tuple(to_instances(recs, records))
    args = {"domain": w.DOMAIN, "host": host, "params": dict(w.PARAMS)}
    plan_mod._memo.entry = None
    alone = plan_apply(template, zone=records, instances=instances, new_instance_id="n", **args)
    names_needed(template, **args)
    assert plan_apply(template, zone=records, instances=instances, new_instance_id="n", **args) == alone
