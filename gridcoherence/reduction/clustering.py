"""Spectral clustering of a network Laplacian into coherent groups (Algorithm 1, step 1).

The k smallest eigenvectors of the Laplacian L (the spectral embedding V_k) place
tightly coupled nodes close together; k-means on the rows of V_k returns the partition
(:class:`~gridcoherence.reduction.partition.Partition`) that Algorithm 1 aggregates.
The embeddings (``"laplacian"``, ``"normalized"``, ``"inertia"``) and their
eigenpairs are defined in :mod:`gridcoherence.models.embedding`; ``"laplacian"`` (the
eigenvectors of L itself) is what the dissertation's Algorithm 1 uses and stays this
module's default, while the reduction pipeline clusters the inertia embedding M^{-1} L
of machines by default (:func:`~gridcoherence.models.embedding.default_embedding`).
An :class:`~gridcoherence.models.embedding.EigenpairCache` keeps what was computed for
one network, so several reductions of it share one eigensolve. k-means (numpy: k-means++
seeding and Lloyd iterations; scikit-learn's ``KMeans`` spent some 40 ms per restart setting
up its thread pools, most of a 100-machine reduction) uses several seeded restarts (a single
random start fails in about a quarter of the draws of the (3.41) SBM at n = 80); beyond
:data:`KMEANS_SAMPLE_LIMIT` rows the restarts run on a seeded subsample and one pass assigns
every node. When the user does not give k it is
:func:`~gridcoherence.models.eigengap.suggest_k` on the clustered embedding's
eigenvalues, the package's one eigengap rule; a known partition (e.g. control areas)
can be passed to the reduction instead of clustering.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.optimize as sopt
import scipy.sparse as sp

from ..models.eigengap import DEFAULT_MAX_CLUSTERS, check_eigengap, suggest_k, suggestion_count
from ..models.embedding import EMBEDDINGS, EigenpairCache
from .partition import Partition, check_n_clusters

__all__ = [
    "SpectralClustering",
    "spectral_clustering",
    "kmeans_labels",
    "misclassification_rate",
]

#: Above this many nodes k-means is fitted on a seeded subsample and every node is then
#: assigned to its nearest centre: the restarts cost O(sample k d) instead of O(n k d).
#: 20,000 rows leave 200 per cluster at k = 100.
KMEANS_SAMPLE_LIMIT = 20_000


# ---------------------------------------------------------------------------- accuracy
def misclassification_rate(true_labels, found_labels):
    """Fraction of nodes misplaced under the best matching of found to true clusters.

    The matching maximises the number of agreeing nodes (Hungarian algorithm on the
    k_true x k_found contingency table), so 0.0 means the partitions are equal up to
    renaming the clusters.
    """
    true_labels = np.asarray(true_labels, dtype=np.int64)
    found_labels = np.asarray(found_labels, dtype=np.int64)
    table = np.zeros((true_labels.max() + 1, found_labels.max() + 1))
    np.add.at(table, (true_labels, found_labels), 1.0)
    rows, cols = sopt.linear_sum_assignment(table, maximize=True)
    return float(1.0 - table[rows, cols].sum() / true_labels.size)


# ---------------------------------------------------------------------------- k-means
def _fill_empty_clusters(X, labels, centers, k):
    """Give every empty cluster the point farthest from its current centre.

    k-means can end with fewer than k non-empty clusters when the embedding has fewer
    than k distinct rows (e.g. an exactly block-ideal V_k with k too large). Moving the
    worst-fitted point of a cluster with at least two members keeps every cluster
    non-empty and the partition valid.
    """
    labels = labels.copy()
    repaired = 0
    for empty in np.flatnonzero(np.bincount(labels, minlength=k) == 0):
        sizes = np.bincount(labels, minlength=k)
        movable = sizes[labels] > 1
        distance = np.where(movable, np.sum((X - centers[labels]) ** 2, axis=1), -1.0)
        point = int(np.argmax(distance))
        labels[point] = empty
        centers[empty] = X[point]
        repaired += 1
    return labels, repaired


def kmeans_labels(X, k, *, n_init=10, random_state=0, sample_limit=KMEANS_SAMPLE_LIMIT):
    """k-means (k-means++ seeding, ``n_init`` seeded restarts) with k non-empty clusters.

    Parameters
    ----------
    X : ndarray, shape (n, d)
    k : int
        1 <= k <= n.
    n_init : int
        Restarts; the lowest-inertia run is kept.
    random_state : int
    sample_limit : int
        For n > sample_limit the centres are fitted on a seeded uniform subsample of
        that size and all points are then assigned to the nearest centre.

    Returns
    -------
    labels : ndarray of int64, shape (n,)
        Canonical labels (:class:`~gridcoherence.reduction.partition.Partition`), every
        cluster non-empty.
    n_repaired : int
        Number of empty clusters that had to be refilled (see ``_fill_empty_clusters``).

    Notes
    -----
    O(n_init * iterations * min(n, sample_limit) * k * d) for the fit plus O(n k d)
    for the assignment.
    """
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[0] == 0:
        raise ValueError(f"X must be a non-empty (n, d) array, got shape {X.shape}")
    k = check_n_clusters(k, X.shape[0])
    if not np.all(np.isfinite(X)):
        raise ValueError("the embedding holds non-finite values")
    partition, repaired = _kmeans(X, k, n_init, random_state, sample_limit)
    return partition.labels, repaired


def _squared_distances(X, row_norms, centers):
    """||x_i - c_j||^2 for every row and centre (n, k), clipped at 0 against round-off."""
    distances = row_norms[:, None] - 2.0 * (X @ centers.T) + np.einsum("ij,ij->i", centers, centers)[None, :]
    return np.maximum(distances, 0.0, out=distances)


def _kmeans_plus_plus(X, row_norms, k, rng):
    """Greedy k-means++ seeding (Arthur and Vassilvitskii; 2 + log k trials per centre, as scikit-learn)."""
    n = X.shape[0]
    trials = 2 + int(np.log(k))
    centers = np.empty((k, X.shape[1]))
    centers[0] = X[rng.integers(n)]
    closest = _squared_distances(X, row_norms, centers[:1])[:, 0]
    for c in range(1, k):
        total = closest.sum()
        if total <= 0.0:  # fewer distinct rows than centres: any row will do
            candidates = rng.integers(n, size=trials)
        else:
            candidates = np.minimum(np.searchsorted(np.cumsum(closest), rng.random(trials) * total), n - 1)
        trial = np.minimum(closest[:, None], _squared_distances(X, row_norms, X[candidates]))
        best = int(np.argmin(trial.sum(axis=0)))
        centers[c] = X[candidates[best]]
        closest = trial[:, best]
    return centers


def _cluster_sums(labels, X, k):
    """The (k, d) sums of X's rows per label: one sparse product with the k x n indicator (CSC, no sort)."""
    n = labels.size
    return sp.csc_matrix((np.ones(n), labels, np.arange(n + 1)), shape=(k, n)) @ X


