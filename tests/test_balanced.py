"""Tests of gridcoherence.reduction.balanced: SLICOT AB09ID golden example, agreement with
python-control/slycot, stable/unstable split, order selection, DC matching, bad input."""

from pathlib import Path

import control
import numpy as np
import pytest

from gridcoherence.models.lti import dc_gain, stable_unstable_split
from gridcoherence.reduction.balanced import balanced_truncation

# SLICOT's example input travels with the tests (BSD-3 notice in tests/data/slicot/README.md).
SLICOT_DATA = Path(__file__).resolve().parent / "data" / "slicot" / "AB09ID.dat"


def load_ab09id():
    """G (3 states) and the left weight V (6 states) of SLICOT's AB09ID example."""
    values = iter(float(t) for t in SLICOT_DATA.read_text().split("\n", 2)[2].split())

    def take(rows, cols):
        return np.array([next(values) for _ in range(rows * cols)]).reshape(rows, cols)

    G = control.ss(take(3, 3), take(3, 1), take(1, 3), take(1, 1))
    V = control.ss(take(6, 6), take(6, 1), take(1, 6), take(1, 1))
    return G, V


def frequency_response(system, w):
    return np.asarray(system.frequency_response(w).frdata)


def stable_random_system(rng, n, outputs, inputs):
    A = rng.standard_normal((n, n))
    A -= (np.max(np.linalg.eigvals(A).real) + 0.2) * np.eye(n)
    return control.ss(A, rng.standard_normal((n, inputs)), rng.standard_normal((outputs, n)),
                      rng.standard_normal((outputs, inputs)))


@pytest.mark.parametrize("method", ["bfsr", "sr"])
def test_ab09id_example_reproduced(method):
    G, V = load_ab09id()
    result = balanced_truncation(G, 2, output_weight=V, method=method)
    # Published: weighted HSVs 3.8253, 0.2005 of the stable part; order 2 with 1 unstable pole.
    np.testing.assert_array_equal(np.round(result.hankel_singular_values, 4), [3.8253, 0.2005])
    assert result.n_unstable == 1 and result.order == 2
    np.testing.assert_allclose(np.sort(np.linalg.eigvals(result.system.A).real), [-34.5297, 9.1900], atol=5e-5)
    published = control.ss(np.diag([9.1900, -34.5297]), [[11.9593], [16.9329]], [[2.8955, 6.9152]], 0.0)
    w = np.logspace(-2, 3, 60)
    np.testing.assert_allclose(frequency_response(result.system, w), frequency_response(published, w), rtol=2e-4)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("reduction,balred_method", [("truncate", "truncate"), ("spa", "matchdc")])
def test_unweighted_equals_balred(seed, reduction, balred_method):
    rng = np.random.default_rng(seed)
    system = stable_random_system(rng, 9, outputs=1 + seed % 2, inputs=1 + seed % 3)
    ours = balanced_truncation(system, 4, reduction=reduction)
    reference = control.balred(system, 4, method=balred_method)
    w = np.logspace(-2, 2, 80)
    expected = frequency_response(reference, w)
    np.testing.assert_allclose(frequency_response(ours.system, w), expected, atol=1e-9 * np.abs(expected).max())
    # hsvd squares the gramians' condition number; compare relative to sigma_1.
    expected_hsv = control.hsvd(system)
    np.testing.assert_allclose(ours.hankel_singular_values, expected_hsv, rtol=0, atol=1e-8 * expected_hsv[0])


@pytest.mark.parametrize("seed", range(3))
def test_unweighted_error_bound_holds(seed):
    rng = np.random.default_rng(10 + seed)
    system = stable_random_system(rng, 10, 2, 2)
    for reduction in ("truncate", "spa"):
        result = balanced_truncation(system, 3, reduction=reduction)
        error = control.linfnorm(system - result.system)[0]
        assert result.hankel_singular_values[3] <= error <= result.error_bound * (1 + 1e-9)


def test_weighted_result_has_no_bound_and_one_sided_weight_keeps_stability():
    rng = np.random.default_rng(3)
    system = stable_random_system(rng, 10, 1, 1)
    weight = control.tf([1.0, 0.5], [1.0, 0.01])
    for side in ("input_weight", "output_weight"):
        result = balanced_truncation(system, 4, **{side: weight})
        assert result.error_bound is None
        assert np.all(np.linalg.eigvals(result.system.A).real < 0)


