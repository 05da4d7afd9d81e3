"""Validation against an independent simulator, TOPS: modes, a load step, equivalent damping.

:func:`validate` compares a case's linear machine network (dissertation Sec. 3.1.1, the
swing + turbine family (3.84) on the Kron-reduced network) and its reduced model
(:func:`gridcoherence.reduce_network`) with TOPS's model of the same system
(:mod:`gridcoherence.cases.tops`; optional extra ``validate``):

* small signal: the electromechanical modes of our model
  (:func:`~gridcoherence.cases.tops.model_modes`) against those of TOPS's numerical
  linearization of its full model (sub-transient machines, exciters, stabilisers,
  governors), identified the same way (participation of the speed and of the angle
  states, :func:`~gridcoherence.cases.tops.electromechanical_modes`) and matched one to
  one by the Hungarian assignment on the similarity |v^H w| / (|v| |w|) of the mode shapes
  on the machine speeds; frequency (Hz), damping ratio (%) and the relative frequency
  difference;
* time domain: a step increase of one load's active power (default 1 %), simulated by
  TOPS's nonlinear model (modified Euler, 5 ms; the load's conductance steps by
  Delta P / |V|^2) and by our full and reduced linear models. Our models are driven by the
  bus injections of the step at its instant, by TOPS's network equations with the machine
  states held: the step's own power and the change of every constant-impedance load as
  the bus voltages dip (in ``tops:k2a`` the loads give back 12 of the 17.7 MW of a 1 %
  step of L2), mapped to the machines by the Kron reduction's distribution
  (:meth:`~gridcoherence.cases.tops.TopsNetwork.machine_injection`). Per area: the
  centre-of-inertia frequency deviation (rad/s), its nadir and time, and the RMS (L2) and
  largest (L-inf) differences from TOPS relative to TOPS's largest area deviation;
* the exported equivalent in TOPS: the reduced model written as a k-bus TOPS model
  (:func:`~gridcoherence.report.equivalent.to_tops_model`: one classical generator and
  TGOV1 governor per area) and simulated nonlinearly by TOPS under each area's share of
  the same bus injections (a conductance step at the area's bus), against TOPS's full
  model: the same per-area table (model ``"equivalent in TOPS"``). An area whose
  aggregate is no machine TOPS can hold (more than two distinct turbine time constants)
  is first reduced to order 3; if that is not physical either, the comparison is left out
  and ``disturbance["equivalent"]`` says why;
* equivalent damping: the classical model has no damper windings, exciters or
  stabilisers, whose damping TOPS's modes include, and its data damping D is often 0. With
  ``damping="equivalent"`` each machine's d >= 0 is chosen by least squares so that the
  real parts of the matched electromechanical modes are those of TOPS (Gauss-Newton on the
  eigenvalue sensitivities d lambda / d d_i = -w_i v_i / (m_i w^T v), bounded at 0, with a
  small pull towards equal damping per unit inertia so that the fit is unique when there
  are fewer modes than machines). Both models are always reported.

What the comparison shows (``docs/howto-validate.md`` has the numbers): the frequencies of
the electromechanical modes agree within a few per cent, and the equivalent damping gives
TOPS's damping ratios. The time responses differ more, for two modelling reasons. The
classical network holds every voltage magnitude, while TOPS's constant-impedance loads
follow their bus voltages, which its exciters restore over seconds (SEXS with T_B = 10 s),
so the net power step TOPS's machines see grows after the instant of the step. And a
damping d of the family acts on each machine's deviation from the nominal frequency, so
it also holds the centre-of-inertia frequency back, whereas damper windings and
stabilisers act on the swings between machines only: the equivalent damping fixes the
modes but moves the area frequencies further from TOPS's.
"""

from __future__ import annotations

import copy
import io
import math
from contextlib import redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["ValidationResult", "ValidationInputError", "validate", "equivalent_damping", "MODE_UNITS", "TIME_UNITS"]

#: Units of the mode table's columns.
MODE_UNITS = {"tops_frequency": "Hz", "tops_damping": "%", "frequency": "Hz", "damping": "%",
              "frequency_difference": "%", "equivalent_frequency": "Hz", "equivalent_damping": "%",
              "equivalent_frequency_difference": "%"}
