"""Coherent aggregates: closed form, general realization, harmonic mean, (3.3)."""

import control
import numpy as np
import pytest

import gridcoherence as gc
from gridcoherence.coherence.aggregate import merge_equal_time_constants
from conftest import random_family, random_lti_nodes, random_weighted_graph


def test_family_aggregate_equals_harmonic_mean(rng):
    nodes = random_family(30, 1, 3)
    aggregate = gc.coherent_aggregate(nodes)
    s = rng.uniform(0, 2, 6) + 1j * rng.uniform(-5, 5, 6)
    np.testing.assert_allclose(aggregate.transfer(s)[:, 0], gc.harmonic_mean(nodes, s) / 30, rtol=1e-12)


def test_family_aggregate_closed_form_dc_gain_and_poles():
    nodes = gc.SwingTurbineNodes([0.1, 0.2, 0.3], [0.01, 0.02, 0.03],
                                 turbine_gain=[0.05, 0.02, 0.04], turbine_tau=[5.0, 2.0, 5.0])
    aggregate = gc.coherent_aggregate(nodes)
    assert aggregate.m[0] == pytest.approx(0.6) and aggregate.d[0] == pytest.approx(0.06)
    # Equal time constants merge exactly: order 1 + 2 distinct turbines.
    np.testing.assert_allclose(np.sort(aggregate.turbine_tau), [2.0, 5.0])
    assert aggregate.realization().n_states == 3
    assert aggregate.dc_gain()[0] == pytest.approx(1.0 / (0.06 + 0.11))
    tf = aggregate.node_system(0)
    assert control.dcgain(tf) == pytest.approx(1.0 / 0.17)
    # Poles of ghat are the zeros of ghat^{-1} = 0.6 s + 0.06 + 0.09/(5s+1) + 0.02/(2s+1).
    inv = np.polyadd(np.polyadd(np.polymul([0.6, 0.06], np.polymul([5, 1], [2, 1])),
                                0.09 * np.array([2.0, 1.0])), 0.02 * np.array([5.0, 1.0]))
    np.testing.assert_allclose(np.sort_complex(control.poles(tf)), np.sort_complex(np.roots(inv)), rtol=1e-9)


def test_merge_equal_time_constants_is_exact(rng):
    gain = rng.uniform(0.1, 1.0, 50)
    tau = rng.choice([1.0, 2.5, 7.0], size=50)
    merged_gain, merged_tau = merge_equal_time_constants(gain, tau)
    assert merged_tau.tolist() == [1.0, 2.5, 7.0]
    s = np.array([0.3j, 1 + 1j])
    before = (gain[None] / (s[:, None] * tau[None] + 1)).sum(1)
    after = (merged_gain[None] / (s[:, None] * merged_tau[None] + 1)).sum(1)
    np.testing.assert_allclose(after, before, rtol=1e-13)


def test_general_aggregate_matches_harmonic_mean(rng):
    nodes = random_lti_nodes(5, 2)
    aggregate = gc.coherent_aggregate(nodes)
    assert isinstance(aggregate, gc.LTINodes) and aggregate.n == 1
    s = rng.uniform(0, 2, 5) + 1j * rng.uniform(-5, 5, 5)
    np.testing.assert_allclose(aggregate.transfer(s)[:, 0], gc.harmonic_mean(nodes, s) / 5, rtol=1e-9)
    # DC gain: 1 / sum g_i(0)^{-1}.
    dc = 1.0 / sum(1.0 / control.dcgain(g) for g in nodes.systems)
    assert control.dcgain(aggregate.systems[0]) == pytest.approx(dc, rel=1e-10)


def test_mixed_group_aggregate_and_family_subgroup():
    family = random_family(4, 5)
    general = random_lti_nodes(3, 6)
    nodes = gc.StackedNodes([family, general])
    family_only = gc.coherent_aggregate(nodes, group=[0, 2, 3])
    assert isinstance(family_only, gc.SwingTurbineNodes)
    mixed = gc.coherent_aggregate(nodes, group=[1, 4, 6])
    s = np.array([0.5j, 2.0 + 1j])
    np.testing.assert_allclose(mixed.transfer(s)[:, 0], gc.harmonic_mean(nodes, s, [1, 4, 6]) / 3, rtol=1e-9)


