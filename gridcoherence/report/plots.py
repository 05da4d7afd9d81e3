"""Figures of the reduction workflow: responses, aggregates, spectra and cluster maps.

Every function builds a :class:`matplotlib.figure.Figure` directly (no pyplot state, no
display needed: files are rendered by the Agg canvas), returns it, and when ``path`` is
given also writes it atomically with :func:`gridcoherence._io.save_figure` (format from
the suffix, ``dpi`` pixels per inch, so a PNG is ``figsize * dpi`` pixels).

* :func:`plot_cluster_responses` -- node responses with the reduced model per cluster
  (dissertation Fig. 3-5);
* :func:`plot_coi_vs_aggregate` -- every node, the centre of inertia and the aggregate
  response (Fig. 3-7);
* :func:`plot_bode_aggregate` -- |ghat(jw)| of an aggregate machine and its reductions
  (:func:`gridcoherence.reduce_aggregate`);
* :func:`plot_hankel_singular_values` -- Hankel singular value decay;
* :func:`plot_cluster_map` -- the clusters on the network graph (bus coordinates, or the
  spectral coordinates of the graph), its strongest edges only;
* :func:`plot_error_vs_k` -- the accuracy of a reduction against the number of areas.

Areas are numbered from 1 in every label (area c + 1 is cluster c), like everything the
command line prints.

Axis labels assume the package's power-network convention (frequency deviation in
rad/s, time in s, disturbance in p.u.); pass ``ylabel`` to relabel.
"""

from __future__ import annotations

import control
import matplotlib
import networkx as nx
import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from .._io import save_figure
from .._validation import check_finite
from ..reduction.partition import as_labels
from ..models.nodes import NodeDynamics
from ..models.simulate import TimeResponse

__all__ = [
    "plot_cluster_responses",
    "plot_coi_vs_aggregate",
    "plot_bode_aggregate",
    "plot_hankel_singular_values",
    "plot_cluster_map",
    "plot_error_vs_k",
]

FREQUENCY_LABEL = "frequency deviation (rad/s)"
TIME_LABEL = "time (s)"

#: Node names are written on the cluster map up to this many nodes.
NAMED_NODE_LIMIT = 60

#: The cluster map draws at most this many edges per node, the strongest (largest |weight|).
MAP_EDGES_PER_NODE = 3

#: Up to this many nodes the cluster map's spectral coordinates come from a dense
#: eigendecomposition; larger graphs use ARPACK on the sparse Laplacian.
MAP_DENSE_LIMIT = 2000


#: Panels with more nodes than this draw the range of their responses (shaded) instead
#: of one line per node: past a few dozen lines nobody tells them apart, and rendering
#: 1,445 lines of 2,401 samples took 8 s.
MAX_NODE_LINES = 30


def _node_traces(ax, t, y, color, names=None, *, lw=1.0, alpha=0.55):
    """One line per column of y (the first 8 named in the legend), or their shaded range beyond MAX_NODE_LINES."""
    if y.shape[1] > MAX_NODE_LINES:
        ax.fill_between(t, y.min(axis=1), y.max(axis=1), color=color, alpha=0.35, lw=0,
                        label=f"range of {y.shape[1]} nodes")
        return
    for j in range(y.shape[1]):
        ax.plot(t, y[:, j], color=color, alpha=alpha, lw=lw, label=names[j] if names is not None and j < 8 else None)


def _finish(fig, path, dpi):
    """Save (and close) the figure when a path is given; return it either way."""
    if path is not None:
        save_figure(fig, path, dpi=dpi)
    return fig


def _cluster_colors(k):
    cmap = matplotlib.colormaps["tab10" if k <= 10 else "tab20"]
    return [cmap(c % cmap.N) for c in range(k)]


def _as_outputs(response, name):
    """(t, y) of a TimeResponse or a (t, y) pair, y as 2-D (nt, p), both finite."""
    if isinstance(response, TimeResponse):
        t, y = response.t, response.y
    elif isinstance(response, tuple) and len(response) == 2:
        t, y = response
    else:
        raise TypeError(f"{name} must be a TimeResponse or a (t, y) pair, got {type(response).__name__}")
    t = check_finite(f"{name} times", np.asarray(t, dtype=float))
    y = check_finite(f"{name} outputs", np.asarray(y, dtype=float))
    if y.ndim == 1:
        y = y[:, None]
    if t.ndim != 1 or y.ndim != 2 or y.shape[0] != t.size:
        raise ValueError(f"{name}: outputs of shape {y.shape} do not match {t.size} time points")
    return t, y


