"""Step responses in modal form and their features, exact and independent of any time grid.

The exact path of the feature columns of
:func:`~gridcoherence.report.compare.compare_step_responses`. A group output of an LTI
model x' = A x + b sigma(t), y = C x + d sigma(t) driven by a step of height h from rest
is, with A = V diag(lambda) V^{-1} and residues rho_k = h (C v_k)(w_k^T b) (w_k^T the rows
of V^{-1}),

    y(t) = y_c + r t + Re sum_k (rho_k / lambda_k) exp(lambda_k t),

with r the sum of the residues at lambda = 0 (nonzero only for outputs that ramp) and y_c
the constant term, the steady state when r = 0. So y, y' = r + Re sum rho_k exp(lambda_k
t) and y'' are known at every t, and the envelopes sum_k |c_k| exp(Re lambda_k t) of each
sum bound them from above.

* :class:`ModalStepResponse` -- that form, evaluated at any times;
* :func:`modal_features` -- the nadir and its time, the largest |dy/dt| (RoCoF) and the
  settling time of every group, with the reasons why any of them is not resolved.

How the features are found (:func:`modal_features`). An internal grid resolves every mode
that still matters: its step is at most 1/POINTS_PER_TIMESCALE of the shortest period
2 pi / |Im lambda| and of the shortest decay time 1 / |Re lambda| among the modes whose
contribution to y or y' is still above NEGLIGIBLE_RTOL of the group's scale, so it grows
as the fast modes die out. The search stops where the envelope proves that nothing later
can exceed what has been found (|y| <= |y_c| + sum |rho_k / lambda_k| exp(Re lambda_k t)),
or at the horizon. Every sign change of y' (y'') on the grid brackets a stationary point
of y (y'); each bracket whose samples plus the Taylor margin h^2 / 2 max|y''| could beat
the best value is refined by Brent's method on the exact derivative. The nadir is
therefore exact to rounding, not to a grid: the user's time grid only sets the horizon.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import scipy.linalg as la
from scipy.optimize import brentq

from .features import horizon_end_reason, ramp_reason

__all__ = ["ModalStepResponse", "modal_features"]

#: Grid points per shortest period 2 pi / |Im lambda| or decay time 1 / |Re lambda| of the
#: modes that still matter (a stationary point per grid interval at most, with margin).
POINTS_PER_TIMESCALE = 24
#: A mode whose contributions to y and y' are below this fraction of the group's scale
#: (sum of all contributions) no longer constrains the grid step.
NEGLIGIBLE_RTOL = 1e-10
#: The settling search resolves the modes whose contribution to y is above this fraction
#: of the band (smaller ones cannot move the crossing by more than that fraction of it).
SETTLING_RESOLUTION = 1e-6
#: Eigenvalues with |lambda| below this fraction of ||A||_1 are the pole at s = 0.
ZERO_EIGENVALUE_RTOL = 1e-9
#: Largest number of grid points times modes evaluated by one feature search (each entry
#: one complex exponential; ~0.5 s). A search that needs more is cut and flagged.
EVALUATION_BUDGET = 20_000_000
#: Grid points evaluated at once.
CHUNK_POINTS = 4096
#: Relative tolerance of the Brent refinements (in time).
REFINE_XTOL = 1e-13


class ModalStepResponse:
    """Group step responses y_g(t) = y_c + r t + Re sum_k (rho_gk / lambda_k) exp(lambda_k t).

    Parameters
    ----------
    eigenvalues : array_like, shape (K,)
        The nonzero eigenvalues lambda_k, one of each complex-conjugate pair (Im >= 0).
    residues : array_like, shape (groups, K)
        rho_gk times the step height; a pair's residue counted twice (its conjugate
        partner's contribution is the complex conjugate).
    constant, ramp : array_like, shape (groups,)
        y_c and r.

    Examples
    --------
    y(t) = -1 + e^{-t} (a first-order loss of one unit):

    >>> modal = ModalStepResponse([-1.0], [[-1.0]], [-1.0], [0.0])
    >>> float(modal.evaluate([0.0, 1.0])[1, 0]), float(-1.0 + np.exp(-1.0))
    (-0.6321205588285577, -0.6321205588285577)
    """

    def __init__(self, eigenvalues, residues, constant, ramp):
        self.eigenvalues = np.asarray(eigenvalues, dtype=complex)
        self.residues = np.atleast_2d(np.asarray(residues, dtype=complex))
        self.constant = np.asarray(constant, dtype=float)
        self.ramp = np.asarray(ramp, dtype=float)
        groups = self.constant.size
        if (self.eigenvalues.ndim != 1 or self.residues.shape != (groups, self.eigenvalues.size)
                or self.ramp.shape != (groups,)):
            raise ValueError(f"modal form of mismatched shapes: eigenvalues {self.eigenvalues.shape}, "
                             f"residues {self.residues.shape}, constant {self.constant.shape}, "
                             f"ramp {self.ramp.shape}")

    @classmethod
    def from_state_space(cls, A, b, C, d, step):
        """The modal form of the step response of x' = A x + b sigma, y = C x + d sigma.

        Parameters
        ----------
        A : ndarray, shape (n, n)
            Dense; at most one eigenvalue at 0 that the outputs see (a simple pole).
        b : ndarray, shape (n,)
        C : ndarray, shape (groups, n)
        d : ndarray, shape (groups,)
        step : float
            Step height.

        Returns
        -------
        ModalStepResponse

        Notes
        -----
        One dense eigendecomposition, O(n^3). The residues inherit the condition number of
        the eigenvector matrix; check the form against an independent response (as
        :func:`~gridcoherence.report.compare.compare_step_responses` does with
        :meth:`mismatch`) before trusting it.
        """
        C = np.atleast_2d(np.asarray(C, dtype=float))
        eigenvalues, V = la.eig(np.asarray(A, dtype=float))
        with warnings.catch_warnings():
            # An ill-conditioned V is judged by mismatch(), against exact values.
            warnings.simplefilter("ignore", la.LinAlgWarning)
            residues = step * (C @ V) * la.solve(V, np.asarray(b, dtype=float).astype(complex))[None, :]
        zero = np.abs(eigenvalues) <= ZERO_EIGENVALUE_RTOL * max(np.abs(A).sum(axis=0).max(), 1e-300)
        ramp = residues[:, zero].sum(axis=1).real
        constant = step * np.asarray(d, dtype=float) - (residues[:, ~zero] / eigenvalues[~zero]).sum(axis=1).real
        half = ~zero & (eigenvalues.imag >= 0.0)
        fold = np.where(eigenvalues[half].imag > 0.0, 2.0, 1.0)
        return cls(eigenvalues[half], residues[:, half] * fold, constant, ramp)

    def coefficients(self, derivative):
        """c_gk with y^(derivative)(t) = polynomial + Re sum_k c_gk exp(lambda_k t)."""
        return self.residues * self.eigenvalues ** (derivative - 1)

    def polynomial(self, t, derivative):
        """The y_c + r t part of y^(derivative) at ``t``, shape (len(t), groups)."""
        t = np.asarray(t, dtype=float)[:, None]
        if derivative == 0:
            return self.constant + self.ramp * t
        slope = self.ramp if derivative == 1 else np.zeros_like(self.ramp)
        return np.repeat(slope[None, :], t.shape[0], axis=0)

    def evaluate(self, t, derivative=0):
        """y^(derivative) of every group at the times ``t``, shape (len(t), groups)."""
        t = np.atleast_1d(np.asarray(t, dtype=float))
        waves = np.exp(np.outer(t, self.eigenvalues))
        return self.polynomial(t, derivative) + (waves @ self.coefficients(derivative).T).real

    def at(self, g, derivative):
        """The scalar function t -> y_g^(derivative)(t) (for root finding)."""
        coefficients, lam = self.coefficients(derivative)[g], self.eigenvalues
        offset = self.ramp[g] if derivative == 1 else 0.0
        if derivative == 0:
            return lambda s: self.constant[g] + self.ramp[g] * s + float((np.exp(lam * s) @ coefficients).real)
        return lambda s: offset + float((np.exp(lam * s) @ coefficients).real)

    def scale(self, derivative):
        """sum_k |c_gk| (+ |y_c| or |r|): the size of y^(derivative) near t = 0, shape (groups,)."""
        total = np.abs(self.coefficients(derivative)).sum(axis=1)
        if derivative == 0:
            return total + np.abs(self.constant)
        return total + (np.abs(self.ramp) if derivative == 1 else 0.0)

    def mismatch(self, derivatives, sizes, constant, ramp):
        """Relative error of the form, judged by exact values it must reproduce.

        Parameters
        ----------
        derivatives : ndarray, shape (J, groups)
            y^(j)(0+) for j = 1..J, i.e. step * C A^(j-1) b: the Markov parameters.
        sizes : ndarray, shape (J, groups)
            |step| |C| |A|^(j-1) |b| (elementwise absolute values): the size the rounding of
            those products is relative to, and the natural scale of y^(j).
        constant, ramp : ndarray, shape (groups,)
            The exact y_c and r (step times the Laurent coefficients at s = 0).

        Returns
        -------
        float
            The largest of: (|modal - exact| + eps * sum of the magnitudes of the modal
            terms) / size for the Markov parameters (the difference plus the rounding that
            summing the modal terms can make wherever it is evaluated); the ramp's
            difference over the size of y'; the constant's over the largest of |y_c|, the
            modal terms of y and the size of y' over the fastest |lambda|. ~1e-15 for a
            well-conditioned form; large when the
            eigenvectors are ill-conditioned (huge residues that cancel) or a slow mode
            was taken for the pole at s = 0.

        Examples
        --------
        A nearly defective A (a Jordan block split by 1e-12): the residues are ~1e12 and
        cancel to ~1, so y(t) keeps only ~4 digits:

        >>> import numpy as np, warnings
        >>> A = np.array([[-1.0, 1.0], [0.0, -1.0 - 1e-12]])
        >>> b, C = np.array([0.0, 1.0]), np.array([[1.0, 0.0]])
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")       # scipy notices the ill-conditioning too
        ...     modal = ModalStepResponse.from_state_space(A, b, C, np.zeros(1), 1.0)
        >>> powers = [np.eye(2), A, A @ A]
        >>> markov = np.array([C @ P @ b for P in powers])
        >>> sizes = np.array([np.abs(C) @ np.abs(P) @ np.abs(b) for P in powers])
        >>> bool(modal.mismatch(markov, sizes, np.array([1.0]), np.zeros(1)) > 1e-5)
        True

        Two well separated modes are exact to rounding:

        >>> well = ModalStepResponse.from_state_space(np.diag([-1.0, -2.0]), np.ones(2), C, np.zeros(1), 1.0)
        >>> markov = np.array([[1.0], [-1.0], [1.0]])
        >>> bool(well.mismatch(markov, np.abs(markov), np.array([1.0]), np.zeros(1)) < 1e-14)
        True
        """
        eps = np.finfo(float).eps
        derivatives, sizes = np.atleast_2d(derivatives), np.atleast_2d(sizes)

        def relative(difference, size):
            size = float(np.max(size))
            return float(np.max(difference)) / size if size > 0.0 else 0.0

        # y' over the fastest rate is a size of y, for constants that are zero but for rounding.
        fastest = float(np.abs(self.eigenvalues).max()) if self.eigenvalues.size else 1.0
        worst = relative(np.abs(self.constant - constant),
                         np.r_[np.abs(constant), self.scale(0), sizes[0] / fastest])
        worst = max(worst, relative(np.abs(self.ramp - ramp), sizes[0]))
        for j, (exact, size) in enumerate(zip(derivatives, sizes), start=1):
            modal = self.polynomial([0.0], j)[0] + self.coefficients(j).sum(axis=1).real
            worst = max(worst, relative(np.abs(modal - exact) + eps * self.scale(j), size))
        return worst

    def dominant_periods(self, share=0.1):
        """Per group, the shortest period 2 pi / Im lambda among the oscillatory modes whose
        contribution to y or y' is at least ``share`` of the largest; ``inf`` if none."""
        periods = np.full(self.constant.size, np.inf)
        if not self.eigenvalues.size:
            return periods
        oscillatory = self.eigenvalues.imag > 0.0
        for g in range(self.constant.size):
            large = np.zeros(self.eigenvalues.size, dtype=bool)
            for derivative in (0, 1):
                size = np.abs(self.coefficients(derivative)[g])
                large |= size >= share * size.max()
            chosen = large & oscillatory
            if chosen.any():
                periods[g] = 2.0 * math.pi / self.eigenvalues.imag[chosen].max()
        return periods

    def _alive_times(self, levels):
        """Per mode, the time after which |c_gk| exp(Re lambda_k t) < levels[j][g] for every
        group g and every derivative j in ``levels`` (a dict j -> array of groups)."""
        sigma = self.eigenvalues.real
        alive = np.zeros(self.eigenvalues.size)
        for derivative, level in levels.items():
            ratio = np.abs(self.coefficients(derivative)) / np.maximum(level, 1e-300)[:, None]
            logs = np.log(np.maximum(ratio.max(axis=0), 1.0))
            with np.errstate(divide="ignore", invalid="ignore"):
                times = np.where(sigma < 0.0, logs / np.abs(sigma), np.where(logs > 0.0, np.inf, 0.0))
            alive = np.maximum(alive, times)
        return alive

    def grid(self, t_start, t_end, max_points, levels=None):
        """Feature grid on [t_start, t_end] (both included), fine relative to the live modes.

        A mode is live while its contribution to some group's y or y' is above
        NEGLIGIBLE_RTOL of that group's :meth:`scale` (or above ``levels[j][g]`` for y^(j),
        a dict of arrays over the groups). Returns the times and whether ``max_points``
        cut it short of ``t_end``.
        """
        if levels is None:
            levels = {j: NEGLIGIBLE_RTOL * self.scale(j) for j in (0, 1)}
        lam = self.eigenvalues
        with np.errstate(divide="ignore"):
            timescale = np.minimum(np.where(lam.imag > 0.0, 2.0 * math.pi / np.abs(lam.imag), np.inf),
                                   np.where(lam.real < 0.0, 1.0 / np.abs(lam.real), np.inf))
        steps = timescale / POINTS_PER_TIMESCALE
        alive = self._alive_times(levels)
        edges = np.unique(np.r_[t_start, alive[(alive > t_start) & (alive < t_end)], t_end])
        pieces, count, start = [], 0, float(t_start)
        for lo, hi in zip(edges[:-1], edges[1:]):
            live = alive > lo
            if not live.any():  # nothing left to resolve: the segment's ends suffice
                pieces.append(np.array([start]))
                count, start = count + 1, max(start, hi)
                continue
            h = float(steps[live].min())
            n = max(1, math.ceil((hi - start) / h))
            if count + n > max_points:
                pieces.append(start + h * np.arange(max(max_points - count, 1)))
                return np.concatenate(pieces), True
            pieces.append(start + h * np.arange(n))
            count, start = count + n, start + h * n
            if start >= t_end:
                break
        times = np.concatenate(pieces + [np.array([t_end])])
        return times[np.r_[np.diff(times) > 0.0, True]], False


