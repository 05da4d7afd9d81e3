"""Network sources of a case: the ``[network]`` table as a pandapower network or a Laplacian.

Power networks (``network.source`` pandapower, pandapower_json, matpower, inline) become a
pandapower network, which :mod:`gridcoherence.cases.powerflow` solves and Kron-reduces onto
the machines: a function of ``pandapower.networks`` by name (:func:`named_network`), a
pandapower JSON file (read through the allowlist of
:mod:`~gridcoherence.cases.pandapower_json`, so a file cannot make the reader import or run
anything), a MATPOWER case (checked by :mod:`~gridcoherence.cases.matpower`, then converted
by pandapower's converter) or inline MATPOWER-style tables (:func:`inline_net`, with
:func:`charging_to_shunts` for tapped branches). Branches of negative series reactance
are reported as a :class:`~gridcoherence.cases.schema.CaseWarning`
(:func:`warn_negative_reactances`). Graph networks
(``sbm``, ``graph``) become a Laplacian directly (:func:`graph_laplacian`). The buses,
branches and bus coordinates of a power network are kept for maps (:func:`bus_grid`). Every function
reads its table through a :class:`~gridcoherence.cases.schema.TableReader` and raises
:class:`~gridcoherence.cases.schema.CaseError` naming the field.
"""

from __future__ import annotations

import copy
import difflib
import functools
import inspect
import json
import logging
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import scipy.sparse.csgraph as csgraph

from ..models.laplacian import build_laplacian
from .matpower import check_grid_tables, read_matpower
from .pandapower_json import read_pandapower_json
from .schema import CaseError, CaseWarning

__all__ = ["charging_to_shunts", "bus_grid", "BusGrid"]


def pandapower_net(source, network, folder, base_mva, frequency_hz, given=None):
    """The pandapower network of a power-network case (not yet solved).

    Parameters
    ----------
    source : str or Path
        The case, for error messages.
    network : TableReader
        The ``[network]`` table, read as its ``source``.
    folder : Path
        Relative file names are relative to this folder (the case file's).
    base_mva, frequency_hz : float or None
        The case's system base and frequency (inline tables need both).
    given : pandapowerNet, optional
        A network given in memory (``network.source = "pandapower"`` without a name): used
        as it is (the caller passes a copy), checked like the others.

    Returns
    -------
    pandapowerNet
        With buses and a reference (an in-service ext_grid or slack gen). Branches of
        negative reactance in inline or MATPOWER rows are reported here
        (:func:`warn_negative_reactances`), those of other pandapower networks once solved.
    """
    kind = network.variant
    if given is not None:
        net = given
    elif kind == "pandapower":
        net = named_network(source, network.value("name"))
    elif kind == "inline":
        net = inline_net(source, network, base_mva, frequency_hz)
    else:
        file = Path(network.value("file"))
        file = file if file.is_absolute() else Path(folder) / file
        if not file.is_file():
            raise CaseError(source, "network.file", f"no such file {str(file)!r}")
        if kind == "pandapower_json":
            net = read_pandapower_json(source, "network.file", file)
        else:
            net, negative = read_matpower(source, file, frequency_hz)
            warn_negative_reactances(source, network, negative)
    _check_buses_and_reference(source, net)
    return net


@dataclass(frozen=True)
class BusGrid:
    """The buses and branches of a power network, for drawing it.

    Attributes
    ----------
    buses : ndarray of int, shape (n_buses,)
        The pandapower bus indices, in the network's order.
    branches : ndarray of int, shape (n_branches, 2)
        Positions in ``buses`` of the two ends of every in-service line, transformer
        winding pair and impedance (a three-winding transformer is its hv-mv and hv-lv pairs).
    coordinates : ndarray, shape (n_buses, 2), or None
        The network's bus coordinates (pandapower ``bus.geo`` points, or ``bus_geodata``
        x, y of older files) when every bus has finite ones; None otherwise.
    """

    buses: np.ndarray
    branches: np.ndarray
    coordinates: np.ndarray | None


