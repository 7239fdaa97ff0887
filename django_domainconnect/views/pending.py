"""The plan a user was shown, kept server-side until they answer (SECURITY.md A.4–A.6).

A pending consent lives in the user's session, so it is bound to that session; it also records the user
id, the template version and the plan fingerprint, and is keyed by a one-time nonce that the consent form
posts back (never in a URL). A nonce is *claimed* through the cache's atomic ``add`` before anything is
written, so a double click or a replayed POST writes at most once even when two requests race past the
session; the outcome is remembered so the replay shows the same result page.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from django.core.cache import cache
from django.http import HttpRequest

PENDING_KEY = "domainconnect_sync_pending"
DONE_KEY = "domainconnect_sync_done"
MAX_PENDING = 8  # several tabs may be open; the oldest are dropped beyond this
PENDING_LIFETIME = 30 * 60  # seconds a consent page stays valid
CLAIM_LIFETIME = 24 * 60 * 60


@dataclass
class PendingConsent:
    """Everything needed to apply exactly what was shown, and to finish the flow afterwards."""

    user_id: str
    provider_id: str
    service_id: str
    template_version: int | None
    fingerprint: str
    domain: str
    host: str
    params: dict[str, str]
    group_ids: list[str] | None = None
    instance_id: str | None = None
    provider_name: str | None = None
    service_name: str | None = None
    redirect_uri: str | None = None
    state: str | None = None
    signed: bool = False
    nonce: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    created: float = field(default_factory=time.time)

    @property
    def expired(self) -> bool:
        return time.time() - self.created > PENDING_LIFETIME


def save_pending(request: HttpRequest, pending: PendingConsent) -> str:
    """Store ``pending`` in the session and return its nonce."""
    store: dict[str, Any] = dict(request.session.get(PENDING_KEY, {}))
    store[pending.nonce] = asdict(pending)
    if len(store) > MAX_PENDING:
        for nonce in sorted(store, key=lambda n: store[n]["created"])[: len(store) - MAX_PENDING]:
            del store[nonce]
    request.session[PENDING_KEY] = store
    return pending.nonce


def take_pending(request: HttpRequest, nonce: str) -> PendingConsent | None:
    """Remove and return the pending consent for ``nonce`` (``None`` if unknown or expired)."""
    store: dict[str, Any] = dict(request.session.get(PENDING_KEY, {}))
    data = store.pop(nonce, None)
    request.session[PENDING_KEY] = store
    if not isinstance(data, dict):
        return None
    try:
        pending = PendingConsent(**data)
    except TypeError:  # stored by another version of this code
        return None
    return None if pending.expired else pending


def claim_nonce(nonce: str) -> bool:
    """Atomically mark ``nonce`` as used; ``False`` when it was already used (by any process)."""
    digest = hashlib.sha256(nonce.encode()).hexdigest()
    return bool(cache.add(f"domainconnect:consent:{digest}", 1, CLAIM_LIFETIME))


def remember_outcome(request: HttpRequest, nonce: str, outcome: dict[str, Any]) -> None:
    """Keep the outcome of ``nonce`` so a replayed POST shows the same result without writing."""
    done: dict[str, Any] = dict(request.session.get(DONE_KEY, {}))
    done[nonce] = outcome
    if len(done) > MAX_PENDING:
        for old in list(done)[: len(done) - MAX_PENDING]:
            del done[old]
    request.session[DONE_KEY] = done


def recall_outcome(request: HttpRequest, nonce: str) -> dict[str, Any] | None:
    value = request.session.get(DONE_KEY, {}).get(nonce)
    return value if isinstance(value, dict) else None
