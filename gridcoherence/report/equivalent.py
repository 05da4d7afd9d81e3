"""Reduced models as dynamic equivalents for power-system simulators: TOPS, PSS/E, pandapower.

A reduced network of Algorithm 1 (Sec. 3.2) has k aggregate nodes coupled by the reduced
Laplacian L_k through f(s) = c/s. Where each aggregate is a machine of the family (3.84),
g^{-1}(s) = m s + d + sum_j q_j / (tau_j s + 1), the reduced network is a k-bus power
system: one classical generator per area (inertia and damping), a TGOV1 governor for its
turbines (at most two), and lines whose synchronising coefficients are c L_k.
:func:`dynamic_equivalent` builds that k-bus system once, as a :class:`DynamicEquivalent`;
:func:`to_tops_model`, :func:`write_psse` and :func:`to_pandapower` write it in each
simulator's format, and :func:`read_psse` reads the PSS/E files back.

Units. The model's quantities are in p.u. on the system base S_base with the frequency
deviation in rad/s (the convention of Table 3-I): m = 2 H S_n / (omega_s S_base),
d = D S_n / (omega_s S_base), q = (1/R) S_n / (omega_s S_base), with omega_s = 2 pi f_s
and S_n the equivalent generator's rating. The simulators' data is on the generator's
rating: H in s (MW s/MVA), D in p.u. power per p.u. speed, the droop R in p.u. speed per
p.u. power, time constants in s; line reactances in p.u. on S_base.

The network. At an operating point with bus voltages V_i and angles delta_i, a lossless
line of reactance x_ij has the synchronising coefficient V_i V_j cos(delta_ij) / x_ij
(p.u. power per rad), so the line between areas i and j is
x_ij = V_i V_j cos(delta_ij) / (-c L_k[i, j]). The generators inject what the loads and
the line flows at that point need, so a load flow reproduces it. Each generator is
classical: its EMF is constant behind a small source reactance (all its reactances
equal, so no saliency and no flux dynamics), which is in series with the lines and
changes the synchronising coefficients by about its size relative to the lines'.

Turbines. A TGOV1 governor, (1/R) (1 + s T2) / ((1 + s T1)(1 + s T3)), is exactly one
first-order turbine (T2 = T3) or the sum of two,
q_1/(tau_1 s + 1) + q_2/(tau_2 s + 1) with 1/R ~ q_1 + q_2, T1 = tau_1, T3 = tau_2 and
T2 = (q_1 tau_2 + q_2 tau_1) / (q_1 + q_2). An aggregate with more distinct turbine time
constants is refused: reduce it to order 3 or less first (Sec. 3.3).

Only physical aggregates are exported (positive inertia, non-negative damping, real
positive turbine time constants and gains, :func:`~gridcoherence.reduction.machines.interpret_machine`);
any other is an :class:`EquivalentError` naming the area (1-based) and why.

This module imports numpy, the package's file writing and its machine interpretation;
pandapower loads only in :func:`to_pandapower`, and TOPS is not needed to build its model.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._io import atomic_write
from ..models.nodes import SwingTurbineNodes

__all__ = ["EquivalentError", "EquivalentMachine", "DynamicEquivalent", "dynamic_equivalent",
           "to_tops_model", "write_psse", "read_psse", "to_pandapower"]

#: Turbines of one aggregate whose time constants agree to this relative tolerance are one
#: turbine (their gains added): a TGOV1 record holds two distinct time constants.
TURBINE_MERGE_RTOL = 1e-6

#: Entries of L_k at most this fraction of its largest entry are no line.
LINE_RTOL = 1e-9

#: TGOV1 valve limits (p.u. on the rating) written so wide that they never bind: the
#: reduced model is linear.
VALVE_LIMIT = 99.0

#: Open-circuit time constants (s) of the classical TOPS generator. With all reactances
#: equal they do not act (the fluxes stay constant); TOPS needs positive values.
_TOPS_FLUX_TIME_CONSTANTS = {"T_d0_t": 8.0, "T_q0_t": 1.0, "T_d0_st": 0.05, "T_q0_st": 0.05}


class EquivalentError(ValueError):
    """A reduced model, an option or a simulator file cannot make a dynamic equivalent; the
    message names the area (1-based), the argument or the record."""


@dataclass(frozen=True)
class EquivalentMachine:
    """One area's aggregate machine, g^{-1}(s) = m s + d + sum_j q_j / (tau_j s + 1) (3.84).

    Attributes
    ----------
    m : float
        Inertia, p.u. s^2/rad on the system base (> 0).
    d : float
        Damping, p.u. s/rad (>= 0).
    turbine_gain, turbine_tau : tuple of float
        At most two turbines: gains q (p.u. s/rad, > 0) and distinct time constants tau
        (s, > 0), ascending in tau.
    """

    m: float
    d: float
    turbine_gain: tuple = ()
    turbine_tau: tuple = ()


@dataclass(frozen=True)
class DynamicEquivalent:
    """A k-bus power system whose linearisation is a reduced network: one bus per area.

    Built by :func:`dynamic_equivalent` (from a reduced model) or :func:`read_psse`.
    Arrays have one entry per area, area i being bus i + 1; area 1 is the slack bus.

    Attributes
    ----------
    names : tuple of str
        Bus names, ``"A1"``, ``"A2"``, ...
    machines : tuple of EquivalentMachine
    base_mva, frequency_hz : float
        System base S_base and nominal frequency f_s.
    rating_mva : ndarray
        Generator ratings S_n, the base of H, D and R.
    bus_kv : ndarray
        Nominal bus voltages (kV); the per-unit data does not depend on them.
    voltage, angle : ndarray
        Operating point: voltage magnitudes (p.u.) and angles (rad, area 1 at 0).
    load_mw : ndarray
        Active load at each bus (MW; reactive load 0).
    source_reactance : ndarray
        Generator source (transient) reactance, p.u. on the rating.
    branch_from, branch_to : ndarray of int
        Areas (0-based) joined by each line.
    branch_x : ndarray
        Line reactances, p.u. on the system base (lossless, no charging).
    """

    names: tuple
    machines: tuple
    base_mva: float
    frequency_hz: float
    rating_mva: np.ndarray
    bus_kv: np.ndarray
    voltage: np.ndarray
    angle: np.ndarray
    load_mw: np.ndarray
    source_reactance: np.ndarray
    branch_from: np.ndarray
    branch_to: np.ndarray
    branch_x: np.ndarray

    @property
    def n(self):
        """Number of areas (buses)."""
        return len(self.machines)

    @property
    def omega(self):
        """omega_s = 2 pi f_s (rad/s)."""
        return 2.0 * math.pi * self.frequency_hz

    def _to_rating(self):
        """omega_s S_base / S_n: a model coefficient (p.u. s/rad, system base) -> p.u. on the rating."""
        return self.omega * self.base_mva / self.rating_mva

    @property
    def inertia_constant(self):
        """H = m omega_s S_base / (2 S_n), s."""
        return 0.5 * np.array([machine.m for machine in self.machines]) * self._to_rating()

    @property
    def damping(self):
        """D = d omega_s S_base / S_n, p.u. power per p.u. speed on the rating."""
        return np.array([machine.d for machine in self.machines]) * self._to_rating()

    def governor(self, area):
        """TGOV1 parameters (R, T1, T2, T3) of an area (0-based), or None without turbines.

        R = S_n / ((q_1 + q_2) omega_s S_base) in p.u. on the rating; one turbine gives
        T1 = tau and T2 = T3 = tau (no lead-lag), two give T1 = tau_1, T3 = tau_2,
        T2 = (q_1 tau_2 + q_2 tau_1) / (q_1 + q_2).
        """
        machine = self.machines[area]
        if not machine.turbine_gain:
            return None
        total = sum(machine.turbine_gain)
        droop = float(1.0 / (total * self._to_rating()[area]))
        if len(machine.turbine_gain) == 1:
            tau = machine.turbine_tau[0]
            return droop, tau, tau, tau
        (q1, q2), (tau1, tau2) = machine.turbine_gain, machine.turbine_tau
        return droop, tau1, (q1 * tau2 + q2 * tau1) / total, tau2

    @property
    def synchronizing_laplacian(self):
        """The Laplacian of V_i V_j cos(delta_ij) / x_ij (p.u. power per rad): c L_k."""
        coefficient = (self.voltage[self.branch_from] * self.voltage[self.branch_to]
                       * np.cos(self.angle[self.branch_from] - self.angle[self.branch_to]) / self.branch_x)
        laplacian = np.zeros((self.n, self.n))
        np.add.at(laplacian, (self.branch_from, self.branch_to), -coefficient)
        np.add.at(laplacian, (self.branch_to, self.branch_from), -coefficient)
        np.fill_diagonal(laplacian, -laplacian.sum(axis=1))
        return laplacian

    def _line_power(self):
        """Active and reactive power (p.u.) each bus sends into the lines at the operating point."""
        i, j = self.branch_from, self.branch_to
        vi, vj, delta = self.voltage[i], self.voltage[j], self.angle[i] - self.angle[j]
        p, q = np.zeros(self.n), np.zeros(self.n)
        np.add.at(p, i, vi * vj * np.sin(delta) / self.branch_x)
        np.add.at(p, j, -vi * vj * np.sin(delta) / self.branch_x)
        np.add.at(q, i, (vi ** 2 - vi * vj * np.cos(delta)) / self.branch_x)
        np.add.at(q, j, (vj ** 2 - vi * vj * np.cos(delta)) / self.branch_x)
        return p, q

    @property
    def generation_mw(self):
        """Active generation (MW) at each bus: its load plus what it sends into the lines."""
        return self.load_mw + self._line_power()[0] * self.base_mva

    @property
    def generation_mvar(self):
        """Reactive generation (Mvar) at each bus, what the lines take (no reactive load)."""
        return self._line_power()[1] * self.base_mva


# ---------------------------------------------------------------------------- building
def _machine(nodes, area):
    """The area's aggregate as an EquivalentMachine, or EquivalentError saying why it is none."""
    from ..reduction.machines import interpret_machine

    node = nodes.subset([area])
    where = f"area {area + 1}"
    if isinstance(node, SwingTurbineNodes):
        m, d = float(node.m[0]), float(node.d[0])
        gains, taus = node.turbine_gain, node.turbine_tau
    else:
        try:
            machine = interpret_machine(node.node_system(0))
        except ValueError as exc:
            raise EquivalentError(f"{where}: its aggregate is no machine ({exc})") from None
        if not machine.physical:
            raise EquivalentError(f"{where}: its aggregate has no physical interpretation as a machine "
                                  f"({machine.reason})")
        m, d, gains, taus = machine.m, machine.d, machine.turbine_gain, machine.turbine_tau
    merged_tau, merged_gain = [], []
    for tau, gain in sorted(zip(np.asarray(taus, dtype=float), np.asarray(gains, dtype=float))):
        if merged_tau and tau - merged_tau[-1] <= TURBINE_MERGE_RTOL * tau:
            merged_gain[-1] += gain
        else:
            merged_tau.append(float(tau))
            merged_gain.append(float(gain))
    if len(merged_tau) > 2:
        raise EquivalentError(
            f"{where}: its aggregate has {len(merged_tau)} turbines with distinct time constants, but a TGOV1 "
            "governor represents at most two exactly; reduce the aggregates to order 3 or less first "
            "(reduce_network(..., order=3), or gridcoherence reduce --order 3)")
    return EquivalentMachine(m, d, tuple(merged_gain), tuple(merged_tau))


