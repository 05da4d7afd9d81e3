"""Checks of the dissertation's results for two-layer linear networks (Section 2.1)."""

import numpy as np
import pytest

from gridcoherence.learning.flow import integrate_gradient_flow
from gridcoherence.learning.imbalance import (
    factor_rate_bound,
    factor_spectral_sum,
    imbalance_quantities,
    rate_function,
)
from gridcoherence.learning.linear2 import (
    TwoLayerLinearRegression,
    balanced_init,
    block_orthogonal_init,
    lemma21_bounds,
    random_wide_init,
    scalar_rate_lower_bound,
    scalar_rates,
    thm22_distance_bound,
    thm22_width_threshold,
)


def make_problem(seed=0, N=4, n=6, m=3, h=8):
    rng = np.random.default_rng(seed)
    model = TwoLayerLinearRegression(rng.normal(size=(N, n)), rng.normal(size=(N, m)))
    return model, (rng.normal(size=(n, h)), rng.normal(size=(m, h)))


@pytest.fixture(scope="module")
def random_flow():
    """Random init, N=4, n=6, m=3, h=8, integrated with tight tolerances."""
    model, params0 = make_problem()
    q0 = model.imbalance_quantities(params0)

    def diagnostics(p):
        U, V = p
        return {
            "D": model.imbalance(p),
            "full_imbalance": U.T @ U - V.T @ V,
            "U2": model.split(U)[1],
            "rate": model.rate(p),
            "prop21": model.prop21_bound(p, q0),
            "lemma22": model.lemma22_bound(p),
            "c": model.convergence_constant(p, q0),
            "dist": model.distance_to_min_norm(p),
            "decomp": np.array(model.min_norm_decomposition(p)),
            "Z": np.linalg.norm(model.orthogonality_residual(p)),
            "E": np.linalg.norm(model.error(p)),
            "Zp2": np.sum(V**2) + np.sum(model.split(U)[0] ** 2),
        }

    # Log-spaced samples: the loss reaches roundoff level within a few time units.
    t_eval = np.concatenate([[0.0], np.geomspace(1e-3, 30.0, 399)])
    traj = integrate_gradient_flow(model, params0, t_max=30.0, t_eval=t_eval, diagnostics=diagnostics)
    return model, params0, q0, traj


def test_gradients_match_finite_differences():
    model, (U, V) = make_problem(seed=1)
    gU, gV = model.gradients((U, V))
    rng = np.random.default_rng(2)
    for _ in range(5):
        dU, dV = rng.normal(size=U.shape), rng.normal(size=V.shape)
        step = 1e-6
        fd = (model.loss((U + step * dU, V + step * dV)) - model.loss((U - step * dU, V - step * dV))) / (2 * step)
        analytic = np.sum(gU * dU) + np.sum(gV * dV)
        assert abs(fd - analytic) <= 1e-6 * max(1.0, abs(analytic))


def test_reparametrization_and_min_norm_three_ways():
    rng = np.random.default_rng(3)
    X, Y = rng.normal(size=(4, 6)), rng.normal(size=(4, 3))
    model = TwoLayerLinearRegression(X, Y)
    assert model.r == 4
    assert np.max(np.abs(model.Px @ np.diag(model.sx) @ model.Phi1.T - X)) < 1e-12
    for _ in range(20):
        p = (rng.normal(size=(6, 5)), rng.normal(size=(3, 5)))
        loss = model.loss(p)
        assert abs(loss - (model.excess_loss(p) + model.loss_star)) <= 1e-12 * max(1.0, loss)
    pinv = np.linalg.pinv(X) @ Y
    normal = X.T @ np.linalg.pinv(X @ X.T) @ Y
    assert np.max(np.abs(pinv - model.theta_hat)) < 1e-10
    assert np.max(np.abs(normal - model.theta_hat)) < 1e-10


def test_rank_deficient_inputs_have_positive_residual():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(6, 2)) @ rng.normal(size=(2, 5))  # N = 6 samples, rank 2
    model = TwoLayerLinearRegression(X, rng.normal(size=(6, 2)))
    assert model.r == 2 and model.loss_star > 0
    assert abs(model.loss((model.theta_hat, np.eye(2))) - model.loss_star) < 1e-10


