"""Machine data of a case: the ``[machines]`` table as node parameters, machine by machine.

Power networks: table machines (``source = "table"``, machine-base data per machine), rule
machines (``source = "rule"``: one machine per in-service ext_grid and gen of a pandapower
network, its data drawn by machine type, seeded) and typical machines (``source =
"typical"``: one machine per in-service ext_grid and gen, its type from the network data or
by size and its data typical for the type, :mod:`~gridcoherence.cases.typical_machines`,
with a machines table over it, :mod:`~gridcoherence.cases.machine_overrides`) become
:class:`PowerMachines`: the :class:`~gridcoherence.cases.powerflow.Machine` records the
power flow attaches and, in the same order, their parameters of the node family (3.84),
converted to the system base as :data:`~gridcoherence.cases.schema.FIELDS` declares, with
every machine's data and where it comes from (:func:`machine_data_table`). Networks given
without a case file use typical machines; :data:`UNIFORM_RULE` is the rule that gives
every machine the same data. Graph and SBM networks: nodes in model units (``source =
"table"``) or random nodes (``source = "random_family"``, :mod:`~gridcoherence.cases.random_nodes`).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..models.nodes import SwingTurbineNodes
from .machine_overrides import read_machine_overrides
from .random_nodes import random_family_nodes
from .schema import CaseError, CaseWarning, PerUnitBases, TableReader, table_fields, table_source
from .typical_machines import MACHINE_TYPES, QUANTITIES, machine_type, size_class

__all__ = ["UNIFORM_RULE", "PowerMachines", "machine_data_table"]

#: The machine rule ``machines="uniform"`` of :func:`~gridcoherence.cases.loader.load_case`:
#: every machine H = 4 s, D = 1, x'_d = 0.3, 1/R = 20 (5 % droop), tau = 5 s, all on the
#: machine rating.
UNIFORM_RULE = {
    "seed": 0,
    "types": {"generic": {"probability": 1.0, "H": 4.0, "damping": 1.0, "xd_prime": 0.3,
                          "inv_droop": 20.0, "tau": 5.0}},
}

#: Columns of a rule type, in the order of their random draws (changing it changes every
#: rule case).
RULE_COLUMNS = ("H", "damping", "xd_prime", "inv_droop", "tau")
_RULE_TYPE = "machines.types.<type>"


@dataclass(frozen=True)
class PowerMachines:
    """The machines of a power network with their data, one entry per machine, in one order.

    Attributes
    ----------
    machines : list of Machine
        What the power flow needs: bus, x'_d on the system base, element.
    parameters : dict of str -> ndarray
        ``m``, ``d``, ``turbine_gain``, ``turbine_tau`` of the family (3.84), system base.
    details : dict of str -> list
        Per-machine facts for the case metadata: ``machine_data``, one dict per machine
        (the rows of :func:`machine_data_table`).
    converter_generators : list of dict
        Generators left out of the machines because they are converter-interfaced (typical
        machines of type wind or solar): name, element, bus, type, type_source, rating_mva.
    """

    machines: list
    parameters: dict
    details: dict
    converter_generators: list = field(default_factory=list)

    def nodes(self, kept):
        """The nodes of the machines at positions ``kept`` (from :func:`machine_network`)."""
        return SwingTurbineNodes(**{key: values[kept] for key, values in self.parameters.items()})

    def kept_details(self, kept):
        """The per-machine details of the machines at positions ``kept``."""
        return {key: [values[i] for i in kept] for key, values in self.details.items()}


def machines_reader(source, table, power):
    """The ``[machines]`` table read as the variant its source and the network allow.

    Parameters
    ----------
    source : str or Path
    table : dict
    power : bool
        Whether the network is a power network (table or rule machines) or a graph or SBM
        network (nodes in model units or random nodes).

    Returns
    -------
    TableReader
        Variant ``table``, ``rule``, ``typical``, ``nodes`` or ``random_family``.
    """
    kind = table_source(source, table, "machines")
    allowed = ("table", "rule", "typical") if power else ("table", "random_family")
    if kind not in allowed:
        network = "a power network" if power else "this network"
        raise CaseError(source, "machines.source", f"must be {' or '.join(map(repr, allowed))} for {network}, "
                        f"got {kind!r}")
    return TableReader(source, table, "machines", "nodes" if kind == "table" and not power else kind)


def power_machines(source, reader, net, base_mva, frequency_hz, folder=None, machine_table=None):
    """Table, rule or typical machines of a solved pandapower network.

    Parameters
    ----------
    source : str or Path
    reader : TableReader
        From :func:`machines_reader`, variant ``table``, ``rule`` or ``typical``.
    net : pandapowerNet
        With power-flow results (rule and typical machines are rated from them).
    base_mva, frequency_hz : float
        System base and nominal frequency.
    folder : Path, optional
        Typical machines: a relative ``machines.file`` is relative to this folder.
    machine_table : str, Path or pandas.DataFrame, optional
        Typical machines: per-machine data over the typical data
        (:mod:`~gridcoherence.cases.machine_overrides`), given to
        :func:`~gridcoherence.cases.loader.load_case` as ``machines``.

    Returns
    -------
    PowerMachines
    """
    if reader.variant == "table":
        return _table_machines(source, reader, net, base_mva, frequency_hz)
    if reader.variant == "rule":
        return _rule_machines(source, reader, net, base_mva, frequency_hz)
    return _typical_machines(source, reader, net, base_mva, frequency_hz, folder, machine_table)


def _model_parameters(fields, columns, units, bases):
    """Columns in their units -> the model quantities they become (system base)."""
    return {fields[key].model: fields[key].to_model(values, bases, units.get(key))
            for key, values in columns.items() if fields[key].model is not None}


def _table_machines(source, reader, net, base_mva, frequency_hz):
    from .powerflow import Machine

    units = reader.units()
    names = reader.value("name")
    n = len(names)
    bus = reader.value("bus", n)
    unknown = ~np.isin(bus, net.bus.index.to_numpy())
    if unknown.any():
        i = int(np.flatnonzero(unknown)[0])
        raise CaseError(source, "machines.bus", f"machine {names[i]!r} refers to unknown bus {int(bus[i])}")
    _warn_machines_without_generation(source, names, bus, net)
    columns = {key: reader.value(key, n) for key in ("mva", "H", "damping", "xd_prime", "inv_droop", "tau")}
    if reader.has("inv_droop") != reader.has("tau"):
        raise CaseError(source, "machines.tau", "inv_droop and tau must be given together")
    governed = columns["inv_droop"] > 0
    if np.any(columns["tau"][governed] <= 0):
        i = int(np.flatnonzero(governed & (columns["tau"] <= 0))[0])
        raise CaseError(source, "machines.tau", f"machine {names[i]!r} has a governor but tau = "
                        f"{columns['tau'][i]!r} (must be > 0)")
    shares = {key: reader.value(key, n) for key in ("p_share", "q_share")}
    for key, share in shares.items():
        for b in np.unique(bus):
            total = share[bus == b].sum()
            if not math.isclose(total, 1.0, abs_tol=1e-9):
                raise CaseError(source, f"machines.{key}", f"shares of the machines at bus {int(b)} sum to "
                                f"{total!r}, not 1")
    bases = PerUnitBases(columns["mva"], base_mva, frequency_hz)
    parameters = _model_parameters(reader.fields, columns, units, bases)
    xd_prime = parameters.pop("xd_prime")
    machines = [Machine(names[i], int(bus[i]), float(xd_prime[i]), p_share=float(shares["p_share"][i]),
                        q_share=float(shares["q_share"][i])) for i in range(n)]
    columns["xd_prime"] = xd_prime * columns["mva"] / base_mva  # on the machine rating, for the record
    rows = [_data_row(names[i], None, int(bus[i]), None, "not stated (data per machine)", columns["mva"][i],
                      "machines.mva", {key: columns[key][i] for key in RULE_COLUMNS}, "case file [machines] table")
            for i in range(n)]
    return PowerMachines(machines, parameters, {"machine_data": rows})


def _warn_machines_without_generation(source, names, bus, net):
    """Warn about table machines at buses where no in-service gen or ext_grid generates.

    A table machine takes its share of the generation solved at its bus, so at such a bus
    it runs at P = Q = 0, with its EMF equal to the bus voltage: an idle machine or a
    synchronous condenser at zero output. That is a valid operating point, but more often a
    wrong bus number, so it is said.
    """
    generating = {int(b) for kind in ("gen", "ext_grid") for b in net[kind].bus[net[kind].in_service]}
    idle = [i for i, b in enumerate(bus.tolist()) if b not in generating]
    if idle:
        listed = ", ".join(f"{names[i]!r} at bus {int(bus[i])}" for i in idle[:8])
        warnings.warn(CaseWarning(source, "machines.bus", f"no in-service gen or ext_grid at the bus of machine(s) "
                                  f"{listed}{' ...' if len(idle) > 8 else ''}: they run at P = Q = 0 (idle, or a "
                                  "synchronous condenser at zero output); check machines.bus if they generate"),
                      stacklevel=2)


def _rule_types(source, reader):
    """Type names (sorted), their probabilities and their validated column entries."""
    types = reader.value("types")
    if not types:
        raise CaseError(source, "machines.types", "must define at least one machine type")
    names = sorted(types)
    entries = {}
    for t in names:
        rule = TableReader(source, types[t], _RULE_TYPE, label=f"machines.types.{t}")
        entries[t] = {key: rule.value(key) for key in ("probability", *RULE_COLUMNS)}
    probability = [entries[t]["probability"] for t in names]
    if not math.isclose(sum(probability), 1.0, abs_tol=1e-9):
        raise CaseError(source, "machines.types", f"type probabilities sum to {sum(probability)}, not 1")
    return names, probability, entries


def _rule_machines(source, reader, net, base_mva, frequency_hz):
    from .powerflow import element_ratings

    names, probability, entries = _rule_types(source, reader)
    seed = reader.value("seed")
    rng = np.random.default_rng(seed)
    ratings = element_ratings(net)
    n = len(ratings)
    kinds = rng.choice(len(names), size=n, p=np.asarray(probability) / sum(probability))
    columns = {key: np.empty(n) for key in RULE_COLUMNS}
    for t_index, t in enumerate(names):
        chosen = np.flatnonzero(kinds == t_index)
        for key in RULE_COLUMNS:
            entry = entries[t][key]
            columns[key][chosen] = rng.uniform(*entry, size=chosen.size) if isinstance(entry, tuple) else entry
    parameters, machines = _element_machines(net, ratings, columns, base_mva, frequency_hz)
    rows = [_data_row(m.name, f"{kind} {index}", m.bus, names[k], f"drawn with the rule's probabilities (seed {seed})",
                      r, _rating_source(net, kind, index), {key: columns[key][i] for key in RULE_COLUMNS},
                      f"rule machines.types.{names[k]}")
            for i, ((kind, index, r), m, k) in enumerate(zip(ratings, machines, kinds))]
    return PowerMachines(machines, parameters, {"machine_data": rows})


def _element_machines(net, ratings, columns, base_mva, frequency_hz):
    """Model parameters and machines of pandapower elements with machine-base ``columns``."""
    from .powerflow import Machine, element_name

    bases = PerUnitBases(np.array([r for _, _, r in ratings]), base_mva, frequency_hz)
    parameters = _model_parameters(table_fields(_RULE_TYPE), columns, {}, bases)
    xd_prime = parameters.pop("xd_prime")
    machines = [Machine(element_name(net, kind, index), int(net[kind].at[index, "bus"]), float(x),
                        element=(kind, index)) for (kind, index, _), x in zip(ratings, xd_prime)]
    return parameters, machines


def _data_row(name, element, bus, kind, type_source, rating, rating_source, values, data_source):
    """One row of :func:`machine_data_table` (values: machine-base quantities by key)."""
    return {"name": name, "element": element, "bus": bus, "type": kind, "type_source": type_source,
            "rating_mva": float(rating), "rating_source": rating_source,
            **{q.column: float(values[q.key]) for q in QUANTITIES}, "data_source": data_source}


def _rating_source(net, kind, index):
    from .powerflow import given_rating

    return f"{kind}.sn_mva" if given_rating(net, kind, index) is not None else "|S| / 0.85 of the power flow"


def _network_type(net, kind, index):
    """(type, reason) from the element's ``type`` column; type None when absent or not recognized."""
    given = net[kind].at[index, "type"] if "type" in net[kind] else None
    if not isinstance(given, str) or not given.strip():
        return None, ""
    found = machine_type(given)
    if found is None:
        return None, f"{kind}.type {given!r} not recognized; "
    return found, f"{kind}.type {given!r}"


