"""Checks of the dissertation's results for two-layer ReLU networks (Section 2.3)."""

import numpy as np
import pytest

from gridcoherence.learning.data import toy_separable_2d
from gridcoherence.learning.flow import gradient_descent, integrate_gradient_flow
from gridcoherence.learning.relu import (
    REGION_CODES,
    ReluNetwork,
    balanced_small_init,
    data_geometry,
    directional_velocity,
    early_phase_constants,
    gaussian_init,
    late_phase_envelope,
    neuron_regions,
    stable_rank,
    thm210_constants,
)


@pytest.fixture(scope="module")
def toy():
    X, y = toy_separable_2d(10, random_state=0)
    return X, y, data_geometry(X, y)


def test_gradients_match_finite_differences(toy):  # ReLU right-hand side
    X, y, _ = toy
    net = ReluNetwork(X, y)
    rng = np.random.default_rng(1)
    W, v = gaussian_init(2, 7, 0.5, random_state=rng)
    gW, gv = net.gradients((W, v))
    dW, dv = rng.normal(size=W.shape), rng.normal(size=v.shape)
    step = 1e-7
    fd = (net.loss((W + step * dW, v + step * dv)) - net.loss((W - step * dW, v - step * dv))) / (2 * step)
    analytic = np.sum(gW * dW) + np.sum(gv * dv)
    assert abs(fd - analytic) <= 1e-6 * max(1.0, abs(analytic))


def test_data_geometry_of_toy_set(toy):
    X, y, geometry = toy
    assert 0.4 < geometry.mu_sep < 0.7
    assert geometry.n_plus == geometry.n_minus == 10
    assert np.allclose(geometry.x_plus, X[y > 0].sum(axis=0))


def test_per_neuron_invariant_along_gradient_flow(toy):  # any init
    X, y, _ = toy
    net = ReluNetwork(X, y)
    params = gaussian_init(2, 12, 0.3, random_state=2)
    traj = integrate_gradient_flow(net, params, t_max=5.0, n_samples=100, store_states=True)
    inv = np.array([net.neuron_invariants(s) for s in traj.states])
    assert traj.loss[-1] < 0.5 * traj.loss[0]
    assert np.max(np.abs(inv - inv[0])) / max(1.0, np.abs(inv[0]).max()) < 1e-8


def test_balanced_init_keeps_signs_and_balance(toy):
    X, y, _ = toy
    net = ReluNetwork(X, y)
    signs = np.where(np.arange(10) % 2 == 0, 1.0, -1.0)
    params, _ = balanced_small_init(2, 10, 0.1, signs, random_state=3)
    traj = integrate_gradient_flow(net, params, t_max=5.0, n_samples=80, store_states=True)
    for W, v in traj.states:
        assert np.all(np.sign(v) == signs)
        assert np.allclose(np.abs(v), np.linalg.norm(W, axis=0), rtol=1e-8, atol=1e-12)


def test_early_phase_bounds_and_directional_error(toy):
    X, y, geometry = toy
    net = ReluNetwork(X, y)
    h = 20
    signs = np.where(np.arange(h) % 2 == 0, 1.0, -1.0)
    eps = 1e-4
    params, W0 = balanced_small_init(2, h, eps, signs, random_state=4)
    constants = early_phase_constants(geometry, h, W0)(eps)
    assert eps <= constants["eps_max"]
    traj = integrate_gradient_flow(net, params, t_max=constants["T"], n_samples=50, store_states=True)
    n, x_max = X.shape[0], geometry.x_max
    for state in traj.states:
        W, _ = state
        assert np.max(np.sum(W**2, axis=0)) <= constants["weight_sq_bound"]
        f_max = np.max(np.abs(net.outputs(state)))
        assert f_max <= constants["output_bound"] <= 1
        exact, approx = directional_velocity(net, state)
        assert np.max(np.linalg.norm(exact - approx, axis=0)) <= 2 * n * x_max * f_max * (1 + 1e-9)


@pytest.fixture(scope="module")
def aligned_run(toy):
    """Balanced small init, GD (eta = 2e-3, sum loss) with activation patterns at every step."""
    X, y, _ = toy
    net = ReluNetwork(X, y)
    h = 30
    signs = np.where(np.arange(h) % 2 == 0, 1.0, -1.0)
    eps = 1e-5
    params, W0 = balanced_small_init(2, h, eps, signs, random_state=5)

    def diagnostics(p):
        W, _ = p
        return {"active": (X @ W) > 0, "regions": neuron_regions(X, y, W), "frob": np.sum(W**2),
                "spectral": np.linalg.norm(W, 2) ** 2, "fmax_plus": np.abs(net.outputs(p)[y > 0]).max(),
                "fmax_minus": np.abs(net.outputs(p)[y < 0]).max()}

    traj = gradient_descent(net, params, 2e-3, 5000, record_every=1, diagnostics=diagnostics)
    return net, params, W0, signs, eps, traj


