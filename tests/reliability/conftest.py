"""Fixtures for the reliability tests: small templates covering every planning rule, a zone on either the
memory backend or the example registrar's backend, snapshots and the audit-log replay."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection

from django_domainconnect.engine.template import parse_template
from django_domainconnect.engine.types import Record

DOMAIN = "example.com"
PROVIDER = "sp.example"
SOA_SERIAL = 4000000000  # above any YYYYMMDDnn serial: every bump is exactly +1

# Small templates, one per planning rule the concurrency and state-machine tests exercise.
BODIES: dict[str, dict[str, Any]] = {
    "web": {"records": [
        {"type": "A", "host": "www", "pointsTo": "%ip%", "ttl": 3600},
        {"type": "TXT", "host": "@", "data": "sp-verify=%token%", "ttl": 3600, "txtConflictMatchingMode": "None"},
    ]},
    "alias": {"records": [{"type": "CNAME", "host": "www", "pointsTo": "alias.sp.example", "ttl": 3600}]},
    "spf": {"records": [{"type": "SPFM", "host": "@", "spfRules": "include:_spf.sp.example"}]},
    "spf2": {"records": [{"type": "SPFM", "host": "@", "spfRules": "include:_spf.mail.example"}]},
    "verify": {"records": [{"type": "TXT", "host": "@", "data": "verify=%code%", "ttl": 3600,
                            "txtConflictMatchingMode": "Prefix", "txtConflictMatchingPrefix": "verify="}]},
    "multi": {"multiInstance": True, "records": [{"type": "TXT", "host": "_multi", "data": "m=%v%", "ttl": 3600}]},
    "app": {"records": [
        {"type": "A", "host": "app", "pointsTo": "%ip%", "ttl": 3600, "essential": "OnApply"},
        {"type": "MX", "host": "@", "pointsTo": "mx.sp.example", "priority": 10, "ttl": 3600},
    ]},
    # Takes app.example.com. over: removes only the OnApply A of an applied "app", not the instance.
    "appcname": {"records": [{"type": "CNAME", "host": "app", "pointsTo": "app.sp.example", "ttl": 3600}]},
}
BASE_RECORDS = (
    Record("example.com.", "A", 3600, "192.0.2.100"),
    Record("example.com.", "TXT", 3600, '"v=spf1 mx -all"'),
    Record("example.com.", "TXT", 3600, '"verify=old"'),
    Record("app.example.com.", "A", 3600, "192.0.2.50"),
)


def body(service_id: str) -> dict[str, Any]:
    return {"providerId": PROVIDER, "providerName": "SP", "serviceId": service_id,
            "serviceName": f"SP {service_id}", "version": 1, **BODIES[service_id]}


def params_for(service_id: str, n: int) -> dict[str, str]:
    """Variable values for ``service_id``; ``n`` picks one of a few values (so re-applies change things)."""
    ip = f"192.0.2.{1 + n % 3}"
    return {"web": {"ip": ip, "token": f"t{n % 2}"}, "verify": {"code": f"c{n % 3}"}, "multi": {"v": f"v{n % 2}"},
            "app": {"ip": ip}}.get(service_id, {})


def require_row_locks() -> None:
    if not connection.features.has_select_for_update:
        pytest.skip(f"{connection.vendor} has no row locks (SELECT … FOR UPDATE); run on PostgreSQL: make "
                    "test-postgres")


@pytest.fixture
def owner(django_user_model):
    return django_user_model.objects.create_user("zone-owner", password="pw")


@pytest.fixture
def templates(db):
    from django_domainconnect.template_store import save_template

    out = {}
    for sid in BODIES:
        result = save_template(body(sid))
        assert not result.template.has_errors, result.template.lint_findings
        out[sid] = result.template
    return out


@pytest.fixture
def engine_templates(templates):
    return {(t.provider_id, t.service_id): parse_template(t.body) for t in templates.values()}


@dataclass
class ZoneUnderTest:
    """One zone on the backend under test, with read access that bypasses the app."""

    kind: str
    backend: Any

    def records(self) -> list[Record]:
        if self.kind == "memory":
            return self.backend.records(DOMAIN)
        from registrar.models import Record as Row

        rows = Row.objects.filter(domain__name=DOMAIN).exclude(type="SOA")
        return sorted(Record(*r) for r in rows.values_list("name", "type", "ttl", "data"))

    def set_records(self, records: list[Record]) -> None:
        """A manual edit outside Domain Connect."""
        if self.kind == "memory":
            self.backend.set_records(DOMAIN, records)
            return
        from registrar.models import Domain
        from registrar.models import Record as Row

        domain = Domain.objects.get(name=DOMAIN)
        Row.objects.filter(domain=domain).exclude(type="SOA").delete()
        for r in records:
            Row.objects.create(domain=domain, name=r.name, type=r.type, ttl=r.ttl, data=r.data)

    def soa_serial(self) -> int | None:
        if self.kind == "memory":
            return None
        from registrar.models import Record as Row

        return int(Row.objects.get(domain__name=DOMAIN, type="SOA").data.split()[2])


def make_zone(kind: str, owner: Any, settings: Any, memory_backend: Any) -> ZoneUnderTest:
    if kind == "memory":
        memory_backend.add_zone(DOMAIN, owners=[owner.pk], records=BASE_RECORDS)
        return ZoneUnderTest("memory", memory_backend)
    from registrar.models import Domain
    from registrar.models import Record as Row

    settings.DOMAINCONNECT = {**settings.DOMAINCONNECT, "BACKEND": "registrar.dc_backend.RegistrarBackend"}
    domain = Domain.objects.create(name=DOMAIN, owner=owner, verified=True, active=True)
    Row.objects.create(domain=domain, name="example.com.", type="SOA", ttl=3600,
                       data=f"ns1.example.net. hostmaster.example.com. {SOA_SERIAL} 7200 3600 1209600 300")
    for r in BASE_RECORDS:
        Row.objects.create(domain=domain, name=r.name, type=r.type, ttl=r.ttl, data=r.data)
    from django_domainconnect.backends import get_backend

    return ZoneUnderTest("registrar", get_backend())


@pytest.fixture(params=["memory", "registrar"])
def zone(request, owner, settings, memory_backend, templates):
    """``example.com`` owned by ``owner`` on the memory backend, then on the example registrar's backend."""
    return make_zone(request.param, owner, settings, memory_backend)


def state_summary() -> set[tuple[Any, ...]]:
    """The applied instances the app holds, in ``replay.instance_summary`` shape."""
    from django_domainconnect.models import AppliedTemplate

    return {
        (a.instance_id, a.provider_id, a.service_id, a.host,
         frozenset((r.name, r.type, r.ttl, r.data, r.essential, r.group_id, r.spf_rules) for r in a.records.all()))
        for a in AppliedTemplate.objects.filter(domain=DOMAIN).prefetch_related("records")
    }


def snapshot(zone: ZoneUnderTest) -> tuple[Any, ...]:
    """Everything a failed operation must leave alone: records, SOA serial, state, success audit rows."""
    from django_domainconnect.models import AuditEvent

    return (zone.records(), zone.soa_serial(), state_summary(),
            AuditEvent.objects.filter(outcome="success").count())
