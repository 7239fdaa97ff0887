"""Tell Domain Connect's discovery cache when this registrar's zones change outside Domain Connect.

The settings answer (is the zone hosted here, its name servers) is cached for a few seconds
(``DISCOVERY_CACHE_TIMEOUT``); dropping it on change makes a new, removed, deactivated or renamed zone
visible at once. Apex NS edits are left to the timeout: a ``post_delete`` receiver on ``Record`` would make
deleting a domain load every one of its records (Django cannot fast-delete rows that have receivers).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_save

from django_domainconnect.discovery_cache import forget_zone

from .models import Domain


def _remember_old_name(sender: type[Domain], instance: Domain, **kwargs: Any) -> None:
    # A rename must also drop the answer cached under the old name.
    instance._dc_old_name = (  # type: ignore[attr-defined]
        Domain.objects.filter(pk=instance.pk).values_list("name", flat=True).first() if instance.pk else None)


def _domain_changed(sender: type[Domain], instance: Domain, **kwargs: Any) -> None:
    names = {instance.name, getattr(instance, "_dc_old_name", None) or instance.name}
    transaction.on_commit(lambda: [forget_zone(name) for name in names])


def connect() -> None:
    pre_save.connect(_remember_old_name, sender=Domain, dispatch_uid="registrar-zone-old-name")
    for signal in (post_save, post_delete):
        signal.connect(_domain_changed, sender=Domain, dispatch_uid=f"registrar-zone-{signal is post_save}")
