"""pandapower JSON files read without running anything the file names: an allowlist of objects.

pandapower's JSON decoder rebuilds every object ``{"_module": ..., "_class": ...,
"_object": ...}`` of a file by importing ``_module`` and calling what it names, so a file
can make the reader import any installed module (and call functions of it). A network
file written by ``pandapower.to_json`` holds only three kinds of objects: the network
itself (``pandapower.auxiliary.pandapowerNet``, at the top) and its tables
(``pandas.core.frame.DataFrame``; ``pandas.core.series.Series`` for a Series stored in a
network), each table's data nested as JSON text. :func:`read_pandapower_json` parses the
file with the standard-library :mod:`json` first and walks every object, including those
in JSON text nested in strings, and refuses any object outside :data:`ALLOWED_OBJECTS`
(by module *and* class, with only the keys pandapower writes for it) before pandapower's
decoder sees the text. Only then does pandapower build the network, from the checked text.
"""

from __future__ import annotations

import json
from pathlib import Path

from .schema import CaseError

__all__ = ["ALLOWED_OBJECTS", "refused_object", "read_pandapower_json"]

_TABLE_KEYS = frozenset({"_module", "_class", "_object", "orient", "dtype", "is_multiindex", "index_name",
                         "index_names"})

#: The objects a pandapower network file may hold: (module, class) -> the keys pandapower
#: writes for it. Collected from ``pandapower.to_json`` of pandapower's case9, case39,
#: case118, iceland, mv_oberrhein, GBreducednetwork, example_multivoltage, CIGRE and
#: Kerber networks and a network with bus and line geodata, before and after a power
#: flow; plus Series, for a Series stored in a network.
ALLOWED_OBJECTS = {
    ("pandapower.auxiliary", "pandapowerNet"): frozenset({"_module", "_class", "_object"}),
    ("pandas.core.frame", "DataFrame"): _TABLE_KEYS | {"is_multicolumn", "column_name", "column_names"},
    ("pandas.core.series", "Series"): _TABLE_KEYS | {"typ"},
}
_NETWORK = ("pandapower.auxiliary", "pandapowerNet")


def _parsed(text):
    """``text`` parsed as JSON, or None when it is not JSON text."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def _object_problem(value, at_top):
    """Why the object ``value`` (a dict with ``_module`` or ``_class``) is refused, or None."""
    kind = (value.get("_module"), value.get("_class"))
    if kind not in ALLOWED_OBJECTS:
        return (f"names _module {kind[0]!r} and _class {kind[1]!r}, which pandapower would import; a "
                "network file holds only " + ", ".join(f"{m}.{c}" for m, c in ALLOWED_OBJECTS))
    extra = sorted(set(value) - ALLOWED_OBJECTS[kind])
    if extra:
        return f"is a {kind[1]} with keys pandapower does not write: {', '.join(map(repr, extra))}"
    if kind == _NETWORK and not at_top:
        return "is a pandapowerNet inside the network"
    content = value.get("_object")
    if kind == _NETWORK and not isinstance(content, dict):
        return "is a pandapowerNet whose _object is not a JSON object"
    if kind != _NETWORK and not (isinstance(content, str) and _parsed(content) is not None):
        return f"is a {kind[1]} whose _object is not JSON text"
    return None


def refused_object(document):
    """The first object of a parsed pandapower JSON document outside :data:`ALLOWED_OBJECTS`.

    Every dict is checked, and every string that is itself JSON text is parsed and walked
    too (pandapower nests each table's data as JSON text, and decodes the objects in it).

    Parameters
    ----------
    document : object
        ``json.loads`` of the file.

    Returns
    -------
    tuple of (str, str) or None
        Where the object is (e.g. ``_object.bus``) and why it is refused; None when the
        document holds only allowed objects, with the network at the top.

    Examples
    --------
    >>> net = {"_module": "pandapower.auxiliary", "_class": "pandapowerNet", "_object": {}}
    >>> refused_object(net) is None
    True
    >>> net["_object"]["x"] = {"_module": "os", "_class": "system", "_object": "ls"}
    >>> refused_object(net)[0]
    '_object.x'
    """
    if not (isinstance(document, dict) and (document.get("_module"), document.get("_class")) == _NETWORK):
        return "(top level)", ("is not a pandapower network (files written by pandapower.to_json have a "
                               "pandapowerNet object at the top)")
    stack = [(document, "", True)]
    while stack:
        value, where, at_top = stack.pop()
        if isinstance(value, dict):
            if "_module" in value or "_class" in value:
                problem = _object_problem(value, at_top)
                if problem is not None:
                    return where or "(top level)", problem
            stack += [(item, f"{where}.{key}" if where else str(key), False) for key, item in value.items()]
        elif isinstance(value, list):
            stack += [(item, f"{where}[{i}]", False) for i, item in enumerate(value)]
        elif isinstance(value, str) and value.lstrip()[:1] in ("{", "[", '"'):
            inner = _parsed(value)
            if inner is not None:
                stack.append((inner, f"{where} (JSON text)", False))
    return None


def read_pandapower_json(source, field, file):
    """The pandapower network of a JSON file, read only if it holds only allowed objects.

    Parameters
    ----------
    source : str or Path
        The case, for error messages.
    field : str
        The field that names the file (``network.file``).
    file : Path

    Returns
    -------
    pandapowerNet

    Raises
    ------
    CaseError
        The file is not UTF-8 JSON, is not a pandapower network, holds an object outside
        :data:`ALLOWED_OBJECTS` (the message names the object, its module and class), or
        pandapower cannot build the network from it.
    """
    file = Path(file)
    try:
        text = file.read_text(encoding="utf-8")
        document = json.loads(text)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise CaseError(source, field, f"{file.name} is not valid JSON: {exc}") from exc
    refused = refused_object(document)
    if refused is not None:
        where, problem = refused
        raise CaseError(source, field, f"{file.name}: refusing to read it: the object at {where} {problem}")
    import pandapower as pp

    try:
        net = pp.from_json_string(text, convert=True)
    except Exception as exc:  # pandapower raises many types on malformed tables
        raise CaseError(source, field, f"could not read {file.name}: {exc}") from exc
    if not isinstance(net, pp.pandapowerNet):
        raise CaseError(source, field, f"{file.name} does not hold a pandapower network")
    return net
