"""Features of a step response: nadir and its time, RoCoF, settling time, steady state.

The second stage of :func:`~gridcoherence.report.compare.compare_step_responses`: from a
group output y_I sampled on a uniform grid together with its exact derivatives (see
:class:`~gridcoherence.report.responses.LiftedNetwork`),

* :func:`hermite_extreme` -- the largest |y| and its time, refined between the samples
  on the cubic Hermite interpolant of (y, dy/dt) (error O(h^4));
* :func:`settling_time` -- the last time y leaves a relative band around its limit;
* :func:`step_response_features` -- the table's feature columns of one output: nadir
  and its time, the largest rate of change of frequency (RoCoF, the extreme of dy/dt
  refined with d2y/dt2), the settling time and the steady state.

Only numpy: the functions work on plain arrays.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["hermite_extreme", "settling_time", "step_response_features"]


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
