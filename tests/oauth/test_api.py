"""The async apply and revert API (draft §8.4.6, §8.4.7; SECURITY.md 35–40)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from oauth2_provider.models import get_access_token_model

from django_domainconnect.engine.types import Record
from django_domainconnect.models import AppliedTemplate, AuditEvent
from django_domainconnect.oauth.models import Grant
from tests.oauth.conftest import PROVIDER, apply_path

pytestmark = pytest.mark.django_db

WEB = {"domain": "example.com", "IP": "198.51.100.7", "token": "t1"}


@pytest.fixture
def tokens(authorize):
    return authorize(scope="web ddns", host="home,")


def post(client, path, token, **kwargs):
    return client.generic("POST", path, kwargs.pop("data", b""), HTTP_AUTHORIZATION=f"Bearer {token}", **kwargs)


def records(zones, domain="example.com"):
    return {(r.name, r.type, r.data) for r in zones.records(domain)}


def test_conflict_is_409_with_records_and_nothing_written(client, tokens, zones):
    before = records(zones)
    response = post(client, apply_path("web", **WEB), tokens.access_token)
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "409" and body["message"]
    assert {"type": "A", "host": "@", "data": "192.0.2.1"} in [
        {k: r[k] for k in ("type", "host", "data")} for r in body["records"]]
    assert records(zones) == before
    assert not AppliedTemplate.objects.exists()


@pytest.mark.parametrize("force", ["1", "true"])
def test_forced_apply_is_200_with_json(client, tokens, zones, force):
    response = post(client, apply_path("web", force=force, **WEB), tokens.access_token)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["domain"] == "example.com" and body["host"] == ""
    assert {"type": "A", "host": "@", "name": "example.com.", "ttl": 3600, "data": "198.51.100.7"} in body["added"]
    assert ("example.com.", "A", "198.51.100.7") in records(zones)
    assert ("example.com.", "A", "192.0.2.1") not in records(zones)
    applied = AppliedTemplate.objects.get()
    grant = Grant.objects.get()
    assert applied.client_id == PROVIDER and applied.grant_id == grant.pk and applied.flow == "async"
    event = AuditEvent.objects.filter(action="apply", outcome="success").get()
    assert event.client_id == PROVIDER and event.grant_id == grant.pk


@pytest.mark.parametrize("force", ["0", "false"])
def test_force_false_still_409(client, tokens, zones, force):
    assert post(client, apply_path("web", force=force, **WEB), tokens.access_token).status_code == 409


def test_force_must_be_a_known_value(client, tokens, zones):
    assert post(client, apply_path("web", force="yes", **WEB), tokens.access_token).status_code == 400


def test_parameters_in_a_json_body(client, tokens, zones):
    response = post(client, apply_path("web"), tokens.access_token,
                    data=json.dumps({**WEB, "force": True}), content_type="application/json")
    assert response.status_code == 200, response.content


def test_query_and_body_disagree(client, tokens, zones):
    response = post(client, apply_path("web", **WEB), tokens.access_token,
                    data=json.dumps({"IP": "203.0.113.9", "force": 1}), content_type="application/json")
    assert response.status_code == 400
    assert records(zones) == {("example.com.", "A", "192.0.2.1"), ("www.example.com.", "CNAME", "example.com.")}


def test_duplicated_variable_in_the_query(client, tokens, zones):
    path = apply_path("web", force="1", **WEB) + "&IP=6.6.6.6"
    assert post(client, path, tokens.access_token).status_code == 400
    assert not AppliedTemplate.objects.exists()


@pytest.mark.parametrize("group_ids", ["IPv4,,", ",,", "", "IPv4, IPv6"])
def test_group_id_lists_with_empty_entries_are_refused_like_the_sync_link(client, tokens, zones, group_ids):
    path = apply_path("ddns", domain="example.com", host="home", ip="198.51.100.1", groupId=group_ids)
    response = post(client, path, tokens.access_token)
    assert response.status_code == 400
    assert "groupId" in response.json()["message"]
    assert not AppliedTemplate.objects.exists()


def test_dynamic_dns_reapply_updates_without_force(client, tokens, zones):
    path = apply_path("ddns", domain="example.com", host="home", ip="198.51.100.1", groupId="IPv4")
    assert post(client, path, tokens.access_token).status_code == 200
    path = apply_path("ddns", domain="example.com", host="home", ip="198.51.100.2", groupId="IPv4")
    response = post(client, path, tokens.access_token)
    assert response.status_code == 200, response.content
    home = {r for r in records(zones) if r[0] == "home.example.com."}
    assert home == {("home.example.com.", "A", "198.51.100.2")}
    assert AppliedTemplate.objects.count() == 1


def test_repeated_group_id_is_joined(client, tokens, zones):
    path = apply_path("ddns", domain="example.com", host="home", ip="198.51.100.1", ipv6="2001:db8::1")
    response = post(client, path + "&groupId=IPv4&groupId=IPv6", tokens.access_token)
    assert response.status_code == 200, response.content
    assert {r[1] for r in records(zones) if r[0] == "home.example.com."} == {"A", "AAAA"}


def test_missing_variable_is_400(client, tokens, zones):
    response = post(client, apply_path("web", domain="example.com", force="1"), tokens.access_token)
    assert response.status_code == 400
    assert not AppliedTemplate.objects.exists()


# -- what the grant covers -----------------------------------------------------------------------------

@pytest.mark.parametrize("path", [
    apply_path("web", **{**WEB, "domain": "other.example"}),           # another domain of the same user
    apply_path("web", **{**WEB, "host": "shop"}),                      # a host outside the list
    apply_path("ddns", domain="example.com", host="elsewhere", ip="198.51.100.1"),
    apply_path("mail", domain="example.com"),                          # a serviceId outside the scope
])
def test_outside_the_grant_is_403_and_nothing_written(client, tokens, zones, path):
    response = post(client, path, tokens.access_token)
    assert response.status_code == 403
    assert response.json()["code"] == "insufficient_scope"
    assert not AppliedTemplate.objects.exists()


def test_apex_not_granted_when_only_a_host_was(client, authorize, zones):
    tokens = authorize(scope="ddns", host="home")
    path = apply_path("ddns", domain="example.com", ip="198.51.100.1", groupId="IPv4")
    assert post(client, path, tokens.access_token).status_code == 403


def test_other_provider_in_the_path(client, tokens, zones, make_template):
    response = post(client, apply_path("web", provider="other.example", **WEB), tokens.access_token)
    assert response.status_code == 403


def test_user_lost_the_domain(client, tokens, zones):
    zones.set_owners("example.com", ["bob"])
    response = post(client, apply_path("web", force="1", **WEB), tokens.access_token)
    assert response.status_code == 403
    assert not AppliedTemplate.objects.exists()


def test_zone_suspended(client, tokens, zones):
    zones.set_active("example.com", False)
    assert post(client, apply_path("web", force="1", **WEB), tokens.access_token).status_code == 403


def test_template_changed_after_consent(client, tokens, zones, templates):
    templates["web"].version = 2
    templates["web"].save()
    response = post(client, apply_path("web", force="1", **WEB), tokens.access_token)
    assert response.status_code == 403
    assert response.json()["code"] == "consent_required"
    assert not AppliedTemplate.objects.exists()


def test_template_disabled_after_consent(client, tokens, zones, templates):
    templates["web"].enabled = False
    templates["web"].save()
    assert post(client, apply_path("web", force="1", **WEB), tokens.access_token).status_code == 404


# -- authentication ------------------------------------------------------------------------------------

def assert_401(response):
    assert response.status_code == 401
    assert 'error="invalid_token"' in response["WWW-Authenticate"]
    assert response["WWW-Authenticate"].startswith("Bearer ")


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer nope", "Basic abc", "Bearer a b"])
def test_missing_or_malformed_token(client, tokens, zones, header):
    extra = {} if header is None else {"HTTP_AUTHORIZATION": header}
    assert_401(client.generic("POST", apply_path("web", force="1", **WEB), b"", **extra))
    assert not AppliedTemplate.objects.exists()


def test_token_in_the_query_is_refused(client, tokens, zones):
    path = apply_path("web", force="1", access_token=tokens.access_token, **WEB)
    assert_401(client.generic("POST", path, b""))
    assert_401(post(client, path, tokens.access_token))


def test_session_cookie_is_not_authentication(client, alice, tokens, zones):
    client.force_login(alice)
    assert_401(client.post(apply_path("web", force="1", **WEB)))


def test_expired_token(client, tokens, zones):
    get_access_token_model().objects.update(expires=timezone.now() - timedelta(seconds=1))
    assert_401(post(client, apply_path("web", force="1", **WEB), tokens.access_token))


def test_revoked_grant(client, tokens, zones):
    Grant.objects.get().revoke()
    assert_401(post(client, apply_path("web", force="1", **WEB), tokens.access_token))


def test_expired_grant(client, tokens, zones):
    Grant.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert_401(post(client, apply_path("web", force="1", **WEB), tokens.access_token))


def test_refreshed_token_works_and_old_one_does_not(client, tokens, zones):
    from tests.oauth.test_token import refresh

    new = refresh(client, tokens.refresh_token).json()
    assert_401(post(client, apply_path("web", force="1", **WEB), tokens.access_token))
    assert post(client, apply_path("web", force="1", **WEB), new["access_token"]).status_code == 200


def test_accept_header_does_not_matter(client, tokens, zones):
    response = post(client, apply_path("web", force="1", **WEB), tokens.access_token, HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"


# -- revert --------------------------------------------------------------------------------------------

def test_revert_not_applied_is_410(client, tokens, zones):
    path = f"/v2/domainTemplates/providers/{PROVIDER}/services/web/revert?domain=example.com"
    assert post(client, path, tokens.access_token).status_code == 410


def test_revert_removes_the_records(client, tokens, zones):
    assert post(client, apply_path("ddns", domain="example.com", host="home", ip="198.51.100.1",
                                   groupId="IPv4"), tokens.access_token).status_code == 200
    path = f"/v2/domainTemplates/providers/{PROVIDER}/services/ddns/revert?domain=example.com&host=home"
    response = post(client, path, tokens.access_token)
    assert response.status_code == 200, response.content
    assert not any(r[0] == "home.example.com." for r in records(zones))
    assert not AppliedTemplate.objects.exists()
    event = AuditEvent.objects.filter(action="revert", outcome="success").get()
    assert event.client_id == PROVIDER and event.grant_id == Grant.objects.get().pk


def test_revert_keeps_records_the_user_edited(client, tokens, zones):
    post(client, apply_path("ddns", domain="example.com", host="home", ip="198.51.100.1", groupId="IPv4"),
         tokens.access_token)
    zones.set_records("example.com", [*zones.records("example.com"),
                                      Record("home.example.com.", "TXT", 300, '"mine"')])
    post(client, f"/v2/domainTemplates/providers/{PROVIDER}/services/ddns/revert?domain=example.com&host=home",
         tokens.access_token)
    assert ("home.example.com.", "TXT", '"mine"') in records(zones)


def test_delete_on_apply_reverts(client, tokens, zones):
    post(client, apply_path("ddns", domain="example.com", host="home", ip="198.51.100.1", groupId="IPv4"),
         tokens.access_token)
    response = client.delete(apply_path("ddns", domain="example.com", host="home"),
                             HTTP_AUTHORIZATION=f"Bearer {tokens.access_token}")
    assert response.status_code == 200
    assert not AppliedTemplate.objects.exists()


def test_revert_with_json_body(client, tokens, zones):
    post(client, apply_path("ddns", domain="example.com", host="home", ip="198.51.100.1", groupId="IPv4"),
         tokens.access_token)
    response = post(client, f"/v2/domainTemplates/providers/{PROVIDER}/services/ddns/revert", tokens.access_token,
                    data=json.dumps({"domain": "example.com", "host": "home"}), content_type="application/json")
    assert response.status_code == 200


def test_revert_outside_grant_and_without_token(client, tokens, zones):
    path = f"/v2/domainTemplates/providers/{PROVIDER}/services/ddns/revert?domain=other.example"
    assert post(client, path, tokens.access_token).status_code == 403
    assert_401(client.post(path))


def test_revert_unknown_instance_is_410(client, tokens, zones):
    post(client, apply_path("ddns", domain="example.com", host="home", ip="198.51.100.1", groupId="IPv4"),
         tokens.access_token)
    path = (f"/v2/domainTemplates/providers/{PROVIDER}/services/ddns/revert"
            "?domain=example.com&host=home&instanceId=nope")
    assert post(client, path, tokens.access_token).status_code == 410
    assert AppliedTemplate.objects.count() == 1


def test_revert_get_is_405(client):
    assert client.get(f"/v2/domainTemplates/providers/{PROVIDER}/services/ddns/revert").status_code == 405


def test_a_variable_named_like_access_token_is_not_mistaken(client, tokens, zones):
    path = apply_path("web", force="1", my_access_token="x", **WEB)
    assert post(client, path, tokens.access_token).status_code == 200


def test_multi_instance_apply_and_revert_one_instance(client, authorize, zones, make_template):
    make_template("multi", multiInstance=True,
                  records=[{"type": "TXT", "host": "@", "data": "multi=%value%", "ttl": 300,
                            "txtConflictMatchingMode": "None"}])
    tokens = authorize(scope="multi", host="")
    for instance, value in (("one", "1"), ("two", "2")):
        path = apply_path("multi", domain="example.com", value=value, instanceId=instance)
        assert post(client, path, tokens.access_token).status_code == 200
    assert AppliedTemplate.objects.filter(service_id="multi").count() == 2
    path = (f"/v2/domainTemplates/providers/{PROVIDER}/services/multi/revert"
            "?domain=example.com&instanceId=one")
    response = post(client, path, tokens.access_token)
    assert response.status_code == 200
    assert response.json()["instanceIds"] == ["one"]
    txt = {r[2] for r in records(zones) if r[1] == "TXT"}
    assert txt == {'"multi=2"'}


def test_an_instance_id_of_another_host_cannot_be_taken_over(client, authorize, zones, make_template):
    make_template("multi", multiInstance=True,
                  records=[{"type": "TXT", "host": "@", "data": "multi=%value%", "ttl": 300}])
    victim = post(client, apply_path("multi", domain="example.com", host="victim", value="v"),
                  authorize(scope="multi", host="victim").access_token)
    victim_id = victim.json()["instanceId"]
    attacker = authorize(scope="multi", host="attacker").access_token
    response = post(client, apply_path("multi", domain="example.com", host="attacker", value="x",
                                       instanceId=victim_id), attacker)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_instance"
    assert AppliedTemplate.objects.get(instance_id=victim_id).host == "victim"
    assert not AppliedTemplate.objects.filter(host="attacker").exists()


def test_bad_instance_id(client, tokens, zones):
    assert post(client, apply_path("web", force="1", instanceId="a/b", **WEB), tokens.access_token).status_code == 400


def test_refusals_of_a_valid_token_are_audited(client, tokens, zones):
    post(client, apply_path("web", **{**WEB, "domain": "other.example"}), tokens.access_token)
    event = AuditEvent.objects.get(action="refused")
    grant = Grant.objects.get()
    assert event.outcome == "failure" and event.client_id == PROVIDER and event.grant_id == grant.pk
    assert "insufficient_scope" in event.detail and event.username == "alice"


# -- names with whitespace or control characters are refused, never trimmed ------------------------------

BAD_NAMES = [
    ("host", "home\r\n"), ("host", "home\n"), ("host", " home"), ("host", "home "), ("host", "ho\tme"),
    ("host", "home\x00"), ("host", "home\x7f"), ("host", "\u2028home"), ("host", " "),
    ("domain", "example.com\r\n"), ("domain", " example.com"), ("domain", "example.com\t"),
    ("domain", "example\x0b.com"), ("domain", "example.com\u00a0"),
]


def _lenient_names(monkeypatch):
    """The engine's normalisers as they were (stripping whitespace): the API must not rely on the engine."""
    from django_domainconnect.engine import names

    strict_domain, strict_host = names.normalize_domain, names.normalize_host
    monkeypatch.setattr(names, "normalize_domain", lambda d: strict_domain(d.strip()))
    monkeypatch.setattr(names, "normalize_host", lambda h: strict_host(h.strip() if h else h))


