"""Figures 3-3 and 3-7: coherent response of the Icelandic grid.

* :func:`fig3_3` -- every machine's frequency, the coherent dynamics gbar driven by the
  averaged input, and the COI frequency, for four inputs (step, exponential approach,
  high- and low-frequency sinusoid) of shape u0 = -e_2, on the grid as is (top row) and
  with its connectivity scaled up (bottom row, case ``iceland_strong``).
* :func:`fig3_7` -- the step response of every machine, the COI frequency and the
  aggregate ghat driven by the total disturbance.

The Icelandic grid's machine data are a documented choice of this package (see the
``iceland`` case), so the curves agree with the dissertation's in shape, not in value:
its lambda_2 = 0.0915 came from unpublished modelling choices, ours is 0.189.

Settings not stated in the dissertation, chosen here: alpha = 0.5 1/s for the
exponential approach alpha/(s(s+alpha)); sinusoids of 5 rad/s (high) and 0.2 rad/s (low);
unit amplitudes (p.u. on the system base); horizons 30 s (60 s for the low sinusoid).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..._io import save_figure, subplots, write_json
from ...cases.loader import load_case
from ...coherence.measures import coherence_deviation
from ...models.simulate import ExponentialApproach, Sinusoid, Step

__all__ = ["fig3_3", "fig3_7", "FIG3_3_INPUTS", "EXPERIMENTS"]

#: The four input columns of Fig. 3-3: (label, signal, horizon in s).
FIG3_3_INPUTS = (
    ("step", Step(), 30.0),
    ("exponential approach (alpha = 0.5)", ExponentialApproach(0.5), 30.0),
    ("sinusoid 5 rad/s", Sinusoid(5.0), 30.0),
    ("sinusoid 0.2 rad/s", Sinusoid(0.2), 60.0),
)


def _disturbance(model):
    """u0 = -e_2: the second machine loses one p.u. of power."""
    return -model.input_shape(1)


def _panel(ax, deviation, title):
    t = deviation.network.t
    ax.plot(t, deviation.network.y, color="0.75", linewidth=0.6)
    ax.plot(t, deviation.network.y_coi, color="tab:blue", linewidth=1.6, label="COI")
    ax.plot(t, deviation.aggregate.y[:, 0], "--", color="tab:red", linewidth=1.6,
            label="gbar, averaged input")
    ax.set_title(title, fontsize=9)


def fig3_3(out_dir, quick=False):
    """Reproduce Fig. 3-3; writes ``fig3_3.json`` and ``fig3_3.png`` into ``out_dir``.

    The JSON holds, per row and input, the largest deviation max_i sup_t |y_i - ybar|,
    the COI's largest deviation from ybar, and lambda_2 of the row's network.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = (("grid as is", "iceland"), ("connectivity scaled up", "iceland_strong"))
    points = 301 if quick else 3001
    fig, axes = subplots(2, 4, figsize=(15, 6.5), sharey="row")
    numbers = {"inputs": [label for label, _, _ in FIG3_3_INPUTS], "rows": {}}
    for r, (row_label, case_name) in enumerate(rows):
        case = load_case(case_name)
        u0 = _disturbance(case.model)
        row = {"case": case_name, "lambda_2": case.spectrum_summary(2)["lambda_2"],
               "max_node_deviation": [], "max_coi_deviation": []}
        for c, (label, signal, horizon) in enumerate(FIG3_3_INPUTS):
            deviation = coherence_deviation(case.model, u0, signal, np.linspace(0.0, horizon, points))
            row["max_node_deviation"].append(deviation.max_deviation)
            row["max_coi_deviation"].append(
                float(np.max(np.abs(deviation.network.y_coi - deviation.aggregate.y[:, 0]))))
            _panel(axes[r, c], deviation, f"{row_label}: {label}")
        numbers["rows"][row_label] = row
        axes[r, 0].set_ylabel("frequency deviation (rad/s)")
    for ax in axes[-1]:
        ax.set_xlabel("time (s)")
    axes[0, 0].legend(fontsize=8)
    fig.suptitle("Fig. 3-3: coherent response of the Icelandic grid (u0 = -e_2)")
    fig.tight_layout()
    save_figure(fig, out_dir / "fig3_3.png")
    write_json(out_dir / "fig3_3.json", numbers)
    return numbers


def fig3_7(out_dir, quick=False):
    """Reproduce Fig. 3-7; writes ``fig3_7.json`` and ``fig3_7.png`` into ``out_dir``.

    The JSON holds lambda_2, the largest deviation of any machine and of the COI from
    the aggregate's response, and the aggregate's nadir and steady state.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    case = load_case("iceland")
    t = np.linspace(0.0, 30.0, 301 if quick else 3001)
    deviation = coherence_deviation(case.model, _disturbance(case.model), Step(), t)
    network, aggregate = deviation.network, deviation.aggregate.y[:, 0]
    highlight = int(np.argmax(deviation.per_node))
    fig, ax = subplots(figsize=(8, 4.5))
    ax.plot(t, network.y, color="0.8", linewidth=0.6)
    ax.plot(t, network.y[:, highlight], color="tab:blue", linewidth=1.0,
            label=f"machine {case.model.node_names[highlight] if case.model.node_names else highlight}")
    ax.plot(t, network.y_coi, color="k", linewidth=1.8, label="COI")
    ax.plot(t, aggregate, "--", color="tab:red", linewidth=1.8, label="ghat, total disturbance")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("frequency deviation (rad/s)")
    lambda_2 = case.spectrum_summary(2)["lambda_2"]
    ax.set_title(f"Fig. 3-7: step response of the Icelandic grid (lambda_2 = {lambda_2:.3f})")
    ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, out_dir / "fig3_7.png")
    numbers = {
        "lambda_2": lambda_2,
        "max_node_deviation": deviation.max_deviation,
        "max_coi_deviation": float(np.max(np.abs(network.y_coi - aggregate))),
        "aggregate_nadir": float(aggregate.min()),
        "aggregate_final": float(aggregate[-1]),
        "highlighted_machine": highlight,
    }
    write_json(out_dir / "fig3_7.json", numbers)
    return numbers


EXPERIMENTS = {"fig3_3": fig3_3, "fig3_7": fig3_7}
