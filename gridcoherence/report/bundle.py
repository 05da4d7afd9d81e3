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
import pandas as pd

from .._io import MANIFEST, atomic_directory, write_json, write_manifest
from ..coherence.measures import aggregate_response
from . import plots
from .export import export_table
from .html import write_run_report
from .serialization import save_reduced

__all__ = ["write_reduction_bundle", "write_comparison_bundle", "error_vs_k_table", "ERROR_VS_K_UNITS"]

#: Units of the :func:`error_vs_k_table` columns (outputs in rad/s, disturbances in p.u.).
ERROR_VS_K_UNITS = {"band_error": "rad/s per p.u.", "relative_band_error": "of sup||T||",
                    "peak_frequency": "rad/s", "worst_area_error": "of its nadir"}


def error_vs_k_table(selection):
    """The error-vs-k curve of a reduction as printed and written, areas numbered from 1.

    Parameters
    ----------
    selection : pandas.DataFrame
        :attr:`~gridcoherence.reduction.pipeline.NetworkReduction.selection_`.

    Returns
    -------
    pandas.DataFrame
        Columns ``k``, ``embedding``, ``area_sizes`` (machines per area, "5/3/2"),
        ``band_error`` (sup_{|w| <= band} ||T - That_k||), ``relative_band_error`` (that
        over sup ||T||), ``peak_frequency`` (where it peaks), ``worst_area`` (the area, from
        1, of the largest step error relative to its nadir; 0 where the k was not
        measured), ``worst_area_error``, ``met``, ``chosen``, ``note``; the units
        :data:`ERROR_VS_K_UNITS` in ``attrs["units"]``.

    Examples
    --------
    >>> from gridcoherence import load_case, reduce_network
    >>> result = reduce_network(load_case("kundur_two_area").model, 2, tolerance=0.1)
    >>> table = error_vs_k_table(result.selection_)
    >>> table[["k", "area_sizes", "met", "chosen"]].values.tolist()
    [[2, '2/2', True, True]]
    >>> int(table["worst_area"][0]) == int(result.selection_["worst_area"][0]) + 1  # areas from 1
    True
    """
    measured = selection["worst_area"] >= 0
    table = pd.DataFrame({
        "k": selection["k"].astype(int), "embedding": selection["embedding"],
        "area_sizes": ["/".join(map(str, sizes)) for sizes in selection["area_sizes"]],
        "band_error": selection["band_error_rad_s_per_pu"], "relative_band_error": selection["relative_band_error"],
        "peak_frequency": selection["peak_frequency_rad_s"],
        "worst_area": np.where(measured, selection["worst_area"] + 1, 0).astype(int),
        "worst_area_error": selection["worst_area_error"],
        "met": selection["met"], "chosen": selection["chosen"].astype(bool), "note": selection["note"]})
    table.attrs["units"] = dict(ERROR_VS_K_UNITS)
    return table


