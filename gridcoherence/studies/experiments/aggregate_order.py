"""Reduced-order aggregate machines: Table 3-II and Figs. 3-8 to 3-10 (Sec. 3.3.3).

Each driver writes ``out_dir/NAME.json`` (numbers) and ``out_dir/NAME.png`` (plot) and
returns the JSON content. ``quick=True`` uses coarser grids so the run takes seconds.

Conventions: ghat maps p.u. to rad/s (m in s^2/rad, no unit conversion);
Table 3-II's L2/Linf columns are for a unit step; reduced models are scaled to ghat's
exact DC gain (the closed loop, also for "tb"). Figures show the text's -0.1 p.u. step.
"""

from __future__ import annotations

from pathlib import Path

import control
import numpy as np

from ..._io import save_figure, subplots, write_json
from ...reduction.machines import (
    closed_loop_system,
    germond_podmore_aggregate,
    guggilam_aggregate,
    reduce_aggregate,
)
from ...report.metrics import step_error_metrics, step_error_response
from ...models.nodes import SwingTurbineNodes

__all__ = ["METRICS", "table_3_1_aggregate", "reduced_models", "table3_2", "fig3_8", "fig3_9", "fig3_10",
           "EXPERIMENTS"]

#: Table 3-I (five generators) and the group's aggregate inertia and damping.
TABLE_3_1 = {
    "m": 0.0683,
    "d": 0.0107,
    "turbine_gain": [0.0218, 0.0256, 0.0236, 0.0255, 0.0192],
    "turbine_tau": [9.08, 5.26, 2.29, 7.97, 3.24],
}

#: The error columns of Table 3-II, by their names in
#: :class:`~gridcoherence.report.metrics.StepErrorMetrics`: L2, L-infinity, H-infinity.
METRICS = ("l2_error", "linf_error", "hinf_error")

#: Table 3-II as printed, in the order of :data:`METRICS`: L2 (rad/s^{1/2}), Linf (rad/s), Hinf.
PUBLISHED_TABLE_3_2 = {
    "Guggilam": [7.2956, 3.8287, 10.2748],
    "Germond": [3.9594, 1.9974, 5.1431],
    "BT2-tb": [4.3737, 2.1454, 7.5879],
    "BT2-cl": [2.0376, 0.9934, 2.0381],
    "BT3-tb": [0.0967, 0.0361, 0.1315],
    "BT3-cl": [0.0704, 0.0249, 0.0317],
}

FIGURE_STEP = -0.1  # p.u., the disturbance of the text's simulations


def table_3_1_aggregate(m=TABLE_3_1["m"]):
    """The Table 3-I coherent group as a one-node aggregate (inertia ``m`` adjustable, Fig. 3-9)."""
    return SwingTurbineNodes([m], [TABLE_3_1["d"]], turbine_gain=[TABLE_3_1["turbine_gain"]],
                             turbine_tau=[TABLE_3_1["turbine_tau"]])


def reduced_models(aggregate, names):
    """Closed-loop StateSpace models by row name ("Germond", "Guggilam", "BT<k>-<tb|cl>")."""
    models = {}
    for name in names:
        if name == "Germond":
            models[name] = closed_loop_system(germond_podmore_aggregate(aggregate))
        elif name == "Guggilam":
            models[name] = closed_loop_system(guggilam_aggregate(aggregate))
        else:
            order, method = name[2:].split("-")
            models[name] = reduce_aggregate(aggregate, int(order), method).system
    return models


def _interpretation_json(reduction):
    i = reduction.interpretation
    return {"m": i.m, "d": i.d, "turbine_gain": i.turbine_gain, "turbine_tau": i.turbine_tau,
            "physical": i.physical, "reason": i.reason, "dc_scale": reduction.dc_scale,
            "hankel_singular_values": reduction.hankel_singular_values}


