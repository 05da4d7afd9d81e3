"""Where to draw a case's buses and machines: bus coordinates or a layout of the bus graph.

:func:`grid_coordinates` places every bus, branch and machine of a case for a map of the
areas on the grid. A power network's own bus coordinates are used when every bus has
them (pandapower's ``bus.geo``, kept at load time as
:class:`~gridcoherence.cases.network_sources.BusGrid`); otherwise the buses are laid out
from the sparse *bus* graph, never from the dense machine graph the Kron reduction leaves
(every machine there is coupled to almost every other). Graph and stochastic-block-model
cases have no buses: their nodes and edges are the graph. :func:`plot_area_map` draws the
static map (PNG); :mod:`~gridcoherence.report.html` draws the interactive one from the same
coordinates and colours (:func:`area_colors`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import scipy.sparse.csgraph as csgraph

from .._io import save_figure, subplots
from .._validation import as_node_array

__all__ = ["GridCoordinates", "grid_coordinates", "area_colors", "area_labels", "marker_sizes", "plot_area_map",
           "KAMADA_KAWAI_LIMIT"]

#: Largest bus graph laid out by Kamada-Kawai (networkx, O(n^2) per iteration: ~1 s at 150
#: buses); larger ones take the spectral layout of the bus graph's normalized Laplacian
#: (sparse: well under a second for 10^4 buses).
KAMADA_KAWAI_LIMIT = 150


@dataclass(frozen=True)
class GridCoordinates:
    """Positions of a case's buses and machines.

    Attributes
    ----------
    bus_xy : ndarray, shape (n_buses, 2)
        Every bus (every node of a graph case).
    branches : ndarray of int, shape (n_branches, 2)
        Rows of ``bus_xy`` joined by a line, transformer or edge.
    machine_xy : ndarray, shape (n, 2)
        Every node of the case's model (the machine's bus), in node order.
    source : str
        Where the positions come from, in words (for a figure's caption).
    geographic : bool
        True for the network's own bus coordinates, False for a layout.
    """

    bus_xy: np.ndarray
    branches: np.ndarray
    machine_xy: np.ndarray
    source: str
    geographic: bool


def grid_coordinates(case):
    """The positions of a case's buses, branches and machines (see the module docstring).

    Parameters
    ----------
    case : Case
        A loaded case; a power network's buses and branches are in
        ``case.metadata.details["bus_grid"]``.

    Returns
    -------
    GridCoordinates
        Bus, branch and machine positions, and where they come from.

    Examples
    --------
    >>> from gridcoherence.cases.loader import load_case
    >>> grid = grid_coordinates(load_case("kundur_two_area"))
    >>> grid.bus_xy.shape, grid.machine_xy.shape, grid.geographic
    ((13, 2), (4, 2), False)
    >>> grid.source
    'Kamada-Kawai layout of the bus graph (the network has no bus coordinates)'
    """
    metadata = case.metadata
    grid = metadata.details.get("bus_grid")
    if grid is None:  # a graph case: its nodes are the buses
        upper = sp.triu(sp.csr_matrix(case.model.laplacian), k=1).tocoo()
        branches = np.c_[upper.row, upper.col].astype(int)
        n_buses, machine_rows, coordinates = case.model.n, np.arange(case.model.n), None
    else:
        branches, n_buses, coordinates = grid.branches, grid.buses.size, grid.coordinates
        row = {int(b): i for i, b in enumerate(grid.buses)}
        machine_rows = np.array([row[int(b)] for b in metadata.machine_bus], dtype=int)
    if coordinates is not None:
        return GridCoordinates(coordinates, branches, coordinates[machine_rows], "bus coordinates of the network",
                               True)
    xy, method = _bus_layout(n_buses, branches)
    missing = "the network has no bus coordinates" if grid is not None else "a graph case has no coordinates"
    return GridCoordinates(xy, branches, xy[machine_rows], f"{method} layout of the bus graph ({missing})", False)


def _bus_layout(n, branches):
    """Deterministic (n, 2) positions of the graph of ``branches`` and its method's name.

    Components are chained by one edge each (for the layout only), so a graph with
    isolated buses still spreads out instead of collapsing onto its components.
    """
    adjacency = sp.coo_matrix((np.ones(len(branches)), (branches[:, 0], branches[:, 1])), shape=(n, n)).tocsr()
    adjacency = ((adjacency + adjacency.T) > 0).astype(float)
    count, component = csgraph.connected_components(adjacency, directed=False)
    if count > 1:
        first = np.array([np.flatnonzero(component == c)[0] for c in range(count)])
        links = sp.coo_matrix((np.ones(count - 1), (first[:-1], first[1:])), shape=(n, n))
        adjacency = ((adjacency + links + links.T) > 0).astype(float)
    if n <= 2:
        return np.c_[np.arange(n, dtype=float), np.zeros(n)], "line"
    if n <= KAMADA_KAWAI_LIMIT:
        import networkx as nx

        position = nx.kamada_kawai_layout(nx.from_scipy_sparse_array(adjacency))
        return np.array([position[i] for i in range(n)]), "Kamada-Kawai"
    return _spectral_layout(adjacency), "spectral"


def _spectral_layout(adjacency):
    """The 2nd and 3rd eigenvectors of the random-walk Laplacian I - D^-1 A (signs fixed)."""
    from scipy.sparse.linalg import eigsh

    degree = np.asarray(adjacency.sum(axis=1)).ravel()
    scale = sp.diags(1.0 / np.sqrt(degree))
    normalized = sp.identity(adjacency.shape[0]) - scale @ adjacency @ scale
    start = np.linspace(1.0, 2.0, adjacency.shape[0])  # a fixed start vector: the same layout every run
    _, vectors = eigsh(normalized.tocsc(), k=3, sigma=-1e-3, which="LM", v0=start)
    xy = scale @ vectors[:, 1:3]
    signs = np.sign(xy[np.argmax(np.abs(xy), axis=0), [0, 1]])
    return xy * signs


def area_colors(k):
    """One colour per area, as ``#rrggbb``: matplotlib's tab10 (tab20 beyond 10 areas).

    Examples
    --------
    >>> area_colors(3)
    ['#1f77b4', '#ff7f0e', '#2ca02c']
    """
    import matplotlib
    from matplotlib.colors import to_hex

    cmap = matplotlib.colormaps["tab10" if k <= 10 else "tab20"]
    return [to_hex(cmap(c % cmap.N)) for c in range(k)]


def area_labels(labels, n):
    """``labels`` as the areas (integers 0, 1, ...) of n machines, or ValueError naming ``labels``.

    Examples
    --------
    >>> area_labels([0, 1, 1], 3).tolist()
    [0, 1, 1]
    >>> area_labels([0, 1.5, 1], 3)
    Traceback (most recent call last):
    ...
    ValueError: labels must be area numbers 0, 1, ...; node 1 has 1.5
    """
    values = as_node_array("labels", labels, n, minimum=0)  # finite, one per machine, >= 0
    fractional = np.flatnonzero(values != np.round(values))
    if fractional.size:
        i = int(fractional[0])
        raise ValueError(f"labels must be area numbers 0, 1, ...; node {i} has {float(values[i])!r}")
    return values.astype(int)


def marker_sizes(inertia, smallest=5.0, largest=18.0):
    """Marker diameters (points) growing with the square root of each machine's inertia."""
    root = np.sqrt(np.asarray(inertia, dtype=float))
    return smallest + (largest - smallest) * root / root.max()


def plot_area_map(case, labels, *, coordinates=None, path=None, title=None, figsize=(8, 7), dpi=120):
    """The areas on the grid: branches in grey, machines coloured by area and sized by inertia.

    Parameters
    ----------
    case : Case
    labels : array_like of int, shape (n,)
        Area (cluster number, 0 first) of every node of ``case.model``.
    coordinates : GridCoordinates, optional
        Default :func:`grid_coordinates` of ``case``.
    path : str or Path, optional
        Save the figure there (atomically).
    title : str, optional
    figsize : tuple
    dpi : int

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.collections import LineCollection

    grid = grid_coordinates(case) if coordinates is None else coordinates
    labels = area_labels(labels, case.model.n)
    k = int(labels.max()) + 1
    fig, ax = subplots(figsize=figsize, layout="constrained")
    segments = grid.bus_xy[grid.branches]
    ax.add_collection(LineCollection(segments, linewidths=0.6, colors="0.7", zorder=1))
    sizes = marker_sizes(case.model.inertia) ** 2
    for c, color in enumerate(area_colors(k)):
        members = labels == c
        ax.scatter(grid.machine_xy[members, 0], grid.machine_xy[members, 1], s=sizes[members], color=color,
                   edgecolors="0.15", linewidths=0.5, zorder=2, label=f"area {c + 1} ({int(members.sum())})")
    ax.autoscale_view()
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_axis_off()
    ax.legend(loc="best", fontsize="small", ncols=1 if k <= 10 else 2)
    ax.set_title(title or f"{k} areas on the grid of {case.name} ({case.model.n} machines)", fontsize="medium")
    ax.text(0.0, -0.01, f"positions: {grid.source}; marker area grows with inertia", transform=ax.transAxes,
            fontsize="x-small", va="top", color="0.3")
    if path is not None:
        save_figure(fig, path, dpi=dpi)
    return fig
