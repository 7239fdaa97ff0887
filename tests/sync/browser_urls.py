"""URLs for the browser test: the test project's URLs plus a plain login page (the test project has no
login template; a real host brings its own)."""

from __future__ import annotations

from django.contrib.auth.views import LoginView
from django.http import HttpResponse
from django.template import RequestContext, Template
from django.urls import path

from tests.urls import urlpatterns as base_urlpatterns

LOGIN_PAGE = Template(
    "<!DOCTYPE html><html><head><title>Sign in</title></head><body><h1>Example Registrar: sign in</h1>"
    '<form method="post">{% csrf_token %}{{ form.as_p }}'
    '<input type="hidden" name="next" value="{{ next }}"><button type="submit">Sign in</button></form></body></html>'
)


class PlainLoginView(LoginView):
    def render_to_response(self, context, **response_kwargs):  # noqa: ANN001, ANN201 - Django signature
        return HttpResponse(LOGIN_PAGE.render(RequestContext(self.request, context)))


urlpatterns = [path("accounts/login/", PlainLoginView.as_view(), name="login"), *base_urlpatterns]
