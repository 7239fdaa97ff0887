"""Discovery endpoints. Plain Django views: always JSON, never dependent on ``Accept`` (INTEROP.md).

Both answers are public data: no login, no CSRF, CORS open for browser-based Service Providers.
URLs in the settings document come from configuration only, never from the request's Host header.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.apps import apps
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from .. import discovery_cache
from ..backends import get_backend
from ..conf import dc_settings
from ..engine.errors import EngineError
from ..engine.names import normalize_domain
from ..exceptions import TemplateNotFound
from ..services import find_template


def _json(body: dict[str, Any], status: int = 200) -> JsonResponse:
    response = JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})
    response["Access-Control-Allow-Origin"] = "*"
    response["Cache-Control"] = "no-cache"
    return response


def _not_found(message: str) -> JsonResponse:
    return _json({"error": "not_found", "message": message}, status=404)


def read_only(view: Callable[..., JsonResponse]) -> Callable[..., JsonResponse]:
    """GET/HEAD only; anything else is a JSON 405 (exempt from CSRF, which would answer an HTML 403 first:
    these views never read a body or a cookie)."""

    @csrf_exempt
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
        if request.method not in ("GET", "HEAD"):
            response = _json({"error": "method_not_allowed", "message": "use GET"}, status=405)
            response["Allow"] = "GET, HEAD"
            return response
        return view(request, *args, **kwargs)

    return wrapper


@read_only
def settings_view(request: HttpRequest, domain: str) -> JsonResponse:
    """``GET v2/<domain>/settings`` (draft Table 5); 404 when the zone apex is not hosted here."""
    try:
        name = normalize_domain(domain)
    except EngineError:
        return _not_found("This domain is not hosted here.")
    zone_fields = discovery_cache.zone_answer(name, lambda: _zone_fields(name))
    if zone_fields is None:
        return _not_found("This domain is not hosted here.")
    body: dict[str, Any] = {
        "providerId": dc_settings.PROVIDER_ID,
        "providerName": dc_settings.PROVIDER_NAME,
        "providerDisplayName": dc_settings.PROVIDER_DISPLAY_NAME,
        "urlSyncUX": dc_settings.SYNC_UX_URL,
        "urlAPI": dc_settings.API_URL,
        "width": int(dc_settings.WIDTH),
        "height": int(dc_settings.HEIGHT),
    }
    # Draft Table 5: without urlAsyncUX a provider does not offer the async flow — so only with its sub-app.
    if apps.is_installed("django_domainconnect.oauth"):
        body["urlAsyncUX"] = dc_settings.ASYNC_UX_URL
    body.update(zone_fields)
    return _json(body)


def _zone_fields(name: str) -> dict[str, Any] | None:
    """What the backend adds to the settings document for zone ``name``; ``None`` when not hosted here.
    Only this part is cached: the rest comes from settings, read afresh on every request."""
    backend = get_backend()
    zone = backend.get_zone(name)
    if zone is None or not zone.active:
        return None
    fields: dict[str, Any] = {}
    control_panel = backend.control_panel_url(zone)
    if control_panel:
        fields["urlControlPanel"] = control_panel
    nameservers = backend.nameservers(zone)
    if nameservers:
        fields["nameServers"] = list(nameservers)
    return fields


@read_only
def template_view(request: HttpRequest, provider_id: str, service_id: str) -> JsonResponse:
    """``GET v2/domainTemplates/providers/<pid>/services/<sid>``: 200 + version when supported, else 404."""
    answer = discovery_cache.template_answer(provider_id, service_id,
                                             lambda: _supported_template(provider_id, service_id))
    if answer is None:
        return _not_found("This template is not supported.")
    return _json(answer)


def _supported_template(provider_id: str, service_id: str) -> dict[str, Any] | None:
    try:
        template = find_template(provider_id, service_id)
    except TemplateNotFound:
        return None
    return {"providerId": template.provider_id, "serviceId": template.service_id, "version": template.version}
