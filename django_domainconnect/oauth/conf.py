"""Settings of the async flow, in their own ``DOMAINCONNECT_OAUTH`` dict.

They live apart from ``DOMAINCONNECT`` because the sub-app is optional; values are read on every access so
``override_settings`` works in tests.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

DAY = 24 * 3600

DEFAULTS: dict[str, Any] = {
    # Default lifetimes (seconds); each client may override them.
    "ACCESS_TOKEN_LIFETIME": 3600,
    # Idle lifetime of a refresh token: a rotated token restarts it. Dynamic-DNS clients refresh rarely,
    # so months, not days (INTEROP.md).
    "REFRESH_TOKEN_LIFETIME": 180 * DAY,
    # Absolute cap on a grant: after it no refresh works, however active the client is (RFC 9700 §4.14.2).
    "GRANT_LIFETIME": 365 * DAY,
    # Draft §8.4.4 says the token endpoint SHALL accept client_secret in the query string, RFC 6749
    # §2.3.1 says it MUST NOT; real clients (the domain-connect library's refresh, exampleservice) do it.
    "ACCEPT_SECRET_IN_QUERY": True,
}


class OAuthSettings:
    def __getattr__(self, name: str) -> Any:
        if name not in DEFAULTS:
            raise AttributeError(f"Invalid DOMAINCONNECT_OAUTH setting: '{name}'")
        user = getattr(settings, "DOMAINCONNECT_OAUTH", None) or {}
        return user.get(name, DEFAULTS[name])


oauth_settings = OAuthSettings()
