"""The case-file format (version 1) as one declarative table: :data:`FIELDS`.

Every field a case file may hold is one :class:`Field` row: its dotted path (e.g.
``machines.H``), type, accepted units with the conversion of each to the model's per-unit
system base, bounds, default and a one-line description. The table drives

* validation (:class:`TableReader`): types, bounds, units, and unknown keys (with a hint for
  misspellings and, for a key of another network or machine source, where it belongs);
* unit conversion (:meth:`Field.to_model`): machine-base data to the node family (3.84) in
  p.u. on S_base with the frequency deviation in rad/s, the convention of Table 3-I, e.g.
  m = 2 H S_machine / (omega_s S_base);
* the field reference in ``docs/case-format.md`` (:func:`markdown_reference`; the tests check
  the committed file against it, ``scripts/update_case_format.py`` rewrites it).

The loader (:mod:`gridcoherence.cases.loader`) reads documents through this module; the
machine rules (:mod:`gridcoherence.cases.machines`) and network sources
(:mod:`gridcoherence.cases.network_sources`) read their tables through it too.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .._validation import first_repeat
from .random_nodes import FAMILY_NODE_RANGES

__all__ = ["CaseError", "CaseWarning", "FORMAT_VERSION", "Field", "Bounds", "Conversion", "PerUnitBases", "FIELDS",
           "NETWORK_SOURCES", "POWER_SOURCES", "markdown_reference"]

FORMAT_VERSION = 1

#: Values of ``network.source``; the first four are power networks (power flow, machines).
NETWORK_SOURCES = ("pandapower", "pandapower_json", "matpower", "inline", "sbm", "graph")
POWER_SOURCES = NETWORK_SOURCES[:4]

#: The variants a table's fields depend on: values of ``network.source``, and the machine
#: tables. ``machines.source = "table"`` is the variant "table" on a power network and
#: "nodes" on a graph or SBM network.
VARIANTS = {
    **{source: f"network.source = {source!r}" for source in NETWORK_SOURCES},
    "table": "machines.source = 'table' on a power network (machine-base data; m, d, q are derived)",
    "nodes": "machines.source = 'table' on a graph or SBM network (nodes in model units)",
    "rule": "machines.source = 'rule'",
    "typical": "machines.source = 'typical'",
    "random_family": "machines.source = 'random_family'",
}


class _CaseMessage:
    """``case <source>: field '<field>': <problem>``, with ``source`` and ``field`` kept."""

    def __init__(self, source, field, problem):
        self.source, self.field, self.problem = str(source), field, problem
        super().__init__(f"case {self.source}: field '{field}': {problem}")

    def __reduce__(self):  # pickles (e.g. to a worker process) with its three parts
        return type(self), (self.source, self.field, self.problem)


class CaseError(_CaseMessage, ValueError):
    """A case could not be loaded; the message names the case file, the field and the problem.

    Attributes
    ----------
    source : str
        Case file (or name).
    field : str
        Dotted field path, e.g. ``"machines.H"``.
    """


class CaseWarning(_CaseMessage, UserWarning):
    """A case loaded, but holds something that is legitimate only on purpose (a negative
    reactance, a machine where nothing generates); the message names the case file, the
    field and what was found.

    Attributes
    ----------
    source, field : str
        As in :class:`CaseError`.
    """


class _Required:
    def __repr__(self):
        return "REQUIRED"


#: Default of a field that must be given.
REQUIRED = _Required()


@dataclass(frozen=True)
class Bounds:
    """Allowed values of a number: ``low`` (exclusive when ``strict``) up to ``high``."""

    low: float
    strict: bool = False
    high: float | None = None

    def text(self):
        """``"> 0"``, ``">= 1"`` or ``"[0, 1]"``."""
        if self.high is not None:
            return f"[{self.low:g}, {self.high:g}]"
        return f"{'>' if self.strict else '>='} {self.low:g}"

    def requirement(self):
        """What a value must do, for error messages: ``"be > 0"``, ``"lie in [0, 1]"``."""
        return f"lie in {self.text()}" if self.high is not None else f"be {self.text()}"

    def violated(self, values):
        """Boolean mask of the values outside the bounds."""
        values = np.asarray(values, dtype=float)
        bad = values <= self.low if self.strict else values < self.low
        return bad | (values > self.high) if self.high is not None else bad


POSITIVE = Bounds(0.0, strict=True)
NON_NEGATIVE = Bounds(0.0)
PROBABILITY = Bounds(0.0, high=1.0)


@dataclass(frozen=True)
class PerUnitBases:
    """The bases of a per-unit conversion: machine ratings, system base and frequency."""

    rating_mva: np.ndarray
    base_mva: float
    frequency_hz: float

    @property
    def omega(self):
        """omega_s = 2 pi f_s (rad/s)."""
        return 2.0 * math.pi * self.frequency_hz

    def machine_to_model(self):
        """S_machine / (omega_s S_base): p.u. on the machine rating per p.u. speed -> p.u. s/rad."""
        return np.asarray(self.rating_mva, dtype=float) / (self.omega * self.base_mva)


@dataclass(frozen=True)
class Conversion:
    """How a value in one unit becomes the model quantity: multiply by ``factor(bases)``."""

    formula: str
    factor: Callable[[PerUnitBases], np.ndarray]


M_FROM_H = Conversion("m = 2 H S_machine / (omega_s S_base)", lambda b: 2.0 * b.machine_to_model())
D_FROM_DAMPING = Conversion("d = D S_machine / (omega_s S_base)", PerUnitBases.machine_to_model)
Q_FROM_INV_DROOP = Conversion("q = (1/R) S_machine / (omega_s S_base)", PerUnitBases.machine_to_model)
XD_TO_SYSTEM = Conversion("x'_d(system) = x'_d(machine) S_base / S_machine",
                          lambda b: b.base_mva / np.asarray(b.rating_mva, dtype=float))

#: Field types: name in the reference -> the phrase of an error message.
KINDS = {
    "integer": "an integer",
    "number": "a number",
    "string": "a string",
    "boolean": "a boolean",
    "table": "a table",
    "table of strings": "a non-empty table of strings",
    "list of strings": "a list of non-empty strings",
    "array": "a number or an array of numbers",
    "integer array": "an array of integers",
    "matrix": "an array of rows of numbers",
    "[low, high]": "[low, high] with low <= high",
    "number or [low, high]": "a number or [low, high] with low <= high",
}


@dataclass(frozen=True)
class Field:
    """One field of the case-file format.

    Attributes
    ----------
    path : str
        Dotted path; ``<type>`` stands for a name the file chooses.
    kind : str
        One of :data:`KINDS`.
    description : str
        One line for the reference.
    default : object
        :data:`REQUIRED`, or the value used when the field is absent (None: nothing).
    units : dict of str -> Conversion or None
        Accepted units and how each becomes the model quantity (None: used as is). In a
        table with a ``units`` field the file must state the unit of each such column.
    model : str or None
        The model quantity a machine column becomes (a :class:`SwingTurbineNodes` argument,
        or ``xd_prime`` on the system base).
    bounds : Bounds or None
    choices : tuple
        The allowed values of a string field.
    variants : tuple of str
        The :data:`VARIANTS` of its table the field belongs to; empty: all.
    """

    path: str
    kind: str
    description: str
    default: object = REQUIRED
    units: dict = field(default_factory=dict)
    model: str | None = None
    bounds: Bounds | None = None
    choices: tuple = ()
    variants: tuple = ()

    @property
    def table(self):
        return self.path.rpartition(".")[0]

    @property
    def key(self):
        return self.path.rpartition(".")[2]

    def applies(self, variant):
        return not self.variants or variant in self.variants

    def to_model(self, values, bases=None, unit=None):
        """``values`` in ``unit`` (default: the field's only unit) as the model quantity."""
        if unit is None:
            (unit,) = self.units
        conversion = self.units[unit]
        return values if conversion is None else values * conversion.factor(bases)


_POWER = POWER_SOURCES
_MACHINE_BASE = {"pu_machine": XD_TO_SYSTEM, "pu_system": None}
_RULE_ENTRY = "fixed, or drawn uniformly from [low, high] (seeded, in machine order)"

#: Every field of a version-1 case file, in the order of the reference.
FIELDS = (
    # ------------------------------------------------------------------ top level
    Field("format_version", "integer", f"Version of the format; this package reads version {FORMAT_VERSION}."),
    Field("name", "string", "Name of the case (and of its model)."),
    Field("description", "string", "One line saying what the case is."),
    Field("base_mva", "number", "System base S_base; default the network's (required for inline tables).",
          default=None, units={"MVA": None}, bounds=POSITIVE),
    Field("frequency_hz", "number", "Nominal frequency f_s, omega_s = 2 pi f_s; default the network's "
          "(required for inline tables).", default=None, units={"Hz": None}, bounds=POSITIVE),
    Field("provenance", "table of strings", "Where each number comes from: topic -> source."),
    Field("network", "table", "The network: the `network.*` fields."),
    Field("machines", "table", "The machines (or nodes): the `machines.*` fields."),
    # ------------------------------------------------------------------ network
    Field("network.source", "string", "Where the network comes from.", choices=NETWORK_SOURCES),
    Field("network.coupling", "string", "Coupling f(s): `1/s` (power networks: output is the frequency) or `1`.",
          default="1/s", choices=("1/s", "1")),
    Field("network.connectivity_scale", "number", "Factor applied to the Laplacian L.", default=1.0,
          bounds=POSITIVE),
    Field("network.name", "string", "Function of `pandapower.networks`, e.g. `case39`.", variants=("pandapower",)),
    Field("network.file", "string", "pandapower JSON file, or MATPOWER `.m`/`.mat` case; relative to the case file.",
          variants=("pandapower_json", "matpower")),
    Field("network.bus", "matrix", "Bus rows: number, type (1 PQ, 2 PV, 3 ref), Pd MW, Qd Mvar, Gs MW, Bs Mvar, "
          "Vm p.u., Va deg, base kV.", variants=("inline",)),
    Field("network.gen", "matrix", "Generator rows: bus, Pg MW, Qg Mvar, Vg p.u.", variants=("inline",)),
    Field("network.branch", "matrix", "Branch rows: from, to, r, x, b (p.u. system base), tap ratio (0: none), "
          "phase shift deg.", variants=("inline",)),
    Field("network.keep_main_island", "boolean", "Keep the largest machine group instead of refusing islands.",
          default=False, variants=_POWER),
    Field("network.linearization", "string", "Linearize the network, then Kron-reduce (`network`), or reduce "
          "with constant-admittance loads first (`reduced`).", default="network", choices=("network", "reduced"),
          variants=_POWER),
    Field("network.loads", "string", "Load model.", default="impedance", choices=("impedance",), variants=_POWER),
    Field("network.negative_reactances", "integer", "Branches with negative series reactance the network is "
          "known to have (series capacitors, three-winding transformer equivalents); any other count warns, "
          "naming the branches.", default=0, bounds=NON_NEGATIVE, variants=_POWER),
    Field("network.sizes", "integer array", "Block sizes.", bounds=Bounds(1.0), variants=("sbm",)),
    Field("network.Q", "matrix", "Symmetric k x k edge probabilities (3.35).", bounds=PROBABILITY,
          variants=("sbm",)),
    Field("network.W", "matrix", "Symmetric k x k edge weights (3.36).", bounds=NON_NEGATIVE, variants=("sbm",)),
    Field("network.seed", "integer", "Seed of the sampled graph.", bounds=NON_NEGATIVE, variants=("sbm",)),
    Field("network.n", "integer", "Number of nodes.", bounds=Bounds(1.0), variants=("graph",)),
    Field("network.edges", "matrix", "Edge rows: i, j (node numbers from 0), weight > 0.", variants=("graph",)),
    # ------------------------------------------------------------------ machines
    Field("machines.source", "string", "`table`: data per machine; `rule`: drawn by machine type (power "
          "networks); `typical`: typical data by machine type and size (power networks, "
          "`gridcoherence.cases.typical_machines`); `random_family`: random nodes (graph, sbm).",
          choices=("table", "rule", "typical", "random_family")),
    Field("machines.name", "list of strings", "Machine names, distinct.", variants=("table",)),
    Field("machines.bus", "integer array", "Bus number of each machine in the network.", variants=("table",)),
    Field("machines.mva", "array", "Machine rating S_machine.", units={"MVA": None}, bounds=POSITIVE,
          variants=("table",)),
    Field("machines.H", "array", "Inertia constant on the machine rating.", units={"s": M_FROM_H}, model="m",
          bounds=POSITIVE, variants=("table",)),
    Field("machines.damping", "array", "Damping D, p.u. power per p.u. speed on the machine rating.",
          units={"pu_machine": D_FROM_DAMPING}, model="d", bounds=NON_NEGATIVE, variants=("table",)),
    Field("machines.xd_prime", "array", "Transient reactance x'_d.", units=_MACHINE_BASE, model="xd_prime",
          bounds=POSITIVE, variants=("table",)),
    Field("machines.inv_droop", "array", "Governor gain 1/R on the machine rating (0: none); given with tau.",
          default=0.0, units={"pu_machine": Q_FROM_INV_DROOP}, model="turbine_gain", bounds=NON_NEGATIVE,
          variants=("table",)),
    Field("machines.tau", "array", "Turbine-governor time constant, > 0 where inv_droop > 0.", default=0.0,
          units={"s": None}, model="turbine_tau", bounds=NON_NEGATIVE, variants=("table",)),
    Field("machines.p_share", "array", "Share of the active generation at the machine's bus.", default=1.0,
          bounds=NON_NEGATIVE, variants=("table",)),
    Field("machines.q_share", "array", "Share of the reactive generation at the machine's bus.", default=1.0,
          variants=("table",)),
    Field("machines.name", "list of strings", "Node names, distinct.", default=None, variants=("nodes",)),
    Field("machines.m", "array", "Inertia m, system base.", units={"pu_s2_per_rad": None}, model="m",
          bounds=POSITIVE, variants=("nodes",)),
    Field("machines.d", "array", "Damping d.", units={"pu_per_rad_s": None}, model="d", bounds=NON_NEGATIVE,
          variants=("nodes",)),
    Field("machines.q", "array", "Turbine gain q (0: none); given with tau.", default=0.0,
          units={"pu_per_rad_s": None}, model="turbine_gain", bounds=NON_NEGATIVE, variants=("nodes",)),
    Field("machines.tau", "array", "Turbine time constant.", default=1.0, units={"s": None}, model="turbine_tau",
          bounds=POSITIVE, variants=("nodes",)),
    Field("machines.units", "table", "Unit of every column that has one (column Unit), e.g. `H = \"s\"`.",
          variants=("table", "nodes")),
    Field("machines.seed", "integer", "Seed of the random draws.", bounds=NON_NEGATIVE,
          variants=("rule", "random_family")),
    Field("machines.seed", "integer", "Seed of the type draws of machines of unknown type (by size class).",
          default=0, bounds=NON_NEGATIVE, variants=("typical",)),
    Field("machines.file", "string", "CSV file of per-machine data over the typical data: columns `name` and "
          "any of `type`, `rating_mva`, `H_s`, `D_pu`, `xd_prime_pu`, `inv_droop_pu`, `tau_s` (machine "
          "rating); relative to the case file.", default=None, variants=("typical",)),
    Field("machines.types", "table", "Machine types: name -> the `machines.types.<type>.*` fields.",
          variants=("rule",)),
    Field("machines.types.<type>.probability", "number", "Probability of the type; they sum to 1.",
          bounds=PROBABILITY),
    Field("machines.types.<type>.H", "number or [low, high]", f"Inertia constant on the rating, {_RULE_ENTRY}.",
          units={"s": M_FROM_H}, model="m", bounds=POSITIVE),
    Field("machines.types.<type>.damping", "number or [low, high]", f"Damping D on the rating, {_RULE_ENTRY}.",
          units={"pu_machine": D_FROM_DAMPING}, model="d", bounds=NON_NEGATIVE),
    Field("machines.types.<type>.xd_prime", "number or [low, high]", f"x'_d on the rating, {_RULE_ENTRY}.",
          units={"pu_machine": XD_TO_SYSTEM}, model="xd_prime", bounds=POSITIVE),
    Field("machines.types.<type>.inv_droop", "number or [low, high]", f"1/R on the rating, {_RULE_ENTRY}.",
          units={"pu_machine": Q_FROM_INV_DROOP}, model="turbine_gain", bounds=NON_NEGATIVE),
    Field("machines.types.<type>.tau", "number or [low, high]", f"Turbine-governor lag, {_RULE_ENTRY}.",
          units={"s": None}, model="turbine_tau", bounds=POSITIVE),
    Field("machines.turbines", "boolean", "Give every node one first-order turbine.", default=True,
          variants=("random_family",)),
    Field("machines.ranges", "table", "Uniform ranges of the node parameters: the `machines.ranges.*` fields.",
          default=None, variants=("random_family",)),
    Field("machines.ranges.m", "[low, high]", "Range of the inertia m.", default=FAMILY_NODE_RANGES["m"],
          units={"pu_s2_per_rad": None}, bounds=POSITIVE),
    Field("machines.ranges.d", "[low, high]", "Range of the damping d.", default=FAMILY_NODE_RANGES["d"],
          units={"pu_per_rad_s": None}, bounds=NON_NEGATIVE),
    Field("machines.ranges.turbine_gain", "[low, high]", "Range of the turbine gain q.",
          default=FAMILY_NODE_RANGES["turbine_gain"], units={"pu_per_rad_s": None}, bounds=NON_NEGATIVE),
    Field("machines.ranges.turbine_tau", "[low, high]", "Range of the turbine time constant.",
          default=FAMILY_NODE_RANGES["turbine_tau"], units={"s": None}, bounds=POSITIVE),
)


def table_fields(path, variant=None):
    """The fields of the table at ``path`` (a :data:`FIELDS` path) read as ``variant``, by key."""
    return {f.key: f for f in FIELDS if f.table == path and f.applies(variant)}


def table_source(source, table, path):
    """The ``source`` of the ``network`` or ``machines`` table, checked against its choices.

    Read before the table's other keys, which depend on it (:data:`VARIANTS`).
    """
    if not isinstance(table, dict):
        raise CaseError(source, path, "must be a table")
    common = TableReader(source, {}, path)
    return common.check("source", table["source"]) if "source" in table else common.value("source")


class TableReader:
    """Typed, bounded access to one table of a case document, as :data:`FIELDS` declares it.

    Parameters
    ----------
    source : str or Path
        The case file (or name), for error messages.
    table : dict
        The table as read from the file.
    path : str
        Its path in :data:`FIELDS` (``""``: the top level; ``machines.types.<type>``).
    variant : str, optional
        The :data:`VARIANTS` entry the table is read as (``network.source``, machine table).
    label : str, optional
        Its path in error messages, when it differs from ``path`` (``machines.types.hydro``).

    Raises
    ------
    CaseError
        The table is not a table, or holds a key the variant does not know.
    """

    def __init__(self, source, table, path, variant=None, *, label=None):
        self.source, self.table, self.variant = source, table, variant
        self.label = path if label is None else label
        if not isinstance(table, dict):
            raise CaseError(source, self.label or "(top)", "must be a table")
        self.fields = table_fields(path, variant)
        for key in table:
            if key not in self.fields:
                raise self._unknown(path, key)

    def _unknown(self, path, key):
        allowed = sorted(self.fields)
        elsewhere = [VARIANTS[v] for f in FIELDS if f.table == path and f.key == key for v in f.variants]
        if elsewhere:
            problem = f"not a field of {VARIANTS[self.variant]}; it belongs to {' and '.join(elsewhere)}"
        else:
            close = difflib.get_close_matches(key, allowed, n=1)
            problem = "unknown field" + (f"; did you mean '{close[0]}'?" if close else "")
        return CaseError(self.source, self.name(key), f"{problem} (allowed: {', '.join(allowed)})")

    def name(self, key):
        """The dotted path of ``key`` in error messages."""
        return f"{self.label}.{key}" if self.label else key

    def has(self, key):
        return key in self.table

    def value(self, key, n=None):
        """The validated value of ``key``, or its default.

        Parameters
        ----------
        key : str
        n : int, optional
            Arrays: the number of entries (a scalar is broadcast to ``n``); lists of
            strings: the number of names.
        """
        declared = self.fields[key]
        if key not in self.table:
            if declared.default is REQUIRED:
                raise CaseError(self.source, self.name(key), "missing")
            if declared.kind == "array" and n is not None:
                return np.full(n, float(declared.default))
            return declared.default
        return self.check(key, self.table[key], n)

    def check(self, key, value, n=None):
        """``value`` validated as field ``key`` (also for options of
        :func:`~gridcoherence.cases.loader.load_case` that override a field)."""
        declared = self.fields[key]
        kind = declared.kind
        if kind in ("array", "integer array", "matrix"):
            return self._array(declared, value, n)
        if kind in ("[low, high]", "number or [low, high]"):
            return self._range(declared, value)
        if kind == "list of strings":
            return self._names(key, value, n)
        if kind == "number" and _is_number(value):
            value = float(value)
        types = {"integer": int, "number": float, "string": str, "boolean": bool, "table": dict,
                 "table of strings": dict}[kind]
        if not isinstance(value, types) or (kind != "boolean" and isinstance(value, bool)):
            raise self._wrong_type(declared, value)
        if kind == "table of strings" and not (value and all(isinstance(v, str) for v in value.values())):
            raise self._wrong_type(declared, value)
        if kind == "number" and not math.isfinite(value):
            raise CaseError(self.source, self.name(key), f"must be finite, got {value!r}")
        if declared.choices and value not in declared.choices:
            raise CaseError(self.source, self.name(key), f"unknown {key} {value!r}; use one of "
                            f"{list(declared.choices)}")
        if declared.bounds is not None and declared.bounds.violated(value):
            raise CaseError(self.source, self.name(key), f"must {declared.bounds.requirement()}, got {value!r}")
        return value

    def _wrong_type(self, declared, value):
        return CaseError(self.source, self.name(declared.key), f"must be {KINDS[declared.kind]}, got {value!r}")

    def _array(self, declared, raw, n):
        key, ndim = declared.key, 2 if declared.kind == "matrix" else 1
        if isinstance(raw, (bool, str, dict)):
            raise self._wrong_type(declared, raw)
        try:
            values = np.asarray(raw, dtype=float)
        except (TypeError, ValueError) as exc:
            raise CaseError(self.source, self.name(key), f"must hold numbers only ({exc})") from exc
        if values.ndim == 0 and n is not None and ndim == 1:
            values = np.full(n, float(values))
        if values.ndim != ndim:
            raise CaseError(self.source, self.name(key), f"must be a {ndim}-D array, got shape {values.shape}")
        if n is not None and values.shape[0] != n:
            raise CaseError(self.source, self.name(key), f"must have {n} entries, got {values.shape[0]}")
        bad = ~np.isfinite(values)
        if bad.any():
            raise CaseError(self.source, self.name(key), f"non-finite value at index {np.argwhere(bad)[0].tolist()}")
        if declared.kind == "integer array":
            if np.any(values != np.round(values)):
                i = int(np.flatnonzero(values != np.round(values))[0])
                raise CaseError(self.source, self.name(key), f"must hold integers; entry {i} is {values[i].item()!r}")
            values = values.astype(np.int64)
        if declared.bounds is not None:
            wrong = declared.bounds.violated(values)
            if wrong.any():
                i = np.argwhere(wrong)[0].tolist()
                raise CaseError(self.source, self.name(key), f"must {declared.bounds.requirement()}; entry {i} "
                                f"is {values[tuple(i)].item()!r} (wrong sign or unit?)")
        return values

    def _range(self, declared, spec):
        """A number (``number or [low, high]`` only) as a float, or [low, high] as a tuple."""
        fixed = _is_number(spec) and declared.kind == "number or [low, high]"
        pair = isinstance(spec, list) and len(spec) == 2 and all(_is_number(v) for v in spec)
        if not (fixed or pair):
            raise self._wrong_type(declared, spec)
        if not np.all(np.isfinite(spec)):
            raise CaseError(self.source, self.name(declared.key), f"must be finite, got {spec!r}")
        if pair and not spec[0] <= spec[1]:
            raise self._wrong_type(declared, spec)
        if declared.bounds is not None and declared.bounds.violated(spec).any():
            raise CaseError(self.source, self.name(declared.key),
                            f"must {declared.bounds.requirement()}, got {spec!r} (wrong sign or unit?)")
        return float(spec) if fixed else (float(spec[0]), float(spec[1]))

    def _names(self, key, names, n):
        if not isinstance(names, list) or not all(isinstance(x, str) and x.strip() for x in names):
            raise CaseError(self.source, self.name(key), f"must be {KINDS['list of strings']}, got {names!r}")
        if not names:
            raise CaseError(self.source, self.name(key), "must name at least one machine")
        if n is not None and len(names) != n:
            raise CaseError(self.source, self.name(key), f"must have {n} entries, got {len(names)}")
        repeat = first_repeat(names)
        if repeat is not None:
            i, j = repeat
            raise CaseError(self.source, self.name(key), f"machines {names[i]!r} at entries {i} and {j} share a name")
        return names

    def units(self):
        """The ``units`` table: an accepted unit for exactly the columns present that take one.

        Returns
        -------
        dict of str -> str
            Column -> its unit.
        """
        units = self.value("units")
        taking = {key: f for key, f in self.fields.items() if f.units}
        label = self.name("units")
        for key, unit in units.items():
            if key not in taking:
                raise CaseError(self.source, f"{label}.{key}", f"no quantity {key!r} takes a unit here "
                                f"(quantities with units: {', '.join(sorted(taking))})")
            if unit not in taking[key].units:
                raise CaseError(self.source, f"{label}.{key}", f"unit {unit!r} not accepted; use "
                                f"{' or '.join(map(repr, taking[key].units))}")
        for key in sorted(taking):
            if self.has(key) and key not in units:
                raise CaseError(self.source, f"{label}.{key}", f"missing: state the unit of {self.name(key)}")
        for key in units:
            if not self.has(key):
                raise CaseError(self.source, f"{label}.{key}", f"unit given but {self.name(key)} is missing")
        return units


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# ---------------------------------------------------------------------------- reference
def _cell(text):
    return str(text).replace("|", "\\|")


def _default_text(declared):
    default = declared.default
    if default is REQUIRED:
        return "required"
    if default is None:
        return "-"
    if isinstance(default, bool):
        return str(default).lower()
    if isinstance(default, str):
        return f'`"{default}"`'
    if isinstance(default, tuple):
        return f"[{', '.join(f'{v:g}' for v in default)}]"
    return f"{default:g}"


def _where(declared):
    """The variants a field belongs to: its own, else those of the table holding it."""
    variants, table = declared.variants, declared.table
    while not variants and table:
        variants = next((f.variants for f in FIELDS if f.path == table), ())
        table = table.rpartition(".")[0]
    if not variants:
        return "all"
    if variants == POWER_SOURCES:
        return "power networks"
    names = {"table": "table (power network)", "nodes": "table (graph, sbm)"}
    return ", ".join(names.get(v, v) for v in variants)


def markdown_reference():
    """The field reference of ``docs/case-format.md``, generated from :data:`FIELDS`.

    Returns
    -------
    str
        Two Markdown tables (the fields; the unit conversions) between a first and a last
        comment line that mark the generated text.

    Examples
    --------
    >>> reference = markdown_reference()
    >>> "| `machines.H` | array | s | > 0 | required |" in reference
    True
    """
    lines = [
        "<!-- generated from gridcoherence.cases.schema.FIELDS by markdown_reference(); "
        "rewrite with scripts/update_case_format.py -->",
        "",
        "| Field | Type | Unit | Bounds | Default | For | Description |",
        "|---|---|---|---|---|---|---|",
    ]
    for f in FIELDS:
        bounds = f.bounds.text() if f.bounds is not None else (", ".join(f"`{c}`" for c in f.choices) or "")
        lines.append(f"| `{f.path}` | {f.kind} | {' or '.join(f.units)} | {_cell(bounds)} | {_default_text(f)} "
                     f"| {_where(f)} | {_cell(f.description)} |")
    lines += ["", "| Field | For | Unit | Model quantity | Conversion |", "|---|---|---|---|---|"]
    for f in FIELDS:
        for unit, conversion in f.units.items():
            if f.model is not None:
                formula = conversion.formula if conversion is not None else "as is"
                lines.append(f"| `{f.path}` | {_where(f)} | {unit} | {f.model} | {_cell(formula)} |")
    lines += ["", "<!-- end of the generated field reference -->"]
    return "\n".join(lines) + "\n"
