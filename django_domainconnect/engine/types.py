"""Value objects shared by the engine, the Django layer and the backends.

All are frozen dataclasses: a ``Plan`` computed for a consent page can be shown, hashed and later
compared with a plan re-computed under the zone lock.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any, Literal

import dns.exception
import dns.rdatatype

from . import spf
from .errors import HostError
from .fast_init import fast_init
from .names import to_alabel_name
from .variables import BUILTINS, find_variables, split_variables

Level = Literal["error", "warning", "info"]

# TemplateRecord attributes that may hold variables, with their JSON keys (for error messages).
STRING_FIELDS = {
    "host": "host", "name": "name", "points_to": "pointsTo", "data": "data", "target": "target",
    "spf_rules": "spfRules", "service": "service", "protocol": "protocol", "ttl": "ttl",
    "priority": "priority", "weight": "weight", "port": "port",
}
Essential = Literal["Always", "OnApply"]


@fast_init  # the generated __init__ costs twice as much (engine/fast_init.py)
@dataclass(frozen=True, slots=True, order=True)
class Record:
    """One resource record as backends store it.

    ``name``: absolute owner name, lower-case A-labels, with the trailing dot (``www.example.com.``).
    ``type``: upper-case mnemonic (``A``, ``TXT``, ``TYPE65534``) or a pseudo-type a backend declares
    (``REDIR301``, ``REDIR302``, ``APEXCNAME``).
    ``data``: presentation format as dnspython's ``to_text()`` writes it (names absolute with a trailing
    dot; TXT as one or more quoted character-strings). Pseudo-types carry their target as-is.
    """

    name: str
    type: str
    ttl: int
    data: str

    def key(self) -> tuple[str, str, str]:
        """Identity of a record ignoring TTL (two records with the same key are the same RR)."""
        return (self.name, self.type, self.data)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "ttl": self.ttl, "data": self.data}


@fast_init
@dataclass(frozen=True, slots=True)
class TemplateRecord:
    """One record of a template, as written by its author (values not yet rendered).

    Attribute names follow the JSON keys in snake_case; absent keys are ``None``. ``ttl``, ``priority``,
    ``weight`` and ``port`` keep the JSON value (int, numeric string or a variable expression).
    """

    index: int
    type: str
    host: str | None = None
    name: str | None = None
    points_to: str | None = None
    ttl: int | str | None = None
    data: str | None = None
    txt_conflict_matching_mode: str | None = None
    txt_conflict_matching_prefix: str | None = None
    priority: int | str | None = None
    weight: int | str | None = None
    port: int | str | None = None
    protocol: str | None = None
    service: str | None = None
    target: str | None = None
    spf_rules: str | None = None
    essential: str | None = None
    group_id: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)
    # Derived from the fields above when the record is built (never passed in, never part of its identity):
    # what rendering would otherwise work out again for every apply request.
    rtype: str = field(init=False, compare=False, hash=False, repr=False)  # ``type`` upper-cased
    # ``host`` as a valid owner name relative to [host.]domain, lower-case A-labels; "" for "@" or empty;
    # ``None`` when rendering needs the full path (variables, absolute or invalid names).
    literal_host: str | None = field(init=False, compare=False, hash=False, repr=False)
    # SPFM without variables: ``spfRules`` rendered (terms validated, joined by one space); else ``None``.
    spf_text: str | None = field(init=False, compare=False, hash=False, repr=False)
    # The terms of ``spf_text`` (``None`` with it).
    spf_terms: tuple[spf.Term, ...] | None = field(init=False, compare=False, hash=False, repr=False)
    # Names of the variables the string fields use, built-ins aside (kept with an applied instance).
    variables: frozenset[str] = field(init=False, compare=False, hash=False, repr=False)
    # ``NAMED_VARIABLE_RE.split`` of each field text with variables that rendering substitutes (as written,
    # stripped, and without a trailing ".@"): rendering looks the pieces up instead of splitting per request.
    variable_parts: dict[str, tuple[str, ...]] = field(init=False, compare=False, hash=False, repr=False)

    def __post_init__(self) -> None:
        rtype = self.type.upper()
        object.__setattr__(self, "rtype", rtype)
        object.__setattr__(self, "literal_host", _literal_host(self.host))
        terms = _spf_terms(self.spf_rules) if rtype == "SPFM" else None
        object.__setattr__(self, "spf_terms", terms)
        object.__setattr__(self, "spf_text", None if terms is None else " ".join(t.text() for t in terms))
        texts = [raw for raw in _string_fields(self) if isinstance(raw, str) and "%" in raw]
        object.__setattr__(self, "variables", _variables(texts))
        object.__setattr__(self, "variable_parts", _variable_parts(texts))

    @property
    def essential_mode(self) -> Essential:
        return "OnApply" if self.essential == "OnApply" else "Always"


def _literal_host(host: str | None) -> str | None:
    """The owner name rendering gives ``host`` whatever the request, when that needs no request value:
    exactly what ``render`` computes for text without ``%`` and without a trailing dot (§9.3)."""
    text = (host or "").strip()
    if "%" in text or text.endswith("."):
        return None
    if text in ("", "@"):
        return ""
    try:
        return to_alabel_name(text, what="host", allow_underscore=True, allow_wildcard=True)
    except HostError:
        return None  # rendering raises the error, with the record's index and field


def _spf_terms(rules: str | None) -> tuple[spf.Term, ...] | None:
    """Validated terms of ``spfRules`` without variables; ``None`` when rendering must substitute variables
    or raise the syntax error."""
    if not isinstance(rules, str) or "%" in rules:
        return None
    try:
        return tuple(spf.parse_rules(rules))
    except spf.SpfSyntaxError:
        return None


_rtype = attrgetter("rtype")
_string_fields = attrgetter(*STRING_FIELDS)  # one C call per record instead of a getattr per field
_NO_VARIABLES: frozenset[str] = frozenset()


def _variables(texts: list[str]) -> frozenset[str]:
    """The variables of a record's field ``texts`` (those with a '%'), built-ins aside."""
    if not texts:
        return _NO_VARIABLES
    # One scan: a newline is neither '%' nor part of a name, so no match spans two fields.
    return frozenset(find_variables("\n".join(texts))) - BUILTINS