def _lloyd(X, row_norms, centers, max_iter=300, tol=1e-4):
    """Lloyd iterations from ``centers``: (labels, centres, inertia).

    Stops when the centres move by at most ``tol`` times the mean per-feature variance
    (scikit-learn's rule); an empty cluster keeps its centre.
    """
    threshold = tol * float(np.mean(np.var(X, axis=0)))
    k = centers.shape[0]
    for _ in range(max_iter):
        labels = np.argmin(_squared_distances(X, row_norms, centers), axis=1)
        counts = np.bincount(labels, minlength=k)
        sums = _cluster_sums(labels, X, k)
        moved = centers.copy()
        filled = counts > 0
        moved[filled] = sums[filled] / counts[filled, None]
        shift = float(np.sum((moved - centers) ** 2))
        centers = moved
        if shift <= threshold:
            break
    distances = _squared_distances(X, row_norms, centers)
    labels = np.argmin(distances, axis=1)
    return labels, centers, float(distances[np.arange(X.shape[0]), labels].sum())


def _kmeans(X, k, n_init, random_state, sample_limit=KMEANS_SAMPLE_LIMIT):
    """:func:`kmeans_labels` on validated input: (Partition, number of refilled clusters).

    The restarts run on a seeded uniform subsample when n > ``sample_limit``; one final
    pass assigns every row to its nearest centre. ``X`` may be a view (e.g. the first k
    columns of the eigenvectors): only the subsample is copied.
    """
    n = X.shape[0]
    rng = np.random.default_rng(random_state)
    fitted = X[np.sort(rng.choice(n, size=sample_limit, replace=False))] if n > sample_limit else X
    fitted_norms = np.einsum("ij,ij->i", fitted, fitted)
    best = None
    for _ in range(n_init):
        run = _lloyd(fitted, fitted_norms, _kmeans_plus_plus(fitted, fitted_norms, k, rng))
        if best is None or run[2] < best[2]:
            best = run
    labels, centers, _ = best
    if fitted is not X:
        labels = np.argmin(_squared_distances(X, np.einsum("ij,ij->i", X, X), centers), axis=1)
    labels, repaired = _fill_empty_clusters(X, labels.astype(np.int64), centers.copy(), k)
    return Partition(labels), repaired


