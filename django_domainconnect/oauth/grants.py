"""The user's page of Service Providers holding access (draft §8.4.8): see, and revoke at once."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST
from oauth2_provider.settings import oauth2_settings

from ..models import AppliedTemplate
from ..views.display import clean_text, name_display
from ..views.security import form_page, protected_page
from .audit import audit_event
from .models import Grant


@protected_page
@login_required
def grants_view(request: HttpRequest) -> HttpResponse:
    grants = list(Grant.objects.filter(user=request.user).select_related("client"))
    # A consent whose code was never exchanged gives no access once the code has expired: not worth listing.
    pending_since = timezone.now() - timedelta(seconds=oauth2_settings.AUTHORIZATION_CODE_EXPIRE_SECONDS)
    applied = AppliedTemplate.objects.filter(grant_id__in=[g.pk for g in grants]).prefetch_related("records")
    by_grant: dict[int, list[AppliedTemplate]] = {}
    for row in applied:
        by_grant.setdefault(row.grant_id, []).append(row)
    rows = [
        {
            "grant": g,
            "provider": clean_text(g.provider_id),
            "domain": name_display(g.domain),
            "hosts": [name_display(f"{h}.{g.domain}") if h else name_display(g.domain) for h in g.hosts],
            "service_ids": [clean_text(s) for s in g.service_ids],
            "applied": by_grant.get(g.pk, []),
        }
        for g in grants
        if g.code_used_at is not None or (g.is_active and g.created > pending_since)
    ]
    context = {"active": [r for r in rows if r["grant"].is_active],
               "inactive": [r for r in rows if not r["grant"].is_active]}
    # The page posts revoke forms: same-origin referrers, or browsers send Origin: null and CSRF refuses it.
    return form_page(render(request, "django_domainconnect/oauth/grants.html", context))


@protected_page
@login_required
@require_POST
def revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    grant = Grant.objects.filter(pk=pk, user=request.user).select_related("client").first()
    if grant is None:  # another user's grant looks exactly like a missing one
        raise Http404()
    if grant.revoked_at is None:
        grant.revoke("revoked by user")
        audit_event(request, action="revoke", success=True, client=grant.client, domain=grant.domain, grant=grant,
                    detail="revoked by the user")
    return HttpResponseRedirect(reverse("domainconnect:grants"))
