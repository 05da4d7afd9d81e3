"""Network cases: a versioned TOML file format, the bundled cases, and :func:`load_case`.

A *case* is everything needed to build a :class:`~gridcoherence.NetworkModel`: the network
(a pandapower network, inline bus/branch tables, a stochastic block model or an explicit
graph), the dynamic parameters of every machine with their units, the coupling f(s), and
where each number comes from. Bundled cases live in the top-level ``cases/`` folder,
installed as the data package ``gridcoherence.bundled_cases``; :func:`list_cases` lists
them. Power networks go through :mod:`gridcoherence.cases.powerflow` (AC power flow,
linearization, Kron reduction onto the machines); the model's nodes are the machines,
f(s) = 1/s and the output is each machine's frequency deviation (rad/s).

File format (version 1)
-----------------------
Files are read with the standard-library ``tomllib`` only (nothing is evaluated) and
validated on load; every error is a :class:`CaseError` naming the file, the field and the
problem. Unknown keys are errors (with a suggestion for misspellings)::

    format_version = 1                 # required, must be 1
    name = "iceland"                   # required
    description = "..."                # required
    base_mva = 100.0                   # system base S_base (MVA); power networks
    frequency_hz = 50.0                # nominal frequency f_s; omega_s = 2 pi f_s

    [provenance]                       # required, non-empty: field -> where it comes from
    network = "pandapower.networks.iceland() ..."

    [network]
    source = "pandapower"              # pandapower | pandapower_json | matpower | inline
                                       # | sbm | graph
    coupling = "1/s"                   # f(s): "1/s" (power networks) or "1"
    connectivity_scale = 1.0           # L is multiplied by this (> 0)
    # pandapower:       name = "<function of pandapower.networks>"
    # pandapower_json:  file = "<path relative to the case file>"
    # matpower:         file = "<.m or .mat MATPOWER case, relative path>"
    # inline:           bus, gen, branch = arrays of rows (columns below)
    # power networks:   keep_main_island = false; linearization = "network" | "reduced"
    # sbm:              sizes, Q, W (k x k), seed
    # graph:            n, edges = [[i, j, weight], ...] (0-based)

    [machines]
    source = "table"                   # table | rule | random_family
    ...

Inline network rows (MATPOWER conventions, system base): ``bus`` = [number, type (1 PQ,
2 PV, 3 ref), Pd MW, Qd Mvar, Gs MW, Bs Mvar, Vm p.u., Va deg, base kV]; ``gen`` = [bus,
Pg MW, Qg Mvar, Vg p.u.]; ``branch`` = [from, to, r p.u., x p.u., b p.u., tap ratio
(0: none), phase shift deg].

Machine tables (``source = "table"``) hold one array per quantity, one entry per machine
(a scalar is broadcast), and a ``[machines.units]`` table that must state the unit of
every numeric column. Power-network machines: ``name``, ``bus`` (bus number of the
network), ``mva`` ["MVA"], ``H`` ["s"], ``damping`` ["pu_machine": p.u. power per p.u.
speed on the machine rating], ``xd_prime`` ["pu_machine" or "pu_system"], optional
``inv_droop`` (1/R) ["pu_machine"] with ``tau`` ["s"], optional ``p_share``/``q_share``
(share of the bus generation, default 1). Directly specified nodes (no power flow):
``m`` ["pu_s2_per_rad"], ``d`` and ``q`` ["pu_per_rad_s"], ``tau`` ["s"].

Conversion to the node family g^{-1}(s) = m s + d + q/(tau s + 1) of (3.84), in p.u. on
S_base with the frequency deviation in rad/s (the convention of Table 3-I)::

    m = 2 H S_machine / (omega_s S_base)        [p.u. s^2/rad]
    d = D S_machine / (omega_s S_base)          [p.u. s/rad]
    q = (1/R) S_machine / (omega_s S_base)      [p.u. s/rad]
    x'_d(system) = x'_d(machine) S_base / S_machine

Rule-based machines (``source = "rule"``, pandapower networks without dynamic data): one
machine per in-service ext_grid and gen, rated as in
:func:`gridcoherence.cases.powerflow.element_ratings`; each gets a type drawn with the given
probabilities (seeded) and, per type, H, damping, x'_d, 1/R and tau either fixed or drawn
uniformly from ``[low, high]`` (seeded, in machine order). Networks given without a case
file (``"pandapower:case39"``, a pandapower JSON file or a MATPOWER file) use
:data:`DEFAULT_RULE`: every machine H = 4 s, D = 1, x'_d = 0.3, 1/R = 20 (5 % droop),
tau = 5 s, all on the machine rating.

Random nodes (``source = "random_family"``): ``seed`` and optional ``ranges`` for
:func:`gridcoherence.cases.sbm.random_family_nodes`.
"""

