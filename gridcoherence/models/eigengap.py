"""The eigengap rules: the suggested number of clusters k and the check that V_k is determined.

Algorithm 1 (Sec. 3.2) reduces a network to k clusters using the k smallest eigenpairs
of its Laplacian. Two rules on the low end of the spectrum decide which k make sense:

* :func:`check_eigengap` -- V_k is determined by L only when lambda_k < lambda_{k+1}; a
  repeated eigenvalue straddling k makes the partition and the reduced model depend on
  the eigensolver's arbitrary choice of basis;
* :func:`suggest_k` -- the one rule that picks k when the user does not: the largest
  relative eigengap lambda_{k+1} / lambda_k among 2 <= k <= ``max_clusters``, skipping
  every k that :func:`check_eigengap` would reject.

It is the only rule: ``gridcoherence info``, ``gridcoherence reduce`` without
``--clusters``, :meth:`gridcoherence.cases.loader.Case.spectrum_summary`,
:class:`gridcoherence.reduction.clustering.SpectralClustering` and
:func:`gridcoherence.reduction.pipeline.reduce_network` all call it on the
:func:`suggestion_count` smallest eigenvalues of the clustered embedding (through
:func:`gridcoherence.models.embedding.suggest_k_for`; the pipeline's default embedding is
:func:`~gridcoherence.models.embedding.default_embedding`, M^{-1} L for machines).
"""

from __future__ import annotations

import numpy as np

__all__ = ["suggest_k", "check_eigengap", "suggestion_count", "DEFAULT_MAX_CLUSTERS", "DEGENERACY_RTOL"]

#: Largest k that :func:`suggest_k` considers unless told otherwise.
DEFAULT_MAX_CLUSTERS = 10

#: lambda_k and lambda_{k+1} coincide when their difference is at most this times lambda_{k+1}.
DEGENERACY_RTOL = 1e-8


def _coincide(lower, upper):
    """Whether lambda_k = ``lower`` and lambda_{k+1} = ``upper`` coincide (elementwise)."""
    return upper - lower <= DEGENERACY_RTOL * np.maximum(np.abs(upper), 1e-300)


def _as_eigenvalues(eigenvalues, name):
    values = np.asarray(eigenvalues, dtype=float)
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array of eigenvalues, got shape {values.shape}")
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{name} holds a non-finite value at index {int(np.flatnonzero(~np.isfinite(values))[0])}")
    return values


def suggestion_count(n, max_clusters=DEFAULT_MAX_CLUSTERS):
    """How many smallest eigenvalues :func:`suggest_k` reads for an n-node network: min(n, max_clusters + 1).

    Examples
    --------
    >>> suggestion_count(39), suggestion_count(5)
    (11, 5)
    """
    return min(int(n), int(max_clusters) + 1)


def check_eigengap(eigenvalues, k):
    """Raise when lambda_k = lambda_{k+1}: V_k is then not determined by the matrix.

    With a repeated eigenvalue straddling k, any basis of the eigenspace is an equally
    valid V_k, and the partition and the reduced model would depend on the solver's
    arbitrary choice. k = n (every eigenvector) is always determined, and so is k = 1
    for a connected graph.

    Parameters
    ----------
    eigenvalues : ndarray
        The smallest eigenvalues, ascending; at least k + 1 of them unless k = n.
    k : int
        Number of clusters, already validated by the caller.
    """
    if k < eigenvalues.size and _coincide(eigenvalues[k - 1], eigenvalues[k]):
        raise ValueError(
            f"lambda_{k} = {eigenvalues[k - 1]:.6g} and lambda_{k + 1} = {eigenvalues[k]:.6g} coincide: "
            f"the {k} smallest eigenvectors are not determined by the Laplacian, so k is larger than "
            "the number of distinct low eigenvalues allows. Choose k at an eigengap "
            "(suggest_k) or give the partition."
        )


def suggest_k(eigenvalues, max_clusters=DEFAULT_MAX_CLUSTERS, *, laplacian_eigenvalues=None):
    """Number of clusters at the largest relative eigengap lambda_{k+1} / lambda_k.

    Parameters
    ----------
    eigenvalues : array_like
        The :func:`suggestion_count` smallest eigenvalues of a connected Laplacian (or of
        its pencil with a positive diagonal matrix, e.g. M^{-1} L), ascending, starting
        with the zero eigenvalue. Fewer values restrict the candidates to what they allow.
    max_clusters : int
        Largest k considered (at least 1).
    laplacian_eigenvalues : array_like, optional
        When ``eigenvalues`` belong to another embedding than L itself: the smallest
        eigenvalues of L, which Algorithm 1 also needs separated at k (its reduced model
        is built from L's V_k).

    Returns
    -------
    int
        The k in 2..min(max_clusters, len(eigenvalues) - 1) with the largest ratio
        lambda_{k+1} / lambda_k among those where lambda_k < lambda_{k+1} (in every
        spectrum given, with the tolerance of :func:`check_eigengap`), so the suggestion
        is never a k that the eigengap check rejects. When no such k exists -- e.g. the
        complete graph, whose nonzero eigenvalues all coincide -- no group of slow modes
        stands apart and the whole network is one coherent group: 1.

        The ratio is the right scale: the reduction error behaves like 1 / lambda_{k+1}
        and the embedding's sensitivity like lambda_k / lambda_{k+1} (Davis-Kahan). k = 1
        is not a candidate otherwise (the ratio is infinite there); one cluster is a
        modelling choice, Sec. 3.1.

    Examples
    --------
    >>> suggest_k([0.0, 1.0, 1.2, 30.0, 31.0])
    3
    >>> suggest_k([0.0, 50.0, 50.0, 50.0, 50.0])  # complete graph K_5: one coherent group
    1
    """
    values = _as_eigenvalues(eigenvalues, "eigenvalues")
    if isinstance(max_clusters, bool) or int(max_clusters) != max_clusters or max_clusters < 1:
        raise ValueError(f"max_clusters must be an integer >= 1, got {max_clusters!r}")
    if values.size < 2:
        raise ValueError("suggest_k needs at least the two smallest eigenvalues")
    if values[1] <= 0:
        raise ValueError("lambda_2 = 0: the graph is disconnected; the eigengap is not defined")
    last = min(int(max_clusters), values.size - 1)
    candidates = np.arange(2, last + 1)
    ratios = values[candidates] / values[candidates - 1]
    allowed = ~_coincide(values[candidates - 1], values[candidates])
    if laplacian_eigenvalues is not None:
        laplacian = _as_eigenvalues(laplacian_eigenvalues, "laplacian_eigenvalues")
        inside = candidates < laplacian.size
        allowed[inside] &= ~_coincide(laplacian[candidates[inside] - 1], laplacian[candidates[inside]])
    if not allowed.any():
        return 1
    return int(candidates[allowed][np.argmax(ratios[allowed])])
