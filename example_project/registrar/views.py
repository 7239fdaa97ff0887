"""The registrar's control panel: the customer's domains and one page per zone."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse

from django_domainconnect.engine.errors import HostError
from django_domainconnect.engine.names import normalize_domain

from .models import Domain


def home(request: HttpRequest) -> HttpResponse:
    return redirect("registrar:domains")


def connected_services_url(domain: Domain) -> str | None:
    """The Domain Connect "connected services" page for ``domain``, when the installed app has one."""
    for kwargs in ({"domain": domain.name}, {}):
        try:
            url = reverse("domainconnect:connected", kwargs=kwargs)
        except NoReverseMatch:
            continue
        return url if kwargs else f"{url}?domain={domain.name}"
    return None


@login_required
def domain_list(request: HttpRequest) -> HttpResponse:
    domains = list(Domain.objects.filter(owner=request.user))
    rows = [(d, connected_services_url(d)) for d in domains]
    return render(request, "registrar/domain_list.html", {"rows": rows})


@login_required
def zone_detail(request: HttpRequest, name: str) -> HttpResponse:
    # The same 404 for "no such zone" and "not yours": no existence oracle.
    try:
        name = normalize_domain(name)
    except HostError:
        raise Http404("No such domain in your account.")
    domain = Domain.objects.filter(name=name, owner=request.user).first()
    if domain is None:
        raise Http404("No such domain in your account.")
    records = list(domain.records.all())
    return render(
        request,
        "registrar/zone_detail.html",
        {"domain": domain, "records": records, "connected_url": connected_services_url(domain)},
    )
