"""System checks: each function directly, and through ``manage.py check``."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

from django_domainconnect import checks

GOOD = {
    "PROVIDER_ID": "registrar.example",
    "PROVIDER_NAME": "Example Registrar",
    "BASE_URL": "https://dns.example.net",
    "BACKEND": "django_domainconnect.backends.memory.MemoryBackend",
}


def ids(messages):
    return sorted(m.id for m in messages)


def run(func, **dc):
    with override_settings(DOMAINCONNECT={**GOOD, **dc}):
        return func(None)


def test_good_configuration_has_no_messages():
    for func in checks.ALL_CHECKS:
        assert run(func) == [], func.__name__


@pytest.mark.parametrize(("backend", "options", "expected"), [
    ("nowhere.Backend", {}, "domainconnect.E001"),
    ("django_domainconnect.conf.DomainConnectSettings", {}, "domainconnect.E002"),
    ("django_domainconnect.backends.memory.MemoryBackend", {"zone": {}}, "domainconnect.E003"),
    ("django_domainconnect.backends.memory.MemoryBackend", ["x"], "domainconnect.E003"),
])
def test_backend_checks(backend, options, expected):
    messages = run(checks.check_backend, BACKEND=backend, BACKEND_OPTIONS=options)
    assert ids(messages) == [expected]
    assert messages[0].hint


def test_identity_checks():
    assert ids(run(checks.check_identity, PROVIDER_ID="")) == ["domainconnect.E004"]
    assert ids(run(checks.check_identity, PROVIDER_ID="bad id/")) == ["domainconnect.E004"]
    assert ids(run(checks.check_identity, BASE_URL=None)) == ["domainconnect.E005"]


@pytest.mark.parametrize(("key", "value", "expected"), [
    ("BASE_URL", "https://dns.example.net/?x=1", "domainconnect.E006"),
    ("API_URL", "https://api.example.net/#frag", "domainconnect.E006"),
    ("SYNC_UX_URL", "dns.example.net", "domainconnect.E006"),
    ("ASYNC_UX_URL", "http://dns.example.net", "domainconnect.W001"),
    ("CONTROL_PANEL_URL", "http://panel.example.net/?d=%domain%", "domainconnect.W001"),
])
def test_url_checks(key, value, expected):
    messages = run(checks.check_urls, **{key: value})
    assert ids(messages) == [expected]
    assert key in messages[0].msg


def test_control_panel_may_have_a_query():
    assert run(checks.check_urls, CONTROL_PANEL_URL="https://panel.example.net/?domain=%domain%") == []


def test_http_allowed_in_debug(settings):
    settings.DEBUG = True
    assert run(checks.check_urls, BASE_URL="http://127.0.0.1:8000") == []


def test_installed_apps_checks(settings):
    settings.INSTALLED_APPS = [a for a in settings.INSTALLED_APPS
                               if a not in ("rest_framework", "oauth2_provider", "django_domainconnect.oauth")]
    assert ids(checks.check_installed_apps(None)) == ["domainconnect.E007", "domainconnect.W004"]


def test_oauth_missing_is_an_error_with_the_async_subapp(settings):
    if "django_domainconnect.oauth" not in settings.INSTALLED_APPS:
        pytest.skip("the async sub-app is not in the test settings' INSTALLED_APPS")
    settings.INSTALLED_APPS = [a for a in settings.INSTALLED_APPS if a != "oauth2_provider"]
    assert ids(checks.check_installed_apps(None)) == ["domainconnect.E008"]


def test_database_without_row_locks(settings):
    from django.db import connection

    expected = [] if connection.features.has_select_for_update else ["domainconnect.W002"]
    assert ids(checks.check_database(None, databases=["default"])) == expected
    assert checks.check_database(None, databases=None) == []
    settings.DEBUG = True
    assert checks.check_database(None, databases=["default"]) == []


@pytest.mark.parametrize(("dc", "expected"), [
    ({"MIN_TTL": 600, "DEFAULT_TTL": 300}, ["domainconnect.E009"]),
    ({"MAX_TTL": 100}, ["domainconnect.E009"]),
    ({"MIN_TTL": "300"}, ["domainconnect.E009"]),
    ({"SPF_QUALIFIER": "x"}, ["domainconnect.E011"]),
    ({"WIDTH": 0}, ["domainconnect.E012"]),
    ({"NAME_SERVERS": "ns1.example.net"}, ["domainconnect.E012"]),
    ({"LOCK_TIMEOUT": -1}, ["domainconnect.E012"]),
])
def test_policy_checks(dc, expected):
    assert ids(run(checks.check_policy, **dc)) == expected


def test_unknown_key_warning_with_suggestion():
    messages = run(checks.check_setting_shape, PROVIDER_DISPLAYNAME="x")
    assert ids(messages) == ["domainconnect.W003"]
    assert "PROVIDER_DISPLAY_NAME" in messages[0].hint


def test_setting_must_be_a_dict():
    with override_settings(DOMAINCONNECT=["x"]):
        assert ids(checks.check_setting_shape(None)) == ["domainconnect.E010"]


def test_through_manage_py_check():
    out = StringIO()
    with override_settings(DOMAINCONNECT={**GOOD, "PROVIDER_ID": "", "BOGUS": 1}):
        with pytest.raises(SystemCheckError) as info:
            call_command("check", stdout=out, stderr=out)
    text = str(info.value)
    assert "domainconnect.E004" in text and "domainconnect.W003" in text


def test_manage_py_check_clean_with_good_settings():
    out = StringIO()
    with override_settings(DOMAINCONNECT=GOOD):
        call_command("check", stdout=out)
    assert "domainconnect.E" not in out.getvalue()


def test_memory_backend_warned_only_on_deploy():
    assert ids(run(checks.check_deploy_backend)) == ["domainconnect.W005"]
    assert run(checks.check_deploy_backend, BACKEND="tests.test_zone_command.NoListBackend") == []
    with override_settings(DOMAINCONNECT=GOOD):
        call_command("check", stdout=StringIO())  # not a deploy run: no W005 (and nothing fails)
        with pytest.raises(SystemCheckError, match="domainconnect.W005"):
            call_command("check", "--deploy", "--fail-level", "WARNING", stdout=StringIO(), stderr=StringIO())
