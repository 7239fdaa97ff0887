"""Deployment checks for the operational controls (SECURITY.md 42, 62; docs/operations.md).

* ``domainconnect.E020`` — ``RATE_LIMITS`` is not a dict of ``"N/unit"`` rates (or ``None``);
* ``domainconnect.E021`` (deploy) — ``ALLOWED_HOSTS`` contains ``"*"``: any ``Host`` header is accepted,
  the precondition of Host-header poisoning (SECURITY.md 25);
* ``domainconnect.W021`` (deploy) — rate limits are on but the default cache is per process
  (``LocMemCache``/``DummyCache``): each worker counts alone, so the limit is multiplied by the workers.

``register()`` adds them to Django's check framework (call it from ``AppConfig.ready``).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks

PER_PROCESS_CACHES = ("django.core.cache.backends.locmem.LocMemCache",
                      "django.core.cache.backends.dummy.DummyCache")


def check_rate_limits(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    from .ratelimit import BUCKETS, parse_rate

    value = (getattr(settings, "DOMAINCONNECT", None) or {}).get("RATE_LIMITS", {})
    if value is None:
        return []
    if not isinstance(value, dict):
        return [checks.Error("DOMAINCONNECT['RATE_LIMITS'] must be a dict of rates or None.",
                             hint='e.g. {"apply": "300/m", "token": "120/m"}', id="domainconnect.E020")]
    out: list[checks.CheckMessage] = []
    for bucket, rate in value.items():
        if bucket not in BUCKETS:
            out.append(checks.Error(f"DOMAINCONNECT['RATE_LIMITS'] has an unknown bucket {bucket!r}.",
                                    hint=f"Buckets: {', '.join(BUCKETS)}.", id="domainconnect.E020"))
            continue
        try:
            parse_rate(rate)
        except ValueError as exc:
            out.append(checks.Error(f"DOMAINCONNECT['RATE_LIMITS'][{bucket!r}]: {exc}.", id="domainconnect.E020"))
    return out


def check_allowed_hosts(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    if "*" in (getattr(settings, "ALLOWED_HOSTS", None) or []):
        return [checks.Error("ALLOWED_HOSTS contains '*': any Host header is accepted.",
                             hint="List the host names this app is served under.", id="domainconnect.E021")]
    return []


def check_shared_cache(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    from .ratelimit import BUCKETS, configured_rate

    try:
        limited = any(configured_rate(b) for b in BUCKETS)
    except ValueError:
        return []  # E020 reports it
    backend = (getattr(settings, "CACHES", {}) or {}).get("default", {}).get("BACKEND", "")
    if limited and backend in PER_PROCESS_CACHES:
        return [checks.Warning(
            "Rate limits are counted in a per-process cache: every worker counts on its own.",
            hint="Use a shared cache (Redis, memcached or the database cache); see docs/operations.md.",
            id="domainconnect.W021")]
    return []


def register() -> None:
    checks.register(check_rate_limits, "domainconnect")
    checks.register(check_allowed_hosts, "domainconnect", deploy=True)
    checks.register(check_shared_cache, "domainconnect", deploy=True)