#: Units of the time-domain table's columns.
TIME_UNITS = {"nadir": "rad/s", "nadir_time": "s", "l2_error": "% of TOPS nadir", "linf_error": "% of TOPS nadir"}

#: Gauss-Newton steps of the equivalent damping and the weight of its pull towards equal damping.
DAMPING_ITERATIONS = 8
DAMPING_REGULARIZATION = 1e-3


class ValidationInputError(ValueError):
    """The arguments of :func:`validate` do not fit the case (the message says which and why)."""


@dataclass
class ValidationResult:
    """What :func:`validate` measured.

    Attributes
    ----------
    case, reference : str
        Our case and the TOPS model compared with.
    modes : pandas.DataFrame
        One row per matched electromechanical mode (:data:`MODE_UNITS`).
    unmatched : dict
        ``"ours"`` and ``"tops"``: frequencies (Hz) of modes left without a partner.
    damping : pandas.DataFrame
        Per machine: data damping and equivalent damping (p.u. s/rad, system base).
    time_domain : pandas.DataFrame or None
        Per area and model (:data:`TIME_UNITS`); None when the case is not the TOPS model
        itself (no load to map).
    responses : dict
        ``t`` (s) and, per model, the (nt, k) area COI frequency deviations (rad/s).
    areas : list of list of str
        Machines of each area.
    disturbance : dict
        Load, bus and step (MW) of the time-domain comparison; ``"equivalent"``: how the
        exported equivalent was made, or why it could not be.
    """

    case: str
    reference: str
    modes: pd.DataFrame
    unmatched: dict
    damping: pd.DataFrame
    time_domain: pd.DataFrame | None = None
    responses: dict = field(default_factory=dict)
    areas: list = field(default_factory=list)
    disturbance: dict = field(default_factory=dict)

    def to_frame(self, table="modes"):
        """The ``"modes"``, ``"time"`` or ``"damping"`` table (units in ``attrs["units"]``)."""
        frames = {"modes": (self.modes, MODE_UNITS), "time": (self.time_domain, TIME_UNITS),
                  "damping": (self.damping, {"d_data": "p.u. s/rad", "d_equivalent": "p.u. s/rad"})}
        if table not in frames:
            raise ValueError(f"table must be one of {', '.join(frames)}, got {table!r}")
        frame, units = frames[table]
        if frame is None:
            raise ValueError(f"{self.case}: no time-domain comparison (the case is not the TOPS model "
                             f"{self.reference} itself)")
        frame = frame.copy()
        frame.attrs["units"] = units
        return frame

    def summary(self):
        """The numbers as a JSON-ready dict."""
        record = {"case": self.case, "reference": self.reference, "areas": self.areas,
                  "disturbance": self.disturbance, "unmatched_modes_hz": self.unmatched,
                  "modes": self.modes.to_dict("records"), "damping": self.damping.to_dict("records")}
        if self.time_domain is not None:
            record["time_domain"] = self.time_domain.to_dict("records")
        return record

    def write(self, out_dir):
        """Write ``validation.json``, the tables as CSV and Markdown, and one PNG per area.

        Returns
        -------
        list of pathlib.Path
        """
        from .._io import save_figure, subplots, write_json
        from ..report.export import export_table

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        write_json(out / "validation.json", self.summary())
        written = [out / "validation.json"]
        tables = ["modes", "damping"] + (["time"] if self.time_domain is not None else [])
        for table in tables:
            for suffix in (".csv", ".md"):
                written.append(export_table(self.to_frame(table), out / f"{table}{suffix}"))
        if self.time_domain is not None:
            t = self.responses["t"]
            for area, machines in enumerate(self.areas):
                fig, ax = subplots(figsize=(7.0, 4.0), layout="constrained")
                for label, y in self.responses.items():
                    if label != "t":
                        ax.plot(t, y[:, area], label=label, lw=2.0 if label == "TOPS" else 1.2)
                ax.set_xlabel("time (s)")
                ax.set_ylabel("area COI frequency deviation (rad/s)")
                ax.set_title(f"{self.case}, area {area + 1}: {', '.join(machines)}")
                ax.legend()
                path = out / f"area_{area + 1}.png"
                save_figure(fig, path)
                written.append(path)
        return [Path(p) for p in written]


