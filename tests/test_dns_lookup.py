"""Public-key lookups through the configured resolver: TCP fallback, fail closed, cache by TTL."""

from __future__ import annotations

import functools
import time

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.cache import cache

from django_domainconnect import dns as dc_dns
from django_domainconnect.engine.errors import KeyRecordError, SignatureError
from django_domainconnect.engine.signatures import public_key_txt_records, signed_query, verify_signed_query
from django_domainconnect.testing.dnsserver import LoopbackDNSServer, SilentUDPServer

KEY_DOMAIN = "keys.sp.example"
KEY_NAME = f"_dck1.{KEY_DOMAIN}"


@functools.cache
def private_pem(bits: int = 4096) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def use_nameserver(settings, nameserver: str, **extra) -> None:
    settings.DOMAINCONNECT = {**settings.DOMAINCONNECT, "DNS_NAMESERVERS": [nameserver], "DNS_TIMEOUT": 2.0,
                              **extra}


@pytest.fixture
def dns_server(settings):
    """A loopback DNS server that the app's key lookups go to; cache and counters start empty."""
    with LoopbackDNSServer() as server:
        use_nameserver(settings, server.nameserver)
        cache.clear()
        dc_dns.reset_stats()
        yield server
    cache.clear()


def test_lookup_txt_keeps_character_strings(dns_server):
    dns_server.set_txt("_domainconnect.example.org", ["dns.", "example.net"], "second")
    assert sorted(dc_dns.lookup_txt("_domainconnect.example.org")) == [[b"dns.", b"example.net"], [b"second"]]


def test_multi_fragment_key_over_512_bytes_comes_over_tcp(dns_server):
    records = public_key_txt_records(private_pem(), max_len=200)  # 4096 bits: 4 fragments, ~740 bytes
    dns_server.set_txt(KEY_NAME, *reversed(records))
    info = dc_dns.get_public_key("_dck1", KEY_DOMAIN)
    assert info.bits == 4096 and info.fragments == len(records) > 2
    assert ("_dck1.keys.sp.example.", "TXT", "tcp") in dns_server.queries
    raw = signed_query("domain=example.com&IP=192.0.2.1", private_pem(), "_dck1")
    assert verify_signed_query(raw, KEY_DOMAIN, dc_dns.get_public_key) == info


def test_nxdomain_fails_closed_naming_the_host(dns_server):
    with pytest.raises(dc_dns.DNSLookupError) as exc:
        dc_dns.get_public_key("_dck1", KEY_DOMAIN)
    assert isinstance(exc.value, SignatureError)
    assert KEY_NAME in str(exc.value) and "NXDOMAIN" in str(exc.value)
    assert exc.value.temporary is False and exc.value.code == "key_not_found"


def test_no_txt_at_existing_name_fails(dns_server):
    dns_server.set(KEY_NAME, "A", ["192.0.2.1"])
    with pytest.raises(dc_dns.DNSLookupError, match="has no TXT records"):
        dc_dns.get_public_key("_dck1", KEY_DOMAIN)


def test_servfail_is_temporary(dns_server):
    dns_server.servfail.add(KEY_NAME)
    with pytest.raises(dc_dns.DNSLookupError, match="SERVFAIL") as exc:
        dc_dns.get_public_key("_dck1", KEY_DOMAIN)
    assert exc.value.temporary and exc.value.code == "temporarily_unavailable"
    assert KEY_NAME in str(exc.value)


def test_timeout_against_a_silent_server_is_bounded(settings):
    with SilentUDPServer() as silent:
        use_nameserver(settings, silent.nameserver, DNS_TIMEOUT=0.4)
        started = time.monotonic()
        with pytest.raises(dc_dns.DNSLookupError, match="timed out") as exc:
            dc_dns.lookup_txt(KEY_NAME)
        assert time.monotonic() - started < 2
    assert exc.value.temporary and KEY_NAME in str(exc.value)


