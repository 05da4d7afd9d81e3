"""Checks of the dissertation's results for multi-layer linear networks (Section 2.2)."""

import numpy as np
import pytest

from gridcoherence.learning.flow import integrate_gradient_flow
from gridcoherence.learning.imbalance import factor_spectral_sum
from gridcoherence.learning.multilayer import (
    DeepLinearNetwork,
    DiagonalLinearNetwork,
    ExponentialLoss,
    SquaredLoss,
    apply_operator,
    balanced_weights,
    classification_envelope,
    cor25_constant,
    end_to_end,
    exponential_envelope,
    homogeneous_bound,
    lambda_min_operator,
    layer_imbalances,
    lemma29_bound,
    operator_matrix,
    random_layer_init,
    scalar_tau,
    scalar_tau_bound,
    thm23_constant,
    three_layer_delta_star,
    two_layer_bound,
    unimodal_bound,
    unimodal_indices,
    unimodal_weights,
)


def random_weights(rng, dims, scale=1.0):
    return [scale * rng.normal(size=(a, b)) for a, b in zip(dims[:-1], dims[1:])]


def test_operator_symmetric_psd_and_loss_derivative():
    rng = np.random.default_rng(0)
    for dims in ([3, 4, 2], [2, 5, 3, 4], [4, 3, 3, 2, 1]):
        weights = random_weights(rng, dims)
        T = operator_matrix(weights)
        assert np.allclose(T, T.T, atol=1e-12 * np.abs(T).max())
        assert np.linalg.eigvalsh(T)[0] >= -1e-10 * np.abs(T).max()
        net = DeepLinearNetwork(SquaredLoss(rng.normal(size=(dims[0], dims[-1]))))
        G = net.f.grad(end_to_end(weights))
        dL_dt = -sum(np.sum(g**2) for g in net.gradients(tuple(weights)))
        quadratic = np.sum(apply_operator(weights, G) * G)
        vec = G.ravel(order="F")
        assert abs(dL_dt + quadratic) <= 1e-10 * abs(quadratic)
        assert abs(vec @ T @ vec - quadratic) <= 1e-10 * abs(quadratic)


def test_gradients_match_finite_differences():  # (2.100)
    rng = np.random.default_rng(1)
    net = DeepLinearNetwork(SquaredLoss(rng.normal(size=(3, 2))))
    weights = tuple(random_weights(rng, [3, 4, 5, 2]))
    grads = net.gradients(weights)
    directions = [rng.normal(size=W.shape) for W in weights]
    step = 1e-6
    plus = tuple(W + step * d for W, d in zip(weights, directions))
    minus = tuple(W - step * d for W, d in zip(weights, directions))
    fd = (net.loss(plus) - net.loss(minus)) / (2 * step)
    analytic = sum(np.sum(g * d) for g, d in zip(grads, directions))
    assert abs(fd - analytic) <= 1e-6 * max(1.0, abs(analytic))


def _max_relative_drift(states):
    ref = layer_imbalances(states[0])
    return max(
        np.linalg.norm(D - D0) / max(1.0, np.linalg.norm(D0))
        for weights in states
        for D, D0 in zip(layer_imbalances(weights), ref)
    )


@pytest.mark.parametrize("loss_kind", ["squared", "exponential"])
def test_layer_imbalances_invariant_along_flow(loss_kind):
    rng = np.random.default_rng(2)
    if loss_kind == "squared":
        net = DeepLinearNetwork(SquaredLoss(rng.normal(size=(3, 2))))
        dims = [3, 4, 5, 2]
    else:
        X = rng.normal(size=(12, 3))
        net = DeepLinearNetwork(ExponentialLoss(X, np.sign(X @ np.array([1.0, -0.5, 0.2]))))
        dims = [3, 4, 4, 1]
    weights = tuple(random_weights(rng, dims, scale=0.6))
    traj = integrate_gradient_flow(net, weights, t_max=10.0, n_samples=60, store_states=True)
    assert traj.loss[-1] < 0.5 * traj.loss[0]
    assert _max_relative_drift(traj.states) < 1e-8


