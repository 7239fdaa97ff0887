"""System checks (``manage.py check``) for the ``DOMAINCONNECT`` setting and its environment.

Ids: ``domainconnect.E0xx`` errors, ``domainconnect.W0xx`` warnings; each message carries a ``hint``.
Every function can be called directly (tests do) and is registered in ``AppConfig.ready()``.
"""

from __future__ import annotations

import difflib
from typing import Any
from urllib.parse import urlsplit

from django.apps import apps
from django.conf import settings
from django.core import checks
from django.db import connections

from .conf import DEFAULTS, SETTING_NAME

URL_KEYS = ("BASE_URL", "SYNC_UX_URL", "ASYNC_UX_URL", "API_URL", "CONTROL_PANEL_URL")
ALL_DATABASES = object()


def _user() -> dict[str, Any]:
    value = getattr(settings, SETTING_NAME, None)
    return dict(value) if isinstance(value, dict) else {}


def _get(key: str) -> Any:
    return _user().get(key, DEFAULTS.get(key))


def check_setting_shape(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    value = getattr(settings, SETTING_NAME, None)
    if value is not None and not isinstance(value, dict):
        return [checks.Error(f"settings.{SETTING_NAME} must be a dict.", id="domainconnect.E010",
                             hint=f"Write {SETTING_NAME} = {{'PROVIDER_ID': …, 'BASE_URL': …}}.")]
    out: list[checks.CheckMessage] = []
    for key in sorted(_user()):
        if key not in DEFAULTS:
            close = difflib.get_close_matches(key, list(DEFAULTS), n=1)
            hint = f"Did you mean '{close[0]}'?" if close else "See docs/settings.md for the accepted keys."
            out.append(checks.Warning(f"{SETTING_NAME} has an unknown key '{key}'; it is ignored.",
                                      id="domainconnect.W003", hint=hint))
    return out


def check_backend(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    from django.utils.module_loading import import_string

    from .backends.base import BaseDNSBackend
    from .exceptions import ConfigurationError

    path = _get("BACKEND")
    try:
        cls = import_string(str(path))
    except ImportError as exc:
        return [checks.Error(f"{SETTING_NAME}['BACKEND'] = {path!r} cannot be imported: {exc}",
                             id="domainconnect.E001",
                             hint="Give the dotted path of your BaseDNSBackend subclass, e.g. 'myapp.dc.MyBackend'.")]
    if not (isinstance(cls, type) and issubclass(cls, BaseDNSBackend)):
        return [checks.Error(f"{SETTING_NAME}['BACKEND'] = {path!r} is not a subclass of BaseDNSBackend.",
                             id="domainconnect.E002",
                             hint="Subclass django_domainconnect.backends.base.BaseDNSBackend (docs/backends.md).")]
    options = _get("BACKEND_OPTIONS") or {}
    try:
        if not isinstance(options, dict):
            raise ConfigurationError("BACKEND_OPTIONS must be a dict")
        cls(**options)
    except (ConfigurationError, TypeError, ValueError) as exc:
        return [checks.Error(f"{SETTING_NAME}['BACKEND_OPTIONS'] rejected by {path}: {exc}",
                             id="domainconnect.E003",
                             hint="Pass only the options the backend documents in its default_options.")]
    return []


def check_identity(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    out: list[checks.CheckMessage] = []
    from .engine.abnf import is_dc_id

    pid = _get("PROVIDER_ID")
    if not pid:
        out.append(checks.Error(f"{SETTING_NAME}['PROVIDER_ID'] is not set.", id="domainconnect.E004",
                                hint="Set it to your providerId, e.g. your registrar's domain name."))
    elif not (isinstance(pid, str) and is_dc_id(pid)):
        out.append(checks.Error(f"{SETTING_NAME}['PROVIDER_ID'] = {pid!r} is not a valid dc-id.",
                                id="domainconnect.E004",
                                hint="Use 1 to 63 letters, digits, '-', '_' or '.' (draft §3)."))
    if not _get("BASE_URL"):
        out.append(checks.Error(f"{SETTING_NAME}['BASE_URL'] is not set.", id="domainconnect.E005",
                                hint="Set it to the public https URL this app is served at, e.g. "
                                     "'https://dc.registrar.example'. It is never derived from the Host header."))
    return out


def check_urls(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    out: list[checks.CheckMessage] = []
    for key in URL_KEYS:
        value = _get(key)
        if not value:
            continue
        parts = urlsplit(str(value).replace("%domain%", "example.com"))
        if not parts.scheme or not parts.netloc or parts.fragment or (parts.query and key != "CONTROL_PANEL_URL"):
            out.append(checks.Error(
                f"{SETTING_NAME}['{key}'] = {value!r} must be an absolute URL without query or fragment.",
                id="domainconnect.E006",
                hint="Draft Table 5: scheme, authority, optional path — nothing after it."))
        elif parts.scheme != "https" and not settings.DEBUG:
            out.append(checks.Warning(f"{SETTING_NAME}['{key}'] = {value!r} is not https.", id="domainconnect.W001",
                                      hint="Service Providers require https URLs (draft Table 5); http only in DEBUG."))
    return out


def check_installed_apps(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    out: list[checks.CheckMessage] = []
    if not apps.is_installed("rest_framework"):
        out.append(checks.Error("'rest_framework' is not in INSTALLED_APPS.", id="domainconnect.E007",
                                hint="Add 'rest_framework' to INSTALLED_APPS (the API is built on it)."))
    if not apps.is_installed("oauth2_provider"):
        if apps.is_installed("django_domainconnect.oauth"):
            out.append(checks.Error("'oauth2_provider' is not in INSTALLED_APPS.", id="domainconnect.E008",
                                    hint="The async flow (django_domainconnect.oauth) needs django-oauth-toolkit: "
                                         "add 'oauth2_provider' to INSTALLED_APPS."))
        else:
            out.append(checks.Warning("'oauth2_provider' is not in INSTALLED_APPS: the async flow is off.",
                                      id="domainconnect.W004",
                                      hint="Add 'oauth2_provider' and 'django_domainconnect.oauth' to offer it."))
    return out


def check_database(app_configs: Any = None, databases: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Zone writes are serialised with SELECT … FOR UPDATE; without it concurrent applies can race."""
    if settings.DEBUG or not databases:
        return []
    out: list[checks.CheckMessage] = []
    for alias in databases:
        if alias not in connections:
            continue
        if not connections[alias].features.has_select_for_update:
            out.append(checks.Warning(
                f"Database '{alias}' ({connections[alias].vendor}) has no row locks (SELECT … FOR UPDATE).",
                id="domainconnect.W002",
                hint="Use PostgreSQL (or MySQL/MariaDB) in production so concurrent applies on one zone "
                     "are serialised; SQLite is for development and tests."))
    return out


def check_policy(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    out: list[checks.CheckMessage] = []
    ttl = {k: _get(k) for k in ("MIN_TTL", "DEFAULT_TTL", "MAX_TTL")}
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in ttl.values()):
        out.append(checks.Error(f"TTL settings must be non-negative integers: {ttl}.", id="domainconnect.E009",
                                hint="Set MIN_TTL <= DEFAULT_TTL <= MAX_TTL in seconds."))
    elif not ttl["MIN_TTL"] <= ttl["DEFAULT_TTL"] <= ttl["MAX_TTL"]:
        out.append(checks.Error(f"TTL policy is inconsistent: {ttl}.", id="domainconnect.E009",
                                hint="Set MIN_TTL <= DEFAULT_TTL <= MAX_TTL in seconds."))
    if _get("SPF_QUALIFIER") not in ("~", "-", "?", "+"):
        out.append(checks.Error(f"SPF_QUALIFIER = {_get('SPF_QUALIFIER')!r} is not an SPF qualifier.",
                                id="domainconnect.E011", hint="Use '~' (softfail, the default), '-' or '?'."))
    for key in ("WIDTH", "HEIGHT"):
        value = _get(key)
        if not (isinstance(value, int) and not isinstance(value, bool) and value > 0):
            out.append(checks.Error(f"{key} = {value!r} must be a positive integer (pixels).",
                                    id="domainconnect.E012", hint="The draft's default is 750."))
    timeout = _get("LOCK_TIMEOUT")
    if not (isinstance(timeout, (int, float)) and not isinstance(timeout, bool) and timeout >= 0):
        out.append(checks.Error(f"LOCK_TIMEOUT = {timeout!r} must be a number of seconds >= 0.",
                                id="domainconnect.E012", hint="e.g. 10; 0 waits for the zone lock forever."))
    cache_timeout = _get("DISCOVERY_CACHE_TIMEOUT")
    if not (isinstance(cache_timeout, int) and not isinstance(cache_timeout, bool) and cache_timeout >= 0):
        out.append(checks.Error(f"DISCOVERY_CACHE_TIMEOUT = {cache_timeout!r} must be a whole number of seconds >= 0.",
                                id="domainconnect.E012", hint="e.g. 30; 0 turns the discovery cache off."))
    alias = _get("DISCOVERY_CACHE")
    if alias not in getattr(settings, "CACHES", {"default": {}}):
        out.append(checks.Error(f"DISCOVERY_CACHE = {alias!r} is not an alias in CACHES.", id="domainconnect.E012",
                                hint="Use 'default' or add the alias to CACHES (docs/operations.md#discovery-cache)."))
    for key in ("NAME_SERVERS", "DNS_NAMESERVERS"):
        value = _get(key)
        if value is not None and not (isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value)):
            out.append(checks.Error(f"{key} = {value!r} must be a list of strings.", id="domainconnect.E012",
                                    hint="e.g. ['ns1.registrar.example', 'ns2.registrar.example']."))
    return out


def check_deploy_backend(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """``check --deploy`` only: the in-memory backend loses every change on restart."""
    if str(_get("BACKEND")).endswith("backends.memory.MemoryBackend"):
        return [checks.Warning("DOMAINCONNECT['BACKEND'] is the in-memory test backend.", id="domainconnect.W005",
                               hint="Point BACKEND at your BaseDNSBackend subclass (docs/backends.md).")]
    return []


ALL_CHECKS = (check_setting_shape, check_backend, check_identity, check_urls, check_installed_apps, check_policy)


def register() -> None:
    for func in ALL_CHECKS:
        checks.register(func, "domainconnect")
    checks.register(check_database, checks.Tags.database)
    checks.register(check_deploy_backend, "domainconnect", deploy=True)
