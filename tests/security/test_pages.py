"""Every page of both flows, checked the same way (SECURITY.md 19, 20, 24, 25; fuzz target 14):

* framing blocked (``X-Frame-Options: DENY`` and CSP ``frame-ancestors 'none'``), no ``'unsafe-inline'``;
* the URL never leaks through ``Referer``, and a page whose form POSTs back still passes Django's CSRF
  origin check in a real browser (``no-referrer`` makes browsers send ``Origin: null``);
* XSS payloads in every displayed field come out as text: the HTML, parsed with ``html.parser``, holds no
  element or attribute that came from a payload;
* a hostile ``Host`` header is refused and ``X-Forwarded-Host`` is ignored.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.oauth.conftest import PROVIDER, REDIRECT, consent_url

SYNC = f"/v2/domainTemplates/providers/{PROVIDER}/services/{{sid}}/apply"
SYNC_REDIRECT = "https://app.exampleservice.example/done"


def sync_url(sid: str = "web", **query: str) -> str:
    base = {"domain": "example.com", "IP": "192.0.2.7", "token": "abc"}
    base.update(query)
    return SYNC.format(sid=sid) + "?" + urlencode(base)


@pytest.fixture
def sync_template(make_template):
    """A template the sync flow may redirect for (``syncRedirectDomain``) that shares its names."""
    return make_template("site", syncRedirectDomain="exampleservice.example", sharedProviderName=True,
                         sharedServiceName=True, logoUrl="https://logo.exampleservice.example/l.png")


# -- the pages -----------------------------------------------------------------------------------------

Page = Callable[[Any, Any], Any]


def _sync_consent(client, alice):
    client.force_login(alice)
    return client.get(sync_url("site"))


def _sync_error(client, alice):
    return client.get(sync_url("nope"))


def _sync_bad_request(client, alice):
    return client.get(SYNC.format(sid="site") + "?domain=example.com&domain=example.org")


def _consent_post_expired(client, alice):
    client.force_login(alice)
    return client.post("/domainconnect/consent", {"nonce": "n" * 43, "action": "approve"})


def _login_redirect(client, alice):
    return client.get(sync_url("site"))


def _async_consent(client, alice):
    client.force_login(alice)
    return client.get(consent_url())


def _async_error(client, alice):
    return client.get(consent_url(redirect_uri="https://evil.example/cb"))


def _connected(client, alice):
    client.force_login(alice)
    return client.get("/domainconnect/connected/example.com/")


def _grants(client, alice):
    client.force_login(alice)
    return client.get("/domainconnect/grants/")


APP_PAGES: dict[str, Page] = {
    "sync consent": _sync_consent, "sync 404": _sync_error, "sync 400": _sync_bad_request,
    "consent POST expired": _consent_post_expired, "login redirect": _login_redirect,
    "async consent": _async_consent, "async error": _async_error, "connected services": _connected,
    "grants": _grants,
}


@pytest.mark.parametrize("name", sorted(APP_PAGES))
def test_app_pages_cannot_be_framed_or_leak_the_url(name, client, alice, zones, templates, sp_client, sync_template):
    response = APP_PAGES[name](client, alice)
    assert response.status_code < 500
    assert response["X-Frame-Options"] == "DENY"
    csp = response["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response["Referrer-Policy"] in ("no-referrer", "same-origin")
    assert "no-store" in response["Cache-Control"]


def test_hosts_login_page_cannot_be_framed(client, db):
    # The login page is the host's; Django's XFrameOptionsMiddleware (X_FRAME_OPTIONS="DENY") covers it.
    response = client.get("/accounts/login/")
    assert response["X-Frame-Options"] == "DENY"


def test_no_view_of_the_app_is_exempt_from_framing_protection():
    from django.urls import URLPattern, URLResolver, get_resolver

    def walk(patterns):
        for p in patterns:
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns)
            elif isinstance(p, URLPattern):
                yield p

    ours = [p for p in walk(get_resolver().url_patterns) if p.callback.__module__.startswith("django_domainconnect")]
    assert ours
    assert not [p.name for p in ours if getattr(p.callback, "xframe_options_exempt", False)]


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"method": (a.get("method") or "get").lower(), "action": a.get("action"),
                               "referrerpolicy": a.get("referrerpolicy"), "fields": {}})
        elif tag in ("input", "button") and self.forms and a.get("name"):
            if tag == "input" or a.get("value") in ("approve", "allow"):
                self.forms[-1]["fields"].setdefault(a["name"], a.get("value") or "")


def _browser_origin(page_response, form: dict[str, Any]) -> str:
    """The ``Origin`` a browser sends with the form's POST (Fetch §3.1: ``null`` under no-referrer)."""
    policy = form["referrerpolicy"] or page_response.get("Referrer-Policy", "strict-origin-when-cross-origin")
    return "null" if policy == "no-referrer" else "http://testserver"


def _post_form_like_a_browser(name: str, client, alice) -> tuple[Any, Any]:
    page = APP_PAGES[name](client, alice)
    assert page.status_code == 200, page.content[:500]
    parser = _Forms()
    parser.feed(page.content.decode())
    posts = [f for f in parser.forms if f["method"] == "post"]
    assert posts, f"{name}: no POST form on the page"
    form = posts[0]
    csrf_client = type(client)(enforce_csrf_checks=True)
    csrf_client.cookies = client.cookies
    answer = csrf_client.post(form["action"] or page.request["PATH_INFO"] + "?" + page.request["QUERY_STRING"],
                              form["fields"], HTTP_ORIGIN=_browser_origin(page, form))
    return page, answer


