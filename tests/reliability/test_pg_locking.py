"""The zone lock on PostgreSQL is a real row lock: a second writer of the same zone blocks inside the
server until the first commits, writers of other zones do not wait, waits are bounded by LOCK_TIMEOUT, and
a deadlock with host code becomes a clear "try again" (docs/locking.md)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections, transaction

from django_domainconnect import services
from django_domainconnect.exceptions import BackendError
from django_domainconnect.models import AuditEvent

from .conftest import DOMAIN, make_zone, params_for, require_row_locks, snapshot

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(params=["memory", "registrar"])
def pg_zone(request, owner, settings, memory_backend, templates):
    require_row_locks()
    return make_zone(request.param, owner, settings, memory_backend)


class Holder:
    """Holds ``backend.lock(zone)`` in its own thread and connection until ``release()``."""

    def __init__(self, backend: Any, zone: Any) -> None:
        self.holding, self.released = threading.Event(), threading.Event()
        self.pid: int | None = None
        self.thread = threading.Thread(target=self._run, args=(backend, zone), daemon=True)

    def _run(self, backend: Any, zone: Any) -> None:
        try:
            with transaction.atomic(), backend.lock(zone):
                self.pid = connection.connection.info.backend_pid
                self.holding.set()
                self.released.wait(15)
        finally:
            connections.close_all()

    def __enter__(self) -> Holder:
        self.thread.start()
        assert self.holding.wait(10), "the first writer never got the lock"
        return self

    def __exit__(self, *exc: object) -> None:
        self.released.set()
        self.thread.join(15)


def in_thread(fn: Callable[[], Any]) -> tuple[threading.Thread, dict[str, Any]]:
    out: dict[str, Any] = {}

    def run() -> None:
        try:
            out["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - inspected by the test
            out["error"] = exc
        finally:
            out["done_at"] = time.monotonic()
            connections.close_all()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, out


def waiting_on_a_lock(blocker_pid: int) -> list[int]:
    """Server processes blocked by ``blocker_pid`` (what a real row lock looks like from the server)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))", [blocker_pid])
        return [row[0] for row in cursor.fetchall()]


def test_second_writer_blocks_in_the_server_until_the_first_commits(pg_zone, owner, templates):
    backend = services.get_backend()
    zone = backend.get_zone(DOMAIN)
    with Holder(backend, zone) as holder:
        thread, out = in_thread(lambda: services.apply(user=owner, domain=DOMAIN, template=templates["web"],
                                                       params=params_for("web", 0), flow="async"))
        deadline = time.monotonic() + 5
        while not waiting_on_a_lock(holder.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert waiting_on_a_lock(holder.pid), "the second writer is not waiting on the first one's lock"
        time.sleep(0.3)
        assert "done_at" not in out, "the second writer went ahead while the first held the lock"
        released_at = time.monotonic()
    thread.join(10)
    assert "error" not in out, out.get("error")
    assert out["done_at"] >= released_at
    assert any(r.name == "www.example.com." for r in pg_zone.records())


def test_writers_of_other_zones_do_not_wait(pg_zone, owner, templates, memory_backend):
    backend = services.get_backend()
    if pg_zone.kind == "memory":
        other = memory_backend.add_zone("other.example", owners=[owner.pk])
    else:
        from registrar.models import Domain

        Domain.objects.create(name="other.example", owner=owner, verified=True)
        other = backend.get_zone("other.example")
    with Holder(backend, backend.get_zone(DOMAIN)):
        started = time.monotonic()
        services.apply(user=owner, domain=other.domain, template=templates["spf"], params={}, flow="async")
        assert time.monotonic() - started < 5  # the holder keeps example.com locked for 15 s


@pytest.mark.parametrize("kind", ["memory", "registrar"])
def test_lock_wait_is_bounded_for_every_backend(kind, owner, templates, settings):
    """LOCK_TIMEOUT bounds the wait whichever backend's lock() is used (the registrar locks its own row)."""
    require_row_locks()
    settings.DOMAINCONNECT = {**settings.DOMAINCONNECT, "LOCK_TIMEOUT": 0.3}
    pg_zone = make_zone(kind, owner, settings, services.get_backend())
    backend = services.get_backend()
    state = snapshot(pg_zone)
    with Holder(backend, backend.get_zone(DOMAIN)):
        thread, out = in_thread(lambda: services.apply(user=owner, domain=DOMAIN, template=templates["web"],
                                                       params=params_for("web", 0), flow="async"))
        thread.join(5)
        finished = "done_at" in out
    thread.join(10)
    assert finished, "the waiting writer was still blocked after 5 s with LOCK_TIMEOUT = 0.3 s"
    assert isinstance(out.get("error"), BackendError) and out["error"].code == "temporarily_unavailable"
    assert "in progress" in out["error"].message
    assert snapshot(pg_zone) == state
    assert AuditEvent.objects.filter(outcome="failure", detail__contains="temporarily_unavailable").count() == 1


def test_a_deadlock_with_host_code_is_a_clear_error(owner, settings, memory_backend, templates):
    """A host transaction that holds one of its rows and then applies, against a writer that holds the zone
    lock and wants that row: PostgreSQL breaks the cycle, and the apply reports "try again"."""
    require_row_locks()
    zone = make_zone("memory", owner, settings, memory_backend)
    state = snapshot(zone)
    backend = services.get_backend()
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    holder_has_zone, host_has_row = threading.Event(), threading.Event()

    def zone_then_row() -> None:
        with transaction.atomic(), backend.lock(backend.get_zone(DOMAIN)):
            holder_has_zone.set()
            host_has_row.wait(5)
            time.sleep(0.2)  # let the other side queue on the zone lock first
            list(user_model.objects.select_for_update().filter(pk=owner.pk))

    def row_then_apply() -> Any:
        with transaction.atomic():
            list(user_model.objects.select_for_update().filter(pk=owner.pk))
            host_has_row.set()
            return services.apply(user=owner, domain=DOMAIN, template=templates["web"], params=params_for("web", 0),
                                  flow="async")

    first, first_out = in_thread(zone_then_row)
    assert holder_has_zone.wait(5)
    second, second_out = in_thread(row_then_apply)
    first.join(15)
    second.join(15)
    errors = [o.get("error") for o in (first_out, second_out) if o.get("error")]
    assert len(errors) == 1, (first_out, second_out)  # the server aborted exactly one side
    if "error" in second_out:  # the apply was the victim: a clear error, nothing written
        assert isinstance(second_out["error"], BackendError)
        assert second_out["error"].code == "temporarily_unavailable"
        assert snapshot(zone) == state
    else:  # the other side was the victim: the apply went through whole
        assert any(r.name == "www.example.com." for r in zone.records())
