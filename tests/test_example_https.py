"""``manage.py rundemo --https`` with the real ``domain-connect`` client, as Issue 5 is checked.

The example project runs in a subprocess (its own process group) on an ephemeral port with a throwaway
SQLite database, migrated and seeded first. The client discovers it through the demo's loopback DNS
server; the user's part of the consent (log in as demo/demo, click Allow) is done over HTTPS with plain
``http.client``, cookies and CSRF tokens by hand, the way a browser does it. Nothing leaves 127.0.0.1.
Also here: unit tests of ``django_domainconnect.testing.tlsserver``'s certificate handling.
"""

from __future__ import annotations

import datetime
import html
import http.client
import os
import re
import signal
import socket
import sqlite3
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import pytest
from cryptography import x509

from django_domainconnect.testing.tlsserver import (
    CERT_FILE,
    KEY_FILE,
    certificate_covers,
    ensure_certificate,
    write_certificate,
)

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "example_project"
STARTUP_TIMEOUT = 90  # migrate + seed are separate steps; this bounds the server's own start


# -- tlsserver: certificates --------------------------------------------------------------------------

def test_certificate_is_made_once_and_reused(tmp_path):
    cert, key = ensure_certificate(tmp_path)
    first = cert.read_bytes()
    assert (cert.name, key.name) == (CERT_FILE, KEY_FILE)
    assert key.stat().st_mode & 0o077 == 0  # the private key is readable by its owner only
    assert ensure_certificate(tmp_path)[0].read_bytes() == first
    parsed = x509.load_pem_x509_certificate(first)
    names = parsed.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert {str(ip) for ip in names.get_values_for_type(x509.IPAddress)} == {"127.0.0.1", "::1"}
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]


def test_certificate_is_remade_for_a_new_host_or_near_expiry(tmp_path):
    first = ensure_certificate(tmp_path)[0].read_bytes()
    assert not certificate_covers(first, ["192.0.2.5"])
    second = ensure_certificate(tmp_path, ["127.0.0.1", "192.0.2.5"])[0].read_bytes()
    assert second != first and certificate_covers(second, ["192.0.2.5", "127.0.0.1"])

    write_certificate(tmp_path, ["127.0.0.1"], valid_for=datetime.timedelta(hours=2))
    short = (tmp_path / CERT_FILE).read_bytes()
    assert not certificate_covers(short, ["127.0.0.1"])  # less than a day left: renewed
    assert ensure_certificate(tmp_path, ["127.0.0.1"])[0].read_bytes() != short


def test_a_broken_certificate_file_is_replaced(tmp_path):
    (tmp_path / CERT_FILE).write_text("not a certificate")
    (tmp_path / KEY_FILE).write_text("not a key")
    cert, _ = ensure_certificate(tmp_path)
    assert certificate_covers(cert.read_bytes(), ["127.0.0.1", "localhost"])


# -- the demo over HTTPS --------------------------------------------------------------------------------

@dataclass
class Demo:
    port: int
    dns_port: int
    db: Path
    demo_dir: Path
    output: list[str] = field(default_factory=list)

    @property
    def base(self) -> str:
        return f"https://127.0.0.1:{self.port}"


def _manage(*args: str, env: dict[str, str]) -> None:
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=EXAMPLE, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Iterator[Demo]:
    tmp = tmp_path_factory.mktemp("https-demo")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DOMAINCONNECT_", "DATABASE_"))}
    env.update(DJANGO_SETTINGS_MODULE="registrar_site.settings", DATABASE_URL=f"sqlite:///{tmp / 'db.sqlite3'}",
               REGISTRAR_DEMO_DIR=str(tmp / "demo"), PYTHONUNBUFFERED="1")
    _manage("migrate", "--noinput", env=env)
    _manage("seed_demo", env=env)
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "rundemo", "127.0.0.1:0", "--https", "--noreload"], cwd=EXAMPLE, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    output: list[str] = []
    found: dict[str, int] = {}
    ready = threading.Event()

    def drain() -> None:
        # Keeps reading for the whole run: a full pipe would block the server's request log.
        for line in proc.stdout:
            output.append(line)
            if m := re.search(r"Starting development server at https://127\.0\.0\.1:(\d+)/", line):
                found["port"] = int(m.group(1))
            if m := re.search(r"DNS server:\s+127\.0\.0\.1:(\d+)", line):
                found["dns"] = int(m.group(1))
            if "sp_client_demo.py --dns-port" in line:
                ready.set()
        ready.set()  # the process ended: stop waiting

    threading.Thread(target=drain, daemon=True).start()
    try:
        ready.wait(STARTUP_TIMEOUT)
        assert "port" in found and "dns" in found, "".join(output)
        yield Demo(found["port"], found["dns"], tmp / "db.sqlite3", tmp / "demo", output)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(10)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