#: Bus columns of each pandapower branch table whose in-service rows :func:`bus_grid` draws.
_BRANCH_ENDS = {"line": [("from_bus", "to_bus")], "trafo": [("hv_bus", "lv_bus")],
                "trafo3w": [("hv_bus", "mv_bus"), ("hv_bus", "lv_bus")], "impedance": [("from_bus", "to_bus")]}


def bus_grid(net):
    """The :class:`BusGrid` of a pandapower network: buses, branches and bus coordinates.

    Examples
    --------
    >>> import pandapower.networks as pn
    >>> grid = bus_grid(pn.case9())
    >>> grid.buses.size, grid.branches.shape, grid.coordinates.shape
    (9, (9, 2), (9, 2))
    """
    buses = net.bus.index.to_numpy()
    position = {int(b): i for i, b in enumerate(buses)}
    ends = []
    for table, pairs in _BRANCH_ENDS.items():
        frame = net[table] if table in net else None
        if frame is None or len(frame) == 0:
            continue
        frame = frame[frame["in_service"].astype(bool)]
        for first, second in pairs:
            ends += [(position[int(a)], position[int(b)]) for a, b in zip(frame[first], frame[second])]
    branches = np.array(ends, dtype=int).reshape(-1, 2)
    return BusGrid(buses=buses, branches=branches, coordinates=_bus_coordinates(net))


def _bus_coordinates(net):
    """Finite (x, y) of every bus from ``bus.geo`` or ``bus_geodata``, or None if any bus lacks them."""
    if "geo" in net.bus and net.bus["geo"].notna().all():
        points = [json.loads(text) if isinstance(text, str) else text for text in net.bus["geo"]]
        if not all(isinstance(p, dict) and p.get("type") == "Point" for p in points):
            return None
        xy = np.array([p["coordinates"][:2] for p in points], dtype=float)
    elif "bus_geodata" in net and len(net.bus_geodata) and net.bus.index.isin(net.bus_geodata.index).all():
        xy = net.bus_geodata.loc[net.bus.index, ["x", "y"]].to_numpy(dtype=float)
    else:
        return None
    return xy if np.isfinite(xy).all() else None


def _builds_network(function):
    """Whether a name of ``pandapower.networks`` is a test network: defined there, callable without arguments."""
    if not callable(function) or not getattr(function, "__module__", "").startswith("pandapower.networks."):
        return False
    return all(p.default is not p.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
               for p in inspect.signature(function).parameters.values())


def named_network(source, name):
    """The network of ``pandapower.networks.<name>()``: only the functions that build networks.

    pandapower.networks also re-exports pandapower's element functions (``create_bus``,
    ``create_empty_network``, ...); they are not networks and are refused, as are
    functions that need arguments or return no network.
    """
    import pandapower as pp
    import pandapower.networks as pn

    networks = sorted(n for n in dir(pn) if not n.startswith("_") and _builds_network(getattr(pn, n)))
    if name not in networks:
        what = f" ({name} is a pandapower function that builds no network)" if hasattr(pn, name) else ""
        close = difflib.get_close_matches(name, networks, n=1)
        raise CaseError(source, "network.name", f"pandapower.networks has no network {name!r}{what}"
                        + (f"; did you mean {close[0]!r}?" if close else ""))
    try:
        net = _built_network(name)
    except TypeError as exc:
        raise CaseError(source, "network.name", f"pandapower.networks.{name} needs arguments: {exc}") from exc
    if not isinstance(net, pp.pandapowerNet):
        raise CaseError(source, "network.name", f"pandapower.networks.{name}() returns a "
                        f"{type(net).__name__}, not a network")
    # A copy: the caller solves a power flow on it (and may change it); the cached one stays as built.
    return copy.deepcopy(net)


