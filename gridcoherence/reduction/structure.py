"""Structure-preserving reduction of a network to k aggregate nodes (Algorithm 1, Sec. 3.2).

Given a partition {I_1..I_k} of the nodes (a :class:`~gridcoherence.reduction.partition.Partition`
from :mod:`gridcoherence.reduction.clustering` or known areas) and the k smallest
eigenpairs (Lambda_k, V_k) of L:

1. each cluster becomes one node, its coherent aggregate
   ghat_i(s) = (sum_{j in I_i} g_j^{-1}(s))^{-1} (:func:`gridcoherence.coherent_aggregate`);
2. the spectral embedding V_k is refined to the nearest k-block-ideal embedding
   Vhat_k = P S (3.34), solved in closed form (3.42)-(3.45) with the normalisation fixed
   so that Vhat_k stays orthogonal to 1_n (the normalisation printed in the
   dissertation does not; see :func:`refine_embedding`);
3. the aggregates are coupled through L_k = S^{-T} Lambda_k S^{-1} and f(s)
   (:func:`reduced_laplacian`).

The result, :class:`ReducedNetwork`, is itself a :class:`~gridcoherence.NetworkModel`
with k nodes. Lifted back to the original nodes (inputs summed per cluster, outputs
broadcast) it is That_k(s) = P (I + Ghat(s) L_k f(s))^{-1} Ghat(s) P^T (3.30). How close
it is to the original -- the band error, the low-rank model T_k (3.27) and the Thm 3.8
bound -- is computed by :mod:`gridcoherence.reduction.band`.

When V_k is exactly block-ideal (Def. 3.2), the refinement returns V_k itself and
That_k = T_k (Thm 3.9).
"""

from __future__ import annotations

import copy

import numpy as np

from .._validation import as_node_array
from ..coherence.aggregate import coherent_aggregate
from ..models.eigengap import DEFAULT_MAX_CLUSTERS, check_eigengap, suggestion_count
from ..models.network import NetworkModel, disturbance_shape
from ..models.nodes import as_node_dynamics, stack_single_nodes
from ..models.simulate import TimeResponse
from . import band
from ..models.embedding import EigenpairCache
from .clustering import SpectralClustering
from .partition import Partition, as_partition, check_n_clusters

__all__ = [
    "refine_embedding",
    "reduced_laplacian",
    "block_ideal_residual",
    "is_block_ideal",
    "ReducedNetwork",
    "structure_preserving_reduction",
]


# ---------------------------------------------------------------------------- refinement
def refine_embedding(embedding, partition):
    """Closed-form solution S* of the refinement (3.34).

    min_S ||V_k - P S||_F  s.t.  S e_1 = 1_k / sqrt(n),  S^T diag{|I_i|} S = I_k.

    Parameters
    ----------
    embedding : ndarray, shape (n, k)
        V_k: orthonormal columns, the first one +-1/sqrt(n) (connected graph).
    partition : Partition, labels or index groups
        The partition {I_1..I_k} into k = embedding columns clusters
        (:func:`~gridcoherence.reduction.partition.as_partition`); row i of S* belongs to
        cluster i of its canonical numbering.

    Returns
    -------
    ndarray, shape (k, k)
        S*, so that Vhat_k = P S* has orthonormal columns, first column 1_n/sqrt(n).

    Notes
    -----
    (3.42)-(3.45), with a corrected normalisation: with Ptil = P diag{|I_i|^{-1/2}},
    u = (sqrt(|I_i| / n))_i and Q an orthonormal basis of u's complement, the
    Procrustes problem max tr(O^T Q^T Ptil^T Vtil_k) over orthogonal O gives
    O* = U W^T from the SVD Q^T Ptil^T Vtil_k = U Sigma W^T, and
    S* = [1_k / sqrt(n), diag{|I_i|^{-1/2}} Q O*]. (Correction: the dissertation prints
    u = diag{|I_i|^{-1/2}} 1_k, which would make Vhat's later columns not orthogonal to 1_n.) O(n k + k^3).

    Examples
    --------
    >>> import numpy as np
    >>> V = np.linalg.qr(np.c_[np.ones(6), [1., 1, 1, -1, -1, -1.2]])[0] * [-1, 1]
    >>> S = refine_embedding(V, [0, 0, 0, 1, 1, 1])
    >>> P = np.repeat(np.eye(2), 3, axis=0)
    >>> bool(np.allclose((P @ S).T @ (P @ S), np.eye(2)))
    True
    """
    V = np.asarray(embedding, dtype=float)
    if V.ndim != 2:
        raise ValueError(f"embedding must have shape (n, k), got {V.shape}")
    n, k = V.shape
    partition = as_partition(partition, n, n_clusters=k)
    if not np.all(np.isfinite(V)):
        raise ValueError("the embedding holds non-finite values")
    first = V[:, 0] * np.sign(V[:, 0].sum())
    if np.max(np.abs(first - 1.0 / np.sqrt(n))) > 1e-6 / np.sqrt(n):
        raise ValueError("the embedding's first column must be the constant vector 1/sqrt(n) "
                         "(the zero eigenvector of a connected Laplacian)")
    S = np.empty((k, k))
    S[:, 0] = 1.0 / np.sqrt(n)
    if k == 1:
        return S
    root = np.sqrt(partition.sizes.astype(float))
    u = root / np.sqrt(n)
    # Orthonormal basis of u's complement: the last k-1 columns of a full QR of u.
    Q = np.linalg.qr(u[:, None], mode="complete")[0][:, 1:]
    cross = Q.T @ (partition.restrict(V[:, 1:]) / root[:, None])
    U, _, Wt = np.linalg.svd(cross)
    S[:, 1:] = (Q @ (U @ Wt)) / root[:, None]
    return S