@pytest.fixture
def dc_client(demo):
    """The library's DomainConnect pointed at the demo's DNS server (its resolver is shared: restored)."""
    domainconnect = pytest.importorskip("domainconnect", reason="the domain-connect client is a test dependency")
    resolver = domainconnect.DomainConnect._resolver
    saved = (list(resolver.nameservers), resolver.port)
    client = domainconnect.DomainConnect(domainconnect.NetworkContext(nameservers="127.0.0.1"))
    resolver.port = demo.dns_port
    try:
        yield client
    finally:
        resolver.nameservers, resolver.port = saved


class _Forms(HTMLParser):
    """The action and the named inputs of each ``<form>`` of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append((a.get("action", ""), {}))
        elif tag == "input" and self.forms and a.get("name"):
            self.forms[-1][1][a["name"]] = a.get("value", "")


def forms(body: str) -> list[tuple[str, dict[str, str]]]:
    parser = _Forms()
    parser.feed(body)
    return parser.forms


class Browser:
    """Just enough of a browser over TLS: a cookie jar, Origin/Referer on POSTs, no certificate checks."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.cookies: dict[str, str] = {}
        self.context = ssl.create_default_context()
        self.context.check_hostname = False
        self.context.verify_mode = ssl.CERT_NONE  # the demo's self-signed certificate

    def request(self, method: str, url: str, form: dict[str, str] | None = None,
                referer: str | None = None, origin: str | None = None) -> tuple[int, http.client.HTTPMessage, str]:
        parts = urlsplit(urljoin(self.base, url))
        conn = http.client.HTTPSConnection(parts.hostname, parts.port, context=self.context, timeout=15)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}
        body = None
        if form is not None:
            body = urlencode(form)
            headers.update({"Content-Type": "application/x-www-form-urlencoded",
                            "Origin": origin or self.base, "Referer": referer or self.base + "/"})
        try:
            conn.request(method, f"{parts.path}?{parts.query}" if parts.query else parts.path, body, headers)
            resp = conn.getresponse()
            text = resp.read().decode("utf-8", "replace")
        finally:
            conn.close()
        for value in resp.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(value).items():
                self.cookies[name] = morsel.value
        return resp.status, resp.headers, text

    def log_in(self, next_url: str, username: str = "demo", password: str = "demo") -> None:
        status, _, page = self.request("GET", "/accounts/login/?" + urlencode({"next": next_url}))
        assert status == 200
        action, fields = forms(page)[0]
        fields.update(username=username, password=password)
        status, headers, _ = self.request("POST", html.unescape(action) or "/accounts/login/", fields,
                                          referer=self.base + "/accounts/login/")
        assert status == 302, "login failed"
        assert "sessionid" in self.cookies


def approve(browser: Browser, consent_url: str, decision: str = "allow", **post: str) -> str:
    """The user: open the consent URL, log in when asked, click Allow; returns where the browser is sent."""
    status, headers, page = browser.request("GET", consent_url)
    if status == 302 and "/accounts/login/" in headers["Location"]:
        browser.log_in(urlsplit(consent_url)._replace(scheme="", netloc="").geturl())
        status, headers, page = browser.request("GET", consent_url)
    assert status == 200, page[:500]
    action, fields = next(f for f in forms(page) if "consent" in f[1])
    fields.update(decision=decision, **post)
    status, headers, body = browser.request("POST", html.unescape(action), fields, referer=consent_url)
    assert status == 302, body[:500]
    return headers["Location"]


def zone_records(db: Path, domain: str) -> set[tuple[str, str, str]]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT r.name, r.type, r.data FROM registrar_record r JOIN registrar_domain d "
                            "ON r.domain_id = d.id WHERE d.name = ?", (domain,)).fetchall()
    return {tuple(row) for row in rows}


@pytest.mark.slow
def test_the_client_discovers_the_https_demo_and_checks_a_template(demo, dc_client):
    from domainconnect import TemplateNotSupportedException

    config = dc_client.get_domain_config("www.example.net")
    assert (config.domain_root, config.host) == ("example.net", "www")
    assert config.urlAPI == demo.base and config.urlAsyncUX == f"{demo.base}/async"
    assert config.urlControlPanel == f"{demo.base}/domains/%domain%/"
    dc_client.check_template_supported(config, "demoservice.example", ["hosting", "mail"])
    with pytest.raises(TemplateNotSupportedException):
        dc_client.check_template_supported(config, "demoservice.example", ["no-such-service"])
    banner = "".join(demo.output)
    assert f"DomainConnect._resolver.port = {demo.dns_port}" in banner and "tls-cert.pem" in banner


