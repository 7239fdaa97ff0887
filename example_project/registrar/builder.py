"""The link builder: what a Service Provider's "template editor" does — pick a template, fill its
variables, get the sync apply link (signed with the demo key when the template asks for signatures).

The form is a GET (it changes nothing). It is on only when ``REGISTRAR_LINK_BUILDER`` is true (the
default in DEBUG): in production it would let anyone sign links with the demo key.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlsplit, urlunsplit

from django import forms
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from django_domainconnect.conf import dc_settings
from django_domainconnect.engine.signatures import signed_query
from django_domainconnect.engine.template import load_template
from django_domainconnect.engine.types import Template
from django_domainconnect.engine.variables import BUILTINS, find_variables
from django_domainconnect.models import Template as TemplateRow

from .demo_keys import DEMO_KEY_LABEL, private_key_pem

# Template record fields that may hold variables (Table 2 of the draft).
_VARIABLE_FIELDS = ("host", "name", "points_to", "data", "target", "spf_rules", "ttl", "priority", "weight", "port")
# Parameters the builder sets itself; a template variable with one of these names cannot be filled.
_RESERVED = frozenset({"domain", "host", "groupId", "redirect_uri", "state", "sig", "key", "providerName",
                       "serviceName", "instanceId"})


@dataclass(frozen=True)
class BuilderTemplate:
    ref: str  # "providerId/serviceId"
    template: Template
    variables: tuple[str, ...]

    @property
    def label(self) -> str:
        signed = " (signed)" if self.template.sync_pub_key_domain else ""
        return f"{self.template.provider_name} — {self.template.service_name} [{self.ref}]{signed}"


def template_variables(template: Template) -> tuple[str, ...]:
    """Variable names used by the template's records, in order of first use, without the built-ins."""
    seen: dict[str, None] = {}
    for record in template.records:
        for attr in _VARIABLE_FIELDS:
            value = getattr(record, attr)
            if isinstance(value, str):
                for name in find_variables(value):
                    if name not in BUILTINS:
                        seen.setdefault(name, None)
    return tuple(seen)


def available_templates() -> dict[str, BuilderTemplate]:
    """Enabled imported templates without errors, keyed by ``providerId/serviceId``."""
    out: dict[str, BuilderTemplate] = {}
    for row in TemplateRow.objects.filter(enabled=True, has_errors=False).order_by("provider_id", "service_id"):
        template, _ = load_template(row.body)
        if template is None:
            continue
        ref = f"{row.provider_id}/{row.service_id}"
        out[ref] = BuilderTemplate(ref, template, template_variables(template))
    return out


def rfc3986(value: str) -> str:
    return quote(value, safe="-._~")


def build_apply_link(template: Template, params: dict[str, str], *, sync_ux_url: str,
                     private_key: bytes | None = None, key_label: str = DEMO_KEY_LABEL) -> str:
    """``{urlSyncUX}/v2/domainTemplates/providers/{pid}/services/{sid}/apply?…`` as draft §8.3.2.1 builds it:
    names and values RFC 3986-encoded, pairs sorted by encoded name, then ``&sig=…&key=…`` when
    ``private_key`` is given (it must be, for a template with ``syncPubKeyDomain``)."""
    if template.sync_pub_key_domain and private_key is None:
        raise ValueError("this template has syncPubKeyDomain: its apply links must be signed")
    pairs = sorted((rfc3986(k), rfc3986(v)) for k, v in params.items())
    query = "&".join(f"{k}={v}" for k, v in pairs)
    if private_key is not None:
        query = signed_query(query, private_key, key_label)
    path = (
        f"/v2/domainTemplates/providers/{rfc3986(template.provider_id)}"
        f"/services/{rfc3986(template.service_id)}/apply"
    )
    return f"{sync_ux_url.rstrip('/')}{path}?{query}"


