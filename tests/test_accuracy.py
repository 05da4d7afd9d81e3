"""Accuracy with units, the tolerance search, single-machine areas, orders that reduce nothing, weights."""

import warnings

import control
import numpy as np
import pytest
import scipy.linalg as sla

import gridcoherence as gc
from gridcoherence.models.nodes import LTINodes
from gridcoherence.reduction.accuracy import default_disturbance
from gridcoherence.reduction.machines import AUTO_ORDER_RTOL, MINIMUM_ORDER, auto_order, band_pass_weight, reduce_aggregate


@pytest.fixture(scope="module")
def case118():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return gc.load_case("pandapower:case118").model


@pytest.fixture(scope="module")
def case118_uniform():
    # One turbine time constant for every machine: each area's aggregate has order 2.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return gc.load_case("pandapower:case118", machines="uniform").model


@pytest.fixture(scope="module")
def kundur():
    return gc.load_case("kundur_two_area").model


# ---------------------------------------------------------------------------- independent references
def dense_band_errors(model, reduced, frequencies):
    """sup_w ||T - That|| and sup_w ||T|| from dense matrices: T = (G^-1 + f L)^-1, That = P (Ghat^-1 + f L_k)^-1 P^T."""
    L = model.laplacian.toarray()
    P = np.zeros((model.n, reduced.n))
    P[np.arange(model.n), reduced.labels] = 1.0
    errors, norms = [], []
    for w in frequencies:
        s = 1j * w
        f = complex(model.coupling(s))
        T = np.linalg.inv(np.diag(model.nodes.inverse_transfer(s)) + f * L)
        Tk = np.linalg.inv(np.diag(reduced.nodes.inverse_transfer(s)) + f * reduced.reduced_laplacian)
        errors.append(np.linalg.norm(T - P @ Tk @ P.T, 2))
        norms.append(np.linalg.norm(T, 2))
    return max(errors), max(norms)


def dense_step(system, u, t):
    """Step response of a dense python-control StateSpace with input u at the samples t (augmented expm)."""
    A, B, C, D = (np.asarray(x, dtype=float) for x in (system.A, system.B, system.C, system.D))
    b = B @ u
    n = A.shape[0]
    augmented = np.zeros((n + 1, n + 1))
    augmented[:n, :n], augmented[:n, n] = A, b
    propagator = sla.expm(augmented * (t[1] - t[0]))
    z = np.zeros(n + 1)
    z[n] = 1.0
    y = np.empty((t.size, C.shape[0]))
    for i in range(t.size):
        y[i] = C @ z[:n] + D @ u
        z = propagator @ z
    return y


def dense_area_errors(model, reduced, u0, t):
    """Per area max_t |y_I - yhat_I| / max_t |y_I| from the dense state spaces of both networks."""
    y = dense_step(model.to_statespace(), u0, t)
    yk = dense_step(reduced.to_statespace(), np.bincount(reduced.labels, weights=u0, minlength=reduced.n), t)
    m = model.inertia
    errors = []
    for c in range(reduced.n):
        members = reduced.labels == c
        coi = y[:, members] @ m[members] / m[members].sum()
        errors.append(np.abs(coi - yk[:, c]).max() / np.abs(coi).max())
    return np.array(errors)


# ---------------------------------------------------------------------------- case118
@pytest.fixture(scope="module")
def case118_choice(case118):
    return gc.reduce_network(case118, tolerance=0.1)


def test_case118_tolerance_search_says_that_no_area_model_is_accurate(case118, case118_choice):
    result = case118_choice
    curve = result.selection_
    # Every k up to min(n, 12) and every embedding was tried, none met 10 %.
    assert sorted(set(curve["k"])) == list(range(1, 13))
    assert set(curve["embedding"]) == {"inertia", "laplacian", "normalized"}
    assert not curve["met"].any() and not result.options["met"]
    # Where the band error was not computed the area error is a lower bound of the error.
    errors = np.fmax(curve["relative_band_error"], curve["worst_area_error"])
    assert (errors > 0.1).all()
    # The best one tried is returned, marked, and it is the one with the smallest error.
    chosen = curve[curve["chosen"]]
    assert len(chosen) == 1 and errors[chosen.index[0]] == errors.min()
    k = int(chosen["k"].iloc[0])
    assert result.n_clusters == k and result.options["embedding"] == chosen["embedding"].iloc[0]
    # Each area keeps the order its weighted Hankel singular values ask for, never above its aggregate's.
    summary = result.summary()
    assert result.orders == [row["order"] for row in summary]
    assert all(1 <= row["order"] <= row["full_order"] for row in summary)
    verdict = result.verdict()
    assert verdict.startswith(f"no {k}-area model is accurate here") and "tolerance 10 %" in verdict
    assert "no k up to 12 does better" in verdict


