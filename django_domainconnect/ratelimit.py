"""Rate limits on the endpoints that write or mint credentials (SECURITY.md 42; ASVS 5.0 2.4.1, 16.5.4).

Buckets: ``apply_url`` (the sync link, GET), ``consent`` (the consent answers, POST), ``token``, ``apply``
(async POST) and ``revert``. Each request is counted against every identity it has:

* a signed-in user (session) → ``user:<pk>``;
* a valid Bearer token → ``client:<client_id>`` and ``user:<pk>`` of the grant's user;
* nobody (anonymous, or an unknown token) → ``ip:<REMOTE_ADDR>``.

The token endpoint is special: its caller is always "anonymous" until DOT has checked the secret, and one
Service Provider may refresh thousands of tokens from one address. So there the claimed ``client_id`` counts
only *successful* exchanges (an outsider cannot spend a client's budget) and the address counts only
*failed* ones (guessing secrets or codes).

Counters are fixed windows in Django's default cache, so every worker shares them when the cache is shared
(Redis, memcached, database). A broken cache never blocks traffic: limits fail open with a warning.
Over the limit: ``429`` with ``Retry-After`` and a JSON body (API, token) or an HTML page (browser flows).
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse

logger = logging.getLogger("django_domainconnect.ratelimit")

CACHE_PREFIX = "domainconnect:rl:v1:"
BUCKETS = ("apply_url", "consent", "token", "apply", "revert")
HTML_BUCKETS = frozenset({"apply_url", "consent"})
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd])[a-z]*\s*$", re.IGNORECASE)

ALWAYS, ON_SUCCESS, ON_FAILURE = "always", "success", "failure"


@dataclass(frozen=True)
class Rate:
    limit: int
    period: int  # seconds

    def __str__(self) -> str:
        return f"{self.limit}/{self.period}s"


def parse_rate(text: str | None) -> Rate | None:
    """``"60/m"``, ``"1000/h"``, ``"10/30s"``, ``"5/day"`` → ``Rate``; ``None``/empty → no limit."""
    if text is None or (isinstance(text, str) and not text.strip()):
        return None
    match = _RATE.match(str(text))
    if not match:
        raise ValueError(f"rate {text!r} is not 'N/unit' (unit s, m, h or d, e.g. '60/m' or '10/30s')")
    count, multiple, unit = match.groups()
    period = int(multiple or 1) * _UNITS[unit.lower()]
    if period <= 0:
        raise ValueError(f"rate {text!r} has an empty period")
    return Rate(limit=int(count), period=period)


def configured_rate(bucket: str) -> Rate | None:
    """The bucket's rate: ``DOMAINCONNECT['RATE_LIMITS'][bucket]`` over the defaults; ``None`` = unlimited."""
    from .conf import DEFAULTS, dc_settings

    user = dc_settings.RATE_LIMITS
    if user is None or user is False:  # RATE_LIMITS=None switches every limit off
        return None
    rates = dict(DEFAULTS.get("RATE_LIMITS") or {})
    rates.update(user if isinstance(user, dict) else {})
    return parse_rate(rates.get(bucket))


@dataclass(frozen=True)
class Identity:
    key: str  # "user:1", "client:x", "ip:192.0.2.1"
    counts: str = ALWAYS  # ALWAYS, ON_SUCCESS or ON_FAILURE


def client_ip(request: HttpRequest) -> str:
    """``REMOTE_ADDR`` (behind a proxy, let the proxy layer set it; never trust X-Forwarded-For here)."""
    return str(request.META.get("REMOTE_ADDR") or "unknown")


def _bearer_principal(request: HttpRequest) -> tuple[str, Any] | None:
    """(client_id, user_pk) of a valid, unexpired Bearer token; ``None`` otherwise (one indexed query)."""
    scheme, _, value = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value or " " in value:
        return None
    try:
        from django.utils import timezone
        from oauth2_provider.models import get_access_token_model

        checksum = hashlib.sha256(value.encode("utf-8")).hexdigest()
        row = (get_access_token_model().objects.filter(token_checksum=checksum, expires__gt=timezone.now())
               .values_list("application__client_id", "user_id").first())
    except Exception:  # noqa: BLE001 - no DOT, or a database hiccup: count the caller as anonymous
        return None
    return (str(row[0]), row[1]) if row else None


