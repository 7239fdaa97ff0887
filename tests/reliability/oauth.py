"""Async-flow helpers: an OAuth client for ``sp.example`` and a Bearer token obtained the way a Service
Provider gets one (consent as the user, then the code exchange), through Django's test client."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from .conftest import DOMAIN, PROVIDER

REDIRECT = "https://app.sp.example/oauth/callback"
SECRET = "reliability-secret-0123456789abcdef"


def make_client() -> Any:
    from django_domainconnect.oauth.clients import create_client

    return create_client(PROVIDER, [REDIRECT], secret=SECRET).client


def issue_token(client: Any, user: Any, scope: str, *, domain: str = DOMAIN, host: str = "") -> str:
    """Consent as ``user`` for ``scope`` (space-separated serviceIds) and exchange the code."""
    query = {"client_id": PROVIDER, "scope": scope, "domain": domain, "host": host, "redirect_uri": REDIRECT,
             "state": "st"}
    url = f"/async/v2/domainTemplates/providers/{PROVIDER}?{urlencode(query)}"
    client.force_login(user)
    page = client.get(url)
    assert page.status_code == 200, page.content[:500]
    consent = re.search(r'name="consent" value="([^"]+)"', page.content.decode())
    assert consent, "no consent form"
    answer = client.post(url, {"consent": consent.group(1), "decision": "allow"})
    assert answer.status_code == 302, answer.status_code
    code = parse_qs(urlsplit(answer["Location"]).query)["code"][0]
    client.logout()
    token_query = urlencode({"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT})
    response = client.post(f"/v2/oauth/access_token?{token_query}",
                           data=json.dumps({"client_id": PROVIDER, "client_secret": SECRET}),
                           content_type="application/json")
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


def apply_path(service_id: str, **query: str) -> str:
    base = f"/v2/domainTemplates/providers/{PROVIDER}/services/{service_id}/apply"
    return f"{base}?{urlencode(query)}" if query else base


def revert_path(service_id: str, **query: str) -> str:
    base = f"/v2/domainTemplates/providers/{PROVIDER}/services/{service_id}/revert"
    return f"{base}?{urlencode(query)}" if query else base
