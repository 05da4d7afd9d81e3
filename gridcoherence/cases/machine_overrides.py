"""Per-machine data given over the typical data: a CSV file or a pandas DataFrame, checked.

The rule ``machines.source = "typical"`` (:mod:`~gridcoherence.cases.machines`) assumes
every machine's data from :mod:`~gridcoherence.cases.typical_machines`; a machines table
replaces it where it is known. Its columns are :data:`OVERRIDE_COLUMNS`, the units in the
names: ``name`` (required: a machine of the network, as the model names it) and any of
``type`` (a name of :data:`~gridcoherence.cases.typical_machines.TYPE_NAMES`: the machine
gets that type's typical data), ``rating_mva`` and the quantities of
:data:`~gridcoherence.cases.typical_machines.QUANTITIES` (``H_s``, ``D_pu``,
``xd_prime_pu``, ``inv_droop_pu``, ``tau_s``, all on the machine rating). An empty cell
(NaN in a DataFrame) keeps the assumed value; a machine not listed keeps all of them. The
table :func:`~gridcoherence.cases.machines.machine_data_table` returns has these column
names, so its ``name`` and data columns, edited, are such a table.

Every problem is a :class:`~gridcoherence.cases.schema.CaseError` naming the file (or
DataFrame), the row and the column.
"""

from __future__ import annotations

import csv
import difflib
import math
from dataclasses import dataclass
from pathlib import Path

from .._validation import first_repeat
from .schema import POSITIVE, CaseError
from .typical_machines import MACHINE_TYPES, QUANTITIES, machine_type

__all__ = ["OVERRIDE_COLUMNS", "MachineOverride", "read_machine_overrides"]

#: The columns a machines table may have.
OVERRIDE_COLUMNS = ("name", "type", "rating_mva", *(q.column for q in QUANTITIES))
_BOUNDS = {"rating_mva": POSITIVE, **{q.column: q.bounds for q in QUANTITIES}}
_KEYS = {q.column: q.key for q in QUANTITIES}


@dataclass(frozen=True)
class MachineOverride:
    """What a machines table gives for one machine.

    Attributes
    ----------
    type : str or None
        A :data:`~gridcoherence.cases.typical_machines.MACHINE_TYPES` name.
    rating_mva : float or None
    values : dict of str -> float
        Quantity key (``H``, ``damping``, ...) -> value on the machine rating.
    values_given : tuple of str
        The columns of ``values`` given (non-empty) for the machine, for the record.
    row : str
        Where it was given: ``"machines.csv line 3"``, ``"DataFrame row 'G1'"``.
    """

    type: str | None
    rating_mva: float | None
    values: dict
    values_given: tuple
    row: str


def read_machine_overrides(source, field, table, names):
    """The machines table ``table`` checked against the machine ``names`` of the network.

    Parameters
    ----------
    source : str or Path
        The case, for error messages.
    field : str
        The field named by errors (``machines``, ``machines.file``).
    table : str, Path or pandas.DataFrame
        A CSV file (header line, comma separated) or a DataFrame with the same columns.
    names : list of str
        The machines of the network, in order.

    Returns
    -------
    dict of str -> MachineOverride
        By machine name.

    Raises
    ------
    CaseError
        Unknown or repeated column, no ``name`` column, a name that is not a machine of the
        network (the message lists close names), a name given twice, an unknown type, a
        value that is not a finite number within its bounds.
    """
    label, header, rows = _rows(source, field, table)
    repeat = first_repeat(header)
    if repeat is not None:
        raise CaseError(source, field, f"{label}: column {header[repeat[0]]!r} appears twice")
    for column in header:
        if column not in OVERRIDE_COLUMNS:
            lower = {c.lower(): c for c in OVERRIDE_COLUMNS}
            close = difflib.get_close_matches(column.lower(), lower, n=1, cutoff=0.5)
            hint = f"; did you mean {lower[close[0]]!r}?" if close else ""
            raise CaseError(source, field, f"{label}: unknown column {column!r}{hint} (columns: "
                            f"{', '.join(OVERRIDE_COLUMNS)})")
    if "name" not in header:
        raise CaseError(source, field, f"{label}: no column 'name' (the machine each row is for)")
    known = set(names)
    overrides, first_row = {}, {}
    for where, cells in rows:
        name = cells["name"]
        if not isinstance(name, str) or not name.strip():
            raise CaseError(source, field, f"{where}, column 'name': must name a machine, got {name!r}")
        if name not in known:
            close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
            hint = f"; close names: {', '.join(map(repr, close))}" if close else ""
            raise CaseError(source, field, f"{where}, column 'name': no machine {name!r} in the network{hint} "
                            f"({len(names)} machines: {', '.join(map(repr, names[:6]))}"
                            f"{', ...' if len(names) > 6 else ''})")
        if name in first_row:
            raise CaseError(source, field, f"{where}, column 'name': machine {name!r} is also given at "
                            f"{first_row[name]}")
        first_row[name] = where
        overrides[name] = _override(source, field, where, cells)
    return overrides


