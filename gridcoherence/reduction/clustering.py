"""Spectral clustering of a network Laplacian into coherent groups (Algorithm 1, step 1).

The k smallest eigenvectors of the Laplacian L (the spectral embedding V_k) place
tightly coupled nodes close together; k-means on the rows of V_k returns the partition
that Algorithm 1 aggregates. Three embeddings are offered:

* ``"laplacian"`` -- eigenvectors of L itself. This is what the dissertation's
  Algorithm 1 uses, and the refinement (3.34) and the reduced Laplacian need exactly
  these eigenpairs.
* ``"normalized"`` -- the random-walk (Shi-Malik) embedding, the generalized problem
  L v = lambda D v with D the weighted degrees; robust to very unequal degrees.
* ``"inertia"`` -- L v = lambda M v with M the node inertias, i.e. the eigenvectors of
  M^{-1} L: the classical slow-coherency choice for power systems. On the 16-machine
  68-bus system it recovers the usually cited groups where L alone does not.

All three are generalized symmetric problems L v = lambda B v with a positive diagonal B
(B = I for ``"laplacian"``) and the constant vector in the kernel, so one solver serves
them. k-means uses k-means++ seeding with several seeded restarts (a single random
start fails in about a quarter of the draws of the (3.41) SBM at n = 80).
When the user does not give k it is taken at the largest relative eigengap
lambda_{k+1} / lambda_k (:func:`suggest_k`); a known partition (e.g. control areas) can
be passed instead of clustering (:func:`as_labels`).
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.linalg as sla
import scipy.optimize as sopt
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ..models.laplacian import DENSE_EIGEN_LIMIT, smallest_eigenpairs, validate_laplacian

__all__ = [
    "SpectralClustering",
    "spectral_clustering",
    "suggest_k",
    "check_eigengap",
    "kmeans_labels",
    "as_labels",
    "canonical_labels",
    "partition_matrix",
    "labels_from_partition_matrix",
    "cluster_sizes",
    "misclassification_rate",
    "EMBEDDINGS",
    "DEFAULT_MAX_CLUSTERS",
]

#: Embedding variants accepted by :func:`spectral_clustering`.
EMBEDDINGS = ("laplacian", "normalized", "inertia")

#: Largest k considered by the eigengap suggestion when the user does not give k.
DEFAULT_MAX_CLUSTERS = 10

#: Above this many nodes k-means is fitted on a seeded subsample and every node is then
#: assigned to its nearest centre: the restarts cost O(sample k d) instead of O(n k d).
KMEANS_SAMPLE_LIMIT = 50_000

#: Relative size of lambda_{k+1} - lambda_k below which V_k is not determined by L.
DEGENERACY_RTOL = 1e-8


# ---------------------------------------------------------------------------- partitions
def canonical_labels(labels):
    """Relabel clusters 0..k-1 in order of their smallest node index.

    Cluster 0 is the one holding node 0, and so on; this makes a partition's labels
    independent of how k-means happened to number its centres. O(n).

    Examples
    --------
    >>> canonical_labels([2, 2, 0, 1, 0]).tolist()
    [0, 0, 1, 2, 1]
    """
    labels = np.asarray(labels)
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    rank = np.empty(first.size, dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(first.size)
    return rank[inverse.ravel()]


def as_labels(partition, n):
    """Validate a partition of nodes 0..n-1 and return canonical labels (see :func:`canonical_labels`).

    Parameters
    ----------
    partition : array_like of int, shape (n,), or sequence of array_like of int
        Either a cluster label per node (any integers; they are renumbered), or a
        list of node-index groups (e.g. known areas) that together cover 0..n-1
        exactly once.
    n : int

    Returns
    -------
    ndarray of int64, shape (n,)

    Examples
    --------
    >>> as_labels([[3, 0], [1, 2]], 4).tolist()
    [0, 1, 1, 0]
    """
    is_groups = isinstance(partition, (list, tuple)) and len(partition) > 0 and all(
        np.ndim(group) == 1 for group in partition)
    if is_groups:
        groups = [np.asarray(group, dtype=np.int64).ravel() for group in partition]
        if any(group.size == 0 for group in groups):
            raise ValueError("every group of the partition must hold at least one node")
        everything = np.concatenate(groups)
        if not np.array_equal(np.sort(everything), np.arange(n)):
            raise ValueError(f"the groups must cover node indices 0..{n - 1} exactly once")
        labels = np.empty(n, dtype=np.int64)
        for c, group in enumerate(groups):
            labels[group] = c
    else:
        labels = np.asarray(partition)
        if labels.shape != (n,):
            raise ValueError(f"labels must have shape ({n},), got {labels.shape}")
        if not np.issubdtype(labels.dtype, np.integer):
            raise ValueError("labels must be integers")
    return canonical_labels(labels)


def cluster_sizes(labels, k=None):
    """|I_i| for every cluster label 0..k-1."""
    labels = np.asarray(labels)
    return np.bincount(labels, minlength=int(labels.max()) + 1 if k is None else k)


def partition_matrix(labels, k=None):
    """P = [1_{I_1} ... 1_{I_k}] of (3.29) as a sparse n x k 0/1 matrix (CSR)."""
    labels = np.asarray(labels, dtype=np.int64)
    k = int(labels.max()) + 1 if k is None else int(k)
    n = labels.size
    return sp.csr_matrix((np.ones(n), (np.arange(n), labels)), shape=(n, k))


def labels_from_partition_matrix(P):
    """Inverse of :func:`partition_matrix`: the column holding each row's single 1."""
    P = sp.csr_matrix(P)
    if np.any(np.diff(P.indptr) != 1) or not np.all(P.data == 1.0):
        raise ValueError("a partition matrix has exactly one entry 1 in every row")
    return P.indices.astype(np.int64)


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


