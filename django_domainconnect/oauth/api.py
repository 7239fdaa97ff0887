"""The async API (draft §8.4.6, §8.4.7): apply and revert with a Bearer token.

Plain Django views returning JSON, on purpose not DRF: real clients send odd ``Accept`` headers (or none)
and must never get a 406, and parameters come from the query string or a JSON body as ``params.py`` reads
them. Every call re-checks what the grant covers and the user's ownership, then lets ``services`` plan
against the zone as it is now, under the zone lock.
"""

from __future__ import annotations

import logging
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from .. import services
from ..engine import names
from ..engine.abnf import is_dc_id, parse_dc_id_list
from ..engine.errors import EngineError
from ..engine.types import Record
from ..exceptions import (
    BackendError,
    ConflictsFound,
    DomainConnectError,
    NotApplied,
    TemplateNotFound,
    ZoneNotAvailable,
)
from ..models import AuditEvent, Flow
from .bearer import BearerAuth, BearerError, authenticate_bearer, unauthorized
from .params import ParamError, Params, check_name_text, request_params

logger = logging.getLogger(__name__)

# Table 16 parameters that are not template variables.
CONTROL_KEYS = frozenset({"domain", "host", "groupId", "force", "instanceId", "providerName", "serviceName",
                          "access_token"})
FORCE_VALUES = {"1": True, "true": True, "0": False, "false": False}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra

    def response(self) -> JsonResponse:
        return _json({"code": self.code, "message": self.message, **self.extra}, status=self.status)


def _json(body: dict[str, Any], status: int = 200) -> JsonResponse:
    response = JsonResponse(body, status=status)
    response["Cache-Control"] = "no-store"
    return response


def _relative(owner: str, domain: str) -> str:
    """An owner name relative to the zone, ``@`` for the apex (the draft's 409 example)."""
    owner = owner.rstrip(".")
    if owner == domain:
        return "@"
    return owner[: -(len(domain) + 1)] if owner.endswith("." + domain) else owner + "."


def _record(record: Record, domain: str) -> dict[str, Any]:
    return {"type": record.type, "host": _relative(record.name, domain), "name": record.name,
            "ttl": record.ttl, "data": record.data}


def _scope_error(message: str) -> ApiError:
    return ApiError(403, "insufficient_scope", message)


def _authorized_target(auth: BearerAuth, params: Params, provider_id: str, service_id: str) -> tuple[str, str]:
    """(domain, host) after checking the grant covers provider, service, domain and host (§8.4.6)."""
    grant = auth.grant
    if provider_id != grant.provider_id:
        raise _scope_error("the token was not issued for this providerId")
    if service_id not in grant.service_ids:
        raise _scope_error("the token does not cover this serviceId")
    raw_domain = params.get("domain")
    if not raw_domain:
        raise ApiError(400, "invalid_request", "domain is required")
    raw_host = params.get("host")
    try:
        check_name_text("domain", raw_domain)
        check_name_text("host", raw_host or "")
        domain = names.normalize_domain(raw_domain)
        host = names.normalize_host(raw_host)
    except ParamError as exc:
        raise ApiError(400, "invalid_request", exc.message)
    except EngineError as exc:
        raise ApiError(400, "invalid_request", exc.message)
    if domain != grant.domain:
        raise _scope_error("the token does not cover this domain")
    if host not in grant.hosts:
        raise _scope_error("the token does not cover this host")
    return domain, host


def _instance_id(params: Params) -> str | None:
    value = params.get("instanceId")
    if value is None or value == "":
        return None
    if not is_dc_id(value):
        raise ApiError(400, "invalid_request", "instanceId is not a valid dc-id")
    return value


def _begin(request: HttpRequest) -> tuple[BearerAuth, Params]:
    auth = authenticate_bearer(request)
    try:
        params = request_params(request, repeatable=frozenset({"groupId"}))
    except ParamError as exc:
        raise ApiError(400, "invalid_request", exc.message)
    if "access_token" in params:
        raise BearerError("send the access token in the Authorization header, not as a parameter")
    request.dc_auth = auth  # type: ignore[attr-defined]  # for _refused()
    return auth, params


def _refused(request: HttpRequest, action: str, provider_id: str, service_id: str, exc: ApiError) -> JsonResponse:
    """Answer a refusal of this layer; an authenticated caller's refusal is audited (services audits its own)."""
    auth: BearerAuth | None = getattr(request, "dc_auth", None)
    if auth is not None:
        grant = auth.grant
        AuditEvent.objects.create(
            user=grant.user, username=grant.user.get_username(), client_id=grant.provider_id, grant_id=grant.pk,
            action="refused", outcome=AuditEvent.Outcome.FAILURE, flow=Flow.ASYNC, domain=grant.domain,
            provider_id=provider_id[:63], service_id=service_id[:63],
            remote_addr=request.META.get("REMOTE_ADDR") or None,
            detail=f"{action}: {exc.code}: {exc.message}"[:2000],
        )
    return exc.response()


