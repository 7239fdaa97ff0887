"""Seeds the HTTP benchmark's database: a user, zones, templates and async-API tokens.

    DATABASE_URL=… DJANGO_SETTINGS_MODULE=benchmarks.bench_site.settings \
        python -m benchmarks.bench_site.seed --zone small.bench.example:10 --zone large.bench.example:100000 \
        [--templates 1000] [--shape plain|instances|ns]

Runs the migrations, then prints one JSON object: ``{"tokens": {domain: bearer token}}``. The tokens are
what the async consent and the token exchange would leave behind (DOT application + access/refresh token
+ a ``Grant`` covering the hosting template at the apex), created directly through the models.
"""

from __future__ import annotations

import argparse
import json
import secrets
from typing import Any

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from benchmarks import workloads as w  # noqa: E402
from benchmarks.bench_site.tokens import PROVIDER, SERVICE, issue_token  # noqa: E402
from benchmarks.convert import to_record  # noqa: E402
from django_domainconnect import models as dc_models  # noqa: E402
from registrar import models as reg  # noqa: E402


def seed_templates(total: int) -> None:
    body = w.hosting5()
    types = sorted({r["type"] for r in body["records"]})
    rows = []
    for i in range(total):
        pid, sid = (PROVIDER, SERVICE) if i == 0 else (f"provider{i % 50}.example", f"service{i}")
        rows.append(dc_models.Template(provider_id=pid, service_id=sid, provider_name="Bench", service_name=sid,
                                       version=1, body={**body, "providerId": pid, "serviceId": sid},
                                       record_types=types, enabled=True))
    dc_models.Template.objects.bulk_create(rows, batch_size=1000)


def seed_zone(domain: str, size: int, user: Any, shape: str = "plain") -> None:
    """The zone's records and, for shapes with applied state, the instances that own them."""
    zone = reg.Domain.objects.create(name=domain, owner=user, verified=True, active=True)
    origin = f"{domain}."
    rows = [reg.Record(domain=zone, name=origin, rname=reg.reverse_labels(origin), type="SOA", ttl=3600,
                       data=f"ns1.{origin} admin.{origin} 2026010100 7200 900 1209600 300")]
    owned: dict[str, tuple[w.Owner, list[tuple[str, str, int, str]]]] = {}
    for rec in w.zone(size, shape):
        r = to_record(rec)
        name = r.name.replace(f"{w.DOMAIN}.", origin)
        data = r.data.replace(f"{w.DOMAIN}.", origin)
        rows.append(reg.Record(domain=zone, name=name, rname=reg.reverse_labels(name), type=r.type, ttl=r.ttl,
                               data=data))
        if rec[4] is not None:
            owned.setdefault(rec[4][0], (rec[4], []))[1].append((name, r.type, r.ttl, data))
    reg.Record.objects.bulk_create(rows, batch_size=5000)
    instances = dc_models.AppliedTemplate.objects.bulk_create([
        dc_models.AppliedTemplate(domain=domain, host=owner[3], provider_id=owner[1], service_id=owner[2],
                                  instance_id=iid, flow="sync", multi_instance=True)
        for iid, (owner, _records) in owned.items()
    ], batch_size=2000)
    dc_models.AppliedRecord.objects.bulk_create([
        dc_models.AppliedRecord(applied=inst, name=n, type=t, ttl=ttl, data=d, essential=owned[inst.instance_id][0][4])
        for inst in instances for (n, t, ttl, d) in owned[inst.instance_id][1]
    ], batch_size=5000)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--zone", action="append", default=[], help="domain:records (repeatable)")
    parser.add_argument("--templates", type=int, default=1000, help="templates stored (the hosting one + others)")
    parser.add_argument("--shape", choices=["plain", "instances", "ns"], default="plain",
                        help="zone shape (benchmarks/workloads.py): with applied-template state or not")
    args = parser.parse_args()
    call_command("migrate", verbosity=0, interactive=False)
    user = get_user_model().objects.create_user("bench", password=secrets.token_urlsafe(12))
    seed_templates(args.templates)
    tokens: dict[str, str] = {}
    for spec in args.zone:
        domain, size = spec.rsplit(":", 1)
        seed_zone(domain, int(size), user, args.shape)
        tokens[domain] = issue_token(user, domain)
    if connection.vendor == "postgresql":
        # What autovacuum does within a minute of a bulk load: without statistics the planner guesses one
        # applied template per zone and loops over all of them (5 ms instead of 0.2 ms at 1,000 instances).
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(json.dumps({"tokens": tokens}))


if __name__ == "__main__":
    main()
