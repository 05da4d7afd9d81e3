"""A run's output folder: the files of the command line's ``reduce`` and ``compare``.

:func:`write_reduction_bundle` writes everything one reduction leaves behind (comparison
table, figures, the reduced model and a summary of how it was made);
:func:`write_comparison_bundle` the table of several reductions side by side. Both
write the folder as a whole (:func:`gridcoherence._io.atomic_directory`): an earlier run
in it is replaced only once the new one is complete, so the folder never mixes two runs
and an interrupted run leaves the earlier one as it was. Every run folder ends with the
manifest ``run.json`` (:func:`gridcoherence._io.write_manifest`): how the run was made,
the case and a SHA-256 hash of its file, and every file with its size; ``report.html``
shows the run on one page (:mod:`~gridcoherence.report.html`). Both return the paths they
wrote.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from .._io import MANIFEST, atomic_directory, write_json, write_manifest
from ..coherence.measures import aggregate_response
from . import plots
from .export import export_table
from .html import write_run_report
from .serialization import save_reduced

__all__ = ["write_reduction_bundle", "write_comparison_bundle"]


def write_reduction_bundle(out, case, result, table, u0, t, *, band, band_error=None, run=None,
                           keep_previous=False):
    """Write one reduction's table, figures, reduced model and summary as the run folder ``out``.

    Files, in this order: ``step_comparison.csv`` and ``step_comparison.md`` (``table``,
    units in the headers, see :func:`~gridcoherence.report.export.export_table`);
    ``cluster_responses.png`` and ``coi_vs_aggregate.png``; when some aggregate was
    reduced by balanced truncation, ``bode_aggregate.png`` (of the largest such cluster)
    and ``hankel_singular_values.png``; ``cluster_map.png``; ``reduced_model.json``
    (:func:`~gridcoherence.report.serialization.save_reduced`, with the band and its
    error); ``reduction_summary.json`` (case, options, clusters, band error);
    ``area_map.png`` and ``report.html``, the run on one page with the accuracy of the
    reduced model (:func:`~gridcoherence.report.html.write_run_report`); ``run.json``
    (the manifest, see the module docstring).

    Parameters
    ----------
    out : str or Path
        The run folder: absent, empty or an earlier run folder, which is replaced whole
        (:func:`~gridcoherence._io.atomic_directory`).
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
    run : dict, optional
        How the run was made, for the manifest and the report: ``command`` (the argument
        list), ``options``, ``seeds``, ``warnings`` (plain text). By default the options and
        k-means seed of ``result``.
    keep_previous : bool
        Keep an earlier run in ``out`` as ``out.previous`` instead of removing it.

    Returns
    -------
    list of pathlib.Path
        The written files, the manifest last.
    """
    if run is None:
        run = {"options": result.options, "seeds": {"k_means": result.options["random_state"]}}
    with atomic_directory(out, keep_previous=keep_previous) as folder:
        names = _write_reduction_files(folder, case, result, table, u0, t, band, band_error)
        record = _run_record(case, run)
        names += _write_report(folder, case, table, result.labels, record, names,
                               {"reduced model": result.accuracy(band=band, u0=u0, t=t)})
        write_manifest(folder, record)
    return [Path(out) / name for name in [*names, MANIFEST]]


def _write_reduction_files(out, case, result, table, u0, t, band, band_error):
    """The files of :func:`write_reduction_bundle` in ``out``; returns their names."""
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
    return [p.name for p in written] + ["reduced_model.json", "reduction_summary.json"]


def write_comparison_bundle(out, case, table, *, reductions=None, run=None, keep_previous=False):
    """Write a comparison of several models as the run folder ``out``.

    Files: ``comparison.csv`` and ``comparison.md``, ``area_map.png`` and ``report.html``
    (:func:`~gridcoherence.report.html.write_run_report`: the areas of the first
    reduction on the grid and every reduction's accuracy), then the manifest ``run.json``.

    Parameters
    ----------
    out : str or Path
        The run folder: absent, empty or an earlier run folder, which is replaced whole.
    case : Case
        The case the models reduce.
    table : pandas.DataFrame
        From :func:`~gridcoherence.report.compare.compare_step_responses`.
    reductions : dict of str -> NetworkReduction, optional
        The compared reductions by their label in ``table``; their accuracy
        (:meth:`~gridcoherence.reduction.pipeline.NetworkReduction.accuracy`, default
        disturbance and time grid) goes into the report. Without them the map shows one area.
    run : dict, optional
        How the run was made, for the manifest and the report (``command``, ``options``,
        ``seeds``, ``warnings``).
    keep_previous : bool
        Keep an earlier run in ``out`` as ``out.previous`` instead of removing it.

    Returns
    -------
    list of pathlib.Path
        The written files, the manifest last.
    """
    names = ["comparison.csv", "comparison.md"]
    reductions = reductions or {}
    labels = next(iter(reductions.values())).labels if reductions else np.zeros(case.model.n, dtype=int)
    with atomic_directory(out, keep_previous=keep_previous) as folder:
        for name in names:
            export_table(table, folder / name)
        record = _run_record(case, run or {})
        names += _write_report(folder, case, table, labels, record, [],
                               {label: r.accuracy() for label, r in reductions.items()})
        write_manifest(folder, record)
    return [Path(out) / name for name in [*names, MANIFEST]]


def _write_report(folder, case, table, labels, record, names, accuracies):
    """``area_map.png`` and ``report.html`` (:func:`~gridcoherence.report.html.write_run_report`); their names.

    The report embeds the run's figures but the cluster map, which the area map replaces.
    """
    figures = [folder / name for name in names if name.endswith(".png") and name != "cluster_map.png"]
    written = write_run_report(folder, case=case, table=table, labels=labels, provenance=record, figures=figures,
                               accuracies=accuracies, warnings=record.get("warnings", ()))
    return [p.name for p in written]


def _run_record(case, run):
    """The manifest's record: command, case (name, source, SHA-256), options, seeds."""
    source = case.metadata.source
    path = Path(source)
    # A case read from a file is identified by the file's bytes, a network given in memory by its
    # pandapower JSON (hashed at load time), a pandapower:NAME network by its name.
    given = case.metadata.details.get("network_sha256")
    if given is not None:
        hashed, digest = "network JSON", given
    else:
        hashed = "file" if path.is_file() else "name"
        digest = hashlib.sha256(path.read_bytes() if hashed == "file" else source.encode("utf-8")).hexdigest()
    return {"command": None, "options": {}, "seeds": {}, **run,
            "case": {"name": case.name, "source": source, "sha256": digest, "sha256_of": hashed}}
