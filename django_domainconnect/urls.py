"""URL patterns. Hosts include them at the site root: ``path("", include("django_domainconnect.urls"))``.

Each part lives in its own list so a host can include a subset:
``discovery_urlpatterns`` (settings + template query), ``sync_urlpatterns`` (consent pages),
``async_urlpatterns`` (OAuth consent, token, revert) and the shared apply endpoint.
"""

from django.apps import apps
from django.urls import include, path

from . import auditlog
from .health import health_view
from .ratelimit import guard_patterns
from .views.dispatch import apply_endpoint

app_name = "domainconnect"

apply_urlpatterns = [
    path(
        "v2/domainTemplates/providers/<str:provider_id>/services/<str:service_id>/apply",
        apply_endpoint,
        name="apply",
    ),
]

urlpatterns: list = [*apply_urlpatterns]

# Parts added by their modules (kept as separate includes so each can be left out by a host):
urlpatterns += [path("", include("django_domainconnect.api.urls"))]  # discovery (settings, template query)
urlpatterns += [path("", include("django_domainconnect.views.urls"))]  # sync consent, connected services
if apps.is_installed("django_domainconnect.oauth"):  # optional sub-app: async consent, token, revert, grants
    urlpatterns += [path("", include("django_domainconnect.oauth.urls"))]
_ = include

# Health (staff only); then every route logs its refusals and the writing ones are rate-limited
# (SECURITY.md 42, 47; docs/operations.md). Committed audit rows are logged too.
urlpatterns += [path("domainconnect/health", health_view, name="health")]
urlpatterns = guard_patterns(urlpatterns)
auditlog.connect()
