"""Tests of gridcoherence.reduction.machines: Table 3-II (Sec. 3.3.3), interpretation,
baselines, structured large-aggregate path, bad input."""

import control
import numpy as np
import pytest
import scipy.linalg

from gridcoherence._numeric import tall_qr
from gridcoherence.coherence.aggregate import coherent_aggregate
from gridcoherence.reduction.machines import (
    closed_loop_system,
    germond_podmore_aggregate,
    interpret_machine,
    reduce_aggregate,
)
from gridcoherence.report.metrics import step_error_metrics
from gridcoherence.models.nodes import SwingTurbineNodes

# Table 3-I: five generators; mhat, dhat of the group.
GAINS = np.array([0.0218, 0.0256, 0.0236, 0.0255, 0.0192])
TAUS = np.array([9.08, 5.26, 2.29, 7.97, 3.24])
PUBLISHED = {  # Table 3-II: L2, Linf, Hinf
    "Germond": (3.9594, 1.9974, 5.1431),
    "BT2-tb": (4.3737, 2.1454, 7.5879),
    "BT2-cl": (2.0376, 0.9934, 2.0381),
    "BT3-tb": (0.0967, 0.0361, 0.1315),
    "BT3-cl": (0.0704, 0.0249, 0.0317),
}


@pytest.fixture(scope="module")
def table_aggregate():
    return SwingTurbineNodes([0.0683], [0.0107], turbine_gain=[GAINS], turbine_tau=[TAUS])


def random_aggregate(p, seed):
    rng = np.random.default_rng(seed)
    gain = rng.uniform(0.5, 1.5, p) * 0.1157 / p
    return SwingTurbineNodes([0.0683], [0.0107], turbine_gain=gain, turbine_tau=rng.uniform(2.0, 10.0, p),
                             turbine_node=np.zeros(p, dtype=np.int64))


@pytest.fixture(scope="module")
def table_models(table_aggregate):
    models = {"Germond": closed_loop_system(germond_podmore_aggregate(table_aggregate))}
    for order in (2, 3):
        for method in ("tb", "cl"):
            models[f"BT{order}-{method}"] = reduce_aggregate(table_aggregate, order, method).system
    return models


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_table3_2_within_one_percent(name, table_aggregate, table_models):
    metrics = step_error_metrics(closed_loop_system(table_aggregate), table_models[name], step=1.0)
    ours = np.array([metrics.l2_error, metrics.linf_error, metrics.hinf_error])
    np.testing.assert_allclose(ours, PUBLISHED[name], rtol=0.01)


def test_bt3_tb_turbine_interpretation(table_aggregate):
    result = reduce_aggregate(table_aggregate, 3, "tb")
    # Published reduced turbine (0.0266 s + 0.0057)/(s^2 + 0.5046 s + 0.0489).
    tf = control.tf(result.turbine)
    num, den = tf.num[0][0] / tf.den[0][0][0], tf.den[0][0] / tf.den[0][0][0]
    np.testing.assert_array_equal(np.round(num, 4), [0.0266, 0.0057])
    np.testing.assert_allclose(den[1:], [0.5046, 0.0489], rtol=5e-3)
    # = 0.0473/(2.68 s + 1) + 0.0684/(7.64 s + 1); the machine part is mhat, dhat.
    interpretation = result.interpretation
    assert interpretation.physical
    np.testing.assert_allclose(interpretation.turbine_tau, [2.68, 7.64], rtol=5e-3)
    np.testing.assert_allclose(interpretation.turbine_gain, [0.0473, 0.0684], rtol=5e-3)
    np.testing.assert_allclose([interpretation.m, interpretation.d], [0.0683, 0.0107], rtol=5e-3)


def test_bt2_cl_machine_interpretation(table_aggregate):
    interpretation = reduce_aggregate(table_aggregate, 2, "cl").interpretation
    assert interpretation.physical and interpretation.reason == ""
    np.testing.assert_allclose(
        [interpretation.m, interpretation.d, interpretation.turbine_gain[0], interpretation.turbine_tau[0]],
        [0.06715, 0.01464, 0.1118, 4.9733], rtol=5e-3,
    )
    nodes = interpretation.to_nodes()
    s = np.array([0.05j, 0.4j, 2.0j])
    model = reduce_aggregate(table_aggregate, 2, "cl").system
    np.testing.assert_allclose(nodes.transfer(s)[:, 0], model(s).ravel(), rtol=1e-10)


@pytest.mark.parametrize("method,order", [("cl", 2), ("cl", 3), ("tb", 2), ("tb", 3)])
def test_dc_matched_exactly(method, order, table_aggregate):
    result = reduce_aggregate(table_aggregate, order, method)
    exact = 1.0 / (0.0107 + GAINS.sum())
    assert abs(float(result.system.dcgain()) - exact) <= 1e-12 * exact