# ---------------------------------------------------------------------------- eigengap
def suggest_k(eigenvalues, max_clusters=None):
    """Number of clusters at the largest relative eigengap lambda_{k+1} / lambda_k.

    Parameters
    ----------
    eigenvalues : array_like
        Smallest eigenvalues of a connected Laplacian (or of M^{-1} L), ascending,
        starting with the zero eigenvalue.
    max_clusters : int, optional
        Largest k considered (default: all that the given eigenvalues allow).

    Returns
    -------
    int
        k in 2..max_clusters. The ratio is the right scale: the reduction error
        behaves like 1 / lambda_{k+1} and the embedding's sensitivity like
        lambda_k / lambda_{k+1} (Davis-Kahan). k = 1 is never suggested (the ratio is
        infinite there); one cluster is a modelling choice, Sec. 3.1.

    Examples
    --------
    >>> suggest_k([0.0, 1.0, 1.2, 30.0, 31.0])
    3
    """
    values = np.asarray(eigenvalues, dtype=float)
    last = values.size - 1 if max_clusters is None else min(int(max_clusters), values.size - 1)
    if last < 2:
        raise ValueError("suggest_k needs at least the three smallest eigenvalues")
    if values[1] <= 0:
        raise ValueError("lambda_2 = 0: the graph is disconnected; the eigengap is not defined")
    ratios = values[2:last + 1] / values[1:last]
    return int(np.argmax(ratios)) + 2


# ---------------------------------------------------------------------------- embedding
def _generalized_smallest(L, weight, count, eigen_method, random_state):
    """The ``count`` smallest pairs of L v = lambda diag(weight) v, v^T diag(weight) v = I.

    The constant vector is in the kernel for any positive weight. Dense LAPACK for
    n <= DENSE_EIGEN_LIMIT; otherwise LOBPCG on the generalized pencil with a Jacobi
    preconditioner and the constant vector as a constraint.
    """
    n = L.shape[0]
    ones = np.ones((n, 1)) / np.sqrt(weight.sum())
    if eigen_method == "dense" or (eigen_method == "auto" and n <= DENSE_EIGEN_LIMIT) or count >= n - 1:
        values, vectors = sla.eigh(L.toarray(), np.diag(weight), subset_by_index=[0, count - 1])
        return values, vectors, "dense"
    if count == 1:
        return np.zeros(1), ones, "lobpcg"
    rng = np.random.default_rng(random_state)
    block = min(n - 1, max(2 * (count - 1), count + 3))
    diag = L.diagonal()
    preconditioner = sp.diags(1.0 / np.where(diag > 0, diag, 1.0))
    values, vectors = spla.lobpcg(L, rng.standard_normal((n, block)), B=sp.diags(weight),
                                  M=preconditioner, Y=ones, tol=1e-5, maxiter=2000, largest=False)
    order = np.argsort(values)[: count - 1]
    return np.r_[0.0, values[order]], np.hstack([ones, vectors[:, order]]), "lobpcg"