def test_spa_unweighted_keeps_dc_gain():
    rng = np.random.default_rng(5)
    system = stable_random_system(rng, 8, 2, 2)
    result = balanced_truncation(system, 3, reduction="spa")
    exact = dc_gain(system.A, system.B, system.C, system.D)
    np.testing.assert_allclose(dc_gain(*(np.asarray(x) for x in (result.system.A, result.system.B, result.system.C,
                                                                  result.system.D))), exact, atol=1e-10)


@pytest.mark.parametrize("seed", range(3))
def test_match_dc_exact(seed):
    rng = np.random.default_rng(20 + seed)
    system = stable_random_system(rng, 7, 1, 1)
    result = balanced_truncation(system, 2, output_weight=control.tf([1.0, 1.0], [1.0, 0.01]), match_dc=True)
    reduced = result.system
    target = dc_gain(system.A, system.B, system.C, system.D)[0, 0]
    assert abs(dc_gain(reduced.A, reduced.B, reduced.C, reduced.D)[0, 0] - target) <= 1e-12 * abs(target)


def test_order_by_tolerance():
    rng = np.random.default_rng(7)
    system = stable_random_system(rng, 9, 1, 2)
    hsv = control.hsvd(system)
    tol = 0.5 * (hsv[2] + hsv[3])
    result = balanced_truncation(system, tol=tol)
    assert result.order == 3
    assert np.all(result.hankel_singular_values[:3] > tol) and result.hankel_singular_values[3] < tol


def test_split_reconstructs_transfer_function_and_zero_mode_is_kept():
    # A swing-like system with an exact integrator (the network's zero mode).
    system = control.ss(control.tf([1.0, 2.0, 1.0], [1.0, 3.0, 2.5, 0.0]))
    A, B, C = (np.asarray(x, dtype=float) for x in (system.A, system.B, system.C))
    (As, Bs, Cs), (Au, Bu, Cu) = stable_unstable_split(A, B, C, 1e-8)
    assert As.shape == (2, 2) and Au.shape == (1, 1)
    s = np.array([0.3j, 1.0 + 2.0j, 5.0j])
    parts = [Cs @ np.linalg.solve(x * np.eye(2) - As, Bs) + Cu @ np.linalg.solve(x * np.eye(1) - Au, Bu) for x in s]
    whole = [C @ np.linalg.solve(x * np.eye(3) - A, B) for x in s]
    np.testing.assert_allclose(np.ravel(parts), np.ravel(whole), rtol=1e-12)
    result = balanced_truncation(system, 2)
    assert result.n_unstable == 1
    assert np.all(np.isfinite(result.hankel_singular_values))
    assert np.min(np.abs(np.linalg.eigvals(result.system.A))) < 1e-8


def test_hankel_singular_values_finite_on_ill_conditioned_aggregate():
    # Heterogeneous turbine aggregate: HSVs span many decades (hsvd is NaN-prone here).
    rng = np.random.default_rng(11)
    tau = np.sort(rng.uniform(1.0, 10.0, 40))
    turbines = control.ss(np.diag(-1.0 / tau), (0.02 / tau)[:, None], np.ones((1, 40)), 0.0)
    result = balanced_truncation(turbines, 3, output_weight=control.tf([1.0, 3e-2], [1.0, 1e-4]))
    hsv = result.hankel_singular_values
    assert np.all(np.isfinite(hsv)) and np.all(hsv >= 0) and np.all(np.diff(hsv) <= 0)


def test_bad_input_raises_clear_errors():
    system = control.tf([1.0], [1.0, 2.0, 1.0])
    with pytest.raises(ValueError, match="stable"):
        balanced_truncation(system, 1, output_weight=control.tf([1.0], [1.0, -1.0]))
    with pytest.raises(ValueError, match="order must lie"):
        balanced_truncation(system, 3)
    with pytest.raises(ValueError, match="order must lie"):
        balanced_truncation(system, -1)
    with pytest.raises(ValueError, match="not proper"):
        balanced_truncation(control.tf([1.0, 0.0, 0.0], [1.0, 1.0]), 1)
    with pytest.raises(ValueError, match="continuous-time"):
        balanced_truncation(control.tf([1.0], [1.0, 0.5], dt=0.1), 1)
    with pytest.raises(ValueError, match="non-finite"):
        balanced_truncation(control.ss([[np.nan, 0.0], [0.0, -1.0]], [[1.0], [1.0]], [[1.0, 1.0]], 0.0), 1)
    with pytest.raises(ValueError, match="1 inputs"):
        balanced_truncation(system, 1, output_weight=control.ss(-np.eye(1), np.ones((1, 2)), np.ones((1, 1)), 0.0))
    with pytest.raises(ValueError, match="exactly one"):
        balanced_truncation(system)
    with pytest.raises(TypeError):
        balanced_truncation(np.eye(2), 1)
