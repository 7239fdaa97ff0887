"""The synchronous flow's entry point: ``GET {urlSyncUX}/v2/domainTemplates/providers/{pid}/services/{sid}/apply``.

Order matters (draft §10.2, SECURITY.md A–B): ids and template, query parsing (duplicates refused),
``syncBlock``, the signature (before login: an unsigned request for a signed template never reaches a
login page), the Table 9 parameters, login (the raw query waits in the session and ``sync_resume`` runs
all of this again on it after login, see ``resume``), zone ownership (one generic answer), then the plan
and the consent page. A GET never writes; a HEAD does not even touch the session.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url
from django.urls import reverse
from django.views.decorators.http import require_safe

from django_domainconnect import parsed_templates, services
from django_domainconnect.conf import dc_settings
from django_domainconnect.engine.errors import EngineError, PlanError, SignatureError, TemplateError
from django_domainconnect.engine.query import parse_query
from django_domainconnect.engine.signatures import key_lookup_name, split_signed_query, verify_signed_query
from django_domainconnect.exceptions import DomainConnectError, TemplateNotFound, ZoneNotAvailable
from django_domainconnect.ratelimit import rate_limited

from . import messages as msg
from .audit import record_refusal
from .consent_page import render_consent
from .outcome import error_response
from .params import SyncRequest, SyncRequestError, is_dc_id, redirect_target, validate_sync_request
from .resume import TOKEN_RE, stash_query, stashed_query
from .security import apply_page_headers, protected_page

logger = logging.getLogger(__name__)


def raw_query_bytes(request: HttpRequest) -> bytes:
    """The query string exactly as received (WSGI/ASGI hand it over as latin-1-decoded bytes)."""
    raw = request.META.get("QUERY_STRING", "")
    try:
        return raw.encode("iso-8859-1")
    except UnicodeEncodeError:  # a server that decoded it as UTF-8 already
        return raw.encode("utf-8", "surrogateescape")


def not_found(request: HttpRequest) -> HttpResponse:
    """Unknown or malformed ids: a generic 404 (no ids, paths or exception text echoed)."""
    return error_response(request, error="invalid_request", status=404, title="Not found",
                          description=msg.NOT_SUPPORTED)


def login_next(path: str) -> str:
    """Where the login page sends the user back (``path`` has no query). Relative, unless the login page
    lives on another host; the absolute form then comes from ``SYNC_UX_URL`` (configuration), never from
    the request's Host header."""
    if not urlsplit(resolve_url(settings.LOGIN_URL)).netloc:
        return path
    base = urlsplit(dc_settings.SYNC_UX_URL)
    return f"{base.scheme}://{base.netloc}{path}"


def resume_path(token: str) -> str:
    return reverse("domainconnect:sync_resume", kwargs={"token": token})


def to_login(request: HttpRequest, provider_id: str, service_id: str, raw: bytes) -> HttpResponse:
    """Send an anonymous user to login; the raw query waits in the session (see ``views/resume.py``).

    A HEAD stores nothing (no side effects); its ``next`` is the apply path without the query.
    """
    if request.method == "HEAD":
        return redirect_to_login(login_next(request.path))
    return redirect_to_login(login_next(resume_path(stash_query(request, provider_id, service_id, raw))))


@protected_page
def sync_apply(request: HttpRequest, provider_id: str, service_id: str) -> HttpResponse:
    return handle_apply(request, provider_id, service_id, raw_query_bytes(request))


@protected_page
@rate_limited("apply_url")  # the same work as the apply link, so the same budget
@require_safe
def sync_resume(request: HttpRequest, token: str) -> HttpResponse:
    """``next`` after login: run the apply link again with the raw query stored before login."""
    if not request.user.is_authenticated and TOKEN_RE.fullmatch(token):
        return redirect_to_login(login_next(resume_path(token)))  # e.g. the session expired meanwhile
    stashed = stashed_query(request, token) if request.user.is_authenticated else None
    if stashed is None:
        return error_response(request, error="invalid_request", title="This link has expired",
                              description=msg.RESUME_EXPIRED)
    return handle_apply(request, stashed.provider_id, stashed.service_id, stashed.raw)


