"""URL patterns; hosts include them at the site root (``path("", include("django_domainconnect.urls"))``)."""

app_name = "domainconnect"

urlpatterns: list = []
