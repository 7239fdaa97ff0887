"""HTTP benchmark: the example registrar under gunicorn (2 workers) on PostgreSQL, loopback only.

    .venv/bin/python benchmarks/http.py [--database-url postgres://postgres@127.0.0.1:5432/dc_bench]
                                        [--duration 12] [--rounds 3] [--connections 4] [--client auto|wrk|python]
                                        [--cache locmem|redis://…] [--local-discovery] [--discovery-cache 30]
                                        [--shape plain|instances|ns]

Creates (drops and re-creates) the benchmark database, seeds it with a 10-record and a 100,000-record zone
plus 1,000 templates and async-API tokens (``bench_site/seed.py``), starts gunicorn on 127.0.0.1, and
measures requests/s and p50/p99 latency for: a trivial Django JSON view (the ceiling of this stack), the
same view with one indexed query, the settings endpoint, the template query and the async apply (POST
with a Bearer token and force=1; every call re-plans under the zone lock and rewrites the instance's
state) on both zones. The load generator is ``wrk`` when installed (Debian package ``wrk``), else a small
threaded keep-alive client; every run is bounded in time (``--duration`` per endpoint, split into
``--rounds`` turns; each endpoint's best round is reported) and the server is stopped at the end.
Discovery answers come from the discovery cache (``DISCOVERY_CACHE_TIMEOUT``, on by default) after the
warm-up request; ``--discovery-cache 0`` measures the database path every time. Rate limits are off.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# This file is named http.py: run as a script, its folder must not shadow the standard library's http.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]

import argparse  # noqa: E402
import http.client  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from urllib.parse import urlsplit  # noqa: E402

ROOT = HERE.parent
PROVIDER, SERVICE = "bench.example.net", "hosting5"
APPLY_QUERY = "ip=192.0.2.10&ip6=2001:db8::10&token=abc123&force=1"
MAX_REQUESTS = 200_000  # per endpoint, whatever the duration: the run always ends


@dataclass
class Result:
    name: str
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int


@dataclass
class Endpoint:
    name: str
    method: str
    path: str
    headers: dict[str, str]
    connections: int | None = None  # None: --connections


# --- load generators -----------------------------------------------------------------------------------

def run_wrk(ep: Endpoint, port: int, duration: float, connections: int) -> Result:
    lines = [f'wrk.method = "{ep.method}"'] + [f'wrk.headers["{k}"] = "{v}"' for k, v in ep.headers.items()]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write("\n".join(lines) + "\n")
    try:
        cmd = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(duration))}s", "--latency", "--timeout", "10s",
               "-s", script.name, f"http://127.0.0.1:{port}{ep.path}"]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=duration + 60).stdout
    finally:
        os.unlink(script.name)

    def latency(pct: str) -> float:
        match = re.search(rf"^\s*{pct}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not match:
            return float("nan")
        return float(match.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[match.group(2)]

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    socket_err = re.search(r"Socket errors:.*", out)
    errors = int(non2xx.group(1)) if non2xx else 0
    if socket_err:
        errors += sum(int(n) for n in re.findall(r"\d+", socket_err.group(0)))
    return Result(ep.name, rps, latency("50"), latency("99"), total, errors)


def run_python(ep: Endpoint, port: int, duration: float, connections: int) -> Result:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    deadline = time.perf_counter() + duration

    def worker() -> None:
        nonlocal errors
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        mine: list[float] = []
        bad = 0
        while time.perf_counter() < deadline and len(latencies) + len(mine) < MAX_REQUESTS:
            start = time.perf_counter()
            try:
                conn.request(ep.method, ep.path, body=b"" if ep.method == "POST" else None, headers=ep.headers)
                response = conn.getresponse()
                response.read()
                if response.status >= 400:
                    bad += 1
            except (OSError, http.client.HTTPException):
                bad += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            mine.append(time.perf_counter() - start)
        conn.close()
        with lock:
            latencies.extend(mine)
            errors += bad

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [float("nan")] * 99
    return Result(ep.name, len(latencies) / elapsed, q[49] * 1e3, q[98] * 1e3, len(latencies), errors)


# --- server --------------------------------------------------------------------------------------------

def recreate_database(url: str) -> None:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not re.fullmatch(r"[A-Za-z0-9_]+", name) or name in ("postgres", "template0", "template1"):
        sys.exit(f"give the benchmark a database of its own (got {name!r})")
    admin = parts._replace(path="/postgres").geturl()
    for sql in (f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'):
        subprocess.run(["psql", admin, "-q", "-c", sql], check=True, capture_output=True)


def request_once(port: int, ep: Endpoint) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(ep.method, ep.path, body=b"" if ep.method == "POST" else None, headers=ep.headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def wait_ready(port: int, server: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit("gunicorn exited during start-up")
        try:
            if request_once(port, Endpoint("ping", "GET", "/bench/ping", {}))[0] == 200:
                return
        except OSError:
            time.sleep(0.2)
    sys.exit("gunicorn did not answer within 30 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/dc_bench")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--duration", type=float, default=12.0, help="seconds per endpoint, over all rounds")
    parser.add_argument("--rounds", type=int, default=3,
                        help="measure every endpoint in turn this many times; report each one's best round")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--client", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--small", type=int, default=10)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--templates", type=int, default=1_000)
    parser.add_argument("--shape", choices=["plain", "instances", "ns"], default="plain",
                        help="zone shape: 'instances' puts half of each zone in applied-template state")
    parser.add_argument("--cache", default="locmem",
                        help="the server's default cache: 'locmem' (per worker) or a redis:// URL (shared), "
                             "e.g. redis://127.0.0.1:6379/15")
    parser.add_argument("--discovery-cache", type=int, default=30,
                        help="DISCOVERY_CACHE_TIMEOUT in seconds; 0 sends every discovery request to the database")
    parser.add_argument("--local-discovery", action="store_true",
                        help="DISCOVERY_CACHE in a per-worker local-memory alias beside the --cache default")
    parser.add_argument("--keep-db", action="store_true", help="leave the database for inspection")
    args = parser.parse_args()
    client = args.client if args.client != "auto" else ("wrk" if shutil.which("wrk") else "python")
    runner = run_wrk if client == "wrk" else run_python

    small, large = "small.bench.example", "large.bench.example"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "example_project")]),
        "DJANGO_SETTINGS_MODULE": "benchmarks.bench_site.settings",
        "DATABASE_URL": args.database_url,
        "DJANGO_DEBUG": "0",
        "DOMAINCONNECT_BASE_URL": f"http://127.0.0.1:{args.port}",
        "BENCH_CACHE": args.cache,
        "BENCH_DISCOVERY_CACHE_TIMEOUT": str(args.discovery_cache),
        "BENCH_LOCAL_DISCOVERY": "1" if args.local_discovery else "0",
    }
    load_before = " ".join(Path("/proc/loadavg").read_text().split()[:3]) if Path("/proc/loadavg").exists() else "?"
    recreate_database(args.database_url)
    started = time.perf_counter()
    seeded = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_site.seed", "--zone", f"{small}:{args.small}",
         "--zone", f"{large}:{args.large}", "--templates", str(args.templates), "--shape", args.shape],
        env=env, cwd=ROOT, capture_output=True, text=True)
    if seeded.returncode:
        sys.exit(f"seeding failed:\n{seeded.stderr[-3000:]}")
    tokens = json.loads(seeded.stdout.strip().splitlines()[-1])["tokens"]
    print(f"seeded {args.small:,} + {args.large:,} records ({args.shape}) and {args.templates:,} templates "
          f"in {time.perf_counter() - started:.1f} s")

    apply_path = f"/v2/domainTemplates/providers/{PROVIDER}/services/{SERVICE}/apply"
    endpoints = [
        Endpoint("ceiling: trivial JSON view", "GET", "/bench/ping", {}),
        Endpoint("trivial JSON view + 1 query", "GET", "/bench/ping-db", {}),
        Endpoint(f"settings ({args.small:,} records)", "GET", f"/v2/{small}/settings", {}),
        Endpoint(f"settings ({args.large:,} records)", "GET", f"/v2/{large}/settings", {}),
        Endpoint(f"template query ({args.templates:,} templates)", "GET",
                 f"/v2/domainTemplates/providers/{PROVIDER}/services/{SERVICE}", {}),
        # Applies to one zone are serialised by its row lock: more connections would only queue, so one
        # connection measures the time an apply takes.
        Endpoint(f"async apply ({args.small:,} records)", "POST", f"{apply_path}?domain={small}&{APPLY_QUERY}",
                 {"Authorization": f"Bearer {tokens[small]}"}, connections=1),
        Endpoint(f"async apply ({args.large:,} records)", "POST", f"{apply_path}?domain={large}&{APPLY_QUERY}",
                 {"Authorization": f"Bearer {tokens[large]}"}, connections=1),
    ]
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", str(args.workers), "-b", f"127.0.0.1:{args.port}",
         "--log-level", "warning", "benchmarks.bench_site.wsgi:application"],
        env=env, cwd=ROOT)
    results: list[Result] = []
    try:
        wait_ready(args.port, server)
        for ep in endpoints:
            status, body = request_once(args.port, ep)  # a check that it really works, and a warm-up
            if status != 200:
                sys.exit(f"{ep.name}: HTTP {status}: {body[:500]!r}")
            runner(ep, args.port, 1.0, ep.connections or args.connections)
        # Endpoints take turns, round after round, so a burst of other load on the machine hits one round of
        # each rather than all of one endpoint; the best round is the least disturbed.
        rounds: dict[str, list[Result]] = {ep.name: [] for ep in endpoints}
        for i in range(args.rounds):
            for ep in endpoints:
                result = runner(ep, args.port, args.duration / args.rounds, ep.connections or args.connections)
                rounds[ep.name].append(result)
                print(f"  round {i + 1}: {result.name:38} {result.rps:9.1f} req/s  p50 {result.p50_ms:8.2f} ms  "
                      f"p99 {result.p99_ms:8.2f} ms  ({result.requests} requests, {result.errors} errors)",
                      flush=True)
        results = [max(rounds[ep.name], key=lambda r: r.rps) for ep in endpoints]
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        if not args.keep_db:
            name = urlsplit(args.database_url).path.lstrip("/")
            admin = urlsplit(args.database_url)._replace(path="/postgres").geturl()
            subprocess.run(["psql", admin, "-q", "-c", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'],
                           capture_output=True)

    ceiling = results[0].rps
    print(f"\nload generator: {client}, {args.connections} connections (1 for applies), {args.rounds} rounds of "
          f"{args.duration / args.rounds:.0f} s per endpoint (best round shown); gunicorn {args.workers} sync "
          f"workers; PostgreSQL; cache {args.cache}, DISCOVERY_CACHE_TIMEOUT {args.discovery_cache}"
          f"{' in a local alias' if args.local_discovery else ''}; "
          f"load average before the run {load_before}")
    print("| endpoint | req/s | % of ceiling | p50 ms | p99 ms | requests | errors |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r.name} | {r.rps:.1f} | {100 * r.rps / ceiling:.0f}% | {r.p50_ms:.2f} | {r.p99_ms:.2f} | "
              f"{r.requests} | {r.errors} |")
    by_name = {r.name: r for r in results}
    a_small = by_name[f"async apply ({args.small:,} records)"]
    a_large = by_name[f"async apply ({args.large:,} records)"]
    print(f"\nasync apply, {args.large:,} vs {args.small:,} records: p50 {a_large.p50_ms / a_small.p50_ms:.2f}x, "
          f"throughput {a_small.rps / a_large.rps:.2f}x")


if __name__ == "__main__":
    main()
