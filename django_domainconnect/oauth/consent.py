"""The async consent page: ``GET {urlAsyncUX}/v2/domainTemplates/providers/<pid>[/services/<sid>]``.

Order matters (SECURITY.md 26, DOT #1719): the client and its exact redirect URI are checked first and any
problem there is an error page, never a redirect. Only then may errors go back to the Service Provider
(``error`` + ``state``). Login comes after that, ownership after login. Approving posts back to the same URL
(CSRF-protected, bound to the user and to what was shown) and redirects with ``code`` and ``state``.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.contrib.auth.views import redirect_to_login
from django.core import signing
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_http_methods
from oauth2_provider.oauth2_backends import OAuthLibCore
from oauth2_provider.settings import oauth2_settings
from oauthlib import oauth2

from .. import parsed_templates, services
from ..conf import dc_settings
from ..engine import names
from ..engine.abnf import is_dc_id
from ..engine.errors import EngineError
from ..exceptions import TemplateNotFound, ZoneNotAvailable
from ..views.display import clean_text, is_display_name, name_display, record_rows, variables_shape_targets
from ..views.security import form_page, protected_page
from .audit import audit_event
from .models import Grant, ServiceProviderClient, code_hash
from .params import ParamError, _decode_pairs, check_name_text
from .scopes import parse_scope
from .signals import grant_created

logger = logging.getLogger(__name__)

# Table 11 parameters; everything else on the consent URL is a variable value ("properties").
OAUTH_KEYS = frozenset({"client_id", "redirect_uri", "response_type", "scope", "state", "code_challenge",
                        "code_challenge_method"})
# ``prompt`` (OIDC Core §3.1.2.1) is not a variable either; only ``none`` changes anything here.
RESERVED = OAUTH_KEYS | {"domain", "host", "providerName", "serviceName", "groupId", "force", "instanceId",
                         "prompt"}
CONSENT_SALT = "django_domainconnect.oauth.consent"
CONSENT_MAX_AGE = 3600


class ConsentFailure(Exception):
    """An error that may not be redirected (bad client or redirect URI): shown as a page."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class ConsentRedirectError(Exception):
    """An error reported to the (validated) redirect URI as RFC 6749 §4.1.2.1 ``error``."""

    def __init__(self, error: str, description: str = "") -> None:
        super().__init__(error)
        self.error = error
        self.description = description


@dataclass
class ConsentRequest:
    client: ServiceProviderClient
    redirect_uri: str
    state: str | None
    provider_id: str
    service_ids: list[str]
    domain: str
    hosts: list[str]
    properties: dict[str, str]
    oauth_params: dict[str, str]
    templates: list[Any] = field(default_factory=list)
    extra: dict[str, str] = field(default_factory=dict)  # providerName / serviceName as sent


def add_query(uri: str, params: dict[str, str]) -> str:
    """``uri`` with ``params`` appended to its query (keeping what is there), percent-encoded once."""
    parts = urlsplit(uri)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query.extend((k, v) for k, v in params.items() if v is not None)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


def _issuer() -> dict[str, str]:
    """RFC 9207 ``iss`` when DOT's ``COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS`` asks for it (from config)."""
    if oauth2_settings.COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS:
        return {"iss": str(dc_settings.API_URL)}
    return {}


def _error_redirect(redirect_uri: str, state: str | None, error: str, description: str = "") -> HttpResponse:
    params = {"error": error}
    if description:
        params["error_description"] = description
    if state is not None:
        params["state"] = state
    return HttpResponseRedirect(add_query(redirect_uri, {**params, **_issuer()}))


def _parse_query(request: HttpRequest) -> dict[str, str]:
    try:
        pairs = _decode_pairs(request.META.get("QUERY_STRING", ""), "query string")
    except ParamError as exc:
        raise ConsentFailure(exc.message)
    values: dict[str, str] = {}
    for key, value in pairs:
        if key in values:  # never guess which redirect_uri or scope was meant
            raise ConsentFailure(f"The parameter '{key}' appears more than once.")
        values[key] = value
    return values


