"""CPU instructions per plan, ours next to the reference engine, counted by valgrind (no timing noise).

    .venv/bin/python benchmarks/instructions.py [--size 10] [--plans 100] [--only hosting5/plain,delegate/ns]

Wall-clock times of a 0.1 ms plan move by tens of percent on a shared virtual machine; the number of
instructions executed does not. For each scenario of ``workloads.SCENARIOS`` this runs, under
``valgrind --tool=cachegrind``, a child process that plans ``--plans`` times on a zone of ``--size``
records (ours given the whole zone, with the engine's memo caches emptied before each plan, as
``engine.py`` does; the reference in ``benchmarks/.venv-ref`` on fresh copies made beforehand), and once
more with no plan; the difference divided by ``--plans`` is the cost of one plan. Needs ``valgrind`` on
the PATH (Debian: ``apt-get install valgrind``).
"""

from __future__ import annotations

import argparse
import copy
import gc
import re
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]  # benchmarks/http.py shadows http
sys.path.insert(0, str(HERE.parent))

from benchmarks import workloads as w  # noqa: E402

_IREFS = re.compile(r"I\s+refs:\s+([\d,]+)")


def child(side: str, scenario: int, size: int, plans: int, total: int) -> None:
    """The measured process: set up (the same for every ``plans``), then ``plans`` plans with the collector off."""
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
            clear_caches()
            plan_apply(template, domain=w.DOMAIN, host=host, params=dict(w.PARAMS), zone=records,
                       instances=instances, new_instance_id="new-instance")
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
    one(len(copies) - 1 if copies else 0)  # first call outside the count: imports, lazy set-up
    gc.disable()
    for i in range(plans):
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


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=10, help="zone size (records)")
    parser.add_argument("--plans", type=int, default=100, help="plans per counted run")
    parser.add_argument("--only", default=None, help="template/shape pairs, e.g. hosting5/plain,delegate/ns")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (Debian: apt-get install valgrind)")
    from benchmarks.engine import ensure_ref_venv

    ref_python = ensure_ref_venv()
    wanted = None if args.only is None else {tuple(x.split("/", 1)) for x in args.only.split(",")}
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