def test_imbalances_invariant_along_flow(random_flow):
    _, params0, _, traj = random_flow
    D0, F0 = traj["D"][0], traj["full_imbalance"][0]
    drift_D = np.max(np.linalg.norm(traj["D"] - D0, axis=(1, 2))) / max(1.0, np.linalg.norm(D0))
    drift_F = np.max(np.linalg.norm(traj["full_imbalance"] - F0, axis=(1, 2))) / max(1.0, np.linalg.norm(F0))
    assert drift_D < 1e-8 and drift_F < 1e-8
    assert np.max(np.abs(traj["U2"] - traj["U2"][0])) < 1e-10
    assert traj.excess_loss[-1] < 1e-12 * traj.excess_loss[0]  # the run did converge


def test_prop21_rate_bound_pointwise(random_flow):
    _, _, _, traj = random_flow
    active = traj.excess_loss > 1e-10 * traj.loss[0]
    assert active.sum() >= 200
    rate, lemma22, prop21 = traj["rate"][active], traj["lemma22"][active], traj["prop21"][active]
    assert np.all(rate >= lemma22 * (1 - 1e-8))
    assert np.all(lemma22 >= prop21 * (1 - 1e-8))
    assert np.all(prop21 > 0)


def test_exact_rate_equals_gradient_norm_ratio():
    model, p = make_problem(seed=5)
    gU, gV = model.gradients(p)
    ratio = (np.sum(gU**2) + np.sum(gV**2)) / model.excess_loss(p)
    assert abs(model.rate(p) - ratio) <= 1e-10 * ratio


def _random_factor_pairs(rng, count):
    for _ in range(count):
        r, m = rng.integers(1, 6, size=2)
        h = int(rng.integers(max(r, m), r + m + 4))
        yield rng.normal(size=(r, h)) * rng.uniform(0.1, 3.0), rng.normal(size=(h, m)) * rng.uniform(0.1, 3.0)


def test_prop21_static_pairing_and_swapped_regression_guard():
    rng = np.random.default_rng(6)
    violations = {"corrected": 0, "swapped": 0}
    n_unequal = 0
    for A, B in _random_factor_pairs(rng, 10_000):
        n_unequal += A.shape[0] != B.shape[1]
        bound = 2 * factor_spectral_sum(A, B)
        for pairing in violations:
            violations[pairing] += factor_rate_bound(A, B, pairing) > bound * (1 + 1e-9) + 1e-12
    assert n_unequal > 5000
    assert violations["corrected"] == 0
    assert violations["swapped"] > 100


def test_thm21_envelope_and_monotone_constant(random_flow):
    model, _, q0, traj = random_flow
    excess = traj.excess_loss
    active = excess > 1e-10 * excess[0]
    c = traj["c"]
    log_ratio = np.log(excess[active] / excess[0])
    assert np.all(log_ratio <= -model.lambda_min * c[0] * traj.times[active] + 1e-8)
    assert np.all(np.diff(c) >= -1e-10 * max(1.0, c.max()))
    assert np.all(c >= 2 * q0.delta_gap - 1e-12)
    assert c[-1] > c[0]  # the margin grows as E shrinks
    assert abs(c[-1] - model.asymptotic_constant(q0)) <= 1e-6 * c[-1]
    for i0 in (0, 50, 150):  # Cor. 2.3 from t0 with (t - t0) in the exponent
        later = active & (np.arange(len(excess)) >= i0)
        envelope = model.envelope(traj.times[later], c[i0], excess[i0], t0=traj.times[i0])
        assert np.all(np.log(excess[later]) <= np.log(envelope) + 1e-8)


def test_scalar_warm_up():
    model = TwoLayerLinearRegression([[1.3]], [[2.0]])
    u0, v0 = 1.5, -0.2
    traj = integrate_gradient_flow(
        model, (np.array([[u0]]), np.array([[v0]])), t_max=5.0, store_states=True, n_samples=50
    )
    d0 = u0**2 - v0**2
    for U, V in traj.states[:-5]:
        u, v = float(U[0, 0]), float(V[0, 0])
        from_norms, from_imbalance = scalar_rates(u, v, x=1.3)
        assert abs(from_norms - from_imbalance) <= 1e-10 * from_norms
        assert abs((u**2 - v**2) - d0) <= 1e-8 * max(1.0, abs(d0))
        if model.excess_loss((U, V)) > 1e-12:
            assert abs(model.rate((U, V)) - from_norms) <= 1e-8 * from_norms
    bound = scalar_rate_lower_bound(d0, 2.0, u0 * v0)
    assert scalar_rates(u0, v0)[0] >= bound


