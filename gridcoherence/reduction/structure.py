"""Structure-preserving reduction of a network to k aggregate nodes (Algorithm 1, Sec. 3.2).

Given a partition {I_1..I_k} of the nodes (from :mod:`gridcoherence.reduction.clustering` or known
areas) and the k smallest eigenpairs (Lambda_k, V_k) of L:

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
broadcast) it is That_k(s) = P (I + Ghat(s) L_k f(s))^{-1} Ghat(s) P^T (3.30). It also
evaluates the low-rank model T_k(s) (3.27), the Thm 3.8 bound and the band error
sup_{|w| <= eta} ||T(jw) - That_k(jw)||, the quantity Thm 3.10 drives to zero.

When V_k is exactly block-ideal (Def. 3.2), the refinement returns V_k itself and
That_k = T_k (Thm 3.9).
"""

from __future__ import annotations

import copy

from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla
import scipy.optimize as sopt
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from .._numeric import symmetric_operator_norm
from ..coherence.aggregate import coherent_aggregate
from .clustering import (
    DEFAULT_MAX_CLUSTERS,
    as_labels,
    check_eigengap,
    cluster_sizes,
    partition_matrix,
    spectral_clustering,
)
from ..models.laplacian import smallest_eigenpairs, validate_laplacian
from ..models.network import NetworkModel, disturbance_shape
from ..models.nodes import stack_single_nodes
from ..models.simulate import TimeResponse

__all__ = [
    "refine_embedding",
    "reduced_laplacian",
    "block_ideal_residual",
    "is_block_ideal",
    "thm38_bound",
    "BandError",
    "ReducedNetwork",
    "structure_preserving_reduction",
]

#: Networks up to this size have T(jw) formed densely (LAPACK) in :meth:`ReducedNetwork.band_error`.
BAND_DENSE_LIMIT = 2000

#: Mean degree (nnz(L) / n) up to which the band error factorises T(jw) by sparse LU.
SPLU_DEGREE_LIMIT = 32


# ---------------------------------------------------------------------------- refinement
def _cluster_sums(X, labels, k):
    """P^T X for the partition matrix P of ``labels``, O(n d) without forming P."""
    X = np.asarray(X)
    out = np.zeros((k,) + X.shape[1:], dtype=X.dtype)
    np.add.at(out, labels, X)
    return out


