"""TOPS power-system models as cases: ``load_case("tops:k2a")`` and ``load_case(model_dict)``.

TOPS (the MIT-licensed Python simulator ``tops``, optional extra ``validate``) describes a
power system as a dict of tables (buses, lines, transformers, loads, shunts, generators
``GEN``, governors, exciters, stabilisers); it ships the Kundur two-area system
(``k2a``), IEEE 39 (``ieee39``), IEEE 68 (``ieee68``) and the Nordic 44 (``n44``).
:func:`tops_network` turns one into our machine network the way
:mod:`~gridcoherence.cases.powerflow` does for pandapower (dissertation Sec. 3.1.1,
(3.80)): the operating point is TOPS's own load flow, every ``GEN`` is attached to its
bus behind its transient reactance x'_d (classical model: constant EMF, no damper windings,
exciters or stabilisers), the lossless fixed-voltage-magnitude linearization of the
network with the internal nodes is Kron-reduced onto them
(:func:`~gridcoherence.cases.powerflow.internal_node_admittance`,
:func:`~gridcoherence.cases.powerflow.linearized_laplacian`,
:func:`~gridcoherence.cases.powerflow.kron_reduce`). Loads enter through the operating
point only, as in the default ``linearization="network"`` of pandapower cases.

Machine data (per ``GEN`` row, N_par parallel units of rating S_n, power factor PF_n):

* inertia m = 2 H S_n N_par / (omega_s S_base) (H on S_n, as TOPS's swing equation);
* damping d = D PF_n S_n N_par / (omega_s S_base) plus the governor's direct speed
  feedthrough (TGOV1's D_t) -- TOPS's D and governor outputs are per unit of the nominal
  active power PF_n S_n;
* x'_d on the system base: X_d_t (V_n / V_bus)^2 S_base / (S_n N_par);
* governors (TGOV1, HYGOV, IEESGO, any TOPS governor): the transfer function H(s) from a
  speed drop to the mechanical power is taken from TOPS's own linearization of the
  governor at the operating point, H(s) = c (sI - A_g)^{-1} b + h_inf; h_inf (TGOV1's D_t)
  joins the damping, and the rest becomes first-order droops of the family (3.84),
  sum_k q_k / (tau_k s + 1): exactly, by partial fractions, when every pole is real and
  every gain q_k positive (TGOV1 with its lead T_2 between its lags T_1 and T_3, as in
  IEEE 39); otherwise one droop with the same DC gain q = H(0) - h_inf (the inverse droop:
  1/R for TGOV1, A_t / R for HYGOV) and the same first moment, tau = -c A_g^{-2} b / q (for
  TGOV1, tau = T_1 + T_3 - T_2, as for PST's governors in :mod:`~gridcoherence.cases.pst`).

The approximation error of the governors at the electromechanical modes of the model,
|H_fit(j w) - H(j w)| / |H(j w)| at each mode's frequency, is stored per governor in
``case.metadata.details["governors"]``. Measured (the last two rows: ``k2a`` with those
governors in place of TGOV1):

==================  ====================================  ==================  ======================
case                governor and its droop                modes (Hz)          error at the modes
==================  ====================================  ==================  ======================
tops:k2a            TGOV1, R 0.05, T 0.1/0.09/0.2 s:      0.65, 1.13, 1.16    1.3 %, 2.6 %, 2.7 %
                    one droop 20/(0.21 s + 1)
tops:ieee39         TGOV1, R 0.05, T 0.2/1/2 s: exact,    0.74 ... 1.62       0
                    11.1/(2 s + 1) + 8.9/(0.2 s + 1)
k2a, HYGOV          R 0.04, r 0.1, T_r 10 s, T_w 1 s:     0.59, 1.07, 1.11    101 %, 103 %, 103 %
                    one droop 25/(26.7 s + 1)
k2a, IEESGO         K_1 20, T_3 0.15 s, T_5 7 s:          0.59, 1.07, 1.11    75 %, 87 %, 88 %
                    one droop 20/(2.7 s + 1)
==================  ====================================  ==================  ======================

A slow first-order droop is almost absent in the electromechanical band, where the hydro
governor's transient droop and water column (and IEESGO's reheat split) still act: the
errors near 100 % say that these governors' share of the mode damping is missing, while
their DC gain -- the steady-state frequency after a load step -- is kept.

TOPS's swing equation uses the torque P_m / (1 + omega); its linearization adds a damping
-P_m0 (negative, per unit of machine base), which the family's d >= 0 cannot hold; it is
left out here and is part of what the equivalent damping of
:func:`gridcoherence.studies.validation.validate` absorbs.

Models TOPS itself cannot initialise are refused with a
:class:`~gridcoherence.cases.schema.CaseError` that says why: a load with P = Q = 0
(``ieee68`` has one) makes TOPS's constant-impedance load model divide by zero, a load
flow that does not converge, an initial state that is not an equilibrium.
"""

