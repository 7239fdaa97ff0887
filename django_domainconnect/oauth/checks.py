"""System checks of the async flow (ids ``domainconnect_oauth.E0xx``)."""

from __future__ import annotations

from typing import Any

from django.core import checks


@checks.register(checks.Tags.security)
def check_validator(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    from oauth2_provider.settings import oauth2_settings

    from .validators import DomainConnectOAuth2Validator

    errors: list[checks.CheckMessage] = []
    try:
        validator = oauth2_settings.OAUTH2_VALIDATOR_CLASS
    except ImportError as exc:  # DOT re-raises a bad dotted path as ImportError
        validator = None
        errors.append(checks.Error(str(exc), id="domainconnect_oauth.E001"))
    if validator is not None and not (isinstance(validator, type)
                                      and issubclass(validator, DomainConnectOAuth2Validator)):
        errors.append(checks.Error(
            "OAUTH2_PROVIDER['OAUTH2_VALIDATOR_CLASS'] is not DomainConnectOAuth2Validator (or a subclass).",
            hint="Set it to 'django_domainconnect.oauth.validators.DomainConnectOAuth2Validator': without it "
                 "tokens are not tied to the user's grants and scopes are not the provider's serviceIds.",
            id="domainconnect_oauth.E001",
        ))
    schemes = [s.lower() for s in oauth2_settings.ALLOWED_REDIRECT_URI_SCHEMES]
    if any(s != "https" for s in schemes):
        errors.append(checks.Warning(
            "OAUTH2_PROVIDER['ALLOWED_REDIRECT_URI_SCHEMES'] allows more than https.",
            hint='Set it to ["https"]: consent codes must only travel to https redirect URIs.',
            id="domainconnect_oauth.W001",
        ))
    if oauth2_settings.ALLOW_URI_WILDCARDS:
        errors.append(checks.Error(
            "OAUTH2_PROVIDER['ALLOW_URI_WILDCARDS'] is on: redirect URIs must match exactly (draft §8.4.3).",
            id="domainconnect_oauth.E002",
        ))
    return errors
