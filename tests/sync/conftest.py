"""Fixtures for the sync flow: users, zones in the MemoryBackend, templates in the database, signed links."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import store_template_row
from tests.sync.helpers import template_body


@pytest.fixture
def make_template(db) -> Callable[..., Any]:
    """Store a template (enabled) the way the importer would; returns the model row."""
    def make(service_id: str = "web", **overrides: Any) -> Any:
        return store_template_row(template_body(service_id, **overrides))

    return make


@pytest.fixture
def alice(django_user_model) -> Any:
    return django_user_model.objects.create_user("alice", password="pw-alice")


@pytest.fixture
def bob(django_user_model) -> Any:
    return django_user_model.objects.create_user("bob", password="pw-bob")


@pytest.fixture
def zones(memory_backend, alice, bob) -> Any:
    """example.com (alice, with an A record), bob.example (bob), parked.example (alice, inactive)."""
    from django_domainconnect.engine.types import Record

    memory_backend.add_zone("example.com", owners=["alice"], records=[
        Record("example.com.", "A", 3600, "192.0.2.1"),
        Record("example.com.", "MX", 3600, "10 mail.example.com."),
    ])
    memory_backend.add_zone("bob.example", owners=["bob"])
    memory_backend.add_zone("parked.example", owners=["alice"], active=False)
    return memory_backend


@pytest.fixture(scope="session")
def sp_private_key() -> str:
    """The Service Provider's signing key (RSA 2048, PEM), generated once per run."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode("ascii")


@pytest.fixture
def dns_server(settings):
    """A loopback DNS server the app's key lookups go to (UDP, TCP fallback for large answers)."""
    from django.core.cache import cache

    from django_domainconnect.testing.dnsserver import LoopbackDNSServer

    with LoopbackDNSServer() as server:
        settings.DOMAINCONNECT = {**settings.DOMAINCONNECT, "DNS_NAMESERVERS": [server.nameserver],
                                  "DNS_TIMEOUT": 2.0}
        cache.clear()
        yield server
    cache.clear()
