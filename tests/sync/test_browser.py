"""A real browser (Debian's Chromium through Playwright) against a live server: sign in from the apply
link, approve, cancel, popup completion, framing — and screenshots of the consent page for the docs.

The Service Provider side is simulated with Playwright routes, so nothing leaves the machine.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from django_domainconnect import models
from django_domainconnect.engine.types import Record
from tests.sync.helpers import KEY_DOMAIN, KEY_LABEL, apply_url, default_query, publish_key

CHROMIUM = "/usr/bin/chromium"
IMG_DIR = Path(__file__).resolve().parents[2] / "docs" / "img"
SP = "https://app.exampleservice.example"
LOGO_SVG = ('<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64" rx="12" '
            'fill="#1a56db"/><text x="32" y="42" font-size="28" text-anchor="middle" fill="#fff" '
            'font-family="sans-serif">ES</text></svg>')

pytestmark = [
    pytest.mark.browser,
    pytest.mark.urls("tests.sync.browser_urls"),
    # CI sets DOMAINCONNECT_REQUIRE_BROWSER so a missing browser fails there instead of skipping.
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM) and not os.environ.get("DOMAINCONNECT_REQUIRE_BROWSER"),
        reason=f"{CHROMIUM} is missing (apt-get install chromium)",
    ),
]


@pytest.fixture
def browser(monkeypatch):
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are still synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync",
                  # No name ever resolves except the live server's: the browser cannot reach the internet.
                  "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost"],
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 900, "height": 1100})
    # The Service Provider's pages (redirect target and popup opener) never leave the machine.
    context.route(f"{SP}/**", lambda route: route.fulfill(
        status=200, content_type="text/html", body="<!DOCTYPE html><title>SP</title><p>Back at the service</p>"))
    context.route("https://logo.exampleservice.example/**", lambda route: route.fulfill(
        status=200, content_type="image/svg+xml", body=LOGO_SVG))
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def site(live_server, make_template, memory_backend, django_user_model):
    django_user_model.objects.create_user("alice", password="pw-alice")
    memory_backend.add_zone("example.com", owners=["alice"], records=[
        Record("example.com.", "A", 3600, "192.0.2.1"),
        Record("www.example.com.", "CNAME", 3600, "example.com."),
    ])
    make_template(syncRedirectDomain="exampleservice.example")
    make_template("popup", serviceName="Example Mail", syncRedirectDomain=None,
                  records=[{"type": "TXT", "host": "@", "data": "mail-verify=%token%", "ttl": 3600}])
    make_template("phish", serviceName="Custom Domain", warnPhishing=True, records=[
        {"type": "CNAME", "host": "www", "pointsTo": "%target%", "ttl": 3600},
        {"type": "A", "host": "@", "pointsTo": "%IP%", "ttl": 3600},
    ])
    return live_server


def sign_in(page) -> None:
    assert "Sign in" in page.title()
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "pw-alice")
    page.click("button[type=submit]")
    page.wait_for_load_state()


def screenshot(page, name: str) -> None:
    IMG_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(IMG_DIR / name), full_page=True)


@pytest.mark.django_db(transaction=True)
def test_sign_in_approve_and_redirect(site, page, memory_backend):
    url = site.url + apply_url(query=default_query(state="s&1"))
    page.goto(url)
    sign_in(page)  # the login page sends the browser back to the same apply link
    assert page.locator("button[value=approve]").is_visible()
    assert "Example Website" in page.content() and "198.51.100.7" in page.content()
    screenshot(page, "consent.png")
    # Playwright routes do not see redirect targets, so the SP request is observed, not answered.
    with page.expect_request(lambda r: r.url.startswith(f"{SP}/done")) as sp_request:
        page.click("button[value=approve]")
    assert parse_qs(urlsplit(sp_request.value.url).query) == {"state": ["s&1"]}
    records = {(r.name, r.type, r.data) for r in memory_backend.records("example.com")}
    assert ("example.com.", "A", "198.51.100.7") in records
    assert models.AppliedTemplate.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_cancel_redirects_with_access_denied(site, page, memory_backend):
    page.goto(site.url + apply_url(query=default_query(state="c1")))
    sign_in(page)
    with page.expect_request(lambda r: r.url.startswith(f"{SP}/done")) as sp_request:
        page.click("button[value=cancel]")
    params = parse_qs(urlsplit(sp_request.value.url).query)
    assert params["error"] == ["access_denied"] and params["state"] == ["c1"]
    assert params["error_description"][0].startswith("user_cancel")
    assert memory_backend.write_count == 0


@pytest.mark.django_db(transaction=True)
def test_warning_page_screenshot(site, page):
    query = default_query(IP="203.0.113.66", target="lookalike-example.net", redirect_uri=None, state=None)
    page.goto(site.url + apply_url("phish", query={k: v for k, v in query.items() if v is not None}))
    sign_in(page)
    assert page.locator(".dc-warning").is_visible()
    assert page.locator(".dc-conflicts").count() == 0 or page.locator(".dc-conflicts").is_visible()
    screenshot(page, "consent-warning.png")


@pytest.mark.django_db(transaction=True)
def test_popup_closes_itself_after_approval(site, page, memory_backend):
    page.goto(f"{SP}/start")
    link = site.url + apply_url("popup", query={"domain": "example.com", "token": "t1"})
    with page.expect_popup() as popup_info:
        page.evaluate("url => window.open(url, 'dc', 'width=750,height=750')", link)
    popup = popup_info.value
    popup.wait_for_load_state()
    sign_in(popup)
    popup.click("button[value=approve]")
    popup.wait_for_event("close", timeout=10_000)
    assert any(r.data == '"mail-verify=t1"' for r in memory_backend.records("example.com"))


@pytest.mark.django_db(transaction=True)
def test_pages_cannot_be_framed(site, page):
    # An error page of the flow needs no session (a cross-site frame gets no SameSite=Lax cookie), so it
    # shows whether *our* headers block the frame, not the login page's.
    target = site.url + apply_url("popup", query={"domain": "example.com", "token": "t", "groupId": "nope"})
    page.route(f"{SP}/frame", lambda route: route.fulfill(
        status=200, content_type="text/html", body=f'<!DOCTYPE html><iframe src="{target}"></iframe>'))
    page.goto(f"{SP}/frame")
    page.wait_for_timeout(1000)
    framed = [f for f in page.frames if f is not page.main_frame]
    assert framed, "the iframe element should exist"
    assert "matches no group" not in framed[0].content()
    # the same page opened directly renders (so the check above is not vacuous)
    direct = page.context.new_page()
    direct.goto(target)
    assert "matches no group" in direct.content()


@pytest.mark.django_db(transaction=True)
def test_signed_link_with_raw_characters_survives_sign_in(dns_server, site, page, make_template, memory_backend,
                                                           sp_private_key):
    """Chromium leaves ``|``, ``^`` and ``{}`` raw in the query; the signature covers them as sent."""
    from django_domainconnect.engine.signatures import signed_query

    publish_key(dns_server, sp_private_key)
    make_template("signed", syncPubKeyDomain=KEY_DOMAIN, syncRedirectDomain=None,
                  records=[{"type": "TXT", "host": "@", "data": "v=%token%", "ttl": 3600}])
    query = signed_query("domain=example.com&token=a|b^c{d}", sp_private_key, KEY_LABEL)
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url))
    page.goto(site.url + apply_url("signed", query=query))
    assert any("token=a|b^c{d}" in url for url in seen)  # the browser really sent them raw
    sign_in(page)
    assert page.locator("button[value=approve]").is_visible(), page.content()[-1500:]
    page.click("button[value=approve]")
    page.wait_for_load_state()
    assert any(r.data == '"v=a|b^c{d}"' for r in memory_backend.records("example.com"))
