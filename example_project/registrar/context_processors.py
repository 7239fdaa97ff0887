from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def registrar(request: HttpRequest) -> dict[str, Any]:
    """The registrar's name, for the header of every page (the panel and the branded consent pages)."""
    return {"registrar_name": getattr(settings, "REGISTRAR_NAME", "Example Registrar")}