def _per_area(name, value, k, *, minimum=None, strict=False, default=None):
    """A scalar or one finite value per area as a float array; errors name the argument."""
    try:
        array = np.asarray(default if value is None else value, dtype=float)
    except (TypeError, ValueError):
        raise EquivalentError(f"{name} must be a number or one number per area ({k}), got {value!r}") from None
    if array.ndim == 0:
        array = np.full(k, float(array))
    if array.shape != (k,):
        raise EquivalentError(f"{name} must be a number or one number per area ({k}), got shape {array.shape}")
    bad = np.flatnonzero(~np.isfinite(array))
    if bad.size:
        raise EquivalentError(f"{name} must be finite; area {bad[0] + 1} has {array[bad[0]]!r}")
    if minimum is not None:
        bad = np.flatnonzero(array <= minimum if strict else array < minimum)
        if bad.size:
            raise EquivalentError(f"{name} must be {'>' if strict else '>='} {minimum}; "
                                  f"area {bad[0] + 1} has {array[bad[0]]!r}")
    return array


def _positive_number(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) or not math.isfinite(value) \
            or not value > 0:
        raise EquivalentError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


def dynamic_equivalent(reduced, *, base_mva, frequency_hz, rating_mva=None, bus_kv=230.0, voltage=1.0,
                       angle=None, load_mw=0.0, source_reactance=1e-4):
    """The k-bus power system of a reduced network, ready for :func:`to_tops_model`,
    :func:`write_psse` or :func:`to_pandapower`.

    Parameters
    ----------
    reduced : ReducedNetwork, NetworkReduction or NetworkModel
        A reduced model (:func:`gridcoherence.reduce_network`, its ``.model``, or
        :func:`gridcoherence.load_reduced`) with coupling f(s) = c/s, c > 0, non-negative
        edge weights and physical aggregate machines with at most two distinct turbine
        time constants each.
    base_mva : float
        System base S_base (MVA) of the model's per-unit values.
    frequency_hz : float
        Nominal frequency f_s (Hz); the model's frequency is in rad/s.
    rating_mva : float or array_like, optional
        Generator ratings S_n (MVA), the base of H, D and R; default ``base_mva``.
    bus_kv : float or array_like
        Nominal bus voltages (kV).
    voltage : float or array_like
        Operating-point voltage magnitudes (p.u.).
    angle : array_like, optional
        Operating-point angles (rad) relative to area 1, the slack; default all 0 (a flat
        point). Every |delta_i - delta_j| between areas with a line must be below pi/2.
    load_mw : float or array_like
        Active load at each bus (MW, >= 0), constant impedance in the simulators.
    source_reactance : float
        Generator source reactance (p.u. on the rating, > 0); small, so that the
        synchronising coefficients stay those of the lines.

    Returns
    -------
    DynamicEquivalent

    Raises
    ------
    EquivalentError
        An area without a physical machine or with more than two distinct turbine time
        constants (named 1-based), a negative edge weight of L_k (areas named), a
        coupling that is not c/s, or a bad option (named).

    Examples
    --------
    >>> import numpy as np
    >>> from gridcoherence import NetworkModel, SwingTurbineNodes
    >>> nodes = SwingTurbineNodes(m=[0.1, 0.2], d=[0.01, 0.02], turbine_gain=[0.05, 0.0],
    ...                           turbine_tau=[5.0, 1.0])
    >>> model = NetworkModel(nodes, np.array([[4.0, -4.0], [-4.0, 4.0]]))  # coupling 1/s
    >>> equivalent = dynamic_equivalent(model, base_mva=100.0, frequency_hz=50.0)
    >>> np.round(equivalent.inertia_constant, 4).tolist(), equivalent.branch_x.tolist()
    ([15.708, 31.4159], [0.25])
    >>> [round(value, 5) for value in equivalent.governor(0)], equivalent.governor(1)
    ([0.06366, 5.0, 5.0, 5.0], None)
    """
    from ..models.network import NetworkModel

    model = getattr(reduced, "model", reduced)
    if not isinstance(model, NetworkModel):
        raise EquivalentError(f"reduced must be a reduced network or a NetworkModel, got {type(reduced).__name__}")
    coupling = model.coupling
    if not (coupling.den.size == 2 and coupling.den[1] == 0.0 and coupling.num.size == 1 and coupling.num[0] > 0):
        raise EquivalentError(f"the coupling f(s) = {coupling.name} is not c/s with c > 0: the model is no "
                              "power network (the lines integrate frequency into angle differences)")
    gain = float(coupling.num[0])
    base_mva = _positive_number("base_mva", base_mva)
    frequency_hz = _positive_number("frequency_hz", frequency_hz)
    source_reactance = _positive_number("source_reactance", source_reactance)
    k = model.n
    machines = tuple(_machine(model.nodes, area) for area in range(k))
    laplacian = getattr(model, "reduced_laplacian", None)
    laplacian = np.asarray(model.laplacian.toarray() if laplacian is None else laplacian, dtype=float)
    voltage = _per_area("voltage", voltage, k, minimum=0.0, strict=True)
    angle = _per_area("angle", angle, k, default=0.0)
    angle = angle - angle[0]
    scale = float(np.abs(laplacian).max())
    branches = []
    for i in range(k):
        for j in range(i + 1, k):
            weight = -gain * laplacian[i, j]
            if abs(laplacian[i, j]) <= LINE_RTOL * scale:
                continue
            if weight < 0:
                raise EquivalentError(
                    f"areas {i + 1} and {j + 1}: L_k[{i},{j}] = {laplacian[i, j]!r} is positive, a negative edge "
                    "weight that no line of positive reactance gives")
            cosine = math.cos(angle[i] - angle[j])
            if not cosine > 0:
                raise EquivalentError(f"angle: areas {i + 1} and {j + 1} are {abs(angle[i] - angle[j]):.4g} rad "
                                      "apart; a line needs less than pi/2")
            branches.append((i, j, voltage[i] * voltage[j] * cosine / weight))
    source = np.full(k, source_reactance)
    frm, to, x = (np.array(column) for column in zip(*branches)) if branches else (np.zeros(0, int),) * 2 + (
        np.zeros(0),)
    return DynamicEquivalent(
        names=tuple(f"A{area + 1}" for area in range(k)), machines=machines, base_mva=base_mva,
        frequency_hz=frequency_hz, rating_mva=_per_area("rating_mva", rating_mva, k, minimum=0.0, strict=True,
                                                        default=base_mva),
        bus_kv=_per_area("bus_kv", bus_kv, k, minimum=0.0, strict=True), voltage=voltage, angle=angle,
        load_mw=_per_area("load_mw", load_mw, k, minimum=0.0), source_reactance=source,
        branch_from=frm.astype(np.int64), branch_to=to.astype(np.int64), branch_x=x.astype(float))


