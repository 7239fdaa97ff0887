"""``manage.py domainconnect_add_client --provider-id ID --redirect-uri URI [...] [--secret S | --public]``."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from django_domainconnect.oauth.clients import create_client


class Command(BaseCommand):
    help = "Register a Service Provider for the async (OAuth) flow; prints its client id and secret."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--provider-id", required=True, help="The templates' providerId (also the client_id).")
        parser.add_argument("--redirect-uri", action="append", required=True, dest="redirect_uris",
                            help="An exact https redirect URI; repeat for several.")
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--secret", help="Use this client secret instead of a generated one.")
        group.add_argument("--public", action="store_true", help="No secret; PKCE (S256) is then required.")
        parser.add_argument("--pkce", action="store_true", help="Require PKCE from a confidential client too.")
        parser.add_argument("--name", help="Display name (default: the providerId).")
        parser.add_argument("--access-token-lifetime", type=int, help="Seconds.")
        parser.add_argument("--refresh-token-lifetime", type=int, help="Idle seconds.")
        parser.add_argument("--grant-lifetime", type=int, help="Absolute seconds.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            new = create_client(
                options["provider_id"], options["redirect_uris"], secret=options["secret"],
                public=options["public"], pkce_required=options["pkce"], name=options["name"],
                access_token_lifetime=options["access_token_lifetime"],
                refresh_token_lifetime=options["refresh_token_lifetime"], grant_lifetime=options["grant_lifetime"],
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages))
        self.stdout.write(f"client_id: {new.client_id}")
        if new.client_secret:
            self.stdout.write(f"client_secret: {new.client_secret}")
            self.stdout.write("Store the secret now: only a hash is kept.")
        else:
            self.stdout.write("public client: no secret; PKCE (S256) is required")