def test_two_layer_exact_operator_and_corrected_lemma27():  # L = 2
    rng = np.random.default_rng(3)
    violations = {"corrected": 0, "swapped": 0}
    for _ in range(10_000):
        n, m = rng.integers(1, 5, size=2)
        h = int(rng.integers(max(n, m), n + m + 3))
        W1 = rng.normal(size=(n, h)) * rng.uniform(0.1, 3)
        W2 = rng.normal(size=(h, m)) * rng.uniform(0.1, 3)
        exact = factor_spectral_sum(W1, W2)
        if _ < 300:
            assert abs(lambda_min_operator([W1, W2]) - exact) <= 1e-10 * max(1.0, exact)
        for pairing in violations:
            violations[pairing] += two_layer_bound(W1, W2, pairing) > exact * (1 + 1e-9) + 1e-12
    assert violations["corrected"] == 0
    assert violations["swapped"] > 100  # the printed (2.105) pairing is false for n != m


@pytest.mark.parametrize("case", ["A1 only", "A1+A2"])
def test_thm23_envelope_along_flow(case):
    rng = np.random.default_rng(4)
    loss = SquaredLoss(rng.normal(size=(3, 2)))
    net = DeepLinearNetwork(loss)
    weights = (rng.normal(size=(3, 7)), rng.normal(size=(7, 2)))
    alpha2 = thm23_constant(*weights, loss=None if case == "A1 only" else loss)
    assert alpha2 > 0
    traj = integrate_gradient_flow(net, weights, t_max=8.0, n_samples=300)
    active = traj.excess_loss > 1e-10 * traj.excess_loss[0]
    envelope = exponential_envelope(traj.times, alpha2, loss.gamma, traj.excess_loss[0])
    assert np.all(np.log(traj.excess_loss[active]) <= np.log(envelope[active]) + 1e-8)


def test_three_layer_bounds_on_random_instances():
    rng = np.random.default_rng(5)
    violations = 0
    for _ in range(3000):
        n, m = rng.integers(1, 4, size=2)
        h1, h2 = rng.integers(1, 7, size=2)
        weights = random_weights(rng, [n, h1, h2, m], scale=rng.uniform(0.2, 2.0))
        delta_star = three_layer_delta_star(weights)["delta_star"]
        rhs = lemma29_bound(weights)
        lam = lambda_min_operator(weights)
        violations += (delta_star > rhs + 1e-9 * max(1.0, rhs)) + (rhs > lam + 1e-9 * max(1.0, lam))
    assert violations == 0


def test_three_layer_scalar_closed_form():
    rng = np.random.default_rng(6)
    for a, b, c in rng.normal(size=(200, 3)):
        d21, d23 = b * b - a * a, b * b - c * c
        dbar = max(d21, d23, 0.0)
        closed = dbar * (dbar - d21) + (dbar - d21) * (dbar - d23) + dbar * (dbar - d23)
        weights = [np.array([[a]]), np.array([[b]]), np.array([[c]])]
        assert abs(three_layer_delta_star(weights)["delta_star"] - closed) <= 1e-10 * max(1.0, closed)
        assert closed <= lambda_min_operator(weights) + 1e-10


@pytest.mark.parametrize("l_star", [1, 2, 3])
def test_claim1_unimodal_three_layer_identities(l_star):
    rng = np.random.default_rng(7)
    for _ in range(30):
        weights = unimodal_weights(3, 3, l_star, random_state=rng)
        parts = three_layer_delta_star(weights)
        left = 0.5 * (parts["delta21_sq"] + parts["delta21"] ** 2)
        middle = parts["delta21"] * parts["delta23"]
        right = 0.5 * (parts["delta23_sq"] + parts["delta23"] ** 2)
        dtil = unimodal_bound(weights)
        expected = {1: (0, 0, dtil), 2: (0, dtil, 0), 3: (dtil, 0, 0)}[l_star]
        for got, want in zip((left, middle, right), expected):
            assert abs(got - want) <= 1e-7 * max(1.0, dtil)