def _as_equivalent(reduced, options):
    if isinstance(reduced, DynamicEquivalent):
        if options:
            raise EquivalentError(f"options {sorted(options)} apply when building the equivalent, not to a "
                                  "DynamicEquivalent")
        return reduced
    return dynamic_equivalent(reduced, **options)


# ---------------------------------------------------------------------------- TOPS
def to_tops_model(reduced, **options):
    """A TOPS model dict (``tops.dynamic.PowerSystemModel(model)``) of the dynamic equivalent.

    One bus, one ``GEN`` generator and, for an area with turbines, one ``TGOV1`` governor
    per area; one line per edge of L_k; a constant-impedance load where ``load_mw`` > 0.
    The generator is classical: X_d = X_q = X_d' = X_q' = X_d'' = X_q'' = the source
    reactance, so its EMF stays constant; H and D are on its rating S_n, and TOPS's
    speed is the frequency deviation in p.u. of f_s (times omega_s: the model's rad/s).
    TOPS's torque is T_m = P_m / (1 + speed), so at an operating point with generation
    P_m0 its damping is about D + P_m0; the default flat, unloaded point has P_m0 = 0.

    Parameters
    ----------
    reduced : ReducedNetwork, NetworkReduction, NetworkModel or DynamicEquivalent
    **options
        Keyword arguments of :func:`dynamic_equivalent` (``base_mva`` and
        ``frequency_hz`` are required), unless ``reduced`` is a DynamicEquivalent.

    Returns
    -------
    dict
        Plain Python lists and numbers (JSON-serialisable); TOPS need not be installed.

    Raises
    ------
    EquivalentError
        As :func:`dynamic_equivalent`, and for a single area (TOPS's load flow cannot
        solve a lone slack bus).
    """
    equivalent = _as_equivalent(reduced, options)
    if equivalent.n < 2:
        raise EquivalentError("a TOPS model needs at least two areas: TOPS's load flow has no equation to solve "
                              "for a lone slack bus")
    names = list(equivalent.names)
    generation = equivalent.generation_mw
    model = {
        "base_mva": equivalent.base_mva,
        "f": equivalent.frequency_hz,
        "slack_bus": names[0],
        "buses": [["name", "V_n"]] + [[name, float(kv)] for name, kv in zip(names, equivalent.bus_kv)],
    }
    if equivalent.branch_x.size:
        model["lines"] = [["name", "from_bus", "to_bus", "length", "S_n", "V_n", "unit", "R", "X", "B"]] + [
            [f"L{i + 1}-{j + 1}", names[i], names[j], 1.0, equivalent.base_mva, float(equivalent.bus_kv[i]), "p.u.",
             0.0, float(x), 0.0]
            for i, j, x in zip(equivalent.branch_from, equivalent.branch_to, equivalent.branch_x)]
    loaded = np.flatnonzero(equivalent.load_mw > 0)
    if loaded.size:
        model["loads"] = [["name", "bus", "P", "Q", "model"]] + [
            [f"LD{i + 1}", names[i], float(equivalent.load_mw[i]), 0.0, "Z"] for i in loaded]
    header = ["name", "bus", "S_n", "V_n", "P", "V", "H", "D", "X_d", "X_q", "X_d_t", "X_q_t", "X_d_st", "X_q_st",
              *_TOPS_FLUX_TIME_CONSTANTS]
    rows = []
    for i, name in enumerate(names):
        x = float(equivalent.source_reactance[i])
        rows.append([f"G{i + 1}", name, float(equivalent.rating_mva[i]), float(equivalent.bus_kv[i]),
                     float(generation[i]), float(equivalent.voltage[i]), float(equivalent.inertia_constant[i]),
                     float(equivalent.damping[i]), x, x, x, x, x, x, *_TOPS_FLUX_TIME_CONSTANTS.values()])
    model["generators"] = {"GEN": [header] + rows}
    governors = [[f"GOV{i + 1}", f"G{i + 1}", *_governor_values(equivalent, i)]
                 for i in range(equivalent.n) if equivalent.governor(i) is not None]
    if governors:
        model["gov"] = {"TGOV1": [["name", "gen", "R", "D_t", "V_min", "V_max", "T_1", "T_2", "T_3"]] + governors}
    return model


