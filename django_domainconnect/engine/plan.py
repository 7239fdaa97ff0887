"""Stateful planning of an apply or a revert (§10.1–§10.5, ARCHITECTURE.md "Template state").

``plan_apply`` renders the template, finds the existing records each new record conflicts with (§10.4),
resolves them against the applied-instance state (essential ``Always`` → the owning instance goes whole;
``OnApply`` → only that record), treats a re-apply on the same host as an update, merges SPFM rules and
returns a ``Plan``. ``plan_revert`` removes one instance's records that are still as written.

Work is O(template records × records at the names they touch): the zone is indexed by owner name and
by record identity once, and applied instances by the records they own once. ``zone`` may be the whole
zone or only what ``names_needed`` covers (plus the names of the instances passed in).
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import replace
from typing import Any

from . import spf
from .conflicts import (
    BELOW_NEW_DELEGATION,
    SAME_OWNER_RULES,
    TXT_RULE,
    UNKNOWN_RULE,
    same_owner_reason,
    self_conflict,
    subtree_reason,
    txt_reason,
    type_pair_reason,
)
from .errors import PlanError
from .names import _plain_ascii_name, normalize_domain
from .render import RenderedRecord, normalize_request, render_normalized, str_values
from .types import AppliedInstance, Conflict, NameScope, OwnedRecord, Plan, Policy, Record, Template

Key = tuple[str, str, str]
# A record's fields as a tuple: the plan's working sets of records are keyed by it, since hashing a tuple is
# done in C while hashing a ``Record`` calls its Python ``__hash__`` (equal tuples <=> equal records).
Fields = tuple[str, str, int, str]
_NO_KEYS: frozenset[Any] = frozenset()
_DEFAULT_POLICY = Policy()
# Whether a name inside the zone of ``apex`` lies deeper than one label below the apex (``x.sub.example.com.``
# does, ``sub.example.com.`` does not) is ``"." in name[:-len(apex) - 1]``: the labels before the apex's own,
# less the dot that ends the last of them. (A slice and ``in``, which a plan runs anyway, not ``str.count``.)

# Module constants, not class attributes: reading a class attribute runs C code a plan needs nowhere else
# (each such function costs a small plan more in cache misses than the lookup itself; docs/performance.md).
SCAN_LIMIT = 16  # owners with more records than this get an identity index on first lookup (ZoneIndex)
ZONE_FILTER_ABOVE = 64  # a zone of more records given with a scope is indexed inside it first (ZoneIndex)
INSTANCES_FILTER_ABOVE = 16  # more instances given with a scope: those inside it first (Ownership)


def _parents(name: str, apex: str) -> Iterable[str]:
    """Names strictly between ``name`` and the apex (``a.b.example.com.`` → ``b.example.com.``)."""
    rest = name
    while rest != apex and "." in rest[:-1]:
        rest = rest.split(".", 1)[1]
        if rest == apex or not rest.endswith(apex):
            return
        yield rest


class _Filter:
    """Membership in a ``NameScope``: a set lookup, then one C-level ``endswith`` over all subtree suffixes
    (``NameScope.covers`` runs a generator per call, too slow for every record of a large zone)."""

    def __init__(self, scope: NameScope) -> None:
        self.names = set(scope.names | scope.subtrees)  # grows with the names found below a subtree
        self.suffixes = tuple(["." + s for s in scope.subtrees])

    def __call__(self, name: str) -> bool:
        if name in self.names:
            return True
        if self.suffixes and name.endswith(self.suffixes):
            self.names.add(name)  # the next question about it is a set lookup
            return True
        return False


class ZoneIndex:
    """The records a plan sees, indexed by owner name. Identity lookups (name, type, data) scan the few
    records at an owner, or a per-owner index built the first time a crowded owner is asked about, so any
    number of lookups stays linear in the records at that owner.

    A zone of more than ``ZONE_FILTER_ABOVE`` records given with ``scope`` is indexed only inside the scope up
    front (testing a name is cheaper than indexing its record); the rest is indexed once, and only if the
    plan asks about a name outside the scope (e.g. a removed instance's record). A smaller zone is indexed
    whole: filtering it would cost more than it saves.
    """

    __slots__ = ("apex", "_filter", "_zone", "by_owner", "_keyed", "_child_end")

    def __init__(self, zone: Sequence[Record], apex: str, scope: NameScope | None = None) -> None:
        self.apex = apex
        self._filter: _Filter | None = None
        self._zone = zone
        records: Iterable[Record] = zone
        if scope is not None and len(zone) > ZONE_FILTER_ABOVE:
            self._filter = filt = _Filter(scope)
            names, suffixes = filt.names, filt.suffixes  # the membership test inlined: it runs once per record
            records = [r for r in zone if r.name in names or (suffixes and r.name.endswith(suffixes))]
        # A plain dict, filled with get(): a defaultdict's own C code would run in this plan alone.
        by_owner: dict[str, list[Record]] = {}
        for rec in records:
            at_owner = by_owner.get(rec.name)
            if at_owner is None:
                by_owner[rec.name] = [rec]
            else:
                at_owner.append(rec)
        self.by_owner = by_owner
        self._keyed: dict[str, dict[Key, list[Record]]] = {}
        # A name one label below the apex (or the apex) has no parent that could be a delegation.
        self._child_end = -len(apex) - 1  # see "deeper than one label" above

    def ensure(self, name: str) -> None:
        """Make sure records at ``name`` are indexed (indexes the rest of the zone at most once)."""
        filt = self._filter
        if filt is not None and not filt(name):
            self._filter = None
            by_owner = self.by_owner
            for rec in self._zone:
                if not filt(rec.name):
                    by_owner.setdefault(rec.name, []).append(rec)

    def at(self, name: str) -> list[Record]:
        if self._filter is not None:
            self.ensure(name)
        return self.by_owner.get(name) or []

    def find(self, name: str, rtype: str, data: str) -> list[Record]:
        """The records with identity (name, rtype, data): the same RR, whatever their TTL."""
        if self._filter is not None:
            self.ensure(name)
        records = self.by_owner.get(name)
        if not records:
            return []
        if len(records) <= SCAN_LIMIT:
            found = []  # a loop, not a comprehension: no extra frame for the usual one or two records
            for r in records:
                if r.data == data and r.type == rtype:
                    found.append(r)
            return found
        keyed = self._keyed.get(name)
        if keyed is None:
            keyed = self._keyed[name] = {}
            for r in records:
                keyed.setdefault((name, r.type, r.data), []).append(r)
        return keyed.get((name, rtype, data)) or []

    def delegations_above(self, name: str) -> list[Record]:
        """NS records at the names strictly between ``name`` and the apex."""
        if "." not in name[:self._child_end]:
            return []
        return [r for parent in _parents(name, self.apex) for r in self.at(parent) if r.type == "NS"]

    def below(self, roots: Collection[str]) -> list[tuple[str, list[Record]]]:
        """(root, records at an owner) for every owner strictly below one of ``roots`` (distinct; the nearest
        root when nested)."""
        dotted = []  # a loop, not a comprehension: no function object per plan
        for root in roots:
            dotted.append("." + root)
        suffixes = tuple(dotted)
        found = []
        for owner, records in self.by_owner.items():
            if owner.endswith(suffixes):
                root = (suffixes[0] if len(suffixes) == 1
                        else max([s for s in suffixes if owner.endswith(s)], key=len))[1:]
                found.append((root, records))
        return found


class Ownership:
    """Which applied instance owns which record: by identity, and SPF contributions by owner name.

    With ``scope`` and more than ``INSTANCES_FILTER_ABOVE`` instances, only instances owning a record inside
    the scope are indexed up front; the others are added once, and only if the plan asks about a name outside it.
    """

    __slots__ = ("by_key", "spf_by_name", "_rest", "empty", "_filter")

    def __init__(self, instances: Sequence[AppliedInstance], scope: NameScope | None = None) -> None:
        self.by_key: dict[Key, list[tuple[AppliedInstance, OwnedRecord]]] = {}
        self.spf_by_name: dict[str, list[tuple[AppliedInstance, OwnedRecord]]] = {}
        self._rest: list[AppliedInstance] = []
        self.empty = True  # no instance at all (a zone without applied templates): every lookup is empty
        self._filter = filt = _Filter(scope) if scope is not None and len(instances) > INSTANCES_FILTER_ABOVE else None
        if filt is None:
            by_key = self.by_key
            for inst in instances:  # _add(inst), written out: one call less per instance
                self.empty = False
                for owned in inst.records:
                    if owned.spf_rules is not None:
                        self.spf_by_name.setdefault(owned.record.name, []).append((inst, owned))
                    else:
                        rec = owned.record
                        by_key.setdefault((rec.name, rec.type, rec.data), []).append((inst, owned))
            return
        names, suffixes = filt.names, filt.suffixes
        for inst in instances:
            self.empty = False
            if any(o.record.name in names or (suffixes and o.record.name.endswith(suffixes)) for o in inst.records):
                self._add(inst)
            else:
                self._rest.append(inst)

    def _add(self, inst: AppliedInstance) -> None:
        for owned in inst.records:
            if owned.spf_rules is not None:
                self.spf_by_name.setdefault(owned.record.name, []).append((inst, owned))
            else:
                rec = owned.record
                self.by_key.setdefault((rec.name, rec.type, rec.data), []).append((inst, owned))

    def ensure(self, name: str) -> None:
        """Make sure every instance owning something at ``name`` is indexed (the rest at most once)."""
        filt = self._filter
        if filt is not None and name not in filt.names and not filt(name):  # a set lookup first: the usual case
            self._filter = None
            for inst in self._rest:
                self._add(inst)
            self._rest = []

    def owners_of(self, record: Record) -> list[tuple[AppliedInstance, OwnedRecord]]:
        if self.empty:
            return []
        name = record.name
        if self._filter is not None and name not in self._filter.names:
            self.ensure(name)
        return self.by_key.get((name, record.type, record.data), [])

    def spf_at(self, name: str) -> list[tuple[AppliedInstance, OwnedRecord]]:
        if self.empty:
            return []
        if self._filter is not None:
            self.ensure(name)
        return self.spf_by_name.get(name, [])


def rule_keys(rules: str | None) -> set[str]:
    """Keys of the SPF terms in a stored ``spf_rules`` string (unparseable terms are skipped)."""
    keys: set[str] = set()
    for token in (rules or "").split():
        try:
            keys.add(spf.parse_term(token).key)
        except spf.SpfSyntaxError:
            continue
    return keys


class _State:
    """What a plan accumulates: deletions (ordered), conflicts, removed and trimmed instances. A plain class:
    a dataclass with a default factory per field costs a good part of a small plan to build."""

    __slots__ = ("index", "owners", "apex", "policy", "skip_instances", "deleted", "conflicts", "removed",
                 "trimmed", "released", "spf_user", "warnings", "adopted", "_seen", "_rendered")

    def __init__(self, index: ZoneIndex, owners: Ownership, apex: str, policy: Policy, *,
                 skip_instances: AbstractSet[str], seen: NameScope | None,
                 rendered: Sequence[RenderedRecord] = ()) -> None:
        self.index = index
        self.owners = owners
        self.apex = apex
        self.policy = policy
        self.skip_instances = skip_instances  # the instance(s) being updated or reverted
        self.deleted: dict[Fields, Record] = {}
        self.conflicts: dict[Fields, Conflict] = {}
        self.removed: dict[str, AppliedInstance] = {}
        self.trimmed: dict[str, tuple[AppliedInstance, set[Key], set[str]]] = {}
        self.released: dict[str, set[str]] = {}  # owner -> SPF term keys given up
        # owner -> whether an instance (given up, updated or kept) says the SPF record there is the user's own
        self.spf_user: dict[str, bool] = {}
        self.warnings: list[str] = []
        # Records the updated instance adopted, in the groups being replaced (``_take_over`` sets them).
        self.adopted: AbstractSet[Key] = _NO_KEYS
        self._seen = seen  # the names the records given to the planner cover (None: work them out when asked)
        self._rendered = rendered  # ... from these

    def delete(self, rec: Record) -> None:
        if rec.type != "SOA" and not (rec.type == "NS" and rec.name == self.apex):  # is_protected(), inlined
            self.deleted[(rec.name, rec.type, rec.ttl, rec.data)] = rec

    def delete_owned(self, owned: OwnedRecord, inst: AppliedInstance) -> None:
        """Delete the zone records still as ``owned`` was written (TTL may have been edited); records the
        instance adopted from the zone stay (they were there before it)."""
        if owned.spf_rules is not None:
            self.released.setdefault(owned.record.name, set()).update(rule_keys(owned.spf_rules))
            self.note_spf_origin(owned)
            return
        if owned.preexisting:
            return
        rec = owned.record
        name, rtype, data = rec.name, rec.type, rec.data
        index = self.index
        records = index.by_owner.get(name, ()) if index._filter is None else None
        if records is not None and len(records) <= SCAN_LIMIT:
            # find() and delete(), written out for the usual few records at an owner
            found = False
            protected = rtype == "SOA" or (rtype == "NS" and name == self.apex)
            for old in records:
                if old.data == data and old.type == rtype:
                    found = True
                    if not protected:
                        self.deleted[(name, rtype, old.ttl, data)] = old
        else:
            present = index.find(name, rtype, data)
            found = bool(present)
            for old in present:
                self.delete(old)
        if not found and name not in index.by_owner and not self.seen().covers(name):
            self.warnings.append(
                f"instance {inst.instance_id}: {rtype} record at {name} was outside the records given to the"
                " planner and was not deleted")

    def seen(self) -> NameScope:
        """The names the records given to the planner were asked to cover (computed when first needed)."""
        if self._seen is None:
            self._seen = _scope_of(self._rendered, self.apex)
        return self._seen

    def note_spf_origin(self, owned: OwnedRecord) -> None:
        name = owned.record.name
        self.spf_user[name] = self.spf_user.get(name, False) or owned.preexisting

    def spf_is_users(self, name: str) -> bool | None:
        """Whether the SPF record at ``name`` was the user's before any template merged into it, as the
        instances that know it say (any one saying so wins: never delete a user's record); ``None``: none do."""
        if self.owners.empty and name not in self.spf_user:
            return None  # no instance at all: nobody knows (the usual zone without applied templates)
        flags = [o.preexisting for _inst, o in self.owners.spf_at(name)]
        if name in self.spf_user:
            flags.append(self.spf_user[name])
        return any(flags) if flags else None

    def remove_instance(self, inst: AppliedInstance) -> None:
        if inst.instance_id in self.removed or inst.instance_id in self.skip_instances:
            return
        self.removed[inst.instance_id] = inst
        if self.trimmed:  # usually empty: no call
            self.trimmed.pop(inst.instance_id, None)
        index, deleted, apex = self.index, self.deleted, self.apex
        by_owner = index.by_owner if index._filter is None else None
        for owned in inst.records:
            rec = owned.record
            # delete_owned(), written out for a record the instance wrote at an owner with few records (one
            # call less per record of the instance); anything else takes delete_owned() itself.
            if (owned.spf_rules is not None or owned.preexisting or by_owner is None
                    or len(records := by_owner.get(rec.name, ())) > SCAN_LIMIT):
                self.delete_owned(owned, inst)
                continue
            name, rtype, data = rec.name, rec.type, rec.data
            found = False
            for old in records:
                if old.data == data and old.type == rtype:
                    found = True
                    if rtype != "SOA" and not (rtype == "NS" and name == apex):  # delete(), inlined
                        deleted[(name, rtype, old.ttl, data)] = old
            if not found:
                self.delete_owned(owned, inst)  # not in the records given: delete_owned() says why

    def trim(self, inst: AppliedInstance, key: Key | None = None, spf_name: str | None = None) -> None:
        if inst.instance_id in self.removed or inst.instance_id in self.skip_instances:
            return
        entry = self.trimmed.setdefault(inst.instance_id, (inst, set(), set()))
        if key is not None:
            entry[1].add(key)
        if spf_name is not None:
            entry[2].add(spf_name)

    def displace_adopted(self, old: Record, reason: str, caused_by: Record | None) -> None:
        """A conflict, except with a record the updated instance adopted and nobody else owns: that one is
        the instance's own, so replacing it is part of the update (dynamic DNS never sends force)."""
        if old.key() in self.adopted and not self.owners.owners_of(old):
            self.delete(old)
        else:
            self.conflict(old, reason, caused_by)

    def conflict(self, old: Record, reason: str, caused_by: Record | None) -> None:
        """``old`` must go because of a new record; resolve against its owners (§10.4.1.2, §10.5)."""
        conflicts, rtype = self.conflicts, old.type
        fields = (old.name, rtype, old.ttl, old.data)
        if fields in conflicts or rtype == "SOA" or (rtype == "NS" and old.name == self.apex):
            return  # already a conflict, or protected (is_protected(), inlined)
        self.deleted[fields] = old  # not protected: checked above
        owner_id = None
        owners = self.owners
        if owners.empty:  # no applied instance owns anything: nothing to resolve
            conflicts[fields] = Conflict(old, reason, caused_by, None)
            return
        # owners_of(), without the call when every instance is indexed already (no filter left)
        owning = (owners.by_key.get((old.name, rtype, old.data), ()) if owners._filter is None
                  else owners.owners_of(old))
        for inst, owned in owning:
            instance_id = inst.instance_id
            if instance_id in self.skip_instances:
                continue
            owner_id = owner_id or instance_id
            if instance_id in self.removed:
                continue  # already goes whole (remove_instance and trim would do nothing)
            if owned.essential == "Always":
                self.remove_instance(inst)
            else:
                self.trim(inst, key=(old.name, rtype, old.data))  # owned.record.key(): the same identity
        if rtype == "TXT" and old.data.lstrip('"')[:6].lower() == "v=spf1" and spf.is_spf_data(old.data):
            # Merged SPF records are never essential (§9.4): losing one never removes a template.
            for inst, _owned in self.owners.spf_at(old.name):
                owner_id = owner_id or inst.instance_id
                self.trim(inst, spf_name=old.name)
        conflicts[fields] = Conflict(old, reason, caused_by, owner_id)

    def spf_claims(self, name: str, kept: Mapping[str, set[str]]) -> set[str]:
        """SPF term keys that instances which stay claim at ``name``."""
        claims: set[str] = set(kept[name]) if name in kept else set()
        for inst, owned in self.owners.spf_at(name) if not self.owners.empty else ():
            if inst.instance_id in self.removed or inst.instance_id in self.skip_instances:
                continue
            claims |= rule_keys(owned.spf_rules)
        return claims

    def updated_instances(self) -> list[AppliedInstance]:
        out = []
        for inst, keys, spf_names in self.trimmed.values():
            records = tuple(o for o in inst.records if not (
                o.record.name in spf_names if o.spf_rules is not None else o.record.key() in keys))
            out.append(replace(inst, records=records))
        return out


# What ``_plan_spf`` returns (a plain tuple: it is built once per SPF owner, unpacked at once): the SPF
# record at the owner after the plan (None: none written by this plan), the new terms this plan claims, and
# whether the record was the user's before any template merged into it.
_SpfResult = tuple[Record | None, list[spf.Term], bool]


def _plan_spf(state: _State, name: str, new_terms: Sequence[spf.Term], new_ttl: int | None,
              kept_claims: Mapping[str, set[str]], add: dict[Fields, Record]) -> _SpfResult:
    """Recompute the one SPF record at ``name`` (§9.4): drop released terms, merge new ones."""
    policy = state.policy
    owners = state.owners
    # No instance merged into an SPF record here (the usual case): the claims are the kept ones, and nobody
    # but the kept instances knows whose record it is (spf_claims() and spf_is_users(), without the calls).
    no_spf_owner = owners.empty or (owners._filter is None and name not in owners.spf_by_name)
    claims = (set(kept_claims[name]) if name in kept_claims else set()) if no_spf_owner else (
        state.spf_claims(name, kept_claims))
    released = state.released.get(name) or _NO_KEYS
    # Terms given up and asked for again stay where they are (no churn in the record's order).
    drop = released - claims - {t.key for t in new_terms} if released else _NO_KEYS
    parsed: list[tuple[Record, spf.SpfRecord]] = []
    # The SPF records at the owner that no rule above removed (a conflict found while parsing removes only
    # the record it is about).
    alive = []
    deleted = state.deleted
    for r in state.index.at(name):
        # spf_text_of()'s cheap prefix test first: most TXT records are not SPF.
        if r.type == "TXT" and r.data.lstrip('"')[:6].lower() == "v=spf1" and (
                (text := spf.spf_text_of(r.data)) is not None and (r.name, r.type, r.ttl, r.data) not in deleted):
            alive.append((r, text))
    for rec, text in alive:
        try:
            parsed.append((rec, spf.SpfRecord.parse(text)))
        except spf.SpfSyntaxError as exc:
            state.conflict(rec, f"the existing SPF record at {name} cannot be merged: {exc.message}", None)
    if len(parsed) > 1:
        for rec, _ in parsed:
            state.conflict(rec, f"{name} has more than one SPF record (RFC 7208 §4.5); they are merged into one",
                           None)
    base: spf.SpfRecord | None = None
    for _rec, record in parsed:
        base = record if base is None else spf.SpfRecord(
            base.terms + tuple(t for t in record.terms if t.key not in {b.key for b in base.terms}),
            base.all_qualifier or record.all_qualifier)
    if base is not None and drop:
        base = spf.remove(base, drop)
    merged = base
    claimed: list[spf.Term] = []
    users_terms_dropped = False
    if new_terms:
        try:
            merged = spf.merge(base, new_terms, qualifier=policy.spf_qualifier)
        except spf.SpfLimitError as exc:
            if base is None:
                raise PlanError(f"SPF at {name}: {exc.message}") from None
            # Resolve as a conflict (§9.4): give up the terms nobody's template claims, if that is enough.
            base = spf.SpfRecord(tuple(t for t in base.terms if t.key in claims), base.all_qualifier)
            try:
                merged = spf.merge(base, new_terms, qualifier=policy.spf_qualifier)
            except spf.SpfLimitError as again:
                raise PlanError(f"SPF at {name}: {again.message}, even without the existing record's own terms"
                                ) from None
            users_terms_dropped = True
            for rec, _ in parsed:
                state.conflict(rec, f"merging into the SPF record at {name} would exceed RFC 7208's limit of"
                                    f" {spf.MAX_LOOKUPS} DNS lookups: its other terms are dropped", None)
        base_keys: set[str] = set()  # loops, not comprehensions: no function objects per plan
        for t in base.terms if base is not None else ():
            base_keys.add(t.key)
        for t in new_terms:
            if t.key not in base_keys or t.key in claims or t.key in released:
                claimed.append(t)
    # Whose record it is: the instances that merged into it know; with none, an existing record that keeps
    # its terms is the user's, and one this plan creates (or replaces as a conflict) is the templates'.
    known = state.spf_is_users(name) if not no_spf_owner or name in state.spf_user else None
    users = known if known is not None else bool(parsed) and not users_terms_dropped
    if merged is None:
        return None, claimed, users
    current: list[Record] = []
    for r, _ in parsed:
        if (r.name, r.type, r.ttl, r.data) not in deleted:
            current.append(r)
    if not new_terms and not merged.terms and not claims and not users:
        # Merging created it, and every template term is gone: remove it (whatever its qualifier now).
        for rec in current:
            state.delete(rec)
        return None, claimed, users
    ttl = current[0].ttl if current else (parsed[0][0].ttl if parsed else (new_ttl or policy.default_ttl))
    fields = (name, "TXT", ttl, spf.to_txt_data(merged.text()))
    if len(current) == 1 and (c := current[0]).data == fields[3] and c.ttl == ttl and c.name == name:
        return c, claimed, users  # unchanged (``current == [record]``, without building the record to compare)
    record = Record(*fields)
    for rec in current:  # the SPF TXT records there (never protected): delete() without the call
        deleted[(rec.name, rec.type, rec.ttl, rec.data)] = rec
    add[fields] = record
    return record, claimed, users


def _clashing_kept(kept: Sequence[OwnedRecord], rendered: Sequence[RenderedRecord], apex: str) -> set[Key]:
    """Keys of kept records (SPF contributions: their TXT) that could not share a zone with a new record."""
    new = [(rr.source.index, rr.record or Record(rr.owner, "TXT", 0, f"spfm {rr.source.index}")) for rr in rendered]
    return {o.record.key() for o in kept if any(self_conflict([(-1, o.record), n], apex) for n in new)}


def _template_vars(rendered: Sequence[RenderedRecord]) -> set[str]:
    """Variables the rendered records' template fields use, built-ins aside (``TemplateRecord.variables``)."""
    return set().union(*[rr.source.variables for rr in rendered])


def _scope_of(rendered: Sequence[RenderedRecord], apex: str) -> NameScope:
    names: set[str] = {apex}  # cheap, and lets a caller see the zone's own SOA/NS alongside
    subtrees: list[str] = []  # a list (deduplicated by frozenset below): no set to build without an NS
    # A name with no more dots than one label below the apex has no parent below it: skip the walk.
    child_end = -len(apex) - 1  # see "deeper than one label" above
    for rr in rendered:
        owner = rr.name  # RenderedRecord.owner, without the property call
        names.add(owner)
        if "." in owner[:child_end]:
            names.update(_parents(owner, apex))  # an NS above a new record conflicts with it
        if rr.record is not None and rr.record.type == "NS":
            subtrees.append(owner)
    return NameScope(frozenset(names), frozenset(subtrees) if subtrees else _NO_KEYS)


class _RenderMemo(threading.local):
    """The records ``names_needed`` rendered, for the ``plan_apply`` that follows it (per thread, used once).

    A request asks for the scope, fetches those records, then plans with the same arguments: rendering (and
    validating) the template twice would double the constant cost of a small plan. One attribute (each
    access to a thread-local costs a lookup of the thread's own dict): the request's key (``_render_key``),
    the rendered records, their scope, and the normalised domain and host.
    """

    entry: tuple[tuple[Any, ...], list[RenderedRecord], NameScope, str, str] | None = None


_memo = _RenderMemo()


def _render_key(template: Template, domain: str, host: str, params: Mapping[str, str], groups: list[str],
                policy: Policy) -> tuple[Any, ...]:
    """What rendering depends on: the template (frozen; compared by identity first, and equal templates
    render alike), the values as rendering reads them (``str``), the groups (``_groups``: membership alone
    selects records) and the policy (TTL bounds)."""
    return (template, domain, host, str_values(params), groups, policy)


def _groups(group_ids: Iterable[str] | None) -> list[str]:
    """The groupId values that select records: blanks and repeats dropped, sorted."""
    return sorted({g for g in group_ids if g})


def _rendered_for_plan(entry: tuple[tuple[Any, ...], list[RenderedRecord], NameScope, str, str],
                       template: Template, domain: str, host: str, params: Mapping[str, str],
                       groups: list[str], policy: Policy) -> tuple[list[RenderedRecord], NameScope | None, str, str]:
    """``render_records`` under ``policy``, the scope of the result (``None``: compute it) and the normalised
    domain and host, reusing what ``names_needed`` left in ``entry`` (``_RenderMemo``) when that is exact.

    ``names_needed`` renders with ``any_type`` (every type, and CNAMEs at the apex). When that render
    succeeded, the strict one gives the same records unless a type is unsupported or a CNAME lands at the
    apex; then it raises, and rendering again under ``policy`` raises exactly that error.
    """
    key, rendered, scope, domain_n, host_n = entry
    if key != _render_key(template, domain, host, params, groups, policy):  # another request: start afresh
        domain_n, host_n = normalize_request(domain, host)
        return render_normalized(template, domain_n, host_n, params, groups or None, policy), None, domain_n, host_n
    # The same domain and host: the same normalised names.
    if ((template.record_types.issubset(policy.supported_types)  # every type supported (else per record)
         or all(rr.source.rtype in policy.supported_types for rr in rendered))
            and (policy.allow_apex_cname or "CNAME" not in template.record_types
                 or not _has_apex_cname(rendered, domain_n + "."))):
        return rendered, scope, domain_n, host_n
    return render_normalized(template, domain_n, host_n, params, groups or None, policy), None, domain_n, host_n


def _has_apex_cname(rendered: Sequence[RenderedRecord], apex: str) -> bool:
    return any(rr.record is not None and rr.record.type == "CNAME" and rr.record.name == apex for rr in rendered)


def _take_over(state: _State, previous: Sequence[AppliedInstance], groups: Sequence[str],
               kept: list[OwnedRecord], kept_claims: dict[str, set[str]]) -> tuple[set[Key], set[Key], set[Key]]:
    """Sort the records of the instance(s) being updated: kept (another group's, into ``kept`` and
    ``kept_claims``), given up (deleted through ``state``) or adopted. Returns the keys of its own records,
    of those it wrote itself, and of those it adopted (also set on ``state``)."""
    own_keys: set[Key] = set()
    written: set[Key] = set()
    adopted: set[Key] = set()
    state.adopted = adopted
    for inst in previous:
        for owned in inst.records:
            replaced = not (groups and owned.group_id is not None and owned.group_id not in groups)
            if not replaced:
                kept.append(owned)
                if owned.spf_rules is not None:
                    kept_claims.setdefault(owned.record.name, set()).update(rule_keys(owned.spf_rules))
                    state.note_spf_origin(owned)
                else:
                    own_keys.add(owned.record.key())
            elif owned.spf_rules is not None:
                state.delete_owned(owned, inst)  # gives its SPF terms up; the SPF merge below takes them back
            elif state.owners.owners_of(owned.record):
                pass  # another instance owns it too: it stays theirs, and a new record may conflict with it
            elif owned.preexisting:
                adopted.add(owned.record.key())  # the user's before: stays unless a new record conflicts with it
            else:
                state.delete_owned(owned, inst)
                own_keys.add(owned.record.key())
                written.add(owned.record.key())  # a new TTL rewrites it
    return own_keys, written, adopted


def names_needed(template: Template, *, domain: str, host: str = "", params: Mapping[str, str],
                 group_ids: Iterable[str] | None = None, policy: Policy | None = None) -> NameScope:
    """The owner names ``plan_apply`` must see: every rendered owner and its ancestors up to the apex,
    plus the whole subtree below each new NS record. Raises the same errors as rendering."""
    base = policy or _DEFAULT_POLICY
    groups = _groups(group_ids) if group_ids else []
    memo = _memo
    memo.entry = None
    # normalize_request()'s usual case written out, as in plan_apply.
    domain_n, host_n = _plain_ascii_name(domain, False), host
    if domain_n is None or "." not in domain_n or host != "":
        domain_n, host_n = normalize_request(domain, host)
    # Only owner names matter here: let every type through so the caller gets this scope even for types
    # the policy will reject later (plan_apply reports those).
    rendered = render_normalized(template, domain_n, host_n, params, groups or None, base, any_type=True)
    scope = _scope_of(rendered, domain_n + ".")
    memo.entry = (_render_key(template, domain, host, params, groups, base), rendered, scope, domain_n, host_n)
    return scope


def instance_scope(instances: Iterable[AppliedInstance]) -> NameScope:
    """Owner names of the records ``instances`` own: add them to the zone view of a plan or revert."""
    return NameScope(frozenset(o.record.name for inst in instances for o in inst.records))


def plan_apply(template: Template, *, domain: str, host: str = "", params: Mapping[str, str],
               zone: Iterable[Record], instances: Iterable[AppliedInstance] = (),
               group_ids: Iterable[str] | None = None, instance_id: str | None = None, new_instance_id: str,
               policy: Policy = _DEFAULT_POLICY) -> Plan:
    """Plan applying ``template`` at ``[host.]domain`` (see module docstring and docs/engine.md)."""
    groups = _groups(group_ids) if group_ids else []  # no call without groupId (the usual request)
    memo = _memo
    entry = memo.entry
    if entry is None:  # no names_needed just before (a plan given the whole zone): normalise and render
        # normalize_request()'s usual case written out (one call less): a plain domain, the apex as host.
        domain_n, host_n = _plain_ascii_name(domain, False), host
        if domain_n is None or "." not in domain_n or host != "":
            domain_n, host_n = normalize_request(domain, host)
        rendered, seen_or_none = render_normalized(template, domain_n, host_n, params, groups or None, policy), None
    else:
        memo.entry = None  # used once: a later plan renders afresh
        rendered, seen_or_none, domain_n, host_n = _rendered_for_plan(entry, template, domain, host, params,
                                                                      groups, policy)
    apex = domain_n + "."
    instances = tuple(instances)
    zone = zone if type(zone) is list or type(zone) is tuple else list(zone)  # not isinstance(): no C call
    # The scope filters a large zone or many instances; otherwise it is worked out only if a warning needs it.
    seen = seen_or_none or (
        _scope_of(rendered, apex) if len(zone) > ZONE_FILTER_ABOVE or len(instances) > INSTANCES_FILTER_ABOVE
        else None)
    index = ZoneIndex(zone, apex, seen)

    # An update (§10.1, §10.4.1.1): the same template at the same host, unless multiInstance asks for a new
    # one; with groupId only the records of those groups (and ungrouped ones) are replaced (§10.3.1).
    this = (template.provider_id, template.service_id, host_n)
    same: list[AppliedInstance] = []
    for i in instances:  # a loop, not a comprehension: no function object per plan
        if (i.provider_id, i.service_id, i.host) == this:
            same.append(i)
    if template.multi_instance:
        previous = [i for i in same if instance_id is not None and i.instance_id == instance_id]
    else:
        previous = same
    prev_ids: AbstractSet[str] = {i.instance_id for i in previous} if previous else _NO_KEYS
    others = tuple(i for i in instances if i.instance_id not in prev_ids) if prev_ids else instances
    state = _State(index, Ownership(others, seen), apex, policy, skip_instances=prev_ids,
                   seen=seen, rendered=rendered)
    kept: list[OwnedRecord] = []
    kept_claims: dict[str, set[str]] = {}
    # Without an instance to update (the usual plan) these stay one shared empty frozenset: no set to build
    # and free per plan.
    own_keys: AbstractSet[Key] = _NO_KEYS  # the updated instance's records: a template never conflicts with itself
    written: AbstractSet[Key] = _NO_KEYS  # records the updated instance wrote itself (a new TTL rewrites them)
    adopted: AbstractSet[Key] = _NO_KEYS  # records it adopted from the zone, in the groups being replaced
    if previous:
        own_keys, written, adopted = _take_over(state, previous, groups, kept, kept_claims)

    # With groupId the instance keeps its other groups' records; they must still fit with the new ones
    # under the zone rules (§10.4): an A next to a kept AAAA is fine, a CNAME next to a kept A is not. A
    # kept record that clashes stops being the template's own, so the rules below delete it as a conflict.
    if groups and kept:
        clashing = _clashing_kept(kept, rendered, apex)
        if clashing:
            kept = [o for o in kept if o.record.key() not in clashing]
            own_keys -= clashing
            kept_claims = {}  # a kept SPF contribution may have gone too (its TXT next to a new CNAME)
            for owned in kept:
                if owned.spf_rules is not None:
                    kept_claims.setdefault(owned.record.name, set()).update(rule_keys(owned.spf_rules))

    displace = state.displace_adopted if adopted else state.conflict  # without adopted records: a plain conflict

    new_by_key: dict[Key, Record] = {}
    for rr in rendered:
        if (r := rr.record) is not None:
            new_by_key[(r.name, r.type, r.data)] = r
    ns_roots: dict[str, Record] = {}
    # Per owner name, the existing records a new record there may displace (found once per owner, not once per
    # new record): not the template's own, not a record the template writes again (the add loop decides its
    # TTL), and never the zone's SOA or apex NS (displace() would leave them anyway).
    candidates: dict[str, list[Record]] = {}
    child_end = -len(apex) - 1  # see "deeper than one label" above
    by_owner = index.by_owner if index._filter is None else None  # every owner indexed: read them directly
    for rr in rendered:
        owner = rr.name  # RenderedRecord.owner, without the property call
        olds = candidates.get(owner)
        if olds is None:  # is_protected() and key(), inlined: this runs once per record at the owner
            olds = candidates[owner] = []
            # index.at(), without the call when every owner is indexed; a loop, not a comprehension.
            for old in (by_owner.get(owner, ()) if by_owner is not None else index.at(owner)):
                if (t := old.type) != "SOA" and not (t == "NS" and old.name == apex) and (
                        (k := (old.name, t, old.data)) not in own_keys and k not in new_by_key):
                    olds.append(old)
        if rr.record is None:
            # SPFM writes (or rewrites) an SPF TXT at its owner: it meets the CNAME and NS rules like any TXT;
            # the SPF merge below decides about the TXT records there.
            probe = None
            for old in olds:
                # type_pair_reason("TXT", old.type, owner), written out as below: most pairs never conflict.
                rule = SAME_OWNER_RULES.get(("TXT", old.type), UNKNOWN_RULE)
                if rule is None or rule is TXT_RULE:
                    continue
                reason = (type_pair_reason("TXT", old.type, owner) if rule is UNKNOWN_RULE
                          else rule[0] + owner + rule[1])
                if reason:
                    displace(old, reason, None)
        else:
            probe = rr.record
            mode, prefix = rr.source.txt_conflict_matching_mode, rr.source.txt_conflict_matching_prefix
            new_type = probe.type
            for old in olds:
                # same_owner_reason(), written out: most pairs of types never conflict, and the rule table says
                # so without a call. (``olds`` holds no record identical to a new one.)
                rule = SAME_OWNER_RULES.get((new_type, old.type), UNKNOWN_RULE)
                if rule is None:
                    continue
                if rule is TXT_RULE:
                    reason = txt_reason(owner, old, mode, prefix)
                elif rule is UNKNOWN_RULE:
                    reason = same_owner_reason(probe, old, mode, prefix)
                else:
                    reason = rule[0] + owner + rule[1]
                if reason:
                    displace(old, reason, probe)
        if "." in owner[:child_end]:  # only a name deeper than the apex's children has a parent to check
            for old in index.delegations_above(owner):
                if old.key() not in own_keys:
                    displace(old, subtree_reason(probe or Record(owner, "TXT", 0, ""), old) or "below a delegation",
                             rr.record)
        if probe is not None and probe.type == "NS":
            ns_roots[owner] = probe
    if ns_roots:
        for root, olds in index.below(ns_roots):
            root_ns = ns_roots[root]
            # The same reason for every record at this owner (it names the owner and the delegation):
            # subtree_reason()'s, for a record strictly below a new NS owner, without the call.
            reason = olds[0].name + BELOW_NEW_DELEGATION + root
            for old in olds:
                if (old_key := (old.name, old.type, old.data)) not in own_keys and old_key not in new_by_key:
                    displace(old, reason, root_ns)

    add: dict[Fields, Record] = {}
    owned_new: list[OwnedRecord] = []
    spf_new: dict[str, list[RenderedRecord]] = {}  # SPFM records by owner, for the SPF merge below
    for rr in rendered:
        if rr.record is None:
            spf_new.setdefault(rr.name, []).append(rr)
            continue
        rec = rr.record
        rec_key = (name, rtype, data) = (rec.name, rec.type, rec.data)  # rec.key(), without the call
        if by_owner is not None and len(at_owner := by_owner.get(name, ())) <= SCAN_LIMIT:
            present: list[Record] = []  # index.find(), written out for the usual few records at an owner
            for old in at_owner:
                if old.data == data and old.type == rtype:
                    present.append(old)
        else:
            present = index.find(name, rtype, data)
        essential = "OnApply" if rr.source.essential == "OnApply" else "Always"  # TemplateRecord.essential_mode
        if present and rec_key not in written:
            # Already in the zone, and not written by the instance being updated: keep it exactly as it is,
            # TTL included (TTLs are best effort), so a revert can leave the zone as it was. It is adopted
            # unless a template wrote it (then the instances share it and the last one out removes it).
            for old in present:
                fields = (old.name, old.type, old.ttl, old.data)
                state.deleted.pop(fields, None)  # a conflict or a removed instance's record, written again
                state.conflicts.pop(fields, None)
            preexisting = True  # adopted, or every instance owning it adopted it too (a loop, not a generator)
            if rec_key not in adopted and not state.owners.empty:
                for _i, o in state.owners.owners_of(present[0]):
                    preexisting = preexisting and o.preexisting
            owned_new.append(OwnedRecord(present[0], essential, rr.source.group_id, None, preexisting))
            continue
        owned_new.append(OwnedRecord(rec, essential, rr.source.group_id))
        # A record the template lists twice is added once (the dict keeps the first place); it cannot be in
        # ``deleted`` by then, since nothing below deletes. Only zone records are ever deleted: with none of
        # this identity in the zone, there is nothing to look up.
        fields = (rec.name, rec.type, rec.ttl, rec.data)
        if present and fields in state.deleted:
            del state.deleted[fields]  # the updated instance's own record written again: leave it alone
            state.conflicts.pop(fields, None)
        elif rec not in present:
            add[fields] = rec  # new, or the updated instance's own record with a new TTL (deleted above)

    # SPF last: it sees which records and instances the rules above removed.
    spf_owned: list[OwnedRecord] = []  # after the others (``owned_new``)
    for name in list(dict.fromkeys([*spf_new, *state.released])) if state.released else spf_new:
        sources = spf_new.get(name, [])
        # Rules without variables were parsed with the template; others are parsed once rendered.
        terms: Sequence[spf.Term]
        if len(sources) == 1 and sources[0].source.spf_terms is not None:
            terms = sources[0].source.spf_terms  # one SPFM record at the owner (the usual case): no copy
        else:
            terms = [t for rr in sources for t in (
                rr.source.spf_terms if rr.source.spf_terms is not None else spf.parse_rules(rr.spf_rules or ""))]
        record, claimed, users = _plan_spf(state, name, terms, sources[0].ttl if sources else None, kept_claims, add)
        if sources and record is not None:
            # One source claiming all its terms claims its rendered rules: the text its terms were parsed from.
            rules = (sources[0].spf_rules if len(sources) == 1 and len(claimed) == len(terms) else None)
            spf_owned.append(OwnedRecord(record, "OnApply", sources[0].source.group_id,
                                         rules or " ".join([t.text() for t in claimed]), users))

    # The values the instance keeps, sorted by name. Without groupId every record was rendered: the
    # template's variables, sorted when it was built. With groupId, those of the records rendered, over the
    # updated instance's (its other groups keep theirs).
    params_state: tuple[tuple[str, str], ...]
    if groups:
        new_params = {k: str(params[k]) for k in _template_vars(rendered) if k in params}
        if previous:
            new_params = {**dict(previous[0].params), **new_params}
        params_state = tuple(sorted(new_params.items()))
    else:
        pairs = []  # a loop over sorted names: nothing to sort per plan
        for k in template.variable_order:
            if k in params:
                value = params[k]
                pairs.append((k, value if type(value) is str else str(value)))
        params_state = tuple(pairs)
    if previous and groups:
        group_state = () if not previous[0].group_ids else tuple(sorted(set(previous[0].group_ids) | set(groups)))
    else:
        group_state = tuple(groups) if groups else ()
    spf_is_new_txt = False
    for o in spf_owned:
        spf_is_new_txt = spf_is_new_txt or (o.record.name, "TXT", o.record.data) in new_by_key
    if not kept and len(owned_new) == len(new_by_key) and not spf_is_new_txt:
        # One per distinct new record, and SPF records that are none of them: nothing to merge.
        owned_records = (*owned_new, *spf_owned) if spf_owned else tuple(owned_new)
    else:  # a record listed twice, kept records, or a merged SPF record equal to a new TXT record
        records: dict[Key, OwnedRecord] = {}
        for owned in [*kept, *owned_new, *spf_owned]:
            records.setdefault((owned.record.name, owned.record.type, owned.record.data), owned)
        owned_records = tuple(records.values())
    new_instance = AppliedInstance(  # positional: keywords cost more per call
        previous[0].instance_id if previous else new_instance_id, template.provider_id, template.service_id,
        host_n, owned_records, template.multi_instance, group_state, params_state)
    # Extra instances of a non-multiInstance template at this host (should not exist) merge into this one;
    # an instance that loses its last record disappears.
    removed = tuple(state.removed.values()) if len(previous) < 2 else (*state.removed.values(), *previous[1:])
    kept_instances: tuple[AppliedInstance, ...] = ()
    if state.trimmed:
        updated = state.updated_instances()
        removed += tuple([i for i in updated if not i.records])
        kept_instances = tuple([i for i in updated if i.records])
    return Plan(
        domain_n, host_n, template.provider_id, template.service_id, tuple(add.values()),
        tuple(state.deleted.values()), tuple(state.conflicts.values()), removed, kept_instances, new_instance,
        tuple(state.warnings),
    )


def plan_revert(instance: AppliedInstance, *, domain: str, zone: Iterable[Record],
                instances: Iterable[AppliedInstance] = (), policy: Policy = _DEFAULT_POLICY) -> Plan:
    """Remove ``instance``: its records still as written, and its terms from merged SPF records (§8.4.7).

    Records another remaining instance also owns are kept. ``zone`` must cover ``instance_scope``.
    """
    apex = normalize_domain(domain) + "."
    others = [i for i in instances if i.instance_id != instance.instance_id]
    scope = instance_scope([instance])
    zone = zone if isinstance(zone, (list, tuple)) else list(zone)
    state = _State(ZoneIndex(zone, apex, scope), Ownership(others, scope), apex, policy,
                   skip_instances={instance.instance_id}, seen=scope)
    for owned in instance.records:
        if owned.spf_rules is None and state.owners.owners_of(owned.record):
            continue  # still someone else's
        state.delete_owned(owned, instance)
    add: dict[Fields, Record] = {}
    for name in list(state.released):
        _plan_spf(state, name, (), None, {}, add)
    return Plan(
        domain=apex[:-1], host=instance.host, provider_id=instance.provider_id, service_id=instance.service_id,
        to_add=tuple(add.values()), to_delete=tuple(state.deleted.values()),
        conflicts=tuple(state.conflicts.values()),
        warnings=tuple(state.warnings),
    )
