"""A short-lived cache of the two discovery answers: the settings document and the template query.

Service Providers ask both before every link they build, so they are the app's hottest requests, and
their answers change rarely. Without a cache each costs one or two database round trips, which on a
typical stack is most of the request (docs/performance.md). Answers are kept in Django's default cache
for ``DISCOVERY_CACHE_TIMEOUT`` seconds (0 turns the cache off), in the cache alias ``DISCOVERY_CACHE``
("default").

Only discovery reads from here: the apply flows always look the zone and the template up afresh, so a
stale answer can at worst tell a Service Provider for a few seconds that something is (not) supported.

- Template answers carry the generation they were computed under; any change to a ``Template`` row
  (save, delete, import, admin actions) starts a new generation once its transaction commits, which
  invalidates every cached template answer at once.
- Settings answers come from the host's backend, whose zones this app cannot observe: they expire with
  the timeout, and a host may call ``forget_zone(domain)`` when it adds, removes or re-delegates a zone.

With a per-process cache (``LocMemCache``, Django's default) invalidation reaches only the process that
made the change; other workers see it when the timeout expires. A shared cache (Redis, Memcached) makes
it immediate everywhere; a local-memory alias for discovery beside a shared default cache trades that for
speed (no network round trip per answer; docs/operations.md#discovery-cache).
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache import BaseCache, caches
from django.db import transaction

from .conf import dc_settings
from .engine.errors import EngineError
from .engine.names import normalize_domain

T = TypeVar("T")
logger = logging.getLogger(__name__)

PREFIX = "domainconnect:discovery:v1"
TEMPLATE_GENERATION_KEY = f"{PREFIX}:template-generation"


def _timeout() -> int:
    value = dc_settings.DISCOVERY_CACHE_TIMEOUT
    # Anything but a whole number of seconds turns the cache off: system check E012 names the mistake, and
    # a server started without checks (gunicorn) still answers discovery.
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _cache() -> BaseCache:
    return caches[dc_settings.DISCOVERY_CACHE]


def _key(kind: str, *parts: str) -> str:
    # Hashed: domain names and ids may hold characters or lengths memcached refuses in keys.
    digest = hashlib.blake2b("\x00".join(parts).encode(), digest_size=16).hexdigest()
    return f"{PREFIX}:{kind}:{digest}"


def zone_answer(domain: str, compute: Callable[[], T]) -> T:
    """``compute()`` (what the backend says about ``domain``), cached for the timeout."""
    timeout = _timeout()
    if not timeout:
        return compute()
    key = _key("zone", domain)
    try:
        found = _cache().get(key)
    except Exception:  # noqa: BLE001 - a broken cache must not take discovery down: answer uncached
        _warn_unavailable()
        return compute()
    # Stored in a 1-tuple: "not hosted here" is None, which some backends (memcached) cannot tell from a miss.
    if isinstance(found, tuple) and len(found) == 1:
        return found[0]  # type: ignore[no-any-return]
    value = compute()
    _store(key, (value,), timeout)
    return value


def forget_zone(domain: str) -> None:
    """Drop the cached settings answer of the zone ``domain`` (U- or A-labels); call it after the change that
    added, removed or re-delegated the zone has committed."""
    try:
        name = normalize_domain(domain)
    except EngineError:
        return  # never a valid zone name, so never cached
    try:
        _cache().delete(_key("zone", name))
    except Exception:  # noqa: BLE001 - the host's change has happened; the answer expires at the timeout
        _warn_unavailable()


def template_answer(provider_id: str, service_id: str, compute: Callable[[], T]) -> T:
    """``compute()`` for this template id pair, cached until the timeout or the next template change."""
    timeout = _timeout()
    if not timeout:
        return compute()
    key = _key("template", provider_id, service_id)
    try:
        # One round trip for both: the generation and the answer stored with the generation it was read under.
        found: dict[str, Any] = _cache().get_many([TEMPLATE_GENERATION_KEY, key])
        generation = found.get(TEMPLATE_GENERATION_KEY)
        if generation is None:
            # add(): if another process just started a generation, keep theirs (read back below).
            _cache().add(TEMPLATE_GENERATION_KEY, uuid.uuid4().hex, None)
            generation = _cache().get(TEMPLATE_GENERATION_KEY)
    except Exception:  # noqa: BLE001 - a broken cache must not take discovery down: answer uncached
        _warn_unavailable()
        return compute()
    stored = found.get(key)
    if generation is not None and isinstance(stored, tuple) and len(stored) == 2 and stored[0] == generation:
        return stored[1]  # type: ignore[no-any-return]
    # The generation is read before the database: an answer computed from data older than a change that
    # commits meanwhile is stored under the old generation, and never served.
    value = compute()
    if generation is not None:
        _store(key, (generation, value), timeout)
    return value


def templates_changed() -> None:
    """Start a new template generation when the current transaction commits (now, outside one)."""
    transaction.on_commit(_new_generation)


def _new_generation() -> None:
    try:
        _cache().set(TEMPLATE_GENERATION_KEY, uuid.uuid4().hex, None)
    except Exception:  # noqa: BLE001 - the change itself has committed; the cache catches up at the timeout
        _warn_unavailable()


def _store(key: str, value: Any, timeout: int) -> None:
    try:
        _cache().set(key, value, timeout)
    except Exception:  # noqa: BLE001 - the answer is still right, only not cached
        _warn_unavailable()


_WARN_EVERY = 60.0  # seconds: an outage logs its traceback once a minute per process, not once per request
_last_warning = -_WARN_EVERY


def _warn_unavailable() -> None:
    global _last_warning
    now = time.monotonic()
    if now - _last_warning < _WARN_EVERY:
        return
    _last_warning = now
    logger.warning("the cache %r is unavailable: discovery answers are computed without it (logged at most "
                   "once a minute)", dc_settings.DISCOVERY_CACHE, exc_info=True)


def connect() -> None:
    """Invalidate template answers on every saved or deleted ``Template`` row."""
    from django.db.models.signals import post_delete, post_save

    from .models import Template

    post_save.connect(_on_template_change, sender=Template, dispatch_uid="domainconnect-discovery-save")
    post_delete.connect(_on_template_change, sender=Template, dispatch_uid="domainconnect-discovery-delete")


def _on_template_change(**_kwargs: Any) -> None:
    templates_changed()