from __future__ import annotations

import copy
import importlib
import io
import math
import warnings
from contextlib import redirect_stdout
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from .._extras import require
from .schema import D_FROM_DAMPING, M_FROM_H, Q_FROM_INV_DROOP, CaseError, PerUnitBases

__all__ = ["TOPS_CASES", "GovernorFit", "TopsNetwork", "tops_network", "tops_model", "tops_system", "tops_loads",
           "speed_states", "Modes", "electromechanical_modes", "model_modes",
           "SPEED_SHARE", "ANGLE_SHARE", "ELECTROMECHANICAL_BAND_HZ"]

#: The TOPS models ``load_case("tops:<name>")`` accepts (modules of ``tops.ps_models``).
TOPS_CASES = ("k2a", "ieee39", "ieee68", "n44")

#: Step of the central differences of the governor linearization (p.u. states).
DIFFERENCE_STEP = 1e-6

#: Largest state derivative (p.u./s) of an initialised TOPS model that counts as an equilibrium.
EQUILIBRIUM_TOLERANCE = 1e-6


@dataclass(frozen=True)
class GovernorFit:
    """A TOPS governor replaced by first-order droops sum_k q_k / (tau_k s + 1) of the family (3.84).

    Attributes
    ----------
    name, machine, model : str
        The governor's TOPS name, its ``GEN`` and its TOPS model (``"TGOV1"``, ...).
    gains : tuple of float
        Gains q_k of the first-order terms, p.u. power per p.u. speed on the machine's
        nominal active power PF_n S_n N_par; they sum to the DC gain H(0) - h_inf (the
        inverse droop).
    taus : tuple of float
        Their time constants (s).
    feedthrough : float
        h_inf, the speed feedthrough (TGOV1's D_t), same unit as the gains; added to the
        damping.
    mode_frequencies_hz : tuple of float
        The frequencies of the error below (the model's electromechanical modes).
    relative_error : tuple of float
        |H_fit(j w) - H(j w)| / |H(j w)| at each of those frequencies.
    """

    name: str
    machine: str
    model: str
    gains: tuple
    taus: tuple
    feedthrough: float
    mode_frequencies_hz: tuple = ()
    relative_error: tuple = ()

    def as_dict(self):
        return {"name": self.name, "machine": self.machine, "model": self.model, "gains": list(self.gains),
                "taus_s": list(self.taus), "feedthrough": self.feedthrough,
                "mode_frequencies_hz": list(self.mode_frequencies_hz),
                "relative_error": list(self.relative_error)}


@dataclass(frozen=True)
class TopsNetwork:
    """A TOPS model as our machine network, with the TOPS system it came from.

    Attributes
    ----------
    case : Case
        Node names are the ``GEN`` names; f(s) = 1/s, output rad/s.
    system : tops.dynamic.PowerSystemModel
        TOPS's model, initialised at its load flow (TOPS state order).
    full_laplacian : scipy.sparse.csr_matrix
        Linearized Laplacian on [internal machine nodes; buses] before Kron reduction.
    bus_names : tuple of str
        TOPS bus names in the order of ``full_laplacian``'s bus block.
    governors : tuple of GovernorFit
    """

    case: object
    system: object
    full_laplacian: sp.csr_matrix
    bus_names: tuple
    governors: tuple

    def machine_injection(self, bus_injection):
        """The machine-node disturbance of power injections at buses (Kron reduction).

        An injection at an eliminated bus b reaches the machines as -L_mb L_bb^{-1} e_b
        (its entries sum to 1): the distribution of a bus injection by the same Schur
        complement that gives the machine Laplacian.

        Parameters
        ----------
        bus_injection : dict of str -> float
            Injection (p.u. system base) per TOPS bus name.

        Returns
        -------
        ndarray, shape (n_machines,)
            Sums to the total injection.
        """
        names = list(self.bus_names)
        rhs = np.zeros(len(names))
        for bus, value in bus_injection.items():
            if bus not in names:
                raise ValueError(f"{self.case.name}: no bus {bus!r}; buses are {', '.join(names)}")
            rhs[names.index(bus)] += float(value)
        n_m = self.case.model.n
        L = self.full_laplacian.tocsc()
        z = spla.splu(L[n_m:, n_m:].tocsc()).solve(rhs)
        return -(L[:n_m, n_m:] @ z)


