"""How well a structure-preserving reduced network approximates the original (Sec. 3.2).

Functions of a :class:`~gridcoherence.reduction.structure.ReducedNetwork` that still
holds its original network:

* :func:`lowrank_transfer_matrix` -- the low-rank model
  T_k(s) = V_k (V_k^T G^{-1}(s) V_k + f(s) Lambda_k)^{-1} V_k^T of (3.27);
* :func:`thm38_bound` -- Thm 3.8's bound (3.28) on ||T(s) - T_k(s)|| at one s, and
  :func:`thm38_right_side`, its right-hand side from the constants M1, M2, |f| and
  lambda_{k+1};
* :func:`band_error` -- the band error sup_{|w| <= eta} ||T(jw) - That_k(jw)||, the
  quantity Thm 3.10 drives to zero, with the low-rank error and the Thm 3.8 bound on the
  same frequencies (:class:`BandError`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla
import scipy.optimize as sopt
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from .._numeric import symmetric_operator_norm

__all__ = ["BandError", "band_error", "lowrank_transfer_matrix", "thm38_bound", "thm38_right_side"]

#: Networks up to this size have T(jw) formed densely (LAPACK) in :func:`band_error`.
BAND_DENSE_LIMIT = 2000

#: Mean degree (nnz(L) / n) up to which the band error factorises T(jw) by sparse LU.
SPLU_DEGREE_LIMIT = 32

_METHODS = ("dense", "splu", "gmres")


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


def thm38_right_side(lowrank_norm, max_inverse_node, coupling_gain, lambda_next):
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

    Examples
    --------
    >>> float(thm38_right_side(1.0, 1.0, 1.0, 3.0))
    4.0
    """
    M1, M2 = np.asarray(lowrank_norm, dtype=float), np.asarray(max_inverse_node, dtype=float)
    margin = np.asarray(coupling_gain, dtype=float) * lambda_next - M2 - M1 * M2**2
    with np.errstate(divide="ignore"):
        bound = np.where(margin > 0, (M1 * M2 + 1.0) ** 2 / np.where(margin > 0, margin, 1.0), np.inf)
    return bound[()] if bound.ndim == 0 else bound


def _original(reduced, what):
    if reduced.original is None:
        raise ValueError(f"{what} compares with the original network, which this reduced "
                         "network does not have (it was built from parts or read from a file)")
    return reduced.original


def _lowrank_core(reduced, s):
    """(V_k^T G^{-1}(s) V_k + f(s) Lambda_k)^{-1}, k x k, and M2 = max |g_i^{-1}(s)|."""
    original = reduced.original
    h = original.nodes.inverse_transfer(complex(s))
    V = reduced.embedding
    core = V.T @ (h[:, None] * V) + original.coupling(complex(s)) * np.diag(reduced.eigenvalues)
    return np.linalg.inv(core), float(np.max(np.abs(h)))


def lowrank_transfer_matrix(reduced, s, columns=None):
    """The low-rank model T_k(s) = V_k (V_k^T G^{-1} V_k + f Lambda_k)^{-1} V_k^T (3.27).

    Parameters
    ----------
    reduced : ReducedNetwork
        With its original network.
    s : complex or array_like, shape (ns,)
    columns : array_like of int, optional
        Original input nodes (all by default).

    Returns
    -------
    ndarray, shape (n, c) for scalar ``s`` else (ns, n, c); O(n k^2) per frequency.
    """
    _original(reduced, "the low-rank model T_k")
    s_arr = np.atleast_1d(np.asarray(s, dtype=complex))
    columns = reduced.partition.node_indices(columns)
    V = reduced.embedding
    out = np.stack([V @ (_lowrank_core(reduced, sk)[0] @ V[columns].T) for sk in s_arr])
    return out[0] if np.ndim(s) == 0 else out


def _bound_from_core(reduced, s, core, M2):
    """Thm 3.8's bound at s from the low-rank core (inf when lambda_{k+1} is unknown)."""
    if reduced.lambda_next is None:
        return np.inf
    M1 = float(np.linalg.norm(core, 2))  # ||T_k|| = ||core|| as V_k has orthonormal columns
    return float(thm38_right_side(M1, M2, abs(reduced.original.coupling(complex(s))), reduced.lambda_next))


def thm38_bound(reduced, s):
    """Thm 3.8's bound (3.28) on ||T(s) - T_k(s)|| at one complex s (inf if it does not apply).

    Parameters
    ----------
    reduced : ReducedNetwork
        With its original network and lambda_{k+1} (k < n).
    s : complex
    """
    _original(reduced, "Thm 3.8's bound")
    if reduced.lambda_next is None:
        raise ValueError("lambda_{k+1} is unknown (k = n or not given); Thm 3.8 needs it")
    return _bound_from_core(reduced, s, *_lowrank_core(reduced, s))


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


def _errors_at(reduced, w, method):
    """(||T - That_k||, ||T - T_k||, Thm 3.8 bound) at s = jw."""
    s = 1j * w
    original, V, partition = reduced.original, reduced.embedding, reduced.partition
    core, M2 = _lowrank_core(reduced, s)
    solve = _network_solver(original, s, method, (V, core))
    lifted_rows = partition.lift(reduced.transfer_matrix(s))
    n = original.n
    error = symmetric_operator_norm(lambda X: solve(X) - lifted_rows @ partition.restrict(X), n)
    lowrank_error = symmetric_operator_norm(lambda X: solve(X) - V @ (core @ (V.T @ X)), n)
    return error, lowrank_error, _bound_from_core(reduced, s, core, M2)


def band_error(reduced, eta=1.0, *, n_frequencies=31, refine=True, method="auto"):
    """sup_{0 < w <= eta} ||T(jw) - That_k(jw)|| with the low-rank error and Thm 3.8 bound.

    Parameters
    ----------
    reduced : ReducedNetwork
        With its original network.
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
    original = _original(reduced, "band_error")
    if not (np.isfinite(eta) and eta > 0):
        raise ValueError(f"eta must be a positive frequency, got {eta!r}")
    if method == "auto":
        n, nnz = original.n, original.laplacian.nnz
        method = "dense" if n <= BAND_DENSE_LIMIT else ("splu" if nnz <= SPLU_DEGREE_LIMIT * n else "gmres")
    elif method not in _METHODS:
        raise ValueError(f"unknown method {method!r}; use 'auto', 'dense', 'splu' or 'gmres'")
    half = max(2, n_frequencies // 2)
    grid = np.unique(np.r_[np.logspace(-3, 0, half), np.linspace(0, 1, n_frequencies - half + 1)[1:]]) * eta
    rows = {float(w): _errors_at(reduced, w, method) for w in grid}
    if refine:
        worst = int(np.argmax([rows[float(w)][0] for w in grid]))
        lo, hi = grid[max(worst - 1, 0)], grid[min(worst + 1, grid.size - 1)]
        if hi > lo:
            def negative_error(w):
                if float(w) not in rows:
                    rows[float(w)] = _errors_at(reduced, float(w), method)
                return -rows[float(w)][0]
            sopt.minimize_scalar(negative_error, bounds=(lo, hi), method="bounded",
                                 options={"xatol": 1e-4 * eta, "maxiter": 12})
    w = np.array(sorted(rows))
    values = np.array([rows[float(x)] for x in w])
    if not np.all(np.isfinite(values[:, :2])):
        raise ArithmeticError("the band error evaluation produced non-finite values")
    return BandError(float(eta), w, values[:, 0], values[:, 1], values[:, 2], method)
