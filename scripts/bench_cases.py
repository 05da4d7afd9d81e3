"""Benchmark: load-to-model time and peak memory of representative cases (JSON output).

Each case is loaded in a fresh subprocess so that peak memory (ru_maxrss) and the one-off
import cost are measured per case. Reported per case: ``import_s`` (importing
gridcoherence and pandapower), ``load_s`` (``load_case`` to a ready NetworkModel: network
construction, power flow, Kron reduction, node parameters), ``peak_rss_mb`` of the
process, and the model size.

Usage::

    OPENBLAS_NUM_THREADS=1 python scripts/bench_cases.py [--quick] [--out bench.json]

``--quick`` skips case9241pegase and uses an SBM of 10^5 instead of 10^6 nodes.
Targets: iceland under 2 s, case9241pegase under 30 s.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

from gridcoherence._io import write_json

_CHILD = """
import json, resource, sys, time
t0 = time.perf_counter()
import gridcoherence.cases.loader as cases
import pandapower
t1 = time.perf_counter()
name, options = sys.argv[1], json.loads(sys.argv[2])
case = cases.load_case(name, **options)
t2 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "load_s": t2 - t1,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "n": case.model.n, "edges": case.model.n_edges}))
"""


def bench(name, options=None):
    """Load ``name`` with ``options`` in a fresh interpreter; the child's JSON record."""
    result = subprocess.run([sys.executable, "-c", _CHILD, name, json.dumps(options or {})],
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        return {"case": name, "options": options or {}, "error": result.stderr.strip().splitlines()[-1]}
    record = json.loads(result.stdout.strip().splitlines()[-1])
    return {"case": name, "options": options or {}, **record}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", help="also write the JSON to this file")
    args = parser.parse_args(argv)
    sbm_scale = 1250 if args.quick else 12500   # n = 80 * scale: 10^5 or 10^6 nodes
    runs = [("iceland", None), ("nets_nyps68", None),
            ("sbm3", {"scale": sbm_scale, "keep_degree": True})]
    if not args.quick:
        runs.insert(2, ("pandapower:case9241pegase", None))
    report = {"benchmark": "load_case", "quick": args.quick,
              "targets_s": {"iceland": 2.0, "pandapower:case9241pegase": 30.0},
              "results": [bench(name, options) for name, options in runs]}
    print(json.dumps(report, indent=2))
    if args.out:
        write_json(args.out, report)


if __name__ == "__main__":
    main()
