"""MATPOWER cases and MATPOWER-style tables, checked before pandapower converts them.

pandapower's MATPOWER converter reads ``.m`` files with matpowercaseframes, which finds each
matrix ``mpc.<name> = [ ... ];`` by pattern: a missing ``];``, a word among the numbers or an
empty file surface as unrelated errors deep in the converter, or as a wrong network.
:func:`read_matpower` therefore reads the file itself first (``.m`` text line by line;
``.mat`` with :func:`scipy.io.loadmat`) and checks the matrices; only a file that passes is
given to pandapower's converter. :func:`check_grid_tables` holds the checks of bus, gen
and branch rows shared with the inline tables of a case file
(:func:`~gridcoherence.cases.network_sources.inline_net`): integer and distinct bus
numbers, a reference bus with a generator, no row referring to a missing bus, no branch
from a bus to itself, no zero reactance; branches of negative reactance are returned, to
be reported. A fuel column ``mpc.genfuel`` (a cell array of strings, one per generator, as
MATPOWER's larger cases have it) is kept: pandapower's converter drops it, so
:func:`read_matpower` writes each generator's fuel into the ``type`` column of the element
the converter made of it, where :mod:`~gridcoherence.cases.typical_machines` reads machine
types.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from .schema import CaseError

__all__ = ["MATPOWER_COLUMNS", "check_grid_tables", "read_matpower"]

#: Fewest columns of each MATPOWER matrix (version 2): bus 13, gen 10, branch 13.
MATPOWER_COLUMNS = {"bus": 13, "gen": 10, "branch": 13}
#: Columns the network is built from (0-based): a non-finite value there is refused;
#: elsewhere (limits, costs) infinity is allowed, as MATPOWER allows it.
_USED_COLUMNS = {"bus": [0, 1, 2, 3, 4, 5, 7, 8, 9], "gen": [0, 1, 2, 5, 7], "branch": [0, 1, 2, 3, 4, 8, 9, 10]}
_BUS_TYPES = {1: "PQ", 2: "PV", 3: "reference", 4: "isolated"}


def _integers(values):
    """Positions of the entries of ``values`` that are not integers."""
    return np.flatnonzero(values != np.round(values))


def check_grid_tables(source, bus, gen, branch, *, field, row, prefix="", bus_types=(1, 2, 3, 4)):
    """Check MATPOWER-style bus, gen and branch rows; return the branches of negative reactance.

    Parameters
    ----------
    source : str or Path
        The case, for error messages.
    bus : ndarray, shape (n, 2)
        Bus number and type of every bus row.
    gen : ndarray, shape (g, 2)
        Bus and status (> 0: in service) of every generator row.
    branch : ndarray, shape (b, 4)
        From bus, to bus, series reactance x and status of every branch row.
    field : callable
        ``field(table)`` -> the field named by an error about ``table`` (``"bus"``, ...).
    row : callable
        ``row(table, i)`` -> how messages name row ``i`` of ``table``.
    prefix : str
        Starts every message (e.g. the name of the file holding the tables).
    bus_types : tuple of int
        The bus types the format allows.

    Returns
    -------
    list of str
        The in-service branches with x < 0, each with its buses and x (legitimate for
        series capacitors and three-winding transformer equivalents; the caller reports them).

    Raises
    ------
    CaseError
        The first problem found, naming the table's field and the row.

    Examples
    --------
    >>> bus = np.array([[1, 3], [2, 1]])
    >>> gen = np.array([[1, 1]])
    >>> branch = np.array([[1, 2, -0.1, 1]])
    >>> check_grid_tables("x", bus, gen, branch, field=str, row=lambda t, i: f"{t} row {i}")
    ['branch row 0 (bus 1 - 2, x = -0.1)']
    """
    def refuse(table, i, problem):
        raise CaseError(source, field(table), f"{prefix}{row(table, i)}: {problem}")

    for table, values, what in (("bus", bus[:, 0], "bus number"), ("gen", gen[:, 0], "bus"),
                                ("branch", branch[:, 0], "from bus"), ("branch", branch[:, 1], "to bus")):
        wrong = _integers(values)
        if wrong.size:
            refuse(table, int(wrong[0]), f"{what} {values[wrong[0]]:g} is not an integer")
    numbers = bus[:, 0].astype(np.int64)
    first = {}
    for i, number in enumerate(numbers.tolist()):
        if number in first:
            refuse("bus", i, f"bus number {number} is also the number of row {first[number]}")
        first[number] = i
    for i, kind in enumerate(bus[:, 1].tolist()):
        if kind not in bus_types:
            refuse("bus", i, f"bus type {kind:g}; use " + ", ".join(f"{t} ({_BUS_TYPES[t]})" for t in bus_types))
    on = gen[:, 1] > 0
    for table, columns in (("gen", [0]), ("branch", [0, 1])):
        values = (gen if table == "gen" else branch)[:, columns]
        unknown = ~np.isin(values, numbers)
        if unknown.any():
            i, j = np.argwhere(unknown)[0]
            refuse(table, int(i), f"refers to unknown bus {int(values[i, j])} (no bus row has that number)")
    references = np.flatnonzero(bus[:, 1] == 3)
    if references.size == 0:
        raise CaseError(source, field("bus"), f"{prefix}no reference bus (type 3)")
    for i in references:
        if not np.any(on & (gen[:, 0] == numbers[i])):
            refuse("bus", int(i), f"reference bus {numbers[i]} has no in-service generator")
    negative = []
    for i, (a, b, x, status) in enumerate(branch.tolist()):
        if a == b:
            refuse("branch", i, f"connects bus {int(a)} to itself")
        if status > 0 and x == 0:
            refuse("branch", i, f"bus {int(a)} - {int(b)} has zero reactance (the lossless linearization "
                   "would drop it)")
        if status > 0 and x < 0:
            negative.append(f"{prefix}{row('branch', i)} (bus {int(a)} - {int(b)}, x = {x:g})")
    return negative


def _refuse(source, file, problem):
    return CaseError(source, "network.file", f"{file.name}: {problem}")


def _matrix_rows(source, file, text, name):
    """The rows of ``mpc.<name> = [ ... ];`` in MATPOWER text, with their line numbers.

    The matrix is found as pandapower's reader (matpowercaseframes) finds it: the first
    ``mpc.<name> = [`` and the first ``];`` after it; every line between holds one row.
    """
    opening = re.search(rf"mpc\.{name}\s*=\s*\[", text)
    if opening is None:
        raise _refuse(source, file, f"no mpc.{name} (a MATPOWER case defines mpc.bus, mpc.gen and mpc.branch)")
    first_line = text.count("\n", 0, opening.start()) + 1
    end = text.find("];", opening.end())
    if end < 0:
        raise _refuse(source, file, f"line {first_line}: no '];' closes mpc.{name}")
    rows, lines = [], []
    for offset, line in enumerate(text[opening.end():end].split("\n")):
        number = first_line + offset
        content = line.split("%")[0]
        if re.search(r"\bmpc\.|\bfunction\b", content):
            raise _refuse(source, file, f"line {first_line}: no '];' closes mpc.{name} before line {number}")
        pieces = [piece.strip() for piece in content.split(";")]
        if any(pieces[1:]):
            raise _refuse(source, file, f"line {number}: more than one row of mpc.{name}; write one row per line")
        if not pieces[0]:
            continue
        words = [token for token in pieces[0].split() if not _is_number(token)]
        if words:
            raise _refuse(source, file, f"line {number}: {words[0]!r} in mpc.{name} is not a number")
        rows.append([float(token) for token in pieces[0].split()])
        lines.append(number)
    return rows, lines


def _is_number(token):
    try:
        float(token)
    except ValueError:
        return False
    return True


def _m_matrices(source, file):
    """bus, gen, branch rows, and their line numbers, from the text of a ``.m`` file."""
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise _refuse(source, file, f"not UTF-8 text ({exc})") from exc
    if not text.strip():
        raise _refuse(source, file, "the file is empty")
    if re.search(r"function\s*mpc\s*=\s*.*?\n", text) is None:
        raise _refuse(source, file, "not a MATPOWER case: no 'function mpc = <name>' line")
    matrices = {name: _matrix_rows(source, file, text, name) for name in MATPOWER_COLUMNS}
    return ({name: rows for name, (rows, _) in matrices.items()},
            {name: lines for name, (_, lines) in matrices.items()})


def _m_genfuel(source, file):
    """The entries of ``mpc.genfuel = { ... };`` in a ``.m`` file, or None without one."""
    text = file.read_text(encoding="utf-8")
    opening = re.search(r"mpc\.genfuel\s*=\s*\{", text)
    if opening is None:
        return None
    line = text.count("\n", 0, opening.start()) + 1
    end = text.find("}", opening.end())
    if end < 0:
        raise _refuse(source, file, f"line {line}: no '}}' closes mpc.genfuel")
    body = "\n".join(part.split("%")[0] for part in text[opening.end():end].split("\n"))
    entries = re.findall(r"'([^']*)'|\"([^\"]*)\"", body)
    rest = re.sub(r"'[^']*'|\"[^\"]*\"", "", body).replace(";", " ").replace(",", " ").split()
    if rest:
        raise _refuse(source, file, f"line {line}: mpc.genfuel must hold quoted fuel names only, found {rest[0]!r}")
    return [single or double for single, double in entries], f"line {line}"


def _mat_genfuel(source, file):
    """The entries of ``mpc.genfuel`` in a ``.mat`` file, or None without one."""
    import scipy.io

    mpc = scipy.io.loadmat(str(file), squeeze_me=True, struct_as_record=False)["mpc"]
    if not hasattr(mpc, "genfuel"):
        return None
    entries = np.atleast_1d(mpc.genfuel).tolist()
    if not all(isinstance(e, str) for e in entries):
        raise _refuse(source, file, "mpc.genfuel must hold fuel names (strings) only")
    return entries, "mpc.genfuel"


def _set_fuel_types(source, file, net, fuels, n_gen):
    """Write each generator's fuel into the ``type`` of the element pandapower made of it."""
    entries, where = fuels
    if len(entries) != n_gen:
        raise _refuse(source, file, f"{where}: mpc.genfuel has {len(entries)} entries but mpc.gen {n_gen} rows")
    lookup = net._from_ppc_lookups["gen"]
    for row, fuel in enumerate(entries):
        kind, element = lookup.at[row, "element_type"], int(lookup.at[row, "element"])
        if "type" not in net[kind]:
            net[kind]["type"] = None
        net[kind]["type"] = net[kind]["type"].astype(object)
        net[kind].at[element, "type"] = fuel


