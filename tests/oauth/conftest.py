"""Fixtures for the async flow: a Service Provider client, templates, zones, and a consent→token helper."""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from tests.conftest import store_template_row

PROVIDER = "exampleservice.example"
REDIRECT = "https://app.exampleservice.example/oauth/callback"
SECRET = "s3cret-for-tests-only-0123456789"

needs_planner = pytest.mark.skipif(importlib.util.find_spec("django_domainconnect.engine.plan") is None,
                                   reason="django_domainconnect.engine.plan (the planner) is not there yet")


def template_body(service_id: str = "web", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "providerId": PROVIDER,
        "providerName": "Example Service",
        "serviceId": service_id,
        "serviceName": f"Example {service_id}",
        "version": 1,
        "records": [
            {"type": "A", "host": "@", "pointsTo": "%IP%", "ttl": 3600},
            {"type": "TXT", "host": "@", "data": "example-verify=%token%", "ttl": 3600},
        ],
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


DDNS_RECORDS = [
    {"type": "A", "host": "@", "pointsTo": "%ip%", "ttl": 300, "groupId": "IPv4"},
    {"type": "AAAA", "host": "@", "pointsTo": "%ipv6%", "ttl": 300, "groupId": "IPv6"},
]


@pytest.fixture
def make_template(db):
    def make(service_id: str = "web", **overrides: Any) -> Any:
        return store_template_row(template_body(service_id, **overrides))

    return make


@pytest.fixture
def templates(make_template):
    return {
        "web": make_template("web"),
        "mail": make_template("mail", records=[{"type": "MX", "host": "@", "pointsTo": "mx.exampleservice.example",
                                                 "priority": 10, "ttl": 3600}]),
        "ddns": make_template("ddns", records=DDNS_RECORDS),
    }


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user("alice", password="pw-alice")


@pytest.fixture
def bob(django_user_model):
    return django_user_model.objects.create_user("bob", password="pw-bob")


@pytest.fixture
def zones(memory_backend, alice, bob):
    from django_domainconnect.engine.types import Record

    memory_backend.add_zone("example.com", owners=["alice"], records=[
        Record("example.com.", "A", 3600, "192.0.2.1"),
        Record("www.example.com.", "CNAME", 3600, "example.com."),
    ])
    memory_backend.add_zone("other.example", owners=["alice"])
    memory_backend.add_zone("bob.example", owners=["bob"])
    return memory_backend


@pytest.fixture
def sp_client(db):
    from django_domainconnect.oauth.clients import create_client

    return create_client(PROVIDER, [REDIRECT], secret=SECRET).client


def consent_url(*, provider: str = PROVIDER, service: str | None = None, **params: str) -> str:
    query = {"client_id": PROVIDER, "scope": "web", "domain": "example.com", "host": "",
             "redirect_uri": REDIRECT, "state": "st-1"}
    query.update(params)
    query = {k: v for k, v in query.items() if v is not None}
    path = f"/async/v2/domainTemplates/providers/{provider}"
    if service:
        path += f"/services/{service}"
    return f"{path}?{urlencode(query)}"


def location_params(response: Any) -> dict[str, str]:
    assert response.status_code == 302, response.status_code
    return {k: v[0] for k, v in parse_qs(urlsplit(response["Location"]).query, keep_blank_values=True).items()}


def consent_token(response: Any) -> str:
    html = response.content.decode()
    marker = 'name="consent" value="'
    start = html.index(marker) + len(marker)
    return html[start:html.index('"', start)]


def approve(client: Any, url: str, decision: str = "allow") -> Any:
    """Show the consent page, then post the decision as the browser would."""
    page = client.get(url)
    assert page.status_code == 200, page.content[:500]
    return client.post(url, {"consent": consent_token(page), "decision": decision})


@dataclass
class Tokens:
    access_token: str
    refresh_token: str
    expires_in: int


def exchange(client: Any, code: str, **extra: Any) -> Any:
    query = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    return client.post(f"/v2/oauth/access_token?{urlencode(query)}",
                       data=json.dumps({"client_id": PROVIDER, "client_secret": SECRET, **extra}),
                       content_type="application/json")


@pytest.fixture
def authorize(client, alice, zones, templates, sp_client):
    """Consent as alice for ``scope``/``host`` and exchange the code: returns ``Tokens``."""

    def run(scope: str = "web ddns", host: str = "", domain: str = "example.com") -> Tokens:
        client.force_login(alice)
        code = location_params(approve(client, consent_url(scope=scope, host=host, domain=domain)))["code"]
        client.logout()
        response = exchange(client, code)
        assert response.status_code == 200, response.content
        body = response.json()
        return Tokens(body["access_token"], body["refresh_token"], body["expires_in"])

    return run


def bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def apply_path(service: str = "web", provider: str = PROVIDER, **query: str) -> str:
    base = f"/v2/domainTemplates/providers/{provider}/services/{service}/apply"
    return f"{base}?{urlencode(query)}" if query else base
