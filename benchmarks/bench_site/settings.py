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
DOMAINCONNECT = {**DOMAINCONNECT, "BASE_URL": os.environ.get("DOMAINCONNECT_BASE_URL", "http://127.0.0.1:8000")}
# Each apply logs one INFO line in the example project; the benchmark measures the work, not the console.
LOGGING = {"version": 1, "disable_existing_loggers": False,
           "root": {"handlers": [], "level": "WARNING"}}
