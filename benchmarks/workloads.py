"""Deterministic benchmark inputs, shared by our engine's harness and the reference engine's runner.

Pure standard library on purpose: ``ref_runner.py`` imports this module inside the reference engine's own
virtualenv (old dnspython, no Django, not our package). Records are plain tuples
``(relative_name, type, ttl, data, owner)`` where ``relative_name`` is ``@`` or a name below the zone,
``data`` is "plain" (names without trailing dot, TXT without quotes, MX as ``priority target``) and
``owner`` is ``None`` or ``(instance_id, provider_id, service_id, host, essential)``.
Both sides convert these to their own formats outside the timed region.
"""

from __future__ import annotations

from typing import Any

DOMAIN = "bench.example"
SIZES = (10, 1_000, 10_000, 100_000)

Owner = tuple[str, str, str, str, str]
Rec = tuple[str, str, int, str, "Owner | None"]

PARAMS = {
    "ip": "192.0.2.10",
    "ip6": "2001:db8::10",
    "token": "abc123",
    "target": "hosting.example.net",
    "ns1": "ns1.delegate.example.net",
    "ns2": "ns2.delegate.example.net",
}


def _tpl(service_id: str, records: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "providerId": "bench.example.net",
        "providerName": "Bench",
        "serviceId": service_id,
        "serviceName": service_id,
        "version": 1,
        "records": records,
        **extra,
    }


def hosting5() -> dict[str, Any]:
    """The typical web-hosting template: A @, AAAA @, CNAME www, TXT @ (Prefix matching), SPFM @."""
    return _tpl(
        "hosting5",
        [
            {"type": "A", "host": "@", "pointsTo": "%ip%", "ttl": 3600},
            {"type": "AAAA", "host": "@", "pointsTo": "%ip6%", "ttl": 3600},
            {"type": "CNAME", "host": "www", "pointsTo": "@", "ttl": 3600},
            {
                "type": "TXT",
                "host": "@",
                "data": "hosting-verify=%token%",
                "ttl": 3600,
                "txtConflictMatchingMode": "Prefix",
                "txtConflictMatchingPrefix": "hosting-verify=",
            },
            {"type": "SPFM", "host": "@", "spfRules": "include:spf.hosting.example.net"},
        ],
    )


def big50() -> dict[str, Any]:
    """A 50-record template: 15 A, 10 AAAA, 10 CNAME, 10 TXT, 5 MX on distinct owner names."""
    recs: list[dict[str, Any]] = []
    recs += [{"type": "A", "host": f"a{j}", "pointsTo": "%ip%", "ttl": 600} for j in range(15)]
    recs += [{"type": "AAAA", "host": f"a{j}", "pointsTo": "%ip6%", "ttl": 600} for j in range(10)]
    recs += [{"type": "CNAME", "host": f"c{j}", "pointsTo": f"c{j}.%target%", "ttl": 600} for j in range(10)]
    recs += [{"type": "TXT", "host": f"t{j}", "data": f"svc{j}=%token%", "ttl": 600} for j in range(10)]
    recs += [{"type": "MX", "host": "mail", "pointsTo": f"mx{j}.%target%", "priority": 10 + j, "ttl": 600}
             for j in range(5)]
    return _tpl("big50", recs, multiInstance=True)


def delegate() -> dict[str, Any]:
    """Delegates ``sub`` to another operator: NS records over a subtree full of owned records."""
    return _tpl(
        "delegate",
        [
            {"type": "NS", "host": "sub", "pointsTo": "%ns1%", "ttl": 3600},
            {"type": "NS", "host": "sub", "pointsTo": "%ns2%", "ttl": 3600},
        ],
    )


TEMPLATES = {"hosting5": hosting5, "big50": big50, "delegate": delegate}


def _base() -> list[Rec]:
    """What every hosted zone has at its apex and www (conflicts for the hosting template)."""
    return [
        ("@", "NS", 3600, "ns1.registrar.example", None),
        ("@", "NS", 3600, "ns2.registrar.example", None),
        ("@", "A", 3600, "198.51.100.1", None),
        ("@", "MX", 3600, "10 mx.registrar.example", None),
        ("@", "TXT", 3600, "v=spf1 include:mail.registrar.example ~all", None),
        ("@", "TXT", 3600, "hosting-verify=old", None),
        ("www", "CNAME", 3600, DOMAIN, None),
    ]


