"""Network sources of a case: the ``[network]`` table as a pandapower network or a Laplacian.

Power networks (``network.source`` pandapower, pandapower_json, matpower, inline) become a
pandapower network, which :mod:`gridcoherence.cases.powerflow` solves and Kron-reduces onto
the machines: a function of ``pandapower.networks`` by name, a pandapower JSON file, a
MATPOWER case (through pandapower's converter) or inline MATPOWER-style tables
(:func:`inline_net`, with :func:`charging_to_shunts` for tapped branches). Graph networks
(``sbm``, ``graph``) become a Laplacian directly (:func:`graph_laplacian`). Every function
reads its table through a :class:`~gridcoherence.cases.schema.TableReader` and raises
:class:`~gridcoherence.cases.schema.CaseError` naming the field.
"""

from __future__ import annotations

import difflib
import logging
import warnings
from pathlib import Path

import numpy as np

from ..models.laplacian import build_laplacian
from .schema import CaseError

__all__ = ["charging_to_shunts"]


def pandapower_net(source, network, folder, base_mva, frequency_hz):
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

    Returns
    -------
    pandapowerNet
    """
    import pandapower as pp
    import pandapower.networks as pn

    kind = network.variant
    if kind == "pandapower":
        name = network.value("name")
        factory = getattr(pn, name, None)
        if not callable(factory) or name.startswith("_"):
            close = difflib.get_close_matches(name, [n for n in dir(pn) if not n.startswith("_")], n=3)
            raise CaseError(source, "network.name", f"pandapower.networks has no network {name!r}"
                            + (f"; close: {close}" if close else ""))
        return factory()
    if kind == "inline":
        return inline_net(source, network, base_mva, frequency_hz)
    file = Path(network.value("file"))
    file = file if file.is_absolute() else Path(folder) / file
    if not file.is_file():
        raise CaseError(source, "network.file", f"no such file {str(file)!r}")
    try:
        if kind == "pandapower_json":
            return pp.from_json(str(file))
        from pandapower.converter.matpower import from_mpc
        return from_mpc(str(file), f_hz=frequency_hz or 50.0)
    except Exception as exc:  # the converters raise many types on malformed input
        raise CaseError(source, "network.file", f"could not read {file.name}: {exc}") from exc


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
    numbers = bus[:, 0].astype(np.int64)
    if np.unique(numbers).size != numbers.size:
        raise CaseError(source, "network.bus", "bus numbers must be unique")
    if not np.isin(bus[:, 1], (1, 2, 3)).all():
        raise CaseError(source, "network.bus", "bus type (column 2) must be 1 (PQ), 2 (PV) or 3 (ref)")
    if np.count_nonzero(bus[:, 1] == 3) < 1:
        raise CaseError(source, "network.bus", "no reference bus (type 3)")
    if np.any(bus[:, 6] <= 0) or np.any(bus[:, 8] <= 0):
        raise CaseError(source, "network.bus", "voltage magnitudes and base kV must be > 0")
    for key, table, columns in (("gen", gen, [0]), ("branch", branch, [0, 1])):
        unknown = ~np.isin(table[:, columns], numbers)
        if unknown.any():
            row, col = np.argwhere(unknown)[0]
            raise CaseError(source, f"network.{key}", f"row {row} refers to unknown bus "
                            f"{int(table[row, columns[col]])}")
    if np.any(branch[:, 3] == 0):
        raise CaseError(source, "network.branch", f"row {int(np.flatnonzero(branch[:, 3] == 0)[0])} has "
                        "zero reactance")
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
    details.update(labels=sample.labels, sizes=sizes.tolist(), Q=Q.tolist(), W=W.tolist(), seed=seed)
    return sample.laplacian, details, options


def _edge_list_laplacian(source, network):
    n = network.value("n")
    edges = network.value("edges")
    if edges.shape[1:] != (3,):
        raise CaseError(source, "network.edges", "rows must be [i, j, weight]")
    ends = edges[:, :2]
    if np.any(ends != np.round(ends)) or ends.min() < 0 or ends.max() >= n:
        raise CaseError(source, "network.edges", f"endpoints must be node numbers 0..{n - 1}")
    if np.any(edges[:, 2] <= 0):
        raise CaseError(source, "network.edges", "weights must be > 0")
    try:
        return build_laplacian([(int(i), int(j), w) for i, j, w in edges], n=n)
    except ValueError as exc:
        raise CaseError(source, "network.edges", str(exc)) from exc
