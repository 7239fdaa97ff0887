"""Registering a Service Provider as an OAuth client (used by the command and by tests)."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import get_application_model

from ..engine.abnf import is_dc_id
from .models import ServiceProviderClient


@dataclass(frozen=True)
class NewClient:
    client: ServiceProviderClient
    client_id: str
    client_secret: str | None  # shown once; DOT stores only a hash


def create_client(provider_id: str, redirect_uris: list[str], *, secret: str | None = None, public: bool = False,
                  pkce_required: bool = False, name: str | None = None, access_token_lifetime: int | None = None,
                  refresh_token_lifetime: int | None = None, grant_lifetime: int | None = None) -> NewClient:
    """An authorization-code client whose client_id is ``provider_id``; a secret is generated unless public."""
    if not is_dc_id(provider_id):
        raise ValidationError(f"'{provider_id}' is not a valid providerId (dc-id)")
    if not redirect_uris:
        raise ValidationError("at least one redirect URI is required")
    if public and secret:
        raise ValidationError("a public client has no secret")
    Application = get_application_model()
    if public:
        plain = None
    else:
        plain = secret or generate_client_secret()
    app = Application(
        name=name or provider_id, client_id=provider_id,
        client_type=Application.CLIENT_PUBLIC if public else Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=" ".join(redirect_uris), client_secret=plain or "", hash_client_secret=True,
        skip_authorization=False,
    )
    app.full_clean(exclude=["user"])
    with transaction.atomic():
        if ServiceProviderClient.objects.filter(provider_id=provider_id).exists():
            raise ValidationError(f"a client for '{provider_id}' already exists")
        app.save()
        client = ServiceProviderClient.objects.create(
            application=app, provider_id=provider_id, pkce_required=pkce_required or public,
            access_token_lifetime=access_token_lifetime, refresh_token_lifetime=refresh_token_lifetime,
            grant_lifetime=grant_lifetime,
        )
    return NewClient(client=client, client_id=app.client_id, client_secret=plain)