def test_bad_key_record_names_the_host(dns_server):
    dns_server.set_txt(KEY_NAME, "p=1,a=HS256,d=QUJD")
    with pytest.raises(KeyRecordError, match=f"key record at {KEY_NAME}: .*HS256"):
        dc_dns.get_public_key("_dck1", KEY_DOMAIN)
    assert dc_dns.stats()["failures"] == 1


def test_bad_key_label_never_queries(dns_server):
    with pytest.raises(SignatureError, match="single DNS label"):
        dc_dns.get_public_key("x.evil.com", KEY_DOMAIN)
    assert dns_server.queries == []


def test_positive_answer_cached_for_its_ttl(dns_server):
    dns_server.set_txt(KEY_NAME, *public_key_txt_records(private_pem()), ttl=1)
    first = dc_dns.get_public_key("_dck1", KEY_DOMAIN)
    dns_server.set_txt(KEY_NAME, "p=1,d=QUJD", ttl=1)  # the published record changes…
    assert dc_dns.get_public_key("_DCK1", KEY_DOMAIN).der == first.der  # …but the cached key answers
    assert [q for q in dns_server.queries if q[2] == "udp"] == [("_dck1.keys.sp.example.", "TXT", "udp")]
    assert dc_dns.stats() == {"lookups": 1, "failures": 0, "cache_hits": 1}
    time.sleep(1.2)
    with pytest.raises(KeyRecordError):  # TTL passed: DNS is asked again and the new record is used
        dc_dns.get_public_key("_dck1", KEY_DOMAIN)
    assert dc_dns.stats()["lookups"] == 2


def test_cache_time_capped_by_setting(dns_server, settings):
    settings.DOMAINCONNECT = {**settings.DOMAINCONNECT, "KEY_CACHE_TIMEOUT": 1}
    dns_server.set_txt(KEY_NAME, *public_key_txt_records(private_pem()), ttl=86400)
    dc_dns.get_public_key("_dck1", KEY_DOMAIN)
    time.sleep(1.2)
    dc_dns.get_public_key("_dck1", KEY_DOMAIN)
    assert dc_dns.stats()["lookups"] == 2


def test_zero_ttl_and_failures_are_not_cached(dns_server):
    with pytest.raises(dc_dns.DNSLookupError):
        dc_dns.get_public_key("_dck1", KEY_DOMAIN)
    dns_server.set_txt(KEY_NAME, *public_key_txt_records(private_pem()), ttl=0)
    dc_dns.get_public_key("_dck1", KEY_DOMAIN)  # published after a failure: found at once
    dc_dns.get_public_key("_dck1", KEY_DOMAIN)
    assert dc_dns.stats() == {"lookups": 3, "failures": 1, "cache_hits": 0}


def test_cache_key_is_memcached_safe():
    key = dc_dns._cache_key("_dck1." + "a" * 240 + ".example")
    assert len(key) < 250 and key.isascii() and not any(c.isspace() or ord(c) < 33 for c in key)


@pytest.mark.parametrize("text, address, port", [
    ("192.0.2.53", "192.0.2.53", 53),
    ("127.0.0.1:5353", "127.0.0.1", 5353),
    ("2001:db8::53", "2001:db8::53", 53),
    ("[2001:db8::53]:5353", "2001:db8::53", 5353),
])
def test_parse_nameserver(text, address, port):
    ns = dc_dns.parse_nameserver(text)
    assert (ns.address, ns.port) == (address, port)


@pytest.mark.parametrize("text", ["ns.example.com", "127.0.0.1:0", "127.0.0.1:70000", "1.2.3.4:x"])
def test_bad_nameserver_setting_fails_closed(settings, text):
    use_nameserver(settings, text)
    with pytest.raises(SignatureError, match="DNS_NAMESERVERS"):
        dc_dns.lookup_txt(KEY_NAME)