from __future__ import annotations

import difflib
import json
import logging
import math
import tomllib
import warnings
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from ..models.laplacian import build_laplacian, smallest_eigenpairs
from ..models.network import NetworkModel
from ..models.nodes import SwingTurbineNodes

__all__ = ["Case", "CaseMetadata", "CaseError", "load_case", "list_cases", "case_summary",
           "bundled_case_index", "FORMAT_VERSION", "DEFAULT_RULE", "BUNDLED_PACKAGE"]

FORMAT_VERSION = 1
BUNDLED_PACKAGE = "gridcoherence.bundled_cases"
CASE_INDEX = "index.json"

#: Machine rule for networks given without a case file (see the module notes).
DEFAULT_RULE = {
    "seed": 0,
    "types": {"generic": {"probability": 1.0, "H": 4.0, "damping": 1.0, "xd_prime": 0.3,
                          "inv_droop": 20.0, "tau": 5.0}},
}

_UNITS = {
    "mva": ("MVA",),
    "H": ("s",),
    "damping": ("pu_machine",),
    "xd_prime": ("pu_machine", "pu_system"),
    "inv_droop": ("pu_machine",),
    "tau": ("s",),
    "m": ("pu_s2_per_rad",),
    "d": ("pu_per_rad_s",),
    "q": ("pu_per_rad_s",),
}
_TOP_KEYS = {"format_version", "name", "description", "base_mva", "frequency_hz", "provenance",
             "network", "machines", "options"}
_NETWORK_KEYS = {
    "common": {"source", "coupling", "connectivity_scale"},
    "pandapower": {"name", "keep_main_island", "linearization", "loads"},
    "pandapower_json": {"file", "keep_main_island", "linearization", "loads"},
    "matpower": {"file", "keep_main_island", "linearization", "loads"},
    "inline": {"bus", "gen", "branch", "keep_main_island", "linearization", "loads"},
    "sbm": {"sizes", "Q", "W", "seed"},
    "graph": {"n", "edges"},
}
_MACHINE_KEYS = {
    "table": {"source", "name", "bus", "mva", "H", "damping", "xd_prime", "inv_droop", "tau",
              "p_share", "q_share", "m", "d", "q", "units"},
    "rule": {"source", "seed", "types"},
    "random_family": {"source", "seed", "ranges", "turbines"},
}
_RULE_KEYS = {"probability", "H", "damping", "xd_prime", "inv_droop", "tau"}


class CaseError(ValueError):
    """A case could not be loaded; the message names the case file, the field and the problem.

    Attributes
    ----------
    source : str
        Case file (or name).
    field : str
        Dotted field path, e.g. ``"machines.H"``.
    """

    def __init__(self, source, field, problem):
        self.source, self.field = str(source), field
        super().__init__(f"case {self.source}: field '{field}': {problem}")


@dataclass(frozen=True)
class CaseMetadata:
    """What a case is and where its numbers come from.

    Attributes
    ----------
    name, description : str
    source : str
        The file (or pandapower name) the case was read from.
    provenance : dict of str -> str
    units : dict of str -> str
        Units of the model quantities (node parameters, Laplacian, output).
    base_mva, frequency_hz : float or None
    machine_bus : tuple or None
        Bus of every node (power networks), in node order.
    options : dict
        Options the case was loaded with (scale, keep_main_island, ...).
    details : dict
        Case-specific facts: dropped machines, negative weights, SBM labels, types, ...
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
            ``eigenvalues`` (k smallest, ascending), ``lambda_2``, ``gaps``
            (lambda_{i+1} - lambda_i for i = 1..k-1) and ``suggested_k``: the package's one
            eigengap rule, :func:`gridcoherence.models.eigengap.suggest_k`, on the
            ``min(n, DEFAULT_MAX_CLUSTERS + 1)`` smallest eigenvalues of L (the Laplacian
            embedding, whatever k is) -- the k that ``gridcoherence info`` reports and that
            :func:`gridcoherence.reduce_network` uses without k (None for a single node).
        """
        from ..models.eigengap import suggest_k, suggestion_count

        n = self.model.n
        k = min(k, n)
        values = smallest_eigenpairs(self.model.laplacian, max(k, suggestion_count(n))).values
        gaps = np.diff(values[:k])
        return {
            "eigenvalues": values[:k].tolist(),
            "lambda_2": float(values[1]) if k > 1 else 0.0,
            "gaps": gaps.tolist(),
            "suggested_k": suggest_k(values) if n > 1 else None,
        }


