from __future__ import annotations

from django.contrib import admin

from .models import Domain, Record


class RecordInline(admin.TabularInline):
    model = Record
    extra = 0
    fields = ["name", "type", "ttl", "data"]


@admin.register(Domain)
class DomainAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "active", "verified"]
    list_filter = ["active", "verified"]
    search_fields = ["name", "owner__username"]
    inlines = [RecordInline]


@admin.register(Record)
class RecordAdmin(admin.ModelAdmin):
    list_display = ["name", "type", "ttl", "data", "domain"]
    list_filter = ["type"]
    search_fields = ["name", "data"]
