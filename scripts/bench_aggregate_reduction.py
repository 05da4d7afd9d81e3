"""Benchmark: "cl" reduction (order 3, default weight) of large turbine aggregates.

Times and peak traced memory of the structured path (arrow matrix + rational Krylov
gramians), the dense SLICOT path, and python-control ``balred`` (unweighted, dense) at
the sizes they can do; and the agreement of the structured and dense reduced models.
Prints JSON (and writes it with ``--out``). Run with OPENBLAS_NUM_THREADS=1.
"""

import argparse
import json
import time
import tracemalloc
from pathlib import Path

import control
import numpy as np
from threadpoolctl import threadpool_limits

from gridcoherence._io import to_jsonable, write_json
from gridcoherence.reduction.machines import closed_loop_system, reduce_aggregate
from gridcoherence.models.nodes import SwingTurbineNodes


def random_aggregate(p, seed=0):
    """One-node aggregate with p distinct turbines (tau in [2, 10] s, total droop 0.1157)."""
    rng = np.random.default_rng(seed)
    gain = rng.uniform(0.5, 1.5, p) * 0.1157 / p
    return SwingTurbineNodes([0.0683], [0.0107], turbine_gain=gain, turbine_tau=rng.uniform(2.0, 10.0, p),
                             turbine_node=np.zeros(p, dtype=np.int64))


def measure(function):
    """(result, seconds, peak traced MiB) of one call."""
    tracemalloc.start()
    start = time.perf_counter()
    result = function()
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return result, seconds, peak


def model_difference(a, b):
    """max_w |a - b| / max_w |b| on 200 log-spaced frequencies in [1e-4, 1e2] rad/s."""
    s = 1j * np.logspace(-4, 2, 200)
    ya, yb = a(s).ravel(), b(s).ravel()
    return float(np.abs(ya - yb).max() / np.abs(yb).max())


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, runs in seconds")
    parser.add_argument("--out", default=None, help="folder for bench_aggregate_reduction.json")
    args = parser.parse_args()
    sizes = [10, 1_000, 10_000] if args.quick else [10, 1_000, 10_000, 100_000]
    dense_max = 300 if args.quick else 2_000
    balred_max = 100 if args.quick else 1_000
    compare_at = 300 if args.quick else 2_000
    rows = []
    with threadpool_limits(1):
        for p in sorted(set(sizes + [compare_at])):
            aggregate = random_aggregate(p)
            row = {"turbines": p}
            fast, row["structured_s"], row["structured_MiB"] = measure(
                lambda: reduce_aggregate(aggregate, 3, "cl", structured=True))
            if p <= dense_max:
                dense, row["dense_s"], row["dense_MiB"] = measure(
                    lambda: reduce_aggregate(aggregate, 3, "cl", structured=False))
                row["speedup"] = row["dense_s"] / row["structured_s"]
                row["model_difference"] = model_difference(fast.system, dense.system)
            if p <= balred_max:
                full = closed_loop_system(aggregate)
                _, row["balred_unweighted_s"], row["balred_MiB"] = measure(lambda: control.balred(full, 3))
            rows.append(row)
            print(json.dumps(to_jsonable(row)), flush=True)
    result = {"threads": 1, "order": 3, "method": "cl", "rows": rows}
    print(json.dumps(to_jsonable(result), indent=2))
    if args.out:
        Path(args.out).mkdir(parents=True, exist_ok=True)
        write_json(Path(args.out) / "bench_aggregate_reduction.json", result)


if __name__ == "__main__":
    main()
