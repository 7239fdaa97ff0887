"""The interface a host implements so the app can read and write its zones.

The app never owns the host's zones: it reads and writes them only through a subclass of
``BaseDNSBackend`` named by ``DOMAINCONNECT["BACKEND"]`` (options from ``DOMAINCONNECT["BACKEND_OPTIONS"]``).
See docs/backends.md for a walk-through and ``django_domainconnect.testing.backend_contract`` for the
contract tests every backend should pass.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar

from django_domainconnect.engine.names import to_unicode_name
from django_domainconnect.engine.types import NameScope, Record
from django_domainconnect.exceptions import BackendError, ConfigurationError

DEFAULT_SUPPORTED_TYPES = frozenset({"A", "AAAA", "CNAME", "MX", "TXT", "SRV", "SPFM", "NS", "CAA"})


@dataclass(frozen=True)
class Zone:
    """A zone the host serves. ``domain`` is the apex as lower-case A-labels without a trailing dot."""

    domain: str
    key: Any = None  # the host's own identifier (primary key, API id…)
    active: bool = True
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def origin(self) -> str:
        """The apex as an absolute owner name (``example.com.``), the form ``Record.name`` uses."""
        return self.domain + "."


class BaseDNSBackend(ABC):
    """Subclass this and point ``DOMAINCONNECT["BACKEND"]`` at the subclass.

    Required: ``get_zone``, ``user_can_manage``, ``list_records``, ``apply_changes``. Optional hooks have
    working defaults. Options: declare accepted keys and defaults in ``default_options``; unknown keys
    raise ``ConfigurationError`` so typos are caught by ``manage.py check``.
    """

    supported_types: frozenset[str] = DEFAULT_SUPPORTED_TYPES
    default_options: ClassVar[dict[str, Any]] = {}

    def __init__(self, **options: Any) -> None:
        unknown = sorted(set(options) - set(self.get_default_options()))
        if unknown:
            raise ConfigurationError(
                f"{type(self).__module__}.{type(self).__name__} does not accept option(s) {', '.join(unknown)}"
                f" (accepted: {', '.join(sorted(self.get_default_options())) or 'none'})"
            )
        self.options = {**self.get_default_options(), **options}

    def get_default_options(self) -> dict[str, Any]:
        return dict(self.default_options)

    # -- required ---------------------------------------------------------------------------------------

    @abstractmethod
    def get_zone(self, domain: str) -> Zone | None:
        """The zone whose apex is exactly ``domain`` (A-labels, no trailing dot), or ``None``.

        ``None`` when the name is not a zone here — including names *below* a hosted zone.
        """

    @abstractmethod
    def user_can_manage(self, user: Any, zone: Zone) -> bool:
        """Whether ``user`` may change ``zone`` (owner, verified…). Called for every apply and revert."""

    @abstractmethod
    def list_records(self, zone: Zone, scope: NameScope | None = None) -> list[Record]:
        """Records of ``zone``; with ``scope``, at least those whose owner ``scope.covers()`` (a superset
        — even the whole zone — is always correct). Names are absolute with the trailing dot."""

    @abstractmethod
    def apply_changes(self, zone: Zone, delete: Sequence[Record], add: Sequence[Record]) -> None:
        """Remove every record in ``delete``, then write every record in ``add`` — all or nothing.

        Raise (preferably ``BackendError``) on any failure, leaving the zone exactly as it was. A record
        in ``delete`` that is not in the zone is a failure: the caller planned on a stale view.
        """

    # -- optional ---------------------------------------------------------------------------------------

    @contextmanager
    def lock(self, zone: Zone) -> Iterator[None]:
        """Serialise writers of one zone. Must be entered inside the caller's ``transaction.atomic()``.

        Default: a row lock (``SELECT … FOR UPDATE``) on this app's ``ZoneLock`` row for the domain,
        held until the transaction ends. Works for any backend on PostgreSQL/MySQL; SQLite serialises
        writers anyway. Override when the host already locks its own zone row.
        """
        from django.db import OperationalError, router, transaction

        from django_domainconnect.conf import dc_settings
        from django_domainconnect.models import ZoneLock

        using = router.db_for_write(ZoneLock)
        connection = transaction.get_connection(using)
        if not connection.in_atomic_block:
            raise RuntimeError("BaseDNSBackend.lock() must be used inside transaction.atomic()")
        if connection.vendor == "postgresql" and dc_settings.LOCK_TIMEOUT:
            # Bounded wait: a stuck writer turns into "try again" instead of a hung request.
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('lock_timeout', %s, true)",
                               [f"{int(float(dc_settings.LOCK_TIMEOUT) * 1000)}ms"])
        try:
            ZoneLock.objects.using(using).select_for_update().get_or_create(domain=zone.domain)
        except OperationalError as exc:
            raise BackendError("Another change to this domain is in progress; please try again.",
                               code="temporarily_unavailable") from exc
        yield

    def list_zones(self) -> list[Zone]:
        """Every zone hosted here (used by ``domainconnect_discovery_record --write``)."""
        raise NotImplementedError(f"{type(self).__module__}.{type(self).__name__} must implement list_zones()")

    def nameservers(self, zone: Zone) -> list[str]:
        """Host names for ``nameServers`` in the settings document; default ``DOMAINCONNECT["NAME_SERVERS"]``,
        else the zone's apex NS records."""
        from django_domainconnect.conf import dc_settings

        if dc_settings.NAME_SERVERS:
            return [str(n).rstrip(".") for n in dc_settings.NAME_SERVERS]
        scope = NameScope(names=frozenset({zone.origin}))
        records = self.list_records(zone, scope)
        return sorted(r.data.rstrip(".").lower() for r in records if r.name == zone.origin and r.type == "NS")

    def display_name(self, zone: Zone) -> str:
        """The zone name as people read it (U-labels)."""
        return to_unicode_name(zone.domain)

    def control_panel_url(self, zone: Zone) -> str | None:
        """``urlControlPanel`` for the settings document; ``%domain%`` is kept literally (draft Table 5)."""
        from django_domainconnect.conf import dc_settings

        return dc_settings.CONTROL_PANEL_URL or None
