"""A hand-written OpenAPI 3.0 description of the HTTP API (draft §7, §8.2–§8.4).

Covers discovery (settings, template query), the sync apply link, the async apply/revert with a Bearer
token, and the token endpoint. Hand-written because the views are plain Django on purpose (no 406 for odd
``Accept`` headers) and the draft's shapes are small. ``schemathesis`` fuzzes the live server against it
(``tests/fuzz/test_schemathesis.py``): no 5xx, every answer a documented status and content type.

``python -m django_domainconnect.openapi [BASE_URL]`` prints it as JSON.
"""

from __future__ import annotations

import copy
import json
import sys
from typing import Any

PROVIDER_PATH = "/v2/domainTemplates/providers/{providerId}/services/{serviceId}"

_ID = {"type": "string", "minLength": 1, "maxLength": 63, "description": "A dc-id (draft §3)."}
_PATH_IDS = [
    {"name": "providerId", "in": "path", "required": True, "schema": _ID},
    {"name": "serviceId", "in": "path", "required": True, "schema": _ID},
]


def _q(name: str, description: str, *, required: bool = False, **schema: Any) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "description": description,
            "schema": {"type": "string", **schema}}


def _json(schema_ref: str, description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_ref}"}}}}


def _html(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"text/html": {"schema": {"type": "string"}}}}


_RATE_LIMITED_JSON = {**_json("ApiError", "Too many requests (rate limit, see Retry-After)."),
                      "headers": {"Retry-After": {"schema": {"type": "integer", "minimum": 1}}}}
_RATE_LIMITED_TOKEN = {**_json("OAuthError", "Too many requests (rate limit, see Retry-After)."),
                       "headers": {"Retry-After": {"schema": {"type": "integer", "minimum": 1}}}}

_TARGET_PARAMS = [
    _q("domain", "The zone apex (U- or A-label).", required=True, minLength=1),
    _q("host", "Sub-domain inside the zone; empty for the apex."),
]

_API_ERRORS = {
    "400": _json("ApiError", "Bad parameters (duplicates, invalid domain/host, bad force or instanceId)."),
    "401": {**_json("OAuthError", "Missing, invalid, expired or revoked Bearer token."),
            "headers": {"WWW-Authenticate": {"schema": {"type": "string"}}}},
    "403": _json("ApiError", "The grant does not cover this provider/service/domain/host, or the domain "
                             "is no longer the user's, or the template changed since consent."),
    "404": _json("ApiError", "Template not available."),
    "405": _json("ApiError", "Method not allowed."),
    "429": _RATE_LIMITED_JSON,
    "503": _json("ApiError", "The DNS backend is temporarily unavailable; nothing was written."),
}


def build_schema(base_url: str | None = None) -> dict[str, Any]:
    """The OpenAPI document; ``servers`` is ``base_url`` (defaults to ``DOMAINCONNECT['API_URL']``)."""
    if base_url is None:
        try:
            from .conf import dc_settings

            base_url = dc_settings.API_URL
        except Exception:  # noqa: BLE001 - usable without Django settings (``python -m``)
            base_url = None
    doc = copy.deepcopy(_DOCUMENT)
    if base_url:
        doc["servers"] = [{"url": base_url.rstrip("/")}]
    return doc


