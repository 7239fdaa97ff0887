"""Races on one-time credentials (PostgreSQL: real row locks; skipped elsewhere).

A code or refresh token presented twice at the same moment (a client retrying, or a thief racing the
client) must never yield two working token sets.
"""

from __future__ import annotations

import threading
from urllib.parse import urlencode

import pytest
from django.db import connection, connections
from django.test import Client

from tests.oauth.conftest import PROVIDER, REDIRECT, SECRET, approve, consent_url, location_params

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip(f"{connection.vendor} has no row locks; run on PostgreSQL (make test-postgres)")


def race(n: int, call) -> list[tuple[int, dict]]:
    barrier = threading.Barrier(n)
    answers: list[tuple[int, dict]] = []

    def run() -> None:
        try:
            barrier.wait()
            response = call(Client())
            answers.append((response.status_code, response.json()))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return answers


def issued(answers: list[tuple[int, dict]]) -> set[tuple[str, str]]:
    """Distinct (access, refresh) pairs handed out; losers get ``invalid_grant``, never a blank pair."""
    return {(body["access_token"], body["refresh_token"]) for status, body in answers if status == 200}


def token_post(client: Client, data: dict[str, str]):
    return client.post("/v2/oauth/access_token", data=urlencode(data),
                       content_type="application/x-www-form-urlencoded")


def test_code_raced_gives_at_most_one_token(client, alice, zones, templates, sp_client):
    client.force_login(alice)
    code = location_params(approve(client, consent_url(scope="web")))["code"]
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "client_id": PROVIDER,
            "client_secret": SECRET}
    answers = race(4, lambda c: token_post(c, data))
    assert len(answers) == 4
    assert len(issued(answers)) <= 1


def test_refresh_raced_gives_at_most_one_new_pair(client, alice, zones, templates, sp_client):
    client.force_login(alice)
    code = location_params(approve(client, consent_url(scope="web")))["code"]
    first = token_post(client, {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
                                "client_id": PROVIDER, "client_secret": SECRET}).json()
    data = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"], "client_id": PROVIDER,
            "client_secret": SECRET}
    answers = race(4, lambda c: token_post(c, data))
    assert len(answers) == 4
    assert len(issued(answers)) == 1  # one new pair, whoever won
    assert all(body.get("access_token") or body.get("error") == "invalid_grant" for _, body in answers)