_NO_PARTS: dict[str, tuple[str, ...]] = {}  # shared, never written: most records have no variable


def _variable_parts(texts: list[str]) -> dict[str, tuple[str, ...]]:
    """``split_variables`` of every text rendering may substitute for a record's field ``texts``: each as
    written and stripped (``target`` also drops a trailing ".@" label)."""
    if not texts:
        return _NO_PARTS
    parts: dict[str, tuple[str, ...]] = {}
    for raw in texts:
        stripped = raw.strip()
        for text in (raw, stripped, stripped[:-2] if stripped.endswith(".@") else ""):
            if "%" in text and text not in parts:
                parts[text] = tuple(split_variables(text))
    return parts


@dataclass(frozen=True, slots=True)
class Template:
    """A parsed template (§6.1). ``raw`` is the decoded JSON object, kept for storage and display."""

    provider_id: str
    provider_name: str
    service_id: str
    service_name: str
    records: tuple[TemplateRecord, ...]
    version: int | None = None
    logo_url: str | None = None
    description: str | None = None
    variable_description: str | None = None
    sync_block: bool = False
    shared: bool = False
    shared_provider_name: bool = False
    shared_service_name: bool = False
    sync_redirect_domain: str | None = None
    sync_pub_key_domain: str | None = None
    multi_instance: bool = False
    warn_phishing: bool = False
    host_required: bool = False
    raw: dict[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)
    # Derived from ``records`` when the template is built (never passed in, never part of its identity).
    # The records' types, upper-cased.
    record_types: frozenset[str] = field(init=False, compare=False, hash=False, repr=False)
    # No active subset of the records can render into a set that clashes with itself (§10.4), whatever the
    # request: rendering may skip that check (``_self_conflict_free``).
    self_conflict_free: bool = field(init=False, compare=False, hash=False, repr=False)
    # The variables of all the records (``TemplateRecord.variables``): what an apply without groupId keeps.
    variables: frozenset[str] = field(init=False, compare=False, hash=False, repr=False)
    # The same, sorted (the order an applied instance keeps them in).
    variable_order: tuple[str, ...] = field(init=False, compare=False, hash=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "record_types", frozenset(map(_rtype, self.records)))
        object.__setattr__(self, "variables", frozenset().union(*[r.variables for r in self.records]))
        object.__setattr__(self, "variable_order", tuple(sorted(self.variables)))
        object.__setattr__(self, "self_conflict_free", _self_conflict_free(self.records))

    @property
    def group_ids(self) -> frozenset[str]:
        return frozenset(r.group_id for r in self.records if r.group_id is not None)

    @property
    def redirect_domains(self) -> tuple[str, ...]:
        """``syncRedirectDomain`` split on commas, blanks dropped, whitespace stripped."""
        if not self.sync_redirect_domain:
            return ()
        return tuple(d.strip().lower().rstrip(".") for d in self.sync_redirect_domain.split(",") if d.strip())