def _check_client(values: dict[str, str], provider_id: str) -> tuple[ServiceProviderClient, str]:
    client_id = values.get("client_id", "")
    if not client_id or client_id != provider_id or not is_dc_id(provider_id):
        raise ConsentFailure("Unknown or mismatched client_id.")
    client = ServiceProviderClient.objects.select_related("application").filter(
        provider_id=provider_id, application__client_id=client_id
    ).first()
    if client is None:
        raise ConsentFailure("Unknown or mismatched client_id.")
    redirect_uri = values.get("redirect_uri", "")
    if not redirect_uri or not client.application.redirect_uri_allowed(redirect_uri):
        raise ConsentFailure("The redirect_uri is not registered for this client.")
    return client, redirect_uri


def _check_rest(values: dict[str, str], client: ServiceProviderClient, redirect_uri: str, provider_id: str,
                service_id: str | None) -> ConsentRequest:
    response_type = values.get("response_type")
    if response_type not in (None, "code"):
        raise ConsentRedirectError("unsupported_response_type", "only response_type=code is supported")
    scope = parse_scope(values.get("scope"))
    if service_id is not None:
        if not scope:
            scope = [service_id]
        elif service_id not in scope:
            raise ConsentRedirectError("invalid_scope", "the serviceId in the path is not in scope")
    if not scope:
        raise ConsentRedirectError("invalid_scope", "scope must list serviceIds")
    templates = []
    for sid in scope:
        try:
            templates.append(services.find_template(provider_id, sid))
        except TemplateNotFound:
            raise ConsentRedirectError("invalid_scope", f"unknown serviceId '{clean_text(sid)[:63]}'")
    domain_raw = values.get("domain", "")
    try:
        check_name_text("domain", domain_raw)
        check_name_text("host", values.get("host", ""))
    except ParamError as exc:
        raise ConsentRedirectError("invalid_request", exc.message)
    try:
        domain = names.normalize_domain(domain_raw)
    except EngineError:
        raise ConsentRedirectError("invalid_request", "domain is missing or not a domain name")
    hosts: list[str] = []
    for part in values.get("host", "").split(","):
        try:
            host = names.normalize_host(part)
        except EngineError:
            raise ConsentRedirectError("invalid_request", "host is not a list of host names")
        if host not in hosts:
            hosts.append(host)
    for template in templates:
        if (template.body or {}).get("hostRequired") and "" in hosts:
            raise ConsentRedirectError("invalid_request", f"template '{template.service_id}' needs a host")
    prompt = values.get("prompt", "").split()
    if "none" in prompt and len(prompt) > 1:
        raise ConsentRedirectError("invalid_request", "prompt=none cannot be combined with other values")
    if "code_challenge" in values and values.get("code_challenge_method") != "S256":
        # RFC 9700 §2.1.1: "plain" (also the default when the method is left out) protects nothing.
        raise ConsentRedirectError("invalid_request", "code_challenge_method must be S256")
    properties = {k: v for k, v in values.items() if k not in RESERVED}
    oauth_params = {"response_type": "code", "client_id": client.application.client_id,
                    "redirect_uri": redirect_uri, "scope": " ".join(scope)}
    for key in ("state", "code_challenge", "code_challenge_method"):
        if key in values:
            oauth_params[key] = values[key]
    return ConsentRequest(client=client, redirect_uri=redirect_uri, state=values.get("state"),
                          provider_id=provider_id, service_ids=scope, domain=domain, hosts=hosts,
                          properties=properties, oauth_params=oauth_params, templates=templates,
                          extra={k: values[k] for k in ("providerName", "serviceName") if k in values})


def _oauth_uri(req: ConsentRequest) -> str:
    return f"{dc_settings.ASYNC_UX_URL}/v2/domainTemplates/providers/{req.provider_id}?{urlencode(req.oauth_params)}"