@pytest.mark.parametrize("init", ["zero_u2", "block"])
def test_min_norm_convergence_from_orthogonal_init(init):
    model, _ = make_problem(seed=7, h=10)
    rng = np.random.default_rng(8)
    if init == "zero_u2":
        U1, V = rng.normal(size=(model.r, 10)), rng.normal(size=(model.m, 10))
        params0 = (model.Phi1 @ U1, V)
    else:
        params0 = block_orthogonal_init(model, h=10, n_active=7, random_state=rng)
        assert np.linalg.norm(model.split(params0[0])[1]) > 0.5
    assert model.convergence_constant(params0) > 0

    def diagnostics(p):
        U, V = p
        U1, U2 = model.split(U)
        return {"vu2": np.linalg.norm(V @ U2.T), "u1u2": np.linalg.norm(U1 @ U2.T)}

    traj = integrate_gradient_flow(model, params0, t_max=200.0, stop_excess=1e-15, diagnostics=diagnostics)
    assert traj.reached_tolerance
    assert model.distance_to_min_norm(traj.final_params) < 1e-6
    assert traj["vu2"].max() < 1e-10 and traj["u1u2"].max() < 1e-10


def test_random_init_does_not_reach_min_norm(random_flow):  # negative control
    model, _, _, traj = random_flow
    assert model.distance_to_min_norm(traj.final_params) > 0.5


def test_min_norm_decomposition_gronwall_and_norm_bound(random_flow):
    model, params0, _, traj = random_flow
    exact = traj["dist"] ** 2
    parts = np.sum(traj["decomp"] ** 2, axis=1)
    assert np.all(np.abs(exact - parts) <= 1e-10 * np.maximum(1.0, exact))
    error_integral = np.concatenate([[0.0], np.cumsum(0.5 * (traj["E"][1:] + traj["E"][:-1]) * np.diff(traj.times))])
    assert np.all(traj["Z"] <= model.gronwall_bound(traj["Z"][0], error_integral) * (1 + 1e-6))
    assert np.all(traj["Zp2"] <= model.weight_norm_bound(params0))


def test_balanced_init():
    model, _ = make_problem(seed=9, h=7)
    rng = np.random.default_rng(10)
    theta0 = rng.normal(size=(model.n, model.m))
    U, V = balanced_init(model, theta0, h=7, random_state=11)
    assert np.max(np.abs(U @ V.T - theta0)) < 1e-10
    assert np.linalg.norm(model.imbalance((U, V))) < 1e-10
    # Random Theta0: zero margin and zero imbalance, so c(0) vanishes up to roundoff.
    assert model.convergence_constant((U, V)) < 1e-10


def test_balanced_init_rejects_rank_deficient_target():
    model, _ = make_problem(seed=9)
    with pytest.raises(ValueError, match="full column rank"):
        balanced_init(model, np.zeros((model.n, model.m)), h=5)


@pytest.mark.parametrize("alpha_init", [0.3, 0.5])
def test_lemma21_monte_carlo(alpha_init):
    rng = np.random.default_rng(12)
    m, n, N, delta = 1, 2, 2, 0.1
    model = TwoLayerLinearRegression(rng.normal(size=(N, n)), rng.normal(size=(N, m)))
    h = 200
    bounds = lemma21_bounds(m, n, h, alpha_init, delta)
    assert h > bounds["h0"]
    failures = 0
    for _ in range(200):
        params = random_wide_init(n, m, h, alpha_init, random_state=rng)
        gap = model.imbalance_quantities(params).delta_gap
        z = np.linalg.norm(model.orthogonality_residual(params))
        u1v = np.linalg.norm(model.split(params[0])[0] @ params[1].T)
        failures += not (gap > bounds["gap_lower"] and z <= bounds["z_upper"] and u1v <= bounds["u1v_upper"])
    assert failures <= delta * 200


def test_thm22_helpers_are_consistent():
    model, _ = make_problem(seed=13)
    threshold = thm22_width_threshold(model, 0.5, 0.1)
    assert threshold > 16
    far = thm22_distance_bound(model, 10 * threshold, 0.5, 0.1)
    farther = thm22_distance_bound(model, 100 * threshold, 0.5, 0.1)
    assert np.isfinite(far) and farther < far


