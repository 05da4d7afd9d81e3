"""NetworkModel: T(s), its sparse realization, python-control interop, time responses."""

import control
import numpy as np
import pytest
import scipy.linalg as sla

import gridcoherence as gc
from conftest import random_family, random_lti_nodes, random_weighted_graph

COUPLINGS = ["1/s", "1", control.tf([2.0, 1.0], [1.0, 3.0]), control.tf([1.0], [1.0, 2.0, 1.0])]


def dense_transfer(model, s):
    """(G^{-1}(s) + f(s) L)^{-1} by a dense inverse: the definition, independently."""
    h = model.nodes.inverse_transfer(s)
    return np.linalg.inv(np.diag(h) + model.coupling(s) * model.laplacian.toarray())


def mixed_nodes(n, seed):
    family = random_family(n // 2, seed, 2)
    general = random_lti_nodes(n - n // 2, seed + 1)
    positions = np.random.default_rng(seed).permutation(n)
    return gc.StackedNodes([family, general], [positions[: n // 2], positions[n // 2:]])


@pytest.mark.parametrize("coupling", COUPLINGS, ids=["integrator", "unity", "lead", "second-order"])
@pytest.mark.parametrize("kind", ["family", "mixed"])
def test_realization_matches_definition(kind, coupling, rng):
    n = 14
    nodes = random_family(n, 3, 2) if kind == "family" else mixed_nodes(n, 4)
    model = gc.NetworkModel(nodes, random_weighted_graph(n, 5), coupling)
    real = model.realization()
    for s in rng.uniform(-0.2, 2.0, 4) + 1j * rng.uniform(-3.0, 3.0, 4):
        exact = dense_transfer(model, s)
        scale = np.abs(exact).max()
        assert np.abs(model.transfer_matrix(s) - exact).max() <= 1e-10 * scale
        assert np.abs(real.transfer(s) - exact).max() <= 1e-10 * scale


def test_transfer_matrix_columns_and_batches(family_model):
    s = np.array([0.1j, 1.0 + 2j, 5j])
    full = family_model.transfer_matrix(s)
    cols = family_model.transfer_matrix(s, columns=[3, 7])
    assert full.shape == (3, 12, 12) and cols.shape == (3, 12, 2)
    np.testing.assert_allclose(cols, full[:, :, [3, 7]], rtol=1e-13, atol=0)
    # T is complex symmetric because L and G are.
    np.testing.assert_allclose(full, np.swapaxes(full, 1, 2), rtol=1e-12, atol=1e-14)


def test_to_statespace_frequency_response_matches(family_model):
    sys = family_model.to_statespace()
    assert isinstance(sys, control.StateSpace)
    assert sys.nstates == 12 + 24 + 12  # frequencies, turbines, angles
    for w in [0.05, 0.7, 4.0]:
        np.testing.assert_allclose(control.evalfr(sys, 1j * w), family_model.transfer_matrix(1j * w),
                                   rtol=1e-9, atol=1e-12)


def test_swing_network_has_single_zero_mode(family_model):
    eig = np.linalg.eigvals(family_model.realization().A.toarray())
    assert np.sum(np.abs(eig) < 1e-9) == 1
    assert np.all(eig.real < 1e-9)


def exact_response(model, u0, signal, t):
    """Reference by dense modal decomposition of the augmented autonomous system."""
    real = model.realization()
    A, B, C = real.A.toarray(), real.B.toarray(), real.C.toarray()
    ag, xg0, cg = signal.generator()
    big = np.block([[A, np.outer(B @ u0, cg)], [np.zeros((ag.shape[0], A.shape[0])), ag]])
    x0 = np.r_[np.zeros(A.shape[0]), xg0]
    states = np.array([sla.expm(big * tk) @ x0 for tk in t])
    return states[:, : A.shape[0]] @ C.T


@pytest.mark.parametrize("dense_limit", [400, 0], ids=["dense-propagator", "expm_multiply"])
@pytest.mark.parametrize("signal", [gc.Step(), gc.ExponentialApproach(0.7), gc.Sinusoid(2.5, phase=0.3)],
                         ids=["step", "exp-approach", "sinusoid"])
def test_time_response_exact_signals(family_model, signal, dense_limit, monkeypatch):
    import gridcoherence.models.simulate as simulate

    monkeypatch.setattr(simulate, "DENSE_PROPAGATOR_LIMIT", dense_limit)
    t = np.linspace(0.0, 20.0, 41)
    u0 = np.zeros(12)
    u0[[1, 5]] = [1.0, -0.5]
    response = family_model.response(u0, signal, t)
    reference = exact_response(family_model, u0, signal, t)
    assert np.abs(response.y - reference).max() <= 1e-9 * np.abs(reference).max()
    np.testing.assert_allclose(response.u, signal(t), atol=1e-12)
    m = family_model.inertia
    np.testing.assert_allclose(response.y_coi, response.y @ m / m.sum(), rtol=1e-12)


def test_sampled_response_matches_python_control(family_model):
    """FOH sampled inputs: python-control's forced_response also interpolates linearly."""
    t = np.linspace(0.0, 10.0, 201)
    values = np.sin(1.3 * t) * np.exp(-0.1 * t)
    response = family_model.response(4, gc.Sampled(t, values), t)
    e = np.zeros(12)
    e[4] = 1.0
    ref = control.forced_response(family_model.to_statespace(), t, np.outer(e, values)).outputs.T
    assert np.abs(response.y - ref).max() <= 1e-8 * np.abs(ref).max()


def test_step_steady_state_is_total_disturbance_over_total_damping(family_model):
    """f = 1/s: after a step every frequency settles to sum(u0) / sum(d + q)."""
    t = np.linspace(0.0, 400.0, 801)
    response = family_model.response(2, "step", t)
    nodes = family_model.nodes
    expected = 1.0 / (nodes.d.sum() + nodes.turbine_gain.sum())
    np.testing.assert_allclose(response.y[-1], expected, rtol=1e-6)


def test_general_node_network_statespace_interop():
    nodes = random_lti_nodes(9, 8)
    model = gc.NetworkModel(nodes, random_weighted_graph(9, 9), "1")
    sys = model.to_statespace()
    for s in [0.3j, 1.0 + 1.0j]:
        np.testing.assert_allclose(control.evalfr(sys, s), dense_transfer(model, s), rtol=1e-9, atol=1e-12)


def test_chunked_time_grid_equals_single_pass(family_model, monkeypatch):
    """Long horizons are simulated in restarted chunks; the result must not change."""
    import gridcoherence.models.simulate as simulate

    monkeypatch.setattr(simulate, "DENSE_PROPAGATOR_LIMIT", 0)
    t = np.linspace(0.0, 15.0, 301)
    whole = family_model.response(1, gc.Sinusoid(0.8), t).y
    monkeypatch.setattr(simulate, "STATE_BUFFER_ENTRIES", 7 * family_model.realization().n_states)
    chunked = family_model.response(1, gc.Sinusoid(0.8), t).y
    np.testing.assert_allclose(chunked, whole, rtol=0, atol=1e-10 * np.abs(whole).max())