def _filler(i: int, prefix: str = "h") -> Rec:
    name = f"{prefix}{i}"
    kind = i % 5
    if kind == 0:
        return (name, "A", 3600, f"198.51.{(i >> 8) & 255}.{i & 255}", None)
    if kind == 1:
        return (name, "AAAA", 3600, f"2001:db8::{i:x}", None)
    if kind == 2:
        return (name, "TXT", 3600, f"note {i}", None)
    if kind == 3:
        return (name, "CNAME", 3600, f"target{i}.example.net", None)
    return (name, "MX", 3600, f"10 mx{i}.example.net", None)


def _instance_records(inst: int, host: str, service: str, provider: str = "other.example") -> list[Rec]:
    """50 owned records, as an applied big50-like instance at ``host`` would have written them."""
    owner: Owner = (f"inst-{service}-{inst}", provider, service, host, "Always")
    suffix = f".{host}" if host else ""
    out: list[Rec] = []
    out += [(f"a{j}{suffix}", "A", 600, f"192.0.2.{j + 1}", owner) for j in range(15)]
    out += [(f"a{j}{suffix}", "AAAA", 600, f"2001:db8::{j + 1:x}", owner) for j in range(10)]
    out += [(f"c{j}{suffix}", "CNAME", 600, f"c{j}.old.example.net", owner) for j in range(10)]
    out += [(f"t{j}{suffix}", "TXT", 600, f"svc{j}=old", owner) for j in range(10)]
    out += [(f"mail{suffix}", "MX", 600, f"{10 + j} mx{j}.old.example.net", owner) for j in range(5)]
    return out


def zone(size: int, shape: str) -> list[Rec]:
    """A zone of exactly ``size`` records.

    ``plain``: base + unowned filler. ``instances``: about half the zone in 50-record instances at hosts
    ``app{i}``, plus one large instance at the apex (``a0``…, ``www``, the apex A) that the hosting and big50
    templates conflict with, so applying them removes it whole. ``ns``: half the zone lies below ``sub`` in
    5-record instances that a delegation removes (the reference engine is quadratic there).
    """
    recs = _base()
    if shape == "instances":
        apex_owner: Owner = ("inst-apex", "other.example", "oldhosting", "", "Always")
        recs = [(n, t, ttl, d, apex_owner if (n, t) in {("@", "A"), ("www", "CNAME")} else o)
                for (n, t, ttl, d, o) in recs]
        recs += _instance_records(0, "", "apexsuite")[: max(0, min(50, size // 2 - len(recs)))]
        i = 0
        while len(recs) + 50 <= size // 2 + len(_base()):
            recs += _instance_records(i, f"app{i}", "suite")
            i += 1
    elif shape == "ns":
        i = 0
        while len(recs) < size // 2 + len(_base()):
            owner: Owner = (f"inst-sub-{i}", "other.example", "subsvc", f"x{i}.sub", "Always")
            block = [
                (f"x{i}.sub", "A", 600, "192.0.2.1", owner),
                (f"x{i}.sub", "AAAA", 600, "2001:db8::1", owner),
                (f"www.x{i}.sub", "CNAME", 600, f"x{i}.sub.{DOMAIN}", owner),
                (f"x{i}.sub", "TXT", 600, f"id={i}", owner),
                (f"x{i}.sub", "MX", 600, "10 mx.example.net", owner),
            ]
            recs += block[: max(1, size - len(recs))]
            i += 1
    elif shape != "plain":
        raise ValueError(shape)
    i = 0
    while len(recs) < size:
        recs.append(_filler(i))
        i += 1
    return recs[:size] if len(recs) > size else recs


# Which template each scenario applies, and where.
SCENARIOS: list[tuple[str, str, str]] = [
    # (template, zone shape, host)
    ("hosting5", "plain", ""),
    ("big50", "plain", ""),
    ("hosting5", "instances", ""),
    ("big50", "instances", ""),
    ("delegate", "ns", ""),
]


def instances_of(records: list[Rec]) -> dict[str, list[Rec]]:
    """Owned records grouped by instance id."""
    out: dict[str, list[Rec]] = {}
    for rec in records:
        if rec[4] is not None:
            out.setdefault(rec[4][0], []).append(rec)
    return out


def reps_for(size: int) -> int:
    """Fewer repetitions for big zones keeps the whole run within a few minutes."""
    return {10: 200, 1_000: 30, 10_000: 5}.get(size, 2)