def _oauthlib_validate(core: OAuthLibCore, req: ConsentRequest) -> tuple[list[str], dict[str, Any]]:
    """DOT's own checks (client, redirect URI, scopes, PKCE rules) on the normalised request."""
    try:
        return core.server.validate_authorization_request(_oauth_uri(req), http_method="GET", body=None,
                                                          headers={})
    except oauth2.FatalClientError as exc:
        raise ConsentFailure(f"The client request is not valid ({exc.error}).")
    except oauth2.OAuth2Error as exc:
        raise ConsentRedirectError(exc.error, exc.description or "")


@dataclass
class Combination:
    """One template × host on the consent page, with what applying it now would do."""

    template: Any
    host: str
    fqdn: Any
    add: list[Any]
    delete: list[Any]
    removed_instances: list[str]
    pending: str = ""  # why the records cannot be computed yet (variables come with the apply call)


def _combinations(user: Any, req: ConsentRequest) -> list[Combination]:
    out = []
    for template in req.templates:
        for host in req.hosts:
            fqdn = name_display(f"{host}.{req.domain}" if host else req.domain)
            try:
                result = services.plan(user=user, domain=req.domain, host=host, template=template,
                                       params=req.properties)
            except EngineError as exc:
                out.append(Combination(template, host, fqdn, [], [], [], pending=clean_text(exc.message)))
                continue
            p = result.plan
            reasons = {c.record.key(): c.reason for c in p.conflicts}
            risky = _phishing_risk([template])  # highlight what later values may point elsewhere
            out.append(Combination(
                template, host, fqdn, record_rows(p.to_add, highlight=risky),
                record_rows(p.to_delete, reasons=reasons),
                [f"{i.provider_id}/{i.service_id}" + (f" on {i.host}" if i.host else "") for i in p.removed_instances],
            ))
    return out


def _shared_name(req: ConsentRequest, param: str, flag: str) -> str:
    """``providerName``/``serviceName`` from the URL, shown only beside the template's own name and only
    when every template in scope allows it (draft Table 11: augment, never replace)."""
    value = req.extra.get(param, "")
    if not value or not is_display_name(value):
        return ""
    if not all((t.body or {}).get(flag) for t in req.templates):
        return ""
    return clean_text(value)


def _phishing_risk(templates: list[Any]) -> bool:
    """``warnPhishing``, or variables that decide names/targets: later calls choose where traffic goes."""
    for template in templates:
        try:
            parsed = parsed_templates.engine_template(template)
        except EngineError:
            return True
        if parsed.warn_phishing or variables_shape_targets(parsed):
            return True
    return False


def _binding(request: HttpRequest, req: ConsentRequest) -> dict[str, Any]:
    """What the approval must match: the user, the session, the exact request and the template versions."""
    session_key = request.session.session_key or ""
    return {
        "u": request.user.pk,
        "s": hashlib.sha256(session_key.encode()).hexdigest()[:32],
        "q": hashlib.sha256(request.META.get("QUERY_STRING", "").encode()).hexdigest(),
        "v": {t.service_id: t.version for t in req.templates},
    }


def _render(request: HttpRequest, req: ConsentRequest, *, message: str = "", status: int = 200) -> HttpResponse:
    if not request.session.session_key:
        request.session.save()
    token = signing.dumps(_binding(request, req), salt=CONSENT_SALT)
    combos = _combinations(request.user, req)
    context = {
        "client": req.client,
        "provider_id": req.provider_id,
        "provider_name": clean_text((req.templates[0].body or {}).get("providerName") or req.provider_id),
        "shared_provider_name": _shared_name(req, "providerName", "sharedProviderName"),
        "shared_service_name": _shared_name(req, "serviceName", "sharedServiceName"),
        "templates": req.templates,
        "domain": name_display(req.domain),
        "hosts": [name_display(f"{h}.{req.domain}") if h else name_display(req.domain) for h in req.hosts],
        "combinations": combos,
        "has_conflicts": any(c.delete or c.removed_instances for c in combos),
        "warn": _phishing_risk(req.templates),
        "consent_token": token,
        "message": message,
        "action": request.get_full_path(),
    }
    # The page posts a form: same-origin referrers, or browsers send Origin: null and CSRF refuses it.
    return form_page(render(request, "django_domainconnect/oauth/consent.html", context, status=status))


