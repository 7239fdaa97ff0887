"""What happens after COMMIT must not turn a done change into an error: a failing ``template_applied``
receiver (the host's own code: a mail, a webhook) runs after the zone was written, so the API must still
answer 200 — the Service Provider would otherwise retry an apply that happened."""

from __future__ import annotations

import pytest

from django_domainconnect.signals import template_applied

from .conftest import DOMAIN, make_zone, snapshot
from .oauth import apply_path, issue_token, make_client

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_failing_receiver_does_not_turn_a_done_apply_into_a_500(client, owner, settings, memory_backend,
                                                                 templates, caplog):
    zone = make_zone("memory", owner, settings, memory_backend)
    make_client()
    token = issue_token(client, owner, "web")
    before = snapshot(zone)

    def receiver(**kwargs):
        raise RuntimeError("the host's webhook is down")

    template_applied.connect(receiver, dispatch_uid="reliability-failing-receiver", weak=False)
    client.raise_request_exception = False
    try:
        response = client.post(apply_path("web", domain=DOMAIN, ip="192.0.2.9", token="x"),
                               HTTP_AUTHORIZATION=f"Bearer {token}")
    finally:
        template_applied.disconnect(dispatch_uid="reliability-failing-receiver")
    assert snapshot(zone) != before  # the change was made and committed either way
    assert response.status_code == 200
    assert any("signal receiver" in r.getMessage() and r.exc_info for r in caplog.records)
