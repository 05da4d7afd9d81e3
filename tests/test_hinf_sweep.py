"""The H-infinity sweep of large networks: the modal form only where the nodes are equal per unit inertia."""

import numpy as np
import gridcoherence as gc
from gridcoherence.cases.random_nodes import random_family_nodes
from gridcoherence.cases.synthetic import synthetic_grid
from gridcoherence.report.responses import LiftedNetwork


def test_nodes_equal_per_inertia_keep_the_modal_path():
    """Uniform per-inertia nodes get the modal form; heterogeneous ones no O(n^3) eigendecomposition in vain."""
    n = 600
    m = np.linspace(2.0, 8.0, n)
    nodes = gc.SwingTurbineNodes(m=m, d=0.5 * m)
    model = gc.NetworkModel(nodes, synthetic_grid(n, random_state=2).laplacian, "1/s")
    u0 = np.zeros(n)
    u0[0] = 1.0
    network = LiftedNetwork(model, u0, model.center_of_inertia_weights([np.arange(n)]), "uniform")
    assert network._modal is not None
    w = np.logspace(-2, 1, 5)
    np.testing.assert_allclose(network.frequency_response(w)[:, 0],
                               [np.sum(model.transfer_matrix(1j * wk, columns=[0])[:, 0] * m) / m.sum() for wk in w],
                               rtol=1e-9)
    heterogeneous = gc.NetworkModel(random_family_nodes(n, random_state=2), model.laplacian, "1/s")
    mixed = LiftedNetwork(heterogeneous, u0, heterogeneous.center_of_inertia_weights([np.arange(n)]), "mixed")
    assert mixed._modal is None
    np.testing.assert_allclose(mixed.frequency_response([0.5])[0, 0],
                               heterogeneous.center_of_inertia_weights([np.arange(n)])
                               @ heterogeneous.transfer_matrix(0.5j, columns=[0])[:, 0], rtol=1e-9)
