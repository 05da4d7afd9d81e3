"""KronReduction: a Kron-reduced Laplacian solved and applied through its sparse unreduced network."""

import numpy as np
import pytest
import scipy.sparse as sp

import gridcoherence as gc
from conftest import random_family, random_weighted_graph
from gridcoherence.models.kron import KronReduction
from gridcoherence.models.simulate import simulate_lti


def unreduced_network(n_kept, n_eliminated, seed):
    """A connected weighted graph on n_kept + n_eliminated nodes and its dense Kron reduction (independently)."""
    K = gc.build_laplacian(random_weighted_graph(n_kept + n_eliminated, seed)).toarray()
    kept, gone = slice(0, n_kept), slice(n_kept, None)
    reduced = K[kept, kept] - K[kept, gone] @ np.linalg.solve(K[gone, gone], K[gone, kept])
    return sp.csr_matrix(K), 0.5 * (reduced + reduced.T)


def test_matvec_and_solver_equal_the_dense_schur_complement(rng):
    K, L = unreduced_network(9, 21, 3)
    kron = KronReduction(K, 9)
    X = rng.standard_normal((9, 3))
    assert np.abs(kron.matvec(X) - L @ X).max() <= 1e-12 * np.abs(L).max() * np.abs(X).max()
    h = rng.uniform(0.5, 2.0, 9) + 1j * rng.uniform(-1.0, 1.0, 9)
    c = 0.3 - 0.7j
    exact = np.linalg.solve(np.diag(h) + c * L, X)
    assert np.abs(kron.solver(h, c)(X) - exact).max() <= 1e-12 * np.abs(exact).max()
    assert np.abs(kron.scaled(2.5).matvec(X) - 2.5 * L @ X).max() <= 1e-12 * np.abs(L @ X).max() * 2.5


def test_network_model_with_kron_gives_the_same_transfer_matrix(rng):
    K, L = unreduced_network(12, 30, 5)
    nodes = random_family(12, 2, 2)
    plain = gc.NetworkModel(nodes, L, "1/s")
    kept = gc.NetworkModel(nodes, L, "1/s", kron=KronReduction(K, 12))
    assert kept.solves_unreduced is False  # 12 x 12 dense L has fewer entries than K here
    for s in 0.05 + 1j * rng.uniform(0.1, 3.0, 3):
        exact = plain.transfer_matrix(s)
        # the explicit sparse path runs on the unreduced network whatever the entry counts
        assert np.abs(kept.transfer_matrix(s) - exact).max() <= 1e-11 * np.abs(exact).max()
        through_kron = kept.kron.solver(kept.nodes.inverse_transfer(s), kept.coupling(s))(np.eye(12))
        assert np.abs(through_kron - exact).max() <= 1e-11 * np.abs(exact).max()


def test_power_case_solves_on_its_bus_network():
    case = gc.load_case("pandapower:case118")
    model = case.model
    assert model.kron is not None and model.kron.n == model.n
    assert model.solves_unreduced  # 54 machines, fully coupled; the bus network is sparse
    s = 2.0j
    X = np.eye(model.n)[:, :4]
    dense = model.network_solver(s, dense=True)(X)
    assert np.abs(model.network_solver(s)(X) - dense).max() <= 1e-10 * np.abs(dense).max()


def test_wrong_reduction_is_refused():
    K, L = unreduced_network(6, 10, 7)
    nodes = random_family(6, 1, 2)
    with pytest.raises(ValueError, match="not the Kron reduction"):
        gc.NetworkModel(nodes, 2.0 * L, kron=KronReduction(K, 6))
    with pytest.raises(ValueError, match="keeps 6 nodes"):
        KronReduction(K, 6).check_reduces(sp.identity(5))
    with pytest.raises(TypeError, match="KronReduction"):
        gc.NetworkModel(nodes, L, kron=K)


