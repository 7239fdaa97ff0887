"""Connected-services page and Disconnect (revert through services.revert with a confirmation POST)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from django_domainconnect import models
from tests.sync.helpers import apply_url, default_query

pytestmark = pytest.mark.django_db


@pytest.fixture
def applied(client, make_template, zones, alice):
    make_template(syncRedirectDomain=None)
    client.force_login(alice)
    page = client.get(apply_url(query=default_query()))
    nonce = re.search(r'name="nonce" value="([^"]+)"', page.content.decode()).group(1)
    assert client.post("/domainconnect/consent", {"nonce": nonce, "action": "approve"}).status_code == 200
    return models.AppliedTemplate.objects.get()


def test_connected_page_lists_applied_templates(client, applied, zones):
    url = reverse("domainconnect:connected", args=["example.com"])
    response = client.get(url)
    body = response.content.decode()
    assert response.status_code == 200
    assert "Example Website" in body and "Example Service" in body and "alice" in body
    assert "198.51.100.7" in body and "example-verify=abc123" in body
    assert reverse("domainconnect:disconnect", args=["example.com", applied.pk]) in body
    assert response["X-Frame-Options"] == "DENY"


def test_connected_page_accepts_u_label_and_refuses_other_zones(client, applied, zones, bob):
    assert client.get(reverse("domainconnect:connected", args=["EXAMPLE.com"])).status_code == 200
    for domain in ("bob.example", "nothere.example", "parked.example"):
        response = client.get(reverse("domainconnect:connected", args=[domain]))
        assert response.status_code == 404
        assert domain not in response.content.decode()


def test_connected_page_needs_login(client, applied):
    client.logout()
    response = client.get(reverse("domainconnect:connected", args=["example.com"]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_disconnect_get_only_confirms(client, applied, zones):
    url = reverse("domainconnect:disconnect", args=["example.com", applied.pk])
    writes = zones.write_count
    response = client.get(url)
    assert response.status_code == 200
    assert "198.51.100.7" in response.content.decode() and 'name="confirm"' in response.content.decode()
    assert zones.write_count == writes
    assert models.AppliedTemplate.objects.exists()


def test_disconnect_post_reverts(client, applied, zones):
    url = reverse("domainconnect:disconnect", args=["example.com", applied.pk])
    response = client.post(url, {"confirm": "yes"})
    assert response.status_code == 303
    assert response["Location"].endswith("?disconnected=1")
    assert not models.AppliedTemplate.objects.exists()
    assert not any(r.data == "198.51.100.7" for r in zones.records("example.com"))
    # a second submit is harmless
    again = client.post(url, {"confirm": "yes"})
    assert again.status_code == 404


def test_disconnect_backend_failure_is_503_and_changes_nothing(client, applied, zones):
    before = sorted(zones.records("example.com"))
    zones.fail_on_write(1)
    response = client.post(reverse("domainconnect:disconnect", args=["example.com", applied.pk]), {"confirm": "yes"})
    assert response.status_code == 503
    assert "Nothing was changed" in response.content.decode()
    assert models.AppliedTemplate.objects.exists()
    assert sorted(zones.records("example.com")) == before


def test_disconnect_without_confirmation_does_nothing(client, applied, zones):
    url = reverse("domainconnect:disconnect", args=["example.com", applied.pk])
    response = client.post(url, {})
    assert response.status_code == 302
    assert models.AppliedTemplate.objects.exists()


def test_other_user_cannot_disconnect(client, applied, zones, bob):
    client.logout()
    client.force_login(bob)
    url = reverse("domainconnect:disconnect", args=["example.com", applied.pk])
    assert client.post(url, {"confirm": "yes"}).status_code == 404
    assert models.AppliedTemplate.objects.exists()