def default_redirect_uri(template: Template | None) -> str:
    """This site's ``/builder/return/`` for a signed template, else empty.

    A verified signature lets the link redirect to any https host (and, in DEBUG, to ``http://localhost``)
    but never to an IP literal, so a loopback base URL is spelled ``localhost``. Unsigned demo templates
    redirect only under their ``syncRedirectDomain``, which is not this site.
    """
    if template is None or not template.sync_pub_key_domain:
        return ""
    base = urlsplit(dc_settings.BASE_URL)
    netloc = base.netloc
    if base.hostname and base.hostname in ("127.0.0.1", "::1"):
        netloc = "localhost" + (f":{base.port}" if base.port else "")
    return urlunsplit((base.scheme, netloc, base.path.rstrip("/") + "/builder/return/", "", ""))


class BuilderForm(forms.Form):
    template = forms.ChoiceField(label="Template")
    domain = forms.CharField(label="Domain", initial="example.com", max_length=253)
    host = forms.CharField(label="Host (sub-domain, optional)", required=False, max_length=253)
    group_id = forms.CharField(label="groupId (comma-separated, optional)", required=False, max_length=500)
    redirect_uri = forms.URLField(
        label="redirect_uri (optional)", required=False, max_length=2000, assume_scheme="https",
        help_text="Unsigned links redirect only under the template's syncRedirectDomain (demoservice.example.org "
                  "for the demo templates); signed links may redirect to any https host, or localhost in DEBUG.")
    state = forms.CharField(label="state (optional)", required=False, max_length=500)

    def __init__(self, *args, templates: dict[str, BuilderTemplate], chosen: BuilderTemplate | None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template"].choices = [(ref, t.label) for ref, t in templates.items()]
        self.variables = chosen.variables if chosen else ()
        self.fields["redirect_uri"].initial = default_redirect_uri(chosen.template if chosen else None)
        for name in self.variables:
            self.fields[f"var_{name}"] = forms.CharField(label=f"%{name}%", required=False, max_length=2000)
        if chosen and chosen.template.group_ids:
            self.fields["group_id"].help_text = "Groups: " + ", ".join(sorted(chosen.template.group_ids))

    def params(self) -> dict[str, str]:
        data = self.cleaned_data
        params = {"domain": data["domain"].strip()}
        for field, name in (("host", "host"), ("group_id", "groupId"), ("redirect_uri", "redirect_uri"),
                            ("state", "state")):
            if data.get(field):
                params[name] = data[field].strip()
        for name in self.variables:
            value = data.get(f"var_{name}", "")
            if value != "" and name not in _RESERVED:
                params[name] = value
        return params


def _check_enabled() -> None:
    if not getattr(settings, "REGISTRAR_LINK_BUILDER", settings.DEBUG):
        raise Http404("The link builder is off (REGISTRAR_LINK_BUILDER).")


def builder(request: HttpRequest) -> HttpResponse:
    _check_enabled()
    templates = available_templates()
    chosen = templates.get(request.GET.get("template", "")) or (next(iter(templates.values()), None))
    bound = "build" in request.GET
    # Unbound ("Show its variables"): keep what was typed, but the redirect default follows the template.
    initial = {k: v for k, v in request.GET.items() if k not in ("redirect_uri", "load", "build")}
    initial["template"] = chosen.ref if chosen else None
    form = BuilderForm(request.GET if bound else None, templates=templates, chosen=chosen, initial=initial)
    link = None
    if bound and form.is_valid() and chosen is not None:
        key = private_key_pem() if chosen.template.sync_pub_key_domain else None
        link = build_apply_link(chosen.template, form.params(), sync_ux_url=dc_settings.SYNC_UX_URL, private_key=key)
    context = {"form": form, "chosen": chosen, "link": link, "key_label": DEMO_KEY_LABEL, "templates": templates}
    return render(request, "registrar/builder.html", context)


def builder_return(request: HttpRequest) -> HttpResponse:
    """Where signed demo links come back to (the Service Provider's page): shows what the DNS Provider sent."""
    _check_enabled()
    # Shown escaped by the template engine; nothing here is trusted or acted on.
    received = [(name, value) for name, values in request.GET.lists() for value in values]
    return render(request, "registrar/builder_return.html", {"received": received})
