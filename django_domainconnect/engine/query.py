"""Strict ``application/x-www-form-urlencoded`` query parsing for the apply URL.

Django's ``QueryDict.get()`` silently keeps the *last* of two values (``IP=1.1.1.1&IP=6.6.6.6``), and
``urllib.parse.unquote`` passes bad escapes through unchanged. Here a duplicated name, a broken ``%``
escape or bytes that are not UTF-8 are an ``invalid_request`` error that names the parameter.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

from .errors import EngineError

# A "%" not followed by two hex digits.
_BAD_ESCAPE_RE = re.compile(rb"%(?![0-9A-Fa-f]{2})")


def as_query_bytes(raw_query: str | bytes) -> bytes:
    """The query as bytes. ``str`` input is UTF-8 encoded (pass bytes to keep raw non-ASCII exact)."""
    if isinstance(raw_query, bytes):
        return raw_query
    return raw_query.encode("utf-8", "surrogateescape")


def form_decode(component: bytes, *, what: str, field: str | None = None) -> str:
    """Decode one name or value exactly once: ``+`` is a space, ``%XX`` a byte, the result UTF-8."""
    if _BAD_ESCAPE_RE.search(component):
        raise EngineError(f"{what}: invalid percent-encoding (a '%' must be followed by two hex digits)",
                          code="invalid_request", field=field)
    try:
        return unquote_to_bytes(component.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        raise EngineError(f"{what}: not valid UTF-8 after percent-decoding", code="invalid_request",
                          field=field) from None


def split_pairs(raw_query: str | bytes) -> list[tuple[bytes, bytes]]:
    """Raw ``(name, value)`` byte pairs in order; empty segments (``a=1&&b=2``) are skipped."""
    pairs: list[tuple[bytes, bytes]] = []
    for segment in as_query_bytes(raw_query).split(b"&"):
        if not segment:
            continue
        name, _, value = segment.partition(b"=")
        pairs.append((name, value))
    return pairs


def parse_query(raw_query: str | bytes) -> dict[str, str]:
    """Decode a raw query string into ``{name: value}``; every name may appear at most once.

    Raises ``EngineError(code="invalid_request")`` naming the parameter for a duplicate, an empty name,
    invalid percent-encoding or non-UTF-8 bytes.
    """
    result: dict[str, str] = {}
    for raw_name, raw_value in split_pairs(raw_query):
        name = form_decode(raw_name, what="parameter name")
        if not name:
            raise EngineError("a query parameter has an empty name", code="invalid_request")
        value = form_decode(raw_value, what=f"value of parameter '{name}'", field=name)
        if name in result:
            raise EngineError(f"parameter '{name}' is given more than once", code="invalid_request", field=name)
        result[name] = value
    return result
