"""Errors the Django layer raises. Views map them to pages or API responses.

Every error has a stable ``code`` and a ``message`` safe to show to the user; nothing in a message tells
one zone's situation from another's (``ZoneNotAvailable`` is the same for all "no" answers).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:  # pragma: no cover
    from .services import PlanResult


class DomainConnectError(Exception):
    """Root of the app's errors."""

    code = "domainconnect_error"
    default_message = "The Domain Connect request failed."

    def __init__(self, message: str | None = None, *, code: str | None = None) -> None:
        self.message = message or self.default_message
        if code is not None:
            self.code = code
        super().__init__(self.message)


class ZoneNotAvailable(DomainConnectError):
    """The domain is malformed, not hosted here, not the user's, or not active — deliberately one answer."""

    code = "zone_not_available"
    default_message = "This domain is not available for changes through this account."


class TemplateNotFound(DomainConnectError):
    """No enabled template with these ids whose record types the backend supports."""

    code = "template_not_found"
    default_message = "The requested template is not supported."


class PlanChanged(DomainConnectError):
    """The zone changed since consent was shown: ``plan_result`` is the new plan to show instead."""

    code = "plan_changed"
    default_message = "The domain changed since the changes were shown; please review them again."

    def __init__(self, plan_result: PlanResult, message: str | None = None) -> None:
        super().__init__(message)
        self.plan_result = plan_result


class ConflictsFound(DomainConnectError):
    """``force`` was false and applying would remove existing records or template instances."""

    code = "conflicts"
    default_message = "Applying the template would change or remove existing records."

    def __init__(self, plan_result: PlanResult, message: str | None = None) -> None:
        super().__init__(message)
        self.plan_result = plan_result

    @property
    def conflicts(self) -> tuple[Any, ...]:
        return self.plan_result.plan.conflicts


class NotApplied(DomainConnectError):
    """Revert of a template instance that is not applied on this domain/host."""

    code = "not_applied"
    default_message = "The template is not applied to this domain."


class BackendError(DomainConnectError):
    """The host's DNS backend failed; the zone is unchanged (backends apply atomically)."""

    code = "backend_error"
    default_message = "The DNS changes could not be saved; nothing was changed."


class ConfigurationError(DomainConnectError, ImproperlyConfigured):
    """The ``DOMAINCONNECT`` setting or the backend is misconfigured."""

    code = "configuration_error"
    default_message = "Domain Connect is not configured correctly."
