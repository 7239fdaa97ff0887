"""How a sync flow ends: a redirect to the Service Provider when the template allows it, else a page.

Draft §8.3.5/§8.3.6: redirect only to a ``redirect_uri`` that ``engine.redirects.redirect_allowed``
accepts (https, a ``syncRedirectDomain`` host); append ``state`` (percent-encoded, byte-exact) and on
errors ``error``/``error_description``; never reflect other request parameters. Redirects are 302
(never 307/308, which would forward the POST body). Without an allowed redirect the user sees a page that
also closes itself when it was opened as a popup.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render

from django_domainconnect.engine.redirects import append_params, redirect_allowed

from . import messages as msg
from .display import clean_text
from .security import apply_page_headers

# RFC 6749 §4.1.2.1 codes the sync flow uses, with the title shown to the user.
ERROR_TITLES = {
    "invalid_request": "The request could not be processed",
    "access_denied": "The changes were not made",
    "server_error": "Something went wrong",
    "temporarily_unavailable": "Please try again later",
    "unauthorized_client": "The request could not be processed",
}


def allowed_redirect(redirect_uri: str | None, template: Any, *, signed: bool) -> str | None:
    """``redirect_uri`` when the engine's policy allows redirecting there, else ``None``."""
    if not redirect_uri or template is None:
        return None
    try:
        ok = redirect_allowed(redirect_uri, template, signed=signed, debug=bool(settings.DEBUG))
    except Exception:  # noqa: BLE001 - a URI the policy cannot even parse is simply not allowed
        return None
    return redirect_uri if ok else None


def redirect_note(redirect_uri: str | None, template: Any, *, signed: bool) -> str:
    """Why a ``redirect_uri`` that was sent is not used, for the Service Provider's developer ("" if it is).

    The URI itself is never echoed: a page that shows an attacker's URL would help phishing.
    """
    if not redirect_uri or template is None or allowed_redirect(redirect_uri, template, signed=signed):
        return ""
    if signed:
        return msg.REDIRECT_NOT_USED_SIGNED
    if not getattr(template, "redirect_domains", ()):
        return msg.REDIRECT_NO_DOMAIN
    return msg.REDIRECT_NOT_USED


def _redirect(uri: str, params: dict[str, str]) -> HttpResponse:
    return apply_page_headers(HttpResponseRedirect(append_params(uri, params)))


def error_response(
    request: HttpRequest,
    *,
    error: str,
    description: str,
    status: int = 400,
    template: Any = None,
    redirect_uri: str | None = None,
    state: str | None = None,
    signed: bool = False,
    details: list[tuple[str, str]] | None = None,
    title: str | None = None,
) -> HttpResponse:
    """Redirect the error to the Service Provider when allowed, else render ``error.html``."""
    target = allowed_redirect(redirect_uri, template, signed=signed)
    if target is not None:
        params = {"error": error, "error_description": description}
        if state is not None:
            params["state"] = state
        return _redirect(target, params)
    context = {
        "error": error,
        "title": title or ERROR_TITLES.get(error, "The request could not be processed"),
        "description": clean_text(description),
        "details": [(label, clean_text(value)) for label, value in (details or [])],
        "redirect_note": redirect_note(redirect_uri, template, signed=signed),
    }
    return apply_page_headers(render(request, "django_domainconnect/error.html", context, status=status))


def success_response(
    request: HttpRequest,
    *,
    template: Any,
    redirect_uri: str | None,
    state: str | None,
    signed: bool,
    context: dict[str, Any],
) -> HttpResponse:
    """After a successful apply: 302 to the Service Provider with ``state``, or the completion page."""
    target = allowed_redirect(redirect_uri, template, signed=signed)
    if target is not None:
        return _redirect(target, {"state": state} if state is not None else {})
    context = {**context, "redirect_note": redirect_note(redirect_uri, template, signed=signed)}
    return apply_page_headers(render(request, "django_domainconnect/done.html", context))


def success_location(redirect_uri: str | None, template: Any, *, state: str | None, signed: bool) -> str | None:
    """The redirect URL a success would go to (kept so a replayed POST can repeat it)."""
    target = allowed_redirect(redirect_uri, template, signed=signed)
    if target is None:
        return None
    return append_params(target, {"state": state} if state is not None else {})
