"""SQL queries per request do not grow with zone size (10 vs 2,000 records) or template count (5 vs 500).

Runs the real request paths — settings, template query, sync consent page (GET as the logged-in owner),
sync apply (the consent POST) and async apply (POST with a Bearer token) — against the example registrar's
backend (``registrar.dc_backend.RegistrarBackend`` over ``registrar.models``), and also checks that the
apply paths only ever read the names the plan needs from the backend, never the whole zone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

from benchmarks import workloads as w
from benchmarks.bench_site.tokens import issue_token
from benchmarks.convert import to_record
from django_domainconnect import models as dc_models

if not apps.is_installed("registrar"):
    pytest.skip("the example registrar is not in the test settings' INSTALLED_APPS", allow_module_level=True)

from registrar import models as reg  # noqa: E402  (only importable once the app is installed)
from registrar.dc_backend import RegistrarBackend  # noqa: E402

pytestmark = pytest.mark.django_db

PROVIDER = "bench.example.net"
SERVICE = "hosting5"
PARAMS = {"ip": "192.0.2.10", "ip6": "2001:db8::10", "token": "abc123"}
SMALL, LARGE = 10, 2_000


@pytest.fixture(autouse=True)
def registrar_backend(settings: Any) -> None:
    # The discovery cache is off: these tests count what a request costs when it reaches the database
    # (tests/test_discovery_cache.py counts the cached answers: no query at all).
    settings.DOMAINCONNECT = {**settings.DOMAINCONNECT, "BACKEND": "registrar.dc_backend.RegistrarBackend",
                              "DISCOVERY_CACHE_TIMEOUT": 0}


@pytest.fixture
def owner(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user("owner", password="pw")


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[bool, int]]:
    """Every ``list_records`` call the request paths make: (whole zone?, records returned)."""
    calls: list[tuple[bool, int]] = []
    original = RegistrarBackend.list_records

    def spy(self: RegistrarBackend, zone: Any, scope: Any = None) -> Any:
        result = original(self, zone, scope)
        calls.append((scope is None, len(result)))
        return result

    monkeypatch.setattr(RegistrarBackend, "list_records", spy)
    return calls


def make_zone(domain: str, size: int, user: Any) -> reg.Domain:
    """A verified zone of ``size`` records (the engine benchmark's shape) plus its SOA, owned by ``user``."""
    zone = reg.Domain.objects.create(name=domain, owner=user, verified=True, active=True)
    rows = [reg.Record(domain=zone, name=f"{domain}.", rname=reg.reverse_labels(f"{domain}."), type="SOA",
                       ttl=3600, data=f"ns1.{domain}. admin.{domain}. 2026010100 7200 900 1209600 300")]
    for rec in w.zone(size, "plain"):
        r = to_record(rec)
        name = r.name.replace(f"{w.DOMAIN}.", f"{domain}.")
        rows.append(reg.Record(domain=zone, name=name, rname=reg.reverse_labels(name), type=r.type, ttl=r.ttl,
                               data=r.data.replace(f"{w.DOMAIN}.", f"{domain}.")))
    reg.Record.objects.bulk_create(rows)
    return zone


def add_templates(count: int, start: int = 0) -> None:
    """``count`` enabled templates: the hosting template first, then other services of other providers."""
    body = w.hosting5()
    types = sorted({r["type"] for r in body["records"]})
    rows = []
    for i in range(start, start + count):
        pid, sid = (PROVIDER, SERVICE) if i == 0 else (f"provider{i % 50}.example", f"service{i}")
        rows.append(dc_models.Template(provider_id=pid, service_id=sid, provider_name="Bench", service_name=sid,
                                       version=1, body={**body, "providerId": pid, "serviceId": sid},
                                       record_types=types, enabled=True))
    dc_models.Template.objects.bulk_create(rows)


def count(fn: Any) -> tuple[int, Any]:
    with CaptureQueriesContext(connection) as ctx:
        response = fn()
    return len(ctx.captured_queries), response


def apply_url(domain: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in {"domain": domain, **PARAMS}.items())
    return f"/v2/domainTemplates/providers/{PROVIDER}/services/{SERVICE}/apply?{query}"


@pytest.fixture
def planner() -> None:
    """The consent and apply paths need the engine's planner (engine/plan.py, landing separately)."""
    pytest.importorskip("django_domainconnect.engine.plan", reason="engine/plan.py has not landed yet")


@pytest.fixture
def zones(owner: Any) -> Iterator[tuple[str, str]]:
    add_templates(5)
    make_zone("small.example", SMALL, owner)
    make_zone("large.example", LARGE, owner)
    assert reg.Record.objects.filter(domain__name="large.example").count() == LARGE + 1
    yield "small.example", "large.example"


def test_settings_queries_do_not_grow_with_zone_size(client: Any, zones: tuple[str, str]) -> None:
    small, large = zones
    n_small, r_small = count(lambda: client.get(f"/v2/{small}/settings"))
    n_large, r_large = count(lambda: client.get(f"/v2/{large}/settings"))
    assert r_small.status_code == r_large.status_code == 200
    assert n_large == n_small <= 3


def test_template_query_queries_do_not_grow_with_template_count(client: Any, zones: tuple[str, str]) -> None:
    url = f"/v2/domainTemplates/providers/{PROVIDER}/services/{SERVICE}"
    n_few, r_few = count(lambda: client.get(url))
    add_templates(495, start=5)
    assert dc_models.Template.objects.count() == 500
    n_many, r_many = count(lambda: client.get(url))
    assert r_few.status_code == r_many.status_code == 200
    assert r_many.json()["version"] == 1
    assert n_many == n_few <= 2
    missing, r_missing = count(lambda: client.get(f"/v2/domainTemplates/providers/{PROVIDER}/services/nope"))
    assert r_missing.status_code == 404 and missing <= 2


def _consent_page(client: Any, domain: str) -> tuple[int, Any]:
    n, response = count(lambda: client.get(apply_url(domain)))
    assert response.status_code == 200, response.content[:500]
    return n, response


def test_consent_page_queries_do_not_grow_with_zone_size_or_templates(
    client: Any, owner: Any, zones: tuple[str, str], reads: list[tuple[bool, int]], planner: None
) -> None:
    small, large = zones
    client.force_login(owner)
    n_small, _ = _consent_page(client, small)
    n_large, page = _consent_page(client, large)
    assert n_large == n_small
    add_templates(495, start=5)
    n_many, _ = _consent_page(client, large)
    assert n_many == n_small
    # The plan read only the names it needs: the same handful of records from either zone.
    assert reads and not any(whole for whole, _ in reads)
    assert len({size for _, size in reads}) == 1 and reads[0][1] < SMALL
    assert PARAMS["ip"].encode() in page.content and b"hosting-verify=old" in page.content


def _sync_apply(client: Any, domain: str) -> int:
    _, page = _consent_page(client, domain)
    match = re.search(rb'name="nonce"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="nonce"', page.content)
    assert match, "the consent page carries a nonce"
    nonce = (match.group(1) or match.group(2)).decode()
    n, response = count(lambda: client.post("/domainconnect/consent", {"nonce": nonce, "action": "approve"}))
    assert response.status_code in (200, 302), response.content[:500]
    return n


def test_sync_apply_queries_do_not_grow_with_zone_size(
    client: Any, owner: Any, zones: tuple[str, str], reads: list[tuple[bool, int]], planner: None
) -> None:
    small, large = zones
    client.force_login(owner)
    n_small = _sync_apply(client, small)
    n_large = _sync_apply(client, large)
    assert n_large == n_small
    for domain in zones:  # the plan was really written: A @ replaced, www now points at the apex
        assert reg.Record.objects.filter(domain__name=domain, name=f"{domain}.", type="A",
                                         data=PARAMS["ip"]).exists()
        assert dc_models.AppliedTemplate.objects.filter(domain=domain, service_id=SERVICE).count() == 1
    assert not any(whole for whole, _ in reads)


def test_sync_applies_parse_their_template_once(
    client: Any, owner: Any, zones: tuple[str, str], planner: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The signature check, the consent page and both plans of every apply share one parse per process."""
    from django_domainconnect import parsed_templates

    parses: list[str] = []

    def spy(body: Any, **kwargs: Any) -> Any:
        parses.append(body["serviceId"])
        return real(body, **kwargs)

    real = parsed_templates.parse_template
    monkeypatch.setattr(parsed_templates, "parse_template", spy)
    client.force_login(owner)
    for domain in zones:
        _sync_apply(client, domain)
    assert parses == [SERVICE]


def test_async_apply_queries_do_not_grow_with_zone_size_or_templates(
    client: Any, owner: Any, zones: tuple[str, str], reads: list[tuple[bool, int]], planner: None
) -> None:
    if not apps.is_installed("django_domainconnect.oauth"):
        pytest.skip("django_domainconnect.oauth is not in the test settings' INSTALLED_APPS yet")
    small, large = zones
    tokens = {domain: issue_token(owner, domain) for domain in zones}

    def post(domain: str) -> tuple[int, Any]:  # force=1: the zones' own apex A and www CNAME are replaced
        return count(lambda: client.generic("POST", apply_url(domain) + "&force=1", b"",
                                             HTTP_AUTHORIZATION=f"Bearer {tokens[domain]}"))

    n_small, r_small = post(small)
    n_large, r_large = post(large)
    assert r_small.status_code == r_large.status_code == 200, r_large.content[:500]
    assert n_large == n_small
    add_templates(495, start=5)
    n_again, r_again = post(large)  # re-apply: an update of the same instance, with 500 templates stored
    assert r_again.status_code == 200
    n_again_small, _ = post(small)
    assert n_again == n_again_small
    assert not any(whole for whole, _ in reads)


def _add_unrelated_instances(domain: str, count: int, per: int) -> None:
    """Applied-template state on names no hosting plan touches (``h{i}`` owners, other services), with the
    zone records it wrote."""
    zone = reg.Domain.objects.get(name=domain)
    reg.Record.objects.bulk_create([
        reg.Record(domain=zone, name=f"r{j}.h{i}.{domain}.", rname=reg.reverse_labels(f"r{j}.h{i}.{domain}."),
                   type="A", ttl=3600, data=f"192.0.2.{j + 1}")
        for i in range(count) for j in range(per)
    ])
    rows = dc_models.AppliedTemplate.objects.bulk_create([
        dc_models.AppliedTemplate(domain=domain, host=f"h{i}", provider_id="other.example", service_id="svc",
                                  instance_id=f"inst{i}", flow="sync")
        for i in range(count)
    ])
    dc_models.AppliedRecord.objects.bulk_create([
        dc_models.AppliedRecord(applied=row, name=f"r{j}.h{i}.{domain}.", type="A", ttl=3600,
                                data=f"192.0.2.{j + 1}")
        for i, row in enumerate(rows) for j in range(per)
    ])


def test_consent_page_reads_only_the_applied_state_the_plan_needs(
    client: Any, owner: Any, zones: tuple[str, str], planner: None, monkeypatch: pytest.MonkeyPatch,
    reads: list[tuple[bool, int]]
) -> None:
    import django_domainconnect.engine.plan as plan_module

    seen: list[int] = []
    original = plan_module.plan_apply

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append(sum(len(i.records) for i in kwargs.get("instances", ())))
        return original(*args, **kwargs)

    monkeypatch.setattr(plan_module, "plan_apply", spy)
    small, large = zones
    _add_unrelated_instances(large, 200, 10)
    client.force_login(owner)
    _consent_page(client, small)
    _consent_page(client, large)
    assert reads[0][1] == reads[1][1], reads
    assert seen[0] == seen[1] == 0, seen


def test_revert_reads_only_the_names_it_changes(
    client: Any, owner: Any, zones: tuple[str, str], planner: None, reads: list[tuple[bool, int]]
) -> None:
    from django_domainconnect import services

    small, large = zones
    client.force_login(owner)
    _sync_apply(client, large)
    reads.clear()
    services.revert(user=owner, domain=large, provider_id=PROVIDER, service_id=SERVICE, flow="sync")
    assert reads and not any(whole for whole, _ in reads), reads
    event = dc_models.AuditEvent.objects.filter(action="revert").latest("id")
    assert len(event.records_before) < SMALL


def _add_trimmable_instances(domain: str, count: int) -> None:
    """``count`` instances of another template, each owning an OnApply TXT at the apex that the hosting
    template's Prefix rule removes, and an A record elsewhere that keeps the instance alive (trimmed)."""
    zone = reg.Domain.objects.get(name=domain)
    origin = f"{domain}."
    records = []
    for i in range(count):
        records += [(origin, "TXT", f'"hosting-verify=old{i}"'), (f"k{i}.{origin}", "A", f"192.0.2.{i + 1}")]
    reg.Record.objects.bulk_create([
        reg.Record(domain=zone, name=n, rname=reg.reverse_labels(n), type=t, ttl=3600, data=d) for n, t, d in records
    ])
    rows = dc_models.AppliedTemplate.objects.bulk_create([
        dc_models.AppliedTemplate(domain=domain, host="", provider_id="other.example", service_id="verify",
                                  instance_id=f"trim{i}", flow="sync", multi_instance=True)
        for i in range(count)
    ])
    dc_models.AppliedRecord.objects.bulk_create([
        rec
        for i, row in enumerate(rows)
        for rec in (
            dc_models.AppliedRecord(applied=row, name=origin, type="TXT", ttl=3600, data=f'"hosting-verify=old{i}"',
                                    essential="OnApply"),
            dc_models.AppliedRecord(applied=row, name=f"k{i}.{origin}", type="A", ttl=3600, data=f"192.0.2.{i + 1}"),
        )
    ])


def test_apply_queries_do_not_grow_with_the_instances_it_trims(
    client: Any, owner: Any, zones: tuple[str, str], planner: None
) -> None:
    small, large = zones
    _add_trimmable_instances(small, 1)
    _add_trimmable_instances(large, 20)
    client.force_login(owner)
    n_one = _sync_apply(client, small)
    n_twenty = _sync_apply(client, large)
    assert n_twenty == n_one
    # Every instance lost its apex TXT and kept its A record.
    kept = dc_models.AppliedRecord.objects.filter(applied__domain=large, applied__service_id="verify")
    assert kept.count() == 20 and not kept.filter(type="TXT").exists()
