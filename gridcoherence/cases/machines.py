"""Machine data of a case: the ``[machines]`` table as node parameters, machine by machine.

Power networks: table machines (``source = "table"``, machine-base data per machine) and
rule machines (``source = "rule"``: one machine per in-service ext_grid and gen of a
pandapower network, its data drawn by machine type, seeded) become :class:`PowerMachines`:
the :class:`~gridcoherence.cases.powerflow.Machine` records the power flow attaches and, in
the same order, their parameters of the node family (3.84), converted to the system base
as :data:`~gridcoherence.cases.schema.FIELDS` declares. Networks given without a case file
use :data:`DEFAULT_RULE`. Graph and SBM networks: nodes in model units (``source =
"table"``) or random nodes (``source = "random_family"``, :mod:`~gridcoherence.cases.random_nodes`).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

from ..models.nodes import SwingTurbineNodes
from .random_nodes import random_family_nodes
from .schema import CaseError, CaseWarning, PerUnitBases, TableReader, table_fields, table_source

__all__ = ["DEFAULT_RULE", "PowerMachines"]

#: Machine rule for networks given without a case file: every machine H = 4 s, D = 1,
#: x'_d = 0.3, 1/R = 20 (5 % droop), tau = 5 s, all on the machine rating.
DEFAULT_RULE = {
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
        Per-machine facts for the case metadata (rule machines: type, rating, H).
    """

    machines: list
    parameters: dict
    details: dict

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
        Variant ``table``, ``rule``, ``nodes`` or ``random_family``.
    """
    kind = table_source(source, table, "machines")
    allowed = ("table", "rule") if power else ("table", "random_family")
    if kind not in allowed:
        network = "a power network" if power else "this network"
        raise CaseError(source, "machines.source", f"must be {allowed[0]!r} or {allowed[1]!r} for {network}, "
                        f"got {kind!r}")
    return TableReader(source, table, "machines", "nodes" if kind == "table" and not power else kind)


def power_machines(source, reader, net, base_mva, frequency_hz):
    """Table or rule machines of a solved pandapower network.

    Parameters
    ----------
    source : str or Path
    reader : TableReader
        From :func:`machines_reader`, variant ``table`` or ``rule``.
    net : pandapowerNet
        With power-flow results (rule machines are rated from them).
    base_mva, frequency_hz : float
        System base and nominal frequency.

    Returns
    -------
    PowerMachines
    """
    if reader.variant == "table":
        return _table_machines(source, reader, net, base_mva, frequency_hz)
    return _rule_machines(source, reader, net, base_mva, frequency_hz)


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
    return PowerMachines(machines, parameters, {})


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
    from .powerflow import Machine, element_name, element_ratings

    names, probability, entries = _rule_types(source, reader)
    rng = np.random.default_rng(reader.value("seed"))
    ratings = element_ratings(net)
    n = len(ratings)
    kinds = rng.choice(len(names), size=n, p=np.asarray(probability) / sum(probability))
    columns = {key: np.empty(n) for key in RULE_COLUMNS}
    for t_index, t in enumerate(names):
        chosen = np.flatnonzero(kinds == t_index)
        for key in RULE_COLUMNS:
            entry = entries[t][key]
            columns[key][chosen] = rng.uniform(*entry, size=chosen.size) if isinstance(entry, tuple) else entry
    rating = np.array([r for _, _, r in ratings])
    bases = PerUnitBases(rating, base_mva, frequency_hz)
    parameters = _model_parameters(table_fields(_RULE_TYPE), columns, {}, bases)
    xd_prime = parameters.pop("xd_prime")
    machines = [Machine(element_name(net, kind, index), int(net[kind].at[index, "bus"]), float(x),
                        element=(kind, index)) for (kind, index, _), x in zip(ratings, xd_prime)]
    details = {"types": [names[k] for k in kinds], "rating_mva": rating.tolist(), "H": columns["H"].tolist()}
    return PowerMachines(machines, parameters, details)


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