def test_tolerance_search_skips_only_band_errors_that_cannot_change_the_choice(case118, case118_choice):
    curve = case118_choice.selection_
    chosen = curve[curve["chosen"]].iloc[0]
    best = max(chosen["relative_band_error"], chosen["worst_area_error"])
    skipped = curve[curve["note"].str.startswith("band error not computed")]
    assert len(skipped) and skipped["relative_band_error"].isna().all()
    assert (skipped["worst_area_error"] >= best).all()
    # Each skipped row, measured in full, has an error no smaller than the chosen one's.
    for _, row in skipped.drop_duplicates(subset=["area_sizes", "worst_area_error"]).iterrows():
        accuracy = gc.reduce_network(case118, int(row["k"]), embedding=row["embedding"], tolerance=0.1).accuracy()
        assert accuracy.worst_area_error == pytest.approx(row["worst_area_error"], rel=1e-12)
        assert accuracy.error >= best


def test_case118_reported_band_error_is_the_dense_one(case118, case118_choice):
    accuracy = case118_choice.accuracy()
    frequencies = case118_choice.model.band_error(accuracy.band_rad_s).frequencies
    error, norm = dense_band_errors(case118, case118_choice.model, frequencies)
    assert accuracy.band_error_rad_s_per_pu == pytest.approx(error, rel=1e-6)
    assert accuracy.transfer_norm_rad_s_per_pu == pytest.approx(norm, rel=1e-6)
    assert accuracy.relative_band_error == pytest.approx(error / norm, rel=1e-6)
    assert 0.0 < accuracy.relative_band_error < 1.0


def test_case118_reported_area_errors_are_the_dense_ones(case118, case118_choice):
    # k = 4 of the default (inertia) embedding: the curve's row and an explicit reduction agree ...
    explicit = gc.reduce_network(case118, 4, tolerance=0.1)
    accuracy = explicit.accuracy()
    row = case118_choice.selection_.query("k == 4 and embedding == 'inertia'").iloc[0]
    assert row["worst_area_error"] == pytest.approx(accuracy.worst_area_error, rel=1e-12)
    assert row["area_sizes"] == tuple(explicit.structure.sizes)
    # ... and are the true errors of the dense state spaces on the same time grid.
    t = np.linspace(0.0, accuracy.horizon_s, accuracy.n_samples)
    u0 = np.zeros(case118.n)
    u0[np.argmax(case118.inertia)] = -1.0
    np.testing.assert_array_equal(accuracy.disturbance_pu, u0)
    np.testing.assert_allclose(accuracy.area_relative_error, dense_area_errors(case118, explicit.model, u0, t),
                               rtol=1e-6)
    assert accuracy.settles
    # The one-row curve and the verdict of an explicit k.
    assert explicit.selection_["chosen"].tolist() == [True]
    assert explicit.selection_["met"].tolist() == [accuracy.met(0.1)]
    assert explicit.verdict().startswith("no 4-area model is accurate here: worst area error")


def test_case118_single_machine_areas_are_named_and_can_be_forbidden(case118):
    result = gc.reduce_network(case118, 4, embedding="laplacian")
    singles = result.single_machine_areas()
    assert [row["area"] for row in singles] == [c for c in range(4) if result.structure.sizes[c] == 1]
    assert singles
    degree = np.asarray(abs(case118.laplacian).sum(axis=1)).ravel() - np.abs(case118.laplacian.diagonal())
    for row in singles:
        assert result.labels[row["node"]] == row["area"]
        assert row["coupling_to_rest"] == pytest.approx(degree[row["node"]])
        assert row["coupling_rank"] == 1 + np.sum(degree < degree[row["node"]])
        assert row["slow_mode_entry"] > 1.0 and row["name"] in row["reason"]
    first = singles[0]  # areas and machines are numbered from 1 in the message
    with pytest.raises(ValueError, match=rf"fewer than 2 machines \(min_area_size\): area {first['area'] + 1} "
                                         rf"\({first['name']}\)"):
        gc.reduce_network(case118, 4, embedding="laplacian", min_area_size=2)
    with pytest.raises(ValueError, match="min_area_size"):
        gc.CoherencyReductor(case118, embedding="laplacian").reduce(4, min_area_size=2)


