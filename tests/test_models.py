"""Models: constraints, append-only audit, lock rows, migrations in sync with the models."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction

from django_domainconnect.models import AppliedRecord, AppliedTemplate, AuditEvent, Template, ZoneLock

pytestmark = pytest.mark.django_db


def test_template_ids_are_unique():
    Template.objects.create(provider_id="sp.example", service_id="web", body={})
    with pytest.raises(IntegrityError), transaction.atomic():
        Template.objects.create(provider_id="sp.example", service_id="web", body={})
    Template.objects.create(provider_id="sp.example", service_id="mail", body={})


def test_template_supported_by():
    t = Template(provider_id="p", service_id="s", body={}, record_types=["A", "txt"])
    assert t.supported_by(frozenset({"A", "TXT", "MX"}))
    assert not t.supported_by(frozenset({"A"}))
    assert str(t) == "p/s v1"


def test_applied_instance_unique_per_domain():
    AppliedTemplate.objects.create(domain="example.com", provider_id="p", service_id="s", instance_id="i", flow="sync")
    with pytest.raises(IntegrityError), transaction.atomic():
        AppliedTemplate.objects.create(domain="example.com", provider_id="p", service_id="t", instance_id="i",
                                       flow="sync")
    AppliedTemplate.objects.create(domain="example.org", provider_id="p", service_id="s", instance_id="i", flow="sync")


def test_applied_records_cascade_and_str():
    applied = AppliedTemplate.objects.create(domain="example.com", host="www", provider_id="p", service_id="s",
                                             instance_id="i", flow="async")
    rec = AppliedRecord.objects.create(applied=applied, name="www.example.com.", type="A", ttl=60, data="192.0.2.1")
    assert str(applied) == "p/s on www.example.com"
    assert str(rec) == "www.example.com. 60 A 192.0.2.1"
    applied.delete()
    assert not AppliedRecord.objects.exists()


def test_audit_event_is_append_only():
    event = AuditEvent.objects.create(action="apply", outcome="success", domain="example.com")
    event.domain = "evil.example"
    with pytest.raises(ValueError, match="append-only"):
        event.save()
    with pytest.raises(ValueError, match="append-only"):
        event.delete()
    event.refresh_from_db()
    assert event.domain == "example.com"
    assert event.created_at.tzinfo is not None  # UTC-aware


def test_zone_lock_row_per_domain():
    ZoneLock.objects.create(domain="example.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        ZoneLock.objects.create(domain="example.com")


def test_migrations_match_models():
    out = StringIO()
    call_command("makemigrations", "django_domainconnect", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()
