"""Step-response comparison table: agreement with the metric functions, features, errors, bad input."""

import math

import control
import numpy as np
import pandas as pd
import pytest
from scipy.linalg import expm
from scipy.optimize import brentq

import gridcoherence as gc
from gridcoherence.models.lti import stable_unstable_split
from gridcoherence.cases.loader import load_case
from gridcoherence.report.compare import COLUMNS, UNITS, compare_step_responses
from gridcoherence.report.metrics import step_error_metrics
from gridcoherence.reduction.structure import structure_preserving_reduction
from gridcoherence.cli import main

STEP = -0.1
FEATURES = ["nadir", "nadir_time", "max_rocof", "settling_time"]


@pytest.fixture(scope="module")
def kundur():
    model = load_case("kundur_two_area").model
    return model, structure_preserving_reduction(model, 2)


@pytest.fixture(scope="module")
def kundur_table(kundur):
    """Kundur k = 2 disturbed at G1 on a 20 s grid (its modes decay over minutes: unsettled)."""
    model, reduced = kundur
    with pytest.warns(UserWarning, match="settling band"):
        return compare_step_responses(model, {"k=2": reduced}, u0=0, step=STEP, t=np.linspace(0.0, 20.0, 401))


def group_system(model, u0, weights, partition=None):
    """Independent SISO group system: dense realization, Schur split of the zero mode.

    ``partition`` (P, n x k) lifts a k-node model to the original nodes.
    """
    full = model.to_statespace()
    A, B, C, D = (np.asarray(x) for x in (full.A, full.B, full.C, full.D))
    if partition is not None:
        B, C, D = B @ partition.T, partition @ C, partition @ D @ partition.T
    b, c, d = B @ u0, weights @ C, weights @ D @ u0
    (As, Bs, Cs), (Au, _, Cu) = stable_unstable_split(A, b[:, None], c[None, :], 1e-9)
    assert Au.shape == (1, 1) and np.abs(Cu).max() < 1e-10  # the zero mode, unobservable
    return control.ss(As, Bs, Cs, d)


def coi_weights(model, nodes):
    w = np.zeros(model.n)
    w[nodes] = model.inertia[nodes] / model.inertia[nodes].sum()
    return w


def test_table_agrees_with_metric_functions(kundur, kundur_table):
    model, reduced = kundur
    table = kundur_table
    u0 = np.eye(model.n)[0]
    assert list(table.columns) == list(COLUMNS) and table.attrs["units"] == UNITS
    assert table["model"].tolist() == ["original"] * 2 + ["k=2"] * 2
    P = reduced.partition.matrix.toarray()
    for c in range(2):
        w = coi_weights(model, np.flatnonzero(reduced.labels == c))
        expected = step_error_metrics(group_system(model, u0, w), group_system(reduced, u0, w, P), STEP)
        row = table[(table["model"] == "k=2") & (table["group"] == f"area {c + 1}")].iloc[0]
        assert row["error_method"] == "exact"
        assert row["l2_error"] == pytest.approx(expected.l2_error, rel=1e-8)
        assert row["linf_error"] == pytest.approx(expected.linf_error, rel=1e-8)
        assert row["hinf_error"] == pytest.approx(expected.hinf_error, rel=1e-6)
        assert expected.l2_error > 1e-3  # a real error, not a trivially zero comparison
    own = table[table["model"] == "original"]
    assert (own[["l2_error", "linf_error", "hinf_error"]] == 0.0).all().all()


def test_features_against_fine_exact_responses(kundur, kundur_table):
    model, reduced = kundur
    table = kundur_table
    u0 = np.eye(model.n)[0]
    fine = np.linspace(0.0, 20.0, 40001)
    P = reduced.partition.matrix.toarray()
    for name, system_of in (("original", lambda w: group_system(model, u0, w)),
                            ("k=2", lambda w: group_system(reduced, u0, w, P))):
        for c in range(2):
            system = system_of(coi_weights(model, np.flatnonzero(reduced.labels == c)))
            y = STEP * control.step_response(system, fine).outputs
            row = table[(table["model"] == name) & (table["group"] == f"area {c + 1}")].iloc[0]
            k = int(np.argmax(np.abs(y)))
            assert row["nadir"] == pytest.approx(y[k], rel=1e-5)
            assert row["nadir_time"] == pytest.approx(fine[k], abs=2e-3)
            rate = np.gradient(y, fine)
            assert row["max_rocof"] == pytest.approx(np.abs(rate).max(), rel=1e-3)
            assert row["steady_state"] == pytest.approx(STEP * control.dcgain(system), rel=1e-9)
            assert np.isinf(row["settling_time"])