def _tops_linearization(system):
    """TOPS's numerical linearization of its full model (state matrix)."""
    from tops.modal_analysis import PowerSystemModelLinearization

    linearization = PowerSystemModelLinearization(system)
    with redirect_stdout(io.StringIO()), np.errstate(all="ignore"):
        linearization.linearize()
    return linearization.a


def _match(ours, theirs):
    """Hungarian assignment of modes on the similarity of their speed shapes."""
    from scipy.optimize import linear_sum_assignment

    a = ours.shapes / np.linalg.norm(ours.shapes, axis=0)
    b = theirs.shapes / np.linalg.norm(theirs.shapes, axis=0)
    similarity = np.abs(a.conj().T @ b)
    rows, cols = linear_sum_assignment(-similarity)
    return rows, cols, similarity[rows, cols]


def _with_damping(model, d):
    """The model with the damping ``d`` (p.u. s/rad), everything else kept."""
    from ..models.network import NetworkModel
    from ..models.nodes import SwingTurbineNodes

    nodes = model.nodes
    new = SwingTurbineNodes(m=nodes.m, d=d, turbine_gain=nodes.turbine_gain, turbine_tau=nodes.turbine_tau,
                            turbine_node=nodes.turbine_node)
    return NetworkModel(new, model.laplacian, coupling=model.coupling, node_names=model.node_names,
                        name=model.name, allow_negative_weights=True)


def equivalent_damping(model, target, *, iterations=DAMPING_ITERATIONS):
    """Damping d >= 0 per machine whose matched electromechanical modes have the real parts of ``target``.

    Parameters
    ----------
    model : NetworkModel
        Swing + turbine machines (:class:`~gridcoherence.models.nodes.SwingTurbineNodes`).
    target : Modes
        The reference modes (TOPS's), speed shapes in ``model``'s machine order.

    Returns
    -------
    ndarray, shape (n,)
        p.u. s/rad on the system base.
    """
    from scipy.optimize import lsq_linear

    from ..cases.tops import model_modes

    m = model.nodes.m
    d = model.nodes.d.copy()
    n = model.n
    # Rows (I - 1 1^T / n) diag(1/m): the spread of d_i / m_i around its mean.
    spread = (np.eye(n) - np.full((n, n), 1.0 / n)) @ np.diag(1.0 / m)
    for _ in range(iterations):
        current = _with_damping(model, d)
        modes = model_modes(current)
        rows, cols, _ = _match(modes, target)
        values, right = np.linalg.eig(current.realization().A.toarray())
        left = np.linalg.inv(right)
        J, r = [], []
        for i, j in zip(rows, cols):
            k = int(np.argmin(np.abs(values - modes.eigenvalues[i])))
            J.append((-(left[k, :n] * right[:n, k]) / m).real)
            r.append(target.eigenvalues[j].real - values[k].real)
        J, r = np.array(J), np.array(r)
        pull = math.sqrt(DAMPING_REGULARIZATION) * np.linalg.norm(J) / np.linalg.norm(spread) * spread
        system = np.vstack([J, pull])
        rhs = np.r_[r, -pull @ d]
        step = lsq_linear(system, rhs, bounds=(-d, np.inf)).x
        d = np.maximum(d + step, 0.0)
        if np.max(np.abs(step)) <= 1e-10 * max(float(np.max(d)), 1e-12):
            break
    return d


def _area_metrics(t, reference, y):
    """Nadir, its time and the L2 / L-inf differences relative to the reference nadir (%)."""
    nadir_index = int(np.argmax(np.abs(y)))
    scale = float(np.max(np.abs(reference)))
    error = y - reference
    return {"nadir": float(y[nadir_index]), "nadir_time": float(t[nadir_index]),
            "l2_error": 100 * float(np.sqrt(np.mean(error ** 2))) / scale,
            "linf_error": 100 * float(np.max(np.abs(error))) / scale}