# ---------------------------------------------------------------------------- estimator
class SpectralClustering:
    """Spectral clustering of a connected Laplacian into k coherent groups.

    Parameters
    ----------
    n_clusters : int, optional
        k. When omitted it is :func:`~gridcoherence.models.eigengap.suggest_k` on the
        ``min(n, max_clusters + 1)`` smallest eigenvalues of the clustered embedding's
        problem: the largest relative eigengap among the k that leave V_k determined.
    embedding : {"laplacian", "normalized", "inertia"}
        Which eigenvectors to cluster (module docstring). Algorithm 1 uses
        ``"laplacian"``.
    max_clusters : int
        Largest k the eigengap suggestion considers.
    n_init : int
        k-means restarts (k-means++ seeding).
    eigen_method : str
        Passed to :func:`gridcoherence.models.laplacian.smallest_eigenpairs` ("auto",
        "dense", "amg", "shift-invert", "lanczos").
    random_state : int
        Seeds the eigensolver start block and k-means.

    Attributes
    ----------
    partition_ : Partition
        The clusters found.
    labels_ : ndarray of int64, shape (n,)
        Cluster of every node, canonical numbering (cluster 0 holds node 0):
        ``partition_.labels``.
    n_clusters_ : int
        The k used.
    suggested_k_ : int or None
        The eigengap suggestion; None when k was given and fewer than
        ``min(n, max_clusters + 1)`` eigenvalues were computed.
    eigenvalues_ : ndarray
        The smallest eigenvalues computed (at least k + 1 of them when k < n, so
        ``eigenvalues_[k]`` is lambda_{k+1}), of L or of the variant's pencil.
    embedding_ : ndarray, shape (n, k)
        The eigenvectors clustered; for ``"laplacian"`` this is V_k, orthonormal, first
        column +1/sqrt(n).
    eigen_method_ : str
        Solver actually used.
    n_empty_repaired_ : int
        Empty k-means clusters refilled (0 in normal operation).

    Notes
    -----
    Cost: the eigensolver (dense O(n^3) up to n = 2000; shift-invert or plain
    Lanczos, roughly O(nnz(L) k) per iteration, beyond) plus k-means, O(n k^2) per
    iteration on at most 20,000 sampled rows and one O(n k^2) assignment.

    Examples
    --------
    >>> from gridcoherence.cases.sbm import sample_sbm
    >>> sample = sample_sbm([20, 40, 20], [[.8, .1, .1], [.1, .8, .1], [.1, .1, .8]],
    ...                     [[20, .4, .8], [.4, 20, .7], [.8, .7, 20]], random_state=0)
    >>> result = SpectralClustering().fit(sample.laplacian)
    >>> result.n_clusters_, result.suggested_k_
    (3, 3)
    >>> misclassification_rate(sample.labels, result.labels_)
    0.0
    """

    def __init__(self, n_clusters=None, *, embedding="laplacian", max_clusters=DEFAULT_MAX_CLUSTERS,
                 n_init=10, eigen_method="auto", random_state=0):
        self.n_clusters = n_clusters
        self.embedding = embedding
        self.max_clusters = max_clusters
        self.n_init = n_init
        self.eigen_method = eigen_method
        self.random_state = random_state

    def fit(self, laplacian, inertia=None):
        """Cluster the nodes of ``laplacian``.

        Parameters
        ----------
        laplacian : sparse matrix or ndarray, shape (n, n)
            A connected Laplacian (a disconnected one raises
            :class:`~gridcoherence.models.laplacian.DisconnectedNetworkError`: reduce each
            component separately). Negative edge weights are accepted while L stays
            positive semidefinite.
        inertia : array_like, shape (n,), optional
            Node inertias, required by the ``"inertia"`` embedding.

        Returns
        -------
        self
        """
        if self.embedding not in EMBEDDINGS:
            raise ValueError(f"unknown embedding {self.embedding!r}; use one of {EMBEDDINGS}")
        eigenpairs = EigenpairCache(laplacian, inertia=inertia, eigen_method=self.eigen_method,
                                    random_state=self.random_state)
        n = eigenpairs.n
        k = None if self.n_clusters is None else check_n_clusters(self.n_clusters, n, "n_clusters")
        count = suggestion_count(n, self.max_clusters) if k is None else k + 1
        return self._fit_eigenpairs(eigenpairs.eigenpairs(self.embedding, count), k)

    def _fit_eigenpairs(self, spectrum, k, laplacian_eigenvalues=None):
        """Cluster with the embedding's eigenpairs already computed (inputs trusted).

        ``spectrum`` holds at least k + 1 pairs (or all n), or the suggestion's
        ``min(n, max_clusters + 1)`` when k is None; ``laplacian_eigenvalues`` are L's,
        when the embedding is another one and Algorithm 1 also needs L's V_k determined.
        """
        values = spectrum.values
        n = spectrum.vectors.shape[0]
        self.eigenvalues_, self.eigen_method_ = values, spectrum.method
        self.suggested_k_ = None
        if values.size >= suggestion_count(n, self.max_clusters):
            self.suggested_k_ = suggest_k(values, self.max_clusters, laplacian_eigenvalues=laplacian_eigenvalues)
        if k is None:
            k = self.suggested_k_
        check_eigengap(values, k)
        self.n_clusters_ = k
        self.embedding_ = spectrum.vectors[:, :k]  # a view: no n x k copy
        self.partition_, self.n_empty_repaired_ = _kmeans(self.embedding_, k, self.n_init, self.random_state)
        self.labels_ = self.partition_.labels
        if self.n_empty_repaired_:
            warnings.warn(f"k-means left {self.n_empty_repaired_} of {k} clusters empty; they were "
                          "refilled with the worst-fitted nodes. The embedding has fewer than k "
                          "well-separated groups: consider a smaller k.", stacklevel=3)
        return self

    def __repr__(self):
        return (f"SpectralClustering(n_clusters={self.n_clusters}, embedding={self.embedding!r}, "
                f"n_init={self.n_init}, random_state={self.random_state})")