def _grid_shape(k):
    cols = min(k, 3)
    return -(-k // cols), cols


# ---------------------------------------------------------------------------- time responses
def plot_cluster_responses(reference_response, reduced_response, labels, *, node_names=None, title=None,
                           ylabel=FREQUENCY_LABEL, path=None, figsize=None, dpi=120):
    """One panel per cluster: its nodes' responses (solid) and the reduced model's (dashed).

    Panels are titled by area, numbered from 1 (area c + 1 is cluster c). A panel of
    more than :data:`MAX_NODE_LINES` nodes shades the range of their responses instead
    of drawing each.

    Parameters
    ----------
    reference_response : TimeResponse or (t, y)
        The original network's response, y of shape (nt, n).
    reduced_response : TimeResponse or (t, y)
        The reduced model's response on the same times: either lifted to the original
        nodes (nt, n), e.g. :meth:`ReducedNetwork.lifted_response`, or one column per
        cluster (nt, k).
    labels : array_like of int, shape (n,)
        Cluster of every node, 0..k-1.
    node_names : sequence of str, optional
        Legend entries of the nodes (shown up to 8 nodes per panel).
    title, ylabel : str, optional
    path : str or Path, optional
        Where to save the figure.
    figsize : (float, float), optional
        Inches; default 4.2 per panel column by 3.2 per row.
    dpi : int

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from gridcoherence.cases.loader import load_case
    >>> from gridcoherence.reduction.structure import structure_preserving_reduction
    >>> model = load_case("kundur_two_area").model
    >>> reduced = structure_preserving_reduction(model, 2)
    >>> fig = plot_cluster_responses(model.response(0, t=[0, 1, 2]), reduced.lifted_response(0, t=[0, 1, 2]),
    ...                              reduced.labels)
    >>> len(fig.axes)
    2
    """
    t, y = _as_outputs(reference_response, "reference_response")
    t_reduced, y_reduced = _as_outputs(reduced_response, "reduced_response")
    n = y.shape[1]
    labels = as_labels(labels, n)
    k = int(labels.max()) + 1
    if t_reduced.shape != t.shape or not np.allclose(t_reduced, t):
        raise ValueError("reference_response and reduced_response must share their time points")
    if y_reduced.shape[1] == n:
        # Lifted: every node of a cluster carries the cluster's output; take the first.
        y_reduced = y_reduced[:, [int(np.flatnonzero(labels == c)[0]) if np.any(labels == c) else 0
                                  for c in range(k)]]
    elif y_reduced.shape[1] != k:
        raise ValueError(f"reduced_response has {y_reduced.shape[1]} outputs; expected n = {n} (lifted) "
                         f"or k = {k} (one per cluster)")
    if node_names is not None and len(node_names) != n:
        raise ValueError(f"node_names has {len(node_names)} entries for {n} nodes")
    rows, cols = _grid_shape(k)
    fig = Figure(figsize=figsize or (4.2 * cols, 3.2 * rows), layout="constrained")
    axes = fig.subplots(rows, cols, sharex=True, squeeze=False).ravel()
    colors = _cluster_colors(k)
    for c in range(k):
        ax = axes[c]
        members = np.flatnonzero(labels == c)
        names = [str(node_names[i]) if node_names is not None else f"machine {i + 1}" for i in members]
        _node_traces(ax, t, y[:, members], colors[c], names)
        ax.plot(t, y_reduced[:, c], "k--", lw=2.0, label="reduced model")
        ax.set_title(f"area {c + 1} ({members.size} node{'s' if members.size != 1 else ''})")
        ax.set_xlabel(TIME_LABEL)
        ax.set_ylabel(ylabel)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="x-small", loc="best")
    for ax in axes[k:]:
        ax.set_visible(False)
    fig.suptitle(title or "Node responses (solid) and reduced model (dashed) per area")
    return _finish(fig, path, dpi)


