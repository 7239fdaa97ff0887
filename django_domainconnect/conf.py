"""The ``DOMAINCONNECT`` settings dict, read through ``dc_settings`` (the DRF/DOT pattern).

Values are looked up in the host's ``settings.DOMAINCONNECT`` first, then in ``DEFAULTS``; results are
cached and the cache is dropped when ``override_settings`` (or anything else) sends ``setting_changed``.
``django.conf.settings`` is never mutated.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.signals import setting_changed

from .engine.types import Policy
from .exceptions import ConfigurationError

SETTING_NAME = "DOMAINCONNECT"

DEFAULTS: dict[str, Any] = {
    # Identity shown in the settings document (draft Table 5) and on consent pages.
    "PROVIDER_ID": None,
    "PROVIDER_NAME": None,
    "PROVIDER_DISPLAY_NAME": None,  # defaults to PROVIDER_NAME
    # Public base URL of this app; the three URL prefixes default to it (never to the request's Host).
    "BASE_URL": None,
    "SYNC_UX_URL": None,  # default: BASE_URL
    "ASYNC_UX_URL": None,  # default: BASE_URL + "/async"
    "API_URL": None,  # default: BASE_URL
    "CONTROL_PANEL_URL": None,  # may contain the literal token %domain%
    "NAME_SERVERS": None,  # list; default: backend.nameservers(zone)
    "WIDTH": 750,
    "HEIGHT": 750,
    # Seconds the settings and template-query answers stay in the default cache (0 = off); see
    # django_domainconnect/discovery_cache.py and docs/performance.md.
    "DISCOVERY_CACHE_TIMEOUT": 30,
    "DISCOVERY_CACHE": "default",  # the alias in CACHES
    # The host's zones.
    "BACKEND": "django_domainconnect.backends.memory.MemoryBackend",
    "BACKEND_OPTIONS": {},
    "LOCK_TIMEOUT": 10.0,  # seconds a writer waits for a zone's lock (PostgreSQL) before giving up
    # Engine policy.
    "DEFAULT_TTL": 3600,
    "MIN_TTL": 300,
    "MAX_TTL": 86400,
    "SPF_QUALIFIER": "~",
    "ALLOW_APEX_CNAME": False,
    # Signature key lookups.
    "DNS_NAMESERVERS": [],  # "ip" or "ip:port"; empty = the system resolver
    "DNS_TIMEOUT": 3.0,
    "KEY_CACHE_TIMEOUT": 3600,
    "REQUIRE_SIGNATURES": False,
    # Rate limits per user, per OAuth client and per IP for anonymous callers ("N/s|m|h|d"; None = off),
    # counted in the default cache (docs/operations.md). A dict given here is merged over these.
    "RATE_LIMITS": {"apply_url": "120/m", "consent": "60/m", "token": "120/m", "apply": "300/m", "revert": "300/m"},
}

# Settings holding dotted paths (resolved by get_backend(), kept as strings here).
IMPORT_STRINGS = ("BACKEND",)
# Settings without which the app cannot answer discovery.
MANDATORY = ("PROVIDER_ID", "BASE_URL")


class DomainConnectSettings:
    """Attribute access to the ``DOMAINCONNECT`` dict with defaults and derived URLs."""

    def __init__(self, defaults: dict[str, Any] | None = None) -> None:
        self.defaults = defaults or DEFAULTS
        self._cached_attrs: set[str] = set()

    @property
    def user_settings(self) -> dict[str, Any]:
        value = getattr(settings, SETTING_NAME, None)
        return dict(value) if isinstance(value, dict) else {}

    def __getattr__(self, attr: str) -> Any:
        if attr not in self.defaults:
            raise AttributeError(f"Invalid {SETTING_NAME} setting: '{attr}'")
        user = self.user_settings
        value = user.get(attr, self.defaults[attr])
        value = self._derive(attr, value)
        if attr in MANDATORY and not value:
            raise ConfigurationError(f"{SETTING_NAME}['{attr}'] must be set (see docs/settings.md)")
        self._cached_attrs.add(attr)
        setattr(self, attr, value)
        return value

    def _derive(self, attr: str, value: Any) -> Any:
        if attr == "PROVIDER_DISPLAY_NAME" and not value:
            return self.user_settings.get("PROVIDER_NAME") or self.user_settings.get("PROVIDER_ID")
        if attr == "PROVIDER_NAME" and not value:
            return self.user_settings.get("PROVIDER_ID")
        if attr in ("BASE_URL", "SYNC_UX_URL", "ASYNC_UX_URL", "API_URL") and isinstance(value, str):
            value = value.rstrip("/")
        if attr in ("SYNC_UX_URL", "API_URL") and not value:
            return self._base_url()
        if attr == "ASYNC_UX_URL" and not value:
            base = self._base_url()
            return f"{base}/async" if base else None
        return value

    def _base_url(self) -> str | None:
        base = self.user_settings.get("BASE_URL")
        return base.rstrip("/") if isinstance(base, str) and base else None

    def reload(self) -> None:
        for attr in self._cached_attrs:
            delattr(self, attr)
        self._cached_attrs.clear()

    def policy(self) -> Policy:
        """The engine ``Policy``: TTL bounds and SPF qualifier from settings, types from the backend."""
        from .backends import get_backend

        return Policy(
            default_ttl=int(self.DEFAULT_TTL),
            min_ttl=int(self.MIN_TTL),
            max_ttl=int(self.MAX_TTL),
            spf_qualifier=str(self.SPF_QUALIFIER),
            supported_types=frozenset(t.upper() for t in get_backend().supported_types),
            allow_apex_cname=bool(self.ALLOW_APEX_CNAME),
        )


dc_settings = DomainConnectSettings()


def _reload(*, setting: str, **kwargs: Any) -> None:
    if setting == SETTING_NAME:
        dc_settings.reload()


setting_changed.connect(_reload)
