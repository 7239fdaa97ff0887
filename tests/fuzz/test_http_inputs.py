"""Hostile input over HTTP (SECURITY.md fuzz target 8, item 42; issue 6: "bad input always gets a 4xx with a
clear message"). Raw query bytes, bodies and content types go through the Django test client to the sync
apply link, the token endpoint and the async API: never a 5xx, never a write, always a readable reason.
"""

from __future__ import annotations

import json
import os
from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.oauth.conftest import PROVIDER, apply_path, bearer

HTTP = settings(max_examples=int(os.environ.get("DC_FUZZ_EXAMPLES", "60")), deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
SYNC = f"/v2/domainTemplates/providers/{PROVIDER}/services/web/apply"

query_bytes = st.one_of(
    st.binary(max_size=200),
    st.lists(st.sampled_from([b"domain=example.com", b"domain=", b"host=www", b"host=..", b"IP=192.0.2.1",
                              b"IP=%0a", b"token=%00", b"state=%ff", b"redirect_uri=javascript:alert(1)",
                              b"redirect_uri=https%3A%2F%2Fevil.example", b"sig=%", b"key=a.b", b"groupId=",
                              b"providerName=%3Cscript%3E", b"domain=xn--", b"domain=%E2%80%AE", b"&", b"=",
                              b"%", b"+", b"domain=example.com"]), max_size=8).map(b"&".join),
)


class _ErrorText(HTMLParser):
    """The text of an error page's description (``dc-error-description``)."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if self.depth or ("class", "dc-error-description") in attrs:
            self.depth += 1

    def handle_endtag(self, tag: str) -> None:
        if self.depth:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.text.append(data)


def _assert_clear_refusal(response) -> None:
    assert response.status_code < 500, response.content[:300]
    if response.status_code < 400:
        return
    if response["Content-Type"].startswith("application/json"):
        body = json.loads(response.content)
        assert body.get("error_description") or body.get("message"), body
    else:
        parser = _ErrorText()
        parser.feed(response.content.decode())
        assert "".join(parser.text).strip(), response.content[:300]


@pytest.fixture
def no_rate_limits(monkeypatch):
    from django_domainconnect.conf import DEFAULTS

    for bucket in list(DEFAULTS["RATE_LIMITS"]):
        monkeypatch.setitem(DEFAULTS["RATE_LIMITS"], bucket, None)


def _writes(zones) -> tuple:
    from django_domainconnect.models import AppliedTemplate, AuditEvent

    return (sorted(zones.list_records(zones.get_zone("example.com"))), AppliedTemplate.objects.count(),
            AuditEvent.objects.filter(outcome="success").count())


@HTTP
@given(raw=query_bytes, signed_in=st.booleans())
@example(raw=b"domain=example.com&domain=example.com", signed_in=True)
@example(raw=b"domain=%C0%AF", signed_in=True)
@example(raw=b"\xff\xfe=\x00", signed_in=False)
def test_sync_apply_link_with_hostile_query(client, alice, zones, templates, no_rate_limits, raw, signed_in):
    before = _writes(zones)
    if signed_in:
        client.force_login(alice)
    else:
        client.logout()
    response = client.generic("GET", SYNC, QUERY_STRING=raw.decode("latin-1"))
    _assert_clear_refusal(response)
    assert response.status_code in (200, 302, 400, 403, 404, 503)
    assert _writes(zones) == before  # a GET never writes


content_types = st.sampled_from(["application/json", "application/x-www-form-urlencoded", "text/plain",
                                 "multipart/form-data; boundary=x", "application/json; charset=latin-1", ""])


@HTTP
@given(body=st.binary(max_size=200) | st.dictionaries(st.sampled_from(
    ["grant_type", "code", "refresh_token", "client_id", "client_secret", "redirect_uri", "code_verifier"]),
    st.text(max_size=20) | st.integers(), max_size=7).map(lambda d: json.dumps(d).encode()),
    content_type=content_types, query=query_bytes)
@example(body=b'{"grant_type": ["x"]}', content_type="application/json", query=b"")
@example(body=b'{"grant_type": "authorization_code", "grant_type": "refresh_token"}',
         content_type="application/json", query=b"")
def test_token_endpoint_with_hostile_input(client, sp_client, no_rate_limits, body, content_type, query):
    response = client.generic("POST", "/v2/oauth/access_token", data=body, content_type=content_type,
                              QUERY_STRING=query.decode("latin-1"))
    assert response.status_code in (400, 401), response.content[:300]
    _assert_clear_refusal(response)
    assert response["Cache-Control"] == "no-store"


@HTTP
@given(query=query_bytes, body=st.binary(max_size=120), content_type=content_types,
       method=st.sampled_from(["POST", "DELETE"]))
@example(query=b"domain=example.com&force=2", body=b"", content_type="", method="POST")
@example(query=b"domain=example.com&instanceId=..%2F", body=b"", content_type="", method="DELETE")
@example(query=b"domain=example.com", body=b'{"domain": "bob.example"}', content_type="application/json",
         method="POST")
def test_async_api_with_hostile_input(client, authorize, zones, no_rate_limits, query, body, content_type, method):
    tokens = _token(authorize)
    before = _writes(zones)
    response = client.generic(method, apply_path("web"), data=body, content_type=content_type,
                              QUERY_STRING=query.decode("latin-1"), **bearer(tokens.access_token))
    # 200 only when the generated query happens to be a complete, authorised request.
    assert response.status_code in (200, 400, 403, 404, 409, 410), response.content[:300]
    _assert_clear_refusal(response)
    if response.status_code >= 400:
        assert _writes(zones) == before


_TOKENS: dict[int, object] = {}


def _token(authorize):
    # One consent per test function run (the fixture's database lives as long as the test).
    key = id(authorize)
    if key not in _TOKENS:
        _TOKENS.clear()
        _TOKENS[key] = authorize(scope="web")
    return _TOKENS[key]


@HTTP
@given(fields=st.dictionaries(st.sampled_from(["nonce", "action", "csrfmiddlewaretoken", "x"]),
                              st.text(max_size=60), max_size=4),
       signed_in=st.booleans())
@example(fields={"nonce": "a" * 43, "action": "approve"}, signed_in=True)
@example(fields={"nonce": "\x00", "action": "cancel"}, signed_in=True)
def test_sync_consent_post_with_hostile_fields(client, alice, zones, templates, no_rate_limits, fields, signed_in):
    before = _writes(zones)
    if signed_in:
        client.force_login(alice)
    else:
        client.logout()
    response = client.post("/domainconnect/consent", fields)
    assert response.status_code in (400, 403, 409), response.content[:300]
    _assert_clear_refusal(response)
    assert _writes(zones) == before


@HTTP
@given(raw=query_bytes | st.lists(st.sampled_from([
    b"client_id=" + PROVIDER.encode(), b"client_id=x", b"scope=web", b"scope=web%20web", b"scope=%00",
    b"redirect_uri=https%3A%2F%2Fapp.exampleservice.example%2Foauth%2Fcallback", b"redirect_uri=javascript:x",
    b"response_type=code", b"response_type=token", b"domain=example.com", b"host=%0a", b"state=%ff",
    b"code_challenge=x", b"code_challenge_method=plain", b"prompt=none"]), max_size=8).map(b"&".join),
    method=st.sampled_from(["GET", "POST"]))
def test_async_consent_with_hostile_query(client, alice, zones, templates, sp_client, no_rate_limits, raw, method):
    from django_domainconnect.oauth.models import Grant

    client.force_login(alice)
    path = f"/async/v2/domainTemplates/providers/{PROVIDER}"
    response = client.generic(method, path, QUERY_STRING=raw.decode("latin-1"))
    assert response.status_code in (200, 302, 400, 403, 404), response.content[:300]
    if response.status_code != 302:
        _assert_clear_refusal(response)
    assert not Grant.objects.exists()  # nothing is granted without the shown consent token


@HTTP
@given(domain=st.text(max_size=40).filter(lambda s: "/" not in s and "\x00" not in s))
def test_connected_page_with_hostile_domain(client, alice, zones, no_rate_limits, domain):
    from urllib.parse import quote

    client.force_login(alice)
    response = client.get(f"/domainconnect/connected/{quote(domain, safe='')}/")
    assert response.status_code in (200, 301, 302, 400, 403, 404), response.content[:300]
