"""Times the reference engine (``domainconnectzone`` 4.0.0) on the workloads of ``workloads.py``.

Runs inside ``benchmarks/.venv-ref`` (the reference pins dnspython 1.x, which cannot share a virtualenv
with our engine). ``engine.py`` starts it as a subprocess; it prints one JSON object per measured case.

    benchmarks/.venv-ref/bin/python benchmarks/ref_runner.py [--budget SECONDS] [--sizes 10,1000]
"""

from __future__ import annotations

import argparse
import copy
import gc
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
# Run as a script, this folder would come first on sys.path and benchmarks/http.py would shadow the
# standard library's http package (which requests, imported by the reference, needs).
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))

from benchmarks import workloads as w  # noqa: E402  (path set just above: this runs outside our package)


def to_ref(rec: w.Rec) -> dict[str, Any]:
    name, rtype, ttl, data, owner = rec
    out: dict[str, Any] = {"name": name, "type": rtype, "ttl": ttl, "data": data}
    if rtype == "MX":
        prio, target = data.split(" ", 1)
        out["priority"] = int(prio)
        out["data"] = target
    if owner is not None:
        out["_dc"] = {"id": owner[0], "providerId": owner[1], "serviceId": owner[2], "host": owner[3],
                      "essential": owner[4]}
    return out


def predicted(history: list[tuple[int, float]], size: int) -> float:
    """Extrapolates the next time from the last two sizes (exponent at least 1: never optimistic)."""
    if not history:
        return 0.0
    if len(history) == 1:
        n, t = history[0]
        return t * size / n
    (n1, t1), (n2, t2) = history[-2], history[-1]
    exp = max(1.0, math.log(max(t2, 1e-9) / max(t1, 1e-9)) / math.log(n2 / n1))
    return t2 * (size / n2) ** exp


def main() -> None:
    from domainconnectzone.DomainConnectImpl import DomainConnect

    parser = argparse.ArgumentParser()
    parser.add_argument("--budget", type=float, default=30.0, help="skip a case predicted to take longer")
    parser.add_argument("--sizes", default=",".join(str(s) for s in w.SIZES))
    parser.add_argument("--scenarios", default=None, help="indexes into workloads.SCENARIOS (default: all)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    chosen = range(len(w.SCENARIOS)) if args.scenarios is None else [int(i) for i in args.scenarios.split(",")]

    for tpl_name, shape, host in (w.SCENARIOS[i] for i in chosen):
        template = w.TEMPLATES[tpl_name]()
        history: list[tuple[int, float]] = []
        for size in sizes:
            guess = predicted(history, size)
            if guess > args.budget:
                print(json.dumps({"template": tpl_name, "shape": shape, "size": size, "skipped": True,
                                  "predicted": guess}), flush=True)
                continue
            base = [to_ref(r) for r in w.zone(size, shape)]
            dc = DomainConnect(template=template)
            times: list[float] = []
            result: tuple[Any, Any, Any] = ([], [], [])
            for _ in range(w.reps_for(size)):
                records = copy.deepcopy(base)  # the reference marks the caller's dicts; copy outside the clock
                result = ([], [], [])
                gc.collect()  # as engine.py: the collector sees only what the plan itself allocates
                gc.freeze()
                start = time.perf_counter()
                result = dc.apply_template(records, w.DOMAIN, host, dict(w.PARAMS), multi_aware=shape != "plain",
                                           unique_id="new-instance")
                times.append(time.perf_counter() - start)
                gc.unfreeze()
            per_plan = min(times)  # best of the repetitions: the least disturbed by other load
            history.append((size, per_plan))
            new, deleted, _final = result
            print(json.dumps({"template": tpl_name, "shape": shape, "size": size, "seconds": per_plan,
                              "reps": len(times), "add": len(new), "delete": len(deleted)}), flush=True)


if __name__ == "__main__":
    main()
