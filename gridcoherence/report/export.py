"""Tables as CSV, Markdown or LaTeX files, with the units in the column headers.

:func:`export_table` writes any :class:`pandas.DataFrame` (typically a
:func:`~gridcoherence.report.compare.compare_step_responses` table) atomically, in the
format its file suffix names; :func:`table_to_markdown` is the Markdown text the command
line prints; :func:`unit_headers` is the mapping from column names to the headers that
carry their units, for writing and for reading an exported file back.

This module imports only the standard library, numpy, pandas and the package's atomic
file writing, so the command line's quick commands stay quick.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from .._io import atomic_write

__all__ = ["export_table", "table_to_markdown", "unit_headers"]


def _format_cell(value):
    if isinstance(value, (float, np.floating)):
        return f"{value:.6g}"
    return str(value)


def _csv_unit(unit):
    """A unit as identifier characters: 's^(1/2)' -> 'sqrt_s', 'p.u.' -> 'pu', '^' dropped, '/' -> '_'."""
    text = re.sub(r"([A-Za-z]+)\^\(1/2\)", r"sqrt_\1", unit).replace("p.u.", "pu").replace("^", "")
    return re.sub(r"[^0-9A-Za-z]+", "_", text).strip("_")


def unit_headers(columns, units, style="text"):
    """The header of each column with its unit, as :func:`export_table` writes it.

    Parameters
    ----------
    columns : iterable of str
        Column names.
    units : dict of str -> str
        Unit of each column that has one (e.g.
        :data:`~gridcoherence.report.compare.UNITS`); other columns keep their name.
    style : {"text", "csv"}
        ``"text"`` (Markdown and LaTeX): ``"nadir [rad/s]"``. ``"csv"``: the name and the
        unit joined into one identifier, ``"nadir_rad_s"``: ``s^(1/2)`` becomes
        ``sqrt_s``, ``p.u.`` becomes ``pu``, ``^`` is dropped and every other run of
        characters that are not letters or digits becomes ``_``.

    Returns
    -------
    dict of str -> str
        Column name -> header, for every column.

    Raises
    ------
    ValueError
        An unknown style, or two columns whose headers would be equal.

    Examples
    --------
    >>> units = {"nadir": "rad/s", "max_rocof": "rad/s^2", "l2_error": "rad/s * s^(1/2)",
    ...          "hinf_error": "rad/s per p.u."}
    >>> unit_headers(["model", "nadir", "max_rocof"], units)
    {'model': 'model', 'nadir': 'nadir [rad/s]', 'max_rocof': 'max_rocof [rad/s^2]'}
    >>> unit_headers(["model", "nadir", "max_rocof", "l2_error", "hinf_error"], units, "csv")
    {'model': 'model', 'nadir': 'nadir_rad_s', 'max_rocof': 'max_rocof_rad_s2',
     'l2_error': 'l2_error_rad_s_sqrt_s', 'hinf_error': 'hinf_error_rad_s_per_pu'}

    An exported CSV file reads back with the plain column names:

    >>> import io, pandas as pd
    >>> back = {header: name for name, header in unit_headers(["model", "nadir"], units, "csv").items()}
    >>> pd.read_csv(io.StringIO("model,nadir_rad_s\\na,-0.5\\n")).rename(columns=back).columns.tolist()
    ['model', 'nadir']
    """
    if style not in ("text", "csv"):
        raise ValueError(f"style must be 'text' or 'csv', got {style!r}")
    headers = {}
    for name in map(str, columns):
        unit = units.get(name)
        if not unit:
            headers[name] = name
        else:
            headers[name] = f"{name} [{unit}]" if style == "text" else f"{name}_{_csv_unit(str(unit))}"
    duplicated = sorted({h for h in headers.values() if list(headers.values()).count(h) > 1})
    if duplicated:
        raise ValueError(f"several columns would get the header(s) {duplicated}; rename them")
    return headers


def _units_of(table, units):
    units = table.attrs.get("units", {}) if units is None else units
    if not isinstance(units, dict):
        raise TypeError(f"units must be a dict of column name -> unit, got {type(units).__name__}")
    return units


def table_to_markdown(table, units=None):
    """A GitHub-flavoured Markdown table (numbers right-aligned, text and flags left, 6 significant digits).

    Parameters
    ----------
    table : pandas.DataFrame
    units : dict of str -> str, optional
        Units of the columns, shown as ``name [unit]`` in the header; by default
        ``table.attrs["units"]`` if the table has them (tables of
        :func:`~gridcoherence.report.compare.compare_step_responses` do), else none.

    Returns
    -------
    str

    Examples
    --------
    >>> import pandas as pd
    >>> print(table_to_markdown(pd.DataFrame({"model": ["a"], "nadir": [-0.25]}), {"nadir": "rad/s"}))
    | model | nadir [rad/s] |
    |:---|---:|
    | a | -0.25 |
    <BLANKLINE>
    """
    headers = unit_headers(table.columns, _units_of(table, units))
    numeric = [pd.api.types.is_numeric_dtype(table[c]) and not pd.api.types.is_bool_dtype(table[c])
               for c in table.columns]
    header = "| " + " | ".join(headers[str(c)] for c in table.columns) + " |"
    rule = "|" + "|".join("---:" if is_number else ":---" for is_number in numeric) + "|"
    body = ["| " + " | ".join(_format_cell(v).replace("|", "\\|") for v in row) + " |"
            for row in table.itertuples(index=False)]
    return "\n".join([header, rule, *body]) + "\n"


def export_table(table, path, units=None):
    """Write a table as CSV, Markdown or LaTeX, chosen by the suffix, atomically.

    Columns with a unit carry it in their header (:func:`unit_headers`): Markdown and
    LaTeX headers read ``nadir [rad/s]``; CSV headers are identifiers, ``nadir_rad_s``,
    so the file stays easy to read with pandas, R or a spreadsheet (rename them back with
    the inverse of ``unit_headers(columns, units, "csv")``). Columns without a unit, and
    every column of a table without units, keep their names.

    Parameters
    ----------
    table : pandas.DataFrame
        E.g. from :func:`~gridcoherence.report.compare.compare_step_responses`.
    path : str or Path
        Ends in ``.csv`` (full precision), ``.md`` (GitHub Markdown) or ``.tex``
        (booktabs ``tabular``); numbers in Markdown and LaTeX have 6 significant digits.
        Its folder must exist.
    units : dict of str -> str, optional
        Units of the columns; by default ``table.attrs["units"]`` when the table has them
        (a comparison table's are :data:`~gridcoherence.report.compare.UNITS`), else none.

    Returns
    -------
    pathlib.Path
        The written file.

    Raises
    ------
    TypeError
        ``table`` is not a DataFrame, or ``units`` not a dict.
    ValueError
        An unknown suffix.
    FileNotFoundError
        The folder of ``path`` does not exist.

    Examples
    --------
    >>> import tempfile, pathlib, pandas as pd
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> table = pd.DataFrame({"model": ["a"], "l2_error": [0.5], "nadir": [-0.25]})
    >>> export_table(table, folder / "t.md").read_text()
    '| model | l2_error | nadir |\\n|:---|---:|---:|\\n| a | 0.5 | -0.25 |\\n'
    >>> table.attrs["units"] = {"nadir": "rad/s"}
    >>> export_table(table, folder / "t.md").read_text().splitlines()[0]
    '| model | l2_error | nadir [rad/s] |'
    >>> export_table(table, folder / "t.csv").read_text()
    'model,l2_error,nadir_rad_s\\na,0.5,-0.25\\n'
    """
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"table must be a pandas DataFrame, got {type(table).__name__}")
    units = _units_of(table, units)
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        text = table.rename(columns=unit_headers(table.columns, units, "csv")).to_csv(index=False)
    elif suffix == ".md":
        text = table_to_markdown(table, units)
    elif suffix == ".tex":
        text = table.rename(columns=unit_headers(table.columns, units)).to_latex(
            index=False, escape=True, float_format=_format_cell)
    else:
        raise ValueError(f"unknown table format {path.suffix!r}; use .csv, .md or .tex")
    if not path.parent.is_dir():
        raise FileNotFoundError(f"folder {path.parent} does not exist")
    with atomic_write(path, newline="") as handle:
        handle.write(text)
    return path