# ---------------------------------------------------------------------------- reading
def list_cases():
    """Names of the bundled cases, sorted.

    Examples
    --------
    >>> {"coherent5", "sbm3", "iceland"} <= set(list_cases())
    True
    """
    folder = _bundled_folder()
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def case_summary(case):
    """The facts :func:`bundled_case_index` stores for a case (and ``gridcoherence cases`` shows).

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


def bundled_case_index():
    """Stored :func:`case_summary` of every bundled case, without loading any of them.

    Read from ``index.json`` beside the bundled case files (written by
    ``scripts/update_case_index.py``; the tests check it against freshly loaded cases), so
    listing the cases runs no power flow.

    Returns
    -------
    dict
        Case name -> summary, for the bundled cases the index knows.
    """
    try:
        text = _bundled_folder().joinpath(CASE_INDEX).read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    return json.loads(text)["cases"]


def _bundled_path(name):
    return _bundled_folder().joinpath(f"{name}.toml")


def _bundled_folder():
    """The bundled case files: the installed data package, or ``cases/`` of a source checkout.

    Running from a checkout (``python -m gridcoherence`` in the repository) imports the
    package from the source tree, where the data package does not exist as such.
    """
    try:
        return resources.files(BUNDLED_PACKAGE)
    except ModuleNotFoundError:
        return Path(__file__).resolve().parents[1] / "cases"


def load_case(name_or_path, *, scale=None, keep_degree=False, keep_main_island=None,
              linearization=None):
    """Load a case as a :class:`Case` (network model + metadata).

    Parameters
    ----------
    name_or_path : str or Path
        A bundled case name (see :func:`list_cases`); a path to a case ``.toml`` file;
        ``"pandapower:<name>"`` for a network of ``pandapower.networks``; or a path to a
        pandapower JSON file (``.json``) or a MATPOWER case (``.mat``; ``.m`` needs the
        optional package matpowercaseframes, used by pandapower's converter). The last
        three use :data:`DEFAULT_RULE` machines.
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

    Raises
    ------
    CaseError
        Unknown name (the message lists the bundled cases), invalid file, failed power flow,
        islands, ...

    Examples
    --------
    >>> case = load_case("coherent5")
    >>> case.model.n, round(float(case.model.nodes.m.sum()), 4)
    (5, 0.0683)
    """
    overrides = {"scale": scale, "keep_degree": keep_degree, "keep_main_island": keep_main_island,
                 "linearization": linearization}
    text = str(name_or_path)
    if text.startswith("pandapower:"):
        return _from_network_source(text, {"source": "pandapower", "name": text.split(":", 1)[1]},
                                    overrides)
    path = Path(text)
    if path.suffix.lower() in (".json", ".m", ".mat"):
        if not path.is_file():
            raise CaseError(text, "file", "no such file")
        source = "pandapower_json" if path.suffix.lower() == ".json" else "matpower"
        return _from_network_source(text, {"source": source, "file": str(path.resolve())}, overrides)
    if path.suffix.lower() == ".toml" or path.is_file():
        if not path.is_file():
            raise CaseError(text, "file", "no such file")
        return _load_document(path, path.read_bytes(), path.parent, overrides)
    bundled = _bundled_path(text)
    if not bundled.is_file():
        close = difflib.get_close_matches(text, list_cases(), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise CaseError(text, "name", f"no bundled case of that name.{hint} Available: "
                        f"{', '.join(list_cases())}; or give a .toml/.json/.m path or "
                        "'pandapower:<network>'")
    return _load_document(Path(str(bundled)), bundled.read_bytes(), None, overrides)


def _from_network_source(label, network, overrides):
    document = {
        "format_version": FORMAT_VERSION, "name": label,
        "description": f"{label} with default machine parameters",
        "provenance": {"network": label, "machines": "gridcoherence.cases.loader.DEFAULT_RULE"},
        "network": network, "machines": {"source": "rule", **DEFAULT_RULE},
    }
    return _build(document, label, Path.cwd(), overrides)


def _load_document(path, raw, folder, overrides):
    try:
        document = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CaseError(path, "(file)", f"not valid TOML: {exc}") from exc
    return _build(document, path, folder if folder is not None else path.parent, overrides)


# ---------------------------------------------------------------------------- validation
class _Reader:
    """Typed access to one table of a case document with errors naming the field."""

    def __init__(self, source, table, prefix, allowed):
        self.source, self.table, self.prefix = source, table, prefix
        if not isinstance(table, dict):
            raise CaseError(source, prefix.rstrip(".") or "(top)", "must be a table")
        for key in table:
            if key not in allowed:
                close = difflib.get_close_matches(key, sorted(allowed), n=1)
                hint = f"; did you mean '{close[0]}'?" if close else ""
                raise CaseError(source, prefix + key,
                                f"unknown field{hint} (allowed: {', '.join(sorted(allowed))})")

    def field(self, key):
        return self.prefix + key

    def has(self, key):
        return key in self.table

    def get(self, key, kind, default=...):
        if key not in self.table:
            if default is ...:
                raise CaseError(self.source, self.field(key), "missing")
            return default
        value = self.table[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            raise CaseError(self.source, self.field(key),
                            f"must be {getattr(kind, '__name__', kind)}, got {value!r}")
        if isinstance(value, float) and not math.isfinite(value):
            raise CaseError(self.source, self.field(key), f"must be finite, got {value!r}")
        return value

    def positive(self, key, default=...):
        value = self.get(key, float, default)
        if value is not None and value is not ... and not value > 0:
            raise CaseError(self.source, self.field(key), f"must be > 0, got {value!r}")
        return value

    def array(self, key, n=None, *, minimum=None, strict=False, default=..., ndim=1):
        if key not in self.table and default is not ...:
            return default
        raw = self.get(key, (list, int, float))
        try:
            values = np.asarray(raw, dtype=float)
        except (TypeError, ValueError) as exc:
            raise CaseError(self.source, self.field(key), f"must hold numbers only ({exc})") from exc
        if values.ndim == 0 and n is not None and ndim == 1:
            values = np.full(n, float(values))
        if values.ndim != ndim:
            raise CaseError(self.source, self.field(key), f"must be a {ndim}-D array, got shape {values.shape}")
        if n is not None and values.shape[0] != n:
            raise CaseError(self.source, self.field(key), f"must have {n} entries, got {values.shape[0]}")
        bad = ~np.isfinite(values)
        if bad.any():
            raise CaseError(self.source, self.field(key), f"non-finite value at index {np.argwhere(bad)[0].tolist()}")
        if minimum is not None:
            wrong = values <= minimum if strict else values < minimum
            if wrong.any():
                i = np.argwhere(wrong)[0].tolist()
                relation = ">" if strict else ">="
                raise CaseError(self.source, self.field(key),
                                f"must be {relation} {minimum}; entry {i} is {values[tuple(i)]!r} "
                                "(wrong sign or unit?)")
        return values


def _build(document, source, folder, overrides):
    top = _Reader(source, document, "", _TOP_KEYS)
    version = top.get("format_version", int)
    if version != FORMAT_VERSION:
        raise CaseError(source, "format_version", f"unsupported version {version}; this gridcoherence "
                        f"reads version {FORMAT_VERSION}")
    name = top.get("name", str)
    description = top.get("description", str)
    provenance = top.get("provenance", dict)
    if not provenance or not all(isinstance(v, str) for v in provenance.values()):
        raise CaseError(source, "provenance", "must be a non-empty table of strings")
    network = _Reader(source, top.get("network", dict), "network.", set().union(*_NETWORK_KEYS.values()))
    kind = network.get("source", str)
    if kind not in _NETWORK_KEYS or kind == "common":
        raise CaseError(source, "network.source", f"unknown source {kind!r}; use one of "
                        f"{sorted(k for k in _NETWORK_KEYS if k != 'common')}")
    network = _Reader(source, network.table, "network.", _NETWORK_KEYS["common"] | _NETWORK_KEYS[kind])
    machines = top.get("machines", dict)
    coupling = network.get("coupling", str, "1/s")
    if coupling not in ("1/s", "1"):
        raise CaseError(source, "network.coupling", f"must be '1/s' or '1', got {coupling!r}")
    connectivity = network.positive("connectivity_scale", 1.0)
    if overrides["scale"] is not None and kind != "sbm":
        raise CaseError(source, "scale", "only stochastic block model cases can be scaled")

    base_mva = top.positive("base_mva", None)
    frequency = top.positive("frequency_hz", None)
    if kind in ("sbm", "graph"):
        laplacian, nodes, node_names, details, options = _synthetic(source, network, kind, machines, overrides)
        machine_bus = None
    else:
        laplacian, nodes, node_names, machine_bus, details, options = _power_network(
            source, network, kind, machines, folder, overrides, base_mva, frequency)
        base_mva, frequency = details.pop("base_mva"), details.pop("frequency_hz")
    model = NetworkModel(nodes, connectivity * laplacian, coupling=coupling, node_names=node_names,
                         name=name, allow_negative_weights=details.get("negative_weights", 0) > 0)
    units = {
        "m": "p.u. s^2/rad (system base)", "d": "p.u. s/rad", "turbine_gain": "p.u. s/rad",
        "turbine_tau": "s", "laplacian": "p.u. power per rad (system base)" if machine_bus else "graph weights",
        "output": "frequency deviation, rad/s" if coupling == "1/s" else "node output",
    }
    options["connectivity_scale"] = connectivity
    metadata = CaseMetadata(name=name, description=description, source=str(source),
                            provenance=dict(provenance), units=units, base_mva=base_mva,
                            frequency_hz=frequency, machine_bus=machine_bus, options=options,
                            details=details)
    return Case(model, metadata)


# ---------------------------------------------------------------------------- synthetic
def _synthetic(source, network, kind, machines, overrides):
    from .sbm import sample_sbm

    details, options = {}, {}
    if kind == "sbm":
        sizes = network.array("sizes", minimum=1)
        if np.any(sizes != np.round(sizes)):
            raise CaseError(source, "network.sizes", "block sizes must be integers")
        sizes = sizes.astype(np.int64)
        k = sizes.size
        Q = network.array("Q", ndim=2, minimum=0.0)
        W = network.array("W", ndim=2, minimum=0.0)
        for key, M in (("Q", Q), ("W", W)):
            if M.shape != (k, k) or not np.array_equal(M, M.T):
                raise CaseError(source, f"network.{key}", f"must be a symmetric {k}x{k} matrix")
        if np.any(Q > 1):
            raise CaseError(source, "network.Q", "probabilities must lie in [0, 1]")
        seed = network.get("seed", int)
        scale = overrides["scale"]
        if scale is not None:
            if isinstance(scale, bool) or not isinstance(scale, (int, np.integer)) or scale < 1:
                raise CaseError(source, "scale", f"must be a positive integer, got {scale!r}")
            sizes = sizes * int(scale)
            if overrides["keep_degree"]:
                Q = Q / scale
            options.update(scale=int(scale), keep_degree=bool(overrides["keep_degree"]))
        sample = sample_sbm(sizes, Q, W, random_state=seed)
        laplacian = sample.laplacian
        details.update(labels=sample.labels, sizes=sizes.tolist(), Q=Q.tolist(), W=W.tolist(), seed=seed)
    else:
        n = network.get("n", int)
        if n < 1:
            raise CaseError(source, "network.n", f"must be >= 1, got {n}")
        edges = network.array("edges", ndim=2)
        if edges.shape[1:] != (3,):
            raise CaseError(source, "network.edges", "rows must be [i, j, weight]")
        ends = edges[:, :2]
        if np.any(ends != np.round(ends)) or ends.min() < 0 or ends.max() >= n:
            raise CaseError(source, "network.edges", f"endpoints must be node numbers 0..{n - 1}")
        if np.any(edges[:, 2] <= 0):
            raise CaseError(source, "network.edges", "weights must be > 0")
        try:
            laplacian = build_laplacian([(int(i), int(j), w) for i, j, w in edges], n=n)
        except ValueError as exc:
            raise CaseError(source, "network.edges", str(exc)) from exc
    n = laplacian.shape[0]
    nodes, names = _direct_machines(source, machines, n)
    return laplacian, nodes, names, details, options


def _direct_machines(source, machines, n):
    """Nodes given directly in model units (table) or drawn at random (random_family)."""
    from .sbm import random_family_nodes

    kind = _Reader(source, machines, "machines.", set().union(*_MACHINE_KEYS.values())).get("source", str)
    if kind not in ("table", "random_family"):
        raise CaseError(source, "machines.source", f"must be 'table' or 'random_family' for this network, got {kind!r}")
    reader = _Reader(source, machines, "machines.", _MACHINE_KEYS[kind])
    if kind == "random_family":
        ranges = reader.get("ranges", dict, None)
        try:
            nodes = random_family_nodes(n, reader.get("seed", int), turbines=reader.get("turbines", bool, True),
                                        ranges=ranges)
        except ValueError as exc:
            raise CaseError(source, "machines.ranges", str(exc)) from exc
        return nodes, None
    units = _units(source, reader, ("m", "d", "q", "tau"))
    for forbidden in ("mva", "H", "damping", "xd_prime", "inv_droop", "bus"):
        if reader.has(forbidden):
            raise CaseError(source, f"machines.{forbidden}", "machine-base data needs a power network; "
                            "give m, d, q, tau in model units here")
    names = reader.get("name", list, None)
    if names is not None and len(names) != n:
        raise CaseError(source, "machines.name", f"must have {n} entries, got {len(names)}")
    if ("q" in units) != ("tau" in units):
        raise CaseError(source, "machines.tau", "q and tau must be given together")
    m = reader.array("m", n, minimum=0.0, strict=True)
    d = reader.array("d", n, minimum=0.0)
    q = reader.array("q", n, minimum=0.0, default=np.zeros(n))
    tau = reader.array("tau", n, minimum=0.0, strict=True, default=np.ones(n))
    return SwingTurbineNodes(m, d, turbine_gain=q, turbine_tau=tau), names


def _units(source, reader, numeric):
    """Check ``[machines.units]`` covers every numeric column present, with an accepted unit."""
    units = reader.get("units", dict)
    for key, unit in units.items():
        if key not in _UNITS:
            raise CaseError(source, f"machines.units.{key}", f"no quantity {key!r} takes a unit")
        if unit not in _UNITS[key]:
            raise CaseError(source, f"machines.units.{key}",
                            f"unit {unit!r} not accepted; use {' or '.join(map(repr, _UNITS[key]))}")
    present = {key for key in numeric if reader.has(key)}
    for key in sorted(present):
        if key not in units:
            raise CaseError(source, f"machines.units.{key}", f"missing: state the unit of machines.{key}")
    for key in units:
        if key not in present:
            raise CaseError(source, f"machines.units.{key}", f"unit given but machines.{key} is missing")
    return units


# ---------------------------------------------------------------------------- power networks
def _pandapower_net(source, network, kind, folder, base_mva, frequency):
    import pandapower as pp
    import pandapower.networks as pn

    if kind == "pandapower":
        name = network.get("name", str)
        factory = getattr(pn, name, None)
        if not callable(factory) or name.startswith("_"):
            close = difflib.get_close_matches(name, [n for n in dir(pn) if not n.startswith("_")], n=3)
            raise CaseError(source, "network.name", f"pandapower.networks has no network {name!r}"
                            + (f"; close: {close}" if close else ""))
        return factory()
    if kind in ("pandapower_json", "matpower"):
        file = Path(network.get("file", str))
        file = file if file.is_absolute() else Path(folder) / file
        if not file.is_file():
            raise CaseError(source, "network.file", f"no such file {str(file)!r}")
        try:
            if kind == "pandapower_json":
                return pp.from_json(str(file))
            from pandapower.converter.matpower import from_mpc
            return from_mpc(str(file), f_hz=frequency or 50.0)
        except Exception as exc:  # the converters raise many types on malformed input
            raise CaseError(source, "network.file", f"could not read {file.name}: {exc}") from exc
    return _inline_net(source, network, base_mva, frequency)


def _inline_net(source, network, base_mva, frequency):
    """A pandapower network from inline MATPOWER-style tables (via pandapower's from_ppc)."""
    from pandapower.converter.pypower import from_ppc

    if base_mva is None or frequency is None:
        raise CaseError(source, "base_mva" if base_mva is None else "frequency_hz",
                        "missing (required for inline networks)")
    bus = network.array("bus", ndim=2)
    gen = network.array("gen", ndim=2)
    branch = network.array("branch", ndim=2)
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
    bus, branch = _charging_to_shunts(bus, branch, base_mva)
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
            return from_ppc(ppc, f_hz=frequency, validate_conversion=False)
    finally:
        converter_log.setLevel(level)


def _charging_to_shunts(bus, branch, base_mva):
    """Move the charging of tapped branches into exactly equivalent bus shunts.

    pandapower's converter turns tapped branches into transformers, whose model has no
    line charging. In the MATPOWER pi model the charging b/2 of a tapped branch appears
    as j b/2 / |t|^2 at the from bus and j b/2 at the to bus, so those shunts (in Mvar at
    1 p.u.) reproduce the admittance matrix exactly.
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


def _power_network(source, network, kind, machines, folder, overrides, base_mva, frequency):
    from .powerflow import IslandError, Machine, PowerFlowError, element_ratings, machine_network, solve_power_flow

    net = _pandapower_net(source, network, kind, folder, base_mva, frequency)
    if base_mva is not None and not math.isclose(float(net.sn_mva), base_mva):
        raise CaseError(source, "base_mva", f"is {base_mva} but the network's base is {net.sn_mva} MVA")
    base = float(net.sn_mva)
    frequency = frequency if frequency is not None else float(net.f_hz)
    omega = 2 * math.pi * frequency
    keep_main_island = overrides["keep_main_island"]
    if keep_main_island is None:
        keep_main_island = network.get("keep_main_island", bool, False)
    linearization = overrides["linearization"] or network.get("linearization", str, "network")
    if linearization not in ("network", "reduced"):
        raise CaseError(source, "network.linearization", f"must be 'network' or 'reduced', got {linearization!r}")
    loads = network.get("loads", str, "impedance")
    if loads != "impedance":
        raise CaseError(source, "network.loads", f"only 'impedance' is supported, got {loads!r}")
    try:
        solve_power_flow(net, name=str(source))
    except PowerFlowError as exc:
        raise CaseError(source, "network", str(exc)) from exc
    kind_m = _Reader(source, machines, "machines.", set().union(*_MACHINE_KEYS.values())).get("source", str)
    if kind_m == "table":
        specs, params, details = _table_machines(source, machines, net, base, omega)
    elif kind_m == "rule":
        specs, params, details = _rule_machines(source, machines, net, element_ratings(net), base, omega)
    else:
        raise CaseError(source, "machines.source", f"must be 'table' or 'rule' for a power network, got {kind_m!r}")
    try:
        reduced = machine_network(net, [Machine(**spec) for spec in specs], name=str(source),
                                  linearization=linearization, keep_main_island=keep_main_island,
                                  run_power_flow=False)
    except IslandError as exc:
        raise CaseError(source, "network", str(exc)) from exc
    except (PowerFlowError, ArithmeticError, ValueError) as exc:
        raise CaseError(source, "machines" if "machine" in str(exc) else "network", str(exc)) from exc
    order = {spec["name"]: i for i, spec in enumerate(specs)}
    kept = np.array([order[m.name] for m in reduced.machines])
    nodes = SwingTurbineNodes(params["m"][kept], params["d"][kept], turbine_gain=params["q"][kept],
                              turbine_tau=params["tau"][kept])
    details.update(dropped_machines=reduced.dropped, negative_weights=reduced.negative_weights,
                   emf=reduced.emf, machine_power=reduced.power, base_mva=base, frequency_hz=frequency,
                   n_buses=len(net.bus))
    if "types" in details:
        details["types"] = [details["types"][i] for i in kept]
    options = {"keep_main_island": keep_main_island, "linearization": linearization}
    return (reduced.laplacian, nodes, [m.name for m in reduced.machines],
            tuple(int(m.bus) for m in reduced.machines), details, options)


def _family_parameters(mva, H, damping, inv_droop, tau, base, omega):
    """Machine-base data -> (m, d, q, tau) of the family (3.84) on the system base."""
    ratio = mva / (omega * base)
    return {"m": 2.0 * H * ratio, "d": damping * ratio, "q": inv_droop * ratio,
            "tau": np.where(inv_droop > 0, tau, 1.0)}


def _table_machines(source, machines, net, base, omega):
    reader = _Reader(source, machines, "machines.", _MACHINE_KEYS["table"])
    units = _units(source, reader, ("mva", "H", "damping", "xd_prime", "inv_droop", "tau"))
    for forbidden in ("m", "d", "q"):
        if reader.has(forbidden):
            raise CaseError(source, f"machines.{forbidden}", "a power-network case gives machine-base "
                            "data (mva, H, damping, xd_prime); m, d, q are derived")
    names = reader.get("name", list)
    n = len(names)
    if n == 0 or not all(isinstance(x, str) and x for x in names) or len(set(names)) != n:
        raise CaseError(source, "machines.name", "must be a non-empty list of distinct strings")
    bus = reader.array("bus", n)
    unknown = ~np.isin(bus, net.bus.index.to_numpy())
    if unknown.any():
        i = int(np.flatnonzero(unknown)[0])
        raise CaseError(source, "machines.bus", f"machine {names[i]!r} refers to unknown bus {int(bus[i])}")
    mva = reader.array("mva", n, minimum=0.0, strict=True)
    H = reader.array("H", n, minimum=0.0, strict=True)
    damping = reader.array("damping", n, minimum=0.0)
    xd = reader.array("xd_prime", n, minimum=0.0, strict=True)
    inv_droop = reader.array("inv_droop", n, minimum=0.0, default=np.zeros(n))
    tau = reader.array("tau", n, default=np.zeros(n))
    if reader.has("inv_droop") != reader.has("tau"):
        raise CaseError(source, "machines.tau", "inv_droop and tau must be given together")
    governed = inv_droop > 0
    if np.any(tau[governed] <= 0):
        i = int(np.flatnonzero(governed & (tau <= 0))[0])
        raise CaseError(source, "machines.tau", f"machine {names[i]!r} has a governor but tau = {tau[i]!r} (must be > 0)")
    p_share = reader.array("p_share", n, minimum=0.0, default=np.ones(n))
    q_share = reader.array("q_share", n, default=np.ones(n))
    for key, share in (("p_share", p_share), ("q_share", q_share)):
        for b in np.unique(bus):
            total = share[bus == b].sum()
            if not math.isclose(total, 1.0, abs_tol=1e-9):
                raise CaseError(source, f"machines.{key}", f"shares of the machines at bus {int(b)} sum to "
                                f"{total!r}, not 1")
    xd_system = xd * base / mva if units["xd_prime"] == "pu_machine" else xd
    specs = [dict(name=names[i], bus=int(bus[i]), xd_prime=float(xd_system[i]), p_share=float(p_share[i]),
                  q_share=float(q_share[i])) for i in range(n)]
    return specs, _family_parameters(mva, H, damping, inv_droop, tau, base, omega), {}


def _rule_value(source, field_name, spec, rng, count):
    """A rule entry: a number (fixed) or [low, high] (uniform draws, seeded)."""
    if isinstance(spec, (int, float)) and not isinstance(spec, bool):
        return np.full(count, float(spec))
    if (isinstance(spec, list) and len(spec) == 2 and all(isinstance(v, (int, float)) for v in spec)
            and spec[0] <= spec[1]):
        return rng.uniform(spec[0], spec[1], size=count)
    raise CaseError(source, field_name, f"must be a number or [low, high] with low <= high, got {spec!r}")


def _rule_machines(source, machines, net, ratings, base, omega):
    reader = _Reader(source, machines, "machines.", _MACHINE_KEYS["rule"])
    rng = np.random.default_rng(reader.get("seed", int))
    types = reader.get("types", dict)
    if not types:
        raise CaseError(source, "machines.types", "must define at least one machine type")
    names = sorted(types)
    probability = []
    for t in names:
        rule = _Reader(source, types[t], f"machines.types.{t}.", _RULE_KEYS)
        for key in _RULE_KEYS - {"probability"}:
            rule.get(key, (int, float, list))
        p = rule.get("probability", float)
        if not 0 <= p <= 1:
            raise CaseError(source, f"machines.types.{t}.probability", f"must lie in [0, 1], got {p}")
        probability.append(p)
    if not math.isclose(sum(probability), 1.0, abs_tol=1e-9):
        raise CaseError(source, "machines.types", f"type probabilities sum to {sum(probability)}, not 1")
    n = len(ratings)
    kinds = rng.choice(len(names), size=n, p=np.asarray(probability) / sum(probability))
    columns = {key: np.empty(n) for key in ("H", "damping", "xd_prime", "inv_droop", "tau")}
    for t_index, t in enumerate(names):
        chosen = np.flatnonzero(kinds == t_index)
        for key in columns:
            columns[key][chosen] = _rule_value(source, f"machines.types.{t}.{key}", types[t][key], rng, chosen.size)
    for key, strict in (("H", True), ("xd_prime", True), ("tau", True), ("damping", False), ("inv_droop", False)):
        bad = columns[key] <= 0 if strict else columns[key] < 0
        if bad.any():
            raise CaseError(source, f"machines.types.{names[kinds[np.flatnonzero(bad)[0]]]}.{key}",
                            f"must be {'>' if strict else '>='} 0")
    mva = np.array([r for _, _, r in ratings])
    specs = []
    for i, (kind, index, rating) in enumerate(ratings):
        label = net[kind].at[index, "name"] if "name" in net[kind] else None
        name = str(label) if isinstance(label, str) and label.strip() else f"{kind}{index}"
        specs.append(dict(name=name, bus=int(net[kind].at[index, "bus"]),
                          xd_prime=float(columns["xd_prime"][i] * base / rating), element=(kind, index)))
    params = _family_parameters(mva, columns["H"], columns["damping"], columns["inv_droop"], columns["tau"],
                                base, omega)
    details = {"types": [names[k] for k in kinds], "rating_mva": mva.tolist(), "H": columns["H"].tolist()}
    return specs, params, details
