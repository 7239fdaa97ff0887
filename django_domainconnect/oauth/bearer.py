"""Bearer-token authentication for the apply/revert API (RFC 6750 §2.1 header only, never a cookie).

A token is good when DOT knows it, it has not expired, and it belongs to an active ``Grant`` of the same
client. ``?access_token=`` (RFC 6750 §2.3) is refused: URLs end up in logs (RFC 9700 §4.3.2).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from django.http import HttpRequest, JsonResponse
from oauth2_provider.models import get_access_token_model, get_refresh_token_model

from ..conf import dc_settings
from .models import Grant, grant_for_token_family


class BearerError(Exception):
    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


@dataclass(frozen=True)
class BearerAuth:
    token: Any  # DOT AccessToken
    grant: Grant


def unauthorized(description: str) -> JsonResponse:
    response = JsonResponse({"error": "invalid_token", "error_description": description}, status=401)
    realm = dc_settings.API_URL or "domainconnect"
    response["WWW-Authenticate"] = f'Bearer realm="{realm}", error="invalid_token"'
    response["Cache-Control"] = "no-store"
    return response


def _token_family(access_token: Any) -> Any:
    refresh_model = get_refresh_token_model()
    family = refresh_model.objects.filter(access_token=access_token).values_list("token_family", flat=True).first()
    if family is None and access_token.source_refresh_token_id:
        family = refresh_model.objects.filter(pk=access_token.source_refresh_token_id).values_list(
            "token_family", flat=True).first()
    return family


def authenticate_bearer(request: HttpRequest) -> BearerAuth:
    query = request.META.get("QUERY_STRING", "")
    if any(key == "access_token" for key, _ in parse_qsl(query, keep_blank_values=True)):
        raise BearerError("send the access token in the Authorization header, not in the URL")
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, value = header.partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value or " " in value:
        raise BearerError("an Authorization: Bearer token is required")
    checksum = hashlib.sha256(value.encode("utf-8")).hexdigest()
    token = (get_access_token_model().objects.select_related("application", "user")
             .filter(token_checksum=checksum).first())
    if token is None or token.is_expired():
        raise BearerError("the access token is invalid, expired or revoked")
    grant = grant_for_token_family(_token_family(token))
    if grant is None or not grant.is_active or grant.client.application_id != token.application_id:
        raise BearerError("the access token is invalid, expired or revoked")
    return BearerAuth(token=token, grant=grant)
