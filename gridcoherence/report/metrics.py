"""Error metrics between a reference model and an approximation (Table 3-II's columns).

For the error system E = G - G_r (stable, SISO; poles on the imaginary axis that E does
not have are removed, see :func:`error_system`) driven by a step of height ``step``:

* L2 norm of the step-response error e(t), exact: with E(0) = 0 the error is
  e(t) = step * C A^{-1} e^{A t} B for t > 0, so ||e||_2^2 = step^2 C A^{-1} P A^{-T} C^T
  with P the controllability gramian of E (one Lyapunov equation, no time grid). A
  nonzero DC mismatch makes the L2 norm infinite.
* L-infinity norm of e(t): exact propagation e^{A h} on a uniform grid that resolves the
  fastest pole over the horizon where the slowest has decayed to 1e-12, then a bounded
  scalar optimiser around the largest samples, evaluating e(t) with ``expm``.
* H-infinity norm of E (SLICOT AB13DD through ``control.linfnorm``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import control
import numpy as np
import scipy.linalg as la
from scipy.optimize import minimize_scalar

from ..models.lti import as_continuous_statespace, dc_gain, stable_unstable_split

__all__ = ["StepErrorMetrics", "step_error_metrics", "error_system", "step_error_response"]


@dataclass(frozen=True)
class StepErrorMetrics:
    """Step-response and frequency-domain errors of an approximation.

    The names are the columns of :func:`gridcoherence.report.compare.compare_step_responses`.

    Attributes
    ----------
    l2_error : float
        ||e||_2 (units of the output times s^{1/2}); ``inf`` if the DC gains differ.
    linf_error : float
        max_t |e(t)|.
    linf_time : float
        Time of that maximum.
    hinf_error : float
        ||G - G_r||_inf.
    dc_error : float
        G(0) - G_r(0).
    """

    l2_error: float
    linf_error: float
    linf_time: float
    hinf_error: float
    dc_error: float

    def as_dict(self):
        """The metrics as a dict keyed by the attribute names."""
        return asdict(self)


#: Residues of E's poles on the imaginary axis below this, relative to ||C|| ||B||, are
#: rounding: those poles are not poles of E (hidden in both models, or cancelling).
HIDDEN_POLE_RTOL = 1e-9

#: Poles with Re >= -AXIS_ROUNDING eps max(1, ||A||_1) are on the imaginary axis to rounding.
AXIS_ROUNDING = 100.0


def error_system(reference, approximation):
    """E = reference - approximation as a StateSpace, both validated; E must be stable.

    A is block-diagonal, except when some pole has Re >= 0: then an ordered Schur form
    splits E = E_s + E_u, E_u holding the poles on the imaginary axis to rounding
    (Re >= -``AXIS_ROUNDING`` eps ||A||_1;
    :func:`~gridcoherence.models.lti.stable_unstable_split`), and E_s is returned when
    every residue of E_u is below ``HIDDEN_POLE_RTOL`` ||C|| ||B||: poles that are not
    E's, because u does not excite them or y does not see them in either model (two
    equal undamped machines swinging against each other behind a common neighbour),
    or because they cancel between the two models. Otherwise raises ``ValueError``.
    """
    reference = as_continuous_statespace(reference, "reference")
    approximation = as_continuous_statespace(approximation, "approximation")
    if (reference.noutputs, reference.ninputs) != (1, 1) or (approximation.noutputs, approximation.ninputs) != (1, 1):
        raise ValueError("step error metrics are defined here for SISO models")
    A = la.block_diag(reference.A, approximation.A)
    B = np.vstack([reference.B, approximation.B])
    C = np.hstack([reference.C, -approximation.C])
    D = reference.D - approximation.D
    poles = la.eigvals(A) if A.size else np.zeros(0)
    if np.any(poles.real >= 0):
        margin = AXIS_ROUNDING * np.finfo(float).eps * max(1.0, la.norm(A, 1))
        (A_s, B_s, C_s), (A_u, B_u, C_u) = stable_unstable_split(A, B, C, margin)
        values, V = la.eig(A_u)
        # Residue of each eigenvector: (C_u V)_i (V^{-1} B_u)_i (E_u semisimple; a Jordan
        # block's ill-conditioned V gives large residues and is kept), summed over the
        # eigenvalues within the margin: a pole of both models cancels in E.
        residues = (C_u @ V)[0] * la.solve(V, B_u)[:, 0]
        same = np.abs(values[:, None] - values[None, :]) <= margin
        seen = np.abs(same @ residues) > HIDDEN_POLE_RTOL * np.abs(C).sum() * np.abs(B).sum()
        if seen.any():
            pole = values[seen][np.argmax(values[seen].real)]
            raise ValueError(f"the two models' difference has a pole at {pole:.6g}, on the imaginary axis "
                             "to rounding or right of it, that its output sees; both models must be stable "
                             "to compare step responses")
        A, B, C = A_s, B_s, C_s
    return control.ss(A, B, C, D)


def _step_error_parts(E):
    """(A, B, c) with e(t) = c e^{A t} B for t > 0, and the DC error E(0)."""
    A, B, C, D = (np.asarray(x, dtype=float) for x in (E.A, E.B, E.C, E.D))
    c = la.solve(A.T, C.T).T  # C A^{-1}
    dc = float((D - c @ B)[0, 0])
    return A, B, c, dc


def step_error_response(reference, approximation, t, step=1.0):
    """e(t) = step response of (reference - approximation) at times ``t`` (exact, expm).

    The step is applied at t = 0; values at t >= 0 are right limits.
    """
    A, B, c, dc = _step_error_parts(error_system(reference, approximation))
    t = np.asarray(t, dtype=float)
    return step * np.array([dc + (c @ la.expm(A * ti) @ B).item() for ti in t.ravel()]).reshape(t.shape)


def _linf_step_error(A, B, c, dc):
    """sup_{t >= 0} |dc + c e^{At} B| by exact grid propagation and local refinement."""
    poles = la.eigvals(A)
    slowest = np.min(-poles.real)
    fastest = np.max(np.abs(poles))
    horizon = np.log(1e12) / slowest
    samples = int(np.clip(8 * horizon * fastest, 4000, 400000))
    h = horizon / samples
    propagator = la.expm(A * h)
    x = B[:, 0].copy()
    values = np.empty(samples + 1)
    for k in range(samples + 1):
        values[k] = c[0] @ x
        x = propagator @ x
    values += dc
    best_t, best = 0.0, abs(values[0])
    # Refine around the few largest local maxima of |e| on the grid.
    magnitude = np.abs(values)
    interior = np.flatnonzero((magnitude[1:-1] >= magnitude[:-2]) & (magnitude[1:-1] >= magnitude[2:])) + 1
    for k in interior[np.argsort(magnitude[interior])[::-1][:5]]:
        result = minimize_scalar(
            lambda t: -abs(dc + (c @ la.expm(A * t) @ B).item()),
            bounds=((k - 1) * h, (k + 1) * h), method="bounded", options={"xatol": 1e-10 * horizon},
        )
        if -result.fun > best:
            best, best_t = -result.fun, float(result.x)
    if abs(values[-1]) > best:
        best, best_t = abs(values[-1]), horizon
    return best, best_t


def step_error_metrics(reference, approximation, step=1.0):
    """L2, L-infinity (step-response error) and H-infinity (transfer function) errors.

    Parameters
    ----------
    reference, approximation : control.StateSpace or TransferFunction
        Stable continuous-time SISO models.
    step : float
        Step height (Table 3-II uses 1 p.u.).

    Returns
    -------
    StepErrorMetrics

    Notes
    -----
    Cost O(n^3) for the gramian, expm and AB13DD with n the sum of both orders, plus
    O(n^2 N) for the N-sample grid (N <= 4e5, set by the ratio of the fastest to the
    slowest pole). A DC error above 1e-12 relative gives ``l2_error = inf``.

    Examples
    --------
    >>> import control
    >>> g = control.tf([1.0], [1.0, 1.0])
    >>> r = step_error_metrics(g, control.tf([2.0], [1.0, 2.0]))
    >>> round(r.l2_error, 6), round(r.linf_error, 6), round(r.hinf_error, 6)
    (0.288675, 0.25, 0.333333)
    """
    step = float(step)
    if not np.isfinite(step):
        raise ValueError(f"step must be finite, got {step!r}")
    E = error_system(reference, approximation)
    A, B, c, dc = _step_error_parts(E)
    reference = as_continuous_statespace(reference, "reference")
    reference_dc = abs(float(dc_gain(reference.A, reference.B, reference.C, reference.D)[0, 0]))
    if abs(dc) > 1e-12 * max(reference_dc, 1e-300):
        l2 = np.inf
    else:
        P = la.solve_continuous_lyapunov(A, -B @ B.T)
        l2 = abs(step) * np.sqrt(max((c @ P @ c.T).item(), 0.0))
    linf, linf_time = _linf_step_error(A, B, c, dc)
    hinf = float(control.linfnorm(E)[0])
    for name, value in (("l2_error", l2), ("linf_error", linf), ("hinf_error", hinf)):
        if np.isnan(value):
            raise ArithmeticError(f"{name} came out NaN")
    return StepErrorMetrics(l2_error=float(l2), linf_error=float(abs(step) * linf), linf_time=float(linf_time),
                            hinf_error=hinf, dc_error=dc)