def test_cor24_along_flow():
    rng = np.random.default_rng(8)
    loss = SquaredLoss(rng.normal(size=(1, 1)))
    weights = tuple(random_weights(rng, [1, 6, 6, 1], scale=1 / np.sqrt(6)))
    delta_star = three_layer_delta_star(weights)["delta_star"]
    assert delta_star > 0
    traj = integrate_gradient_flow(DeepLinearNetwork(loss), weights, t_max=20.0, n_samples=200)
    active = traj.excess_loss > 1e-10 * traj.excess_loss[0]
    envelope = exponential_envelope(traj.times, delta_star, loss.gamma, traj.excess_loss[0])
    assert np.all(np.log(traj.excess_loss[active]) <= np.log(envelope[active]) + 1e-8)


@pytest.mark.parametrize("scheme", ["ntk", "xavier", "fan_out"])
def test_e4_delta_star_positive_at_random_init(scheme):  # Fig. 2-6 left
    rng = np.random.default_rng(9)
    values = [three_layer_delta_star(random_layer_init(scheme, [5, 200, 200, 1], rng))["delta_star"] for _ in range(100)]
    assert min(values) > 0


def test_deep_unimodal_bound_zero_violations():
    rng = np.random.default_rng(10)
    violations = 0
    for _ in range(1500):
        depth = int(rng.integers(2, 6))
        l_star = int(rng.integers(1, depth + 1))
        weights = unimodal_weights(depth, int(rng.integers(1, 4)), l_star, random_state=rng)
        assert l_star in unimodal_indices(layer_imbalances(weights))
        lam = lambda_min_operator(weights)
        violations += unimodal_bound(weights) > lam + 1e-8 * max(1.0, lam)
    assert violations == 0


def test_unimodal_bound_rejects_non_unimodal_weights():
    rng = np.random.default_rng(11)
    weights = unimodal_weights(3, 2, 2, random_state=rng)
    weights = [weights[0], weights[1] * 3.0, weights[2]]  # D_1 becomes indefinite
    with pytest.raises(ValueError, match="not unimodal"):
        unimodal_bound(weights + [np.eye(2) * 100.0])


def test_cor25_along_flow():
    rng = np.random.default_rng(12)
    weights = tuple(unimodal_weights(4, 2, 2, random_state=rng, scale=0.7))
    loss = SquaredLoss(rng.normal(size=(2, 2)))
    alpha = cor25_constant(unimodal_bound(weights), depth=4)
    assert alpha > 0
    traj = integrate_gradient_flow(DeepLinearNetwork(loss), weights, t_max=3.0, n_samples=200)
    active = traj.excess_loss > 1e-10 * traj.excess_loss[0]
    envelope = exponential_envelope(traj.times, alpha, loss.gamma, traj.excess_loss[0])
    assert np.all(np.log(traj.excess_loss[active]) <= np.log(envelope[active]) + 1e-8)


def test_homogeneous_and_balanced_operator_identities():
    rng = np.random.default_rng(13)
    for depth in (2, 3, 4, 5):
        square = balanced_weights(rng.normal(size=(3, 3)), [4] * (depth - 1), random_state=rng)
        sigma = np.linalg.svd(end_to_end(square), compute_uv=False)[-1]
        lam = lambda_min_operator(square)
        assert abs(lam - depth * sigma ** (2 - 2 / depth)) <= 1e-8 * lam
        assert homogeneous_bound(square) <= lam * (1 + 1e-8)
    rect = balanced_weights(rng.normal(size=(3, 2)), [4, 5], random_state=rng)
    sigma = np.linalg.svd(end_to_end(rect), compute_uv=False)[-1]
    assert abs(lambda_min_operator(rect) - sigma ** (4 / 3)) <= 1e-8 * sigma ** (4 / 3)
    with pytest.raises(ValueError, match="n = m"):
        homogeneous_bound(rect)
    # homogeneous with nonzero imbalance: square orthogonal-scaled layers
    for _ in range(200):
        scales = np.sort(rng.uniform(0.2, 2.0, size=3))[::-1]
        q = [np.linalg.qr(rng.normal(size=(3, 3)))[0] for _ in range(4)]
        weights = [q[i] @ (scales[i] * np.eye(3)) @ q[i + 1].T for i in range(3)]
        assert homogeneous_bound(weights) <= lambda_min_operator(weights) * (1 + 1e-8)


