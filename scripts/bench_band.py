"""Benchmark the band error at scale and the heterogeneous H-infinity sweep.

Usage::

    OPENBLAS_NUM_THREADS=1 python scripts/bench_band.py [--quick] [--out results]

Two parts, one BLAS thread, written as ``OUT/bench_band.json`` and printed:

* ``band_error`` -- :func:`gridcoherence.reduction.band.band_error` on SBMs of 10^3,
  10^4 and 10^5 nodes (``--quick``: 300 and 3,000): k = 10 equal blocks, expected degree
  30 (27 inside the block, 3 across), unit weights, random family nodes (heterogeneous
  machines), f = 1/s, reduced with k = 10 clusters; band |w| <= 1 rad/s. Recorded: the
  method ``auto`` picks, the error's kind ("exact" or "bounds"), sup_error and
  sup_error_upper, the peak frequency, frequencies evaluated and seconds. At the
  smallest size the exact (dense) value is recorded beside the bounds.
* ``hinf_sweep`` -- :func:`gridcoherence.report.errors.sampled_hinf` (the comparison
  table's sampled H-infinity column) of a k = 10 reduction per area, on synthetic grids
  of 10^3 and 10^4 heterogeneous machines (``--quick``: 600): one sparse LU of the
  n x n network matrix per frequency (the nodes are not equal per unit inertia, so there
  is no modal form, and none is computed).

The machine is shared, so the 1-, 5- and 15-minute load averages are recorded before
and after every case. Targets (band error of 10^5 nodes under 60 s, the sweep at 10^4
machines under 30 s) are facts of a run, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from gridcoherence import NetworkModel, structure_preserving_reduction
from gridcoherence._io import to_jsonable, write_json
from gridcoherence.cases.random_nodes import random_family_nodes
from gridcoherence.cases.sbm import sample_sbm
from gridcoherence.cases.synthetic import synthetic_grid
from gridcoherence.reduction.band import band_error
from gridcoherence.report import errors
from gridcoherence.report.responses import LiftedNetwork
from gridcoherence.studies.benchmarking import environment

CLUSTERS = 10
DEGREE_INSIDE, DEGREE_ACROSS = 27.0, 3.0
BAND_EDGE = 1.0
SIZES = {"full": {"band_error": [1_000, 10_000, 100_000], "hinf_sweep": [1_000, 10_000]},
         "quick": {"band_error": [300, 3_000], "hinf_sweep": [600]}}
TARGETS = {"band_error_1e5_seconds": 60.0, "hinf_sweep_1e4_seconds": 30.0}


def load():
    return dict(zip(("load_1min", "load_5min", "load_15min"), os.getloadavg()))


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - start


def sbm_model(n, seed=0):
    block = n // CLUSTERS
    Q = np.full((CLUSTERS, CLUSTERS), DEGREE_ACROSS / (n - block))
    np.fill_diagonal(Q, DEGREE_INSIDE / (block - 1))
    sample = sample_sbm([block] * CLUSTERS, Q, np.ones((CLUSTERS, CLUSTERS)), random_state=seed)
    return NetworkModel(random_family_nodes(sample.n, random_state=seed), sample.laplacian, "1/s")


def bench_band_error(n, with_exact):
    before = load()
    model = sbm_model(n)
    reduced, reduce_seconds = timed(structure_preserving_reduction, model, CLUSTERS, random_state=0)
    result, seconds = timed(band_error, reduced, BAND_EDGE)
    row = {"n": model.n, "k": CLUSTERS, "mean_degree": model.laplacian.nnz / model.n - 1.0,
           "reduce_seconds": reduce_seconds, "method": result.method, "kind": result.kind,
           "sup_error": result.sup_error, "sup_error_upper": result.sup_error_upper,
           "worst_frequency": result.worst_frequency, "frequencies": int(result.frequencies.size),
           "band_error_seconds": seconds, "load_before": before}
    if with_exact:
        bounds, bounds_seconds = timed(band_error, reduced, BAND_EDGE, method="bounds")
        row.update(bounds_sup_error=bounds.sup_error, bounds_sup_error_upper=bounds.sup_error_upper,
                   bounds_seconds=bounds_seconds)
        if result.kind == "exact":
            row["exact_sup_error"] = result.sup_error
    row["load_after"] = load()
    return row


def bench_hinf_sweep(n):
    before = load()
    grid = synthetic_grid(n, random_state=0)
    model = NetworkModel(random_family_nodes(n, random_state=0), grid.laplacian, "1/s")
    reduced = structure_preserving_reduction(model, CLUSTERS, random_state=0)
    u0 = np.zeros(n)
    u0[int(np.argmax(model.inertia))] = -1.0
    weights = model.center_of_inertia_weights([reduced.partition.members(c) for c in range(CLUSTERS)])
    reference = LiftedNetwork(model, u0, weights, "original")
    approximation = LiftedNetwork(reduced, u0, weights, "reduced")
    dc = reference.laurent[1] - approximation.laurent[1]
    sweep, seconds = timed(errors.sampled_hinf, reference, approximation, dc)
    return {"machines": n, "states": int(reference.order), "areas": CLUSTERS, "sweep_seconds": seconds,
            "hinf_error": sweep, "load_before": before, "load_after": load()}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="results", help="output folder (created if missing)")
    parser.add_argument("--quick", action="store_true", help="small sizes (well under 30 s)")
    args = parser.parse_args()
    sizes = SIZES["quick" if args.quick else "full"]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with threadpool_limits(1):
        band_rows = [bench_band_error(n, with_exact=(i == 0)) for i, n in enumerate(sizes["band_error"])]
        sweep_rows = [bench_hinf_sweep(n) for n in sizes["hinf_sweep"]]
    report = {"benchmark": "band_error_and_hinf_sweep", "quick": args.quick, "environment": environment(),
              "targets": TARGETS, "band_error": band_rows, "hinf_sweep": sweep_rows}
    write_json(out / "bench_band.json", report)
    print(json.dumps(to_jsonable(report), indent=1))


if __name__ == "__main__":
    main()