def _conflict_body(exc: ConflictsFound, domain: str) -> dict[str, Any]:
    plan = exc.plan_result.plan
    records: list[dict[str, Any]] = []
    seen: set[tuple[str, str, str]] = set()
    for record in [c.record for c in plan.conflicts] + [o.record for i in plan.removed_instances for o in i.records]:
        if record.key() not in seen:
            seen.add(record.key())
            records.append(_record(record, domain))
    return {"code": "409", "message": "Conflicting records", "records": records,
            "templates": [{"providerId": i.provider_id, "serviceId": i.service_id, "host": i.host,
                           "instanceId": i.instance_id} for i in plan.removed_instances]}


@csrf_exempt  # Bearer only: a cookie never authenticates this endpoint, so there is nothing to forge
def api_apply(request: HttpRequest, provider_id: str, service_id: str) -> JsonResponse:
    try:
        auth, params = _begin(request)
        domain, host = _authorized_target(auth, params, provider_id, service_id)
        grant = auth.grant
        try:
            template = services.find_template(provider_id, service_id)
        except TemplateNotFound:
            raise ApiError(404, "template_not_found", "the template is not available")
        if grant.template_versions.get(service_id) != template.version:
            # The records changed since the user consented (SECURITY.md 38): they must consent again.
            raise ApiError(403, "consent_required", "the template changed since consent; ask the user again")
        force_raw = (params.get("force") or "0").lower()
        if force_raw not in FORCE_VALUES:
            raise ApiError(400, "invalid_request", "force must be 0, 1, true or false")
        group_ids = parse_dc_id_list(params.get("groupId")) if params.get("groupId") is not None else None
        variables = {k: v for k, v in params.values.items() if k not in CONTROL_KEYS}
        try:
            outcome = services.apply(
                user=grant.user, domain=domain, host=host, template=template, params=variables,
                group_ids=group_ids, instance_id=_instance_id(params), flow="async",
                force=FORCE_VALUES[force_raw], client_id=grant.provider_id, grant_id=grant.pk,
                remote_addr=request.META.get("REMOTE_ADDR"),
            )
        except ConflictsFound as exc:
            return _json(_conflict_body(exc, domain), status=409)
    except BearerError as exc:
        return unauthorized(exc.description)
    except ApiError as exc:
        return _refused(request, "apply", provider_id, service_id, exc)
    except (DomainConnectError, EngineError) as exc:
        return _service_refusal(exc)
    plan = outcome.plan
    instance = plan.new_instance
    return _json({
        "code": "200",
        "message": "Template applied",
        "providerId": provider_id,
        "serviceId": service_id,
        "domain": domain,
        "host": host,
        "instanceId": instance.instance_id if instance else None,
        "added": [_record(r, domain) for r in plan.to_add],
        "deleted": [_record(r, domain) for r in plan.to_delete],
        "removedTemplates": [{"providerId": i.provider_id, "serviceId": i.service_id, "host": i.host,
                              "instanceId": i.instance_id} for i in plan.removed_instances],
    })


# How a refusal of the services layer (nothing was written) reaches the client; first match wins.
_REFUSAL_STATUS: tuple[tuple[type[Exception], int], ...] = (
    (NotApplied, 410),
    (ZoneNotAvailable, 403),
    (BackendError, 503),  # rolled back: retry later
    (EngineError, 400),
    (DomainConnectError, 400),
)


def _service_refusal(exc: DomainConnectError | EngineError) -> JsonResponse:
    status = next(code for kind, code in _REFUSAL_STATUS if isinstance(exc, kind))
    return ApiError(status, exc.code, exc.message).response()


@csrf_exempt
def api_revert(request: HttpRequest, provider_id: str, service_id: str) -> JsonResponse:
    try:
        auth, params = _begin(request)
        domain, host = _authorized_target(auth, params, provider_id, service_id)
        grant = auth.grant
        outcome = services.revert(
            user=grant.user, domain=domain, host=host, provider_id=provider_id, service_id=service_id,
            instance_id=_instance_id(params), flow="async", client_id=grant.provider_id, grant_id=grant.pk,
            remote_addr=request.META.get("REMOTE_ADDR"),
        )
    except BearerError as exc:
        return unauthorized(exc.description)
    except ApiError as exc:
        return _refused(request, "revert", provider_id, service_id, exc)
    except (DomainConnectError, EngineError) as exc:
        return _service_refusal(exc)
    return _json({
        "code": "200",
        "message": "Template reverted",
        "providerId": provider_id,
        "serviceId": service_id,
        "domain": domain,
        "host": host,
        "instanceIds": list(outcome.instance_ids),
        "deleted": [_record(r, domain) for p in outcome.plans for r in p.to_delete],
    })


@csrf_exempt
def revert_view(request: HttpRequest, provider_id: str, service_id: str) -> JsonResponse:
    """``POST …/services/<sid>/revert`` (the draft's form; ``DELETE …/apply`` reaches ``api_revert`` too)."""
    if request.method != "POST":
        response = _json({"code": "method_not_allowed", "message": "use POST"}, status=405)
        response["Allow"] = "POST"
        return response
    return api_revert(request, provider_id, service_id)