def _governor_values(equivalent, area):
    """R, D_t, V_min, V_max, T_1, T_2, T_3 of an area's TGOV1 (TOPS's column order)."""
    droop, t1, t2, t3 = equivalent.governor(area)
    return [float(droop), 0.0, -VALVE_LIMIT, VALVE_LIMIT, float(t1), float(t2), float(t3)]


# ---------------------------------------------------------------------------- PSS/E
_RAW_SECTIONS = ("bus", "load", "fixed shunt", "generator", "branch", "transformer", "area", "two-terminal dc",
                 "vsc dc line", "impedance correction", "multi-terminal dc", "multi-section line", "zone",
                 "inter-area transfer", "owner", "facts device", "switched shunt", "gne", "induction machine")


def write_psse(reduced, raw_path, dyr_path, **options):
    """Write the dynamic equivalent as PSS/E version 33 ``.raw`` and ``.dyr`` files, atomically.

    The ``.raw`` file has one bus per area (bus i is area i; bus 1 the swing bus, the
    others PV), a load where ``load_mw`` > 0, one generator per bus (MBASE = its rating,
    ZX = the source reactance) and one lossless branch per edge of L_k. The ``.dyr`` file
    has a ``GENCLS`` record per generator (H in s, D in p.u. on MBASE) and a ``TGOV1``
    record (R p.u. on MBASE; T1, T2, T3 in s; VMAX, VMIN wide; Dt = 0) per area with
    turbines. Both files start with a comment stating the bus numbers, the base and the
    units. Floats are written in Python's shortest round-tripping form.

    Parameters
    ----------
    reduced : ReducedNetwork, NetworkReduction, NetworkModel or DynamicEquivalent
    raw_path, dyr_path : str or Path
        The files; their folders must exist.
    **options
        Keyword arguments of :func:`dynamic_equivalent`.

    Returns
    -------
    DynamicEquivalent
        What was written.
    """
    equivalent = _as_equivalent(reduced, options)
    from .. import __version__

    base, freq, k = equivalent.base_mva, equivalent.frequency_hz, equivalent.n
    generation, reactive = equivalent.generation_mw, equivalent.generation_mvar
    lines = [f"0, {base!r}, 33, 0, 1, {freq!r}     / PSS(R)E-33 RAW, dynamic equivalent by gridcoherence "
             f"{__version__}",
             f"Dynamic equivalent: buses 1..{k} are areas 1..{k}, bus 1 the swing bus",
             f"Base {base!r} MVA, {freq!r} Hz; impedances p.u. on the base, MW, Mvar, kV, degrees"]
    lines += [f"{i + 1}, '{equivalent.names[i]}', {float(equivalent.bus_kv[i])!r}, {3 if i == 0 else 2}, 1, 1, 1, "
              f"{float(equivalent.voltage[i])!r}, {math.degrees(equivalent.angle[i])!r}, 1.1, 0.9, 1.1, 0.9"
              for i in range(k)]
    lines.append("0 / END OF BUS DATA, BEGIN LOAD DATA")
    lines += [f"{i + 1}, '1', 1, 1, 1, {float(equivalent.load_mw[i])!r}, 0.0, 0.0, 0.0, 0.0, 0.0, 1, 1, 0"
              for i in np.flatnonzero(equivalent.load_mw > 0)]
    lines.append("0 / END OF LOAD DATA, BEGIN FIXED SHUNT DATA")
    lines.append("0 / END OF FIXED SHUNT DATA, BEGIN GENERATOR DATA")
    lines += [f"{i + 1}, '1', {float(generation[i])!r}, {float(reactive[i])!r}, 9999.0, -9999.0, "
              f"{float(equivalent.voltage[i])!r}, 0, {float(equivalent.rating_mva[i])!r}, 0.0, "
              f"{float(equivalent.source_reactance[i])!r}, 0.0, 0.0, 1.0, 1, 100.0, 9999.0, -9999.0, 1, 1.0, 0, 1.0"
              for i in range(k)]
    lines.append("0 / END OF GENERATOR DATA, BEGIN BRANCH DATA")
    lines += [f"{i + 1}, {j + 1}, '1', 0.0, {float(x)!r}, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1, 1, 0.0, 1, 1.0"
              for i, j, x in zip(equivalent.branch_from, equivalent.branch_to, equivalent.branch_x)]
    for ended, begun in zip(_RAW_SECTIONS[4:], _RAW_SECTIONS[5:]):
        lines.append(f"0 / END OF {ended.upper()} DATA, BEGIN {begun.upper()} DATA")
    lines += [f"0 / END OF {_RAW_SECTIONS[-1].upper()} DATA", "Q"]
    dyr = [f"/ Dynamic equivalent by gridcoherence {__version__}: buses 1..{k} are areas 1..{k}; "
           f"base {base!r} MVA, {freq!r} Hz",
           "/ GENCLS: H (s) and D (p.u. power per p.u. speed) on MBASE; TGOV1: R (p.u. on MBASE), T1, VMAX, "
           "VMIN, T2, T3 (s), Dt"]
    for i in range(k):
        dyr.append(f"{i + 1} 'GENCLS' 1 {float(equivalent.inertia_constant[i])!r} {float(equivalent.damping[i])!r} /")
        if equivalent.governor(i) is not None:
            droop, t1, t2, t3 = equivalent.governor(i)
            dyr.append(f"{i + 1} 'TGOV1' 1 {float(droop)!r} {float(t1)!r} {VALVE_LIMIT!r} {-VALVE_LIMIT!r} "
                       f"{float(t2)!r} {float(t3)!r} 0.0 /")
    for path, text in ((raw_path, lines), (dyr_path, dyr)):
        with atomic_write(Path(path)) as handle:
            handle.write("\n".join(text) + "\n")
    return equivalent


