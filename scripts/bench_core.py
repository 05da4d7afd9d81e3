"""Benchmark of the core package, printing one JSON document.

Cases (each in its own process, one BLAS thread):
* ``transfer_column``: one column of T(jw) (every node's response to a disturbance at
  one node) of a synthetic sparse grid at 100 frequencies;
* ``aggregate``: the coherent aggregate of N family nodes (one turbine each, distinct
  time constants) built and evaluated at 1,000 frequencies;
* ``step_response``: 30 s step response of a network of M machines with two turbines
  each (4 states per machine: angle, frequency, two turbine powers).
Sizes in the default run: 100,000 nodes, 1,000,000 nodes and 10,000 machines, plus
smaller sizes to fit the growth exponent. ``--quick`` runs tiny sizes only.

Usage: python scripts/bench_core.py [--quick] > bench_core.json
"""

import argparse
import json
import sys

import numpy as np

from gridcoherence.studies.benchmarking import environment, measure


def network(n, turbines_per_node, seed=0):
    import gridcoherence as gc
    from gridcoherence.cases.synthetic import synthetic_grid

    rng = np.random.default_rng(seed)
    shape = (n, turbines_per_node)
    nodes = gc.SwingTurbineNodes(
        rng.uniform(0.02, 0.2, n), rng.uniform(0.005, 0.05, n),
        turbine_gain=rng.uniform(0.01, 0.05, shape), turbine_tau=rng.uniform(1.0, 10.0, shape),
    )
    return gc.NetworkModel(nodes, synthetic_grid(n, random_state=seed).laplacian, "1/s")


def transfer_column(n, n_freq=100):
    model = network(n, 1)
    import time

    start = time.perf_counter()
    column = model.transfer_matrix(1j * np.logspace(-2, 1, n_freq), columns=[0])
    seconds = time.perf_counter() - start
    return {"n": n, "edges": model.n_edges, "frequencies": n_freq, "solve_seconds": seconds,
            "finite": bool(np.all(np.isfinite(column)))}


def aggregate(n, n_freq=1000):
    import gridcoherence as gc

    rng = np.random.default_rng(1)
    nodes = gc.SwingTurbineNodes(rng.uniform(0.02, 0.2, n), rng.uniform(0.005, 0.05, n),
                                 turbine_gain=rng.uniform(0.01, 0.05, n),
                                 turbine_tau=rng.uniform(1.0, 10.0, n))
    s = 1j * np.logspace(-3, 2, n_freq)
    agg = gc.coherent_aggregate(nodes)
    values = agg.transfer(s)[:, 0]
    # Cross-check at a few frequencies against the direct harmonic mean.
    check = np.abs(values[::250] - gc.harmonic_mean(nodes, s[::250]) / n).max() / np.abs(values).max()
    return {"n": n, "distinct_turbines": agg.n_turbines, "frequencies": n_freq,
            "max_rel_error_vs_harmonic_mean": float(check)}


def step_response(machines, horizon=30.0, n_t=3001):
    model = network(machines, 2, seed=2)
    response = model.response(0, "step", np.linspace(0.0, horizon, n_t))
    return {"machines": machines, "states": model.realization().n_states,
            "time_points": n_t, "balanced_norm": response.info["balanced_norm"],
            "finite": bool(np.all(np.isfinite(response.y)))}


def fitted_exponent(sizes, seconds):
    """Slope of log(time) against log(size) over the measured sizes."""
    if len(sizes) < 2:
        return None
    return float(np.polyfit(np.log(sizes), np.log(seconds), 1)[0])


def run_series(fn, sizes, size_key):
    rows = []
    for size in sizes:
        outcome = measure(fn, size)
        if outcome["error"]:
            rows.append({size_key: size, "error": outcome["error"]})
            continue
        rows.append({**outcome["result"], "seconds": round(outcome["seconds"], 3),
                     "peak_rss_mb": round(outcome["peak_rss_mb"], 1)})
    good = [r for r in rows if "error" not in r]
    return {"runs": rows,
            "time_exponent": fitted_exponent([r[size_key] for r in good], [r["seconds"] for r in good])}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (CI smoke run)")
    args = parser.parse_args(argv)
    if args.quick:
        sizes = {"transfer": [1000, 4000], "aggregate": [10_000, 40_000], "step": [100, 400]}
    else:
        sizes = {"transfer": [10_000, 30_000, 100_000], "aggregate": [100_000, 300_000, 1_000_000],
                 "step": [1000, 3000, 10_000]}
    report = {
        "benchmark": "core",
        "environment": environment(),
        "transfer_column": run_series(transfer_column, sizes["transfer"], "n"),
        "aggregate": run_series(aggregate, sizes["aggregate"], "n"),
        "step_response": run_series(step_response, sizes["step"], "machines"),
    }
    json.dump(report, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
