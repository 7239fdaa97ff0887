"""End to end with the real ``domain-connect`` PyPI client, as a Service Provider's code would run it.

The app is served over HTTPS on loopback (a self-signed certificate made here with ``cryptography``) and
``_domainconnect.example.com`` is answered by the loopback DNS server; the client then does its own
discovery, template check, async consent URL, token exchange, apply (409, forced), refresh, and the
dynamic-DNS pattern (re-apply with a new IP, no ``force``). Only the user's click on "Allow" is done with
Django's test client, logged in as the domain's owner. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.db import connections
from django.test import override_settings

from django_domainconnect.engine.types import Record
from django_domainconnect.testing.dnsserver import LoopbackDNSServer
from django_domainconnect.testing.tlsserver import TLSLiveServerThread, self_signed
from tests.oauth.conftest import DDNS_RECORDS, PROVIDER, REDIRECT, SECRET, consent_token, location_params

domainconnect = pytest.importorskip("domainconnect", reason="the domain-connect client is a test dependency")

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def https_server(transactional_db) -> Iterator[TLSLiveServerThread]:
    override = {}
    for conn in connections.all():
        if conn.vendor == "sqlite" and conn.is_in_memory_db():
            override[conn.alias] = conn
            conn.inc_thread_sharing()
    with tempfile.TemporaryDirectory() as tmp:
        thread = TLSLiveServerThread(self_signed(Path(tmp)), connections_override=override)
        thread.daemon = True
        thread.start()
        thread.is_ready.wait()
        if thread.error:
            raise thread.error
        try:
            yield thread
        finally:
            thread.terminate()
            for conn in override.values():
                conn.dec_thread_sharing()


@pytest.fixture
def provider(https_server, django_user_model, make_template):
    """The DNS Provider at https://127.0.0.1:<port>, discoverable for example.com via loopback DNS."""
    base = f"https://127.0.0.1:{https_server.port}"
    dc = {"PROVIDER_ID": "registrar.example", "PROVIDER_NAME": "Example Registrar", "BASE_URL": base,
          "BACKEND": "django_domainconnect.backends.memory.MemoryBackend"}
    with override_settings(DOMAINCONNECT=dc), LoopbackDNSServer() as ns:
        from django_domainconnect.backends import get_backend
        from django_domainconnect.oauth.clients import create_client

        backend = get_backend()
        backend.reset()
        alice = django_user_model.objects.create_user("alice", password="pw-alice")
        backend.add_zone("example.com", owners=["alice"], records=[Record("example.com.", "A", 3600, "192.0.2.1")])
        make_template("web")
        make_template("ddns", records=DDNS_RECORDS)
        create_client(PROVIDER, [REDIRECT], secret=SECRET)
        ns.set_txt("_domainconnect.example.com", f"127.0.0.1:{https_server.port}")

        resolver = domainconnect.DomainConnect._resolver
        saved = (list(resolver.nameservers), resolver.port)
        dc_client = domainconnect.DomainConnect(domainconnect.NetworkContext(nameservers="127.0.0.1"))
        resolver.port = ns.port  # the library has no API for the port (INTEROP.md)
        try:
            yield {"dc": dc_client, "backend": backend, "alice": alice, "api": base}
        finally:
            resolver.nameservers, resolver.port = saved
            backend.reset()


def user_approves(client, alice, consent_url: str) -> str:
    """The user's browser: open the consent URL, click Allow, follow the redirect back with the code."""
    parts = urlsplit(consent_url)
    path = f"{parts.path}?{parts.query}"
    client.force_login(alice)
    page = client.get(path)
    assert page.status_code == 200, page.content[:300]
    params = location_params(client.post(path, {"consent": consent_token(page), "decision": "allow"}))
    assert params["state"] == "e2e-state"
    return params["code"]


def test_library_async_flow(client, provider):
    dc, backend = provider["dc"], provider["backend"]
    from domainconnect import ConflictOnApplyException, DomainConnectAsyncCredentials

    context = dc.get_domain_connect_template_async_context(
        "example.com", PROVIDER, "web", REDIRECT, params={"IP": "198.51.100.7", "token": "t"}, state="e2e-state")
    assert context.asyncConsentUrl.startswith(f"{provider['api']}/async/v2/domainTemplates/providers/{PROVIDER}?")
    context.code = user_approves(client, provider["alice"], context.asyncConsentUrl)

    credentials = DomainConnectAsyncCredentials(PROVIDER, SECRET, context.config.urlAPI)
    context = dc.get_async_token(context, credentials)
    assert context.access_token and context.refresh_token

    with pytest.raises(ConflictOnApplyException):
        dc.apply_domain_connect_template_async(context, params={"IP": "198.51.100.7", "token": "t"})
    assert Record("example.com.", "A", 3600, "192.0.2.1") in backend.records("example.com")

    dc.apply_domain_connect_template_async(context, params={"IP": "198.51.100.7", "token": "t"}, force=True)
    apex = {(r.type, r.data) for r in backend.records("example.com") if r.name == "example.com."}
    assert ("A", "198.51.100.7") in apex and ("A", "192.0.2.1") not in apex

    # The access token is "about to expire": the library refreshes (secret in query and body).
    old_access, old_refresh = context.access_token, context.refresh_token
    context.iat = int(time.time()) - context.access_token_expires_in
    context = dc.get_async_token(context, credentials)
    assert context.access_token != old_access and context.refresh_token != old_refresh
    dc.apply_domain_connect_template_async(context, params={"IP": "198.51.100.8", "token": "t"})
    assert ("A", "198.51.100.8") in {(r.type, r.data) for r in backend.records("example.com")}


def test_library_dynamic_dns_pattern(client, provider):
    dc, backend = provider["dc"], provider["backend"]
    from domainconnect import DomainConnectAsyncCredentials

    # Like domain-connect-dyndns: the name to update is home.example.com; the library splits off the host.
    context = dc.get_domain_connect_template_async_context("home.example.com", PROVIDER, "ddns", REDIRECT,
                                                           state="e2e-state")
    assert "host=home" in context.asyncConsentUrl
    context.code = user_approves(client, provider["alice"], context.asyncConsentUrl)
    context = dc.get_async_token(context, DomainConnectAsyncCredentials(PROVIDER, SECRET, context.config.urlAPI))

    for ip in ("198.51.100.1", "198.51.100.2"):  # the address changed: same call again, never force
        dc.apply_domain_connect_template_async(context, params={"ip": ip}, group_ids=["IPv4"])
        home = [(r.type, r.data) for r in backend.records("example.com") if r.name == "home.example.com."]
        assert home == [("A", ip)]
