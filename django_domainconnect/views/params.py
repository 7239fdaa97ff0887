"""Validation of the sync apply request's parameters (draft §8.3.2 Table 9, §6.1, §10.3).

``parse_query`` (engine) has already decoded the query exactly once and refused duplicates; this module
checks each Table 9 parameter against the template and splits off the template variables.
Unknown parameters are kept as variables: the engine ignores those the template does not use.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django_domainconnect.engine.errors import HostError
from django_domainconnect.engine.names import normalize_domain, normalize_host

from . import messages as msg
from .display import is_display_name

DC_ID_RE = re.compile(r"[A-Za-z0-9._-]{1,63}")
STATE_RE = re.compile(r"[\x20-\x7e]*")  # RFC 6749 Appendix A.5 VSCHAR
# Table 9 parameters; everything else is a template variable ("properties").
RESERVED = frozenset({
    "domain", "host", "groupId", "providerName", "serviceName", "instanceId", "redirect_uri", "state",
    "sig", "key",
})


class SyncRequestError(Exception):
    """A request the sync flow refuses. ``error`` is an RFC 6749 §4.1.2.1 code."""

    def __init__(self, description: str, *, error: str = "invalid_request", status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


def is_dc_id(value: str) -> bool:
    return DC_ID_RE.fullmatch(value) is not None


@dataclass(frozen=True)
class SyncRequest:
    """A validated sync apply request (domain and host normalised to A-labels)."""

    domain: str
    host: str
    params: dict[str, str]
    group_ids: tuple[str, ...] | None = None
    instance_id: str | None = None
    provider_name: str | None = None
    service_name: str | None = None
    redirect_uri: str | None = None
    state: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def redirect_target(query: Mapping[str, str]) -> tuple[str | None, str | None]:
    """``redirect_uri`` and a well-formed ``state`` (or ``None``), read before anything else is checked."""
    state = query.get("state")
    if state is not None and STATE_RE.fullmatch(state) is None:
        state = None
    return query.get("redirect_uri") or None, state


def validate_sync_request(query: Mapping[str, str], template: Any) -> SyncRequest:
    """Check ``query`` against the engine ``template``; raise ``SyncRequestError`` naming the first problem."""
    if template.sync_block:
        raise SyncRequestError(msg.SYNC_BLOCKED)

    domain_raw = query.get("domain", "")
    if not domain_raw:
        raise SyncRequestError(msg.DOMAIN_MISSING)
    try:
        domain = normalize_domain(domain_raw)
        host = normalize_host(query.get("host"))
    except HostError as exc:
        raise SyncRequestError(msg.fill(msg.BAD_DOMAIN_OR_HOST, problem=exc.message)) from None
    if template.host_required and not host:
        raise SyncRequestError(msg.HOST_REQUIRED)

    group_ids: tuple[str, ...] | None = None
    if "groupId" in query:
        parts = tuple(p for p in query["groupId"].split(","))
        if not parts or not all(is_dc_id(p) for p in parts):
            raise SyncRequestError(msg.GROUP_ID_SYNTAX)
        unknown = sorted(set(parts) - set(template.group_ids))
        if unknown:  # exact, case-sensitive match (draft §10.3)
            groups = ", ".join(sorted(template.group_ids)) or "none"
            raise SyncRequestError(msg.fill(msg.GROUP_ID_UNKNOWN, group=unknown[0], groups=groups))
        group_ids = tuple(dict.fromkeys(parts))

    instance_id = query.get("instanceId")
    if instance_id is not None and not is_dc_id(instance_id):
        raise SyncRequestError(msg.INSTANCE_ID_INVALID)

    provider_name = _shared_name(query, "providerName", template.shared_provider_name or template.shared)
    service_name = _shared_name(query, "serviceName", template.shared_service_name)

    state = query.get("state")
    if state is not None and STATE_RE.fullmatch(state) is None:
        raise SyncRequestError(msg.STATE_INVALID)

    params = {k: v for k, v in query.items() if k not in RESERVED}
    return SyncRequest(
        domain=domain, host=host, params=params, group_ids=group_ids, instance_id=instance_id,
        provider_name=provider_name, service_name=service_name,
        redirect_uri=query.get("redirect_uri") or None, state=state,
    )


def _shared_name(query: Mapping[str, str], name: str, allowed: bool) -> str | None:
    value = query.get(name)
    if value is None:
        return None
    if not allowed:  # Table 9: "this parameter MUST NOT be set"
        flag = f"shared{name[0].upper()}{name[1:]}"
        raise SyncRequestError(msg.fill(msg.SHARED_NAME_NOT_ALLOWED, name=name, flag=flag))
    if not is_display_name(value):
        raise SyncRequestError(msg.fill(msg.SHARED_NAME_INVALID, name=name))
    return value
