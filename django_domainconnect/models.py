"""The app's own state: templates, applied template instances with their records, the audit log and
per-zone lock rows. The host's zones are never stored here (the backend owns them)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Template(models.Model):
    """A Service Provider template (draft §6.1) as imported or edited; ``body`` is the JSON object."""

    provider_id = models.CharField(max_length=63)
    service_id = models.CharField(max_length=63)
    provider_name = models.CharField(max_length=255, blank=True)
    service_name = models.CharField(max_length=255, blank=True)
    version = models.PositiveIntegerField(default=1)
    body = models.JSONField()
    enabled = models.BooleanField(default=True)
    source = models.CharField(max_length=500, blank=True, help_text=_("File or origin it was imported from."))
    content_hash = models.CharField(max_length=64, blank=True, help_text=_("SHA-256 of the canonical JSON body."))
    record_types = models.JSONField(default=list, blank=True)
    lint_findings = models.JSONField(default=list, blank=True)
    has_errors = models.BooleanField(default=False, help_text=_("Error-level lint findings: cannot be enabled."))
    # Why a disabled template is off: "lint" ones come back on when a re-import fixes the errors, "staff"
    # ones (or "" while disabled, e.g. the admin's bulk action) wait for staff. Meaningless while enabled.
    disabled_reason = models.CharField(max_length=8, blank=True, default="",
                                       choices=[("", _("—")), ("lint", _("lint errors")), ("staff", _("staff"))])
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["provider_id", "service_id"]
        constraints = [models.UniqueConstraint(fields=["provider_id", "service_id"], name="dc_template_unique_ids")]
        indexes = [
            models.Index(fields=["service_id"], name="dc_template_service"),
            models.Index(fields=["enabled", "provider_id"], name="dc_template_enabled"),
        ]

    def __str__(self) -> str:
        return f"{self.provider_id}/{self.service_id} v{self.version}"

    def supported_by(self, supported_types: frozenset[str]) -> bool:
        return set(t.upper() for t in self.record_types) <= set(supported_types)


class TemplateVersion(models.Model):
    """History: one row per stored version of a template, with what changed from the previous one."""

    template = models.ForeignKey(Template, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    body = models.JSONField()
    content_hash = models.CharField(max_length=64)
    source = models.CharField(max_length=500, blank=True)
    changes = models.JSONField(default=list, blank=True, help_text=_("Summary of differences to the previous version."))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["template", "-created_at", "-id"]
        indexes = [models.Index(fields=["template", "version"], name="dc_tversion_lookup")]

    def __str__(self) -> str:
        return f"{self.template_id} v{self.version}"


class Flow(models.TextChoices):
    SYNC = "sync", _("synchronous")
    ASYNC = "async", _("asynchronous")
    ADMIN = "admin", _("admin")
    CLI = "cli", _("command line")


class AppliedTemplate(models.Model):
    """One applied template instance on a zone (draft §10.1): what was applied, by whom, with which records."""

    domain = models.CharField(max_length=253)
    host = models.CharField(max_length=253, blank=True, default="")
    provider_id = models.CharField(max_length=63)
    service_id = models.CharField(max_length=63)
    instance_id = models.CharField(max_length=64)
    template_version = models.PositiveIntegerField(null=True, blank=True)
    group_ids = models.JSONField(default=list, blank=True)
    params = models.JSONField(default=dict, blank=True)
    multi_instance = models.BooleanField(default=False)
    applied_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    flow = models.CharField(max_length=8, choices=Flow.choices)
    client_id = models.CharField(max_length=255, blank=True, default="")
    grant_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["domain", "host", "provider_id", "service_id"]
        constraints = [models.UniqueConstraint(fields=["domain", "instance_id"], name="dc_applied_unique_instance")]
        indexes = [
            models.Index(fields=["domain", "host", "provider_id", "service_id"], name="dc_applied_lookup"),
            models.Index(fields=["grant_id"], name="dc_applied_grant"),
        ]

    def __str__(self) -> str:
        where = f"{self.host}.{self.domain}" if self.host else self.domain
        return f"{self.provider_id}/{self.service_id} on {where}"


class AppliedRecord(models.Model):
    """A record written by an applied instance (``name`` absolute with trailing dot, as the engine's Record)."""

    applied = models.ForeignKey(AppliedTemplate, on_delete=models.CASCADE, related_name="records")
    name = models.CharField(max_length=255)
    type = models.CharField(max_length=16)
    ttl = models.PositiveIntegerField()
    data = models.TextField()
    essential = models.CharField(max_length=8, default="Always")
    group_id = models.CharField(max_length=255, blank=True, default="")  # "" = no groupId
    spf_rules = models.TextField(blank=True, default="")  # "" = not an SPFM contribution
    # Already in the zone (no template had written it) when the instance was applied: revert leaves it.
    preexisting = models.BooleanField(default=False)

    class Meta:
        ordering = ["applied", "name", "type", "id"]
        # services look up the instances owning records at the names a plan touches.
        indexes = [models.Index(fields=["name"], name="dc_appliedrecord_name")]

    def __str__(self) -> str:
        return f"{self.name} {self.ttl} {self.type} {self.data}"


class AuditEvent(models.Model):
    """Append-only audit log. Never holds signatures, keys, tokens or secrets."""

    class Outcome(models.TextChoices):
        SUCCESS = "success", _("success")
        FAILURE = "failure", _("failure")

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    username = models.CharField(max_length=150, blank=True, default="")  # kept if the user is deleted
    client_id = models.CharField(max_length=255, blank=True, default="")
    grant_id = models.BigIntegerField(null=True, blank=True)
    action = models.CharField(max_length=32, db_index=True)  # apply, revert, refused, consent, grant, revoke…
    outcome = models.CharField(max_length=8, choices=Outcome.choices)
    flow = models.CharField(max_length=8, blank=True, default="")
    domain = models.CharField(max_length=253, blank=True, default="", db_index=True)
    host = models.CharField(max_length=253, blank=True, default="")
    provider_id = models.CharField(max_length=63, blank=True, default="")
    service_id = models.CharField(max_length=63, blank=True, default="")
    template_version = models.PositiveIntegerField(null=True, blank=True)
    # A revert of every instance of a multiInstance template records all their ids, comma-joined.
    instance_id = models.TextField(blank=True, default="")
    params = models.JSONField(default=dict, blank=True)
    records_before = models.JSONField(default=list, blank=True)
    records_after = models.JSONField(default=list, blank=True)
    detail = models.TextField(blank=True, default="")
    remote_addr = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["provider_id", "service_id"], name="dc_audit_template")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.action} {self.outcome} {self.domain}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None and not kwargs.pop("_allow_update", False):
            raise ValueError("AuditEvent rows are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("AuditEvent rows are append-only")


class ZoneLock(models.Model):
    """One row per zone, locked with SELECT … FOR UPDATE to serialise writers (``BaseDNSBackend.lock``)."""

    domain = models.CharField(max_length=253, unique=True)

    def __str__(self) -> str:
        return self.domain
