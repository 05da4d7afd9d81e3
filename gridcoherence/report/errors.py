"""Error norms between a reference's and a model's group step responses.

The third stage of :func:`~gridcoherence.report.compare.compare_step_responses`: per node
group, the L2 and L-infinity norms of the step-response error and the H-infinity norm of
the difference of the group transfer functions u0 -> y_I (the error columns of Table
3-II), by one of two paths:

* :func:`exact_errors` -- small models: each group's SISO systems go to
  :func:`~gridcoherence.report.metrics.step_error_metrics` (infinite-horizon L2 from a
  Lyapunov equation, AB13DD H-infinity);
* :func:`sampled_errors` -- large, sampled or diverging models: L2 by the trapezoid rule
  over the time grid, L-infinity refined on the Hermite interpolant
  (:func:`~gridcoherence.report.features.hermite_extreme`), H-infinity by
  :func:`sampled_hinf`, a refined frequency sweep of
  :meth:`~gridcoherence.report.responses.LiftedNetwork.frequency_response` (sparse LU per
  frequency, or one eigendecomposition for large networks whose nodes are equal per unit
  inertia).

Both return a dict ``{"l2_error", "linf_error", "hinf_error"}`` of per-group arrays, the
table's column names.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize_scalar

from .features import hermite_extreme
from .metrics import step_error_metrics
from .responses import LiftedNetwork

__all__ = ["sampled_hinf", "sampled_errors", "exact_errors"]

#: Frequencies of the sampled H-infinity sweep (log-spaced over 8 decades below 10 ||A||_1).
HINF_GRID_POINTS = 160
HINF_DECADES = 8.0
#: Local maxima of the sampled H-infinity sweep that are refined.
HINF_PEAKS = 5
#: Networks from this many nodes search their H-infinity peaks on a local projection (see
#: :func:`sampled_hinf`); smaller ones, whose LU per frequency is cheap, exactly.
HINF_PROJECTION_MIN_NODES = 200
#: Searches per peak on the projection, each adding the exact solution at the peak it
#: found to the projection's samples (the second locates it to ~1e-9 relative in value).
HINF_PROJECTION_ROUNDS = 2

#: Relative distances from an undamped pole frequency at which the H-infinity sweep
#: checks whether the error transfer function has that pole (see :func:`sampled_hinf`).
UNDAMPED_OFFSETS = (1e-6, 1e-8)

#: Error next to an undamped pole below this fraction of the models' values there is
#: rounding (the pole is hidden in both models or cancels), not an unbounded error.
UNDAMPED_ROUNDING = 1e-6

#: Relative DC mismatch above which the sampled path reports an infinite L2 error (the
#: DC values come from sparse LU solves, so this is looser than the metric's 1e-12).
SAMPLED_DC_RTOL = 1e-9


def sampled_hinf(reference, model, dc_difference):
    """sup_w |G_ref(jw) - G_mod(jw)| per group on a log grid, refined around its local maxima.

    The grid spans HINF_DECADES decades below 10 max(||A||_1) (which bounds every pole's
    modulus) plus w = 0 (``dc_difference``, exact). Around each of the HINF_PEAKS largest local
    maxima a bounded scalar search in log10 w between the neighbouring grid points
    locates the peak to 1e-6 in log10 w, and the error there is evaluated exactly; for
    networks of at least :data:`HINF_PROJECTION_MIN_NODES` nodes the search runs on the
    Galerkin projection of the network on its solutions at the five nearest grid
    frequencies (exact there), searched again with the solution at the peak found added,
    so a peak costs two n x n solves, not one per step of the search. A lightly damped resonance (width 2 zeta w0,
    far narrower than the 0.05-decade spacing) still raises its neighbouring grid
    values above the background, so it is found; the result is a lower bound that can
    miss a resonance hidden in the tail of a larger neighbour in the same interval.
    Undamped resonances (poles on the imaginary axis, see
    :attr:`~gridcoherence.report.responses.LiftedNetwork.undamped_frequencies`) that do
    not cancel give ``inf``: the error grows like 1/distance towards w0 and, 1e-8 w0
    away, exceeds ``UNDAMPED_ROUNDING`` times the models' own values.

    Parameters
    ----------
    reference, model : LiftedNetwork
        The two models, on the same node groups.
    dc_difference : ndarray, shape (groups,)
        G_ref(0) - G_mod(0), or ``inf`` where it is unbounded.

    Returns
    -------
    ndarray, shape (groups,)
    """
    top = 10.0 * max(abs(m.A).sum(axis=0).max() for m in (reference, model))
    grid = np.logspace(np.log10(top) - HINF_DECADES, np.log10(top), HINF_GRID_POINTS)

    def error(w):
        return np.abs(reference.frequency_response(w) - model.frequency_response(w))

    values = error(grid)
    result = np.maximum(values.max(axis=0), np.abs(dc_difference))
    # An undamped pole jw0 that the two models do not share with equal residues makes the
    # error unbounded. Moving 100 times closer to a pole multiplies |error| by ~100 and
    # leaves a regular point's value unchanged (w0 is exact to ~eps, far below the offsets).
    # A pole neither model's output sees (or both see equally) leaves only rounding in the
    # error, which grows like 1/distance too but stays far below the models' own values.
    for w0 in np.union1d(reference.undamped_frequencies, model.undamped_frequencies):
        at = w0 * (1.0 + np.asarray(UNDAMPED_OFFSETS))
        ref, mod = reference.frequency_response(at), model.frequency_response(at)
        near, nearer = np.abs(ref - mod)
        resolved = nearer > UNDAMPED_ROUNDING * np.maximum(np.abs(ref[1]), np.abs(mod[1]))
        result[(nearer > 10.0 * near) & resolved] = np.inf
    for g in range(values.shape[1]):
        v = values[:, g]
        peaks = np.flatnonzero(np.r_[v[0] >= v[1], (v[1:-1] >= v[:-2]) & (v[1:-1] >= v[2:]), v[-1] >= v[-2]])
        for k in peaks[np.argsort(v[peaks])[::-1][:HINF_PEAKS]]:
            lo, hi = np.log10(grid[max(k - 1, 0)]), np.log10(grid[min(k + 1, grid.size - 1)])
            samples = list(grid[max(k - 2, 0):k + 3])
            for _ in range(HINF_PROJECTION_ROUNDS if _projected(reference, model) else 1):
                guide_reference, guide_model = (_search_guide(m, samples) for m in (reference, model))
                search = minimize_scalar(lambda x: -abs(guide_reference(10.0 ** x)[g] - guide_model(10.0 ** x)[g]),
                                         bounds=(lo, hi), method="bounded", options={"xatol": 1e-6})
                result[g] = max(result[g], error(10.0 ** search.x)[0, g])  # the found peak, evaluated exactly
                samples.append(10.0 ** search.x)
    for lifted in (reference, model):
        lifted.forget_solutions()
    return result


def _projected(*lifted):
    """Whether any of the networks is searched on its projection (:func:`_search_guide`)."""
    return any(m.network.n >= HINF_PROJECTION_MIN_NODES and m.projectable for m in lifted)


def _search_guide(lifted, samples):
    """The group transfer functions a peak search evaluates: exact, or projected for large networks.

    Networks of at least :data:`HINF_PROJECTION_MIN_NODES` nodes on the network-matrix
    path are searched on their Galerkin projection on the solutions at ``samples``
    (:meth:`~gridcoherence.report.responses.LiftedNetwork.projected`): one small solve per
    step of the search instead of an n x n LU.
    """
    if _projected(lifted):
        return lifted.projected(samples)
    return lambda w: lifted.frequency_response(w)[0]


def sampled_errors(t, reference_response, model_response, reference, model):
    """L2 by the trapezoid rule over t, L-inf refined by Hermite interpolation, H-inf by sweep.

    For network models (exact DC values) a DC mismatch makes L2 infinite, as in
    :func:`~gridcoherence.report.metrics.step_error_metrics`; for sampled models, whose steady
    state is only their last sample, L2 is the finite-horizon value, L-inf the largest
    sample and H-inf is NaN. Groups where either output diverges (steady state +-inf)
    keep the finite-horizon L2 over t; their transfer-function difference at w = 0 is
    the difference of the constant terms when the two ramps (residues at s = 0) agree,
    else unbounded (H-inf = inf).

    Parameters
    ----------
    t : ndarray, shape (nt,)
        The uniform time grid of both responses.
    reference_response, model_response : GroupResponse
        The two step responses on ``t``.
    reference : LiftedNetwork
    model : LiftedNetwork or SampledModel

    Returns
    -------
    dict of str -> ndarray, shape (groups,)
        ``l2_error``, ``linf_error`` and ``hinf_error``.
    """
    e = reference_response.y - model_response.y
    l2 = np.sqrt(np.trapezoid(e**2, t, axis=0))
    if not isinstance(model, LiftedNetwork):
        # Finite-difference derivatives would make a Hermite refinement invent errors.
        return {"l2_error": l2, "linf_error": np.abs(e).max(axis=0), "hinf_error": np.full(e.shape[1], np.nan)}
    rate = reference_response.rate - model_response.rate
    linf = np.array([abs(hermite_extreme(t, e[:, g], rate[:, g])[0]) for g in range(e.shape[1])])
    (reference_ramp, reference_constant, _), (model_ramp, model_constant, _) = reference.laurent, model.laurent
    dc_error = reference_constant - model_constant
    diverging = (reference_ramp != 0.0) | (model_ramp != 0.0)
    l2[~diverging & (np.abs(dc_error) > SAMPLED_DC_RTOL * np.abs(reference_constant))] = np.inf
    # The ramps cancel only if the residues agree, e.g. when a reduction keeps the total inertia.
    ramp_mismatch = np.abs(reference_ramp - model_ramp) > SAMPLED_DC_RTOL * np.abs(reference_ramp)
    return {"l2_error": l2, "linf_error": linf,
            "hinf_error": sampled_hinf(reference, model, np.where(ramp_mismatch, np.inf, dc_error))}


def exact_errors(reference_systems, model, step):
    """Exact errors of every group from :func:`~gridcoherence.report.metrics.step_error_metrics`.

    Parameters
    ----------
    reference_systems : list of control.StateSpace
        The reference's SISO group systems
        (:meth:`~gridcoherence.report.responses.LiftedNetwork.group_systems`).
    model : LiftedNetwork
        The model, on the same groups.
    step : float
        Step height.

    Returns
    -------
    dict of str -> ndarray, shape (groups,)
        ``l2_error``, ``linf_error`` and ``hinf_error``.
    """
    results = [step_error_metrics(ref, mod, step) for ref, mod in zip(reference_systems, model.group_systems())]
    return {column: np.array([getattr(r, column) for r in results])
            for column in ("l2_error", "linf_error", "hinf_error")}
