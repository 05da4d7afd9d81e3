"""The run report ``report.html``: one self-contained page of a reduction or a comparison.

:func:`write_run_report` writes, into a run folder (:mod:`~gridcoherence.report.bundle`),
the static map of the areas on the grid ``area_map.png``
(:func:`~gridcoherence.report.layout.plot_area_map`) and ``report.html``: the same map
interactive (plotly, its JavaScript inlined: the page needs no network access; hovering a
machine shows its name, area, inertia constant H and rating), the verdict of every reduced
model with its accuracy in units and relative (:class:`~gridcoherence.reduction.accuracy.ReductionAccuracy`,
the band error of Thm 3.10 and the area step errors), the comparison table with units in
its headers, the run's figures (embedded PNG) and the provenance: package version, command
line, the case with a SHA-256 hash, the machine data assumed and where it comes from
(:func:`~gridcoherence.cases.machines.machine_data_table`), the seeds and every warning of
the run. The page prints: the interactive map is replaced by the static one on paper.

Plotly is the optional extra ``report``; without it the page shows the static map only.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path

import numpy as np

from .._io import atomic_write
from .export import _format_cell, unit_headers
from .layout import area_colors, area_labels, grid_coordinates, marker_sizes, plot_area_map

__all__ = ["write_run_report", "REPORT", "AREA_MAP", "FIGURE_CAPTIONS"]

#: File names of the page and of its static map.
REPORT = "report.html"
AREA_MAP = "area_map.png"

#: Captions of the run folder's figures, by file name; other PNG files are captioned by name.
FIGURE_CAPTIONS = {
    "cluster_responses.png": "Area responses: every machine's frequency deviation and the reduced model's "
                             "area response (dashed) to the step",
    "coi_vs_aggregate.png": "Centre-of-inertia response of each area and the response of its aggregate machine",
    "bode_aggregate.png": "Bode plot of the largest area's aggregate machine and its balanced truncation",
    "hankel_singular_values.png": "Hankel singular values of the reduced aggregate machines",
}

#: Columns of the machine data table in the provenance section, with their headers.
MACHINE_COLUMNS = {"name": "machine", "bus": "bus", "type": "type", "type_source": "type from",
                   "rating_mva": "rating [MVA]", "rating_source": "rating from", "H_s": "H [s]",
                   "D_pu": "D [p.u.]", "xd_prime_pu": "x'_d [p.u.]", "inv_droop_pu": "1/R [p.u.]",
                   "tau_s": "tau [s]", "data_source": "data from"}

#: Largest machine data table shown open; larger ones open on a click, and for printing.
OPEN_MACHINE_TABLE = 100

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0 auto;
       max-width: 1200px; padding: 1em 1.5em; color: #1a1a1a; line-height: 1.4; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; } h2 { font-size: 1.2em; border-bottom: 1px solid #ccc; }
.subtitle { color: #555; margin-top: 0; }
.verdict { font-size: 1.05em; padding: 0.5em 0.8em; border-left: 4px solid #1f77b4; background: #f3f7fb; }
.verdict.failed { border-left-color: #d62728; background: #fbf3f3; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.5em; text-align: right; vertical-align: top; }
th { background: #f0f0f0; } td.text, th.text { text-align: left; }
.scroll { overflow: auto; max-height: 28em; }
#area-map { width: 100%; height: 640px; }
figure { margin: 1em 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: 0.9em; color: #444; }
dl { display: grid; grid-template-columns: max-content auto; gap: 0.2em 1em; }
dt { font-weight: 600; } dd { margin: 0; overflow-wrap: anywhere; }
code { font-size: 0.9em; } .warnings li { margin-bottom: 0.3em; } summary { cursor: pointer; }
.print-only { display: none; }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  .screen-only { display: none; } .print-only { display: block; }
  .scroll { overflow: visible; max-height: none; }
  section, figure, tr { break-inside: avoid; } h2 { break-after: avoid; }
}
"""

#: Printing opens every closed part of the page.
_PRINT = """
window.addEventListener("beforeprint", function () {
  document.querySelectorAll("details").forEach(function (part) { part.open = true; });
});
"""

_DRAW = """
(function () {
  var figure = JSON.parse(document.getElementById("area-map-figure").textContent);
  Plotly.newPlot("area-map", figure.data, figure.layout, figure.config);
})();
"""


