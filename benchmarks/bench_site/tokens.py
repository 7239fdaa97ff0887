"""What the async consent and the token exchange leave behind for one zone: a DOT client, an access and a
refresh token and a ``Grant`` covering the hosting template at the apex — created directly through the
models. Shared by the HTTP benchmark's seed and ``tests/test_query_counts.py``; imports nothing at load time."""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta
from typing import Any

PROVIDER = "bench.example.net"
SERVICE = "hosting5"


def issue_token(user: Any, domain: str) -> str:
    """A Bearer token that may apply and revert ``SERVICE`` at the apex of ``domain`` for a day."""
    from django.utils import timezone
    from oauth2_provider.models import get_access_token_model, get_application_model, get_refresh_token_model

    from django_domainconnect.oauth.models import Grant, ServiceProviderClient

    application_model = get_application_model()
    app, _ = application_model.objects.get_or_create(
        client_id=PROVIDER,
        defaults={"name": "Bench", "client_type": application_model.CLIENT_CONFIDENTIAL,
                  "authorization_grant_type": application_model.GRANT_AUTHORIZATION_CODE,
                  "redirect_uris": "https://bench.example.net/callback"},
    )
    client, _ = ServiceProviderClient.objects.get_or_create(application=app, provider_id=PROVIDER)
    value = secrets.token_urlsafe(24)
    access = get_access_token_model().objects.create(user=user, application=app, token=value, scope="",
                                                     expires=timezone.now() + timedelta(days=1))
    family = uuid.uuid4()
    get_refresh_token_model().objects.create(user=user, application=app, token=secrets.token_urlsafe(24),
                                             access_token=access, token_family=family)
    Grant.objects.create(user=user, client=client, provider_id=PROVIDER, service_ids=[SERVICE], domain=domain,
                         hosts=[""], template_versions={SERVICE: 1}, token_family=family,
                         expires_at=timezone.now() + timedelta(days=1))
    return value
