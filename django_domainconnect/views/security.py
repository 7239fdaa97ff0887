"""Response headers for every page of the consent flows (SECURITY.md A.4, C.19, C.20, C.24).

The pages carry the apply URL's variables, ``state`` and ``sig``; they must never be framed (a framed
Connect button is a clickjacking target), never leak the URL through ``Referer`` and never be cached.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers

# No 'unsafe-inline' anywhere: styles and the popup-closing script are static files on our origin.
# Logos are https images from the template, never fetched by the server (no SSRF). ``form-action`` is
# left out on purpose: Chrome applies it to the redirect that follows the POST, which goes to the
# Service Provider's redirect_uri.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https:; "
    "base-uri 'none'; frame-ancestors 'none'"
)


def apply_page_headers(response: HttpResponse) -> HttpResponse:
    """Set the anti-framing, CSP, referrer and no-cache headers on ``response`` (idempotent).

    ``Referrer-Policy`` is ``no-referrer`` unless the view chose ``same-origin`` (see ``form_page``).
    """
    response["X-Frame-Options"] = "DENY"
    response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    if "Referrer-Policy" not in response:
        response["Referrer-Policy"] = "no-referrer"
    response["X-Content-Type-Options"] = "nosniff"
    add_never_cache_headers(response)
    return response


def protected_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Decorator: every response of ``view`` (pages, errors and redirects) gets the page headers."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return apply_page_headers(view(request, *args, **kwargs))

    return wrapper


def form_page(response: HttpResponse) -> HttpResponse:
    """Referrer policy for a page whose form POSTs back to us (consent, disconnect).

    Under ``no-referrer`` browsers send ``Origin: null`` with the form POST, which Django's CSRF check
    rightly refuses. ``same-origin`` still sends nothing to any other origin (logo host, Service Provider),
    so the apply URL's variables, ``state`` and ``sig`` never leak; only our own server sees them again.
    """
    response["Referrer-Policy"] = "same-origin"
    return response