def write_run_report(folder, *, case, table, labels, provenance, figures=(), accuracies=None, tolerance=0.05,
                     warnings=()):
    """Write ``area_map.png`` and ``report.html`` into the run folder ``folder``.

    Parameters
    ----------
    folder : str or Path
        An existing folder (the run folder being written).
    case : Case
        The case of the run (:func:`~gridcoherence.cases.loader.load_case`).
    table : pandas.DataFrame
        The comparison table (:func:`~gridcoherence.report.compare.compare_step_responses`),
        its units in ``table.attrs["units"]``.
    labels : array_like of int, shape (n,)
        The area (cluster number, 0 first) of every machine of ``case.model``, for the map.
    provenance : dict
        The run's record as the manifest stores it: ``command`` (argument list or None),
        ``options``, ``seeds`` and ``case`` (``name``, ``source``, ``sha256``, ``sha256_of``).
    figures : sequence of Path
        PNG files of the run to embed, in order (captions: :data:`FIGURE_CAPTIONS`).
    accuracies : dict of str -> ReductionAccuracy, optional
        The accuracy of each reduced model, by its label in ``table``.
    tolerance : float
        Relative error of the verdicts (0.05 for 5 %).
    warnings : sequence of str
        Every warning of the run, in plain words (the command line records them).

    Returns
    -------
    list of pathlib.Path
        ``area_map.png`` and ``report.html``.
    """
    folder = Path(folder)
    grid = grid_coordinates(case)
    labels = area_labels(labels, case.model.n)
    plot_area_map(case, labels, coordinates=grid, path=folder / AREA_MAP)
    try:
        from plotly.offline import get_plotlyjs
    except ImportError:
        script = None
    else:
        script = get_plotlyjs()
    machines = _machine_table(case)
    body = [
        _header(case, provenance),
        _verdicts(accuracies or {}, tolerance),
        _map_section(case, grid, labels, folder / AREA_MAP, machines, script is not None),
        _table_section(table),
        _figures_section(figures),
        _provenance_section(case, provenance, machines, warnings),
    ]
    title = f"gridcoherence run report: {case.name}"
    page = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{_text(title)}</title>", f"<style>{_STYLE}</style>"]
    if script is not None:
        page.append(f"<script>{script}</script>")
    page += ["</head>", "<body>", *body]
    if script is not None:
        figure = _map_figure(case, grid, labels, machines)
        page += ['<script type="application/json" id="area-map-figure">',
                 json.dumps(figure, allow_nan=False).replace("</", "<\\/"), "</script>",
                 f"<script>{_DRAW}</script>"]
    page += [f"<script>{_PRINT}</script>", "</body>", "</html>"]
    with atomic_write(folder / REPORT) as handle:
        handle.write("\n".join(page) + "\n")
    return [folder / AREA_MAP, folder / REPORT]


def _text(value):
    return html.escape(str(value), quote=True)


def _machine_table(case):
    """The machine data table of a power case, or None for a graph case."""
    from ..cases.machines import machine_data_table

    if case.metadata.details.get("machine_data") is None:
        return None
    return machine_data_table(case)


def _header(case, provenance):
    from .. import __version__

    return (f"<header><h1>Run report: {_text(case.name)}</h1>"
            f'<p class="subtitle">{_text(case.metadata.description)} &middot; {case.model.n} machines'
            f" &middot; gridcoherence {_text(__version__)}</p></header>")


