from __future__ import annotations

from django.apps import AppConfig


class DomainConnectOAuthConfig(AppConfig):
    name = "django_domainconnect.oauth"
    label = "domainconnect_oauth"
    verbose_name = "Domain Connect (asynchronous flow)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        import logging

        from . import checks  # noqa: F401 - registers the system checks

        # oauthlib writes codes, tokens and secrets into its DEBUG messages; they must not reach a log file
        # (SECURITY.md 31, DOT #1735). Unless the host set a level for "oauthlib" itself, keep it at INFO.
        oauthlib_logger = logging.getLogger("oauthlib")
        if oauthlib_logger.level == logging.NOTSET:
            oauthlib_logger.setLevel(logging.INFO)
