"""``manage.py seed_demo``: demo users, zones, records and templates. Safe to run again and again."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from registrar.models import Domain, Record, reverse_labels
from registrar.seed import DEMO_TEMPLATES_DIR, USERS, ZONES, zone_records

IMPORT_COMMAND = "domainconnect_import_templates"
ADD_CLIENT_COMMAND = "domainconnect_add_client"
# The demo Service Provider's OAuth client (async flow). A published demo secret: never use it for real.
DEMO_CLIENT_ID = "demoservice.example"
DEMO_CLIENT_REDIRECT = "https://demoservice.example.org/oauth/callback"
DEMO_CLIENT_SECRET = "demoservice-demo-secret"


class Command(BaseCommand):
    help = (
        "Create the demo users (admin/admin, demo/demo, other/other), their zones with realistic records, and "
        "import the demo templates. Existing zones keep their records unless --reset-records is given."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--reset-records", action="store_true",
                            help="put the seeded zones' records back to their initial state")

    def handle(self, *args: Any, reset_records: bool = False, **options: Any) -> None:
        with transaction.atomic():
            users = self._users()
            self._zones(users, reset_records)
        self._templates()
        self._oauth_client()

    def _users(self) -> dict[str, Any]:
        User = get_user_model()
        users = {}
        for username, password, superuser in USERS:
            user, created = User.objects.get_or_create(
                username=username, defaults={"is_staff": superuser, "is_superuser": superuser}
            )
            if created:
                user.set_password(password)
                user.save(update_fields=["password"])
                self.stdout.write(f"created user {username}/{password}")
            users[username] = user
        return users

    def _zones(self, users: dict[str, Any], reset: bool) -> None:
        for seed in ZONES:
            domain, created = Domain.objects.get_or_create(
                name=seed.name,
                defaults={"owner": users[seed.owner], "verified": seed.verified, "active": seed.active},
            )
            if created:
                self.stdout.write(f"created zone {seed.name} (owner {seed.owner})")
            if created or reset or not domain.records.exists():
                domain.records.all().delete()
                Record.objects.bulk_create(
                    Record(domain=domain, name=name, rname=reverse_labels(name), type=rtype, ttl=ttl, data=data)
                    for name, rtype, ttl, data in zone_records(seed.name)
                )

    def _templates(self) -> None:
        if IMPORT_COMMAND not in get_commands():
            self.stderr.write(f"skipped the demo templates: this version has no {IMPORT_COMMAND} command")
            return
        call_command(IMPORT_COMMAND, str(DEMO_TEMPLATES_DIR), stdout=self.stdout, stderr=self.stderr)

    def _oauth_client(self) -> None:
        """The demo Service Provider as an OAuth client, when the async flow is installed."""
        if ADD_CLIENT_COMMAND not in get_commands():
            return
        from django_domainconnect.oauth.models import ServiceProviderClient

        if ServiceProviderClient.objects.filter(provider_id=DEMO_CLIENT_ID).exists():
            return
        call_command(ADD_CLIENT_COMMAND, "--provider-id", DEMO_CLIENT_ID, "--redirect-uri", DEMO_CLIENT_REDIRECT,
                     "--secret", DEMO_CLIENT_SECRET, stdout=self.stdout, stderr=self.stderr)