def _mat_matrices(source, file):
    """bus, gen, branch rows of the ``mpc`` struct of a ``.mat`` file (no line numbers)."""
    import scipy.io

    try:
        content = scipy.io.loadmat(str(file), squeeze_me=True, struct_as_record=False)
    except Exception as exc:  # scipy raises many types on files that are not MAT files
        raise _refuse(source, file, f"not a MAT file ({exc})") from exc
    mpc = content.get("mpc")
    missing = [name for name in MATPOWER_COLUMNS if not hasattr(mpc, name)]
    if mpc is None or missing:
        raise _refuse(source, file, "no MATPOWER struct 'mpc' with bus, gen and branch")
    return {name: getattr(mpc, name) for name in MATPOWER_COLUMNS}, None


def _table(source, file, name, rows, row):
    """The rows of one matrix as a 2-D float array, with its shape and values checked."""
    if isinstance(rows, list) and len({len(r) for r in rows}) > 1:
        i = next(i for i, r in enumerate(rows) if len(r) != len(rows[0]))
        raise _refuse(source, file, f"{row(name, i)} has {len(rows[i])} columns but the first row of mpc.{name} "
                      f"{len(rows[0])}")
    try:
        values = np.array(rows, dtype=float)
    except (TypeError, ValueError) as exc:
        raise _refuse(source, file, f"mpc.{name} is not a numeric matrix ({exc})") from exc
    if values.size == 0:
        if name != "branch":
            raise _refuse(source, file, f"mpc.{name} has no rows")
        return np.zeros((0, MATPOWER_COLUMNS[name]))
    values = np.atleast_2d(values)
    if values.ndim != 2 or values.shape[1] < MATPOWER_COLUMNS[name]:
        raise _refuse(source, file, f"mpc.{name} rows have {values.shape[-1]} columns; MATPOWER needs at least "
                      f"{MATPOWER_COLUMNS[name]}")
    used = np.isin(np.arange(values.shape[1]), _USED_COLUMNS[name])
    bad = np.isnan(values) | (used & ~np.isfinite(values))
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise _refuse(source, file, f"{row(name, int(i))}: column {j + 1} is {values[i, j]:g}")
    return values


