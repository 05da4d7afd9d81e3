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

from .eigengap import DEFAULT_MAX_CLUSTERS, suggest_k, suggestion_count
from .laplacian import DisconnectedNetworkError, laplacian_components, smallest_eigenpairs, validate_laplacian

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


def _embedding_eigenpairs(L, count, variant, inertia, eigen_method, random_state, start):
    """``count`` smallest eigenpairs of the variant's problem, first vector constant positive.

    ``L`` is a validated connected Laplacian (CSR). Negative edge weights are accepted as
    long as L stays positive semidefinite: a negative eigenvalue raises.
    """
    return smallest_eigenpairs(L, count, weight=_embedding_weight(L, variant, inertia), method=eigen_method,
                               random_state=random_state, start=start)


class EigenpairCache:
    """The smallest eigenpairs of one connected network's embeddings, each computed once.

    Algorithm 1 needs the eigenpairs of L (and of the clustered embedding's problem, when
    that is another one) for every k it is run with; this object computes them on first
    use and hands the same ones to every later reduction of the network
    (:class:`~gridcoherence.reduction.pipeline.CoherencyReductor` keeps one, and
    :meth:`~gridcoherence.cases.loader.Case.spectrum_summary` uses one for its suggestion).
    The ``"amg"`` solver starts from the eigenvectors already computed (of any embedding:
    on a network with coherent groups they span nearly the same slow subspace).

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
        self._setup(validate_laplacian(laplacian, allow_negative_weights=True), inertia, eigen_method,
                    random_state, min_count)

    @classmethod
    def for_model(cls, model, *, eigen_method="auto", random_state=0, min_count=1):
        """The cache of a :class:`~gridcoherence.models.network.NetworkModel`, trusting its Laplacian.

        The model validated its Laplacian when it was built; only connectedness is
        checked here, and only when the model was built with ``allow_disconnected=True``.

        Raises
        ------
        DisconnectedNetworkError
            The network has several components (reduce each on its own).
        """
        if model.allow_disconnected and model.n > 1:
            components = laplacian_components(model.laplacian)
            if len(components) > 1:
                raise DisconnectedNetworkError(components)
        cache = cls.__new__(cls)
        cache._setup(model.laplacian, model.inertia, eigen_method, random_state, min_count)
        return cache

    def _setup(self, laplacian, inertia, eigen_method, random_state, min_count):
        self.laplacian = laplacian
        self.n = laplacian.shape[0]
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
            known = [s for s in (spectrum, *self._computed.values()) if s is not None]
            start = max(known, key=lambda s: s.values.size).vectors if known else None
            spectrum = _embedding_eigenpairs(self.laplacian, min(self.n, max(count, self.min_count)),
                                             embedding, self.inertia, self.eigen_method, self.random_state,
                                             start)
            self._computed[embedding] = spectrum
        return spectrum