def test_scalar_deep_lemma218():
    rng = np.random.default_rng(14)
    for _ in range(2000):
        w = rng.normal(size=int(rng.integers(2, 7)))
        assert scalar_tau_bound(w) <= scalar_tau(w) * (1 + 1e-10) + 1e-12
        assert abs(scalar_tau(w) - lambda_min_operator([np.array([[x]]) for x in w])) <= 1e-10 * max(1, scalar_tau(w))
    w = rng.normal(size=4)
    w[2] = 0.0
    assert abs(scalar_tau_bound(w) - scalar_tau(w)) <= 1e-12 * max(1.0, scalar_tau(w))


def test_diagonal_network_rate_bound_along_flow():
    rng = np.random.default_rng(15)
    net = DiagonalLinearNetwork(SquaredLoss(rng.normal(size=4)))
    params = tuple(rng.normal(size=(3, 4)))
    traj = integrate_gradient_flow(net, params, t_max=5.0, n_samples=200, store_states=True)
    for state in traj.states:
        speed = sum(np.sum(g**2) for g in net.gradients(state))
        excess = net.excess_loss(state)
        if excess > 1e-10 * traj.excess_loss[0]:
            assert speed >= net.rate_factors(state).min() * net.f.gamma * excess * (1 - 1e-8)
    invariants = [np.diff(np.asarray(s) ** 2, axis=0) for s in traj.states]
    assert max(np.abs(v - invariants[0]).max() for v in invariants) < 1e-8 * max(1.0, np.abs(invariants[0]).max())


def test_thm26_classification_envelope():
    rng = np.random.default_rng(16)
    separator = np.array([1.0, 2.0])
    X = rng.normal(size=(20, 2))
    y = np.sign(X @ separator)
    X += 0.3 * y[:, None] * separator / np.linalg.norm(separator)  # enforce a margin
    loss = ExponentialLoss(X, y)
    gamma = loss.margin(separator)
    assert gamma > 0
    weights = (rng.normal(size=(2, 6)), rng.normal(size=(6, 1)))
    a = thm23_constant(*weights)  # Delta_ (A1 only)
    assert a > 0
    traj = integrate_gradient_flow(DeepLinearNetwork(loss), weights, t_max=50.0, n_samples=200)
    envelope = classification_envelope(traj.times, a, gamma, traj.loss[0])
    assert np.all(traj.loss <= envelope * (1 + 1e-8))


def test_cor25_printed_and_derived_forms_differ_below_one():
    assert cor25_constant(0.0, 3, nu_min=0.5, form="printed") > cor25_constant(0.0, 3, nu_min=0.5)
    with pytest.raises(ValueError, match="form"):
        cor25_constant(0.0, 3, form="other")


def test_bad_weights_raise():
    with pytest.raises(ValueError, match="must chain"):
        lambda_min_operator([np.ones((2, 3)), np.ones((2, 2))])
    with pytest.raises(TypeError, match="at least two"):
        layer_imbalances([np.ones((2, 2))])
    net = DeepLinearNetwork(SquaredLoss(np.ones((2, 2))))
    with pytest.raises(ValueError, match="end-to-end"):
        integrate_gradient_flow(net, (np.ones((3, 2)), np.ones((2, 2))), t_max=1.0)
    with pytest.raises(ValueError, match="only -1 and"):
        ExponentialLoss(np.ones((2, 2)), np.array([0.0, 1.0]))
