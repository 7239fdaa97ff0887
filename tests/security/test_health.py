"""Health of DNS key lookups (issue 6 item 6): a staff-only JSON view and ``manage.py domainconnect_health``."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user("ops", password="pw", is_staff=True)


@pytest.fixture
def fresh_stats():
    from django_domainconnect import dns, health

    dns.reset_stats()
    health._last_published.update(at=0.0, stats=None)
    yield
    dns.reset_stats()


def test_health_view_is_staff_only(client, alice):
    assert client.get("/domainconnect/health").status_code == 403
    client.force_login(alice)
    answer = client.get("/domainconnect/health")
    assert answer.status_code == 403 and answer["Cache-Control"] == "no-store"
    assert "dns" not in json.loads(answer.content)


def test_health_view_counts_failed_and_cached_key_lookups(client, staff, settings, fresh_stats):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    from django_domainconnect.dns import get_public_key
    from django_domainconnect.engine.errors import SignatureError
    from django_domainconnect.engine.signatures import public_key_txt_records
    from django_domainconnect.testing.dnsserver import LoopbackDNSServer

    pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    with LoopbackDNSServer() as server:
        server.set_txt("_dck1.keys.example", *public_key_txt_records(pem))
        settings.DOMAINCONNECT = {**settings.DOMAINCONNECT, "DNS_NAMESERVERS": [server.nameserver],
                                  "DNS_TIMEOUT": 2.0}
        get_public_key("_dck1", "keys.example")  # a DNS lookup
        get_public_key("_dck1", "keys.example")  # a cache hit
        with pytest.raises(SignatureError):
            get_public_key("_missing", "keys.example")  # NXDOMAIN: a failure
        client.force_login(staff)
        answer = client.get("/domainconnect/health")
    assert answer.status_code == 200
    data = json.loads(answer.content)
    assert data["dns"]["this_process"] == {"lookups": 2, "failures": 1, "cache_hits": 1}
    assert data["dns"]["all_workers"] == {"lookups": 2, "failures": 1, "cache_hits": 1}
    assert data["dns"]["failure_ratio"] == 0.5
    assert data["resolver"]["nameservers"] == [server.nameserver]
    assert data["cache"]["ok"] is True and data["cache"]["shared_between_workers"] is False  # LocMem in tests
    assert data["database"]["ok"] is True
    assert set(data["rate_limits"]) == {"apply_url", "consent", "token", "apply", "revert"}


def test_health_sums_the_workers_that_published(fresh_stats, db):
    from django.core.cache import cache

    from django_domainconnect import health

    cache.set(health.CACHE_PREFIX + "dns:other-host:99", {"lookups": 5, "failures": 2, "cache_hits": 7})
    cache.set(health.REGISTRY_KEY, ["other-host:99"])
    report = health.dns_report()
    assert report["workers"] == 2
    assert report["all_workers"] == {"lookups": 5, "failures": 2, "cache_hits": 7}


def test_health_command_prints_json(db, fresh_stats):
    out = StringIO()
    call_command("domainconnect_health", stdout=out)
    data = json.loads(out.getvalue())
    assert data["ok"] is True and "dns" in data and "rate_limits" in data


def test_health_command_probe_failure_exits_nonzero(db, settings, fresh_stats):
    from django_domainconnect.testing.dnsserver import LoopbackDNSServer

    with LoopbackDNSServer() as server:
        settings.DOMAINCONNECT = {**settings.DOMAINCONNECT, "DNS_NAMESERVERS": [server.nameserver],
                                  "DNS_TIMEOUT": 2.0}
        out = StringIO()
        with pytest.raises(CommandError):
            call_command("domainconnect_health", "--probe", "_dck1.nokey.example", stdout=out)
    data = json.loads(out.getvalue())
    assert data["probe"]["ok"] is False and "NXDOMAIN" in data["probe"]["error"]