@functools.lru_cache(maxsize=8)
def _built_network(name):
    """``pandapower.networks.<name>()``, built once per process.

    Building parses pandapower's JSON file of the network: 0.4 s for the Icelandic grid,
    against 6 ms for a copy; studies and test suites load the same case many times.
    """
    import pandapower.networks as pn

    return getattr(pn, name)()


def _check_buses_and_reference(source, net):
    """Refuse a network without buses, or without a reference for the power flow."""
    if len(net.bus) == 0:
        raise CaseError(source, "network", "the network has no buses")
    slack_gen = net.gen["in_service"] & net.gen.get("slack", False)
    if not (net.ext_grid["in_service"].any() or slack_gen.any()):
        raise CaseError(source, "network", "the network has no reference for the power flow: no in-service "
                        "ext_grid or slack gen")


def warn_negative_reactances(source, network, negative):
    """Warn (:class:`~gridcoherence.cases.schema.CaseWarning`) unless the branches of negative
    series reactance are as many as the case's ``network.negative_reactances`` states (default 0).

    Negative series reactance is legitimate for series capacitors and in three-winding
    transformer equivalents, and a sign error otherwise; either way it gives negative edge
    weights in the linearized network, so it is said, naming the branches.

    Parameters
    ----------
    source : str or Path
    network : TableReader
        The ``[network]`` table.
    negative : list of str
        The branches of negative reactance, each named with its buses.
    """
    expected = network.value("negative_reactances")
    if len(negative) == expected:
        return
    listed = "; ".join(negative[:8]) + (f"; ... ({len(negative) - 8} more)" if len(negative) > 8 else "")
    found = (f"{len(negative)} branch(es) with negative series reactance: {listed}" if negative
             else "no branch with negative series reactance")
    warnings.warn(CaseWarning(source, "network.negative_reactances", f"{found}, but the case states {expected}. "
                              "Negative reactance is legitimate for series capacitors and three-winding "
                              "transformer equivalents; state their number in network.negative_reactances "
                              "when they are intended"), stacklevel=2)


def inline_net(source, network, base_mva, frequency_hz):
    """A pandapower network from inline MATPOWER-style tables (via pandapower's from_ppc).

    Parameters
    ----------
    source : str or Path
    network : TableReader
        The ``[network]`` table with ``bus``, ``gen`` and ``branch`` rows (columns in the
        field reference of ``docs/case-format.md``).
    base_mva, frequency_hz : float

    Returns
    -------
    pandapowerNet
        Its rows are checked first (:func:`~gridcoherence.cases.matpower.check_grid_tables`);
        branches of negative reactance are reported (:func:`warn_negative_reactances`).
    """
    from pandapower.converter.pypower import from_ppc

    if base_mva is None or frequency_hz is None:
        raise CaseError(source, "base_mva" if base_mva is None else "frequency_hz",
                        "missing (required for inline networks)")
    bus = network.value("bus")
    gen = network.value("gen")
    branch = network.value("branch")
    for key, table, width in (("bus", bus, 9), ("gen", gen, 4), ("branch", branch, 7)):
        if table.shape[1] != width:
            raise CaseError(source, f"network.{key}", f"rows must have {width} columns, got {table.shape[1]}")
    if np.any(bus[:, 6] <= 0) or np.any(bus[:, 8] <= 0):
        raise CaseError(source, "network.bus", "voltage magnitudes and base kV must be > 0")
    negative = check_grid_tables(source, bus[:, :2], np.c_[gen[:, 0], np.ones(len(gen))],
                                 np.c_[branch[:, [0, 1, 3]], np.ones(len(branch))], field=lambda t: f"network.{t}",
                                 row=lambda t, i: f"row {i}", bus_types=(1, 2, 3))
    warn_negative_reactances(source, network, [f"network.branch {text}" for text in negative])
    n_bus, n_gen, n_branch = len(bus), len(gen), len(branch)
    bus, branch = charging_to_shunts(bus, branch, base_mva)
    ppc_bus = np.zeros((n_bus, 13))
    ppc_bus[:, [0, 1, 2, 3, 4, 5, 7, 8, 9]] = bus[:, [0, 1, 2, 3, 4, 5, 6, 7, 8]]
    ppc_bus[:, 6] = 1
    ppc_bus[:, 11], ppc_bus[:, 12] = 2.0, 0.0
    ppc_gen = np.zeros((n_gen, 10))
    ppc_gen[:, [0, 1, 2, 5]] = gen
    ppc_gen[:, 3], ppc_gen[:, 4] = 1e5, -1e5       # no reactive limits: voltages are held
    ppc_gen[:, 6], ppc_gen[:, 7], ppc_gen[:, 8] = base_mva, 1, 1e5
    ppc_branch = np.zeros((n_branch, 13))
    ppc_branch[:, [0, 1, 2, 3, 4]] = branch[:, :5]
    ppc_branch[:, 8], ppc_branch[:, 9] = branch[:, 5], branch[:, 6]
    ppc_branch[:, 10], ppc_branch[:, 11], ppc_branch[:, 12] = 1, -360, 360
    ppc = {"version": "2", "baseMVA": float(base_mva), "bus": ppc_bus, "gen": ppc_gen, "branch": ppc_branch}
    converter_log = logging.getLogger("pandapower.converter.pypower.from_ppc")
    level = converter_log.level
    converter_log.setLevel(logging.ERROR)  # it notes every tapped branch between equal kV levels
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return from_ppc(ppc, f_hz=frequency_hz, validate_conversion=False)
    finally:
        converter_log.setLevel(level)


