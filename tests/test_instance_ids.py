"""``instanceId`` can only name an instance of the same multiInstance template at the same host
(QA: an apply carrying another instance's id used to move that instance and orphan its records)."""

from __future__ import annotations

import pytest

from django_domainconnect import services
from django_domainconnect.engine.errors import EngineError
from django_domainconnect.engine.types import Record
from django_domainconnect.models import AppliedTemplate
from django_domainconnect.template_store import save_template

pytestmark = pytest.mark.django_db

D = "example.com"


def template(service_id: str, *, multi: bool, records: list[dict]):
    return save_template({
        "providerId": "sp.example", "providerName": "SP", "serviceId": service_id, "serviceName": service_id,
        "version": 1, "multiInstance": multi, "records": records,
    }).template


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user("alice", password="pw")


@pytest.fixture
def zone(memory_backend, alice):
    memory_backend.add_zone(D, owners=[alice.pk], records=[Record("example.com.", "A", 3600, "192.0.2.100")])
    return memory_backend


@pytest.fixture
def site():
    return template("site", multi=True, records=[{"type": "TXT", "host": "_site", "data": "id=%siteid%"}])


@pytest.fixture
def other_multi():
    return template("other", multi=True, records=[{"type": "TXT", "host": "_other", "data": "x=%v%"}])


@pytest.fixture
def verify():
    return template("verify", multi=False, records=[{"type": "TXT", "host": "@", "data": "v=%token%"}])


def apply(user, tpl, params, **kwargs):
    return services.apply(user=user, domain=D, template=tpl, params=params, flow="async", **kwargs)


def test_an_id_of_another_host_or_template_is_refused_and_nothing_changes(zone, alice, site, other_multi):
    victim = apply(alice, site, {"siteid": "v"}, host="victim").plan.new_instance.instance_id
    before = sorted(zone.records(D))
    for tpl, host, params in ((site, "attacker", {"siteid": "x"}), (other_multi, "victim", {"v": "1"})):
        with pytest.raises(EngineError) as info:
            apply(alice, tpl, params, host=host, instance_id=victim)
        assert info.value.code == "invalid_instance"
    assert sorted(zone.records(D)) == before
    row = AppliedTemplate.objects.get(instance_id=victim)
    assert (row.service_id, row.host) == ("site", "victim")


def test_the_same_template_and_host_may_replace_its_instance(zone, alice, site):
    first = apply(alice, site, {"siteid": "a"}, host="h").plan.new_instance.instance_id
    apply(alice, site, {"siteid": "b"}, host="h", instance_id=first)
    assert [r.data for r in zone.records(D) if r.name == "_site.h.example.com."] == ['"id=b"']
    assert AppliedTemplate.objects.get().instance_id == first


def test_instance_id_is_ignored_for_templates_that_are_not_multi_instance(zone, alice, site, verify):
    victim = apply(alice, site, {"siteid": "v"}, host="victim").plan.new_instance.instance_id
    outcome = apply(alice, verify, {"token": "t1"}, instance_id=victim)
    assert outcome.plan.new_instance.instance_id != victim
    assert AppliedTemplate.objects.get(instance_id=victim).host == "victim"
    assert any(r.name == "_site.victim.example.com." for r in zone.records(D))
