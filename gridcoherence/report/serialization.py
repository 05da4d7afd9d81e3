"""Reduced models as versioned, human-readable JSON files.

:func:`save_reduced` writes a reduced k-node network -- partition, reduced Laplacian,
coupling, and every cluster's aggregate both as transfer-function coefficients and, where
it is a swing/turbine machine, as equivalent machine parameters -- and
:func:`load_reduced` reads it back to the same model. Floats are written with Python's
shortest round-tripping representation, so the round trip is exact.

Format (``format = "gridcoherence.reduced"``, ``format_version = 1``)::

    {
      "format": "gridcoherence.reduced", "format_version": 1,
      "case": "...", "n_nodes": n, "n_clusters": k,
      "node_names": [...] | null,
      "partition": [cluster of node 0, ...],
      "coupling": {"num": [...], "den": [...]},         # f(s), highest power first
      "reduced_laplacian": [[...], ...],                 # L_k, k x k
      "allow_negative_weights": false,                   # true: L_k has negative edge weights
      "clusters": [
        {"cluster": 0, "nodes": [...],
         "inertia": ..,                                       # total original inertia (COI weight)
         "transfer_function": {"num": [...], "den": [...]},   # the cluster's node g(s)
         "machine": {"m": .., "d": .., "turbines": [{"gain": .., "tau": ..}, ...]} | null,
         "reduction": {"method": "cl", "order": 2, "dc_scale": .., "hankel_singular_values": [...],
                       "physical": true, "reason": ""} | null}
      ],
      "options": {...}, "extra": {...}
    }

The model is rebuilt from ``machine`` where present, else from ``transfer_function``.
L_k of Algorithm 1 may have positive off-diagonal entries (negative edge weights) when
the partition is far from block-ideal; ``allow_negative_weights`` records whether it
does, and a file that says false is rejected if it has any. :func:`load_reduced`
checks every field before building the model (see there), so an edited or damaged file
gives a :class:`ReducedModelFileError` naming the field rather than a model that is
unstable or not the one saved.
"""

from __future__ import annotations

import contextlib
import json
import math
from pathlib import Path

import control
import numpy as np

from .._io import atomic_write, to_jsonable
from ..models.coupling import Coupling
from ..models.laplacian import validate_laplacian
from ..models.nodes import LTINodes, SwingTurbineNodes, stack_single_nodes
from ..reduction.machines import DEFAULT_WEIGHTS

__all__ = ["save_reduced", "load_reduced", "ReducedModelFileError", "FORMAT", "FORMAT_VERSION"]

FORMAT = "gridcoherence.reduced"
FORMAT_VERSION = 1


class ReducedModelFileError(ValueError):
    """A reduced-model file is unreadable or malformed; the message names file and field."""

    def __init__(self, path, field, problem):
        self.path, self.field = str(path), field
        super().__init__(f"reduced model {path}: field '{field}': {problem}")


def _cluster_record(nodes, c, members, reduction, inertia):
    node = nodes.subset([c])
    tf = node.node_system(0)
    record = {
        "cluster": c,
        "nodes": members.tolist(),
        "inertia": float(inertia),
        "transfer_function": {"num": np.atleast_1d(tf.num[0][0]).tolist(),
                              "den": np.atleast_1d(tf.den[0][0]).tolist()},
        "machine": None,
        "reduction": None,
    }
    if isinstance(node, SwingTurbineNodes):
        record["machine"] = {
            "m": float(node.m[0]), "d": float(node.d[0]),
            "turbines": [{"gain": float(q), "tau": float(tau)}
                         for q, tau in zip(node.turbine_gain, node.turbine_tau)],
        }
    if reduction is not None:
        record["reduction"] = {
            "method": reduction.method, "order": int(reduction.order),
            "dc_scale": float(reduction.dc_scale),
            "hankel_singular_values": np.asarray(reduction.hankel_singular_values).tolist(),
            "physical": bool(reduction.interpretation.physical),
            "reason": reduction.interpretation.reason,
        }
    return record


