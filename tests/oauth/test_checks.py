"""System checks of the async sub-app."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import override_settings

from django_domainconnect.oauth.checks import check_validator


def ids(**overrides):
    with override_settings(OAUTH2_PROVIDER={**settings.OAUTH2_PROVIDER, **overrides}):
        from oauth2_provider.settings import oauth2_settings

        oauth2_settings.reload()
        return [m.id for m in check_validator()]


@pytest.fixture(autouse=True)
def _reload_dot():
    yield
    from oauth2_provider.settings import oauth2_settings

    oauth2_settings.reload()


def test_test_settings_pass():
    assert ids() == []


def test_plain_dot_validator_is_an_error():
    assert ids(OAUTH2_VALIDATOR_CLASS="oauth2_provider.oauth2_validators.OAuth2Validator") == [
        "domainconnect_oauth.E001"]


def test_http_redirects_and_wildcards():
    assert ids(ALLOWED_REDIRECT_URI_SCHEMES=["https", "http"], ALLOW_URI_WILDCARDS=True) == [
        "domainconnect_oauth.W001", "domainconnect_oauth.E002"]
