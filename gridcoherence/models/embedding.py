"""Spectral embeddings of a network Laplacian, their smallest eigenpairs and the default choice.

A spectral embedding places the nodes by the smallest eigenvectors of a generalized
symmetric problem L v = lambda B v with a positive diagonal B and the constant vector in
the kernel; clustering its rows gives the coherent groups (Algorithm 1, step 1, in
:mod:`gridcoherence.reduction.clustering`). Three are offered (:data:`EMBEDDINGS`):

* ``"laplacian"`` -- B = I, the eigenvectors of L itself. This is what the
  dissertation's Algorithm 1 uses, and the refinement (3.34) and the reduced Laplacian
  need exactly these eigenpairs.
* ``"normalized"`` -- B = the weighted degrees: the random-walk (Shi-Malik) embedding,
  robust to very unequal degrees.
* ``"inertia"`` -- B = M, the node inertias: the eigenvectors of M^{-1} L, the classical
  slow-coherency choice for power systems (the electromechanical modes of lossless
  machines are those of M^{-1} L).

:func:`default_embedding` is the package's one rule for which embedding a reduction
clusters when the user does not choose: ``"inertia"`` when every node has a positive
inertia (machines), else ``"laplacian"``. :class:`EigenpairCache` computes the
eigenpairs of one network's embeddings once; the reduction pipeline and
:meth:`~gridcoherence.cases.loader.Case.spectrum_summary` both use it, so the suggested
number of clusters (:func:`~gridcoherence.models.eigengap.suggest_k`) is computed from
the same eigenvalues everywhere (:func:`suggest_k_for`).
"""

from __future__ import annotations

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from .eigengap import DEFAULT_MAX_CLUSTERS, suggest_k, suggestion_count
from .laplacian import DENSE_EIGEN_LIMIT, LaplacianSpectrum, smallest_eigenpairs, validate_laplacian

__all__ = ["EMBEDDINGS", "EigenpairCache", "default_embedding", "suggest_k_for"]

#: The spectral embeddings (module docstring).
EMBEDDINGS = ("laplacian", "normalized", "inertia")


def default_embedding(inertia):
    """The embedding a reduction clusters when none is chosen: ``"inertia"`` for machines.

    ``"inertia"`` (M^{-1} L, slow coherency) when every node has a finite positive
    inertia, ``"laplacian"`` (L, as Algorithm 1) otherwise: for graphs without inertia
    (feedthrough nodes, ``inertia`` None or with zeros) the inertia pencil is not
    defined.

    Evidence for the choice on the bundled cases: on ``nets_nyps68`` the inertia
    embedding with k = 5 gives the groups usually cited for the 16-machine system,
    machines {1-9}, {10-13}, {14}, {15}, {16} (1-based), which L alone does not; on
    ``kundur_two_area`` its suggested k is 2 with Kundur's two areas {G1, G2} | {G3, G4}.

    Parameters
    ----------
    inertia : array_like of shape (n,) or None
        The nodes' own inertias, ``model.nodes.inertia`` (not ``model.inertia``, which
        is all ones for nodes without inertia: the COI weights).

    Returns
    -------
    str

    Examples
    --------
    >>> default_embedding([0.1, 0.2]), default_embedding([0.1, 0.0]), default_embedding(None)
    ('inertia', 'laplacian', 'laplacian')
    """
    if inertia is None:
        return "laplacian"
    m = np.asarray(inertia, dtype=float)
    return "inertia" if m.size and np.all(np.isfinite(m)) and np.all(m > 0) else "laplacian"


def suggest_k_for(cache, embedding, max_clusters=DEFAULT_MAX_CLUSTERS):
    """:func:`~gridcoherence.models.eigengap.suggest_k` on an embedding's eigenvalues.

    The :func:`~gridcoherence.models.eigengap.suggestion_count` smallest eigenvalues of
    ``embedding``'s problem, and -- for an embedding other than L -- L's own, which
    Algorithm 1 also needs separated at k. The k that the reduction pipeline uses without
    k, and that ``gridcoherence info`` reports.

    Parameters
    ----------
    cache : EigenpairCache
    embedding : {"laplacian", "normalized", "inertia"}
    max_clusters : int

    Returns
    -------
    int or None
        None for a single node.
    """
    if cache.n < 2:
        return None
    count = suggestion_count(cache.n, max_clusters)
    values = cache.eigenpairs(embedding, count).values
    laplacian = None if embedding == "laplacian" else cache.eigenpairs("laplacian", count).values
    return suggest_k(values, max_clusters, laplacian_eigenvalues=laplacian)


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


