"""services: find_template, get_managed_zone, plan, apply, revert — state, audit, locking, failures."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext

from django_domainconnect import services
from django_domainconnect.engine.errors import EngineError
from django_domainconnect.engine.types import Record
from django_domainconnect.exceptions import (
    BackendError,
    ConflictsFound,
    NotApplied,
    PlanChanged,
    TemplateNotFound,
    ZoneNotAvailable,
)
from django_domainconnect.models import AppliedRecord, AppliedTemplate, AuditEvent, Template
from django_domainconnect.signals import template_applied, template_reverted
from django_domainconnect.template_store import save_template

pytestmark = pytest.mark.django_db

WEB = {
    "providerId": "sp.example", "providerName": "SP", "serviceId": "web", "serviceName": "Website", "version": 1,
    "records": [
        {"type": "A", "host": "www", "pointsTo": "%ip%", "ttl": 3600},
        {"type": "TXT", "host": "@", "data": "sp-verify=%token%", "ttl": 3600, "txtConflictMatchingMode": "None"},
    ],
}
MAIL = {
    "providerId": "sp.example", "providerName": "SP", "serviceId": "mail", "serviceName": "Mail", "version": 1,
    "records": [{"type": "CNAME", "host": "www", "pointsTo": "mail.sp.example", "ttl": 3600}],
}
APEX_A = Record("example.com.", "A", 3600, "192.0.2.100")
PARAMS = {"ip": "192.0.2.1", "token": "abc"}


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user("alice", password="pw")


@pytest.fixture
def bob(django_user_model):
    return django_user_model.objects.create_user("bob", password="pw")


@pytest.fixture
def zone(memory_backend, alice):
    memory_backend.add_zone("example.com", owners=[alice.pk], records=[APEX_A])
    memory_backend.add_zone("xn--bcher-kva.example", owners=[alice.pk])
    memory_backend.add_zone("inactive.example", owners=[alice.pk], active=False)
    return memory_backend


@pytest.fixture
def web():
    result = save_template(WEB)
    assert not result.template.has_errors, result.template.lint_findings
    return result.template


@pytest.fixture
def mail():
    return save_template(MAIL).template


def do_apply(user, template, params=PARAMS, **kwargs):
    kwargs.setdefault("flow", "sync")
    return services.apply(user=user, domain="example.com", template=template, params=params, **kwargs)


# -- lookups -----------------------------------------------------------------------------------------------


def test_find_template(web, memory_backend):
    assert services.find_template("sp.example", "web") == web
    for pid, sid in [("sp.example", "nope"), ("SP.example", "web"), ("sp.example", "we b"), ("", "web"),
                     ("sp.example", "w" * 64)]:
        with pytest.raises(TemplateNotFound):
            services.find_template(pid, sid)
    Template.objects.filter(pk=web.pk).update(enabled=False)
    with pytest.raises(TemplateNotFound):
        services.find_template("sp.example", "web")


def test_find_template_requires_supported_types(web, settings):
    settings.DOMAINCONNECT = {**settings.DOMAINCONNECT, "BACKEND_OPTIONS": {"supported_types": ["A"]}}
    with pytest.raises(TemplateNotFound):
        services.find_template("sp.example", "web")
    assert services.find_template("sp.example", "web", require_supported=False) == web


def test_get_managed_zone(zone, alice):
    assert services.get_managed_zone(alice, "Example.COM.").domain == "example.com"
    assert services.get_managed_zone(alice, "bücher.example").domain == "xn--bcher-kva.example"


@pytest.mark.parametrize("domain", ["other.example", "www.example.com", "inactive.example", "a..b", "com", "",
                                    "ex\u200dample.com"])
def test_get_managed_zone_one_generic_error(zone, alice, domain):
    with pytest.raises(ZoneNotAvailable) as info:
        services.get_managed_zone(alice, domain)
    assert info.value.message == ZoneNotAvailable.default_message


def test_get_managed_zone_not_yours(zone, bob):
    for user in (bob, AnonymousUser(), None):
        with pytest.raises(ZoneNotAvailable):
            services.get_managed_zone(user, "example.com")


# -- plan and apply ----------------------------------------------------------------------------------------


def test_plan_writes_nothing(zone, alice, web):
    result = services.plan(user=alice, domain="example.com", template=web, params=PARAMS)
    assert set(result.plan.to_add) == {Record("www.example.com.", "A", 3600, "192.0.2.1"),
                                       Record("example.com.", "TXT", 3600, '"sp-verify=abc"')}
    assert not result.plan.has_conflicts
    assert len(result.fingerprint) == 64
    assert zone.records("example.com") == [APEX_A]
    assert not AppliedTemplate.objects.exists() and not AuditEvent.objects.exists()


def test_apply_writes_zone_state_audit_and_signal(zone, alice, web, django_capture_on_commit_callbacks):
    received = []
    template_applied.connect(lambda **kw: received.append(kw), weak=False, dispatch_uid="t1")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            outcome = do_apply(alice, web, remote_addr="198.51.100.7")
    finally:
        template_applied.disconnect(dispatch_uid="t1")
    assert Record("www.example.com.", "A", 3600, "192.0.2.1") in zone.records("example.com")
    applied = AppliedTemplate.objects.get()
    assert (applied.domain, applied.host, applied.provider_id, applied.service_id) == (
        "example.com", "", "sp.example", "web")
    assert applied.applied_by == alice and applied.flow == "sync" and applied.template_version == 1
    assert applied.params == PARAMS
    assert AppliedRecord.objects.filter(applied=applied).count() == 2
    event = AuditEvent.objects.get()
    assert (event.action, event.outcome, event.user, event.remote_addr) == ("apply", "success", alice,
                                                                            "198.51.100.7")
    assert event.records_before == [APEX_A.to_dict()]
    assert {"name": "www.example.com.", "type": "A", "ttl": 3600, "data": "192.0.2.1"} in event.records_after
    assert outcome.audit_event == event and outcome.applied == applied
    assert len(received) == 1 and received[0]["applied"] == applied


def test_signal_not_sent_before_commit(zone, alice, web, django_capture_on_commit_callbacks):
    received = []
    template_applied.connect(lambda **kw: received.append(kw), weak=False, dispatch_uid="t2")
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            do_apply(alice, web)
        assert received == []
        for callback in callbacks:  # now "commit"
            callback()
        assert len(received) == 1
    finally:
        template_applied.disconnect(dispatch_uid="t2")


def test_reapply_is_an_update_not_a_conflict(zone, alice, web):
    do_apply(alice, web)
    do_apply(alice, web, params={"ip": "192.0.2.2", "token": "abc"}, force=False)
    records = zone.records("example.com")
    assert Record("www.example.com.", "A", 3600, "192.0.2.2") in records
    assert Record("www.example.com.", "A", 3600, "192.0.2.1") not in records
    assert AppliedTemplate.objects.count() == 1
    assert AppliedTemplate.objects.get().params["ip"] == "192.0.2.2"


def test_conflict_without_force_writes_nothing(zone, alice, web, mail):
    do_apply(alice, web)
    before = zone.records("example.com")
    with pytest.raises(ConflictsFound) as info:
        do_apply(alice, mail, params={}, force=False)
    assert info.value.conflicts
    assert zone.records("example.com") == before
    assert AppliedTemplate.objects.count() == 1
    failure = AuditEvent.objects.filter(outcome="failure").get()
    assert failure.action == "refused" and "conflicts" in failure.detail


def test_conflict_with_force_removes_other_instance(zone, alice, web, mail):
    do_apply(alice, web)
    outcome = do_apply(alice, mail, params={}, force=True)
    assert outcome.plan.has_conflicts
    assert [a.service_id for a in AppliedTemplate.objects.all()] == ["mail"]
    assert Record("www.example.com.", "CNAME", 3600, "mail.sp.example.") in zone.records("example.com")


def test_expected_fingerprint(zone, alice, web):
    shown = services.plan(user=alice, domain="example.com", template=web, params=PARAMS)
    zone.set_records("example.com", [APEX_A, Record("www.example.com.", "CNAME", 60, "elsewhere.example.")])
    with pytest.raises(PlanChanged) as info:
        do_apply(alice, web, expected_fingerprint=shown.fingerprint)
    assert info.value.plan_result.plan.has_conflicts
    assert not AppliedTemplate.objects.exists()
    fresh = info.value.plan_result.fingerprint
    do_apply(alice, web, expected_fingerprint=fresh)
    assert AppliedTemplate.objects.count() == 1


def test_backend_failure_mid_write_changes_nothing(zone, alice, web):
    zone.fail_on_write(2)
    with pytest.raises(BackendError):
        do_apply(alice, web)
    assert zone.records("example.com") == [APEX_A]
    assert not AppliedTemplate.objects.exists() and not AppliedRecord.objects.exists()
    event = AuditEvent.objects.get()
    assert event.outcome == "failure" and event.action == "apply" and "backend_error" in event.detail


def test_unexpected_backend_exception_becomes_backend_error(zone, alice, web):
    zone.fail_on_write(1, RuntimeError("disk on fire"))
    with pytest.raises(BackendError) as info:
        do_apply(alice, web)
    assert "disk on fire" not in info.value.message
    assert zone.records("example.com") == [APEX_A]


def test_engine_errors_pass_through_and_are_audited(zone, alice, web):
    with pytest.raises(EngineError):
        do_apply(alice, web, params={"ip": "192.0.2.1"})  # token missing
    with pytest.raises(EngineError):
        do_apply(alice, web, params={"ip": "not-an-ip", "token": "x"})
    assert zone.records("example.com") == [APEX_A]
    assert AuditEvent.objects.filter(outcome="failure").count() == 2


def test_not_your_zone_is_refused_and_audited(zone, bob, web):
    with pytest.raises(ZoneNotAvailable):
        do_apply(bob, web)
    event = AuditEvent.objects.get()
    assert (event.action, event.outcome, event.user) == ("refused", "failure", bob)
    assert zone.records("example.com") == [APEX_A]


def test_secrets_never_stored(zone, alice, web):
    do_apply(alice, web, params={**PARAMS, "sig": "SIG", "key": "_dck1", "client_secret": "s"})
    event = AuditEvent.objects.get()
    assert set(event.params) == {"ip", "token"}
    assert "SIG" not in str(event.params) and "SIG" not in str(AppliedTemplate.objects.get().params)


def test_async_fields_recorded(zone, alice, web):
    do_apply(alice, web, flow="async", client_id="sp.example", grant_id=42)
    applied = AppliedTemplate.objects.get()
    assert (applied.flow, applied.client_id, applied.grant_id) == ("async", "sp.example", 42)
    assert AuditEvent.objects.get().client_id == "sp.example"


def test_host_param(zone, alice, web):
    do_apply(alice, web, host="shop")
    assert Record("www.shop.example.com.", "A", 3600, "192.0.2.1") in zone.records("example.com")
    assert AppliedTemplate.objects.get().host == "shop"


# -- revert ------------------------------------------------------------------------------------------------


def test_apply_then_revert_restores_zone(zone, alice, web, django_capture_on_commit_callbacks):
    do_apply(alice, web)
    received = []
    template_reverted.connect(lambda **kw: received.append(kw), weak=False, dispatch_uid="t3")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            outcome = services.revert(user=alice, domain="example.com", provider_id="sp.example", service_id="web",
                                      flow="sync")
    finally:
        template_reverted.disconnect(dispatch_uid="t3")
    assert zone.records("example.com") == [APEX_A]
    assert not AppliedTemplate.objects.exists() and not AppliedRecord.objects.exists()
    assert outcome.audit_event.action == "revert" and outcome.audit_event.outcome == "success"
    assert len(received) == 1 and received[0]["service_id"] == "web"


def test_revert_keeps_records_the_user_edited(zone, alice, web):
    do_apply(alice, web)
    zone.set_records("example.com", [r for r in zone.records("example.com") if r.type != "A" or r == APEX_A]
                     + [Record("www.example.com.", "A", 3600, "203.0.113.5")])
    services.revert(user=alice, domain="example.com", provider_id="sp.example", service_id="web", flow="sync")
    assert Record("www.example.com.", "A", 3600, "203.0.113.5") in zone.records("example.com")


def test_revert_not_applied(zone, alice, web):
    with pytest.raises(NotApplied):
        services.revert(user=alice, domain="example.com", provider_id="sp.example", service_id="web", flow="async")
    do_apply(alice, web)
    with pytest.raises(NotApplied):
        services.revert(user=alice, domain="example.com", host="other", provider_id="sp.example",
                        service_id="web", flow="async")
    assert AuditEvent.objects.filter(action="revert", outcome="failure").count() == 2


def test_revert_not_yours(zone, alice, bob, web):
    do_apply(alice, web)
    with pytest.raises(ZoneNotAvailable):
        services.revert(user=bob, domain="example.com", provider_id="sp.example", service_id="web", flow="sync")
    assert AppliedTemplate.objects.count() == 1


def test_revert_backend_failure_keeps_state(zone, alice, web):
    do_apply(alice, web)
    before = zone.records("example.com")
    zone.fail_on_write(1)
    with pytest.raises(BackendError):
        services.revert(user=alice, domain="example.com", provider_id="sp.example", service_id="web", flow="sync")
    assert zone.records("example.com") == before
    assert AppliedTemplate.objects.count() == 1


def test_applied_instances(zone, alice, web):
    assert services.applied_instances("example.com") == []
    do_apply(alice, web)
    [row] = services.applied_instances("EXAMPLE.com")
    assert row.service_id == "web"
    assert services.applied_instances("not a domain") == []


# -- cost --------------------------------------------------------------------------------------------------


def _count_apply_queries(alice, web):
    with CaptureQueriesContext(connection) as ctx:
        do_apply(alice, web)
    return len(ctx.captured_queries)


def test_queries_do_not_grow_with_zone_size_or_template_count(zone, alice, web):
    _count_apply_queries(alice, web)  # warm-up: creates the zone's lock row
    AppliedTemplate.objects.all().delete()
    small = _count_apply_queries(alice, web)
    AppliedTemplate.objects.all().delete()
    zone.set_records("example.com", [APEX_A] + [Record(f"h{i}.example.com.", "A", 60, "192.0.2.9")
                                                for i in range(2000)])
    Template.objects.bulk_create([Template(provider_id="bulk.example", service_id=f"s{i}", body={})
                                  for i in range(300)])
    large = _count_apply_queries(alice, web)
    assert large == small


def test_apply_lists_only_needed_names(zone, alice, web, monkeypatch):
    seen = []
    original = zone.list_records

    def spy(z, scope=None):
        seen.append(scope)
        return original(z, scope)

    monkeypatch.setattr(zone, "list_records", spy)
    do_apply(alice, web)
    assert seen and all(s is not None for s in seen)
    assert not seen[0].covers("h1.example.com.")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_applies_are_serialised(memory_backend, django_user_model, monkeypatch):
    import threading
    import time

    from django.db import connections

    if not connection.features.has_select_for_update:
        pytest.skip(f"{connection.vendor} has no row locks; run on PostgreSQL (make test-postgres)")
    owner = django_user_model.objects.create_user("carol", password="pw")
    memory_backend.add_zone("example.com", owners=[owner.pk], records=[APEX_A])
    web, mail = save_template(WEB).template, save_template(MAIL).template
    original = memory_backend.list_records

    def slow_list(z, scope=None):  # widen the race window between reading and writing the zone
        result = original(z, scope)
        time.sleep(0.3)
        return result

    monkeypatch.setattr(memory_backend, "list_records", slow_list)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker(template, params):
        try:
            barrier.wait()
            services.apply(user=owner, domain="example.com", template=template, params=params, flow="async")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(web, PARAMS)), threading.Thread(target=worker, args=(mail, {}))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert errors == []
    www = {r.type for r in memory_backend.records("example.com") if r.name == "www.example.com."}
    assert www in ({"A"}, {"CNAME"})  # one serial order or the other, never both
    assert AppliedTemplate.objects.count() == 1
    assert AuditEvent.objects.filter(outcome="success").count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_lock_wait_is_bounded(memory_backend, django_user_model, settings):
    import threading

    from django.db import connections, transaction

    if connection.vendor != "postgresql":
        pytest.skip("lock_timeout is a PostgreSQL feature; run on PostgreSQL (make test-postgres)")
    settings.DOMAINCONNECT = {**settings.DOMAINCONNECT, "LOCK_TIMEOUT": 0.2}
    backend = services.get_backend()
    owner = django_user_model.objects.create_user("dave", password="pw")
    backend.add_zone("example.com", owners=[owner.pk], records=[APEX_A])
    web = save_template(WEB).template
    zone = backend.get_zone("example.com")
    holding, release = threading.Event(), threading.Event()

    def holder():
        try:
            with transaction.atomic(), backend.lock(zone):
                holding.set()
                release.wait(10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        assert holding.wait(10)
        with pytest.raises(BackendError) as info:
            services.apply(user=owner, domain="example.com", template=web, params=PARAMS, flow="sync")
        assert info.value.code == "temporarily_unavailable"
    finally:
        release.set()
        thread.join(10)
    assert backend.records("example.com") == [APEX_A]
    assert AuditEvent.objects.filter(outcome="failure", detail__contains="temporarily_unavailable").count() == 1


# -- state machine (SECURITY.md fuzz target 9) -----------------------------------------------------------

SPF = {
    "providerId": "sp.example", "providerName": "SP", "serviceId": "spf", "serviceName": "SPF", "version": 1,
    "records": [{"type": "SPFM", "host": "@", "spfRules": "include:_spf.sp.example"}],
}


def _cname_exclusive(records):
    by_name: dict[str, set[str]] = {}
    for r in records:
        by_name.setdefault(r.name, set()).add(r.type)
    return all(types == {"CNAME"} or "CNAME" not in types for types in by_name.values())


def test_zone_state_machine(memory_backend, alice):
    from hypothesis import HealthCheck, settings
    from hypothesis import strategies as st
    from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

    templates = {t["serviceId"]: save_template(t).template for t in (WEB, MAIL, SPF)}
    base = [APEX_A, Record("example.com.", "TXT", 3600, '"v=spf1 mx -all"')]
    ips = st.sampled_from(["192.0.2.1", "192.0.2.2", "198.51.100.3"])
    names = st.sampled_from(["web", "mail", "spf"])

    def params_for(sid, ip):
        return {"ip": ip, "token": "t"} if sid == "web" else {}

    class ZoneMachine(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            memory_backend.reset()
            memory_backend.add_zone("example.com", owners=[alice.pk], records=base)
            AppliedTemplate.objects.all().delete()

        def snapshot(self):
            return memory_backend.records("example.com"), sorted(
                (a.service_id, a.instance_id, tuple(sorted((r.name, r.type, r.data) for r in a.records.all())))
                for a in AppliedTemplate.objects.prefetch_related("records"))

        @rule(sid=names, ip=ips, force=st.booleans())
        def apply(self, sid, ip, force):
            before = self.snapshot()
            try:
                do_apply(alice, templates[sid], params=params_for(sid, ip), force=force)
            except ConflictsFound:
                assert not force
                assert self.snapshot() == before
                return
            applied = {a.service_id for a in AppliedTemplate.objects.all()}
            assert sid in applied
            assert AppliedTemplate.objects.filter(service_id=sid).count() == 1  # re-apply is an update

        @rule(sid=names, ip=ips)
        def apply_with_failure(self, sid, ip):
            before = self.snapshot()
            memory_backend.fail_on_write(1)
            try:
                do_apply(alice, templates[sid], params=params_for(sid, ip))
            except BackendError:
                assert self.snapshot() == before
            finally:
                memory_backend.fail_on_write(None)

        @rule(sid=names)
        def revert(self, sid):
            try:
                services.revert(user=alice, domain="example.com", provider_id="sp.example", service_id=sid,
                                flow="sync")
            except NotApplied:
                assert not AppliedTemplate.objects.filter(service_id=sid).exists()
                return
            assert not AppliedTemplate.objects.filter(service_id=sid).exists()

        @rule(sid=names, ip=ips)
        def apply_then_revert_is_identity_without_conflicts(self, sid, ip):
            if AppliedTemplate.objects.filter(service_id=sid).exists():
                return
            result = services.plan(user=alice, domain="example.com", template=templates[sid],
                                   params=params_for(sid, ip))
            existing = {r.key() for r in memory_backend.records("example.com")}
            owned = {o.record.key() for o in result.plan.new_instance.records}
            if result.plan.has_conflicts or result.plan.to_delete or owned & existing:
                # Records the zone already held are adopted by the instance (and removed by a revert):
                # identity is only promised for applies that purely add.
                return
            before = self.snapshot()
            do_apply(alice, templates[sid], params=params_for(sid, ip), force=False)
            services.revert(user=alice, domain="example.com", provider_id="sp.example", service_id=sid,
                            flow="sync")
            assert self.snapshot() == before

        @rule(ip=ips)
        def manual_edit(self, ip):
            records = memory_backend.records("example.com")
            memory_backend.set_records("example.com", [r for r in records if r.name != "www.example.com."]
                                       + [Record("www.example.com.", "A", 60, ip)])

        @invariant()
        def zone_is_consistent(self):
            records = memory_backend.records("example.com")
            assert _cname_exclusive(records)
            assert all(r.name.endswith("example.com.") for r in records)
            assert APEX_A in records  # no template here touches the apex A
            spf = [r for r in records if r.type == "TXT" and r.name == "example.com." and "v=spf1" in r.data]
            assert len(spf) <= 1

    run_state_machine_as_test(ZoneMachine, settings=settings(
        max_examples=25, stateful_step_count=12, deadline=None, database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]))


def test_spf_merge_apply_then_revert_restores_the_record(zone, alice):
    spf_template = save_template(SPF).template
    original = [APEX_A, Record("example.com.", "TXT", 3600, '"v=spf1 mx -all"')]
    zone.set_records("example.com", original)
    do_apply(alice, spf_template, params={})
    [merged] = [r for r in zone.records("example.com") if r.type == "TXT"]
    assert "include:_spf.sp.example" in merged.data and "mx" in merged.data
    services.revert(user=alice, domain="example.com", provider_id="sp.example", service_id="spf", flow="sync")
    assert zone.records("example.com") == original


def test_ownership_rechecked_under_the_lock(zone, alice, web, monkeypatch):
    from django_domainconnect.backends.base import BaseDNSBackend

    original = BaseDNSBackend.lock

    def lock_then_transfer(self, z):
        zone.set_owners("example.com", ["someone-else"])  # the domain changes hands while we wait
        return original(self, z)

    monkeypatch.setattr(type(zone), "lock", lock_then_transfer)
    with pytest.raises(ZoneNotAvailable):
        do_apply(alice, web)
    assert zone.records("example.com") == [APEX_A]
    assert not AppliedTemplate.objects.exists()


# -- cost with many applied instances (benchmarks/FINDINGS.md 3, 5, 6) --------------------------------------


def _instance(domain, sid, records, essential="Always"):
    row = AppliedTemplate.objects.create(domain=domain, provider_id="other.example", service_id=sid,
                                         instance_id=f"id-{sid}", flow="sync")
    AppliedRecord.objects.bulk_create([AppliedRecord(applied=row, name=r.name, type=r.type, ttl=r.ttl, data=r.data,
                                                     essential=essential) for r in records])
    return row


def test_only_instances_touching_the_plan_are_loaded(zone, alice, web, monkeypatch):
    import django_domainconnect.engine.plan as engine_plan

    extra = []
    for i in range(30):
        rec = Record(f"far{i}.example.com.", "A", 60, "192.0.2.50")
        extra.append(rec)
        _instance("example.com", f"far{i}", [rec])
    near = Record("www.example.com.", "TXT", 60, '"near"')  # same name as the plan, no conflict
    _instance("example.com", "near", [near])
    zone.set_records("example.com", [APEX_A, near, *extra])
    seen = []
    original = engine_plan.plan_apply

    def spy(*args, **kwargs):
        seen.append(sorted(i.service_id for i in kwargs["instances"]))
        return original(*args, **kwargs)

    monkeypatch.setattr(engine_plan, "plan_apply", spy)
    do_apply(alice, web)
    assert seen == [["near"]]
    assert AppliedTemplate.objects.count() == 32  # web + the 31 others, untouched


def test_trimming_many_instances_costs_a_fixed_number_of_queries(zone, alice, mail):
    def run(n):
        AppliedTemplate.objects.all().delete()
        records = [APEX_A]
        for i in range(n):
            www = Record("www.example.com.", "A", 60, f"192.0.2.{i + 1}")
            other = Record(f"o{i}.example.com.", "TXT", 60, f'"keep {i}"')
            records += [www, other]
            _instance("example.com", f"t{i}", [www, other], essential="OnApply")
        zone.set_records("example.com", records)
        with CaptureQueriesContext(connection) as ctx:
            outcome = do_apply(alice, mail, params={})
        assert len(outcome.plan.updated_instances) == n
        assert all(AppliedRecord.objects.filter(applied__instance_id=f"id-t{i}").count() == 1 for i in range(n))
        return len(ctx.captured_queries)

    run(1)  # warm-up (lock row)
    assert run(2) == run(12)


def test_noop_reapply_leaves_state_rows_alone(zone, alice, web):
    do_apply(alice, web)
    row = AppliedTemplate.objects.get()
    record_ids = sorted(AppliedRecord.objects.values_list("pk", flat=True))
    with CaptureQueriesContext(connection) as first:
        outcome = do_apply(alice, web)
    assert outcome.plan.is_noop
    assert sorted(AppliedRecord.objects.values_list("pk", flat=True)) == record_ids
    assert AppliedTemplate.objects.get().updated_at == row.updated_at
    assert AuditEvent.objects.filter(action="apply", outcome="success").count() == 2  # still audited
    do_apply(alice, web, params={"ip": "192.0.2.7", "token": "abc"})
    assert AppliedTemplate.objects.get().params["ip"] == "192.0.2.7"
    assert len(first.captured_queries) < 15
