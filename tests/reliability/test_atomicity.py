"""Atomicity (SECURITY.md F.43): a failure at any write — in the backend, in the app's state rows, in the
audit row, or at COMMIT — leaves the zone, the SOA serial, the applied state and the audit "success" rows
as they were; a failure audit row is written and the caller gets a clear error (HTTP: 4xx/503, never 500).
"""

from __future__ import annotations

import re

import pytest
from django.db import DatabaseError, transaction

from django_domainconnect import services
from django_domainconnect.exceptions import BackendError, DomainConnectError
from django_domainconnect.models import AuditEvent
from django_domainconnect.testing.faults import failing_commit, write_faults

from .conftest import DOMAIN, make_zone, params_for, snapshot

pytestmark = pytest.mark.django_db

# Each case replaces, deletes and adds records, touches other instances and state rows.
CASES = [
    ("web", ["alias"]),  # A www replaces an applied CNAME (a removed instance), TXT added at the apex
    ("spf", ["spf2"]),  # SPF merge rewrites the apex SPF record another instance also claims
    ("verify", []),  # Prefix conflict deletes the old verify= TXT
    ("app", ["app"]),  # a re-apply with new values: an update of the instance
]


def do_apply(owner, template, n=0, **kwargs):
    kwargs.setdefault("flow", "sync")
    return services.apply(user=owner, domain=DOMAIN, template=template, params=params_for(template.service_id, n),
                          **kwargs)


def prepare(owner, templates, before):
    for sid in before:
        do_apply(owner, templates[sid], n=1)


def failures() -> int:
    return AuditEvent.objects.filter(outcome="failure").count()


# -- a backend that fails at the k-th record write ----------------------------------------------------------


@pytest.mark.parametrize(("sid", "before"), CASES)
def test_memory_backend_failing_at_every_write(memory_backend, owner, templates, settings, sid, before):
    zone = make_zone("memory", owner, settings, memory_backend)
    prepare(owner, templates, before)
    the_plan = services.plan(user=owner, domain=DOMAIN, template=templates[sid], params=params_for(sid, 2)).plan
    writes = len(the_plan.to_delete) + len(the_plan.to_add)
    assert writes >= 1
    for k in range(1, writes + 1):
        state = snapshot(zone)
        memory_backend.fail_on_write(k)
        failed = failures()
        with pytest.raises(BackendError) as info:
            do_apply(owner, templates[sid], n=2)
        assert f"write {k}" in str(info.value)
        assert snapshot(zone) == state, f"write {k} of {writes} left a trace"
        assert failures() == failed + 1
    memory_backend.fail_on_write(0)
    do_apply(owner, templates[sid], n=2)  # and without the fault it goes through
    assert snapshot(zone) != state


@pytest.mark.parametrize(("sid", "before"), CASES)
def test_every_database_write_failing(zone, owner, templates, sid, before):
    """Fail each INSERT/UPDATE/DELETE of one apply in turn: lock row, state rows, audit row, the registrar's
    record rows and SOA bump. The service raises a DomainConnectError, never a bare DatabaseError."""
    prepare(owner, templates, before)
    state = snapshot(zone)
    with transaction.atomic():
        with write_faults() as counted:
            do_apply(owner, templates[sid], n=2)
        transaction.set_rollback(True)
    if zone.kind == "memory":  # the memory zone is not in the database: undo the counting run by hand
        zone.set_records(state[0])
    assert snapshot(zone) == state
    assert counted.count >= 3, counted.writes
    bare: list[str] = []
    for k in range(1, counted.count + 1):
        failed = failures()
        with write_faults(k) as faults:
            try:
                do_apply(owner, templates[sid], n=2)
            except DomainConnectError:
                pass
            except DatabaseError:
                bare.append(faults.writes[-1])
            else:
                pytest.fail(f"write {k} ({faults.writes[-1]}) failed but apply reported success")
        assert faults.failed
        assert snapshot(zone) == state, f"failing write {k} ({faults.writes[-1]}) left a trace"
        assert failures() == failed + 1, f"no failure audit row for write {k}"
    assert bare == [], f"these failing writes reach the caller as a bare DatabaseError (a 500): {bare}"