def fine_features(system, step, horizon, band, points=100_000):
    """Nadir, its time, max RoCoF and settling time of a SISO step response by direct simulation.

    z = [x; 1] obeys z' = M z with M = [[A, step b], [0, 0]]: z is propagated by exp(M h) on
    ``points`` samples, and each extreme is refined by Brent's method on its derivative,
    evaluated with exp(M s) at any s. The RoCoF of swing nodes peaks at t = 0+.
    """
    A, B, C, D = (np.asarray(x, dtype=float) for x in (system.A, system.B, system.C, system.D))
    n = A.shape[0]
    M = np.zeros((n + 1, n + 1))
    M[:n, :n], M[:n, n] = A, step * B[:, 0]
    rows = np.array([np.r_[C[0], step * D[0, 0]], np.r_[C[0] @ A, step * C[0] @ B[:, 0]],
                     np.r_[C[0] @ A @ A, step * C[0] @ A @ B[:, 0]]])
    t = np.linspace(0.0, horizon, points)
    propagator, z, states = expm(M * t[1]), np.r_[np.zeros(n), 1.0], np.empty((points, n + 1))
    for i in range(points):
        states[i], z = z, propagator @ z
    y, rate = states @ rows[0], states @ rows[1]

    def at(row, s):
        return rows[row] @ expm(M * s)[:, n]

    def refined_extreme(values, row):
        k = int(np.argmax(np.abs(values)))
        if k == 0:
            return values[0], 0.0
        time = brentq(lambda s: at(row + 1, s), t[k - 1], t[min(k + 1, points - 1)], xtol=1e-12)
        return at(row, time), time

    nadir, nadir_time = refined_extreme(y, 0)
    steady = step * float(control.dcgain(system))
    tolerance = band * abs(steady)

    def excess(s):
        return abs(at(0, s) - steady) - tolerance

    distance = np.abs(y - steady)
    last = np.flatnonzero(distance > tolerance)[-1]
    if last == points - 1:
        settling = math.inf
    else:
        # A swing that peaks just above the band between two later samples leaves it last.
        start, end = t[last], t[last + 1]
        peaks = last + 1 + np.flatnonzero((distance[last + 1:-1] >= distance[last:-2])
                                          & (distance[last + 1:-1] >= distance[last + 2:]))
        # Between samples a peak exceeds the samples by at most h^2 / 2 max|y''|.
        for i in peaks[distance[peaks] + t[1] ** 2 * np.abs(states[peaks] @ rows[2]) > tolerance]:
            peak = brentq(lambda s: at(1, s), t[i - 1], t[i + 1], xtol=1e-12)
            if excess(peak) > 0.0:
                start, end = peak, t[i + 1]
        settling = brentq(excess, start, end, xtol=1e-12)
    return {"nadir": nadir, "nadir_time": nadir_time, "max_rocof": abs(refined_extreme(rate, 1)[0]),
            "settling_time": settling}


@pytest.fixture(scope="module")
def kundur_fine(kundur):
    """Independent features of Kundur's and its k = 2 model's cluster outputs over 3000 s (they settle by ~1200 s)."""
    model, reduced = kundur
    u0, P = np.eye(model.n)[0], reduced.partition.matrix.toarray()
    fine = {}
    for c in range(2):
        w = coi_weights(model, np.flatnonzero(reduced.labels == c))
        fine["original", f"area {c + 1}"] = fine_features(group_system(model, u0, w), STEP, 3000.0, 0.02)
        fine["k=2", f"area {c + 1}"] = fine_features(group_system(reduced, u0, w, P), STEP, 3000.0, 0.02)
    return fine


