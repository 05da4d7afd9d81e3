"""Small array utilities shared by the samplers and graph generators."""

from __future__ import annotations

import numpy as np
import scipy.sparse.linalg as spla

__all__ = ["sorted_unique", "symmetric_operator_norm"]


def sorted_unique(values):
    """Sorted distinct values of a 1-D integer array.

    Sort-based: numpy 2.x's hash-based ``np.unique`` was about 10x slower on 10^7
    int64 values in our measurements.
    """
    values = np.sort(values)
    return values[np.r_[True, values[1:] != values[:-1]]] if values.size else values


def symmetric_operator_norm(apply, n, *, tol=1e-6, dense_limit=400, random_state=0):
    """Largest singular value of a complex symmetric (E = E^T) n x n operator.

    Parameters
    ----------
    apply : callable
        ``apply(X)`` multiplies an (n, m) complex block by E.
    n : int
    tol : float
        Relative tolerance of ARPACK's singular value.
    dense_limit : int
        Up to this n the operator is formed and its norm taken by a dense SVD.
    random_state : int
        Seed of ARPACK's start vector.

    Notes
    -----
    E^H x = conj(E conj(x)) because E is complex symmetric, so each ARPACK step costs
    two ``apply`` calls.
    """
    if n <= dense_limit:
        return float(np.linalg.norm(apply(np.eye(n, dtype=complex)), 2))

    def matvec(x):
        return apply(np.asarray(x, dtype=complex).reshape(n, -1)).reshape(np.shape(x))

    operator = spla.LinearOperator((n, n), matvec=matvec, rmatvec=lambda x: np.conj(matvec(np.conj(x))),
                                   dtype=complex)
    v0 = np.random.default_rng(random_state).standard_normal(n).astype(complex)
    return float(spla.svds(operator, k=1, return_singular_vectors=False, v0=v0, tol=tol)[0])
