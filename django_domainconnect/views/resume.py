"""The apply link's raw query, kept server-side across the login round trip (SECURITY.md A.13).

Draft §8.3.4 verifies the signature over the query "without reordering or re-encoding". A ``next`` URL
does not survive login byte-exact: Django's ``get_full_path`` and ``HttpResponseRedirect`` percent-encode
``|``, ``^``, `````, ``{`` and raw UTF-8, and login pages or proxies may re-encode further. So the raw query
is stored in the session under a random token and ``next`` carries only that token. Django keeps session
data when login rotates the session key, and a token from another session finds nothing.

The stored query is not trusted: resuming runs every check of the apply link on it again.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

RESUME_KEY = "domainconnect_sync_resume"
MAX_ENTRIES = 8  # several tabs may wait for login; the oldest are dropped beyond this
LIFETIME = 30 * 60  # seconds between the apply link and coming back from login
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{22,64}")


@dataclass(frozen=True)
class StashedQuery:
    provider_id: str
    service_id: str
    raw: bytes


def stash_query(request: HttpRequest, provider_id: str, service_id: str, raw: bytes) -> str:
    """Keep ``raw`` (the query's bytes as received) in the session; return the token for the resume URL."""
    now = time.time()
    store: dict[str, Any] = {
        token: entry for token, entry in dict(request.session.get(RESUME_KEY, {})).items()
        if isinstance(entry, dict) and now - float(entry.get("created", 0)) <= LIFETIME
    }
    token = secrets.token_urlsafe(24)
    # latin-1 maps each byte to one code point: JSON-serialisable and byte-exact.
    store[token] = {"provider_id": provider_id, "service_id": service_id, "query": raw.decode("iso-8859-1"),
                    "created": now}
    if len(store) > MAX_ENTRIES:
        for old in sorted(store, key=lambda t: store[t]["created"])[: len(store) - MAX_ENTRIES]:
            del store[old]
    request.session[RESUME_KEY] = store
    return token


def stashed_query(request: HttpRequest, token: str) -> StashedQuery | None:
    """The query stored for ``token`` in this session (``None`` if unknown, malformed or expired).

    The entry stays until it expires, so reloading the consent page after login works; it is read-only
    here, which keeps HEAD requests free of side effects.
    """
    if TOKEN_RE.fullmatch(token) is None:
        return None
    entry = request.session.get(RESUME_KEY, {}).get(token)
    if not isinstance(entry, dict):
        return None
    try:
        if time.time() - float(entry["created"]) > LIFETIME:
            return None
        return StashedQuery(str(entry["provider_id"]), str(entry["service_id"]),
                            str(entry["query"]).encode("iso-8859-1"))
    except (KeyError, TypeError, ValueError, UnicodeEncodeError):  # stored by another version of this code
        return None
