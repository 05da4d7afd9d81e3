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

from .._numeric import symmetric_operator_norm

__all__ = ["BandError", "band_error", "network_poles", "lowrank_transfer_matrix", "thm38_bound",
           "thm38_right_side"]

#: Networks up to this size have T(jw) formed densely (LAPACK) in :func:`band_error`.
BAND_DENSE_LIMIT = 2000

#: Mean degree (nnz(L) / n) up to which the band error factorises T(jw) by sparse LU.
SPLU_DEGREE_LIMIT = 32

_METHODS = ("dense", "splu", "gmres")

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
        ||T(jw) - That_k(jw)|| (structure-preserving model).
    lowrank_error : ndarray, shape (nw,)
        ||T(jw) - T_k(jw)|| (low-rank model (3.27)).
    bound : ndarray, shape (nw,)
        Thm 3.8 bound on the low-rank error, inf where the theorem does not apply.
    method : str
        How T(jw) x was applied: "dense", "splu" or "gmres".
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
    """

    eta: float
    frequencies: np.ndarray
    error: np.ndarray
    lowrank_error: np.ndarray
    bound: np.ndarray
    method: str
    grid_points: int
    resonances: np.ndarray
    undamped_frequencies: np.ndarray

    @property
    def sup_error(self):
        """sup_w ||T - That_k|| over the sampled band; inf with undamped poles in the band."""
        return np.inf if self.undamped_frequencies.size else float(self.error.max())

    @property
    def sup_lowrank_error(self):
        return float(self.lowrank_error.max())

    @property
    def worst_frequency(self):
        """The frequency (rad/s) of the peak :attr:`sup_error` (the slowest undamped pole if any)."""
        if self.undamped_frequencies.size:
            return float(self.undamped_frequencies.min())
        return float(self.frequencies[np.argmax(self.error)])

    def as_dict(self):
        return {"eta": self.eta, "sup_error": self.sup_error,
                "sup_lowrank_error": self.sup_lowrank_error,
                "worst_frequency": self.worst_frequency, "method": self.method,
                "grid_points": self.grid_points, "resonances": self.resonances,
                "undamped_frequencies": self.undamped_frequencies,
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


def _band_grid(eta, centres, widths, slowest, points_per_decade, undamped):
    """Log grid from 10^-LOW_DECADES min(eta, slowest) to eta plus each resonance and its half-widths.

    Frequencies within 1e-6 relative of an undamped pole are dropped: the network
    matrix is (numerically) singular there.
    """
    low = 10.0 ** -LOW_DECADES * min(eta, slowest)
    count = int(np.ceil(np.log10(eta / low) * points_per_decade)) + 1
    grid = np.logspace(np.log10(low), np.log10(eta), max(count, 2))
    grid[-1] = eta
    around = np.concatenate([centres, centres - widths, centres + widths])
    grid = np.unique(np.concatenate([grid, around[(around > 0) & (around <= eta)]]))
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


def band_error(reduced, eta=1.0, *, points_per_decade=POINTS_PER_DECADE, refine=True, method="auto"):
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

    Raises
    ------
    ValueError
        ``eta`` (the band edge) or ``points_per_decade`` not positive and finite; an
        unknown ``method``; a reduced network without its original.

    Notes
    -----
    The grid, the same rule for every band, so that a wider band never samples a
    narrower one's frequencies more coarsely:

    * ``points_per_decade`` log-spaced frequencies from 10^-2 min(eta, |lambda|_min)
      to eta, |lambda|_min the slowest nonzero pole found below (:data:`LOW_DECADES`);
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
    """
    original = _original(reduced, "band_error")
    eta = _positive_finite("band edge eta", eta, "frequency in rad/s (the band is |w| <= eta)")
    points_per_decade = _positive_finite("points_per_decade", points_per_decade, "number")
    if method == "auto":
        n, nnz = original.n, original.laplacian.nnz
        method = "dense" if n <= BAND_DENSE_LIMIT else ("splu" if nnz <= SPLU_DEGREE_LIMIT * n else "gmres")
    elif method not in _METHODS:
        raise ValueError(f"unknown method {method!r}; use 'auto', 'dense', 'splu' or 'gmres'")
    centres, widths, slowest, undamped = _band_resonances(reduced, eta)
    grid = _band_grid(eta, centres, widths, slowest, points_per_decade, undamped)
    rows = {}

    def errors(w):
        if w not in rows:
            rows[w] = _errors_at(reduced, w, method)
        return rows[w]

    sampled = np.array([errors(float(w))[0] for w in grid])
    if refine and not undamped.size:  # with undamped poles the sup is inf: nothing to refine
        for i in _largest_local_maxima(sampled, REFINED_MAXIMA):
            lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, grid.size - 1)]
            sopt.minimize_scalar(lambda w: -errors(float(w))[0], bounds=(lo, hi), method="bounded",
                                 options={"xatol": 1e-12 * hi, "maxiter": 60})
    w = np.array(sorted(rows))
    values = np.array([rows[x] for x in w])
    if not np.all(np.isfinite(values[:, :2])):
        raise ArithmeticError("the band error evaluation produced non-finite values")
    return BandError(eta, w, values[:, 0], values[:, 1], values[:, 2], method, int(grid.size), np.sort(centres),
                     undamped)
