"""The adapter between Domain Connect and this registrar's own ``Domain``/``Record`` models.

Point ``DOMAINCONNECT["BACKEND"]`` at ``registrar.dc_backend.RegistrarBackend``. Every read is one or two
indexed queries whatever the zone size; every write is a bulk delete + bulk insert + SOA serial bump in
one transaction.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import reduce
from operator import or_
from typing import Any

from django.db import transaction
from django.db.models import Q

from django_domainconnect.backends.base import BaseDNSBackend, Zone
from django_domainconnect.engine.types import NameScope
from django_domainconnect.engine.types import Record as DCRecord
from django_domainconnect.exceptions import BackendError

from .models import Domain, Record, reverse_labels

# Types the registrar manages itself; Domain Connect may neither read nor write them.
HOST_ONLY_TYPES = frozenset({"SOA"})


class RegistrarBackend(BaseDNSBackend):
    """Domain Connect backend over ``registrar.models``."""

    # -- zones ------------------------------------------------------------------------------------------

    def get_zone(self, domain: str) -> Zone | None:
        row = Domain.objects.filter(name=domain).values("pk", "name", "active").first()
        if row is None:
            return None
        return Zone(domain=row["name"], key=row["pk"], active=row["active"])

    def list_zones(self) -> list[Zone]:
        return [
            Zone(domain=name, key=pk, active=True)
            for pk, name in Domain.objects.filter(active=True).values_list("pk", "name")
        ]

    def user_can_manage(self, user: Any, zone: Zone) -> bool:
        if user is None or not getattr(user, "is_authenticated", False):
            return False
        # Re-read the row: ownership or status may have changed since the zone was looked up.
        return Domain.objects.filter(
            pk=self._domain_id(zone), owner_id=user.pk, active=True, verified=True
        ).exists()

    @contextmanager
    def lock(self, zone: Zone) -> Iterator[None]:
        """Row lock on the zone's own ``Domain`` row (``SELECT … FOR UPDATE``), held until the caller's
        transaction ends; SQLite has no row locks but serialises writers anyway."""
        if not transaction.get_connection().in_atomic_block:
            raise RuntimeError("RegistrarBackend.lock() must be used inside transaction.atomic()")
        list(Domain.objects.select_for_update().filter(pk=self._domain_id(zone)).values_list("pk"))
        yield

    # -- records ----------------------------------------------------------------------------------------

    def list_records(self, zone: Zone, scope: NameScope | None = None) -> list[DCRecord]:
        rows = Record.objects.filter(domain_id=self._domain_id(zone)).exclude(type__in=HOST_ONLY_TYPES)
        if scope is not None:
            # One query: exact names on the (domain, name) index, subtrees as prefixes of the reversed name.
            conditions = [Q(name__in=sorted(scope.names))] if scope.names else []
            conditions += [Q(rname__startswith=reverse_labels(s)) for s in sorted(scope.subtrees)]
            if not conditions:
                return []
            rows = rows.filter(reduce(or_, conditions))
        return [DCRecord(*row) for row in rows.values_list("name", "type", "ttl", "data")]

    def apply_changes(self, zone: Zone, delete: Sequence[DCRecord], add: Sequence[DCRecord]) -> None:
        domain_id = self._domain_id(zone)
        for record in (*delete, *add):
            self._check(zone, record)
        with transaction.atomic():
            if delete:
                self._delete(domain_id, delete)
            Record.objects.bulk_create(
                Record(domain_id=domain_id, name=r.name, rname=reverse_labels(r.name), type=r.type, ttl=r.ttl,
                       data=r.data)
                for r in add
            )
            if delete or add:
                self._bump_serial(domain_id)

    # -- helpers ----------------------------------------------------------------------------------------

    def _domain_id(self, zone: Zone) -> int:
        if zone.key is not None:
            return int(zone.key)
        pk = Domain.objects.filter(name=zone.domain).values_list("pk", flat=True).first()
        if pk is None:
            raise BackendError(f"zone {zone.domain} is not hosted here")
        return pk

    def _check(self, zone: Zone, record: DCRecord) -> None:
        origin = zone.domain + "."
        if record.name != origin and not record.name.endswith("." + origin):
            raise BackendError(f"{record.name} is outside the zone {origin}")
        if record.type.upper() in HOST_ONLY_TYPES or record.type.upper() not in self.supported_types:
            raise BackendError(f"record type {record.type} cannot be changed through Domain Connect")

    def _delete(self, domain_id: int, delete: Sequence[DCRecord]) -> None:
        wanted = {r.key() for r in delete}
        match = reduce(or_, (Q(name=n, type=t, data=d) for n, t, d in wanted))
        found = list(Record.objects.filter(match, domain_id=domain_id).values_list("pk", "name", "type", "data"))
        missing = wanted - {(n, t, d) for _, n, t, d in found}
        if missing:
            # The caller planned against a stale view of the zone: refuse rather than half-apply.
            raise BackendError(f"{len(missing)} record(s) to delete are no longer in the zone")
        Record.objects.filter(pk__in=[pk for pk, *_ in found]).delete()

    def _bump_serial(self, domain_id: int) -> None:
        soa = Record.objects.filter(domain_id=domain_id, type="SOA").first()
        if soa is None:
            return
        soa.data = bump_soa_serial(soa.data)
        soa.save(update_fields=["data"])


def bump_soa_serial(data: str, today: datetime.date | None = None) -> str:
    """Next serial in the usual ``YYYYMMDDnn`` scheme, never going backwards (RFC 1982 arithmetic aside).

    ``data`` is SOA presentation format: ``mname rname serial refresh retry expire minimum``.
    """
    fields = data.split()
    if len(fields) != 7 or not fields[2].isdigit():
        raise BackendError(f"malformed SOA data: {data!r}")
    today = today or datetime.datetime.now(datetime.UTC).date()
    serial = max(int(fields[2]) + 1, int(today.strftime("%Y%m%d")) * 100)
    fields[2] = str(serial % 2**32)
    return " ".join(fields)
