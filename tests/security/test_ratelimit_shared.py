"""Rate-limit counters are shared by every worker when the cache is (SECURITY.md 42; docs/operations.md).

Four processes — stand-ins for four server workers — count against one limit through Django's built-in
``RedisCache`` on the machine's Redis (127.0.0.1:6379). Together they get exactly ``limit`` requests
through. Skipped when the ``redis`` package or the server is not there.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import uuid

import pytest

from tests.conftest import ROOT

REDIS = ("127.0.0.1", 6379)

WORKER = r"""
import json, os, sys
os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
import django
from django.conf import settings
django.setup()
settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                               "LOCATION": "redis://127.0.0.1:6379/0", "KEY_PREFIX": sys.argv[1]}}
from django_domainconnect.conf import DEFAULTS
from django_domainconnect.ratelimit import Identity, RateLimited, check
DEFAULTS["RATE_LIMITS"]["apply"] = sys.argv[2]
passed = 0
for _ in range(int(sys.argv[3])):
    try:
        check("apply", [Identity("client:sp.example")], now=1_000_000.0)
        passed += 1
    except RateLimited:
        pass
print(json.dumps({"passed": passed}))
"""


def _redis_up() -> bool:
    try:
        with socket.create_connection(REDIS, timeout=0.5):
            return True
    except OSError:
        return False


@pytest.mark.skipif(not _redis_up(), reason="no Redis server on 127.0.0.1:6379")
def test_workers_share_one_budget_through_redis():
    pytest.importorskip("redis", reason="Django's RedisCache needs the 'redis' package")
    prefix = f"dc-test-{uuid.uuid4().hex}"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "example_project")])}
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, prefix, "50/m", "30"], cwd=ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    results = []
    for worker in workers:
        out, err = worker.communicate(timeout=60)
        assert worker.returncode == 0, err[-2000:]
        results.append(json.loads(out.strip().splitlines()[-1])["passed"])
    assert sum(results) == 50, results  # 120 attempts, one shared limit of 50
