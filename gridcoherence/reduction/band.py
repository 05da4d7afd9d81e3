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
  same frequencies (:class:`BandError`), sampled on a grid built around the
  resonances of both networks (:func:`network_poles`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla
import scipy.optimize as sopt
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy.spatial import ConvexHull, QhullError

from .._numeric import symmetric_operator_norm

__all__ = ["BandError", "band_error", "network_poles", "lowrank_transfer_matrix", "thm38_bound",
           "thm38_right_side"]

#: Networks up to this size have T(jw) formed densely (LAPACK) in :func:`band_error`.
BAND_DENSE_LIMIT = 2000

#: Mean degree (nnz(L) / n) up to which the band error of a network above
#: :data:`BAND_DENSE_LIMIT` nodes factorises T(jw) by sparse LU (grid-like networks, whose
#: LU fills in moderately); denser ones, such as SBMs, get the bounds.
SPLU_DEGREE_LIMIT = 8

_METHODS = ("dense", "splu", "gmres", "bounds")

#: Krylov vectors of L, besides V_k and the cluster indicators, in the subspace on which
#: the "bounds" method maximises its lower bound (see :func:`band_error`).
BOUNDS_KRYLOV_VECTORS = 12

#: GMRES solves at most (one per Krylov vector) with which the "bounds" method raises its
#: lower bound of ||T(jw) - That_k(jw)|| at the largest maxima (see :func:`band_error`).
KRYLOV_STEPS = 40

#: Relative increase of the Krylov lower bound below which it stops.
KRYLOV_TOLERANCE = 1e-9

#: Relative tolerance in w of the maximisation of the "bounds" lower bound around its largest
#: value: a smooth peak loses about (xatol w / its width)^2 of its height.
CERTIFIED_XATOL = 1e-2

#: Local maxima of the "bounds" lower bound below this fraction of the largest are not raised
#: from a Krylov subspace (the slow-subspace bound is within a few per cent of the norm on SBMs).
CERTIFIED_FRACTION = 0.8

#: Realizations up to this many states have all their poles computed (dense eigenvalues)
#: for the band-error grid; larger networks contribute estimates of their slow modes.
POLE_DENSE_LIMIT = 1000

#: Poles lambda with damping ratio -Re(lambda) / |lambda| below this are resonances the
#: band-error grid samples explicitly; better damped peaks are wide enough for the log grid.
LIGHT_DAMPING_RATIO = 0.3

#: Poles with damping ratio below this lie on the imaginary axis (to rounding): T(jw) is
#: singular there and the band error unbounded.
UNDAMPED_RATIO = 1e-9

#: Default density of the band-error grid's log-spaced part.
POINTS_PER_DECADE = 10

#: Decades the log grid reaches below min(eta, the slowest pole's |lambda|): further down
#: every mode is quasi-static and T - That tends to its (small) DC value.
LOW_DECADES = 2

#: Local maxima of the sampled band error refined by a bounded scalar maximisation.
REFINED_MAXIMA = 3

#: Half-width, relative to its frequency, of the samples either side of an estimated mode.
ESTIMATE_HALF_WIDTH = 0.02


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
        Sampled frequencies, ascending: the grid (see :func:`band_error`) plus the
        local refinement of its largest maxima.
    error : ndarray, shape (nw,)
        ||T(jw) - That_k(jw)|| (structure-preserving model); with ``kind`` "bounds" a
        lower bound of it (at its largest maxima close to the norm itself, from a
        Krylov subspace; see :func:`band_error`).
    error_upper : ndarray, shape (nw,)
        An upper bound of ||T(jw) - That_k(jw)|| (inf where none is known); ``error``
        itself when ``kind`` is "exact".
    lowrank_error : ndarray, shape (nw,), or None
        ||T(jw) - T_k(jw)|| (low-rank model (3.27)); with ``kind`` "bounds" a lower bound.
    lowrank_error_upper : ndarray, shape (nw,)
        An upper bound of ||T(jw) - T_k(jw)||; ``lowrank_error`` when ``kind`` is "exact".
        Both None when the exact methods were asked not to compute it
        (``band_error(..., lowrank=False)``, as a reduction's accuracy does).
    bound : ndarray, shape (nw,)
        Thm 3.8 bound on the low-rank error, inf where the theorem does not apply.
    method : str
        How the errors were obtained: "dense", "splu" or "gmres" (T(jw) x applied that
        way, the norms by ARPACK or a dense SVD), or "bounds" (bounds from the slow
        subspace, the lower one raised from a Krylov subspace at its largest maxima).
    grid_points : int
        How many of ``frequencies`` form the grid (the rest come from the refinement).
    resonances : ndarray
        Resonance frequencies in the band the grid was built around (lightly damped
        poles of the original and the reduced network, or estimates of them).
    undamped_frequencies : ndarray
        Frequencies in the band of undamped poles (damping ratio below
        :data:`UNDAMPED_RATIO`) of either network. T(jw) or That_k(jw) is singular
        there, so the error is unbounded: :attr:`sup_error` is inf and the grid stays
        clear of them (the sampled curve shows the approach).
    transfer_norm_bounds : ndarray, shape (nw, 2), or None
        With ``kind`` "bounds", lower and upper bounds of ||T(jw)||; None for the exact
        methods (:class:`~gridcoherence.reduction.accuracy.AccuracyReference` computes
        ||T(jw)|| with the same solver).
    """

    eta: float
    frequencies: np.ndarray
    error: np.ndarray
    error_upper: np.ndarray
    lowrank_error: np.ndarray | None
    lowrank_error_upper: np.ndarray | None
    bound: np.ndarray
    method: str
    grid_points: int
    resonances: np.ndarray
    undamped_frequencies: np.ndarray
    transfer_norm_bounds: np.ndarray | None = None

    @property
    def kind(self):
        """"exact" (the norms at the sampled frequencies, to ARPACK's 1e-6 or a dense SVD) or
        "bounds" (``error`` <= ||T - That_k|| <= ``error_upper`` at each frequency)."""
        return "bounds" if self.method == "bounds" else "exact"

    @property
    def sup_error(self):
        """sup_w ||T - That_k|| over the sampled band (kind "bounds": a lower bound of it);
        inf with undamped poles in the band."""
        return np.inf if self.undamped_frequencies.size else float(self.error.max())

    @property
    def sup_error_upper(self):
        """An upper bound of sup_w ||T - That_k|| over the sampled band (:attr:`sup_error` for
        kind "exact"); inf with undamped poles in the band or where no bound is known."""
        return np.inf if self.undamped_frequencies.size else float(self.error_upper.max())

    @property
    def sup_lowrank_error(self):
        """sup_w ||T - T_k|| of the low-rank model (3.27) over the sampled band (None when not computed)."""
        return None if self.lowrank_error is None else float(self.lowrank_error.max())

    @property
    def sup_lowrank_error_upper(self):
        return None if self.lowrank_error_upper is None else float(self.lowrank_error_upper.max())

    @property
    def worst_frequency(self):
        """The frequency (rad/s) of the peak :attr:`sup_error` (the slowest undamped pole if any).

        For kind "bounds", the peak of the lower bound."""
        if self.undamped_frequencies.size:
            return float(self.undamped_frequencies.min())
        return float(self.frequencies[np.argmax(self.error)])

    def as_dict(self):
        return {"eta": self.eta, "kind": self.kind, "sup_error": self.sup_error,
                "sup_error_upper": self.sup_error_upper, "sup_lowrank_error": self.sup_lowrank_error,
                "sup_lowrank_error_upper": self.sup_lowrank_error_upper,
                "worst_frequency": self.worst_frequency, "method": self.method,
                "grid_points": self.grid_points, "resonances": self.resonances,
                "undamped_frequencies": self.undamped_frequencies,
                "frequencies": self.frequencies, "error": self.error, "error_upper": self.error_upper,
                "lowrank_error": self.lowrank_error, "lowrank_error_upper": self.lowrank_error_upper,
                "bound": self.bound, "transfer_norm_bounds": self.transfer_norm_bounds}


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


def _preconditioned_network(model, s, lowrank):
    """(M^{-1} K as a LinearOperator, x -> M^{-1} x, y -> K y) for K = G^{-1}(s) + f(s) L.

    ``lowrank`` = (V_k, core) with core = (V_k^T G^{-1} V_k + f Lambda_k)^{-1} gives the
    preconditioner M^{-1}: V_k core V_k^T on the slow subspace plus Jacobi on its
    complement, where f L is dominated by the degrees for dense graphs. K itself is
    ill-conditioned at low w (|f| L against the mean mode), M^{-1} K is not. L is applied
    to y minus its mean (L 1 = 0 exactly): in floating point L y would otherwise carry an
    error eps ||L|| |mean(y)|, far above the mean mode's response.
    """
    h = model.nodes.inverse_transfer(s)
    fs = model.coupling(s)
    V, core = lowrank
    L = model.laplacian
    jacobi = 1.0 / (h + fs * L.diagonal())

    def precondition(x):
        slow = V.T @ x
        fast = jacobi * (x - V @ slow)
        return V @ (core @ slow) + fast - V @ (V.T @ fast)

    def network(y):
        return h * y + fs * (L @ (y - y.mean()))

    operator = spla.LinearOperator(L.shape, matvec=lambda y: precondition(network(y)), dtype=complex)
    return operator, precondition, network


def _preconditioned_gmres(operator, precondition, x):
    """GMRES for K y = x on M^{-1} K y = M^{-1} x, to a preconditioned residual of 1e-8: (y, info)."""
    return spla.gmres(operator, precondition(x), rtol=1e-8, atol=0.0, restart=60, maxiter=5)


def _network_solver(model, s, method, lowrank):
    """A function X -> T(s) X for the (n, m) block X, factorising once per frequency.

    ``lowrank`` = (V_k, core) feeds the iterative method's preconditioner
    (:func:`_preconditioned_network`).
    """
    if method in ("dense", "splu"):
        return model.network_solver(s, dense=method == "dense")
    operator, precondition, _ = _preconditioned_network(model, s, lowrank)

    def solve(X):
        X = np.asarray(X, dtype=complex)
        out = np.empty_like(X)
        for c in range(X.shape[1]):
            out[:, c], info = _preconditioned_gmres(operator, precondition, X[:, c])
            if info != 0:
                raise ArithmeticError(f"GMRES did not converge for T(s) at s = {s} (info = {info}); "
                                      "use a sparse LU (method='splu') for this network")
        return out
    return solve


def _exact_at(reduced, w, method, transfer_norms=None, lowrank=True, solvers=None, starts=None):
    """(error, error, lowrank error, lowrank error, Thm 3.8 bound) at s = jw: the norms themselves.

    The layout of :func:`_bounds_at` (lower and upper bound equal); without ``lowrank``
    the low-rank model's error is not computed and its two entries are 0. With a
    ``transfer_norms`` cache, ||T(jw)|| (from it, or computed with the same
    factorisation and stored) is appended twice, as the bounds' (lower, upper) pair.
    With a ``solvers`` dict, the sparse LU of the original at jw is taken from it or
    stored in it (the other methods' solvers are not kept: a dense LU is n^2 numbers,
    and GMRES is preconditioned by this reduction's low-rank model). ``starts`` (a dict,
    updated) holds each norm's singular vector at the previous frequency, its start here.
    """
    starts = {} if starts is None else starts
    s = 1j * w
    original, V, partition = reduced.original, reduced.embedding, reduced.partition
    n = original.n

    def norm(name, apply):
        value, starts[name] = symmetric_operator_norm(apply, n, start=starts.get(name), return_vector=True)
        return value

    core, M2 = _lowrank_core(reduced, s)
    solve = None if solvers is None else solvers.get(w)
    if solve is None:
        solve = _network_solver(original, s, method, (V, core))
        if solvers is not None and method == "splu":
            solvers[w] = solve
    lifted_rows = partition.lift(reduced.transfer_matrix(s))
    error = norm("error", lambda X: solve(X) - lifted_rows @ partition.restrict(X))
    lowrank_error = norm("lowrank", lambda X: solve(X) - V @ (core @ (V.T @ X))) if lowrank else 0.0
    row = (error, error, lowrank_error, lowrank_error, _bound_from_core(reduced, s, core, M2))
    if transfer_norms is None:
        return row
    if w not in transfer_norms:
        transfer_norms[w] = norm("transfer", solve)
    return row + (transfer_norms[w],) * 2


def _distance_to_hull(points):
    """Distance from 0 to the convex hull of complex ``points`` (0 when 0 lies in it)."""
    xy = np.c_[points.real, points.imag]
    try:
        hull = ConvexHull(xy)
    except QhullError:  # fewer than 3 distinct points, or collinear ones: the hull is a segment
        centred = xy - xy.mean(axis=0)
        along = centred @ np.linalg.svd(centred, full_matrices=False)[2][0]
        return float(_segment_distances(xy[[np.argmin(along)]], xy[[np.argmax(along)]])[0])
    if np.all(hull.equations[:, 2] <= 0.0):  # 0 satisfies every facet's normal . x + offset <= 0
        return 0.0
    return float(_segment_distances(xy[hull.simplices[:, 0]], xy[hull.simplices[:, 1]]).min())


def _hull_vertices(points):
    """The points that span the convex hull of complex ``points`` (all of them when degenerate)."""
    try:
        return points[ConvexHull(np.c_[points.real, points.imag]).vertices]
    except QhullError:
        return points


def _segment_distances(a, b):
    """Distances from 0 to the segments [a_i, b_i] of the plane (rows of a and b)."""
    direction = b - a
    length = np.einsum("ij,ij->i", direction, direction)
    t = np.clip(-np.einsum("ij,ij->i", a, direction) / np.where(length > 0, length, 1.0), 0.0, 1.0)
    return np.linalg.norm(a + t[:, None] * direction, axis=1)


def _norm2(A):
    """Spectral norm of a tall matrix from its Gram matrix (accurate for the largest singular value)."""
    return float(np.sqrt(max(sla.eigvalsh(A.conj().T @ A)[-1], 0.0)))


@dataclass(frozen=True)
class _SlowSubspace:
    """What the "bounds" method of :func:`band_error` computes once per reduced network.

    V (n, k) the slow Laplacian eigenvectors and LV = L V; VtP = V^T P (P the cluster
    indicators), Pz = P - V VtP (the indicators' part outside span V) with LPz = L Pz
    and Pz = Qz Rp; S (n, m) an orthonormal basis of V, P and
    :data:`BOUNDS_KRYLOV_VECTORS` Krylov vectors of L, with LS = L S, SP = S^T P and
    SV = S^T V; lambda_next = lambda_{k+1}(L) and lambda_max an upper bound of
    lambda_n(L) (largest absolute row sum).
    """

    L: sp.csr_matrix
    V: np.ndarray
    LV: np.ndarray
    VtP: np.ndarray
    Pz: np.ndarray
    LPz: np.ndarray
    Rp: np.ndarray
    S: np.ndarray
    LS: np.ndarray
    SP: np.ndarray
    SV: np.ndarray
    lambda_next: float
    lambda_max: float


def _slow_subspace(reduced):
    """The :class:`_SlowSubspace` of a reduced network; O(n k^2 + nnz(L) m + n m^2)."""
    L = sp.csr_matrix(reduced.original.laplacian)
    if reduced.lambda_next is None:
        raise ValueError("the band error bounds need lambda_{k+1}(L), which this reduced network does not "
                         "have (k = n or not given); use an exact method ('dense', 'splu' or 'gmres')")
    if L.nnz and abs(L - L.T).max() > 1e-12 * abs(L).max():
        raise ValueError("the band error bounds need a symmetric Laplacian; use an exact method "
                         "('dense', 'splu' or 'gmres') for this network")
    V = reduced.embedding
    P = reduced.partition.matrix.toarray()
    basis = np.linalg.qr(np.c_[V, P])[0]
    x = np.random.default_rng(0).standard_normal(V.shape[0])
    for _ in range(min(BOUNDS_KRYLOV_VECTORS, V.shape[0] - basis.shape[1])):
        for _ in range(2):  # twice is enough (Kahan): full reorthogonalisation
            x = x - basis @ (basis.T @ x)
        norm = np.linalg.norm(x)
        if norm == 0.0:
            break
        basis = np.c_[basis, x / norm]
        x = L @ basis[:, -1]
    VtP = V.T @ P
    Pz = P - V @ VtP
    return _SlowSubspace(L=L, V=V, LV=L @ V, VtP=VtP, Pz=Pz, LPz=L @ Pz, Rp=np.linalg.qr(Pz, mode="r"),
                         S=basis, LS=L @ basis, SP=basis.T @ P, SV=basis.T @ V,
                         lambda_next=float(reduced.lambda_next),
                         lambda_max=float(abs(L).sum(axis=1).max()) if L.nnz else 0.0)


def _bounds_at(reduced, subspace, w, sampled=True):
    """Lower and upper bounds at s = jw from the slow subspace, without solving with G^{-1} + f L.

    Returns (error_lo, error_hi, lowrank_lo, lowrank_hi, thm38, norm_lo, norm_hi): the
    bounds of ||T - That_k||, ||T - T_k|| and ||T||, and Thm 3.8's bound. ``sampled``:
    the lower bounds maximised over span(S) (O(n m^2)); otherwise only the cheap ones
    from the (V, V) block. See the Notes of :func:`band_error` for the derivation.
    """
    s = 1j * w
    original, partition = reduced.original, reduced.partition
    h = original.nodes.inverse_transfer(s)
    fs = complex(original.coupling(s))
    V = subspace.V
    KV = h[:, None] * V + fs * subspace.LV
    VtKV = V.T @ KV
    Kvv_inverse = np.linalg.inv(VtKV)
    kvv_norm = np.linalg.norm(Kvv_inverse, 2)
    coupling_out = KV - V @ VtKV  # Z Z^T K V, Z an orthonormal basis of V's complement
    gain = _norm2(coupling_out @ Kvv_inverse)  # ||c||, c = Z^T K V Kvv^{-1}
    corners = _hull_vertices(h)
    distance = _distance_to_hull(np.r_[corners + fs * subspace.lambda_next, corners + fs * subspace.lambda_max])
    margin = distance - _norm2(coupling_out) ** 2 * kvv_norm
    # ||Schur^{-1}|| <= 1 / margin, Schur = Z^T K Z - Z^T K V Kvv^{-1} V^T K Z.
    schur = 1.0 / margin if margin > 0 else np.inf
    core, M2 = _lowrank_core(reduced, s)
    Tr = reduced.transfer_matrix(s)
    # Blocks of E = T - That_k in (V, Z), That_k = P Tr P^T with P = V (V^T P) + Pz:
    # V^T E V = Kvv^{-1} + c Schur^{-1} c^T - (V^T P) Tr (V^T P)^T,
    # Z^T E V = -Schur^{-1} c - Z^T Pz Tr (V^T P)^T = -Schur^{-1} (c + Schur Z^T Pz Tr (V^T P)^T)
    # (both forms bound it; the smaller bound is kept), Z^T E Z = Schur^{-1} - Z^T Pz Tr Pz^T Z.
    VtP, Rp = subspace.VtP, subspace.Rp
    slow = Tr @ VtP.T
    cross = subspace.Pz @ slow  # Z Z^T That_k V, n x k
    K_cross = h[:, None] * cross + fs * (subspace.LPz @ slow)
    VtK_cross = V.T @ K_cross
    schur_cross = K_cross - V @ VtK_cross - coupling_out @ (Kvv_inverse @ VtK_cross)  # Z Schur Z^T cross
    slow_error = np.linalg.norm(Kvv_inverse - VtP @ slow, 2)  # ||V^T E V - c Schur^{-1} c^T||
    error_hi = _block_norm_bound(gain**2 * schur + slow_error,
                                 min(gain * schur + np.linalg.norm(VtP @ Tr @ Rp.T, 2),
                                     schur * _norm2(coupling_out @ Kvv_inverse + schur_cross)),
                                 schur + np.linalg.norm(Rp @ Tr @ Rp.T, 2))
    lowrank_hi = _block_norm_bound(gain**2 * schur + np.linalg.norm(Kvv_inverse - core, 2), gain * schur, schur)
    norm_hi = _block_norm_bound(gain**2 * schur + kvv_norm, gain * schur, schur)
    thm38 = _bound_from_core(reduced, s, core, M2)
    # ||A|| >= ||V^T A V||: the (V, V) blocks less their Schur terms are lower bounds.
    cheap = (max(slow_error - gain**2 * schur, 0.0),
             max(np.linalg.norm(Kvv_inverse - core, 2) - gain**2 * schur, 0.0),
             max(kvv_norm - gain**2 * schur, 0.0))
    if not sampled:
        return cheap[0], error_hi, cheap[1], lowrank_hi, thm38, cheap[2], norm_hi
    # Sampled lower bounds: for any v, x = K v has T x = v exactly, so ||T - That_k|| >=
    # ||v - That_k x|| / ||x||. v is the best direction in span(S), found through K S = U R
    # (U orthonormal; Cholesky of the Gram matrix, only to choose v): on x = U y,
    # T x = S R^{-1} y, and span(S) holds P and V, so (T - That_k) x = S (R^{-1} - S^T P Tr P^T U) y.
    KS = h[:, None] * subspace.S + fs * subspace.LS
    R = sla.cholesky(KS.conj().T @ KS)
    Rinv = sla.solve_triangular(R, np.eye(R.shape[0]))
    directions = [sla.svd(Rinv - subspace.SP @ (Tr @ ((partition.matrix.T @ KS) @ Rinv)))[2][0],
                  sla.svd(Rinv - subspace.SV @ (core @ ((V.T @ KS) @ Rinv)))[2][0],
                  sla.svd(R)[2][-1]]
    v = subspace.S @ (Rinv @ np.array(directions).conj().T)  # the best y of each bound, as v = S R^{-1} y
    x = h[:, None] * v + fs * _real_times(subspace.L, v)
    x_norm = np.linalg.norm(x, axis=0)
    error_lo = np.linalg.norm(v[:, 0] - partition.lift(Tr @ partition.restrict(x[:, 0]))) / x_norm[0]
    lowrank_lo = np.linalg.norm(v[:, 1] - V @ (core @ (V.T @ x[:, 1]))) / x_norm[1]
    norm_lo = np.linalg.norm(v[:, 2]) / x_norm[2]
    return (max(error_lo, cheap[0]), error_hi, max(lowrank_lo, cheap[1]), lowrank_hi, thm38,
            max(norm_lo, cheap[2]), norm_hi)


def _krylov_lower_bound(reduced, w, start):
    """A certified lower bound of ||T(jw) - That_k(jw)|| from a Krylov subspace, and its best vector.

    E = T - That_k is complex symmetric, so E^H z = conj(E conj z): from ``start`` (n,)
    the inputs x_0, conj(E x_0), conj(E conj(E x_0)), ... (orthonormalised) span the
    Krylov subspace of E^H E and the conjugates of E's images. T x is applied by GMRES
    preconditioned by the low-rank model plus Jacobi (:func:`_preconditioned_network`):
    each GMRES solution y of K y = x is kept with x' = K y formed by a product, so that
    T x' = y and E x' = y - That_k x' exactly. For every combination x = X' c of the
    inputs kept, E x = Y c with Y the images, and the Rayleigh-Ritz value
    max_c ||Y c|| / ||X' c|| is a lower bound of ||E|| whatever GMRES reached: its
    accuracy decides how close the bound gets to the norm, never whether it holds.
    Stops after :data:`KRYLOV_STEPS` solves or when the bound rises by less than
    :data:`KRYLOV_TOLERANCE` relative. O(nnz(L)) per GMRES iteration.

    Returns
    -------
    (float, ndarray)
        The bound (0 if the first solve broke down) and the best input vector, to
        warm-start the next frequency with.
    """
    s = 1j * w
    partition = reduced.partition
    core = _lowrank_core(reduced, s)[0]
    operator, precondition, network = _preconditioned_network(reduced.original, s, (reduced.embedding, core))
    Tr = reduced.transfer_matrix(s)
    basis = np.zeros((start.size, 0), dtype=complex)  # orthonormal right-hand sides x_j
    inputs, images = [], []  # x'_j = K y_j and E x'_j
    best, best_vector, x = 0.0, np.asarray(start, dtype=complex), np.asarray(start, dtype=complex)
    for _ in range(KRYLOV_STEPS):
        for _ in range(2):  # twice is enough (Kahan): full reorthogonalisation
            x = x - basis @ (basis.conj().T @ x)
        norm = np.linalg.norm(x)
        if not (np.isfinite(norm) and norm > 0):
            break
        x = x / norm
        y = _preconditioned_gmres(operator, precondition, x)[0]
        exact_input = network(y)
        image = y - partition.lift(Tr @ partition.restrict(exact_input))
        if not (np.all(np.isfinite(image)) and np.all(np.isfinite(exact_input))):
            break
        basis = np.c_[basis, x]
        inputs.append(exact_input)
        images.append(image)
        X, Y = np.column_stack(inputs), np.column_stack(images)
        try:  # the largest generalised eigenvector of (Y^H Y, X^H X): the best combination
            c = sla.eigh(Y.conj().T @ Y, X.conj().T @ X, subset_by_index=[len(inputs) - 1] * 2)[1][:, 0]
        except np.linalg.LinAlgError:  # the inputs are numerically dependent: keep what was found
            break
        vector = X @ c
        value = float(np.linalg.norm(Y @ c) / np.linalg.norm(vector))
        rise = value - best
        if value > best:
            best, best_vector = value, vector
        if len(inputs) > 1 and rise <= KRYLOV_TOLERANCE * best:
            break
        x = np.conj(image)
    return best, best_vector


def _real_times(A, X):
    """A X for a real sparse A and a complex X, as two real products."""
    return A @ X.real + 1j * (A @ X.imag)


def _block_norm_bound(a, b, d):
    """Largest eigenvalue of [[a, b], [b, d]]: a bound on ||[[A, B], [C, D]]|| from ||A|| <= a,
    ||B||, ||C|| <= b and ||D|| <= d (inf when any of them is)."""
    if not np.isfinite(a + b + d):
        return np.inf
    return float(0.5 * (a + d) + np.hypot(0.5 * (a - d), b))


def network_poles(model, *, dense_limit=None):
    """The eigenvalues of a network's realization matrix A, or None when it is too large.

    They hold T(s)'s poles, and possibly modes T(s) does not show (for f = 1/s the
    mean angle's pole at 0).

    Parameters
    ----------
    model : NetworkModel
    dense_limit : int, optional
        Largest number of states whose eigenvalues are computed (dense, O(N^3));
        :data:`POLE_DENSE_LIMIT` by default.

    Returns
    -------
    ndarray of complex, shape (N,), or None

    Examples
    --------
    >>> from gridcoherence import NetworkModel, SwingTurbineNodes
    >>> model = NetworkModel(SwingTurbineNodes(m=[1.0, 1.0], d=[0.2, 0.2]), [(0, 1, 2.0)])
    >>> poles = network_poles(model)
    >>> sorted(round(float(abs(p.imag)), 6) for p in poles)  # inter-node mode: s^2 + 0.2 s + 4
    [0.0, 0.0, 1.997498, 1.997498]
    """
    A = model.realization().A
    if A.shape[0] > (POLE_DENSE_LIMIT if dense_limit is None else dense_limit):
        return None
    return sla.eigvals(A.toarray()) if A.shape[0] else np.zeros(0, dtype=complex)


def _electromechanical_frequencies(reduced):
    """Undamped estimates sqrt(c lambda_i / (v_i^T M v_i)), i = 2..k+1, for f = c/s.

    (lambda_i, v_i) are the Laplacian eigenpairs the reduction holds and M = diag(m)
    the inertias: the Rayleigh quotient of m s^2 + c lambda = 0 on v_i. v_{k+1} is not
    kept, so mode k+1 uses the mean inertia. Empty for other couplings. O(n k).
    """
    original = reduced.original
    f = original.coupling
    if not (f.den.size == 2 and f.den[1] == 0.0 and f.num.size == 1 and f.num[0] > 0):
        return np.zeros(0)
    m = original.inertia
    stiffness = f.num[0] * np.r_[reduced.eigenvalues[1:], [] if reduced.lambda_next is None
                                 else [reduced.lambda_next]]
    modal_inertia = np.r_[(reduced.embedding[:, 1:] ** 2 * m[:, None]).sum(axis=0),
                          [] if reduced.lambda_next is None else [m.mean()]]
    return np.sqrt(stiffness / modal_inertia)


def _band_resonances(reduced, eta):
    """(centres, half-widths, slowest, undamped) of the modes the band grid samples explicitly.

    centres are |Im lambda| in (0, eta] of the lightly damped poles (damping ratio below
    :data:`LIGHT_DAMPING_RATIO`) of the original and the reduced network, half-widths
    their |Re lambda| (an isolated resonance's -3 dB half-width); a network with more
    than :data:`POLE_DENSE_LIMIT` states contributes instead the electromechanical
    estimates of its k slowest modes, with half-width :data:`ESTIMATE_HALF_WIDTH`
    times the frequency. slowest is the smallest nonzero |lambda| found (eta if none);
    undamped the centres of poles with damping ratio below :data:`UNDAMPED_RATIO`, which
    are not among the centres.
    """
    centres, widths, magnitudes = [np.zeros(0)], [np.zeros(0)], [np.zeros(0)]
    estimated = False
    for model in (reduced.original, reduced):
        poles = network_poles(model)
        if poles is None:
            estimated = True
            continue
        if poles.size:
            # eps^(1/3): a zero pole of multiplicity up to 3 (an undamped network's drifting
            # centre of inertia is a Jordan block) splits by rounding to ~eps^(1/m).
            poles = poles[np.abs(poles) > np.finfo(float).eps ** (1 / 3) * max(1.0, np.abs(poles).max())]
        light = (poles.imag > 0) & (-poles.real < LIGHT_DAMPING_RATIO * np.abs(poles))
        centres.append(poles.imag[light])
        widths.append(np.abs(poles.real[light]))
        magnitudes.append(np.abs(poles))
    if estimated:
        omega = _electromechanical_frequencies(reduced)
        centres.append(omega)
        widths.append(ESTIMATE_HALF_WIDTH * omega)
        magnitudes.append(omega)
    centres, widths, magnitudes = (np.concatenate(x) for x in (centres, widths, magnitudes))
    in_band = centres <= eta
    undamped = in_band & (widths <= UNDAMPED_RATIO * centres)
    slowest = float(magnitudes.min()) if magnitudes.size else float(eta)
    return centres[in_band & ~undamped], widths[in_band & ~undamped], slowest, np.unique(centres[undamped])


def _log_grid(eta, slowest, points_per_decade):
    """eta 10^(-j / points_per_decade) for j = 0, 1, ... down to 10^-LOW_DECADES min(eta, slowest), ascending."""
    low = 10.0 ** -LOW_DECADES * min(eta, slowest)
    steps = max(int(np.ceil(np.log10(eta / low) * points_per_decade)), 1)
    return eta * 10.0 ** (-np.arange(steps, -1, -1) / points_per_decade)


def _band_grid(log_grid, eta, centres, widths, undamped):
    """The :func:`_log_grid` plus each resonance in the band and its half-widths.

    The log grid is anchored at eta, so that band errors of different reductions of one
    network sample the same frequencies there and can share what they compute of the
    original at them. Frequencies within 1e-6 relative of an undamped pole are dropped:
    the network matrix is (numerically) singular there.
    """
    around = np.concatenate([centres, centres - widths, centres + widths])
    grid = np.unique(np.concatenate([log_grid, around[(around > 0) & (around <= eta)]]))
    if undamped.size:
        grid = grid[np.abs(grid[:, None] / undamped[None, :] - 1.0).min(axis=1) > 1e-6]
    return grid


def _largest_local_maxima(values, count):
    """Indices of the ``count`` largest local maxima of a sampled curve (ends included)."""
    padded = np.r_[-np.inf, values, -np.inf]
    peaks = np.flatnonzero((values >= padded[:-2]) & (values >= padded[2:]))
    return peaks[np.argsort(values[peaks])[::-1][:count]]


def _positive_finite(name, value, what):
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = np.nan
    if not (np.isfinite(number) and number > 0):
        raise ValueError(f"{name} must be a positive, finite {what}; got {value!r}")
    return number


def _raise_largest_lower_bounds(reduced, grid, sampled_row, rows, refine):
    """Raise the "bounds" lower bound of ||T - That_k|| from Krylov subspaces at its largest maxima.

    ``rows`` maps the frequencies evaluated so far to their bounds (updated in place;
    ``sampled_row(w)`` evaluates a new one). At the :data:`REFINED_MAXIMA` largest local
    maxima of the lower bound, those at least :data:`CERTIFIED_FRACTION` of the largest,
    :func:`_krylov_lower_bound` replaces it where larger, each frequency's Krylov subspace
    started from the previous one's best vector. With ``refine``, that bound is then
    maximised (bounded scalar search to :data:`CERTIFIED_XATOL` relative in w) between
    the grid points either side of the largest.
    """
    vector = np.random.default_rng(0).standard_normal(reduced.original.n)
    raised = set()

    def raise_at(w):
        nonlocal vector
        row = sampled_row(w)
        if w not in raised:
            raised.add(w)
            value, vector = _krylov_lower_bound(reduced, w, vector)
            if value > row[0]:
                rows[w] = row = (value, *row[1:])
        return row[0]

    frequencies = np.array(sorted(rows))
    lower = np.array([rows[w][0] for w in frequencies])
    largest = _largest_local_maxima(lower, REFINED_MAXIMA)
    candidates = [float(w) for w in frequencies[largest[lower[largest] >= CERTIFIED_FRACTION * lower.max()]]]
    values = [raise_at(w) for w in candidates]
    if refine and candidates:
        peak = candidates[int(np.argmax(values))]
        below, above = grid[grid < peak], grid[grid > peak]
        lo, hi = (below.max() if below.size else peak), (above.min() if above.size else peak)
        if lo < hi:
            sopt.minimize_scalar(lambda w: -raise_at(float(w)), bounds=(lo, hi), method="bounded",
                                 options={"xatol": CERTIFIED_XATOL * hi, "maxiter": 30})


def band_error(reduced, eta=1.0, *, points_per_decade=POINTS_PER_DECADE, refine=True, method="auto",
               transfer_norms=None, solvers=None, lowrank=True):
    """sup_{0 < w <= eta} ||T(jw) - That_k(jw)|| with the low-rank error and Thm 3.8 bound.

    Parameters
    ----------
    reduced : ReducedNetwork
        With its original network.
    eta : float
        Band edge (rad/s), positive and finite.
    points_per_decade : float
        Density of the log-spaced part of the grid (positive).
    refine : bool
        Locally maximise the error around the :data:`REFINED_MAXIMA` largest local
        maxima of the grid (bounded scalar search between each one's neighbours, to
        about 1e-8 relative in w).
    method : {"auto", "dense", "splu", "gmres", "bounds"}
        How the error is obtained. Exact (:attr:`BandError.kind` "exact"): T(jw) x by
        dense LU (``auto`` for n <= 2000), sparse LU (``auto`` for power grids that
        keep their unreduced bus network,
        :attr:`~gridcoherence.models.network.NetworkModel.kron`, and above 2000 nodes
        for mean degree nnz(L) / n <= :data:`SPLU_DEGREE_LIMIT`: grid-like networks; it
        fills in on dense or random graphs) or GMRES preconditioned by the low-rank model plus
        Jacobi (for dense SBM-like graphs, whose degrees dominate L off the slow
        subspace; it stops at a preconditioned residual of 1e-8, so errors far below
        the band's sup are resolved only to about 1e-8 ||T||), then the spectral norms
        by ARPACK. Or ``"bounds"`` (``auto`` for the other networks above 2000 nodes;
        kind "bounds"): lower and upper bounds at every sampled frequency from the slow
        subspace, without any solve with G^{-1} + f L, O(n k^2) per frequency, the lower
        bound then raised towards the norm itself at its largest maxima from a Krylov
        subspace built with preconditioned GMRES solves (see Notes); needs lambda_{k+1}
        and a symmetric L.
    transfer_norms : dict, optional
        ||T(jw)|| of the original by frequency w, shared by the band errors of several
        reductions of one network (:class:`~gridcoherence.reduction.accuracy.AccuracyReference`
        holds one). The exact methods then also compute ||T(jw)|| at every frequency
        they sample, with the factorisation the error uses, unless the cache has it,
        store it there, and return it in :attr:`BandError.transfer_norm_bounds`.
    solvers : dict, optional
        Sparse LU factorisations of the original's network matrix by frequency w,
        shared in the same way: method "splu" takes those of its log-spaced grid
        frequencies from it and stores the ones it makes there (about 2 MB each on a
        10^4-bus grid; the resonances and the refinement, which other reductions
        seldom sample, are not kept).
    lowrank : bool
        Also obtain the low-rank model's error ||T - T_k|| (3.27) at every frequency:
        one more spectral norm per frequency for the exact methods (a third of their
        cost); with False :attr:`BandError.lowrank_error` is None. The bounds method
        gets it at no extra cost and always returns it.

    Returns
    -------
    BandError

    Raises
    ------
    ValueError
        ``eta`` (the band edge) or ``points_per_decade`` not positive and finite; an
        unknown ``method``; a reduced network without its original; ``"bounds"`` for a
        reduction without lambda_{k+1} or with a non-symmetric Laplacian.

    Notes
    -----
    The grid, the same rule for every band, so that a wider band never samples a
    narrower one's frequencies more coarsely:

    * log-spaced frequencies eta 10^(-j / ``points_per_decade``), j = 0, 1, ..., down to
      10^-2 min(eta, |lambda|_min), |lambda|_min the slowest nonzero pole found below
      (:data:`LOW_DECADES`): the same frequencies for every reduction of a network, as
      far down as both reach;
    * every resonance in the band, w = |Im lambda| and w +- |Re lambda|, of the
      lightly damped poles (damping ratio below :data:`LIGHT_DAMPING_RATIO`) of the
      original and of the reduced network. A sharp peak (half-width |Re lambda|) is
      then sampled at its centre and bracketed by its neighbours for the refinement.
      An undamped pole (damping ratio below :data:`UNDAMPED_RATIO`, e.g. a network
      without damping or governors) makes the error unbounded: it is reported in
      ``undamped_frequencies``, :attr:`BandError.sup_error` is inf, the grid keeps
      clear of it and nothing is refined.

    The poles are the eigenvalues of each network's realization, O(N^3) for N states,
    when N <= :data:`POLE_DENSE_LIMIT`. A larger network (f = c/s) contributes
    instead the electromechanical estimates sqrt(c lambda_i / v_i^T M v_i) of its
    modes i = 2..k+1 from the Laplacian eigenpairs the reduction already holds
    (O(n k)); its faster modes are then not sampled explicitly, so a sharp peak
    there may be underestimated.

    Per frequency: one factorisation (dense: O(n^3); sparse LU: up to fill-in;
    GMRES: none, O(nnz(L)) per iteration), then the two spectral norms by ARPACK on
    the error operators (dense SVD for n <= 400), a few dozen solves each. The grid
    has about ``points_per_decade`` log10(eta / |lambda|_min) + 3 (resonances)
    frequencies, the refinement adds up to 3 x 60 (typically 3 x 25).

    The bounds (method ``"bounds"``) use the structure behind (3.27)-(3.28). With K =
    G^{-1}(jw) + f(jw) L (complex symmetric for symmetric L), V = V_k, Z an
    orthonormal basis of its complement, K_VV = V^T K V and c = Z^T K V K_VV^{-1},
    block elimination gives V^T T V = K_VV^{-1} + c S^{-1} c^T, Z^T T V = -S^{-1} c,
    Z^T T Z = S^{-1} with the Schur complement S = Z^T K Z - Z^T K V K_VV^{-1} V^T K Z.
    For a unit y, y^H Z^T K Z y = sum_i g_i^{-1} |(Z y)_i|^2 + f (Zy)^T L (Zy) lies in
    the convex hull of g_i^{-1} + f lambda, lambda in [lambda_{k+1}, lambda_max]
    (Z y is orthogonal to the k slowest eigenvectors; lambda_max is bounded by the
    largest absolute row sum of L), so ||S^{-1}|| <= 1 / (d - ||Z^T K V||^2
    ||K_VV^{-1}||) with d the distance of that hull from 0 (inf when not positive).
    With ||[[A, B], [C, D]]|| <= the largest eigenvalue of [[||A||, b], [b, ||D||]]
    (b bounding ||B|| and ||C||), this bounds ||T - T_k|| and, with That_k = P
    T_red P^T split along V and Z, ||T - That_k|| and ||T|| from above, all from n x k
    products: exact where the slow eigenvectors are (to the eigensolver's residual).
    The lower bounds are Rayleigh quotients: for any v, x = K v gives T x = v exactly,
    so ||T - That_k|| >= ||v - That_k x|| / ||x||; v is the best vector of the span of
    V, the cluster indicators and :data:`BOUNDS_KRYLOV_VECTORS` Krylov vectors of L
    (O(n m^2), m <= 2k + 12), at the grid's largest maxima of the upper bound and the
    refined ones; elsewhere ``error`` holds the cheaper bound from the (V, V) block
    alone, often 0. The refinement maximises the upper bound.
    At the :data:`REFINED_MAXIMA` largest maxima of the lower bound (those within
    :data:`CERTIFIED_FRACTION` of the largest) a Krylov subspace of
    (T - That_k)^H (T - That_k) raises it further (:func:`_krylov_lower_bound`): each
    vector x solves K y = x by GMRES preconditioned by the low-rank model plus Jacobi,
    O(nnz(L)) per iteration, and keeps x' = K y, so that T x' = y exactly; the best
    ratio ||(T - That_k) x|| / ||x|| over the span of the x' is then a lower bound
    whatever the solver's accuracy, and it converges to ||T - That_k|| at that
    frequency (to 1e-6 of the dense norm or better on SBMs up to 2,000 nodes, within
    :data:`KRYLOV_STEPS` solves). With ``refine`` this bound is then maximised between
    the grid points either side of its largest value.

    What is certified: at every sampled frequency, ``error`` <= ||T(jw) - That_k(jw)||
    <= ``error_upper``, so the sampled sup lies between :attr:`BandError.sup_error`
    and :attr:`BandError.sup_error_upper`; :attr:`BandError.sup_error` is also a lower
    bound of the sup over the whole band. Between samples nothing is bounded (no
    Lipschitz or residual argument over the continuous band): that the sampled
    :attr:`BandError.sup_error_upper` bounds the band's sup rests, as for the exact
    methods, on the grid around the resonances and the refinement of the upper
    bound's maxima. The bounds are tight when the cluster indicators are close to
    span(V_k) and the fast modes behave like 1 / (g^{-1} + f lambda_{k+1}) (SBMs of
    degree 30, k = 10: upper / lower below 1.35 from 2,000 to 10^5 nodes, the upper
    bound's looseness being at the band edge, where the (V, Z) blocks of the error
    are comparable); on power grids, whose lambda_{k+1} is small, they are wider and
    the upper bound can be inf.
    """
    original = _original(reduced, "band_error")
    eta = _positive_finite("band edge eta", eta, "frequency in rad/s (the band is |w| <= eta)")
    points_per_decade = _positive_finite("points_per_decade", points_per_decade, "number")
    if method == "auto":
        n, nnz = original.n, original.laplacian.nnz
        if original.solves_unreduced:
            method = "splu"
        else:
            method = "dense" if n <= BAND_DENSE_LIMIT else ("splu" if nnz <= SPLU_DEGREE_LIMIT * n else "bounds")
    elif method not in _METHODS:
        raise ValueError(f"unknown method {method!r}; use 'auto', 'dense', 'splu', 'gmres' or 'bounds'")
    centres, widths, slowest, undamped = _band_resonances(reduced, eta)
    log_grid = _log_grid(eta, slowest, points_per_decade)  # the frequencies other reductions sample too
    grid = _band_grid(log_grid, eta, centres, widths, undamped)
    subspace = _slow_subspace(reduced) if method == "bounds" else None
    objective = 1 if method == "bounds" else 0  # the bounds' refinement maximises the upper bound
    rows, sampled_at, starts = {}, set(), {}  # starts: each norm's singular vector at the last frequency

    def errors(w, sampled=False, keep=False):
        if w not in rows or (sampled and w not in sampled_at):
            if subspace is None:
                rows[w] = _exact_at(reduced, w, method, transfer_norms, lowrank, solvers if keep else None, starts)
            else:
                rows[w] = _bounds_at(reduced, subspace, w, sampled)
                if sampled:
                    sampled_at.add(w)
        return rows[w]

    shared = set(log_grid.tolist())
    on_grid = np.array([errors(float(w), keep=w in shared)[objective] for w in grid])
    largest = _largest_local_maxima(on_grid, REFINED_MAXIMA)
    peaks = [float(grid[i]) for i in largest]
    if refine and not undamped.size:  # with undamped poles the sup is inf: nothing to refine
        for i in largest:
            if not np.isfinite(on_grid[i]):  # an unbounded upper bound: nothing to maximise
                continue
            lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, grid.size - 1)]
            found = sopt.minimize_scalar(lambda w: -errors(float(w))[objective], bounds=(lo, hi), method="bounded",
                                         options={"xatol": 1e-12 * hi, "maxiter": 60})
            peaks.append(float(found.x))
    if method == "bounds":  # the sampled lower bounds, at the peaks of the upper bound
        for w in peaks:
            errors(w, sampled=True)
        if not undamped.size:
            _raise_largest_lower_bounds(reduced, grid, lambda w: errors(w, sampled=True), rows, refine)
    w = np.array(sorted(rows))
    values = np.array([rows[x] for x in w])
    if np.isnan(values).any() or not np.all(np.isfinite(values[:, [0, 2]])):
        raise ArithmeticError("the band error evaluation produced non-finite values")
    lowrank_kept = lowrank or method == "bounds"
    return BandError(eta, w, values[:, 0], values[:, 1], values[:, 2] if lowrank_kept else None,
                     values[:, 3] if lowrank_kept else None, values[:, 4], method,
                     int(grid.size), np.sort(centres), undamped,
                     values[:, 5:7].copy() if values.shape[1] == 7 else None)
