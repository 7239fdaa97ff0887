"""Separate processes: the example registrar under gunicorn with three worker processes on PostgreSQL,
hit by concurrent async API applies and reverts over loopback. No 5xx; the audit log replays serially to
the final zone and state (SECURITY.md F.44, E.42)."""

from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from django_domainconnect.conf import dc_settings
from django_domainconnect.models import AuditEvent
from django_domainconnect.testing.replay import instance_summary, replay

from .conftest import BASE_RECORDS, BODIES, DOMAIN, make_zone, params_for, require_row_locks
from .conftest import state_summary as db_state
from .oauth import apply_path, issue_token, make_client, revert_path

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 3
REQUESTS = 36
CLIENT_THREADS = 12
REQUEST_TIMEOUT = 30


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_url() -> str:
    """The test database this process uses, for the server processes."""
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture
def server(tmp_path):
    pytest.importorskip("gunicorn", reason="gunicorn is in the bench extra: pip install -e '.[bench]'")
    require_row_locks()
    port = free_port()
    log = tmp_path / "gunicorn.log"
    from django.conf import settings

    # The tests' SECRET_KEY, so sessions this process creates are valid there.
    env = {**os.environ, "DATABASE_URL": database_url(), "DJANGO_SETTINGS_MODULE": "registrar_site.settings",
           "DJANGO_DEBUG": "0", "DJANGO_ALLOWED_HOSTS": "127.0.0.1", "PYTHONPATH": str(ROOT),
           "DJANGO_SECRET_KEY": settings.SECRET_KEY}
    with log.open("wb") as out:
        proc = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [sys.executable, "-m", "gunicorn", "registrar_site.wsgi:application", "--workers", str(WORKERS),
             "--bind", f"127.0.0.1:{port}", "--timeout", "60", "--graceful-timeout", "5",
             "--access-logfile", "-", "--access-logformat", "ACCESS pid=%(p)s %(s)s %(m)s %(U)s"],
            cwd=ROOT / "example_project", env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{base}/v2/domainTemplates/providers/sp.example/services/web", timeout=2)  # noqa: S310
                break
            except urllib.error.HTTPError:
                break  # answering (404 before the templates exist is fine)
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"gunicorn did not start:\n{log.read_text()[-3000:]}")
                time.sleep(0.2)
        yield base, log
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def post(url: str, token: str) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, data=b"", method="POST", headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT) as response:  # noqa: S310 - loopback
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        body = exc.read()
        try:
            return exc.code, json.loads(body or b"{}")
        except ValueError:
            return exc.code, {"raw": body[:300].decode(errors="replace")}


def test_gunicorn_workers_under_concurrent_api_calls(server, client, owner, settings, memory_backend, templates,
                                                       engine_templates):
    base, log = server
    zone = make_zone("registrar", owner, settings, memory_backend)
    make_client()
    token = issue_token(client, owner, " ".join(sorted(BODIES)))
    AuditEvent.objects.all().delete()  # only the API calls below are replayed

    rng = random.Random(7)
    calls = []
    for _ in range(REQUESTS):
        sid = rng.choice(sorted(BODIES))
        if rng.random() < 0.3 and sid != "multi":  # see test_revert_of_several_instances
            calls.append(("revert", f"{base}{revert_path(sid, domain=DOMAIN)}"))
        else:
            query = {"domain": DOMAIN, "force": "1", **params_for(sid, rng.randrange(6))}
            calls.append(("apply", f"{base}{apply_path(sid, **query)}"))

    started = time.monotonic()
    with ThreadPoolExecutor(CLIENT_THREADS) as pool:
        results = list(pool.map(lambda c: (c[0], *post(c[1], token)), calls))
    assert time.monotonic() - started < 120

    server_errors = [r for r in results if r[1] >= 500]
    assert server_errors == [], f"{server_errors}\n{log.read_text()[-3000:]}"
    allowed = {"apply": {200, 429}, "revert": {200, 410, 429}}
    assert [r for r in results if r[1] not in allowed[r[0]]] == []
    ok = sum(1 for r in results if r[1] == 200)
    assert ok >= REQUESTS // 2, results  # the load really ran (not all refused)

    pids = {line.split()[1] for line in log.read_text().splitlines()
            if line.startswith("ACCESS") and ("/apply" in line or "/revert" in line)}
    assert len(pids) >= 2, "the calls were not spread over several worker processes"

    successes = list(AuditEvent.objects.filter(domain=DOMAIN, outcome="success").order_by("pk"))
    assert len(successes) == ok
    result = replay(successes, domain=DOMAIN, initial=BASE_RECORDS, templates=engine_templates,
                    policy=dc_settings.policy())
    assert result.records() == zone.records()
    assert instance_summary(result.instances) == db_state()


def session_cookie(user: Any) -> str:
    """A signed-in session in the shared database, as a Cookie header value."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return f"sessionid={session.session_key}"


def test_double_submitted_consent_applies_once_across_workers(server, owner, settings, memory_backend, templates):
    """The same consent answer posted several times at once, to different worker processes (a double click,
    a browser retry): exactly one apply and one success audit row (SECURITY.md A.5)."""
    import re

    base, log = server
    zone = make_zone("registrar", owner, settings, memory_backend)
    cookie = session_cookie(owner)
    page_url = f"{base}/v2/domainTemplates/providers/sp.example/services/web/apply?domain={DOMAIN}&ip=192.0.2.9&token=x"
    with urllib.request.urlopen(urllib.request.Request(page_url, headers={"Cookie": cookie}), timeout=10) as page:  # noqa: S310
        html = page.read().decode()
        csrf_cookie = next(v.split(";")[0] for k, v in page.getheaders() if k.lower() == "set-cookie"
                           and v.startswith("csrftoken="))
    nonce = re.search(r'name="nonce" value="([^"]+)"', html).group(1)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    body = urllib.parse.urlencode({"nonce": nonce, "action": "approve", "csrfmiddlewaretoken": csrf}).encode()

    def answer(_: int) -> int:
        request = urllib.request.Request(f"{base}/domainconnect/consent", data=body, method="POST", headers={
            "Cookie": f"{cookie}; {csrf_cookie}", "Content-Type": "application/x-www-form-urlencoded",
            "Referer": base + "/"})
        try:
            with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT) as response:  # noqa: S310
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code

    with ThreadPoolExecutor(6) as pool:
        statuses = list(pool.map(answer, range(6)))
    assert all(s < 500 for s in statuses), f"{statuses}\n{log.read_text()[-3000:]}"
    assert 200 in statuses or 302 in statuses, statuses
    assert AuditEvent.objects.filter(domain=DOMAIN, action="apply", outcome="success").count() == 1, statuses
    assert [r.data for r in zone.records() if r.name == "www.example.com."] == ["192.0.2.9"]
