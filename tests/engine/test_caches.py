"""``clear_caches`` empties every memo cache of the engine (benchmarks rely on it to time cold plans)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from typing import Any

import django_domainconnect.engine as engine_pkg
from benchmarks import workloads as w
from benchmarks.convert import to_record
from django_domainconnect.engine.caches import clear_caches
from django_domainconnect.engine.plan import names_needed, plan_apply
from django_domainconnect.engine.template import parse_template


def engine_caches() -> list[Any]:
    """Every lru_cache-wrapped callable defined in the engine's modules (module level or in a class)."""
    found: list[Any] = []
    for info in pkgutil.iter_modules(engine_pkg.__path__):
        module = importlib.import_module(f"{engine_pkg.__name__}.{info.name}")
        for _name, obj in vars(module).items():
            candidates = [obj]
            if inspect.isclass(obj) and obj.__module__ == module.__name__:
                candidates += [getattr(obj, attr) for attr in vars(obj)]
            found += [c for c in candidates if callable(getattr(c, "cache_info", None))
                      and getattr(c, "__module__", "").startswith(engine_pkg.__name__)]  # not imported ones
    return found


def test_clear_caches_empties_every_engine_cache() -> None:
    for name in ("hosting5", "big50", "delegate"):
        template = parse_template(w.TEMPLATES[name]())
        records = [to_record(r) for r in w.zone(10, "plain")]
        args = {"domain": w.DOMAIN, "host": "", "params": dict(w.PARAMS)}
        names_needed(template, **args)
        plan_apply(template, zone=records, new_instance_id="i", **args)
    caches = engine_caches()
    assert len(caches) >= 2 and any(c.cache_info().currsize for c in caches)
    clear_caches()
    assert {getattr(c, "__qualname__", repr(c)): c.cache_info().currsize for c in caches
            if c.cache_info().currsize} == {}


def test_long_spf_tokens_are_parsed_but_never_cached() -> None:
    """A zone's own SPF record may hold huge tokens: they must not fill the memo cache."""
    from django_domainconnect.engine import spf

    clear_caches()
    long_token = "exp=" + "a" * 5_000
    assert spf.parse_term(long_token) == spf._parse_term(long_token)
    assert spf._parse_short_term.cache_info().currsize == 0
    assert spf.parse_term("include:_spf.example.net") == spf._parse_term("include:_spf.example.net")
    assert spf._parse_short_term.cache_info().currsize == 1