_TOKEN = re.compile(r"'[^']*'|\"[^\"]*\"|[^,\s]+")


def _record_text(line):
    """A line without its comment: what precedes a '/' outside quotes (all of it if none)."""
    quote = None
    for position, char in enumerate(line):
        if char in "'\"":
            quote = None if quote == char else (char if quote is None else quote)
        elif char == "/" and quote is None:
            return line[:position], True
    return line, False


def _tokens(text):
    return [token.strip("'\"").strip() if token[0] in "'\"" else token for token in _TOKEN.findall(text)]


class _PsseReader:
    """Fields of PSS/E records, each error naming the file, the record and the field."""

    def __init__(self, path):
        self.path = Path(path)

    def error(self, where, problem):
        return EquivalentError(f"{self.path}: {where}: {problem}")

    def number(self, fields, index, where, name, *, minimum=None, strict=False):
        if index >= len(fields):
            raise self.error(where, f"field {name} is missing")
        try:
            value = float(fields[index])
        except ValueError:
            raise self.error(where, f"field {name} must be a number, got {fields[index]!r}") from None
        if not math.isfinite(value):
            raise self.error(where, f"field {name} must be finite, got {fields[index]!r}")
        if minimum is not None and (value <= minimum if strict else value < minimum):
            raise self.error(where, f"field {name} must be {'>' if strict else '>='} {minimum}, got {value!r}")
        return value

    def bus(self, fields, index, where, buses):
        number = self.number(fields, index, where, "bus number")
        if number not in buses:
            raise self.error(where, f"bus {fields[index]} is not in the bus data")
        return buses[number]

    def lines(self):
        try:
            return self.path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise EquivalentError(f"{self.path}: cannot read: {getattr(exc, 'strerror', None) or exc}") from exc


