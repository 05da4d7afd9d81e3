"""Structure-preserving reduction (Algorithm 1): refinement, L_k, Thm 3.8/3.9, band error, edge cases."""

import control
import numpy as np
import pytest
import scipy.optimize as sopt

from gridcoherence import ExponentialApproach, NetworkModel, coherent_aggregate, harmonic_mean
from gridcoherence.reduction import band
from gridcoherence.reduction.partition import Partition
from gridcoherence.models.laplacian import DisconnectedNetworkError, build_laplacian, smallest_eigenpairs
from gridcoherence.models.nodes import LTINodes
from gridcoherence.studies.experiments.sbm_reduction import SBM_341, sbm341_sample
from gridcoherence.reduction.structure import (
    ReducedNetwork,
    is_block_ideal,
    reduced_laplacian,
    refine_embedding,
    structure_preserving_reduction,
)
from gridcoherence.cases.random_nodes import random_family_nodes
from gridcoherence.cases.sbm import expected_laplacian

Q341, W341 = SBM_341["Q"], SBM_341["W"]
FREQUENCIES = [0.05j, 0.5j, 1j, 0.3 + 2j]


def sbm_model(n, seed):
    sample = sbm341_sample(n, seed)
    return NetworkModel(random_family_nodes(n, random_state=seed), sample.laplacian), sample


def relative(a, b):
    return np.linalg.norm(a - b) / np.linalg.norm(b)


def random_instance(rng, n, k):
    """Orthonormal V (first column 1/sqrt(n)) and a random partition with all clusters used."""
    V = np.linalg.qr(np.c_[np.ones(n), rng.standard_normal((n, k - 1))])[0]
    V *= np.sign(V[0, 0])
    labels = np.r_[np.arange(k), rng.integers(0, k, n - k)]
    rng.shuffle(labels)
    return V, labels


# ---------------------------------------------------------------------------- refinement
def test_block_ideal_laplacian_thm39():
    sizes = [20, 40, 20]
    L_blk = expected_laplacian(sizes, Q341, W341)
    model = NetworkModel(random_family_nodes(80, random_state=2), L_blk)
    labels = np.repeat([0, 1, 2], sizes)
    spectrum = smallest_eigenpairs(L_blk, 4)
    V = spectrum.vectors[:, :3]
    assert is_block_ideal(V, labels)
    reduced = ReducedNetwork(model, labels, spectrum.values[:3], V, lambda_next=spectrum.values[3])
    np.testing.assert_allclose(reduced.refined_embedding, V, atol=1e-12)  # refinement returns V_k
    assert reduced.refinement_error < 1e-12
    for s in FREQUENCIES:
        assert relative(reduced.lifted_transfer_matrix(s), band.lowrank_transfer_matrix(reduced, s)) < 1e-10


@pytest.mark.parametrize("n, k", [(30, 3), (40, 4), (25, 5)])
def test_closed_form_refinement_is_feasible_and_optimal(n, k):
    rng = np.random.default_rng(n + k)
    V, labels = random_instance(rng, n, k)
    partition = Partition(labels)
    sizes, P = partition.sizes, partition.matrix.toarray()
    S = refine_embedding(V, labels)
    Vhat = P @ S
    np.testing.assert_allclose(Vhat.T @ Vhat, np.eye(k), atol=1e-12)
    np.testing.assert_allclose(Vhat[:, 0], 1 / np.sqrt(n), atol=1e-14)
    best = np.linalg.norm(V - Vhat)

    # independent numerical optimisation over the feasible set (SLSQP, several starts)
    def objective(x):
        return np.linalg.norm(V - P @ np.c_[np.full(k, 1 / np.sqrt(n)), x.reshape(k, k - 1)]) ** 2

    def constraints(x):
        S_full = np.c_[np.full(k, 1 / np.sqrt(n)), x.reshape(k, k - 1)]
        return (S_full.T @ (sizes[:, None] * S_full) - np.eye(k))[np.triu_indices(k)]

    for start in range(6):
        x0 = np.random.default_rng(start).standard_normal(k * (k - 1)) / np.sqrt(n / k)
        result = sopt.minimize(objective, x0, constraints={"type": "eq", "fun": constraints},
                               method="SLSQP", options={"maxiter": 500, "ftol": 1e-14})
        if result.success and np.max(np.abs(constraints(result.x))) < 1e-8:
            assert best ** 2 <= result.fun + 1e-9
    # and no random feasible point beats it
    root = np.sqrt(sizes)
    Qc = np.linalg.qr((root / np.sqrt(n))[:, None], mode="complete")[0][:, 1:]
    for _ in range(200):
        O = np.linalg.qr(rng.standard_normal((k - 1, k - 1)))[0]
        S_random = np.c_[np.full(k, 1 / np.sqrt(n)), (Qc @ O) / root[:, None]]
        assert best <= np.linalg.norm(V - P @ S_random) + 1e-12


