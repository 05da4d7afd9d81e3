"""Partitions of the nodes: canonical numbering, the matrix P of (3.29), P^T x and P y, bad input."""

import dataclasses

import numpy as np
import pytest
import scipy.sparse as sp

from gridcoherence.reduction.partition import Partition, as_labels, as_partition, check_n_clusters


def test_canonical_numbering_sizes_and_members():
    p = Partition(np.array([5, 5, 2, 9, 2, 5]))
    assert p.labels.tolist() == [0, 0, 1, 2, 1, 0]
    assert p.n == 6 and p.n_clusters == 3 and p.sizes.tolist() == [3, 2, 1]
    assert [p.members(c).tolist() for c in range(3)] == [[0, 1, 5], [2, 4], [3]]
    with pytest.raises(IndexError, match="cluster 3"):
        p.members(3)
    assert Partition(p.labels) == p and Partition([0, 1, 1, 0, 1, 0]) != p


def test_matrix_restrict_and_lift_agree_with_p():
    rng = np.random.default_rng(0)
    labels = np.r_[np.arange(4), rng.integers(0, 4, 26)]
    rng.shuffle(labels)
    p = Partition(labels)
    P = p.matrix
    assert sp.issparse(P) and P.shape == (30, 4)
    # an independent P from the definition: P[i, c] = 1 iff node i is in cluster c
    dense = np.array([[float(p.labels[i] == c) for c in range(4)] for i in range(30)])
    np.testing.assert_array_equal(P.toarray(), dense)
    x = rng.standard_normal((30, 3))
    np.testing.assert_allclose(p.restrict(x), dense.T @ x, rtol=1e-13)
    np.testing.assert_allclose(p.restrict(x.T, axis=1), (dense.T @ x).T, rtol=1e-13)
    y = rng.standard_normal((4, 2))
    np.testing.assert_array_equal(p.lift(y), dense @ y)
    np.testing.assert_array_equal(p.lift(y.T, axis=-1, nodes=[3, 7]), (dense @ y)[[3, 7]].T)
    assert Partition.from_partition_matrix(P) == p


def test_from_labels_accepts_groups_and_as_partition_keeps_a_partition():
    p = Partition.from_labels([[4, 0], [1, 3], [2]], 5)
    assert p.labels.tolist() == [0, 1, 2, 1, 0]
    assert as_partition(p, 5) is p
    assert as_labels([[4, 0], [1, 3], [2]], 5).tolist() == [0, 1, 2, 1, 0]
    with pytest.raises(ValueError, match="covers 5 nodes, not n = 6"):
        as_partition(p, 6)
    with pytest.raises(ValueError, match="partition has 3 clusters but k = 2"):
        as_partition(p, 5, n_clusters=2)


def test_a_partition_is_frozen():
    p = Partition([0, 1, 1])
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.n_clusters = 5
    with pytest.raises(ValueError, match="read-only"):
        p.labels[0] = 1


@pytest.mark.parametrize("partition, message", [
    ([[0, 1], [1, 2]], "exactly once"),
    ([[0, 1], []], "group 1 of the partition is empty"),
    ([[0, 1], [2.0]], "group 1 .* integer node indices"),
    ([0, 1], r"shape \(3,\)"),
    (np.array([0.0, 1.0, 1.0]), "integers"),
    (np.array([True, False, True]), "integers"),
    (np.zeros((3, 1), dtype=int), "1-D"),
])
def test_bad_partitions(partition, message):
    with pytest.raises(ValueError, match=message):
        as_labels(partition, 3)


def test_bad_partition_matrix_and_cluster_count():
    with pytest.raises(ValueError, match="exactly one entry 1 in every row"):
        Partition.from_partition_matrix(np.array([[1.0, 1.0], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="column 1 of the partition matrix is empty"):
        Partition.from_partition_matrix(np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]))
    with pytest.raises(ValueError, match="partition has 2 clusters but k = 3"):
        Partition([0, 0, 1], n_clusters=3)

    for k in (0, 4, 1.5, np.inf, None, "2", True):
        with pytest.raises(ValueError, match="k must be an integer between 1 and n = 3"):
            check_n_clusters(k, 3)
    assert check_n_clusters(np.int64(2), 3) == 2