def _error_page(request: HttpRequest, message: str, status: int = 400) -> HttpResponse:
    return render(request, "django_domainconnect/oauth/error.html", {"message": message}, status=status)


@protected_page
@require_http_methods(["GET", "POST"])
def consent_view(request: HttpRequest, provider_id: str, service_id: str | None = None) -> HttpResponse:
    try:
        values = _parse_query(request)
        client, redirect_uri = _check_client(values, provider_id)
    except ConsentFailure as exc:
        return _error_page(request, exc.message, exc.status)
    state = values.get("state")
    core = OAuthLibCore()
    try:
        req = _check_rest(values, client, redirect_uri, provider_id, service_id)
        _oauthlib_validate(core, req)
    except ConsentFailure as exc:
        return _error_page(request, exc.message, exc.status)
    except ConsentRedirectError as exc:
        return _error_redirect(redirect_uri, state, exc.error, exc.description)

    # prompt=none: the client asks for an answer without any page. Only now, with the client and its exact
    # redirect URI checked, may that answer be a redirect (SECURITY.md 26).
    silent = values.get("prompt", "").split() == ["none"]
    if not request.user.is_authenticated:
        if silent:
            return _error_redirect(redirect_uri, state, "login_required", "the user is not logged in")
        return redirect_to_login(request.get_full_path())
    try:
        services.get_managed_zone(request.user, req.domain)
    except ZoneNotAvailable:
        audit_event(request, action="consent", success=False, client=client, domain=req.domain,
                    detail="zone not available")
        return _error_redirect(redirect_uri, state, "access_denied", "domain not available")
    if silent:
        # Consent covers the records as the zone is now, so it is never given without showing them: no code
        # is issued silently, even when an earlier grant covers the same request.
        return _error_redirect(redirect_uri, state, "consent_required", "the user must approve the changes")

    if request.method == "GET":
        return _render(request, req)
    return _decide(request, req, core)


def _decide(request: HttpRequest, req: ConsentRequest, core: OAuthLibCore) -> HttpResponse:
    try:
        bound = signing.loads(request.POST.get("consent", ""), salt=CONSENT_SALT, max_age=CONSENT_MAX_AGE)
    except signing.BadSignature:
        bound = None
    if bound != _binding(request, req):
        # Another user, session, request or template version than the page showed: ask again.
        return _render(request, req, status=409,
                       message="What you are asked to approve has changed. Please review it again.")
    decision = request.POST.get("decision")
    if decision != "allow":
        audit_event(request, action="consent", success=False, client=req.client, domain=req.domain,
                    detail="user refused")
        return _error_redirect(req.redirect_uri, req.state, "access_denied", "user_cancel")
    scopes, credentials = _oauthlib_validate(core, req)
    credentials["user"] = request.user
    with transaction.atomic():
        try:
            headers, _body, _status = core.server.create_authorization_response(
                uri=_oauth_uri(req), http_method="POST", body=None, headers={}, scopes=scopes,
                credentials=credentials,
            )
        except oauth2.OAuth2Error as exc:
            return _error_redirect(req.redirect_uri, req.state, exc.error, exc.description or "")
        location = headers.get("Location", "")
        code = dict(parse_qsl(urlsplit(location).query)).get("code")
        if not code:
            return _error_redirect(req.redirect_uri, req.state, "server_error")
        grant = Grant.objects.create(
            user=request.user, client=req.client, provider_id=req.provider_id, service_ids=req.service_ids,
            domain=req.domain, hosts=req.hosts, template_versions={t.service_id: t.version for t in req.templates},
            code_hash=code_hash(code),
        )
        transaction.on_commit(lambda: grant_created.send(sender=Grant, grant=grant, user=grant.user))
        audit_event(request, action="grant", success=True, client=req.client, domain=req.domain, grant=grant,
                    detail=f"scope {' '.join(req.service_ids)}; hosts {','.join(h or '@' for h in req.hosts)}")
    if _issuer():
        location = add_query(location, _issuer())
    return HttpResponseRedirect(location)
