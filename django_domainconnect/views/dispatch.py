"""One URL, two flows: ``…/services/{sid}/apply`` is the sync consent link (GET, in a browser) at
``urlSyncUX`` and the async API call (POST with a Bearer token; ``DELETE`` = revert for domainconnect-go)
at ``urlAPI``. Both default to the same base URL, so the method decides which flow answers."""

from __future__ import annotations

from django.apps import apps
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.views.decorators.csrf import csrf_exempt

from .sync import sync_apply


def _async_installed() -> bool:
    return apps.is_installed("django_domainconnect.oauth")


@csrf_exempt  # the API half authenticates with a Bearer token, never a cookie; the GET half never writes
def apply_endpoint(request: HttpRequest, provider_id: str, service_id: str) -> HttpResponse:
    if request.method in ("GET", "HEAD"):
        return sync_apply(request, provider_id=provider_id, service_id=service_id)
    if request.method in ("POST", "DELETE") and _async_installed():
        # Imported here: the async flow is an optional sub-app whose models exist only when installed.
        from ..oauth.api import api_apply, api_revert

        view = api_apply if request.method == "POST" else api_revert
        return view(request, provider_id=provider_id, service_id=service_id)
    allowed = ["GET", "HEAD", "POST", "DELETE"] if _async_installed() else ["GET", "HEAD"]
    return HttpResponseNotAllowed(allowed)