def _simulate_tops(system, x0, t, read):
    """TOPS's nonlinear simulation (modified Euler, step t[1] - t[0]) from ``x0`` over ``t``:
    ``read(x, v)`` at every time of ``t``, stacked; its chatter silenced."""
    from tops.solvers import ModifiedEulerDAE

    dt = float(t[1] - t[0])
    with redirect_stdout(io.StringIO()), np.errstate(all="ignore"):
        solver = ModifiedEulerDAE(system.state_derivatives, system.solve_algebraic, 0.0, x0,
                                  float(t[-1]) + dt / 2, max_step=dt)
        out = [read(x0, system.solve_algebraic(0.0, x0))]
        for _ in range(len(t) - 1):
            solver.step()
            out.append(read(solver.x, solver.v))
    return np.array(out)


def _tops_load_step(model, load_bus, step_pu, t):
    """TOPS's load conductance step at t = 0: the bus injections at its instant, and the
    nonlinear simulation's machine speeds (rad/s) on ``t``.

    The injections are the step's own power plus the change of every constant-impedance
    load when the bus voltages move at the instant of the step (machine states held), by
    TOPS's network equations; p.u. system base per bus name, positive into the network.
    """
    from ..cases.tops import speed_states, tops_system

    system = tops_system(copy.deepcopy(model))
    speed, _ = speed_states(system)
    x0 = system.x_0.copy()
    names = [str(b) for b in system.buses["name"]]
    before = system.solve_algebraic(0.0, x0)
    conductance = step_pu / abs(before[load_bus]) ** 2
    system.y_bus_red_mod[load_bus, load_bus] = conductance
    after = system.solve_algebraic(0.0, x0)
    injection = {names[load_bus]: -conductance * abs(after[load_bus]) ** 2}
    for loads in getattr(system, "loads", {}).values():
        change = loads.p(x0, after) - loads.p(x0, before)
        for b, dp in zip(loads.bus_idx_red["terminal"], change):
            injection[names[b]] = injection.get(names[b], 0.0) - float(dp)
    speeds = _simulate_tops(system, x0, t, lambda x, v: x[speed].copy()) * 2 * math.pi * system.f_n
    if not np.all(np.isfinite(speeds)):
        raise ArithmeticError("TOPS's simulation of the load step diverged")
    return injection, speeds


def _exported_equivalent_step(model, reduction, area_injection, base_mva, frequency_hz, t):
    """The area frequencies (rad/s) of the reduction exported to TOPS under ``area_injection``.

    ``area_injection`` is each area's net injection step (p.u. system base, positive into
    the network), applied as a conductance step at the area's bus. Returns (responses of
    shape (len(t), k), how it was made) or (None, why not).
    """
    from tops.dynamic import PowerSystemModel

    from ..reduction.pipeline import reduce_network
    from ..report.equivalent import EquivalentError, dynamic_equivalent, to_tops_model

    try:
        exported = dynamic_equivalent(reduction.model, base_mva=base_mva, frequency_hz=frequency_hz)
        how = "full aggregates"
    except EquivalentError as exc:
        try:  # too many turbine time constants for TGOV1: an order-3 aggregate has at most two
            exported = dynamic_equivalent(reduce_network(model, partition=reduction.labels, order=3).model,
                                          base_mva=base_mva, frequency_hz=frequency_hz)
            how = f"aggregates reduced to order 3 ({exc})"
        except EquivalentError as again:
            return None, f"not exported: {again}"
    if len(area_injection) < 2:
        return None, "not exported: TOPS's load flow needs at least two buses"
    with redirect_stdout(io.StringIO()), np.errstate(all="ignore"):
        system = PowerSystemModel(to_tops_model(exported))
        system.init_dyn_sim()
    for bus, injection in enumerate(area_injection):
        system.y_bus_red_mod[bus, bus] = -injection / abs(system.v_0[bus]) ** 2
    generators = system.gen["GEN"]
    speeds = _simulate_tops(system, system.x_0.copy(), t, lambda x, v: generators.speed(x, v).copy())
    frequency = speeds * exported.omega
    if not np.all(np.isfinite(frequency)):
        raise ArithmeticError("TOPS's simulation of the exported equivalent diverged")
    return frequency, how