def reduced_laplacian(refinement, eigenvalues, sizes):
    """L_k = S^{-T} Lambda_k S^{-1} (Algorithm 1, step 3), a symmetric k x k Laplacian.

    S^T diag{|I_i|} S = I gives S^{-1} = S^T diag{|I_i|}, so no inverse is formed:
    L_k = D S Lambda_k S^T D with D = diag{|I_i|}. lambda_1 is taken as exactly 0 and
    the diagonal is set from the off-diagonal row sums, so the row sums vanish to
    rounding. Off-diagonal entries may be positive (negative edge weights) when the
    partition is far from block-ideal.

    Parameters
    ----------
    refinement : ndarray, shape (k, k)
        S from :func:`refine_embedding`.
    eigenvalues : array_like, shape (k,)
        lambda_1..lambda_k of L.
    sizes : array_like, shape (k,)
        Cluster sizes |I_i|.

    Returns
    -------
    ndarray, shape (k, k)
    """
    values = np.asarray(eigenvalues, dtype=float).copy()
    values[0] = 0.0
    DS = np.asarray(sizes, dtype=float)[:, None] * refinement
    Lk = (DS * values[None, :]) @ DS.T
    Lk = 0.5 * (Lk + Lk.T)
    np.fill_diagonal(Lk, 0.0)
    np.fill_diagonal(Lk, -Lk.sum(axis=1))
    return Lk


def block_ideal_residual(embedding, partition):
    """min_S ||V - P S||_F: how far V is from being block-ideal (Def. 3.2).

    The unconstrained minimiser is S = diag{|I_i|}^{-1} P^T V (cluster means), so the
    residual is the within-cluster spread of V's rows. O(n k).
    """
    V = np.asarray(embedding, dtype=float)
    partition = as_partition(partition, V.shape[0])
    means = partition.restrict(V) / partition.sizes[:, None]
    return float(np.linalg.norm(V - partition.lift(means)))


def is_block_ideal(embedding, partition, tol=1e-8):
    """Whether V = P S for some invertible S (Def. 3.2), to ``tol`` relative to ||V||_F.

    For V with orthonormal columns and V = P S, S is automatically invertible (P S has
    rank k), so the residual test is the whole check.
    """
    V = np.asarray(embedding, dtype=float)
    return block_ideal_residual(V, partition) <= tol * np.linalg.norm(V)


def _aggregate_nodes(nodes, partition, merge_rtol):
    """The k coherent aggregates as one node collection (a vectorised family when possible)."""
    return stack_single_nodes([coherent_aggregate(nodes, partition.members(c), merge_rtol=merge_rtol)
                               for c in range(partition.n_clusters)])