def tops_model(source):
    """The TOPS model dict of ``"tops:<name>"`` (or a copy of a dict) and its label.

    Parameters
    ----------
    source : str or dict
        ``"tops:k2a"``, ``"tops:ieee39"``, ... (:data:`TOPS_CASES`), or a TOPS model dict.

    Returns
    -------
    model : dict
        A deep copy (TOPS modifies the dict it is given).
    label : str
        ``"tops:<name>"``, or ``"TOPS model"`` for a dict.
    """
    if isinstance(source, dict):
        missing = [key for key in ("base_mva", "f", "buses", "generators") if key not in source]
        if missing:
            raise CaseError("TOPS model", missing[0], "missing from the TOPS model dict (it needs base_mva, f, "
                            "buses and generators)")
        return copy.deepcopy(source), "TOPS model"
    name = str(source).split(":", 1)[1] if str(source).startswith("tops:") else str(source)
    if name not in TOPS_CASES:
        raise CaseError(str(source), "name", f"no TOPS model {name!r}; TOPS models are "
                        f"{', '.join('tops:' + c for c in TOPS_CASES)}")
    require("tops", "validate", "TOPS models")
    return copy.deepcopy(importlib.import_module(f"tops.ps_models.{name}").load()), f"tops:{name}"


def _check_loads(label, model):
    """Refuse loads TOPS's constant-impedance model cannot represent (P = Q = 0)."""
    zero = [row["name"] for row in tops_loads(model)
            if float(row.get("P", 0.0)) == 0.0 and float(row.get("Q", 0.0)) == 0.0]
    if zero:
        raise CaseError(label, "loads", f"TOPS cannot initialise this model: load(s) {', '.join(map(str, zero))} "
                        "have P = Q = 0, and TOPS's constant-impedance load model computes z = |V|^2 / conj(S), "
                        "a division by zero that makes its network matrix singular; remove those loads or give "
                        "them a power")


def tops_system(model, label="TOPS model"):
    """TOPS's :class:`PowerSystemModel` of ``model``, at its load flow and initialised.

    Raises
    ------
    CaseError
        Zero loads, a load flow that does not converge, an initial state TOPS cannot
        make an equilibrium (the message says which).
    """
    dynamic = require("tops.dynamic", "validate", "TOPS models")
    _check_loads(label, model)
    # TOPS prints its progress and unknown models, and uses numpy.core (deprecated).
    with redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            system = dynamic.PowerSystemModel(model=model)
            system.power_flow()
        except (KeyError, ValueError, IndexError) as exc:
            raise CaseError(label, "model", f"TOPS cannot build this model: {exc!r}") from exc
        if not system.power_flow_ready:
            raise CaseError(label, "model", "TOPS's load flow did not converge")
        with np.errstate(all="ignore"):
            system.init_dyn_sim()
            derivative = system.ode_fun(0.0, system.x_0)
    if not (np.all(np.isfinite(system.x_0)) and np.all(np.isfinite(derivative))):
        raise CaseError(label, "model", "TOPS's initialisation gave non-finite states")
    worst = float(np.max(np.abs(derivative))) if derivative.size else 0.0
    if worst > EQUILIBRIUM_TOLERANCE:
        raise CaseError(label, "model", f"TOPS's initial state is not an equilibrium (largest state derivative "
                        f"{worst:.3g}); a limiter is active at the operating point or a model is not initialised")
    if "GEN" not in getattr(system, "gen", {}) or len(system.gen) != 1:
        raise CaseError(label, "generators", "only TOPS GEN machines are supported")
    return system


def speed_states(system):
    """Indices of the ``GEN`` speed and angle states in TOPS's state vector (machine order)."""
    index = system.gen["GEN"].state_idx_global
    return np.asarray(index["speed"], dtype=np.int64), np.asarray(index["angle"], dtype=np.int64)