def _chunks(times):
    """Pieces of the grid overlapping by one point, so that brackets span pieces."""
    for i0 in range(0, max(len(times) - 1, 1), CHUNK_POINTS):
        yield times[i0:i0 + CHUNK_POINTS + 1]


def _root(f, lo, hi):
    """A root of f in [lo, hi] by Brent's method; the endpoint of smaller |f| when rounding
    left f with one sign at both ends (a root at an endpoint)."""
    f_lo, f_hi = f(lo), f(hi)
    if f_lo == 0.0 or f_hi == 0.0 or (f_lo > 0.0) == (f_hi > 0.0):
        return lo if abs(f_lo) <= abs(f_hi) else hi
    return brentq(f, lo, hi, xtol=REFINE_XTOL * max(hi, 1.0), rtol=4.0 * np.finfo(float).eps)


class _Extremes:
    """Largest |f| of every group over a scanned grid, f = y^(derivative): samples and brackets.

    A bracket is a grid interval on which f' changes sign (a stationary point of f inside);
    its bound max |f(samples)| + h^2 / 2 max|f''| (Taylor about the stationary point, f''
    bounded by its envelope) says whether refining it could beat the best sample.
    """

    def __init__(self, modal, derivative):
        self.modal, self.derivative = modal, derivative
        groups = modal.constant.size
        self.best = np.full(groups, -1.0)
        self.best_time = np.zeros(groups)
        self.brackets = [[] for _ in range(groups)]

    def scan(self, times, values, slopes, curvature_bound, active):
        """Record the samples and brackets of one piece of the grid for the groups in ``active``."""
        h = np.diff(times)[:, None]
        size = np.abs(values)
        change = (slopes[:-1] > 0.0) != (slopes[1:] > 0.0)
        bound = np.maximum(size[:-1], size[1:]) + 0.5 * h**2 * np.maximum(curvature_bound[:-1], curvature_bound[1:])
        for g in np.flatnonzero(active):
            k = int(np.argmax(size[:, g]))
            if size[k, g] > self.best[g]:
                self.best[g], self.best_time[g] = size[k, g], times[k]
            rows = np.flatnonzero(change[:, g])
            if rows.size:
                self.brackets[g].append(np.c_[times[rows], times[rows + 1], bound[rows, g]])

    def refine(self, g):
        """Refine the brackets that could beat the best sample of group g; (value, time)."""
        f, slope = self.modal.at(g, self.derivative), self.modal.at(g, self.derivative + 1)
        best, best_time = self.best[g], self.best_time[g]
        if self.brackets[g]:
            brackets = np.concatenate(self.brackets[g])
            for lo, hi, bound in brackets[np.argsort(-brackets[:, 2])]:
                if bound < best:
                    break
                t_star = _root(slope, lo, hi)
                if abs(f(t_star)) > best:
                    best, best_time = abs(f(t_star)), t_star
        return f(best_time), best_time