def _typical_type(net, kind, index, rating, draw, given, seed):
    """The type of a typical machine and why: given, from the network, condenser, or drawn by size."""
    if given is not None and given.type is not None:
        return given.type, f"type column of {given.row}"
    found, reason = _network_type(net, kind, index)
    if found is not None:
        return found, reason
    if kind == "gen" and float(net.gen.at[index, "p_mw"]) == 0.0:
        return "synchronous_condenser", reason + "gen with p_mw = 0 (no active power): synchronous condenser"
    size = size_class(rating)
    cumulative = np.cumsum(list(size.probabilities.values()))
    chosen = list(size.probabilities)[min(int(np.searchsorted(cumulative, draw, side="right")),
                                          len(cumulative) - 1)]
    return chosen, reason + f"drawn for size class {size.label()} (rated {rating:.4g} MVA, seed {seed})"


def _typical_machines(source, reader, net, base_mva, frequency_hz, folder, machine_table):
    from .powerflow import element_name, element_ratings

    ratings = element_ratings(net)
    names = [element_name(net, kind, index) for kind, index, _ in ratings]
    file = reader.value("file")
    field_name = "machines.file" if file is not None else "machines"
    if file is not None:
        machine_table = Path(file) if Path(file).is_absolute() or folder is None else Path(folder) / file
    overrides = {} if machine_table is None else read_machine_overrides(source, field_name, machine_table, names)
    seed = reader.value("seed")
    draws = np.random.default_rng(seed).random(len(ratings))  # one per machine, whatever is overridden
    kept, rows, converters = [], [], []
    for i, ((kind, index, flow_rating), name) in enumerate(zip(ratings, names)):
        given = overrides.get(name)
        rating = flow_rating if given is None or given.rating_mva is None else given.rating_mva
        rating_source = (_rating_source(net, kind, index) if given is None or given.rating_mva is None
                         else given.row)
        kind_name, type_source = _typical_type(net, kind, index, rating, draws[i], given, seed)
        entry = MACHINE_TYPES[kind_name]
        bus = int(net[kind].at[index, "bus"])
        if not entry.synchronous:
            if given is not None and given.values:
                raise CaseError(source, field_name,
                                f"{given.row}: machine {name!r} is of type {kind_name} (converter-interfaced, "
                                f"not a machine of the model), so its {', '.join(given.values_given)} cannot be "
                                "set; "
                                "give it the type of a synchronous machine")
            converters.append({"name": name, "element": f"{kind} {index}", "bus": bus, "type": kind_name,
                               "type_source": type_source, "rating_mva": float(rating)})
            continue
        values = {key: typical.value for key, typical in entry.values.items()}
        data_source = f"typical {kind_name}"
        if given is not None and given.values:
            values.update(given.values)
            data_source += f"; {', '.join(given.values_given)} from {given.row}"
        if values["inv_droop"] > 0 and not values["tau"] > 0:
            raise CaseError(source, field_name, f"machine {name!r} has a governor (1/R = {values['inv_droop']:g}) "
                            f"but tau = {values['tau']:g}: give tau_s > 0")
        kept.append((kind, index, rating))
        rows.append(_data_row(name, f"{kind} {index}", bus, kind_name, type_source, rating, rating_source, values,
                              data_source))
    if not kept:
        raise CaseError(source, "machines", "no synchronous machine: every generator is converter-interfaced "
                        "(wind, solar); give some of them the type of a synchronous machine")
    columns = {q.key: np.array([row[q.column] for row in rows]) for q in QUANTITIES}
    parameters, machines = _element_machines(net, kept, columns, base_mva, frequency_hz)
    return PowerMachines(machines, parameters, {"machine_data": rows}, converters)