def _claimed_client_id(request: HttpRequest) -> str | None:
    """The ``client_id`` a token request names (query, form, JSON or HTTP Basic); unverified."""
    import base64
    import json
    from urllib.parse import unquote_plus

    scheme, _, value = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() == "basic" and value:
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
            return unquote_plus(decoded.partition(":")[0]) or None
        except (ValueError, UnicodeDecodeError):
            return None
    found = request.GET.get("client_id")
    if found:
        return found
    content_type = request.META.get("CONTENT_TYPE", "")
    try:
        # Read the body first: parsing request.POST from the stream would leave the view no request.body.
        if len(request.body) > 64 * 1024:
            return None
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            return request.POST.get("client_id") or None
        if "json" in content_type:
            data = json.loads(request.body.decode("utf-8"))
            value = data.get("client_id") if isinstance(data, dict) else None
            return value if isinstance(value, str) and value else None
    except Exception:  # noqa: BLE001 - an unreadable body is the view's 400 to give, not ours
        return None
    return None


def identities(request: HttpRequest, bucket: str) -> list[Identity]:
    """Who this request is counted as (see the module docstring)."""
    ip = Identity(f"ip:{client_ip(request)}")
    if bucket == "token":
        found: list[Identity] = [Identity(ip.key, ON_FAILURE)]
        claimed = _claimed_client_id(request)
        if claimed:
            found.append(Identity(f"client:{claimed[:255]}", ON_SUCCESS))
        return found
    if bucket in ("apply", "revert"):
        principal = _bearer_principal(request)
        if principal is None:
            return [ip]
        client_id, user_pk = principal
        return [Identity(f"client:{client_id}"), Identity(f"user:{user_pk}")]
    user = getattr(request, "user", None)
    if user is not None and getattr(user, "is_authenticated", False):
        return [Identity(f"user:{user.pk}")]
    return [ip]


def _cache_key(bucket: str, identity: str, window: int) -> str:
    # Hashed: client ids and IPv6 addresses hold characters memcached refuses.
    digest = hashlib.sha256(identity.encode("utf-8")).hexdigest()[:32]
    return f"{CACHE_PREFIX}{bucket}:{digest}:{window}"


def _incr(key: str, timeout: int) -> int:
    """Atomic increment (Redis/memcached/LocMem); creates the counter for this window first."""
    cache.add(key, 0, timeout)
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout)
        return 1


class RateLimited(Exception):
    def __init__(self, bucket: str, identity: str, retry_after: int) -> None:
        super().__init__(f"rate limit {bucket} exceeded")
        self.bucket, self.identity, self.retry_after = bucket, identity, retry_after


Deferred = tuple[str, str, int]  # (counts, cache key, timeout)


