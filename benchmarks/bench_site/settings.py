"""The example project's settings for the HTTP benchmark: DEBUG off, quiet logs, persistent connections.

Only the URLconf differs (it adds ``/bench/ping``, the trivial JSON view); the example project itself is
unchanged. ``DATABASE_URL`` must point at the benchmark's own database.
"""

from __future__ import annotations

import os

import dj_database_url

from registrar_site.settings import *  # noqa: F403  (the example project as it ships)
from registrar_site.settings import DOMAINCONNECT

DEBUG = False
ROOT_URLCONF = "benchmarks.bench_site.urls"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
DATABASES = {
    # One connection per gunicorn worker, kept open as a production site would.
    "default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=600)
}
DOMAINCONNECT = {
    **DOMAINCONNECT,
    "BASE_URL": os.environ.get("DOMAINCONNECT_BASE_URL", "http://127.0.0.1:8000"),
    # The benchmark sends hundreds of applies a minute with one token: it measures the work, not the limiter.
    "RATE_LIMITS": None,
    # http.py --discovery-cache 0 measures the uncached answers (every request reaches the database).
    "DISCOVERY_CACHE_TIMEOUT": int(os.environ.get("BENCH_DISCOVERY_CACHE_TIMEOUT", "30")),
}
# http.py --cache: "locmem" (Django's default, one cache per worker) or a redis:// URL (shared, as in
# registrar_site.settings_production).
if os.environ.get("BENCH_CACHE", "locmem").startswith("redis://"):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": os.environ["BENCH_CACHE"]}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# http.py --local-discovery: discovery answers in a per-worker alias beside the (shared) default cache.
if os.environ.get("BENCH_LOCAL_DISCOVERY") == "1":
    CACHES["discovery"] = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "discovery"}
    DOMAINCONNECT["DISCOVERY_CACHE"] = "discovery"
# Each apply logs one INFO line in the example project; the benchmark measures the work, not the console.
LOGGING = {"version": 1, "disable_existing_loggers": False,
           "root": {"handlers": [], "level": "WARNING"}}
