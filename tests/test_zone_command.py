"""domainconnect_zone and domainconnect_discovery_record."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from django_domainconnect import services
from django_domainconnect.backends.base import BaseDNSBackend
from django_domainconnect.backends.memory import MemoryBackend
from django_domainconnect.engine.types import Record
from django_domainconnect.engine.zonefile import read_zone
from django_domainconnect.template_store import save_template

pytestmark = pytest.mark.django_db


class NoListBackend(MemoryBackend):
    list_zones = BaseDNSBackend.list_zones  # the interface's default: not implemented

TEMPLATE = {"providerId": "sp.example", "providerName": "SP", "serviceId": "web", "serviceName": "Website",
            "records": [{"type": "A", "host": "www", "pointsTo": "192.0.2.1", "ttl": 3600}]}


def run(name, *args):
    out, err = StringIO(), StringIO()
    call_command(name, *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def owner(django_user_model):
    return django_user_model.objects.create_user("alice", password="pw")


@pytest.fixture
def zone(memory_backend, owner):
    memory_backend.add_zone("example.com", owners=[owner.pk], records=[
        Record("example.com.", "NS", 3600, "ns1.example.net."), Record("example.com.", "A", 300, "192.0.2.100")])
    memory_backend.add_zone("xn--bcher-kva.example", owners=[owner.pk])
    return memory_backend


def test_zone_command_prints_master_file_with_applied_instances(zone, owner):
    services.apply(user=owner, domain="example.com", template=save_template(TEMPLATE).template, params={},
                   flow="sync")
    out, _ = run("domainconnect_zone", "EXAMPLE.com")
    assert "; applied sp.example/web v1 at example.com" in out and "by=alice" in out
    assert ";     www.example.com. 3600 IN A 192.0.2.1" in out
    body = out[out.index("$ORIGIN"):]
    assert sorted(read_zone(body, "example.com")) == zone.records("example.com")


def test_zone_command_idn_and_empty(zone):
    out, _ = run("domainconnect_zone", "bücher.example")
    assert "(bücher.example)" in out and "no Domain Connect templates applied" in out
    assert "$ORIGIN xn--bcher-kva.example." in out


@pytest.mark.parametrize(("domain", "message"), [("other.example", "not a zone"), ("a..b", "invalid domain")])
def test_zone_command_errors(zone, domain, message):
    with pytest.raises(CommandError, match=message):
        run("domainconnect_zone", domain)


def test_discovery_record_value(settings):
    out, err = run("domainconnect_discovery_record")
    assert out.strip() == "dns.example.net" and err == ""
    with override_settings(DOMAINCONNECT={**settings.DOMAINCONNECT, "BASE_URL": "http://127.0.0.1:8000/dc/"}):
        out, err = run("domainconnect_discovery_record")
    assert out.strip() == "127.0.0.1:8000/dc"
    assert "not https" in err


def test_discovery_record_write_is_idempotent(zone):
    zone.set_records("example.com", [*zone.records("example.com"),
                                     Record("_domainconnect.example.com.", "TXT", 60, '"old.example"')])
    out, _ = run("domainconnect_discovery_record", "--write")
    assert "written to 2 of 2 zone(s)" in out
    for domain in ("example.com", "xn--bcher-kva.example"):
        txt = [r for r in zone.records(domain) if r.name.startswith("_domainconnect.")]
        assert txt == [Record(f"_domainconnect.{domain}.", "TXT", 3600, '"dns.example.net"')]
    assert Record("example.com.", "A", 300, "192.0.2.100") in zone.records("example.com")
    out, _ = run("domainconnect_discovery_record", "--write")
    assert "written to 0 of 2 zone(s)" in out


def test_discovery_record_write_needs_list_zones(settings):
    with override_settings(DOMAINCONNECT={**settings.DOMAINCONNECT,
                                          "BACKEND": "tests.test_zone_command.NoListBackend"}):
        with pytest.raises(CommandError, match="list_zones"):
            run("domainconnect_discovery_record", "--write")

