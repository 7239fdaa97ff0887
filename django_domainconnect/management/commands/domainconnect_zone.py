"""``manage.py domainconnect_zone DOMAIN``: the zone as the backend sees it, in master-file format,
preceded by the applied template instances as comments (for support staff and debugging)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from django_domainconnect.backends import get_backend
from django_domainconnect.engine.errors import EngineError
from django_domainconnect.engine.names import normalize_domain
from django_domainconnect.engine.zonefile import write_zone
from django_domainconnect.services import applied_instances


def _comment(text: str) -> str:
    # Values come from users and templates: keep each comment on one line.
    return "; " + text.replace("\r", "\\r").replace("\n", "\\n")


class Command(BaseCommand):
    help = "Print a zone as the configured backend sees it, with applied Domain Connect templates as comments."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("domain", help="zone apex (U-labels or A-labels)")

    def handle(self, *args: Any, domain: str, **options: Any) -> None:
        try:
            name = normalize_domain(domain)
        except EngineError as exc:
            raise CommandError(f"invalid domain {domain!r}: {exc.message}")
        backend = get_backend()
        zone = backend.get_zone(name)
        if zone is None:
            raise CommandError(f"{name} is not a zone of the configured backend")
        lines = [_comment(f"zone {name} ({backend.display_name(zone)})" + ("" if zone.active else " [inactive]"))]
        instances = applied_instances(name)
        if not instances:
            lines.append(_comment("no Domain Connect templates applied"))
        for inst in instances:
            where = f"{inst.host}.{name}" if inst.host else name
            who = inst.applied_by.get_username() if inst.applied_by else (inst.client_id or "-")
            groups = f" groups={','.join(inst.group_ids)}" if inst.group_ids else ""
            lines.append(_comment(
                f"applied {inst.provider_id}/{inst.service_id} v{inst.template_version} at {where} "
                f"instance={inst.instance_id}{groups} flow={inst.flow} by={who} "
                f"updated={inst.updated_at:%Y-%m-%dT%H:%M:%SZ}"))
            for rec in inst.records.all():
                lines.append(_comment(f"    {rec.name} {rec.ttl} IN {rec.type} {rec.data}"))
        self.stdout.write("\n".join(lines) + "\n" + write_zone(backend.list_records(zone), name), ending="")
