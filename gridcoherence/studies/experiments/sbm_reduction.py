"""Structure-preserving reduction experiments (Sec. 3.2.3): Fig. 3-5, a Thm 3.10 study, real grids.

* :func:`fig3_5` -- the (3.41) stochastic block model (sizes 20/40/20), a unit step at
  node 2, every node's response against the reduced model That_3, one panel per
  identified cluster.
* :func:`sbm_scaling` -- the (3.41) proportions at growing n: band error
  sup_{|w| <= 1} ||T - That_3||, lambda_4(L), ||V_3 - Vhat_3||_F and the clustering
  success rate over seeds (Thm 3.10: the error goes to 0 as n grows).
* :func:`grid_areas` -- the Icelandic grid and the 16-machine 68-bus NETS-NYPS system
  reduced to a few areas, with the Laplacian and the inertia-weighted (slow-coherency)
  embeddings.

Settings not stated in the dissertation, chosen here: node coefficients are the
package's random swing nodes
(:data:`gridcoherence.cases.random_nodes.FAMILY_NODE_RANGES`, no turbine: "second-order
generators" with the angle), band edge eta = 1 rad/s, horizon 10 s.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ..._io import save_figure, subplots, write_json
from ...cases.loader import load_case
from ...reduction.clustering import misclassification_rate, spectral_clustering
from ...models.network import NetworkModel
from ...reduction.structure import structure_preserving_reduction
from ...cases.random_nodes import random_family_nodes
from ...cases.sbm import sample_sbm

__all__ = ["fig3_5", "sbm_scaling", "grid_areas", "sbm341_model", "sbm341_sample", "SBM_341", "EXPERIMENTS"]

#: The (3.41) block model: sizes, edge probabilities Q and weights W.
SBM_341 = {
    "sizes": (20, 40, 20),
    "Q": ((.8, .1, .1), (.1, .8, .1), (.1, .1, .8)),
    "W": ((20, .4, .8), (.4, 20, .7), (.8, .7, 20)),
}

#: Band edge (rad/s) of the reported errors.
ETA = 1.0


def sbm341_sample(n, seed):
    """The (3.41) proportions scaled to n nodes."""
    sizes = np.array(SBM_341["sizes"]) * n // sum(SBM_341["sizes"])
    return sample_sbm(sizes, SBM_341["Q"], SBM_341["W"], random_state=seed)


def sbm341_model(n, seed):
    """The (3.41) SBM with n nodes and random swing nodes."""
    sample = sbm341_sample(n, seed)
    nodes = random_family_nodes(sample.n, random_state=seed, turbines=False)
    return NetworkModel(nodes, sample.laplacian, name=f"sbm341-n{sample.n}-seed{seed}"), sample


def _reduction_record(reduced, band):
    return {
        "cluster_sizes": reduced.sizes,
        "eigenvalues": reduced.eigenvalues,
        "lambda_next": reduced.lambda_next,
        "refinement_error": reduced.refinement_error,
        "reduced_laplacian": reduced.reduced_laplacian,
        "nonnegative_weights": reduced.has_nonnegative_weights,
        "band_error": band.sup_error,
        "lowrank_band_error": band.sup_lowrank_error,
        "worst_frequency": band.worst_frequency,
        "thm38_bound_at_worst": float(band.bound[np.argmax(band.error)]),
        "band_method": band.method,
    }


def fig3_5(out_dir, quick=False, seed=0):
    """Reproduce Fig. 3-5; writes ``fig3_5.json`` and ``fig3_5.png`` into ``out_dir``.

    Returns
    -------
    dict
        The JSON content: clustering outcome, reduction record (band error etc.) and the
        largest deviation of each cluster's node responses from That_3 (whole horizon and
        after 2 s).
    """
    out_dir = Path(out_dir)
    model, sample = sbm341_model(80, seed)
    reduced = structure_preserving_reduction(model, 3, embedding="laplacian", random_state=seed)
    band = reduced.band_error(ETA, points_per_decade=3 if quick else 10, refine=not quick)
    t = np.linspace(0.0, 10.0, 201 if quick else 1001)
    original = model.response(1, "step", t)
    lifted = reduced.lifted_response(1, "step", t)
    late = t >= 2.0
    deviation = np.abs(original.y - lifted.y)
    fig, axes = subplots(1, 3, figsize=(12, 3.6), sharey=True)
    per_cluster = []
    for c, ax in enumerate(axes):
        members = np.flatnonzero(reduced.labels == c)
        ax.plot(t, original.y[:, members], color="0.6", linewidth=0.6)
        ax.plot(t, lifted.info["reduced_y"][:, c], "--", color="tab:red", linewidth=1.8,
                label=r"$\hat{T}_3$ (aggregate)")
        ax.set_title(f"cluster {c + 1}: {members.size} nodes", fontsize=9)
        ax.set_xlabel("t (s)")
        per_cluster.append({"nodes": members, "max_deviation": deviation[:, members].max(),
                            "max_deviation_after_2s": deviation[late][:, members].max()})
    axes[0].set_ylabel("frequency deviation (rad/s)")
    axes[0].legend(fontsize=8)
    fig.suptitle("SBM (3.41), unit step at node 2: node responses (solid) vs reduced model (dashed)",
                 fontsize=10)
    fig.tight_layout()
    numbers = {
        "experiment": "fig3_5", "seed": seed, "n": model.n, "eta": ETA, "step_node": 2,
        "misclassification": misclassification_rate(sample.labels, reduced.labels),
        **_reduction_record(reduced, band),
        "clusters": per_cluster,
    }
    save_figure(fig, out_dir / "fig3_5.png")
    write_json(out_dir / "fig3_5.json", numbers)
    return numbers


def sbm_scaling(out_dir, quick=False, sizes=None, n_seeds=None):
    """Thm 3.10 study; writes ``sbm_scaling.json`` and ``sbm_scaling.png``.

    For each n (the (3.41) proportions): clustering success rate over ``n_seeds`` draws
    (k-means++ with 10 restarts), and for the first seed lambda_4(L),
    ||V_3 - Vhat_3||_F, the band error of That_3 and the low-rank error of T_3. The band's
    log grid has 5 frequencies per decade, refined, for n <= 1280 and one every two
    decades, unrefined, beyond (the error grows with w on this family, maximal at the
    band edge, see the small-n rows).

    Parameters
    ----------
    sizes : sequence of int, optional
        Default (80, 320, 1280, 5120); quick (80, 160, 320). Larger n work but the
        band error is slow there: at n = 5120 one frequency takes about 3 minutes
        (GMRES path, one thread), and the cost grows like nnz(L) ~ n^2.
    n_seeds : int, optional
        Default 20 (quick 5); 5 for n > 5000.
    """
    out_dir = Path(out_dir)
    sizes = sizes or ((80, 160, 320) if quick else (80, 320, 1280, 5120))
    n_seeds = n_seeds or (5 if quick else 20)
    rows = []
    for n in sizes:
        start = time.perf_counter()
        seeds = n_seeds if n <= 5000 else min(n_seeds, 5)
        model, sample = sbm341_model(n, 0)
        reduced = structure_preserving_reduction(model, 3, embedding="laplacian", random_state=0)
        successes = int(misclassification_rate(sample.labels, reduced.labels) == 0.0)
        for seed in range(1, seeds):
            other = sbm341_sample(n, seed)
            found = spectral_clustering(other.laplacian, 3, random_state=seed).labels_
            successes += misclassification_rate(other.labels, found) == 0.0
        small = n <= 1280
        band = reduced.band_error(ETA, points_per_decade=5 if small else 0.5, refine=small)
        rows.append({"n": model.n, "seeds": seeds, "success_rate": successes / seeds,
                     "edges": int((model.laplacian.nnz - model.n) // 2),
                     **_reduction_record(reduced, band),
                     "eta_over_lambda_next": ETA / reduced.lambda_next,
                     "seconds": time.perf_counter() - start})
        del model, reduced
    fig, ax = subplots(figsize=(5.5, 4))
    n_values = [r["n"] for r in rows]
    ax.loglog(n_values, [r["band_error"] for r in rows], "o-", label=r"$\sup\|T-\hat T_3\|$")
    ax.loglog(n_values, [r["lowrank_band_error"] for r in rows], "x--", label=r"$\sup\|T-T_3\|$")
    ax.loglog(n_values, [r["eta_over_lambda_next"] for r in rows], ":", label=r"$\eta/\lambda_4(L)$")
    ax.loglog(n_values, [r["refinement_error"] for r in rows], "s-", label=r"$\|V_3-\hat V_3\|_F$")
    ax.set_xlabel("n")
    ax.set_title("(3.41) SBM: reduction error vs network size", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    numbers = {"experiment": "sbm_scaling", "eta": ETA, "proportions": SBM_341, "rows": rows}
    save_figure(fig, out_dir / "sbm_scaling.png")
    write_json(out_dir / "sbm_scaling.json", numbers)
    return numbers


#: Real grids and the numbers of areas they are reduced to (None: eigengap suggestion).
GRID_CASES = (("iceland", (None, 4)), ("nets_nyps68", (None, 5)))


def grid_areas(out_dir, quick=False):
    """Real grids reduced to a few areas; writes ``grid_areas.json`` and ``grid_areas.png``.

    For each case and each embedding ("laplacian", Algorithm 1's, and "inertia", the
    slow-coherency M^{-1} L), the areas found (1-based machine numbers), the eigengap
    suggestion and the band error of the reduced model.
    """
    out_dir = Path(out_dir)
    results = {}
    fig, axes = subplots(1, len(GRID_CASES), figsize=(11, 3.8))
    for ax, (name, ks) in zip(axes, GRID_CASES):
        model = load_case(name).model
        entries = []
        for embedding in ("laplacian", "inertia"):
            spectrum = spectral_clustering(model.laplacian, embedding=embedding, inertia=model.inertia)
            ax.semilogy(np.arange(2, spectrum.eigenvalues_.size + 1), spectrum.eigenvalues_[1:], "o-",
                        label=f"{embedding} (suggested k = {spectrum.suggested_k_})")
            for k in ks:
                reduced = structure_preserving_reduction(model, k, embedding=embedding)
                band = reduced.band_error(ETA, points_per_decade=3 if quick else 10, refine=not quick)
                entries.append({
                    "embedding": embedding, "k": reduced.n_clusters, "requested_k": k,
                    "suggested_k": spectrum.suggested_k_,
                    "areas": [(np.flatnonzero(reduced.labels == c) + 1).tolist()
                              for c in range(reduced.n_clusters)],
                    **_reduction_record(reduced, band),
                })
        results[name] = {"n": model.n, "reductions": entries}
        ax.set_title(f"{name} (n = {model.n})", fontsize=10)
        ax.set_xlabel("index i")
        ax.set_ylabel(r"$\lambda_i$")
        ax.legend(fontsize=8)
    fig.tight_layout()
    numbers = {"experiment": "grid_areas", "eta": ETA, "cases": results}
    save_figure(fig, out_dir / "grid_areas.png")
    write_json(out_dir / "grid_areas.json", numbers)
    return numbers


EXPERIMENTS = {"fig3_5": fig3_5, "sbm_scaling": sbm_scaling, "grid_areas": grid_areas}
