"""Per-client PKCE, as DOT's ``PKCE_REQUIRED`` callable: ``OAUTH2_PROVIDER["PKCE_REQUIRED"] = pkce_required``.

Imported by settings modules, so models are only imported when it is called.
"""

from __future__ import annotations


def pkce_required(client_id: str) -> bool:
    """PKCE (S256) for public clients and clients registered with it; legacy confidential SPs may skip it."""
    from .models import ServiceProviderClient

    profile = ServiceProviderClient.objects.select_related("application").filter(
        application__client_id=client_id
    ).first()
    if profile is None:
        return True
    return profile.pkce_required or profile.is_public
