"""Bad input gives specific errors that name the problem."""

import control
import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

import gridcoherence as gc


def path_laplacian(n):
    return gc.build_laplacian([(i, i + 1) for i in range(n - 1)])


@pytest.mark.parametrize("kwargs, message", [
    ({"m": [1.0, -1.0], "d": [0.1, 0.1]}, r"m \(inertia\) must be > 0.*node 1"),
    ({"m": [1.0, 0.0], "d": [0.1, 0.1]}, r"node 1"),
    ({"m": [1.0, 1.0], "d": [0.1, -0.2]}, r"d \(damping\) must be >= 0.*node 1"),
    ({"m": [1.0, np.nan], "d": [0.1, 0.1]}, r"m \(inertia\) has a non-finite value.*index 1"),
    ({"m": [1.0, 1.0], "d": [0.1, np.inf]}, r"d \(damping\) has a non-finite"),
    ({"m": [1.0, 1.0], "d": [0.1, 0.1, 0.1]}, r"d \(damping\) must have length 2"),
    ({"m": [[1.0, 1.0]], "d": [0.1]}, r"must be a 1-D array"),
    ({"m": [1.0, 1.0], "d": [0.1, 0.1], "turbine_gain": [0.1, -0.1], "turbine_tau": [1.0, 1.0]},
     r"turbine_gain must be >= 0; node 1"),
    ({"m": [1.0, 1.0], "d": [0.1, 0.1], "turbine_gain": [0.1, 0.1], "turbine_tau": [1.0, 0.0]},
     r"turbine_tau must be > 0; node 1"),
    ({"m": [1.0, 1.0], "d": [0.1, 0.1], "turbine_gain": [0.1, 0.1]}, r"given together"),
    ({"m": [1.0, 1.0], "d": [0.1, 0.1], "turbine_gain": [0.1, 0.1, 0.1], "turbine_tau": [1.0, 1.0, 1.0]},
     r"turbine_gain must have shape"),
])
def test_family_parameter_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        gc.SwingTurbineNodes(**kwargs)


def test_improper_and_bad_lti_nodes():
    with pytest.raises(ValueError, match=r"node 1 is improper"):
        gc.LTINodes([control.tf([1.0], [1.0, 1.0]), control.tf([1.0, 0.0, 1.0], [1.0, 1.0])])
    with pytest.raises(ValueError, match=r"node 0 must be SISO"):
        gc.LTINodes([control.ss(-np.eye(2), np.eye(2), np.eye(2), 0)])
    with pytest.raises(ValueError, match=r"continuous-time"):
        gc.LTINodes([control.tf([1.0], [1.0, 0.5], 0.1)])
    with pytest.raises(ValueError, match=r"identically zero"):
        gc.LTINodes([control.tf([0.0], [1.0, 1.0])])
    with pytest.raises(TypeError, match=r"TransferFunction or StateSpace"):
        gc.LTINodes(["1/(s+1)"])


def test_laplacian_errors():
    with pytest.raises(ValueError, match=r"must be square"):
        gc.validate_laplacian(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"not symmetric: L\[0,1\]"):
        gc.validate_laplacian(np.array([[1.0, -1.0], [-2.0, 2.0]]))
    with pytest.raises(ValueError, match=r"row 0 sums to"):
        gc.validate_laplacian(np.array([[2.0, -1.0], [-1.0, 1.0]]))
    with pytest.raises(ValueError, match=r"non-finite entry in row 1"):
        gc.validate_laplacian(sp.csr_matrix(np.array([[1.0, -1.0], [-1.0, np.nan]])))
    with pytest.raises(ValueError, match=r"positive off-diagonal entry L\[0,1\]"):
        gc.validate_laplacian(np.array([[-1.0, 1.0], [1.0, -1.0]]))


def test_disconnected_graph_names_components():
    graph = nx.Graph([(0, 1), (1, 2), (3, 4)])
    with pytest.raises(gc.DisconnectedNetworkError, match=r"2 components.*\[0, 1, 2\].*\[3, 4\]") as info:
        gc.build_laplacian(graph)
    assert [c.tolist() for c in info.value.components] == [[0, 1, 2], [3, 4]]
    L = gc.build_laplacian(graph, allow_disconnected=True)
    assert L.shape == (5, 5)


def test_network_model_shape_and_coupling_errors():
    nodes = gc.SwingTurbineNodes(np.ones(3), np.full(3, 0.1))
    with pytest.raises(ValueError, match=r"Laplacian has 4 nodes but 3 node models"):
        gc.NetworkModel(nodes, path_laplacian(4))
    with pytest.raises(ValueError, match=r"unknown coupling '1/s\^2'"):
        gc.NetworkModel(nodes, path_laplacian(3), "1/s^2")
    with pytest.raises(ValueError, match=r"coupling f\(s\) is improper"):
        gc.NetworkModel(nodes, path_laplacian(3), control.tf([1.0, 0.0], [1.0]))
    with pytest.raises(ValueError, match=r"an edge refers to node 5 but n = 3"):
        gc.NetworkModel(nodes, [(0, 1), (1, 5)])
    model = gc.NetworkModel(nodes, path_laplacian(3))
    with pytest.raises(ValueError, match=r"u0 must have length n = 3"):
        model.response([1.0, 0.0], "step", np.linspace(0, 1, 11))
    with pytest.raises(IndexError, match=r"disturbed node 7"):
        model.response(7, "step", np.linspace(0, 1, 11))
    with pytest.raises(ValueError, match=r"uniformly spaced"):
        model.response(0, "step", [0.0, 0.1, 0.5])
    with pytest.raises(ValueError, match=r"u0 has a non-finite value"):
        model.response([np.nan, 0, 0], "step", np.linspace(0, 1, 11))
    with pytest.raises(ZeroDivisionError, match=r"f\(s\) = 1/s has a pole"):
        model.transfer_matrix(0.0)
    with pytest.raises(ValueError, match=r"s has a non-finite value"):
        model.transfer_matrix([1j, np.nan])
