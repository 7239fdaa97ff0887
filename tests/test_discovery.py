"""Discovery: the settings document (draft §7, Table 5) and the template query (draft §8.2)."""

from __future__ import annotations

import pytest
from django.test import override_settings
from django.urls import reverse

from django_domainconnect.engine.types import Record
from django_domainconnect.models import Template

pytestmark = pytest.mark.django_db

DC = {
    "PROVIDER_ID": "registrar.example",
    "PROVIDER_NAME": "Example Registrar",
    "PROVIDER_DISPLAY_NAME": "Example Registrar Inc.",
    "BASE_URL": "https://dns.example.net",
    "BACKEND": "django_domainconnect.backends.memory.MemoryBackend",
}


@pytest.fixture
def zone(memory_backend):
    memory_backend.add_zone("example.com", owners=["alice"], records=[
        Record("example.com.", "NS", 3600, "ns2.example.net."),
        Record("example.com.", "NS", 3600, "NS1.example.net."),
        Record("www.example.com.", "A", 3600, "192.0.2.1"),
    ])
    memory_backend.add_zone("xn--bcher-kva.example", owners=["alice"])
    return memory_backend


def test_url_names():
    assert reverse("domainconnect:settings", args=["example.com"]) == "/v2/example.com/settings"
    assert reverse("domainconnect:template", args=["p.example", "s1"]) == (
        "/v2/domainTemplates/providers/p.example/services/s1")


def test_settings_document(client, zone):
    response = client.get("/v2/example.com/settings", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "providerId": "registrar.example",
        "providerName": "Example Registrar",
        "providerDisplayName": "Example Registrar",
        "urlSyncUX": "https://dns.example.net",
        "urlAsyncUX": "https://dns.example.net/async",
        "urlAPI": "https://dns.example.net",
        "width": 750,
        "height": 750,
        "nameServers": ["ns1.example.net", "ns2.example.net"],
    }


def test_settings_never_uses_host_header(client, zone, settings):
    settings.ALLOWED_HOSTS = ["*"]
    body = client.get("/v2/example.com/settings", HTTP_HOST="attacker.example").json()
    assert "attacker" not in str(body)


def test_settings_from_configuration(client, zone):
    with override_settings(DOMAINCONNECT={**DC, "API_URL": "https://api.example.net", "WIDTH": 600, "HEIGHT": 500,
                                          "CONTROL_PANEL_URL": "https://panel.example.net/?domain=%domain%",
                                          "NAME_SERVERS": ["a.ns.example.net."]}):
        from django_domainconnect.backends import get_backend

        get_backend().add_zone("example.com")  # the override built a fresh backend instance
        body = client.get("/v2/example.com/settings").json()
    assert body["providerDisplayName"] == "Example Registrar Inc."
    assert body["urlAPI"] == "https://api.example.net"
    assert body["urlSyncUX"] == "https://dns.example.net"
    assert (body["width"], body["height"]) == (600, 500)
    assert body["urlControlPanel"] == "https://panel.example.net/?domain=%domain%"
    assert body["nameServers"] == ["a.ns.example.net"]


@pytest.mark.parametrize("domain", ["EXAMPLE.com", "example.com.", "bücher.example", "xn--bcher-kva.example"])
def test_settings_normalises_names(client, zone, domain):
    response = client.get(f"/v2/{domain}/settings")
    assert response.status_code == 200, domain
    assert response.json()["providerId"] == "registrar.example"


@pytest.mark.parametrize("domain", ["other.com", "www.example.com", "com", "ex\u200dample.com", "a..b", "-x.com"])
def test_settings_404_json_for_unhosted_or_invalid(client, zone, domain):
    response = client.get(f"/v2/{domain}/settings")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_settings_inactive_zone_404(client, zone):
    zone.set_active("example.com", False)
    assert client.get("/v2/example.com/settings").status_code == 404


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
@pytest.mark.parametrize("path", ["/v2/example.com/settings", "/v2/domainTemplates/providers/sp.example/services/web"])
def test_discovery_answers_other_methods_with_a_json_405_even_with_csrf_checks(method, path, zone):
    from django.test import Client

    # enforce_csrf_checks: a real browser/client gets CSRF checks; they must not turn 405 into an HTML 403.
    response = getattr(Client(enforce_csrf_checks=True), method)(path)
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
    assert response.json()["error"] == "method_not_allowed"


def _template(**kwargs):
    defaults = {"provider_id": "sp.example", "service_id": "web", "version": 3, "body": {},
                "record_types": ["A", "TXT"], "enabled": True}
    return Template.objects.create(**{**defaults, **kwargs})


def test_template_query_supported(client, memory_backend):
    _template()
    response = client.get("/v2/domainTemplates/providers/sp.example/services/web", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert response.json() == {"providerId": "sp.example", "serviceId": "web", "version": 3}


@pytest.mark.parametrize(("kwargs", "path"), [
    ({}, "/v2/domainTemplates/providers/sp.example/services/other"),
    ({}, "/v2/domainTemplates/providers/SP.example/services/web"),
    ({"enabled": False}, "/v2/domainTemplates/providers/sp.example/services/web"),
    ({"has_errors": True}, "/v2/domainTemplates/providers/sp.example/services/web"),
    ({"record_types": ["A", "REDIR301"]}, "/v2/domainTemplates/providers/sp.example/services/web"),
    ({}, "/v2/domainTemplates/providers/sp.example/services/we%20b"),
    ({}, "/v2/domainTemplates/providers/sp.example/services/" + "w" * 64),
])
def test_template_query_404(client, memory_backend, kwargs, path):
    _template(**kwargs)
    response = client.get(path)
    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "message": "This template is not supported."}


def test_template_query_slash_in_id_is_plain_404(client, memory_backend):
    _template()
    response = client.get("/v2/domainTemplates/providers/sp.example/services/web%2F..%2F")
    assert response.status_code == 404
    assert b"Traceback" not in response.content and b"/work" not in response.content


def test_template_query_dotdot_is_just_an_id(client, memory_backend):
    _template(provider_id="..", service_id="..")
    # ".." is a valid dc-id (draft §3): it is only ever compared, never used as a path.
    response = client.get("/v2/domainTemplates/providers/../services/..")
    assert response.status_code == 200
    assert response.json()["providerId"] == ".."


def test_settings_without_async_subapp_omits_url_async_ux(client, zone, settings):
    settings.INSTALLED_APPS = [a for a in settings.INSTALLED_APPS if a != "django_domainconnect.oauth"]
    body = client.get("/v2/example.com/settings").json()
    assert "urlAsyncUX" not in body
    assert body["urlSyncUX"] == "https://dns.example.net"