def test_tolerance_search_skips_k_with_small_areas(kundur):
    # Kundur at 1 %: only k = 4 (one machine per area, exact) meets it; with min_area_size = 2 it is skipped.
    exact = gc.reduce_network(kundur, tolerance=0.01)
    assert exact.n_clusters == 4 and exact.options["met"]
    assert exact.verdict().startswith("k = 4 reproduces the area responses within")
    limited = gc.reduce_network(kundur, tolerance=0.01, min_area_size=2)
    curve = limited.selection_
    small = curve["smallest_area"] < 2
    assert small.any() and not curve.loc[small, "met"].any()
    assert curve.loc[small, "note"].str.contains("min_area_size").all()
    assert not limited.options["met"] and limited.structure.sizes.min() >= 2
    assert "the best k tried" in limited.verdict() or "does better" in limited.verdict()


def test_tolerance_search_picks_the_smallest_k_and_then_the_smallest_orders(kundur):
    result = gc.reduce_network(kundur, tolerance=0.05)
    curve = result.selection_
    met = curve[curve["met"]]
    assert result.n_clusters == met["k"].min() == curve["k"].max()
    # Every smaller k was tried with every embedding and missed.
    assert not curve[curve["k"] < result.n_clusters]["met"].any()
    accuracy = result.accuracy()
    assert accuracy.met(0.05)
    # Each area's order is the smallest that keeps the tolerance: one lower fails.
    minimum = MINIMUM_ORDER["cl"]
    assert min(result.orders) >= minimum
    for c, order in enumerate(result.orders):
        if order > minimum:
            lower = list(result.orders)
            lower[c] = order - 1
            trial = gc.reduce_network(kundur, result.n_clusters, order=lower, embedding=result.options["embedding"],
                                      tolerance=0.05)
            assert not trial.accuracy().met(0.05)
    assert result.options["order_requested"] == "tolerance"


def test_tolerance_with_k_or_embedding_is_refused_where_meaningless(kundur):
    with pytest.raises(ValueError, match="every embedding is tried"):
        gc.reduce_network(kundur, tolerance=0.1, embedding="laplacian")
    with pytest.raises(ValueError, match="tolerance must be a positive fraction"):
        gc.reduce_network(kundur, tolerance=0.0)
    with pytest.raises(ValueError, match="NetworkReduction.accuracy"):
        gc.reduce_network(kundur, 2, band=2.0)
    with pytest.raises(ValueError, match="give a tolerance"):
        gc.reduce_network(kundur, 2).verdict()


def test_accuracy_is_cached_per_arguments_and_follows_them(kundur):
    result = gc.reduce_network(kundur, 2)
    first = result.accuracy()
    assert result.accuracy() is first
    wider = result.accuracy(band=5.0)
    assert wider.band_rad_s == 5.0 and wider is not first
    assert wider.band_error_rad_s_per_pu >= first.band_error_rad_s_per_pu * (1 - 1e-9)
    at_g3 = result.accuracy(u0=2)
    assert at_g3.disturbance_pu.tolist() == [0.0, 0.0, 1.0, 0.0]
    np.testing.assert_array_equal(default_disturbance(kundur), first.disturbance_pu)
    assert first.as_dict()["worst_area"] == first.worst_area


def test_a_model_that_never_settles_is_flagged():
    # nets_nyps68: zero damping and no governors, the centre of inertia integrates the step.
    model = gc.load_case("nets_nyps68").model
    accuracy = gc.reduce_network(model, 5).accuracy(band=1.0, t=np.linspace(0.0, 20.0, 2001))
    assert accuracy.settles is False and accuracy.horizon_s == 20.0
    assert "never settles" in accuracy.verdict(0.1) and "first 20 s" in accuracy.verdict(0.1)
    assert np.all(np.isfinite(accuracy.area_relative_error)) and np.isfinite(accuracy.relative_band_error)
    # Below 1 rad/s it has no mode; its electromechanical modes on the imaginary axis up to
    # 10 rad/s make the band error unbounded, and it says so.
    poles = np.linalg.eigvals(model.realization().A.toarray())
    assert not np.any((np.abs(poles.imag) > 1e-3) & (np.abs(poles.imag) <= 1.0))
    wide = gc.reduce_network(model, 5).accuracy(band=10.0, t=np.linspace(0.0, 20.0, 2001))
    axis = np.unique(np.round(poles.imag[(poles.imag > 1e-3) & (poles.imag <= 10.0)], 6))
    assert axis.size > 0 and np.all(np.abs(poles.real[np.abs(poles.imag) > 1e-3]) < 1e-9 * np.abs(poles).max())
    found = wide.undamped_frequencies_rad_s
    assert np.all(np.abs(found[:, None] / axis[None, :] - 1).min(axis=0) < 1e-6)  # each axis pole is named
    assert wide.relative_band_error == np.inf and wide.met(0.5) is False
    assert "undamped modes at" in wide.verdict(0.1)
    assert gc.reduce_network(gc.load_case("kundur_two_area").model, 2).accuracy().settles


