"""Typical dynamic data of synchronous machines by type and size, declared once: :data:`MACHINE_TYPES`.

Power networks given without dynamic data (``load_case("pandapower:case39")``, a pandapower
JSON or MATPOWER file, an in-memory pandapower network) get their machines' data from this
table, the rule ``machines.source = "typical"`` of :mod:`~gridcoherence.cases.machines`:

1. a machine's **type** comes from the data where it says so (the ``type`` column of a
   machines file, pandapower's ``gen.type``/``ext_grid.type``, MATPOWER's ``mpc.genfuel``,
   which :func:`~gridcoherence.cases.matpower.read_matpower` copies there; the names are
   read through :data:`TYPE_NAMES`), else a gen with no active-power set point (p_mw = 0)
   is a synchronous condenser, else the type is drawn for the machine's **size class**
   (:data:`SIZE_CLASSES`, by rated MVA) with that class's probabilities, seeded;
2. the machine gets the **typical values** of its type (:class:`MachineType`), each
   quantity with its unit (:data:`QUANTITIES`), range and source (:data:`SOURCES`);
   converter-interfaced types (wind, solar) are not machines of the model (see
   :data:`MACHINE_TYPES`).

Every quantity is on the machine's own rating and enters the node family (3.84) through the
conversions of :mod:`~gridcoherence.cases.schema` (m = 2 H S_machine / (omega_s S_base), ...).
The turbine-governor is the family's single first-order lag q / (tau s + 1), q = 1/R; each
type's tau is the dominant time constant of its prime mover and governor, as the entries
say. The table of ``docs/howto-own-network.md`` is :func:`markdown_table` (the tests check
it; ``scripts/update_case_format.py`` rewrites it).

Typical values are the package's choice inside the cited ranges; the size-class
probabilities are the package's assumption of a generic thermal-dominated fleet, not data.
Both are printed with every loaded machine (:func:`~gridcoherence.cases.machines.machine_data_table`)
so that a study can replace them by real data.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from .schema import NON_NEGATIVE, POSITIVE, Bounds

__all__ = ["Quantity", "Typical", "MachineType", "SizeClass", "QUANTITIES", "SOURCES", "MACHINE_TYPES",
           "SIZE_CLASSES", "TYPE_NAMES", "hydro_governor_lag", "machine_type", "size_class", "markdown_table"]


@dataclass(frozen=True)
class Quantity:
    """One quantity of the machine data.

    Attributes
    ----------
    key : str
        Its key in a rule type (``machines.types.<type>.<key>`` of the case format).
    column : str
        Its column in a machines file and in
        :func:`~gridcoherence.cases.machines.machine_data_table`, unit in the name.
    symbol, unit, description : str
    bounds : Bounds
    """

    key: str
    column: str
    symbol: str
    unit: str
    description: str
    bounds: Bounds


#: The quantities of every machine, in the column order of the tables.
QUANTITIES = (
    Quantity("H", "H_s", "H", "s", "inertia constant on the machine rating", POSITIVE),
    Quantity("damping", "D_pu", "D", "p.u. power / p.u. speed", "damping on the machine rating", NON_NEGATIVE),
    Quantity("xd_prime", "xd_prime_pu", "x'_d", "p.u.", "transient reactance on the machine rating", POSITIVE),
    Quantity("inv_droop", "inv_droop_pu", "1/R", "p.u. power / p.u. speed",
             "governor gain, inverse droop, on the machine rating (0: no governor)", NON_NEGATIVE),
    Quantity("tau", "tau_s", "tau", "s", "first-order turbine-governor time constant (> 0 where 1/R > 0)",
             NON_NEGATIVE),
)

#: The sources cited by the table, by key.
SOURCES = {
    "kundur-H": "P. Kundur, Power System Stability and Control, McGraw-Hill 1994, Table 3.2 (typical H: "
                "thermal units 2.5-6.0 s at 3600 r/min (2 poles), 4.0-10.0 s at 1800 r/min (4 poles); "
                "hydraulic units 2.0-4.0 s)",
    "kundur-x": "Kundur 1994, Ch. 4 (typical standard parameters: x'_d of thermal units 0.15-0.4 p.u., of "
                "hydraulic (salient-pole) units 0.2-0.5 p.u., machine rating)",
    "kundur-droop": "Kundur 1994, Ch. 11 (speed-droop governors: droop R typically 5 %, i.e. 1/R = 20; 4 % "
                    "is also common)",
    "kundur-D": "Kundur 1994, Ch. 11 (load damping: the load changes 1-2 % per 1 % change of frequency); "
                "the network's loads are frequency independent here, so D lumps that sensitivity with "
                "the machines, together with damper-winding damping",
    "ieee-1973": "IEEE Committee Report, Dynamic models for steam and hydro turbines in power system "
                 "studies, IEEE Trans. PAS-92 (1973) 1904-1915, and Kundur 1994, Ch. 9 (steam turbine "
                 "models: the steam chest, tenths of a second, dominates a non-reheat turbine; the "
                 "reheater, 4-11 s, a reheat one)",
    "kundur-hydro": "Kundur 1994, Ch. 9 (hydraulic turbines: water starting time T_W 0.5-4 s at full load; "
                    "governor with transient droop R_T and reset time T_R, guideline settings "
                    "R_T = [2.3 - 0.15 (T_W - 1)] T_W / T_M, T_R = [5 - 0.5 (T_W - 1)] T_W, T_M = 2H); "
                    "tau is the governor's dominant lag, see hydro_governor_lag",
    "rowen-1983": "W. I. Rowen, Simplified mathematical representations of heavy-duty gas turbines, ASME "
                  "Journal of Engineering for Power, 1983 (4 % droop; valve positioner and fuel system lags "
                  "of hundredths and tenths of a second)",
    "anderson-fouad-H": "P. M. Anderson, A. A. Fouad, Power System Control and Stability, 2nd ed., IEEE "
                        "Press/Wiley 2003, Ch. 2 (typical inertia constants of synchronous machines: "
                        "synchronous condensers about 1.0-1.25 s)",
    "assumed": "this package's assumption (no source gives a value for it); stated so it can be replaced",
}


@dataclass(frozen=True)
class Typical:
    """A typical value with its range and the key of its source in :data:`SOURCES`."""

    value: float
    low: float
    high: float
    source: str


def hydro_governor_lag(water_time_s, H_s, droop):
    """Dominant time constant (s) of a hydro governor with transient droop, at guideline settings.

    The mechanical-hydraulic governor with transient droop compensation has the speed-to-gate
    transfer function (1/R_P) (1 + s T_R) / (1 + s T_R R_T / R_P) (Kundur 1994, Ch. 9),
    with the guideline settings R_T = [2.3 - 0.15 (T_W - 1)] T_W / T_M and
    T_R = [5 - 0.5 (T_W - 1)] T_W, T_M = 2H. Its steady-state gain is 1/R_P and its slow
    pole has the time constant T_R R_T / R_P, which this returns: the tau of the family's
    one lag q / (tau s + 1) with q = 1/R_P. The lag drops the governor's zero (its fast
    transient gain 1/R_T) and the water column, so it answers more slowly than the unit in
    the first seconds.

    Parameters
    ----------
    water_time_s : float
        Water starting time T_W (s) at full load.
    H_s : float
        Inertia constant of the unit (s).
    droop : float
        Permanent droop R_P (p.u.), e.g. 0.05.

    Returns
    -------
    float

    Examples
    --------
    >>> round(hydro_governor_lag(1.0, 3.0, 0.05), 2)
    38.33
    """
    transient_droop = (2.3 - 0.15 * (water_time_s - 1.0)) * water_time_s / (2.0 * H_s)
    reset_time = (5.0 - 0.5 * (water_time_s - 1.0)) * water_time_s
    return reset_time * transient_droop / droop


@dataclass(frozen=True)
class MachineType:
    """One machine type: its typical data, or none for converter-interfaced generation.

    Attributes
    ----------
    name, description : str
    values : dict of str -> Typical
        One entry per :data:`QUANTITIES` key; empty for a type that is not a machine of the
        model (``synchronous`` False).
    synchronous : bool
        False: converter-interfaced generation, left out of the machines (its power stays in
        the power flow, its bus is eliminated with the network).
    note : str
        What the entry assumes, in one line.
    """

    name: str
    description: str
    values: dict = field(default_factory=dict)
    synchronous: bool = True
    note: str = ""


_THERMAL_2POLE = Typical(4.0, 2.5, 6.0, "kundur-H")
_DAMPING = Typical(1.0, 0.0, 2.0, "kundur-D")
_XD_ROUND_ROTOR = Typical(0.25, 0.15, 0.40, "kundur-x")
_XD_SALIENT = Typical(0.30, 0.20, 0.50, "kundur-x")
_DROOP_5 = Typical(20.0, 20.0, 25.0, "kundur-droop")
_REHEAT_LAG = Typical(7.0, 4.0, 11.0, "ieee-1973")
_GAS_LAG = Typical(0.5, 0.3, 1.0, "rowen-1983")
_HYDRO_H = 3.0

#: The machine types, by name.
MACHINE_TYPES = {t.name: t for t in (
    MachineType("steam_nonreheat", "Steam turbine without reheat (small fossil, biomass, geothermal units)",
                {"H": Typical(3.5, 2.5, 6.0, "kundur-H"), "damping": _DAMPING, "xd_prime": _XD_ROUND_ROTOR,
                 "inv_droop": _DROOP_5, "tau": Typical(0.5, 0.3, 1.0, "ieee-1973")},
                note="tau: steam chest plus speed relay and servomotor"),
    MachineType("steam_reheat", "Fossil steam turbine, tandem compound, single reheat",
                {"H": _THERMAL_2POLE, "damping": _DAMPING, "xd_prime": _XD_ROUND_ROTOR, "inv_droop": _DROOP_5,
                 "tau": _REHEAT_LAG},
                note="tau: the reheater; the high-pressure part (about 30 % of the power) is faster"),
    MachineType("nuclear", "Nuclear steam turbine, four-pole generator (1500/1800 r/min)",
                {"H": Typical(5.0, 4.0, 10.0, "kundur-H"), "damping": _DAMPING,
                 "xd_prime": Typical(0.30, 0.15, 0.40, "kundur-x"), "inv_droop": Typical(0.0, 0.0, 20.0, "assumed"),
                 "tau": _REHEAT_LAG},
                note="base-loaded: no primary frequency response (1/R = 0); tau applies if 1/R is given"),
    MachineType("gas_turbine", "Open-cycle heavy-duty or aeroderivative gas turbine",
                {"H": Typical(3.0, 2.5, 6.0, "kundur-H"), "damping": _DAMPING, "xd_prime": _XD_ROUND_ROTOR,
                 "inv_droop": Typical(25.0, 20.0, 25.0, "rowen-1983"), "tau": _GAS_LAG},
                note="tau: valve positioner, fuel system and combustor"),
    MachineType("combined_cycle", "Combined-cycle plant (gas turbines and heat-recovery steam turbine) as one "
                "machine",
                {"H": Typical(4.5, 2.5, 6.0, "kundur-H"), "damping": _DAMPING, "xd_prime": _XD_ROUND_ROTOR,
                 "inv_droop": Typical(16.7, 13.3, 25.0, "assumed"), "tau": _GAS_LAG},
                note="1/R: the gas turbines (about 2/3 of the rating) at 4 % droop; the steam part follows the "
                     "heat-recovery boiler over minutes and is not governed"),
    MachineType("hydro", "Hydro turbine with a mechanical-hydraulic governor with transient droop",
                {"H": Typical(_HYDRO_H, 2.0, 4.0, "kundur-H"), "damping": _DAMPING, "xd_prime": _XD_SALIENT,
                 "inv_droop": _DROOP_5,
                 "tau": Typical(round(hydro_governor_lag(1.0, _HYDRO_H, 0.05), 1),
                                round(hydro_governor_lag(0.5, _HYDRO_H, 0.05), 1),
                                round(hydro_governor_lag(2.0, _HYDRO_H, 0.05), 1), "kundur-hydro")},
                note="tau: hydro_governor_lag at T_W = 1 s (range T_W = 0.5-2 s), H = 3 s, 5 % droop"),
    MachineType("synchronous_condenser", "Synchronous condenser (no prime mover)",
                {"H": Typical(1.25, 1.0, 2.0, "anderson-fouad-H"), "damping": _DAMPING, "xd_prime": _XD_SALIENT,
                 "inv_droop": Typical(0.0, 0.0, 0.0, "assumed"), "tau": Typical(0.0, 0.0, 0.0, "assumed")},
                note="no turbine, no governor: 1/R = 0, tau = 0"),
    MachineType("wind", "Wind turbine behind a grid-following converter", synchronous=False,
                note="not a machine of the model: no inertia, no primary response; its power stays in the flow"),
    MachineType("solar", "Photovoltaic plant behind a grid-following converter", synchronous=False,
                note="not a machine of the model: no inertia, no primary response; its power stays in the flow"),
)}


@dataclass(frozen=True)
class SizeClass:
    """Machines rated ``low_mva <= S < high_mva`` and the probabilities of their types."""

    low_mva: float
    high_mva: float
    probabilities: dict

    def label(self):
        """``"50-400 MVA"``, ``">= 400 MVA"``."""
        if math.isinf(self.high_mva):
            return f">= {self.low_mva:g} MVA"
        return f"< {self.high_mva:g} MVA" if self.low_mva == 0 else f"{self.low_mva:g}-{self.high_mva:g} MVA"


#: Size classes of machines of unknown type (their type is drawn with these probabilities).
#: Non-reheat steam is for small units, reheat above; nuclear units only come large.
SIZE_CLASSES = (
    SizeClass(0.0, 50.0, {"gas_turbine": 0.5, "hydro": 0.3, "steam_nonreheat": 0.2}),
    SizeClass(50.0, 400.0, {"steam_reheat": 0.35, "combined_cycle": 0.3, "hydro": 0.2, "steam_nonreheat": 0.15}),
    SizeClass(400.0, math.inf, {"steam_reheat": 0.55, "nuclear": 0.2, "hydro": 0.15, "combined_cycle": 0.1}),
)

#: Names a network's data may give a type (case and spaces ignored) -> the type. Includes
#: MATPOWER's ``genfuel`` names; ``ng``/``lng`` are taken as combined cycle, ``oil``/``dfo``
#: as gas turbines (oil-fired units today are mostly peakers).
TYPE_NAMES = {
    **{name: name for name in MACHINE_TYPES},
    "steam": "steam_reheat", "reheat": "steam_reheat", "coal": "steam_reheat", "lignite": "steam_reheat",
    "nonreheat": "steam_nonreheat", "biomass": "steam_nonreheat", "wood": "steam_nonreheat",
    "refuse": "steam_nonreheat", "wasteheat": "steam_nonreheat", "geothermal": "steam_nonreheat",
    "gas": "gas_turbine", "gt": "gas_turbine", "ct": "gas_turbine", "oil": "gas_turbine", "dfo": "gas_turbine",
    "jetfuel": "gas_turbine",
    "cc": "combined_cycle", "ccgt": "combined_cycle", "ng": "combined_cycle", "lng": "combined_cycle",
    "hydrops": "hydro", "pumped_storage": "hydro",
    "condenser": "synchronous_condenser", "syncgen": "synchronous_condenser",
    "pv": "solar", "wp": "wind",
}


def machine_type(name):
    """The type a network's type name stands for (:data:`TYPE_NAMES`), or None.

    Examples
    --------
    >>> machine_type(" Coal "), machine_type("Combined Cycle"), machine_type("CHP")
    ('steam_reheat', 'combined_cycle', None)
    """
    if not isinstance(name, str):
        return None
    return TYPE_NAMES.get(re.sub(r"[\s\-]+", "_", name.strip().lower()))


def size_class(rating_mva):
    """The :data:`SIZE_CLASSES` entry of a machine rated ``rating_mva``.

    Examples
    --------
    >>> size_class(612.0).label()
    '>= 400 MVA'
    """
    return next(c for c in SIZE_CLASSES if c.low_mva <= rating_mva < c.high_mva)


# ---------------------------------------------------------------------------- reference
def _range_text(typical):
    if typical.low == typical.high:
        return f"{typical.value:g}"
    return f"{typical.value:g} ({typical.low:g}-{typical.high:g})"


def markdown_table():
    """The typical machine data of ``docs/howto-own-network.md``, generated from this module.

    Returns
    -------
    str
        The types with typical value (range) and source of each quantity, the size
        classes, the type names read from network data and the sources, between a first
        and a last comment line that mark the generated text.

    Examples
    --------
    >>> "| steam_reheat |" in markdown_table()
    True
    """
    lines = [
        "<!-- generated from gridcoherence.cases.typical_machines by markdown_table(); "
        "rewrite with scripts/update_case_format.py -->",
        "",
        "Typical value (range) on the machine rating: the range as the source in brackets (listed below) "
        "gives it, the typical value this package's choice within it.",
        "",
        "| Type | " + " | ".join(f"{q.symbol} ({q.unit})" for q in QUANTITIES) + " | Description | Note |",
        "|---|" + "---|" * (len(QUANTITIES) + 2),
    ]
    for t in MACHINE_TYPES.values():
        cells = [f"{_range_text(t.values[q.key])} [{t.values[q.key].source}]" if t.synchronous else "excluded"
                 for q in QUANTITIES]
        lines.append(f"| {t.name} | " + " | ".join(cells) + f" | {t.description} | {t.note} |")
    lines += ["", "Machines of unknown type, by rated power S (the type is drawn, seeded):", "",
              "| Rated power | Type probabilities |", "|---|---|"]
    for c in SIZE_CLASSES:
        lines.append(f"| {c.label()} | " + ", ".join(f"{t} {p:g}" for t, p in c.probabilities.items()) + " |")
    lines += ["", "Type names read from network data (case and spaces ignored):", "",
              "| Type | Names |", "|---|---|"]
    for t in MACHINE_TYPES:
        names = sorted(n for n, target in TYPE_NAMES.items() if target == t)
        lines.append(f"| {t} | " + ", ".join(f"`{n}`" for n in names) + " |")
    lines += ["", "| Source | Reference |", "|---|---|"]
    lines += [f"| {key} | {text} |" for key, text in SOURCES.items()]
    lines += ["", "<!-- end of the generated machine data table -->"]
    return "\n".join(lines) + "\n"
