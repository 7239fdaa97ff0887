"""Fixtures for the security tests: the async flow's fixtures (users, zones, templates, an SP client,
consent→token). The cache (rate-limit counters) is emptied before every test by tests/conftest.py."""

from __future__ import annotations

from tests.oauth.conftest import (  # noqa: F401 - fixtures re-exported for this directory
    alice,
    authorize,
    bob,
    make_template,
    sp_client,
    templates,
    zones,
)

