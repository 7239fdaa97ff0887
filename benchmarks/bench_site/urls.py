"""The example project's URLs plus ``/bench/ping`` (the cheapest JSON answer Django gives: the ceiling) and
``/bench/ping-db`` (the same with one indexed query)."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.urls import include, path


def ping(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True})


def ping_db(request: HttpRequest) -> JsonResponse:
    """The same plus one indexed query: what a single database round trip costs on this stack."""
    from registrar.models import Domain

    return JsonResponse({"ok": Domain.objects.filter(name="small.bench.example").values_list("pk").first() is not None})


urlpatterns = [
    path("bench/ping", ping),
    path("bench/ping-db", ping_db),
    path("", include("registrar_site.urls")),
]