def test_homogeneous_decomposition_3_3(rng):
    """Identical nodes: T = (1/n) g 1 1^T + V_perp diag(1/(g^{-1} + f lambda_i)) V_perp^T."""
    n = 10
    nodes = gc.SwingTurbineNodes(np.full(n, 0.1), np.full(n, 0.02), turbine_gain=np.full(n, 0.03),
                                 turbine_tau=np.full(n, 4.0))
    model = gc.NetworkModel(nodes, random_weighted_graph(n, 7), "1/s")
    lam, V = np.linalg.eigh(model.laplacian.toarray())
    for s in [0.2j, 1.0 + 0.5j]:
        h = nodes.inverse_transfer(s)[0]
        expected = np.ones((n, n)) / (n * h) + (V[:, 1:] / (h + model.coupling(s) * lam[1:])) @ V[:, 1:].T
        np.testing.assert_allclose(model.transfer_matrix(s), expected, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("kind", ["family", "general"])
def test_mean_option_gives_harmonic_mean(kind):
    nodes = random_family(6, 11) if kind == "family" else random_lti_nodes(4, 12)
    gbar = gc.coherent_aggregate(nodes, mean=True)
    s = np.array([0.4j, 1.5 + 0.5j])
    np.testing.assert_allclose(gbar.transfer(s)[:, 0], gc.harmonic_mean(nodes, s), rtol=1e-9)


def test_boolean_mask_group_is_the_masked_nodes():
    """A mask selects nodes 0 and 2; it is not read as the indices 1, 0, 1, 0."""
    nodes = gc.SwingTurbineNodes([0.1, 0.2, 0.3, 0.4], [0.01, 0.02, 0.03, 0.04],
                                 turbine_gain=[0.05, 0.02, 0.04, 0.03], turbine_tau=[5.0, 2.0, 3.0, 4.0])
    mask = np.array([True, False, True, False])
    by_mask = gc.coherent_aggregate(nodes, group=mask)
    by_index = gc.coherent_aggregate(nodes, group=[0, 2])
    assert by_mask.m[0] == pytest.approx(nodes.m[0] + nodes.m[2])
    assert by_mask.d[0] == pytest.approx(nodes.d[0] + nodes.d[2])
    np.testing.assert_array_equal(by_mask.turbine_tau, by_index.turbine_tau)
    s = np.array([0.3j, 1.0 + 2j])
    np.testing.assert_allclose(gc.harmonic_mean(nodes, s, mask), gc.harmonic_mean(nodes, s, [0, 2]), rtol=1e-14)
    expected = 2.0 / (nodes.inverse_transfer(s)[:, 0] + nodes.inverse_transfer(s)[:, 2])
    np.testing.assert_allclose(gc.harmonic_mean(nodes, s, mask), expected, rtol=1e-12)


def test_mask_group_in_aggregate_response(family_model):
    t = np.linspace(0.0, 5.0, 51)
    mask = np.zeros(family_model.n, dtype=bool)
    mask[[1, 4, 7]] = True
    by_mask = gc.aggregate_response(family_model, 4, "step", t, group=mask)
    by_index = gc.aggregate_response(family_model, 4, "step", t, group=[1, 4, 7])
    np.testing.assert_allclose(by_mask.y, by_index.y, rtol=1e-12)
    assert np.abs(by_mask.y).max() > 0


@pytest.mark.parametrize("group, error, message", [
    ([0, 0], ValueError, r"machine 1 \(node index 0\) appears twice in group"),
    ([2, 1, 2, 2], ValueError, r"machine 3 \(node index 2\) appears 3 times in group"),
    (np.array([True, False]), ValueError, r"boolean mask of length 2; it must have one entry per node \(4\)"),
    ([], ValueError, r"group is empty"),
    (np.zeros(4, dtype=bool), ValueError, r"group is empty"),
    ([0, 4], IndexError, r"node index 4, outside 0\.\.3"),
    ([-1], IndexError, r"node index -1, outside 0\.\.3"),
    ([0.0, 2.0], ValueError, r"integer node indices or be a boolean mask"),
    ([[0, 1]], ValueError, r"1-D array"),
])
@pytest.mark.parametrize("function", ["coherent_aggregate", "harmonic_mean"])
def test_bad_group_is_rejected(function, group, error, message):
    nodes = random_family(4, 3)
    with pytest.raises(error, match=message):
        if function == "coherent_aggregate":
            gc.coherent_aggregate(nodes, group=group)
        else:
            gc.harmonic_mean(nodes, 0.5j, group)
