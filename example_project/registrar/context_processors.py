from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def registrar(request: HttpRequest) -> dict[str, Any]:
    """The registrar's name for every page's header; ``registrar_demo`` shows the demo accounts' hint."""
    return {
        "registrar_name": getattr(settings, "REGISTRAR_NAME", "Example Registrar"),
        "registrar_demo": getattr(settings, "REGISTRAR_LINK_BUILDER", settings.DEBUG),
    }