def table3_2(out_dir, quick=False):
    """Table 3-II: L2, Linf (unit step) and Hinf errors of six aggregate models.

    Also records the interpretations of BT3-tb (reduced turbine, its partial fractions)
    and BT2-cl (equivalent machine). The Guggilam row is the stand-in of
    :func:`~gridcoherence.reduction.machines.guggilam_aggregate` and is not expected to
    match the published row (documented there). ``quick`` has no effect (the table
    takes about a second).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    aggregate = table_3_1_aggregate()
    reference = closed_loop_system(aggregate)
    models = reduced_models(aggregate, PUBLISHED_TABLE_3_2)
    rows = {}
    for name, model in models.items():
        ours = step_error_metrics(reference, model, step=1.0)
        values = [getattr(ours, metric) for metric in METRICS]
        published = PUBLISHED_TABLE_3_2[name]
        rows[name] = {
            "ours": dict(zip(METRICS, values)),
            "published": dict(zip(METRICS, published)),
            "relative_difference": dict(zip(METRICS, np.array(values) / published - 1.0)),
        }
    bt3_tb = reduce_aggregate(aggregate, 3, "tb")
    turbine = bt3_tb.turbine
    turbine_tf = control.tf(turbine)
    lead = turbine_tf.den[0][0][0]
    result = {
        "conventions": "unit step (1 p.u.) for L2/Linf; ghat in rad/s per p.u.; closed loop rescaled to ghat(0)",
        "rows": rows,
        "BT3-tb": {**_interpretation_json(bt3_tb), "turbine_num": turbine_tf.num[0][0] / lead,
                   "turbine_den": turbine_tf.den[0][0] / lead,
                   "published": {"turbine_num": [0.0266, 0.0057], "turbine_den": [1.0, 0.5046, 0.0489],
                                 "turbine_gain": [0.0473, 0.0684], "turbine_tau": [2.68, 7.64]}},
        "BT2-cl": {**_interpretation_json(reduce_aggregate(aggregate, 2, "cl")),
                   "published": {"m": 0.06715, "d": 0.01464, "turbine_gain": [0.1118], "turbine_tau": [4.9733]}},
    }
    write_json(out_dir / "table3_2.json", result)
    fig, ax = subplots(figsize=(8, 3.5))
    names = list(rows)
    x = np.arange(len(names))
    for k, metric in enumerate(METRICS):
        ax.bar(x + (k - 1) * 0.27, [rows[n]["ours"][metric] for n in names], 0.25, label=f"{metric} (ours)")
        ax.plot(x + (k - 1) * 0.27, [rows[n]["published"][metric] for n in names], "k_", markersize=12)
    ax.set_xticks(x, names)
    ax.set_yscale("log")
    ax.set_title("Table 3-II: errors of aggregate models (bars: ours, dashes: published)")
    ax.legend(fontsize=8)
    save_figure(fig, out_dir / "table3_2.png")
    return result


def _step_figure(out_dir, name, names, quick, title):
    """Step responses (-0.1 p.u.) of ghat and ``names`` with their errors; JSON + PNG."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    aggregate = table_3_1_aggregate()
    reference = closed_loop_system(aggregate)
    models = reduced_models(aggregate, names)
    t = np.linspace(0.0, 60.0, 121 if quick else 1201)
    exact = FIGURE_STEP * np.ravel(control.step_response(reference, t).outputs)
    errors = {n: step_error_response(reference, model, t, step=FIGURE_STEP) for n, model in models.items()}
    fig, (top, bottom) = subplots(2, 1, figsize=(7, 6), sharex=True)
    top.plot(t, exact, "k", lw=2, label="ghat")
    for n, e in errors.items():
        top.plot(t, exact - e, "--", label=n)
        bottom.plot(t, e, label=n)
    top.set_ylabel("frequency deviation (rad/s)")
    bottom.set_ylabel("error (rad/s)")
    bottom.set_xlabel("time (s)")
    top.legend(fontsize=8)
    top.set_title(title)
    save_figure(fig, out_dir / f"{name}.png")
    result = {"step_pu": FIGURE_STEP, "t": t, "ghat": exact, "error": errors,
              "max_abs_error": {n: np.abs(e).max() for n, e in errors.items()}}
    write_json(out_dir / f"{name}.json", result)
    return result


def fig3_8(out_dir, quick=False):
    """Fig. 3-8: step responses and errors of BT2-tb, BT2-cl, BT3-tb, BT3-cl."""
    return _step_figure(out_dir, "fig3_8", ["BT2-tb", "BT2-cl", "BT3-tb", "BT3-cl"], quick,
                        "Fig. 3-8: balanced-truncation aggregate models")


def fig3_10(out_dir, quick=False):
    """Fig. 3-10: BT2-cl and BT3-cl against the Germond and Guggilam aggregates."""
    return _step_figure(out_dir, "fig3_10", ["BT2-cl", "BT3-cl", "Germond", "Guggilam"], quick,
                        "Fig. 3-10: comparison with one-turbine aggregates")


def fig3_9(out_dir, quick=False):
    """Fig. 3-9: L2, Linf, Hinf of BT{2,3}-{tb,cl} as the aggregate inertia mhat varies."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    inertia = np.geomspace(0.02, 0.5, 5 if quick else 25)
    names = ["BT2-tb", "BT2-cl", "BT3-tb", "BT3-cl"]
    metrics = {n: {metric: [] for metric in METRICS} for n in names}
    for m in inertia:
        aggregate = table_3_1_aggregate(m)
        reference = closed_loop_system(aggregate)
        for n, model in reduced_models(aggregate, names).items():
            e = step_error_metrics(reference, model, step=1.0)
            for key in METRICS:
                metrics[n][key].append(getattr(e, key))
    fig, axes = subplots(3, 2, figsize=(9, 8), sharex=True)
    for col, order in enumerate((2, 3)):
        for row, key in enumerate(METRICS):
            ax = axes[row, col]
            for method, style in (("tb", "--"), ("cl", "-")):
                ax.loglog(inertia, metrics[f"BT{order}-{method}"][key], style, label=f"BT{order}-{method}")
            ax.set_ylabel(key)
            ax.legend(fontsize=8)
        axes[-1, col].set_xlabel("aggregate inertia mhat (s^2/rad)")
    fig.suptitle("Fig. 3-9: reduction errors vs aggregate inertia (unit step)")
    save_figure(fig, out_dir / "fig3_9.png")
    result = {"inertia": inertia, "metrics": metrics}
    write_json(out_dir / "fig3_9.json", result)
    return result


EXPERIMENTS = {"table3_2": table3_2, "fig3_8": fig3_8, "fig3_9": fig3_9, "fig3_10": fig3_10}