def _column_jacobian(function, x0, columns, step=DIFFERENCE_STEP):
    """Central differences of ``function`` at ``x0`` along the state ``columns``."""
    out = []
    for j in columns:
        up, down = x0.copy(), x0.copy()
        up[j] += step
        down[j] -= step
        out.append((np.asarray(function(up)) - np.asarray(function(down))) / (2 * step))
    return np.array(out).T


def _governor_fits(system, label):
    """One :class:`GovernorFit` per governor unit, from TOPS's linearization of it."""
    fits = []
    gen = system.gen["GEN"]
    speed, _ = speed_states(system)
    names = list(gen.par["name"])
    owner = system.state_desc[:, 0]
    x0 = system.x_0
    for kind, governor in getattr(system, "gov", {}).items():
        for unit, (name, machine) in enumerate(zip(governor.par["name"], governor.par["gen"])):
            states = np.flatnonzero(np.char.startswith(owner.astype(str), f"{name}/") | (owner == name))
            columns = np.r_[states, speed[names.index(machine)]]
            dx = _column_jacobian(lambda x: system.ode_fun(0.0, x), x0, columns)
            out = _column_jacobian(lambda x: governor.output(x, system.solve_algebraic(0.0, x)), x0, columns)
            A, b = dx[states][:, :-1], dx[states][:, -1]
            c, direct = out[unit, :-1], out[unit, -1]
            gains, taus = _droop_terms(A, b, c)
            if not gains and states.size:
                raise CaseError(label, f"gov.{kind}", f"governor {name!r} of {machine!r} has no droop "
                                "approximation: its DC gain or first moment is not positive")
            fits.append((GovernorFit(str(name), str(machine), kind, gains, taus, float(-direct)), A, b, c, direct))
    return fits


def _droop_terms(A, b, c):
    """First-order terms sum_k q_k / (tau_k s + 1) of H(s) - h_inf = -c (sI - A)^{-1} b.

    Exact (partial fractions) when every pole is real and negative and every residue gives
    a positive gain; otherwise one term with the same DC gain q = c A^{-1} b and first
    moment tau = -c A^{-2} b / q. Empty when there is no positive droop.
    """
    if not A.size:
        return (), ()
    poles, vectors = np.linalg.eig(A)
    residues = (c @ vectors) * np.linalg.solve(vectors, b)
    gains = residues / poles
    scale = max(float(np.max(np.abs(gains))), 1e-300)
    if (np.all(np.abs(poles.imag) <= 1e-9 * np.abs(poles)) and np.all(poles.real < 0)
            and np.all(gains.real > 1e-9 * scale) and np.all(np.abs(gains.imag) <= 1e-9 * scale)):
        order = np.argsort(-poles.real)
        return tuple(float(g) for g in gains.real[order]), tuple(float(-1 / p) for p in poles.real[order])
    inv_b = np.linalg.solve(A, b)
    gain = float(c @ inv_b)
    tau = float(-(c @ np.linalg.solve(A, inv_b)) / gain) if gain > 0 else 0.0
    return ((gain,), (tau,)) if gain > 0 and tau > 0 and math.isfinite(tau) else ((), ())


def _governor_error(fit, A, b, c, direct, frequencies_hz):
    """|H_fit(jw) - H(jw)| / |H(jw)| at the given frequencies."""
    errors = []
    for f in frequencies_hz:
        s = 2j * math.pi * f
        exact = -(c @ np.linalg.solve(s * np.eye(A.shape[0]) - A, b) + direct) if A.size else -direct
        fitted = sum(q / (tau * s + 1) for q, tau in zip(fit.gains, fit.taus)) + fit.feedthrough
        errors.append(float(abs(fitted - exact) / abs(exact)))
    return tuple(errors)


#: Least shares of a mode's participation in the speed states and in the angle states that
#: make it electromechanical: a swing moves both (synchronizing torque); the governors'
#: frequency modes move the speeds only (angle share below 0.07), exciter and stabiliser
#: modes neither (speed share below 0.25) -- in our models and in TOPS's.
SPEED_SHARE = 0.25
ANGLE_SHARE = 0.15

#: The band (Hz) searched for electromechanical modes.
ELECTROMECHANICAL_BAND_HZ = (0.1, 3.0)


