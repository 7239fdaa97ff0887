"""Fixtures for the security tests: the async flow's fixtures (users, zones, templates, an SP client,
consent→token) and a clean cache (rate-limit counters) around every test."""

from __future__ import annotations

import pytest

from tests.oauth.conftest import (  # noqa: F401 - fixtures re-exported for this directory
    alice,
    authorize,
    bob,
    make_template,
    sp_client,
    templates,
    zones,
)


@pytest.fixture(autouse=True)
def clean_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