def save_reduced(reduced, path, *, case=None, extra=None):
    """Write a reduced network to ``path`` (JSON, atomically).

    Parameters
    ----------
    reduced : NetworkReduction or ReducedNetwork
        A pipeline result (:func:`gridcoherence.reduction.pipeline.reduce_network`) or a reduced
        network (:func:`gridcoherence.structure_preserving_reduction`).
    path : str or Path
    case : str, optional
        Name of the case it was reduced from.
    extra : dict, optional
        Anything else to record (band error, ...).
    """
    model = getattr(reduced, "model", reduced)
    reductions = getattr(reduced, "aggregate_reductions", [None] * model.n)
    labels = np.asarray(model.labels)
    document = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "case": case,
        "n_nodes": int(labels.size),
        "n_clusters": int(model.n),
        "node_names": list(model.lifted_node_names) if model.lifted_node_names else None,
        "partition": labels.tolist(),
        "coupling": {"num": model.coupling.num.tolist(), "den": model.coupling.den.tolist()},
        "reduced_laplacian": np.asarray(model.reduced_laplacian).tolist(),
        "allow_negative_weights": not model.has_nonnegative_weights,
        "clusters": [_cluster_record(model.nodes, c, np.flatnonzero(labels == c), reductions[c],
                                     model.inertia[c]) for c in range(model.n)],
        "options": getattr(reduced, "options", {}),
        "extra": extra or {},
    }
    with atomic_write(Path(path)) as handle:
        json.dump(to_jsonable(document), handle, indent=1, allow_nan=False)
        handle.write("\n")


#: The fields of a file, of a cluster record and of its optional sub-records, as
#: :func:`save_reduced` writes them; :func:`load_reduced` requires exactly these.
FILE_FIELDS = ("format", "format_version", "case", "n_nodes", "n_clusters", "node_names", "partition",
               "coupling", "reduced_laplacian", "allow_negative_weights", "clusters", "options", "extra")
CLUSTER_FIELDS = ("cluster", "nodes", "inertia", "transfer_function", "machine", "reduction")
POLYNOMIAL_FIELDS = ("num", "den")
MACHINE_FIELDS = ("m", "d", "turbines")
TURBINE_FIELDS = ("gain", "tau")
REDUCTION_FIELDS = ("method", "order", "dc_scale", "hankel_singular_values", "physical", "reason")

#: Relative tolerance of the reduced Laplacian's checks (symmetry, zero row sums, the sign
#: of its off-diagonal entries and of its eigenvalues), as in
#: :func:`~gridcoherence.models.laplacian.validate_laplacian`.
LAPLACIAN_RTOL = 1e-9

#: Relative distance from the imaginary axis within which a pole counts as on it:
#: sqrt(machine epsilon), the resolution of computed polynomial roots.
POLE_MARGIN = float(np.sqrt(np.finfo(float).eps))


_JSON_TYPES = {type(None): "null", bool: "boolean", int: "integer", float: "number", str: "string",
               list: "array", dict: "object"}


def _json_type(value):
    """The JSON name of a parsed value's type, for error messages."""
    return _JSON_TYPES.get(type(value), type(value).__name__)


