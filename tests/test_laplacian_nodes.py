"""Laplacian spectra by every eigen method; passivity and positive-realness reports."""

import control
import numpy as np
import pytest
import scipy.linalg as sla
import scipy.sparse as sp

import gridcoherence as gc
from gridcoherence.cases.sbm import sample_sbm
from gridcoherence.cases.synthetic import synthetic_grid
from gridcoherence.models.laplacian import laplacian_components


@pytest.mark.parametrize("method, laplacian", [
    ("shift-invert", synthetic_grid(800, random_state=1).laplacian),
    ("amg", sample_sbm([200, 300, 200], np.full((3, 3), 0.01) + np.eye(3) * 0.2,
                          np.ones((3, 3)), random_state=2).laplacian),
])
def test_sparse_eigenpairs_match_dense(method, laplacian):
    k = 4
    dense_values, _ = sla.eigh(laplacian.toarray(), subset_by_index=[0, k - 1])
    spectrum = gc.smallest_eigenpairs(laplacian, k, method=method)
    assert spectrum.method == method
    np.testing.assert_allclose(spectrum.values, dense_values, rtol=1e-6, atol=1e-9)
    V = spectrum.vectors
    np.testing.assert_allclose(V.T @ V, np.eye(k), atol=1e-6)
    residual = laplacian @ V - V * spectrum.values
    assert np.abs(residual).max() < 1e-4 * max(1.0, spectrum.values[-1])
    np.testing.assert_allclose(V[:, 0], 1 / np.sqrt(laplacian.shape[0]), rtol=1e-6)


def test_algebraic_connectivity_path_graph():
    n = 10
    L = gc.build_laplacian([(i, i + 1) for i in range(n - 1)])
    assert gc.algebraic_connectivity(L) == pytest.approx(2 - 2 * np.cos(np.pi / n), rel=1e-12)


def test_family_passivity_index_is_damping():
    nodes = gc.SwingTurbineNodes([0.1, 0.2], [0.03, 0.0], turbine_gain=[0.1, 0.1], turbine_tau=[2.0, 3.0])
    report = nodes.passivity()
    np.testing.assert_allclose(report.epsilon, [0.03, 0.0])
    assert report.exact.all() and not report.all_strictly_passive
    # Grid evidence: Re g^{-1}(s) >= d on the closed right half plane.
    s = np.concatenate([1j * np.logspace(-3, 3, 200), 0.5 + 1j * np.logspace(-3, 3, 200)])
    assert np.all(nodes.inverse_transfer(s).real >= nodes.d - 1e-15)


def test_lti_passivity_decided_only_for_minimum_phase_stable_nodes():
    nodes = gc.LTINodes([
        control.tf([1.0], [1.0, 2.0]),          # 1/(s+2): Re g^{-1} = 2, OSP with eps 2
        control.tf([1.0, -1.0], [1.0, 3.0, 2.0]),  # RHP zero: undecided
        control.tf([1.0], [1.0, 0.0]),          # integrator: Re g^{-1}(jw) = 0
    ])
    report = nodes.passivity()
    assert report.decided.tolist() == [True, False, False]
    assert report.epsilon[0] == pytest.approx(2.0)


def test_coupling_positive_realness():
    assert gc.Coupling.integrator().is_positive_real()
    assert gc.Coupling.unity().is_positive_real()
    assert gc.Coupling.from_lti(control.tf([1.0, 2.0], [1.0, 1.0])).is_positive_real()
    assert not gc.Coupling.from_lti(control.tf([1.0], [1.0, 1.0, 1.0])).is_positive_real()
    assert not gc.Coupling.from_lti(control.tf([1.0], [1.0, -1.0])).is_positive_real()
    # Re f(jw) = 0 on the axis, but the residue at the imaginary-axis pole must be positive.
    assert not gc.Coupling([-1.0], [1.0, 0.0]).is_positive_real()
    assert not gc.Coupling([-1.0, 0.0], [1.0, 0.0, 4.0]).is_positive_real()
    assert gc.Coupling([1.0, 0.0], [1.0, 0.0, 4.0]).is_positive_real()
    assert not gc.Coupling([1.0], [1.0, 0.0, 0.0]).is_positive_real()


def test_components_of_a_graph_with_almost_only_isolated_nodes():
    # One sort splits the nodes: 2 x 10^5 singleton components are found as fast as one.
    n = 200_000
    rows, cols = [0, 1, 2, 3], [1, 0, 3, 2]
    adjacency = sp.csr_matrix((np.ones(4), (rows, cols)), shape=(n, n))
    components = laplacian_components(sp.diags(np.asarray(adjacency.sum(axis=1)).ravel()) - adjacency)
    assert len(components) == n - 2
    assert [c.tolist() for c in components[:2]] == [[0, 1], [2, 3]]
    assert sorted(int(c[0]) for c in components[2:5]) == [4, 5, 6]
