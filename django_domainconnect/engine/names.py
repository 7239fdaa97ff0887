"""Domain-name normalisation with IDNA 2008 + UTS 46 (the ``idna`` package, never Python's codec)."""

from __future__ import annotations

import re

import idna

from .errors import HostError

MAX_LABEL = 63
MAX_NAME = 253  # presentation length without the trailing dot (255 octets on the wire)

# Plain ASCII host names (letters, digits, inner hyphens; underscores where allowed), at most 63 per label,
# optional trailing dot. Explicit ASCII classes, no IGNORECASE: a case-folding match would let through
# characters such as the Kelvin sign that lower-case to ASCII but are not ASCII.
# Possessive label quantifiers: what follows a label (".", the end) is never a label character, so giving
# characters back could not help a match, only cost backtracking steps. ``_plain_ascii_name`` checks this
# grammar with string methods (cheaper than the regex engine); tests compare the two.
_LDH_LABEL = r"(?!-)[A-Za-z0-9-]{1,63}+(?<!-)"
_LDHU_LABEL = r"(?!-)[A-Za-z0-9_-]{1,63}+(?<!-)"
_LDH_NAME = re.compile(rf"(?:{_LDH_LABEL}\.)*{_LDH_LABEL}\.?")
_LDHU_NAME = re.compile(rf"(?:{_LDHU_LABEL}\.)*{_LDHU_LABEL}\.?")


def to_alabel_name(name: str, *, what: str = "name", allow_underscore: bool = False,
                   allow_wildcard: bool = False) -> str:
    """Lower-case A-label form of ``name`` without trailing dot; raises ``HostError`` when invalid.

    ``allow_underscore`` admits RFC 8552 labels such as ``_dmarc``; ``allow_wildcard`` admits a leading
    ``*`` label. Each label is converted on its own so underscore and wildcard labels pass through.
    """
    fast = _plain_ascii_name(name, allow_underscore)
    if fast is not None:
        return fast
    return _to_alabel_name_slow(name, what=what, allow_underscore=allow_underscore, allow_wildcard=allow_wildcard)


def _plain_ascii_name(name: str, allow_underscore: bool) -> str | None:
    """``to_alabel_name`` for the common case, or ``None`` to take the full path.

    Exact: a name the pattern matches passes every check of the full path (characters, no edge hyphen,
    label length) and the full path would only lower-case it. A-labels (``xn--``) still need IDNA
    validation, and a name over ``MAX_NAME`` needs the error message: both go the full path.
    """
    # _LDH_NAME / _LDHU_NAME, tested with string methods (the regex engine costs several times more): after
    # an optional trailing dot, labels of letters, digits, hyphens (and underscores) that are neither empty,
    # nor start or end with a hyphen, nor longer than 63 characters.
    body = name[:-1] if name[-1:] == "." else name
    chars = body.replace(".", "").replace("-", "")
    if allow_underscore:
        chars = chars.replace("_", "")
    if chars and not (chars.isascii() and chars.isalnum()):
        return None
    if not body or body[0] in ".-" or body[-1] in ".-" or ".." in body or ".-" in body or "-." in body:
        return None
    if len(body) > MAX_LABEL and max(map(len, body.split("."))) > MAX_LABEL:
        return None
    low = body.lower()
    if "xn--" in low:
        return None
    return low if len(low) <= MAX_NAME else None


def _to_alabel_name_slow(name: str, *, what: str, allow_underscore: bool, allow_wildcard: bool) -> str:
    if any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in name):
        # Never strip silently: "example.com\n" or "off\r\n" is a malformed request, not the name inside it.
        raise HostError(f"{what} {name!r} contains whitespace or control characters")
    text = name
    if text.endswith("."):
        text = text[:-1]
    if not text:
        raise HostError(f"{what} is empty")
    labels = text.split(".")
    out: list[str] = []
    for i, label in enumerate(labels):
        if not label:
            raise HostError(f"{what} '{name}' has an empty label")
        if label == "*" and allow_wildcard and i == 0:
            out.append("*")
            continue
        if label.isascii():
            low = label.lower()
            if low.startswith("xn--"):
                try:
                    idna.decode(low)
                except idna.IDNAError as exc:
                    raise HostError(f"{what} '{name}': invalid A-label '{label}' ({exc})") from None
            ok_chars = all(c.isalnum() or c == "-" or (allow_underscore and c == "_") for c in low)
            if not ok_chars:
                raise HostError(f"{what} '{name}': label '{label}' has characters not allowed in a host name")
            if low.startswith("-") or low.endswith("-"):
                raise HostError(f"{what} '{name}': label '{label}' starts or ends with '-'")
        else:
            try:
                low = idna.encode(label, uts46=True).decode("ascii")
            except idna.IDNAError as exc:
                raise HostError(f"{what} '{name}': invalid internationalised label '{label}' ({exc})") from None
        if len(low) > MAX_LABEL:
            raise HostError(f"{what} '{name}': label '{low}' is longer than {MAX_LABEL} octets")
        out.append(low)
    result = ".".join(out)
    if len(result) > MAX_NAME:
        raise HostError(f"{what} '{name}' is longer than {MAX_NAME} characters")
    return result


def normalize_domain(domain: str) -> str:
    """The ``domain`` apply parameter as lower-case A-labels; needs at least two labels."""
    result = to_alabel_name(domain, what="domain")
    if "." not in result:
        raise HostError(f"domain '{domain}' must have at least two labels")
    return result


def normalize_host(host: str | None) -> str:
    """The ``host`` apply parameter ("" for the apex) as lower-case A-labels, relative to the domain."""
    if host is None or host in ("", "@"):
        return ""
    if host.endswith("."):
        raise HostError(f"host '{host}' must be relative to the domain (no trailing dot)")
    return to_alabel_name(host, what="host", allow_underscore=True)


def to_unicode_name(name: str) -> str:
    """U-label form for display; falls back to the input when it is not valid IDNA."""
    try:
        return ".".join(
            idna.decode(label) if label.startswith("xn--") else label for label in name.rstrip(".").split(".")
        )
    except idna.IDNAError:
        return name


def is_subdomain(name: str, parent: str) -> bool:
    """``name`` equals ``parent`` or lies below it, compared by whole labels (never ``endswith``)."""
    name = name.rstrip(".").lower()
    parent = parent.rstrip(".").lower()
    return name == parent or name.endswith("." + parent)
