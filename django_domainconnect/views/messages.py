"""Every refusal text of the sync flow, in one place.

A Service Provider's developer reads these in ``error_description`` or on the error page, so each says what
was wrong and how to fix it. ``docs/troubleshooting.md`` quotes each one with its cause and fix;
``tests/sync/test_messages.py`` extracts them from this module (and checks that the views use no other
literal texts), so the two cannot drift apart. ``{placeholders}`` are filled in by the views; the fixed
text between them is what the docs quote.

Texts about zones and accounts stay vague on purpose (draft §8.3.6, SECURITY.md A.3): no oracle about
other customers' domains or a zone's content.
"""

from __future__ import annotations

# -- the link itself --------------------------------------------------------------------------------------
NOT_SUPPORTED = ("This service is not supported here. Check the providerId and serviceId in the link, and ask "
                 "the DNS Provider whether the template is imported.")
BAD_QUERY = ("The query string could not be read: {problem}. Send each parameter once, and percent-encode "
             "values as UTF-8.")
SYNC_BLOCKED = ("This template cannot be applied with the synchronous flow (syncBlock). Apply it through the "
                "asynchronous (OAuth) flow instead.")

# -- signatures (the problem texts come from the engine; docs/signatures.md lists each) ---------------------
SIGNATURE_FAILED = "The request signature could not be verified: {problem}"
SIGNATURE_REQUIRED = ("This DNS Provider only accepts signed templates, and this template has no "
                      "syncPubKeyDomain. Add syncPubKeyDomain to the template, publish your public key and "
                      "sign the apply links.")

# -- Table 9 parameters -----------------------------------------------------------------------------------
DOMAIN_MISSING = ("The 'domain' parameter is required. Send the zone apex as 'domain' (domain=example.com) and "
                  "any subdomain as 'host'.")
BAD_DOMAIN_OR_HOST = ("Invalid domain or host: {problem}. Send 'domain' as the zone apex and 'host' as a name "
                      "relative to it (no trailing dot), as U-labels or A-labels.")
HOST_REQUIRED = ("This template needs a 'host' parameter (hostRequired) and none was given. Send one, for "
                 "example host=www; an empty host counts as missing.")
GROUP_ID_SYNTAX = "'groupId' must be a comma-separated list of group ids, for example groupId=a,b."
GROUP_ID_UNKNOWN = ("groupId '{group}' matches no group of this template. Group ids match exactly and "
                    "case-sensitively; this template's groups are: {groups}.")
INSTANCE_ID_INVALID = "'instanceId' is not a valid id: use 1 to 63 letters, digits, '.', '_' or '-'."
SHARED_NAME_NOT_ALLOWED = ("'{name}' is only allowed for templates with {flag}. Leave '{name}' out, or set "
                           "{flag} in the template.")
SHARED_NAME_INVALID = ("'{name}' must be 1 to 255 visible characters, without bidi or invisible control "
                       "characters.")
STATE_INVALID = ("'state' must be printable ASCII (RFC 6749 Appendix A.5). Encode other data first, for example "
                 "as base64url.")

# -- the zone and the plan --------------------------------------------------------------------------------
NOT_AVAILABLE = "This domain cannot be changed from this account."  # vague on purpose (draft §8.3.6)
CANNOT_COMBINE = "The template cannot be combined with the domain's existing records."  # ditto: zone content
BAD_VALUES = ("The template cannot be applied with these values: {problem}. Check the variables sent in the "
              "link.")
PREPARE_FAILED = "The changes could not be prepared. Nothing was changed. Please try again later."
SAVE_FAILED = "The changes could not be saved. Nothing was changed. Please try again later."

# -- redirects (not an error: the flow ends on a page instead, draft §8.3.5) --------------------------------
REDIRECT_NOT_USED = ("The redirect_uri was not used: it must be an https URL whose host is listed in the "
                     "template's syncRedirectDomain (or lies below one), without user info, backslashes, "
                     "spaces or a fragment.")
REDIRECT_NOT_USED_SIGNED = ("The redirect_uri was not used: even on a signed link it must be an https URL with a "
                            "host name (not an IP address), without user info, backslashes, spaces or a fragment.")
REDIRECT_NO_DOMAIN = ("The redirect_uri was not used: this template has no syncRedirectDomain, so the flow ends "
                      "on this page. Add syncRedirectDomain to the template, or sign the link.")

# -- the user's side --------------------------------------------------------------------------------------
RESUME_EXPIRED = ("This sign-in link has expired or belongs to another browser session. Nothing was changed. "
                  "Please start again from the service's website.")
CONSENT_EXPIRED = ("This confirmation page has expired or was already used. Nothing was changed. "
                   "Please start again from the service's website.")
ALREADY_ANSWERED = "This request was already answered in another window."
FORM_INCOMPLETE = "The form was incomplete. Nothing was changed. Please start again from the service's website."
CANCELLED = "You cancelled this request. Nothing was changed."
CANCEL_DESCRIPTION = "user_cancel: the user declined the changes"
CHANGED_NOTICE = "The domain or the template changed since the changes were shown. Please review them again."


def fill(message: str, **values: object) -> str:
    """``message`` with its placeholders filled; a value's own final full stop is dropped (no "..")."""
    return message.format(**{name: str(value).rstrip(" .") for name, value in values.items()})
