"""Tell Domain Connect's discovery cache when this registrar's zones change outside Domain Connect.

The settings answer (is the zone hosted here, its name servers) is cached for a few seconds
(``DISCOVERY_CACHE_TIMEOUT``); dropping it on change makes a new or removed zone visible at once. Apex NS
edits are left to the timeout: a ``post_delete`` receiver on ``Record`` would make deleting a domain load
every one of its records (Django cannot fast-delete rows that have receivers).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save

from django_domainconnect.discovery_cache import forget_zone

from .models import Domain


def _domain_changed(sender: type[Domain], instance: Domain, **kwargs: Any) -> None:
    name = instance.name
    transaction.on_commit(lambda: forget_zone(name))


def connect() -> None:
    for signal in (post_save, post_delete):
        signal.connect(_domain_changed, sender=Domain, dispatch_uid=f"registrar-zone-{signal is post_save}")
