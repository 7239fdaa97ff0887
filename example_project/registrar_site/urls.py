"""URLs: the registrar's panel, Django's auth views, the admin, and Domain Connect at the site root
(so the ``_domainconnect`` TXT value is just this site's host)."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("registrar.urls")),
    path("", include("django_domainconnect.urls")),
]
