"""Fixed-window request limits on the token endpoint and the API (SECURITY.md 42), kept in Django's cache.

With several processes the cache must be shared (Redis, Memcached, database) for the limit to hold across
them; with the local-memory cache each process counts on its own.
"""

from __future__ import annotations

import time

from django.core.cache import cache
from django.http import JsonResponse

from .conf import oauth_settings


def allowed(kind: str, key: str) -> bool:
    """Count one request of ``kind`` ("token" or "api") for ``key``; False once over the limit."""
    limit = (oauth_settings.RATE_LIMITS or {}).get(kind)
    if not limit:
        return True
    count, window = int(limit[0]), int(limit[1])
    bucket = f"dc-oauth-rl:{kind}:{key}:{int(time.time() // window)}"
    if cache.add(bucket, 1, window + 1):
        return True
    try:
        return cache.incr(bucket) <= count
    except ValueError:  # expired between add and incr
        cache.add(bucket, 1, window + 1)
        return True


def too_many(body: dict[str, str]) -> JsonResponse:
    response = JsonResponse(body, status=429)
    response["Retry-After"] = "60"
    response["Cache-Control"] = "no-store"
    return response
