"""Benchmark of the learning-dynamics simulators; prints JSON to stdout.

1. Gradient flow (adaptive DOP853, rtol 1e-10, atol 1e-12) of a two-layer linear network of width
   h = 10,000 (E3 data: N = 10, n = 40, m = 3, N(0, 1/h) init) until L - L* <= 1e-10.
2. The Fig. 2-5 width sweep (gradient descent, 5 runs per width up to h = 10,000).

Each case reports wall time and peak traced memory (tracemalloc), with BLAS limited to one
thread. ``--quick`` shrinks both cases so the benchmark runs in seconds.
"""

import argparse
import json
import resource
import sys
import tempfile
import time
import tracemalloc

import numpy as np
from threadpoolctl import threadpool_limits

from gridcoherence.learning.defaults import GF_ATOL, GF_RTOL
from gridcoherence.learning.experiments import fig2_5
from gridcoherence.learning.flow import integrate_gradient_flow
from gridcoherence.learning.linear2 import TwoLayerLinearRegression, random_wide_init


def measure(function):
    tracemalloc.start()
    start = time.perf_counter()
    result = function()
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return result, {"seconds": round(seconds, 3), "peak_traced_mb": round(peak / 2**20, 1)}


def wide_flow(h):
    rng = np.random.default_rng(0)
    N, n, m = 10, 40, 3
    model = TwoLayerLinearRegression(rng.normal(size=(N, n)) / np.sqrt(n), rng.normal(size=(N, m)))
    params = random_wide_init(n, m, h, 0.5, random_state=rng)
    traj = integrate_gradient_flow(model, params, t_max=1e4, t_eval=[0.0], rtol=GF_RTOL, atol=GF_ATOL,
                                   stop_excess=1e-10)
    return {"h": h, "solver_steps": traj.n_steps, "final_time": traj.times[-1],
            "final_excess_loss": traj.excess_loss[-1], "reached": traj.reached_tolerance}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes (seconds)")
    args = parser.parse_args(argv)
    report = {"quick": args.quick, "python": sys.version.split()[0], "numpy": np.__version__}
    with threadpool_limits(1):
        flow, cost = measure(lambda: wide_flow(2000 if args.quick else 10_000))
        report["gradient_flow_two_layer"] = {**flow, **cost}
        with tempfile.TemporaryDirectory() as out:
            sweep, cost = measure(lambda: fig2_5(out, quick=args.quick))
        report["fig2_5_width_sweep"] = {"widths": list(sweep["widths"]), "runs": sweep["settings"]["runs"],
                                        "loglog_slope": round(sweep["loglog_slope"], 4), **cost}
    report["max_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(report, indent=2, default=float))


if __name__ == "__main__":
    main()
