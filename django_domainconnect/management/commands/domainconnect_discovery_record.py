"""``manage.py domainconnect_discovery_record [--write]``: the ``_domainconnect`` TXT value (draft §7).

Service Providers find the settings document at ``https://<value>/v2/<domain>/settings``, so the value is
``BASE_URL`` without its scheme. ``--write`` puts it into every hosted zone through the backend.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from django_domainconnect.backends import get_backend
from django_domainconnect.conf import dc_settings
from django_domainconnect.engine.types import NameScope, Record

LABEL = "_domainconnect"


def discovery_value() -> str:
    parts = urlsplit(dc_settings.BASE_URL)
    return (parts.netloc + parts.path).rstrip("/")


class Command(BaseCommand):
    help = "Print the _domainconnect TXT record value; with --write, publish it in every hosted zone."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--write", action="store_true",
                            help="write _domainconnect.<zone> TXT into every zone the backend lists")

    def handle(self, *args: Any, write: bool, **options: Any) -> None:
        value = discovery_value()
        if urlsplit(dc_settings.BASE_URL).scheme != "https":
            self.stderr.write("warning: BASE_URL is not https; Service Providers will fetch https://" + value)
        if not write:
            self.stdout.write(value)
            return
        backend = get_backend()
        try:
            zones = backend.list_zones()
        except NotImplementedError as exc:
            raise CommandError(f"--write needs the backend to list its zones: {exc}")
        data = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
        changed = 0
        for zone in zones:
            owner = f"{LABEL}.{zone.origin}"
            wanted = Record(owner, "TXT", int(dc_settings.DEFAULT_TTL), data)
            with transaction.atomic(), backend.lock(zone):
                current = [r for r in backend.list_records(zone, NameScope(names=frozenset({owner})))
                           if r.name == owner and r.type == "TXT"]
                if current == [wanted]:
                    continue
                backend.apply_changes(zone, current, [wanted])
            changed += 1
            if options.get("verbosity", 1) >= 2:
                self.stdout.write(f"{owner} TXT {data}")
        self.stdout.write(self.style.SUCCESS(f"{value}: written to {changed} of {len(zones)} zone(s)"))