def machine_data_table(case):
    """The data of every machine of a power-network case, and where it comes from.

    Parameters
    ----------
    case : Case
        From :func:`~gridcoherence.cases.loader.load_case`.

    Returns
    -------
    pandas.DataFrame
        One row per machine of the model, in node order: ``name``, ``element``
        (pandapower element, e.g. ``"gen 3"``; None for table machines), ``bus``, ``type``,
        ``type_source`` (why: ``"gen.type 'hydro'"``, ``"drawn for size class 50-400 MVA
        (rated 212 MVA, seed 0)"``, ...), ``rating_mva``, ``rating_source``, the quantities
        ``H_s``, ``D_pu``, ``xd_prime_pu``, ``inv_droop_pu``, ``tau_s`` on the machine rating
        (:data:`~gridcoherence.cases.typical_machines.QUANTITIES`) and ``data_source``.
        Converter-interfaced generators left out of the model are in
        ``case.metadata.details["converter_generators"]``.

    Raises
    ------
    ValueError
        The case is a graph or SBM network (nodes, not machines).

    Examples
    --------
    >>> from gridcoherence.cases.loader import load_case
    >>> table = machine_data_table(load_case("kundur_two_area"))
    >>> table.at[0, "name"], float(table.at[0, "H_s"]), table.at[0, "data_source"]
    ('G1', 6.5, 'case file [machines] table')
    """
    import pandas as pd

    rows = case.metadata.details.get("machine_data")
    if rows is None:
        raise ValueError(f"case {case.name!r} is a graph network: its nodes have no machine data")
    return pd.DataFrame(rows, columns=list(rows[0]) if rows else None)


def graph_nodes(source, reader, n):
    """Nodes of a graph or SBM network: in model units (``nodes``) or random (``random_family``).

    Parameters
    ----------
    source : str or Path
    reader : TableReader
        From :func:`machines_reader`.
    n : int
        Number of nodes of the network.

    Returns
    -------
    nodes : SwingTurbineNodes
    names : list of str or None
    """
    if reader.variant == "random_family":
        ranges = reader.value("ranges")
        if ranges is not None:
            ranges_reader = TableReader(source, ranges, "machines.ranges")
            ranges = {key: ranges_reader.value(key) for key in ranges_reader.fields}
        nodes = random_family_nodes(n, reader.value("seed"), turbines=reader.value("turbines"), ranges=ranges)
        return nodes, None
    units = reader.units()
    names = reader.value("name", n)
    if reader.has("q") != reader.has("tau"):
        raise CaseError(source, "machines.tau", "q and tau must be given together")
    columns = {key: reader.value(key, n) for key in ("m", "d", "q", "tau")}
    return SwingTurbineNodes(**_model_parameters(reader.fields, columns, units, None)), names
