"""DNS lookups for signed requests: TXT queries through a configured resolver, public keys cached by TTL.

Every failure (NXDOMAIN, no TXT, SERVFAIL, timeout, unusable record) raises a ``SignatureError`` naming
the host that was queried: signed requests fail closed and never fall back to "unsigned". Parsed keys
are cached in Django's default cache (shared by all workers when it is Redis, memcached or the
database) for the answer's TTL, capped by ``KEY_CACHE_TIMEOUT``.
Negative answers are never cached, so a freshly published key works at once.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import threading
from typing import Any

import dns.exception
import dns.name
import dns.nameserver
import dns.rdatatype
import dns.resolver
from django.conf import settings
from django.core.cache import cache

from .engine.errors import SignatureError
from .engine.signatures import PublicKeyInfo, key_lookup_name, parse_key_records

logger = logging.getLogger(__name__)

CACHE_PREFIX = "domainconnect:pubkey:v1:"
_DEFAULTS: dict[str, Any] = {"DNS_NAMESERVERS": [], "DNS_TIMEOUT": 3.0, "KEY_CACHE_TIMEOUT": 3600}

_stats_lock = threading.Lock()
_stats = {"lookups": 0, "failures": 0, "cache_hits": 0}


class DNSLookupError(SignatureError):
    """A key lookup failed. ``temporary`` is true for SERVFAIL/timeouts (answer ``temporarily_unavailable``)."""

    def __init__(self, message: str, *, name: str, temporary: bool) -> None:
        super().__init__(message, code="temporarily_unavailable" if temporary else "key_not_found")
        self.name = name
        self.temporary = temporary


def _setting(name: str) -> Any:
    try:
        from .conf import dc_settings

        return getattr(dc_settings, name)
    except (ImportError, AttributeError):
        return getattr(settings, "DOMAINCONNECT", {}).get(name, _DEFAULTS[name])


def _count(counter: str) -> None:
    with _stats_lock:
        _stats[counter] += 1


def stats() -> dict[str, int]:
    """Counters since start (per process): ``lookups`` (DNS queries), ``failures``, ``cache_hits``."""
    with _stats_lock:
        return dict(_stats)


def reset_stats() -> None:
    with _stats_lock:
        for key in _stats:
            _stats[key] = 0


def parse_nameserver(text: str) -> dns.nameserver.Do53Nameserver:
    """``"192.0.2.53"``, ``"192.0.2.53:5353"``, ``"2001:db8::53"`` or ``"[2001:db8::53]:5353"``."""
    text = text.strip()
    host, port = text, 53
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        if rest:
            port = int(rest.removeprefix(":"))
    elif text.count(":") == 1:
        host, port_text = text.split(":")
        port = int(port_text)
    ipaddress.ip_address(host)  # ValueError for a name: nameservers must be IP addresses
    if not 0 < port < 65536:
        raise ValueError(f"port {port} out of range")
    return dns.nameserver.Do53Nameserver(host, port)


def get_resolver() -> dns.resolver.Resolver:
    """A resolver from settings: ``DNS_NAMESERVERS`` (empty = the system's), ``DNS_TIMEOUT`` seconds."""
    servers = list(_setting("DNS_NAMESERVERS") or [])
    timeout = float(_setting("DNS_TIMEOUT") or _DEFAULTS["DNS_TIMEOUT"])
    if servers:
        resolver = dns.resolver.Resolver(configure=False)
        try:
            resolver.nameservers = [parse_nameserver(s) for s in servers]
        except ValueError as exc:
            raise SignatureError(f"DOMAINCONNECT['DNS_NAMESERVERS'] is invalid ({exc}); use 'ip' or 'ip:port'",
                                 code="temporarily_unavailable") from None
    else:
        resolver = dns.resolver.Resolver(configure=True)
    resolver.timeout = timeout  # per attempt
    resolver.lifetime = timeout  # whole lookup, all servers and retries included
    return resolver


def _resolve_txt(name: str) -> tuple[list[list[bytes]], int]:
    """TXT records at ``name`` (each a list of character-strings) and the answer's TTL."""
    _count("lookups")
    try:
        qname = dns.name.from_text(name)
        # udp_with_fallback inside dnspython retries over TCP when an answer comes back truncated.
        answer = get_resolver().resolve(qname, dns.rdatatype.TXT, search=False)
    except dns.resolver.NXDOMAIN:
        _count("failures")
        raise DNSLookupError(f"no key record: {name} does not exist (NXDOMAIN)", name=name, temporary=False)
    except dns.resolver.NoAnswer:
        _count("failures")
        raise DNSLookupError(f"no key record: {name} has no TXT records", name=name, temporary=False)
    except dns.exception.Timeout:
        _count("failures")
        raise DNSLookupError(f"DNS lookup of {name} timed out", name=name, temporary=True)
    except dns.resolver.NoNameservers:
        _count("failures")
        raise DNSLookupError(f"DNS lookup of {name} failed (SERVFAIL or no server answered)", name=name,
                             temporary=True)
    except dns.resolver.NoResolverConfiguration:
        _count("failures")
        raise DNSLookupError(f"DNS lookup of {name} failed: no resolver configured (set "
                             "DOMAINCONNECT['DNS_NAMESERVERS'])", name=name, temporary=True)
    except dns.exception.DNSException as exc:
        _count("failures")
        logger.warning("DNS lookup of %s failed: %s", name, exc)
        raise DNSLookupError(f"DNS lookup of {name} failed ({type(exc).__name__})", name=name, temporary=True)
    records = [[bytes(s) for s in rdata.strings] for rdata in answer]
    ttl = answer.rrset.ttl if answer.rrset is not None else 0
    return records, ttl


def lookup_txt(name: str) -> list[list[bytes]]:
    """The TXT records at ``name``, each as its list of character-strings; raises ``DNSLookupError``."""
    return _resolve_txt(name)[0]


def _cache_key(name: str) -> str:
    # A digest keeps the key short and free of characters memcached refuses.
    return CACHE_PREFIX + hashlib.sha256(name.encode("ascii")).hexdigest()


def get_public_key(key: str, sync_pub_key_domain: str) -> PublicKeyInfo:
    """The public key published at ``<key>.<syncPubKeyDomain>`` (§6.4), cached by TTL.

    Raises ``SignatureError`` (``DNSLookupError`` or ``KeyRecordError``) naming the host queried.
    """
    name = key_lookup_name(key, sync_pub_key_domain)
    cache_key = _cache_key(name)
    cached = cache.get(cache_key)
    if cached is not None:
        try:
            info = parse_key_records(cached)
        except SignatureError:
            cache.delete(cache_key)  # never trust a cache entry that no longer parses
        else:
            _count("cache_hits")
            return info
    records, ttl = _resolve_txt(name)
    try:
        info = parse_key_records(records)
    except SignatureError as exc:
        _count("failures")
        raise type(exc)(f"key record at {name}: {exc.message}", code=exc.code) from None
    timeout = min(ttl, int(_setting("KEY_CACHE_TIMEOUT") or 0))
    if timeout > 0:
        cache.set(cache_key, records, timeout)
    return info
