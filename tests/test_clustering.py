"""Spectral clustering: embeddings, eigengap suggestion, k-means robustness, bad input."""

import numpy as np
import pytest
import scipy.sparse.linalg as spla

from gridcoherence.models.eigengap import suggest_k
from gridcoherence.models.embedding import EigenpairCache
from gridcoherence.reduction.clustering import (
    SpectralClustering,
    kmeans_labels,
    misclassification_rate,
    spectral_clustering,
)
from gridcoherence.studies.experiments.sbm_reduction import sbm341_sample as sbm341
from gridcoherence.models.laplacian import DisconnectedNetworkError, build_laplacian


@pytest.mark.parametrize("embedding", ["laplacian", "normalized", "inertia"])
def test_recovers_sbm_blocks_and_suggests_k(embedding):
    sample = sbm341(80, 3)
    inertia = np.random.default_rng(0).uniform(1.0, 2.0, 80)
    result = spectral_clustering(sample.laplacian, embedding=embedding, inertia=inertia)
    assert result.suggested_k_ == 3 and result.n_clusters_ == 3
    assert misclassification_rate(sample.labels, result.labels_) == 0.0
    assert result.embedding_.shape == (80, 3)
    # lambda_1 is 0 up to round-off scaled by ||L|| (fails for lambda_1 = 1e-6).
    assert abs(result.eigenvalues_[0]) <= 1e-12 * spla.norm(sample.laplacian, 1)
    assert np.all(np.diff(result.eigenvalues_) > 0)


def test_laplacian_embedding_is_orthonormal_with_constant_first_column():
    sample = sbm341(80, 1)
    result = spectral_clustering(sample.laplacian, 3)
    V = result.embedding_
    np.testing.assert_allclose(V.T @ V, np.eye(3), atol=1e-12)
    np.testing.assert_allclose(V[:, 0], 1 / np.sqrt(80), atol=1e-12)
    np.testing.assert_allclose(sample.laplacian @ V, V * result.eigenvalues_[:3], atol=1e-9)
    assert result.eigenvalues_.size == 4  # lambda_{k+1} kept


def test_inertia_embedding_solves_the_weighted_problem():
    sample = sbm341(80, 2)
    m = np.random.default_rng(1).uniform(0.5, 3.0, 80)
    result = spectral_clustering(sample.laplacian, 3, embedding="inertia", inertia=m)
    V, lam = result.embedding_, result.eigenvalues_[:3]
    np.testing.assert_allclose(sample.laplacian @ V, (m[:, None] * V) * lam, atol=1e-8)
    np.testing.assert_allclose(V.T @ (m[:, None] * V), np.eye(3), atol=1e-10)


def test_sparse_eigensolver_path_matches_dense():
    sample = sbm341(400, 4)
    dense = spectral_clustering(sample.laplacian, 3, eigen_method="dense")
    amg = spectral_clustering(sample.laplacian, 3, eigen_method="amg")
    np.testing.assert_allclose(amg.eigenvalues_, dense.eigenvalues_, rtol=1e-6,
                               atol=1e-12 * spla.norm(sample.laplacian, 1))
    assert np.array_equal(amg.labels_, dense.labels_)


def test_kmeans_plus_plus_restarts_succeed_on_sbm_draws():
    # k-means++ with restarts never failed in 200 draws at n = 80
    failures = sum(misclassification_rate(s.labels, spectral_clustering(s.laplacian, 3).labels_) > 0
                   for s in (sbm341(80, seed) for seed in range(20)))
    assert failures == 0


def test_deterministic_given_random_state():
    sample = sbm341(80, 5)
    a = spectral_clustering(sample.laplacian, 3, random_state=7).labels_
    b = spectral_clustering(sample.laplacian, 3, random_state=7).labels_
    assert np.array_equal(a, b)


def test_suggest_k_relative_gap():
    assert suggest_k([0.0, 1.0, 1.1, 1.2, 50.0, 51.0]) == 4
    assert suggest_k([0.0, 1.0, 1.1, 1.2, 50.0, 51.0], max_clusters=3) == 2
    with pytest.raises(ValueError, match="disconnected"):
        suggest_k([0.0, 0.0, 1.0])
    with pytest.raises(ValueError, match="two smallest"):
        suggest_k([0.0])
    with pytest.raises(ValueError, match="max_clusters"):
        suggest_k([0.0, 1.0, 2.0], max_clusters=0)
    with pytest.raises(ValueError, match="non-finite"):
        suggest_k([0.0, 1.0, np.nan])


def test_suggest_k_skips_every_k_the_eigengap_check_rejects():
    # All ratios equal: argmax alone would pick k = 2, where lambda_2 = lambda_3.
    assert suggest_k([0.0, 50.0, 50.0, 50.0, 50.0]) == 1  # K_5: one coherent group
    assert suggest_k([0.0, 1.0, 1.0, 1.0, 2.0, 2.0]) == 4  # 2 and 3 and 5 straddle repeats
    # Another embedding's spectrum suggests k = 2, but L repeats an eigenvalue there.
    assert suggest_k([0.0, 1.0, 5.0, 6.0]) == 2
    assert suggest_k([0.0, 1.0, 5.0, 6.0], laplacian_eigenvalues=[0.0, 2.0, 2.0, 9.0]) == 3


