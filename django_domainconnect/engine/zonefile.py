"""RFC 1035 master files <-> ``Record`` lists (for the CLI, tests and demos).

Reading uses dnspython: ``$ORIGIN`` defaults to the domain, SOA and NS are optional, names may be
relative, ``$TTL`` is honoured and records without any TTL get 3600. Writing sorts records (apex first,
then by name in DNS order, SOA and NS first at each name) and writes owner names relative to the origin.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import dns.exception
import dns.name
import dns.rdataclass
import dns.rdatatype
import dns.tokenizer
import dns.zonefile

from .errors import EngineError
from .names import is_subdomain, normalize_domain
from .types import Record

DEFAULT_TTL = 3600
PSEUDO_TYPES = frozenset({"REDIR301", "REDIR302", "APEXCNAME"})
_TYPE_ORDER = {"SOA": 0, "NS": 1}


class ZoneFileError(EngineError):
    """The master file does not parse, or holds a name outside its zone."""

    code = "invalid_zone_file"


class _StrictReader(dns.zonefile.Reader):
    """dnspython skips lines whose owner is outside the zone without a word: make that an error."""

    def _eat_line(self) -> None:
        raise dns.exception.SyntaxError("a record's owner name is outside the zone")


def read_zone(text: str, origin: str) -> list[Record]:
    """Records of a master file whose default ``$ORIGIN`` is ``origin`` (a domain, IDN allowed)."""
    domain = normalize_domain(origin)
    header = ""
    if not re.search(r"^\$TTL\b", text, re.MULTILINE | re.IGNORECASE):
        header = f"$TTL {DEFAULT_TTL}\n"  # records without a TTL get a default, SOA or not
    try:
        manager = dns.zonefile.RRSetsReaderManager(dns.name.from_text(domain + "."), False, dns.rdataclass.IN)
        with manager.writer(True) as txn:
            tok = dns.tokenizer.Tokenizer(header + text, "<zone file>")
            _StrictReader(tok, dns.rdataclass.IN, txn, allow_directives=True, allow_include=False).read()
    except (dns.exception.DNSException, ValueError) as exc:
        raise ZoneFileError(f"zone file does not parse: {exc}") from None
    records: list[Record] = []
    for rrset in manager.rrsets:
        owner = rrset.name.to_text().lower()
        if not is_subdomain(owner, domain):
            raise ZoneFileError(f"zone file has a record at {owner}, outside the zone {domain}")
        rtype = dns.rdatatype.to_text(rrset.rdtype)
        for rdata in rrset:
            records.append(Record(owner, rtype, rrset.ttl, rdata.to_text()))
    return records


def sort_key(record: Record) -> tuple[tuple[str, ...], int, str, str]:
    """DNS order of owner names (by reversed labels), then SOA, NS, other types alphabetically."""
    labels = tuple(reversed(record.name.rstrip(".").split(".")))
    return labels, _TYPE_ORDER.get(record.type, 2), record.type, record.data


def relative_name(name: str, origin: str) -> str:
    if name == origin:
        return "@"
    if name.endswith("." + origin):
        return name[: -len(origin) - 1]
    return name


def write_zone(records: Iterable[Record], origin: str) -> str:
    """A master file with ``$ORIGIN``; pseudo-types (web redirects, APEXCNAME) are written as comments
    because they are not DNS records a name server could load."""
    apex = normalize_domain(origin) + "."
    rows = sorted(records, key=sort_key)
    width = max((len(relative_name(r.name, apex)) for r in rows), default=1)
    lines = [f"$ORIGIN {apex}"]
    for rec in rows:
        line = f"{relative_name(rec.name, apex):<{width}} {rec.ttl} IN {rec.type} {rec.data}"
        lines.append(f"; {line}  (provider feature, not a DNS record)" if rec.type in PSEUDO_TYPES else line)
    return "\n".join(lines) + "\n"
