"""Redirect policy in the flow, error pages and page headers (SECURITY.md A.7–A.10, C.19, C.20, C.24)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.sync.helpers import apply_url, default_query

pytestmark = pytest.mark.django_db

HOSTILE = [
    "https://evil.com",
    "https://evilexampleservice.example/",
    "https://exampleservice.example.evil.com/",
    "https://exampleservice.example@evil.com/",
    "https://evil.com\\@exampleservice.example/",
    "https://evil.com#.exampleservice.example",
    "//evil.com",
    "http://app.exampleservice.example/",
    "javascript:alert(1)",
    "javascript://exampleservice.example/%0aalert(1)",
    "data:text/html,<script>alert(1)</script>",
]


def error_query(redirect_uri: str, **extra: str) -> dict[str, str]:
    # hostRequired is missing: an error that happens before login and before any zone lookup.
    return default_query(redirect_uri=redirect_uri, **extra)


@pytest.mark.parametrize("uri", HOSTILE)
def test_hostile_redirect_uri_never_redirects_nor_appears_in_a_link(client, make_template, zones, uri):
    make_template(hostRequired=True)
    response = client.get(apply_url(query=error_query(uri)))
    assert response.status_code == 400
    assert "Location" not in response
    body = response.content.decode()
    assert "evil.com" not in body and "javascript:" not in body and "data:" not in body
    assert "href" not in body.split("<main", 1)[1]  # no link built from request data


def test_template_without_sync_redirect_domain_never_redirects(client, make_template, zones):
    make_template(hostRequired=True, syncRedirectDomain=None)
    response = client.get(apply_url(query=error_query("https://app.exampleservice.example/")))
    assert response.status_code == 400
    assert "Location" not in response


def test_allowed_redirect_is_302_and_echoes_state_byte_exact(client, make_template, zones):
    make_template(hostRequired=True)
    query = default_query(redirect_uri="https://app.exampleservice.example/cb?x=1", state="a&code=x y~")
    response = client.get(apply_url(query=query))
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith("https://app.exampleservice.example/cb?x=1&")
    query_part = urlsplit(location).query
    assert "state=a%26code%3Dx%20y~" in query_part
    # no other request parameter is reflected
    assert "IP=" not in query_part and "token" not in query_part and "domain" not in query_part
    assert set(p.split("=")[0] for p in query_part.split("&")) == {"x", "error", "error_description", "state"}


def test_non_ascii_state_is_dropped_from_redirects(client, make_template, zones):
    """``state`` must be VSCHAR (printable ASCII); anything else is an invalid request and not echoed."""
    make_template()
    response = client.get(apply_url(query=default_query(state="\u202eevil")))
    assert response.status_code == 302
    assert "state=" not in response["Location"]


@pytest.mark.parametrize("payload", ['<script>alert(1)</script>', '"><img src=x onerror=alert(1)>'])
def test_error_page_escapes_reflected_values(client, make_template, zones, alice, payload):
    make_template(syncRedirectDomain=None)
    client.force_login(alice)
    response = client.get(apply_url(query=default_query(host=payload, state=payload)))
    assert response.status_code == 400
    body = response.content.decode()
    assert "<script>alert" not in body and "<img src=x" not in body


def test_pages_cannot_be_framed_and_do_not_leak_referrers(client, make_template, zones):
    make_template(hostRequired=True, syncRedirectDomain=None)
    for response in (
        client.get(apply_url(query=error_query("https://x.example/"))),  # error page
        client.get("/v2/domainTemplates/providers/nope/services/nope/apply"),  # 404 page
        client.get(apply_url(query=default_query(host="www"))),  # login redirect
    ):
        assert response["X-Frame-Options"] == "DENY"
        csp = response["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert response["Referrer-Policy"] == "no-referrer"
        assert "no-store" in response["Cache-Control"]


def test_bidi_controls_are_removed_from_error_text(client, make_template, zones, alice):
    make_template(syncRedirectDomain=None)
    client.force_login(alice)
    response = client.get(apply_url(query=default_query(host="abc\u202edef")))
    assert response.status_code == 400
    assert "\u202e" not in response.content.decode()


def test_consent_post_requires_csrf(make_template, zones, alice):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(alice)
    response = strict.post("/domainconnect/consent", {"nonce": "x", "action": "approve"})
    assert response.status_code == 403
    assert zones.write_count == 0


def test_consent_get_is_not_allowed(client, alice):
    client.force_login(alice)
    assert client.get("/domainconnect/consent?nonce=x&action=approve").status_code == 405


def test_unknown_nonce_is_refused(client, zones, alice):
    client.force_login(alice)
    response = client.post("/domainconnect/consent", {"nonce": "made-up", "action": "approve"})
    assert response.status_code == 400
    assert zones.write_count == 0



def test_host_header_injection_is_refused_and_never_used(client, make_template, zones):
    make_template()
    assert client.get(apply_url(query=default_query()), HTTP_HOST="evil.com").status_code == 400
    response = client.get(apply_url(query=default_query()), HTTP_X_FORWARDED_HOST="evil.com")
    assert response.status_code == 302  # to the login page, built without the forwarded host
    assert "evil.com" not in response["Location"]
