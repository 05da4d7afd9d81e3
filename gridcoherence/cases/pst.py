"""Power System Toolbox (PST) data files: a safe reader and the converter to case files.

PST distributes its dynamic test systems as MATLAB scripts that assign numeric matrices
(``bus``, ``line``, ``mac_con``, ``tg_con``, ...). :func:`read_pst_file` reads them with a
small tokenizer -- the text is never executed -- and :func:`pst_case_document` turns one
file into the TOML case format of :mod:`gridcoherence.cases.loader` (network tables for the
pandapower pipeline of :mod:`gridcoherence.cases.powerflow`, machine tables with units, and
provenance). ``scripts/convert_pst.py`` regenerates the committed ``cases/*.toml``.

What the reader understands
---------------------------
* ``name = [ ... ];`` matrix literals: rows separated by ``;`` or a line break, ``...``
  line continuation, ``%`` comments (also inside a literal), an optional trailing ``'``
  (transpose);
* the one arithmetic statement found in the archive, a column-block rescaling
  ``name(:, a:b) = name(:, a:b) / c`` (NPCC converts MW to p.u. this way);
* every other statement (``disp(...)``, ``zeros(...)`` and the like) is skipped and listed
  in :attr:`PSTData.skipped`, so nothing is silently evaluated.

Conventions of the conversion
-----------------------------
* PST bus data is in p.u. on a 100 MVA system base, angles in degrees; bus types
  1 swing, 2 PV, 3 PQ. A line with tap ratio 0 is a line (ratio 1). Generation listed
  at a PQ bus (NPCC) is a fixed injection and is netted against that bus's load.
* ``mac_con`` columns (1-based): 1 number, 2 bus, 3 machine MVA, 7 x'_d (p.u. machine
  base), 16 H (s, machine base), 17 d_o (p.u. torque / p.u. speed, machine base),
  22/23 active/reactive share of the bus generation when several machines share a bus
  (NPCC; 1 when absent).
* ``tg_con`` (PST model 1): 4 = 1/R (p.u. machine base), 6 T_s, 7 T_c, 8 T_3, 9 T_4,
  10 T_5. Its transfer function 1/R (1 + s T_3)(1 + s T_4) / ((1 + s T_s)(1 + s T_c)(1 + s T_5))
  is replaced by one first-order turbine q/(tau s + 1) with the same DC gain and the same
  first moment, tau = T_s + T_c + T_5 - T_3 - T_4 (the family of (3.84) has first-order
  turbines only).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["PSTData", "PSTParseError", "read_pst_file", "pst_case_document", "PST_CASES",
           "governor_time_constant"]


class PSTParseError(ValueError):
    """A PST data file could not be read; the message names the file, line and matrix."""


@dataclass
class PSTData:
    """Numeric matrices assigned by one PST data file.

    Attributes
    ----------
    path : Path
    matrices : dict of str -> ndarray (2-D float)
    skipped : list of str
        Statements that were not matrix literals or the supported rescaling, verbatim.
    """

    path: Path
    matrices: dict = field(default_factory=dict)
    skipped: list = field(default_factory=list)

    def get(self, name):
        """Matrix ``name`` or a :class:`PSTParseError` naming the file and the matrix."""
        if name not in self.matrices:
            raise PSTParseError(f"{self.path.name}: no matrix {name!r} (found {sorted(self.matrices)})")
        return self.matrices[name]


_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_ASSIGN = re.compile(r"^\s*([A-Za-z_]\w*)\s*=\s*\[(.*)$", re.S)
_RESCALE = re.compile(
    r"^\s*(\w+)\s*\(\s*:\s*,\s*(\d+)\s*:\s*(\d+)\s*\)\s*=\s*\1\s*\(\s*:\s*,\s*\2\s*:\s*\3\s*\)"
    r"\s*([*/])\s*(" + _NUMBER.pattern + r")\s*;?\s*$"
)


def _strip_comment(line):
    """``line`` without its ``%`` comment; quotes opening a string literal protect ``%``."""
    in_string = False
    previous = ""
    for k, char in enumerate(line):
        if char == "'":
            # A quote after a value (identifier, bracket, number) is a transpose.
            if in_string:
                in_string = False
            elif not (previous.isalnum() or previous in "_)]'."):
                in_string = True
        elif char == "%" and not in_string:
            return line[:k]
        if not char.isspace():
            previous = char
    return line


def _parse_literal(body, path, name, line_number):
    """Rows of a matrix literal body (text between ``[`` and ``]``)."""
    rows, current = [], []
    for raw_line in body.split("\n"):
        line = raw_line.replace(",", " ")
        continued = "..." in line
        line = line.split("...")[0]
        for piece_index, piece in enumerate(line.split(";")):
            if piece_index > 0 and current:
                rows.append(current)
                current = []
            for token in piece.split():
                if not _NUMBER.fullmatch(token):
                    raise PSTParseError(
                        f"{path.name}, line {line_number}: matrix {name!r} holds a non-numeric "
                        f"token {token!r}; only numeric literals are read"
                    )
                current.append(float(token))
        if not continued and current:
            rows.append(current)
            current = []
    if current:
        rows.append(current)
    widths = {len(row) for row in rows}
    if len(widths) > 1:
        raise PSTParseError(
            f"{path.name}, line {line_number}: matrix {name!r} has rows of different lengths "
            f"{sorted(widths)}"
        )
    return np.array(rows, dtype=float).reshape(len(rows), widths.pop() if widths else 0)


def read_pst_file(path):
    """Read the numeric matrices of a PST data file without executing it.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    PSTData

    Notes
    -----
    One pass over the text, O(file size).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> text = "% demo\\nbus = [1 1.0 0; ...\\n 2 0.98 -5];\\nbus(:,2:2) = bus(:,2:2)/2;\\n"
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "demo.m"
    >>> _ = p.write_text(text)
    >>> read_pst_file(p).get("bus").tolist()
    [[1.0, 0.5, 0.0], [2.0, 0.49, -5.0]]
    """
    path = Path(path)
    lines = [_strip_comment(line) for line in path.read_text(encoding="utf-8", errors="replace").splitlines()]
    data = PSTData(path)
    k = 0
    while k < len(lines):
        line = lines[k]
        start = k
        match = _ASSIGN.match(line)
        if match:
            name, rest = match.group(1), match.group(2)
            body = [rest]
            while "]" not in body[-1]:
                k += 1
                if k >= len(lines):
                    raise PSTParseError(f"{path.name}, line {start + 1}: matrix {name!r} is never closed")
                body.append(lines[k])
            text = "\n".join(body)
            closing = text.index("]")
            data.matrices[name] = _parse_literal(text[:closing], path, name, start + 1)
            if text[closing + 1:].lstrip().startswith("'"):
                data.matrices[name] = data.matrices[name].T
        elif line.strip():
            rescale = _RESCALE.match(line)
            if rescale:
                name, first, last, op, value = rescale.groups()
                matrix = data.get(name)
                factor = float(value)
                cols = slice(int(first) - 1, int(last))
                matrix[:, cols] = matrix[:, cols] / factor if op == "/" else matrix[:, cols] * factor
            else:
                data.skipped.append(line.strip())
        k += 1
    return data


def governor_time_constant(tg_row):
    """First-moment time constant of a PST model-1 governor row (module notes).

    Parameters
    ----------
    tg_row : array_like
        One ``tg_con`` row (1-based columns 6-10: T_s, T_c, T_3, T_4, T_5).

    Returns
    -------
    float
        tau = T_s + T_c + T_5 - T_3 - T_4 (s).
    """
    t_s, t_c, t_3, t_4, t_5 = (float(tg_row[c]) for c in (5, 6, 7, 8, 9))
    return t_s + t_c + t_5 - t_3 - t_4


#: The converted systems: case name -> (PST file, nominal frequency in Hz, description).
PST_CASES = {
    "nets_nyps68": ("data16m.m", 60.0,
                    "16-machine 68-bus NETS-NYPS system (GE 1981 slow-coherency benchmark)"),
    "new_england39": ("datane.m", 60.0, "New England 10-machine 39-bus system"),
    "kundur_two_area": ("d2asbeg.m", 60.0, "Kundur two-area 4-machine 13-bus system with governors"),
    "npcc48": ("datanp48.m", 60.0, "NPCC 48-machine 140-bus system"),
}

_PST_BASE_MVA = 100.0
_PST_TO_MATPOWER_TYPE = {1: 3, 2: 2, 3: 1}


def _network_tables(data):
    """MATPOWER-style bus/gen/branch tables (system base, MW/Mvar) from PST bus and line data."""
    bus, line = data.get("bus"), data.get("line")
    if bus.shape[1] < 10 or line.shape[1] < 5:
        raise PSTParseError(f"{data.path.name}: bus needs >= 10 columns and line >= 5 columns")
    base = _PST_BASE_MVA
    bus_rows, gen_rows = [], []
    for row in bus:
        kind = int(row[9])
        if kind not in _PST_TO_MATPOWER_TYPE:
            raise PSTParseError(f"{data.path.name}: bus {int(row[0])} has unknown bus type {kind}")
        base_kv = float(row[12]) if bus.shape[1] > 12 and row[12] > 0 else 1.0
        # Generation at a PQ bus is a fixed injection: net it against the load there.
        p_load, q_load = (row[5], row[6]) if kind in (1, 2) else (row[5] - row[3], row[6] - row[4])
        bus_rows.append([int(row[0]), _PST_TO_MATPOWER_TYPE[kind], p_load * base, q_load * base,
                         row[7] * base, row[8] * base, row[1], row[2], base_kv])
        if kind in (1, 2):
            gen_rows.append([int(row[0]), row[3] * base, row[4] * base, row[1]])
    branch_rows = []
    for row in line:
        ratio = float(row[5]) if line.shape[1] > 5 else 0.0
        shift = float(row[6]) if line.shape[1] > 6 else 0.0
        branch_rows.append([int(row[0]), int(row[1]), row[2], row[3], row[4], ratio, shift])
    return bus_rows, gen_rows, branch_rows


def _machine_tables(data):
    """Per-machine columns (machine base data, units stated in the case file)."""
    mac = data.get("mac_con")
    names = [f"G{int(row[0])}" for row in mac]
    share_p = mac[:, 21] if mac.shape[1] > 22 else np.ones(len(mac))
    share_q = mac[:, 22] if mac.shape[1] > 22 else np.ones(len(mac))
    inv_droop = np.zeros(len(mac))
    tau = np.zeros(len(mac))
    if "tg_con" in data.matrices and data.matrices["tg_con"].size:
        number = {int(row[0]): i for i, row in enumerate(mac)}
        for row in data.matrices["tg_con"]:
            if int(row[0]) != 1:
                raise PSTParseError(f"{data.path.name}: tg_con model {int(row[0])} is not supported")
            i = number[int(row[1])]
            inv_droop[i] = row[3]
            tau[i] = governor_time_constant(row)
    return {
        "name": names,
        "bus": [int(b) for b in mac[:, 1]],
        "mva": mac[:, 2].tolist(),
        "H": mac[:, 15].tolist(),
        "damping": mac[:, 16].tolist(),
        "xd_prime": mac[:, 6].tolist(),
        "inv_droop": inv_droop.tolist(),
        "tau": tau.tolist(),
        "p_share": share_p.tolist(),
        "q_share": share_q.tolist(),
    }


def _toml_value(value):
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        if not math.isfinite(value):
            raise ValueError("non-finite numbers cannot be written to a case file")
        return repr(float(value))
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def _toml_rows(key, rows):
    body = ",\n".join("  " + _toml_value([_plain(v) for v in row]) for row in rows)
    return f"{key} = [\n{body},\n]"


def _plain(value):
    value = float(value)
    return int(value) if value.is_integer() and abs(value) < 2**53 else value


def pst_case_document(path, name, frequency, description):
    """The TOML text of the case converted from one PST file.

    Parameters
    ----------
    path : str or Path
        The PST ``.m`` file.
    name : str
        Case name.
    frequency : float
        Nominal frequency (Hz); PST files do not record it (all four are 60 Hz systems).
    description : str

    Returns
    -------
    str
        A case file in the format of :mod:`gridcoherence.cases.loader`.
    """
    data = read_pst_file(path)
    bus_rows, gen_rows, branch_rows = _network_tables(data)
    machines = _machine_tables(data)
    governors = "tg_con" in data.matrices and data.matrices["tg_con"].size > 0
    lines = [
        f"# Converted by scripts/convert_pst.py from the PST file {Path(path).name}.",
        "# Derived from the Power System Toolbox data archive (PSTess, MIT licence);",
        "# see LICENSE-PST in this folder, which must accompany this file.",
        "format_version = 1",
        f"name = {_toml_value(name)}",
        f"description = {_toml_value(description)}",
        f"base_mva = {_toml_value(_PST_BASE_MVA)}",
        f"frequency_hz = {_toml_value(float(frequency))}",
        "",
        "[provenance]",
        f"source = {_toml_value('Power System Toolbox data file ' + Path(path).name + ' (PSTess distribution, MIT licence, LICENSE-PST)')}",
        f"network = {_toml_value('PST bus and line matrices, p.u. on 100 MVA; solved by our own AC power flow (pandapower)')}",
        f"machines = {_toml_value('PST mac_con: MVA col 3, xd_prime col 7, H col 16, damping d_o col 17' + (', shares cols 22-23' if data.get('mac_con').shape[1] > 22 else ''))}",
        f"governors = {_toml_value('PST tg_con model 1: 1/R col 4; tau = Ts + Tc + T5 - T3 - T4 (first-moment match)' if governors else 'none in the PST file: no turbines')}",
        f"frequency = {_toml_value('not recorded in the PST file; the system is a 60 Hz system')}",
        "",
        "[network]",
        'source = "inline"',
        'loads = "impedance"',
        "# bus: number, type (MATPOWER: 1 PQ, 2 PV, 3 ref), Pd MW, Qd Mvar, Gs MW, Bs Mvar,",
        "#      Vm p.u., Va deg, base kV",
        _toml_rows("bus", bus_rows),
        "# gen: bus, Pg MW, Qg Mvar, Vg p.u. (one aggregate generator per PV / ref bus)",
        _toml_rows("gen", gen_rows),
        "# branch: from, to, r p.u., x p.u., b p.u., tap ratio (0 = line), phase shift deg",
        _toml_rows("branch", branch_rows),
        "",
        "[machines]",
        'source = "table"',
    ]
    for key, values in machines.items():
        lines.append(f"{key} = {_toml_value([_plain(v) if key != 'name' else v for v in values])}")
    lines += [
        "",
        "[machines.units]",
        'mva = "MVA"',
        'H = "s"',
        'damping = "pu_machine"',
        'xd_prime = "pu_machine"',
        'inv_droop = "pu_machine"',
        'tau = "s"',
        "",
    ]
    return "\n".join(lines)
