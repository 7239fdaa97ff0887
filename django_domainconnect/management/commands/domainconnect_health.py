"""``manage.py domainconnect_health [--probe KEY.SYNCPUBKEYDOMAIN]``: the health report as JSON.

Prints DNS key-lookup counters summed over every worker (as published to the shared cache), the resolver
settings, whether the cache and database answer, and the rate limits in force. ``--probe`` looks one
public key up through the configured resolver and reports how long it took. Exit status 1 when the cache
or the database is down, or the probe fails.
"""

from __future__ import annotations

import json
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Print the Domain Connect health report (DNS key lookups, cache, database, rate limits) as JSON."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--probe", metavar="KEY.DOMAIN",
                            help="look up the public key at this name (e.g. _dck1.example.com) and time it")

    def handle(self, *args: Any, probe: str | None = None, **options: Any) -> None:
        from django_domainconnect import health

        data = health.report()
        failed = not data["ok"]
        if probe:
            data["probe"] = self._probe(probe)
            failed = failed or not data["probe"]["ok"]
        self.stdout.write(json.dumps(data, indent=2, sort_keys=True))
        if failed:
            raise CommandError("unhealthy (see the report above)")

    def _probe(self, name: str) -> dict[str, Any]:
        from django_domainconnect.dns import get_public_key
        from django_domainconnect.engine.errors import SignatureError

        key, _, domain = name.strip().rstrip(".").partition(".")
        if not key or not domain:
            raise CommandError("--probe takes KEY.DOMAIN, e.g. _dck1.example.com")
        started = time.monotonic()
        try:
            info = get_public_key(key, domain)
        except SignatureError as exc:
            return {"name": name, "ok": False, "error": exc.message,
                    "seconds": round(time.monotonic() - started, 3)}
        return {"name": name, "ok": True, "seconds": round(time.monotonic() - started, 3),
                "key_bits": info.bits}
