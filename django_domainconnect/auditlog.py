"""Structured operational logging (SECURITY.md 47; ASVS 5.0 16.2.1, 16.2.5, 16.3.3).

Two loggers, both under ``django_domainconnect`` and both with ``dc_*`` fields in ``extra=``:

* ``django_domainconnect.audit`` — one line per ``AuditEvent`` row once it is committed: every apply,
  revert, refusal, consent, grant and revoke (INFO for success, WARNING for failure);
* ``django_domainconnect.requests`` — one line per refused request on a Domain Connect endpoint (a 4xx or
  5xx from a view, including rate-limited ones), so refusals that never reach the service layer (bad
  signature, duplicated parameter, unknown template, bad token) are visible too.

What never goes into a line: query strings, ``sig``/``key`` values, tokens, client secrets, codes, or
variable *values* (only their names). Every string field has CR/LF and other control characters escaped,
so a value cannot forge a log line. ``JsonFormatter`` writes each record as one JSON object per line.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse

audit_logger = logging.getLogger("django_domainconnect.audit")
request_logger = logging.getLogger("django_domainconnect.requests")

# Parameter names whose presence is worth logging; values are never logged.
_MAX_FIELD = 300
_DISPATCH_UID = "django_domainconnect.auditlog.audit_row_saved"


def escape(value: Any, limit: int = _MAX_FIELD) -> str:
    """One printable line: backslash, CR, LF, TAB and other control characters as escapes."""
    text = str(value)
    out = []
    for ch in text[:limit]:
        if ch == "\\":
            out.append("\\\\")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F or 0x80 <= ord(ch) < 0xA0 or ch in "\u2028\u2029":
            out.append(f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    if len(text) > limit:
        out.append("…")
    return "".join(out)


# -- audit rows ------------------------------------------------------------------------------------------


def audit_fields(event: Any) -> dict[str, Any]:
    """The ``extra=`` of an audit line: identifiers and counts, never values that could be secrets."""
    before = {_record_key(r) for r in (event.records_before or [])}
    after = {_record_key(r) for r in (event.records_after or [])}
    success = event.outcome == "success"
    return {
        "dc_event": "audit",
        "dc_audit_id": event.pk,
        "dc_action": escape(event.action),
        "dc_outcome": escape(event.outcome),
        "dc_flow": escape(event.flow),
        "dc_domain": escape(event.domain),
        "dc_host": escape(event.host),
        "dc_provider_id": escape(event.provider_id),
        "dc_service_id": escape(event.service_id),
        "dc_template_version": event.template_version,
        "dc_instance_id": escape(event.instance_id),
        "dc_user_id": event.user_id,
        "dc_client_id": escape(event.client_id),
        "dc_grant_id": event.grant_id,
        "dc_remote_addr": event.remote_addr or "",
        "dc_variables": sorted(escape(k, 63) for k in (event.params or {})),
        "dc_records_added": len(after - before) if success else 0,
        "dc_records_deleted": len(before - after) if success else 0,
        "dc_detail": escape(event.detail, 500),
    }


def _record_key(record: Any) -> str:
    if isinstance(record, Mapping):
        return json.dumps(record, sort_keys=True, default=str)
    return str(record)


def log_audit_event(event: Any) -> None:
    fields = audit_fields(event)
    level = logging.INFO if event.outcome == "success" else logging.WARNING
    audit_logger.log(
        level, "DOMAINCONNECT %s %s: %s%s %s/%s",
        fields["dc_action"], fields["dc_outcome"], f"{fields['dc_host']}." if fields["dc_host"] else "",
        fields["dc_domain"], fields["dc_provider_id"], fields["dc_service_id"], extra=fields,
    )


def _audit_row_saved(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    if not created:
        return
    from django.db import transaction

    # After the commit: a success row whose transaction rolls back was never a success.
    transaction.on_commit(lambda: _safe(log_audit_event, instance), using=kwargs.get("using"))


def _safe(func: Callable[..., Any], *args: Any) -> None:
    try:
        func(*args)
    except Exception:  # noqa: BLE001 - logging must never break a request or a commit
        logging.getLogger("django_domainconnect").exception("DOMAINCONNECT: could not log an audit event")


def connect() -> None:
    """Log every committed ``AuditEvent`` (idempotent; called when the URLconf is loaded)."""
    from django.db.models.signals import post_save

    from .models import AuditEvent

    post_save.connect(_audit_row_saved, sender=AuditEvent, dispatch_uid=_DISPATCH_UID)


# -- refused requests ------------------------------------------------------------------------------------


def request_fields(request: HttpRequest, *, status: int, reason: str, view_kwargs: Mapping[str, Any] | None = None,
                   **more: Any) -> dict[str, Any]:
    """Who asked for what, minus anything secret: parameter *names* only, never the query string."""
    user = getattr(request, "user", None)
    user_id = user.pk if user is not None and getattr(user, "is_authenticated", False) else None
    names = sorted({escape(k, 63) for k in request.GET.keys()})
    fields: dict[str, Any] = {
        "dc_event": "refused",
        "dc_reason": escape(reason),
        "dc_status": status,
        "dc_method": escape(request.method or ""),
        "dc_path": escape(request.path, 500),
        "dc_user_id": user_id,
        "dc_remote_addr": escape(request.META.get("REMOTE_ADDR") or ""),
        "dc_query_param_names": names[:50],
        "dc_has_signature": "sig" in request.GET,
    }
    for key, value in (view_kwargs or {}).items():
        fields[f"dc_{key}"] = escape(value, 253)
    domain = request.GET.get("domain")
    if domain is not None:
        fields["dc_domain"] = escape(domain, 253)
    for key, value in more.items():
        fields[f"dc_{key}"] = value if isinstance(value, (int, float, bool)) or value is None else escape(value)
    return fields


def log_refusal(request: HttpRequest, *, reason: str, status: int, view_kwargs: Mapping[str, Any] | None = None,
                **more: Any) -> None:
    try:
        fields = request_fields(request, status=status, reason=reason, view_kwargs=view_kwargs, **more)
        level = logging.ERROR if status >= 500 else logging.WARNING
        request_logger.log(level, "DOMAINCONNECT refused %s %s: %s (%s)", fields["dc_method"], fields["dc_path"],
                           status, fields["dc_reason"], extra=fields)
    except Exception:  # noqa: BLE001
        logging.getLogger("django_domainconnect").exception("DOMAINCONNECT: could not log a refusal")


def _reason(response: HttpResponse) -> str:
    """The error code the view answered with (JSON ``error``/``code``), else the HTTP reason."""
    content_type = response.get("Content-Type", "")
    if "json" in content_type and not getattr(response, "streaming", False):
        try:
            body = json.loads(response.content or b"{}")
        except ValueError:
            body = {}
        if isinstance(body, dict):
            code = body.get("error") or body.get("code")
            if code:
                return str(code)
    return response.reason_phrase or str(response.status_code)


def _redirected_error(response: HttpResponse) -> str | None:
    """The ``error`` code of a redirect back to the Service Provider (never ``state`` or the URL itself)."""
    if response.status_code not in (301, 302, 303) or "Location" not in response:
        return None
    from urllib.parse import parse_qs, urlsplit

    parts = urlsplit(response["Location"])
    errors = parse_qs(parts.query).get("error") or parse_qs(parts.fragment).get("error")
    return escape(errors[0], 64) if errors else None


def logged(route: str) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """View decorator: log every 4xx/5xx answer of ``view`` as a refusal, with its duration."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            started = time.monotonic()
            response = view(request, *args, **kwargs)
            status = response.status_code
            refused = status >= 400 and status != 429  # 429s are logged by ratelimit
            reason = _reason(response) if refused else _redirected_error(response)
            if refused or reason:  # a redirect carrying ?error= back to the Service Provider is a refusal too
                log_refusal(request, reason=reason or str(status), status=status, view_kwargs=kwargs,
                            route=route, duration_ms=round((time.monotonic() - started) * 1000, 1))
            from .health import publish_stats

            publish_stats()
            return response

        return wrapper

    return decorator


# -- JSON lines ------------------------------------------------------------------------------------------

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message", **dc_fields}`` per line, for log shippers."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": escape(record.getMessage(), 2000),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and key.startswith("dc_"):
                data[key] = value
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, default=str, ensure_ascii=False)
