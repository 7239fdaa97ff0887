"""``manage.py domainconnect_import_templates PATH... [--dry-run] [--enable/--no-enable]``."""

from __future__ import annotations

import argparse
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from django_domainconnect.template_store import ENABLED_AGAIN, import_templates


class Command(BaseCommand):
    help = ("Import Domain Connect templates from JSON files or directories of *.json files. Idempotent: "
            "unchanged templates are left alone, changed ones get a new version. Templates with lint errors "
            "are stored but not enabled.")

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("paths", nargs="+", metavar="PATH", help="template file or directory")
        parser.add_argument("--dry-run", action="store_true", help="report what would change, write nothing")
        parser.add_argument("--enable", action=argparse.BooleanOptionalAction, default=None,
                            help="enable (or with --no-enable, disable) every imported template; by default new "
                                 "templates are enabled and existing ones keep their state")

    def handle(self, *args: Any, paths: list[str], dry_run: bool, enable: bool | None, **options: Any) -> None:
        started = time.monotonic()
        try:
            results = import_templates(paths, dry_run=dry_run, enable=enable)
        except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
            raise CommandError(str(exc))
        counts: dict[str, int] = {}
        with_errors = enabled_again = 0
        for r in results:
            counts[r.status] = counts.get(r.status, 0) + 1
            ident = f"{r.template.provider_id}/{r.template.service_id}" if r.template else ""
            if r.status == "skipped":
                self.stderr.write(f"skipped {r.source}: {r.detail}")
            elif r.detail:
                with_errors += 1
                self.stdout.write(self.style.WARNING(f"{r.status} {ident} ({r.source}): {r.detail}"))
            elif r.note:
                # The enabled flag changed (or deliberately did not) because lint errors were fixed: say so.
                enabled_again += r.note == ENABLED_AGAIN
                self.stdout.write(f"{r.status} {ident} ({r.source}): {r.note}")
            elif r.status != "unchanged" and options.get("verbosity", 1) >= 2:
                self.stdout.write(f"{r.status} {ident} v{r.template.version if r.template else '?'}")
        summary = ", ".join(f"{counts.get(k, 0)} {k}" for k in ("created", "updated", "unchanged", "skipped"))
        prefix = "[dry run] " if dry_run else ""
        self.stdout.write(self.style.SUCCESS(
            f"{prefix}{len(results)} file(s): {summary}; {with_errors} stored disabled because of lint errors"
            f"{f'; {enabled_again} enabled again (lint errors fixed)' if enabled_again else ''} "
            f"({time.monotonic() - started:.2f}s)"))