# What the self-conflict check sees of the usual types (rendering writes each as it is): "NS", "CNAME", ""
# (any other type) or ``None`` (unknown here: SRV builds its owner name its own way).
_PLAIN_KINDS = {"NS": "NS", "CNAME": "CNAME", "SRV": None, "A": "", "AAAA": "", "MX": "", "TXT": "", "SPFM": "",
                "CAA": "", "REDIR301": "", "REDIR302": "", "APEXCNAME": ""}


def _alias_kind(rtype: str) -> str | None:
    """What the self-conflict check sees of a record of type ``rtype`` (not one of ``_PLAIN_KINDS``): ""
    (any type but NS and CNAME) or ``None`` (a generic type such as TYPE2, which dnspython writes back as
    NS or CNAME)."""
    try:
        written = dns.rdatatype.to_text(dns.rdatatype.from_text(rtype))
    except (dns.exception.DNSException, ValueError):
        return ""  # a pseudo-type rendering writes as is (SPFM, REDIR301…), or one it refuses
    return None if written in ("NS", "CNAME") else ""


def _self_conflict_free(records: Sequence[TemplateRecord]) -> bool:
    """Whether no subset of ``records`` can render into records that clash among themselves (§10.4).

    Sufficient, never necessary: ``False`` only means rendering runs the full check. When every owner is
    literal, rendering puts record ``r`` at ``literal_host.[host.]domain.`` (or fails), so owners are equal,
    or one lies below another, exactly when their literal names are. The check can then only find a
    CNAME sharing its literal owner with another record, or a non-NS record at or below an NS record's
    owner ("" is the top: everything lies below it). Neither here: it finds nothing, for any request.
    """
    others: list[str] = []  # owners of the non-NS records (CNAME included)
    cnames: list[str] = []
    delegations: list[str] = []
    for rec in records:
        literal, rtype = rec.literal_host, rec.rtype
        kind = _PLAIN_KINDS[rtype] if rtype in _PLAIN_KINDS else _alias_kind(rtype)
        if literal is None or kind is None:
            return False
        if kind == "NS":
            delegations.append(literal)
        else:
            others.append(literal)
            if kind == "CNAME":
                cnames.append(literal)
    if cnames and any(others.count(c) + delegations.count(c) > 1 for c in cnames):
        return False
    return not delegations or not any(d == "" or o == d or o.endswith("." + d) for d in delegations for o in others)


@dataclass(frozen=True, slots=True)
class Finding:
    """A lint finding. ``code`` is stable (``DC1xxx`` errors, ``DC2xxx`` warnings, ``DC3xxx`` info)."""

    code: str
    level: Level
    message: str
    record_index: int | None = None
    field: str | None = None
    path: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "level": self.level,
            "message": self.message,
            "record": self.record_index,
            "field": self.field,
            "path": self.path,
        }


