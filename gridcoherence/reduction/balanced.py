"""Frequency-weighted balanced truncation of continuous-time LTI systems.

Enns' method (frequency weighting, dissertation Sec. 3.3.2 and the four steps after
(3.87)): the weighted controllability gramian is the G-block of the controllability
gramian of G preceded by the input weight W, the weighted observability gramian the
G-block of the observability gramian of G followed by the output weight V. Both gramians
are kept as Cholesky (square-root) factors computed by SLICOT's ``SB03OD`` (through
slycot), so the Hankel singular values come from an SVD of a product of factors and are
never NaN or complex, even where ``control.hsvd`` fails.

Reduction of the balanced system is by truncation or by singular perturbation
(residualization, exact DC gain for unweighted problems); projections are square-root
(balancing transforms) or balancing-free square-root (orthonormal bases, Varga), which
give the same transfer function with better conditioned state matrices.

Poles with real part >= -``stability_margin`` (unstable and marginal modes such as the
swing network's zero mode) are split off by an ordered Schur form and a Sylvester
equation (:func:`gridcoherence.models.lti.stable_unstable_split`), kept unreduced and added back, as in SLICOT ``AB09ID`` with ``ALPHA = 0``.

The projection step (:func:`project_balanced`) only needs products ``A @ X`` and
gramian factors, so structured large problems (low-rank factors, matrix-free ``A``)
reuse it unchanged.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import control
import numpy as np
import scipy.linalg as la
import slycot

from .._validation import check_finite
from ..models.lti import (
    as_continuous_statespace,
    as_stable_weight,
    dc_gain,
    default_stability_margin,
    stable_unstable_split,
)

__all__ = [
    "BalancedTruncation",
    "balanced_truncation",
    "controllability_factor",
    "observability_factor",
    "weighted_gramian_factors",
    "project_balanced",
]

_METHODS = ("bfsr", "sr")
_REDUCTIONS = ("truncate", "spa")


@dataclass(frozen=True)
class BalancedTruncation:
    """Result of :func:`balanced_truncation`.

    Attributes
    ----------
    system : control.StateSpace
        The reduced model (stable reduced part plus the unreduced unstable part).
    hankel_singular_values : ndarray
        (Weighted) Hankel singular values of the stable part, decreasing.
    order : int
        Order of ``system``.
    n_unstable : int
        Number of kept poles with real part >= -stability_margin.
    error_bound : float or None
        A-priori bound on the H-infinity norm of the error of the stable part,
        ``2 * sum`` of the discarded Hankel singular values; only for unweighted
        problems (Enns' weighted method has no a-priori bound in general), and only
        before DC rescaling.
    dc_matrix : ndarray or None
        Matrix K with the returned model equal to ``K @ G_reduced`` (``match_dc=True``).
    method, reduction : str
    """

    system: control.StateSpace
    hankel_singular_values: np.ndarray
    order: int
    n_unstable: int
    error_bound: float | None
    dc_matrix: np.ndarray | None
    method: str
    reduction: str


def _sb03od(A, rhs, transpose):
    """Upper-triangular Cholesky factor U from SLICOT SB03OD (one stable Lyapunov equation).

    ``transpose=True``: A X + X A^T = -rhs rhs^T with X = U U^T (rhs n x k);
    ``transpose=False``: A^T X + X A = -rhs^T rhs with X = U^T U (rhs k x n).
    """
    n = A.shape[0]
    k = rhs.shape[1] if transpose else rhs.shape[0]
    if k == 0 or n == 0:
        return np.zeros((n, n))
    if transpose:
        padded = np.zeros((n, max(n, k)))
        padded[:, :k] = rhs
    else:
        padded = np.zeros((max(n, k), n))
        padded[:k] = rhs
    try:
        U, scale, _ = slycot.sb03od(n, k, np.array(A, order="F"), np.zeros((n, n)), padded, "C",
                                    trans="T" if transpose else "N")
    except slycot.exceptions.SlycotArithmeticError as error:
        raise ValueError(f"gramian factor failed: the state matrix is not stable ({error})") from error
    return np.triu(U[:n, :n]) / scale


def controllability_factor(A, B):
    """S with A P + P A^T + B B^T = 0, P = S S^T (SLICOT SB03OD, stable A). O(n^3)."""
    return _sb03od(A, B, transpose=True)


def observability_factor(A, C):
    """R with A^T Q + Q A + C^T C = 0, Q = R^T R (SLICOT SB03OD, stable A). O(n^3)."""
    return _sb03od(A, C, transpose=False)


def _leading_block_factor(factor_rows, n):
    """A square n x n factor F of the leading block F F^T of a gramian given by rows."""
    # P11 = Fr Fr^T with Fr = the first n rows; an RQ step compresses Fr to n x n.
    if factor_rows.shape[1] <= n:
        return factor_rows
    r, _ = la.rq(factor_rows, mode="economic")
    return r[:, -n:]


def weighted_gramian_factors(A, B, C, D, input_weight=None, output_weight=None):
    """Enns' frequency-weighted gramian factors of a stable (A, B, C, D).

    The controllability gramian is the G-block of the gramian of G W (extended state
    [x; x_W]), the observability gramian the G-block of the gramian of V G (extended
    state [x; x_V]), dissertation steps 1-2 after (3.87). Correction: where the dissertation
    writes Y_c, the observability gramian Y_o is meant.

    Returns
    -------
    S, R : ndarray, shape (n, n)
        P = S S^T, Q = R^T R.
    """
    n = A.shape[0]
    if input_weight is None:
        A_c, B_c = A, B
    else:
        W = input_weight
        A_c = np.block([[A, B @ W.C], [np.zeros((W.nstates, n)), W.A]])
        B_c = np.vstack([B @ W.D, W.B])
    if output_weight is None:
        A_o, C_o = A, C
    else:
        V = output_weight
        A_o = np.block([[A, np.zeros((n, V.nstates))], [V.B @ C, V.A]])
        C_o = np.hstack([V.D @ C, V.C])
    S_ext = controllability_factor(A_c, B_c)
    R_ext = observability_factor(A_o, C_o)
    S = _leading_block_factor(S_ext[:n], n)
    R = _leading_block_factor(R_ext[:, :n].T, n).T
    return S, R


def project_balanced(A, B, C, D, S, R, order, method="bfsr", reduction="truncate"):
    """Balance with gramian factors P = S S^T, Q = R^T R and reduce to ``order``.

    Parameters
    ----------
    A : ndarray or operator supporting ``A @ X``, shape (n, n)
        Only products with tall matrices are formed, so a sparse or structured operator
        works (cost O(n r) per product for r columns).
    B, C, D : ndarray
    S : ndarray, shape (n, k)
    R : ndarray, shape (l, n)
        Factors of any rank (low-rank factors from structured solvers are fine).
    order : int
        Must not exceed the number of nonzero Hankel singular values.
    method : {"bfsr", "sr"}
        Balancing-free square-root (orthonormal bases of the dominant subspaces) or
        square-root (balancing transforms ``S V1 Sigma1^{-1/2}``, ``Sigma1^{-1/2} U1^T R``).
    reduction : {"truncate", "spa"}
        Truncation, or singular perturbation of the balanced minimal realization
        (its states with Hankel singular values <= n eps sigma_1 are removed first).

    Returns
    -------
    (Ar, Br, Cr, Dr), hsv
        Reduced matrices and the Hankel singular values svd(R S). Cost O(n k l + k l
        min(k, l)) plus the products with A.
    """
    U, hsv, Vt = la.svd(R @ S, full_matrices=False)
    check_finite("Hankel singular values", hsv)
    if order == 0:
        return (np.zeros((0, 0)), np.zeros((0, B.shape[1])), np.zeros((C.shape[0], 0)), D.copy()), hsv
    if reduction == "spa":
        keep = int(np.sum(hsv > max(hsv.shape[0], 1) * np.finfo(float).eps * hsv[0])) if hsv.size else 0
    else:
        keep = order
    scale = 1.0 / np.sqrt(hsv[:keep])
    right = S @ (Vt[:keep].T * scale)
    left = (U[:, :keep] * scale).T @ R
    if method == "bfsr" and reduction == "truncate":
        right, _ = la.qr(right, mode="economic")
        left_basis, _ = la.qr(left.T, mode="economic")
        coupling = left_basis.T @ right
        left = la.solve(coupling, left_basis.T)
    Ar = left @ (A @ right)
    Br, Cr, Dr = left @ B, C @ right, np.array(D, dtype=float)
    if reduction == "spa" and keep > order:
        A11, A12, A21, A22 = Ar[:order, :order], Ar[:order, order:], Ar[order:, :order], Ar[order:, order:]
        lu = la.lu_factor(A22)
        A22_A21 = la.lu_solve(lu, A21)
        A22_B2 = la.lu_solve(lu, Br[order:])
        Ar, Br, Cr, Dr = (
            A11 - A12 @ A22_A21,
            Br[:order] - A12 @ A22_B2,
            Cr[:, :order] - Cr[:, order:] @ A22_A21,
            Dr - Cr[:, order:] @ A22_B2,
        )
    for label, matrix in zip(("Ar", "Br", "Cr", "Dr"), (Ar, Br, Cr, Dr)):
        if not np.all(np.isfinite(matrix)):
            raise ArithmeticError(f"balanced projection produced a non-finite {label}")
    return (Ar, Br, Cr, Dr), hsv


def _select_order(order, tol, hsv, n_unstable, n_total):
    """Total reduced order from a requested order or an absolute HSV tolerance."""
    if (order is None) == (tol is None):
        raise ValueError("give exactly one of `order` (reduced order) and `tol` (Hankel singular value tolerance)")
    if tol is not None:
        if not (np.isfinite(tol) and tol >= 0):
            raise ValueError(f"tol must be a finite number >= 0, got {tol!r}")
        return n_unstable + int(np.sum(hsv > tol))
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)):
        raise TypeError(f"order must be an integer, got {type(order).__name__}")
    if not n_unstable <= order <= n_total:
        raise ValueError(
            f"order must lie in {n_unstable}..{n_total} (the system has {n_total} states, "
            f"{n_unstable} of them unstable or marginal and kept); got {order}"
        )
    return int(order)


def balanced_truncation(
    system,
    order=None,
    input_weight=None,
    output_weight=None,
    *,
    tol=None,
    method="bfsr",
    reduction="truncate",
    match_dc=False,
    stability_margin=None,
):
    """(Frequency-weighted) balanced truncation of a continuous-time LTI model.

    Parameters
    ----------
    system : control.StateSpace or control.TransferFunction
        Continuous-time, proper, SISO or MIMO (p outputs, m inputs).
    order : int, optional
        Total reduced order, including the kept unstable/marginal part.
    input_weight : control.StateSpace or TransferFunction, optional
        Stable weight W with m outputs; the reduction targets ||V (G - G_r) W||.
    output_weight : control.StateSpace or TransferFunction, optional
        Stable weight V with p inputs.
    tol : float, optional
        Instead of ``order``: keep the states whose (weighted) Hankel singular values
        exceed ``tol`` (absolute), plus the unstable part.
    method : {"bfsr", "sr"}
        Balancing-free square-root (default; SLICOT JOB='F') or square-root ('B').
    reduction : {"truncate", "spa"}
        Truncation or singular perturbation approximation (exact DC gain of the
        balanced system when unweighted).
    match_dc : bool
        Rescale the reduced model to the exact DC gain of ``system``: the result is
        ``K G_r`` with ``K = G(0) G_r(0)^{-1}`` (square systems; a scalar for SISO).
    stability_margin : float, optional
        Poles with real part >= -stability_margin are kept unreduced; default
        sqrt(eps) max(1, ||A||_1), so a swing network's numerically zero mode is kept.

    Returns
    -------
    BalancedTruncation
        ``.system`` the reduced StateSpace, ``.hankel_singular_values``, ``.error_bound``.

    Notes
    -----
    Cost O((n + n_w)^3) for n states and n_w weight states (Schur forms, SB03OD, SVD).
    Without weights the transfer function equals that of python-control's ``balred`` /
    SLICOT ``AB09AD`` / ``AB09BD``. A one-sided Enns weight keeps the reduced stable part
    stable; with two-sided weights stability is not guaranteed.
    Requesting an order above the number of numerically nonzero Hankel singular values
    (n eps sigma_1 threshold) returns the minimal order instead, with a warning.

    Examples
    --------
    >>> import control
    >>> g = control.tf([1.0], [1.0, 3.0, 3.0, 1.0])
    >>> red = balanced_truncation(g, 2)
    >>> red.order, red.hankel_singular_values.round(4).tolist()
    (2, [0.661, 0.1776, 0.0166])
    """
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}, got {method!r}")
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    system = as_continuous_statespace(system)
    A, B, C, D = (np.array(x, dtype=float) for x in (system.A, system.B, system.C, system.D))
    W = None if input_weight is None else as_stable_weight(input_weight, system.ninputs, "input")
    V = None if output_weight is None else as_stable_weight(output_weight, system.noutputs, "output")
    margin = default_stability_margin(A) if stability_margin is None else float(stability_margin)

    (A_s, B_s, C_s), (A_u, B_u, C_u) = stable_unstable_split(A, B, C, margin)
    S, R = weighted_gramian_factors(A_s, B_s, C_s, D, W, V)
    hsv = la.svd(R @ S, compute_uv=False)
    check_finite("Hankel singular values", hsv)
    n_unstable = A_u.shape[0]
    total = _select_order(order, tol, hsv, n_unstable, A.shape[0])
    stable_order = total - n_unstable
    minimal = int(np.sum(hsv > max(hsv.size, 1) * np.finfo(float).eps * (hsv[0] if hsv.size else 0.0)))
    if stable_order > minimal:
        warnings.warn(
            f"requested order {total} exceeds the minimal order {minimal + n_unstable}; "
            f"returning the minimal order",
            stacklevel=2,
        )
        stable_order = minimal
    (Ar, Br, Cr, Dr), hsv = project_balanced(A_s, B_s, C_s, D, S, R, stable_order, method, reduction)
    reduced = (
        la.block_diag(Ar, A_u),
        np.vstack([Br, B_u]),
        np.hstack([Cr, C_u]),
        Dr,
    )
    dc_matrix = None
    if match_dc:
        dc_matrix = _dc_matrix(dc_gain(A, B, C, D), dc_gain(*reduced))
        reduced = (reduced[0], reduced[1], dc_matrix @ reduced[2], dc_matrix @ reduced[3])
    bound = None
    if W is None and V is None:
        bound = 2.0 * float(np.sum(hsv[stable_order:]))
    return BalancedTruncation(
        system=control.ss(*reduced),
        hankel_singular_values=hsv,
        order=reduced[0].shape[0],
        n_unstable=n_unstable,
        error_bound=bound,
        dc_matrix=dc_matrix,
        method=method,
        reduction=reduction,
    )


def _dc_matrix(target, reduced):
    """K with K @ reduced == target (square DC gains)."""
    if target.shape[0] != target.shape[1]:
        raise ValueError("match_dc needs a square system (as many inputs as outputs)")
    try:
        return la.solve(reduced.T, target.T).T
    except la.LinAlgError as error:
        raise ZeroDivisionError("the reduced model's DC gain is singular; cannot rescale it") from error
