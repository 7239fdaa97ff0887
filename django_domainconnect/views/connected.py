"""Connected services of one of the user's domains: which templates are applied, by whom, when, with which
records, and a **Disconnect** button (revert through ``services.revert`` after a confirmation POST).

A domain that is not the user's gets the same generic 404 as one that does not exist (no oracle).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse

from django_domainconnect import services
from django_domainconnect.engine.errors import EngineError
from django_domainconnect.engine.types import Record
from django_domainconnect.exceptions import DomainConnectError, NotApplied, ZoneNotAvailable
from django_domainconnect.forms import DisconnectForm

from .consent_page import template_names
from .display import clean_text, name_display, record_rows
from .security import apply_page_headers, form_page, protected_page


def _page(request: HttpRequest, name: str, context: dict[str, Any], status: int = 200, *,
          form: bool = False) -> HttpResponse:
    response = render(request, f"django_domainconnect/{name}", context, status=status)
    return apply_page_headers(form_page(response) if form else response)


def _not_available(request: HttpRequest) -> HttpResponse:
    return _page(request, "error.html", {"title": "Not found", "error": "access_denied",
                                         "description": "This domain cannot be managed from this account."},
                 status=404)


def _rows(instances: list[Any], domain: str) -> list[dict[str, Any]]:
    names = template_names({(i.provider_id, i.service_id) for i in instances})
    rows = []
    for inst in instances:
        provider, service = names.get((inst.provider_id, inst.service_id), (inst.provider_id, inst.service_id))
        applied_by = inst.applied_by.get_username() if inst.applied_by is not None else ""
        rows.append({
            "pk": inst.pk,
            "provider_name": clean_text(provider),
            "service_name": clean_text(service),
            "where": name_display(f"{inst.host}.{domain}" if inst.host else domain),
            "applied_by": clean_text(applied_by or inst.client_id or ""),
            "flow": inst.get_flow_display(),
            "created_at": inst.created_at,
            "updated_at": inst.updated_at,
            "records": record_rows(Record(r.name, r.type, r.ttl, r.data) for r in inst.records.all()),
        })
    return rows


@protected_page
@login_required
def connected(request: HttpRequest, domain: str) -> HttpResponse:
    try:
        zone = services.get_managed_zone(request.user, domain)
    except ZoneNotAvailable:
        return _not_available(request)
    instances = services.applied_instances(zone.domain)
    return _page(request, "connected.html", {
        "domain": name_display(zone.domain),
        "domain_arg": zone.domain,
        "services": _rows(instances, zone.domain),
        "disconnected": request.GET.get("disconnected") == "1",
    })


@protected_page
@login_required
def disconnect(request: HttpRequest, domain: str, pk: int) -> HttpResponse:
    """GET: what will be removed, with a confirmation form. POST (CSRF): revert that instance."""
    try:
        zone = services.get_managed_zone(request.user, domain)
    except ZoneNotAvailable:
        return _not_available(request)
    instance = next((i for i in services.applied_instances(zone.domain) if i.pk == pk), None)
    back = reverse("domainconnect:connected", args=[zone.domain])
    if instance is None:
        return _page(request, "error.html", {"title": "Not found", "error": "invalid_request",
                                             "description": "This service is not connected to the domain.",
                                             "back_url": back}, status=404)
    if request.method == "POST":
        form = DisconnectForm(request.POST)
        if not form.is_valid():
            return HttpResponseRedirect(back)
        try:
            services.revert(user=request.user, domain=zone.domain, host=instance.host,
                            provider_id=instance.provider_id, service_id=instance.service_id,
                            instance_id=instance.instance_id, flow="sync",
                            remote_addr=request.META.get("REMOTE_ADDR"))
        except NotApplied:
            pass  # already gone (a double submit): the list shows the truth
        except ZoneNotAvailable:
            return _not_available(request)
        except (EngineError, DomainConnectError):
            # Rolled back: nothing changed, and a retry may work — a 503, never a 500.
            return _page(request, "error.html", {"title": "Something went wrong", "error": "temporarily_unavailable",
                                                 "description": "The service could not be disconnected. "
                                                                "Nothing was changed. Please try again later.",
                                                 "back_url": back},
                         status=503)
        response = HttpResponseRedirect(f"{back}?disconnected=1")
        response.status_code = 303
        return response
    row = _rows([instance], zone.domain)[0]
    return _page(request, "disconnect.html", {"domain": name_display(zone.domain), "service": row,
                                              "form": DisconnectForm(initial={"confirm": "yes"}), "back_url": back},
                 form=True)
