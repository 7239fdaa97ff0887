"""System checks for the operational controls (``django_domainconnect.security_checks``)."""

from __future__ import annotations

import pytest

from django_domainconnect import security_checks as sc

REDIS = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1"}}


def ids(messages) -> list[str]:
    return [m.id for m in messages]


def test_default_rate_limits_are_valid():
    assert sc.check_rate_limits() == []


@pytest.mark.parametrize("rates", [{"apply": "lots"}, {"apply": "5/fortnight"}, {"nope": "1/m"}, ["1/m"]])
def test_bad_rate_limits_are_errors(settings, rates):
    settings.DOMAINCONNECT = {**settings.DOMAINCONNECT, "RATE_LIMITS": rates}
    assert ids(sc.check_rate_limits()) == ["domainconnect.E020"]


def test_rate_limits_off_or_partial_are_fine(settings):
    settings.DOMAINCONNECT = {**settings.DOMAINCONNECT, "RATE_LIMITS": None}
    assert sc.check_rate_limits() == [] and sc.check_shared_cache() == []
    settings.DOMAINCONNECT = {**settings.DOMAINCONNECT, "RATE_LIMITS": {"apply": None, "token": "10/30s"}}
    assert sc.check_rate_limits() == []


def test_wildcard_allowed_hosts_is_an_error(settings):
    assert sc.check_allowed_hosts() == []
    settings.ALLOWED_HOSTS = ["dc.example", "*"]
    assert ids(sc.check_allowed_hosts()) == ["domainconnect.E021"]


def test_per_process_cache_with_rate_limits_is_a_warning(settings):
    assert ids(sc.check_shared_cache()) == ["domainconnect.W021"]  # the test settings use LocMemCache
    settings.CACHES = REDIS
    assert sc.check_shared_cache() == []


def test_register_adds_them_to_the_deploy_checks():
    from django.core.checks.registry import CheckRegistry

    registry = CheckRegistry()
    original = sc.checks.register
    try:
        sc.checks.register = registry.register  # type: ignore[assignment]
        sc.register()
    finally:
        sc.checks.register = original  # type: ignore[assignment]
    assert sc.check_rate_limits in registry.get_checks()
    assert sc.check_allowed_hosts not in registry.get_checks()
    assert {sc.check_allowed_hosts, sc.check_shared_cache} <= set(registry.get_checks(include_deployment_checks=True))
