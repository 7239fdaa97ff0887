"""An in-process backend: the reference implementation and the test double.

Zones live in a dict on the instance (``get_backend()`` memoises one instance per configuration).
Owners are user ids or usernames (strings). ``fail_on_write(k)`` makes the k-th record write of the next
``apply_changes`` raise, to prove callers survive a failure mid-write.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from typing import Any

from django_domainconnect.engine.types import NameScope, Record
from django_domainconnect.exceptions import BackendError

from .base import DEFAULT_SUPPORTED_TYPES, BaseDNSBackend, Zone


class MemoryBackend(BaseDNSBackend):
    """Options: ``zones`` = ``{domain: {"owners": [...], "active": bool, "records": [[name, type, ttl,
    data], ...]}}`` (names relative to the zone or absolute), ``supported_types`` = list of types."""

    default_options = {"zones": {}, "supported_types": None}

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        if self.options["supported_types"]:
            self.supported_types = frozenset(t.upper() for t in self.options["supported_types"])
        else:
            self.supported_types = DEFAULT_SUPPORTED_TYPES
        self._mutex = threading.RLock()
        self.reset()

    # -- test helpers -------------------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget everything and reload the zones from the options."""
        with self._mutex:
            self._zones: dict[str, dict[str, Any]] = {}
            self._fail_at: int | None = None
            self._fail_exc: Exception | None = None
            self.write_count = 0
            for domain, spec in (self.options["zones"] or {}).items():
                self.add_zone(domain, owners=spec.get("owners", ()), active=spec.get("active", True),
                              records=[Record(*_absolute(r, domain)) for r in spec.get("records", ())])

    def add_zone(self, domain: str, *, owners: Iterable[Any] = (), active: bool = True,
                 records: Iterable[Record] = ()) -> Zone:
        domain = domain.lower().rstrip(".")
        with self._mutex:
            self._zones[domain] = {
                "owners": {str(o) for o in owners},
                "active": active,
                "records": {r.key(): r for r in records},
            }
        return Zone(domain=domain, key=domain, active=active)

    def remove_zone(self, domain: str) -> None:
        with self._mutex:
            self._zones.pop(domain, None)

    def set_owners(self, domain: str, owners: Iterable[Any]) -> None:
        with self._mutex:
            self._zones[domain]["owners"] = {str(o) for o in owners}

    def set_active(self, domain: str, active: bool) -> None:
        with self._mutex:
            self._zones[domain]["active"] = active

    def set_records(self, domain: str, records: Iterable[Record]) -> None:
        """Replace a zone's records (a 'manual edit' outside Domain Connect)."""
        with self._mutex:
            self._zones[domain]["records"] = {r.key(): r for r in records}

    def records(self, domain: str) -> list[Record]:
        with self._mutex:
            return sorted(self._zones[domain]["records"].values())

    def fail_on_write(self, k: int | None, exc: Exception | None = None) -> None:
        """Make the k-th record write (1-based; deletes and adds both count) of later applies raise;
        ``None`` switches failure injection off again."""
        self._fail_at = k
        self._fail_exc = exc

    # -- BaseDNSBackend -----------------------------------------------------------------------------------

    def get_zone(self, domain: str) -> Zone | None:
        with self._mutex:
            state = self._zones.get(domain)
            if state is None:
                return None
            return Zone(domain=domain, key=domain, active=state["active"])

    def list_zones(self) -> list[Zone]:
        with self._mutex:
            return [Zone(domain=d, key=d, active=s["active"]) for d, s in sorted(self._zones.items())]

    def user_can_manage(self, user: Any, zone: Zone) -> bool:
        if user is None or not getattr(user, "is_authenticated", False):
            return False
        with self._mutex:
            state = self._zones.get(zone.domain)
            if state is None:
                return False
            ids = {str(getattr(user, "pk", "")), str(user.get_username()) if hasattr(user, "get_username") else ""}
            return bool(ids & state["owners"])

    def list_records(self, zone: Zone, scope: NameScope | None = None) -> list[Record]:
        with self._mutex:
            records = self._zones[zone.domain]["records"].values()
            return sorted(r for r in records if scope is None or scope.covers(r.name))

    def apply_changes(self, zone: Zone, delete: Sequence[Record], add: Sequence[Record]) -> None:
        with self._mutex:
            state = self._zones.get(zone.domain)
            if state is None:
                raise BackendError(f"zone {zone.domain} is not hosted here")
            working = dict(state["records"])  # all-or-nothing: mutate a copy, swap at the end
            writes = 0
            for record in delete:
                writes += 1
                self._maybe_fail(writes)
                if record.key() not in working:
                    raise BackendError(f"record to delete is not in the zone: {record.name} {record.type}")
                del working[record.key()]
            for record in add:
                writes += 1
                self._maybe_fail(writes)
                working[record.key()] = record
            state["records"] = working
            self.write_count += 1

    def _maybe_fail(self, writes: int) -> None:
        if self._fail_at is not None and writes == self._fail_at:
            raise self._fail_exc or BackendError(f"injected failure at write {writes}")


def _absolute(row: Sequence[Any], domain: str) -> tuple[str, str, int, str]:
    name, rtype, ttl, data = row
    name = str(name)
    if name in ("", "@"):
        name = domain + "."
    elif not name.endswith("."):
        name = f"{name}.{domain}."
    return (name.lower(), str(rtype).upper(), int(ttl), str(data))
