"""HEAD on the apply link has no side effects (RFC 9110 §9.2.1): link checkers and mail scanners send it.

No pending consent, no stored query for the login round trip and no audit row; the status is the GET's.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from django_domainconnect import models
from django_domainconnect.engine.signatures import signed_query
from django_domainconnect.views.pending import PENDING_KEY
from django_domainconnect.views.resume import RESUME_KEY
from tests.sync.helpers import KEY_DOMAIN, KEY_LABEL, apply_url, default_query, publish_key

pytestmark = pytest.mark.django_db


def test_head_for_a_signed_in_user_stores_no_pending_consent(client, make_template, zones, alice):
    make_template()
    client.force_login(alice)
    response = client.head(apply_url(query=default_query()))
    assert response.status_code == 200
    assert response.content == b""
    assert PENDING_KEY not in client.session
    # the same GET does store one (so the check above is not vacuous)
    assert client.get(apply_url(query=default_query())).status_code == 200
    assert len(client.session[PENDING_KEY]) == 1


def test_head_for_an_anonymous_user_stores_nothing(client, make_template, zones):
    make_template()
    response = client.head(apply_url(query=default_query()))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    assert RESUME_KEY not in client.session
    assert client.get(apply_url(query=default_query())).status_code == 302
    assert len(client.session[RESUME_KEY]) == 1


def test_head_on_the_resume_url_stores_no_pending_consent(client, make_template, zones, alice):
    make_template()
    first = client.get(apply_url(query=default_query()))
    next_url = parse_qs(urlsplit(first["Location"]).query)["next"][0]
    client.force_login(alice)
    assert client.head(next_url).status_code == 200
    assert PENDING_KEY not in client.session


def test_head_with_a_bad_signature_writes_no_audit_row(client, dns_server, make_template, zones, sp_private_key):
    publish_key(dns_server, sp_private_key)
    make_template(syncPubKeyDomain=KEY_DOMAIN, syncRedirectDomain=None)
    query = signed_query("domain=example.com&IP=1.2.3.4&token=t", sp_private_key, KEY_LABEL)
    tampered = apply_url(query=query.replace("IP=1.2.3.4", "IP=6.6.6.6"))
    assert client.head(tampered).status_code == 400
    assert not models.AuditEvent.objects.exists()
    assert client.get(tampered).status_code == 400
    assert models.AuditEvent.objects.filter(action="refused").count() == 1


def test_head_for_a_zone_of_someone_else_writes_no_audit_row(client, make_template, zones, alice):
    make_template(syncRedirectDomain=None)
    client.force_login(alice)
    query = default_query(domain="bob.example")
    del query["redirect_uri"]
    url = apply_url(query=query)
    assert client.head(url).status_code == 403
    assert not models.AuditEvent.objects.exists()