def _raw_sections(reader):
    """(base MVA, frequency Hz, {section: [(line number, fields), ...]}) of a v33 ``.raw`` file."""
    lines = reader.lines()
    if len(lines) < 3:
        raise reader.error("header", "a .raw file starts with a case record and two title lines")
    header = _tokens(_record_text(lines[0])[0])
    base = reader.number(header, 1, "case record (line 1)", "SBASE", minimum=0.0, strict=True)
    revision = reader.number(header, 2, "case record (line 1)", "REV")
    if revision != 33:
        raise reader.error("case record (line 1)", f"REV is {header[2]}; this reader reads version 33")
    freq = reader.number(header, 5, "case record (line 1)", "BASFRQ", minimum=0.0, strict=True)
    sections = {name: [] for name in _RAW_SECTIONS}
    section = 0
    for number, line in enumerate(lines[3:], start=4):
        if line.lstrip().startswith("@!"):
            continue
        text = _record_text(line)[0]
        fields = _tokens(text)
        if not fields:
            continue
        if fields[0].upper() == "Q":
            break
        if fields[0] == "0" and len(fields) == 1:
            section += 1
            continue
        if section >= len(_RAW_SECTIONS):
            raise reader.error(f"line {number}", "a record after the last section")
        sections[_RAW_SECTIONS[section]].append((number, fields))
    for name in _RAW_SECTIONS:
        if name not in ("bus", "load", "generator", "branch") and sections[name]:
            raise reader.error(f"line {sections[name][0][0]}", f"{name} data is not part of a dynamic equivalent "
                                                               "(buses, loads, generators and branches only)")
    return base, freq, sections