@pytest.mark.parametrize("full, n, message", [
    (np.ones((3, 4)), 1, "square"),
    (np.eye(3), 3, "keep between 1 and 2"),
    (np.array([[1.0, 2.0], [0.0, 1.0]]), 1, "symmetric"),
    (np.array([[np.nan, 0.0], [0.0, 1.0]]), 1, "non-finite"),
])
def test_bad_unreduced_matrix(full, n, message):
    with pytest.raises(ValueError, match=message):
        KronReduction(full, n)


def test_singular_network_matrix_is_a_pole():
    K, L = unreduced_network(4, 6, 2)
    kron = KronReduction(K, 4)
    with pytest.raises(ZeroDivisionError):
        kron.solver(np.zeros(4), 0.0)  # the zero matrix: SuperLU finds an exactly zero pivot


def test_simulation_through_the_kron_reduction_equals_the_stored_matrix():
    """Above the dense propagator's size the step response applies A through K, to rounding the same."""
    K, L = unreduced_network(150, 300, 11)
    model = gc.NetworkModel(random_family(150, 4, 2), L, "1/s", kron=KronReduction(K, 150))
    real = model.realization()
    assert model.solves_unreduced and real.apply_A is not None and real.n_states > 400
    X = np.random.default_rng(1).standard_normal((150, 3))
    assert np.abs(model.apply_laplacian(X) - L @ X).max() <= 1e-12 * np.abs(L).max() * np.abs(X).max() * 150
    x = np.random.default_rng(0).standard_normal(real.n_states)
    assert np.abs(real.apply_A(x) - real.A @ x).max() <= 1e-12 * abs(real.A).max() * np.abs(x).max() * 150
    t = np.linspace(0.0, 5.0, 251)
    through_kron = model.response(3, "step", t).y
    stored = simulate_lti(real.A, real.B, real.C, real.D, np.eye(150)[3], "step", t).y
    assert np.abs(through_kron - stored).max() <= 1e-10 * np.abs(stored).max()


def test_one_machine_behind_buses_is_its_own_reduction():
    """A single kept node: L = 0 exactly while K_mm is not; the probe compares at K's scale."""
    K, L = unreduced_network(1, 8, 4)
    model = gc.NetworkModel(random_family(1, 0, 2), np.zeros((1, 1)), kron=KronReduction(K, 1))
    assert abs(model.kron.matvec(np.ones(1))[0]) <= 1e-12 * np.abs(K.data).max()


def test_step_states_are_simulated_once_per_disturbance_and_grid(monkeypatch):
    """The accuracy's node responses and the comparison's group outputs share one simulation."""
    import gridcoherence.models.network as network
    from gridcoherence.report.responses import LiftedNetwork

    K, L = unreduced_network(150, 300, 12)
    model = gc.NetworkModel(random_family(150, 5, 2), L, "1/s", kron=KronReduction(K, 150))
    t = np.linspace(0.0, 4.0, 201)
    u0 = np.eye(150)[7]
    calls = []
    counted = network.simulate_lti
    monkeypatch.setattr(network, "simulate_lti", lambda *a, **k: calls.append(1) or counted(*a, **k))
    nodes = model.response(u0, "step", t)
    weights = model.center_of_inertia_weights([np.arange(75), np.arange(75, 150)])
    groups = LiftedNetwork(model, u0, weights, "original").response(t, -0.5)
    assert len(calls) == 1
    real = model.realization()
    direct = simulate_lti(real.A, real.B, real.C, real.D, u0, "step", t).y
    assert np.abs(nodes.y - direct).max() <= 1e-12 * np.abs(direct).max()
    np.testing.assert_allclose(groups.y, -0.5 * np.asarray(weights @ direct.T).T, rtol=0, atol=1e-12 * np.abs(direct).max())
    # beyond the memory limit nothing is kept and each response simulates its own outputs
    monkeypatch.setattr(network, "STEP_STATES_LIMIT", 0)
    assert model.step_states(u0, t) is None
    model.response(u0, "step", t)
    assert len(calls) == 2
