"""WSGI entry point (``gunicorn registrar_site.wsgi`` from ``example_project/``)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

# The app lives one directory up when run from a checkout.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "registrar_site.settings_production")

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
