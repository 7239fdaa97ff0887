"""Helpers shared by the sync-flow tests."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

APPLY = "/v2/domainTemplates/providers/{pid}/services/{sid}/apply"
PROVIDER = "exampleservice.example"


def template_body(service_id: str = "web", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "providerId": PROVIDER,
        "providerName": "Example Service",
        "serviceId": service_id,
        "serviceName": "Example Website",
        "version": 1,
        "logoUrl": "https://logo.exampleservice.example/logo.png",
        "description": "Points your domain at Example Website",
        "syncRedirectDomain": "exampleservice.example",
        "records": [
            {"type": "A", "host": "@", "pointsTo": "%IP%", "ttl": 3600},
            {"type": "TXT", "host": "@", "data": "example-verify=%token%", "ttl": 3600},
        ],
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}  # None removes a key


def apply_url(service_id: str = "web", query: str | dict[str, str] | None = None, *,
              provider_id: str = PROVIDER) -> str:
    path = APPLY.format(pid=provider_id, sid=service_id)
    if query is None:
        return path
    if isinstance(query, dict):
        query = urlencode(query)
    return f"{path}?{query}"


def default_query(**extra: str) -> dict[str, str]:
    query = {"domain": "example.com", "IP": "198.51.100.7", "token": "abc123",
             "redirect_uri": "https://app.exampleservice.example/done", "state": "s-1"}
    query.update(extra)
    return query



KEY_DOMAIN = "keys.exampleservice.example"
KEY_LABEL = "_dck1"


def publish_key(server: Any, private_pem: str, *, label: str = KEY_LABEL, max_len: int = 255) -> list[str]:
    """Publish the public half of ``private_pem`` as §6.4 fragments at ``<label>.<KEY_DOMAIN>``."""
    from django_domainconnect.engine.signatures import public_key_txt_records

    records = public_key_txt_records(private_pem, max_len=max_len)
    server.set_txt(f"{label}.{KEY_DOMAIN}", *records)
    return records


def library_sync_url(*, service_id: str = "web", domain: str = "example.com", params: dict[str, str] | None = None,
                     redirect_uri: str | None = None, state: str | None = None, group_ids: list[str] | None = None,
                     private_key: str | None = None, keyid: str = KEY_LABEL) -> str:
    """The apply link exactly as the ``domain-connect`` PyPI library (v0.0.11) builds and signs it.

    Discovery (DNS + HTTPS settings fetch) is replaced by the settings document our provider would serve,
    so the test stays offline; URL building, sorting, encoding and signing are the library's own code.
    """
    from domainconnect.domainconnect import DomainConnect, DomainConnectConfig

    dc = DomainConnect()
    root = domain.split(".", domain.count(".") - 1)[-1] if domain.count(".") > 1 else domain
    host = domain[: -len(root) - 1] if domain != root else ""
    config = DomainConnectConfig(domain, root, host, {
        "providerId": "registrar.example", "urlSyncUX": "https://dns.example.net", "urlAPI": "https://dns.example.net",
    })
    dc.get_domain_config = lambda _domain: config  # type: ignore[method-assign]
    dc.check_template_supported = lambda *_a, **_k: None  # type: ignore[method-assign]
    url = dc.get_domain_connect_template_sync_url(
        domain, PROVIDER, service_id, redirect_uri=redirect_uri, params=dict(params or {}), state=state,
        group_ids=group_ids, sign=private_key is not None, private_key=private_key, keyid=keyid,
    )
    assert url.startswith("https://dns.example.net/")
    return url[len("https://dns.example.net"):]
