"""Audit rows for the async flow's own events (consent, grant, revoke); applies are audited by services."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from ..models import AuditEvent, Flow


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\r", "\\r").replace("\n", "\\n")[:2000]


def audit_event(request: HttpRequest | None, *, action: str, success: bool, client: Any, domain: str = "",
                grant: Any = None, detail: str = "") -> AuditEvent:
    user = getattr(request, "user", None) if request is not None else None
    if user is not None and not user.is_authenticated:
        user = None
    return AuditEvent.objects.create(
        user=user, username=user.get_username() if user is not None else "",
        client_id=getattr(client, "provider_id", "") or "", grant_id=getattr(grant, "pk", None), action=action,
        outcome=AuditEvent.Outcome.SUCCESS if success else AuditEvent.Outcome.FAILURE, flow=Flow.ASYNC,
        domain=domain[:253], provider_id=getattr(client, "provider_id", "") or "",
        remote_addr=(request.META.get("REMOTE_ADDR") or None) if request is not None else None,
        detail=_escape(detail),
    )