class ReducedNetwork(NetworkModel):
    """The structure-preserving reduced network of Algorithm 1: a k-node NetworkModel.

    Usually built by :func:`structure_preserving_reduction`. Its nodes are the
    clusters' coherent aggregates (family closed form (3.85) where every node of a
    cluster is a swing/turbine node), its Laplacian is L_k and its coupling is the
    original f(s), so every :class:`NetworkModel` method works on the k-node network.
    The ``lifted_*`` methods map it back to the original nodes; its accuracy is measured
    by :mod:`gridcoherence.reduction.band` (:meth:`band_error`).

    Parameters
    ----------
    original : NetworkModel
        The network being reduced (connected Laplacian).
    partition : Partition, labels of shape (n,) or sequence of index groups
        The partition {I_1..I_k} (renumbered canonically: cluster 0 holds node 0).
    eigenvalues : array_like, shape (k,)
        Lambda_k: the k smallest eigenvalues of ``original.laplacian``.
    embedding : ndarray, shape (n, k)
        V_k: the matching orthonormal eigenvectors.
    lambda_next : float, optional
        lambda_{k+1}(L), for the Thm 3.8 bound (None when k = n).
    clustering : SpectralClustering, optional
        The clustering that produced the partition (kept for the record).
    merge_rtol : float
        Passed to :func:`~gridcoherence.coherent_aggregate`.

    Attributes
    ----------
    original, partition, eigenvalues, embedding, lambda_next, clustering, merge_rtol
        As given (eigenvalues[0] set to exactly 0).
    labels, n_clusters, sizes : ndarray, int, ndarray
        The partition's canonical labels, k (equal to ``n``, the reduced network's node
        count) and cluster sizes |I_i|.
    n_original : int
        Number of original nodes.
    inertia : ndarray, shape (k,)
        The centre-of-inertia weights of the k nodes: each cluster's total original
        inertia P^T m (for swing nodes also the aggregate's own inertia, (3.85)). So the
        COI of the reduced network's response, of its lifted response and of the
        original network's response are one quantity.
    refinement : ndarray, shape (k, k)
        S* of (3.34) (:func:`refine_embedding`).
    reduced_laplacian : ndarray, shape (k, k)
        L_k, dense (``laplacian`` holds the same as CSR).
    refinement_error : float
        ||V_k - Vhat_k||_F.
    block_ideal_residual : float
        min_S ||V_k - P S||_F without constraints (0 iff block-ideal).

    Notes
    -----
    Construction costs O(n k + k^3) plus the aggregation, O(n + turbines) per cluster
    for family nodes. Evaluating the lifted model at one frequency costs one k x k
    solve plus O(n) to broadcast.
    """

    def __init__(self, original, partition, eigenvalues, embedding, *, lambda_next=None,
                 clustering=None, merge_rtol=0.0):
        if not isinstance(original, NetworkModel):
            raise TypeError(f"original must be a NetworkModel, got {type(original).__name__}")
        self.original = original
        self.partition = partition = as_partition(partition, original.n)
        self.labels, self.n_clusters, self.sizes = partition.labels, partition.n_clusters, partition.sizes
        self.n_original = partition.n
        k = partition.n_clusters
        self.eigenvalues = np.asarray(eigenvalues, dtype=float).copy()
        self.embedding = np.asarray(embedding, dtype=float)
        if self.eigenvalues.shape != (k,) or self.embedding.shape != (original.n, k):
            raise ValueError(f"the partition has {k} clusters but {self.eigenvalues.size} eigenvalues "
                             f"and an embedding of shape {self.embedding.shape} were given")
        if abs(self.eigenvalues[0]) > 1e-8 * max(1.0, abs(self.eigenvalues[-1])):
            raise ValueError(f"lambda_1 = {self.eigenvalues[0]:.3e} is not zero: not a connected Laplacian's spectrum")
        self.eigenvalues[0] = 0.0
        self.lambda_next = None if lambda_next is None else float(lambda_next)
        self.clustering = clustering
        self.merge_rtol = merge_rtol
        self.refinement = refine_embedding(self.embedding, partition)
        self.reduced_laplacian = reduced_laplacian(self.refinement, self.eigenvalues, partition.sizes)
        self.refinement_error = float(np.linalg.norm(self.embedding - partition.lift(self.refinement)))
        self.block_ideal_residual = block_ideal_residual(self.embedding, partition)
        self.lifted_node_names = original.node_names
        super().__init__(_aggregate_nodes(original.nodes, partition, merge_rtol),
                         self.reduced_laplacian, original.coupling, allow_negative_weights=True,
                         name=f"{original.name or 'network'} reduced to {k} clusters")
        self.inertia = partition.restrict(original.inertia)

    @classmethod
    def from_parts(cls, nodes, reduced_laplacian, coupling, labels, *, inertia=None,
                   lifted_node_names=None, name=None):
        """A standalone reduced network (no original model), e.g. read from a file.

        It evaluates, simulates and lifts responses to the original nodes like the
        network it was made from; what compares with the original (:meth:`band_error`
        and :mod:`gridcoherence.reduction.band`) raises.

        Parameters
        ----------
        nodes : NodeDynamics with k nodes
        reduced_laplacian : array_like, (k, k)
        coupling : Coupling or anything :func:`~gridcoherence.models.coupling.as_coupling` takes
        labels : array_like of int, (n,)
            Cluster of every original node, 0..k-1, every cluster used: node c of
            ``nodes`` (and row and column c of ``reduced_laplacian``) is the cluster
            labelled c. Clusters are renumbered canonically, and the nodes, L_k and
            the inertias are reordered with them.
        inertia : array_like, (k,), optional
            Total original inertia per cluster, in the order of ``nodes`` (the COI
            weights, see :class:`ReducedNetwork`); by default the reduced nodes' own
            inertias.
        lifted_node_names : sequence of str, optional
        name : str, optional
        """
        self = cls.__new__(cls)
        self.original = None
        given = np.asarray(labels)
        self.partition = partition = Partition(given)
        self.labels, self.n_clusters, self.sizes = partition.labels, partition.n_clusters, partition.sizes
        self.n_original = partition.n
        k = partition.n_clusters
        # Canonical cluster j holds the nodes given label order[j], i.e. node order[j] of ``nodes``.
        order = given[np.unique(partition.labels, return_index=True)[1]].astype(np.int64)
        nodes = as_node_dynamics(nodes)
        if order.min() < 0 or not np.array_equal(np.sort(order), np.arange(k)) or nodes.n != k:
            raise ValueError(f"labels must number the clusters 0..k-1 with every cluster used, one per "
                             f"reduced node; got labels {np.unique(given).tolist()[:10]} for {nodes.n} nodes")
        laplacian = np.asarray(reduced_laplacian, dtype=float)
        if laplacian.shape != (k, k):
            raise ValueError(f"reduced_laplacian must have shape ({k}, {k}), got {laplacian.shape}")
        self.reduced_laplacian = laplacian[np.ix_(order, order)]
        self.eigenvalues = self.embedding = self.refinement = self.lambda_next = None
        self.clustering, self.merge_rtol = None, 0.0
        self.refinement_error = self.block_ideal_residual = None
        self.lifted_node_names = None if lifted_node_names is None else list(lifted_node_names)
        if not np.array_equal(order, np.arange(k)):  # not canonical yet: reorder the nodes
            nodes = nodes.subset(order)
        NetworkModel.__init__(self, nodes, self.reduced_laplacian, coupling,
                              allow_negative_weights=True, name=name)
        if inertia is not None:
            self.inertia = as_node_array("inertia", inertia, k, minimum=0.0)[order]
        return self

    def with_nodes(self, nodes):
        """The same reduced network (partition, L_k, f, COI weights, record) with other k nodes.

        Used to put order-reduced aggregate machines in place of the full aggregates.
        """
        clone = copy.copy(self)
        NetworkModel.__init__(clone, nodes, self.reduced_laplacian, self.coupling,
                              allow_negative_weights=True, name=self.name)
        if clone.n != self.n_clusters:
            raise ValueError(f"with_nodes needs {self.n_clusters} nodes, got {clone.n}")
        clone.inertia = self.inertia
        return clone

    def __repr__(self):
        return (f"ReducedNetwork(n_clusters={self.n_clusters}, original_n={self.n_original}, "
                f"sizes={self.sizes.tolist()}, nodes={self.nodes!r})")

    @property
    def refined_embedding(self):
        """Vhat_k = P S*, shape (n, k)."""
        return self.partition.lift(self.refinement)

    @property
    def has_nonnegative_weights(self):
        """Whether L_k is an ordinary Laplacian (all off-diagonal entries <= 0)."""
        off = self.reduced_laplacian - np.diag(np.diag(self.reduced_laplacian))
        return bool(np.all(off <= 1e-12 * np.abs(self.reduced_laplacian).max()))

    def lifted_transfer_matrix(self, s, columns=None):
        """That_k(s) = P (I + Ghat L_k f)^{-1} Ghat P^T (3.30) on the original nodes.

        Parameters
        ----------
        s : complex or array_like, shape (ns,)
        columns : array_like of int, optional
            Original input nodes (all by default).

        Returns
        -------
        ndarray, shape (n, c) or (ns, n, c)
        """
        reduced = self.transfer_matrix(s)
        columns = self.partition.node_indices(columns)
        return reduced[..., self.labels[:, None], self.labels[columns][None, :]]

    def band_error(self, eta=1.0, *, points_per_decade=band.POINTS_PER_DECADE, refine=True, method="auto",
                   transfer_norms=None, solvers=None, lowrank=True):
        """sup_{0 < w <= eta} ||T(jw) - That_k(jw)||: :func:`gridcoherence.reduction.band.band_error`."""
        return band.band_error(self, eta, points_per_decade=points_per_decade, refine=refine, method=method,
                               transfer_norms=transfer_norms, solvers=solvers, lowrank=lowrank)

    def lifted_response(self, u0, signal="step", t=None, *, nodes=None):
        """Response of That_k to u(t) = u0 sigma(t), broadcast to the original nodes.

        Parameters
        ----------
        u0 : array_like, shape (n,) or int
            Disturbance shape on the ORIGINAL nodes (an int k is e_k); summed per
            cluster (P^T u0) before simulating the k-node network.
        signal, t
            As for :meth:`NetworkModel.response`.
        nodes : array_like of int, optional
            Original nodes whose outputs are returned (all by default; for very large
            networks ask for a few).

        Returns
        -------
        TimeResponse
            ``y`` shape (nt, len(nodes)): every node in cluster i gets yhat_i.
            ``y_coi`` is the centre of inertia of the reduced network (weights
            :attr:`inertia`), which equals the original network's COI formula applied
            to the lifted outputs; ``info["reduced_y"]`` holds the (nt, k) cluster outputs.
        """
        partition = self.partition
        reduced = self.response(partition.restrict(disturbance_shape(u0, self.n_original)), signal, t)
        info = dict(reduced.info, reduced_y=reduced.y)
        return TimeResponse(reduced.t, partition.lift(reduced.y, axis=-1, nodes=nodes), reduced.u,
                            y_coi=reduced.y_coi, method=reduced.method, info=info)