def charging_to_shunts(bus, branch, base_mva):
    """Move the charging of tapped branches into exactly equivalent bus shunts.

    pandapower's converter turns tapped branches into transformers, whose model has no
    line charging. In the MATPOWER pi model the charging b/2 of a tapped branch appears
    as j b/2 / |t|^2 at the from bus and j b/2 at the to bus, so those shunts (in Mvar at
    1 p.u.) reproduce the admittance matrix exactly.

    Parameters
    ----------
    bus, branch : ndarray
        Inline ``bus`` and ``branch`` rows (Bs in column 6, b, tap and shift in columns
        5-7 of a branch row).
    base_mva : float

    Returns
    -------
    bus, branch : ndarray
        Copies with the charging moved (the inputs when no branch is tapped and charged).

    Examples
    --------
    >>> import numpy as np
    >>> bus = np.array([[1, 3, 0, 0, 0, 0, 1, 0, 230], [2, 1, 0, 0, 0, 0, 1, 0, 230.]])
    >>> branch = np.array([[1, 2, 0, 0.1, 0.2, 0.5, 0]])
    >>> bus, branch = charging_to_shunts(bus, branch, 100.0)
    >>> bus[:, 5].tolist(), branch[:, 4].tolist()
    ([40.0, 10.0], [0.0])
    """
    tapped = ((branch[:, 5] != 0) & (branch[:, 5] != 1)) | (branch[:, 6] != 0)
    moved = tapped & (branch[:, 4] != 0)
    if not moved.any():
        return bus, branch
    bus, branch = bus.copy(), branch.copy()
    row = {int(number): i for i, number in enumerate(bus[:, 0])}
    for k in np.flatnonzero(moved):
        half = branch[k, 4] / 2 * base_mva
        bus[row[int(branch[k, 0])], 5] += half / branch[k, 5] ** 2
        bus[row[int(branch[k, 1])], 5] += half
        branch[k, 4] = 0.0
    return bus, branch


