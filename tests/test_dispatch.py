"""The shared apply URL: GET is the sync flow; POST/DELETE are the async API only when it is installed."""

import pytest
from django.test import override_settings

from tests.settings import INSTALLED_APPS

APPLY = "/v2/domainTemplates/providers/p.example/services/s1/apply"
WITHOUT_ASYNC = [app for app in INSTALLED_APPS if app != "django_domainconnect.oauth"]


@pytest.mark.django_db
def test_post_without_token_goes_to_the_async_api(client):
    response = client.post(APPLY + "?domain=example.com")
    assert response.status_code == 401
    assert "Bearer" in response["WWW-Authenticate"]


@pytest.mark.django_db
def test_without_the_async_sub_app_post_and_delete_are_405_not_500(client):
    with override_settings(INSTALLED_APPS=WITHOUT_ASYNC):
        for method in (client.post, client.delete):
            response = method(APPLY + "?domain=example.com")
            assert response.status_code == 405
            assert response["Allow"] == "GET, HEAD"


@pytest.mark.django_db
def test_other_methods_are_405(client):
    response = client.put(APPLY)
    assert response.status_code == 405
    assert "POST" in response["Allow"]
