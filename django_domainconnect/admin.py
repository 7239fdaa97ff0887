"""Admin: templates (upload/edit validated by the engine, enable/disable, lint findings, version history),
applied template instances with their records, and the read-only audit log."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from . import discovery_cache
from .models import AppliedRecord, AppliedTemplate, AuditEvent, Template, TemplateVersion
from .template_store import Prepared, prepare, store_prepared

MAX_UPLOAD = 256 * 1024


class TemplateForm(forms.ModelForm):
    """The JSON is edited as text (or uploaded) so duplicate keys and syntax errors are caught by the engine."""

    body_text = forms.CharField(label=_("Template JSON"), required=False,
                                widget=forms.Textarea(attrs={"rows": 30, "cols": 100, "spellcheck": "false"}))
    upload = forms.FileField(label=_("…or upload a JSON file"), required=False)

    class Meta:
        model = Template
        fields = ["enabled"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.fields["body_text"].initial = json.dumps(self.instance.body, indent=2, ensure_ascii=False)
        self.prepared: Prepared | None = None

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        upload = data.get("upload")
        if upload is not None:
            if upload.size > MAX_UPLOAD:
                raise forms.ValidationError(_("The file is larger than 256 KiB."))
            source: str | bytes = upload.read()
            origin = f"admin upload {upload.name}"[:500]
        else:
            source = data.get("body_text") or ""
            origin = "admin"
        if not source:
            raise forms.ValidationError(_("Paste the template JSON or upload a file."))
        prepared = prepare(source, origin=origin)
        errors = [f"{f.code}: {f.message}" + (f" (record {f.record_index})" if f.record_index is not None else "")
                  for f in prepared.errors]
        if prepared.problem and not errors:
            errors.append(prepared.problem)
        if errors:
            raise forms.ValidationError([forms.ValidationError(e) for e in errors])
        ids = (prepared.provider_id, prepared.service_id)
        if self.instance.pk and ids != (self.instance.provider_id, self.instance.service_id):
            raise forms.ValidationError(_("providerId and serviceId cannot change; add a new template instead."))
        if not self.instance.pk and Template.objects.filter(provider_id=ids[0], service_id=ids[1]).exists():
            raise forms.ValidationError(_("A template %(p)s/%(s)s exists already: edit it instead."),
                                        params={"p": ids[0], "s": ids[1]})
        self.prepared = prepared
        return data


class InputFilter(admin.SimpleListFilter):
    """A text box filtering on one field by exact value: a sidebar list of every distinct provider or domain
    would cost a SELECT DISTINCT over the whole table on each page (benchmarks/FINDINGS.md 8)."""

    template = "admin/django_domainconnect/input_filter.html"
    field_name = ""

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("", "")]  # a filter needs at least one lookup to be shown

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = (self.value() or "").strip()
        return queryset.filter(**{self.field_name: value}) if value else queryset

    def choices(self, changelist: Any) -> Any:
        params = changelist.get_filters_params()
        parts = [(k, v) for k, values in params.items() if k != self.parameter_name
                 for v in (values if isinstance(values, list) else [values])]
        yield {"selected": self.value() is None, "query_parts": parts, "display": _("All")}


class ProviderFilter(InputFilter):
    title = _("providerId")
    parameter_name = field_name = "provider_id"


class DomainFilter(InputFilter):
    title = _("domain")
    parameter_name = field_name = "domain"


class TemplateVersionInline(admin.TabularInline):
    model = TemplateVersion
    extra = 0
    can_delete = False
    fields = ["version", "created_at", "source", "changes_list"]
    readonly_fields = fields
    ordering = ["-version", "-id"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("changes"))
    def changes_list(self, obj: TemplateVersion) -> str:
        return format_html("<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((c,) for c in obj.changes or [])))


@admin.register(Template)
class TemplateAdmin(admin.ModelAdmin):
    form = TemplateForm
    list_display = ["provider_id", "service_id", "service_name", "version", "enabled", "has_errors", "types",
                    "updated_at"]
    list_filter = ["enabled", "has_errors", ProviderFilter]
    search_fields = ["provider_id", "service_id", "provider_name", "service_name"]
    actions = ["enable_templates", "disable_templates"]
    inlines = [TemplateVersionInline]
    readonly_fields = ["provider_id", "service_id", "version", "has_errors", "content_hash", "source",
                       "records_table", "findings_table", "created_at", "updated_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Template]:
        qs = super().get_queryset(request)
        match = request.resolver_match
        if match is not None and (match.url_name or "").endswith("_changelist"):
            qs = qs.defer("body", "lint_findings")  # the list never shows the JSON bodies
        return qs

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> list[tuple[Any, dict[str, Any]]]:
        edit = (None, {"fields": ["enabled", "body_text", "upload"]})
        if obj is None:
            return [edit]
        return [
            (None, {"fields": ["provider_id", "service_id", "version", "enabled", "has_errors"]}),
            (_("Records"), {"fields": ["records_table"]}),
            (_("Lint findings"), {"fields": ["findings_table"]}),
            (_("Edit"), {"fields": ["body_text", "upload"], "classes": ["collapse"]}),
            (_("Provenance"), {"fields": ["source", "content_hash", "created_at", "updated_at"]}),
        ]

    @admin.display(description=_("types"))
    def types(self, obj: Template) -> str:
        return ", ".join(obj.record_types or [])

    @admin.display(description=_("records"))
    def records_table(self, obj: Template) -> str:
        rows = []
        for r in (obj.body or {}).get("records") or []:
            if isinstance(r, dict):
                value = r.get("pointsTo") or r.get("data") or r.get("target") or r.get("spfRules") or ""
                rows.append((r.get("type", ""), r.get("host", r.get("name", "")), value, r.get("ttl", ""),
                             r.get("groupId", "")))
        body = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows)
        return format_html("<table><thead><tr><th>type</th><th>host</th><th>value</th><th>ttl</th><th>group</th>"
                           "</tr></thead><tbody>{}</tbody></table>", body)

    @admin.display(description=_("findings"))
    def findings_table(self, obj: Template) -> str:
        rows = [(f.get("level", ""), f.get("code", ""), "" if f.get("record") is None else f.get("record"),
                 f.get("message", "")) for f in obj.lint_findings or []]
        if not rows:
            return "—"
        body = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows)
        return format_html("<table><thead><tr><th>level</th><th>code</th><th>record</th><th>message</th></tr>"
                           "</thead><tbody>{}</tbody></table>", body)

    def save_model(self, request: HttpRequest, obj: Template, form: TemplateForm, change: bool) -> None:
        assert form.prepared is not None  # clean() succeeded
        result = store_prepared([form.prepared], enable=form.cleaned_data.get("enabled"))[0]
        obj.pk = result.template.pk  # type: ignore[union-attr]
        obj._state.adding = False
        obj.refresh_from_db()
        if result.status == "unchanged" and change:
            self.message_user(request, _("The template JSON is unchanged."), messages.INFO)

    @admin.action(description=_("Enable selected templates"), permissions=["change"])
    def enable_templates(self, request: HttpRequest, queryset: QuerySet[Template]) -> None:
        refused = queryset.filter(has_errors=True).count()
        done = queryset.filter(has_errors=False).update(enabled=True)
        discovery_cache.templates_changed()  # update() sends no post_save
        self.message_user(request, _("%(n)d template(s) enabled.") % {"n": done}, messages.SUCCESS)
        if refused:
            self.message_user(request, _("%(n)d template(s) have lint errors and stay disabled.") % {"n": refused},
                              messages.WARNING)

    @admin.action(description=_("Disable selected templates"), permissions=["change"])
    def disable_templates(self, request: HttpRequest, queryset: QuerySet[Template]) -> None:
        # "staff": a later re-import that fixes lint errors must not switch a template staff turned off back on.
        done = queryset.update(enabled=False, disabled_reason="staff")
        discovery_cache.templates_changed()  # update() sends no post_save
        self.message_user(request, _("%(n)d template(s) disabled.") % {"n": done}, messages.SUCCESS)


class AppliedRecordInline(admin.TabularInline):
    model = AppliedRecord
    extra = 0
    can_delete = False
    fields = ["name", "type", "ttl", "data", "essential", "group_id"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AppliedTemplate)
class AppliedTemplateAdmin(admin.ModelAdmin):
    """State derived from applies: viewable, not editable (edits would no longer match the zone)."""

    list_display = ["domain", "host", "provider_id", "service_id", "instance_id", "template_version", "flow",
                    "applied_by", "client_id", "updated_at"]
    list_filter = ["flow", ProviderFilter, DomainFilter]
    search_fields = ["domain", "host", "provider_id", "service_id", "instance_id", "client_id"]
    list_select_related = ["applied_by"]
    inlines = [AppliedRecordInline]
    readonly_fields = [f.name for f in AppliedTemplate._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Append-only: no add, change or delete for anyone, superusers included."""

    list_display = ["created_at", "action", "outcome", "flow", "domain", "host", "provider_id", "service_id",
                    "username", "client_id", "remote_addr"]
    list_filter = ["action", "outcome", "flow"]
    search_fields = ["domain", "username", "client_id", "provider_id", "service_id", "instance_id"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