def graph_laplacian(source, network, overrides):
    """The Laplacian of a ``sbm`` or ``graph`` network.

    Parameters
    ----------
    source : str or Path
    network : TableReader
        The ``[network]`` table, read as its ``source``.
    overrides : dict
        :func:`~gridcoherence.cases.loader.load_case` options ``scale`` and ``keep_degree``
        (stochastic block models only).

    Returns
    -------
    laplacian : scipy.sparse.csr_matrix
    details : dict
        SBM: labels, sizes, Q, W, seed.
    options : dict
        SBM scaling applied: scale, keep_degree.
    """
    from .sbm import sample_sbm

    details, options = {}, {}
    if network.variant == "graph":
        return _edge_list_laplacian(source, network), details, options
    sizes = network.value("sizes")
    k = sizes.size
    Q = network.value("Q")
    W = network.value("W")
    for key, M in (("Q", Q), ("W", W)):
        if M.shape != (k, k) or not np.array_equal(M, M.T):
            raise CaseError(source, f"network.{key}", f"must be a symmetric {k}x{k} matrix")
    _check_blocks_joined(source, sizes, Q, W)
    seed = network.value("seed")
    scale = overrides["scale"]
    if scale is not None:
        if isinstance(scale, bool) or not isinstance(scale, (int, np.integer)) or scale < 1:
            raise CaseError(source, "scale", f"must be a positive integer, got {scale!r}")
        sizes = sizes * int(scale)
        if overrides["keep_degree"]:
            Q = Q / scale
        options.update(scale=int(scale), keep_degree=bool(overrides["keep_degree"]))
    sample = sample_sbm(sizes, Q, W, random_state=seed)
    count, _ = csgraph.connected_components(sample.laplacian, directed=False)
    if count > 1:
        raise CaseError(source, "network.Q", f"the graph sampled with network.seed = {seed} is disconnected "
                        f"({count} components): raise the edge probabilities Q or choose another seed")
    details.update(labels=sample.labels, sizes=sizes.tolist(), Q=Q.tolist(), W=W.tolist(), seed=seed)
    return sample.laplacian, details, options


def _check_blocks_joined(source, sizes, Q, W):
    """Refuse block matrices under which every sampled graph is disconnected.

    Blocks a != b are joined when an edge between them can be drawn (Q_ab > 0) with a
    positive weight (W_ab > 0); all blocks must be joined into one group, and a single
    block of several nodes needs Q_aa W_aa > 0.
    """
    for key, drawn in (("Q", Q > 0), ("W", (Q > 0) & (W > 0))):
        between = drawn & ~np.eye(sizes.size, dtype=bool)
        count, labels = csgraph.connected_components(sp.csr_matrix(between), directed=False)
        if count > 1:
            groups = [np.flatnonzero(labels == c).tolist() for c in range(2)]
            raise CaseError(source, f"network.{key}", f"{key} is 0 between blocks {groups[0]} and {groups[1]}: "
                            "no edge joins them, so every sampled graph is disconnected")
        if sizes.size == 1 and sizes[0] > 1 and not drawn[0, 0]:
            raise CaseError(source, f"network.{key}", f"{key} is 0: the graph has no edges")


def _edge_list_laplacian(source, network):
    n = network.value("n")
    edges = network.value("edges")
    if edges.shape[1:] != (3,):
        raise CaseError(source, "network.edges", "rows must be [i, j, weight]")
    for row, (i, j, weight) in enumerate(edges.tolist()):
        if not (float(i).is_integer() and float(j).is_integer() and 0 <= min(i, j) and max(i, j) < n):
            raise CaseError(source, "network.edges", f"row {row} {[i, j, weight]}: endpoints must be node "
                            f"numbers 0..{n - 1}")
        if i == j:
            raise CaseError(source, "network.edges", f"row {row} {[int(i), int(j), weight]} connects node "
                            f"{int(i)} to itself")
        if not weight > 0:
            raise CaseError(source, "network.edges", f"row {row}: weights must be > 0, got {weight!r}")
    try:
        return build_laplacian([(int(i), int(j), w) for i, j, w in edges], n=n)
    except ValueError as exc:
        raise CaseError(source, "network.edges", str(exc)) from exc
