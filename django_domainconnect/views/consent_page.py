"""Building the consent page from a plan (draft §10.5, §10.6, §11.2; SECURITY.md C.20–C.23).

The page names the template's provider and service (names passed by a shared template's caller are only
shown *next to* them), the domain and host as U-label and A-label, a plain-language summary, every
record to add and to remove, the services that stop working, and extra warnings for ``warnPhishing`` or
when request variables decide names or targets. The plan shown is stored server-side (``pending``) and
only its one-time nonce goes into the form.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from django_domainconnect import models
from django_domainconnect.engine.variables import find_variables

from .display import (
    clean_text,
    https_logo,
    name_display,
    record_rows,
    variables_shape_targets,
)
from .params import SyncRequest
from .pending import PendingConsent, save_pending
from .security import form_page

_VARIABLE_FIELDS = ("host", "name", "points_to", "target", "data", "spf_rules", "ttl", "priority", "weight", "port",
                    "protocol", "service")


def template_variables(engine_template: Any) -> list[str]:
    """Names of the request variables the template uses, in order of first appearance."""
    seen: dict[str, None] = {}
    for record in engine_template.records:
        for field in _VARIABLE_FIELDS:
            value = getattr(record, field, None)
            if isinstance(value, str):
                for name in find_variables(value):
                    if name not in ("domain", "host", "fqdn"):
                        seen.setdefault(name, None)
    return list(seen)


def instance_label(provider_id: str, service_id: str, names: dict[tuple[str, str], tuple[str, str]]) -> str:
    provider, service = names.get((provider_id, service_id), (provider_id, service_id))
    return clean_text(f"{service} ({provider})")


def template_names(pairs: set[tuple[str, str]]) -> dict[tuple[str, str], tuple[str, str]]:
    """Display names of templates by ids, in one query (for instances that a plan removes)."""
    if not pairs:
        return {}
    rows = models.Template.objects.filter(provider_id__in={p for p, _ in pairs},
                                          service_id__in={s for _, s in pairs})
    return {(t.provider_id, t.service_id): (t.provider_name or t.provider_id, t.service_name or t.service_id)
            for t in rows}


def consent_context(result: Any, req: SyncRequest | None = None) -> dict[str, Any]:
    """Everything ``consent.html`` (and the async consent page) shows for one plan."""
    tpl = result.engine_template
    plan = result.plan
    domain = name_display(plan.domain)
    fqdn = name_display(f"{plan.host}.{plan.domain}" if plan.host else plan.domain)
    shaped = variables_shape_targets(tpl)
    reasons = {c.record.key(): c.reason for c in plan.conflicts}
    affected = [*plan.removed_instances, *plan.updated_instances]
    names = template_names({(i.provider_id, i.service_id) for i in affected})
    used = template_variables(tpl)
    return {
        "provider_name": clean_text(tpl.provider_name),
        "service_name": clean_text(tpl.service_name),
        "shared_provider_name": clean_text(req.provider_name) if req and req.provider_name else "",
        "shared_service_name": clean_text(req.service_name) if req and req.service_name else "",
        "description": clean_text(tpl.description or ""),
        "logo_url": https_logo(tpl.logo_url),
        "domain": domain,
        "fqdn": fqdn,
        "host": plan.host,
        "to_add": record_rows(plan.to_add, highlight=shaped or tpl.warn_phishing),
        "to_delete": record_rows(plan.to_delete, reasons=reasons),
        "removed_instances": [
            {"label": instance_label(i.provider_id, i.service_id, names),
             "where": name_display(f"{i.host}.{plan.domain}" if i.host else plan.domain)}
            for i in plan.removed_instances
        ],
        "updated_instances": [
            {"label": instance_label(i.provider_id, i.service_id, names),
             "where": name_display(f"{i.host}.{plan.domain}" if i.host else plan.domain)}
            for i in plan.updated_instances
        ],
        "has_conflicts": plan.has_conflicts,
        "is_noop": plan.is_noop,
        "warn_phishing": bool(tpl.warn_phishing),
        "variables_shape_targets": shaped,
        "variables": [(clean_text(n), clean_text(result.params.get(n, ""))) for n in used if n in result.params],
        "plan_warnings": [clean_text(w) for w in plan.warnings],
    }


def render_consent(request: HttpRequest, result: Any, req: SyncRequest, *, signed: bool,
                   notice: str | None = None) -> HttpResponse:
    """Store the plan as a pending consent and render the page whose form posts its nonce."""
    pending = PendingConsent(
        user_id=str(request.user.pk),
        provider_id=result.template.provider_id,
        service_id=result.template.service_id,
        template_version=result.template.version,
        fingerprint=result.plan.fingerprint(),
        domain=result.plan.domain,
        host=result.plan.host,
        params=dict(req.params),
        group_ids=list(req.group_ids) if req.group_ids else None,
        instance_id=req.instance_id,
        provider_name=req.provider_name,
        service_name=req.service_name,
        redirect_uri=req.redirect_uri,
        state=req.state,
        signed=signed,
    )
    # HEAD has no side effects: the page's headers are the same, but no consent waits in the session.
    nonce = "" if request.method == "HEAD" else save_pending(request, pending)
    context = consent_context(result, req)
    context.update({"nonce": nonce, "notice": clean_text(notice) if notice else "", "signed": signed})
    return form_page(render(request, "django_domainconnect/consent.html", context))
