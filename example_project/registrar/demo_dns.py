"""What the demo's loopback DNS server answers: the demo public key under each demo template's
``syncPubKeyDomain`` and the ``_domainconnect`` discovery TXT of every active zone."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

from django_domainconnect.conf import dc_settings
from django_domainconnect.engine.signatures import key_lookup_name

from .demo_keys import DEMO_KEY_LABEL, public_key_records
from .models import Domain
from .seed import DEMO_TEMPLATES_DIR


def sync_pub_key_domains(directory: Path = DEMO_TEMPLATES_DIR) -> list[str]:
    """The distinct ``syncPubKeyDomain`` values of the demo templates."""
    domains = set()
    for path in sorted(directory.glob("*.json")):
        value = json.loads(path.read_text(encoding="utf-8")).get("syncPubKeyDomain")
        if isinstance(value, str) and value:
            domains.add(value.lower().rstrip("."))
    return sorted(domains)


def discovery_value() -> str:
    """The ``_domainconnect`` TXT value: authority and path of the base URL (draft §7), no scheme."""
    base = urlsplit(dc_settings.BASE_URL)
    return base.netloc + base.path.rstrip("/")


def demo_dns_records() -> dict[str, dict[str, list[str]]]:
    """``{name: {"TXT": [record, …]}}`` in the form ``LoopbackDNSServer`` takes."""
    records: dict[str, dict[str, list[str]]] = {}
    key_records = public_key_records()
    for domain in sync_pub_key_domains():
        records[key_lookup_name(DEMO_KEY_LABEL, domain)] = {"TXT": key_records}
    for name in Domain.objects.filter(active=True).values_list("name", flat=True):
        records[f"_domainconnect.{name}"] = {"TXT": [discovery_value()]}
    return records