def test_suggested_k_is_accepted_by_the_clustering():
    # K_6: eigenvalues 0, 6, 6, 6, 6, 6 -- no k in 2..5 is determined
    L = build_laplacian([(i, j) for i in range(6) for j in range(i)])
    result = spectral_clustering(L)
    assert result.suggested_k_ == 1 and result.n_clusters_ == 1
    assert result.labels_.tolist() == [0] * 6


def test_given_k_reports_no_suggestion_from_too_few_eigenvalues():
    sample = sbm341(80, 3)
    assert spectral_clustering(sample.laplacian, 3).suggested_k_ is None
    assert spectral_clustering(sample.laplacian, 10).suggested_k_ == 3  # 11 eigenvalues: enough


def test_eigenpair_cache_computes_once_and_grows_on_demand():
    sample = sbm341(80, 3)
    cache = EigenpairCache(sample.laplacian, min_count=5)
    first = cache.eigenpairs("laplacian", 2)
    assert first.values.size == 5
    assert cache.eigenpairs("laplacian", 4) is first
    larger = cache.eigenpairs("laplacian", 8)
    assert larger.values.size == 8
    np.testing.assert_allclose(larger.values[:5], first.values, rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match="unknown embedding"):
        cache.eigenpairs("bogus", 3)


def test_kmeans_empty_clusters_are_refilled():
    # three distinct points but four clusters requested: k-means cannot fill the fourth
    X = np.repeat(np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]), 5, axis=0)
    labels, repaired = kmeans_labels(X, 4, random_state=0)
    assert np.bincount(labels).size == 4 and np.all(np.bincount(labels) > 0)
    assert repaired >= 1


def test_kmeans_subsample_path():
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0], [5.0, 0.0], [0.0, 5.0]])
    truth = rng.integers(0, 3, 3000)
    X = centres[truth] + 0.1 * rng.standard_normal((3000, 2))
    labels, _ = kmeans_labels(X, 3, sample_limit=200, random_state=0)
    assert misclassification_rate(truth, labels) == 0.0


def test_kmeans_subsample_is_reproducible_with_the_seed_and_assigns_every_row():
    rng = np.random.default_rng(1)
    centres = rng.standard_normal((6, 4)) * 3.0
    truth = rng.integers(0, 6, 5000)
    X = centres[truth] + 0.3 * rng.standard_normal((5000, 4))
    first, _ = kmeans_labels(X, 6, sample_limit=500, random_state=11)
    again, _ = kmeans_labels(X, 6, sample_limit=500, random_state=11)
    np.testing.assert_array_equal(first, again)
    assert first.shape == (5000,) and np.bincount(first).size == 6
    assert misclassification_rate(truth, first) < 0.01


def test_kmeans_reaches_the_optimum_scikit_learn_finds():
    from sklearn.cluster import KMeans

    sample = sbm341(200, 6)
    X = spectral_clustering(sample.laplacian, 3).embedding_
    ours, _ = kmeans_labels(X, 3, random_state=0)
    theirs = KMeans(3, n_init=10, random_state=0).fit(X).labels_
    assert misclassification_rate(theirs, ours) == 0.0


def test_misclassification_rate_matches_up_to_renaming():
    assert misclassification_rate([0, 0, 1, 1], [1, 1, 0, 0]) == 0.0
    assert misclassification_rate([0, 0, 1, 1], [0, 1, 1, 1]) == 0.25


def test_bad_k_and_disconnected_graph():
    L = sbm341(80, 0).laplacian
    for k in (0, 81, 2.5, np.nan, "3", True):
        with pytest.raises(ValueError, match="n_clusters must be an integer between 1 and n = 80"):
            spectral_clustering(L, k)
    with pytest.raises(ValueError, match="k must be an integer"):
        kmeans_labels(np.zeros((5, 2)), 6)
    two_triangles = build_laplacian([(0, 1), (1, 2), (0, 2), (3, 4), (4, 5), (3, 5)],
                                    allow_disconnected=True)
    with pytest.raises(DisconnectedNetworkError):
        spectral_clustering(two_triangles, 2)
    with pytest.raises(ValueError, match="inertia"):
        spectral_clustering(L, 3, embedding="inertia")
    with pytest.raises(ValueError, match="unknown embedding"):
        SpectralClustering(3, embedding="bogus").fit(L)


def test_k_beyond_distinct_eigenvalues_is_rejected():
    # complete graph K_6: eigenvalues 0, 6, 6, 6, 6, 6 -- V_k not determined for 2 <= k <= 5
    L = build_laplacian([(i, j) for i in range(6) for j in range(i)])
    with pytest.raises(ValueError, match="coincide"):
        spectral_clustering(L, 3)
    assert spectral_clustering(L, 6).n_clusters_ == 6  # the whole space is determined