def test_alignment_and_trapping(toy, aligned_run):
    X, y, _ = toy
    _, params0, _, signs, _, traj = aligned_run
    regions, active = traj["regions"], traj["active"]
    plus, minus = signs > 0, signs < 0
    good = np.all(np.isin(regions[:, plus], (REGION_CODES["S+"], REGION_CODES["S_dead"])), axis=1) & np.all(
        np.isin(regions[:, minus], (REGION_CODES["S-"], REGION_CODES["S_dead"])), axis=1)
    assert good.any()
    t_a = int(np.argmax(good))
    assert good[t_a:].all()
    # trapping: once in the class cone (or dead) a neuron stays there at every later step
    for j in range(len(signs)):
        home = (REGION_CODES["S+"] if signs[j] > 0 else REGION_CODES["S-"], REGION_CODES["S_dead"])
        inside = np.isin(regions[:, j], home)
        if inside.any():
            assert inside[int(np.argmax(inside)):].all()
    # neurons initially active on their own class end in their class cone
    pre0 = X @ params0[0]
    own = np.where(plus, np.max(np.where((y > 0)[:, None], pre0, -np.inf), axis=0) > 0,
                   np.max(np.where((y < 0)[:, None], pre0, -np.inf), axis=0) > 0)
    final = regions[-1]
    assert own.any()
    assert np.all(final[own & plus] == REGION_CODES["S+"]) and np.all(final[own & minus] == REGION_CODES["S-"])
    # V+ neurons never gain a negative point nor lose a positive point (V- symmetric)
    pos_rows, neg_rows = y > 0, y < 0
    steps = np.diff(active.astype(int), axis=0)
    assert np.all(steps[:, pos_rows][:, :, plus] >= 0) and np.all(steps[:, neg_rows][:, :, plus] <= 0)
    assert np.all(steps[:, neg_rows][:, :, minus] >= 0) and np.all(steps[:, pos_rows][:, :, minus] <= 0)


def test_late_phase_rate_and_low_rank(toy, aligned_run):
    X, y, _ = toy
    _, _, W0, signs, eps, traj = aligned_run
    constants = thm210_constants(X, y, W0, signs, eps)
    both = (traj["fmax_plus"] > 0.25) & (traj["fmax_minus"] > 0.25)
    assert both.any()
    i2 = int(np.argmax(both))
    later = slice(i2, None)
    gain = 1 / traj.loss[later] - 1 / traj.loss[i2]
    assert np.all(gain >= constants["rate_const"] * (traj.times[later] - traj.times[i2]) * (1 - 1e-9))
    envelope = late_phase_envelope(traj.times[later], traj.times[i2], traj.loss[i2], constants["rate_const"])
    assert np.all(traj.loss[later] <= envelope * (1 + 1e-9))
    # O(1/t): L t stays within a factor 2 over the last half of the run
    tail = traj.loss[len(traj.loss) // 2:] * traj.times[len(traj.loss) // 2:]
    assert tail.max() <= 2 * tail.min()
    w_max = np.linalg.norm(W0, axis=0).max()
    regions = traj["regions"]
    settled = np.flatnonzero(np.all(regions != REGION_CODES["other"], axis=1))[0]
    slack = 4 * np.sqrt(len(signs)) * eps * w_max**2
    assert np.all(traj["frob"][settled:] <= 2 * traj["spectral"][settled:] + slack)
    W_final = traj.final_params[0]
    assert stable_rank(W_final) <= 2 + 1e-3


def test_thm210_constants_fix_zeta_min(toy):
    X, y, _ = toy
    signs = np.array([1.0, -1.0, 1.0, -1.0])
    (_, _), W0 = balanced_small_init(2, 4, 1e-3, signs, random_state=6)
    c = thm210_constants(X, y, W0, signs, 1e-3, xi=0.1)
    assert c["zeta"] == min(c["zeta1"], c["zeta2"])
    assert 0 < c["zeta1"] <= 1 and c["t1"] > 0
    assert not c["eps_satisfies_condition"]  # the (2.191) threshold is astronomically small


def test_bad_inputs_raise(toy):
    X, y, _ = toy
    with pytest.raises(ValueError, match="only -1 and"):
        ReluNetwork(X, np.zeros(len(y)))
    with pytest.raises(ValueError, match="y has shape"):
        ReluNetwork(X, y[:-1])
    with pytest.raises(ValueError, match="reduction"):
        ReluNetwork(X, y, reduction="max")
    net = ReluNetwork(X, y)
    with pytest.raises(ValueError, match="v has shape"):
        gradient_descent(net, (np.ones((2, 3)), np.ones(4)), 1e-3, 10)
    with pytest.raises(ValueError, match="eps must be > 0"):
        balanced_small_init(2, 3, 0.0, np.ones(3))
