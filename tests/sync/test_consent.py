"""The consent page and its POST (draft §10.5–§10.7; SECURITY.md A.4–A.6, A.9, C.20–C.23)."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from django_domainconnect import models
from django_domainconnect.engine.types import Record
from tests.sync.helpers import apply_url, default_query

pytestmark = pytest.mark.django_db

CONSENT = "/domainconnect/consent"


def nonce_of(response) -> str:
    assert response.status_code == 200, response.content.decode()[-1500:]
    match = re.search(r'name="nonce" value="([^"]+)"', response.content.decode())
    assert match, "no consent form on the page"
    return match.group(1)


def show(client, **query) -> tuple[object, str]:
    response = client.get(apply_url(query=default_query(**query)))
    return response, nonce_of(response)


def a_records(zones, name="example.com.") -> set[str]:
    return {r.data for r in zones.records("example.com") if r.type == "A" and r.name == name}


# -- the page -------------------------------------------------------------------------------------------

def test_consent_page_shows_names_records_and_conflicts(client, make_template, zones, alice):
    make_template()
    client.force_login(alice)
    response, _ = show(client)
    body = response.content.decode()
    assert "Example Service" in body and "Example Website" in body
    assert "198.51.100.7" in body and "example-verify=abc123" in body  # records to add
    assert "192.0.2.1" in body  # the existing A record it replaces, listed for removal
    assert "Records to add" in body and "Existing records to remove" in body
    assert 'https://logo.exampleservice.example/logo.png' in body
    assert 'action="/domainconnect/consent"' in body and 'value="approve"' in body and 'value="cancel"' in body
    assert "csrfmiddlewaretoken" in body
    assert zones.write_count == 0  # showing consent never writes
    assert response["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    # same-origin, not no-referrer: the latter makes browsers send "Origin: null", which fails CSRF
    assert response["Referrer-Policy"] == "same-origin"


def test_nonce_never_appears_in_a_url(client, make_template, zones, alice):
    make_template()
    client.force_login(alice)
    response, nonce = show(client)
    assert nonce not in response.get("Location", "")
    assert f"?nonce={nonce}" not in response.content.decode() and f"&nonce={nonce}" not in response.content.decode()


def test_http_logo_is_not_shown(client, make_template, zones, alice):
    make_template(logoUrl="http://logo.exampleservice.example/logo.png")
    client.force_login(alice)
    response, _ = show(client)
    assert "logo.exampleservice.example" not in response.content.decode()


def test_idn_domain_is_shown_as_u_label_and_a_label(client, make_template, memory_backend, alice):
    memory_backend.add_zone("xn--80ak6aa92e.com", owners=["alice"])
    make_template()
    client.force_login(alice)
    response = client.get(apply_url(query=default_query(domain="аррӏе.com")))
    body = response.content.decode()
    assert response.status_code == 200
    assert "аррӏе.com" in body and "xn--80ak6aa92e.com" in body
    assert "dc-deceptive" in body  # whole-script Cyrillic look-alike of apple.com is called out


def test_ordinary_idn_is_not_called_deceptive(client, make_template, memory_backend, alice):
    memory_backend.add_zone("xn--bcher-kva.de", owners=["alice"])
    make_template()
    client.force_login(alice)
    body = client.get(apply_url(query=default_query(domain="bücher.de"))).content.decode()
    assert "bücher.de" in body and "xn--bcher-kva.de" in body
    assert "dc-deceptive" not in body


@pytest.mark.parametrize(("name", "expected"), [
    ("аррӏе.com", True), ("pаypal.com", True), ("paypal.com", False), ("bücher.de", False),
    ("москва.рф", False), ("例え.jp", False),
])
def test_looks_deceptive(name, expected):
    from django_domainconnect.views.display import looks_deceptive

    assert looks_deceptive(name) is expected


PAYLOADS = ['<script>alert(1)</script>', '"><img src=x onerror=alert(1)>']


@pytest.mark.parametrize("payload", PAYLOADS)
def test_everything_is_escaped_on_the_consent_page(client, make_template, zones, alice, payload):
    make_template(providerName=f"P{payload}", serviceName=f"S{payload}", description=f"D{payload}",
                  sharedProviderName=True, sharedServiceName=True, warnPhishing=True)
    client.force_login(alice)
    response = client.get(apply_url(query=default_query(token=payload.replace("<", "").replace(">", ""),
                                                       providerName=f"SP{payload}", serviceName=f"SS{payload}",
                                                       state="x")))
    body = response.content.decode()
    assert response.status_code == 200, body[-1500:]
    assert "<script>alert" not in body and "<img src=x" not in body
    assert "&lt;script&gt;" in body or "&lt;img" in body or "&quot;&gt;&lt;img" in body


def test_shared_names_are_shown_only_beside_the_template_names(client, make_template, zones, alice):
    make_template(sharedProviderName=True, sharedServiceName=True)
    client.force_login(alice)
    response, _ = show(client, providerName="Reseller Co", serviceName="Shop Builder")
    body = response.content.decode()
    assert "Reseller Co" in body and "Shop Builder" in body
    assert "Example Service" in body and "Example Website" in body


def test_bidi_controls_are_removed_from_display_names(client, make_template, zones, alice):
    make_template(sharedProviderName=True)
    client.force_login(alice)
    response = client.get(apply_url(query=default_query(providerName="Good\u202eliaM")))
    # a display name with a bidi override is not a dc-display-name: refused, never displayed
    assert response.status_code == 302
    assert "error=invalid_request" in response["Location"]
    make_template("web2", providerName="Exa\u202emple", sharedProviderName=True)
    response = client.get(apply_url("web2", query=default_query()))
    body = response.content.decode()
    assert response.status_code == 200
    assert "\u202e" not in body and "Example" in body


def test_warn_phishing_and_variable_targets_add_a_warning(client, make_template, zones, alice):
    make_template(warnPhishing=True)
    client.force_login(alice)
    body = show(client)[0].content.decode()
    assert "dc-warning" in body and "dc-highlight" in body
    assert "198.51.100.7" in body.split("dc-warning", 1)[1]  # the variable values are listed in the warning


def test_no_warning_for_a_fixed_template(client, make_template, zones, alice):
    make_template(records=[{"type": "TXT", "host": "@", "data": "fixed=1", "ttl": 3600}])
    client.force_login(alice)
    body = show(client)[0].content.decode()
    assert 'class="dc-warning"' not in body and "dc-highlight" not in body


# -- ownership (A.3) ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("domain", ["bob.example", "nothere.example", "www.example.com", "parked.example"])
def test_zone_not_yours_gets_one_generic_answer(client, make_template, zones, alice, domain):
    make_template()
    client.force_login(alice)
    response = client.get(apply_url(query=default_query(domain=domain)))
    assert response.status_code == 302
    params = parse_qs(urlsplit(response["Location"]).query)
    assert params["error"] == ["access_denied"]
    assert params["error_description"] == ["This domain cannot be changed from this account."]
    assert zones.write_count == 0


@pytest.mark.parametrize("domain", ["bob.example", "nothere.example"])
def test_zone_not_yours_without_redirect_is_the_same_page(client, make_template, zones, alice, domain):
    make_template(syncRedirectDomain=None)
    client.force_login(alice)
    response = client.get(apply_url(query=default_query(domain=domain)))
    assert response.status_code == 403
    assert domain not in response.content.decode()


# -- approve / cancel ---------------------------------------------------------------------------------------

def test_approve_applies_and_redirects_with_state(client, make_template, zones, alice):
    make_template()
    client.force_login(alice)
    _, nonce = show(client, state="a&code=x")
    response = client.post(CONSENT, {"nonce": nonce, "action": "approve"})
    assert response.status_code == 302
    location = response["Location"]
    assert location == "https://app.exampleservice.example/done?state=a%26code%3Dx"
    assert a_records(zones) == {"198.51.100.7"}
    applied = models.AppliedTemplate.objects.get()
    assert applied.applied_by == alice and applied.flow == "sync"
    assert models.AuditEvent.objects.filter(action="apply", outcome="success").count() == 1
    assert response["X-Frame-Options"] == "DENY"


def test_approve_without_allowed_redirect_shows_the_done_page(client, make_template, zones, alice):
    make_template(syncRedirectDomain=None)
    client.force_login(alice)
    _, nonce = show(client)
    response = client.post(CONSENT, {"nonce": nonce, "action": "approve"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Connected" in body and "close-popup.js" in body
    assert "app.exampleservice.example" not in body
    assert a_records(zones) == {"198.51.100.7"}


def test_cancel_redirects_access_denied_user_cancel(client, make_template, zones, alice):
    make_template()
    client.force_login(alice)
    _, nonce = show(client, state="st")
    response = client.post(CONSENT, {"nonce": nonce, "action": "cancel"})
    assert response.status_code == 302
    params = parse_qs(urlsplit(response["Location"]).query)
    assert params["error"] == ["access_denied"]
    assert params["error_description"][0].startswith("user_cancel")
    assert params["state"] == ["st"]
    assert zones.write_count == 0
    # the nonce is spent: approving afterwards writes nothing
    again = client.post(CONSENT, {"nonce": nonce, "action": "approve"})
    assert again.status_code == 302 and "access_denied" in again["Location"]
    assert zones.write_count == 0


def test_cancel_without_redirect_shows_a_page(client, make_template, zones, alice):
    make_template(syncRedirectDomain=None)
    client.force_login(alice)
    _, nonce = show(client)
    response = client.post(CONSENT, {"nonce": nonce, "action": "cancel"})
    assert response.status_code == 200
    assert "Nothing was changed" in response.content.decode()
    assert zones.write_count == 0


def test_replayed_post_writes_once_and_repeats_the_outcome(client, make_template, zones, alice):
    make_template()
    client.force_login(alice)
    _, nonce = show(client)
    first = client.post(CONSENT, {"nonce": nonce, "action": "approve"})
    second = client.post(CONSENT, {"nonce": nonce, "action": "approve"})
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert zones.write_count == 1
    assert models.AuditEvent.objects.filter(action="apply", outcome="success").count() == 1


def test_nonce_claimed_elsewhere_writes_nothing(client, make_template, zones, alice):
    """Two POSTs racing past the session: the cache claim lets only one through."""
    from django_domainconnect.views.pending import claim_nonce

    make_template()
    client.force_login(alice)
    _, nonce = show(client)
    assert claim_nonce(nonce)  # the other request won
    response = client.post(CONSENT, {"nonce": nonce, "action": "approve"})
    assert response.status_code == 409
    assert zones.write_count == 0


def test_user_switch_between_display_and_post(client, make_template, zones, alice, bob):
    make_template()
    client.force_login(alice)
    _, nonce = show(client)
    client.logout()
    client.force_login(bob)
    response = client.post(CONSENT, {"nonce": nonce, "action": "approve"})
    assert response.status_code == 400
    assert zones.write_count == 0


def test_nonce_from_another_session_is_useless(client, make_template, zones, alice):
    from django.test import Client

    make_template()
    client.force_login(alice)
    _, nonce = show(client)
    other = Client()
    other.force_login(alice)
    assert other.post(CONSENT, {"nonce": nonce, "action": "approve"}).status_code == 400
    assert zones.write_count == 0


def test_anonymous_post_is_refused(client, make_template, zones, alice):
    make_template()
    client.force_login(alice)
    _, nonce = show(client)
    client.logout()
    assert client.post(CONSENT, {"nonce": nonce, "action": "approve"}).status_code == 403
    assert zones.write_count == 0


def test_zone_changed_after_display_asks_again(client, make_template, zones, alice):
    make_template()
    client.force_login(alice)
    _, nonce = show(client)
    # a manual edit adds a record the user was not shown and that the template would remove
    zones.set_records("example.com", [*zones.records("example.com"), Record("example.com.", "A", 600, "203.0.113.9")])
    response = client.post(CONSENT, {"nonce": nonce, "action": "approve"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "changed since" in body and "203.0.113.9" in body
    assert zones.write_count == 0
    assert "203.0.113.9" in a_records(zones)
    new_nonce = nonce_of(response)
    assert new_nonce != nonce
    final = client.post(CONSENT, {"nonce": new_nonce, "action": "approve"})
    assert final.status_code == 302
    assert a_records(zones) == {"198.51.100.7"}


def test_template_changed_after_display_asks_again(client, make_template, zones, alice):
    t = make_template()
    client.force_login(alice)
    _, nonce = show(client)
    t.version = 2
    t.body = {**t.body, "version": 2, "records": [{"type": "A", "host": "@", "pointsTo": "%IP%", "ttl": 600}]}
    t.save()
    response = client.post(CONSENT, {"nonce": nonce, "action": "approve"})
    assert response.status_code == 200
    assert "changed since" in response.content.decode()
    assert zones.write_count == 0


def test_apply_removes_a_conflicting_instance_and_says_so(client, make_template, zones, alice):
    make_template()
    make_template("other", serviceName="Other Site", records=[
        {"type": "A", "host": "@", "pointsTo": "%IP%", "ttl": 3600}])
    client.force_login(alice)
    _, nonce = show(client, IP="203.0.113.5")
    client.post(CONSENT, {"nonce": nonce, "action": "approve"})
    response = client.get(apply_url("other", query=default_query(IP="203.0.113.6")))
    body = response.content.decode()
    assert "will stop working" in body and "Example Website" in body


def test_backend_failure_writes_nothing_and_reports_temporarily_unavailable(client, make_template, zones, alice):
    make_template()
    client.force_login(alice)
    _, nonce = show(client)
    zones.fail_on_write(1)
    response = client.post(CONSENT, {"nonce": nonce, "action": "approve"})
    assert response.status_code == 302
    assert "error=temporarily_unavailable" in response["Location"]
    assert a_records(zones) == {"192.0.2.1"}
    assert not models.AppliedTemplate.objects.exists()


def test_variables_bad_values_are_refused_with_nothing_written(client, make_template, zones, alice):
    make_template()
    client.force_login(alice)
    response = client.get(apply_url(query=default_query(IP="not-an-ip")))
    assert response.status_code == 302
    assert "error=invalid_request" in response["Location"]
    assert zones.write_count == 0


def test_posted_fields_cannot_change_what_is_applied(client, make_template, zones, alice):
    """Only the nonce is read from the POST: the plan applied is the one stored when the page was shown."""
    make_template(syncRedirectDomain=None)
    client.force_login(alice)
    _, nonce = show(client)
    response = client.post(CONSENT, {"nonce": nonce, "action": "approve", "IP": "6.6.6.6", "domain": "bob.example",
                                     "host": "evil", "groupId": "x", "redirect_uri": "https://evil.example/"})
    assert response.status_code == 200
    assert a_records(zones) == {"198.51.100.7"}
    assert zones.records("bob.example") == []
    assert "evil.example" not in response.content.decode()


def test_refusals_and_cancels_are_audited_without_secrets(client, make_template, zones, alice):
    make_template()
    client.force_login(alice)
    client.get(apply_url(query=default_query(domain="bob.example")))
    refused = models.AuditEvent.objects.get(action="refused")
    assert refused.outcome == "failure" and refused.flow == "sync" and refused.domain == "bob.example"
    assert refused.user == alice
    _, nonce = show(client)
    client.post(CONSENT, {"nonce": nonce, "action": "cancel"})
    declined = models.AuditEvent.objects.get(action="declined")
    assert declined.domain == "example.com" and declined.params["IP"] == "198.51.100.7"
    assert not models.AuditEvent.objects.filter(outcome="success").exists()


def test_require_signatures_refuses_unsigned_templates(client, make_template, zones, alice, settings):
    make_template(syncRedirectDomain=None)
    settings.DOMAINCONNECT = {**settings.DOMAINCONNECT, "REQUIRE_SIGNATURES": True}
    client.force_login(alice)
    response = client.get(apply_url(query=default_query()))
    assert response.status_code == 400
    assert b"only accepts signed templates" in response.content


def test_look_alike_record_target_is_called_out(client, make_template, zones, alice):
    make_template(records=[{"type": "CNAME", "host": "www", "pointsTo": "xn--80ak6aa92e.com", "ttl": 3600}])
    client.force_login(alice)
    body = show(client)[0].content.decode()
    assert "xn--80ak6aa92e.com." in body and "аррӏе.com" in body
    assert "this target uses letters" in body
