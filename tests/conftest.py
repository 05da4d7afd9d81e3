"""Shared fixtures: small seeded networks of family and general nodes, a damped two-area network,
:func:`run_main`, which runs the command line in this process, and :func:`run_folder`, which
reads a command-line run folder and fails unless it is complete.

BLAS threads: numpy and slycot each bring an OpenBLAS with its own thread pool; on a small
machine the two pools oversubscribe the cores and dense reductions slow down up to 10x.
Unless the caller chose a thread count (``OPENBLAS_NUM_THREADS``), the suite runs with one
BLAS thread, in this process (threadpoolctl) and in every subprocess it starts (the
environment). Results do not depend on it: the suite passes with any thread count.
"""

import json
import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, os.environ.get("OPENBLAS_NUM_THREADS", "1"))

import control
import networkx as nx
import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import gridcoherence as gc

threadpool_limits(int(os.environ["OPENBLAS_NUM_THREADS"]), user_api="blas")


def random_weighted_graph(n, seed, degree=4, rewire=0.3, weights=(1.0, 5.0)):
    """A connected Watts-Strogatz graph with uniform random edge weights."""
    rng = np.random.default_rng(seed)
    graph = nx.connected_watts_strogatz_graph(n, degree, rewire, seed=seed)
    for u, v in graph.edges:
        graph[u][v]["weight"] = rng.uniform(*weights)
    return graph


def random_family(n, seed, turbines_per_node=1):
    rng = np.random.default_rng(seed)
    shape = (n, turbines_per_node)
    return gc.SwingTurbineNodes(
        rng.uniform(0.05, 0.2, n), rng.uniform(0.01, 0.05, n),
        turbine_gain=rng.uniform(0.01, 0.05, shape), turbine_tau=rng.uniform(1.0, 10.0, shape),
    )


def random_lti_nodes(n, seed):
    """Stable, minimum-phase SISO nodes of orders 1 and 2, some with feedthrough."""
    rng = np.random.default_rng(seed)
    systems = []
    for i in range(n):
        a, b = rng.uniform(0.5, 3.0, 2)
        if i % 3 == 0:
            systems.append(control.tf([1.0], [1.0, a]))
        elif i % 3 == 1:
            systems.append(control.tf([1.0, b], [1.0, a + b, a * b + 1.0]))
        else:
            systems.append(control.tf([1.0, b], [1.0, a]))  # feedthrough node
    return gc.LTINodes(systems)


@pytest.fixture
def family_model():
    return gc.NetworkModel(random_family(12, 0, 2), random_weighted_graph(12, 1), "1/s")


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture(scope="module")
def damped():
    """Two tight triangles joined by weak ties, well damped (settles within ~30 s), and its k = 2 reduction."""
    nodes = gc.SwingTurbineNodes([0.10, 0.15, 0.12, 0.08, 0.20, 0.11], [0.3, 0.2, 0.4, 0.3, 0.25, 0.35],
                                 turbine_gain=[0.5, 0.6, 0.4, 0.5, 0.7, 0.45],
                                 turbine_tau=[2.0, 3.0, 2.5, 4.0, 1.5, 3.5])
    edges = [(0, 1, 20.0), (1, 2, 25.0), (0, 2, 18.0), (3, 4, 22.0), (4, 5, 19.0), (3, 5, 21.0),
             (2, 3, 0.8), (0, 5, 0.5)]
    model = gc.NetworkModel(nodes, edges, "1/s")
    return model, gc.structure_preserving_reduction(model, 2)


def run_main(args):
    """Exit code of ``gridcoherence ARGS`` run in this process (argparse errors exit)."""
    from gridcoherence import cli

    try:
        return cli.main([str(a) for a in args])
    except SystemExit as exc:
        return exc.code


def run_folder(path):
    """(command, {file: bytes}) of a complete run folder; fails on a partial or mixed one."""
    manifest = json.loads((path / "run.json").read_text())
    listed = {f["name"]: f["bytes"] for f in manifest["files"]}
    present = {p.name: p.stat().st_size for p in path.iterdir() if p.name != "run.json"}
    assert present == listed, f"{path} is not the complete run its manifest lists"
    return manifest["command"], listed
