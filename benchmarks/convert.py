"""The workloads of ``workloads.py`` in our engine's types, and a stand-in for an indexed backend."""

from __future__ import annotations

from collections.abc import Iterable

from django_domainconnect.engine.types import AppliedInstance, NameScope, OwnedRecord, Record

from . import workloads as w


def absolute(rel: str) -> str:
    return f"{w.DOMAIN}." if rel == "@" else f"{rel}.{w.DOMAIN}."


def to_record(rec: w.Rec) -> Record:
    name, rtype, ttl, data, _owner = rec
    if rtype == "TXT":
        data = f'"{data}"'
    elif rtype in ("CNAME", "NS"):
        data = f"{data}."
    elif rtype == "MX":
        prio, target = data.split(" ", 1)
        data = f"{prio} {target}."
    return Record(absolute(name), rtype, ttl, data)


def to_instances(recs: list[w.Rec], records: list[Record]) -> list[AppliedInstance]:
    grouped: dict[str, list[OwnedRecord]] = {}
    meta: dict[str, w.Owner] = {}
    for rec, record in zip(recs, records, strict=True):
        owner = rec[4]
        if owner is None:
            continue
        meta[owner[0]] = owner
        grouped.setdefault(owner[0], []).append(OwnedRecord(record, essential=owner[4]))  # type: ignore[arg-type]
    return [
        AppliedInstance(instance_id=iid, provider_id=m[1], service_id=m[2], host=m[3], records=tuple(grouped[iid]),
                        multi_instance=True)
        for iid, m in meta.items()
    ]


class ScopedStore:
    """Plays a backend with indexes: owner name → records, and instance lookup by owned name."""

    def __init__(self, records: list[Record], instances: list[AppliedInstance]) -> None:
        self.by_name: dict[str, list[Record]] = {}
        for r in records:
            self.by_name.setdefault(r.name, []).append(r)
        self.names_sorted = sorted(self.by_name, key=lambda n: n.split(".")[::-1])
        self.instances_by_name: dict[str, list[AppliedInstance]] = {}
        for inst in instances:
            for owned in inst.records:
                self.instances_by_name.setdefault(owned.record.name, []).append(inst)

    def _names(self, scope: NameScope) -> Iterable[str]:
        yield from scope.names
        for sub in scope.subtrees:  # a range scan in a database; a linear filter is fine outside the clock
            yield from (n for n in self.names_sorted if n == sub or n.endswith("." + sub))

    def select(self, scope: NameScope) -> tuple[list[Record], list[AppliedInstance]]:
        names = set(self._names(scope))
        records = [r for n in names for r in self.by_name.get(n, ())]
        seen: dict[str, AppliedInstance] = {}
        for n in names:
            for inst in self.instances_by_name.get(n, ()):
                seen[inst.instance_id] = inst
        return records, list(seen.values())
