"""Structure-preserving reduction experiments (Sec. 3.2.3): Fig. 3-5, a Thm 3.10 study, real grids.

* :func:`fig3_5` -- the (3.41) stochastic block model (sizes 20/40/20), a unit step at
  a node of group 2: every node's response (left), then each identified cluster's nodes
  against the reduced model That_3.
* :func:`sbm_scaling` -- the (3.41) proportions at growing n: band error
  sup_{|w| <= 1} ||T - That_3||, lambda_4(L), ||V_3 - Vhat_3||_F and the clustering
  success rate over seeds (Thm 3.10: the error goes to 0 as n grows).
* :func:`grid_areas` -- the Icelandic grid and the 16-machine 68-bus NETS-NYPS system
  reduced to a few areas, with the Laplacian and the inertia-weighted (slow-coherency)
  embeddings.

Settings not stated in the dissertation, chosen here: band edge eta = 1 rad/s; node
coefficients of :func:`sbm_scaling` and :func:`grid_areas`' random networks are the
package's random swing nodes (:data:`gridcoherence.cases.random_nodes.FAMILY_NODE_RANGES`,
no turbine: "second-order generators" with the angle). Fig. 3-5 uses heavier, much better
damped second-order nodes (:data:`FIG3_5_NODES`) over :data:`FIG3_5_HORIZON`: with the
family's nodes the three groups' mean responses differ by about 2 % of the response (the
strong in-group coupling locks them within a fraction of a second) and take a minute to
settle; with these the inter-group swings are slow against the settling, the groups differ
by about 75 % of the steady state early on and every node settles within 5 s, as in the
dissertation's figure.
"""

from __future__ import annotations

import time

import numpy as np

from ..._io import subplots, write_reproduction
from ...cases.loader import load_case
from ...reduction.clustering import misclassification_rate, spectral_clustering
from ...models.network import NetworkModel
from ...reduction.structure import structure_preserving_reduction
from ...cases.random_nodes import random_family_nodes
from ...cases.sbm import sample_sbm

__all__ = ["fig3_5", "sbm_scaling", "grid_areas", "sbm341_model", "sbm341_sample", "SBM_341", "FIG3_5_NODES",
           "FIG3_5_HORIZON", "FIG3_5_STEP_NODE", "EXPERIMENTS"]

#: The (3.41) block model: sizes, edge probabilities Q and weights W.
SBM_341 = {
    "sizes": (20, 40, 20),
    "Q": ((.8, .1, .1), (.1, .8, .1), (.1, .1, .8)),
    "W": ((20, .4, .8), (.4, 20, .7), (.8, .7, 20)),
}

#: Band edge (rad/s) of the reported errors.
ETA = 1.0

#: Fig. 3-5's node parameter ranges (uniform; no turbine): inertia m in s^2/rad, damping d in s/rad.
FIG3_5_NODES = {"m": (0.2, 0.6), "d": (0.4, 0.8)}

#: Fig. 3-5's simulated window (s): long enough for every node to settle.
FIG3_5_HORIZON = 10.0

#: Fig. 3-5's disturbed node, 1-based: the first node of group 2 (nodes 21-60).
FIG3_5_STEP_NODE = 21