def _mode_rows(ours, theirs, equivalent):
    rows, cols, similarity = _match(ours, theirs)
    eq_rows, eq_cols, _ = _match(equivalent, theirs)
    eq_of = dict(zip(eq_cols, eq_rows))
    records = []
    for i, j, s in sorted(zip(rows, cols, similarity), key=lambda x: theirs.frequency_hz[x[1]]):
        f_t, f_o = theirs.frequency_hz[j], ours.frequency_hz[i]
        record = {"mode": len(records) + 1, "tops_frequency": f_t, "tops_damping": 100 * theirs.damping_ratio[j],
                  "frequency": f_o, "damping": 100 * ours.damping_ratio[i],
                  "frequency_difference": 100 * (f_o - f_t) / f_t, "shape_similarity": float(s)}
        if j in eq_of:
            e = eq_of[j]
            record.update(equivalent_frequency=equivalent.frequency_hz[e],
                          equivalent_damping=100 * equivalent.damping_ratio[e],
                          equivalent_frequency_difference=100 * (equivalent.frequency_hz[e] - f_t) / f_t)
        records.append(record)
    unmatched = {"ours": [float(x) for x in np.delete(ours.frequency_hz, rows)],
                 "tops": [float(x) for x in np.delete(theirs.frequency_hz, cols)]}
    return pd.DataFrame(records), unmatched


