"""The draft's Appendix A examples A.1–A.5 (A.6's MX lines are inconsistent in the draft and not used)."""

from __future__ import annotations

from pathlib import Path

from django_domainconnect.engine.plan import plan_apply
from django_domainconnect.engine.render import render_records
from django_domainconnect.engine.template import parse_template
from django_domainconnect.engine.types import Record
from django_domainconnect.engine.zonefile import read_zone
from tests.conftest import DATA_DIR

ZONES = Path(DATA_DIR) / "zones"

A1 = {
    "providerId": "example.com", "providerName": "Example Web Hosting", "serviceId": "hosting",
    "serviceName": "Wordpress by example.com", "version": 1,
    "logoUrl": "https://www.example.com/images/billthecat.jpg",
    "description": "This connects your domain to our web hosting",
    "records": [
        {"type": "A", "groupId": "service", "host": "www", "pointsTo": "%var1%", "ttl": 600},
        {"type": "A", "groupId": "service", "host": "m", "pointsTo": "%var2%", "ttl": 600},
        {"type": "CNAME", "groupId": "service", "host": "webmail", "pointsTo": "%var3%", "ttl": 600},
        {"type": "TXT", "groupId": "verification", "host": "example", "ttl": 600, "data": "%var4%"},
    ],
}


def with_records(records: list[dict]) -> dict:
    return {**A1, "records": records}


def rendered(template: dict, **kwargs) -> list[dict]:
    out = render_records(parse_template(template), **{"domain": "example.org", "params": {}, **kwargs})
    return [r.record.to_dict() for r in out if r.record is not None]


def test_a1_full_template_by_group() -> None:
    params = {"var1": "192.0.2.10", "var2": "192.0.2.11", "var3": "mail.provider.example", "var4": "token-1"}
    assert rendered(A1, params=params, group_ids=["service"]) == [
        {"name": "www.example.org.", "type": "A", "ttl": 600, "data": "192.0.2.10"},
        {"name": "m.example.org.", "type": "A", "ttl": 600, "data": "192.0.2.11"},
        {"name": "webmail.example.org.", "type": "CNAME", "ttl": 600, "data": "mail.provider.example."},
    ]
    assert rendered(A1, params={"var4": "token-1"}, group_ids=["verification"]) == [
        {"name": "example.example.org.", "type": "TXT", "ttl": 600, "data": '"token-1"'},
    ]
    assert len(rendered(A1, params=params)) == 4


def test_a2_single_static_host_record() -> None:
    out = rendered(with_records([{"type": "A", "host": "www", "pointsTo": "192.0.2.1", "ttl": 600}]))
    assert out == [{"name": "www.example.org.", "type": "A", "ttl": 600, "data": "192.0.2.1"}]


def test_a3_single_variable_host_record() -> None:
    out = rendered(with_records([{"type": "A", "host": "@", "pointsTo": "198.51.100.%srv%", "ttl": 600}]),
                   params={"srv": "2"})
    assert out == [{"name": "example.org.", "type": "A", "ttl": 600, "data": "198.51.100.2"}]


def test_a4_unspecified_record_type_caa() -> None:
    out = rendered(with_records([
        {"type": "CAA", "host": "@", "data": "0 issue \"ca1.example.net\"", "ttl": 1800},
        {"type": "CAA", "host": "@", "data": "0 issuewild \"ca2.example.\"", "ttl": 1800},
    ]))
    assert out == [
        {"name": "example.org.", "type": "CAA", "ttl": 1800, "data": '0 issue "ca1.example.net"'},
        {"name": "example.org.", "type": "CAA", "ttl": 1800, "data": '0 issuewild "ca2.example."'},
    ]


def test_a5_application_and_conflict_resolution() -> None:
    zone = read_zone((ZONES / "appendix-a5.zone").read_text(), "example.com")
    template = parse_template((ZONES / "appendix-a5.json").read_text())
    plan = plan_apply(template, domain="example.com", params={}, zone=zone, new_instance_id="a5")

    def rec(name: str, rtype: str, ttl: int, data: str) -> Record:
        return Record(f"{name}.example.com." if name != "@" else "example.com.", rtype, ttl, data)

    # The draft lists the apex A and AAAA records as conflicts; the www CNAME conflicts with the new www A
    # too (§10.4: a CNAME conflicts with any other record) and is gone in the draft's resulting zone.
    assert {c.record for c in plan.conflicts} == {
        rec("@", "A", 3600, "192.0.2.1"), rec("@", "A", 3600, "192.0.2.2"),
        rec("@", "AAAA", 3600, "2001:db8:1234::"), rec("@", "AAAA", 3600, "2001:db8:1234::1"),
        rec("www", "CNAME", 3600, "other.host.example."),
    }
    result = (set(zone) - set(plan.to_delete)) | set(plan.to_add)
    soa = next(r for r in zone if r.type == "SOA")
    # As the draft's resulting zone, except the SPF TTL: ARCHITECTURE.md keeps the existing record's TTL
    # (the draft shows 1800 without saying where it comes from).
    assert result == {
        soa,
        rec("@", "NS", 3600, "ns11.example.net."), rec("@", "NS", 3600, "ns12.example.net."),
        rec("@", "A", 1800, "203.0.113.2"),
        rec("@", "MX", 3600, "10 mx1.example.net."), rec("@", "MX", 3600, "10 mx2.example.net."),
        rec("@", "TXT", 3600, '"v=spf1 a include:spf.example.org include:spf.hoster.example ~all"'),
        rec("www", "A", 1800, "203.0.113.2"),
    }