def read_psse(raw_path, dyr_path):
    """Read a dynamic equivalent from PSS/E v33 ``.raw`` and ``.dyr`` files (as :func:`write_psse` writes).

    The reader is small and tolerant of layout: fields separated by commas or spaces,
    quoted names, comments after ``/`` and ``@!`` comment lines, blank lines. It reads
    buses, loads (PL), generators (one per bus: MBASE, ZX) and lossless branches (X;
    parallel branches add up), and ``GENCLS`` and ``TGOV1`` records; anything else that a
    dynamic equivalent does not have (transformers, shunts, other dynamic models,
    resistance or charging) is an error naming the line.

    Parameters
    ----------
    raw_path, dyr_path : str or Path

    Returns
    -------
    DynamicEquivalent
        Machines in the model's units (m, d and turbines, from H, D and the TGOV1 data on
        MBASE), ordered by bus number.

    Raises
    ------
    EquivalentError
        Unreadable files, a missing or malformed field, or content outside the above.
    """
    reader = _PsseReader(raw_path)
    base, freq, sections = _raw_sections(reader)
    buses, names, kv, voltage, angle = {}, [], [], [], []
    for line, fields in sections["bus"]:
        where = f"bus record (line {line})"
        number = reader.number(fields, 0, where, "I")
        if number in buses:
            raise reader.error(where, f"bus {fields[0]} is given twice")
        buses[number] = len(names)
        names.append(fields[1] if len(fields) > 1 else fields[0])
        kv.append(reader.number(fields, 2, where, "BASKV", minimum=0.0, strict=True))
        voltage.append(reader.number(fields, 7, where, "VM", minimum=0.0, strict=True))
        angle.append(math.radians(reader.number(fields, 8, where, "VA")))
    k = len(names)
    if k == 0:
        raise reader.error("bus data", "holds no bus")
    load = np.zeros(k)
    for line, fields in sections["load"]:
        where = f"load record (line {line})"
        load[reader.bus(fields, 0, where, buses)] += reader.number(fields, 5, where, "PL")
    rating, source = np.full(k, np.nan), np.full(k, np.nan)
    for line, fields in sections["generator"]:
        where = f"generator record (line {line})"
        i = reader.bus(fields, 0, where, buses)
        if not math.isnan(rating[i]):
            raise reader.error(where, f"bus {fields[0]} has a second generator; an equivalent has one per area")
        rating[i] = reader.number(fields, 8, where, "MBASE", minimum=0.0, strict=True)
        source[i] = reader.number(fields, 10, where, "ZX", minimum=0.0, strict=True)
    missing = np.flatnonzero(np.isnan(rating))
    if missing.size:
        raise reader.error("generator data", f"bus {names[missing[0]]} has no generator")
    frm, to, x = [], [], []
    for line, fields in sections["branch"]:
        where = f"branch record (line {line})"
        frm.append(reader.bus(fields, 0, where, buses))
        to.append(reader.bus(fields, 1, where, buses))
        for index, name in ((3, "R"), (5, "B")):
            if reader.number(fields, index, where, name) != 0:
                raise reader.error(where, f"field {name} must be 0: an equivalent's lines are lossless")
        x.append(reader.number(fields, 4, where, "X", minimum=0.0, strict=True))
    to_rating = 2.0 * math.pi * freq * base / rating
    machines = _read_dyr(_PsseReader(dyr_path), buses, to_rating)
    return DynamicEquivalent(
        names=tuple(names), machines=tuple(machines), base_mva=base, frequency_hz=freq, rating_mva=rating,
        bus_kv=np.array(kv), voltage=np.array(voltage), angle=np.array(angle), load_mw=load,
        source_reactance=source, branch_from=np.array(frm, dtype=np.int64), branch_to=np.array(to, dtype=np.int64),
        branch_x=np.array(x, dtype=float))


def _dyr_records(reader):
    """(first line, fields) of every '/'-terminated ``.dyr`` record."""
    records, pending, start = [], [], None
    for number, line in enumerate(reader.lines(), start=1):
        if line.lstrip().startswith("@!"):
            continue
        text, ends = _record_text(line)
        fields = _tokens(text)
        if fields and start is None:
            start = number
        pending += fields
        if ends:
            if pending:
                records.append((start, pending))
            pending, start = [], None
    if pending:
        raise reader.error(f"record at line {start}", "does not end with '/'")
    return records


