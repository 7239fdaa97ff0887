"""Contract tests every DNS backend should pass. Subclass in your own test suite::

    from django_domainconnect.testing.backend_contract import BackendContract

    class TestMyBackend(BackendContract):
        def make_backend(self):
            return MyBackend(api_url="…")

        def create_zone(self, backend, domain, records, owner):   # only if your backend has no add_zone()
            ...                                                    # create the zone in *your* models
            return backend.get_zone(domain)

The tests use pytest-django's ``db``/``transactional_db`` fixtures (the default ``lock()`` uses a row of this
app's ``ZoneLock`` table). The concurrency test runs only on a database with row locks (PostgreSQL).
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from django_domainconnect.backends.base import BaseDNSBackend, Zone
from django_domainconnect.engine.types import NameScope, Record

# One sample record per type, written and read back unchanged when the backend supports the type.
SAMPLES = {
    "A": Record("s.{d}.", "A", 3600, "192.0.2.10"),
    "AAAA": Record("s.{d}.", "AAAA", 3600, "2001:db8::10"),
    "CNAME": Record("c.{d}.", "CNAME", 3600, "target.example.net."),
    "MX": Record("{d}.", "MX", 3600, "10 mx.example.net."),
    "TXT": Record("s.{d}.", "TXT", 3600, '"hello world"'),
    "SRV": Record("_sip._tcp.{d}.", "SRV", 3600, "10 20 5060 sip.example.net."),
    "NS": Record("sub.{d}.", "NS", 3600, "ns1.example.net."),
    "CAA": Record("{d}.", "CAA", 3600, '0 issue "ca.example.net"'),
}


def _fmt(record: Record, domain: str) -> Record:
    return Record(record.name.format(d=domain), record.type, record.ttl, record.data)


@pytest.mark.django_db
class BackendContract:
    """Base class (not collected itself: its name does not start with ``Test``)."""

    domain = "contract-test.example"
    idn_domain = "xn--bcher-kva.example"  # bücher.example

    # -- hooks ----------------------------------------------------------------------------------------------

    def make_backend(self) -> BaseDNSBackend:
        raise NotImplementedError("BackendContract subclasses must implement make_backend()")

    def create_zone(self, backend: BaseDNSBackend, domain: str, records: list[Record], owner: Any) -> Zone:
        """Create ``domain`` with ``records`` owned by ``owner`` (a user); default uses ``backend.add_zone``."""
        add_zone = getattr(backend, "add_zone", None)
        if add_zone is None:
            raise NotImplementedError("override create_zone() for a backend without add_zone()")
        return add_zone(domain, owners=[owner.pk], records=records)

    def make_user(self, username: str) -> Any:
        from django.contrib.auth import get_user_model

        return get_user_model().objects.create_user(username=username, password="x")  # noqa: S106

    # -- fixtures -------------------------------------------------------------------------------------------

    @pytest.fixture
    def backend(self) -> BaseDNSBackend:
        return self.make_backend()

    @pytest.fixture
    def owner(self, db: Any) -> Any:
        return self.make_user("contract-owner")

    @pytest.fixture
    def base_records(self) -> list[Record]:
        d = self.domain
        return [
            Record(f"{d}.", "A", 3600, "192.0.2.1"),
            Record(f"www.{d}.", "A", 3600, "192.0.2.1"),
            Record(f"www.{d}.", "A", 3600, "192.0.2.2"),
            Record(f"mail.{d}.", "TXT", 3600, '"v=spf1 -all"'),
            Record(f"deep.below.{d}.", "A", 3600, "192.0.2.3"),
        ]

    @pytest.fixture
    def zone(self, backend: BaseDNSBackend, owner: Any, base_records: list[Record]) -> Zone:
        return self.create_zone(backend, self.domain, base_records, owner)

    # -- tests ----------------------------------------------------------------------------------------------

    def test_get_zone_finds_hosted_apex(self, backend, zone):
        found = backend.get_zone(self.domain)
        assert found is not None
        assert found.domain == self.domain

    def test_get_zone_none_for_unhosted_and_subdomains(self, backend, zone):
        assert backend.get_zone("not-hosted-" + self.domain) is None
        assert backend.get_zone("www." + self.domain) is None
        assert backend.get_zone(self.domain.split(".", 1)[1]) is None

    def test_get_zone_idn_by_alabel(self, backend, owner):
        self.create_zone(backend, self.idn_domain, [], owner)
        found = backend.get_zone(self.idn_domain)
        assert found is not None and found.domain == self.idn_domain
        assert backend.get_zone("bücher-not-hosted.example") is None

    def test_user_can_manage_only_owner(self, backend, zone, owner):
        from django.contrib.auth.models import AnonymousUser

        assert backend.user_can_manage(owner, zone) is True
        assert backend.user_can_manage(self.make_user("contract-stranger"), zone) is False
        assert backend.user_can_manage(AnonymousUser(), zone) is False

    def test_list_records_whole_zone(self, backend, zone, base_records):
        assert sorted(backend.list_records(zone)) == sorted(base_records)

    def test_scoped_listing_covers_names_and_subtrees(self, backend, zone, base_records):
        d = self.domain
        scope = NameScope(names=frozenset({f"www.{d}."}), subtrees=frozenset({f"below.{d}."}))
        listed = set(backend.list_records(zone, scope))
        wanted = {r for r in base_records if scope.covers(r.name)}
        assert wanted <= listed
        assert len(wanted) == 3

    def test_apply_changes_deletes_then_adds(self, backend, zone, base_records):
        d = self.domain
        old = Record(f"www.{d}.", "A", 3600, "192.0.2.2")
        new = Record(f"www.{d}.", "CNAME", 600, "target.example.net.")
        backend.apply_changes(zone, [old, Record(f"www.{d}.", "A", 3600, "192.0.2.1")], [new])
        after = set(backend.list_records(zone))
        assert new in after
        assert old not in after
        assert Record(f"{d}.", "A", 3600, "192.0.2.1") in after

    def test_failure_mid_write_leaves_zone_unchanged(self, backend, zone, base_records):
        d = self.domain
        missing = Record(f"nope.{d}.", "A", 3600, "192.0.2.99")
        with pytest.raises(Exception):  # noqa: B017 - any error is fine, as long as nothing changed
            backend.apply_changes(zone, [base_records[0], missing], [Record(f"new.{d}.", "A", 3600, "192.0.2.7")])
        assert sorted(backend.list_records(zone)) == sorted(base_records)

    def test_injected_failure_leaves_zone_unchanged(self, backend, zone, base_records):
        inject = getattr(backend, "fail_on_write", None)
        if inject is None:
            pytest.skip("backend has no fail_on_write() hook")
        inject(2)
        d = self.domain
        with pytest.raises(Exception):  # noqa: B017
            backend.apply_changes(zone, [base_records[1]], [Record(f"new.{d}.", "A", 3600, "192.0.2.7")])
        assert sorted(backend.list_records(zone)) == sorted(base_records)

    def test_supported_types_round_trip(self, backend, zone):
        types = backend.supported_types
        assert types and all(t == t.upper() for t in types)
        samples = [_fmt(SAMPLES[t], self.domain) for t in sorted(types) if t in SAMPLES]
        backend.apply_changes(zone, [], samples)
        listed = set(backend.list_records(zone))
        for record in samples:
            assert record in listed, f"{record.type} record did not round-trip: {record}"

    def test_lock_inside_transaction(self, backend, zone):
        from django.db import transaction

        with transaction.atomic():
            with backend.lock(zone):
                backend.apply_changes(zone, [], [Record(f"locked.{self.domain}.", "A", 60, "192.0.2.8")])
        assert Record(f"locked.{self.domain}.", "A", 60, "192.0.2.8") in backend.list_records(zone)

    @pytest.mark.postgres
    @pytest.mark.django_db(transaction=True)
    def test_lock_serialises_writers(self, backend, zone):
        from django.db import connection, transaction

        if not connection.features.has_select_for_update:
            pytest.skip(f"{connection.vendor} has no row locks; run on PostgreSQL (make test-postgres)")
        events: list[tuple[str, float]] = []
        barrier = threading.Barrier(2)

        def worker(name: str, hold: float) -> None:
            from django.db import connections

            try:
                barrier.wait()
                if name == "second":
                    time.sleep(0.1)  # let the first take the lock
                with transaction.atomic():
                    with backend.lock(zone):
                        events.append((f"{name}-in", time.monotonic()))
                        time.sleep(hold)
                        events.append((f"{name}-out", time.monotonic()))
            finally:
                connections.close_all()

        threads = [threading.Thread(target=worker, args=("first", 0.5)),
                   threading.Thread(target=worker, args=("second", 0.0))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        order = [name for name, _ in sorted(events, key=lambda e: e[1])]
        assert order == ["first-in", "first-out", "second-in", "second-out"]
