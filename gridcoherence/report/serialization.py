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
      "clusters": [
        {"cluster": 0, "nodes": [...],
         "inertia": ..,                                       # total original inertia (COI weight)
         "transfer_function": {"num": [...], "den": [...]},   # the cluster's node g(s)
         "machine": {"m": .., "d": .., "turbines": [{"gain": .., "tau": ..}, ...]} | null,
         "reduction": {"method": "cl", "order": 2, "dc_scale": .., "hankel_singular_values": [...]} | null}
      ],
      "options": {...}, "extra": {...}
    }

The model is rebuilt from ``machine`` where present, else from ``transfer_function``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .._io import atomic_write, to_jsonable
from ..models.coupling import Coupling
from ..models.nodes import LTINodes, SwingTurbineNodes, stack_single_nodes

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
        "clusters": [_cluster_record(model.nodes, c, np.flatnonzero(labels == c), reductions[c],
                                     model.inertia[c]) for c in range(model.n)],
        "options": getattr(reduced, "options", {}),
        "extra": extra or {},
    }
    with atomic_write(Path(path)) as handle:
        json.dump(to_jsonable(document), handle, indent=1, allow_nan=False)
        handle.write("\n")


def _require(document, key, kind, path, field=None):
    field = field or key
    if key not in document:
        raise ReducedModelFileError(path, field, "missing")
    value = document[key]
    if not isinstance(value, kind):
        raise ReducedModelFileError(path, field, f"must be {getattr(kind, '__name__', kind)}, got {type(value).__name__}")
    return value


def _numbers(values, path, field):
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ReducedModelFileError(path, field, "must hold numbers") from exc
    if not np.all(np.isfinite(array)):
        raise ReducedModelFileError(path, field, "holds a non-finite number")
    return array


def _cluster_node(record, path, c):
    field = f"clusters[{c}]"
    machine = record.get("machine")
    try:
        if machine is not None:
            turbines = machine.get("turbines", [])
            return SwingTurbineNodes(
                [machine["m"]], [machine["d"]],
                turbine_gain=[t["gain"] for t in turbines], turbine_tau=[t["tau"] for t in turbines],
                turbine_node=np.zeros(len(turbines), dtype=np.int64))
        import control

        tf = _require(record, "transfer_function", dict, path, f"{field}.transfer_function")
        num = _numbers(tf.get("num"), path, f"{field}.transfer_function.num")
        den = _numbers(tf.get("den"), path, f"{field}.transfer_function.den")
        return LTINodes([control.tf(num, den)])
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, ReducedModelFileError):
            raise
        raise ReducedModelFileError(path, field, str(exc)) from exc


def load_reduced(path):
    """Read a reduced network written by :func:`save_reduced`.

    Returns
    -------
    ReducedNetwork
        A standalone reduced network (no original model attached): it evaluates,
        simulates and lifts responses to the original nodes exactly as the saved one.

    Raises
    ------
    ReducedModelFileError
        Unreadable, not JSON, wrong format or version, or a missing/malformed field.
    """
    from ..reduction.structure import ReducedNetwork

    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ReducedModelFileError(path, "file", f"cannot read: {exc.strerror or exc}") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReducedModelFileError(path, "file", f"not valid JSON ({exc})") from exc
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ReducedModelFileError(path, "format", f"must be {FORMAT!r}")
    if document.get("format_version") != FORMAT_VERSION:
        raise ReducedModelFileError(path, "format_version",
                                    f"must be {FORMAT_VERSION}, got {document.get('format_version')!r}")
    partition = _numbers(_require(document, "partition", list, path), path, "partition")
    if np.any(partition != np.round(partition)) or partition.min() < 0:
        raise ReducedModelFileError(path, "partition", "must hold cluster numbers 0..k-1")
    labels = partition.astype(np.int64)
    clusters = _require(document, "clusters", list, path)
    k = len(clusters)
    if k == 0 or labels.max() + 1 != k:
        raise ReducedModelFileError(path, "clusters", f"{k} clusters for a partition into {labels.max() + 1}")
    laplacian = _numbers(_require(document, "reduced_laplacian", list, path), path, "reduced_laplacian")
    if laplacian.shape != (k, k):
        raise ReducedModelFileError(path, "reduced_laplacian", f"must be {k}x{k}, got shape {laplacian.shape}")
    coupling_doc = _require(document, "coupling", dict, path)
    coupling = Coupling(_numbers(coupling_doc.get("num"), path, "coupling.num"),
                        _numbers(coupling_doc.get("den"), path, "coupling.den"))
    nodes = stack_single_nodes([_cluster_node(record, path, c) for c, record in enumerate(clusters)])
    names = document.get("node_names")
    inertia = _numbers([record.get("inertia") for record in clusters], path, "clusters[*].inertia")
    try:
        return ReducedNetwork.from_parts(nodes, laplacian, coupling, labels, inertia=inertia,
                                         lifted_node_names=names,
                                         name=f"{document.get('case') or 'network'} reduced to {k} clusters")
    except ValueError as exc:
        raise ReducedModelFileError(path, "model", str(exc)) from exc

