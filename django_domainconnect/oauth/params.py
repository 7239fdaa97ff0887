"""Parameters of the token and API endpoints, merged from the query string and the body.

Real clients send them in the query string, a JSON body or a form body, sometimes the same one in two
places (the domain-connect library repeats ``client_id``/``client_secret``). A value repeated with the same
text is harmless; a name given two different values is ambiguous and refused, because Django's
``QueryDict.get()`` would silently pick the last one (HTTP parameter pollution, ASVS 15.3.7).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from django.http import HttpRequest
from django.http.multipartparser import MultiPartParserError

MAX_BODY = 64 * 1024


class ParamError(Exception):
    """A request whose parameters cannot be read unambiguously (→ 400 ``invalid_request``)."""

    code = "invalid_request"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class Params:
    values: dict[str, str] = field(default_factory=dict)
    query_keys: set[str] = field(default_factory=set)

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.values.get(name, default)

    def __contains__(self, name: str) -> bool:
        return name in self.values


def _decode_pairs(raw: str, where: str) -> list[tuple[str, str]]:
    try:
        return parse_qsl(raw, keep_blank_values=True, errors="strict", max_num_fields=200)
    except (UnicodeDecodeError, ValueError):
        raise ParamError(f"the {where} cannot be decoded")


def _json_pairs(body: bytes) -> list[tuple[str, str]]:
    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _ in pairs]
        if len(keys) != len(set(keys)):
            raise ParamError("the JSON body repeats a key")
        return dict(pairs)

    try:
        data = json.loads(body.decode("utf-8"), object_pairs_hook=no_duplicates)
    except (UnicodeDecodeError, ValueError):
        raise ParamError("the JSON body is not valid JSON")
    if not isinstance(data, dict):
        raise ParamError("the JSON body must be an object")
    out: list[tuple[str, str]] = []
    for key, value in data.items():
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, (str, int)) and not isinstance(value, bool):
            text = str(value)
        else:
            raise ParamError(f"the JSON value of '{key}' must be a string, a number or a boolean")
        out.append((key, text))
    return out


def request_params(request: HttpRequest, *, repeatable: frozenset[str] = frozenset()) -> Params:
    """All parameters of ``request``; names in ``repeatable`` collect repeated values comma-joined."""
    query = _decode_pairs(request.META.get("QUERY_STRING", ""), "query string")
    body = request.body if request.method in ("POST", "PUT", "PATCH", "DELETE") else b""
    if len(body) > MAX_BODY:
        raise ParamError("the request body is too large")
    content_type = (request.content_type or "").lower()
    if not body.strip():
        body_pairs: list[tuple[str, str]] = []
    elif content_type == "application/json" or content_type.endswith("+json"):
        body_pairs = _json_pairs(body)
    elif content_type == "application/x-www-form-urlencoded":
        try:
            body_pairs = _decode_pairs(body.decode("utf-8"), "form body")
        except UnicodeDecodeError:
            raise ParamError("the form body cannot be decoded")
    elif content_type == "multipart/form-data":
        try:
            body_pairs = [(k, v) for k, values in request.POST.lists() for v in values]
        except MultiPartParserError:  # e.g. no boundary: the client's mistake, never a 500
            raise ParamError("the multipart body cannot be parsed (boundary missing or malformed)")
    else:
        raise ParamError("send parameters in the query string, a JSON body or a form body")

    params = Params(query_keys={k for k, _ in query})
    for key, value in [*query, *body_pairs]:
        if key not in params.values:
            params.values[key] = value
        elif key in repeatable:
            parts = params.values[key].split(",")
            if value not in parts:
                params.values[key] = ",".join([*parts, value])
        elif params.values[key] != value:
            raise ParamError(f"the parameter '{key}' is given more than once with different values")
    return params


def check_name_text(what: str, value: str) -> None:
    """Refuse a domain or host with whitespace or control characters (``host=off%0D%0A``).

    Checked here, before any normalisation, so a malformed name is never quietly trimmed into a valid one
    whatever the name normaliser does: the caller sent something else than a name, and should hear so.
    """
    for position, char in enumerate(value):
        if char.isspace() or not char.isprintable():
            raise ParamError(f"{what} contains whitespace or a control character (U+{ord(char):04X} at position "
                             f"{position}); send the name alone, percent-encoded once")
