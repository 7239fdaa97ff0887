"""Rate limits (SECURITY.md 42): per user, per OAuth client and per IP for anonymous callers; 429 with
``Retry-After`` and a JSON or HTML body; counters in the shared cache; nothing written once limited."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from urllib.parse import urlencode

import pytest

from tests.oauth.conftest import PROVIDER, SECRET, apply_path, bearer

SYNC_APPLY = f"/v2/domainTemplates/providers/{PROVIDER}/services/web/apply"


@pytest.fixture
def limits(monkeypatch):
    """Set rates without touching ``settings.DOMAINCONNECT`` (which would rebuild the memory backend)."""
    from django_domainconnect.conf import DEFAULTS

    def set_rates(**rates: str | None) -> None:
        for bucket, rate in rates.items():
            monkeypatch.setitem(DEFAULTS["RATE_LIMITS"], bucket, rate)

    return set_rates


# -- unit: rate parsing and the counters -------------------------------------------------------------------


@pytest.mark.parametrize(("text", "limit", "period"), [
    ("60/m", 60, 60), ("1000/h", 1000, 3600), ("10/30s", 10, 30), ("5/day", 5, 86400), (" 3 / 2m ", 3, 120),
])
def test_parse_rate(text, limit, period):
    from django_domainconnect.ratelimit import parse_rate

    rate = parse_rate(text)
    assert (rate.limit, rate.period) == (limit, period)


@pytest.mark.parametrize("text", ["60", "x/m", "60/fortnight", "60/0m", "-1/m"])
def test_parse_rate_rejects_garbage(text):
    from django_domainconnect.ratelimit import parse_rate

    with pytest.raises(ValueError):
        parse_rate(text)


def test_unset_rate_is_unlimited_and_none_switches_all_off(settings):
    from django_domainconnect.ratelimit import configured_rate

    settings.DOMAINCONNECT = {**settings.DOMAINCONNECT, "RATE_LIMITS": {"apply": None}}
    assert configured_rate("apply") is None
    assert configured_rate("token") is not None  # the defaults still apply to the others
    settings.DOMAINCONNECT = {**settings.DOMAINCONNECT, "RATE_LIMITS": None}
    assert all(configured_rate(b) is None for b in ("apply_url", "consent", "token", "apply", "revert"))


def test_fixed_window_counts_and_resets(limits):
    from django_domainconnect.ratelimit import Identity, RateLimited, check

    limits(apply="2/m")
    who = [Identity("user:1")]
    check("apply", who, now=120.0)
    check("apply", who, now=130.0)
    with pytest.raises(RateLimited) as info:
        check("apply", who, now=150.5)
    assert info.value.retry_after == 30  # the window ends at 180 s
    check("apply", [Identity("user:2")], now=150.5)  # another user has their own budget
    check("apply", who, now=180.0)  # a new window


def test_broken_cache_fails_open(limits, settings, client, db):
    limits(apply_url="1/m")
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    for _ in range(3):  # DummyCache cannot count; the page still answers (404 for an unknown template)
        assert client.get(SYNC_APPLY + "?domain=example.com").status_code == 404


# -- sync flow: the apply URL and the consent POST -------------------------------------------------------


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_apply_url_anonymous_is_limited_per_ip(limits, client, templates):
    limits(apply_url="3/m")
    query = "?" + urlencode({"domain": "example.com", "IP": "192.0.2.9", "token": "t"})
    answers = [client.get(SYNC_APPLY + query, REMOTE_ADDR="198.51.100.1").status_code for _ in range(3)]
    assert 429 not in answers
    limited = client.get(SYNC_APPLY + query, REMOTE_ADDR="198.51.100.1")
    assert limited.status_code == 429
    assert 1 <= int(limited["Retry-After"]) <= 60
    assert limited["Content-Type"].startswith("text/html")
    assert limited["X-Frame-Options"] == "DENY"  # still a protected page
    parser = _Text()
    parser.feed(limited.content.decode())
    assert "Too many requests" in " ".join(parser.text)
    # Another address is not affected.
    assert client.get(SYNC_APPLY + query, REMOTE_ADDR="198.51.100.2").status_code != 429


def test_apply_url_signed_in_user_has_own_budget(limits, client, templates, alice, bob, zones):
    limits(apply_url="2/m")
    query = "?" + urlencode({"domain": "example.com", "IP": "192.0.2.9", "token": "t"})
    client.force_login(alice)
    assert [client.get(SYNC_APPLY + query).status_code for _ in range(2)] == [200, 200]
    assert client.get(SYNC_APPLY + query).status_code == 429
    client.force_login(bob)  # same address, another user
    assert client.get(SYNC_APPLY + query).status_code != 429


def test_consent_post_is_limited_and_writes_nothing(limits, client, templates, alice, zones):
    from django_domainconnect.models import AppliedTemplate

    limits(consent="1/m")
    client.force_login(alice)
    first = client.post("/domainconnect/consent", {"nonce": "x" * 32, "action": "approve"})
    assert first.status_code != 429
    second = client.post("/domainconnect/consent", {"nonce": "y" * 32, "action": "approve"})
    assert second.status_code == 429 and "Retry-After" in second
    assert not AppliedTemplate.objects.exists()


# -- async flow: token, apply, revert ----------------------------------------------------------------------


def test_token_failures_are_limited_per_ip(limits, client, sp_client):
    limits(token="2/m")
    bad = {"grant_type": "authorization_code", "code": "nope", "client_id": PROVIDER, "client_secret": "wrong",
           "redirect_uri": "https://app.exampleservice.example/oauth/callback"}
    statuses = [client.post("/v2/oauth/access_token", bad, REMOTE_ADDR="203.0.113.5").status_code
                for _ in range(3)]
    assert statuses[:2] == [400, 400] or statuses[:2] == [401, 401]
    assert statuses[2] == 429
    limited = client.post("/v2/oauth/access_token", bad, REMOTE_ADDR="203.0.113.5")
    body = json.loads(limited.content)
    assert body["error"] == "rate_limited" and limited["Cache-Control"] == "no-store"
    assert int(limited["Retry-After"]) >= 1
    # Another address is still served (the failures of one address do not lock the client out).
    assert client.post("/v2/oauth/access_token", bad, REMOTE_ADDR="203.0.113.6").status_code != 429


def test_token_successes_are_limited_per_client(limits, client, authorize):
    limits(token="1/m")
    tokens = authorize(scope="web")  # one successful exchange: the client's budget is spent
    refresh = {"grant_type": "refresh_token", "refresh_token": tokens.refresh_token, "client_id": PROVIDER,
               "client_secret": SECRET}
    answer = client.post("/v2/oauth/access_token", refresh, REMOTE_ADDR="203.0.113.7")
    assert answer.status_code == 429
    assert json.loads(answer.content)["error"] == "rate_limited"


def test_api_apply_is_limited_per_client_and_writes_nothing(limits, client, authorize, zones):
    from django_domainconnect.models import AppliedTemplate

    tokens = authorize(scope="web")
    limits(apply="1/m")
    path = apply_path("web", domain="example.com", IP="192.0.2.10", token="v1", force="1")
    assert client.post(path, **bearer(tokens.access_token)).status_code == 200
    before = sorted(zones.list_records(zones.get_zone("example.com")))
    count = AppliedTemplate.objects.count()
    limited = client.post(apply_path("web", domain="example.com", IP="192.0.2.99", token="v2"),
                          **bearer(tokens.access_token))
    assert limited.status_code == 429
    assert json.loads(limited.content)["code"] == "rate_limited"
    assert limited["Content-Type"].startswith("application/json")
    assert sorted(zones.list_records(zones.get_zone("example.com"))) == before
    assert AppliedTemplate.objects.count() == count


def test_api_revert_is_limited(limits, client, authorize):
    tokens = authorize(scope="web")
    limits(revert="1/m")
    path = f"/v2/domainTemplates/providers/{PROVIDER}/services/web/revert?domain=example.com"
    assert client.post(path, **bearer(tokens.access_token)).status_code == 410  # never applied
    assert client.delete(apply_path("web", domain="example.com"), **bearer(tokens.access_token)).status_code == 429


def test_api_bad_tokens_count_against_the_ip(limits, client, db):
    limits(apply="2/m")
    path = apply_path("web", domain="example.com")
    statuses = [client.post(path, HTTP_AUTHORIZATION="Bearer forged", REMOTE_ADDR="192.0.2.77").status_code
                for _ in range(3)]
    assert statuses == [401, 401, 429]


def test_discovery_is_not_limited(limits, client, zones):
    limits(apply_url="1/s", consent="1/s", token="1/s", apply="1/s", revert="1/s")
    assert {client.get("/v2/example.com/settings").status_code for _ in range(5)} == {200}
