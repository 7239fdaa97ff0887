"""CPU instructions per plan, ours next to the reference engine, counted by valgrind (no timing noise).

    .venv/bin/python benchmarks/instructions.py [--size 10] [--plans 100] [--only hosting5/plain,delegate/ns]

Wall-clock times of a 0.1 ms plan move by tens of percent on a shared virtual machine; the number of
instructions executed does not. For each scenario of ``workloads.SCENARIOS`` this runs, under
``valgrind --tool=cachegrind``, a child process that plans ``--plans`` times on a zone of ``--size``
records (ours given the whole zone, with the engine's memo caches emptied before each plan, as
``engine.py`` does; the reference in ``benchmarks/.venv-ref`` on fresh copies made beforehand), and once
more with no plan; the difference divided by ``--plans`` is the cost of one plan. Needs ``valgrind`` on
the PATH (Debian: ``apt-get install valgrind``).

``--cold`` counts what decides the time of a small plan as ``engine.py`` times it — right after a full
collection, with the processor's caches cold: under ``valgrind --tool=callgrind`` with its cache and branch
simulation, a collection (and, for ours, emptying the memo caches) before each plan, and events counted only
while the plan runs (the child calls each plan through ``functools.reduce``, a C function nothing else calls
meanwhile, and callgrind collects inside it alone). Per plan: instructions, first-level instruction and
data cache misses, last-level misses, mispredicted conditional and indirect branches.
"""

from __future__ import annotations

import argparse
import copy
import functools
import gc
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]  # benchmarks/http.py shadows http
sys.path.insert(0, str(HERE.parent))

from benchmarks import workloads as w  # noqa: E402

_IREFS = re.compile(r"I\s+refs:\s+([\d,]+)")


def child(side: str, scenario: int, size: int, plans: int, total: int, cold: bool = False) -> None:
    """The measured process: set up (the same for every ``plans``), then ``plans`` plans with the collector off
    (``cold``: each after a full collection, inside ``functools.reduce``)."""
    tpl_name, shape, host = w.SCENARIOS[scenario]
    if side == "ours":
        from benchmarks.convert import to_instances, to_record
        from django_domainconnect.engine.caches import clear_caches
        from django_domainconnect.engine.plan import plan_apply
        from django_domainconnect.engine.template import parse_template

        template = parse_template(w.TEMPLATES[tpl_name]())
        recs = w.zone(size, shape)
        records = [to_record(r) for r in recs]
        instances = tuple(to_instances(recs, records))

        def one(_i: int) -> None:
            plan_apply(template, domain=w.DOMAIN, host=host, params=dict(w.PARAMS), zone=records,
                       instances=instances, new_instance_id="new-instance")
        before_each = clear_caches  # as engine.py: every plan the first of its kind
        copies: list[object] = []
    else:
        from domainconnectzone.DomainConnectImpl import DomainConnect

        from benchmarks.ref_runner import to_ref

        dc = DomainConnect(template=w.TEMPLATES[tpl_name]())
        base = [to_ref(r) for r in w.zone(size, shape)]
        copies = [copy.deepcopy(base) for _ in range(total + 1)]  # the reference marks its input: one copy per plan

        def one(i: int) -> None:
            dc.apply_template(copies[i], w.DOMAIN, host, dict(w.PARAMS), multi_aware=shape != "plain",
                              unique_id="new-instance")
        before_each = None  # nothing memoised to forget
    if before_each is not None:
        before_each()
    one(len(copies) - 1 if copies else 0)  # first call outside the count: imports, lazy set-up
    if cold:
        for i in range(plans):
            if before_each is not None:
                before_each()
            gc.collect()
            gc.freeze()  # as engine.py: the plan's own collections never walk the set-up
            functools.reduce(lambda _a, _b, i=i: one(i), (None, None))  # callgrind counts inside reduce only
            gc.unfreeze()
        return
    gc.disable()
    for i in range(plans):
        if before_each is not None:
            before_each()
        one(i)


def count(python: Path, side: str, scenario: int, size: int, plans: int, total: int) -> int:
    cmd = ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null", str(python),
           str(Path(__file__).resolve()), "--child", side, str(scenario), str(size), str(plans), str(total)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
    found = _IREFS.search(proc.stderr)
    if found is None:
        raise RuntimeError(f"no instruction count in valgrind's output:\n{proc.stderr[-2000:]}")
    return int(found.group(1).replace(",", ""))


def per_plan(python: Path, side: str, scenario: int, size: int, plans: int) -> float:
    counted = count(python, side, scenario, size, plans, plans)
    return (counted - count(python, side, scenario, size, 0, plans)) / plans


