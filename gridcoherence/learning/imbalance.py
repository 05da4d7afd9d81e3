"""Spectral helpers, the rate function g and the imbalance quantities (Section 2.1.3).

This module holds the pieces that the two-layer linear analysis (:mod:`.linear2`) and the
multi-layer analysis (:mod:`.multilayer`) share:

* eigenvalue / singular-value accessors with the text's conventions (descending order,
  ``lambda_i = 0`` beyond the order of the matrix);
* the rate function ``g`` of Prop. 2.1 / Thm. 2.1 / Lemma 2.7;
* the imbalance quantities Delta+, Delta-, Delta_ of (2.30)-(2.32);
* :func:`factor_rate_bound`, the bound on ``lambda_r(A A^T) + lambda_m(B^T B)`` for a factor
  pair ``(A, B)`` with imbalance ``A^T A - B B^T`` (Lemma 2.3 summed over both factors). With the
  corrected pairing it is the common core of Prop. 2.1 and of Lemma 2.7.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._checks import as_real_array, positive_int

__all__ = [
    "PAIRINGS",
    "eigvals_desc",
    "nth_eigenvalue",
    "nth_singular_value",
    "rate_function",
    "ImbalanceQuantities",
    "imbalance_quantities",
    "factor_rate_bound",
    "factor_spectral_sum",
]

#: "corrected": sigma_{#columns} goes with Delta+ and sigma_{#rows} with Delta- (as Prop. 2.1
#: prints it, and as Lemma 2.3 gives). "swapped": the pairing printed in Lemma 2.7 (2.105) and
#: Thm. 2.3 (2.108), which is false when the two dimensions differ.
PAIRINGS = ("corrected", "swapped")


def eigvals_desc(matrix):
    """Eigenvalues of a symmetric matrix in descending order (symmetrised first).

    Parameters
    ----------
    matrix : (k, k) array_like
        Symmetric matrix.

    Returns
    -------
    numpy.ndarray
        ``lambda_1 >= ... >= lambda_k``.
    """
    matrix = np.asarray(matrix, dtype=float)
    return np.linalg.eigvalsh(0.5 * (matrix + matrix.T))[::-1]


def nth_eigenvalue(eigs_desc, i):
    """``lambda_i`` (1-based) from descending eigenvalues, 0 when ``i`` exceeds the order."""
    i = positive_int(i, "i")
    return float(eigs_desc[i - 1]) if i <= len(eigs_desc) else 0.0


def nth_singular_value(matrix, k):
    """``sigma_k`` (1-based, descending) of a matrix; 0 when ``k > min(p, q)``."""
    k = positive_int(k, "k")
    sv = np.linalg.svd(np.atleast_2d(matrix), compute_uv=False)
    return float(sv[k - 1]) if k <= len(sv) else 0.0


def rate_function(a, b, c, s1, s2):
    """Rate function ``g(a, b, c, s1, s2)`` of Prop. 2.1 (2.29) and Thm. 2.1 (2.34).

    ``g = -a + sqrt((a + c)^2 + 4 s1^2) - b + sqrt((b + c)^2 + 4 s2^2)``. It is increasing in
    ``s1, s2``, decreasing in ``a, b``, positively homogeneous of degree one, and ``g >= 2c``.

    Parameters
    ----------
    a, b, c, s1, s2 : float or array_like
        Non-negative (Delta+, Delta-, Delta_, then the two singular-value arguments);
        broadcast against each other.

    Returns
    -------
    float or numpy.ndarray

    Examples
    --------
    >>> float(rate_function(0.0, 0.0, 1.0, 0.0, 0.0))
    2.0
    """
    a, b, c, s1, s2 = (np.asarray(x, dtype=float) for x in (a, b, c, s1, s2))
    value = -a + np.sqrt((a + c) ** 2 + 4 * s1**2) - b + np.sqrt((b + c) ** 2 + 4 * s2**2)
    return float(value) if value.ndim == 0 else value


@dataclass(frozen=True)
class ImbalanceQuantities:
    """Imbalance quantities (2.30)-(2.32) and the four clipped eigenvalues (2.59) behind them.

    Attributes
    ----------
    delta_plus, delta_minus, delta_gap : float
        Delta+ (positive spread), Delta- (negative spread), Delta_ (spectral gap).
    lam_plus_bar, lam_plus, lam_minus_bar, lam_minus : float
        ``[lambda_1(D)]_+``, ``[lambda_r(D)]_+``, ``[lambda_1(-D)]_+``, ``[lambda_m(-D)]_+``.
    """

    delta_plus: float
    delta_minus: float
    delta_gap: float
    lam_plus_bar: float
    lam_plus: float
    lam_minus_bar: float
    lam_minus: float

    def scaled(self, factor):
        """All quantities multiplied by ``factor`` (e.g. ``1/(m h)`` for the E1 model)."""
        return ImbalanceQuantities(*(factor * getattr(self, f) for f in self.__dataclass_fields__))


def imbalance_quantities(D, r, m):
    """Delta+, Delta-, Delta_ of an imbalance matrix, (2.30)-(2.32).

    Parameters
    ----------
    D : (h, h) array_like
        Symmetric imbalance matrix, e.g. ``U1^T U1 - V^T V`` (2.26).
    r : int
        Index for the positive side (``rank(X)`` in Section 2.1, ``n`` in Section 2.2).
    m : int
        Index for the negative side (output dimension).

    Returns
    -------
    ImbalanceQuantities

    Examples
    --------
    >>> q = imbalance_quantities(np.diag([3.0, 1.0, -2.0]), r=2, m=1)
    >>> (q.delta_plus, q.delta_minus, q.delta_gap)
    (2.0, 0.0, 3.0)
    """
    D = as_real_array(D, "D", ndim=2)
    if D.shape[0] != D.shape[1]:
        raise ValueError(f"D must be square, got shape {D.shape}")
    r, m = positive_int(r, "r"), positive_int(m, "m")
    eigs = eigvals_desc(D)
    neg_eigs = eigvals_desc(-D)
    lam_plus_bar = max(nth_eigenvalue(eigs, 1), 0.0)
    lam_plus = max(nth_eigenvalue(eigs, r), 0.0)
    lam_minus_bar = max(nth_eigenvalue(neg_eigs, 1), 0.0)
    lam_minus = max(nth_eigenvalue(neg_eigs, m), 0.0)
    return ImbalanceQuantities(
        delta_plus=lam_plus_bar - lam_plus,
        delta_minus=lam_minus_bar - lam_minus,
        delta_gap=lam_plus + lam_minus,
        lam_plus_bar=lam_plus_bar,
        lam_plus=lam_plus,
        lam_minus_bar=lam_minus_bar,
        lam_minus=lam_minus,
    )


def _check_factor_pair(A, B):
    A = as_real_array(A, "A", ndim=2)
    B = as_real_array(B, "B", ndim=2)
    if A.shape[1] != B.shape[0]:
        raise ValueError(f"A has {A.shape[1]} columns but B has {B.shape[0]} rows; they must agree")
    return A, B


def factor_spectral_sum(A, B):
    """``lambda_r(A A^T) + lambda_m(B^T B)`` for ``A`` (r x h), ``B`` (h x m).

    For two layers this is exactly ``lambda_min(T)`` (2.104) with ``A = W1, B = W2``, and twice it
    (times ``lambda_r(Sigma_x)``) is the Lemma 2.2 rate bound (2.55) with ``A = U1, B = V^T``.
    """
    A, B = _check_factor_pair(A, B)
    return nth_eigenvalue(eigvals_desc(A @ A.T), A.shape[0]) + nth_eigenvalue(
        eigvals_desc(B.T @ B), B.shape[1]
    )


def factor_rate_bound(A, B, pairing="corrected", quantities=None):
    """Imbalance-based lower bound ``g(...) <= 2 (lambda_r(A A^T) + lambda_m(B^T B))``.

    With ``D = A^T A - B B^T`` and the product ``P = A B`` (r x m), returns
    ``g(Delta+, Delta-, Delta_, sigma_m(P), sigma_r(P))`` (corrected pairing). This is the bracket
    of Prop. 2.1 (2.29) for ``A = U1, B = V^T`` and ``2 x`` the Lemma 2.7 bound for
    ``A = W1, B = W2``. Correction: the dissertation's Lemma 2.7 (2.105) prints the swapped
    pairing; ``pairing="swapped"``
    reproduces that printed form so tests can show it fails when ``r != m``.

    Parameters
    ----------
    A : (r, h) array_like
    B : (h, m) array_like
    pairing : {"corrected", "swapped"}
    quantities : ImbalanceQuantities, optional
        The imbalance quantities to use instead of those of ``A^T A - B B^T`` (e.g. of a
        model's full imbalance, which an invariant makes cheap to reuse).

    Returns
    -------
    float

    Examples
    --------
    >>> A = np.array([[1.0, 0.0]]); B = np.array([[1.0], [0.0]])
    >>> round(factor_rate_bound(A, B), 12)  # balanced scalar-like pair: g = 2 + 2 = 4
    4.0
    """
    if pairing not in PAIRINGS:
        raise ValueError(f"pairing must be one of {PAIRINGS}, got {pairing!r}")
    A, B = _check_factor_pair(A, B)
    r, m = A.shape[0], B.shape[1]
    q = imbalance_quantities(A.T @ A - B @ B.T, r, m) if quantities is None else quantities
    product = A @ B
    s_cols, s_rows = nth_singular_value(product, m), nth_singular_value(product, r)
    if pairing == "swapped":
        s_cols, s_rows = s_rows, s_cols
    return rate_function(q.delta_plus, q.delta_minus, q.delta_gap, s_cols, s_rows)
