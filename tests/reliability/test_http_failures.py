"""A failing write seen through HTTP: the sync consent POST and the async API answer with a clear 4xx/503
and a message, never a 500, and nothing changes (SECURITY.md F.43, E.42)."""

from __future__ import annotations

import re

import pytest
from django.db import DatabaseError

from django_domainconnect.models import AuditEvent

from .conftest import BASE_RECORDS, DOMAIN, PROVIDER, make_zone, snapshot
from .oauth import apply_path, issue_token, make_client, revert_path

pytestmark = pytest.mark.django_db

CONSENT = "/domainconnect/consent"


@pytest.fixture
def mem_zone(owner, settings, memory_backend, templates):
    return make_zone("memory", owner, settings, memory_backend)


def consent_nonce(client, owner) -> str:
    client.force_login(owner)
    url = f"/v2/domainTemplates/providers/{PROVIDER}/services/web/apply?domain={DOMAIN}&ip=192.0.2.9&token=x"
    page = client.get(url)
    assert page.status_code == 200, page.content.decode()[-800:]
    match = re.search(r'name="nonce" value="([^"]+)"', page.content.decode())
    assert match, "no consent form"
    return match.group(1)


def fail_success_audit(monkeypatch) -> None:
    original = AuditEvent.save

    def save(self, *args, **kwargs):
        if self.outcome == AuditEvent.Outcome.SUCCESS:
            raise DatabaseError("could not write the audit row")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(AuditEvent, "save", save)


# -- sync consent POST --------------------------------------------------------------------------------------


@pytest.mark.parametrize("fault", ["backend", "database"])
def test_sync_consent_post_failure_changes_nothing(client, owner, mem_zone, memory_backend, monkeypatch, fault):
    nonce = consent_nonce(client, owner)
    state = snapshot(mem_zone)
    if fault == "backend":
        memory_backend.fail_on_write(1)
    else:
        fail_success_audit(monkeypatch)
    response = client.post(CONSENT, {"nonce": nonce, "action": "approve"})
    assert response.status_code >= 400
    assert "Nothing was changed" in response.content.decode()
    assert "Traceback" not in response.content.decode() and "DatabaseError" not in response.content.decode()
    assert snapshot(mem_zone) == state
    assert AuditEvent.objects.filter(outcome="failure", action="apply").count() == 1


def test_sync_consent_post_failure_is_not_a_500(client, owner, mem_zone, memory_backend):
    nonce = consent_nonce(client, owner)
    memory_backend.fail_on_write(1)
    response = client.post(CONSENT, {"nonce": nonce, "action": "approve"})
    assert response.status_code == 503


# -- async API ---------------------------------------------------------------------------------------------


@pytest.fixture
def token(client, owner, mem_zone):
    make_client()
    return issue_token(client, owner, "web spf")


def api(client, path, token):
    return client.post(path, HTTP_AUTHORIZATION=f"Bearer {token}")


@pytest.mark.parametrize("fault", ["backend", "database"])
def test_api_apply_failure_is_503_and_changes_nothing(client, token, mem_zone, memory_backend, monkeypatch, fault):
    state = snapshot(mem_zone)
    if fault == "backend":
        memory_backend.fail_on_write(2)
    else:
        fail_success_audit(monkeypatch)
    response = api(client, apply_path("web", domain=DOMAIN, ip="192.0.2.9", token="x"), token)
    assert response.status_code == 503, response.content
    body = response.json()
    assert body["code"] in ("backend_error", "temporarily_unavailable") and body["message"]
    assert "DatabaseError" not in body["message"]
    assert snapshot(mem_zone) == state
    assert AuditEvent.objects.filter(outcome="failure", flow="async").count() == 1


@pytest.mark.parametrize("fault", ["backend", "database"])
def test_api_revert_failure_is_503_and_changes_nothing(client, token, mem_zone, memory_backend, monkeypatch, fault):
    assert api(client, apply_path("spf", domain=DOMAIN), token).status_code == 200
    state = snapshot(mem_zone)
    if fault == "backend":
        memory_backend.fail_on_write(1)
    else:
        fail_success_audit(monkeypatch)
    response = api(client, revert_path("spf", domain=DOMAIN), token)
    assert response.status_code == 503, response.content
    assert response.json()["message"]
    assert snapshot(mem_zone) == state
    memory_backend.fail_on_write(0)
    monkeypatch.undo()
    assert api(client, revert_path("spf", domain=DOMAIN), token).status_code == 200  # and it can be retried
    assert mem_zone.records() == sorted(BASE_RECORDS)  # the merged SPF record is restored
