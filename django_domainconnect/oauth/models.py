"""State of the async flow: which Service Provider is which OAuth client, and what each user granted.

Tokens and authorization codes stay in django-oauth-toolkit's own tables. A ``Grant`` is tied to them by
the hash of its authorization code (until the code is exchanged) and then by DOT's refresh-token family,
which every rotated refresh token and its access token inherit.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_grant_model, get_refresh_token_model
from oauth2_provider.settings import oauth2_settings

from .conf import oauth_settings


def code_hash(code: str) -> str:
    """Authorization codes are only ever stored here as a hash (DOT keeps the live one until exchange)."""
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


class ServiceProviderClient(models.Model):
    """A Service Provider registered for the async flow: one DOT application bound to one providerId."""

    application = models.OneToOneField(
        oauth2_settings.APPLICATION_MODEL, on_delete=models.CASCADE, related_name="domainconnect_client"
    )
    provider_id = models.CharField(
        max_length=63, unique=True, help_text="The templates' providerId; also the OAuth client_id."
    )
    pkce_required = models.BooleanField(
        default=False, help_text="Require PKCE (S256) from this client. Public clients always need it."
    )
    access_token_lifetime = models.PositiveIntegerField(
        null=True, blank=True, help_text="Seconds; empty uses DOMAINCONNECT_OAUTH['ACCESS_TOKEN_LIFETIME']."
    )
    refresh_token_lifetime = models.PositiveIntegerField(
        null=True, blank=True, help_text="Idle seconds; empty uses DOMAINCONNECT_OAUTH['REFRESH_TOKEN_LIFETIME']."
    )
    grant_lifetime = models.PositiveIntegerField(
        null=True, blank=True, help_text="Absolute seconds; empty uses DOMAINCONNECT_OAUTH['GRANT_LIFETIME']."
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "Service Provider client"

    def __str__(self) -> str:
        return self.provider_id

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        app = getattr(self, "application", None)
        if app is not None and app.client_id != self.provider_id:
            # Real clients send client_id={providerId}; any other id could never start a consent.
            raise ValidationError({"application": "The application's client id must equal the providerId."})
        if app is not None and app.authorization_grant_type != app.GRANT_AUTHORIZATION_CODE:
            raise ValidationError({"application": "The application must use the authorization-code grant."})

    @property
    def is_public(self) -> bool:
        return self.application.client_type == self.application.CLIENT_PUBLIC

    def access_lifetime(self) -> int:
        return int(self.access_token_lifetime or oauth_settings.ACCESS_TOKEN_LIFETIME)

    def refresh_lifetime(self) -> int:
        return int(self.refresh_token_lifetime or oauth_settings.REFRESH_TOKEN_LIFETIME)

    def absolute_lifetime(self) -> int:
        return int(self.grant_lifetime or oauth_settings.GRANT_LIFETIME)


class GrantQuerySet(models.QuerySet):
    def active(self) -> GrantQuerySet:
        return self.filter(revoked_at__isnull=True, expires_at__gt=timezone.now())


class Grant(models.Model):
    """What a user let one Service Provider do: apply ``service_ids`` on ``domain`` at ``hosts``."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="domainconnect_grants")
    client = models.ForeignKey(ServiceProviderClient, on_delete=models.CASCADE, related_name="grants")
    provider_id = models.CharField(max_length=63)
    service_ids = models.JSONField(default=list)
    domain = models.CharField(max_length=253, db_index=True)
    hosts = models.JSONField(default=list, help_text='Hosts the templates may be applied to; "" is the apex.')
    template_versions = models.JSONField(default=dict, help_text="serviceId → template version consented to.")
    code_hash = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    code_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    token_family = models.UUIDField(null=True, blank=True, db_index=True, editable=False)
    created = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=64, blank=True)

    objects = GrantQuerySet.as_manager()

    class Meta:
        ordering = ["-created"]
        permissions = [("revoke_grant", "Can revoke Domain Connect grants")]

    def __str__(self) -> str:
        return f"{self.provider_id} on {self.domain}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.expires_at is None:
            self.expires_at = timezone.now() + timedelta(seconds=self.client.absolute_lifetime())
        super().save(*args, **kwargs)

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()

    @property
    def status(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        return "active" if self.expires_at > timezone.now() else "expired"

    def covers(self, service_id: str, host: str) -> bool:
        return service_id in self.service_ids and host in self.hosts

    def revoke(self, reason: str = "revoked") -> None:
        """Stop the grant: its unexchanged code, access tokens and refresh tokens stop working at once."""
        from .signals import grant_revoked

        with transaction.atomic():
            locked = Grant.objects.select_for_update().get(pk=self.pk)
            if locked.revoked_at is None:
                locked.revoked_at = timezone.now()
                locked.revoked_reason = reason[:64]
                locked.save(update_fields=["revoked_at", "revoked_reason"])
                transaction.on_commit(lambda: grant_revoked.send(sender=Grant, grant=locked, reason=reason))
            self.revoked_at, self.revoked_reason = locked.revoked_at, locked.revoked_reason
            revoke_tokens(self)


def revoke_tokens(grant: Grant) -> None:
    """Delete the grant's access tokens, revoke its refresh tokens and drop its pending code."""
    if grant.token_family:
        get_refresh_token_model().revoke_family(grant.token_family)
        # revoke_family deletes the access tokens of live refresh tokens; catch any left behind too.
        refresh_model = get_refresh_token_model()
        get_access_token_model().objects.filter(
            source_refresh_token__in=refresh_model.objects.filter(token_family=grant.token_family)
        ).delete()
    if grant.code_hash and grant.code_used_at is None:
        for dot_grant in get_grant_model().objects.filter(application_id=grant.client.application_id, user=grant.user):
            if code_hash(dot_grant.code) == grant.code_hash:
                dot_grant.delete()


def grant_for_token_family(family: uuid.UUID | None) -> Grant | None:
    if family is None:
        return None
    return Grant.objects.select_related("client", "user").filter(token_family=family).first()
