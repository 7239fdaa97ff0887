"""Signed apply links (draft §8.3.2.1, §8.3.4; SECURITY.md A.13, B.14–B.18), end to end through the views:
links built and signed by the real ``domain-connect`` library, keys served by a loopback DNS server."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from django_domainconnect import models
from django_domainconnect.engine.signatures import signed_query
from django_domainconnect.testing.dnsserver import SilentUDPServer
from tests.sync.helpers import KEY_DOMAIN, KEY_LABEL, apply_url, library_sync_url, publish_key

pytestmark = pytest.mark.django_db

SIGNED = {"syncPubKeyDomain": KEY_DOMAIN}


@pytest.fixture
def signed_template(dns_server, make_template):
    # Depends on dns_server so the DOMAINCONNECT override (which rebuilds the backend) happens before zones.
    return make_template(**SIGNED)


def assert_refused_page(response, *, status: int = 400) -> str:
    assert response.status_code == status
    assert "Location" not in response
    body = response.content.decode()
    assert 'value="approve"' not in body
    return body


def assert_nothing_written(zones) -> None:
    assert zones.write_count == 0
    assert not models.AppliedTemplate.objects.exists()


def test_library_signed_link_reaches_consent(client, signed_template, zones, alice, dns_server, sp_private_key):
    publish_key(dns_server, sp_private_key)
    client.force_login(alice)
    url = library_sync_url(params={"IP": "198.51.100.7", "token": "tok en+1~", "note": "é"}, state="st&x=1",
                           redirect_uri="https://app.exampleservice.example/back", private_key=sp_private_key)
    response = client.get(url)
    assert response.status_code == 200, (response.get("Location"), response.content.decode()[-1500:])
    assert b'value="approve"' in response.content


def test_signed_link_survives_the_login_round_trip(client, signed_template, zones, alice, dns_server, sp_private_key):
    publish_key(dns_server, sp_private_key)
    # +, %2B, %20, %7E and non-ASCII (percent-encoded UTF-8, in a parameter the template ignores) are signed.
    query = signed_query("domain=example.com&IP=198.51.100.7&token=a+b%2Bc%20d%7Ee&note=%C3%A9", sp_private_key,
                         KEY_LABEL)
    first = client.get(apply_url(query=query))
    assert first.status_code == 302
    login = urlsplit(first["Location"])
    next_url = parse_qs(login.query)["next"][0]
    assert next_url.startswith("/domainconnect/resume/")  # the query itself waits in the session
    after_login = client.post(login.path, {"username": "alice", "password": "pw-alice", "next": next_url})
    assert after_login.status_code == 302
    assert after_login["Location"] == next_url
    consent = client.get(after_login["Location"])
    assert consent.status_code == 200, consent.content.decode()[-1500:]
    assert b'value="approve"' in consent.content


@pytest.mark.parametrize("query", [
    "domain=example.com&IP=198.51.100.7&token=t",  # unsigned
    "domain=example.com&IP=198.51.100.7&token=t&key=_dck1",  # key only
    "domain=example.com&IP=198.51.100.7&token=t&sig=AAAA",  # sig only
])
def test_unsigned_or_half_signed_request_is_refused_before_login(client, signed_template, zones, dns_server, query):
    response = client.get(apply_url(query=query))  # anonymous: must not even reach the login page
    body = assert_refused_page(response)
    assert "signature" in body
    assert_nothing_written(zones)
    assert dns_server.queries == []  # refused before any key lookup


def test_tampered_or_extended_signed_queries_are_refused(client, signed_template, zones, alice, dns_server,
                                                        sp_private_key):
    publish_key(dns_server, sp_private_key)
    client.force_login(alice)
    good = signed_query("domain=example.com&IP=198.51.100.7&token=t", sp_private_key, KEY_LABEL)
    tampered = [
        good + "&IP2=6.6.6.6",  # appended after &key=
        good.replace("IP=198.51.100.7", "IP=6.6.6.6"),  # value changed
        good.replace("&token=t", ""),  # a signed parameter removed
        good.replace("domain=example.com&IP=198.51.100.7", "IP=198.51.100.7&domain=example.com"),  # re-ordered
    ]
    for query in tampered:
        body = assert_refused_page(client.get(apply_url(query=query)))
        assert f"{KEY_LABEL}.{KEY_DOMAIN}" in body  # tells the SP developer which key host was used
    assert_nothing_written(zones)


@pytest.mark.parametrize("key", ["a.b", "x.evil.com.", "..%2Fx", "", "a" * 64])
def test_key_that_is_not_one_label_is_refused(client, signed_template, zones, dns_server, sp_private_key, key):
    query = signed_query("domain=example.com&IP=1.2.3.4&token=t", sp_private_key, KEY_LABEL)
    query = query.replace(f"key={KEY_LABEL}", f"key={key}")
    assert_refused_page(client.get(apply_url(query=query)))
    assert dns_server.queries == []  # never looked up anywhere else


def test_missing_key_record_names_the_host_queried(client, signed_template, zones, dns_server, sp_private_key):
    query = signed_query("domain=example.com&IP=1.2.3.4&token=t", sp_private_key, KEY_LABEL)
    body = assert_refused_page(client.get(apply_url(query=query)))
    assert f"{KEY_LABEL}.{KEY_DOMAIN}" in body
    assert "example.com" not in body.replace(KEY_DOMAIN, "")  # nothing about the user's zone


def test_weak_key_record_is_refused(client, signed_template, zones, dns_server):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    publish_key(dns_server, weak)
    query = signed_query("domain=example.com&IP=1.2.3.4&token=t", weak, KEY_LABEL)
    body = assert_refused_page(client.get(apply_url(query=query)))
    assert "2048" in body


def test_large_key_record_set_is_fetched_over_tcp(client, signed_template, zones, alice, dns_server):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    big = rsa.generate_private_key(public_exponent=65537, key_size=4096).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    fragments = publish_key(dns_server, big, max_len=120)
    assert len(fragments) > 4 and sum(map(len, fragments)) > 512
    client.force_login(alice)
    query = signed_query("domain=example.com&IP=198.51.100.7&token=t&sig_note=1", big, KEY_LABEL)
    response = client.get(apply_url(query=query))
    assert response.status_code == 200, response.content[:2000]
    assert any(q[2] == "tcp" for q in dns_server.queries)


def test_dns_timeout_fails_closed_as_temporarily_unavailable(client, signed_template, zones, settings,
                                                            sp_private_key):
    from django.core.cache import cache

    cache.clear()
    with SilentUDPServer() as silent:
        settings.DOMAINCONNECT = {**settings.DOMAINCONNECT, "DNS_NAMESERVERS": [silent.nameserver],
                                  "DNS_TIMEOUT": 0.5}
        query = signed_query("domain=example.com&IP=1.2.3.4&token=t", sp_private_key, KEY_LABEL)
        response = client.get(apply_url(query=query))
    body = assert_refused_page(response, status=503)
    assert "temporarily_unavailable" in body
    assert_nothing_written(zones)


def test_signature_failure_redirects_only_to_an_allowed_uri(client, signed_template, zones, dns_server,
                                                           sp_private_key):
    publish_key(dns_server, sp_private_key)
    query = signed_query("domain=example.com&IP=1.2.3.4&token=t&state=abc"
                         "&redirect_uri=https%3A%2F%2Fapp.exampleservice.example%2Fback", sp_private_key, KEY_LABEL)
    response = client.get(apply_url(query=query.replace("IP=1.2.3.4", "IP=6.6.6.6")))
    assert response.status_code == 302
    params = parse_qs(urlsplit(response["Location"]).query)
    assert params["error"] == ["invalid_request"]
    assert params["state"] == ["abc"]
    assert "signature" in params["error_description"][0]


def test_signature_on_an_unsigned_template_is_ignored_not_trusted(client, make_template, zones, alice,
                                                                 sp_private_key):
    make_template(syncRedirectDomain=None)
    query = signed_query("domain=example.com&IP=1.2.3.4&token=t&redirect_uri=https%3A%2F%2Fevil.example%2F",
                         sp_private_key, KEY_LABEL)
    client.force_login(alice)
    response = client.get(apply_url(query=query + "&groupId=nope"))  # forces an error path
    assert response.status_code == 400
    assert "Location" not in response


def test_large_key_record_set_over_tcp_then_wrong_signer_is_refused(client, signed_template, zones, dns_server,
                                                                    sp_private_key):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    big = rsa.generate_private_key(public_exponent=65537, key_size=4096).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    publish_key(dns_server, big, max_len=120)
    query = signed_query("domain=example.com&IP=1.2.3.4&token=t", sp_private_key, KEY_LABEL)  # other key
    body = assert_refused_page(client.get(apply_url(query=query)))
    assert "4096-bit key" in body or "does not match" in body  # the key itself was reassembled fine
    assert any(q[2] == "tcp" for q in dns_server.queries)


def test_signature_refusals_are_audited_without_sig_or_key(client, signed_template, zones, dns_server,
                                                          sp_private_key):
    publish_key(dns_server, sp_private_key)
    query = signed_query("domain=example.com&IP=1.2.3.4&token=t", sp_private_key, KEY_LABEL)
    client.get(apply_url(query=query.replace("IP=1.2.3.4", "IP=6.6.6.6")))
    row = models.AuditEvent.objects.get(action="refused")
    assert row.domain == "example.com" and "signature" in row.detail
    assert "sig" not in row.params and "key" not in row.params and row.params["IP"] == "6.6.6.6"