def handle_apply(request: HttpRequest, provider_id: str, service_id: str, raw: bytes) -> HttpResponse:
    """Every check of the apply link on ``raw`` (the query's bytes as received), then the consent page."""
    if not (is_dc_id(provider_id) and is_dc_id(service_id)):
        return not_found(request)
    try:
        template = services.find_template(provider_id, service_id)
        engine_template = parsed_templates.engine_template(template)
    except (TemplateNotFound, TemplateError):
        return not_found(request)

    try:
        query = parse_query(raw)
    except EngineError as exc:
        # The redirect target itself is ambiguous here, so the answer is always a page.
        return error_response(request, error="invalid_request",
                              description=msg.fill(msg.BAD_QUERY, problem=exc.message))
    redirect_uri, state = redirect_target(query)

    def fail(description: str, *, error: str = "invalid_request", status: int = 400, signed: bool = False,
             details: list[tuple[str, str]] | None = None) -> HttpResponse:
        return error_response(request, error=error, description=description, status=status,
                              template=engine_template, redirect_uri=redirect_uri, state=state, signed=signed,
                              details=details)

    if engine_template.sync_block:
        return fail(msg.SYNC_BLOCKED)

    signed = False
    if engine_template.sync_pub_key_domain:
        refusal = _check_signature(raw, engine_template)
        if refusal is not None:
            error, description, details = refusal
            record_refusal(request, action="refused", template=template, detail=description,
                           domain=query.get("domain", ""), host=query.get("host", ""), params=query)
            return fail(description, error=error, status=503 if error == "temporarily_unavailable" else 400,
                        details=details)
        signed = True
    elif dc_settings.REQUIRE_SIGNATURES:
        return fail(msg.SIGNATURE_REQUIRED)

    try:
        req = validate_sync_request(query, engine_template)
    except SyncRequestError as exc:
        return fail(exc.description, error=exc.error, status=exc.status, signed=signed)

    if not request.user.is_authenticated:
        return to_login(request, provider_id, service_id, raw)

    return start_consent(request, template, engine_template, req, signed=signed)


def start_consent(request: HttpRequest, template: Any, engine_template: Any, req: SyncRequest, *, signed: bool,
                  notice: str | None = None) -> HttpResponse:
    """Check ownership, plan, and show the consent page (also used to re-ask after a change)."""

    def fail(description: str, *, error: str, status: int) -> HttpResponse:
        return error_response(request, error=error, description=description, status=status,
                              template=engine_template, redirect_uri=req.redirect_uri, state=req.state,
                              signed=signed)

    try:
        result = services.plan(user=request.user, domain=req.domain, host=req.host, template=template,
                               params=req.params, group_ids=req.group_ids, instance_id=req.instance_id)
    except ZoneNotAvailable:
        record_refusal(request, action="refused", template=template, detail="zone not available to this user",
                       domain=req.domain, host=req.host, params=req.params)
        return fail(msg.NOT_AVAILABLE, error="access_denied", status=403)
    except PlanError as exc:
        # About the zone's existing content (e.g. its SPF record): the Service Provider gets a vague text.
        logger.info("DOMAINCONNECT: %s/%s cannot be planned on %s: %s", template.provider_id,
                    template.service_id, req.domain, exc)
        return fail(msg.CANNOT_COMBINE, error="invalid_request", status=400)
    except EngineError as exc:
        return fail(msg.fill(msg.BAD_VALUES, problem=exc), error="invalid_request", status=400)
    except DomainConnectError:
        logger.exception("DOMAINCONNECT: planning failed for %s/%s", template.provider_id, template.service_id)
        return fail(msg.PREPARE_FAILED, error="temporarily_unavailable", status=503)
    response = render_consent(request, result, req, signed=signed, notice=notice)
    return apply_page_headers(response)


def _check_signature(raw: bytes, engine_template: Any) -> tuple[str, str, list[tuple[str, str]]] | None:
    """``None`` when the signature verifies, else ``(error, description, details)`` for the SP developer.

    The details say which key host was queried and what failed; they are about the Service Provider's
    published key and the link, never about zones or accounts.
    """
    from django_domainconnect.dns import get_public_key

    domain = engine_template.sync_pub_key_domain
    details: list[tuple[str, str]] = [("syncPubKeyDomain", domain)]
    try:
        _canonical, _sig, key = split_signed_query(raw)
        if key:
            details.append(("Key host queried", key_lookup_name(key, domain)))
    except SignatureError:
        pass
    try:
        verify_signed_query(raw, domain, get_public_key)
    except SignatureError as exc:
        temporary = getattr(exc, "code", "") == "temporarily_unavailable"
        error = "temporarily_unavailable" if temporary else "invalid_request"
        details.append(("Problem", exc.message))
        return error, msg.fill(msg.SIGNATURE_FAILED, problem=exc.message), details
    return None

