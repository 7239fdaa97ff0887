"""Routes of the async flow, included by ``django_domainconnect.urls`` (names live in ``domainconnect:``).

The consent page sits under ``urlAsyncUX`` (default ``BASE_URL + "/async"``); token and revert under
``urlAPI``. POST/DELETE on ``…/apply`` reach ``api.api_apply``/``api.api_revert`` through the shared apply
endpoint in ``views/dispatch.py``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.urls import path

from ..conf import dc_settings
from .api import revert_view
from .consent import consent_view
from .grants import grants_view, revoke_view
from .token import token_revoke_view, token_view


def _prefix(url: str | None) -> str:
    """Path of ``url`` below ``BASE_URL``'s path, as a route prefix ("" or "async/")."""
    base = urlsplit(dc_settings.BASE_URL or "").path.rstrip("/")
    own = urlsplit(url or "").path.rstrip("/")
    if base and own.startswith(base):
        own = own[len(base):]
    own = own.strip("/")
    return f"{own}/" if own else ""


ASYNC_PREFIX = _prefix(dc_settings.ASYNC_UX_URL)
API_PREFIX = _prefix(dc_settings.API_URL)

urlpatterns = [
    path(f"{API_PREFIX}v2/oauth/access_token", token_view, name="oauth_token"),
    path(f"{API_PREFIX}v2/oauth/revoke", token_revoke_view, name="oauth_revoke"),
    path(f"{ASYNC_PREFIX}v2/domainTemplates/providers/<str:provider_id>", consent_view, name="oauth_consent"),
    path(f"{ASYNC_PREFIX}v2/domainTemplates/providers/<str:provider_id>/services/<str:service_id>", consent_view,
         name="oauth_consent_service"),
    path(f"{API_PREFIX}v2/domainTemplates/providers/<str:provider_id>/services/<str:service_id>/revert",
         revert_view, name="oauth_revert"),
    path("domainconnect/grants/", grants_view, name="grants"),
    path("domainconnect/grants/<int:pk>/revoke", revoke_view, name="grant_revoke"),
]