def _brief(value):
    """``repr(value)``, cut to 60 characters (a field may hold anything)."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _unstable_pole(den):
    """Why 1/den(s) is not (marginally) stable, or ``None`` when it is.

    Unstable means a pole with Re p > POLE_MARGIN max(1, max |p|), or a repeated pole on
    the imaginary axis (two poles within the margin of it and within sqrt(POLE_MARGIN)
    of each other, the spread rounding gives a double root).
    """
    poles = np.roots(den)
    if poles.size == 0:
        return None
    if not np.all(np.isfinite(poles)):
        return "has poles that cannot be computed (coefficients out of range)"
    margin = POLE_MARGIN * max(1.0, float(np.abs(poles).max()))
    right = poles[poles.real > margin]
    if right.size:
        return f"has a pole at s = {complex(right[0]):.6g} in the right half-plane (unstable)"
    axis = poles[np.abs(poles.real) <= margin]
    for i, pole in enumerate(axis):
        if np.any(np.abs(axis[i + 1:] - pole) <= np.sqrt(POLE_MARGIN) * max(1.0, abs(pole))):
            return f"has a repeated pole at s = {complex(pole):.6g} on the imaginary axis (unstable)"
    return None


class _FileReader:
    """Field-by-field checks of one parsed reduced-model file.

    Every check looks at the JSON type before using a value, and every failure is a
    :class:`ReducedModelFileError` naming the file and the field.
    """

    def __init__(self, path):
        self.path = path

    def error(self, field, problem):
        return ReducedModelFileError(self.path, field, problem)

    @contextlib.contextmanager
    def package_check(self, field):
        """Run the package's own checks on a field: their errors name the field.

        Floating-point overflow and invalid operations raise instead of warning, so
        extreme numbers give an error rather than inf or NaN inside the model.
        """
        try:
            with np.errstate(over="raise", divide="raise", invalid="raise"):
                yield
        except ReducedModelFileError:
            raise
        except (ValueError, ArithmeticError) as exc:
            raise self.error(field, str(exc)) from exc

    def record(self, value, field, fields):
        """``value`` as a JSON object with exactly ``fields``."""
        if not isinstance(value, dict):
            raise self.error(field, f"must be an object, got {_json_type(value)}")
        for key in fields:
            if key not in value:
                raise self.error(f"{field}.{key}" if field else key, "missing")
        unexpected = [key for key in value if key not in fields]
        if unexpected:
            name = unexpected[0] if len(unexpected[0]) <= 40 else unexpected[0][:37] + "..."
            raise self.error(f"{field}.{name}" if field else name,
                             f"unexpected field (expected only {', '.join(fields)})")
        return value

    def array(self, value, field, length=None, counted_by=None):
        """A JSON array, of ``length`` entries if given (``counted_by`` says why)."""
        if not isinstance(value, list):
            raise self.error(field, f"must be an array, got {_json_type(value)}")
        if length is not None and len(value) != length:
            reason = f" ({counted_by})" if counted_by else ""
            raise self.error(field, f"has {len(value)} entries, not {length}{reason}")
        return value

    def text(self, value, field, optional=False):
        if value is None and optional:
            return None
        if not isinstance(value, str):
            raise self.error(field, f"must be a string{' or null' if optional else ''}, got {_json_type(value)}")
        return value

    def flag(self, value, field):
        if not isinstance(value, bool):
            raise self.error(field, f"must be true or false, got {_json_type(value)}")
        return value

    def integer(self, value, field, minimum):
        # bool is an int subclass in Python but a separate type in JSON.
        if type(value) is not int:
            raise self.error(field, f"must be an integer, got {_json_type(value)}")
        if value < minimum:
            raise self.error(field, f"must be >= {minimum}, got {_brief(value)}")
        return value

    def integers(self, value, field, low, high, length=None, counted_by=None):
        """A JSON array of integers in low..high as an int64 array."""
        values = self.array(value, field, length, counted_by)
        for i, entry in enumerate(values):
            if type(entry) is not int:
                raise self.error(f"{field}[{i}]", f"must be an integer, got {_json_type(entry)}")
            if not low <= entry <= high:
                raise self.error(f"{field}[{i}]", f"must lie in {low}..{high}, got {_brief(entry)}")
        return np.array(values, dtype=np.int64)

    def numbers(self, value, field, *, length=None, minimum=None, strict=False):
        """A JSON array of finite numbers (>= or, ``strict``, > ``minimum``) as a float array."""
        values = self.array(value, field, length)
        out = np.empty(len(values))
        for i, entry in enumerate(values):
            out[i] = self.number(entry, f"{field}[{i}]", minimum=minimum, strict=strict)
        return out

    def number(self, value, field, *, minimum=None, strict=False):
        if type(value) not in (int, float):
            raise self.error(field, f"must be a number, got {_json_type(value)}")
        try:
            number = float(value)
        except OverflowError:
            raise self.error(field, "is too large for a floating-point number") from None
        if not math.isfinite(number):
            raise self.error(field, f"must be finite, got {number!r}")
        if minimum is not None and (number <= minimum if strict else number < minimum):
            raise self.error(field, f"must be {'>' if strict else '>='} {minimum}, got {number!r}")
        return number

    def matrix(self, value, field, size):
        """A JSON array of ``size`` rows of ``size`` finite numbers."""
        rows = self.array(value, field, size, "n_clusters")
        return np.array([self.numbers(row, f"{field}[{i}]", length=size) for i, row in enumerate(rows)])

    def polynomial(self, value, field):
        """A proper rational function {num, den} (highest power first) as two float arrays."""
        record = self.record(value, field, POLYNOMIAL_FIELDS)
        num, den = (np.trim_zeros(self.numbers(record[key], f"{field}.{key}"), "f")
                    for key in POLYNOMIAL_FIELDS)
        for key, coefficients in zip(POLYNOMIAL_FIELDS, (num, den)):
            if coefficients.size == 0:
                raise self.error(f"{field}.{key}", "must hold a nonzero polynomial")
        if num.size > den.size:
            raise self.error(field, f"is improper (numerator degree {num.size - 1} > denominator "
                                    f"degree {den.size - 1})")
        return num, den

    def stable(self, den, field, what):
        """Reject dynamics with denominator ``den`` that are not (marginally) stable."""
        with self.package_check(field):
            problem = _unstable_pole(den)
        if problem:
            raise self.error(field, f"{what} {problem}")

    # ------------------------------------------------------------------ fields
    def reduced_laplacian(self, value, k, allow_negative_weights):
        """L_k: a symmetric k x k matrix with zero row sums (Algorithm 1, step 3), positive
        semidefinite of rank k - 1 (L_k = D S Lambda_k S^T D with lambda_2 > 0), and with
        non-positive off-diagonal entries unless the file allows negative weights."""
        field = "reduced_laplacian"
        laplacian = self.matrix(value, field, k)
        with self.package_check(field):
            validate_laplacian(laplacian, name="L_k", allow_negative_weights=True, allow_disconnected=True,
                               rtol=LAPLACIAN_RTOL)
            tol = LAPLACIAN_RTOL * float(np.abs(laplacian).max())
            if not allow_negative_weights:
                off = laplacian - np.diag(np.diag(laplacian))
                if np.any(off > tol):
                    i, j = np.unravel_index(int(np.argmax(off)), off.shape)
                    raise self.error(field, f"L_k[{i},{j}] = {laplacian[i, j]!r} is positive (a negative edge "
                                            "weight), but field 'allow_negative_weights' is false")
            if k > 1:
                eigenvalues = np.linalg.eigvalsh(laplacian)
                if not np.all(np.isfinite(eigenvalues)):
                    raise self.error(field, "L_k's eigenvalues cannot be computed (entries out of range)")
                scale = LAPLACIAN_RTOL * max(float(np.abs(eigenvalues).max()), np.finfo(float).tiny)
                if eigenvalues[0] < -scale:
                    raise self.error(field, f"L_k has a negative eigenvalue {eigenvalues[0]:.6g}: the reduced "
                                            "network would be unstable")
                if eigenvalues[1] <= scale:
                    raise self.error(field, f"L_k has a repeated zero eigenvalue (lambda_2 = {eigenvalues[1]:.3g}): "
                                            "the reduced network is disconnected")
        return laplacian

    def coupling(self, value):
        """f(s): stable and positive real, the condition of Thm 3.4 under which passive
        nodes on a Laplacian network give a stable interconnection (1/s and 1 are)."""
        field = "coupling"
        num, den = self.polynomial(value, field)
        with self.package_check(field):
            coupling = Coupling(num, den)
        self.stable(coupling.den, field, f"f(s) = {coupling.name}")
        with self.package_check(field):
            if not coupling.is_positive_real():
                raise self.error(field, f"f(s) = {coupling.name} is not positive real (Thm 3.4): the "
                                        "reduced network need not be stable")
        return coupling

    def cluster_node(self, record, field):
        """The cluster's node: its machine where given, else its transfer function.

        A machine (m > 0, d >= 0, turbines with gain > 0 and tau > 0) is stable by its
        signs: Re g^{-1}(s) >= 0 on Re s >= 0 (3.84); its transfer function must match
        it. A node given only as a transfer function must have no unstable pole.
        """
        tf_field = f"{field}.transfer_function"
        num, den = self.polynomial(record["transfer_function"], tf_field)
        with self.package_check(tf_field):
            node = LTINodes([control.tf(num, den)])
        written = [np.atleast_1d(part[0][0]) for part in (node.systems[0].num, node.systems[0].den)]
        if record["machine"] is None:
            # Only here: the roots of a many-turbine machine's polynomial are inaccurate.
            self.stable(written[1], tf_field, "the node g(s)")
            return node
        machine_field = f"{field}.machine"
        machine = self.record(record["machine"], machine_field, MACHINE_FIELDS)
        m = self.number(machine["m"], f"{machine_field}.m", minimum=0.0, strict=True)
        d = self.number(machine["d"], f"{machine_field}.d", minimum=0.0)
        turbines = [self.record(t, f"{machine_field}.turbines[{j}]", TURBINE_FIELDS)
                    for j, t in enumerate(self.array(machine["turbines"], f"{machine_field}.turbines"))]
        gain = [self.number(t["gain"], f"{machine_field}.turbines[{j}].gain", minimum=0.0, strict=True)
                for j, t in enumerate(turbines)]
        tau = [self.number(t["tau"], f"{machine_field}.turbines[{j}].tau", minimum=0.0, strict=True)
               for j, t in enumerate(turbines)]
        with self.package_check(machine_field):
            machine_node = SwingTurbineNodes([m], [d], turbine_gain=gain, turbine_tau=tau,
                                             turbine_node=np.zeros(len(turbines), dtype=np.int64))
            tf = machine_node.node_system(0)
            for key, expected, given in zip(POLYNOMIAL_FIELDS, (tf.num[0][0], tf.den[0][0]), written):
                expected = np.atleast_1d(expected)
                if expected.shape != given.shape or not np.allclose(given, expected, rtol=1e-9, atol=0.0):
                    raise self.error(f"{tf_field}.{key}",
                                     f"does not match the machine parameters of field '{machine_field}'")
        return machine_node

    def reduction(self, value, field, has_machine):
        if value is None:
            return
        record = self.record(value, field, REDUCTION_FIELDS)
        method = self.text(record["method"], f"{field}.method")
        if method not in DEFAULT_WEIGHTS:
            raise self.error(f"{field}.method", f"must be one of {sorted(DEFAULT_WEIGHTS)}, got {method!r}")
        self.integer(record["order"], f"{field}.order", 1)
        self.number(record["dc_scale"], f"{field}.dc_scale")
        self.numbers(record["hankel_singular_values"], f"{field}.hankel_singular_values", minimum=0.0)
        physical = self.flag(record["physical"], f"{field}.physical")
        self.text(record["reason"], f"{field}.reason")
        if physical != has_machine:
            raise self.error(f"{field}.physical", f"is {str(physical).lower()} but the cluster "
                                                  f"{'has no' if physical else 'has a'} machine: a "
                                                  "physical reduced aggregate is stored as its machine")

    def clusters(self, records, labels):
        """The cluster nodes and the clusters' total inertias, from one record per cluster."""
        nodes, inertia = [], np.empty(len(records))
        for c, record in enumerate(records):
            field = f"clusters[{c}]"
            record = self.record(record, field, CLUSTER_FIELDS)
            if self.integer(record["cluster"], f"{field}.cluster", 0) != c:
                raise self.error(f"{field}.cluster", f"must be {c} (clusters are listed in order), "
                                                     f"got {record['cluster']}")
            members = self.integers(record["nodes"], f"{field}.nodes", 0, labels.size - 1)
            expected = np.flatnonzero(labels == c)
            if not np.array_equal(members, expected):
                raise self.error(f"{field}.nodes", f"does not match the partition, which puts nodes "
                                                   f"{expected[:10].tolist()}{' ...' if expected.size > 10 else ''} "
                                                   f"in cluster {c}")
            inertia[c] = self.number(record["inertia"], f"{field}.inertia", minimum=0.0)
            nodes.append(self.cluster_node(record, field))
            self.reduction(record["reduction"], f"{field}.reduction", record["machine"] is not None)
        if not inertia.sum() > 0:
            raise self.error("clusters[*].inertia", "are all zero: the centre of inertia needs a positive total")
        return nodes, inertia

    def model(self, document):
        """The ReducedNetwork of a parsed file, every field checked."""
        from ..reduction.structure import ReducedNetwork

        # Format and version first: a file of another kind or version is named as such.
        for key, expected in (("format", FORMAT), ("format_version", FORMAT_VERSION)):
            if key not in document:
                raise self.error(key, "missing")
            if type(document[key]) is not type(expected) or document[key] != expected:
                raise self.error(key, f"must be {expected!r}, got {_brief(document[key])}")
        document = self.record(document, "", FILE_FIELDS)
        case = self.text(document["case"], "case", optional=True)
        n = self.integer(document["n_nodes"], "n_nodes", 1)
        k = self.integer(document["n_clusters"], "n_clusters", 1)
        records = self.array(document["clusters"], "clusters", k, "n_clusters")
        names = document["node_names"]
        if names is not None:
            names = [self.text(name, f"node_names[{i}]")
                     for i, name in enumerate(self.array(names, "node_names", n, "n_nodes"))]
        labels = self.integers(document["partition"], "partition", 0, k - 1, n, "n_nodes")
        empty = np.flatnonzero(np.bincount(labels, minlength=k) == 0)
        if empty.size:
            raise self.error("partition", f"puts no node in cluster {int(empty[0])} (every cluster 0..{k - 1} "
                                          "must hold a node)")
        coupling = self.coupling(document["coupling"])
        allow_negative_weights = self.flag(document["allow_negative_weights"], "allow_negative_weights")
        laplacian = self.reduced_laplacian(document["reduced_laplacian"], k, allow_negative_weights)
        nodes, inertia = self.clusters(records, labels)
        for key in ("options", "extra"):
            if not isinstance(document[key], dict):
                raise self.error(key, f"must be an object, got {_json_type(document[key])}")
        with self.package_check("model"):
            return ReducedNetwork.from_parts(stack_single_nodes(nodes), laplacian, coupling, labels,
                                             inertia=inertia, lifted_node_names=names,
                                             name=f"{case or 'network'} reduced to {k} clusters")


