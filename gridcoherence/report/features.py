"""Features of a sampled step response: nadir and its time, RoCoF, settling time, steady state.

The second stage of :func:`~gridcoherence.report.compare.compare_step_responses` for the
responses known only at the samples of the time grid (sampled models, and networks too
large or too ill-conditioned for the exact modal path of
:mod:`~gridcoherence.report.modal`): from a group output y_I sampled on a uniform grid
together with its derivatives (exact, see
:class:`~gridcoherence.report.responses.LiftedNetwork`, or finite differences),

* :func:`hermite_extreme` -- the largest |y| and its time, refined between the samples
  on the cubic Hermite interpolant of (y, dy/dt) (error O(h^4));
* :func:`settling_time` -- the last time y leaves a relative band around its limit;
* :func:`step_response_features` -- the table's feature columns of one output: nadir
  and its time, the largest rate of change of frequency (RoCoF, the extreme of dy/dt
  refined with d2y/dt2), the settling time and the steady state;
* :func:`curvature_mismatch`, :func:`sampled_feature_reasons` -- whether the grid resolves
  the response: the reasons, as sentences, why its sampled features cannot be trusted;
  :func:`horizon_end_reason` and :func:`ramp_reason` are the two sentences the exact path
  of :mod:`~gridcoherence.report.modal` shares with them.

Only numpy: the functions work on plain arrays.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["hermite_extreme", "settling_time", "step_response_features", "curvature_mismatch",
           "sampled_feature_reasons", "horizon_end_reason", "ramp_reason"]

#: Fewest samples per period of the reference's dominant oscillation for which sampled
#: features count as resolved (the largest sample then lies within 1 - cos(pi / 10) ~ 5 %
#: of the amplitude from the peak before refinement).
SAMPLES_PER_PERIOD = 10
#: Largest relative mismatch between the exact d2y/dt2 at the samples and that of the
#: cubic Hermite interpolant of (y, dy/dt): the mismatch of a sinusoid sampled
#: SAMPLES_PER_PERIOD times per period, (2 pi / SAMPLES_PER_PERIOD)^2 / 12.
CURVATURE_RTOL = (2.0 * math.pi / SAMPLES_PER_PERIOD) ** 2 / 12.0
#: Relative rounding of the samples assumed by :func:`curvature_mismatch`.
CURVATURE_NOISE = 1e-10
#: Relative size (of max |y|) below which sample-to-sample changes count as rounding
#: when deciding whether a sampled response is monotone.
MONOTONE_RTOL = 1e-9


def hermite_extreme(t, y, rate):
    """Value (sign kept) and time of the largest |y|, refined on the cubic Hermite interpolant.

    y and dy/dt at the samples determine a C^1 cubic on each interval whose error is
    O(h^4 |y''''|); the stationary points of the cubics on either side of the largest
    sample are compared with it.

    Parameters
    ----------
    t : ndarray, shape (nt,)
        Increasing sample times.
    y, rate : ndarray, shape (nt,)
        The signal and its exact derivative at ``t``.

    Returns
    -------
    value, time : float

    Examples
    --------
    >>> import numpy as np
    >>> t = np.linspace(0.0, 3.0, 7)           # samples 0.5 s apart; the peak is at pi/2
    >>> value, time = hermite_extreme(t, np.sin(t), np.cos(t))
    >>> round(float(np.sin(1.5)), 4), round(value, 4), round(time, 2)
    (0.9975, 1.0, 1.57)
    """
    k = int(np.argmax(np.abs(y)))
    best_value, best_time = float(y[k]), float(t[k])
    for i in (k - 1, k):
        if i < 0 or i + 1 >= t.size:
            continue
        h = t[i + 1] - t[i]
        y0, y1, d0, d1 = y[i], y[i + 1], rate[i] * h, rate[i + 1] * h
        # p(s) = y0 + d0 s + c2 s^2 + c3 s^3 on s in [0, 1].
        c2, c3 = 3.0 * (y1 - y0) - 2.0 * d0 - d1, 2.0 * (y0 - y1) + d0 + d1
        for s in np.roots([3.0 * c3, 2.0 * c2, d0]):
            if abs(s.imag) < 1e-12 and 0.0 < s.real < 1.0:
                s = s.real
                value = y0 + d0 * s + c2 * s**2 + c3 * s**3
                if abs(value) > abs(best_value):
                    best_value, best_time = float(value), float(t[i] + s * h)
    return best_value, best_time


def settling_time(t, y, steady_state, band):
    """Last time |y - y_ss| leaves ``band * |y_ss|``, linearly interpolated between samples.

    The band is ``band * max|y|`` when y_ss is zero (below 1e-9 max|y|).

    Parameters
    ----------
    t : ndarray, shape (nt,)
    y : ndarray, shape (nt,)
    steady_state : float
        The limit y_ss of y (finite).
    band : float
        Relative half-width of the band.

    Returns
    -------
    float
        0 if y never leaves the band, ``inf`` if it is still outside at ``t[-1]``.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.linspace(0.0, 10.0, 1001)
    >>> round(settling_time(t, 1.0 - np.exp(-t), 1.0, 0.02), 3), round(float(np.log(50.0)), 3)
    (3.912, 3.912)
    >>> settling_time(t, 1.0 - np.exp(-t), 1.0, 1e-6)
    inf
    """
    peak = float(np.max(np.abs(y)))
    tolerance = band * (abs(steady_state) if abs(steady_state) > 1e-9 * peak else peak)
    excess = np.abs(y - steady_state) - tolerance
    outside = np.flatnonzero(excess > 0)
    if outside.size == 0:
        return 0.0
    i = int(outside[-1])
    if i == t.size - 1:
        return math.inf
    return float(t[i] + (t[i + 1] - t[i]) * excess[i] / (excess[i] - excess[i + 1]))


def step_response_features(t, y, rate, acceleration, steady_state, band):
    """The feature columns of one step response (one group of one model).

    Parameters
    ----------
    t : ndarray, shape (nt,)
        Uniform grid from 0.
    y, rate, acceleration : ndarray, shape (nt,)
        The output and its first two derivatives at ``t`` (exact, or finite differences
        for sampled models).
    steady_state : float
        lim y(t); ``+-inf`` for an output that ramps.
    band : float
        Relative settling band, 0 < band < 1.

    Returns
    -------
    dict
        ``nadir`` and ``nadir_time`` (:func:`hermite_extreme` of y), ``max_rocof`` (the
        largest |dy/dt|, refined with the acceleration), ``settling_time``
        (:func:`settling_time`; ``inf`` for a diverging output, which never enters a band
        around its limit) and ``steady_state``.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.linspace(0.0, 20.0, 2001)
    >>> y = -(1.0 - np.exp(-t))                 # -1 + e^{-t}: no overshoot
    >>> features = step_response_features(t, y, -np.exp(-t), np.exp(-t), -1.0, 0.02)
    >>> {key: round(value, 3) for key, value in features.items()}
    {'nadir': -1.0, 'nadir_time': 20.0, 'max_rocof': 1.0, 'settling_time': 3.912, 'steady_state': -1.0}
    """
    nadir, nadir_time = hermite_extreme(t, y, rate)
    steady_state = float(steady_state)
    settling = settling_time(t, y, steady_state, band) if math.isfinite(steady_state) else math.inf
    return {"nadir": nadir, "nadir_time": nadir_time,
            "max_rocof": abs(hermite_extreme(t, rate, acceleration)[0]),
            "settling_time": settling, "steady_state": steady_state}


def curvature_mismatch(t, y, rate, acceleration):
    """How far the grid is from resolving y: exact d2y/dt2 against the Hermite interpolant's.

    The cubic Hermite interpolant of (y, dy/dt) on each interval has second derivatives
    (6 (y1 - y0) / h - 4 y0' - 2 y1') / h and (-6 (y1 - y0) / h + 2 y0' + 4 y1') / h at its
    ends; their largest difference from the exact d2y/dt2, relative to max |d2y/dt2|, is
    ~(h w)^2 / 12 for a sinusoid of frequency w and O(1) on a grid that misses the dynamics.
    Differences below what a relative rounding of CURVATURE_NOISE in the samples makes of
    those formulas count as 0.

    Parameters
    ----------
    t : ndarray, shape (nt,)
        Uniform grid, nt >= 2.
    y, rate, acceleration : ndarray, shape (nt,)
        The signal and its exact first two derivatives at ``t``.

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> fine, coarse = np.linspace(0.0, 20.0, 401), np.linspace(0.0, 20.0, 5)   # h = 0.05 s, 5 s
    >>> round(curvature_mismatch(fine, np.sin(fine), np.cos(fine), -np.sin(fine)), 6), round(0.05**2 / 12, 6)
    (0.000208, 0.000208)
    >>> curvature_mismatch(coarse, np.sin(coarse), np.cos(coarse), -np.sin(coarse)) > CURVATURE_RTOL
    True
    """
    h = t[1] - t[0]
    secant = 6.0 * np.diff(y) / h
    left = (secant - 4.0 * rate[:-1] - 2.0 * rate[1:]) / h
    right = (-secant + 2.0 * rate[:-1] + 4.0 * rate[1:]) / h
    difference = max(np.abs(left - acceleration[:-1]).max(), np.abs(right - acceleration[1:]).max())
    # What rounding in the samples makes of those formulas (a ramp has d2y/dt2 = 0).
    noise = CURVATURE_NOISE * 6.0 * (np.abs(y).max() / h**2 + np.abs(rate).max() / h)
    if difference <= noise:
        return 0.0
    return float(difference / max(np.abs(acceleration).max(), noise))


def sampled_feature_reasons(t, y, features, *, period=math.inf, mismatch=0.0):
    """Why the sampled features of one response are not resolved on ``t``: sentences, empty if they are.

    Parameters
    ----------
    t : ndarray, shape (nt,)
        Uniform grid.
    y : ndarray, shape (nt,)
        The sampled output.
    features : dict
        Its :func:`step_response_features`.
    period : float
        The period (s) of the reference's dominant oscillation in this group, if known: a
        grid step above ``period / SAMPLES_PER_PERIOD`` does not resolve it.
    mismatch : float
        :func:`curvature_mismatch` of the response (or of the reference's, for a response
        without exact derivatives); above CURVATURE_RTOL the grid does not resolve it.

    Returns
    -------
    list of str

    Examples
    --------
    >>> import numpy as np
    >>> t = np.linspace(0.0, 20.0, 5)                  # 5 s steps on a 2 s oscillation
    >>> y = -1.0 + np.exp(-0.1 * t) * np.cos(np.pi * t)
    >>> features = step_response_features(t, y, np.gradient(y, t), np.zeros(5), y[-1], 0.02)
    >>> for reason in sampled_feature_reasons(t, y, features, period=2.0):
    ...     print(reason)
    the grid step 5 s is coarser than 1/10 of the 2 s period of the reference's dominant oscillation
    """
    h = float(t[1] - t[0])
    reasons = []
    if h > period / SAMPLES_PER_PERIOD:
        reasons.append(f"the grid step {h:.3g} s is coarser than 1/{SAMPLES_PER_PERIOD} of the {period:.3g} s "
                       "period of the reference's dominant oscillation")
    if mismatch > CURVATURE_RTOL:
        reasons.append(f"the grid step {h:.3g} s does not resolve the response (the cubic interpolant's "
                       f"curvature misses the exact one by {mismatch:.0%} of its size)")
    k = int(np.argmax(np.abs(y)))
    steps = np.diff(y)
    noise = MONOTONE_RTOL * float(np.abs(y).max())
    monotone = not (np.any(steps > noise) and np.any(steps < -noise))
    if math.isinf(features["steady_state"]):
        reasons.append(ramp_reason(t[-1]))
    elif k == t.size - 1 and math.isinf(features["settling_time"]):
        reasons.append(horizon_end_reason("nadir", t[-1]))
    elif k in (0, t.size - 1) and not monotone:
        reasons.append(f"nadir at the {'first' if k == 0 else 'last'} sample of a non-monotone response "
                       "(the grid is too coarse or the horizon too short)")
    return reasons


def horizon_end_reason(feature, end):
    """The sentence flagging a feature found at the horizon end ``end`` (s) of an unsettled output."""
    return f"{feature} at the horizon end t = {end:.6g} s (the response has not settled)"


def ramp_reason(end):
    """The sentence flagging the nadir of an output that ramps: the horizon end ``end`` (s) sets it."""
    return (f"nadir set by the horizon end t = {end:.6g} s (the output ramps, a pole at s = 0: "
            "the response has not settled)")
