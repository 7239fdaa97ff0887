"""Per-client OAuth policy for django-oauth-toolkit settings (kept out of settings.py: it reads models)."""

from __future__ import annotations


def pkce_required(client_id: str) -> bool:
    """PKCE per Service Provider client (its ``pkce_required`` flag; always for public clients), as
    ``DomainConnectOAuth2Validator.is_pkce_required`` decides; unknown clients must use PKCE."""
    from django_domainconnect.oauth.models import ServiceProviderClient

    profile = ServiceProviderClient.objects.filter(application__client_id=client_id).first()
    return profile is None or profile.pkce_required or profile.is_public