@fast_init
@dataclass(frozen=True, slots=True)
class OwnedRecord:
    """A record written by an applied template instance, with how essential it is to that instance."""

    record: Record
    essential: Essential = "Always"
    group_id: str | None = None
    # SPF TXT records produced by SPFM merging are shared and never essential; ``spf_rules`` keeps the
    # rules this instance contributed so a revert can take exactly them out again.
    spf_rules: str | None = None
    # The record was already in the zone, exactly (TTL aside), when the instance was applied, and no template
    # had written it: the instance adopted it as it was, so reverting or removing the instance leaves it.
    # For a merged SPF record: the user had an SPF record there before any template merged into it.
    preexisting: bool = False


@fast_init
@dataclass(frozen=True, slots=True)
class AppliedInstance:
    """State of one applied template instance at a zone (§10.1)."""

    instance_id: str
    provider_id: str
    service_id: str
    host: str  # the ``host`` apply parameter, "" for the apex
    records: tuple[OwnedRecord, ...]
    multi_instance: bool = False
    group_ids: tuple[str, ...] = ()
    params: tuple[tuple[str, str], ...] = ()


@fast_init
@dataclass(frozen=True, slots=True)
class Conflict:
    """An existing record the plan removes, and why (shown on consent pages and in API 409 bodies)."""

    record: Record
    reason: str  # e.g. "CNAME at www.example.com. conflicts with any other record at that name"
    caused_by: Record | None = None  # the new record it conflicts with
    instance_id: str | None = None  # the applied instance that owned it, if any


@fast_init
@dataclass(frozen=True, slots=True)
class NameScope:
    """The owner names a plan must see: exact names, plus whole subtrees (for NS rules).

    A backend may answer ``list_records(zone, scope)`` with any superset; the whole zone is always right.
    """

    names: frozenset[str] = frozenset()
    subtrees: frozenset[str] = frozenset()

    def covers(self, owner: str) -> bool:
        if owner in self.names:
            return True
        return any(owner == s or owner.endswith("." + s) for s in self.subtrees)


@dataclass(frozen=True, slots=True)
class Policy:
    """DNS Provider policy the engine applies (from the DOMAINCONNECT setting in the Django layer)."""

    default_ttl: int = 3600
    min_ttl: int = 300
    max_ttl: int = 86400
    spf_qualifier: str = "~"
    supported_types: frozenset[str] = frozenset({"A", "AAAA", "CNAME", "MX", "TXT", "SRV", "SPFM", "NS", "CAA"})
    allow_apex_cname: bool = False


@fast_init
@dataclass(frozen=True, slots=True)
class Plan:
    """What applying (or reverting) a template will do to one zone.

    ``to_delete`` and ``to_add`` are exact records; a backend applying the plan removes every record in
    ``to_delete`` and then writes every record in ``to_add`` in one atomic operation. ``new_instance``
    is the applied-instance state to store (``None`` for a revert); ``removed_instances`` are instances
    that disappear entirely; ``updated_instances`` are instances that keep existing with fewer records.
    """

    domain: str
    host: str
    provider_id: str
    service_id: str
    to_add: tuple[Record, ...]
    to_delete: tuple[Record, ...]
    conflicts: tuple[Conflict, ...] = ()
    removed_instances: tuple[AppliedInstance, ...] = ()
    updated_instances: tuple[AppliedInstance, ...] = ()
    new_instance: AppliedInstance | None = None
    warnings: tuple[str, ...] = ()

    @property
    def has_conflicts(self) -> bool:
        return bool(self.conflicts or self.removed_instances)

    @property
    def is_noop(self) -> bool:
        return not self.to_add and not self.to_delete

    def fingerprint(self) -> str:
        """Stable hash of what the plan changes: consent binds to it; a re-plan with another hash re-asks."""
        body = {
            "domain": self.domain,
            "host": self.host,
            "template": [self.provider_id, self.service_id],
            "add": sorted(r.to_dict().items().__repr__() for r in self.to_add),
            "delete": sorted(r.to_dict().items().__repr__() for r in self.to_delete),
            "removed": sorted(i.instance_id for i in self.removed_instances),
        }
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
