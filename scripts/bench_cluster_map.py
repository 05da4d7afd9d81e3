"""Benchmark: the cluster map of a reduction, at bus coordinates and at spectral coordinates (JSON output).

For each case: ``load_s`` (``load_case``), ``reduce_s`` (the structure-preserving
reduction to k areas), and the time of :func:`gridcoherence.report.plots.plot_cluster_map`
written to a PNG, once at the case's bus coordinates (``geodata_map_s``, when the case has
them) and once at the spectral coordinates of the machine graph (``spectral_map_s``),
with the number of edges drawn of all edges.

Usage::

    OPENBLAS_NUM_THREADS=1 python scripts/bench_cluster_map.py [--quick] [--out bench.json]

``--quick`` skips case9241pegase (1444 machines). Target: each map of case9241pegase
under 5 s (a spring layout of its dense Kron-reduced graph took over two minutes).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from gridcoherence._io import write_json
from gridcoherence.cases.loader import load_case
from gridcoherence.reduction.pipeline import reduce_network
from gridcoherence.report.plots import plot_cluster_map


def bench(name, k):
    t0 = time.perf_counter()
    case = load_case(name)
    t1 = time.perf_counter()
    labels = reduce_network(case.model, k).labels
    t2 = time.perf_counter()
    model = case.model
    record = {"case": name, "machines": model.n, "edges": model.n_edges, "k": k,
              "load_s": t1 - t0, "reduce_s": t2 - t1}
    coordinates = case.metadata.details.get("coordinates")
    with tempfile.TemporaryDirectory() as folder:
        for key, xy in (("geodata_map_s", coordinates), ("spectral_map_s", None)):
            if key == "geodata_map_s" and xy is None:
                record[key] = None
                continue
            start = time.perf_counter()
            figure = plot_cluster_map(model.laplacian, labels, coordinates=xy, node_names=model.node_names,
                                      path=Path(folder) / "map.png")
            record[key] = time.perf_counter() - start
            record["edges_drawn"] = len(figure.axes[0].collections[0].get_segments())
    return record


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", help="also write the JSON to this file")
    args = parser.parse_args(argv)
    runs = [("iceland", 3), ("pandapower:case39", 3), ("pandapower:case1354pegase", 8)]
    if not args.quick:
        runs.append(("pandapower:case9241pegase", 12))
    report = {"benchmark": "cluster_map", "quick": args.quick, "targets_s": {"pandapower:case9241pegase": 5.0},
              "results": [bench(name, k) for name, k in runs]}
    print(json.dumps(report, indent=2))
    if args.out:
        write_json(args.out, report)


if __name__ == "__main__":
    main()
