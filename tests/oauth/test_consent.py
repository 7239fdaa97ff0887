"""The async consent page (draft §8.4.3, SECURITY.md 26, 27, 34)."""

from __future__ import annotations

import pytest

from django_domainconnect.models import AuditEvent
from django_domainconnect.oauth.models import Grant, code_hash
from tests.oauth.conftest import (
    PROVIDER,
    REDIRECT,
    approve,
    consent_token,
    consent_url,
    location_params,
    needs_planner,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def ready(client, alice, zones, templates, sp_client):
    client.force_login(alice)
    return client


def assert_error_page(response, status=400):
    assert response.status_code == status
    assert "Location" not in response
    assert response["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]


@pytest.mark.parametrize("redirect_uri", [
    "https://evil.example/cb",
    REDIRECT + "?x=1",
    REDIRECT + ";p",
    REDIRECT + "/",
    REDIRECT + "#frag",
    "http://app.exampleservice.example/oauth/callback",
    "https://user@app.exampleservice.example/oauth/callback",
    "",
])
def test_unregistered_redirect_uri_is_an_error_page_never_a_redirect(ready, redirect_uri):
    assert_error_page(ready.get(consent_url(redirect_uri=redirect_uri)))


@pytest.mark.parametrize("client_id", ["", "unknown.example", "EXAMPLESERVICE.example"])
def test_unknown_client_is_an_error_page(ready, client_id):
    assert_error_page(ready.get(consent_url(client_id=client_id)))


def test_client_of_another_provider_in_the_path_is_refused(ready, make_template):
    from django_domainconnect.oauth.clients import create_client

    create_client("other.example", ["https://other.example/cb"], secret="x" * 20)
    assert_error_page(ready.get(consent_url(provider="other.example")))


def test_bad_client_is_refused_before_login(client, zones, templates, sp_client):
    assert_error_page(client.get(consent_url(redirect_uri="https://evil.example/cb")))


def test_duplicate_parameters_are_an_error_page(ready):
    assert_error_page(ready.get(consent_url() + "&redirect_uri=https%3A%2F%2Fevil.example%2F"))


@pytest.mark.parametrize("scope, error", [
    ("", "invalid_scope"),
    ("nosuch", "invalid_scope"),
    ("web nosuch", "invalid_scope"),
    ("../web", "invalid_scope"),
])
def test_bad_scope_redirects_with_error_and_state(ready, scope, error):
    params = location_params(ready.get(consent_url(scope=scope, state="a&b=c")))
    assert params == {**params, "error": error, "state": "a&b=c"}
    assert "code" not in params
    assert Grant.objects.count() == 0


def test_scope_of_another_provider_is_refused(ready, make_template):
    from django_domainconnect import models

    body = {"providerId": "other.example", "providerName": "O", "serviceId": "theirs", "serviceName": "T",
            "version": 1, "records": [{"type": "TXT", "host": "@", "data": "x", "ttl": 300}]}
    models.Template.objects.create(provider_id="other.example", service_id="theirs", provider_name="O",
                                   service_name="T", version=1, body=body, record_types=["TXT"])
    assert location_params(ready.get(consent_url(scope="web theirs")))["error"] == "invalid_scope"


def test_service_in_path_must_be_in_scope(ready):
    assert location_params(ready.get(consent_url(service="mail", scope="web")))["error"] == "invalid_scope"


def test_response_type_other_than_code(ready):
    params = location_params(ready.get(consent_url(response_type="token")))
    assert params["error"] == "unsupported_response_type"


@pytest.mark.parametrize("extra", [{"domain": ""}, {"domain": "not a domain"}, {"host": "bad..host"},
                                   {"host": "evil.com."}])
def test_bad_domain_or_host(ready, extra):
    assert location_params(ready.get(consent_url(**extra)))["error"] == "invalid_request"


@pytest.mark.parametrize("extra", [{"host": "off\r\n"}, {"host": "s1, "}, {"host": "s1,\t"},
                                   {"domain": "example.com\n"}, {"domain": " example.com"},
                                   {"domain": "example.com\x00"}])
def test_names_with_whitespace_or_controls_are_refused_not_trimmed(ready, extra, monkeypatch):
    from django_domainconnect.engine import names

    # Even with a normaliser that trims (as the engine's once did), the page refuses the request itself.
    strict_domain, strict_host = names.normalize_domain, names.normalize_host
    monkeypatch.setattr(names, "normalize_domain", lambda d: strict_domain(d.strip()))
    monkeypatch.setattr(names, "normalize_host", lambda h: strict_host(h.strip() if h else h))
    params = location_params(ready.get(consent_url(**extra)))
    assert params["error"] == "invalid_request"
    assert "whitespace or a control character" in params["error_description"]
    assert not Grant.objects.exists()


def test_login_comes_after_client_checks(client, zones, templates, sp_client):
    response = client.get(consent_url())
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.parametrize("domain", ["bob.example", "nothere.example", "www.example.com"])
def test_domain_not_managed_by_user_is_access_denied(ready, domain):
    params = location_params(ready.get(consent_url(domain=domain)))
    assert params["error"] == "access_denied"
    assert params["state"] == "st-1"
    assert Grant.objects.count() == 0


def test_inactive_zone_is_access_denied(ready, zones):
    zones.set_active("example.com", False)
    assert location_params(ready.get(consent_url()))["error"] == "access_denied"


@needs_planner
def test_page_shows_every_template_and_host(ready):
    response = ready.get(consent_url(scope="web mail", host="shop,", IP="198.51.100.7", token="t"))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('class="dc-combination"') == 4
    assert "shop.example.com" in html
    assert "mx.exampleservice.example" in html
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"  # a form page: nothing leaves the origin, CSRF passes


@needs_planner
def test_page_shows_conflicts_known_now(ready):
    html = ready.get(consent_url(IP="198.51.100.7", token="t")).content.decode()
    assert "would be removed" in html
    assert "192.0.2.1" in html  # the existing A record at the apex


@needs_planner
def test_page_without_variables_says_records_come_later(ready):
    html = ready.get(consent_url()).content.decode()
    assert "dc-pending" in html


@needs_planner
def test_approve_redirects_with_code_and_state_and_stores_the_grant(ready, alice, sp_client):
    response = approve(ready, consent_url(scope="web mail", host="shop,", state="x y&z"))
    params = location_params(response)
    assert response["Location"].startswith(REDIRECT + "?")
    assert params["state"] == "x y&z" and params["code"]
    grant = Grant.objects.get()
    assert grant.user == alice and grant.client == sp_client and grant.provider_id == PROVIDER
    assert grant.service_ids == ["web", "mail"]
    assert grant.domain == "example.com" and grant.hosts == ["shop", ""]
    assert grant.template_versions == {"web": 1, "mail": 1}
    assert grant.code_hash == code_hash(params["code"])
    assert AuditEvent.objects.filter(action="grant", client_id=PROVIDER, grant_id=grant.pk).exists()


@needs_planner
def test_idn_domain_is_stored_as_alabels(ready, zones):
    zones.add_zone("xn--bcher-kva.example", owners=["alice"])
    approve(ready, consent_url(domain="bücher.example"))
    assert Grant.objects.get().domain == "xn--bcher-kva.example"


@needs_planner
def test_refuse_redirects_access_denied(ready):
    params = location_params(approve(ready, consent_url(), decision="deny"))
    assert params["error"] == "access_denied"
    assert params["error_description"].startswith("user_cancel")
    assert params["state"] == "st-1"
    assert Grant.objects.count() == 0


@needs_planner
def test_post_without_the_shown_token_asks_again(ready):
    response = ready.post(consent_url(), {"consent": "forged", "decision": "allow"})
    assert response.status_code == 409
    assert Grant.objects.count() == 0


@needs_planner
def test_post_for_another_request_asks_again(ready):
    token = consent_token(ready.get(consent_url(scope="web")))
    response = ready.post(consent_url(scope="web mail"), {"consent": token, "decision": "allow"})
    assert response.status_code == 409
    assert Grant.objects.count() == 0


@needs_planner
def test_user_switch_between_display_and_post_asks_again(client, alice, bob, zones, templates, sp_client):
    zones.set_owners("example.com", ["alice", "bob"])
    client.force_login(alice)
    token = consent_token(client.get(consent_url()))
    client.force_login(bob)
    assert client.post(consent_url(), {"consent": token, "decision": "allow"}).status_code == 409
    assert Grant.objects.count() == 0


@needs_planner
def test_template_version_bump_between_display_and_post_asks_again(ready, templates):
    token = consent_token(ready.get(consent_url()))
    templates["web"].version = 2
    templates["web"].save()
    assert ready.post(consent_url(), {"consent": token, "decision": "allow"}).status_code == 409


def test_post_needs_csrf(alice, zones, templates, sp_client):
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(alice)
    assert csrf_client.post(consent_url(), {"decision": "allow"}).status_code == 403
    assert Grant.objects.count() == 0


def test_pkce_required_client_without_challenge(ready, sp_client):
    sp_client.pkce_required = True
    sp_client.save()
    params = location_params(ready.get(consent_url()))
    assert params["error"] == "invalid_request"


@pytest.mark.parametrize("payload", ['<script>alert(1)</script>', '"><img src=x onerror=alert(1)>'])
@needs_planner
def test_values_are_escaped(ready, payload):
    html = ready.get(consent_url(token=payload, IP="198.51.100.7")).content.decode()
    assert payload not in html


def test_phishing_warning_when_variables_choose_targets(ready):
    # "web" points the apex A record at %IP%, chosen later by the Service Provider.
    assert "dc-phishing" in ready.get(consent_url(scope="web")).content.decode()


def test_no_phishing_warning_for_fixed_targets(ready):
    assert "dc-phishing" not in ready.get(consent_url(scope="mail")).content.decode()


def test_warn_phishing_flag(ready, make_template):
    make_template("flagged", warnPhishing=True,
                  records=[{"type": "TXT", "host": "@", "data": "fixed", "ttl": 300}])
    assert "dc-phishing" in ready.get(consent_url(scope="flagged")).content.decode()


@pytest.mark.parametrize("decision, key", [("allow", "code"), ("deny", "error")])
def test_redirect_uri_with_a_query_keeps_it(client, alice, zones, templates, decision, key):
    from django_domainconnect.oauth.clients import create_client

    create_client(PROVIDER, [REDIRECT + "?tenant=7"], secret="x" * 20)
    client.force_login(alice)
    response = approve(client, consent_url(redirect_uri=REDIRECT + "?tenant=7"), decision=decision)
    params = location_params(response)
    assert params["tenant"] == "7" and key in params and params["state"] == "st-1"


def test_service_in_path_variant_of_the_library(ready):
    # domain-connect's service_id_in_path=True: …/providers/{pid}/services/{sid}?client_id=…&scope={sid}
    params = location_params(approve(ready, consent_url(service="web", scope="web")))
    assert params["code"]
    assert Grant.objects.get().service_ids == ["web"]


def test_service_in_path_without_scope(ready):
    location_params(approve(ready, consent_url(service="mail", scope=None)))
    assert Grant.objects.get().service_ids == ["mail"]


def test_rfc9207_issuer_on_success_and_error(ready):
    assert location_params(approve(ready, consent_url()))["iss"] == "https://dns.example.net"
    assert location_params(ready.get(consent_url(scope="nosuch")))["iss"] == "https://dns.example.net"


def test_records_shaped_by_variables_are_highlighted(ready):
    html = ready.get(consent_url(scope="web", IP="198.51.100.7", token="t")).content.decode()
    assert 'class="dc-highlight"' in html
    html = ready.get(consent_url(scope="mail")).content.decode()
    assert 'class="dc-highlight"' not in html


def shown(response) -> str:
    return response.content.decode().split("<form")[0]  # the form's action repeats the URL


def test_shared_names_only_for_shared_templates(ready, make_template):
    html = shown(ready.get(consent_url(scope="web", providerName="Google")))
    assert "Google" not in html  # "web" is not a shared template: the name is ignored
    make_template("shared", sharedProviderName=True, sharedServiceName=True,
                  records=[{"type": "TXT", "host": "@", "data": "x", "ttl": 300}])
    html = shown(ready.get(consent_url(scope="shared", providerName="Reseller <b>X</b>",
                                 serviceName="Shop")))
    assert "Example Service</bdi> <span class=\"dc-shared\">(for <bdi>Reseller &lt;b&gt;X&lt;/b&gt;</bdi>)" in html
    assert "for <bdi>Shop</bdi>" in html
    assert "<b>X</b>" not in html


def test_shared_name_with_controls_is_ignored(ready, make_template):
    make_template("shared", sharedProviderName=True,
                  records=[{"type": "TXT", "host": "@", "data": "x", "ttl": 300}])
    html = shown(ready.get(consent_url(scope="shared", providerName="evil\u202egoogle")))
    assert "elgoog" not in html and "google" not in html


# -- prompt=none: an answer without any page (OIDC Core §3.1.2.6), only to an exactly registered URI -----

def assert_silent_error(response, error):
    assert response.status_code == 302
    assert response["Location"].startswith(REDIRECT + "?")  # back to the client, not to the login page
    params = location_params(response)
    assert params["error"] == error and params["state"] == "st-1"
    assert "code" not in params
    assert not Grant.objects.exists()


def test_prompt_none_when_not_logged_in_is_login_required(client, zones, templates, sp_client):
    assert_silent_error(client.get(consent_url(prompt="none")), "login_required")


def test_prompt_none_when_logged_in_is_consent_required(ready):
    assert_silent_error(ready.get(consent_url(prompt="none")), "consent_required")


def test_prompt_none_after_an_earlier_approval_still_issues_no_code(ready):
    # Consent covers the zone as it is at that moment, so it is never given silently.
    assert "code" in location_params(approve(ready, consent_url()))
    Grant.objects.all().delete()
    assert_silent_error(ready.get(consent_url(prompt="none")), "consent_required")


def test_prompt_none_post_issues_no_code(ready):
    page = ready.get(consent_url())
    response = ready.post(consent_url(prompt="none"), {"consent": consent_token(page), "decision": "allow"})
    assert_silent_error(response, "consent_required")


def test_prompt_none_for_a_domain_of_someone_else_is_access_denied(ready):
    params = location_params(ready.get(consent_url(prompt="none", domain="bob.example")))
    assert params["error"] == "access_denied"


def test_prompt_none_never_redirects_to_an_unregistered_uri(client, zones, templates, sp_client):
    for redirect_uri in (REDIRECT + "/", "https://evil.example/cb"):
        assert_error_page(client.get(consent_url(prompt="none", redirect_uri=redirect_uri)))
    assert_error_page(client.get(consent_url(prompt="none", client_id="unknown.example")))


def test_prompt_none_with_other_values_is_invalid_request(ready):
    assert location_params(ready.get(consent_url(prompt="none login")))["error"] == "invalid_request"


def test_other_prompt_values_show_the_page_and_are_not_variables(ready, monkeypatch):
    from django_domainconnect import services

    seen: list[dict] = []
    real_plan = services.plan
    monkeypatch.setattr(services, "plan", lambda **kw: seen.append(kw["params"]) or real_plan(**kw))
    assert ready.get(consent_url(prompt="consent", IP="192.0.2.9")).status_code == 200
    assert seen and all(params == {"IP": "192.0.2.9"} for params in seen)
