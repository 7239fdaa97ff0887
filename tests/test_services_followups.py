"""services: adopted records and shared SPF records survive the round trip through AppliedRecord rows
(SECURITY.md 48: on a zone with no conflicts, apply then revert restores the original records)."""

from __future__ import annotations

import pytest

from django_domainconnect import services
from django_domainconnect.engine.types import Record
from django_domainconnect.models import AppliedRecord
from django_domainconnect.template_store import save_template

pytestmark = pytest.mark.django_db

D = "example.com"
APEX_A = Record("example.com.", "A", 3600, "192.0.2.100")
WWW_A = Record("www.example.com.", "A", 3600, "192.0.2.1")
WEB = {
    "providerId": "sp.example", "providerName": "SP", "serviceId": "web", "serviceName": "Website", "version": 1,
    "records": [
        {"type": "A", "host": "www", "pointsTo": "%ip%", "ttl": 3600},
        {"type": "TXT", "host": "@", "data": "sp-verify=%token%", "ttl": 3600},
    ],
}


def spf_template(service_id: str, rules: str):
    return save_template({
        "providerId": "sp.example", "providerName": "SP", "serviceId": service_id, "serviceName": service_id,
        "version": 1, "records": [{"type": "SPFM", "host": "@", "spfRules": rules}],
    }).template


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user("alice", password="pw")


@pytest.fixture
def zone(memory_backend, alice):
    memory_backend.add_zone(D, owners=[alice.pk], records=[APEX_A])
    return memory_backend


@pytest.fixture
def web():
    return save_template(WEB).template


def do_apply(user, template, params, **kwargs):
    kwargs.setdefault("flow", "async")
    return services.apply(user=user, domain=D, template=template, params=params, **kwargs)


def do_revert(user, service_id):
    return services.revert(user=user, domain=D, provider_id="sp.example", service_id=service_id, flow="async")


@pytest.mark.parametrize("ttl", [3600, 600])
def test_an_identical_user_record_is_adopted_and_kept_on_revert(zone, alice, web, ttl):
    original = sorted([APEX_A, Record(WWW_A.name, "A", ttl, WWW_A.data)])
    zone.set_records(D, original)
    outcome = do_apply(alice, web, {"ip": "192.0.2.1", "token": "t"}, force=False)
    assert not outcome.plan.has_conflicts
    assert outcome.plan.to_add == (Record("example.com.", "TXT", 3600, '"sp-verify=t"'),)
    row = AppliedRecord.objects.get(type="A")
    assert (row.ttl, row.preexisting) == (ttl, True)
    assert not AppliedRecord.objects.get(type="TXT").preexisting
    do_revert(alice, "web")
    assert zone.records(D) == original


def test_an_adopted_record_can_be_moved_by_an_update_without_force(zone, alice, web):
    zone.set_records(D, [APEX_A, WWW_A])
    do_apply(alice, web, {"ip": "192.0.2.1", "token": "t"}, force=False)
    # A no-op renewal keeps the state; a new address replaces the record without a conflict.
    do_apply(alice, web, {"ip": "192.0.2.1", "token": "t"}, force=False)
    assert AppliedRecord.objects.get(type="A").preexisting
    moved = do_apply(alice, web, {"ip": "192.0.2.2", "token": "t"}, force=False)
    assert moved.plan.to_delete == (WWW_A,)
    assert Record("www.example.com.", "A", 3600, "192.0.2.2") in zone.records(D)
    assert not AppliedRecord.objects.get(type="A").preexisting


@pytest.mark.parametrize("user_spf", [None, '"v=spf1 ~all"', '"v=spf1 mx -all"'])
@pytest.mark.parametrize("order", [("a", "b"), ("b", "a")])
def test_two_spfm_templates_applied_and_reverted_restore_the_zone(zone, alice, user_spf, order):
    original = sorted([APEX_A] + ([Record("example.com.", "TXT", 600, user_spf)] if user_spf else []))
    zone.set_records(D, original)
    templates = {"a": spf_template("a", "include:a.example"), "b": spf_template("b", "include:b.example mx")}
    do_apply(alice, templates["a"], {}, force=False)
    do_apply(alice, templates["b"], {}, force=False)
    [merged] = [r for r in zone.records(D) if r.type == "TXT"]
    assert "include:a.example" in merged.data and "include:b.example" in merged.data
    do_revert(alice, order[0])
    [left] = [r for r in zone.records(D) if r.type == "TXT"]
    assert f"include:{order[0]}.example" not in left.data and f"include:{order[1]}.example" in left.data
    do_revert(alice, order[1])
    assert zone.records(D) == original
    assert not AppliedRecord.objects.exists()
