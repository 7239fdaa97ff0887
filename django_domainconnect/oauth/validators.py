"""django-oauth-toolkit's validator with the Domain Connect rules on top.

Set ``OAUTH2_PROVIDER["OAUTH2_VALIDATOR_CLASS"]`` to ``DomainConnectOAuth2Validator``. It adds:
per-client PKCE and token lifetimes, scopes that are the client's serviceIds, a redirect URI that must be
repeated at the token endpoint, the link from tokens to the user's ``Grant`` (refused once the grant is
revoked or past its absolute lifetime), and revocation of a grant's tokens when its code is replayed.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.utils import timezone
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauthlib.oauth2.rfc6749 import errors as oauth2_errors

from .models import Grant, ServiceProviderClient, code_hash, grant_for_token_family
from .pkce import pkce_required

logger = logging.getLogger(__name__)


def client_profile(client: Any) -> ServiceProviderClient | None:
    if client is None:
        return None
    try:
        return client.domainconnect_client
    except ServiceProviderClient.DoesNotExist:
        return None


class DomainConnectOAuth2Validator(OAuth2Validator):
    # -- clients -------------------------------------------------------------------------------------
    def validate_client_id(self, client_id: str, request: Any, *args: Any, **kwargs: Any) -> bool:
        # Only applications registered as Service Providers may use this endpoint family.
        return super().validate_client_id(client_id, request, *args, **kwargs) and (
            client_profile(request.client) is not None
        )

    def is_pkce_required(self, client_id: str, request: Any) -> bool:
        # Per client whatever OAUTH2_PROVIDER["PKCE_REQUIRED"] says (see pkce.py).
        return pkce_required(client_id)

    # -- scopes: a space-separated list of the provider's serviceIds ---------------------------------
    def validate_scopes(self, client_id: str, scopes: list[str], client: Any, request: Any, *args: Any,
                        **kwargs: Any) -> bool:
        from .scopes import scopes_valid_for

        profile = client_profile(client)
        return profile is not None and scopes_valid_for(profile.provider_id, scopes)

    def get_default_scopes(self, client_id: str, request: Any, *args: Any, **kwargs: Any) -> list[str]:
        return []  # scope is required on the consent URL

    # -- authorization codes ---------------------------------------------------------------------------
    def confirm_redirect_uri(self, client_id: str, code: str, redirect_uri: str, client: Any, *args: Any,
                             **kwargs: Any) -> bool:
        request = args[0] if args else kwargs.get("request")
        # Our consent URL always carries redirect_uri, so the token request must repeat it (RFC 6749 §4.1.3).
        missing = request is not None and getattr(request, "using_default_redirect_uri", False)
        if missing or not super().confirm_redirect_uri(client_id, code, redirect_uri, client, *args, **kwargs):
            # oauthlib answers a mismatch with invalid_request; RFC 6749 §5.2 (and SECURITY.md 28) say the
            # grant does not match its redirection URI: invalid_grant. Raised here, oauthlib reports it as is.
            raise oauth2_errors.InvalidGrantError(
                description="redirect_uri is missing or differs from the one of the authorization request",
                request=request)
        return True

    def validate_code(self, client_id: str, code: str, client: Any, request: Any, *args: Any, **kwargs: Any) -> bool:
        grant = Grant.objects.filter(code_hash=code_hash(code)).select_related("client").first()
        valid = super().validate_code(client_id, code, client, request, *args, **kwargs)
        if not valid:
            if grant is not None and grant.code_used_at is not None:
                # A replayed code: whoever holds it may be an attacker, so the tokens it gave are revoked
                # (RFC 6749 §4.1.2, RFC 6819 §5.2.4.4).
                logger.warning("domainconnect: authorization code replayed for grant %s; revoking", grant.pk)
                grant.revoke("code_replayed")
            return False
        if grant is None or not grant.is_active or grant.client.application_id != client.pk:
            return False
        if getattr(request, "code_verifier", None) and not self.get_code_challenge(code, request):
            return False  # a verifier without a challenge at authorize is a PKCE downgrade (RFC 9700 §4.8)
        request.dc_grant = grant
        return True

    # -- refresh tokens ----------------------------------------------------------------------------------
    def validate_refresh_token(self, refresh_token: str, client: Any, request: Any, *args: Any,
                               **kwargs: Any) -> bool:
        if not super().validate_refresh_token(refresh_token, client, request, *args, **kwargs):
            return False
        rt = request.refresh_token_instance
        grant = grant_for_token_family(rt.token_family)
        profile = client_profile(client)
        if grant is None or profile is None or not grant.is_active:
            return False
        # DOT's expiry slides with the access token; the client's own idle lifetime counts from issue.
        if rt.created + timedelta(seconds=profile.refresh_lifetime()) <= timezone.now():
            return False
        request.dc_grant = grant
        return True

    # -- issuing tokens --------------------------------------------------------------------------------
    def save_bearer_token(self, token: dict[str, Any], request: Any, *args: Any, **kwargs: Any) -> None:
        grant: Grant | None = getattr(request, "dc_grant", None)
        profile = client_profile(request.client)
        if profile is not None:
            lifetime = profile.access_lifetime()
            if grant is not None:  # never outlive the grant's absolute cap
                remaining = int((grant.expires_at - timezone.now()).total_seconds())
                lifetime = max(1, min(lifetime, remaining))
            # The response is built from this dict after saving, so the client sees the same value.
            token["expires_in"] = lifetime
        super().save_bearer_token(token, request, *args, **kwargs)
        family = getattr(request, "dc_token_family", None)
        if grant is not None and request.grant_type == "authorization_code" and family is not None:
            Grant.objects.filter(pk=grant.pk).update(token_family=family, code_used_at=timezone.now())

    def _create_refresh_token(self, request: Any, refresh_token_code: str, access_token: Any,
                              previous_refresh_token: Any) -> Any:
        rt = super()._create_refresh_token(request, refresh_token_code, access_token, previous_refresh_token)
        request.dc_token_family = rt.token_family
        return rt