# ---------------------------------------------------------------------------- default embedding
def test_machines_are_clustered_by_the_inertia_embedding():
    model = gc.load_case("nets_nyps68").model
    assert gc.CoherencyReductor(model).embedding == "inertia"
    result = gc.reduce_network(model, 5)
    groups = sorted(sorted((np.flatnonzero(result.labels == c) + 1).tolist()) for c in range(5))
    assert groups == [list(range(1, 10)), list(range(10, 14)), [14], [15], [16]]
    kundur = gc.load_case("kundur_two_area").model
    default = gc.reduce_network(kundur)
    names = np.array(kundur.node_names)
    assert sorted(sorted(names[default.labels == c].tolist()) for c in range(default.n_clusters)) == \
        [["G1", "G2"], ["G3", "G4"]]
    assert default.options["embedding"] == "inertia"


def test_graphs_without_inertia_keep_the_laplacian_embedding():
    laplacian = gc.build_laplacian([(0, 1), (1, 2), (0, 2), (3, 4), (4, 5), (3, 5), (2, 3, 0.1)])
    static = gc.NetworkModel(LTINodes([control.tf([1.0], [1.0])] * 6), laplacian)
    assert np.all(static.nodes.inertia == 0)
    assert gc.CoherencyReductor(static).embedding == "laplacian"
    assert gc.reduce_network(static, 2).options["embedding"] == "laplacian"


# ---------------------------------------------------------------------------- orders
def test_an_order_that_reduces_nothing_is_recorded_as_such(case118_uniform):
    case118 = case118_uniform
    result = gc.reduce_network(case118, 3, order=3)
    for row in result.summary():
        assert row["full_order"] == 2 and row["order"] == 2 and row["reduced"] is False
    assert result.options["order"] == [2, 2, 2] and result.options["order_requested"] == 3
    assert result.label == "k=3" and result.model is result.structure
    assert gc.reduce_network(case118, 3, order=2).label == "k=3"  # the minimum order is theirs: nothing to reduce
    reduced = gc.reduce_network(gc.load_case("iceland").model, 3, order=2)
    assert [row["reduced"] for row in reduced.summary()] == [True] * 3
    assert reduced.label == "k=3, orders 2/2/2, cl"
    assert all(r.order == 2 and r.full_order > 2 and r.reduced for r in reduced.aggregate_reductions)


def test_an_order_below_the_physical_minimum_is_refused(kundur):
    with pytest.raises(ValueError, match="order 1 is below the physical minimum 2 of method 'tb'"):
        gc.reduce_network(kundur, 2, order=1, method="tb")
    # A first-order machine would fold the governors into an instantaneous damping: no nadir.
    with pytest.raises(ValueError, match="physical minimum 2 of method 'cl': .*one turbine state.*no nadir"):
        gc.reduce_network(kundur, 2, order=1)
    with pytest.raises(ValueError, match="physical minimum 2 of method 'cl'"):
        gc.CoherencyReductor(kundur).reduce(2, order=0)
    with pytest.raises(ValueError, match="lists 3 orders for 2 areas"):
        gc.reduce_network(kundur, 2, order=[2, 2, 2])


def test_auto_order_keeps_the_states_whose_discarded_tail_is_small():
    model = gc.load_case("iceland").model
    result = gc.reduce_network(model, 3, order="auto")
    assert result.options["order_requested"] == "auto"
    checked = 0
    for row, reduction in zip(result.summary(), result.aggregate_reductions):
        if reduction is None:
            continue
        sigma = np.sort(reduction.hankel_singular_values)[::-1]
        kept = row["order"]
        assert sigma[kept:].sum() <= AUTO_ORDER_RTOL * sigma.sum()
        if kept > 1:
            assert sigma[kept - 1:].sum() > AUTO_ORDER_RTOL * sigma.sum()
        checked += 1
    assert checked >= 1
    assert auto_order([1.0, 0.5, 1e-6], "tb") == 3 and auto_order([1.0, 1e-6], "tb") == 2


