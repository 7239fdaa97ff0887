"""Discovery URL patterns (no ``app_name``: included by ``django_domainconnect.urls``)."""

from __future__ import annotations

from django.urls import path

from .views import settings_view, template_view

urlpatterns = [
    path("v2/<str:domain>/settings", settings_view, name="settings"),
    path("v2/domainTemplates/providers/<str:provider_id>/services/<str:service_id>", template_view, name="template"),
]