def assert_features_match(table, fine, rtol=1e-6):
    for row in table.itertuples(index=False):
        expected = fine[row.model, row.group]
        for column in FEATURES:
            assert getattr(row, column) == pytest.approx(expected[column], rel=rtol), (row.model, row.group, column)
        assert row.features_resolved


@pytest.mark.parametrize("points", [2, 21, 2401])
def test_features_do_not_depend_on_the_grid(kundur, kundur_fine, points):
    """2, 21 or 2401 samples of the same 3000 s horizon: the same exact features.

    On a 2-sample grid the old sampled features read the nadir off one cubic over the whole horizon.
    """
    model, reduced = kundur
    table = compare_step_responses(model, {"k=2": reduced}, u0=0, step=STEP, t=np.linspace(0.0, 3000.0, points))
    assert_features_match(table, kundur_fine)
    assert table["settling_time"].between(500.0, 3000.0).all()  # a real settling time, inside the horizon


def test_a_huge_horizon_keeps_the_true_nadir_time(kundur, kundur_fine):
    model, reduced = kundur
    table = compare_step_responses(model, {"k=2": reduced}, u0=0, step=STEP, t=np.linspace(0.0, 1e9, 2401))
    assert_features_match(table, kundur_fine)
    assert table["nadir_time"].max() < 4.0  # the first swing, not the end of the grid


def test_a_short_horizon_reports_an_unsettled_output(kundur, kundur_fine):
    """Over 120 s Kundur's modes still ring: the same nadir, settling time inf with its warning."""
    model, reduced = kundur
    with pytest.warns(UserWarning, match="settling band") as caught:
        table = compare_step_responses(model, {"k=2": reduced}, u0=0, step=STEP, t=np.linspace(0.0, 120.0, 21))
    assert not any("features not resolved" in str(w.message) for w in caught)
    assert np.isposinf(table["settling_time"]).all()
    for row in table.itertuples(index=False):
        expected = kundur_fine[row.model, row.group]
        assert row.nadir == pytest.approx(expected["nadir"], rel=1e-6)
        assert row.nadir_time == pytest.approx(expected["nadir_time"], rel=1e-6)


def test_command_line_reports_the_true_nadir_on_two_points(kundur, tmp_path):
    model, reduced = kundur
    out = tmp_path / "out"
    with pytest.warns(UserWarning, match="settling band"):
        assert main(["reduce", "kundur_two_area", "-k", "2", "--points", "2", "--out", str(out), "--quiet"]) == 0
    table = pd.read_csv(out / "step_comparison.csv")
    assert table["features_resolved"].all()
    # The command line's disturbance: -1 p.u. at node 0, over 120 s.
    for c in range(2):
        w = coi_weights(model, np.flatnonzero(reduced.labels == c))
        expected = fine_features(group_system(model, np.eye(model.n)[0], w), -1.0, 120.0, 0.02, points=20_000)
        row = table[(table["model"] == "original") & (table["group"] == f"area {c + 1}")].iloc[0]  # areas from 1
        assert row["nadir_rad_s"] == pytest.approx(expected["nadir"], rel=1e-6)
        assert row["nadir_time_s"] == pytest.approx(expected["nadir_time"], rel=1e-6)
        assert row["max_rocof_rad_s2"] == pytest.approx(expected["max_rocof"], rel=1e-6)


def sampled_kundur(model):
    return lambda u, times: model.response(u, "step", times)


def test_a_sampled_model_on_a_coarse_grid_is_flagged(kundur):
    model, _ = kundur
    with pytest.warns(UserWarning, match="features not resolved") as caught:
        table = compare_step_responses(model, {"simulated": sampled_kundur(model)}, u0=0, step=STEP,
                                       t=np.linspace(0.0, 120.0, 21))
    flags = next(str(w.message) for w in caught if "features not resolved" in str(w.message))
    assert "the grid step 6 s is coarser than 1/10 of the" in flags
    assert "period of the reference's dominant oscillation: simulated/all" in flags
    assert table["features_resolved"].tolist() == [True, False]