def _embedding_eigenpairs(L, count, variant, inertia, eigen_method, random_state):
    """``count`` smallest eigenpairs of the variant's problem, first vector constant positive.

    ``L`` is a validated connected Laplacian (CSR). Negative edge weights are accepted as
    long as L stays positive semidefinite: a negative eigenvalue raises.
    """
    weight = _embedding_weight(L, variant, inertia)
    if weight is None:
        return smallest_eigenpairs(L, count, method=eigen_method, random_state=random_state)
    values, vectors, method = _generalized_smallest(L, weight, count, eigen_method, random_state)
    scale = max(1.0, float(abs(L).sum(axis=1).max()) / float(weight.min()))
    if values.min() < -1e-8 * scale:
        raise ValueError(f"the {variant!r} problem has a negative eigenvalue {values.min():.3g}: "
                         "the Laplacian is not positive semidefinite")
    values[0] = 0.0  # the kernel is exactly the constant vector (connected graph)
    vectors[:, 0] = np.abs(vectors[:, 0])
    return LaplacianSpectrum(values, vectors, method)


class EigenpairCache:
    """The smallest eigenpairs of one connected network's embeddings, each computed once.

    Algorithm 1 needs the eigenpairs of L (and of the clustered embedding's problem, when
    that is another one) for every k it is run with; this object computes them on first
    use and hands the same ones to every later reduction of the network
    (:class:`~gridcoherence.reduction.pipeline.CoherencyReductor` keeps one, and
    :meth:`~gridcoherence.cases.loader.Case.spectrum_summary` uses one for its suggestion).

    Parameters
    ----------
    laplacian : sparse matrix or ndarray, shape (n, n)
        A connected Laplacian, validated here once and trusted afterwards. Negative edge
        weights are accepted (Algorithm 1 allows them) while L stays positive
        semidefinite.
    inertia : array_like, shape (n,), optional
        Node inertias, for the ``"inertia"`` embedding.
    eigen_method : str
        Passed to :func:`gridcoherence.models.laplacian.smallest_eigenpairs`.
    random_state : int
        Seed of the iterative eigensolvers.
    min_count : int
        Fewest eigenpairs computed at once; a reductor asks for
        ``max_clusters + 1`` so that one computation serves the k suggestion and every
        k <= max_clusters.

    Attributes
    ----------
    laplacian : scipy.sparse.csr_matrix
        The validated Laplacian.
    n : int
    """

    def __init__(self, laplacian, *, inertia=None, eigen_method="auto", random_state=0, min_count=1):
        self.laplacian = validate_laplacian(laplacian, allow_negative_weights=True)
        self.n = self.laplacian.shape[0]
        self.inertia = inertia
        self.eigen_method = eigen_method
        self.random_state = random_state
        self.min_count = int(min_count)
        self._computed = {}

    def eigenpairs(self, embedding, count):
        """At least min(n, ``count``) smallest eigenpairs of ``embedding``'s problem.

        Computed on the first request (min(n, max(count, min_count)) of them) and again
        only when a later request needs more.

        Returns
        -------
        LaplacianSpectrum
            ``values`` ascending with ``values[0] = 0``, ``vectors`` B-orthonormal.
        """
        if embedding not in EMBEDDINGS:
            raise ValueError(f"unknown embedding {embedding!r}; use one of {EMBEDDINGS}")
        count = min(self.n, int(count))
        spectrum = self._computed.get(embedding)
        if spectrum is None or spectrum.values.size < count:
            spectrum = _embedding_eigenpairs(self.laplacian, min(self.n, max(count, self.min_count)),
                                             embedding, self.inertia, self.eigen_method, self.random_state)
            self._computed[embedding] = spectrum
        return spectrum