def test_group_of_nodes_is_aggregated(table_aggregate):
    nodes = SwingTurbineNodes(np.full(5, 0.0683 / 5), np.full(5, 0.0107 / 5), turbine_gain=GAINS, turbine_tau=TAUS)
    from_group = reduce_aggregate(nodes, 3, "cl", group=np.arange(5))
    direct = reduce_aggregate(coherent_aggregate(nodes), 3, "cl")
    w = np.logspace(-3, 1, 40)
    np.testing.assert_allclose(from_group.system(1j * w), direct.system(1j * w), rtol=1e-12)
    np.testing.assert_allclose(from_group.system(1j * w), reduce_aggregate(table_aggregate, 3, "cl").system(1j * w),
                               rtol=1e-9)


def test_nonphysical_interpretation_is_flagged():
    # 1/(s^2 + 0.2 s + 1) * (s + 3): N = s + 3, D = s^2 + 0.2 s + 1 = (s - 2.8)(s + 3) + 9.4.
    interpretation = interpret_machine(control.tf([1.0, 3.0], [1.0, 0.2, 1.0]))
    assert interpretation.m == pytest.approx(1.0) and interpretation.d == pytest.approx(-2.8)
    assert not interpretation.physical and "damping" in interpretation.reason
    with pytest.raises(ValueError, match="no physical interpretation"):
        interpretation.to_nodes()
    complex_turbines = interpret_machine(control.tf([1.0, 0.2, 1.0], [1.0, 1.0, 2.0, 1.0]))
    assert not complex_turbines.physical and "complex" in complex_turbines.reason


@pytest.mark.parametrize("method", ["cl", "tb"])
def test_structured_path_matches_dense(method):
    aggregate = random_aggregate(500, seed=4)
    dense = reduce_aggregate(aggregate, 3, method, structured=False)
    fast = reduce_aggregate(aggregate, 3, method, structured=True)
    assert fast.structured and not dense.structured
    w = np.logspace(-4, 2, 100)
    expected = dense.system(1j * w).ravel()
    np.testing.assert_allclose(fast.system(1j * w).ravel(), expected, atol=1e-8 * np.abs(expected).max())
    np.testing.assert_allclose(fast.hankel_singular_values[:4], dense.hankel_singular_values[:4],
                               rtol=0, atol=1e-10 * dense.hankel_singular_values[0])


def test_tall_qr_by_blocks_is_the_householder_qr():
    # Tall, with singular values from 1 down to 1e-15 (the rational Krylov blocks are
    # numerically rank deficient): R equals LAPACK's up to the signs of its rows.
    rng = np.random.default_rng(7)
    left = np.linalg.qr(rng.standard_normal((9000, 50)))[0]
    X = left @ np.diag(np.logspace(0, -15, 50)) @ np.linalg.qr(rng.standard_normal((50, 50)))[0]
    Q, R = tall_qr(X, block_rows=200)  # 45 blocks; the stack of their R factors is blocked again, twice
    expected = scipy.linalg.qr(X, mode="r")[0][:50]
    signs = np.sign(np.diag(R) * np.diag(expected))
    np.testing.assert_allclose(signs[:, None] * R, expected, rtol=0, atol=1e-13)
    np.testing.assert_allclose(Q.T @ Q, np.eye(50), rtol=0, atol=1e-13)
    np.testing.assert_allclose(Q @ R, X, rtol=0, atol=1e-14)
    np.testing.assert_allclose(tall_qr(X, "r", block_rows=200), R, rtol=0, atol=1e-14)
    with pytest.raises(ValueError, match="mode"):
        tall_qr(X, "full")


@pytest.mark.parametrize("method", ["cl", "tb"])
def test_structured_path_is_the_same_with_one_qr_over_all_turbines(method, monkeypatch):
    from gridcoherence.reduction import machines

    aggregate = random_aggregate(6000, seed=6)  # 6001 rows: blocked QRs
    blocked = reduce_aggregate(aggregate, 3, method)
    monkeypatch.setattr(machines, "tall_qr", lambda X, mode="economic": tall_qr(X, mode, block_rows=10**9))
    whole = reduce_aggregate(aggregate, 3, method)
    assert blocked.structured and whole.structured
    w = np.logspace(-4, 2, 60)
    expected = whole.system(1j * w).ravel()
    np.testing.assert_allclose(blocked.system(1j * w).ravel(), expected, rtol=0, atol=1e-10 * np.abs(expected).max())
    np.testing.assert_allclose(blocked.hankel_singular_values, whole.hankel_singular_values, rtol=0,
                               atol=1e-10 * whole.hankel_singular_values[0])


