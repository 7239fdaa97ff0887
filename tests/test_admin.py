"""Admin: template upload/edit validated by the engine, actions, version history, read-only audit."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from django_domainconnect.models import AppliedRecord, AppliedTemplate, AuditEvent, Template, TemplateVersion
from django_domainconnect.template_store import save_template

pytestmark = pytest.mark.django_db


def body(**overrides):
    data = {"providerId": "sp.example", "providerName": "SP", "serviceId": "web", "serviceName": "Website",
            "version": 1, "records": [{"type": "A", "host": "@", "pointsTo": "192.0.2.1", "ttl": 3600}]}
    data.update(overrides)
    return data


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user("staff", password="pw", is_staff=True)


def test_add_template_by_text(admin_client):
    url = reverse("admin:django_domainconnect_template_add")
    page = admin_client.get(url)
    assert page.status_code == 200 and b'name="body_text"' in page.content and b'name="upload"' in page.content
    response = admin_client.post(url, {"enabled": "on", "body_text": json.dumps(body()),
                                       **_inline_mgmt()})
    assert response.status_code == 302, response.content
    t = Template.objects.get()
    assert (t.provider_id, t.version, t.enabled) == ("sp.example", 1, True)
    assert TemplateVersion.objects.filter(template=t).count() == 1


def test_add_template_by_upload(admin_client):
    url = reverse("admin:django_domainconnect_template_add")
    upload = SimpleUploadedFile("sp.example.web.json", json.dumps(body()).encode(), "application/json")
    response = admin_client.post(url, {"upload": upload, **_inline_mgmt()})
    assert response.status_code == 302
    assert Template.objects.get().source.startswith("admin upload")


@pytest.mark.parametrize("text", [
    '{"providerId": "sp.example", "providerId": "x"}',  # duplicate key
    "{not json",
    json.dumps(body(records=[{"type": "CNAME", "host": "@", "pointsTo": "x.example.net", "ttl": 60}])),
    "",
])
def test_invalid_template_is_a_form_error_and_nothing_saved(admin_client, text):
    url = reverse("admin:django_domainconnect_template_add")
    response = admin_client.post(url, {"body_text": text, **_inline_mgmt()})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert Template.objects.count() == 0


def test_edit_bumps_version_and_shows_history(admin_client):
    t = save_template(body()).template
    url = reverse("admin:django_domainconnect_template_change", args=[t.pk])
    page = admin_client.get(url)
    assert page.status_code == 200
    assert b"192.0.2.1" in page.content  # records table
    new = body(records=[{"type": "A", "host": "@", "pointsTo": "192.0.2.9", "ttl": 3600}])
    response = admin_client.post(url, {"enabled": "on", "body_text": json.dumps(new), **_inline_mgmt(t)})
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    t.refresh_from_db()
    assert t.version == 2
    assert t.body["records"][0]["pointsTo"] == "192.0.2.9"
    page = admin_client.get(url)
    assert "record added: type=A host=@ pointsTo=192.0.2.9" in page.content.decode()


def test_edit_cannot_change_ids(admin_client):
    t = save_template(body()).template
    url = reverse("admin:django_domainconnect_template_change", args=[t.pk])
    response = admin_client.post(url, {"body_text": json.dumps(body(serviceId="other")), **_inline_mgmt(t)})
    assert response.status_code == 200
    assert Template.objects.get().service_id == "web"


def test_add_duplicate_ids_refused(admin_client):
    save_template(body())
    response = admin_client.post(reverse("admin:django_domainconnect_template_add"),
                                 {"body_text": json.dumps(body()), **_inline_mgmt()})
    assert response.status_code == 200
    assert Template.objects.count() == 1


def test_enable_disable_actions(admin_client):
    good = save_template(body(), enable=False).template
    bad = Template.objects.create(provider_id="sp.example", service_id="bad", body={}, has_errors=True, enabled=False)
    url = reverse("admin:django_domainconnect_template_changelist")
    admin_client.post(url, {"action": "enable_templates", "_selected_action": [good.pk, bad.pk]})
    good.refresh_from_db()
    bad.refresh_from_db()
    assert good.enabled is True and bad.enabled is False
    admin_client.post(url, {"action": "disable_templates", "_selected_action": [good.pk, bad.pk]})
    good.refresh_from_db()
    bad.refresh_from_db()
    assert good.enabled is False
    # Both are now off because staff said so: fixing bad's lint errors later must not re-enable it.
    assert good.disabled_reason == bad.disabled_reason == "staff"


def test_changelist_search_and_filter(admin_client):
    save_template(body())
    save_template(body(providerId="other.example", serviceId="mail"))
    url = reverse("admin:django_domainconnect_template_changelist")
    page = admin_client.get(url, {"q": "sp.example"})
    assert page.status_code == 200 and page.context["cl"].result_count == 1
    page = admin_client.get(url, {"provider_id": "other.example", "enabled__exact": "1"})
    assert page.status_code == 200
    assert [t.service_id for t in page.context["cl"].result_list] == ["mail"]
    assert b'name="provider_id"' in page.content and b'name="enabled__exact"' in page.content  # kept in the form
    assert admin_client.get(url, {"provider_id": "nobody.example"}).context["cl"].result_count == 0


def test_staff_without_permission_gets_403(client, staff):
    t = save_template(body()).template
    client.force_login(staff)
    assert client.get(reverse("admin:django_domainconnect_template_change", args=[t.pk])).status_code == 403
    assert client.get(reverse("admin:django_domainconnect_auditevent_changelist")).status_code == 403


def test_audit_is_read_only_even_for_superusers(admin_client):
    event = AuditEvent.objects.create(action="apply", outcome="success", domain="example.com")
    assert admin_client.get(reverse("admin:django_domainconnect_auditevent_changelist")).status_code == 200
    change = reverse("admin:django_domainconnect_auditevent_change", args=[event.pk])
    assert admin_client.get(change).status_code == 200  # view only
    admin_client.post(change, {"domain": "evil.example"})
    event.refresh_from_db()
    assert event.domain == "example.com"
    assert admin_client.get(reverse("admin:django_domainconnect_auditevent_add")).status_code == 403
    assert admin_client.post(reverse("admin:django_domainconnect_auditevent_delete", args=[event.pk]),
                             {"post": "yes"}).status_code == 403
    assert AuditEvent.objects.count() == 1


def test_audit_viewable_with_view_permission(client, staff):
    staff.user_permissions.add(Permission.objects.get(codename="view_auditevent"))
    client.force_login(staff)
    assert client.get(reverse("admin:django_domainconnect_auditevent_changelist")).status_code == 200


def test_applied_templates_with_inline_records(admin_client):
    applied = AppliedTemplate.objects.create(domain="example.com", provider_id="sp.example", service_id="web",
                                             instance_id="i1", flow="sync")
    AppliedRecord.objects.create(applied=applied, name="example.com.", type="A", ttl=3600, data="192.0.2.1")
    url = reverse("admin:django_domainconnect_appliedtemplate_changelist")
    page = admin_client.get(url, {"domain": "example.com"})
    assert page.status_code == 200 and b"sp.example" in page.content
    assert page.context["cl"].result_count == 1
    assert admin_client.get(url, {"domain": "other.example"}).context["cl"].result_count == 0
    detail = admin_client.get(reverse("admin:django_domainconnect_appliedtemplate_change", args=[applied.pk]))
    assert b"192.0.2.1" in detail.content
    assert admin_client.get(reverse("admin:django_domainconnect_appliedtemplate_add")).status_code == 403


def _inline_mgmt(template=None):
    count = TemplateVersion.objects.filter(template=template).count() if template else 0
    return {"versions-TOTAL_FORMS": str(count), "versions-INITIAL_FORMS": str(count),
            "versions-MIN_NUM_FORMS": "0", "versions-MAX_NUM_FORMS": "1000",
            **{f"versions-{i}-id": str(v.pk) for i, v in enumerate(
                TemplateVersion.objects.filter(template=template).order_by("-version", "-id")) if template}}