# ---------------------------------------------------------------------------- weights
def test_a_band_becomes_a_butterworth_band_pass_weight(kundur):
    weight = band_pass_weight(0.2, 5.0)
    assert abs(weight(1j * np.sqrt(0.2 * 5.0))) == pytest.approx(1.0)
    assert abs(weight(0.2j)) == pytest.approx(2 ** -0.5) and abs(weight(5j)) == pytest.approx(2 ** -0.5)
    result = gc.reduce_network(gc.load_case("iceland").model, 3, order=2, weight=(0.2, 5.0))
    reductions = [r for r in result.aggregate_reductions if r is not None]
    assert reductions and result.options["weight"] == [0.2, 5.0]
    w = np.array([0.3j, 2j])
    for reduction in reductions:
        np.testing.assert_allclose(reduction.weight(w), weight(w), rtol=1e-12)
    with pytest.raises(ValueError, match="0 < w_low < w_high"):
        gc.reduce_network(kundur, 2, order=2, weight=(5.0, 0.2))


def test_input_weights_reach_the_balanced_truncation():
    from gridcoherence.coherence.aggregate import coherent_aggregate

    model = gc.load_case("iceland").model
    nodes = model.nodes
    aggregate = coherent_aggregate(nodes, np.arange(nodes.n))
    plain = reduce_aggregate(aggregate, 2, "cl")
    weighted = reduce_aggregate(aggregate, 2, "cl", input_weight=(0.05, 2.0))
    assert weighted.input_weight is not None and plain.input_weight is None
    assert not np.allclose(weighted.hankel_singular_values, plain.hankel_singular_values)
    through = gc.reduce_network(model, 2, order=2, input_weight=control.tf([1.0, 0.5], [1.0, 2.0]))
    assert through.options["input_weight"] == {"num": [1.0, 0.5], "den": [1.0, 2.0]}


# ---------------------------------------------------------------------------- saved models
def test_a_saved_model_compares_like_the_one_it_was_saved_from(tmp_path, kundur):
    result = gc.reduce_network(kundur, 2)
    path = tmp_path / "kundur.json"
    gc.save_reduced(result, path)
    loaded = gc.load_reduced(path)
    assert loaded.original is None
    t = np.linspace(0.0, 20.0, 401)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        saved = gc.compare_step_responses(kundur, {"r": loaded}, u0=0, t=t)
        fresh = gc.compare_step_responses(kundur, {"r": result.model}, u0=0, t=t)
    numeric = fresh.select_dtypes("number").columns
    assert len(numeric) >= 8
    for column in numeric:
        np.testing.assert_array_equal(saved[column].to_numpy(), fresh[column].to_numpy(), err_msg=column)
    assert (saved["group"] == fresh["group"]).all()
    other = gc.reduce_network(gc.load_case("iceland").model, 2)
    gc.save_reduced(other, tmp_path / "iceland.json")
    with pytest.raises(ValueError, match="reduces a network of 35 nodes; the reference has 4"):
        gc.compare_step_responses(kundur, {"x": gc.load_reduced(tmp_path / "iceland.json")}, u0=0, t=t)


def test_case300_tolerance_search_and_its_true_band_error():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = gc.load_case("pandapower:case300").model
    result = gc.reduce_network(model, tolerance=0.1)
    curve = result.selection_
    errors = np.maximum(curve["relative_band_error"], curve["worst_area_error"])
    chosen = curve[curve["chosen"]].index[0]
    if result.options["met"]:
        assert result.n_clusters == curve.loc[curve["met"], "k"].min()
    else:
        assert errors[chosen] == errors.min() and "accurate here" in result.verdict()
    accuracy = result.accuracy()
    frequencies = result.model.band_error(accuracy.band_rad_s).frequencies
    error, norm = dense_band_errors(model, result.model, frequencies)
    assert accuracy.relative_band_error == pytest.approx(error / norm, rel=1e-6)
    explicit = gc.reduce_network(model, 4)
    assert explicit.structure.sizes.min() >= 1
    t = np.linspace(0.0, 60.0, 6001)
    np.testing.assert_allclose(explicit.accuracy().area_relative_error,
                               dense_area_errors(model, explicit.model, default_disturbance(model), t), rtol=1e-6)


def test_verdict_numbers_areas_from_1(kundur):
    for k in (1, 2):
        accuracy = gc.reduce_network(kundur, k).accuracy()
        verdict = accuracy.verdict(1e-6)  # no reduction meets 1e-6: the worst area is named
        assert f"(area {accuracy.worst_area + 1})" in verdict
        assert "(area 0)" not in verdict
