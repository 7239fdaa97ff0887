"""dc_settings: defaults, derived URLs, mandatory keys, reload on override_settings, the engine Policy."""

from __future__ import annotations

import pytest
from django.test import override_settings

from django_domainconnect.conf import DEFAULTS, dc_settings
from django_domainconnect.exceptions import ConfigurationError

BASE = {"PROVIDER_ID": "registrar.example", "BASE_URL": "https://dc.registrar.example/"}


def test_defaults_and_derived_urls():
    with override_settings(DOMAINCONNECT=BASE):
        assert dc_settings.BASE_URL == "https://dc.registrar.example"
        assert dc_settings.SYNC_UX_URL == "https://dc.registrar.example"
        assert dc_settings.API_URL == "https://dc.registrar.example"
        assert dc_settings.ASYNC_UX_URL == "https://dc.registrar.example/async"
        assert dc_settings.PROVIDER_NAME == "registrar.example"
        assert dc_settings.PROVIDER_DISPLAY_NAME == "registrar.example"
        assert dc_settings.WIDTH == 750 and dc_settings.HEIGHT == 750
        assert dc_settings.DEFAULT_TTL == DEFAULTS["DEFAULT_TTL"]


def test_explicit_urls_win():
    with override_settings(DOMAINCONNECT={**BASE, "API_URL": "https://api.registrar.example/",
                                          "ASYNC_UX_URL": "https://a.registrar.example",
                                          "PROVIDER_NAME": "Reg", "PROVIDER_DISPLAY_NAME": "Reg Inc."}):
        assert dc_settings.API_URL == "https://api.registrar.example"
        assert dc_settings.ASYNC_UX_URL == "https://a.registrar.example"
        assert dc_settings.SYNC_UX_URL == "https://dc.registrar.example"
        assert dc_settings.PROVIDER_DISPLAY_NAME == "Reg Inc."


def test_reload_on_setting_changed():
    with override_settings(DOMAINCONNECT={**BASE, "DEFAULT_TTL": 600}):
        assert dc_settings.DEFAULT_TTL == 600
    with override_settings(DOMAINCONNECT={**BASE, "DEFAULT_TTL": 900}):
        assert dc_settings.DEFAULT_TTL == 900


@pytest.mark.parametrize("key", ["PROVIDER_ID", "BASE_URL"])
def test_mandatory_missing_raises(key):
    with override_settings(DOMAINCONNECT={k: v for k, v in BASE.items() if k != key}):
        with pytest.raises(ConfigurationError, match=key):
            getattr(dc_settings, key)


def test_unknown_attribute():
    with pytest.raises(AttributeError, match="NOPE"):
        dc_settings.NOPE  # noqa: B018


def test_settings_never_mutated(settings):
    before = dict(settings.DOMAINCONNECT)
    _ = dc_settings.ASYNC_UX_URL, dc_settings.MIN_TTL
    assert settings.DOMAINCONNECT == before


def test_policy_uses_settings_and_backend_types():
    with override_settings(DOMAINCONNECT={**BASE, "MIN_TTL": 60, "MAX_TTL": 600, "DEFAULT_TTL": 120,
                                          "SPF_QUALIFIER": "-", "ALLOW_APEX_CNAME": True,
                                          "BACKEND_OPTIONS": {"supported_types": ["A", "txt"]}}):
        policy = dc_settings.policy()
    assert (policy.min_ttl, policy.max_ttl, policy.default_ttl) == (60, 600, 120)
    assert policy.spf_qualifier == "-"
    assert policy.allow_apex_cname is True
    assert policy.supported_types == frozenset({"A", "TXT"})
