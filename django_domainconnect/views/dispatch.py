"""One URL, two flows: ``…/services/{sid}/apply`` is the sync consent link (GET, in a browser) at
``urlSyncUX`` and the async API call (POST with a Bearer token; ``DELETE`` = revert for domainconnect-go)
at ``urlAPI``. Both default to the same base URL, so the method decides which flow answers."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt  # the API half authenticates with a Bearer token, never a cookie; the GET half never writes
def apply_endpoint(request: HttpRequest, provider_id: str, service_id: str) -> HttpResponse:
    if request.method in ("GET", "HEAD"):
        from .sync import sync_apply

        return sync_apply(request, provider_id=provider_id, service_id=service_id)
    if request.method == "POST":
        from ..oauth.api import api_apply

        return api_apply(request, provider_id=provider_id, service_id=service_id)
    if request.method == "DELETE":
        from ..oauth.api import api_revert

        return api_revert(request, provider_id=provider_id, service_id=service_id)
    return HttpResponseNotAllowed(["GET", "POST", "DELETE"])
