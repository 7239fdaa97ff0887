"""MemoryBackend: the reference backend passes the shared contract, plus its own test helpers."""

from __future__ import annotations

import pytest
from django.test import override_settings

from django_domainconnect.backends import get_backend, load_backend
from django_domainconnect.backends.memory import MemoryBackend
from django_domainconnect.engine.types import NameScope, Record
from django_domainconnect.exceptions import BackendError, ConfigurationError
from django_domainconnect.testing.backend_contract import BackendContract


class TestMemoryBackendContract(BackendContract):
    def make_backend(self):
        return MemoryBackend()


def test_options_build_zones_with_relative_and_absolute_names():
    backend = MemoryBackend(zones={"Example.com": {"owners": ["alice"], "records": [
        ["@", "a", 300, "192.0.2.1"],
        ["www", "CNAME", 300, "example.com."],
        ["mail.example.com.", "A", 60, "192.0.2.2"],
    ]}})
    zone = backend.get_zone("example.com")
    assert zone is not None
    assert backend.list_records(zone) == sorted([
        Record("example.com.", "A", 300, "192.0.2.1"),
        Record("www.example.com.", "CNAME", 300, "example.com."),
        Record("mail.example.com.", "A", 60, "192.0.2.2"),
    ])


def test_unknown_option_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match="does not accept option"):
        MemoryBackend(zone={})


def test_supported_types_option():
    assert MemoryBackend(supported_types=["a", "txt"]).supported_types == frozenset({"A", "TXT"})


def test_failure_injection_leaves_zone_unchanged_and_counts_writes():
    backend = MemoryBackend()
    zone = backend.add_zone("example.com", records=[Record("example.com.", "A", 300, "192.0.2.1")])
    backend.fail_on_write(2)
    with pytest.raises(BackendError, match="injected failure at write 2"):
        backend.apply_changes(zone, [Record("example.com.", "A", 300, "192.0.2.1")],
                              [Record("example.com.", "A", 300, "192.0.2.9")])
    assert backend.records("example.com") == [Record("example.com.", "A", 300, "192.0.2.1")]
    assert backend.write_count == 0


def test_delete_of_missing_record_fails_atomically():
    backend = MemoryBackend()
    zone = backend.add_zone("example.com", records=[])
    with pytest.raises(BackendError, match="not in the zone"):
        backend.apply_changes(zone, [Record("x.example.com.", "A", 300, "192.0.2.1")],
                              [Record("y.example.com.", "A", 300, "192.0.2.1")])
    assert backend.records("example.com") == []


def test_scoped_listing_filters():
    backend = MemoryBackend()
    zone = backend.add_zone("example.com", records=[Record("a.example.com.", "A", 1, "192.0.2.1"),
                                                     Record("b.example.com.", "A", 1, "192.0.2.2")])
    assert backend.list_records(zone, NameScope(names=frozenset({"a.example.com."}))) == [
        Record("a.example.com.", "A", 1, "192.0.2.1")]


def test_get_backend_is_memoised_and_reset_on_setting_change(settings):
    first = get_backend()
    assert get_backend() is first
    with override_settings(DOMAINCONNECT={**settings.DOMAINCONNECT, "BACKEND_OPTIONS": {"supported_types": ["A"]}}):
        other = get_backend()
        assert other is not first
        assert other.supported_types == frozenset({"A"})
    assert get_backend() is not other


@pytest.mark.parametrize(("path", "options", "message"), [
    ("nowhere.Backend", None, "could not be imported"),
    ("django_domainconnect.conf.DomainConnectSettings", None, "not a subclass"),
    ("django_domainconnect.backends.memory.MemoryBackend", {"bogus": 1}, "does not accept"),
    ("django_domainconnect.backends.memory.MemoryBackend", ["x"], "must be a dict"),
])
def test_load_backend_errors(path, options, message):
    with pytest.raises(ConfigurationError, match=message):
        load_backend(path, options)
