"""Bundled sweep studies: one Monte-Carlo trial each, as functions of a seed and parameters.

Each study is ``study(seed, **params) -> dict`` of scalars, listed by name in
:data:`STUDIES` for :func:`gridcoherence.studies.sweeps.sweep` and ``gridcoherence sweep
STUDY``. Seeds make every trial reproducible, so the same sweep gives the same table
serially and on Dask.
"""

from __future__ import annotations

import numpy as np

__all__ = ["dynamics_concentration", "aggregate_inertia", "sbm_band_error", "STUDIES"]


def dynamics_concentration(seed, n=100, omega_max=2.0, n_freq=20, n_reference=200_000):
    """Dynamics concentration (Sec. 3.1.4, Lemma 3.2): sup |gbar_n - ghat| on a band.

    n i.i.d. random swing+turbine nodes (:func:`gridcoherence.cases.random_nodes.random_family_nodes`);
    the harmonic expectation ghat (3.14) is estimated with ``n_reference`` nodes drawn
    from a fixed, seed-independent stream (seed 2**31 - 1), so every trial compares with
    the same reference.

    Returns
    -------
    dict
        ``gap`` = sup over s = j w, 0 < w <= omega_max, of |gbar_n(s) - ghat(s)|, and
        ``gap_relative`` = gap / sup |ghat|.
    """
    from ..coherence.measures import concentration_gap, harmonic_expectation
    from ..cases.random_nodes import random_family_nodes

    s = 1j * np.linspace(omega_max / n_freq, omega_max, n_freq)
    reference = harmonic_expectation(random_family_nodes, s, n_samples=n_reference,
                                     random_state=2**31 - 1)
    gap = float(concentration_gap(random_family_nodes, [n], s, reference=reference,
                                  random_state=seed)[0])
    return {"gap": gap, "gap_relative": gap / float(np.abs(reference).max())}


def aggregate_inertia(seed, m=0.0683, order=2, method="cl"):
    """Fig. 3-9's sweep point: errors of one reduced aggregate of Table 3-I at inertia m.

    Deterministic (the seed is recorded but unused): the Table 3-I group with its total
    inertia replaced by ``m``, reduced to ``order`` by ``method`` with the default
    weights, errors for a unit step.
    """
    from ..reduction.machines import closed_loop_system, reduce_aggregate
    from .experiments.aggregate_order import table_3_1_aggregate
    from ..report.metrics import step_error_metrics

    aggregate = table_3_1_aggregate(m)
    reduced = reduce_aggregate(aggregate, order, method=method)
    errors = step_error_metrics(closed_loop_system(aggregate), reduced.system, step=1.0)
    return {"l2_error": errors.l2_error, "linf_error": errors.linf_error, "hinf_error": errors.hinf_error}


def sbm_band_error(seed, n=80, eta=1.0, points_per_decade=3):
    """Thm 3.10 trial: the (3.41) SBM scaled to n nodes, reduced to k = 3.

    One graph and one set of random swing nodes per seed (as in
    :mod:`gridcoherence.studies.experiments.sbm_reduction`); spectral clustering with k-means++
    (seeded by ``seed``), Algorithm 1, and the band error on a grid of
    ``points_per_decade`` log-spaced frequencies plus the band's resonances, refined
    around its largest maxima (:func:`gridcoherence.reduction.band.band_error`).

    Returns
    -------
    dict
        ``success`` (the clustering recovered the blocks exactly), ``misclassification``,
        ``band_error``, ``lowrank_band_error``, ``lambda_next`` (lambda_4(L)) and
        ``refinement_error`` (||V_3 - Vhat_3||_F).
    """
    from ..reduction.clustering import misclassification_rate
    from .experiments.sbm_reduction import sbm341_model
    from ..reduction.structure import structure_preserving_reduction

    model, sample = sbm341_model(int(n), seed)
    reduced = structure_preserving_reduction(model, 3, embedding="laplacian", random_state=seed)
    band = reduced.band_error(eta, points_per_decade=points_per_decade)
    error = misclassification_rate(sample.labels, reduced.labels)
    return {"success": bool(error == 0.0), "misclassification": float(error),
            "band_error": band.sup_error, "lowrank_band_error": band.sup_lowrank_error,
            "lambda_next": reduced.lambda_next, "refinement_error": reduced.refinement_error}


#: The bundled studies by the name ``gridcoherence sweep`` knows them by.
STUDIES = {
    "concentration": dynamics_concentration,
    "aggregate_inertia": aggregate_inertia,
    "thm3_10": sbm_band_error,
}