@dataclass(frozen=True)
class Modes:
    """Electromechanical modes of a state matrix (one of each conjugate pair, ascending frequency).

    Attributes
    ----------
    eigenvalues : ndarray of complex
    shapes : ndarray of complex, shape (n_machines, n_modes)
        The right eigenvectors on the machine speeds (mode shapes).
    share : ndarray
        Participation share of the speed and angle states.
    """

    eigenvalues: np.ndarray
    shapes: np.ndarray
    share: np.ndarray

    @property
    def frequency_hz(self):
        return self.eigenvalues.imag / (2 * math.pi)

    @property
    def damping_ratio(self):
        return -self.eigenvalues.real / np.abs(self.eigenvalues)


def electromechanical_modes(A, speed, angle, band_hz=ELECTROMECHANICAL_BAND_HZ):
    """The electromechanical modes of the state matrix ``A``: oscillatory, in ``band_hz``, with
    at least :data:`SPEED_SHARE` of their participation in the ``speed`` states and
    :data:`ANGLE_SHARE` in the ``angle`` states.

    Participation factors p_ki = |w_ki v_ki| (v right, w left eigenvectors, w^T v = 1),
    as shares of each mode's total.

    Returns
    -------
    Modes
        ``share``: the speed and angle states' share together.
    """
    values, right = np.linalg.eig(np.asarray(A, dtype=float))
    left = np.linalg.inv(right)
    participation = np.abs(right * left.T)
    participation /= participation.sum(axis=0)
    speed_share = participation[np.asarray(speed)].sum(axis=0)
    angle_share = participation[np.asarray(angle)].sum(axis=0)
    f = values.imag / (2 * math.pi)
    chosen = np.flatnonzero((f >= band_hz[0]) & (f <= band_hz[1]) & (speed_share >= SPEED_SHARE)
                            & (angle_share >= ANGLE_SHARE))
    chosen = chosen[np.argsort(f[chosen])]
    return Modes(values[chosen], right[np.asarray(speed)][:, chosen], (speed_share + angle_share)[chosen])


def model_modes(model):
    """:func:`electromechanical_modes` of a machine network (states: frequencies, turbines, angles)."""
    real = model.realization()
    n = model.n
    return electromechanical_modes(real.A.toarray(), np.arange(n), real.n_node_states + np.arange(n))


