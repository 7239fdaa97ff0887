"""``POST {urlAPI}/v2/oauth/access_token`` (draft §8.4.4) on django-oauth-toolkit.

Parameters are merged from the query string and a JSON or form body (see ``params.py``), then handed to
DOT's oauthlib server as one form body, so DOT's validator (ours) does all OAuth checking. Answers are the
draft's four properties with ``token_type`` "bearer", or an RFC 6749 §5.2 error object (400; 401 with a
``WWW-Authenticate`` challenge when client authentication fails).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from oauth2_provider.oauth2_backends import OAuthLibCore

from ..conf import dc_settings
from .conf import oauth_settings
from .params import ParamError, Params, request_params

logger = logging.getLogger(__name__)

GRANT_TYPES = ("authorization_code", "refresh_token")
RESPONSE_KEYS = ("access_token", "token_type", "expires_in", "refresh_token")


def token_error(error: str, description: str | None = None, status: int = 400) -> JsonResponse:
    body: dict[str, Any] = {"error": error}
    if description:
        body["error_description"] = description
    return _no_store(JsonResponse(body, status=status))


def oauth_error(data: dict[str, Any], *, basic_auth: bool = False) -> JsonResponse:
    """oauthlib's error object as RFC 6749 §5.2 wants it: 400; for a failed client authentication through
    the ``Authorization`` header, 401 + a ``Basic`` challenge (oauthlib's carries ``Bearer``, the resource
    servers' scheme). Credentials sent as parameters get a 400 ``invalid_client``, which §5.2 allows and
    the clients Service Providers run understand (INTEROP.md: the PyPI client reads only 200 and 400)."""
    error = str(data.get("error") or "invalid_request")
    if error != "invalid_client":
        return token_error(error, data.get("error_description"))
    if not basic_auth:
        return token_error(error, "client authentication failed")
    response = token_error(error, "client authentication failed", status=401)
    response["WWW-Authenticate"] = 'Basic realm="domainconnect", charset="UTF-8"'
    return response


def _uses_basic_auth(request: HttpRequest) -> bool:
    return request.META.get("HTTP_AUTHORIZATION", "").lower().startswith("basic ")


def _no_store(response: JsonResponse) -> JsonResponse:
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return response


def token_uri() -> str:
    # From configuration, never from the Host header (SECURITY.md 25).
    return f"{dc_settings.API_URL}/v2/oauth/access_token"


def _no_error_reports(view: Callable[[HttpRequest], JsonResponse]) -> Callable[[HttpRequest], JsonResponse]:
    """Unexpected errors become a bare 500 and a one-line log without the request or the traceback.

    Django's error reports show the query string (where clients put ``client_secret``) and the local
    variables of every frame, oauthlib's included; ``sensitive_post_parameters`` covers neither.
    """

    @wraps(view)
    def wrapper(request: HttpRequest) -> JsonResponse:
        try:
            return view(request)
        except Exception as exc:  # noqa: BLE001 - see the docstring
            logger.error("DOMAINCONNECT: the OAuth endpoint %s failed (%s)", request.path, type(exc).__name__)
            return token_error("server_error", status=500)

    return wrapper


@csrf_exempt  # client authentication is the secret or PKCE in the request, never a cookie
@_no_error_reports
@sensitive_post_parameters("client_secret", "code", "refresh_token", "code_verifier")
@sensitive_variables("call", "values", "content", "data")
def token_view(request: HttpRequest) -> JsonResponse:
    call = _client_call(request)
    if isinstance(call, JsonResponse):
        return call
    values = call.params.values
    grant_type = values.get("grant_type")
    if grant_type not in GRANT_TYPES:
        return token_error("unsupported_grant_type" if grant_type else "invalid_request",
                           "grant_type must be authorization_code or refresh_token")
    if "code" in values and "refresh_token" in values:
        return token_error("invalid_request", "send either code or refresh_token, not both")
    _headers, content, status = call.core.server.create_token_response(
        token_uri(), "POST", call.body, call.oauth_headers, None)
    data = _decoded(content)
    if status == 200 and not data.get("access_token"):
        # DOT answers a refresh that lost a race with the winner's pair, which hashed token storage cannot
        # give back (blank values): for this caller the refresh token is simply used up.
        return token_error("invalid_grant", "the refresh token was already used")
    if status != 200:
        return oauth_error(data, basic_auth=_uses_basic_auth(request))
    data["token_type"] = "bearer"  # draft Table 14: MUST be "bearer" (DOT writes "Bearer")
    return _no_store(JsonResponse({k: data[k] for k in RESPONSE_KEYS if k in data}))


@csrf_exempt
@_no_error_reports
@sensitive_post_parameters("client_secret", "token")
@sensitive_variables("call", "content")
def token_revoke_view(request: HttpRequest) -> JsonResponse:
    """``POST {urlAPI}/v2/oauth/revoke`` (RFC 7009): a client gives up one of its own tokens.

    A token of another client, or an unknown one, is answered 200 like a revoked one and left alone.
    """
    call = _client_call(request)
    if isinstance(call, JsonResponse):
        return call
    uri = f"{dc_settings.API_URL}/v2/oauth/revoke"
    _headers, content, status = call.core.server.create_revocation_response(
        uri, "POST", call.body, call.oauth_headers)
    if status == 200:
        return _no_store(JsonResponse({}))
    return oauth_error(_decoded(content), basic_auth=_uses_basic_auth(request))


@dataclass(frozen=True)
class _ClientCall:
    params: Params
    core: OAuthLibCore
    oauth_headers: dict[str, str]
    body: str  # the merged parameters, form-encoded as oauthlib expects


@sensitive_variables("params", "body", "oauth_headers")
def _client_call(request: HttpRequest) -> _ClientCall | JsonResponse:
    """What the token and revoke endpoints share: POST only; parameters merged from the query string and a
    JSON or form body (conflicting duplicates refused); the secret-in-query policy; oauthlib's input."""
    if request.method != "POST":
        response = token_error("invalid_request", "use POST", status=405)
        response["Allow"] = "POST"
        return response
    try:
        params = request_params(request)
    except ParamError as exc:
        return token_error("invalid_request", exc.message)
    if "client_secret" in params.query_keys and not oauth_settings.ACCEPT_SECRET_IN_QUERY:
        return token_error("invalid_request", "client_secret must not be sent in the query string")
    core = OAuthLibCore()
    oauth_headers = core.extract_headers(request)
    oauth_headers["Content-Type"] = "application/x-www-form-urlencoded"
    oauth_headers.pop("CONTENT_TYPE", None)
    body = urlencode(list(params.values.items()))
    return _ClientCall(params=params, core=core, oauth_headers=oauth_headers, body=body)


def _decoded(content: str | bytes | None) -> dict[str, Any]:
    try:
        data = json.loads(content or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
