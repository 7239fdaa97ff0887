"""Sync-flow redirects (draft §8.3.5, §8.3.6): which ``redirect_uri`` may be followed, and how the
result parameters are appended.

Decision on signatures (ARCHITECTURE.md, which holds over SECURITY.md's recommendation): draft §8.3.5
exempts signed requests from the ``syncRedirectDomain`` allow-list, since the Service Provider's own key
vouches for the whole query, ``redirect_uri`` included — so a link nobody else can forge is no open
redirect. A signature widens only the host check: the URI must still be ``https`` and pass the same
strict parsing (no userinfo, backslashes, whitespace or control characters).

Parsing is deliberately stricter than any browser: a URI that parsers could read differently
(``https://evil.com\\@good.com/`` is ``good.com`` to ``urlsplit`` and ``evil.com`` to a browser) is
refused instead of being interpreted.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Protocol
from urllib.parse import quote, unquote_plus

from .errors import HostError
from .names import is_subdomain, to_alabel_name

MAX_URI_LENGTH = 2048
LOOPBACK_NAMES = frozenset({"localhost"})

# scheme "://" authority [path/query], with no fragment: the authority ends at the first "/" or "?".
_URI_RE = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<authority>[^/?#]*)(?P<rest>[/?][^#]*)?")
_HOST_PORT_RE = re.compile(r"(?P<host>\[[0-9A-Fa-f:.]+\]|[^:\[\]]+)(?::(?P<port>[0-9]{1,5}))?")


class _HasRedirectDomains(Protocol):
    @property
    def redirect_domains(self) -> tuple[str, ...]: ...


def _has_forbidden_chars(uri: str) -> bool:
    """Backslashes (raw or ``%5C``), whitespace, control, format (bidi, zero-width) or unassigned chars."""
    if "\\" in uri or "%5c" in uri.lower():
        return True
    return any(unicodedata.category(c)[0] in "CZ" for c in uri)


def parse_redirect_host(uri: str) -> tuple[str, str, int | None] | None:
    """``(scheme, host, port)`` with a lower-case A-label or IP host, or ``None`` when the URI is unsafe."""
    if not isinstance(uri, str) or not uri or len(uri) > MAX_URI_LENGTH:
        return None
    if _has_forbidden_chars(uri) or "#" in uri:
        return None  # RFC 6749 §3.1.2: no fragment; anything after '#' would also swallow our params
    match = _URI_RE.fullmatch(uri)
    if match is None:
        return None
    authority = match["authority"]
    if not authority or "@" in authority or "%" in authority:
        return None  # userinfo, or an escaped host a browser would decode differently
    hp = _HOST_PORT_RE.fullmatch(authority)
    if hp is None:
        return None
    port = int(hp["port"]) if hp["port"] else None
    if port is not None and not 0 < port < 65536:
        return None
    host = hp["host"]
    if host.startswith("["):
        try:
            return match["scheme"].lower(), str(ipaddress.IPv6Address(host[1:-1])), port
        except ValueError:
            return None
    host = host[:-1] if host.endswith(".") else host
    try:
        return match["scheme"].lower(), str(ipaddress.IPv4Address(host)), port
    except ValueError:
        pass
    if host.replace(".", "").isdigit() or host.lower().startswith("0x"):
        return None  # numeric forms browsers read as IPv4 (010.1, 0x7f.1) — never a listed domain
    try:
        return match["scheme"].lower(), to_alabel_name(host, what="redirect_uri host"), port
    except HostError:
        return None


def _is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _normalise_entry(entry: str) -> str | None:
    try:
        return str(ipaddress.ip_address(entry.strip().strip("[]")))
    except ValueError:
        pass
    try:
        return to_alabel_name(entry, what="syncRedirectDomain entry")
    except HostError:
        return None


def redirect_allowed(uri: str, template: _HasRedirectDomains, *, signed: bool, debug: bool = False) -> bool:
    """Whether the sync flow may redirect the user agent to ``uri`` for ``template``.

    Allowed only for an ``https`` URI (``http`` too for a loopback host when ``debug``) whose host equals
    an entry of the template's ``syncRedirectDomain`` or lies below it at a label boundary, after IDNA
    normalisation of both. IP-literal hosts match only an identical IP entry. Without a signature, a
    template without ``syncRedirectDomain`` never redirects; with a verified signature any host is allowed
    (see the module docstring), never another scheme or a URI that fails strict parsing.
    """
    parsed = parse_redirect_host(uri)
    if parsed is None:
        return False
    scheme, host, _port = parsed
    if scheme != "https" and not (debug and scheme == "http" and _is_loopback(host)):
        return False
    if signed:
        return not _is_ip(host)  # a signed link names a host; raw IPs are never a Service Provider's page
    for entry in template.redirect_domains:
        allowed = _normalise_entry(entry)
        if allowed is None:
            continue
        if host == allowed:
            return True
        if _is_ip(allowed) or _is_ip(host):
            continue  # IPs match only exactly; "1.2.3.4" is not a parent of anything
        if is_subdomain(host, allowed):
            return True
    return False


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


# What a redirect carries back (RFC 6749 §4.1.2, §4.1.2.1; draft §8.3.5–§8.3.6): never taken from the URI.
RESULT_PARAMS = frozenset({"state", "code", "error", "error_description", "error_uri", "iss"})


def append_params(uri: str, params: Mapping[str, str | None] | Iterable[tuple[str, str | None]]) -> str:
    """``uri`` with ``params`` appended to its query, each name and value percent-encoded (UTF-8).

    ``None`` values are skipped; everything else is echoed byte-exact (``state=a&code=x`` comes back as
    ``state=a%26code%3Dx``). An existing query is kept, except result parameters (``RESULT_PARAMS``) and
    pairs named like the ones we add: a ``redirect_uri`` carrying its own ``state=`` or ``error=`` must not
    make the result ambiguous or forge one (RFC 6749 §4.1.2 — a client reads the first). A fragment stays
    at the end.
    """
    items = [(str(k), str(v)) for k, v in (params.items() if isinstance(params, Mapping) else params)
             if v is not None]
    encoded = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in items)
    if not encoded:
        return uri
    base, hash_, fragment = uri.partition("#")
    path, qmark, query = base.partition("?")
    if qmark:
        ours = RESULT_PARAMS | {k for k, _ in items}
        kept = [pair for pair in query.split("&") if pair and unquote_plus(pair.partition("=")[0]) not in ours]
        base = f"{path}?{'&'.join(kept)}" if kept else f"{path}?"
    if "?" not in base:
        sep = "?"
    elif base.endswith(("?", "&")):
        sep = ""
    else:
        sep = "&"
    return f"{base}{sep}{encoded}{hash_}{fragment}"
