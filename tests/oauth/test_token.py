"""The token endpoint (draft §8.4.4; SECURITY.md 28–33)."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_refresh_token_model

from django_domainconnect.oauth.models import Grant
from tests.oauth.conftest import PROVIDER, REDIRECT, SECRET, approve, consent_url, exchange, location_params

pytestmark = pytest.mark.django_db
TOKEN = "/v2/oauth/access_token"


@pytest.fixture
def code(client, alice, zones, templates, sp_client):
    client.force_login(alice)
    value = location_params(approve(client, consent_url(scope="web")))["code"]
    client.logout()
    return value


def post_form(client, data, query=None):
    url = TOKEN + (f"?{urlencode(query)}" if query else "")
    return client.post(url, data=urlencode(data), content_type="application/x-www-form-urlencoded")


def assert_error(response, error):
    assert response.status_code == 400, response.content
    assert response.json()["error"] == error
    assert response["Cache-Control"] == "no-store"


def test_library_style_exchange_query_plus_json_body(client, code):
    response = exchange(client, code)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert response["Cache-Control"] == "no-store"
    grant = Grant.objects.get()
    assert grant.code_used_at is not None and grant.token_family is not None


def test_form_body_exchange(client, code):
    response = post_form(client, {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
                                  "client_id": PROVIDER, "client_secret": SECRET})
    assert response.status_code == 200


def test_everything_in_the_query_with_an_empty_form_body(client, code):
    # exampleservice and domainconnect-go: all parameters in the URL, form content type, empty body.
    query = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "client_id": PROVIDER,
             "client_secret": SECRET}
    response = client.post(f"{TOKEN}?{urlencode(query)}", data=b"", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200


def test_http_basic_client_authentication(client, code):
    basic = base64.b64encode(f"{PROVIDER}:{SECRET}".encode()).decode()
    response = client.post(
        TOKEN, data=urlencode({"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}),
        content_type="application/x-www-form-urlencoded", HTTP_AUTHORIZATION=f"Basic {basic}")
    assert response.status_code == 200


def test_secret_in_query_can_be_refused(client, code, settings):
    settings.DOMAINCONNECT_OAUTH = {"ACCEPT_SECRET_IN_QUERY": False}
    query = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "client_id": PROVIDER,
             "client_secret": SECRET}
    assert_error(client.post(f"{TOKEN}?{urlencode(query)}"), "invalid_request")


def test_conflicting_duplicates_are_refused(client, code):
    response = client.post(f"{TOKEN}?{urlencode({'grant_type': 'authorization_code', 'code': code})}",
                           data=json.dumps({"code": "other", "client_id": PROVIDER, "client_secret": SECRET,
                                            "redirect_uri": REDIRECT}),
                           content_type="application/json")
    assert_error(response, "invalid_request")
    assert exchange(client, code).status_code == 200  # the code was not consumed


def test_json_duplicate_keys_are_refused(client, code):
    raw = (f'{{"grant_type": "authorization_code", "code": "{code}", "client_id": "{PROVIDER}", "client_id": "x", '
           f'"client_secret": "{SECRET}", "redirect_uri": "{REDIRECT}"}}')
    assert_error(client.post(TOKEN, data=raw, content_type="application/json"), "invalid_request")


def test_code_and_refresh_token_together_are_refused(client, code):
    assert_error(exchange(client, code, refresh_token="x"), "invalid_request")


@pytest.mark.parametrize("grant_type, error", [("password", "unsupported_grant_type"),
                                               ("client_credentials", "unsupported_grant_type"),
                                               ("implicit", "unsupported_grant_type"),
                                               ("", "invalid_request")])
def test_other_grant_types_are_refused(client, code, grant_type, error):
    response = post_form(client, {"grant_type": grant_type, "username": "alice", "password": "pw-alice",
                                  "client_id": PROVIDER, "client_secret": SECRET})
    assert_error(response, error)


def assert_client_error(response, *, basic: bool = False):
    # RFC 6749 §5.2: 400 invalid_client for credentials sent as parameters (what the PyPI client
    # understands, INTEROP.md); 401 with a Basic challenge when the client authenticated with the header.
    assert response.status_code == (401 if basic else 400), response.content
    assert response.json()["error"] == "invalid_client"
    if basic:
        assert response["WWW-Authenticate"].startswith("Basic ")
    else:
        assert "WWW-Authenticate" not in response
    assert response["Cache-Control"] == "no-store"


def test_wrong_secret(client, code):
    response = client.post(f"{TOKEN}?{urlencode({'grant_type': 'authorization_code', 'code': code})}",
                           data=json.dumps({"client_id": PROVIDER, "client_secret": "wrong",
                                            "redirect_uri": REDIRECT}), content_type="application/json")
    assert_client_error(response)
    assert exchange(client, code).status_code == 200  # the code was not consumed


def test_wrong_secret_with_http_basic(client, code):
    basic = base64.b64encode(f"{PROVIDER}:wrong".encode()).decode()
    response = client.post(
        TOKEN, data=urlencode({"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}),
        content_type="application/x-www-form-urlencoded", HTTP_AUTHORIZATION=f"Basic {basic}")
    assert_client_error(response, basic=True)


@pytest.mark.parametrize("credentials", [{"client_id": "unknown.example", "client_secret": SECRET},
                                         {"client_id": PROVIDER}, {}])
def test_unknown_or_unauthenticated_client(client, code, credentials):
    response = post_form(client, {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
                                  **credentials})
    assert_client_error(response)


def test_refresh_with_a_wrong_secret(client, code):
    first = exchange(client, code).json()
    response = post_form(client, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"],
                                  "client_id": PROVIDER, "client_secret": "wrong"})
    assert_client_error(response)


def test_refresh_asking_for_more_scope(client, code):
    # The grant covers "web"; a refresh may narrow the scope but never widen it (RFC 6749 §6).
    first = exchange(client, code).json()
    response = post_form(client, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"],
                                  "client_id": PROVIDER, "client_secret": SECRET, "scope": "web mail"})
    assert_error(response, "invalid_scope")


def test_code_used_twice_fails_and_revokes_what_it_gave(client, code):
    first = exchange(client, code).json()
    assert_error(exchange(client, code), "invalid_grant")
    checksum = hashlib.sha256(first["access_token"].encode()).hexdigest()
    assert not get_access_token_model().objects.filter(token_checksum=checksum).exists()
    assert Grant.objects.get().revoked_at is not None
    refresh = post_form(client, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"],
                                 "client_id": PROVIDER, "client_secret": SECRET})
    assert_error(refresh, "invalid_grant")


def test_expired_code(client, code):
    from oauth2_provider.models import get_grant_model

    get_grant_model().objects.update(expires=timezone.now() - timedelta(seconds=1))
    assert_error(exchange(client, code), "invalid_grant")


@pytest.mark.parametrize("redirect_uri", [REDIRECT + "/", "https://evil.example/cb", None])
def test_redirect_uri_must_repeat_the_authorize_one(client, code, redirect_uri):
    query = {"grant_type": "authorization_code", "code": code}
    if redirect_uri:
        query["redirect_uri"] = redirect_uri
    response = client.post(f"{TOKEN}?{urlencode(query)}",
                           data=json.dumps({"client_id": PROVIDER, "client_secret": SECRET}),
                           content_type="application/json")
    assert_error(response, "invalid_grant")  # RFC 6749 §5.2, SECURITY.md 28 (oauthlib says invalid_request)
    assert "redirect_uri" in response.json()["error_description"]
    assert exchange(client, code).status_code == 200  # refused before the code was used up


def test_code_of_another_client(client, code):
    from django_domainconnect.oauth.clients import create_client

    create_client("other.example", ["https://other.example/cb"], secret="other-secret-123456")
    query = {"grant_type": "authorization_code", "code": code, "redirect_uri": "https://other.example/cb"}
    response = client.post(f"{TOKEN}?{urlencode(query)}",
                           data=json.dumps({"client_id": "other.example", "client_secret": "other-secret-123456"}),
                           content_type="application/json")
    assert_error(response, "invalid_grant")


def test_code_of_a_revoked_grant(client, code):
    Grant.objects.get().revoke()
    assert_error(exchange(client, code), "invalid_grant")


def refresh(client, refresh_token, **extra):
    # As the domain-connect library sends it: secret in the query and the body, plus redirect_uri.
    query = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": PROVIDER,
             "client_secret": SECRET, "redirect_uri": REDIRECT}
    return client.post(f"{TOKEN}?{urlencode(query)}",
                       data=json.dumps({"client_id": PROVIDER, "client_secret": SECRET, **extra}),
                       content_type="application/json")


def test_refresh_rotates(client, code):
    first = exchange(client, code).json()
    response = refresh(client, first["refresh_token"])
    assert response.status_code == 200, response.content
    second = response.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert second["token_type"] == "bearer"
    checksum = hashlib.sha256(first["access_token"].encode()).hexdigest()
    assert not get_access_token_model().objects.filter(token_checksum=checksum).exists()


def test_refresh_replay_revokes_the_family(client, code):
    first = exchange(client, code).json()
    second = refresh(client, first["refresh_token"]).json()
    assert_error(refresh(client, first["refresh_token"]), "invalid_grant")
    assert_error(refresh(client, second["refresh_token"]), "invalid_grant")
    assert not get_refresh_token_model().objects.filter(revoked__isnull=True).exists()


def test_refresh_by_another_client(client, code):
    from django_domainconnect.oauth.clients import create_client

    first = exchange(client, code).json()
    create_client("other.example", ["https://other.example/cb"], secret="other-secret-123456")
    response = post_form(client, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"],
                                  "client_id": "other.example", "client_secret": "other-secret-123456"})
    assert_error(response, "invalid_grant")


def test_refresh_after_the_absolute_grant_lifetime(client, code):
    first = exchange(client, code).json()
    Grant.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert_error(refresh(client, first["refresh_token"]), "invalid_grant")


def test_refresh_token_idle_lifetime_is_per_client(client, code, sp_client):
    first = exchange(client, code).json()
    sp_client.refresh_token_lifetime = 60
    sp_client.save()
    get_refresh_token_model().objects.update(created=timezone.now() - timedelta(seconds=61))
    assert_error(refresh(client, first["refresh_token"]), "invalid_grant")


def test_refresh_tokens_last_months_by_default(client, code):
    first = exchange(client, code).json()
    get_refresh_token_model().objects.update(created=timezone.now() - timedelta(days=90))
    get_access_token_model().objects.update(expires=timezone.now() - timedelta(days=89))
    assert refresh(client, first["refresh_token"]).status_code == 200


def test_access_token_lifetime_per_client_and_capped_by_grant(client, code, sp_client):
    sp_client.access_token_lifetime = 120
    sp_client.save()
    assert exchange(client, code).json()["expires_in"] == 120


def test_access_token_never_outlives_the_grant(client, code):
    Grant.objects.update(expires_at=timezone.now() + timedelta(seconds=30))
    assert 0 < exchange(client, code).json()["expires_in"] <= 30


def test_revoked_grant_stops_refresh(client, code):
    first = exchange(client, code).json()
    Grant.objects.get().revoke()
    assert_error(refresh(client, first["refresh_token"]), "invalid_grant")


def test_secrets_never_logged(client, code, caplog):
    caplog.set_level(logging.DEBUG)
    first = exchange(client, code).json()
    refresh(client, first["refresh_token"])
    refresh(client, first["refresh_token"])  # a failing replay logs too
    text = caplog.text
    for secret in (SECRET, code, first["refresh_token"], first["access_token"]):
        assert secret not in text


def test_get_is_not_allowed(client):
    assert client.get(TOKEN).status_code == 405


class TestPKCE:
    VERIFIER = "v" * 64

    @property
    def challenge(self):
        digest = hashlib.sha256(self.VERIFIER.encode()).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    @pytest.fixture
    def public(self, db):
        from django_domainconnect.oauth.clients import create_client

        create_client(PROVIDER, [REDIRECT], public=True)

    def _code(self, client, alice, **extra):
        client.force_login(alice)
        response = approve(client, consent_url(scope="web", **extra))
        client.logout()
        return location_params(response)

    def _exchange(self, client, code, **extra):
        query = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "client_id": PROVIDER}
        query.update(extra)
        return client.post(f"{TOKEN}?{urlencode(query)}")

    def test_public_client_needs_pkce(self, client, alice, zones, templates, public):
        client.force_login(alice)
        assert location_params(client.get(consent_url()))["error"] == "invalid_request"

    def test_public_client_with_s256(self, client, alice, zones, templates, public):
        code = self._code(client, alice, code_challenge=self.challenge, code_challenge_method="S256")["code"]
        assert self._exchange(client, code, code_verifier=self.VERIFIER).status_code == 200

    def test_wrong_or_missing_verifier(self, client, alice, zones, templates, public):
        code = self._code(client, alice, code_challenge=self.challenge, code_challenge_method="S256")["code"]
        assert self._exchange(client, code).status_code == 400
        code = self._code(client, alice, code_challenge=self.challenge, code_challenge_method="S256")["code"]
        assert self._exchange(client, code, code_verifier="w" * 64).status_code == 400

    @pytest.mark.parametrize("method", ["plain", None])
    def test_plain_method_is_refused(self, client, alice, zones, templates, public, method):
        client.force_login(alice)
        response = client.get(consent_url(code_challenge=self.VERIFIER, code_challenge_method=method))
        assert location_params(response)["error"] == "invalid_request"

    def test_verifier_without_challenge_is_refused(self, client, code):
        assert exchange(client, code, code_verifier=self.VERIFIER).status_code == 400

    def test_confidential_client_may_skip_pkce_by_default(self, client, code):
        assert exchange(client, code).status_code == 200


# -- RFC 7009 revocation and rate limits -----------------------------------------------------------------

def test_revoke_endpoint(client, code):
    first = exchange(client, code).json()
    response = client.post("/v2/oauth/revoke", data=urlencode({"token": first["refresh_token"],
                                                               "client_id": PROVIDER, "client_secret": SECRET}),
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert_error(refresh(client, first["refresh_token"]), "invalid_grant")
    checksum = hashlib.sha256(first["access_token"].encode()).hexdigest()
    assert not get_access_token_model().objects.filter(token_checksum=checksum).exists()


def test_revoke_endpoint_leaves_other_clients_tokens_alone(client, code):
    from django_domainconnect.oauth.clients import create_client

    first = exchange(client, code).json()
    create_client("other.example", ["https://other.example/cb"], secret="other-secret-123456")
    response = client.post("/v2/oauth/revoke", data=urlencode({"token": first["refresh_token"],
                                                               "client_id": "other.example",
                                                               "client_secret": "other-secret-123456"}),
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert refresh(client, first["refresh_token"]).status_code == 200


def test_revoke_endpoint_needs_client_authentication(client, code):
    first = exchange(client, code).json()
    response = client.post("/v2/oauth/revoke", data=urlencode({"token": first["refresh_token"],
                                                               "client_id": PROVIDER, "client_secret": "wrong"}),
                           content_type="application/x-www-form-urlencoded")
    assert_client_error(response)
    assert refresh(client, first["refresh_token"]).status_code == 200


def test_unexpected_failure_reports_no_secret(client, code, caplog, monkeypatch):
    from oauthlib.oauth2 import Server

    def boom(*args, **kwargs):
        raise RuntimeError(f"exploded with {SECRET}")

    monkeypatch.setattr(Server, "create_token_response", boom)
    query = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "client_id": PROVIDER,
             "client_secret": SECRET}
    response = client.post(f"{TOKEN}?{urlencode(query)}")
    assert response.status_code == 500
    assert response.json() == {"error": "server_error"}
    assert SECRET not in caplog.text and code not in caplog.text
    assert "RuntimeError" in caplog.text


@pytest.mark.parametrize("path", [TOKEN, "/v2/oauth/revoke"])
def test_multipart_without_boundary_is_400_not_500(client, path):
    response = client.generic("POST", path, b'{"a":1}', content_type="multipart/form-data")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