def test_wide_random_init_distance_decays_like_inverse_sqrt_width():  # Fig. 2-5 regression
    rng = np.random.default_rng(14)
    N, n, m = 10, 40, 3
    model = TwoLayerLinearRegression(rng.normal(size=(N, n)) / np.sqrt(n), rng.normal(size=(N, m)))
    widths = np.array([250, 500, 1000, 2000, 4000])
    mean_dist = []
    for h in widths:
        dists = []
        for seed in range(3):
            params0 = random_wide_init(n, m, h, 0.5, random_state=100 * seed + h)
            traj = integrate_gradient_flow(
                model, params0, t_max=400.0, t_eval=[0.0], rtol=1e-8, atol=1e-10, stop_excess=1e-12
            )
            assert traj.reached_tolerance
            U, V = traj.final_params
            dist = model.distance_to_min_norm(traj.final_params)
            u2v = np.linalg.norm(model.split(U)[1] @ V.T)
            assert 0.99 <= u2v / dist <= 1.01
            dists.append(dist)
        mean_dist.append(np.mean(dists))
    slope = np.polyfit(np.log(widths), np.log(mean_dist), 1)[0]
    assert -0.7 <= slope <= -0.35


# Reference values: scaled imbalance quantities of E1 (n=20, m=5, N(0,1)), mean and sd over seeds.
E1_REFERENCE = {
    30: ((0.569, 0.050), (0.220, 0.053), (0.051, 0.015)),
    1000: ((0.103, 0.006), (0.040, 0.009), (0.330, 0.008)),
}


@pytest.mark.parametrize("h", [30, 1000])
def test_e1_scaled_imbalance_quantities(h):
    n, m = 20, 5
    model = TwoLayerLinearRegression(np.eye(n) / np.sqrt(m * h), np.zeros((n, m)))
    seeds = range(8) if h == 1000 else range(40)
    values = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        q = model.imbalance_quantities((rng.normal(size=(n, h)), rng.normal(size=(m, h)))).scaled(1 / (m * h))
        values.append((q.delta_plus, q.delta_minus, q.delta_gap))
    mean = np.mean(values, axis=0)
    for value, (ref_mean, ref_sd) in zip(mean, E1_REFERENCE[h]):
        assert abs(value - ref_mean) <= 5 * ref_sd / np.sqrt(len(values))
    plus, minus, gap = mean
    assert (gap > plus > minus) if h == 1000 else (plus > minus > gap)


def test_rate_function_properties():
    rng = np.random.default_rng(15)
    args = rng.uniform(0, 3, size=(5, 1000))
    g = rate_function(*args)
    assert np.all(g >= 2 * args[2] - 1e-12)
    assert np.allclose(rate_function(*(2.5 * args)), 2.5 * g)
    assert np.all(rate_function(args[0], args[1], args[2], args[3] + 0.1, args[4]) > g)


def test_imbalance_quantities_hand_example():
    q = imbalance_quantities(np.diag([5.0, 2.0, 0.0, -1.0, -4.0]), r=2, m=2)
    assert (q.delta_plus, q.delta_minus, q.delta_gap) == (3.0, 3.0, 3.0)


@pytest.mark.parametrize(
    "X, Y, exc, match",
    [
        (np.ones((3, 2)), np.ones((4, 1)), ValueError, "rows"),
        (np.array([[np.nan, 1.0]]), np.ones((1, 1)), ValueError, "X contains non-finite"),
        (np.ones(3), np.ones((3, 1)), ValueError, "X must be 2-dimensional"),
        ("abc", np.ones((3, 1)), TypeError, "X must be a real numeric array"),
        (np.ones((2, 2)) * 1j, np.ones((2, 1)), TypeError, "X must be real"),
    ],
)
def test_bad_data_raises(X, Y, exc, match):
    with pytest.raises(exc, match=match):
        TwoLayerLinearRegression(X, Y)


def test_bad_params_raise():
    model, (U, V) = make_problem()
    with pytest.raises(ValueError, match="V has shape"):
        integrate_gradient_flow(model, (U, V[:, :3]), t_max=1.0)
    with pytest.raises(ValueError, match="U contains non-finite"):
        integrate_gradient_flow(model, (U * np.inf, V), t_max=1.0)