def _verdicts(accuracies, tolerance):
    """One verdict line per reduced model and its accuracy in units and relative."""
    if not accuracies:
        return ""
    parts = ['<section id="verdict"><h2>Verdict</h2>',
             f"<p>Tolerance {100 * tolerance:g} % on the band error relative to sup||T|| and on every "
             "area's centre-of-inertia step error relative to its nadir (Thm 3.10). Areas are numbered from 1; "
             "the verdict lines, the comparison table and the figures name them by cluster, from 0 "
             "(area 1 is cluster 0).</p>"]
    for label, accuracy in accuracies.items():
        nodes = np.flatnonzero(accuracy.disturbance_pu)
        where = f"machine {nodes[0] + 1}" if nodes.size == 1 else f"{nodes.size} machines"
        parts.append(f"<p>Step of {_text(_format_cell(np.abs(accuracy.disturbance_pu).sum()))} p.u. at {where}, "
                     f"areas' errors over 0..{accuracy.horizon_s:g} s.</p>")
        css = "verdict" if accuracy.met(tolerance) else "verdict failed"
        parts.append(f'<h3>{_text(label)}</h3><p class="{css}">{_text(accuracy.verdict(tolerance))}</p>')
        parts.append(_simple_table(
            ["band |w| <= eta [rad/s]", "band error [rad/s per p.u.]", "sup||T|| [rad/s per p.u.]",
             "relative band error", "peak at [rad/s]"],
            [[accuracy.band_rad_s, accuracy.band_error_rad_s_per_pu, accuracy.transfer_norm_rad_s_per_pu,
              _percent(accuracy.relative_band_error), accuracy.peak_frequency_rad_s]]))
        parts.append(_simple_table(
            ["area", "step error max_t |y_I - yhat_I| [rad/s]", "nadir max_t |y_I| [rad/s]", "relative error"],
            [[_area(c), error, nadir, _percent(relative)] for c, (error, nadir, relative) in enumerate(
                zip(accuracy.area_error_rad_s, accuracy.area_nadir_rad_s, accuracy.area_relative_error))]))
    parts.append("</section>")
    return "".join(parts)


def _area(c):
    return f"area {c + 1}"


def _percent(fraction):
    return f"{100 * fraction:.3g} %" if np.isfinite(fraction) else "unbounded"