def refine_embedding(embedding, labels):
    """Closed-form solution S* of the refinement (3.34).

    min_S ||V_k - P S||_F  s.t.  S e_1 = 1_k / sqrt(n),  S^T diag{|I_i|} S = I_k.

    Parameters
    ----------
    embedding : ndarray, shape (n, k)
        V_k: orthonormal columns, the first one +-1/sqrt(n) (connected graph).
    labels : array_like of int, shape (n,)
        Cluster of every node, labels 0..k-1 all used.

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
    labels = np.asarray(labels, dtype=np.int64)
    if V.ndim != 2 or V.shape[0] != labels.size:
        raise ValueError(f"embedding must have shape (n, k) with n = {labels.size}, got {V.shape}")
    n, k = V.shape
    if not np.all(np.isfinite(V)):
        raise ValueError("the embedding holds non-finite values")
    sizes = cluster_sizes(labels, k)
    if labels.max() >= k or np.any(sizes == 0):
        raise ValueError(f"labels must use every cluster 0..{k - 1} (k = embedding columns); "
                         f"cluster sizes are {sizes.tolist()}")
    first = V[:, 0] * np.sign(V[:, 0].sum())
    if np.max(np.abs(first - 1.0 / np.sqrt(n))) > 1e-6 / np.sqrt(n):
        raise ValueError("the embedding's first column must be the constant vector 1/sqrt(n) "
                         "(the zero eigenvector of a connected Laplacian)")
    S = np.empty((k, k))
    S[:, 0] = 1.0 / np.sqrt(n)
    if k == 1:
        return S
    root = np.sqrt(sizes.astype(float))
    u = root / np.sqrt(n)
    # Orthonormal basis of u's complement: the last k-1 columns of a full QR of u.
    Q = np.linalg.qr(u[:, None], mode="complete")[0][:, 1:]
    cross = Q.T @ (_cluster_sums(V[:, 1:], labels, k) / root[:, None])
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


def block_ideal_residual(embedding, labels):
    """min_S ||V - P S||_F: how far V is from being block-ideal (Def. 3.2).

    The unconstrained minimiser is S = diag{|I_i|}^{-1} P^T V (cluster means), so the
    residual is the within-cluster spread of V's rows. O(n k).
    """
    V = np.asarray(embedding, dtype=float)
    labels = np.asarray(labels, dtype=np.int64)
    k = int(labels.max()) + 1
    means = _cluster_sums(V, labels, k) / cluster_sizes(labels, k)[:, None]
    return float(np.linalg.norm(V - means[labels]))


def is_block_ideal(embedding, labels, tol=1e-8):
    """Whether V = P S for some invertible S (Def. 3.2), to ``tol`` relative to ||V||_F.

    For V with orthonormal columns and V = P S, S is automatically invertible (P S has
    rank k), so the residual test is the whole check.
    """
    V = np.asarray(embedding, dtype=float)
    return block_ideal_residual(V, labels) <= tol * np.linalg.norm(V)


def thm38_bound(lowrank_norm, max_inverse_node, coupling_gain, lambda_next):
    """Right-hand side of (3.28), or inf where Thm 3.8 does not apply.

    Parameters
    ----------
    lowrank_norm : float or ndarray
        M1 = ||T_k(s0)||.
    max_inverse_node : float or ndarray
        M2 = max_i |g_i^{-1}(s0)|.
    coupling_gain : float or ndarray
        |f(s0)|.
    lambda_next : float
        lambda_{k+1}(L).

    Returns
    -------
    float or ndarray
        (M1 M2 + 1)^2 / (|f| lambda_{k+1} - M2 - M1 M2^2) where the denominator is
        positive (the theorem's condition), inf elsewhere.
    """
    M1, M2 = np.asarray(lowrank_norm, dtype=float), np.asarray(max_inverse_node, dtype=float)
    margin = np.asarray(coupling_gain, dtype=float) * lambda_next - M2 - M1 * M2**2
    with np.errstate(divide="ignore"):
        bound = np.where(margin > 0, (M1 * M2 + 1.0) ** 2 / np.where(margin > 0, margin, 1.0), np.inf)
    return bound[()] if bound.ndim == 0 else bound


@dataclass(frozen=True)
class BandError:
    """Approximation errors over the band 0 < w <= eta (spectral norms at s = jw).

    ||T(-jw) - That(-jw)|| = ||T(jw) - That(jw)|| for real systems, so the band
    |w| <= eta is covered by w in (0, eta]; w = 0 itself is left out because T has a
    pole there for some networks (e.g. consensus nodes g = 1/s).

    Attributes
    ----------
    eta : float
    frequencies : ndarray, shape (nw,)
        Sampled frequencies (grid plus the local refinement of the maximum).
    error : ndarray, shape (nw,)
        ||T(jw) - That_k(jw)|| (structure-preserving model).
    lowrank_error : ndarray, shape (nw,)
        ||T(jw) - T_k(jw)|| (low-rank model (3.27)).
    bound : ndarray, shape (nw,)
        Thm 3.8 bound on the low-rank error, inf where the theorem does not apply.
    method : str
        How T(jw) x was applied: "dense", "splu" or "gmres".
    """

    eta: float
    frequencies: np.ndarray
    error: np.ndarray
    lowrank_error: np.ndarray
    bound: np.ndarray
    method: str

    @property
    def sup_error(self):
        """sup_w ||T - That_k|| over the sampled band."""
        return float(self.error.max())

    @property
    def sup_lowrank_error(self):
        return float(self.lowrank_error.max())

    @property
    def worst_frequency(self):
        return float(self.frequencies[np.argmax(self.error)])

    def as_dict(self):
        return {"eta": self.eta, "sup_error": self.sup_error,
                "sup_lowrank_error": self.sup_lowrank_error,
                "worst_frequency": self.worst_frequency, "method": self.method,
                "frequencies": self.frequencies, "error": self.error,
                "lowrank_error": self.lowrank_error, "bound": self.bound}


def _network_solver(model, s, method, lowrank):
    """A function X -> T(s) X for the (n, m) block X, factorising once per frequency.

    ``lowrank`` = (V_k, core) with core = (V_k^T G^{-1} V_k + f Lambda_k)^{-1} feeds the
    iterative method's preconditioner: V_k core V_k^T on the slow subspace plus Jacobi
    on its complement, where f L is dominated by the degrees for dense graphs.
    """
    h = model.nodes.inverse_transfer(s)
    fs = model.coupling(s)
    if method == "dense":
        K = fs * model.laplacian.toarray()
        K[np.diag_indices_from(K)] += h
        factor = sla.lu_factor(K, check_finite=False)
        return lambda X: sla.lu_solve(factor, X, check_finite=False)
    K = (sp.diags(h) + fs * model.laplacian).tocsc()
    if method == "splu":
        lu = spla.splu(K)
        return lambda X: lu.solve(np.asarray(X, dtype=complex))
    V, core = lowrank
    jacobi = 1.0 / (h + fs * model.laplacian.diagonal())

    def precondition(x):
        slow = V.T @ x
        fast = jacobi * (x - V @ slow)
        return V @ (core @ slow) + fast - V @ (V.T @ fast)

    # Left preconditioning with the convergence test on the preconditioned residual:
    # K itself is ill-conditioned at low w (|f| L against the mean mode), M^{-1} K is not.
    # L is applied to x minus its mean (L 1 = 0 exactly): in floating point L x would
    # otherwise carry an error eps ||L|| |mean(x)|, far above the mean mode's response.
    L = model.laplacian
    preconditioned = spla.LinearOperator(
        K.shape, matvec=lambda x: precondition(h * x + fs * (L @ (x - x.mean()))), dtype=complex)

    def solve(X):
        X = np.asarray(X, dtype=complex)
        out = np.empty_like(X)
        for c in range(X.shape[1]):
            out[:, c], info = spla.gmres(preconditioned, precondition(X[:, c]), rtol=1e-8, atol=0.0,
                                         restart=60, maxiter=5)
            if info != 0:
                raise ArithmeticError(f"GMRES did not converge for T(s) at s = {s} (info = {info}); "
                                      "use a sparse LU (method='splu') for this network")
        return out
    return solve


def _aggregate_nodes(nodes, labels, k, merge_rtol):
    """The k coherent aggregates as one node collection (a vectorised family when possible)."""
    groups = np.split(np.argsort(labels, kind="stable"), np.cumsum(cluster_sizes(labels, k))[:-1])
    return stack_single_nodes([coherent_aggregate(nodes, group, merge_rtol=merge_rtol) for group in groups])


class ReducedNetwork(NetworkModel):
    """The structure-preserving reduced network of Algorithm 1: a k-node NetworkModel.

    Usually built by :func:`structure_preserving_reduction`. Its nodes are the
    clusters' coherent aggregates (family closed form (3.85) where every node of a
    cluster is a swing/turbine node), its Laplacian is L_k and its coupling is the
    original f(s), so every :class:`NetworkModel` method works on the k-node network.
    The ``lifted_*`` methods map it back to the original nodes.

    Parameters
    ----------
    original : NetworkModel
        The network being reduced (connected Laplacian).
    labels : array_like of int, shape (n,) or sequence of index groups
        The partition {I_1..I_k} (renumbered canonically: cluster 0 holds node 0).
    eigenvalues : array_like, shape (k,)
        Lambda_k: the k smallest eigenvalues of ``original.laplacian``.
    embedding : ndarray, shape (n, k)
        V_k: the matching orthonormal eigenvectors.
    lambda_next : float, optional
        lambda_{k+1}(L), for the Thm 3.8 bound (None when k = n).
    clustering : SpectralClustering, optional
        The clustering that produced ``labels`` (kept for the record).
    merge_rtol : float
        Passed to :func:`~gridcoherence.coherent_aggregate`.

    Attributes
    ----------
    original, labels, eigenvalues, embedding, lambda_next, clustering, merge_rtol
        As given (labels canonical, eigenvalues[0] set to exactly 0).
    n_clusters : int
        k (equal to ``n``, the reduced network's node count).
    sizes : ndarray
        Cluster sizes |I_i|.
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

    def __init__(self, original, labels, eigenvalues, embedding, *, lambda_next=None,
                 clustering=None, merge_rtol=0.0):
        if not isinstance(original, NetworkModel):
            raise TypeError(f"original must be a NetworkModel, got {type(original).__name__}")
        self.original = original
        self.labels = as_labels(labels, original.n)
        k = int(self.labels.max()) + 1
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
        self.n_clusters = k
        self.sizes = cluster_sizes(self.labels, k)
        self.refinement = refine_embedding(self.embedding, self.labels)
        self.reduced_laplacian = reduced_laplacian(self.refinement, self.eigenvalues, self.sizes)
        self.refinement_error = float(np.linalg.norm(self.embedding - self.refinement[self.labels]))
        self.block_ideal_residual = block_ideal_residual(self.embedding, self.labels)
        self.n_original = original.n
        self.cluster_inertia = _cluster_sums(original.inertia, self.labels, k)
        self.lifted_node_names = original.node_names
        super().__init__(_aggregate_nodes(original.nodes, self.labels, k, merge_rtol),
                         self.reduced_laplacian, original.coupling, allow_negative_weights=True,
                         name=f"{original.name or 'network'} reduced to {k} clusters")

    @classmethod
    def from_parts(cls, nodes, reduced_laplacian, coupling, labels, *, cluster_inertia=None,
                   lifted_node_names=None, name=None):
        """A standalone reduced network (no original model), e.g. read from a file.

        It evaluates, simulates and lifts responses to the original nodes like the
        network it was made from; the methods that compare with the original
        (``band_error``, ``lowrank_transfer_matrix``, ``thm38_bound``) raise.

        Parameters
        ----------
        nodes : NodeDynamics with k nodes
        reduced_laplacian : array_like, (k, k)
        coupling : Coupling or anything :func:`~gridcoherence.models.coupling.as_coupling` takes
        labels : array_like of int, (n,)
            Cluster of every original node, 0..k-1 (node c of ``nodes`` is cluster c;
            the numbering is kept as given).
        cluster_inertia : array_like, (k,), optional
            Total original inertia per cluster (COI weights of lifted responses); by
            default the reduced nodes' own inertias.
        lifted_node_names : sequence of str, optional
        name : str, optional
        """
        self = cls.__new__(cls)
        self.original = None
        labels = np.asarray(labels)
        if labels.ndim != 1 or labels.size == 0 or not np.issubdtype(labels.dtype, np.integer):
            raise ValueError("labels must be a non-empty 1-D array of integer cluster numbers")
        # Node c of ``nodes`` is cluster c, so the labels are taken as given (not renumbered).
        if labels.min() < 0 or np.any(np.bincount(labels) == 0):
            raise ValueError("labels must number the clusters 0..k-1 with every cluster used")
        self.labels = labels.astype(np.int64)
        k = int(self.labels.max()) + 1
        self.n_clusters, self.n_original = k, int(self.labels.size)
        self.sizes = cluster_sizes(self.labels, k)
        self.reduced_laplacian = np.asarray(reduced_laplacian, dtype=float)
        self.eigenvalues = self.embedding = self.refinement = self.lambda_next = None
        self.clustering, self.merge_rtol = None, 0.0
        self.refinement_error = self.block_ideal_residual = None
        self.lifted_node_names = None if lifted_node_names is None else list(lifted_node_names)
        NetworkModel.__init__(self, nodes, self.reduced_laplacian, coupling, allow_negative_weights=True,
                              name=name)
        if self.n != k:
            raise ValueError(f"{self.n} reduced nodes for a partition into {k} clusters")
        self.cluster_inertia = (self.inertia if cluster_inertia is None
                                else np.asarray(cluster_inertia, dtype=float))
        return self

    def with_nodes(self, nodes):
        """The same reduced network (partition, L_k, f, record) with other k nodes.

        Used to put order-reduced aggregate machines in place of the full aggregates.
        """
        clone = copy.copy(self)
        NetworkModel.__init__(clone, nodes, self.reduced_laplacian, self.coupling,
                              allow_negative_weights=True, name=self.name)
        if clone.n != self.n_clusters:
            raise ValueError(f"with_nodes needs {self.n_clusters} nodes, got {clone.n}")
        return clone

    def _require_original(self, what):
        if self.original is None:
            raise ValueError(f"{what} compares with the original network, which this reduced "
                             "network does not have (it was built from parts or read from a file)")
        return self.original

    def __repr__(self):
        return (f"ReducedNetwork(n_clusters={self.n_clusters}, original_n={self.n_original}, "
                f"sizes={self.sizes.tolist()}, nodes={self.nodes!r})")

    # ------------------------------------------------------------------ partition maps
    @property
    def partition_matrix(self):
        """P (3.29), sparse n x k."""
        return partition_matrix(self.labels, self.n_clusters)

    @property
    def refined_embedding(self):
        """Vhat_k = P S*, shape (n, k)."""
        return self.refinement[self.labels]

    @property
    def has_nonnegative_weights(self):
        """Whether L_k is an ordinary Laplacian (all off-diagonal entries <= 0)."""
        off = self.reduced_laplacian - np.diag(np.diag(self.reduced_laplacian))
        return bool(np.all(off <= 1e-12 * np.abs(self.reduced_laplacian).max()))

    def restrict_input(self, u):
        """P^T u: the disturbance summed per cluster. ``u`` shape (n,) or (n, m)."""
        return _cluster_sums(u, self.labels, self.n_clusters)

    def lift_output(self, y, nodes=None):
        """Broadcast cluster outputs to original nodes along the last axis: y[..., labels]."""
        index = self.labels if nodes is None else self.labels[np.asarray(nodes)]
        return np.asarray(y)[..., index]

    # ------------------------------------------------------------------ frequency domain
    def _original_columns(self, columns):
        if columns is None:
            return np.arange(self.n_original)
        columns = np.atleast_1d(np.asarray(columns, dtype=np.int64))
        if columns.size and (columns.min() < 0 or columns.max() >= self.n_original):
            raise IndexError(f"column index out of range 0..{self.n_original - 1}")
        return columns

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
        columns = self._original_columns(columns)
        return reduced[..., self.labels[:, None], self.labels[columns][None, :]]

    def _lowrank_core(self, s):
        """(V_k^T G^{-1}(s) V_k + f(s) Lambda_k)^{-1}, k x k, and M2 = max |g_i^{-1}(s)|."""
        original = self._require_original("the low-rank model T_k")
        h = original.nodes.inverse_transfer(complex(s))
        V = self.embedding
        core = V.T @ (h[:, None] * V) + original.coupling(complex(s)) * np.diag(self.eigenvalues)
        return np.linalg.inv(core), float(np.max(np.abs(h)))

    def lowrank_transfer_matrix(self, s, columns=None):
        """The low-rank model T_k(s) = V_k (V_k^T G^{-1} V_k + f Lambda_k)^{-1} V_k^T (3.27).

        Returns
        -------
        ndarray, shape (n, c) for scalar ``s`` else (ns, n, c); O(n k^2) per frequency.
        """
        s_arr = np.atleast_1d(np.asarray(s, dtype=complex))
        columns = self._original_columns(columns)
        V = self.embedding
        out = np.stack([V @ (self._lowrank_core(sk)[0] @ V[columns].T) for sk in s_arr])
        return out[0] if np.ndim(s) == 0 else out

    def thm38_bound(self, s):
        """Thm 3.8's bound (3.28) on ||T(s) - T_k(s)|| at one complex s (inf if it does not apply)."""
        if self.lambda_next is None:
            raise ValueError("lambda_{k+1} is unknown (k = n or not given); Thm 3.8 needs it")
        core, M2 = self._lowrank_core(s)
        M1 = float(np.linalg.norm(core, 2))  # ||T_k|| = ||core|| as V_k has orthonormal columns
        return float(thm38_bound(M1, M2, abs(self.original.coupling(complex(s))), self.lambda_next))

    def _errors_at(self, w, method):
        """(||T - That_k||, ||T - T_k||, Thm 3.8 bound) at s = jw."""
        s = 1j * w
        V, labels = self.embedding, self.labels
        core, M2 = self._lowrank_core(s)
        solve = _network_solver(self.original, s, method, (V, core))
        reduced = self.transfer_matrix(s)
        n = self.original.n
        error = symmetric_operator_norm(lambda X: solve(X) - reduced[labels] @ self.restrict_input(X), n)
        lowrank_error = symmetric_operator_norm(lambda X: solve(X) - V @ (core @ (V.T @ X)), n)
        bound = np.inf
        if self.lambda_next is not None:
            bound = float(thm38_bound(float(np.linalg.norm(core, 2)), M2,
                                      abs(self.original.coupling(s)), self.lambda_next))
        return error, lowrank_error, bound

    def band_error(self, eta=1.0, *, n_frequencies=31, refine=True, method="auto"):
        """sup_{0 < w <= eta} ||T(jw) - That_k(jw)|| with the low-rank error and Thm 3.8 bound.

        Parameters
        ----------
        eta : float
            Band edge (rad/s).
        n_frequencies : int
            Grid points: half log-spaced on [1e-3 eta, eta], half linear on (0, eta].
        refine : bool
            Locally maximise the error around the worst grid point (bounded scalar
            search, about 10 more evaluations).
        method : {"auto", "dense", "splu", "gmres"}
            How T(jw) x is applied: dense LU (``auto`` for n <= 2000), sparse LU
            (``auto`` for mean degree <= 32, where fill-in stays moderate) or GMRES
            preconditioned by the low-rank model plus Jacobi (``auto`` otherwise: dense
            SBM-like graphs, whose degrees dominate L off the slow subspace). GMRES
            stops at a preconditioned residual of 1e-8, so errors far below the band's
            sup (at low w) are resolved only to about 1e-8 ||T||.

        Returns
        -------
        BandError

        Notes
        -----
        Per frequency: one factorisation (dense: O(n^3); sparse LU: up to fill-in;
        GMRES: none, O(nnz(L)) per iteration), then the two spectral norms by ARPACK on
        the error operators (dense SVD for n <= 400), a few dozen solves each.
        """
        self._require_original("band_error")
        if not (np.isfinite(eta) and eta > 0):
            raise ValueError(f"eta must be a positive frequency, got {eta!r}")
        if method == "auto":
            n, nnz = self.original.n, self.original.laplacian.nnz
            method = "dense" if n <= BAND_DENSE_LIMIT else ("splu" if nnz <= SPLU_DEGREE_LIMIT * n else "gmres")
        elif method not in ("dense", "splu", "gmres"):
            raise ValueError(f"unknown method {method!r}; use 'auto', 'dense', 'splu' or 'gmres'")
        half = max(2, n_frequencies // 2)
        grid = np.unique(np.r_[np.logspace(-3, 0, half), np.linspace(0, 1, n_frequencies - half + 1)[1:]]) * eta
        rows = {float(w): self._errors_at(w, method) for w in grid}
        if refine:
            worst = int(np.argmax([rows[float(w)][0] for w in grid]))
            lo, hi = grid[max(worst - 1, 0)], grid[min(worst + 1, grid.size - 1)]
            if hi > lo:
                def negative_error(w):
                    if float(w) not in rows:
                        rows[float(w)] = self._errors_at(float(w), method)
                    return -rows[float(w)][0]
                sopt.minimize_scalar(negative_error, bounds=(lo, hi), method="bounded",
                                     options={"xatol": 1e-4 * eta, "maxiter": 12})
        w = np.array(sorted(rows))
        values = np.array([rows[float(x)] for x in w])
        if not np.all(np.isfinite(values[:, :2])):
            raise ArithmeticError("the band error evaluation produced non-finite values")
        return BandError(float(eta), w, values[:, 0], values[:, 1], values[:, 2], method)

    # ------------------------------------------------------------------ time domain
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
            ``y_coi`` is the centre of inertia with the original inertias;
            ``info["reduced_y"]`` holds the (nt, k) cluster outputs.
        """
        reduced = self.response(self.restrict_input(disturbance_shape(u0, self.n_original)), signal, t)
        weights = self.cluster_inertia
        info = dict(reduced.info, reduced_y=reduced.y)
        return TimeResponse(reduced.t, self.lift_output(reduced.y, nodes), reduced.u,
                            y_coi=reduced.y @ weights / weights.sum(), method=reduced.method, info=info)


def structure_preserving_reduction(model, k=None, *, partition=None, embedding="laplacian",
                                   max_clusters=DEFAULT_MAX_CLUSTERS, n_init=10, eigen_method="auto",
                                   random_state=0, merge_rtol=0.0):
    """Algorithm 1: reduce ``model`` to k coherent aggregate nodes coupled by L_k.

    Parameters
    ----------
    model : NetworkModel
        Connected network (G(s), L, f(s)).
    k : int, optional
        Number of clusters, 1 <= k <= n. Suggested from the eigengap when neither k nor
        ``partition`` is given.
    partition : labels or list of node-index groups, optional
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
    O(n^3) up to n = 2000, LOBPCG / shift-invert Lanczos beyond), k-means (see
    :func:`~gridcoherence.reduction.clustering.kmeans_labels`), then O(n k + k^3) for the
    refinement and L_k and O(n + turbines) per cluster for the aggregates.

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
    n = model.n
    # Each component of a disconnected network must be reduced on its own: the zero
    # eigenspace would otherwise be an arbitrary basis instead of 1/sqrt(n).
    validate_laplacian(model.laplacian, allow_negative_weights=True)
    if k is not None and (isinstance(k, bool) or int(k) != k or not 1 <= int(k) <= n):
        raise ValueError(f"k must be an integer between 1 and n = {n}, got {k!r}")
    clustering = None
    spectrum = None
    if partition is not None:
        labels = as_labels(partition, n)
        if k is not None and int(labels.max()) + 1 != int(k):
            raise ValueError(f"the partition has {int(labels.max()) + 1} clusters but k = {k}")
        k = int(labels.max()) + 1
    else:
        clustering = spectral_clustering(model.laplacian, k, embedding=embedding, inertia=model.inertia,
                                         max_clusters=max_clusters, n_init=n_init,
                                         eigen_method=eigen_method, random_state=random_state)
        labels, k = clustering.labels_, clustering.n_clusters_
        if embedding == "laplacian" and (clustering.eigenvalues_.size > k or k == n):
            values = clustering.eigenvalues_
            vectors = clustering.embedding_
            spectrum = (values, vectors)
    if spectrum is None:
        eig = smallest_eigenpairs(model.laplacian, min(n, k + 1), method=eigen_method,
                                  random_state=random_state)
        spectrum = (eig.values, eig.vectors)
    values, vectors = spectrum
    check_eigengap(values, k)
    return ReducedNetwork(model, labels, values[:k], vectors[:, :k],
                          lambda_next=values[k] if k < values.size else None,
                          clustering=clustering, merge_rtol=merge_rtol)