def check(bucket: str, found: Iterable[Identity], *, now: float | None = None) -> list[Deferred]:
    """Count ``ALWAYS`` identities and raise ``RateLimited`` if any identity is over its limit.

    Returns the cache keys of the deferred (success/failure) counters for ``record``.
    """
    rate = configured_rate(bucket)
    if rate is None:
        return []
    now = time.time() if now is None else now
    window = int(now // rate.period)
    retry_after = max(1, math.ceil((window + 1) * rate.period - now))
    timeout = rate.period + 5
    deferred: list[Deferred] = []
    for ident in found:
        key = _cache_key(bucket, ident.key, window)
        if ident.counts == ALWAYS:
            count = _incr(key, timeout)
        else:
            count = int(cache.get(key) or 0)
            deferred.append((ident.counts, key, timeout))
        if count > rate.limit or (ident.counts != ALWAYS and count >= rate.limit):
            raise RateLimited(bucket, ident.key, retry_after)
    return deferred


def record(deferred: Iterable[Deferred], status: int) -> None:
    """After the view: count the success-only and failure-only identities."""
    for counts, key, timeout in deferred:
        if (counts == ON_SUCCESS and status < 400) or (counts == ON_FAILURE and status >= 400):
            _incr(key, timeout)


def too_many_requests(request: HttpRequest, exc: RateLimited) -> HttpResponse:
    message = f"Too many requests. Please wait {exc.retry_after} seconds and try again."
    if exc.bucket in HTML_BUCKETS:
        from django.shortcuts import render

        from .views.security import apply_page_headers

        response: HttpResponse = render(request, "django_domainconnect/error.html", {
            "title": "Too many requests", "description": message, "error": "temporarily_unavailable",
        }, status=429)
        apply_page_headers(response)
    elif exc.bucket == "token":
        response = JsonResponse({"error": "rate_limited", "error_description": message}, status=429)
        response["Cache-Control"] = "no-store"
    else:
        response = JsonResponse({"code": "rate_limited", "message": message}, status=429)
        response["Cache-Control"] = "no-store"
    response["Retry-After"] = str(exc.retry_after)
    return response


def rate_limited(bucket: str | Callable[[HttpRequest], str | None]) -> Callable[[Callable[..., HttpResponse]],
                                                                                 Callable[..., HttpResponse]]:
    """View decorator. ``bucket`` is a name or a function of the request (``None``: not limited)."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            name = bucket(request) if callable(bucket) else bucket
            if name is None:
                return view(request, *args, **kwargs)
            try:
                deferred = check(name, identities(request, name))
            except RateLimited as exc:
                from .auditlog import log_refusal

                log_refusal(request, reason="rate_limited", status=429, bucket=exc.bucket,
                            retry_after=exc.retry_after, view_kwargs=kwargs)
                return too_many_requests(request, exc)
            except Exception:  # noqa: BLE001 - a broken cache must not take the endpoints down
                logger.warning("DOMAINCONNECT: rate limit check failed; allowing the request", exc_info=True)
                return view(request, *args, **kwargs)
            response = view(request, *args, **kwargs)
            try:
                record(deferred, response.status_code)
            except Exception:  # noqa: BLE001
                logger.warning("DOMAINCONNECT: rate limit bookkeeping failed", exc_info=True)
            return response

        return wrapper

    return decorator


def apply_endpoint_bucket(request: HttpRequest) -> str | None:
    """The shared ``…/apply`` URL: GET is the sync link, POST the async apply, DELETE a revert."""
    return {"GET": "apply_url", "HEAD": "apply_url", "POST": "apply", "DELETE": "revert"}.get(request.method or "")


def post_only(bucket: str) -> Callable[[HttpRequest], str | None]:
    """Limit only the POSTs of a page (showing a consent page is cheap; answering it writes)."""
    return lambda request: bucket if request.method == "POST" else None


# Route name (in ``domainconnect:``) → bucket. Pages that only show something are not limited.
ROUTE_BUCKETS: dict[str, str | Callable[[HttpRequest], str | None]] = {
    "apply": apply_endpoint_bucket,
    "consent": post_only("consent"),
    "disconnect": post_only("consent"),
    "oauth_consent": post_only("consent"),
    "oauth_consent_service": post_only("consent"),
    "grant_revoke": post_only("consent"),
    "oauth_token": "token",
    "oauth_revert": "revert",
}


def guard_patterns(patterns: Iterable[Any]) -> list[Any]:
    """``patterns`` with every view logged (refusals) and the writing ones rate-limited (``ROUTE_BUCKETS``).

    Used by ``django_domainconnect.urls``; nested ``include()`` lists are guarded recursively.
    """
    from django.urls import URLPattern, URLResolver

    from .auditlog import logged

    guarded: list[Any] = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if pattern.app_name or pattern.namespace:  # another app's URLconf: not ours to wrap
                guarded.append(pattern)
                continue
            pattern = URLResolver(pattern.pattern, guard_patterns(pattern.url_patterns), pattern.default_kwargs,
                                  pattern.app_name, pattern.namespace)
            guarded.append(pattern)
            continue
        if isinstance(pattern, URLPattern) and not getattr(pattern.callback, "_dc_guarded", False):
            view = logged(pattern.name or "")(pattern.callback)
            bucket = ROUTE_BUCKETS.get(pattern.name or "")
            if bucket is not None:
                view = rate_limited(bucket)(view)
            view._dc_guarded = True  # type: ignore[attr-defined]
            pattern = URLPattern(pattern.pattern, view, pattern.default_args, pattern.name)
        guarded.append(pattern)
    return guarded