def test_a_sampled_model_on_a_fine_grid_is_not_flagged(kundur):
    model, _ = kundur
    with pytest.warns(UserWarning, match="only known by samples") as caught:
        table = compare_step_responses(model, {"simulated": sampled_kundur(model)}, u0=0, step=STEP,
                                       t=np.linspace(0.0, 120.0, 2401))
    assert not any("features not resolved" in str(w.message) for w in caught)
    assert table["features_resolved"].all()
    reference, sampled = table.iloc[0], table.iloc[1]
    assert sampled["nadir"] == pytest.approx(reference["nadir"], rel=1e-4)
    assert sampled["nadir_time"] == pytest.approx(reference["nadir_time"], abs=1e-2)


def test_sampled_network_features_are_flagged_on_a_coarse_grid(kundur, kundur_fine):
    """exact_limit=0 sends the networks to the sampled path: on a coarse grid their exact
    curvature disowns their cubic interpolant; on a fine one the extremes approach the exact
    ones. (Not the settling time: a swing that leaves the band by 3e-3 of its width between
    two samples, as k=2/cluster 0's does at 1045.5 s, is invisible to samples.)"""
    model, reduced = kundur
    with pytest.warns(UserWarning, match="features not resolved") as caught:
        coarse = compare_step_responses(model, {"k=2": reduced}, u0=0, step=STEP, exact_limit=0,
                                        t=np.linspace(0.0, 3000.0, 21))
    assert not coarse["features_resolved"].any()
    flags = next(str(w.message) for w in caught if "features not resolved" in str(w.message))
    assert "does not resolve the response" in flags and "original/area 1" in flags
    t = np.linspace(0.0, 3000.0, 60_001)  # 17 samples per period of the fastest local mode
    fine = compare_step_responses(model, {"k=2": reduced}, u0=0, step=STEP, exact_limit=0, t=t)
    assert fine["features_resolved"].all()
    for row in fine.itertuples(index=False):
        expected = kundur_fine[row.model, row.group]
        # Hermite refinement: error O(h^4) in the extremes.
        assert row.nadir == pytest.approx(expected["nadir"], rel=1e-4)
        assert row.nadir_time == pytest.approx(expected["nadir_time"], abs=1e-3)
        assert row.max_rocof == pytest.approx(expected["max_rocof"], rel=1e-4)


def test_steady_state_is_the_exact_synchronous_frequency(damped):
    model, reduced = damped
    u0 = np.array([1.0, 0.0, 0.5, 0.0, 0.0, -0.2])
    table = compare_step_responses(model, {"k=2": reduced}, u0=u0, step=2.0, t=np.linspace(0, 40, 2001))
    # f = 1/s: every node settles at sum(u) / sum(d + turbine gains).
    nodes = model.nodes
    synchronous = 2.0 * u0.sum() / (nodes.d.sum() + nodes.turbine_gain.sum())
    np.testing.assert_allclose(table["steady_state"], synchronous, rtol=1e-10)
    assert np.all(np.isfinite(table["l2_error"]))  # aggregation keeps the DC gain


def test_settling_time_is_when_the_band_is_last_left(damped):
    model, reduced = damped
    band = 0.01
    table = compare_step_responses(model, {"k=2": reduced}, u0=1, step=STEP, settling_band=band,
                                   t=np.linspace(0.0, 60.0, 1501))
    t = np.linspace(0.0, 60.0, 6001)
    y = model.response(STEP * np.eye(model.n)[1], t=t).y
    for c in range(2):
        row = table[(table["model"] == "original") & (table["group"] == f"area {c + 1}")].iloc[0]
        y_group = y @ coi_weights(model, np.flatnonzero(reduced.labels == c))
        outside = np.abs(y_group - row["steady_state"]) > band * abs(row["steady_state"])
        last_outside = t[np.flatnonzero(outside)[-1]]
        assert 1.0 < row["settling_time"] < 50.0
        assert row["settling_time"] == pytest.approx(last_outside, abs=1e-2)


