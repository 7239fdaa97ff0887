"""Audit rows for sync-flow outcomes that never reach ``services.apply`` (SECURITY.md F.47).

``services.apply`` audits applies and their failures itself; this covers what ends earlier: a signature
that does not verify, a zone the user may not change, and a user who declines. Rows never hold ``sig``,
``key`` or other secrets, and an audit failure never breaks the flow.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from django.http import HttpRequest

logger = logging.getLogger(__name__)


def record_refusal(request: HttpRequest, *, action: str, template: Any, detail: str, domain: str = "",
                   host: str = "", params: Mapping[str, str] | None = None) -> None:
    """Write one failure row (``action`` is ``refused`` or ``declined``); none for HEAD (no side effects)."""
    if request.method == "HEAD":
        return
    from django_domainconnect import models
    from django_domainconnect.services import SECRET_PARAMS

    user = request.user if request.user.is_authenticated else None
    try:
        models.AuditEvent.objects.create(
            user=user, username=user.get_username() if user is not None else "", action=action,
            outcome=models.AuditEvent.Outcome.FAILURE, flow="sync", domain=domain[:253], host=host[:253],
            provider_id=template.provider_id, service_id=template.service_id,
            template_version=template.version,
            params={k: v for k, v in (params or {}).items() if k.lower() not in SECRET_PARAMS},
            detail=detail.replace("\\", "\\\\").replace("\r", "\\r").replace("\n", "\\n")[:2000],
            remote_addr=request.META.get("REMOTE_ADDR") or None,
        )
    except Exception:  # noqa: BLE001 - the user's answer matters more than the audit row
        logger.exception("DOMAINCONNECT: could not write the sync audit row")