def validate(case, k=None, *, reference=None, load=None, step_percent=1.0, damping="data", duration=20.0,
             dt=5e-3, time_domain=True):
    """Compare a case's linear model and its reduction with TOPS (see the module notes).

    Parameters
    ----------
    case : Case
        A TOPS case (``load_case("tops:k2a")``), or any case whose machine names are those
        of ``reference``'s ``GEN`` rows (then only the modes are compared).
    k : int, optional
        Areas of the reduced model (default: :func:`gridcoherence.reduce_network`'s choice).
    reference : str or dict, optional
        The TOPS model (``"tops:<name>"`` or a dict); default the case's own.
    load : str, optional
        TOPS load name of the step; default the load of largest active power.
    step_percent : float
        Step of that load's active power (% of its P, > 0).
    damping : {"data", "equivalent"}
        Damping of the models of the time domain and the reduction: the data's, or
        :func:`equivalent_damping`. Both are in the mode table.
    duration, dt : float
        Simulated time and TOPS's step (s).
    time_domain : bool
        Compare the load step too (TOPS cases only); False compares the modes only.

    Returns
    -------
    ValidationResult

    Raises
    ------
    ValidationInputError
        An argument that does not fit: unknown load, machines that differ from the TOPS
        model's, a non-TOPS case without ``reference``, k outside 1..n, ...

    Examples
    --------
    >>> from gridcoherence import load_case
    >>> result = validate(load_case("tops:k2a"), k=2, duration=2.0)
    >>> len(result.modes), list(result.time_domain["model"].unique())
    (3, ['TOPS', 'equivalent in TOPS', 'full (data damping)', 'full (equivalent damping)', 'reduced (data damping)'])
    """
    from ..cases.tops import electromechanical_modes, model_modes, speed_states, tops_loads, tops_network
    from ..reduction.pipeline import reduce_network

    if damping not in ("data", "equivalent"):
        raise ValidationInputError(f"damping must be 'data' or 'equivalent', got {damping!r}")
    if not (isinstance(step_percent, (int, float)) and math.isfinite(step_percent) and step_percent > 0):
        raise ValidationInputError(f"step_percent must be a positive number, got {step_percent!r}")
    if not (duration > 0 and dt > 0 and duration / dt >= 10):
        raise ValidationInputError(f"duration ({duration!r} s) must be at least 10 steps dt ({dt!r} s)")
    if k is not None and not (isinstance(k, (int, np.integer)) and 1 <= k <= case.model.n):
        raise ValidationInputError(f"k must be an integer between 1 and {case.model.n}, got {k!r}")
    own = case.metadata.details.get("tops_model")
    if reference is None and own is None:
        raise ValidationInputError(f"{case.name} is not a TOPS case: give reference='tops:<name>' (a TOPS model "
                                   "with the same machine names)")
    chosen = None
    if time_domain and own is not None:
        loads = tops_loads(own)
        if not loads:
            raise ValidationInputError(f"{case.name} has no load to step")
        chosen = max(loads, key=lambda row: float(row["P"])) if load is None else next(
            (row for row in loads if str(row["name"]) == str(load)), None)
        if chosen is None:
            raise ValidationInputError(f"{case.name} has no load {load!r}; loads are "
                                       f"{', '.join(str(r['name']) for r in loads)}")
    tops = tops_network(own if reference is None else reference)
    model = case.model
    names = list(model.node_names or [])
    tops_names = list(tops.case.model.node_names)
    if sorted(names) != sorted(tops_names):
        raise ValidationInputError(f"{case.name} has machines {names} but the TOPS model {tops.case.name} has "
                                   f"{tops_names}")
    order = np.array([tops_names.index(n) for n in names])
    speed, angle = speed_states(tops.system)
    theirs = electromechanical_modes(_tops_linearization(tops.system), speed[order], angle[order])
    ours = model_modes(model)
    d_equivalent = equivalent_damping(model, theirs)
    equivalent = _with_damping(model, d_equivalent)
    modes, unmatched = _mode_rows(ours, theirs, model_modes(equivalent))
    damping_table = pd.DataFrame({"machine": names, "d_data": model.nodes.d, "d_equivalent": d_equivalent})
    reference_name = case.name if reference is None else tops.case.name
    result = ValidationResult(case.name, reference_name, modes, unmatched, damping_table)
    if chosen is None:
        return result

    step_mw = step_percent / 100 * float(chosen["P"])
    base = case.metadata.base_mva
    bus = str(chosen["bus"])
    t = np.arange(int(round(duration / dt)) + 1) * dt
    injection, tops_speeds = _tops_load_step(own, list(tops.bus_names).index(bus), step_mw / base, t)
    shape = tops.machine_injection(injection)[order]
    selected = equivalent if damping == "equivalent" else model
    reduction = reduce_network(selected, k)
    labels = reduction.labels
    areas = [np.flatnonzero(labels == c) for c in range(reduction.n_clusters)]
    weights = model.center_of_inertia_weights(areas).toarray().T
    responses = {"t": t, "TOPS": tops_speeds[:, order] @ weights,
                 "full (data damping)": model.response(shape, t=t).y @ weights,
                 "full (equivalent damping)": equivalent.response(shape, t=t).y @ weights,
                 f"reduced ({damping} damping)": reduction.model.lifted_response(shape, t=t).info["reduced_y"]}
    exported, how = _exported_equivalent_step(selected, reduction, np.array([shape[a].sum() for a in areas]),
                                              base, float(tops.system.f_n), t)
    if exported is not None:
        responses["equivalent in TOPS"] = exported
    records = []
    for label, y in responses.items():
        if label in ("t", "TOPS"):
            continue
        for c in range(len(areas)):
            records.append({"area": c + 1, "model": label, **_area_metrics(t, responses["TOPS"][:, c], y[:, c])})
    for c in range(len(areas)):
        reference_y = responses["TOPS"][:, c]
        records.append({"area": c + 1, "model": "TOPS", **_area_metrics(t, reference_y, reference_y)})
    result.time_domain = pd.DataFrame(records).sort_values(["area", "model"], kind="stable").reset_index(drop=True)
    result.responses = responses
    result.areas = [[names[i] for i in a] for a in areas]
    result.disturbance = {"load": str(chosen["name"]), "bus": bus, "step_mw": step_mw, "step_percent": step_percent,
                          "net_step_mw": -base * sum(injection.values()),
                          "bus_injection_mw": {b: base * v for b, v in injection.items()},
                          "duration_s": duration, "tops_step_s": dt, "equivalent": how}
    return result