def plot_coi_vs_aggregate(response, aggregate_response, *, inertia=None, title=None, ylabel=FREQUENCY_LABEL,
                          path=None, figsize=(7.0, 4.5), dpi=120):
    """Every node (thin), their centre of inertia (bold) and aggregate responses (dashed).

    Beyond :data:`MAX_NODE_LINES` nodes their range is shaded instead of one line each.

    Parameters
    ----------
    response : TimeResponse or (t, y)
        Node responses (nt, n); a TimeResponse's ``y_coi`` is used as the COI.
    aggregate_response : TimeResponse, (t, y), or dict of str -> either
        The aggregate machine's response (nt,) or (nt, 1), e.g.
        :func:`gridcoherence.aggregate_response`; a dict plots several (e.g. the full
        aggregate and its reductions), labelled by the keys.
    inertia : array_like, shape (n,), optional
        COI weights, needed when ``response`` has no ``y_coi``.
    title, ylabel, path, figsize, dpi
        As for :func:`plot_cluster_responses`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    t, y = _as_outputs(response, "response")
    coi = getattr(response, "y_coi", None)
    if inertia is not None:
        weights = check_finite("inertia", np.asarray(inertia, dtype=float))
        if weights.shape != (y.shape[1],) or weights.sum() <= 0:
            raise ValueError(f"inertia must have {y.shape[1]} entries with a positive sum")
        coi = y @ weights / weights.sum()
    if coi is None:
        raise ValueError("response has no y_coi; pass the COI weights as inertia=")
    aggregates = aggregate_response if isinstance(aggregate_response, dict) else {"aggregate": aggregate_response}
    if not aggregates:
        raise ValueError("aggregate_response is an empty dict")
    fig = Figure(figsize=figsize, layout="constrained")
    ax = fig.subplots()
    _node_traces(ax, t, y, "0.6", lw=0.7, alpha=1.0)
    if y.shape[1] <= MAX_NODE_LINES:
        ax.plot([], [], color="0.6", lw=0.7, label=f"nodes ({y.shape[1]})")
    ax.plot(t, coi, color="C0", lw=2.5, label="centre of inertia")
    for j, (name, agg) in enumerate(aggregates.items()):
        t_agg, y_agg = _as_outputs(agg, f"aggregate_response[{name!r}]")
        if y_agg.shape[1] != 1:
            raise ValueError(f"aggregate response {name!r} must have one output, got {y_agg.shape[1]}")
        ax.plot(t_agg, y_agg[:, 0], ls=(0, (5, 2 + j)), lw=2.0, color=f"C{j + 1}", label=str(name))
    ax.set_xlabel(TIME_LABEL)
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="best")
    ax.set_title(title or "Centre of inertia vs aggregate machine")
    return _finish(fig, path, dpi)


# ---------------------------------------------------------------------------- frequency domain
def _magnitude(system, w, name):
    """|g(jw)| of a one-node NodeDynamics, a SISO python-control system or an AggregateReduction."""
    system = getattr(system, "system", system)  # AggregateReduction -> its StateSpace
    if isinstance(system, NodeDynamics):
        if system.n != 1:
            raise ValueError(f"{name} must be a single aggregate node, got {system.n} nodes")
        value = system.transfer(1j * w)[:, 0]
    elif isinstance(system, (control.StateSpace, control.TransferFunction)):
        if (system.ninputs, system.noutputs) != (1, 1):
            raise ValueError(f"{name} must be SISO, got {system.noutputs}x{system.ninputs}")
        value = np.asarray(system(1j * w)).reshape(-1)
    else:
        raise TypeError(f"{name} must be a one-node NodeDynamics, a python-control SISO system or an "
                        f"AggregateReduction, got {type(system).__name__}")
    return check_finite(f"|{name}(jw)|", np.abs(value))


def plot_bode_aggregate(aggregate, reductions, *, frequencies=None, title=None, path=None,
                        figsize=(7.0, 4.5), dpi=120):
    """Bode magnitude |ghat(jw)| of an aggregate machine and of its reduced models.

    Parameters
    ----------
    aggregate : NodeDynamics with one node, or SISO python-control system
        The full aggregate ghat (e.g. :func:`gridcoherence.coherent_aggregate`).
    reductions : dict of str -> AggregateReduction or SISO python-control system
        Reduced models (e.g. ``{"cl, order 2": reduce_aggregate(ghat, 2)}``).
    frequencies : array_like, optional
        Angular frequencies (rad/s), positive; default 200 points on [1e-3, 1e2].
    title, path, figsize, dpi
        As for :func:`plot_cluster_responses`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    w = np.logspace(-3, 2, 200) if frequencies is None else check_finite(
        "frequencies", np.asarray(frequencies, dtype=float).ravel())
    if w.size < 2 or np.any(w <= 0):
        raise ValueError("frequencies must hold at least two positive angular frequencies")
    if not isinstance(reductions, dict):
        raise TypeError(f"reductions must be a dict of name -> reduced model, got {type(reductions).__name__}")
    fig = Figure(figsize=figsize, layout="constrained")
    ax = fig.subplots()
    ax.loglog(w, _magnitude(aggregate, w, "aggregate"), color="k", lw=2.5, label="aggregate ghat")
    for j, (name, reduced) in enumerate(reductions.items()):
        ax.loglog(w, _magnitude(reduced, w, f"reductions[{name!r}]"), ls="--", lw=1.8, color=f"C{j}",
                  label=str(name))
    ax.set_xlabel("angular frequency (rad/s)")
    ax.set_ylabel("|ghat(jw)| (rad/s per p.u.)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="best")
    ax.set_title(title or "Aggregate machine and reduced models: Bode magnitude")
    return _finish(fig, path, dpi)


def plot_hankel_singular_values(values_by_name, *, title=None, path=None, figsize=(7.0, 4.5), dpi=120):
    """Decay of (weighted) Hankel singular values, one marked line per model (log scale).

    Parameters
    ----------
    values_by_name : dict of str -> array_like
        Hankel singular values, e.g. ``AggregateReduction.hankel_singular_values``.
        Negative or non-finite values are errors; exact zeros cannot be drawn on a log
        axis and are left out (the count is given in the legend).
    title, path, figsize, dpi
        As for :func:`plot_cluster_responses`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if not isinstance(values_by_name, dict) or not values_by_name:
        raise ValueError("values_by_name must be a non-empty dict of name -> Hankel singular values")
    fig = Figure(figsize=figsize, layout="constrained")
    ax = fig.subplots()
    for j, (name, values) in enumerate(values_by_name.items()):
        values = check_finite(f"Hankel singular values {name!r}", np.asarray(values, dtype=float).ravel())
        if values.size == 0 or np.any(values < 0):
            raise ValueError(f"Hankel singular values {name!r} must be a non-empty array of values >= 0")
        index = np.arange(1, values.size + 1)
        positive = values > 0
        zeros = int(values.size - positive.sum())
        label = str(name) + (f" ({zeros} zero{'s' if zeros > 1 else ''} not shown)" if zeros else "")
        ax.semilogy(index[positive], values[positive], marker="o", ms=4, color=f"C{j}", label=label)
    ax.set_xlabel("index i")
    ax.set_ylabel("Hankel singular value sigma_i")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="best")
    ax.set_title(title or "Hankel singular value decay")
    return _finish(fig, path, dpi)


# ---------------------------------------------------------------------------- network map
def _edges(laplacian_or_graph):
    """Nodes, their |weight| Laplacian and the edges (i, j, weight) of a Laplacian or a graph."""
    if isinstance(laplacian_or_graph, nx.Graph):
        nodes = list(laplacian_or_graph.nodes)
        L = -nx.to_scipy_sparse_array(laplacian_or_graph, nodelist=nodes, weight="weight", format="csr")
    else:
        L = sp.csr_matrix(laplacian_or_graph, dtype=float)
        if L.shape[0] != L.shape[1]:
            raise ValueError(f"the Laplacian must be square, got shape {L.shape}")
        check_finite("Laplacian", L.data)
        nodes = list(range(L.shape[0]))
    upper = sp.triu(-L, k=1).tocoo()
    keep = upper.data != 0
    rows, cols, weights = upper.row[keep], upper.col[keep], upper.data[keep].astype(float)
    n = len(nodes)
    magnitude = sp.coo_matrix((np.abs(weights), (rows, cols)), shape=(n, n))
    magnitude = (magnitude + magnitude.T).tocsr()
    absolute = sp.diags(np.asarray(magnitude.sum(axis=1), dtype=float).ravel()) - magnitude
    return nodes, absolute, rows, cols, weights


def _spectral_coordinates(absolute):
    """Eigenvectors 2 and 3 of a Laplacian with positive weights (the Fiedler coordinates), deterministic."""
    n = absolute.shape[0]
    if n <= 2:
        return np.column_stack([np.arange(n, dtype=float), np.zeros(n)])
    if n <= MAP_DENSE_LIMIT:
        _, vectors = sla.eigh(absolute.toarray(), subset_by_index=[0, 2], driver="evr")
    else:
        scale = float(abs(absolute).sum(axis=1).max())
        start = np.linspace(1.0, 2.0, n)  # a fixed start vector: the same picture every run
        shifted = (absolute + 1e-6 * scale * sp.identity(n)).tocsc()
        _, vectors = spla.eigsh(shifted, k=3, sigma=0.0, which="LM", v0=start)
    xy = vectors[:, 1:3]
    signs = np.sign(xy[np.argmax(np.abs(xy), axis=0), [0, 1]])  # fix each vector's sign
    return xy * np.where(signs == 0, 1.0, signs)


def plot_cluster_map(laplacian_or_graph, labels, coordinates=None, node_names=None, *, title=None,
                     path=None, figsize=(7.0, 6.0), dpi=120):
    """The clusters drawn on the network graph, nodes coloured by cluster.

    Only the strongest edges are drawn -- per node its :data:`MAP_EDGES_PER_NODE` largest
    |weights| -- so a dense graph (a Kron-reduced power network couples every pair of
    machines) stays readable and quick: a map of 1445 machines and 10^6 edges takes a few seconds
    (scripts/bench_cluster_map.py).

    Parameters
    ----------
    laplacian_or_graph : sparse matrix, ndarray or networkx.Graph
        The network; with a Laplacian, an edge i-j of weight -L_ij is drawn, its width
        growing with the weight (negative weights dashed).
    labels : array_like of int, shape (n,)
        Cluster of every node (nodes 0..n-1 of the Laplacian, or the graph's nodes in
        ``graph.nodes`` order); the legend numbers the areas from 1.
    coordinates : array_like (n, 2) or dict node -> (x, y), optional
        Node positions (e.g. bus coordinates). By default the spectral coordinates of
        the graph: the eigenvectors of its two smallest nonzero eigenvalues of the
        Laplacian with weights |w_ij| (deterministic; no force-directed layout).
    node_names : sequence of str, optional
        Written next to the nodes when n <= 60.
    title, path, figsize, dpi
        As for :func:`plot_cluster_responses`.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from gridcoherence.cases.loader import load_case
    >>> model = load_case("kundur_two_area").model
    >>> fig = plot_cluster_map(model.laplacian, [0, 0, 1, 1], node_names=model.node_names)
    >>> fig.axes[0].get_legend_handles_labels()[1]
    ['area 1 (2)', 'area 2 (2)']
    """
    nodes, absolute, rows, cols, weights = _edges(laplacian_or_graph)
    n = len(nodes)
    labels = as_labels(labels, n)
    k = int(labels.max()) + 1
    if coordinates is None:
        xy = _spectral_coordinates(absolute)
    elif isinstance(coordinates, dict):
        missing = [v for v in nodes if v not in coordinates]
        if missing:
            raise ValueError(f"coordinates lack nodes {missing[:10]}")
        xy = np.array([check_finite(f"coordinates of node {v}", np.asarray(coordinates[v], dtype=float))
                       for v in nodes]).reshape(n, 2)
    else:
        xy = check_finite("coordinates", np.asarray(coordinates, dtype=float))
        if xy.shape != (n, 2):
            raise ValueError(f"coordinates must have shape ({n}, 2), got {xy.shape}")
    if node_names is not None and len(node_names) != n:
        raise ValueError(f"node_names has {len(node_names)} entries for {n} nodes")
    fig = Figure(figsize=figsize, layout="constrained")
    ax = fig.subplots()
    shown = _strongest_edges(n, rows, cols, weights)
    if shown.size:
        w = weights[shown]
        segments = np.stack([xy[rows[shown]], xy[cols[shown]]], axis=1)
        widths = 0.5 + 2.5 * np.abs(w) / np.abs(w).max()
        ax.add_collection(LineCollection(segments, linewidths=widths, colors="0.55", zorder=1,
                                         linestyles=["--" if x < 0 else "-" for x in w]))
    colors = _cluster_colors(k)
    size = 90 if n <= 200 else 20
    for c in range(k):
        members = labels == c
        if members.any():
            ax.scatter(xy[members, 0], xy[members, 1], s=size, color=colors[c], edgecolors="k", linewidths=0.5,
                       zorder=2, label=f"area {c + 1} ({int(members.sum())})")
    if n <= NAMED_NODE_LIMIT:
        names = node_names if node_names is not None else [str(v) for v in nodes]
        for (x, y), name in zip(xy, names):
            ax.annotate(str(name), (x, y), xytext=(4, 4), textcoords="offset points", fontsize="x-small")
    ax.set_aspect("equal", adjustable="datalim")
    if coordinates is None:
        ax.set_axis_off()
    else:
        ax.set_xlabel("x")
        ax.set_ylabel("y")
    ax.legend(loc="best", fontsize="small")
    drawn = f"{shown.size} strongest of {weights.size} edges" if shown.size < weights.size else f"{weights.size} edges"
    ax.set_title(title or f"{k} areas on the network ({n} nodes, {drawn})")
    return _finish(fig, path, dpi)


def _strongest_edges(n, rows, cols, weights):
    """Indices of the edges among each node's :data:`MAP_EDGES_PER_NODE` largest |weights|, sorted."""
    if weights.size == 0:
        return np.zeros(0, dtype=np.int64)
    ends = np.concatenate([rows, cols])
    edge = np.concatenate([np.arange(weights.size)] * 2)
    # One sort by node, then by decreasing |weight| within it: the key is node + a fraction in [0, 1/2).
    magnitude = np.abs(weights[edge])
    order = np.argsort(ends + 0.5 * (1.0 - magnitude / magnitude.max()), kind="stable")
    ends, edge = ends[order], edge[order]
    start = np.searchsorted(ends, np.arange(n))
    rank = np.arange(ends.size) - start[ends]
    return np.unique(edge[rank < MAP_EDGES_PER_NODE])


# ---------------------------------------------------------------------------- accuracy
def plot_error_vs_k(table, *, tolerance=None, title=None, path=None, figsize=(7.0, 4.5), dpi=120):
    """The relative band error and the worst area step error against k, per embedding.

    Rows without a (finite) band error -- not computed by the tolerance search where the
    area error decided, or unbounded -- show their area error only.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`~gridcoherence.report.bundle.error_vs_k_table` of a reduction.
    tolerance : float, optional
        Drawn as a horizontal line.
    title, path, figsize, dpi
        As for :func:`plot_cluster_map`.

    Returns
    -------
    matplotlib.figure.Figure
        Written to ``path`` too when one is given.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"k": [1, 2], "embedding": ["inertia"] * 2, "relative_band_error": [0.3, 0.01],
    ...                       "worst_area_error": [0.5, 0.02], "chosen": [False, True]})
    >>> len(plot_error_vs_k(table, tolerance=0.05).axes[0].lines)
    3
    """
    fig = Figure(figsize=figsize, layout="constrained")
    ax = fig.subplots()
    measured = table[np.isfinite(table["worst_area_error"])]
    for j, (embedding, rows) in enumerate(measured.groupby("embedding", sort=False)):
        band = rows[np.isfinite(rows["relative_band_error"])]  # not computed where the area error decided
        ax.plot(band["k"], band["relative_band_error"], marker="o", color=f"C{j}",
                label=f"band error / sup||T|| ({embedding})")
        ax.plot(rows["k"], rows["worst_area_error"], marker="s", ls="--", color=f"C{j}",
                label=f"worst area error / nadir ({embedding})")
    chosen = measured[measured["chosen"]]
    if len(chosen):
        ax.scatter(chosen["k"], np.maximum(chosen["relative_band_error"], chosen["worst_area_error"]), s=160,
                   facecolors="none", edgecolors="k", zorder=3, label="chosen")
    if tolerance is not None:
        ax.axhline(tolerance, color="k", lw=1.0, label=f"tolerance {tolerance:g}")
    values = measured[["relative_band_error", "worst_area_error"]].to_numpy()
    if len(measured) and (values[np.isfinite(values)] > 0).all():
        ax.set_yscale("log")
    ax.set_xlabel("number of areas k")
    ax.set_ylabel("relative error")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="best", fontsize="small")
    ax.set_title(title or "Accuracy of the reduction against the number of areas")
    return _finish(fig, path, dpi)
