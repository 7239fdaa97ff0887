"""What ``manage.py seed_demo`` creates: the demo users, their zones and the zones' records."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DEMO_TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "demo_templates"

# (username, password, is_superuser)
USERS = [("admin", "admin", True), ("demo", "demo", False), ("other", "other", False)]

NAMESERVERS = ("ns1.registrar.example.", "ns2.registrar.example.")


@dataclass(frozen=True)
class SeedZone:
    name: str
    owner: str
    verified: bool = True
    active: bool = True


ZONES = [
    SeedZone("example.com", "demo"),
    SeedZone("example.net", "demo"),
    SeedZone("other.example", "other"),
    # In demo's account but not verified yet: Domain Connect must refuse it like a stranger's zone.
    SeedZone("unverified.example", "demo", verified=False),
]


def zone_records(domain: str, serial: int = 2026010100) -> list[tuple[str, str, int, str]]:
    """Realistic starting records for ``domain``: ``(owner, type, ttl, data)`` with absolute owners."""
    origin = domain + "."
    return [
        (origin, "SOA", 3600, f"{NAMESERVERS[0]} hostmaster.registrar.example. {serial} 7200 3600 1209600 3600"),
        (origin, "NS", 86400, NAMESERVERS[0]),
        (origin, "NS", 86400, NAMESERVERS[1]),
        (origin, "A", 3600, "192.0.2.10"),
        ("www." + origin, "CNAME", 3600, origin),
        (origin, "MX", 3600, f"10 mail.{origin}"),
        (origin, "MX", 3600, "20 mx-backup.registrar.example."),
        ("mail." + origin, "A", 3600, "192.0.2.25"),
        (origin, "TXT", 3600, '"v=spf1 mx ~all"'),
        (origin, "TXT", 3600, f'"registrar-verification={domain.replace(".", "-")}-7f3a9c"'),
    ]
