"""Compiled regexes for the draft's §3 ABNF rules used when checking templates.

Compiled once at import: the linter runs them over thousands of fields per corpus run.
"""

from __future__ import annotations

import re

from .errors import GroupError

# dc-id = 1*63( ALPHA / DIGIT / "-" / "_" / "." )
DC_ID_RE = re.compile(r"[A-Za-z0-9._-]{1,63}")
# dc-version = %x31-39 *DIGIT (checked on the JSON integer's decimal form)
DC_VERSION_RE = re.compile(r"[1-9][0-9]*")
# dc-record-type: named types, TYPEnnn (RFC 3597), or any other mnemonic
DC_RECORD_TYPE_RE = re.compile(r"[A-Za-z0-9-]+")
# dc-ttl-tmpl = 1*DIGIT / named-variable
DC_TTL_TMPL_RE = re.compile(r"[0-9]+|%[A-Za-z0-9_-]+%")
# dc-uint16-tmpl = ( %x30-39 *4DIGIT ) / named-variable
DC_UINT16_TMPL_RE = re.compile(r"[0-9]{1,5}|%[A-Za-z0-9_-]+%")
# dc-conflict-prefix = 1*(%x21-7E)
DC_CONFLICT_PREFIX_RE = re.compile(r"[\x21-\x7e]+")
# dc-underscore-label = "_" 1*( ALPHA / DIGIT / "-" ), 63 octets at most
DC_UNDERSCORE_LABEL_RE = re.compile(r"_[A-Za-z0-9-]{1,62}")
# dc-srv-protocol
DC_SRV_PROTOCOLS = frozenset({"_tcp", "_udp", "_sctp", "_dccp"})
# A whole field that is one named variable and nothing else ("bare" variable).
BARE_VARIABLE_RE = re.compile(r"%[A-Za-z0-9_-]+%")

ESSENTIAL_VALUES = frozenset({"Always", "OnApply"})
TXT_CONFLICT_MODES = frozenset({"None", "All", "Prefix"})

# Bidi controls and invisible format characters that can disguise a display name (CVE-2021-42574).
BIDI_INVISIBLE_RE = re.compile(
    "[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
)
# Code points that are not "Unicode Assignable" (RFC 9839 §4.3): C0/C1 controls except HT/LF/CR for
# descriptions, surrogates and noncharacters.
NON_ASSIGNABLE_RE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]"
)
# Display names additionally exclude the remaining line controls.
DISPLAY_CONTROL_RE = re.compile("[\t\n\r]")


def is_dc_id(value: str) -> bool:
    return DC_ID_RE.fullmatch(value) is not None


def parse_dc_id_list(value: str, *, what: str = "groupId") -> tuple[str, ...]:
    """A dc-id-list (``a,b``) as its ids, duplicates dropped; empty entries, spaces or bad ids are refused
    (the same rule for the sync link, the async API and the CLI)."""
    parts = value.split(",")
    bad = [p for p in parts if not is_dc_id(p)]
    if bad:
        shown = "an empty entry" if bad[0] == "" else f"'{bad[0]}'"
        raise GroupError(f"{what} must be a comma-separated list of ids (letters, digits, '-', '_', '.'; at most "
                         f"63 each) without spaces or empty entries: {shown} is not one", code="invalid_request",
                         field=what)
    return tuple(dict.fromkeys(parts))


def is_bare_variable(value: str) -> bool:
    return BARE_VARIABLE_RE.fullmatch(value) is not None