def assert_refused_name(response, what):
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid_request"
    assert f"{what} contains whitespace or a control character" in body["message"]


@pytest.mark.parametrize("lenient_engine", [False, True])
@pytest.mark.parametrize("what, value", BAD_NAMES)
def test_apply_refuses_names_with_whitespace_or_controls(client, tokens, zones, monkeypatch, what, value,
                                                         lenient_engine):
    if lenient_engine:
        _lenient_names(monkeypatch)
    before = records(zones)
    query = {"domain": "example.com", "host": "home", "ip": "198.51.100.1", "groupId": "IPv4", what: value}
    assert_refused_name(post(client, apply_path("ddns", **query), tokens.access_token), what)
    # The same in a JSON body, as some clients send it.
    assert_refused_name(post(client, apply_path("ddns"), tokens.access_token, data=json.dumps(query),
                             content_type="application/json"), what)
    assert records(zones) == before
    assert not AppliedTemplate.objects.exists()


@pytest.mark.parametrize("what, value", [("host", "home\r\n"), ("host", "home "), ("domain", "example.com\n")])
def test_revert_refuses_names_with_whitespace_or_controls(client, tokens, zones, monkeypatch, what, value):
    _lenient_names(monkeypatch)
    assert post(client, apply_path("ddns", domain="example.com", host="home", ip="198.51.100.1",
                                   groupId="IPv4"), tokens.access_token).status_code == 200
    before = records(zones)
    query = {"domain": "example.com", "host": "home", what: value}
    path = f"/v2/domainTemplates/providers/{PROVIDER}/services/ddns/revert"
    assert_refused_name(post(client, path, tokens.access_token, data=json.dumps(query),
                             content_type="application/json"), what)
    response = client.delete(apply_path("ddns", **query), HTTP_AUTHORIZATION=f"Bearer {tokens.access_token}")
    assert_refused_name(response, what)
    assert records(zones) == before
    assert AppliedTemplate.objects.count() == 1
