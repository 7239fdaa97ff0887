"""Conflict rules between a new record and an existing one (§10.4).

Pure functions over ``Record`` values; the planner decides which existing records to ask about (same
owner, and the subtree rules of NS) so nothing here scans a zone.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from .spf import txt_text
from .types import Record

ADDRESS_TYPES = frozenset({"A", "AAAA"})
ONE_PER_OWNER_TYPES = frozenset({"MX", "SRV"})
# Pseudo-types a backend may offer: they stand for the web address of the owner, so they conflict with
# address records, CNAMEs and each other (the draft does not cover them).
WEB_PSEUDO_TYPES = frozenset({"REDIR301", "REDIR302", "APEXCNAME"})


def is_protected(record: Record, apex: str) -> bool:
    """The zone's own SOA and apex NS are never conflicts: no template may take the zone away."""
    return record.type == "SOA" or (record.type == "NS" and record.name == apex)


def same_owner_reason(new: Record, old: Record, txt_mode: str | None = None,
                      txt_prefix: str | None = None) -> str | None:
    """Why ``old`` (an existing record at the same owner as ``new``) must go, or ``None`` if it may stay."""
    if new.data == old.data and new.type == old.type and new.name == old.name:
        return None  # the same record (key equality, without building the keys)
    rule = SAME_OWNER_RULES.get((new.type, old.type), UNKNOWN_RULE)
    if rule is None:
        return None
    if rule is TXT_RULE:
        return txt_reason(new.name, old, txt_mode, txt_prefix)
    if rule is UNKNOWN_RULE:
        return _pair_reason(new.type, old.type, new.name)
    return rule[0] + new.name + rule[1]


def type_pair_reason(new_type: str, old_type: str, name: str) -> str | None:
    """``same_owner_reason`` for two different records of these types at ``name``, TXT against TXT aside
    (that depends on the matching mode): the table when it knows the pair, else the rules."""
    rule = SAME_OWNER_RULES.get((new_type, old_type), UNKNOWN_RULE)
    if rule is None or rule is TXT_RULE:
        return None
    if rule is UNKNOWN_RULE:
        return _pair_reason(new_type, old_type, name)
    return rule[0] + name + rule[1]


def _pair_reason(new_type: str, old_type: str, name: str) -> str | None:
    """The rules by type pair (TXT against TXT aside: ``txt_reason`` decides by the matching mode)."""
    if new_type == "CNAME":
        return f"a CNAME at {name} cannot coexist with any other record at that name"
    if old_type == "CNAME":
        return f"the existing CNAME at {name} cannot coexist with the new {new_type} record"
    if new_type == "NS":
        return f"NS records at {name} delegate that name: no other record may stay there"
    if old_type == "NS":
        return f"the existing NS records at {name} delegate that name: the new {new_type} record conflicts"
    if new_type == old_type and new_type in ONE_PER_OWNER_TYPES:
        return f"the new {new_type} records at {name} replace the existing {new_type} records"
    if new_type in ADDRESS_TYPES and old_type in ADDRESS_TYPES:
        return f"the new {new_type} record at {name} replaces the existing A/AAAA records"
    web_new = new_type in WEB_PSEUDO_TYPES
    web_old = old_type in WEB_PSEUDO_TYPES
    if (web_new and (web_old or old_type in ADDRESS_TYPES)) or (web_old and new_type in ADDRESS_TYPES):
        return f"the new {new_type} record at {name} replaces the existing {old_type} record"
    return None


def _around_name(message: str) -> tuple[str, str]:
    """A message written for the name "\\0" (which no rule's wording holds) as the text around that name."""
    head, _name, tail = message.partition("\0")
    return head, tail


TXT_RULE = "txt"  # a marker: TXT against TXT depends on the new record's matching mode
UNKNOWN_RULE = "unknown"  # a marker: a type pair outside the table below
# The rule of ``_pair_reason`` for every pair of the types templates and zones usually hold, as the message's
# text before and after the owner name (``None``: no conflict); a plan asks about many pairs, and a dict
# lookup and two concatenations are cheaper than walking the rules (or than str.format).
_TABLE_TYPES = ("A", "AAAA", "CAA", "CNAME", "DS", "HTTPS", "MX", "NS", "PTR", "SOA", "SPF", "SRV", "SSHFP",
                "SVCB", "TLSA", "TXT", *sorted(WEB_PSEUDO_TYPES))
SAME_OWNER_RULES: dict[tuple[str, str], tuple[str, str] | str | None] = {
    (n, o): TXT_RULE if (n, o) == ("TXT", "TXT") else (
        None if (reason := _pair_reason(n, o, "\0")) is None else _around_name(reason))
    for n in _TABLE_TYPES for o in _TABLE_TYPES
}


