from __future__ import annotations

from django.apps import AppConfig


class DomainConnectConfig(AppConfig):
    name = "django_domainconnect"
    label = "django_domainconnect"
    verbose_name = "Domain Connect"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import auditlog, checks, discovery_cache, security_checks

        checks.register()
        security_checks.register()
        # Log committed audit rows from every entry point (views, API, management commands, host code).
        auditlog.connect()
        # Cached template-query answers go stale with every template change.
        discovery_cache.connect()
