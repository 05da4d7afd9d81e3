"""Shared fixtures: small seeded networks of family and general nodes."""

import control
import networkx as nx
import numpy as np
import pytest

import gridcoherence as gc


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
