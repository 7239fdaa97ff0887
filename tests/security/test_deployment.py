"""Deployment floors (SECURITY.md 62, 63): the dependency floors that carry security fixes are declared and
installed; app system checks flag an insecure rate-limit configuration."""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import version

from tests.conftest import ROOT

FLOORS = {"django-oauth-toolkit": (3, 4, 1), "oauthlib": (3, 2, 2), "django": (5, 2)}


def _tuple(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", text)[:3])


def test_security_floors_are_declared_and_installed():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    declared = {}
    for dep in deps:
        match = re.match(r"([A-Za-z0-9_.-]+)\s*>=\s*([0-9.]+)", dep)
        if match:
            declared[match.group(1).lower()] = _tuple(match.group(2))
    for name, floor in FLOORS.items():
        assert declared.get(name, ()) >= floor, f"{name} must be declared >= {'.'.join(map(str, floor))}"
        assert _tuple(version(name)) >= floor, f"installed {name} {version(name)} is below the floor"


def test_rate_limit_settings_are_valid_by_default():
    from django_domainconnect.ratelimit import BUCKETS, configured_rate

    rates = {b: configured_rate(b) for b in BUCKETS}
    assert all(rate is not None and rate.limit > 0 for rate in rates.values())