def test_sampled_path_agrees_with_exact_path(damped):
    model, reduced = damped
    t = np.linspace(0.0, 40.0, 4001)
    exact = compare_step_responses(model, {"k=2": reduced}, u0=0, step=STEP, t=t)
    sampled = compare_step_responses(model, {"k=2": reduced}, u0=0, step=STEP, t=t, exact_limit=0)
    assert set(exact["error_method"]) == {"reference", "exact"}
    assert set(sampled["error_method"]) == {"reference", "sampled"}
    for column, rtol in (("l2_error", 1e-4), ("linf_error", 1e-6), ("hinf_error", 1e-6)):
        np.testing.assert_allclose(sampled[column], exact[column], rtol=rtol, err_msg=column)
    assert exact.loc[2:, "linf_error"].min() > 1e-5


def test_groups_default_dict_and_labels(damped):
    model, reduced = damped
    t = np.linspace(0.0, 10.0, 201)
    plain = compare_step_responses(model, {"same": model}, u0=0, t=t)
    assert plain["group"].tolist() == ["all", "all"] and plain["n_nodes"].tolist() == [6, 6]
    # The exact L2 is the square root of a Lyapunov quadratic form: rounding shows at sqrt(eps).
    assert plain.loc[1, "l2_error"] < 1e-7
    assert plain.loc[1, "linf_error"] < 1e-12 and plain.loc[1, "hinf_error"] < 1e-12
    groups = {"system": np.arange(6), "first three": np.array([0, 1, 2])}
    named = compare_step_responses(model, {"k=2": reduced}, u0=0, t=t, groups=groups)
    assert named["group"].tolist() == ["system", "first three"] * 2
    labelled = compare_step_responses(model, {"k=2": reduced}, u0=0, t=t, groups=np.array([5, 5, 5, 7, 7, 7]))
    assert labelled["group"].tolist() == ["area 6", "area 8"] * 2
    # The same node sets give the same numbers however they are named.
    np.testing.assert_allclose(labelled.loc[[0, 2], "nadir"], named.loc[[1, 3], "nadir"], rtol=1e-12)


def test_sampled_callable_model(damped):
    model, _ = damped
    t = np.linspace(0.0, 40.0, 2001)
    with pytest.warns(UserWarning, match="only known by samples"):
        table = compare_step_responses(model, {"simulated": lambda u, times: model.response(u, "step", times)},
                                       u0=2, step=STEP, t=t)
    row = table.iloc[1]
    assert row["error_method"] == "sampled" and np.isnan(row["hinf_error"])
    assert row["l2_error"] < 1e-12 and row["linf_error"] < 1e-12
    # Same samples; only the refinement differs (finite-difference vs exact derivatives).
    assert row["nadir"] == pytest.approx(table.iloc[0]["nadir"], rel=1e-4)
    assert row["max_rocof"] == pytest.approx(table.iloc[0]["max_rocof"], rel=1e-2)
    assert row["steady_state"] == pytest.approx(table.iloc[0]["steady_state"], rel=1e-3)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"u0": [np.nan, 0, 0, 0, 0, 0]}, ValueError, "non-finite"),
    ({"u0": [1.0, 0.0]}, ValueError, "length"),
    ({"u0": 9}, IndexError, "outside"),
    ({"u0": 0, "groups": {"a": [0, 1, 2]}}, ValueError, "do not cover"),
    ({"u0": 0, "groups": {"a": [0, 1, 2], "b": [3, 4, 6]}}, IndexError, "outside 0..5"),
    ({"u0": 0, "groups": {"a": [0, 1, 2, 2], "b": [3, 4, 5]}}, ValueError, "more than once"),
    ({"u0": 0, "groups": [0, 1]}, ValueError, "shape"),
    ({"u0": 0, "step": 0.0}, ValueError, "step"),
    ({"u0": 0, "settling_band": 1.5}, ValueError, "settling_band"),
    ({"u0": 0, "t": [0.0, 1.0, 3.0]}, ValueError, "uniformly"),
])
def test_bad_input_is_rejected(damped, kwargs, error, match):
    model, reduced = damped
    with pytest.raises(error, match=match):
        compare_step_responses(model, {"k=2": reduced}, **kwargs)