@pytest.mark.parametrize("name", ["sync consent"])
def test_forms_pass_csrf_with_the_origin_a_browser_sends(name, client, alice, zones, templates, sp_client,
                                                         sync_template):
    _page, answer = _post_form_like_a_browser(name, client, alice)
    assert answer.status_code != 403, answer.content[:300]


def test_async_consent_form_passes_csrf_with_the_origin_a_browser_sends(client, alice, zones, templates,
                                                                       sp_client, sync_template):
    _page, answer = _post_form_like_a_browser("async consent", client, alice)
    assert answer.status_code == 302, answer.content[:300]


def test_hostile_host_header_is_refused(client, zones, sp_client):
    for path in ("/v2/example.com/settings", sync_url("site"), "/v2/oauth/access_token"):
        response = client.get(path, HTTP_HOST="evil.example")
        assert response.status_code == 400, path


def test_forwarded_host_is_ignored(client, alice, zones, sync_template):
    settings_doc = json.loads(client.get("/v2/example.com/settings", HTTP_X_FORWARDED_HOST="evil.example").content)
    assert "evil" not in json.dumps(settings_doc)
    login = client.get(sync_url("site"), HTTP_X_FORWARDED_HOST="evil.example")
    assert login.status_code == 302 and "evil" not in login["Location"]
    client.force_login(alice)
    page = client.get(sync_url("site"), HTTP_X_FORWARDED_HOST="evil.example")
    assert page.status_code == 200 and b"evil.example" not in page.content


# -- XSS -------------------------------------------------------------------------------------------------

PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'><svg onload=alert(1)>",
    "javascript:alert(1)",
    "{{7*7}}{% debug %}",
    "</textarea><iframe src=//evil.example>",
]
SAFE_SCRIPT_PREFIX = "/static/"


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def assert_no_injected_markup(html: str) -> str:
    parser = _Elements()
    parser.feed(html)
    for tag, attrs in parser.elements:
        assert tag not in ("iframe", "svg", "object", "embed"), (tag, attrs)
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        if tag == "script":
            assert (attrs.get("src") or "").startswith(SAFE_SCRIPT_PREFIX), attrs
        if tag == "img":
            assert attrs.get("src") != "x", attrs
        for name in ("href", "src", "action", "formaction"):
            value = (attrs.get(name) or "").strip().lower()
            assert not value.startswith(("javascript:", "data:", "//evil")), (tag, attrs)
    text = "".join(parser.text)
    assert "49" not in text.replace("192.0.2.49", "")  # {{7*7}} was not evaluated
    return text


@pytest.mark.parametrize("payload", PAYLOADS)
def test_sync_consent_page_shows_payloads_as_text(payload, client, alice, zones, make_template):
    make_template("xss", providerName=f"P{payload}", serviceName=f"S{payload}", description=f"D{payload}",
                  sharedProviderName=True, sharedServiceName=True, warnPhishing=True,
                  syncRedirectDomain="exampleservice.example",
                  records=[{"type": "TXT", "host": "@", "data": "%token%", "ttl": 3600},
                           {"type": "CNAME", "host": "%sub%", "pointsTo": "t.exampleservice.example", "ttl": 3600}])
    client.force_login(alice)
    response = client.get(sync_url("xss", token=payload, sub="www", state=payload, providerName="Reseller",
                                   serviceName="Shop"))
    body = response.content.decode()
    assert response.status_code == 200, body[-800:]
    text = assert_no_injected_markup(body)
    assert f"P{payload}" in text or f"S{payload}" in text  # shown, as text
    assert payload in text  # the TXT value is displayed verbatim as text


@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize("field", ["host", "domain", "groupId", "providerName", "IP"])
def test_sync_error_pages_show_payloads_as_text(payload, field, client, alice, zones, make_template):
    make_template("xss", providerName="P", syncRedirectDomain="exampleservice.example", sharedProviderName=True)
    client.force_login(alice)
    response = client.get(sync_url("xss", **{field: payload}))
    assert response.status_code in (200, 302, 400, 403, 404)
    if response.status_code == 302:  # an allowed redirect carries the error; it never reflects the payload raw
        assert "<" not in response["Location"] and '"' not in response["Location"]
    else:
        assert_no_injected_markup(response.content.decode())


@pytest.mark.parametrize("payload", PAYLOADS)
def test_async_consent_page_shows_payloads_as_text(payload, client, alice, zones, sp_client, make_template):
    make_template("xss", providerName=f"P{payload}", serviceName=f"S{payload}",
                  records=[{"type": "TXT", "host": "@", "data": "%token%", "ttl": 3600}])
    client.force_login(alice)
    response = client.get(consent_url(scope="xss", token=payload, state=payload))
    body = response.content.decode()
    assert response.status_code == 200, body[-800:]
    assert_no_injected_markup(body)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_async_error_redirect_never_reflects_markup(payload, client, alice, zones, sp_client):
    client.force_login(alice)
    response = client.get(consent_url(scope=f"nope{payload}", state=payload))
    if response.status_code == 302:
        assert response["Location"].startswith(REDIRECT)
        assert "<" not in response["Location"] and '"' not in response["Location"]
    else:
        assert_no_injected_markup(response.content.decode())


def test_grants_revoke_form_passes_csrf_with_the_origin_a_browser_sends(client, alice, authorize):
    authorize(scope="web")
    _page, answer = _post_form_like_a_browser("grants", client, alice)
    assert answer.status_code in (200, 302), answer.content[:300]