# ---------------------------------------------------------------------------- Algorithm 1
def structure_preserving_reduction(model, k=None, *, partition=None, embedding="laplacian",
                                   max_clusters=DEFAULT_MAX_CLUSTERS, n_init=10, eigen_method="auto",
                                   random_state=0, merge_rtol=0.0):
    """Algorithm 1: reduce ``model`` to k coherent aggregate nodes coupled by L_k.

    Parameters
    ----------
    model : NetworkModel
        Connected network (G(s), L, f(s)).
    k : int, optional
        Number of clusters, 1 <= k <= n. When neither k nor ``partition`` is given it is
        :func:`~gridcoherence.models.eigengap.suggest_k` on the clustered embedding's
        ``min(n, max_clusters + 1)`` smallest eigenvalues (the Laplacian L's for the
        default embedding), never a k whose V_k is not determined.
    partition : Partition, labels or list of node-index groups, optional
        A known partition (e.g. control areas) used instead of clustering.
    embedding : {"laplacian", "normalized", "inertia"}
        Embedding clustered (see :mod:`gridcoherence.reduction.clustering`; Algorithm 1 uses
        "laplacian"). The refinement and L_k always use the eigenpairs of L.
    max_clusters, n_init, eigen_method, random_state
        Clustering options (:class:`~gridcoherence.reduction.clustering.SpectralClustering`).
    merge_rtol : float
        Turbine merging tolerance of the aggregates.

    Returns
    -------
    ReducedNetwork

    Raises
    ------
    ValueError
        k outside 1..n, a partition whose size disagrees with k, or lambda_k =
        lambda_{k+1} (V_k not determined by L).
    DisconnectedNetworkError
        The graph is disconnected (reduce each component on its own).

    Notes
    -----
    Cost: the k + 1 smallest eigenpairs of L (the dominant term for large n: dense
    O(n^3) up to n = 2000, shift-invert or plain Lanczos beyond), k-means (see
    :func:`~gridcoherence.reduction.clustering.kmeans_labels`), then O(n k + k^3) for the
    refinement and L_k and O(n + turbines) per cluster for the aggregates. The Laplacian
    is not validated again (the model did); to reduce one network several times with one eigensolve use
    :class:`~gridcoherence.reduction.pipeline.CoherencyReductor`.

    Examples
    --------
    >>> from gridcoherence import NetworkModel
    >>> from gridcoherence.cases.random_nodes import random_family_nodes
    >>> from gridcoherence.cases.sbm import sample_sbm
    >>> sample = sample_sbm([20, 40, 20], [[.8, .1, .1], [.1, .8, .1], [.1, .1, .8]],
    ...                     [[20, .4, .8], [.4, 20, .7], [.8, .7, 20]], random_state=1)
    >>> model = NetworkModel(random_family_nodes(80, random_state=1), sample.laplacian)
    >>> reduced = structure_preserving_reduction(model, 3)
    >>> reduced.n, reduced.sizes.tolist()
    (3, [20, 40, 20])
    >>> reduced.band_error(eta=1.0).sup_error < 1e-2
    True
    """
    if not isinstance(model, NetworkModel):
        raise TypeError(f"model must be a NetworkModel, got {type(model).__name__}")
    # Each component of a disconnected network must be reduced on its own (the zero
    # eigenspace would otherwise be an arbitrary basis instead of 1/sqrt(n)). The model
    # validated L when it was built; the cache trusts it and checks only connectedness,
    # when the model was built with allow_disconnected=True.
    cache = EigenpairCache.for_model(model, eigen_method=eigen_method, random_state=random_state)
    return _algorithm1(model, cache, k, partition=partition, embedding=embedding,
                       max_clusters=max_clusters, n_init=n_init, merge_rtol=merge_rtol)


