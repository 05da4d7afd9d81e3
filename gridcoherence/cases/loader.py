"""Network cases: :func:`load_case` by name, file or pandapower network, and the build of its model.

A *case* is everything needed to build a :class:`~gridcoherence.NetworkModel`: the network
(a pandapower network, inline bus/branch tables, a stochastic block model or an explicit
graph), the dynamic parameters of every machine with their units, the coupling f(s), and
where each number comes from. Case files are TOML (format version 1), read with the
standard-library ``tomllib`` only (nothing is evaluated) and validated on load: every error
is a :class:`~gridcoherence.cases.schema.CaseError` naming the file, the field and the
problem, and data that is legitimate only on purpose (negative reactances, a machine where
nothing generates) loads with a :class:`~gridcoherence.cases.schema.CaseWarning`. Network
files are data too: pandapower JSON is read through the allowlist of
:mod:`~gridcoherence.cases.pandapower_json` (a file cannot make the reader import a
module), MATPOWER files are checked line by line (:mod:`~gridcoherence.cases.matpower`).
The format is declared field by field in :mod:`gridcoherence.cases.schema`; its reference,
with the per-unit conversions of (3.84), is ``docs/case-format.md``.

Bundled cases live in the top-level ``cases/`` folder, installed as the data package
``gridcoherence.bundled_cases``; :mod:`~gridcoherence.cases.bundled` finds and lists them
(:func:`~gridcoherence.cases.bundled.list_cases`) without importing numpy. Power networks
come from :mod:`~gridcoherence.cases.network_sources`, their machines from
:mod:`~gridcoherence.cases.machines`, and go through :mod:`~gridcoherence.cases.powerflow`
(AC power flow, linearization, Kron reduction onto the machines): the model's nodes are the
machines, f(s) = 1/s and the output is each machine's frequency deviation (rad/s).
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import math
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..models.kron import KronReduction
from ..models.laplacian import smallest_eigenpairs
from ..models.network import NetworkModel
from .bundled import bundled_path, list_cases
from .machines import UNIFORM_RULE, graph_nodes, machines_reader, power_machines
from .network_sources import bus_grid, graph_laplacian, pandapower_net, warn_negative_reactances
from .schema import FORMAT_VERSION, POWER_SOURCES, CaseError, TableReader, table_source

__all__ = ["Case", "CaseMetadata", "load_case", "case_summary", "model_units"]


@dataclass(frozen=True)
class CaseMetadata:
    """What a case is and where its numbers come from.

    Attributes
    ----------
    name, description : str
    source : str
        The file (or ``pandapower:<name>``, or ``pandapower network '<net.name>'`` for a
        network given in memory) the case was read from.
    provenance : dict of str -> str
    units : dict of str -> str
        Units of the model quantities (node parameters, Laplacian, output).
    base_mva, frequency_hz : float or None
    machine_bus : tuple or None
        Bus of every node (power networks), in node order.
    options : dict
        Options the case was loaded with (scale, keep_main_island, ...).
    details : dict
        Case-specific facts: dropped machines, negative weights, SBM labels, types, ...;
        power networks: ``bus_grid``, the buses, branches and bus coordinates
        (:class:`~gridcoherence.cases.network_sources.BusGrid`), and ``network_sha256``, the
        SHA-256 hash of a network given in memory as pandapower JSON (None otherwise); and
        ``coordinates``, the (x, y) of every machine's bus from the
        network's bus geodata (None when some bus has none), which place the cluster map.
    """

    name: str
    description: str
    source: str
    provenance: dict
    units: dict
    base_mva: float | None = None
    frequency_hz: float | None = None
    machine_bus: tuple | None = None
    options: dict = field(default_factory=dict)
    details: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Case:
    """A loaded case: the network model and its metadata.

    Attributes
    ----------
    model : NetworkModel
        Node names are the machine names; f(s) = 1/s for power networks.
    metadata : CaseMetadata
    """

    model: NetworkModel
    metadata: CaseMetadata

    @property
    def name(self):
        return self.metadata.name

    def spectrum_summary(self, k=6):
        """lambda_2, the gaps of the k smallest Laplacian eigenvalues and the suggested number of clusters.

        Returns
        -------
        dict
            ``eigenvalues`` (k smallest of L, ascending), ``lambda_2``, ``gaps``
            (lambda_{i+1} - lambda_i for i = 1..k-1), ``embedding`` (the embedding the
            reduction clusters by default,
            :func:`gridcoherence.models.embedding.default_embedding`: ``"inertia"``,
            M^{-1} L, for machines) and ``suggested_k``: the package's one eigengap rule,
            :func:`gridcoherence.models.eigengap.suggest_k`, on the
            ``min(n, DEFAULT_MAX_CLUSTERS + 1)`` smallest eigenvalues of that embedding
            (:func:`gridcoherence.models.embedding.suggest_k_for`, whatever k is) -- the k
            that ``gridcoherence info`` reports and that :func:`gridcoherence.reduce_network`
            uses without k (None for a single node).
        """
        from ..models.eigengap import suggestion_count
        from ..models.embedding import EigenpairCache, default_embedding, suggest_k_for

        n = self.model.n
        k = min(k, n)
        cache = EigenpairCache.for_model(self.model)
        values = cache.eigenpairs("laplacian", max(k, suggestion_count(n))).values
        embedding = default_embedding(self.model.nodes.inertia)
        gaps = np.diff(values[:k])
        return {
            "eigenvalues": values[:k].tolist(),
            "lambda_2": float(values[1]) if k > 1 else 0.0,
            "gaps": gaps.tolist(),
            "embedding": embedding,
            "suggested_k": suggest_k_for(cache, embedding),
        }


def model_units(power, coupling):
    """Units of the model quantities of a case (``CaseMetadata.units``).

    Examples
    --------
    >>> model_units(True, "1/s")["output"]
    'frequency deviation, rad/s'
    """
    return {
        "m": "p.u. s^2/rad (system base)", "d": "p.u. s/rad", "turbine_gain": "p.u. s/rad",
        "turbine_tau": "s", "laplacian": "p.u. power per rad (system base)" if power else "graph weights",
        "output": "frequency deviation, rad/s" if coupling == "1/s" else "node output",
    }


# ---------------------------------------------------------------------------- reading
def case_summary(case):
    """The facts :func:`~gridcoherence.cases.bundled.bundled_case_index` stores for a case (and
    ``gridcoherence cases`` shows).

    Returns
    -------
    dict
        ``machines`` (nodes), ``buses`` (buses of the power network before Kron reduction;
        None for graphs), ``edges`` (of the model's Laplacian), ``lambda_2`` (its algebraic
        connectivity, 6 significant digits) and ``description``.

    Examples
    --------
    >>> case_summary(load_case("coherent5"))["lambda_2"]
    50.0
    """
    model = case.model
    lambda_2 = smallest_eigenpairs(model.laplacian, 2).values[1] if model.n > 1 else 0.0
    return {"machines": model.n, "buses": case.metadata.details.get("n_buses"),
            "edges": model.n_edges, "lambda_2": float(f"{lambda_2:.6g}"),
            "description": case.metadata.description}


def load_case(name_or_path, *, machines=None, machine_seed=None, scale=None, keep_degree=False,
              keep_main_island=None, linearization=None):
    """Load a case as a :class:`Case` (network model + metadata).

    Parameters
    ----------
    name_or_path : str, Path, dict or pandapowerNet
        A bundled case name (see :func:`~gridcoherence.cases.bundled.list_cases`); a path
        to a case ``.toml`` file; ``"pandapower:<name>"`` for a network of
        ``pandapower.networks``; a path to a pandapower JSON file (``.json``; only the
        objects of :data:`~gridcoherence.cases.pandapower_json.ALLOWED_OBJECTS`) or a
        MATPOWER case (``.m`` or ``.mat``); or a pandapower network in memory (a copy is
        solved; the network itself is not changed). The last four are networks given
        without a case file: their machines are ``machines``. ``"tops:<name>"``
        (``k2a``, ``ieee39``, ``ieee68``, ``n44``) or a TOPS model dict: a model of the
        TOPS simulator with its own machine data (:mod:`gridcoherence.cases.tops`;
        optional extra ``validate``).
    machines : str, Path or pandas.DataFrame, optional
        Networks given without a case file only. ``"typical"`` (the default): typical data
        by machine type and size (:mod:`~gridcoherence.cases.typical_machines`);
        ``"uniform"``: :data:`~gridcoherence.cases.machines.UNIFORM_RULE`, the same data
        for every machine; a CSV file or a DataFrame of per-machine data over the typical
        data (columns in :mod:`~gridcoherence.cases.machine_overrides`).
    machine_seed : int, optional
        Networks given without a case file: seed of the type draws of machines of unknown
        type (default 0).
    scale : int, optional
        Stochastic block model cases only: multiply every block size by ``scale`` (same
        block proportions, n = scale * n_0).
    keep_degree : bool
        With ``scale``: divide the edge probabilities Q by ``scale`` so the expected degrees
        stay as in the base case (sparse regime, e.g. for 10^6 nodes). By default Q is
        kept, so degrees and lambda_{k+1} grow with n (the regime of Thm 3.10).
    keep_main_island : bool, optional
        Power networks: override the case's choice (keep the largest machine group instead
        of raising on islands).
    linearization : {"network", "reduced"}, optional
        Power networks: override the case's choice (:func:`gridcoherence.cases.powerflow.machine_network`).

    Returns
    -------
    Case
        Power networks: ``case.metadata.details["machine_data"]`` holds every machine's
        data and where it comes from (as a table: :func:`~gridcoherence.cases.machines.machine_data_table`).

    Raises
    ------
    CaseError
        Unknown name (the message lists the bundled cases), invalid file, failed power flow,
        islands, a machines table that does not fit the network, ``machines`` given with a
        case file, ...
    TypeError
        ``name_or_path`` is neither a name, a path nor a pandapower network.

    Warns
    -----
    CaseWarning
        Branches of negative series reactance other than the case states, table machines
        at buses where nothing generates.

    Examples
    --------
    >>> case = load_case("coherent5")
    >>> case.model.n, round(float(case.model.nodes.m.sum()), 4)
    (5, 0.0683)
    """
    overrides = {"scale": scale, "keep_degree": keep_degree, "keep_main_island": keep_main_island,
                 "linearization": linearization}
    machine_choice = (machines, machine_seed)
    tops_dict = isinstance(name_or_path, dict) and type(name_or_path).__name__ != "pandapowerNet"  # a dict too
    if tops_dict or (isinstance(name_or_path, str) and name_or_path.startswith("tops:")):
        return _from_tops(name_or_path, overrides)
    if not isinstance(name_or_path, (str, os.PathLike)):
        return _from_network_source(_given_label(name_or_path), {"source": "pandapower"}, overrides,
                                    machine_choice, given=copy.deepcopy(name_or_path))
    text = str(name_or_path)
    if text.startswith("pandapower:"):
        return _from_network_source(text, {"source": "pandapower", "name": text.split(":", 1)[1]},
                                    overrides, machine_choice)
    path = Path(text)
    if path.suffix.lower() in (".json", ".m", ".mat"):
        if not path.is_file():
            raise CaseError(text, "file", "no such file")
        source = "pandapower_json" if path.suffix.lower() == ".json" else "matpower"
        return _from_network_source(text, {"source": source, "file": str(path.resolve())}, overrides,
                                    machine_choice)
    if machines is not None or machine_seed is not None:
        raise CaseError(text, "machines", "machines= and machine_seed= are for networks given without a case file "
                        "(pandapower:<name>, .json, .m, .mat or a pandapower network); a case file states its "
                        "machines in its [machines] table")
    if path.suffix.lower() == ".toml" or path.is_file():
        if not path.is_file():
            raise CaseError(text, "file", "no such file")
        return _load_document(path, path.read_bytes(), path.parent, overrides)
    bundled = bundled_path(text)
    if not bundled.is_file():
        close = difflib.get_close_matches(text, list_cases(), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise CaseError(text, "name", f"no bundled case of that name.{hint} Available: "
                        f"{', '.join(list_cases())}; or give a .toml/.json/.m path or "
                        "'pandapower:<network>'")
    return _load_document(Path(str(bundled)), bundled.read_bytes(), None, overrides)


def _given_label(net):
    """The source label of a pandapower network given in memory, or TypeError for anything else."""
    import pandapower as pp

    if not isinstance(net, pp.pandapowerNet):
        raise TypeError("load_case takes a case name, a path, a pandapower network (pandapowerNet) or a TOPS "
                        "model dict, got "
                        f"{type(net).__name__}")
    name = net.get("name")
    return f"pandapower network {name!r}" if isinstance(name, str) and name.strip() else "pandapower network"


#: Machine rules of :func:`load_case` for networks given without a case file, by name.
MACHINE_RULES = ("typical", "uniform")


def _machines_document(label, machines, seed):
    """The ``[machines]`` table, its provenance, the machines table over it (a CSV path, a DataFrame or
    None) and the option recorded."""
    import pandas as pd

    seed = 0 if seed is None else seed
    typical = {"source": "typical", "seed": seed}
    provenance = (f"gridcoherence.cases.typical_machines: typical data by machine type and size "
                  f"(types drawn by size with seed {seed} where the network does not give them)")
    if machines is None or (isinstance(machines, str) and machines == "typical"):
        return typical, provenance, None, "typical"
    if isinstance(machines, str) and machines == "uniform":
        return ({"source": "rule", **UNIFORM_RULE, "seed": seed},
                "gridcoherence.cases.machines.UNIFORM_RULE: the same data for every machine", None, "uniform")
    if isinstance(machines, pd.DataFrame):
        return typical, provenance + "; per-machine data from a DataFrame", machines, "DataFrame"
    if isinstance(machines, (str, os.PathLike)):
        path = Path(machines)
        if isinstance(machines, str) and path.suffix.lower() != ".csv" and not path.is_file():
            close = difflib.get_close_matches(machines, MACHINE_RULES, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise CaseError(label, "machines", f"unknown machine rule {machines!r}{hint} (give "
                            f"{' or '.join(map(repr, MACHINE_RULES))}, a CSV file or a pandas DataFrame)")
        if not path.is_file():
            raise CaseError(label, "machines", f"no such file {str(path)!r}")
        return typical, provenance + f"; per-machine data from {path.name}", path.resolve(), str(path)
    raise TypeError(f"machines must be {' or '.join(map(repr, MACHINE_RULES))}, a CSV file path or a pandas "
                    f"DataFrame, got {type(machines).__name__}")


def _from_network_source(label, network, overrides, machine_choice, given=None):
    machines, seed = machine_choice
    table, provenance, frame, option = _machines_document(label, machines, seed)
    what = "uniform machine data" if option == "uniform" else "typical machine data by type and size"
    document = {
        "format_version": FORMAT_VERSION, "name": label,
        "description": f"{label} with {what}",
        "provenance": {"network": label, "machines": provenance},
        "network": network, "machines": table,
    }
    overrides = {**overrides, "network": given, "machine_table": frame,
                 "machine_options": {"machines": option, "machine_seed": table["seed"]}}
    return _build(document, label, Path.cwd(), overrides)


def _from_tops(source, overrides):
    """A TOPS model as a case (:func:`gridcoherence.cases.tops.tops_network`)."""
    from .tops import tops_network

    label = "TOPS model" if isinstance(source, dict) else str(source)
    for key, value in overrides.items():
        if value not in (None, False) and not (key == "linearization" and value == "network"):
            raise CaseError(label, key, f"does not apply to TOPS models (their machine network is the 'network' "
                            f"linearization at TOPS's load flow), got {value!r}")
    return tops_network(source).case


def _load_document(path, raw, folder, overrides):
    try:
        document = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CaseError(path, "(file)", f"not valid TOML: {exc}") from exc
    return _build(document, path, folder if folder is not None else path.parent, overrides)


def _build(document, source, folder, overrides):
    """The :class:`Case` of a parsed case document."""
    top = TableReader(source, document, "")
    version = top.value("format_version")
    if version != FORMAT_VERSION:
        raise CaseError(source, "format_version", f"unsupported version {version}; this gridcoherence "
                        f"reads version {FORMAT_VERSION}")
    name = top.value("name")
    description = top.value("description")
    provenance = top.value("provenance")
    network_table = top.value("network")
    kind = table_source(source, network_table, "network")
    network = TableReader(source, network_table, "network", kind)
    power = kind in POWER_SOURCES
    machines = machines_reader(source, top.value("machines"), power)
    coupling = network.value("coupling")
    connectivity = network.value("connectivity_scale")
    if overrides["scale"] is not None and kind != "sbm":
        raise CaseError(source, "scale", "only stochastic block model cases can be scaled")
    base_mva = top.value("base_mva")
    frequency = top.value("frequency_hz")
    kron = None
    if power:
        laplacian, kron, nodes, node_names, machine_bus, details, options = _power_case(
            source, network, machines, folder, overrides, base_mva, frequency)
        options.update(overrides.get("machine_options", {}))
        base_mva, frequency = details.pop("base_mva"), details.pop("frequency_hz")
    else:
        laplacian, details, options = graph_laplacian(source, network, overrides)
        nodes, node_names = graph_nodes(source, machines, laplacian.shape[0])
        machine_bus = None
    model = NetworkModel(nodes, connectivity * laplacian, coupling=coupling, node_names=node_names,
                         name=name, allow_negative_weights=details.get("negative_weights", 0) > 0,
                         kron=None if kron is None else kron.scaled(connectivity))
    units = model_units(machine_bus is not None, coupling)
    options["connectivity_scale"] = connectivity
    metadata = CaseMetadata(name=name, description=description, source=str(source),
                            provenance=dict(provenance), units=units, base_mva=base_mva,
                            frequency_hz=frequency, machine_bus=machine_bus, options=options,
                            details=details)
    return Case(model, metadata)


def _machine_coordinates(grid, buses):
    """(x, y) of each machine bus from the network's :class:`BusGrid`, or None without coordinates."""
    if grid.coordinates is None:
        return None
    position = {int(bus): i for i, bus in enumerate(grid.buses)}
    return grid.coordinates[[position[int(bus)] for bus in buses]].tolist()