def test_printed_normalisation_would_be_infeasible():
    # Correction of the dissertation: the printed u = diag(|I_i|^{-1/2}) 1 breaks orthogonality to 1_n
    rng = np.random.default_rng(0)
    V, labels = random_instance(rng, 30, 3)
    partition = Partition(labels)
    sizes = partition.sizes
    u_printed = 1 / np.sqrt(sizes)
    u_printed /= np.linalg.norm(u_printed)
    Qp = np.linalg.qr(u_printed[:, None], mode="complete")[0][:, 1:]
    S_printed = np.c_[np.full(3, 1 / np.sqrt(30)), Qp / np.sqrt(sizes)[:, None]]
    Vp = partition.matrix.toarray() @ S_printed
    assert np.abs(Vp[:, 0] @ Vp[:, 1:]).max() > 1e-3
    S = refine_embedding(V, labels)
    Vhat = partition.matrix.toarray() @ S
    assert np.abs(Vhat[:, 0] @ Vhat[:, 1:]).max() < 1e-14


def test_reduced_laplacian_symmetric_zero_row_sums():
    rng = np.random.default_rng(3)
    V, labels = random_instance(rng, 50, 4)
    values = np.r_[0.0, np.sort(rng.uniform(1, 5, 3))]
    sizes = Partition(labels).sizes
    Lk = reduced_laplacian(refine_embedding(V, labels), values, sizes)
    np.testing.assert_allclose(Lk, Lk.T, atol=0)
    np.testing.assert_allclose(Lk.sum(axis=1), 0.0, atol=1e-12 * np.abs(Lk).max())
    # its nonzero spectrum is Lambda_k in the metric diag(|I_i|)^{-1}: L_k v = lambda D v
    eig = np.sort(np.linalg.eigvals(np.diag(1 / sizes) @ Lk).real)
    np.testing.assert_allclose(eig, values, atol=1e-10)


def test_refine_embedding_bad_input():
    V = np.linalg.qr(np.c_[np.ones(6), np.arange(6.0)])[0]
    with pytest.raises(ValueError, match="partition has 3 clusters but k = 2"):
        refine_embedding(V, [0, 0, 0, 1, 1, 2])
    with pytest.raises(ValueError, match="constant vector"):
        refine_embedding(np.eye(6)[:, :2], [0, 0, 0, 1, 1, 1])
    with pytest.raises(ValueError, match="non-finite"):
        refine_embedding(np.full((6, 2), np.nan), [0, 0, 0, 1, 1, 1])


# ---------------------------------------------------------------------------- the reduced network
def test_reduced_network_is_a_k_node_network_model():
    model, sample = sbm_model(80, 1)
    reduced = structure_preserving_reduction(model, 3)
    assert isinstance(reduced, NetworkModel) and reduced.n == 3
    assert np.array_equal(reduced.labels, sample.labels)
    assert reduced.transfer_matrix(1j).shape == (3, 3)
    # one frequency and one angle per aggregate, plus every (distinct-tau) turbine
    assert reduced.realization().n_states == 3 + reduced.nodes.n_turbines + 3
    assert reduced.has_nonnegative_weights
    Lk = reduced.laplacian.toarray()
    np.testing.assert_allclose(Lk, Lk.T, atol=0)
    np.testing.assert_allclose(Lk.sum(axis=1), 0.0, atol=1e-12 * np.abs(Lk).max())
    assert reduced.clustering is not None and reduced.clustering.n_clusters_ == 3
    assert reduced.refined_embedding.shape == (80, 3)
    assert reduced.lambda_next == pytest.approx(smallest_eigenpairs(model.laplacian, 4).values[3])


