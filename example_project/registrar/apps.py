from __future__ import annotations

from django.apps import AppConfig


class RegistrarConfig(AppConfig):
    """The example registrar's own zones, panel, demo commands and link builder."""

    name = "registrar"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import signals

        signals.connect()
