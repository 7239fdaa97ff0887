"""Lint and import speed over the public template corpus (``../shared/templates``).

    .venv/bin/python benchmarks/lint_import.py [--corpus DIR] [--database-url URL] [--runs 3]

Times, as separate processes (what a user waits for, interpreter start-up included):
1. ``domainconnect lint <corpus>`` (the console script) and, in-process, ``lint_paths`` alone;
2. ``manage.py domainconnect_import_templates <corpus>`` of the example project into a fresh database
   (migrations run first, outside the clock), then the same import again (everything unchanged);
3. the templates admin changelist over the imported corpus (time, queries, page size).
The database is a fresh SQLite file by default; ``--database-url postgres://…/<db>`` uses PostgreSQL (the
database is dropped and re-created, so give it a name of its own).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CORPUS = ROOT.parent / "shared" / "templates"
BIN = Path(sys.executable).parent
MANAGE = ROOT / "example_project" / "manage.py"


def timed(cmd: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> tuple[float, int, str]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd)
    elapsed = time.perf_counter() - start
    return elapsed, proc.returncode, (proc.stdout.strip() or proc.stderr.strip())


def lint_in_process(corpus: Path) -> tuple[float, int, int]:
    sys.path.insert(0, str(ROOT))
    from django_domainconnect.engine.lint import lint_paths

    files = sorted(str(p) for p in corpus.glob("*.json"))
    start = time.perf_counter()
    results = lint_paths(files)
    elapsed = time.perf_counter() - start
    errors = sum(1 for findings in results.values() if any(f.level == "error" for f in findings))
    return elapsed, len(files), errors


ADMIN_PROBE = """
import time
import django
django.setup()
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
settings.ALLOWED_HOSTS.append("testserver")
admin = get_user_model().objects.create_superuser("bench-admin", "admin@bench.example", "x")
client = Client()
client.force_login(admin)
for url in ("/admin/django_domainconnect/template/", "/admin/django_domainconnect/template/?q=google"):
    client.get(url)
    start = time.perf_counter()
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    elapsed = time.perf_counter() - start
    print(f"admin {url}: HTTP {response.status_code}, {elapsed * 1e3:.0f} ms, {len(ctx.captured_queries)} queries, "
          f"{len(response.content) // 1024} KiB")
"""


def fresh_database(url: str | None, tmp: Path) -> str:
    if url is None:
        return f"sqlite:///{tmp / 'import.sqlite3'}"
    base, _, name = url.rpartition("/")
    for sql in (f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"'):
        subprocess.run(["psql", f"{base}/postgres", "-q", "-c", sql], check=True, capture_output=True)
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    corpus: Path = args.corpus
    if not corpus.is_dir():
        sys.exit(f"no template corpus at {corpus}")
    count = len(list(corpus.glob("*.json")))
    print(f"corpus: {corpus} ({count} templates)")

    cli = shutil.which("domainconnect", path=str(BIN)) or "domainconnect"
    runs = []
    for _ in range(args.runs):
        elapsed, rc, out = timed([cli, "lint", str(corpus)])
        runs.append(elapsed)
    print(f"domainconnect lint (CLI, {args.runs} runs): median {statistics.median(runs):.2f} s, "
          f"min {min(runs):.2f} s (exit {rc}; {len(out.splitlines())} output lines)")
    elapsed, files, errors = lint_in_process(corpus)
    print(f"lint_paths in-process: {elapsed:.2f} s for {files} files ({elapsed / files * 1e3:.2f} ms each; "
          f"{errors} files with errors)")

    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        env = {**os.environ, "DATABASE_URL": fresh_database(args.database_url, tmp), "DJANGO_DEBUG": "0",
               "DJANGO_SETTINGS_MODULE": "registrar_site.settings",
               "DOMAINCONNECT_BASE_URL": "https://dns.bench.example"}
        _t, rc, out = timed([sys.executable, str(MANAGE), "migrate", "--noinput"], env=env)
        if rc:
            sys.exit(f"migrate failed:\n{out}")
        first, rc1, out1 = timed([sys.executable, str(MANAGE), "domainconnect_import_templates", str(corpus)], env=env)
        again, rc2, out2 = timed([sys.executable, str(MANAGE), "domainconnect_import_templates", str(corpus)], env=env)
        noop, _rc, _out = timed([sys.executable, str(MANAGE), "check"], env=env)
        db = "PostgreSQL" if args.database_url else "SQLite"
        print(f"import into a fresh {db} database: {first:.2f} s (exit {rc1}): {out1.splitlines()[-1:]}")
        print(f"import again (unchanged): {again:.2f} s (exit {rc2}): {out2.splitlines()[-1:]}")
        print(f"(manage.py start-up alone, `manage.py check`: {noop:.2f} s)")
        probe = subprocess.run([sys.executable, "-c", ADMIN_PROBE], env={**env, "PYTHONPATH": os.pathsep.join(
            [str(ROOT), str(ROOT / "example_project")])}, capture_output=True, text=True)
        print(probe.stdout.strip() or f"admin probe failed: {probe.stderr[-800:]}")


if __name__ == "__main__":
    main()