def _read_dyr(reader, buses, to_rating):
    """The machine of every bus from GENCLS and TGOV1 records, in the model's units."""
    machine, governor = {}, {}
    for line, fields in _dyr_records(reader):
        where = f"record at line {line}"
        i = reader.bus(fields, 0, where, buses)
        model = fields[1].upper() if len(fields) > 1 else ""
        if model == "GENCLS":
            if i in machine:
                raise reader.error(where, f"bus {fields[0]} has a second GENCLS record")
            h = reader.number(fields, 3, where, "H", minimum=0.0, strict=True)
            damping = reader.number(fields, 4, where, "D", minimum=0.0)
            machine[i] = (float(2.0 * h / to_rating[i]), float(damping / to_rating[i]))
        elif model == "TGOV1":
            if i in governor:
                raise reader.error(where, f"bus {fields[0]} has a second TGOV1 record")
            droop = reader.number(fields, 3, where, "R", minimum=0.0, strict=True)
            t1, t2, t3 = (reader.number(fields, index, where, name, minimum=0.0, strict=True)
                          for index, name in ((4, "T1"), (7, "T2"), (8, "T3")))
            if reader.number(fields, 9, where, "Dt") != 0:
                raise reader.error(where, "field Dt must be 0 (the equivalent's damping is GENCLS's D)")
            governor[i] = _turbines(reader, where, float(1.0 / (droop * to_rating[i])), t1, t2, t3)
        else:
            raise reader.error(where, f"model {fields[1] if len(fields) > 1 else ''!r} is not GENCLS or TGOV1")
    missing = [number for number, i in buses.items() if i not in machine]
    if missing:
        raise reader.error("GENCLS records", f"bus {missing[0]:g} has none")
    return [EquivalentMachine(*machine[i], *governor.get(i, ((), ())))
            for i in range(len(buses))]


def _turbines(reader, where, total_gain, t1, t2, t3):
    """(gains, time constants) of the one or two first-order turbines of a TGOV1 record."""
    if t2 == t3:
        return (total_gain,), (t1,)
    if not min(t1, t3) < t2 < max(t1, t3):
        raise reader.error(where, f"T2 = {t2!r} is not between T1 = {t1!r} and T3 = {t3!r}: the lead-lag is no "
                                  "sum of first-order turbines with positive gains")
    first = (t1 - t2) / (t1 - t3)
    terms = sorted([(t1, total_gain * first), (t3, total_gain * (1.0 - first))])
    return tuple(gain for _, gain in terms), tuple(tau for tau, _ in terms)


# ---------------------------------------------------------------------------- pandapower
def to_pandapower(reduced, **options):
    """A pandapower net of the dynamic equivalent, with the machine data in extra columns.

    One bus per area (``name`` A1, A2, ...), an impedance element per edge of L_k
    (``xft_pu`` = ``xtf_pu`` = x_ij on ``sn_mva`` = S_base, no resistance), a load where
    ``load_mw`` > 0 and a generator per area (area 1 the slack) at the operating point's
    voltage and generation. ``net.gen`` has the extra columns ``H`` (s) and ``D`` (p.u.
    power per p.u. speed), both on the generator's ``sn_mva``; ``m`` (p.u. s^2/rad) and
    ``d`` (p.u. s/rad) on the system base; the TGOV1 data ``R`` (droop, p.u. on
    ``sn_mva``), ``T1``, ``T2``, ``T3`` (s), NaN for an area without turbines; and
    ``xd_transient_pu``, the source reactance on ``sn_mva``.

    Parameters
    ----------
    reduced : ReducedNetwork, NetworkReduction, NetworkModel or DynamicEquivalent
    **options
        Keyword arguments of :func:`dynamic_equivalent`.

    Returns
    -------
    pandapower.pandapowerNet
        ``pandapower.runpp`` on it gives back the operating point.
    """
    import pandapower as pp

    equivalent = _as_equivalent(reduced, options)
    net = pp.create_empty_network(name="gridcoherence dynamic equivalent", f_hz=equivalent.frequency_hz,
                                  sn_mva=equivalent.base_mva)
    for name, kv in zip(equivalent.names, equivalent.bus_kv):
        pp.create_bus(net, vn_kv=float(kv), name=name)
    for i, j, x in zip(equivalent.branch_from, equivalent.branch_to, equivalent.branch_x):
        pp.create_impedance(net, int(i), int(j), rft_pu=0.0, xft_pu=float(x), sn_mva=equivalent.base_mva,
                            name=f"L{i + 1}-{j + 1}")
    for i in np.flatnonzero(equivalent.load_mw > 0):
        pp.create_load(net, int(i), p_mw=float(equivalent.load_mw[i]), name=f"LD{i + 1}")
    generation = equivalent.generation_mw
    for i in range(equivalent.n):
        pp.create_gen(net, i, p_mw=float(generation[i]), vm_pu=float(equivalent.voltage[i]),
                      sn_mva=float(equivalent.rating_mva[i]), name=f"G{i + 1}", slack=i == 0)
    governors = np.array([equivalent.governor(i) or (np.nan,) * 4 for i in range(equivalent.n)], dtype=float)
    columns = {"H": equivalent.inertia_constant, "D": equivalent.damping,
               "m": [machine.m for machine in equivalent.machines], "d": [machine.d for machine in equivalent.machines],
               "R": governors[:, 0], "T1": governors[:, 1], "T2": governors[:, 2], "T3": governors[:, 3],
               "xd_transient_pu": equivalent.source_reactance}
    for column, values in columns.items():
        net.gen[column] = np.asarray(values, dtype=float)
    return net