_GROUP_COLOURS = ("tab:blue", "tab:orange", "tab:green")


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

    A unit step at node :data:`FIG3_5_STEP_NODE` (group 2) of the (3.41) SBM with nodes of
    :data:`FIG3_5_NODES`. Left panel: every node's response, coloured by its block; then
    one panel per identified cluster (numbered by the block it matches) with its nodes and
    That_3's cluster output.

    Returns
    -------
    dict
        The JSON content: the node parameters and window, the clustering outcome, the
        reduction record (band error etc.), each block's mean response, its steady state
        1/sum(d), and the largest deviation of each cluster's node responses from That_3
        (whole window and after 2 s). Nodes and groups are numbered from 1.
    """
    sample = sbm341_sample(80, seed)
    nodes = random_family_nodes(sample.n, random_state=seed, turbines=False, ranges=FIG3_5_NODES)
    model = NetworkModel(nodes, sample.laplacian, name=f"sbm341-n{sample.n}-seed{seed}")
    reduced = structure_preserving_reduction(model, 3, embedding="laplacian", random_state=seed)
    band = reduced.band_error(ETA, points_per_decade=3 if quick else 10, refine=not quick)
    t = np.linspace(0.0, FIG3_5_HORIZON, 201 if quick else 1001)
    step_index = FIG3_5_STEP_NODE - 1
    original = model.response(step_index, "step", t)
    lifted = reduced.lifted_response(step_index, "step", t)
    steady_state = 1.0 / float(np.sum(nodes.d))  # unit step, swing nodes: sum(u) / sum(d)
    late = t >= 2.0
    deviation = np.abs(original.y - lifted.y)
    blocks = sample.labels
    block_means = np.array([original.y[:, blocks == b].mean(axis=1) for b in range(3)])
    # Each identified cluster is shown under the number of the block most of its nodes are in.
    cluster_block = [int(np.bincount(blocks[reduced.labels == c], minlength=3).argmax()) for c in range(3)]
    fig, axes = subplots(1, 4, figsize=(15, 3.8), sharey=True)
    for b in range(3):
        axes[0].plot(t, original.y[:, blocks == b], color=_GROUP_COLOURS[b], linewidth=0.5)
        axes[0].plot([], [], color=_GROUP_COLOURS[b], label=f"group {b + 1} ({np.sum(blocks == b)} nodes)")
    axes[0].axhline(steady_state, color="k", linestyle=":", linewidth=1.0, label="steady state 1/sum(d)")
    axes[0].set_title(f"all nodes, unit step at node {FIG3_5_STEP_NODE} (group 2)", fontsize=9)
    per_cluster = []
    for c in sorted(range(3), key=cluster_block.__getitem__):
        ax = axes[1 + cluster_block[c]]
        members = np.flatnonzero(reduced.labels == c)
        ax.plot(t, original.y[:, members], color=_GROUP_COLOURS[cluster_block[c]], linewidth=0.5)
        ax.plot(t, lifted.info["reduced_y"][:, c], "--", color="k", linewidth=1.8, label=r"$\hat{T}_3$, its cluster")
        ax.set_title(f"cluster of group {cluster_block[c] + 1}: {members.size} nodes", fontsize=9)
        per_cluster.append({"group": cluster_block[c] + 1, "nodes": members + 1,
                            "max_deviation": deviation[:, members].max(),
                            "max_deviation_after_2s": deviation[late][:, members].max()})
    for ax in axes:
        ax.set_xlabel("time (s)")
    axes[0].set_ylabel("frequency deviation (rad/s per p.u.)")
    axes[0].legend(fontsize=7, loc="lower right")
    axes[1].legend(fontsize=7, loc="lower right")
    low, high = FIG3_5_NODES["m"], FIG3_5_NODES["d"]
    fig.suptitle(f"SBM (3.41): node responses (solid) and reduced model (dashed); nodes m ~ U{low} s^2/rad, "
                 f"d ~ U{high} s/rad, no turbine; window {FIG3_5_HORIZON:g} s", fontsize=10)
    numbers = {
        "experiment": "fig3_5", "seed": seed, "n": model.n, "eta": ETA,
        "step_node": FIG3_5_STEP_NODE, "step_node_group": int(blocks[step_index]) + 1,
        "node_parameter_ranges": FIG3_5_NODES, "horizon_s": FIG3_5_HORIZON,
        "node_parameters": {"m": nodes.m, "d": nodes.d}, "groups": blocks + 1,
        "misclassification": misclassification_rate(sample.labels, reduced.labels),
        **_reduction_record(reduced, band),
        "t": t, "steady_state": steady_state, "group_mean_response": block_means,
        "clusters": sorted(per_cluster, key=lambda entry: entry["group"]),
    }
    return write_reproduction(out_dir, "fig3_5", fig, numbers, reproduces="Fig. 3-5",
                              data_source=f"stochastic block model (3.41), seed {seed}; node parameters our choice "
                                          f"(m ~ U{low}, d ~ U{high})")


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
    ax.set_xlabel("network size n (nodes)")
    ax.set_ylabel("error (rad/s per p.u.); eta/lambda_4 (dimensionless)")
    ax.set_title("(3.41) SBM: reduction error vs network size", fontsize=10)
    ax.legend(fontsize=8, loc="best")
    numbers = {"experiment": "sbm_scaling", "eta": ETA, "proportions": SBM_341, "rows": rows}
    return write_reproduction(out_dir, "sbm_scaling", fig, numbers, reproduces="Thm. 3.10 (Sec. 3.2.3)",
                              data_source="stochastic block models with the (3.41) proportions; random swing "
                                          "nodes of FAMILY_NODE_RANGES (our choice)")


#: Real grids and the numbers of areas they are reduced to (None: eigengap suggestion).
GRID_CASES = (("iceland", (None, 4)), ("nets_nyps68", (None, 5)))


def grid_areas(out_dir, quick=False):
    """Real grids reduced to a few areas; writes ``grid_areas.json`` and ``grid_areas.png``.

    For each case and each embedding ("laplacian", Algorithm 1's, and "inertia", the
    slow-coherency M^{-1} L), the areas found (1-based machine numbers), the eigengap
    suggestion and the band error of the reduced model.
    """
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
        ax.set_xlabel("eigenvalue index i")
        ax.set_ylabel(r"$\lambda_i$ (p.u. power per rad; inertia: 1/s$^2$)")
        ax.legend(fontsize=8, loc="best")
    numbers = {"experiment": "grid_areas", "eta": ETA, "cases": results}
    return write_reproduction(out_dir, "grid_areas", fig, numbers,
                              reproduces="Algorithm 1 (Sec. 3.2.3)",
                              data_source="applied to real grids, not a figure of the dissertation: bundled cases "
                                          "iceland (synthetic machine data, our rule) and nets_nyps68 (PST dynamic data)")


EXPERIMENTS = {"fig3_5": fig3_5, "sbm_scaling": sbm_scaling, "grid_areas": grid_areas}