def test_closed_loop_basis_from_half_the_solves_spans_all_of_them():
    # "cl": A^T = J A J (J = diag(1, -I)) and B, C^T along e_1, so the solves with A^T are
    # not made; every solve with A and with A^T still lies in the basis.
    from gridcoherence.reduction import machines

    matrix, B, C = machines._structured_operator(random_aggregate(3000, seed=8), "cl")
    shifts = np.r_[0.0, np.geomspace(1e-3, 10.0, 40)]
    basis = machines._rational_krylov_basis(matrix, B, C, shifts)
    np.testing.assert_allclose(basis.T @ basis, np.eye(basis.shape[1]), rtol=0, atol=1e-13)
    solves = np.hstack([matrix.shifted_solve(s, B) for s in shifts] + [matrix.shifted_solve(s, C.T, True)
                                                                      for s in shifts])
    outside = np.linalg.norm(solves - basis @ (basis.T @ solves), axis=0) / np.linalg.norm(solves, axis=0)
    assert outside.max() < 1e-11
    assert basis.shape[1] == np.linalg.matrix_rank(solves, tol=1e-13 * np.linalg.norm(solves, 2))  # no extra ones


@pytest.mark.parametrize("method", ["cl", "tb"])
def test_lyapunov_residual_equals_the_dense_one(method):
    from gridcoherence.reduction import machines
    from gridcoherence.reduction.balanced import controllability_factor

    matrix, B, C = machines._structured_operator(random_aggregate(300, seed=9), method)
    basis = machines._rational_krylov_basis(matrix, B, C, np.r_[0.0, np.geomspace(1e-2, 10.0, 6)])
    A_basis = matrix.matmat(basis)
    Ar, Br = basis.T @ A_basis, basis.T @ B
    S = controllability_factor(Ar, Br)
    P = S @ S.T
    A = matrix.matmat(np.eye(basis.shape[0]))
    X = basis @ P @ basis.T
    dense = np.linalg.norm(A @ X + X @ A.T + B @ B.T) / (2.0 * np.linalg.norm(A_basis) * np.linalg.norm(P)
                                                         + np.linalg.norm(B.T @ B))
    assert dense > 1e-6  # a few shifts only: far from converged, so the comparison is not of round-off
    assert machines._lyapunov_residual(basis, A_basis, Ar, Br, P, B) == pytest.approx(dense, rel=1e-6)


def test_structured_turbine_reduction_builds_no_dense_turbine_system(monkeypatch):
    from gridcoherence.reduction import machines

    def dense(aggregate):
        raise AssertionError("the p x p turbine system was built")

    monkeypatch.setattr(machines, "turbine_system", dense)
    assert reduce_aggregate(random_aggregate(500, seed=4), 3, "tb", structured=True).structured
    with pytest.raises(AssertionError, match="p x p"):
        reduce_aggregate(random_aggregate(500, seed=4), 3, "tb", structured=False)


def test_structured_path_handles_100k_turbines():
    aggregate = random_aggregate(100_000, seed=5)
    result = reduce_aggregate(aggregate, 3, "cl")
    assert result.structured and result.system.nstates == 3
    assert np.all(np.linalg.eigvals(result.system.A).real < 0)
    exact = 1.0 / (0.0107 + aggregate.turbine_gain.sum())
    assert abs(float(result.system.dcgain()) - exact) <= 1e-12 * exact


def test_bad_input(table_aggregate):
    with pytest.raises(ValueError, match="order"):
        reduce_aggregate(table_aggregate, 1, "tb")
    with pytest.raises(ValueError, match="order"):
        reduce_aggregate(table_aggregate, 7, "cl")
    with pytest.raises(ValueError, match="method"):
        reduce_aggregate(table_aggregate, 2, "xx")
    with pytest.raises(ValueError, match="stable"):
        reduce_aggregate(table_aggregate, 2, "cl", weight=control.tf([1.0, 1.0], [1.0, -0.1]))
    with pytest.raises(ValueError, match="no turbines"):
        reduce_aggregate(SwingTurbineNodes([1.0], [0.1]), 1, "cl")
    with pytest.raises(TypeError):
        reduce_aggregate(control.tf([1.0], [1.0, 1.0]), 1, "cl")


def test_table3_2_driver_writes_json_and_png(tmp_path):
    from gridcoherence.studies.experiments.aggregate_order import table3_2

    result = table3_2(tmp_path, quick=True)
    assert (tmp_path / "table3_2.json").stat().st_size > 0 and (tmp_path / "table3_2.png").stat().st_size > 0
    for name in PUBLISHED:
        assert abs(result["rows"][name]["relative_difference"]["l2_error"]) < 0.01
