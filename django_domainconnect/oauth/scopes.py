"""Scopes of the async flow: a space-separated list of serviceIds of the client's own provider."""

from __future__ import annotations

from collections.abc import Iterable

from ..engine.abnf import is_dc_id
from ..exceptions import TemplateNotFound


def parse_scope(scope: str | None) -> list[str]:
    """Split on spaces (``+`` already decoded), drop blanks, keep order, remove repeats."""
    seen: list[str] = []
    for part in (scope or "").split(" "):
        if part and part not in seen:
            seen.append(part)
    return seen


def scopes_valid_for(provider_id: str, service_ids: Iterable[str]) -> bool:
    """Every serviceId is a dc-id naming an enabled template of ``provider_id`` the backend supports."""
    from ..services import find_template

    ids = list(service_ids)
    if not ids:
        return False
    for service_id in ids:
        if not is_dc_id(service_id):
            return False
        try:
            find_template(provider_id, service_id)
        except TemplateNotFound:
            return False
    return True