def tops_network(source):
    """Our machine network of a TOPS model (see the module notes), with its TOPS system.

    Parameters
    ----------
    source : str or dict
        ``"tops:<name>"`` (:data:`TOPS_CASES`) or a TOPS model dict.

    Returns
    -------
    TopsNetwork

    Raises
    ------
    CaseError
        Unknown name, a model TOPS cannot initialise (message says why), islands, a
        governor without a droop approximation.
    MissingExtraError
        ``tops`` is not installed (``pip install "gridcoherence[validate]"``).

    Examples
    --------
    >>> network = tops_network("tops:k2a")
    >>> network.case.model.node_names, network.case.metadata.base_mva
    (['G1', 'G2', 'G3', 'G4'], 900.0)
    >>> [round(sum(g.gains), 6) for g in network.governors]  # 1/R, R = 0.05
    [20.0, 20.0, 20.0, 20.0]
    """
    from ..models.network import NetworkModel
    from ..models.nodes import SwingTurbineNodes
    from .loader import Case, CaseMetadata, model_units
    from .powerflow import (IslandError, Machine, _island_check, checked_machine_laplacian, internal_node_admittance,
                            kron_reduce, linearized_laplacian)

    model, label = tops_model(source)
    original = copy.deepcopy(model)
    system = tops_system(model, label)
    gen = system.gen["GEN"]
    par = gen.par
    names = [str(x) for x in par["name"]]
    base, frequency = float(system.s_n), float(system.f_n)
    at = np.asarray(gen.bus_idx["terminal"], dtype=np.int64)
    bus_names = tuple(str(x) for x in system.buses["name"])
    voltage_base = np.asarray(system.buses["V_n"], dtype=float)[at]
    n_par = np.asarray(par["N_par"], dtype=float)
    rating = np.asarray(par["S_n"], dtype=float) * n_par
    nominal = rating * np.asarray(par["PF_n"], dtype=float)
    xd_prime = np.asarray(par["X_d_t"], dtype=float) * (np.asarray(par["V_n"], dtype=float) / voltage_base) ** 2 \
        * base / rating
    power = np.asarray(system.load_flow_soln[gen], dtype=complex) / base
    V = np.asarray(system.v_0, dtype=complex)
    Y_aug, emf = internal_node_admittance(np.asarray(system.build_y_bus_lf()), V, at, xd_prime, power)
    L_full = linearized_laplacian(Y_aug, np.r_[emf, V])
    machines = [Machine(n, int(b), float(x)) for n, b, x in zip(names, at, xd_prime)]
    try:
        _island_check(L_full, len(names), machines, np.array(bus_names), False, label)
    except IslandError as exc:
        raise CaseError(label, "model", str(exc)) from exc
    laplacian, negative = checked_machine_laplacian(kron_reduce(L_full, np.arange(len(names))), label)

    fits = _governor_fits(system, label)
    feedthrough = np.zeros(len(names))
    turbine_node, turbine_gain, turbine_tau = [], [], []
    for fit, *_ in fits:
        i = names.index(fit.machine)
        feedthrough[i] += fit.feedthrough
        turbine_node += [i] * len(fit.gains)
        turbine_gain += list(fit.gains)
        turbine_tau += list(fit.taus)
    turbine_node = np.array(turbine_node, dtype=np.int64)
    inertia = PerUnitBases(rating, base, frequency)
    per_nominal = PerUnitBases(nominal, base, frequency)
    damping = np.asarray(par["D"], dtype=float) + feedthrough
    if np.any(damping < 0):
        i = int(np.flatnonzero(damping < 0)[0])
        raise CaseError(label, "generators.GEN.D", f"machine {names[i]!r} has a negative damping {damping[i]!r}")
    nodes = SwingTurbineNodes(m=M_FROM_H.factor(inertia) * np.asarray(par["H"], dtype=float),
                              d=D_FROM_DAMPING.factor(per_nominal) * damping,
                              turbine_gain=Q_FROM_INV_DROOP.factor(PerUnitBases(nominal[turbine_node], base, frequency))
                              * np.array(turbine_gain), turbine_tau=np.array(turbine_tau), turbine_node=turbine_node)
    network = NetworkModel(nodes, laplacian, coupling="1/s", node_names=names, name=label,
                           allow_negative_weights=negative > 0)
    frequencies = tuple(float(f) for f in model_modes(network).frequency_hz)
    governors = tuple(GovernorFit(fit.name, fit.machine, fit.model, fit.gains, fit.taus, fit.feedthrough,
                                  frequencies, _governor_error(fit, *rest, frequencies)) for fit, *rest in fits)
    details = {
        "n_buses": len(bus_names), "tops_model": original, "machine_bus_name": [bus_names[i] for i in at],
        "H": [float(h) for h in par["H"]], "rating_mva": rating.tolist(), "xd_prime_system": xd_prime.tolist(),
        "emf": emf, "machine_power": power, "negative_weights": negative,
        "governors": [g.as_dict() for g in governors],
        "loads": [str(row["name"]) for row in tops_loads(original)],
    }
    provenance = {
        "network": f"{label}: TOPS model data (tops package, MIT licence), TOPS's own load flow",
        "machines": "TOPS GEN: H and S_n (inertia), D (damping), X_d_t (x'_d, classical model)",
        "governors": "TOPS governors linearized by TOPS at the operating point, replaced by first-order droops "
                     "with the same DC gain and first moment",
    }
    metadata = CaseMetadata(name=label, description=f"{label} (TOPS) as a classical machine network",
                            source=label, provenance=provenance, units=model_units(True, "1/s"), base_mva=base,
                            frequency_hz=frequency, machine_bus=tuple(int(i) for i in at),
                            options={"linearization": "network"}, details=details)
    return TopsNetwork(Case(network, metadata), system, sp.csr_matrix(L_full), bus_names, governors)


def tops_loads(model):
    """The load rows of a TOPS model dict as dicts (``name``, ``bus``, ``P``, ``Q``, ...).

    TOPS holds them as one table (header row, then rows) or as a dict of such tables by
    load model.
    """
    loads = model.get("loads", [])
    tables = loads.values() if isinstance(loads, dict) else [loads]
    return [dict(zip(table[0], row)) for table in tables if len(table) > 1 for row in table[1:]]
