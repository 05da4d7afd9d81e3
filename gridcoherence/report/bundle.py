"""A run's output folder: the files of the command line's ``reduce`` and ``compare``.

:func:`write_reduction_bundle` writes everything one reduction leaves behind (comparison
table, figures, the reduced model and a summary of how it was made);
:func:`write_comparison_bundle` the table of several reductions side by side. Every file
is written atomically, so an interrupted run leaves no partial file; both return the
paths they wrote.
"""

from __future__ import annotations

from pathlib import Path

from .._io import write_json
from ..coherence.measures import aggregate_response
from . import plots
from .export import export_table
from .serialization import save_reduced

__all__ = ["write_reduction_bundle", "write_comparison_bundle"]


def write_reduction_bundle(out, case, result, table, u0, t, *, band, band_error=None):
    """Write one reduction's table, figures, reduced model and summary into ``out``.

    Files, in this order: ``step_comparison.csv`` and ``step_comparison.md`` (``table``,
    units in the headers, see :func:`~gridcoherence.report.export.export_table`);
    ``cluster_responses.png`` and ``coi_vs_aggregate.png``; when some aggregate was
    reduced by balanced truncation, ``bode_aggregate.png`` (of the largest such cluster)
    and ``hankel_singular_values.png``; ``cluster_map.png``; ``reduced_model.json``
    (:func:`~gridcoherence.report.serialization.save_reduced`, with the band and its
    error); ``reduction_summary.json`` (case, options, clusters, band error).

    Parameters
    ----------
    out : str or Path
        An existing, writable folder.
    case : Case
        The reduced case (:func:`~gridcoherence.cases.loader.load_case`); its bus
        coordinates, if any, place the cluster map.
    result : NetworkReduction
        From :func:`~gridcoherence.reduction.pipeline.reduce_network` on ``case.model``.
    table : pandas.DataFrame
        The comparison of ``result.model`` with ``case.model``
        (:func:`~gridcoherence.report.compare.compare_step_responses`).
    u0 : ndarray, shape (n,)
        The step disturbance of the figures' responses, p.u. on the original nodes.
    t : array_like
        Uniform time grid from 0 of the figures' responses (s).
    band : float
        The band |w| <= band (rad/s) of ``band_error``.
    band_error : BandError or None
        :meth:`~gridcoherence.reduction.structure.ReducedNetwork.band_error` of the
        reduced model, or ``None`` when the model has none.

    Returns
    -------
    list of pathlib.Path
        The written files.
    """
    out = Path(out)
    model = case.model
    written = [export_table(table, out / "step_comparison.csv"), export_table(table, out / "step_comparison.md")]

    def figure(name):
        written.append(out / name)
        return out / name

    reference = model.response(u0, "step", t)
    reduced = result.model.lifted_response(u0, "step", t)
    plots.plot_cluster_responses(reference, reduced, result.labels, node_names=model.node_names,
                                 path=figure("cluster_responses.png"))
    plots.plot_coi_vs_aggregate(reference, aggregate_response(model, u0, "step", t),
                                path=figure("coi_vs_aggregate.png"))
    reductions = {c: r for c, r in enumerate(result.aggregate_reductions) if r is not None}
    if reductions:
        c = max(reductions, key=lambda i: result.structure.sizes[i])
        plots.plot_bode_aggregate(result.structure.nodes.subset([c]), {f"cluster {c}": reductions[c]},
                                  path=figure("bode_aggregate.png"))
        plots.plot_hankel_singular_values(
            {f"cluster {i}": r.hankel_singular_values for i, r in reductions.items()},
            path=figure("hankel_singular_values.png"))
    plots.plot_cluster_map(model.laplacian, result.labels, coordinates=case.metadata.details.get("coordinates"),
                           node_names=model.node_names, path=figure("cluster_map.png"))

    save_reduced(result, out / "reduced_model.json", case=case.name,
                 extra={"band": band, "band_error": None if band_error is None else band_error.sup_error})
    write_json(out / "reduction_summary.json", {
        "case": case.name, "options": result.options, "clusters": result.summary(),
        "band": band, "band_error": None if band_error is None else band_error.as_dict(),
    })
    return written + [out / "reduced_model.json", out / "reduction_summary.json"]


def write_comparison_bundle(out, table):
    """Write a comparison of several models as ``comparison.csv`` and ``comparison.md`` in ``out``.

    Parameters
    ----------
    out : str or Path
        An existing, writable folder.
    table : pandas.DataFrame
        From :func:`~gridcoherence.report.compare.compare_step_responses`.

    Returns
    -------
    list of pathlib.Path
        The two written files.
    """
    out = Path(out)
    return [export_table(table, out / "comparison.csv"), export_table(table, out / "comparison.md")]