def test_bad_models_are_rejected(damped, kundur):
    model, reduced = damped
    other, other_reduced = kundur
    with pytest.raises(ValueError, match="has 4 nodes"):
        compare_step_responses(model, {"other": other}, u0=0)
    with pytest.raises(ValueError, match="reduces a network of 4 nodes"):
        compare_step_responses(model, {"other": other_reduced}, u0=0)
    with pytest.raises(TypeError, match="must be a ReducedNetwork"):
        compare_step_responses(model, {"tf": 3.0}, u0=0)
    with pytest.raises(TypeError, match="reference must be a NetworkModel"):
        compare_step_responses(reduced.to_statespace(), {"k=2": reduced}, u0=0)
    with pytest.raises(ValueError, match="name of the reference"):
        compare_step_responses(model, {"original": reduced}, u0=0)
    with pytest.raises(ValueError, match="shape"):
        compare_step_responses(model, {"bad": lambda u, t: np.zeros((t.size, 2))}, u0=0,
                               t=np.linspace(0, 1, 11))


# ------------------------------------------------------------- outputs without a steady state
UNDAMPED_EDGES = [(0, 1, 20.0), (1, 2, 25.0), (0, 2, 18.0), (3, 4, 22.0), (4, 5, 19.0), (3, 5, 21.0),
                  (2, 3, 0.8), (0, 5, 0.5)]
UNDAMPED_INERTIA = [0.10, 0.15, 0.12, 0.08, 0.20, 0.11]


@pytest.fixture(scope="module")
def nyps68():
    """The 16-machine benchmark: zero damping, no governors, so y_COI ramps for ever."""
    model = load_case("nets_nyps68").model
    return model, structure_preserving_reduction(model, 5)


def diverging_table(model, reduced, t, u0=0, step=STEP):
    with pytest.warns(UserWarning, match="no steady state") as caught:
        table = compare_step_responses(model, {"k": reduced}, u0=u0, step=step, t=t)
    # One summary of the divergence and one flag of the nadirs, no settling-band warning on top.
    messages = [str(w.message) for w in caught]
    assert len(messages) == 2 and not any("settling band" in m for m in messages)
    divergence = next(m for m in messages if "no steady state" in m)
    assert "[0, 30] s" in divergence
    # Every output ramps, so every nadir is where the horizon cuts the ramp.
    flags = next(m for m in messages if "features not resolved" in m)
    assert "nadir set by the horizon end t = 30 s" in flags and "has not settled" in flags
    assert all(f"{m}/{g}" in flags for m, g in table[["model", "group"]].itertuples(index=False))
    assert not table["features_resolved"].any()
    return table


def test_undamped_benchmark_gives_a_finite_horizon_table(nyps68):
    model, reduced = nyps68
    t = np.linspace(0.0, 30.0, 1501)
    table = diverging_table(model, reduced, t)
    assert len(table) == 10 and not table.drop(columns="hinf_error").isna().any().any()
    assert (table["steady_state"] == -np.inf).all() and np.isposinf(table["settling_time"]).all()
    assert table["error_method"].tolist() == ["reference"] * 5 + ["finite horizon"] * 5
    # Independent check: the group COI outputs on a 4x finer grid of both models' simulations.
    fine = np.linspace(0.0, 30.0, 6001)
    y = model.response(STEP * np.eye(model.n)[0], "step", fine).y
    y_reduced = reduced.lifted_response(STEP * np.eye(model.n)[0], "step", fine).y
    rows = table[table["model"] == "k"]
    for c, row in zip(range(5), rows.itertuples()):
        w = coi_weights(model, np.flatnonzero(reduced.labels == c))
        error = (y - y_reduced) @ w
        assert row.linf_error == pytest.approx(np.abs(error).max(), rel=1e-4)
        assert row.l2_error == pytest.approx(np.sqrt(np.trapezoid(error**2, fine)), rel=1e-3)
        assert row.linf_error > 1e-3
    # Lossless machines on 1/s lines: every mode is undamped and the two models resonate at
    # different frequencies, so the transfer-function error is unbounded.
    assert np.isposinf(rows["hinf_error"]).all()


