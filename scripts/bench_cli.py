"""Benchmark: ``gridcoherence reduce`` end to end on large cases, as a user runs it (JSON output).

Each command runs in a fresh process (``python -m gridcoherence.cli``), one BLAS thread,
writing its run folder into a temporary directory: load, power flow, choice of k (with
``--tolerance``), reduction, comparison table, plots and the run report. Reported per
command: wall time, exit code, the chosen k and the load average before and after (the
machine may be shared).

Usage::

    python scripts/bench_cli.py [--quick] [--out bench_cli.json]

``--quick`` runs the commands on pandapower:case118 instead of case9241pegase.
Targets: case9241pegase with ``--tolerance 0.1`` under 60 s, with ``--clusters 10
--order 3`` under 30 s.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from gridcoherence._io import write_json

COMMANDS = {
    "tolerance 0.1": ["--tolerance", "0.1"],
    "k = 10, order 3": ["--clusters", "10", "--order", "3"],
}
TARGETS_S = {"tolerance 0.1": 60.0, "k = 10, order 3": 30.0}


def run(case, options, folder):
    """Wall time, exit code and chosen k of one ``reduce`` command."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    out = Path(folder) / "run"
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    process = subprocess.run([sys.executable, "-m", "gridcoherence.cli", "reduce", case, *options, "-q",
                              "--out", str(out)], env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    record = {"command": f"gridcoherence reduce {case} {' '.join(options)} -q --out DIR",
              "seconds": seconds, "returncode": process.returncode,
              "load_average_before": load_before, "load_average_after": os.getloadavg()[0]}
    summary = out / "reduction_summary.json"
    if process.returncode == 0 and summary.exists():
        record["k"] = len(json.loads(summary.read_text())["clusters"])
    else:
        record["stderr"] = process.stderr[-2000:]
    return record


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="case118 instead of case9241pegase")
    parser.add_argument("--out", default=None, help="also write the JSON here")
    args = parser.parse_args(argv)
    case = "pandapower:case118" if args.quick else "pandapower:case9241pegase"
    results = {"case": case, "cpu_count": os.cpu_count(), "targets_s": TARGETS_S, "runs": {}}
    for label, options in COMMANDS.items():
        with tempfile.TemporaryDirectory() as folder:
            results["runs"][label] = run(case, options, folder)
    print(json.dumps(results, indent=2))
    if args.out:
        write_json(args.out, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
