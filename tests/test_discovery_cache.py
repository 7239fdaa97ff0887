"""The discovery cache: settings and template-query answers served without the database, and never stale
after a template change or ``forget_zone`` (django_domainconnect/discovery_cache.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.urls import reverse

from django_domainconnect import discovery_cache
from django_domainconnect.engine.types import Record
from django_domainconnect.models import Template
from django_domainconnect.template_store import save_template

pytestmark = pytest.mark.django_db

TEMPLATE_URL = "/v2/domainTemplates/providers/sp.example/services/web"


def body(**overrides: Any) -> dict[str, Any]:
    data = {"providerId": "sp.example", "providerName": "SP", "serviceId": "web", "serviceName": "Website",
            "version": 1, "records": [{"type": "A", "host": "@", "pointsTo": "192.0.2.1", "ttl": 3600}]}
    data.update(overrides)
    return data


@pytest.fixture
def cached(settings: Any) -> None:
    settings.DOMAINCONNECT = {**settings.DOMAINCONNECT, "DISCOVERY_CACHE_TIMEOUT": 30}


@pytest.fixture
def zone(memory_backend: Any) -> Any:
    memory_backend.add_zone("example.com", owners=["alice"],
                            records=[Record("example.com.", "NS", 3600, "ns1.example.net.")])
    return memory_backend


@pytest.fixture
def template(django_capture_on_commit_callbacks: Any) -> Template:
    with django_capture_on_commit_callbacks(execute=True):
        return save_template(body(), enable=True).template


# --- settings ------------------------------------------------------------------------------------------

def test_a_repeated_settings_request_makes_no_query_and_does_not_ask_the_backend(
        client: Any, cached: None, zone: Any, django_assert_num_queries: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    first = client.get("/v2/example.com/settings")
    assert first.status_code == 200 and first.json()["nameServers"] == ["ns1.example.net"]
    monkeypatch.setattr(type(zone), "get_zone", lambda self, name: pytest.fail("backend asked again"))
    with django_assert_num_queries(0):
        again = client.get("/v2/EXAMPLE.com/settings")  # the same zone, however it is spelled
    assert again.status_code == 200 and again.json() == first.json()


def test_unknown_domains_are_cached_too_and_forget_zone_makes_a_new_zone_visible(
        client: Any, cached: None, memory_backend: Any) -> None:
    assert client.get("/v2/new.example/settings").status_code == 404
    memory_backend.add_zone("new.example", owners=["alice"])
    assert client.get("/v2/new.example/settings").status_code == 404  # the cached "not hosted here"
    discovery_cache.forget_zone("NEW.example.")  # any spelling of the zone's name
    assert client.get("/v2/new.example/settings").status_code == 200


def test_removed_zone_disappears_after_forget_zone(client: Any, cached: None, zone: Any) -> None:
    assert client.get("/v2/example.com/settings").status_code == 200
    zone.reset()
    assert client.get("/v2/example.com/settings").status_code == 200  # within the timeout
    discovery_cache.forget_zone("example.com")
    assert client.get("/v2/example.com/settings").status_code == 404


def test_settings_from_configuration_are_never_cached(client: Any, cached: None, zone: Any, settings: Any) -> None:
    assert client.get("/v2/example.com/settings").json()["providerName"] == "Example Registrar"
    settings.DOMAINCONNECT = {**settings.DOMAINCONNECT, "PROVIDER_NAME": "Renamed Registrar"}
    assert client.get("/v2/example.com/settings").json()["providerName"] == "Renamed Registrar"


@pytest.fixture
def uncached(settings: Any) -> None:
    settings.DOMAINCONNECT = {**settings.DOMAINCONNECT, "DISCOVERY_CACHE_TIMEOUT": 0}


def test_timeout_zero_turns_the_cache_off(client: Any, uncached: None, zone: Any) -> None:
    assert client.get("/v2/example.com/settings").status_code == 200
    zone.reset()
    assert client.get("/v2/example.com/settings").status_code == 404


def test_answers_expire_with_the_timeout(client: Any, cached: None, zone: Any,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    stored: list[int] = []
    real_set = cache.set
    monkeypatch.setattr(cache, "set", lambda key, value, timeout=None: (stored.append(timeout),
                                                                        real_set(key, value, timeout)))
    client.get("/v2/example.com/settings")
    assert stored == [30]


# --- template query -------------------------------------------------------------------------------------

def test_a_repeated_template_query_makes_no_query(client: Any, cached: None, template: Template,
                                                  django_assert_num_queries: Any) -> None:
    assert client.get(TEMPLATE_URL).json() == {"providerId": "sp.example", "serviceId": "web", "version": 1}
    with django_assert_num_queries(0):
        assert client.get(TEMPLATE_URL).json()["version"] == 1
    assert client.get(TEMPLATE_URL + "x").status_code == 404
    with django_assert_num_queries(0):  # "not supported" answers are cached as well
        assert client.get(TEMPLATE_URL + "x").status_code == 404


def test_a_new_template_version_is_answered_at_once(client: Any, cached: None, template: Template,
                                                    django_capture_on_commit_callbacks: Any) -> None:
    assert client.get(TEMPLATE_URL).json()["version"] == 1
    with django_capture_on_commit_callbacks(execute=True):
        save_template(body(version=2, description="changed"))
    assert client.get(TEMPLATE_URL).json()["version"] == 2


def test_import_command_invalidates(client: Any, cached: None, tmp_path: Any,
                                    django_capture_on_commit_callbacks: Any) -> None:
    assert client.get(TEMPLATE_URL).status_code == 404
    (tmp_path / "sp.example.web.json").write_text(json.dumps(body()))
    with django_capture_on_commit_callbacks(execute=True):
        call_command("domainconnect_import_templates", str(tmp_path), "--enable", stdout=None)
    assert Template.objects.get().enabled
    assert client.get(TEMPLATE_URL).json()["version"] == 1


def test_admin_actions_and_deletes_invalidate(admin_client: Any, client: Any, cached: None, template: Template,
                                              django_capture_on_commit_callbacks: Any) -> None:
    changelist = reverse("admin:django_domainconnect_template_changelist")
    assert client.get(TEMPLATE_URL).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(changelist, {"action": "disable_templates", "_selected_action": [template.pk]})
    assert client.get(TEMPLATE_URL).status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(changelist, {"action": "enable_templates", "_selected_action": [template.pk]})
    assert client.get(TEMPLATE_URL).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        Template.objects.get(pk=template.pk).delete()
    assert client.get(TEMPLATE_URL).status_code == 404


def test_invalidation_waits_for_the_commit(client: Any, cached: None, template: Template,
                                           django_capture_on_commit_callbacks: Any) -> None:
    """A change still inside its transaction must not start a generation that answers computed from the old,
    committed data would then be stored under."""
    client.get(TEMPLATE_URL)
    generation = cache.get(discovery_cache.TEMPLATE_GENERATION_KEY)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        Template.objects.filter(pk=template.pk).update(enabled=False)
        discovery_cache.templates_changed()
        assert cache.get(discovery_cache.TEMPLATE_GENERATION_KEY) == generation
    assert len(callbacks) == 1
    callbacks[0]()
    assert cache.get(discovery_cache.TEMPLATE_GENERATION_KEY) != generation
    assert client.get(TEMPLATE_URL).status_code == 404


def test_an_answer_computed_before_a_change_is_never_served_after_it(
        cached: None, django_capture_on_commit_callbacks: Any) -> None:
    """The race the generation closes: a request reads the old data, the change commits, then the request
    stores its (old) answer. That answer carries the old generation and is recomputed."""
    def slow_old_answer() -> str:
        with django_capture_on_commit_callbacks(execute=True):  # a change commits mid-computation
            discovery_cache.templates_changed()
        return "old"

    assert discovery_cache.template_answer("sp.example", "web", slow_old_answer) == "old"
    assert discovery_cache.template_answer("sp.example", "web", lambda: "new") == "new"
    assert discovery_cache.template_answer("sp.example", "web", lambda: pytest.fail("not cached")) == "new"


def test_keys_are_short_and_safe_for_memcached() -> None:
    long_id = "a" * 63 + "." + "b" * 63 + "." + "c" * 63 + "." + "d" * 61
    key = discovery_cache._key("zone", long_id)
    assert len(key) < 100 and key.isascii() and " " not in key


def test_a_bad_timeout_or_alias_is_reported_by_the_system_checks(settings: Any) -> None:
    from django_domainconnect.checks import check_policy

    def flagged() -> set[str]:
        return {key for m in check_policy() for key in ("DISCOVERY_CACHE_TIMEOUT", "DISCOVERY_CACHE =")
                if key in m.msg}

    settings.DOMAINCONNECT = {**settings.DOMAINCONNECT, "DISCOVERY_CACHE_TIMEOUT": "30s"}
    assert flagged() == {"DISCOVERY_CACHE_TIMEOUT"}
    settings.DOMAINCONNECT = {**settings.DOMAINCONNECT, "DISCOVERY_CACHE_TIMEOUT": 30, "DISCOVERY_CACHE": "nope"}
    assert flagged() == {"DISCOVERY_CACHE ="}
    settings.DOMAINCONNECT = {**settings.DOMAINCONNECT, "DISCOVERY_CACHE": "default"}
    assert flagged() == set()


def test_answers_go_to_the_configured_cache_alias(client: Any, settings: Any) -> None:
    from django.core.cache import caches

    from django_domainconnect.backends import get_backend

    settings.CACHES = {**settings.CACHES, "discovery": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                                        "LOCATION": "discovery-test"}}
    settings.DOMAINCONNECT = {**settings.DOMAINCONNECT, "DISCOVERY_CACHE": "discovery",
                              "DISCOVERY_CACHE_TIMEOUT": 30}
    get_backend().add_zone("example.com", owners=["alice"])  # the backend is rebuilt when DOMAINCONNECT changes
    caches["discovery"].clear()
    assert client.get("/v2/example.com/settings").status_code == 200
    key = discovery_cache._key("zone", "example.com")
    assert caches["discovery"].get(key) is not None and cache.get(key) is None


def test_a_broken_cache_never_breaks_discovery(client: Any, cached: None, zone: Any, template: Template,
                                               monkeypatch: pytest.MonkeyPatch, caplog: Any) -> None:
    def down(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("cache server unreachable")

    for method in ("get", "get_many", "set", "add", "delete"):
        monkeypatch.setattr(cache, method, down)
    monkeypatch.setattr(discovery_cache, "_last_warning", -discovery_cache._WARN_EVERY)
    assert client.get("/v2/example.com/settings").status_code == 200
    assert client.get(TEMPLATE_URL).json()["version"] == 1
    discovery_cache.forget_zone("example.com")
    warnings = [r for r in caplog.records if "discovery answers are computed without it" in r.getMessage()]
    assert len(warnings) == 1  # once a minute, not once per request


@pytest.mark.parametrize("bad", ["abc", -1, 30.5, True, None])
def test_a_bad_timeout_turns_the_cache_off_at_run_time(client: Any, settings: Any, memory_backend: Any,
                                                       bad: Any) -> None:
    """Servers started without system checks (gunicorn) must still answer discovery, uncached."""
    settings.DOMAINCONNECT = {**settings.DOMAINCONNECT, "DISCOVERY_CACHE_TIMEOUT": bad}
    from django_domainconnect.backends import get_backend

    backend = get_backend()
    backend.add_zone("example.com", owners=["alice"])
    assert client.get("/v2/example.com/settings").status_code == 200
    backend.reset()
    assert client.get("/v2/example.com/settings").status_code == 404  # nothing was cached


def test_the_example_registrar_forgets_added_renamed_and_deleted_zones(
        client: Any, settings: Any, django_user_model: Any, django_capture_on_commit_callbacks: Any) -> None:
    from django.apps import apps

    if not apps.is_installed("registrar"):
        pytest.skip("the example registrar is not in the test settings' INSTALLED_APPS")
    from registrar.models import Domain

    settings.DOMAINCONNECT = {**settings.DOMAINCONNECT, "BACKEND": "registrar.dc_backend.RegistrarBackend",
                              "DISCOVERY_CACHE_TIMEOUT": 30}
    owner = django_user_model.objects.create_user("owner")

    def status(name: str) -> int:
        return client.get(f"/v2/{name}/settings").status_code

    assert status("new.example") == status("renamed.example") == 404  # both now cached as "not hosted"
    with django_capture_on_commit_callbacks(execute=True):
        domain = Domain.objects.create(name="new.example", owner=owner, verified=True)
    assert status("new.example") == 200
    with django_capture_on_commit_callbacks(execute=True):
        domain.name = "renamed.example"
        domain.save()
    assert (status("new.example"), status("renamed.example")) == (404, 200)
    with django_capture_on_commit_callbacks(execute=True):
        domain.delete()
    assert status("renamed.example") == 404
