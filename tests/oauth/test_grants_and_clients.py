"""Grants for people (page and admin; SECURITY.md 33, 61) and client registration (command, admin)."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from oauth2_provider.models import get_access_token_model, get_application_model, get_refresh_token_model

from django_domainconnect.models import AuditEvent
from django_domainconnect.oauth.models import Grant, ServiceProviderClient
from tests.oauth.conftest import PROVIDER, REDIRECT, apply_path

pytestmark = pytest.mark.django_db
GRANTS = "/domainconnect/grants/"


def api_ok(client, token) -> int:
    path = apply_path("ddns", domain="example.com", host="home", ip="198.51.100.1", groupId="IPv4")
    return client.generic("POST", path, b"", HTTP_AUTHORIZATION=f"Bearer {token}").status_code


def test_grants_page_lists_access_and_what_was_applied(client, authorize, alice):
    tokens = authorize(scope="web ddns", host="home,")
    assert api_ok(client, tokens.access_token) == 200
    client.force_login(alice)
    response = client.get(GRANTS)
    assert response.status_code == 200
    html = response.content.decode()
    assert PROVIDER in html and "example.com" in html and "home.example.com" in html
    assert "<code>ddns</code> on <code>home</code>" in html
    assert response["X-Frame-Options"] == "DENY"


def test_grants_page_needs_login(client):
    response = client.get(GRANTS)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_user_revokes_and_tokens_stop_at_once(client, authorize, alice):
    tokens = authorize(scope="ddns", host="home")
    grant = Grant.objects.get()
    client.force_login(alice)
    response = client.post(f"/domainconnect/grants/{grant.pk}/revoke")
    assert response.status_code == 302
    grant.refresh_from_db()
    assert grant.revoked_at is not None
    assert not get_access_token_model().objects.exists()
    assert not get_refresh_token_model().objects.filter(revoked__isnull=True).exists()
    client.logout()
    assert api_ok(client, tokens.access_token) == 401
    from tests.oauth.test_token import refresh

    assert refresh(client, tokens.refresh_token).status_code == 400
    assert AuditEvent.objects.filter(action="revoke", grant_id=grant.pk).exists()
    client.force_login(alice)
    assert "revoked" in client.get(GRANTS).content.decode()


def test_another_users_grant_cannot_be_revoked(client, authorize, bob):
    authorize(scope="ddns", host="home")
    grant = Grant.objects.get()
    client.force_login(bob)
    assert client.post(f"/domainconnect/grants/{grant.pk}/revoke").status_code == 404
    assert client.get(GRANTS).content.decode().count("Revoke access") == 0
    grant.refresh_from_db()
    assert grant.revoked_at is None


def test_revoke_needs_post_and_csrf(authorize, alice):
    from django.test import Client

    authorize(scope="ddns", host="home")
    grant = Grant.objects.get()
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice)
    assert browser.get(f"/domainconnect/grants/{grant.pk}/revoke").status_code == 405
    assert browser.post(f"/domainconnect/grants/{grant.pk}/revoke").status_code == 403
    grant.refresh_from_db()
    assert grant.revoked_at is None


def test_revoking_before_the_code_is_exchanged_kills_the_code(client, alice, zones, templates, sp_client):
    from tests.oauth.conftest import approve, consent_url, exchange, location_params

    client.force_login(alice)
    code = location_params(approve(client, consent_url(scope="web")))["code"]
    Grant.objects.get().revoke()
    assert exchange(client, code).status_code == 400


# -- admin ---------------------------------------------------------------------------------------------

def perm(codename: str) -> Permission:
    return Permission.objects.get(codename=codename, content_type__app_label="domainconnect_oauth")


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user("staff", password="pw", is_staff=True)


def test_admin_revoke_action(client, authorize, staff):
    tokens = authorize(scope="ddns", host="home")
    grant = Grant.objects.get()
    staff.user_permissions.add(perm("view_grant"),
                               perm("revoke_grant"))
    client.force_login(staff)
    response = client.post("/admin/domainconnect_oauth/grant/",
                           {"action": "revoke_selected", "_selected_action": [grant.pk]})
    assert response.status_code == 302
    grant.refresh_from_db()
    assert grant.revoked_at is not None
    client.logout()
    assert api_ok(client, tokens.access_token) == 401


def test_admin_without_permission(client, authorize, staff):
    authorize(scope="ddns", host="home")
    grant = Grant.objects.get()
    client.force_login(staff)
    assert client.get("/admin/domainconnect_oauth/grant/").status_code == 403
    staff.user_permissions.add(perm("view_grant"))
    client.post("/admin/domainconnect_oauth/grant/", {"action": "revoke_selected", "_selected_action": [grant.pk]})
    grant.refresh_from_db()
    assert grant.revoked_at is None  # viewing is not revoking


def test_admin_pages_render(client, authorize, django_user_model):
    authorize(scope="ddns", host="home")
    admin = django_user_model.objects.create_superuser("root", password="pw")
    client.force_login(admin)
    grant = Grant.objects.get()
    assert client.get("/admin/domainconnect_oauth/grant/").status_code == 200
    page = client.get(f"/admin/domainconnect_oauth/grant/{grant.pk}/change/")
    assert page.status_code == 200
    assert grant.code_hash not in page.content.decode()
    assert client.get("/admin/domainconnect_oauth/serviceproviderclient/").status_code == 200
    assert client.get("/admin/domainconnect_oauth/grant/add/").status_code == 403


# -- the command ---------------------------------------------------------------------------------------

def run(*args: str) -> str:
    out = io.StringIO()
    call_command("domainconnect_add_client", *args, stdout=out)
    return out.getvalue()


def test_command_creates_a_confidential_client(db):
    output = run("--provider-id", PROVIDER, "--redirect-uri", REDIRECT, "--redirect-uri",
                 "https://app.exampleservice.example/other")
    assert f"client_id: {PROVIDER}" in output
    secret = output.split("client_secret: ")[1].split()[0]
    app = get_application_model().objects.get(client_id=PROVIDER)
    assert app.client_secret != secret  # only a hash is stored
    assert app.redirect_uris.split() == [REDIRECT, "https://app.exampleservice.example/other"]
    profile = ServiceProviderClient.objects.get(provider_id=PROVIDER)
    assert profile.application == app and not profile.pkce_required


def test_command_with_given_secret_and_public(db):
    assert "client_secret: given-secret-1234" in run("--provider-id", "a.example", "--redirect-uri",
                                                     "https://a.example/cb", "--secret", "given-secret-1234")
    output = run("--provider-id", "b.example", "--redirect-uri", "https://b.example/cb", "--public")
    assert "client_secret" not in output
    assert ServiceProviderClient.objects.get(provider_id="b.example").pkce_required


@pytest.mark.parametrize("args", [
    ["--provider-id", "bad/id", "--redirect-uri", "https://a.example/cb"],
    ["--provider-id", "a.example", "--redirect-uri", "http://a.example/cb"],
    ["--provider-id", "a.example", "--redirect-uri", "not a uri"],
])
def test_command_refuses_bad_input(db, args):
    with pytest.raises(CommandError):
        run(*args)
    assert not get_application_model().objects.exists()


def test_command_refuses_a_second_client_for_a_provider(db):
    run("--provider-id", "a.example", "--redirect-uri", "https://a.example/cb")
    with pytest.raises(CommandError):
        run("--provider-id", "a.example", "--redirect-uri", "https://a.example/cb2")
    assert get_application_model().objects.count() == 1


def test_command_secret_and_public_are_exclusive(db):
    with pytest.raises(CommandError):
        run("--provider-id", "a.example", "--redirect-uri", "https://a.example/cb", "--secret", "x", "--public")


def test_unexchanged_expired_consents_are_not_listed(client, alice, zones, templates, sp_client):
    from datetime import timedelta

    from django.utils import timezone

    from tests.oauth.conftest import approve, consent_url

    client.force_login(alice)
    approve(client, consent_url(scope="web"))
    assert client.get(GRANTS).content.decode().count("Revoke access") == 1  # the code may still be swapped
    Grant.objects.update(created=timezone.now() - timedelta(hours=1))
    assert client.get(GRANTS).content.decode().count("Revoke access") == 0


def test_client_profile_must_match_its_application(db):
    from django.core.exceptions import ValidationError

    from django_domainconnect.oauth.clients import create_client

    profile = create_client("a.example", ["https://a.example/cb"], secret="s" * 20).client
    profile.provider_id = "b.example"
    with pytest.raises(ValidationError):
        profile.full_clean()


def test_grant_signals(client, alice, zones, templates, sp_client, django_capture_on_commit_callbacks):
    from django_domainconnect.oauth.signals import grant_created, grant_revoked
    from tests.oauth.conftest import approve, consent_url

    seen = []

    def created(sender, grant, user, **kwargs):
        seen.append(("created", grant.pk, user.username))

    def revoked(sender, grant, reason, **kwargs):
        seen.append(("revoked", grant.pk, reason))

    grant_created.connect(created)
    grant_revoked.connect(revoked)
    try:
        client.force_login(alice)
        with django_capture_on_commit_callbacks(execute=True):
            approve(client, consent_url(scope="web"))
        grant = Grant.objects.get()
        with django_capture_on_commit_callbacks(execute=True):
            client.post(f"/domainconnect/grants/{grant.pk}/revoke")
    finally:
        grant_created.disconnect(created)
        grant_revoked.disconnect(revoked)
    assert seen == [("created", grant.pk, "alice"), ("revoked", grant.pk, "revoked by user")]
