from __future__ import annotations

from django.apps import AppConfig


class DomainConnectOAuthConfig(AppConfig):
    name = "django_domainconnect.oauth"
    label = "domainconnect_oauth"
    verbose_name = "Domain Connect (asynchronous flow)"
    default_auto_field = "django.db.models.BigAutoField"
