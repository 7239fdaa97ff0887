"""The example project's URLs plus ``/bench/ping``: the cheapest JSON answer Django can give (the ceiling)."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.urls import include, path


def ping(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True})


urlpatterns = [
    path("bench/ping", ping),
    path("", include("registrar_site.urls")),
]
