"""Admin for Service Provider clients and grants. Staff revoke grants here (tokens stop at once)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from .audit import audit_event
from .models import Grant, ServiceProviderClient


@admin.register(ServiceProviderClient)
class ServiceProviderClientAdmin(admin.ModelAdmin):
    list_display = ("provider_id", "application", "pkce_required", "access_token_lifetime",
                    "refresh_token_lifetime", "grant_lifetime", "created")
    search_fields = ("provider_id",)
    raw_id_fields = ("application",)
    readonly_fields = ("created",)


@admin.register(Grant)
class GrantAdmin(admin.ModelAdmin):
    list_display = ("id", "provider_id", "domain", "user", "status", "created", "expires_at", "revoked_at")
    list_filter = ("provider_id", "revoked_at")
    search_fields = ("domain", "provider_id", "user__username")
    actions = ["revoke_selected"]
    # Grants come from consent only; staff may look and revoke, never edit what a user agreed to.
    readonly_fields = ("user", "client", "provider_id", "service_ids", "domain", "hosts", "template_versions",
                       "created", "expires_at", "code_used_at", "revoked_at", "revoked_reason")
    exclude = ("code_hash", "token_family")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Revoke selected grants (their tokens stop working at once)",
                  permissions=["revoke"])
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet[Grant]) -> None:
        count = 0
        for grant in queryset.select_related("client"):
            if grant.revoked_at is None:
                grant.revoke("revoked by staff")
                audit_event(request, action="revoke", success=True, client=grant.client, domain=grant.domain,
                            grant=grant, detail="revoked in the admin")
                count += 1
        self.message_user(request, f"{count} grant(s) revoked.", messages.SUCCESS)

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("domainconnect_oauth.revoke_grant")
