"""WSGI entry point for gunicorn (``benchmarks/http.py`` sets PYTHONPATH and DJANGO_SETTINGS_MODULE)."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.bench_site.settings")

application = get_wsgi_application()