def _envelope_time(coefficients, sigma, level):
    """First t >= 0 with sum_k |c_k| exp(sigma_k t) <= level, for one group.

    ``inf`` when the modes that do not decay (sigma_k >= 0) alone reach ``level``.
    """
    size = np.abs(coefficients)
    lasting = sigma >= 0.0
    room = level - size[lasting].sum()
    if room <= 0.0:
        return math.inf
    size, sigma = size[~lasting], sigma[~lasting]
    if size.sum() <= room:
        return 0.0
    upper = float(np.max(np.log(np.maximum(size * size.size / room, 1.0)) / -sigma))
    return _root(lambda s: float(size @ np.exp(sigma * s)) - room, 0.0, upper)


def modal_features(modal, horizon, band):
    """Nadir, nadir time, max RoCoF and settling time of every group, exact on [0, horizon].

    Parameters
    ----------
    modal : ModalStepResponse
    horizon : float
        End of the time window (s), > 0.
    band : float
        Relative settling band, 0 < band < 1.

    Returns
    -------
    list of (dict, list of str)
        Per group, the features ``nadir`` (the value of largest |y| over [0, horizon], sign
        kept), ``nadir_time``, ``max_rocof`` (largest |dy/dt|, t > 0) and
        ``settling_time``, and the reasons (sentences) why any of them is not resolved:
        empty when all are.

        * ``nadir_time`` is ``inf`` (and ``nadir`` the steady state) when |y| never exceeds
          its limit: the output approaches it without overshoot, and the window reaches the
          point where the envelope has decayed below NEGLIGIBLE_RTOL of the scale.
        * A nadir or RoCoF at the horizon end of an output that has not settled there is
          reported with a reason: a larger one may come later.
        * ``settling_time`` is the last time |y - y_c| exceeds ``band * |y_c|`` (``band``
          times |nadir| when y_c = 0), found on the whole time axis: ``inf`` when it lies
          beyond the horizon, and for an output that ramps or has undamped modes.

    Examples
    --------
    y(t) = -1 + e^{-0.3 t} (cos 2t + 0.15 sin 2t) overshoots: its nadir is where
    sin 2t = 0 after the first half period, at t = pi / 2:

    >>> import numpy as np
    >>> lam = -0.3 + 2.0j
    >>> modal = ModalStepResponse([lam], [[2.0 * lam * (0.5 - 0.075j)]], [-1.0], [0.0])
    >>> features, reasons = modal_features(modal, 60.0, 0.02)[0]
    >>> round(features["nadir"], 6), round(float(-1.0 - np.exp(-0.3 * np.pi / 2.0)), 6)
    (-1.624228, -1.624228)
    >>> round(features["nadir_time"], 9) == round(np.pi / 2.0, 9), reasons
    (True, [])
    """
    lam = modal.eigenvalues
    sigma = np.where(np.abs(lam.real) <= ZERO_EIGENVALUE_RTOL * np.abs(lam), 0.0, lam.real)
    groups = modal.constant.size
    coefficients = [np.abs(modal.coefficients(j)) for j in range(4)]
    scale = [modal.scale(0), modal.scale(1)]
    max_points = max(int(EVALUATION_BUDGET // max(lam.size, 1)), 2)
    # A group's envelopes decay when every mode it sees (above the negligible level) does.
    seen = coefficients[1] > NEGLIGIBLE_RTOL * np.maximum(scale[1], 1e-300)[:, None]
    decaying = ~np.any(seen & (sigma >= 0.0), axis=1)
    ramping = np.abs(modal.ramp) > NEGLIGIBLE_RTOL * scale[1]
    settles = decaying & ~ramping

    # Pass 1, on [0, horizon]: the largest |y| and |y'|. |y| <= |y_c| + E0(t) and
    # |y'| <= |r| + E1(t), non-increasing in t when the modes decay: once below the best
    # sample, nothing later can beat it.
    times, cut = modal.grid(0.0, horizon, max_points)
    extremes = [_Extremes(modal, 0), _Extremes(modal, 1)]
    limits = (np.abs(modal.constant), np.abs(modal.ramp))
    can_stop = (settles, decaying)
    done = np.zeros((2, groups), dtype=bool)
    for piece in _chunks(times):
        waves, envelope = np.exp(np.outer(piece, lam)), np.exp(np.outer(piece, sigma))
        values = [modal.polynomial(piece, j) + (waves @ modal.coefficients(j).T).real for j in range(3)]
        bounds = [envelope @ c.T for c in coefficients]
        for j in (0, 1):
            extremes[j].scan(piece, values[j], values[j + 1], bounds[j + 2], ~done[j])
            reach = limits[j] + bounds[j][-1]
            done[j] |= can_stop[j] & (reach <= np.maximum(extremes[j].best, limits[j] + NEGLIGIBLE_RTOL * scale[j]))
        if done.all():
            break
    end = piece[-1]

    results = []
    for g in range(groups):
        reasons = []
        nadir, nadir_time = extremes[0].refine(g)
        if done[0, g] and abs(nadir) <= limits[0][g] + NEGLIGIBLE_RTOL * scale[0][g]:
            nadir, nadir_time = modal.constant[g], math.inf
        elif ramping[g] and not cut:
            reasons.append(ramp_reason(end))
        elif not done[0, g] and nadir_time == end:
            reasons.append(_window_end_reason("nadir", end, cut))
        rate, rate_time = extremes[1].refine(g)
        if not done[1, g] and rate_time == end:
            reasons.append(_window_end_reason("max RoCoF", end, cut))
        features = {"nadir": float(nadir), "nadir_time": float(nadir_time), "max_rocof": abs(float(rate)),
                    "settling_time": math.inf}
        if settles[g]:
            features["settling_time"], reason = _settling_time(modal, g, sigma, horizon, band, abs(nadir),
                                                               max_points)
            if reason:
                reasons.append(reason)
        results.append((features, reasons))
    return results


def _window_end_reason(feature, end, cut):
    if cut:
        return (f"{feature} at t = {end:.6g} s, where the search stopped: its modes need more than "
                f"{EVALUATION_BUDGET:.0e} evaluations to cover the horizon")
    return horizon_end_reason(feature, end)


def _settling_time(modal, g, sigma, horizon, band, peak, max_points):
    """(settling time, reason or None) of group g: the last time |y - y_c| > band * size.

    Searched backwards from the time where the envelope of y - y_c falls below the band
    (nothing later can leave it); a crossing beyond the horizon means ``inf``.
    """
    y_c = modal.constant[g]
    tolerance = band * (abs(y_c) if abs(y_c) > 1e-9 * peak else peak)
    y, slope = modal.at(g, 0), modal.at(g, 1)

    def excess(s):
        return abs(y(s) - y_c) - tolerance

    if tolerance == 0.0 or excess(horizon) > 0.0:
        return (0.0 if tolerance == 0.0 else math.inf), None
    bound = _envelope_time(modal.coefficients(0)[g], sigma, tolerance)
    if bound in (0.0, math.inf):
        return bound, None
    # A little past the bound, where the envelope is below the band for sure (rounding); the
    # grid resolves the modes still above SETTLING_RESOLUTION of the band.
    others = np.full(modal.constant.size, np.inf)
    others[g] = SETTLING_RESOLUTION * tolerance
    times, cut = modal.grid(0.0, bound * (1.0 + 1e-6), max_points, levels={0: others})
    single = ModalStepResponse(modal.eigenvalues, modal.residues[g:g + 1], modal.constant[g:g + 1],
                               modal.ramp[g:g + 1])
    curvature = np.abs(modal.coefficients(2)[g])
    for piece in reversed(list(_chunks(times))):
        size = np.abs(single.evaluate(piece, 0)[:, 0] - y_c)
        slopes = single.evaluate(piece, 1)[:, 0]
        margin = 0.5 * np.diff(piece) ** 2 * (np.exp(np.outer(piece[:-1], sigma)) @ curvature)
        leaving = np.flatnonzero((size[:-1] > tolerance) & (size[1:] <= tolerance))
        # A stationary point between two samples inside the band may still poke out of it.
        hidden = np.flatnonzero(((slopes[:-1] > 0.0) != (slopes[1:] > 0.0)) & (size[:-1] <= tolerance)
                                & (size[1:] <= tolerance) & (np.maximum(size[:-1], size[1:]) + margin > tolerance))
        crossings = [_root(excess, piece[i], piece[i + 1]) for i in leaving]
        for i in hidden:
            t_star = _root(slope, piece[i], piece[i + 1])
            if excess(t_star) > 0.0:
                crossings.append(_root(excess, t_star, piece[i + 1]))
        if crossings:
            last = max(crossings)
            if last > horizon:
                return math.inf, None
            if cut:
                return last, (f"settling time searched only up to t = {times[-1]:.6g} s: the output may "
                              f"leave the band later (its modes need more than {EVALUATION_BUDGET:.0e} "
                              "evaluations)")
            return last, None
    return 0.0, None
