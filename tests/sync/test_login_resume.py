"""The raw query string survives the login round trip byte-exact (SECURITY.md A.13, draft §8.3.4 step 6).

Browsers leave characters such as ``|``, ``^``, `````, ``{`` raw in a query, and non-browser clients may send
raw UTF-8. Django's ``next`` handling (``get_full_path``, ``HttpResponseRedirect``) re-encodes them, which
would break the signature; the app therefore keeps the raw query in the session and sends ``next`` to a
resume URL that carries only a random token.
"""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pytest

from django_domainconnect import models
from django_domainconnect.engine.signatures import signed_query
from django_domainconnect.views.resume import RESUME_KEY
from tests.sync.helpers import KEY_DOMAIN, KEY_LABEL, apply_url, publish_key

pytestmark = pytest.mark.django_db

# Characters a browser leaves raw in a query, and raw UTF-8 (in a parameter the template ignores).
RAW_QUERIES = [
    "token=a|b",
    "token=x^y",
    "token=q`r",
    "token={z}",
    "token=t&note=é",
    "token=a+b%2Bc%20d%7Ee|f",
]


@pytest.fixture
def signed_template(dns_server, make_template, sp_private_key):
    publish_key(dns_server, sp_private_key)
    return make_template(syncPubKeyDomain=KEY_DOMAIN)


def login_redirect(response) -> tuple[str, str]:
    """``(login path, next)`` of a redirect to the login page."""
    assert response.status_code == 302, response.content[-800:]
    login = urlsplit(response["Location"])
    return login.path, parse_qs(login.query)["next"][0]


def sign_in(client, login_path: str, next_url: str) -> str:
    response = client.post(login_path, {"username": "alice", "password": "pw-alice", "next": next_url})
    assert response.status_code == 302
    return response["Location"]


@pytest.mark.parametrize("raw", RAW_QUERIES)
def test_signed_raw_query_survives_login(client, signed_template, zones, alice, sp_private_key, raw):
    query = signed_query(f"domain=example.com&IP=198.51.100.7&{raw}", sp_private_key, KEY_LABEL)
    login_path, next_url = login_redirect(client.get(apply_url(query=query)))
    assert "?" not in next_url and "sig" not in next_url  # only a token travels through the login page
    back = sign_in(client, login_path, next_url)
    assert back == next_url
    consent = client.get(back)
    assert consent.status_code == 200, consent.content.decode()[-1500:]
    assert b'value="approve"' in consent.content
    assert zones.write_count == 0


def test_resumed_consent_applies_the_variables_as_sent(client, signed_template, zones, alice, sp_private_key):
    query = signed_query("domain=example.com&IP=198.51.100.7&token=a|b^c", sp_private_key, KEY_LABEL)
    login_path, next_url = login_redirect(client.get(apply_url(query=query)))
    consent = client.get(sign_in(client, login_path, next_url))
    nonce = consent.context["nonce"]
    done = client.post("/domainconnect/consent", {"nonce": nonce, "action": "approve"})
    assert done.status_code in (200, 302)
    data = {r.data for r in zones.records("example.com") if r.type == "TXT"}
    assert '"example-verify=a|b^c"' in data


def test_resume_token_works_only_in_its_own_session(client, signed_template, zones, alice, sp_private_key):
    from django.test import Client

    query = signed_query("domain=example.com&IP=198.51.100.7&token=t", sp_private_key, KEY_LABEL)
    login_path, next_url = login_redirect(client.get(apply_url(query=query)))
    other = Client()
    other.force_login(alice)
    response = other.get(next_url)
    assert response.status_code == 400
    assert b'value="approve"' not in response.content
    assert b"expired" in response.content


def test_resume_when_anonymous_goes_back_to_login(client, signed_template, zones, sp_private_key):
    query = signed_query("domain=example.com&IP=198.51.100.7&token=t", sp_private_key, KEY_LABEL)
    _login, next_url = login_redirect(client.get(apply_url(query=query)))
    _login, again = login_redirect(client.get(next_url))
    assert again == next_url


@pytest.mark.parametrize("token", ["nope", "a" * 22, "../x"])
def test_unknown_resume_token_is_an_expired_page(client, alice, token):
    client.force_login(alice)
    response = client.get(f"/domainconnect/resume/{token}")
    assert response.status_code in (400, 404)
    assert response["X-Frame-Options"] == "DENY"
    assert b'value="approve"' not in response.content


def test_expired_resume_token_is_refused(client, signed_template, zones, alice, sp_private_key):
    query = signed_query("domain=example.com&IP=198.51.100.7&token=t", sp_private_key, KEY_LABEL)
    login_path, next_url = login_redirect(client.get(apply_url(query=query)))
    back = sign_in(client, login_path, next_url)
    session = client.session
    session[RESUME_KEY][back.rsplit("/", 1)[-1]]["created"] = time.time() - 31 * 60
    session.save()
    response = client.get(back)
    assert response.status_code == 400 and b"expired" in response.content


def test_resume_re_verifies_the_stored_query(client, signed_template, zones, alice, sp_private_key):
    """The stored query is not trusted: it is verified again, so a changed entry is refused."""
    query = signed_query("domain=example.com&IP=198.51.100.7&token=t", sp_private_key, KEY_LABEL)
    login_path, next_url = login_redirect(client.get(apply_url(query=query)))
    back = sign_in(client, login_path, next_url)
    session = client.session
    entry = session[RESUME_KEY][back.rsplit("/", 1)[-1]]
    entry["query"] = entry["query"].replace("IP=198.51.100.7", "IP=6.6.6.6")
    session.save()
    response = client.get(back)
    assert response.status_code in (302, 400)
    assert b'value="approve"' not in response.content
    assert not models.AppliedTemplate.objects.exists()


def test_unsigned_template_also_resumes(client, make_template, zones, alice):
    make_template()
    login_path, next_url = login_redirect(client.get(apply_url(query="domain=example.com&IP=198.51.100.7&token=a|b")))
    consent = client.get(sign_in(client, login_path, next_url))
    assert consent.status_code == 200 and b"a|b" in consent.content


def test_few_resume_entries_are_kept(client, make_template, zones):
    make_template()
    for i in range(20):
        client.get(apply_url(query=f"domain=example.com&IP=198.51.100.7&token=t{i}"))
    assert 0 < len(client.session[RESUME_KEY]) <= 8



def test_resume_url_counts_against_the_apply_link_rate_limit(client, make_template, zones, alice, monkeypatch):
    from django.core.cache import cache

    from django_domainconnect.conf import DEFAULTS

    make_template()
    cache.clear()
    # Set through DEFAULTS: overriding settings.DOMAINCONNECT would rebuild the memory backend.
    monkeypatch.setitem(DEFAULTS["RATE_LIMITS"], "apply_url", "2/m")
    _login, next_url = login_redirect(client.get(apply_url(query="domain=example.com&IP=198.51.100.7&token=t")))
    client.force_login(alice)  # counted per user from here on
    assert [client.get(next_url).status_code for _ in range(2)] == [200, 200]
    limited = client.get(next_url)
    assert limited.status_code == 429 and "Retry-After" in limited
    cache.clear()
