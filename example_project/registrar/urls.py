from __future__ import annotations

from django.urls import path

from . import builder, views

app_name = "registrar"

urlpatterns = [
    path("", views.home, name="home"),
    path("domains/", views.domain_list, name="domains"),
    path("domains/<str:name>/", views.zone_detail, name="zone"),
    path("builder/", builder.builder, name="builder"),
    path("builder/return/", builder.builder_return, name="builder_return"),
]