def _rows(source, field, table):
    """(label, header, [(where, {column: cell})]) of a CSV file or a DataFrame."""
    if isinstance(table, (str, Path)):
        path = Path(table)
        if not path.is_file():
            raise CaseError(source, field, f"no such file {str(path)!r}")
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as exc:
            raise CaseError(source, field, f"{path.name}: not UTF-8 text ({exc})") from exc
        reader = csv.reader(text.splitlines())
        lines = [(reader.line_num, row) for row in reader if any(cell.strip() for cell in row)]
        if not lines:
            raise CaseError(source, field, f"{path.name}: the file is empty (a header line naming the columns "
                            "is needed)")
        (_, header), body = lines[0], lines[1:]
        header = [cell.strip() for cell in header]
        rows = []
        for number, row in body:
            if len(row) != len(header):
                raise CaseError(source, field, f"{path.name} line {number}: {len(row)} cells, but the header "
                                f"has {len(header)} columns")
            rows.append((f"{path.name} line {number}",
                         {c: (v.strip() if c == "name" else v.strip() or None) for c, v in zip(header, row)}))
        return path.name, header, rows
    import pandas as pd

    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"a machines table is a CSV file path or a pandas DataFrame, got {type(table).__name__}")
    rows = [(f"DataFrame row {index!r}",
             {str(c): (None if not isinstance(v, str) and pd.isna(v) else v) for c, v in record.items()})
            for index, record in zip(table.index, table.to_dict("records"))]
    return "DataFrame", [str(c) for c in table.columns], rows


def _override(source, field, where, cells):
    kind = cells.get("type")
    if kind is not None:
        kind = machine_type(kind)
        if kind is None:
            raise CaseError(source, field, f"{where}, column 'type': unknown type {cells['type']!r}; use one of "
                            f"{', '.join(MACHINE_TYPES)} (or a name of typical_machines.TYPE_NAMES)")
    numbers = {}
    for column in _BOUNDS:
        cell = cells.get(column)
        if cell is None:
            continue
        value = _number(cell)
        if value is None or not math.isfinite(value):
            raise CaseError(source, field, f"{where}, column {column!r}: must be a finite number, got {cell!r}")
        if _BOUNDS[column].violated(value):
            raise CaseError(source, field, f"{where}, column {column!r}: must {_BOUNDS[column].requirement()}, "
                            f"got {value!r}")
        numbers[column] = value
    rating = numbers.pop("rating_mva", None)
    return MachineOverride(kind, rating, {_KEYS[c]: v for c, v in numbers.items()}, tuple(numbers), where)


def _number(cell):
    if isinstance(cell, bool):
        return None
    try:
        return float(cell)
    except (TypeError, ValueError):
        return None
