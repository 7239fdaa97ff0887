"""Health of what the app depends on at request time: DNS key lookups, the shared cache, the database.

``dns.stats()`` counts per process. So that a multi-worker deployment shows one picture, every worker
publishes its counters to the shared cache (at most every ``PUBLISH_EVERY`` seconds, after a request on a
Domain Connect endpoint) and ``report()`` adds them up. Exposed as a staff-only JSON view
(``domainconnect:health``) and as ``manage.py domainconnect_health``.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from typing import Any

from django.core.cache import cache
from django.http import HttpRequest, JsonResponse

logger = logging.getLogger("django_domainconnect.health")

CACHE_PREFIX = "domainconnect:health:v1:"
REGISTRY_KEY = CACHE_PREFIX + "workers"
WORKER_TTL = 24 * 3600
PUBLISH_EVERY = 5.0
COUNTERS = ("lookups", "failures", "cache_hits")

_publish_lock = threading.Lock()
_last_published: dict[str, Any] = {"at": 0.0, "stats": None}


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def publish_stats(*, force: bool = False) -> None:
    """Put this process's DNS counters into the shared cache (cheap; skipped when nothing changed)."""
    from . import dns

    now = time.monotonic()
    with _publish_lock:
        current = dns.stats()
        if not force and (now - _last_published["at"] < PUBLISH_EVERY or current == _last_published["stats"]):
            return
        _last_published.update(at=now, stats=current)
    try:
        me = worker_id()
        cache.set(CACHE_PREFIX + "dns:" + me, {**current, "updated": time.time()}, WORKER_TTL)
        workers = cache.get(REGISTRY_KEY) or []
        if me not in workers:
            # A lost update here only hides a worker until its next publish.
            cache.set(REGISTRY_KEY, [*workers, me][-256:], WORKER_TTL)
    except Exception:  # noqa: BLE001 - health bookkeeping must never fail a request
        logger.warning("DOMAINCONNECT: could not publish DNS lookup statistics", exc_info=True)


def dns_report() -> dict[str, Any]:
    """Counters of this process and the sum over every worker that published to the shared cache."""
    from . import dns

    publish_stats(force=True)
    workers: dict[str, Any] = {}
    try:
        names = cache.get(REGISTRY_KEY) or []
        found = cache.get_many([CACHE_PREFIX + "dns:" + n for n in names])
        workers = {n: found[CACHE_PREFIX + "dns:" + n] for n in names if CACHE_PREFIX + "dns:" + n in found}
    except Exception:  # noqa: BLE001
        logger.warning("DOMAINCONNECT: could not read DNS lookup statistics", exc_info=True)
    total = {c: sum(int(w.get(c, 0)) for w in workers.values()) for c in COUNTERS}
    lookups, hits = total["lookups"], total["cache_hits"]
    return {
        "this_process": dns.stats(),
        "all_workers": total,
        "workers": len(workers),
        "failure_ratio": round(total["failures"] / lookups, 4) if lookups else 0.0,
        "cache_hit_ratio": round(hits / (hits + lookups), 4) if hits + lookups else 0.0,
    }


def resolver_report() -> dict[str, Any]:
    from .conf import dc_settings

    return {"nameservers": list(dc_settings.DNS_NAMESERVERS or []) or "system",
            "timeout": float(dc_settings.DNS_TIMEOUT), "key_cache_timeout": int(dc_settings.KEY_CACHE_TIMEOUT)}


def cache_report() -> dict[str, Any]:
    from django.conf import settings

    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    probe = CACHE_PREFIX + "probe:" + worker_id()
    try:
        cache.set(probe, "ok", 30)
        ok = cache.get(probe) == "ok"
    except Exception:  # noqa: BLE001
        ok = False
    shared = not backend.endswith(("locmem.LocMemCache", "dummy.DummyCache"))
    return {"backend": backend, "ok": ok, "shared_between_workers": shared}


def database_report() -> dict[str, Any]:
    from django.db import connection

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        ok = True
    except Exception:  # noqa: BLE001
        ok = False
    return {"vendor": connection.vendor, "ok": ok,
            "row_locks": bool(getattr(connection.features, "has_select_for_update", False))}


def rate_limit_report() -> dict[str, str | None]:
    from .ratelimit import BUCKETS, configured_rate

    report: dict[str, str | None] = {}
    for bucket in BUCKETS:
        try:
            rate = configured_rate(bucket)
            report[bucket] = str(rate) if rate else None
        except ValueError as exc:
            report[bucket] = f"invalid: {exc}"
    return report


def report() -> dict[str, Any]:
    data = {"dns": dns_report(), "resolver": resolver_report(), "cache": cache_report(),
            "database": database_report(), "rate_limits": rate_limit_report()}
    data["ok"] = bool(data["cache"]["ok"] and data["database"]["ok"])
    return data


def health_view(request: HttpRequest) -> JsonResponse:
    """Staff only: the numbers say which key hosts fail and how the deployment is wired."""
    user = getattr(request, "user", None)
    if user is None or not (user.is_active and user.is_staff):
        response = JsonResponse({"error": "forbidden", "error_description": "staff only"}, status=403)
    else:
        data = report()
        response = JsonResponse(data, status=200 if data["ok"] else 503)
    response["Cache-Control"] = "no-store"
    return response
