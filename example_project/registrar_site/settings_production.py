"""Production settings: everything from ``settings`` plus the hardening ``manage.py check --deploy`` asks for.

Requires ``DJANGO_SECRET_KEY``, ``DJANGO_ALLOWED_HOSTS`` and an https ``DOMAINCONNECT_BASE_URL``; serve
behind a TLS-terminating proxy that sets ``X-Forwarded-Proto``.
"""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured

from .env import env_bool
from .settings import *  # noqa: F403
from .settings import DOMAINCONNECT_BASE_URL

DEBUG = env_bool("DJANGO_DEBUG", False)
REGISTRAR_LINK_BUILDER = env_bool("REGISTRAR_LINK_BUILDER", False)

if "DJANGO_SECRET_KEY" not in os.environ:
    raise ImproperlyConfigured("set DJANGO_SECRET_KEY (50+ random characters) for production")
if "DJANGO_ALLOWED_HOSTS" not in os.environ:
    raise ImproperlyConfigured("set DJANGO_ALLOWED_HOSTS (comma-separated host names) for production")
if not DOMAINCONNECT_BASE_URL.startswith("https://"):
    raise ImproperlyConfigured("DOMAINCONNECT_BASE_URL must be an https:// URL in production")

SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", str(365 * 24 * 3600)))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SECURE = True
X_FRAME_OPTIONS = "DENY"

# One cache shared by every worker: rate limits, consent nonces and public-key lookups must be counted and
# remembered once, not per process. Redis when REDIS_URL is set (needs the `redis` package), else the
# database cache (`manage.py createcachetable` once).
if os.environ.get("REDIS_URL"):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": os.environ["REDIS_URL"]}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache",
                          "LOCATION": "registrar_cache"}}