def write_reduction_bundle(out, case, result, table, u0, t, *, band, error_vs_k=None, tolerance=None, run=None,
                           keep_previous=False):
    """Write one reduction's table, figures, reduced model and summary as the run folder ``out``.

    Files, in this order: ``step_comparison.csv``, ``.md`` and ``.tex`` (``table``, units
    in the headers, see :func:`~gridcoherence.report.export.export_table`); with
    ``error_vs_k``, ``error_vs_k.csv``, ``.md`` and the figure ``error_vs_k.png``;
    ``cluster_responses.png`` and ``coi_vs_aggregate.png``; when some aggregate was
    reduced by balanced truncation, ``bode_aggregate.png`` (of the largest such cluster)
    and ``hankel_singular_values.png``; ``cluster_map.png``; ``reduced_model.json``
    (:func:`~gridcoherence.report.serialization.save_reduced`, with the band and its
    error); ``reduction_summary.json`` (case, options, per area -- numbered from 1 -- its
    size and orders, band error); ``area_map.png`` and ``report.html``, the run on one page
    with the accuracy of the reduced model (:func:`~gridcoherence.report.html.write_run_report`);
    ``run.json``
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
        The band |w| <= band (rad/s) of the accuracy recorded with the model
        (``result.accuracy(band, u0, t)``: computed once, shared with the caller's).
    error_vs_k : pandas.DataFrame, optional
        The accuracy of the k tried (:func:`error_vs_k_table`).
    tolerance : float, optional
        The tolerance the curve was measured against, drawn on its figure.
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
    accuracy = result.accuracy(band=band, u0=u0, t=t)
    with atomic_directory(out, keep_previous=keep_previous) as folder:
        names = _write_reduction_files(folder, case, result, table, u0, t, accuracy, error_vs_k, tolerance)
        record = _run_record(case, run)
        names += _write_report(folder, case, table, result.labels, record, names, {"reduced model": accuracy})
        write_manifest(folder, record)
    return [Path(out) / name for name in [*names, MANIFEST]]


def _write_reduction_files(out, case, result, table, u0, t, accuracy, error_vs_k, tolerance):
    """The files of :func:`write_reduction_bundle` in ``out``; returns their names."""
    model = case.model
    written = [export_table(table, out / f"step_comparison.{suffix}") for suffix in ("csv", "md", "tex")]

    def figure(name):
        written.append(out / name)
        return out / name

    if error_vs_k is not None:
        written += [export_table(error_vs_k, out / f"error_vs_k.{suffix}") for suffix in ("csv", "md")]
        plots.plot_error_vs_k(error_vs_k, tolerance=tolerance, path=figure("error_vs_k.png"))

    reference = result.original_response(u0, t)
    reduced = result.model.lifted_response(u0, "step", t)
    plots.plot_cluster_responses(reference, reduced, result.labels, node_names=model.node_names,
                                 path=figure("cluster_responses.png"))
    plots.plot_coi_vs_aggregate(reference, aggregate_response(model, u0, "step", t),
                                path=figure("coi_vs_aggregate.png"))
    reductions = {c: r for c, r in enumerate(result.aggregate_reductions) if r is not None}
    if reductions:
        c = max(reductions, key=lambda i: result.structure.sizes[i])
        plots.plot_bode_aggregate(result.structure.nodes.subset([c]), {f"area {c + 1}": reductions[c]},
                                  path=figure("bode_aggregate.png"))
        plots.plot_hankel_singular_values(
            {f"area {i + 1}": r.hankel_singular_values for i, r in reductions.items()},
            path=figure("hankel_singular_values.png"))
    _cluster_map(case, result.labels, figure("cluster_map.png"))

    band_error = accuracy.band_error
    save_reduced(result, out / "reduced_model.json", case=case.name,
                 extra={"band": accuracy.band_rad_s, "band_error": band_error.sup_error})
    write_json(out / "reduction_summary.json", {
        "case": case.name, "options": result.options,
        "clusters": [{"area": row.pop("cluster") + 1, **row} for row in result.summary()],
        "band": accuracy.band_rad_s, "band_error": band_error.as_dict(),
    })
    return [p.name for p in written] + ["reduced_model.json", "reduction_summary.json"]


def _cluster_map(case, labels, path):
    """The cluster map of a case: machines at their bus coordinates when the case has them."""
    plots.plot_cluster_map(case.model.laplacian, labels, coordinates=case.metadata.details.get("coordinates"),
                           node_names=case.model.node_names, path=path)


def write_comparison_bundle(out, case, table, *, models=None, u0=None, t=None, reductions=None, run=None,
                            keep_previous=False):
    """Write a comparison of several models as the run folder ``out``.

    Files: ``comparison.csv``, ``.md`` and ``.tex``; with ``models``, per model j (1, 2,
    ... in the order of ``models``) ``responses_<j>.png`` (its area responses against the
    original's, :func:`~gridcoherence.report.plots.plot_cluster_responses`) and
    ``cluster_map.png`` (the areas of the first model); ``area_map.png`` and
    ``report.html`` (:func:`~gridcoherence.report.html.write_run_report`: the areas of the
    first model on the grid and every reduction's accuracy); then the manifest ``run.json``.

    Parameters
    ----------
    out : str or Path
        The run folder: absent, empty or an earlier run folder, which is replaced whole.
    case : Case
        The case the models reduce.
    table : pandas.DataFrame
        From :func:`~gridcoherence.report.compare.compare_step_responses`.
    models : dict of str -> ReducedNetwork, optional
        The compared models, for the figures.
    u0 : ndarray, shape (n,), optional
        The step disturbance of the figures (p.u. on the original nodes); needed with ``models``.
    t : array_like, optional
        Uniform time grid from 0 of the figures (s); needed with ``models``.
    reductions : dict of str -> NetworkReduction, optional
        The reductions among ``models`` by their label in ``table``; their accuracy
        (:meth:`~gridcoherence.reduction.pipeline.NetworkReduction.accuracy`, default
        disturbance and time grid) goes into the report.
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
    models = models or {}
    if models and (u0 is None or t is None):
        raise ValueError("the figures of the models need the disturbance u0 and the time grid t")
    labels = next(iter(models.values())).labels if models else np.zeros(case.model.n, dtype=int)
    with atomic_directory(out, keep_previous=keep_previous) as folder:
        names = [export_table(table, folder / f"comparison.{suffix}").name for suffix in ("csv", "md", "tex")]
        if models:
            reference = case.model.response(u0, "step", t)
            for j, (label, model) in enumerate(models.items(), 1):
                names.append(f"responses_{j}.png")
                plots.plot_cluster_responses(reference, model.lifted_response(u0, "step", t), model.labels,
                                             node_names=case.model.node_names, title=f"{label} against the original",
                                             path=folder / names[-1])
            names.append("cluster_map.png")
            _cluster_map(case, labels, folder / names[-1])
        record = _run_record(case, run or {})
        names += _write_report(folder, case, table, labels, record, names,
                               {label: r.accuracy() for label, r in (reductions or {}).items()})
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
