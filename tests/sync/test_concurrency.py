"""A double-submitted consent (two POSTs with the same nonce at the same moment) writes exactly once
(SECURITY.md A.5). Needs PostgreSQL: the two requests run in parallel threads with real transactions."""

from __future__ import annotations

import re
import threading

import pytest
from django.db import connection
from django.test import Client

from django_domainconnect import models
from tests.sync.helpers import apply_url, default_query

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_parallel_double_post_applies_once(make_template, zones, alice):
    if connection.vendor != "postgresql":
        pytest.skip(f"{connection.vendor}: run on PostgreSQL (make test-postgres) for parallel requests")
    make_template(syncRedirectDomain=None)
    first = Client()
    first.force_login(alice)
    page = first.get(apply_url(query=default_query()))
    nonce = re.search(r'name="nonce" value="([^"]+)"', page.content.decode()).group(1)
    second = Client()
    second.cookies = first.cookies  # the same browser session, e.g. a double click or a retry

    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def post(client: Client) -> None:
        try:
            barrier.wait()
            statuses.append(client.post("/domainconnect/consent", {"nonce": nonce, "action": "approve"}).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(c,)) for c in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(statuses)[0] == 200  # one applied (done page)
    assert zones.write_count == 1
    assert models.AuditEvent.objects.filter(action="apply", outcome="success").count() == 1
    assert models.AppliedTemplate.objects.count() == 1
