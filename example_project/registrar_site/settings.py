"""Settings of the example registrar, read from environment variables with safe local defaults.

``DATABASE_URL`` (default: SQLite file ``example_project/db.sqlite3``), ``DOMAINCONNECT_BASE_URL``
(default ``http://127.0.0.1:8000``), ``DOMAINCONNECT_DNS_NAMESERVERS`` (comma-separated ``ip[:port]``,
default the system resolver), ``DJANGO_DEBUG`` (default on), ``DJANGO_ALLOWED_HOSTS``, ``DJANGO_SECRET_KEY``.
Production: ``registrar_site.settings_production``.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import dj_database_url

from .env import env_bool, env_list, url_host
from .oauth_policy import pkce_required

BASE_DIR = Path(__file__).resolve().parent.parent  # example_project/
DEMO_DIR = Path(os.environ.get("REGISTRAR_DEMO_DIR", BASE_DIR / ".demo"))  # demo key pair (gitignored)

# Local default only; settings_production refuses to start without a real one.
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "example-registrar-local-only-not-secret")
DEBUG = env_bool("DJANGO_DEBUG", True)

# `make demo` passes PORT: the default base URL follows it so settings and links point at the running server.
DOMAINCONNECT_BASE_URL = os.environ.get(
    "DOMAINCONNECT_BASE_URL", f"http://127.0.0.1:{os.environ.get('PORT', '8000')}"
).rstrip("/")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
if url_host(DOMAINCONNECT_BASE_URL) not in ALLOWED_HOSTS:
    ALLOWED_HOSTS.append(url_host(DOMAINCONNECT_BASE_URL))

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("DJANGO_CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # One writer at a time: IMMEDIATE takes the write lock at BEGIN, so concurrent applies queue (up to
    # `timeout` seconds) instead of failing with "database is locked" when a read lock cannot be upgraded.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        transaction_mode="IMMEDIATE", timeout=int(os.environ.get("DJANGO_SQLITE_TIMEOUT", "20")))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    # First, so its templates (the branded django_domainconnect/base.html) win over the app's.
    "registrar",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "oauth2_provider",
    "django_domainconnect",
]
# The async (OAuth) part ships separately; include it as soon as it exists.
if importlib.util.find_spec("django_domainconnect.oauth") is not None:
    INSTALLED_APPS.append("django_domainconnect.oauth")
# Migrations that point at django-oauth-toolkit's swappable Application model read this setting directly.
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
# The async flow on django-oauth-toolkit: exact https redirect URIs, RFC 9700 behaviour throughout.
OAUTH2_PROVIDER = {
    "OAUTH2_VALIDATOR_CLASS": "django_domainconnect.oauth.validators.DomainConnectOAuth2Validator",
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"],
    "ALLOW_URI_WILDCARDS": False,
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 600,
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "REFRESH_TOKEN_EXPIRE_SECONDS": 180 * 24 * 3600,  # Service Providers refresh for months, not days
    "PKCE_REQUIRED": pkce_required,  # per client: required for public clients and those registered with --pkce
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_SCHEME": True,
}

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Outermost after security: sees every response last and adds the site CSP where a view set none.
    "registrar.middleware.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "registrar_site.urls"
WSGI_APPLICATION = "registrar_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "registrar.context_processors.registrar",
            ]
        },
    }
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", BASE_DIR / "staticfiles"))

# Consent pages carry the whole apply URL (variables, sig, state): never leak it in a Referer.
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

REGISTRAR_NAME = os.environ.get("REGISTRAR_NAME", "Example Registrar")
# The /builder/ page signs links with the demo key: a demo tool, on by default only in DEBUG.
REGISTRAR_LINK_BUILDER = env_bool("REGISTRAR_LINK_BUILDER", DEBUG)

DOMAINCONNECT = {
    "PROVIDER_ID": os.environ.get("DOMAINCONNECT_PROVIDER_ID", "registrar.example"),
    "PROVIDER_NAME": REGISTRAR_NAME,
    "PROVIDER_DISPLAY_NAME": REGISTRAR_NAME,
    "BASE_URL": DOMAINCONNECT_BASE_URL,
    "BACKEND": "registrar.dc_backend.RegistrarBackend",
    "CONTROL_PANEL_URL": DOMAINCONNECT_BASE_URL + "/domains/%domain%/",
    # "ip" or "ip:port" entries (rundemo points this at its loopback DNS server); empty = system resolver.
    "DNS_NAMESERVERS": env_list("DOMAINCONNECT_DNS_NAMESERVERS", []),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"django_domainconnect": {"handlers": ["console"], "level": "INFO"}},
}