def spectral_clustering(laplacian, k=None, *, embedding="laplacian", inertia=None,
                        max_clusters=DEFAULT_MAX_CLUSTERS, n_init=10, eigen_method="auto",
                        random_state=0):
    """Cluster a Laplacian's nodes; see :class:`SpectralClustering` (returns the fitted estimator).

    Parameters
    ----------
    laplacian : sparse matrix or ndarray, shape (n, n)
    k : int, optional
        Number of clusters; the eigengap suggestion when omitted.
    embedding : {"laplacian", "normalized", "inertia"}
    inertia : array_like, optional
        Node inertias for ``embedding="inertia"`` (e.g. ``model.inertia``).
    max_clusters, n_init, eigen_method, random_state
        As for :class:`SpectralClustering`.

    Returns
    -------
    SpectralClustering
        Fitted: ``partition_``, ``labels_``, ``embedding_``, ``eigenvalues_``, ``suggested_k_``, ...

    Examples
    --------
    >>> import numpy as np
    >>> from gridcoherence.models.laplacian import build_laplacian
    >>> # two triangles joined by one weak edge
    >>> L = build_laplacian([(0, 1), (1, 2), (0, 2), (3, 4), (4, 5), (3, 5), (2, 3, 0.1)])
    >>> spectral_clustering(L).labels_.tolist()
    [0, 0, 0, 1, 1, 1]
    """
    return SpectralClustering(k, embedding=embedding, max_clusters=max_clusters, n_init=n_init,
                              eigen_method=eigen_method, random_state=random_state).fit(laplacian, inertia)