def test_revert_failing_at_every_database_write(zone, owner, templates):
    prepare(owner, templates, ["web", "spf"])
    state = snapshot(zone)
    with transaction.atomic():
        with write_faults() as counted:
            services.revert(user=owner, domain=DOMAIN, provider_id="sp.example", service_id="spf", flow="sync")
        transaction.set_rollback(True)
    if zone.kind == "memory":
        zone.set_records(state[0])
    assert snapshot(zone) == state
    bare: list[str] = []
    for k in range(1, counted.count + 1):
        with write_faults(k) as faults:
            try:
                services.revert(user=owner, domain=DOMAIN, provider_id="sp.example", service_id="spf",
                                flow="sync")
            except DomainConnectError:
                pass
            except DatabaseError:
                bare.append(faults.writes[-1])
        assert snapshot(zone) == state, f"failing write {k} ({faults.writes[-1]}) left a trace"
    assert bare == [], f"these failing writes reach the caller as a bare DatabaseError (a 500): {bare}"


def test_success_audit_row_failing(zone, owner, templates, monkeypatch):
    prepare(owner, templates, ["alias"])
    state = snapshot(zone)
    original = AuditEvent.save

    def save(self, *args, **kwargs):
        if self.outcome == AuditEvent.Outcome.SUCCESS:
            raise DatabaseError("audit table is full")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(AuditEvent, "save", save)
    failed = failures()
    with pytest.raises(BackendError) as info:
        do_apply(owner, templates["web"])
    assert info.value.code == "temporarily_unavailable"
    assert snapshot(zone) == state
    assert failures() == failed + 1


# -- a database error at COMMIT ------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("action", ["apply", "revert"])
def test_commit_failure_with_a_database_backend(owner, settings, memory_backend, templates, action):
    """The example registrar keeps its zone in the same database: a failed COMMIT undoes everything."""
    zone = make_zone("registrar", owner, settings, memory_backend)
    prepare(owner, templates, ["alias", "spf"])
    state = snapshot(zone)
    with failing_commit() as failed, pytest.raises(BackendError):
        if action == "apply":
            do_apply(owner, templates["web"])
        else:
            services.revert(user=owner, domain=DOMAIN, provider_id="sp.example", service_id="spf", flow="sync")
    assert failed == [1]
    assert snapshot(zone) == state
    assert AuditEvent.objects.filter(outcome="failure", action=action).count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.xfail(strict=True, reason=(
    "a backend that writes outside the database (the memory backend, an external DNS API) has already "
    "written when COMMIT fails, and nothing undoes it: needs a compensating apply_changes on rollback "
    "or an outbox (SECURITY.md F.43); documented in docs/locking.md"))
def test_commit_failure_with_an_external_backend(owner, settings, memory_backend, templates):
    zone = make_zone("memory", owner, settings, memory_backend)
    prepare(owner, templates, ["alias"])
    state = snapshot(zone)
    with failing_commit(), pytest.raises((DomainConnectError, DatabaseError)):
        do_apply(owner, templates["web"])
    assert snapshot(zone) == state


@pytest.mark.django_db(transaction=True)
def test_commit_failure_is_a_clear_error(owner, settings, memory_backend, templates):
    make_zone("registrar", owner, settings, memory_backend)
    with failing_commit(), pytest.raises(DomainConnectError) as info:
        do_apply(owner, templates["web"])
    assert info.value.message and not re.search(r"COMMIT|Traceback|Error\(", info.value.message)


def test_revert_of_several_instances(zone, owner, templates):
    do_apply(owner, templates["multi"], n=0)
    do_apply(owner, templates["multi"], n=1)
    do_apply(owner, templates["multi"], n=2)
    services.revert(user=owner, domain=DOMAIN, provider_id="sp.example", service_id="multi", flow="sync")
    assert not [r for r in zone.records() if r.name.startswith("_multi.")]