def txt_reason(name: str, old: Record, mode: str | None, prefix: str | None) -> str | None:
    """TXT rules by ``txtConflictMatchingMode``: None (default), All, or Prefix."""
    if mode is None:
        return None  # the default: TXT records never conflict with each other
    if mode != "Prefix" and mode != "All":  # as written in the template, in any case
        mode = mode.capitalize()
    if mode == "All":
        return f"the new TXT record at {name} replaces every existing TXT record there (txtConflictMatchingMode All)"
    if mode == "Prefix" and prefix:
        text = txt_text(old.data)
        if text is not None and text.startswith(prefix):
            return f"the existing TXT record at {name} starts with '{prefix}' (txtConflictMatchingMode Prefix)"
    return None


BELOW_NEW_DELEGATION = " lies below the new delegation (NS) at "  # between the record's owner and the NS owner


def subtree_reason(new: Record, old: Record) -> str | None:
    """NS rules across names: ``old`` lies below a new NS owner, or ``new`` lies below an old NS owner."""
    if new.type == "NS" and old.name.endswith("." + new.name):
        return old.name + BELOW_NEW_DELEGATION + new.name
    if old.type == "NS" and new.name.endswith("." + old.name):
        return f"the new record at {new.name} lies below the existing delegation (NS) at {old.name}"
    return None


def self_conflict(records: Sequence[tuple[int, Record]], apex: str) -> tuple[int, int, str, str] | None:
    """The first pair of one template's own rendered records that cannot share a zone (§10.4), or ``None``.

    ``records`` are (template record index, record); SPFM counts as a TXT at its owner. Returns
    ``(first_index, second_index, owner, reason)``. Several A, TXT, MX… at one owner form an RRset and are
    fine; a CNAME next to anything else, two different CNAMEs, or an NS with non-NS data at its owner or
    below it would make the zone invalid, whatever the zone held before. Identical records count once.
    """
    if _no_self_conflict_possible(records):
        return None
    return _self_conflict_full(records, apex)


def _self_conflict_full(records: Sequence[tuple[int, Record]], apex: str) -> tuple[int, int, str, str] | None:
    by_owner: dict[str, list[tuple[int, Record]]] = {}
    seen: set[tuple[str, str, str]] = set()
    for index, rec in records:
        if rec.key() in seen:
            continue  # the same record twice is one record (lint DC2010 warns about it)
        seen.add(rec.key())
        by_owner.setdefault(rec.name, []).append((index, rec))
    for owner, entries in by_owner.items():
        cname = next(((i, r) for i, r in entries if r.type == "CNAME"), None)
        if cname is not None and len(entries) > 1:
            other = next((i, r) for i, r in entries if (i, r) != cname)
            first, second = sorted((cname[0], other[0]))
            return first, second, owner, (f"a CNAME cannot coexist with any other record at that name "
                                          f"(here a {other[1].type})")
    delegations: dict[str, int] = {}  # NS owner -> index of its first NS record
    for owner, entries in by_owner.items():
        for i, r in entries:
            if r.type == "NS":
                delegations.setdefault(owner, i)
    if not delegations:
        return None
    for owner, entries in by_owner.items():
        for index, rec in entries:
            if rec.type == "NS":
                continue
            at = delegations.get(owner)
            if at is not None:
                first, second = sorted((at, index))
                return first, second, owner, (f"an NS record delegates that name: the {rec.type} record cannot"
                                              " stay there")
            for parent in _ancestors(owner, apex):
                if parent in delegations:
                    first, second = sorted((delegations[parent], index))
                    return first, second, owner, (f"it lies below the delegation (NS) at {parent}: the {rec.type}"
                                                  " record would be hidden by it")
    return None


def _no_self_conflict_possible(records: Sequence[tuple[int, Record]]) -> bool:
    """A cheap sufficient condition for ``self_conflict`` to find nothing: no NS record, and every CNAME
    alone at its owner. Only a CNAME sharing its owner or an NS can clash; the full check handles those."""
    per_owner: dict[str, int] = {}
    for _i, rec in records:
        if rec.type == "NS":
            return False
        per_owner[rec.name] = per_owner.get(rec.name, 0) + 1
    return all(per_owner[rec.name] == 1 for _i, rec in records if rec.type == "CNAME")


def _ancestors(name: str, apex: str) -> Iterable[str]:
    """Names strictly between ``name`` and ``apex``, nearest first."""
    rest = name
    while rest != apex and "." in rest[:-1]:
        rest = rest.split(".", 1)[1]
        if rest == apex or not rest.endswith("." + apex):
            return
        yield rest