@pytest.mark.slow
def test_served_certificate_is_the_demo_one_and_static_files_come_over_tls(demo):
    served = ssl.get_server_certificate(("127.0.0.1", demo.port))
    on_disk = (demo.demo_dir / CERT_FILE).read_text()
    assert x509.load_pem_x509_certificate(served.encode()) == x509.load_pem_x509_certificate(on_disk.encode())
    status, headers, body = Browser(demo.base).request("GET", "/static/registrar/consent.css")
    assert status == 200 and headers["Content-Type"].startswith("text/css") and ".rg-brand" in body


@pytest.mark.slow
def test_a_stalled_or_plain_http_client_does_not_block_the_server(demo):
    with socket.create_connection(("127.0.0.1", demo.port), timeout=5) as stalled, \
            socket.create_connection(("127.0.0.1", demo.port), timeout=5) as plain:
        stalled.sendall(b"\x16")  # the start of a TLS record, then nothing: its handshake waits alone
        plain.sendall(b"GET / HTTP/1.0\r\n\r\n")  # http on the https port
        started = time.monotonic()
        status, _, _ = Browser(demo.base).request("GET", "/accounts/login/")
        assert status == 200 and time.monotonic() - started < 5
        try:
            answer = plain.recv(1024)
        except ConnectionResetError:
            answer = b""
        assert not answer.startswith(b"HTTP/")  # the failed handshake closes it; no page is served


@pytest.mark.slow
def test_consent_post_needs_csrf_and_a_same_origin(demo, dc_client):
    context = dc_client.get_domain_connect_template_async_context(
        "example.net", "demoservice.example", "verify", "https://demoservice.example.org/oauth/callback",
        state="csrf-check")
    browser = Browser(demo.base)
    status, headers, _ = browser.request("GET", context.asyncConsentUrl)
    assert status == 302
    browser.log_in(urlsplit(context.asyncConsentUrl)._replace(scheme="", netloc="").geturl())
    status, _, page = browser.request("GET", context.asyncConsentUrl)
    action, fields = next(f for f in forms(page) if "consent" in f[1])
    fields["decision"] = "allow"
    foreign = browser.request("POST", html.unescape(action), fields, origin="https://evil.example")
    missing = browser.request("POST", html.unescape(action), {k: v for k, v in fields.items()
                                                              if k != "csrfmiddlewaretoken"})
    assert foreign[0] == 403 and missing[0] == 403
    # Refused posts granted nothing: the same form still works once, from the site's own origin.
    status, headers, _ = browser.request("POST", html.unescape(action), fields, referer=context.asyncConsentUrl)
    assert status == 302 and "code=" in headers["Location"]


@pytest.mark.slow
def test_sp_client_demo_runs_the_whole_async_flow(demo, dc_client):
    import sp_client_demo

    browser = Browser(demo.base)
    redirects: list[str] = []

    def user(consent_url: str) -> str:
        redirects.append(approve(browser, consent_url))
        return redirects[-1]

    before = zone_records(demo.db, "example.com")
    other_zone = zone_records(demo.db, "example.net")
    assert ("example.com.", "A", "192.0.2.10") in before
    lines: list[str] = []
    outcome = sp_client_demo.run(demo.dns_port, ask=user, say=lines.append)

    assert outcome.api_url == demo.base
    assert outcome.consent_url.startswith(f"{demo.base}/async/v2/domainTemplates/providers/demoservice.example?")
    returned = parse_qs(urlsplit(redirects[0]).query)
    assert redirects[0].startswith(sp_client_demo.REDIRECT_URI + "?") and returned["code"]
    assert outcome.conflict_first and outcome.refreshed
    after = zone_records(demo.db, "example.com")
    apex = {(t, d) for n, t, d in after if n == "example.com."}
    assert ("A", "198.51.100.8") in apex and ("AAAA", "2001:db8::7") in apex
    assert ("A", "192.0.2.10") not in apex and ("A", "198.51.100.7") not in apex
    assert ("www.example.com.", "CNAME", "example.com.") in after
    assert zone_records(demo.db, "example.net") == other_zone
    assert any("409" in line for line in lines)


def test_code_from_redirect_checks_state_and_errors():
    sp_client_demo = pytest.importorskip("sp_client_demo", reason="needs the domain-connect client")
    uri = sp_client_demo.REDIRECT_URI
    assert sp_client_demo.code_from_redirect(f" {uri}?code=abc&state=s1\n", "s1") == "abc"
    assert sp_client_demo.code_from_redirect("abc", "s1") == "abc"
    for bad in (f"{uri}?code=abc&state=other", f"{uri}?error=access_denied&state=s1", f"{uri}?state=s1"):
        with pytest.raises(SystemExit):
            sp_client_demo.code_from_redirect(bad, "s1")
