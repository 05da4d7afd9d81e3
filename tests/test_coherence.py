"""Coherence diagnostics: incoherence measure, Lemma 3.1 bound, time-domain deviation."""

import numpy as np
import pytest

import gridcoherence as gc
from gridcoherence.cases.random_nodes import random_family_nodes
from conftest import random_family, random_weighted_graph


def scaled(model, factor):
    return gc.NetworkModel(model.nodes, model.laplacian * factor, model.coupling)


def test_sparse_incoherence_matches_dense(family_model):
    s = np.array([0.2j, 1.0j, 0.5 + 3j])
    dense = gc.incoherence(family_model, s, method="dense")
    sparse = gc.incoherence(family_model, s, method="sparse")
    np.testing.assert_allclose(sparse, dense, rtol=1e-8)


@pytest.mark.parametrize("seed", range(6))
def test_lemma_3_1_bound_holds_and_is_not_vacuous(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 25))
    model = gc.NetworkModel(random_family(n, seed), random_weighted_graph(n, seed + 100), "1/s")
    model = scaled(model, rng.uniform(20, 200))
    s = 1j * rng.uniform(0.05, 2.0, 8)
    bound = gc.coherence_bound(model, s)
    assert bound.applicable.any()
    true = gc.incoherence(model, s)
    ok = bound.applicable
    assert np.all(true[ok] <= bound.bound[ok] * (1 + 1e-12))
    # Not vacuous: within a factor 50 of the true value where it applies.
    assert np.all(bound.bound[ok] <= 50 * true[ok])


def test_incoherence_and_deviation_shrink_with_connectivity(family_model):
    s = 1j * np.linspace(0.1, 3.0, 15)
    t = np.linspace(0.0, 20.0, 401)
    sup_errors, deviations = [], []
    for factor in [1.0, 10.0, 100.0]:
        model = scaled(family_model, factor)
        sup_errors.append(gc.incoherence(model, s).max())
        deviations.append(gc.coherence_deviation(model, 3, "step", t).max_deviation)
    assert sup_errors[0] > sup_errors[1] > sup_errors[2]
    assert deviations[0] > deviations[1] > deviations[2]
    assert deviations[2] < 0.2 * deviations[0]


def test_low_frequency_sinusoids_are_more_coherent(family_model):
    """Thm 3.5 (f = 1/s): the deviation falls with the input frequency."""
    t = np.linspace(0.0, 200.0, 4001)
    deviation = [gc.coherence_deviation(family_model, 0, gc.Sinusoid(w), t).max_deviation
                 for w in [10.0, 1.0, 0.1, 0.01]]
    assert deviation == sorted(deviation, reverse=True)
    assert deviation[-1] < 0.05 * deviation[0]


def test_low_frequency_incoherence_vanishes_near_pole_of_f(family_model):
    """Thm 3.2: for f = 1/s the incoherence -> 0 as s -> 0."""
    values = gc.incoherence(family_model, 1j * np.array([1.0, 0.1, 0.01, 0.001]))
    assert np.all(np.diff(values) < 0) and values[-1] < 1e-2 * values[0]


def test_aggregate_response_is_gbar_to_average_input(family_model):
    t = np.linspace(0.0, 30.0, 61)
    u0 = np.zeros(12)
    u0[[2, 3]] = [1.0, 2.0]
    response = gc.aggregate_response(family_model, u0, "step", t)
    aggregate = gc.coherent_aggregate(family_model.nodes)
    final = 3.0 * aggregate.dc_gain()[0]
    assert response.y[-1, 0] == pytest.approx(final, rel=2e-2)
    assert response.y[0, 0] == 0.0


def test_dynamics_concentration_gap_shrinks(rng):
    s = 1j * np.linspace(0.05, 2.0, 10)
    gaps = gc.concentration_gap(random_family_nodes, [10, 100, 1000, 10000], s, n_reference=400_000)
    assert gaps[0] > gaps[2] > gaps[3]
    # Standard-error scaling n^{-1/2}: three decades of n, at least a decade of gap.
    assert gaps[3] < 0.1 * gaps[0]
