"""Step-response comparison tables of an original network and its reduced models.

:func:`compare_step_responses` drives the original network and every candidate model
with the same step disturbance u(t) = step * u0 * 1(t) and tabulates, per model and per
node group (a cluster, or any set of nodes), the group's centre-of-inertia output

    y_I(t) = sum_{i in I} m_i y_i(t) / sum_{i in I} m_i

and what a power engineer reads off a frequency response: the nadir and its time, the
largest rate of change of frequency (RoCoF), the settling time and the steady-state
deviation, next to the L2 / L-infinity step-response errors and the H-infinity transfer
function error against the original (the columns of Table 3-II).

It composes three stages, each in its own module:

* :mod:`~gridcoherence.report.responses` -- models brought to the original nodes (a
  :class:`~gridcoherence.reduction.structure.ReducedNetwork` by summing the disturbance
  per cluster and broadcasting its cluster outputs, the lifted model That_k of (3.30);
  another :class:`~gridcoherence.NetworkModel` on the same nodes as it is; a callable by
  its sampled response) and their group step responses;
* :mod:`~gridcoherence.report.modal` -- the feature columns, exact from the modal form of
  each network model small enough for an eigendecomposition (independent of the time
  grid, which only sets the horizon);
* :mod:`~gridcoherence.report.features` -- the feature columns read off the samples of
  the other responses, flagged when the grid does not resolve them;
* :mod:`~gridcoherence.report.errors` -- the error columns, exact
  (:func:`gridcoherence.report.metrics.step_error_metrics`) where the models are small
  enough, else sampled.

:func:`~gridcoherence.report.export.export_table` writes the table as CSV, Markdown or
LaTeX with the :data:`UNITS` in the headers.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd

from ..models.network import NetworkModel
from .errors import exact_errors, sampled_errors
from .features import curvature_mismatch, sampled_feature_reasons, step_response_features
from .modal import modal_features
from .responses import LiftedNetwork, SampledModel, as_model, check_model, node_groups, time_grid

__all__ = ["COLUMNS", "UNITS", "compare_step_responses"]

#: Table columns, in order.
COLUMNS = ("model", "group", "n_nodes", "l2_error", "linf_error", "hinf_error", "nadir", "nadir_time",
           "max_rocof", "settling_time", "steady_state", "features_resolved", "error_method")

#: Units of the columns when the outputs are frequency deviations in rad/s and the
#: disturbance is in p.u. (the power networks of :mod:`gridcoherence.cases.loader`).
UNITS = {
    "l2_error": "rad/s * s^(1/2)",
    "linf_error": "rad/s",
    "hinf_error": "rad/s per p.u.",
    "nadir": "rad/s",
    "nadir_time": "s",
    "max_rocof": "rad/s^2",
    "settling_time": "s",
    "steady_state": "rad/s",
}

#: Largest combined order of the reference and approximation group systems (after the
#: unobservable zero mode is removed) whose errors come from the exact metric functions.
#: Their cost grows like order^2 times the number of time samples: ~1 s at order 16,
#: ~8 s at order 330 per group. Also the largest order of one model whose features come
#: from its modal form (one dense eigendecomposition, ~0.2 s at order 500).
EXACT_STATE_LIMIT = 500


def compare_step_responses(reference, models, *, u0, groups=None, t=None, step=1.0, settling_band=0.02,
                           reference_name="original", exact_limit=EXACT_STATE_LIMIT):
    """Table of step-response errors and frequency-response features per model and node group.

    Every model is driven by u(t) = step * u0 * 1(t) on the ORIGINAL nodes; each group's
    output is its inertia-weighted mean (centre of inertia) over the group's nodes.

    Parameters
    ----------
    reference : NetworkModel
        The original network.
    models : dict of str -> model
        Each model is a :class:`~gridcoherence.reduction.structure.ReducedNetwork` of the
        reference (compared through its lifted response, cluster outputs broadcast to
        their nodes), a :class:`~gridcoherence.NetworkModel` on the same n nodes, or a
        sampled model: a callable ``model(u, t)`` or an object with
        ``model.response(u, "step", t)`` returning the (len(t), n) node responses (array
        or :class:`~gridcoherence.models.simulate.TimeResponse`) to the step disturbance
        ``u = step * u0``.
    u0 : array_like, shape (n,), or int
        Disturbance shape (an int k is the unit vector e_k), p.u.
    groups : array_like of int (n,), dict of str -> array_like of int, or None
        Cluster label per node (groups named ``"cluster <label>"``), or named node sets
        (they may overlap but must together cover every node). By default the clusters
        of the first ReducedNetwork in ``models``, else one group ``"all"``.
    t : array_like, optional
        Uniform time grid from 0 (s): its end is the horizon of the time-domain
        features; its samples carry the sampled errors and the features of sampled
        models and large networks. Default 0..60 s in 10 ms steps.
    step : float
        Step height (p.u.); nonzero.
    settling_band : float
        Relative band of the settling time, 0 < band < 1.
    reference_name : str
        The ``model`` entry of the reference's own rows.
    exact_limit : int
        Largest combined order of the two group systems for which the errors are exact,
        and largest order of one network model whose features are exact (modal form).

    Returns
    -------
    pandas.DataFrame
        One row per (model, group), the reference first, with columns :data:`COLUMNS`:

        * ``n_nodes`` -- nodes in the group;
        * ``l2_error``, ``linf_error`` -- ||e||_2 and max_t |e(t)| of the group output's
          step-response error against the reference (0 on the reference's rows; l2 is
          ``inf`` when the steady states differ); on ``"finite horizon"`` rows the L2
          norm and the maximum over [0, t[-1]] only;
        * ``hinf_error`` -- ||G_ref - G_model||_inf of the group transfer functions
          u0 -> y_I (per unit step height; NaN only for sampled models, with a warning);
          ``inf`` when the difference has a pole on the imaginary axis: at s = 0 when the
          two ramps differ, at jw0 when an undamped mode does not cancel (lossless
          machines with a 1/s coupling: every electromechanical mode is undamped);
        * ``nadir`` -- the extreme of y_I over [0, t[-1]] (largest |y_I|, sign kept) and
          ``nadir_time``; ``nadir_time = inf`` with ``nadir`` = y_ss when y_I approaches
          y_ss without overshoot (exact path only);
        * ``max_rocof`` -- max |dy_I/dt| over 0 < t <= t[-1];
        * ``settling_time`` -- last time |y_I - y_ss| leaves ``settling_band * |y_ss|``
          (relative to max |y_I| when y_ss = 0), ``inf`` with a warning if the output
          has not settled by the end of ``t``, and ``inf`` when y_ss is infinite;
        * ``steady_state`` -- y_ss = lim y_I(t), exact (DC gain, not the last sample);
          ``+inf`` or ``-inf`` (the sign of the ramp) when the output sees a pole at
          s = 0: the output diverges; no steady state. With zero damping and no
          governors (e.g. the ``nets_nyps68`` and ``new_england39`` cases) every output
          follows the centre-of-inertia ramp step * sum(u0) / sum(m) * t;
        * ``features_resolved`` -- whether the four features above can be trusted: they
          are exact (network models of order <= ``exact_limit``) or read off a grid that
          resolves the response, and no extreme is an artefact of the horizon. ``False``
          rows are listed in one warning with the reason of each: a nadir or RoCoF at
          the horizon end of an output that has not settled (every nadir of an output
          that ramps), or, for sampled features, a grid step above 1/10 of the period of
          the reference's dominant oscillation in the group, a grid on which the exact
          curvature of a network response and its cubic interpolant's disagree, or a
          nadir at the first or last sample of a non-monotone response;
        * ``error_method`` -- ``"reference"``, ``"exact"``, ``"sampled"`` or
          ``"finite horizon"`` (the model's or the reference's output diverges: the
          errors are over [0, t[-1]], computed as on the sampled path; one warning
          lists these rows).

        The column names are plain; with outputs in rad/s (frequency deviation) and u in
        p.u. the units are those of :data:`UNITS`, kept in ``df.attrs["units"]``, from
        which :func:`~gridcoherence.report.export.export_table` writes them into the
        headers.

    Raises
    ------
    TypeError
        A reference that is not a NetworkModel, or a model of an unsupported type.
    ValueError
        Models on a different number of nodes, groups that do not cover the nodes or are
        malformed, a non-finite or wrongly sized u0, a bad t, step or band, models whose
        outputs see a pole at s = 0 that is not simple (a double integrator, or several
        undamped islands).
    IndexError
        Group node indices or an int u0 outside 0..n-1.

    Notes
    -----
    Errors, exact path (networks whose group systems have combined order
    <= ``exact_limit``): each group output is formed as a python-control SISO
    ``StateSpace`` (input sigma(t), output y_I) with the coupling's unobservable zero
    mode removed exactly (see :class:`~gridcoherence.report.responses.LiftedNetwork`),
    and passed to :func:`gridcoherence.report.metrics.step_error_metrics`: exact
    infinite-horizon L2, L-inf, and AB13DD H-inf, so the table agrees with the metric
    functions to rounding.

    Errors, sampled path (larger networks, or sampled models): both responses come from
    the sparse simulator (:func:`~gridcoherence.models.simulate.simulate_lti`, exact at the
    samples up to unit roundoff) on ``t``; L2 is the trapezoid rule over ``t``
    (relative error O(h^2) plus the tail beyond ``t[-1]``, so ``t`` must cover the
    decay), L-inf the largest sample refined on the cubic Hermite interpolant (exact
    derivatives, error O(h^4)), H-inf a sweep over 160 log-spaced frequencies (8
    decades below 10 ||A||_1, which bounds every pole) refined by a bounded search
    around its 5 largest local maxima (a lower bound; it can miss a resonance hidden
    in a larger neighbour's tail within one grid interval). Each frequency costs one
    sparse LU of the network matrix, except for networks of at least
    :data:`~gridcoherence.report.responses.MODAL_MIN_NODES` nodes whose node dynamics
    are equal per unit inertia (g_i^{-1}(s) = m_i phi(s), checked at every frequency): there one symmetric
    eigendecomposition of M^{-1/2} L M^{-1/2} gives every frequency in O(groups n),
    the same values to rounding (~1e-13 relative on case9241pegase, where it cuts the
    table from ~6 min to ~20 s, now mostly the time simulation).

    Features, exact path (network models of order <= ``exact_limit`` whose modal form
    passes its checks, see
    :meth:`~gridcoherence.report.responses.LiftedNetwork.modal_form`): each group output
    is y_I(t) = y_c + r t + Re sum_k (rho_k / lambda_k) exp(lambda_k t), known with its
    derivatives at every t; :func:`~gridcoherence.report.modal.modal_features` scans it
    on an internal grid that resolves every mode that matters (step <= 1/24 of the
    shortest period and decay time), stops where the modal envelope proves that nothing
    later can be larger, and refines every candidate stationary point by Brent's method
    on the exact derivative. So nadir, its time, RoCoF and settling time agree to
    rounding on any grid of the same horizon: only t[-1] matters. The settling time is
    searched on the whole time axis (up to where the envelope enters the band) and
    reported when it lies within the horizon. Cost: one dense eigendecomposition per
    model (~0.2 s at order 500) and a scan of typically 10^4-10^5 points.

    Features, sampled path (sampled models; larger networks): y_I, dy_I/dt = C (A x + b
    sigma) and d2y_I/dt2 are simulated together (exact at the samples); the nadir is the
    largest |y_I| sample refined on the cubic Hermite interpolant of (y_I, dy_I/dt), the
    RoCoF likewise from (dy_I/dt, d2y_I/dt2): error O(h^4) in the value, so a grid that
    resolves the fastest oscillation to a few samples per period gives 4-5 digits. The
    steady state is the DC gain from a sparse bordered solve. Sampled models get
    second-order finite-difference derivatives and their last sample as steady state.

    Outputs without a steady state: when the bordered matrix is singular, its null
    vectors (dense SVD, O(order^3), only for such models) give the residue of the pole
    at s = 0 exactly (see :class:`~gridcoherence.report.responses.LiftedNetwork`),
    nonzero for outputs that ramp. Their rows take the sampled path on the finite horizon of ``t``; at w = 0 the error's
    transfer function is the difference of the constant terms when the residues agree
    (a structure-preserving reduction keeps the total inertia, hence the ramp) and
    unbounded otherwise.

    Cost: one sparse simulation per model plus, on the exact path, O(order^2) per time
    sample of the L-inf search in :func:`~gridcoherence.report.metrics.step_error_metrics` per
    group (about 1 s per group for Kundur's 4 machines).

    Examples
    --------
    >>> from gridcoherence.cases.loader import load_case
    >>> from gridcoherence.reduction.structure import structure_preserving_reduction
    >>> model = load_case("kundur_two_area").model
    >>> reduced = structure_preserving_reduction(model, 2)
    >>> import warnings, numpy as np
    >>> with warnings.catch_warnings(record=True) as caught:  # Kundur's modes ring for minutes
    ...     warnings.simplefilter("always")
    ...     table = compare_step_responses(model, {"k=2": reduced}, u0=0, step=-0.1,
    ...                                    t=np.linspace(0.0, 20.0, 401))
    >>> str(caught[0].message)[:41]
    'outputs still outside the 0.02 settling b'
    >>> table[["model", "group", "n_nodes"]].values.tolist()
    [['original', 'area 1', 2], ['original', 'area 2', 2], ['k=2', 'area 1', 2], ['k=2', 'area 2', 2]]
    >>> bool((table["steady_state"] < 0).all())
    True
    """
    if not isinstance(reference, NetworkModel):
        raise TypeError(f"reference must be a NetworkModel, got {type(reference).__name__}")
    if not isinstance(models, dict):
        raise TypeError(f"models must be a dict of name -> model, got {type(models).__name__}")
    if str(reference_name) in map(str, models):
        raise ValueError(f"a model is named {reference_name!r}, the name of the reference's rows; "
                         "rename it or pass reference_name=")
    u0 = reference.input_shape(u0)
    step = float(step)
    if not math.isfinite(step) or step == 0.0:
        raise ValueError(f"step must be a finite nonzero height, got {step!r}")
    settling_band = float(settling_band)
    if not 0.0 < settling_band < 1.0:
        raise ValueError(f"settling_band must be in (0, 1), got {settling_band!r}")
    t = time_grid(t)
    for name, model in models.items():
        check_model(str(name), model, reference)
    names, members = node_groups(groups, models, reference.n)
    weights = reference.center_of_inertia_weights(members)

    base = LiftedNetwork(reference, u0, weights, str(reference_name))
    candidates = {str(name): as_model(str(name), model, reference, u0, weights) for name, model in models.items()}
    base_response = base.response(t, step)
    base_modal = _modal_form(base, step, exact_limit)
    # What sampled models' features are judged by: the reference's dominant periods, or
    # how well the grid resolves the reference's own response.
    reference_grid = {"period": base_modal.dominant_periods() if base_modal is not None else np.full(len(names), np.inf),
                      "mismatch": np.zeros(len(names)) if base_modal is not None else
                      _curvature_mismatches(t, base_response)}
    reference_systems = None
    rows, unresolved = [], []

    def add_rows(label, response, errors, methods, modal, exact_derivatives):
        features = _features(t, response, modal, settling_band, reference_grid, exact_derivatives)
        for g, (group, nodes) in enumerate(zip(names, members)):
            row = {"model": label, "group": group, "n_nodes": int(nodes.size),
                   **{column: float(values[g]) for column, values in errors.items()}}
            values, reasons = features[g]
            row.update(values)
            row["features_resolved"] = not reasons
            row["error_method"] = methods[g]
            rows.append(row)
            unresolved.extend((label, group, reason) for reason in reasons)

    zeros = {column: np.zeros(len(names)) for column in ("l2_error", "linf_error", "hinf_error")}
    add_rows(str(reference_name), base_response, zeros, ["reference"] * len(names), base_modal, True)
    for name, candidate in candidates.items():
        response = candidate.response(t, step)
        # Infinite-horizon errors do not exist when either output ramps: those groups are
        # measured on t, and their whole model takes the sampled path (the exact metrics
        # need stable group systems).
        diverging = ~np.isfinite(base_response.steady_state) | ~np.isfinite(response.steady_state)
        if (candidate.order is not None and base.order + candidate.order <= exact_limit
                and not diverging.any()):
            if reference_systems is None:
                reference_systems = base.group_systems()
            errors, method = exact_errors(reference_systems, candidate, step), "exact"
        else:
            errors, method = sampled_errors(t, base_response, response, base, candidate), "sampled"
        lifted = isinstance(candidate, LiftedNetwork)
        add_rows(name, response, errors, np.where(diverging, "finite horizon", method),
                 _modal_form(candidate, step, exact_limit) if lifted else None, lifted)
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    numeric = table.select_dtypes("number")
    nan_columns = [c for c in numeric.columns if numeric[c].isna().any() and c != "hinf_error"]
    if nan_columns:
        raise ArithmeticError(f"the comparison produced NaN in {nan_columns}")
    sampled = [name for name, c in candidates.items() if isinstance(c, SampledModel)]
    if sampled:
        warnings.warn(f"models {sampled} are only known by samples: their steady state is the last sample, "
                      "their RoCoF a finite difference and their H-infinity error is not available (NaN)",
                      stacklevel=2)
    if unresolved:
        by_reason = {}
        for model, group, reason in unresolved:
            by_reason.setdefault(reason, []).append(f"{model}/{group}")
        details = "; ".join(f"{reason}: {', '.join(pairs)}" for reason, pairs in by_reason.items())
        warnings.warn(f"features not resolved (features_resolved = False: the nadir, its time, the RoCoF or the "
                      f"settling time may change with t): {details}", stacklevel=2)
    diverging = np.isinf(table["steady_state"]) | (table["error_method"] == "finite horizon")
    if diverging.any():
        pairs = ", ".join(f"{m}/{g}" for m, g in table.loc[diverging, ["model", "group"]].itertuples(index=False))
        warnings.warn(f"outputs with a pole at s = 0 diverge and have no steady state (steady_state = +-inf, "
                      f"settling_time = inf), or are compared with one that does; their errors are over the "
                      f"finite horizon [0, {t[-1]:g}] s of t (error_method 'finite horizon'): {pairs}",
                      stacklevel=2)
    unsettled = table.loc[np.isinf(table["settling_time"]) & ~diverging, ["model", "group"]]
    if len(unsettled):
        pairs = ", ".join(f"{m}/{g}" for m, g in unsettled.itertuples(index=False))
        warnings.warn(f"outputs still outside the {settling_band:g} settling band at t = {t[-1]:g} s "
                      f"(settling_time = inf): {pairs}; pass a longer t", stacklevel=2)
    table.attrs["units"] = dict(UNITS)
    return table



def _modal_form(network, step, limit):
    """The network's modal step responses when it is small enough and they pass their checks, else None."""
    return network.modal_form(step) if network.order <= limit else None


def _curvature_mismatches(t, response):
    """:func:`~gridcoherence.report.features.curvature_mismatch` of every group of a response."""
    return np.array([curvature_mismatch(t, response.y[:, g], response.rate[:, g], response.acceleration[:, g])
                     for g in range(response.y.shape[1])])


def _features(t, response, modal, band, reference_grid, exact_derivatives):
    """Per group, (feature columns, reasons they are not resolved) of one model's response.

    Exact from the modal form when there is one; else read off the samples and judged by
    the grid checks of :func:`~gridcoherence.report.features.sampled_feature_reasons`
    (against the model's own exact derivatives, or for sampled models against the
    reference's dominant periods, or how well the grid resolves the reference).
    """
    if modal is not None:
        return [({**values, "steady_state": float(response.steady_state[g])}, reasons)
                for g, (values, reasons) in enumerate(modal_features(modal, float(t[-1]), band))]
    mismatch = _curvature_mismatches(t, response) if exact_derivatives else reference_grid["mismatch"]
    results = []
    for g in range(response.y.shape[1]):
        values = step_response_features(t, response.y[:, g], response.rate[:, g], response.acceleration[:, g],
                                        response.steady_state[g], band)
        period = math.inf if exact_derivatives else reference_grid["period"][g]
        results.append((values, sampled_feature_reasons(t, response.y[:, g], values, period=period,
                                                        mismatch=mismatch[g])))
    return results