def test_ramp_sign_follows_the_disturbance():
    nodes = gc.SwingTurbineNodes(UNDAMPED_INERTIA, [0.0] * 6)
    model = gc.NetworkModel(nodes, UNDAMPED_EDGES, "1/s")
    table = diverging_table(model, structure_preserving_reduction(model, 2), np.linspace(0.0, 30.0, 601),
                            u0=np.array([1.0, 0.0, 0.0, 0.0, 0.0, -0.4]), step=2.0)
    assert (table["steady_state"] == np.inf).all()
    # Comparing the model with itself: the ramps and the undamped modes cancel exactly.
    with pytest.warns(UserWarning, match="no steady state"):
        same = compare_step_responses(model, {"same": model}, u0=1, t=np.linspace(0.0, 30.0, 601))
    assert (same.loc[1, ["l2_error", "linf_error", "hinf_error"]] == 0.0).all()


def test_dissipative_coupling_gives_a_finite_hinf_error():
    """Lossless machines on lines f = (0.3 s + 1)/s: damped modes, but the COI still ramps."""
    nodes = gc.SwingTurbineNodes(UNDAMPED_INERTIA, [0.0] * 6)
    model = gc.NetworkModel(nodes, UNDAMPED_EDGES, gc.Coupling([0.3, 1.0], [1.0, 0.0]))
    reduced = structure_preserving_reduction(model, 2)
    table = diverging_table(model, reduced, np.linspace(0.0, 30.0, 1501))
    assert (table["steady_state"] == -np.inf).all()
    rows = table[table["model"] == "k"]
    assert np.all(np.isfinite(rows["hinf_error"])) and rows["hinf_error"].min() > 1e-3
    # The same supremum from dense transfer functions on a fine grid (the reduction keeps the
    # total inertia, so the 1/(M s) terms cancel and the difference is bounded at w -> 0; below
    # 0.01 rad/s the plain solves lose the difference to cancellation, and it is flat there).
    P = reduced.partition.matrix.toarray()
    w = np.logspace(-2, 3, 4001)
    u0 = np.eye(6)[0]
    for c, row in zip(range(2), rows.itertuples()):
        weights = coi_weights(model, np.flatnonzero(reduced.labels == c))
        original = [weights @ np.linalg.solve(model.system_matrix(1j * wk).toarray(), u0) for wk in w]
        lifted = [weights @ P @ np.linalg.solve(reduced.system_matrix(1j * wk).toarray(), P.T @ u0) for wk in w]
        assert row.hinf_error == pytest.approx(np.abs(np.subtract(original, lifted)).max(), rel=1e-4)


def test_modal_frequency_response_matches_lu_path(monkeypatch):
    """Nodes equal per unit inertia (g_i^{-1} = m_i phi): the eigendecomposition path of the
    sampled H-infinity sweep agrees with the per-frequency LU path on 300 machines."""
    import gridcoherence.report.responses as responses
    from gridcoherence.cases.random_nodes import random_family_nodes
    from gridcoherence.cases.synthetic import synthetic_grid

    m = random_family_nodes(300, 0).m
    nodes = gc.SwingTurbineNodes(m, 0.8 * m, turbine_gain=2.0 * m, turbine_tau=np.full(300, 3.0))
    model = gc.NetworkModel(nodes, synthetic_grid(300, random_state=1).laplacian, "1/s")
    reduced = structure_preserving_reduction(model, 4)
    t = np.linspace(0.0, 20.0, 401)
    used = []
    original = responses.LiftedNetwork._modal_response

    def spy(self, s):
        value = original(self, s)
        used.append(value is not None)
        return value

    def table():
        with pytest.warns(UserWarning):
            return compare_step_responses(model, {"k=4": reduced}, u0=3, t=t, exact_limit=0)

    monkeypatch.setattr(responses.LiftedNetwork, "_modal_response", spy)
    fast = table()
    assert any(used)
    monkeypatch.setattr(responses, "MODAL_MIN_NODES", 10**9)
    used.clear()
    slow = table()
    assert not any(used)
    rows = fast["model"] == "k=4"
    assert (fast.loc[rows, "error_method"] == "sampled").all()
    np.testing.assert_allclose(fast.loc[rows, "hinf_error"], slow.loc[rows, "hinf_error"], rtol=1e-6)
    assert (fast.loc[rows, "hinf_error"] > 0).all()