def test_aggregates_are_cluster_harmonic_means():
    model, sample = sbm_model(80, 2)
    reduced = structure_preserving_reduction(model, 3)
    s = np.array([0.1j, 1j, 0.5 + 3j])
    for c in range(3):
        group = np.flatnonzero(reduced.labels == c)
        expected = harmonic_mean(model.nodes, s, group) / group.size
        np.testing.assert_allclose(reduced.nodes.transfer(s)[:, c], expected, rtol=1e-12)


def test_general_lti_nodes_are_aggregated():
    nodes = LTINodes([control.tf([1.0], [m, 1.0 + 0.1 * m]) for m in (1.0, 2.0, 1.5, 0.5, 1.2, 0.8)])
    L = build_laplacian([(0, 1, 10), (1, 2, 10), (0, 2, 10), (3, 4, 10), (4, 5, 10), (3, 5, 10), (2, 3, 0.2)])
    model = NetworkModel(nodes, L, coupling="1")
    reduced = structure_preserving_reduction(model, 2)
    assert reduced.labels.tolist() == [0, 0, 0, 1, 1, 1]
    s = np.array([0.3j, 2j])
    for c, group in enumerate(([0, 1, 2], [3, 4, 5])):
        np.testing.assert_allclose(reduced.nodes.transfer(s)[:, c], harmonic_mean(nodes, s, group) / 3,
                                   rtol=1e-9)
    assert reduced.band_error(1.0, points_per_decade=2).sup_error < 0.05


def test_user_partition_equals_clustering_result():
    model, sample = sbm_model(80, 4)
    from_clustering = structure_preserving_reduction(model, 3)
    from_areas = structure_preserving_reduction(model, partition=[np.flatnonzero(sample.labels == c)
                                                                  for c in range(3)])
    assert from_areas.clustering is None
    np.testing.assert_allclose(from_areas.reduced_laplacian, from_clustering.reduced_laplacian, rtol=1e-9)


def test_k_equal_one_is_the_single_cluster_aggregate():
    model, _ = sbm_model(80, 5)
    reduced = structure_preserving_reduction(model, 1)
    assert reduced.n == 1 and reduced.reduced_laplacian.tolist() == [[0.0]]
    ghat = coherent_aggregate(model.nodes)
    for s in FREQUENCIES:
        expected = ghat.transfer(s)[0] * np.ones((80, 80))
        assert relative(reduced.lifted_transfer_matrix(s), expected) < 1e-12


def test_k_equal_n_reproduces_the_original_network():
    model, _ = sbm_model(20, 6)
    reduced = structure_preserving_reduction(model, 20)
    assert reduced.labels.tolist() == list(range(20))
    np.testing.assert_allclose(reduced.reduced_laplacian, model.laplacian.toarray(), atol=1e-9)
    for s in FREQUENCIES:
        assert relative(reduced.lifted_transfer_matrix(s), model.transfer_matrix(s)) < 1e-10
    t = np.linspace(0, 5, 201)
    original = model.response(3, "step", t)
    lifted = reduced.lifted_response(3, "step", t)
    np.testing.assert_allclose(lifted.y, original.y, atol=1e-8 * np.abs(original.y).max())


# ---------------------------------------------------------------------------- errors and bounds
def test_band_error_decreases_with_n_and_tracks_one_over_lambda():
    errors = []
    for n in (80, 160, 320):
        model, sample = sbm_model(n, 0)
        reduced = structure_preserving_reduction(model, 3)
        result = reduced.band_error(1.0, points_per_decade=3, refine=False)
        errors.append(result.sup_error)
        assert 0.5 < result.sup_error * reduced.lambda_next < 2.0  # about eta / lambda_{k+1}
        assert result.sup_error == pytest.approx(result.sup_lowrank_error, rel=0.05)
    assert errors[0] > errors[1] > errors[2]


def test_thm38_bound_holds_where_it_applies():
    model, _ = sbm_model(80, 7)
    reduced = structure_preserving_reduction(model, 3)
    errors = reduced.band_error(1.0, points_per_decade=3, refine=False)
    assert np.isfinite(errors.bound).all()
    assert np.all(errors.lowrank_error <= errors.bound)
    for s in (2j, 0.3 + 0.5j):  # off the imaginary axis too
        error = np.linalg.norm(model.transfer_matrix(s) - band.lowrank_transfer_matrix(reduced, s), 2)
        assert error <= band.thm38_bound(reduced, s)