def load_reduced(path):
    """Read a reduced network written by :func:`save_reduced`, checking every field.

    The checks: the fields are exactly those :func:`save_reduced` writes, each of its
    JSON type and every number finite; the partition has one cluster number
    0..k-1 per node name with every cluster used, and each cluster record lists its
    nodes; L_k is symmetric with zero row sums, positive semidefinite of rank k - 1 and,
    unless ``allow_negative_weights`` is true, has non-positive off-diagonal entries;
    cluster inertias are >= 0 with a positive total; machines have m > 0, d >= 0 and
    turbines with gain > 0 and tau > 0 (the family of (3.84)), and agree with the
    cluster's transfer function; every node g(s) and the coupling f(s) are proper and
    (marginally) stable: no pole in Re s > 0 and no repeated pole on the imaginary axis;
    f(s) is positive real (Thm 3.4; a frequency-grid check).

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    ReducedNetwork
        A standalone reduced network (no original model attached): it evaluates,
        simulates and lifts responses to the original nodes exactly as the saved one.

    Raises
    ------
    ReducedModelFileError
        Unreadable, not JSON, nested too deeply, or any field missing, unexpected or
        malformed; the message names the field.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ReducedModelFileError(path, "file", f"not valid JSON (not UTF-8 text: {exc.reason})") from exc
    except (OSError, ValueError) as exc:
        # ValueError: a path the system cannot open (e.g. with a NUL character).
        raise ReducedModelFileError(path, "file", f"cannot read: {getattr(exc, 'strerror', None) or exc}") from exc
    try:
        document = json.loads(text)
    except RecursionError:
        raise ReducedModelFileError(path, "file", "not valid JSON (nested too deeply)") from None
    except ValueError as exc:
        # json.JSONDecodeError, or an integer literal too long to convert.
        raise ReducedModelFileError(path, "file", f"not valid JSON ({exc})") from exc
    if not isinstance(document, dict):
        raise ReducedModelFileError(path, "file", f"must hold a JSON object, got {_json_type(document)}")
    return _FileReader(path).model(document)
