"""A site-wide Content-Security-Policy for the registrar's own pages (login, panel, admin, builder).

The Domain Connect pages set their own, stricter policy (``django_domainconnect.views.security``); this
middleware only fills in a policy where a response has none yet. ``frame-ancestors`` is what stops
clickjacking in current browsers (``X-Frame-Options`` is its legacy twin, kept as well). No
``'unsafe-inline'``: the panel's styles are static files. No ``form-action``: browsers apply it to the
redirect after a POST, which for the OAuth consent goes to the Service Provider.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data: https:; object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        return response
