"""SPF merging for the SPFM pseudo-record (§9.4, ARCHITECTURE.md).

One SPF TXT record per owner: the existing record's terms come first, the rules a template asks for
are appended without duplicates, the existing ``all`` qualifier is kept (else the provider's), and the
result is split into 255-octet character-strings. A result over RFC 7208's limit of 10 DNS-querying
terms raises ``SpfLimitError`` so the planner can treat it as a conflict instead of writing it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import dns.exception
import dns.rdata
import dns.rdataclass
import dns.rdatatype
from dns.rdtypes.ANY.TXT import TXT

from .errors import PlanError, RenderError
from .fast_init import fast_init

MAX_LOOKUPS = 10  # RFC 7208 §4.6.4
MECHANISMS = frozenset({"all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists"})
LOOKUP_MECHANISMS = frozenset({"include", "a", "mx", "ptr", "exists"})
# Least restrictive first (§9.4: neutral over soft failure over hard failure; pass is less still).
QUALIFIER_ORDER = "+?~-"
_MODIFIER_RE = re.compile(r"([A-Za-z][A-Za-z0-9_.-]*)=(\S*)")
# A mechanism's grammar (qualifier, name, argument). ``_parse_term`` checks it with string methods, which cost
# less than the regex engine; tests compare the two.
_MECHANISM_RE = re.compile(r"([+?~-]?)([A-Za-z][A-Za-z0-9]*)([:/]\S*)?")
_SPF_START_RE = re.compile(r"v=spf1(?:\s|$)", re.IGNORECASE)
# Printable ASCII except '"' and '\\': the octets dnspython writes as themselves inside a quoted string.
_PLAIN_OCTETS = re.compile(rb'[\x20\x21\x23-\x5b\x5d-\x7e]*')


class SpfSyntaxError(RenderError):
    """``spfRules`` or an existing SPF record is not valid RFC 7208 syntax."""

    code = "invalid_spf"


class SpfLimitError(PlanError):
    """The merged record would need more than 10 DNS lookups (RFC 7208 §4.6.4)."""

    code = "spf_lookup_limit"


# ``key`` set by the generated __init__ itself (no __post_init__ call per term): the expression is
# ``__post_init__``'s, kept for dataclasses.replace and any other path that would call it.
@fast_init(derived={"key": 'f"{name}{value}".lower()'})
@dataclass(frozen=True, slots=True)
class Term:
    """One SPF term. ``key`` identifies it for de-duplication regardless of qualifier."""

    qualifier: str  # "" for modifiers and for mechanisms written without one (meaning "+")
    name: str  # lower-case mechanism or modifier name
    value: str  # everything after the name, including ":" "/" or "="
    modifier: bool = False
    # Name and value lower-cased, for de-duplication; derived when the term is built (a plan compares keys
    # several times per term).
    key: str = field(init=False, compare=False, hash=False, repr=False)

    def __post_init__(self) -> None:
        _set_key(self, f"{self.name}{self.value}".lower())

    @property
    def effective_qualifier(self) -> str:
        return self.qualifier or "+"

    @property
    def lookups(self) -> int:
        return count_lookups((self,))

    def text(self) -> str:
        return f"{self.qualifier}{self.name}{self.value}"


_set_key = Term.__dict__["key"].__set__  # the slot's setter: the class is frozen

MAX_CACHED_TERM = 300  # longer tokens (possible in a zone's own SPF record) are parsed without the cache


def parse_term(token: str) -> Term:
    """One SPF term (raises ``SpfSyntaxError``). Short tokens are cached: a pure function of the token, and a
    template's own rules (and the records they were merged into) come back with every apply; long ones are
    not, so a zone full of huge SPF tokens cannot fill the cache with them."""
    return _parse_short_term(token) if len(token) <= MAX_CACHED_TERM else _parse_term(token)


@functools.lru_cache(maxsize=4096)
def _parse_short_term(token: str) -> Term:
    return _parse_term(token)


def _parse_term(token: str) -> Term:
    if not token.isascii() or not token.isprintable():
        raise SpfSyntaxError(f"'{token}' has characters SPF does not allow (use A-labels for IDNs)")
    modifier = _MODIFIER_RE.fullmatch(token) if "=" in token else None  # a modifier needs its '='
    if modifier and not token.lower().startswith(("ip4:", "ip6:")):
        return Term("", modifier.group(1).lower(), "=" + modifier.group(2), True)
    # _MECHANISM_RE's three groups, found with string methods: the regex engine costs more than these checks
    # (printable ASCII holds no whitespace but the space).
    qualifier = token[:1]
    if qualifier and qualifier in "+?~-":
        rest = token[1:]
    else:
        qualifier, rest = "", token
    cut = len(rest)
    for sep in (rest.find(":"), rest.find("/")):
        if 0 <= sep < cut:
            cut = sep
    name, value = rest[:cut], rest[cut:]
    if not name or not name[0].isalpha() or not name.isalnum() or " " in value:
        name = ""  # no match
    name = name.lower()
    if name not in MECHANISMS:
        raise SpfSyntaxError(f"'{token}' is not an SPF mechanism or modifier (RFC 7208 §5, §6)")
    if name in {"include", "exists"} and not value.startswith(":"):
        raise SpfSyntaxError(f"'{token}': {name} needs a domain (RFC 7208 §5.2, §5.7)")
    if name in {"ip4", "ip6"} and not value.startswith(":"):
        raise SpfSyntaxError(f"'{token}': {name} needs an address (RFC 7208 §5.6)")
    if name == "all" and value:
        raise SpfSyntaxError(f"'{token}': all takes no argument")
    if value in (":", "/"):
        raise SpfSyntaxError(f"'{token}' has an empty argument")
    return Term(qualifier, name, value)


def parse_rules(rules: str) -> list[Term]:
    """Validate the ``spfRules`` of an SPFM record: terms only, no ``v=spf1``, ``all``, redirect or exp."""
    terms: list[Term] = []
    for token in rules.split():
        if token.lower() == "v=spf1":
            raise SpfSyntaxError("spfRules must not contain the version 'v=spf1' (the provider writes it)")
        term = parse_term(token)
        if term.name == "all":
            raise SpfSyntaxError("spfRules must not contain 'all' (the provider chooses the final qualifier)")
        if term.modifier and term.name in {"redirect", "exp"}:
            raise SpfSyntaxError(f"spfRules must not contain the '{term.name}=' modifier: it cannot be merged")
        terms.append(term)
    if not terms:
        raise SpfSyntaxError("spfRules is empty")
    return terms


@fast_init
@dataclass(frozen=True, slots=True)
class SpfRecord:
    """A parsed SPF record: its terms without ``v=spf1`` and without ``all``, plus the ``all`` qualifier."""

    terms: tuple[Term, ...]
    all_qualifier: str | None  # None: the record has no "all" term

    @classmethod
    def parse(cls, text: str) -> SpfRecord:
        tokens = text.split()
        if not tokens or tokens[0].lower() != "v=spf1":
            raise SpfSyntaxError(f"'{text[:60]}' is not an SPF record (it must start with v=spf1)")
        terms: list[Term] = []
        all_qualifier: str | None = None
        for token in tokens[1:]:
            # parse_term(), written out (one call less per term)
            term = _parse_short_term(token) if len(token) <= MAX_CACHED_TERM else _parse_term(token)
            if term.name == "all" and not term.modifier:
                all_qualifier = term.qualifier or "+"  # effective_qualifier
            else:
                terms.append(term)
        return cls(tuple(terms), all_qualifier)

    @property
    def lookups(self) -> int:
        return count_lookups(self.terms)

    def text(self) -> str:
        """``v=spf1``, the mechanisms, ``all`` (when there is one), then the modifiers (one pass, no calls)."""
        words = ["v=spf1"]
        modifiers = []
        for t in self.terms:
            (modifiers if t.modifier else words).append(t.qualifier + t.name + t.value)
        if self.all_qualifier:
            words.append(f"{'' if self.all_qualifier == '+' else self.all_qualifier}all")
        words += modifiers
        return " ".join(words)


def count_lookups(terms: Iterable[Term]) -> int:
    """How many of ``terms`` make a DNS query (RFC 7208 §4.6.4): lookup mechanisms and ``redirect=``."""
    return sum(1 for t in terms if (t.name == "redirect" if t.modifier else t.name in LOOKUP_MECHANISMS))


def least_restrictive(a: str, b: str) -> str:
    return a if QUALIFIER_ORDER.index(a or "+") <= QUALIFIER_ORDER.index(b or "+") else b


def merge(existing: SpfRecord | None, new_terms: Iterable[Term], *, qualifier: str) -> SpfRecord:
    """Existing terms first, then new ones not already present; raises ``SpfLimitError`` over 10 lookups.

    The same mechanism with another qualifier keeps its place and takes the least restrictive qualifier.
    """
    terms: list[Term] = list(existing.terms) if existing else []
    position: dict[str, int] = {}
    for i, t in enumerate(terms):  # a loop, not a comprehension: no function object per merge
        position[t.key] = i
    for term in new_terms:
        i = position.get(term.key)
        if i is None:
            position[term.key] = len(terms)
            terms.append(term)
        elif not term.modifier and terms[i].effective_qualifier != term.effective_qualifier:
            best = least_restrictive(terms[i].effective_qualifier, term.effective_qualifier)
            terms[i] = Term("" if best == "+" else best, terms[i].name, terms[i].value)
    all_qualifier = existing.all_qualifier if existing is not None else None
    # A redirect only applies when no "all" matches: never add an "all" that would disable it.
    if not all_qualifier and (existing is None or not any(t.modifier and t.name == "redirect" for t in terms)):
        all_qualifier = qualifier
    lookups = 0  # count_lookups(terms), written out (no generator per merge)
    for t in terms:
        if t.name == "redirect" if t.modifier else t.name in LOOKUP_MECHANISMS:
            lookups += 1
    if lookups > MAX_LOOKUPS:
        raise SpfLimitError(f"the merged SPF record would need {lookups} DNS lookups; RFC 7208 allows {MAX_LOOKUPS}")
    return SpfRecord(tuple(terms), all_qualifier)


def remove(existing: SpfRecord, keys: Iterable[str]) -> SpfRecord:
    """``existing`` without the terms whose key is in ``keys`` (an instance's rules on revert)."""
    drop = set(keys)
    return SpfRecord(tuple(t for t in existing.terms if t.key not in drop), existing.all_qualifier)


def to_txt_data(text: str) -> str:
    """Presentation-format TXT data, split into 255-octet strings (SPF readers join them without spaces)."""
    if len(text) <= 255 and text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
        return f'"{text}"'  # one plain string (_PLAIN_OCTETS): what quote_strings would write, without the chunking
    raw = text.encode("ascii")
    return quote_strings([raw[i:i + 255] for i in range(0, len(raw), 255)] or [b""])


def quote_strings(chunks: Sequence[bytes]) -> str:
    """TXT presentation data of ``chunks`` (each at most 255 octets), exactly as dnspython's ``to_text`` writes it.

    Chunks of printable ASCII without '"' or '\\' are written as they are, which is all dnspython does with
    them; anything else (or an over-long chunk, which dnspython refuses) goes through dnspython itself.
    """
    if len(chunks) == 1 and len(chunks[0]) <= 255 and _PLAIN_OCTETS.fullmatch(chunks[0]):
        return f'"{chunks[0].decode("ascii")}"'  # the usual case, without the generators below
    if all(len(c) <= 255 and _PLAIN_OCTETS.fullmatch(c) for c in chunks) and chunks:
        return " ".join(f'"{c.decode("ascii")}"' for c in chunks)
    return TXT(dns.rdataclass.IN, dns.rdatatype.TXT, list(chunks)).to_text()


def txt_text(data: str) -> str | None:
    """The joined character-strings of TXT presentation data, or ``None`` when it does not parse."""
    if len(data) >= 2 and data[0] == '"' and data[-1] == '"' and "\\" not in data and data.isascii() and (
            data.isprintable()):
        # TXT presentation data as to_txt_data and dnspython write it for printable ASCII without '"' or '\\':
        # quoted strings of at most 255 characters, one space apart. What dnspython parses them to is the text
        # between the quotes (checked in tests/engine/test_fast_paths.py), found here without its tokenizer.
        inner = data[1:-1]
        if '"' not in inner:
            if len(inner) <= 255:
                return inner
        else:
            strings = inner.split('" "')
            for text in strings:
                if '"' in text or len(text) > 255:
                    break
            else:
                return "".join(strings)
    return _txt_text_dnspython(data)


def _txt_text_dnspython(data: str) -> str | None:
    try:
        rdata = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.TXT, data)
    except (dns.exception.DNSException, ValueError):
        return None
    return b"".join(rdata.strings).decode("utf-8", "replace")  # type: ignore[attr-defined]


def is_spf_data(data: str) -> bool:
    """Whether TXT presentation data is an SPF record; a cheap prefix test first, since most TXT is not."""
    return spf_text_of(data) is not None


def spf_text_of(data: str) -> str | None:
    """The text of TXT presentation data when it is an SPF record, else ``None`` (one parse for both)."""
    if data.lstrip('"')[:6].lower() != "v=spf1":
        return None
    text = txt_text(data)
    return text if is_spf_text(text) else None


def is_spf_text(text: str | None) -> bool:
    if text is None:
        return False
    head = text[:7]
    if head.isascii():  # _SPF_START_RE.match, with string methods (its IGNORECASE folds only ASCII here)
        return head[:6].lower() == "v=spf1" and (len(head) == 6 or head[6].isspace())
    return _SPF_START_RE.match(text) is not None


def keys_of(terms: Sequence[Term]) -> list[str]:
    return [t.key for t in terms]