_DOCUMENT: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {
        "title": "Domain Connect DNS Provider API (django-domainconnect)",
        "version": "2",
        "description": "draft-ietf-dconn-domainconnect-02: discovery (§7, §8.2), the synchronous apply link "
                       "(§8.3) and the asynchronous OAuth flow's token, apply and revert (§8.4).",
    },
    "paths": {
        "/v2/{domain}/settings": {
            "get": {
                "operationId": "settings",
                "summary": "Settings document for a hosted zone (draft §7, Table 5).",
                "parameters": [{"name": "domain", "in": "path", "required": True,
                                "schema": {"type": "string", "minLength": 1}}],
                "responses": {
                    "200": _json("Settings", "The zone is hosted here."),
                    "404": _json("NotFound", "Not hosted here (or not a valid domain)."),
                    "405": {"description": "Method not allowed."},
                },
            },
        },
        PROVIDER_PATH: {
            "parameters": _PATH_IDS,
            "get": {
                "operationId": "templateQuery",
                "summary": "Is this template supported? (draft §8.2, Table 8)",
                "responses": {
                    "200": _json("TemplateVersion", "Supported; the version is the stored one."),
                    "404": _json("NotFound", "Not supported."),
                    "405": {"description": "Method not allowed."},
                },
            },
        },
        PROVIDER_PATH + "/apply": {
            "parameters": _PATH_IDS,
            "get": {
                "operationId": "syncApply",
                "summary": "The synchronous apply link, opened in a browser (draft §8.3).",
                "description": "Shows the consent page (after login). Other parameters are template variables. "
                               "Never writes: the write is the consent page's CSRF-protected POST.",
                "parameters": [
                    *_TARGET_PARAMS,
                    _q("redirect_uri", "Where to send the user afterwards (https, syncRedirectDomain)."),
                    _q("state", "Echoed on the redirect."),
                    _q("groupId", "Comma-separated group ids."),
                    _q("providerName", "Shared templates only."),
                    _q("serviceName", "Shared templates only."),
                    _q("sig", "RS256 signature of the query (draft §8.3.2.1)."),
                    _q("key", "Host label of the public key under syncPubKeyDomain."),
                ],
                "responses": {
                    "200": _html("The consent page."),
                    "302": {"description": "To the login page, or back to an allowed redirect_uri with an error.",
                            "headers": {"Location": {"schema": {"type": "string"}}}},
                    "400": _html("Bad request (duplicate parameter, missing domain, bad signature, syncBlock …)."),
                    "403": _html("The zone cannot be changed from this account."),
                    "404": _html("Unknown template."),
                    "429": {**_html("Too many requests."),
                            "headers": {"Retry-After": {"schema": {"type": "integer", "minimum": 1}}}},
                    "503": _html("The signature's public key could not be looked up right now."),
                },
            },
            "post": {
                "operationId": "asyncApply",
                "summary": "Apply the template with a Bearer token (draft §8.4.6).",
                "security": [{"bearer": []}],
                "parameters": [
                    *_TARGET_PARAMS,
                    _q("force", "Apply despite conflicts.", enum=["0", "1", "true", "false"]),
                    _q("groupId", "Comma-separated group ids."),
                    _q("instanceId", "multiInstance templates: the instance to update."),
                ],
                "responses": {
                    "200": _json("Applied", "Applied."),
                    "409": _json("Conflicts", "Conflicting records and force is not set; nothing written."),
                    **_API_ERRORS,
                },
            },
            "delete": {
                "operationId": "asyncRevertDelete",
                "summary": "Revert (the DELETE form some clients use).",
                "security": [{"bearer": []}],
                "parameters": [*_TARGET_PARAMS, _q("instanceId", "Only this instance.")],
                "responses": {
                    "200": _json("Reverted", "Reverted."),
                    "410": _json("ApiError", "The template was never applied here."),
                    **_API_ERRORS,
                },
            },
        },
        PROVIDER_PATH + "/revert": {
            "parameters": _PATH_IDS,
            "post": {
                "operationId": "asyncRevert",
                "summary": "Remove an applied template (draft §8.4.7).",
                "security": [{"bearer": []}],
                "parameters": [*_TARGET_PARAMS, _q("instanceId", "Only this instance.")],
                "responses": {
                    "200": _json("Reverted", "Reverted."),
                    "410": _json("ApiError", "The template was never applied here."),
                    **_API_ERRORS,
                },
            },
        },
        "/v2/oauth/access_token": {
            "post": {
                "operationId": "token",
                "summary": "Exchange a code or refresh token (draft §8.4.4, §8.4.5).",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/x-www-form-urlencoded": {"schema": {"$ref": "#/components/schemas/TokenRequest"}},
                        "application/json": {"schema": {"$ref": "#/components/schemas/TokenRequest"}},
                    },
                },
                "responses": {
                    "200": {**_json("Token", "Tokens."),
                            "headers": {"Cache-Control": {"schema": {"type": "string", "enum": ["no-store"]}}}},
                    "400": _json("OAuthError", "RFC 6749 §5.2 error."),
                    "401": _json("OAuthError", "Client authentication failed."),
                    "405": _json("OAuthError", "Use POST."),
                    "429": _RATE_LIMITED_TOKEN,
                },
            },
        },
    },
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "Settings": {
                "type": "object",
                "required": ["providerId", "providerName", "urlSyncUX", "urlAPI"],
                "properties": {
                    "providerId": {"type": "string"},
                    "providerName": {"type": "string"},
                    "providerDisplayName": {"type": "string"},
                    "urlSyncUX": {"type": "string", "pattern": "^https://"},
                    "urlAsyncUX": {"type": "string", "pattern": "^https://"},
                    "urlAPI": {"type": "string", "pattern": "^https://"},
                    "width": {"type": "integer"},
                    "height": {"type": "integer"},
                    "urlControlPanel": {"type": "string"},
                    "nameServers": {"type": "array", "items": {"type": "string"}},
                },
            },
            "TemplateVersion": {
                "type": "object",
                "required": ["providerId", "serviceId", "version"],
                "properties": {"providerId": {"type": "string"}, "serviceId": {"type": "string"},
                               "version": {"type": "integer"}},
            },
            "NotFound": {
                "type": "object", "required": ["error"],
                "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
            },
            "ApiError": {
                "type": "object", "required": ["code", "message"],
                "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
            },
            "OAuthError": {
                "type": "object", "required": ["error"],
                "properties": {"error": {"type": "string"}, "error_description": {"type": "string"}},
            },
            "Record": {
                "type": "object",
                "required": ["type", "host", "data"],
                "properties": {"type": {"type": "string"}, "host": {"type": "string"}, "name": {"type": "string"},
                               "ttl": {"type": "integer"}, "data": {"type": "string"}},
            },
            "Applied": {
                "type": "object",
                "required": ["code", "domain", "host", "added", "deleted"],
                "properties": {
                    "code": {"type": "string"}, "message": {"type": "string"},
                    "providerId": {"type": "string"}, "serviceId": {"type": "string"},
                    "domain": {"type": "string"}, "host": {"type": "string"},
                    "instanceId": {"type": "string", "nullable": True},
                    "added": {"type": "array", "items": {"$ref": "#/components/schemas/Record"}},
                    "deleted": {"type": "array", "items": {"$ref": "#/components/schemas/Record"}},
                    "removedTemplates": {"type": "array", "items": {"type": "object"}},
                },
            },
            "Reverted": {
                "type": "object",
                "required": ["code", "domain", "host", "deleted"],
                "properties": {
                    "code": {"type": "string"}, "message": {"type": "string"},
                    "domain": {"type": "string"}, "host": {"type": "string"},
                    "instanceIds": {"type": "array", "items": {"type": "string"}},
                    "deleted": {"type": "array", "items": {"$ref": "#/components/schemas/Record"}},
                },
            },
            "Conflicts": {
                "type": "object",
                "required": ["code", "message", "records"],
                "properties": {
                    "code": {"type": "string"}, "message": {"type": "string"},
                    "records": {"type": "array", "items": {"$ref": "#/components/schemas/Record"}},
                    "templates": {"type": "array", "items": {"type": "object"}},
                },
            },
            "TokenRequest": {
                "type": "object",
                "required": ["grant_type"],
                "properties": {
                    "grant_type": {"type": "string", "enum": ["authorization_code", "refresh_token"]},
                    "code": {"type": "string"},
                    "refresh_token": {"type": "string"},
                    "redirect_uri": {"type": "string"},
                    "client_id": {"type": "string"},
                    "client_secret": {"type": "string"},
                    "code_verifier": {"type": "string"},
                },
            },
            "Token": {
                "type": "object",
                "required": ["access_token", "token_type", "expires_in"],
                "properties": {
                    "access_token": {"type": "string"},
                    "token_type": {"type": "string", "enum": ["bearer"]},
                    "expires_in": {"type": "integer"},
                    "refresh_token": {"type": "string"},
                },
            },
        },
    },
}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    print(json.dumps(build_schema(args[0] if args else ""), indent=2))  # noqa: T201 - a CLI
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