def _simple_table(headers, rows):
    head = "".join(f'<th class="text">{_text(h)}</th>' if i == 0 else f"<th>{_text(h)}</th>"
                   for i, h in enumerate(headers))
    body = "".join("<tr>" + "".join(_cell(value) for value in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _cell(value):
    if value is None or isinstance(value, str):
        return f'<td class="text">{_text("" if value is None else value)}</td>'
    return f"<td>{_text(_format_cell(value))}</td>"


def _map_section(case, grid, labels, png, machines, interactive):
    k = int(labels.max()) + 1
    counts = ", ".join(f"area {c + 1}: {int(np.sum(labels == c))}" for c in range(k))
    static = f'<img src="{_png_data(png)}" alt="{k} areas on the grid of {_text(case.name)}">'
    if interactive:
        shown = (f'<div id="area-map" class="screen-only"></div>'
                 f'<div class="print-only">{static}</div>')
        hover = "H [s] and rating [MVA]" if machines is not None else "inertia"
        note = f"Hover a machine for its name, area and {hover}; scroll to zoom."
    else:
        shown = static
        note = 'The interactive map needs plotly: pip install "gridcoherence[report]".'
    return (f'<section id="map"><h2>Areas on the grid</h2><p>{k} areas ({counts}); machines coloured by area, '
            f"marker size growing with inertia; positions: {_text(grid.source)}. {_text(note)}</p>{shown}</section>")


def _png_data(path):
    return "data:image/png;base64," + base64.b64encode(Path(path).read_bytes()).decode("ascii")


def _map_figure(case, grid, labels, machines):
    """The plotly figure (plain JSON) of the areas on the grid: one trace of branches, one per area."""
    segments = grid.bus_xy[grid.branches]  # (m, 2 ends, 2 coordinates)
    gaps = np.full((len(segments), 1), np.nan)
    x = np.hstack([segments[:, :, 0], gaps]).ravel()
    y = np.hstack([segments[:, :, 1], gaps]).ravel()
    data = [{"type": "scatter", "mode": "lines", "name": f"branches ({len(segments)})", "hoverinfo": "skip",
             "x": _json_values(x), "y": _json_values(y), "line": {"color": "#b3b3b3", "width": 0.8}}]
    names = [html.escape(str(name), quote=False) for name in case.model.node_names]  # hover text is HTML
    sizes = marker_sizes(case.model.inertia)
    for c, color in enumerate(area_colors(int(labels.max()) + 1)):
        members = np.flatnonzero(labels == c)
        if machines is None:
            text = [f"{names[i]}<br>{_area(c)}<br>inertia m = {case.model.inertia[i]:.4g} (model units)"
                    for i in members]
        else:
            text = [f"{names[i]}<br>{_area(c)}<br>H = {machines.at[i, 'H_s']:.3g} s<br>"
                    f"rating {machines.at[i, 'rating_mva']:.4g} MVA" for i in members]
        data.append({"type": "scatter", "mode": "markers", "name": f"area {c + 1} ({members.size})",
                     "x": grid.machine_xy[members, 0].tolist(), "y": grid.machine_xy[members, 1].tolist(),
                     "customdata": members.tolist(), "text": text,
                     "hovertemplate": "%{text}<extra></extra>",
                     "marker": {"color": color, "opacity": 1.0, "size": sizes[members].round(2).tolist(),
                                "line": {"color": "#262626", "width": 0.5}}})
    axis = {"visible": False}
    layout = {"margin": {"l": 10, "r": 10, "t": 10, "b": 10}, "hovermode": "closest", "dragmode": "pan",
              "xaxis": {**axis, "scaleanchor": "y", "scaleratio": 1}, "yaxis": axis,
              "legend": {"itemsizing": "constant", "x": 0, "y": 1, "xanchor": "left",
                         "bgcolor": "rgba(255,255,255,0.8)"},
              "plot_bgcolor": "white", "paper_bgcolor": "white"}
    return {"data": data, "layout": layout,
            "config": {"displaylogo": False, "responsive": True, "scrollZoom": True}}


def _json_values(values):
    """Floats for JSON, NaN (the breaks between branches) as null."""
    return [None if np.isnan(v) else v for v in values.tolist()]


def _table_section(table):
    headers = unit_headers(table.columns, table.attrs.get("units", {}))
    rows = table.itertuples(index=False, name=None)
    return (f'<section id="comparison"><h2>Comparison table</h2><div class="scroll">'
            f"{_simple_table([headers[c] for c in table.columns], rows)}</div></section>")


def _figures_section(figures):
    if not figures:
        return ""
    items = "".join(f'<figure><img src="{_png_data(path)}" alt="{_text(Path(path).name)}">'
                    f"<figcaption>{_text(FIGURE_CAPTIONS.get(Path(path).name, Path(path).name))}</figcaption>"
                    "</figure>" for path in figures)
    return f'<section id="figures"><h2>Figures</h2>{items}</section>'


def _provenance_section(case, provenance, machines, run_warnings):
    from .. import __version__

    record = provenance.get("case", {})
    command = provenance.get("command")
    hashed = {"file": "of the case file", "name": "of the case name",
              "network JSON": "of the network's pandapower JSON"}.get(record.get("sha256_of"), "")
    facts = [("gridcoherence", __version__),
             ("command line", " ".join(command) if command else "(not run from the command line)"),
             ("case", f"{record.get('name', case.name)}: {case.metadata.description}"),
             ("case source", record.get("source", case.metadata.source)),
             (f"SHA-256 {hashed}".strip(), record.get("sha256") or "(not recorded)"),
             *((f"provenance: {key}", value) for key, value in case.metadata.provenance.items()),
             ("options", json.dumps(provenance.get("options", {}), default=str)),
             ("random seeds", json.dumps(provenance.get("seeds", {}), default=str))]
    listed = "".join(f"<dt>{_text(key)}</dt><dd><code>{_text(value)}</code></dd>" for key, value in facts)
    if machines is None:
        assumed = "<p>A graph case: its nodes carry the data of the case file, no machine data is assumed.</p>"
    else:
        columns = [c for c in MACHINE_COLUMNS if c in machines.columns]
        rows = machines[columns].itertuples(index=False, name=None)
        # Closed for large cases: a browser lays out a closed table only when it is opened (or printed).
        shown = " open" if len(machines) <= OPEN_MACHINE_TABLE else ""
        assumed = (f"<details{shown}><summary>The data of every machine and where it comes from "
                   f"({len(machines)} machines)</summary>"
                   f'<div class="scroll">{_simple_table([MACHINE_COLUMNS[c] for c in columns], rows)}</div></details>')
    if run_warnings:
        said = '<ul class="warnings">' + "".join(f"<li>{_text(w)}</li>" for w in run_warnings) + "</ul>"
    else:
        said = "<p>No warnings.</p>"
    return (f'<section id="provenance"><h2>Provenance</h2><dl>{listed}</dl>'
            f"<h3>Machine data assumed</h3>{assumed}"
            f'<h3 id="warnings">Warnings of the run ({len(run_warnings)})</h3>{said}</section>')