def test_thm38_bound_reports_inapplicable():
    assert band.thm38_right_side(1.0, 1.0, 1.0, 1.5) == np.inf  # 1.5 <= M2 + M1 M2^2 = 2
    assert band.thm38_right_side(1.0, 1.0, 1.0, 3.0) == pytest.approx(4.0)


def test_band_error_methods_agree():
    model, _ = sbm_model(80, 8)
    reduced = structure_preserving_reduction(model, 3)
    reference = reduced.band_error(1.0, points_per_decade=1, refine=False, method="dense")
    splu = reduced.band_error(1.0, points_per_decade=1, refine=False, method="splu")
    np.testing.assert_allclose(splu.error, reference.error, rtol=1e-6)
    np.testing.assert_allclose(splu.lowrank_error, reference.lowrank_error, rtol=1e-6)
    # GMRES solves to 1e-8 relative (of ||T||): errors are resolved to about 1e-4 of the sup
    gmres = reduced.band_error(1.0, points_per_decade=1, refine=False, method="gmres")
    atol = 1e-4 * reference.sup_error
    np.testing.assert_allclose(gmres.error, reference.error, rtol=0, atol=atol)
    np.testing.assert_allclose(gmres.lowrank_error, reference.lowrank_error, rtol=0, atol=atol)


def test_lifted_response_tracks_node_responses_for_low_frequency_input():
    # The band-limited model matches inputs inside |w| <= eta; a step also excites the
    # disturbed machine's own lightly damped local mode (~100 rad/s), which it cannot.
    model, _ = sbm_model(80, 9)
    reduced = structure_preserving_reduction(model, 3)
    t = np.linspace(0, 20, 401)
    signal = ExponentialApproach(0.5)
    original = model.response(1, signal, t)
    lifted = reduced.lifted_response(1, signal, t)
    assert lifted.y.shape == original.y.shape
    np.testing.assert_array_equal(lifted.y, lifted.info["reduced_y"][:, reduced.labels])
    assert np.abs(lifted.y - original.y).max() < 0.01 * np.abs(original.y).max()
    np.testing.assert_allclose(lifted.y_coi, original.y_coi, atol=1e-3 * np.abs(original.y_coi).max())
    step = reduced.lifted_response(1, "step", t, nodes=[0, 79])
    assert step.y.shape == (401, 2)


# ---------------------------------------------------------------------------- bad input
def test_bad_input():
    model, _ = sbm_model(80, 10)
    for k in (0, 81, 1.5):
        with pytest.raises(ValueError, match="k must be"):
            structure_preserving_reduction(model, k)
    with pytest.raises(ValueError, match="partition has 2 clusters"):
        structure_preserving_reduction(model, 3, partition=[np.arange(40), np.arange(40, 80)])
    with pytest.raises(TypeError):
        structure_preserving_reduction(model.laplacian, 3)
    complete = NetworkModel(random_family_nodes(6, random_state=0),
                            build_laplacian([(i, j) for i in range(6) for j in range(i)]))
    with pytest.raises(ValueError, match="coincide"):
        structure_preserving_reduction(complete, 3)
    with pytest.raises(ValueError, match="coincide"):
        structure_preserving_reduction(complete, partition=[[0, 1], [2, 3], [4, 5]])
    disconnected = NetworkModel(random_family_nodes(6, random_state=0),
                                build_laplacian([(0, 1), (1, 2), (3, 4), (4, 5)], allow_disconnected=True),
                                allow_disconnected=True)
    with pytest.raises(DisconnectedNetworkError):
        structure_preserving_reduction(disconnected, partition=[[0, 1, 2], [3, 4, 5]])
    with pytest.raises(ValueError, match="eta"):
        structure_preserving_reduction(model, 3).band_error(eta=0.0)


def test_fig3_5_quick_writes_json_and_png(tmp_path):
    from gridcoherence.studies.experiments.sbm_reduction import fig3_5

    numbers = fig3_5(tmp_path, quick=True)
    assert (tmp_path / "fig3_5.json").is_file() and (tmp_path / "fig3_5.png").is_file()
    assert numbers["misclassification"] == 0.0 and numbers["band_error"] < 0.02
