"""Weighted stochastic block models (dissertation (3.35)-(3.36), (3.46)-(3.47)).

Nodes are split into k blocks; an edge between nodes of blocks a and b is present with
probability Q[a, b] and then has weight W[a, b]. The Laplacian L = diag(A 1) - A of such
a graph concentrates around the expected Laplacian L_blk, the Laplacian of P B P^T with
B = Q (Hadamard) W, which is k-block-ideal (Def. 3.2).

The sampler is vectorised per block pair and never forms a dense n x n array, so graphs
with 10^6 nodes and moderate expected degree are practical: cost O(n + edges).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .._numeric import sorted_unique
from .._validation import check_finite

__all__ = ["SBMSample", "sample_sbm", "expected_laplacian", "block_labels"]

# Above this many candidate pairs a block pair is sampled by drawing the edge count and
# then distinct pairs, instead of one Bernoulli trial per pair.
_BERNOULLI_LIMIT = 2_000_000


def _check_block_matrices(sizes, Q, W):
    sizes = np.asarray(sizes)
    if sizes.ndim != 1 or sizes.size == 0 or not np.issubdtype(sizes.dtype, np.integer):
        raise ValueError("sizes must be a non-empty 1-D sequence of integers")
    if np.any(sizes <= 0):
        raise ValueError(f"every block needs at least one node; sizes = {sizes.tolist()}")
    k = sizes.size
    Q = check_finite("Q", np.asarray(Q, dtype=float))
    W = check_finite("W", np.asarray(W, dtype=float))
    for name, M in (("Q", Q), ("W", W)):
        if M.shape != (k, k):
            raise ValueError(f"{name} must be {k}x{k} for {k} blocks, got shape {M.shape}")
        if not np.allclose(M, M.T, rtol=0, atol=0):
            raise ValueError(f"{name} must be symmetric")
    if np.any((Q < 0) | (Q > 1)):
        raise ValueError("Q holds probabilities and must lie in [0, 1]")
    if np.any(W < 0):
        raise ValueError("W holds edge weights and must be >= 0")
    return sizes.astype(np.int64), Q, W


def block_labels(sizes):
    """Block label of every node, blocks numbered in order: [0]*sizes[0] + [1]*sizes[1] + ..."""
    sizes = np.asarray(sizes, dtype=np.int64)
    return np.repeat(np.arange(sizes.size), sizes)


@dataclass(frozen=True)
class SBMSample:
    """One sampled weighted SBM graph.

    Attributes
    ----------
    laplacian : scipy.sparse.csr_matrix, shape (n, n)
    labels : ndarray of int, shape (n,)
        True block of every node.
    sizes, Q, W : ndarray
        The model parameters.
    """

    laplacian: sp.csr_matrix
    labels: np.ndarray
    sizes: np.ndarray
    Q: np.ndarray
    W: np.ndarray

    @property
    def n(self):
        return int(self.labels.size)

    @property
    def n_edges(self):
        return int((self.laplacian.nnz - self.laplacian.shape[0]) // 2)


def _distinct_pairs(rng, count, n_candidates, decode):
    """``count`` distinct indices out of ``n_candidates`` (rejection of duplicates)."""
    chosen = sorted_unique(rng.integers(0, n_candidates, size=count, dtype=np.int64))
    while chosen.size < count:
        extra = rng.integers(0, n_candidates, size=count - chosen.size, dtype=np.int64)
        chosen = sorted_unique(np.r_[chosen, extra])
    return decode(chosen)


def _sample_block_pair(rng, a_start, a_size, b_start, b_size, same, q):
    """Edges (i < j style pairs) between two blocks with probability q each."""
    if q == 0.0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    if same:
        n_candidates = a_size * (a_size - 1) // 2

        def decode(index):
            # Pair index -> (row, col) with row > col in the strict lower triangle.
            row = ((1 + np.sqrt(1 + 8 * index.astype(float))) // 2).astype(np.int64)
            row -= (row * (row - 1) // 2) > index
            row += ((row + 1) * row // 2) <= index
            col = index - row * (row - 1) // 2
            return a_start + row, a_start + col
    else:
        n_candidates = a_size * b_size

        def decode(index):
            return a_start + index // b_size, b_start + index % b_size
    if n_candidates == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    if n_candidates <= _BERNOULLI_LIMIT:
        index = np.flatnonzero(rng.random(n_candidates) < q).astype(np.int64)
        return decode(index)
    count = int(rng.binomial(n_candidates, q))
    return _distinct_pairs(rng, count, n_candidates, decode)


def sample_sbm(sizes, Q, W, random_state=None):
    """Sample a weighted stochastic block model graph (3.35)-(3.36).

    Parameters
    ----------
    sizes : sequence of int
        Block sizes; nodes are numbered block by block.
    Q : array_like, (k, k)
        Symmetric edge probabilities.
    W : array_like, (k, k)
        Symmetric non-negative edge weights.
    random_state : int or numpy.random.Generator, optional

    Returns
    -------
    SBMSample

    Notes
    -----
    Each block pair is sampled exactly: one Bernoulli trial per candidate pair when
    there are at most 2e6 candidates, otherwise a binomial edge count followed by that
    many distinct pairs drawn uniformly (the same distribution). O(n + edges) time and
    memory.

    Examples
    --------
    >>> sample = sample_sbm([20, 40, 20], [[.8, .1, .1], [.1, .8, .1], [.1, .1, .8]],
    ...                     [[20, .4, .8], [.4, 20, .7], [.8, .7, 20]], random_state=0)
    >>> sample.n, sample.laplacian.shape
    (80, (80, 80))
    """
    sizes, Q, W = _check_block_matrices(sizes, Q, W)
    rng = np.random.default_rng(random_state)
    starts = np.r_[0, np.cumsum(sizes)]
    rows, cols, weights = [], [], []
    for a in range(sizes.size):
        for b in range(a + 1):
            i, j = _sample_block_pair(rng, starts[a], sizes[a], starts[b], sizes[b], a == b, Q[a, b])
            rows.append(i)
            cols.append(j)
            weights.append(np.full(i.size, W[a, b]))
    i, j, w = np.concatenate(rows), np.concatenate(cols), np.concatenate(weights)
    n = int(starts[-1])
    adjacency = sp.coo_matrix((np.r_[w, w], (np.r_[i, j], np.r_[j, i])), shape=(n, n)).tocsr()
    degree = np.asarray(adjacency.sum(axis=1)).ravel()
    laplacian = (sp.diags(degree) - adjacency).tocsr()
    return SBMSample(laplacian, block_labels(sizes), sizes, Q, W)


def expected_laplacian(sizes, Q, W):
    """L_blk, the Laplacian of P B P^T with B = Q (Hadamard) W (3.46)-(3.47), as a dense array.

    The diagonal of P B P^T is included in A and cancels in the Laplacian, so
    L_blk = diag(P B P^T 1) - P B P^T. Dense: use for n up to a few thousand.
    """
    sizes, Q, W = _check_block_matrices(sizes, Q, W)
    labels = block_labels(sizes)
    B = Q * W
    A = B[np.ix_(labels, labels)]
    return np.diag(A.sum(axis=1)) - A
