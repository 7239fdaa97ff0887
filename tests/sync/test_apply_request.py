"""The apply link before the consent page: ids, template flags, parameters, login (SECURITY.md A.1–A.4,
A.11–A.13). Every refusal writes nothing: the zone and the applied-template state stay as they were."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from django_domainconnect import models
from tests.sync.helpers import apply_url, default_query

pytestmark = pytest.mark.django_db


def assert_nothing_written(zones) -> None:
    assert zones.write_count == 0
    assert not models.AppliedTemplate.objects.exists()


def redirect_params(response) -> dict[str, list[str]]:
    assert response.status_code == 302, response.status_code
    return parse_qs(urlsplit(response["Location"]).query)


# -- ids and templates (A.2) ------------------------------------------------------------------------------

@pytest.mark.parametrize("path", [
    "/v2/domainTemplates/providers/exampleservice.example/services/nope/apply",
    "/v2/domainTemplates/providers/unknown.example/services/web/apply",
    "/v2/domainTemplates/providers/../services/web/apply",
    "/v2/domainTemplates/providers/exampleservice.example/services/..%2Fweb/apply",
    "/v2/domainTemplates/providers/exampleservice.example/services/%2E%2E/apply",
    "/v2/domainTemplates/providers/" + "a" * 64 + "/services/web/apply",
])
def test_unknown_or_malformed_ids_give_a_generic_404(client, make_template, zones, alice, path):
    make_template()
    client.force_login(alice)
    response = client.get(path + "?domain=example.com&IP=1.2.3.4&token=x&redirect_uri=https://exampleservice.example/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "Traceback" not in body and "/work/" not in body and "exampleservice" not in body
    assert "Location" not in response  # an unknown template never redirects (A.9)
    assert_nothing_written(zones)


def test_disabled_template_is_unknown(client, make_template, zones, alice):
    t = make_template()
    t.enabled = False
    t.save()
    client.force_login(alice)
    assert client.get(apply_url(query=default_query())).status_code == 404


# -- template flags (A.1, A.11) ---------------------------------------------------------------------------

def test_sync_block_refuses_with_redirect_when_allowed(client, make_template, zones, alice):
    make_template(syncBlock=True)
    client.force_login(alice)
    response = client.get(apply_url(query=default_query()))
    params = redirect_params(response)
    assert params["error"] == ["invalid_request"]
    assert params["state"] == ["s-1"]
    assert response["Location"].startswith("https://app.exampleservice.example/done?")
    assert_nothing_written(zones)


def test_sync_block_without_redirect_shows_an_error_page(client, make_template, zones, alice):
    make_template(syncBlock=True, syncRedirectDomain=None)
    client.force_login(alice)
    response = client.get(apply_url(query=default_query()))
    assert response.status_code == 400
    assert b"syncBlock" in response.content
    assert_nothing_written(zones)


def test_host_required_without_host(client, make_template, zones, alice):
    make_template(hostRequired=True)
    client.force_login(alice)
    params = redirect_params(client.get(apply_url(query=default_query())))
    assert params["error"] == ["invalid_request"]
    assert "hostRequired" in params["error_description"][0]
    params = redirect_params(client.get(apply_url(query=default_query(host=""))))
    assert params["error"] == ["invalid_request"]
    assert_nothing_written(zones)


@pytest.mark.parametrize("group", ["nope", "A", "a,nope", "a,,b"])
def test_group_id_must_match_a_group_exactly(client, make_template, zones, alice, group):
    make_template(records=[
        {"type": "A", "host": "@", "pointsTo": "%IP%", "ttl": 3600, "groupId": "a"},
        {"type": "TXT", "host": "@", "data": "x", "ttl": 3600, "groupId": "b"},
    ])
    client.force_login(alice)
    params = redirect_params(client.get(apply_url(query=default_query(groupId=group))))
    assert params["error"] == ["invalid_request"]
    assert_nothing_written(zones)


@pytest.mark.parametrize("name", ["providerName", "serviceName"])
def test_shared_names_refused_on_a_template_that_does_not_share(client, make_template, zones, alice, name):
    make_template()
    client.force_login(alice)
    params = redirect_params(client.get(apply_url(query=default_query(**{name: "Google"}))))
    assert params["error"] == ["invalid_request"]
    assert name in params["error_description"][0]
    assert_nothing_written(zones)


# -- duplicated and malformed parameters (A.12) ----------------------------------------------------------

@pytest.mark.parametrize("query", [
    "domain=example.com&IP=1.1.1.1&IP=6.6.6.6&token=x",
    "domain=example.com&domain=evil.example&IP=1.1.1.1&token=x",
    "domain=example.com&IP=1.1.1.1&token=x&redirect_uri=https%3A%2F%2Fexampleservice.example%2F"
    "&redirect_uri=https%3A%2F%2Fevil.example%2F",
    "domain=example.com&IP=%ZZ&token=x",
    "domain=example.com&IP=%FF&token=x",
])
def test_duplicated_or_undecodable_params_are_refused_on_a_page(client, make_template, zones, alice, query):
    make_template()
    client.force_login(alice)
    response = client.get(apply_url(query=query))
    assert response.status_code == 400
    assert "Location" not in response
    assert b"Connect" not in response.content or b'value="approve"' not in response.content
    assert_nothing_written(zones)


@pytest.mark.parametrize("domain", ["", "exa mple.com", "-bad-.com", "com"])
def test_bad_domain_parameter(client, make_template, zones, alice, domain):
    make_template()
    client.force_login(alice)
    params = redirect_params(client.get(apply_url(query=default_query(domain=domain))))
    assert params["error"] == ["invalid_request"]


# -- login (A.13) -----------------------------------------------------------------------------------------

def test_anonymous_user_is_sent_to_login_with_the_raw_query(client, make_template, zones):
    make_template()
    raw = "domain=example.com&IP=198.51.100.7&token=a+b%2Bc%20d%7E%C3%A9&state=x%26y"
    response = client.get(apply_url(query=raw))
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.path == "/accounts/login/"
    next_url = parse_qs(location.query)["next"][0]
    # Only a token goes through login; the query waits in the session byte-exact (tests/sync/test_login_resume.py).
    assert next_url.startswith("/domainconnect/resume/") and "?" not in next_url
    assert client.session["domainconnect_sync_resume"][next_url.rsplit("/", 1)[-1]]["query"] == raw
    assert_nothing_written(zones)


def test_get_never_writes_even_with_confirm_params(client, make_template, zones, alice):
    make_template()
    client.force_login(alice)
    response = client.get(apply_url(query=default_query(confirm="1", action="approve", force="1")))
    assert response.status_code == 200
    assert_nothing_written(zones)


def test_login_on_another_host_gets_an_absolute_next_from_configuration(client, make_template, zones, settings):
    make_template()
    settings.LOGIN_URL = "https://login.example.net/sso"
    raw = "domain=example.com&IP=198.51.100.7&token=t"
    response = client.get(apply_url(query=raw), HTTP_HOST="localhost")
    location = urlsplit(response["Location"])
    assert (location.netloc, location.path) == ("login.example.net", "/sso")
    next_url = parse_qs(location.query)["next"][0]
    assert next_url.startswith("https://dns.example.net/domainconnect/resume/")