def read_matpower(source, file, frequency_hz):
    """The pandapower network of a MATPOWER case (``.m`` or ``.mat``), checked first.

    Parameters
    ----------
    source : str or Path
        The case, for error messages.
    file : Path
    frequency_hz : float or None
        Nominal frequency of the network (default 50 Hz, pandapower's).

    Returns
    -------
    net : pandapowerNet
        As pandapower's converter builds it (bus index = MATPOWER bus number - 1), with
        the fuel of ``mpc.genfuel``, when the file has one, in the ``type`` column of each
        generator's element.
    negative : list of str
        Branches of negative reactance (:func:`check_grid_tables`).

    Raises
    ------
    CaseError
        The file is empty or not MATPOWER; a matrix is missing, not closed by ``];`` or
        holds a word; rows are ragged or too short; no reference bus; a row refers to a
        missing bus; ... The message names the file and the line (``.m``) or row.
    """
    file = Path(file)
    matrices, lines = _m_matrices(source, file) if file.suffix.lower() == ".m" else _mat_matrices(source, file)

    def row(name, i):
        return f"line {lines[name][i]} (mpc.{name} row {i + 1})" if lines else f"mpc.{name} row {i + 1}"

    tables = {name: _table(source, file, name, rows, row) for name, rows in matrices.items()}
    negative = check_grid_tables(source, tables["bus"][:, [0, 1]], tables["gen"][:, [0, 7]],
                                 tables["branch"][:, [0, 1, 3, 10]], field=lambda _: "network.file", row=row,
                                 prefix=f"{file.name}: ")
    fuels = _m_genfuel(source, file) if file.suffix.lower() == ".m" else _mat_genfuel(source, file)
    from pandapower.converter.matpower import from_mpc

    try:
        net = from_mpc(str(file), f_hz=frequency_hz or 50.0)
    except Exception as exc:  # the converter raises many types on malformed input
        raise _refuse(source, file, f"pandapower's converter failed: {exc}") from exc
    if not (np.isfinite(net.sn_mva) and net.sn_mva > 0):
        raise _refuse(source, file, f"mpc.baseMVA must be a positive number of MVA, got {net.sn_mva:g}")
    if fuels is not None:
        _set_fuel_types(source, file, net, fuels, len(tables["gen"]))
    return net, negative
