"""The answer to a sync consent page: ``POST`` with CSRF, ``action=approve|cancel`` and the one-time nonce.

The plan applied is the one stored for the nonce in this user's session, re-computed under the zone lock
by ``services.apply(expected_fingerprint=…)``: if the zone or the template changed, the user is asked
again with the new plan; nothing they were not shown is ever written (draft §10.6, §10.7; SECURITY.md
A.4–A.6). A replayed or double POST writes at most once and shows the first outcome again.
"""

from __future__ import annotations

import logging
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_POST

from django_domainconnect import parsed_templates, services
from django_domainconnect.engine.errors import EngineError, PlanError, TemplateError
from django_domainconnect.engine.redirects import append_params
from django_domainconnect.exceptions import (
    DomainConnectError,
    PlanChanged,
    TemplateNotFound,
    ZoneNotAvailable,
)
from django_domainconnect.forms import ConsentForm

from . import messages as msg
from .audit import record_refusal
from .consent_page import render_consent
from .display import name_display
from .outcome import allowed_redirect, error_response, redirect_note, success_location
from .params import SyncRequest
from .pending import PendingConsent, claim_nonce, recall_outcome, remember_outcome, take_pending
from .security import apply_page_headers, protected_page
from .sync import start_consent

logger = logging.getLogger(__name__)


def _page(request: HttpRequest, name: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    return apply_page_headers(render(request, f"django_domainconnect/{name}", context, status=status))


def _expired(request: HttpRequest, status: int = 400) -> HttpResponse:
    return _page(request, "error.html", {"title": "This page has expired", "description": msg.CONSENT_EXPIRED,
                                         "error": "invalid_request"}, status=status)


def _sync_request(pending: PendingConsent) -> SyncRequest:
    return SyncRequest(
        domain=pending.domain, host=pending.host, params=dict(pending.params),
        group_ids=tuple(pending.group_ids) if pending.group_ids else None, instance_id=pending.instance_id,
        provider_name=pending.provider_name, service_name=pending.service_name,
        redirect_uri=pending.redirect_uri, state=pending.state,
    )


def _replay(request: HttpRequest, outcome: dict[str, Any]) -> HttpResponse:
    """Show the first outcome again for a replayed nonce, without touching the zone."""
    location = outcome.get("location")
    if location:
        return apply_page_headers(HttpResponseRedirect(location))
    if outcome.get("kind") == "applied":
        return _page(request, "done.html", {"fqdn": name_display(outcome.get("fqdn", "")),
                                            "service_name": outcome.get("service_name", ""),
                                            "provider_name": outcome.get("provider_name", "")})
    return _page(request, "error.html", {"title": "The changes were not made", "error": "access_denied",
                                         "description": msg.CANCELLED})


@protected_page
@require_POST
def consent(request: HttpRequest) -> HttpResponse:
    form = ConsentForm(request.POST)
    if not form.is_valid():
        return _page(request, "error.html", {"title": "The request could not be processed",
                                             "description": msg.FORM_INCOMPLETE, "error": "invalid_request"},
                     status=400)
    nonce: str = form.cleaned_data["nonce"]
    action: str = form.cleaned_data["action"]
    if not request.user.is_authenticated:
        return _expired(request, status=403)

    previous = recall_outcome(request, nonce)
    if previous is not None:
        return _replay(request, previous)
    pending = take_pending(request, nonce)
    if pending is None or pending.user_id != str(request.user.pk):
        return _expired(request)

    try:
        template = services.find_template(pending.provider_id, pending.service_id)
        engine_template = parsed_templates.engine_template(template)
    except (TemplateNotFound, TemplateError):
        return _expired(request)

    if not claim_nonce(nonce):  # a concurrent POST with the same nonce won the race
        return _page(request, "error.html", {"title": "Already answered", "error": "invalid_request",
                                             "description": msg.ALREADY_ANSWERED},
                     status=409)

    req = _sync_request(pending)

    def fail(description: str, *, error: str, status: int) -> HttpResponse:
        return error_response(request, error=error, description=description, status=status,
                              template=engine_template, redirect_uri=req.redirect_uri, state=req.state,
                              signed=pending.signed)

    if action == "cancel":
        record_refusal(request, action="declined", template=template, detail="the user cancelled on the consent page",
                       domain=req.domain, host=req.host, params=req.params)
        outcome = {"kind": "cancelled",
                   "location": _error_location(req, engine_template, pending.signed, "access_denied",
                                               msg.CANCEL_DESCRIPTION)}
        remember_outcome(request, nonce, outcome)
        return _replay(request, outcome)

    if template.version != pending.template_version:
        return start_consent(request, template, engine_template, req, signed=pending.signed, notice=msg.CHANGED_NOTICE)

    try:
        services.apply(
            user=request.user, domain=req.domain, host=req.host, template=template, params=req.params,
            group_ids=req.group_ids, instance_id=req.instance_id, flow="sync",
            expected_fingerprint=pending.fingerprint, force=True, remote_addr=request.META.get("REMOTE_ADDR"),
        )
    except PlanChanged as exc:
        return apply_page_headers(render_consent(request, exc.plan_result, req, signed=pending.signed,
                                                 notice=msg.CHANGED_NOTICE))
    except ZoneNotAvailable:
        return fail(msg.NOT_AVAILABLE, error="access_denied", status=403)
    except PlanError:
        return fail(msg.CANNOT_COMBINE, error="invalid_request", status=400)
    except EngineError as exc:
        return fail(msg.fill(msg.BAD_VALUES, problem=exc), error="invalid_request", status=400)
    except DomainConnectError as exc:
        logger.warning("DOMAINCONNECT: sync apply of %s/%s failed: %s", template.provider_id, template.service_id,
                       exc.code)
        # The backend or database failed and everything was rolled back: a retry may work (never a 500).
        return fail(msg.SAVE_FAILED, error="temporarily_unavailable", status=503)

    location = success_location(req.redirect_uri, engine_template, state=req.state, signed=pending.signed)
    fqdn = f"{req.host}.{req.domain}" if req.host else req.domain
    remember_outcome(request, nonce, {"kind": "applied", "location": location, "fqdn": fqdn,
                                      "service_name": engine_template.service_name,
                                      "provider_name": engine_template.provider_name})
    if location:
        return apply_page_headers(HttpResponseRedirect(location))
    return _page(request, "done.html", {"fqdn": name_display(fqdn), "service_name": engine_template.service_name,
                                        "provider_name": engine_template.provider_name, "domain": req.domain,
                                        "redirect_note": redirect_note(req.redirect_uri, engine_template,
                                                                       signed=pending.signed)})


def _error_location(req: SyncRequest, engine_template: Any, signed: bool, error: str, description: str) -> str | None:
    target = allowed_redirect(req.redirect_uri, engine_template, signed=signed)
    if target is None:
        return None
    params = {"error": error, "error_description": description}
    if req.state is not None:
        params["state"] = req.state
    return append_params(target, params)