def _algorithm1(model, cache, k, *, partition, embedding, max_clusters, n_init, merge_rtol):
    """Algorithm 1 with the eigenpairs of ``cache`` (the validated Laplacian of ``model``).

    k and the partition are validated here, once; everything called below trusts them.
    """
    n = model.n
    if k is not None:
        k = check_n_clusters(k, n)
    clustering = None
    if partition is not None:
        partition = as_partition(partition, n, n_clusters=k)
        k = partition.n_clusters
        laplacian = cache.eigenpairs("laplacian", k + 1)
        check_eigengap(laplacian.values, k)
    else:
        count = suggestion_count(n, max_clusters) if k is None else k + 1
        clustered = cache.eigenpairs(embedding, count)
        laplacian = clustered if embedding == "laplacian" else cache.eigenpairs("laplacian", count)
        clustering = SpectralClustering(k, embedding=embedding, max_clusters=max_clusters, n_init=n_init,
                                        eigen_method=cache.eigen_method, random_state=cache.random_state)
        # For the "laplacian" embedding the clustering's eigengap check is Algorithm 1's.
        clustering._fit_eigenpairs(clustered, k, None if clustered is laplacian else laplacian.values)
        partition, k = clustering.partition_, clustering.n_clusters_
        if clustered is not laplacian:
            check_eigengap(laplacian.values, k)
    values, vectors = laplacian.values, laplacian.vectors
    return ReducedNetwork(model, partition, values[:k], vectors[:, :k],
                          lambda_next=values[k] if k < values.size else None,
                          clustering=clustering, merge_rtol=merge_rtol)