# callgrind's event names, and what --cold prints of them (sums of events)
_COLD_COLUMNS = {
    "instructions": ("Ir",),
    "I1 misses": ("I1mr",),
    "D1 misses": ("D1mr", "D1mw"),
    "LL misses": ("ILmr", "DLmr", "DLmw"),
    "mispredicted branches": ("Bcm", "Bim"),
}


def cold_counts(python: Path, side: str, scenario: int, size: int, plans: int) -> dict[str, float]:
    """Per plan, callgrind's cache and branch events counted while the plans run (``--cold``)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        cmd = ["valgrind", "--tool=callgrind", "--cache-sim=yes", "--branch-sim=yes", "--collect-atstart=no",
               "--toggle-collect=functools_reduce", f"--callgrind-out-file={out}", str(python),
               str(Path(__file__).resolve()), "--child-cold", side, str(scenario), str(size), str(plans)]
        subprocess.run(cmd, capture_output=True, text=True, check=True)
        return per_plan_events(out.read_text(), plans)


def per_plan_events(callgrind_out: str, plans: int) -> dict[str, float]:
    """``_COLD_COLUMNS`` from a callgrind output file's ``events:`` and ``totals:`` lines, divided by ``plans``."""
    lines = callgrind_out.splitlines()
    names = next(line.split()[1:] for line in lines if line.startswith("events:"))
    totals = next(line.split()[1:] for line in lines if line.startswith("totals:"))
    events = dict(zip(names, (int(v) for v in totals), strict=True))
    return {col: sum(events.get(e, 0) for e in parts) / plans for col, parts in _COLD_COLUMNS.items()}


def cold_report(ref_python: Path, wanted: set[tuple[str, ...]] | None, size: int, plans: int) -> None:
    print(f"Cache and branch events per plan on a {size:,}-record zone, each plan right after a full "
          f"collection ({plans} plans per run)")
    print("| template | zone | " + " | ".join(f"{c}: ours / reference" for c in _COLD_COLUMNS) + " |")
    print("|---|---|" + "---:|" * len(_COLD_COLUMNS))
    for scenario, (tpl_name, shape, _host) in enumerate(w.SCENARIOS):
        if wanted is not None and (tpl_name, shape) not in wanted:
            continue
        ours = cold_counts(Path(sys.executable), "ours", scenario, size, plans)
        ref = cold_counts(ref_python, "ref", scenario, size, plans)
        cells = []
        for c in _COLD_COLUMNS:
            ratio = f" ({ours[c] / ref[c]:.2f}x)" if min(ours[c], ref[c]) >= 1 else ""  # none below one per plan
            cells.append(f"{ours[c]:,.0f} / {ref[c]:,.0f}{ratio}")
        print(f"| {tpl_name} | {shape} | " + " | ".join(cells) + " |", flush=True)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]))
        return
    if len(sys.argv) > 1 and sys.argv[1] == "--child-cold":
        plans = int(sys.argv[5])
        child(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), plans, plans, cold=True)
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=10, help="zone size (records)")
    parser.add_argument("--plans", type=int, default=100, help="plans per counted run")
    parser.add_argument("--only", default=None, help="template/shape pairs, e.g. hosting5/plain,delegate/ns")
    parser.add_argument("--cold", action="store_true",
                        help="cache misses and mispredicted branches of plans run right after a collection")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (Debian: apt-get install valgrind)")
    from benchmarks.engine import ensure_ref_venv

    ref_python = ensure_ref_venv()
    wanted = None if args.only is None else {tuple(x.split("/", 1)) for x in args.only.split(",")}
    if args.cold:
        cold_report(ref_python, wanted, args.size, args.plans)
        return
    print(f"Instructions per plan on a {args.size:,}-record zone (whole zone given; {args.plans} plans per run)")
    print("| template | zone | ours | reference | reference / ours |")
    print("|---|---|---:|---:|---:|")
    for scenario, (tpl_name, shape, _host) in enumerate(w.SCENARIOS):
        if wanted is not None and (tpl_name, shape) not in wanted:
            continue
        ours = per_plan(Path(sys.executable), "ours", scenario, args.size, args.plans)
        ref = per_plan(ref_python, "ref", scenario, args.size, args.plans)
        print(f"| {tpl_name} | {shape} | {ours / 1e3:,.0f}k | {ref / 1e3:,.0f}k | {ref / ours:.2f}x |", flush=True)


if __name__ == "__main__":
    main()