def _embedding_weight(L, variant, inertia):
    if variant == "laplacian":
        return None
    if variant == "normalized":
        weight = L.diagonal().copy()
        name = "weighted degree"
    elif variant == "inertia":
        if inertia is None:
            raise ValueError("the 'inertia' embedding needs the node inertias (inertia=...)")
        weight = np.asarray(inertia, dtype=float).ravel()
        name = "inertia"
        if weight.shape != (L.shape[0],):
            raise ValueError(f"inertia must have length {L.shape[0]}, got {weight.size}")
    else:
        raise ValueError(f"unknown embedding {variant!r}; use one of {EMBEDDINGS}")
    if not np.all(np.isfinite(weight)) or np.any(weight <= 0):
        i = int(np.flatnonzero(~(weight > 0))[0])
        raise ValueError(f"the {variant!r} embedding needs a positive {name} at every node; node {i} has {weight[i]!r}")
    return weight


def _embedding(L, count, variant, inertia, eigen_method, random_state):
    """``count`` smallest eigenpairs of the variant's problem, first vector constant positive."""
    weight = _embedding_weight(L, variant, inertia)
    if weight is None:
        spectrum = smallest_eigenpairs(L, count, method=eigen_method, random_state=random_state)
        return spectrum.values, spectrum.vectors, spectrum.method
    values, vectors, method = _generalized_smallest(L, weight, count, eigen_method, random_state)
    values[0] = 0.0  # the kernel is exactly the constant vector (connected graph)
    vectors[:, 0] = np.abs(vectors[:, 0])
    return values, vectors, method


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
        Canonical labels (:func:`canonical_labels`), every cluster non-empty.
    n_repaired : int
        Number of empty clusters that had to be refilled (see ``_fill_empty_clusters``).

    Notes
    -----
    O(n_init * iterations * min(n, sample_limit) * k * d) for the fit plus O(n k d)
    for the assignment.
    """
    X = np.ascontiguousarray(X, dtype=float)
    n = X.shape[0]
    if not 1 <= k <= n:
        raise ValueError(f"k must be between 1 and n = {n}, got {k}")
    if not np.all(np.isfinite(X)):
        raise ValueError("the embedding holds non-finite values")
    # Imported here: scikit-learn costs ~0.8 s at start-up, which every CLI command paid.
    from sklearn.cluster import KMeans
    from sklearn.exceptions import ConvergenceWarning

    rng = np.random.default_rng(random_state)
    sample = np.sort(rng.choice(n, size=sample_limit, replace=False)) if n > sample_limit else None
    model = KMeans(n_clusters=k, init="k-means++", n_init=n_init,
                   random_state=int(rng.integers(2**31 - 1)))
    with warnings.catch_warnings():
        # "Number of distinct clusters found smaller than n_clusters": repaired below.
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X if sample is None else X[sample])
    labels = model.labels_ if sample is None else model.predict(X)
    labels, repaired = _fill_empty_clusters(X, labels.astype(np.int64), model.cluster_centers_.copy(), k)
    return canonical_labels(labels), repaired


# ---------------------------------------------------------------------------- estimator
class SpectralClustering:
    """Spectral clustering of a connected Laplacian into k coherent groups.

    Parameters
    ----------
    n_clusters : int, optional
        k. When omitted it is suggested from the largest relative eigengap among the
        ``max_clusters + 1`` smallest eigenvalues (:func:`suggest_k`).
    embedding : {"laplacian", "normalized", "inertia"}
        Which eigenvectors to cluster (module docstring). Algorithm 1 uses
        ``"laplacian"``.
    max_clusters : int
        Largest k the eigengap suggestion considers.
    n_init : int
        k-means restarts (k-means++ seeding).
    eigen_method : str
        Passed to :func:`gridcoherence.models.laplacian.smallest_eigenpairs` ("auto",
        "dense", "shift-invert", "lobpcg").
    random_state : int
        Seeds the eigensolver start block and k-means.

    Attributes
    ----------
    labels_ : ndarray of int64, shape (n,)
        Cluster of every node, canonical numbering (cluster 0 holds node 0).
    n_clusters_ : int
        The k used.
    suggested_k_ : int or None
        Eigengap suggestion (None when fewer than three eigenvalues were computed).
    eigenvalues_ : ndarray
        The smallest eigenvalues computed (k + 1 of them when k < n, so
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
    Cost: the eigensolver (dense O(n^3) up to n = 2000; LOBPCG or shift-invert
    Lanczos, roughly O(nnz(L) k) per iteration, beyond) plus k-means, O(n k^2) per
    iteration on at most 50,000 sampled rows and one O(n k^2) assignment.

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
            component separately).
        inertia : array_like, shape (n,), optional
            Node inertias, required by the ``"inertia"`` embedding.

        Returns
        -------
        self
        """
        if self.embedding not in EMBEDDINGS:
            raise ValueError(f"unknown embedding {self.embedding!r}; use one of {EMBEDDINGS}")
        L = validate_laplacian(laplacian)
        n = L.shape[0]
        k = self.n_clusters
        if k is not None:
            if isinstance(k, bool) or int(k) != k:
                raise ValueError(f"n_clusters must be an integer, got {k!r}")
            k = int(k)
            if not 1 <= k <= n:
                raise ValueError(f"n_clusters must be between 1 and n = {n}, got {k}")
            count = min(n, k + 1)
        else:
            if n < 3:
                raise ValueError(f"cannot suggest a number of clusters for n = {n} nodes; give n_clusters")
            count = min(n, int(self.max_clusters) + 1)
        values, vectors, method = _embedding(L, count, self.embedding, inertia, self.eigen_method,
                                             self.random_state)
        self.eigenvalues_ = values
        self.eigen_method_ = method
        self.suggested_k_ = suggest_k(values, self.max_clusters) if values.size >= 3 else None
        if k is None:
            k = self.suggested_k_
        check_eigengap(values, k)
        self.n_clusters_ = k
        self.embedding_ = np.ascontiguousarray(vectors[:, :k])
        self.labels_, self.n_empty_repaired_ = kmeans_labels(
            self.embedding_, k, n_init=self.n_init, random_state=self.random_state)
        if self.n_empty_repaired_:
            warnings.warn(f"k-means left {self.n_empty_repaired_} of {k} clusters empty; they were "
                          "refilled with the worst-fitted nodes. The embedding has fewer than k "
                          "well-separated groups: consider a smaller k.", stacklevel=2)
        return self

    def __repr__(self):
        return (f"SpectralClustering(n_clusters={self.n_clusters}, embedding={self.embedding!r}, "
                f"n_init={self.n_init}, random_state={self.random_state})")


def check_eigengap(eigenvalues, k):
    """Raise when lambda_k = lambda_{k+1}: V_k is then not determined by L.

    With a repeated eigenvalue straddling k, any basis of the eigenspace is an equally
    valid V_k and the partition and reduced model would depend on the solver's
    arbitrary choice. ``eigenvalues`` must hold at least k + 1 values unless k = n.
    """
    if k < eigenvalues.size:
        lower, upper = eigenvalues[k - 1], eigenvalues[k]
        if upper - lower <= DEGENERACY_RTOL * max(abs(upper), 1e-300):
            raise ValueError(
                f"lambda_{k} = {lower:.6g} and lambda_{k + 1} = {upper:.6g} coincide: the {k} "
                "smallest eigenvectors are not determined by the Laplacian, so k is larger than "
                "the number of distinct low eigenvalues allows. Choose k at an eigengap "
                "(suggest_k) or give the partition."
            )


def spectral_clustering(laplacian, k=None, *, embedding="laplacian", inertia=None,
                        max_clusters=DEFAULT_MAX_CLUSTERS, n_init=10, eigen_method="auto",
                        random_state=0):
    """Cluster a Laplacian's nodes; see :class:`SpectralClustering` (returns the fitted estimator).

    Parameters
    ----------
    laplacian : sparse matrix or ndarray, shape (n, n)
    k : int, optional
        Number of clusters; suggested from the eigengap when omitted.
    embedding : {"laplacian", "normalized", "inertia"}
    inertia : array_like, optional
        Node inertias for ``embedding="inertia"`` (e.g. ``model.inertia``).
    max_clusters, n_init, eigen_method, random_state
        As for :class:`SpectralClustering`.

    Returns
    -------
    SpectralClustering
        Fitted: ``labels_``, ``embedding_``, ``eigenvalues_``, ``suggested_k_``, ...

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