def _power_case(source, network, machines, folder, overrides, base_mva, frequency):
    """Solve a power network, attach its machines and reduce onto them.

    The machine data is re-attached to the machines the reduction keeps by their positions
    (:attr:`~gridcoherence.cases.powerflow.MachineNetwork.kept`), never by name.
    """
    import pandapower as pp

    from .powerflow import (IslandError, PowerFlowError, machine_network, negative_reactance_branches,
                            solve_power_flow)

    given = overrides.get("network")
    # A network given in memory has no file to identify it by: its pandapower JSON, before solving.
    given_sha256 = None if given is None else hashlib.sha256(pp.to_json(given).encode("utf-8")).hexdigest()
    net = pandapower_net(source, network, folder, base_mva, frequency, given=given)
    if base_mva is not None and not math.isclose(float(net.sn_mva), base_mva):
        raise CaseError(source, "base_mva", f"is {base_mva} but the network's base is {net.sn_mva} MVA")
    base = float(net.sn_mva)
    frequency = frequency if frequency is not None else float(net.f_hz)
    keep_main_island = overrides["keep_main_island"]
    keep_main_island = (network.value("keep_main_island") if keep_main_island is None
                        else network.check("keep_main_island", keep_main_island))
    linearization = overrides["linearization"]
    linearization = (network.value("linearization") if linearization is None
                     else network.check("linearization", linearization))
    network.value("loads")  # checks it is the one load model there is, constant impedance
    try:
        solve_power_flow(net, name=str(source))
    except PowerFlowError as exc:
        raise CaseError(source, "network", str(exc)) from exc
    if network.variant in ("pandapower", "pandapower_json"):  # inline and MATPOWER rows: on reading
        warn_negative_reactances(source, network, negative_reactance_branches(net))
    data = power_machines(source, machines, net, base, frequency, folder, overrides.get("machine_table"))
    try:
        reduced = machine_network(net, data.machines, name=str(source), linearization=linearization,
                                  keep_main_island=keep_main_island, run_power_flow=False)
    except IslandError as exc:
        raise CaseError(source, "network", str(exc)) from exc
    except (PowerFlowError, ArithmeticError, ValueError) as exc:
        raise CaseError(source, "machines" if "machine" in str(exc) else "network", str(exc)) from exc
    details = data.kept_details(reduced.kept)
    grid = bus_grid(net)
    details.update(converter_generators=data.converter_generators, dropped_machines=reduced.dropped, negative_weights=reduced.negative_weights,
                   emf=reduced.emf, machine_power=reduced.power, base_mva=base, frequency_hz=frequency,
                   n_buses=len(net.bus), bus_grid=grid, network_sha256=given_sha256,
                   coordinates=_machine_coordinates(grid, [m.bus for m in reduced.machines]))
    options = {"keep_main_island": keep_main_island, "linearization": linearization}
    kron = None if reduced.full_laplacian is None else KronReduction(reduced.full_laplacian, len(reduced.machines))
    return (reduced.laplacian, kron, data.nodes(reduced.kept), [m.name for m in reduced.machines],
            tuple(int(m.bus) for m in reduced.machines), details, options)
