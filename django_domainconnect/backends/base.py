"""The interface a host implements so the app can read and write its zones.

The app never owns the host's zones: it reads and writes them only through a subclass of
``BaseDNSBackend`` named by ``DOMAINCONNECT["BACKEND"]``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from django_domainconnect.engine.types import NameScope, Record

DEFAULT_SUPPORTED_TYPES = frozenset({"A", "AAAA", "CNAME", "MX", "TXT", "SRV", "SPFM", "NS", "CAA"})


@dataclass(frozen=True)
class Zone:
    """A zone the host serves. ``domain`` is the apex as lower-case A-labels without a trailing dot."""

    domain: str
    key: Any = None  # the host's own identifier (primary key, API id…)
    active: bool = True
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


class BaseDNSBackend(ABC):
    """Subclass this and point ``DOMAINCONNECT["BACKEND"]`` at the subclass (draft; finalised by the app)."""

    supported_types: frozenset[str] = DEFAULT_SUPPORTED_TYPES

    def __init__(self, **options: Any) -> None:
        self.options = options

    @abstractmethod
    def get_zone(self, domain: str) -> Zone | None:
        """The zone whose apex is exactly ``domain``, or ``None`` when it is not hosted here."""

    @abstractmethod
    def user_can_manage(self, user: Any, zone: Zone) -> bool:
        """Whether ``user`` may change ``zone`` (owner, active, verified…)."""

    @abstractmethod
    def list_records(self, zone: Zone, scope: NameScope | None = None) -> list[Record]:
        """Records of ``zone``; with ``scope`` at least those whose owner ``scope.covers()``."""

    @abstractmethod
    def apply_changes(self, zone: Zone, delete: Sequence[Record], add: Sequence[Record]) -> None:
        """Delete then add, atomically: all or nothing."""

    def lock(self, zone: Zone) -> AbstractContextManager[None]:
        """Serialise writers of one zone (row lock on PostgreSQL)."""
        raise NotImplementedError
