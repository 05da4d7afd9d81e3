"""Every benchmark of the package in one command, printing one JSON document.

Usage::

    python scripts/bench.py [--quick] [--only NAME ...] [--timeout SECONDS] [--markdown PATH] > bench.json
    python scripts/bench.py --render bench.json --markdown docs/benchmarks.md

Each case runs in its own process (:func:`gridcoherence.studies.benchmarking.measure`: forked
from a server that has imported only :data:`PRELOADED`, one BLAS thread, peak RSS of that
process) and is killed after ``--timeout``
seconds (default 600), which is then recorded as ``{"timeout": true}``; a method whose run
timed out is not tried at larger sizes (``{"skipped": ...}``). Anything the children
print goes to stderr; stdout carries only the JSON.

Cases (names for ``--only``)
----------------------------
``pipeline``, ``balred``, ``pymor`` -- side by side on the same SBM networks of 100, 200,
    500, 1,000 and 2,000 machines (``--quick``: 40 and 80):

    * network: the (3.41) block model (:data:`gridcoherence.studies.experiments.sbm_reduction.SBM_341`:
      block sizes 1:2:1, edge probabilities Q, weights W) scaled to n nodes with Q
      multiplied by min(1, 80 / n), so the expected degrees stay those of the n = 80
      original (about 15-25: connected, sparse) instead of growing like n; seed 0;
      random family nodes (:func:`gridcoherence.cases.random_nodes.random_family_nodes`, one turbine
      each: angle, frequency and turbine power, 3 states per machine); f = 1/s.
    * input and outputs: one input, a step disturbance at node 2 (numbered from 1),
      and all n node frequencies as outputs.
    * ``pipeline``: our reduction with k = 3 clusters and every aggregate reduced to order
      r = 3 ("cl"): :func:`gridcoherence.reduction.pipeline.reduce_network` (recorded as
      ``pipeline_implementation``). Its reduced network has k r node states
      + k angles, of which one (the mean angle) is the zero mode, invisible from the
      frequency outputs: its order is ``k (r + 1) - 1`` = 11.
    * ``balred``: python-control ``balred`` (SLICOT AB09AD, dense, square-root balanced
      truncation) of the full 3n-state model to the same order 11. The zero mode is
      removed exactly first (:func:`angle_difference_system`): angles are replaced by
      the differences delta_i = theta_i - theta_0 (i >= 1), an exact sparse change of
      coordinates since L 1 = 0 makes the dynamics and the frequency outputs independent
      of the mean angle; what is left (3n - 1 states) is asymptotically stable.
    * ``pymor``: pyMOR's ``BTReductor`` (optional: ``pip install pymor``; recorded as
      ``{"available": false}`` when missing) on the same sparse angle-difference model,
      order 11. pyMOR picks its Lyapunov solver by size: dense (slycot) below
      ``mat_eqn_sparse_min_size()`` = 1000 states, low-rank ADI ("lradi") above; the
      JSON records which (``lyapunov_backend``). Sizes beyond the first timeout are skipped.
    * accuracy of every reduced model, against the full model: the band error
      sup_{0 < w <= 1} ||T(jw) e_2 - T_red(jw) e_2||_2 (the response column of the
      disturbed node, all n outputs; 60 frequencies, log- and linearly spaced) and the
      step-response error max_i sup_t |y_i(t) - y_red,i(t)| on t = 0..30 s (20 ms), both
      absolute and relative to the full model's sup.
    * ``comparison.ratios``: per size, balred and pyMOR reduction time / pipeline time and
      their errors / the pipeline's errors.
    * time to equal accuracy (``comparison.equal_accuracy``, part of ``balred`` and ``pymor``;
      one process per method and size; ``--quick``: the smallest size only): the lowest order at which a method's band error
      (the same :func:`accuracy` band error, same frequencies) reaches the pipeline's, and the
      time of that one reduction: ``balred-truncate`` and ``balred-matchdc``
      (``balred(..., method=...)``), ``pymor-bt`` (``BTReductor``) and ``pymor-irka``
      (``pymor.reductors.h2.IRKAReductor``). Balanced truncation gives every order from one
      balancing, so the orders are searched on one: SLICOT AB09AD's balanced realization
      (the one ``balred`` computes; ``matchdc`` is its singular perturbation), or pyMOR's own
      gramian factors balanced by the square-root method. The search starts at the first
      order whose error bound 2 (sum of the dropped Hankel singular values) is below the
      target, bisects the odd and the even orders apart (the band error alternates between
      them) and tries the ``search_window`` orders below the crossing
      (:func:`smallest_reaching_order`). The order found is then timed alone: one ``balred``
      call, or the first ``reduce`` of a fresh ``BTReductor`` on a fresh model (its gramians
      computed anew). IRKA runs from scratch at orders 1, 2, ... up to ``irka_max_order``
      (30; ``--quick``: 5), each run timed, and records ``reached: false`` when none reaches.
      Fields: ``equal_accuracy_order``, ``equal_accuracy_seconds``, ``band_error`` of the
      timed model, ``band_error_below`` (the searched model one order lower),
      ``searched_band_errors`` ([order, band error] of every order evaluated). Sizes at
      which the equal-order run of balred or pyMOR did not finish, or took over half the
      timeout, are skipped for its balanced truncations: they balance once and time one
      more reduction, each at least that run's cost (:func:`balanced_truncation_skips`).
      ``comparison.ratios["balred-truncate"]`` etc.: equal-accuracy seconds / pipeline seconds.
``large`` -- the pipeline alone on sparse SBMs of 10^4, 10^5 and 10^6 nodes
    (``--quick``: 3,000 and 6,000): k = 10 equal blocks, expected degree 30 (27 inside
    the block, 3 across), unit weights, random family nodes, k = 10 clusters, r = 3.
    The reduction is Algorithm 1 as published (Sec. 3.3): clustered on the Laplacian's own
    eigenvectors, ``reduce_network(model, 10, order=3, embedding="laplacian")`` (recorded
    as ``embedding``; the package's default for machines, the inertia embedding M^{-1} L,
    would add the pencil's eigensolve), then the aggregates and their order-3 FWBT.
    Reported: sampling time, reduction time (model to reduced model), peak RSS, and the
    eigensolver floor: the one eigensolve the reduction needs, the 11 smallest pairs of L
    (``smallest_eigenpairs(model.laplacian, 11)``), cold, timed apart after it, with
    reduction / floor; both with one BLAS thread (``blas_threads``). Then, timed apart from both, the band error
    sup_{0 < w <= 1} ||T(jw) - That_k(jw)|| of the reduced model up to
    :data:`LARGE_BAND_ERROR_LIMIT` nodes (:func:`gridcoherence.reduction.band.band_error`,
    method ``auto``: "bounds" on these graphs): ``band_error`` and ``band_error_upper``
    certify it at the sampled frequencies (lower and upper bound, equal for an exact
    method), with ``band_error_kind``, ``band_error_method`` and ``band_error_seconds``;
    the peak RSS includes it. Above the limit ``band_error_note`` says why there is none.
    Targets: 10^6 nodes reduced in under 15 s within 3 GiB, 10^5 in under 1.5 s,
    reduction / floor at most 1.3 from :data:`FLOOR_RATIO_MIN_N` nodes (the ratios at
    smaller sizes are reported too).
``stretch`` -- the ``large`` reduction once more at 10^7 nodes of expected degree 10 (9
    inside the block, 1 across; ``--quick``: 20,000), on its largest connected component
    (``n_connected``; the isolated nodes, about e^-10 of them, are ``dropped_nodes``),
    without floor or band error: sampling time, reduction time, RSS after sampling and
    peak RSS. Target: within 20 GiB. Its timeout is ``--stretch-timeout`` (default
    :data:`STRETCH_TIMEOUT`).
``spectral`` -- spectral clustering of the ``large`` SBM graphs (10^4, 10^5, 10^6 nodes;
    ``--quick``: 3,000) into k = 10 clusters, ours against scikit-learn's
    ``SpectralClustering(affinity="precomputed")`` on the adjacency matrix with
    ``eigen_solver="amg"`` and ``"arpack"``. Ours twice: ``gridcoherence-normalized``
    clusters the ``"normalized"`` embedding, the random-walk problem scikit-learn solves,
    and ``gridcoherence-laplacian`` L's own eigenvectors, the package's default for graphs
    without inertia (Algorithm 1's). Reported: clustering time, peak RSS of the
    process and its RSS after sampling the graph (the method's own memory is the
    difference), the adjusted Rand index against the planted blocks, and for ours the
    eigensolver alone (the floor: the 11 smallest pairs of the same problem, timed apart)
    and product / floor. A method is not tried at larger sizes after a timeout or an error;
    each case may use at most 16 GiB of address space (running out is recorded as its error).
    Target: at 10^6 nodes, ours (the faster of the two) at least 3x faster than
    scikit-learn's amg with an equal adjusted Rand index.
``end_to_end`` -- ``pandapower:case9241pegase`` from file to reduced model (k = 10,
    r = 3) and comparison table (:func:`gridcoherence.report.compare.compare_step_responses`,
    step at the machine of largest inertia) (``--quick``: ``nets_nyps68``, k = 5).
    Target: under 30 s.
``sweep_dask`` -- a Monte-Carlo sweep (:func:`gridcoherence.studies.sweeps.sweep`) of the
    bundled study ``thm3_10`` (Thm 3.10's trial: a new (3.41) SBM graph and new machines per
    seed, here at n = 40, about 50 ms a run) over 1,000 seeds (``--quick``: 16), once serially
    and once with ``scheduler="local", n_workers=2``, each into a fresh file. Reported: both
    wall times, speed-up, the mean run time serially and on the workers (higher on the
    workers when they are short of CPU), overhead per run (Dask s - serial s / 2) / runs,
    and, timed on a second identical cluster afterwards, its start-up, the workers' first
    trial (their imports) and its shut-down, with the overhead per run left after those;
    whether the two
    tables are identical (same rows after sorting, numbers equal to 1e-12 relative; the
    ``seconds`` column excluded) and the workers' BLAS threads (1: OMP/OPENBLAS/MKL threads
    are set to 1, which Dask's nanny also sets in the workers it spawns).
``suite_core``, ``suite_cases``, ``suite_reduction``, ``suite_aggregate_reduction``,
``suite_learning`` -- the other ``scripts/bench_*.py`` run as subprocesses (with
    ``--quick`` when this run is quick) and their JSON embedded under ``"suites"``.

``--markdown PATH`` writes the tables of docs/benchmarks.md from the report;
``--render JSON --markdown PATH`` writes them from a saved report without running anything.
Targets are facts of a run, recorded with ``met``; nothing asserts them. ``environment``
records the machine's load average (the machine may be shared).

``comparison.fitted_exponents``: per method, the slope of log(reduction time) against
log(size) over the sizes it finished. ``environment``: versions and thread settings.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from gridcoherence.studies.benchmarking import environment, measure, preload

SCRIPTS = Path(__file__).resolve().parent

#: The disturbed node, numbered from 1 as in every report (index INPUT_NODE - 1 in the arrays).
INPUT_NODE = 2
_INPUT_INDEX = INPUT_NODE - 1
CLUSTERS = 3
AGGREGATE_ORDER = 3
#: Order of the pipeline's reduced model without its zero mode, given to balred/pyMOR.
EQUAL_ORDER = CLUSTERS * (AGGREGATE_ORDER + 1) - 1
BAND_EDGE = 1.0
BAND_FREQUENCIES = np.unique(np.r_[np.logspace(-3, 0, 30), np.linspace(0.0, 1.0, 31)[1:]]) * BAND_EDGE
STEP_TIMES = np.linspace(0.0, 30.0, 1501)
BASE_NODES = 80  # the (3.41) model's size: expected degrees are kept at this size's

LARGE_CLUSTERS = 10
#: The ``large`` case clusters as Algorithm 1 (Sec. 3.3): on L's own eigenvectors.
LARGE_EMBEDDING = "laplacian"
LARGE_DEGREE_INSIDE, LARGE_DEGREE_ACROSS = 27.0, 3.0
#: Largest network whose band error the ``large`` case computes.
LARGE_BAND_ERROR_LIMIT = 100_000
#: Why the larger ``large`` cases have no band error (measured on this benchmark's SBM).
LARGE_BAND_ERROR_NOTE = (
    "not computed above 10^5 nodes: at n = 10^6 the slow-subspace bounds alone (before their Krylov "
    "lower bound) took 440 s at a load average of 6 on 2 cores, lifted the case's peak RSS from the "
    "reduction's 1.8 GiB to 3.9 GiB (its target is 3 GiB), and were 1.74x apart")

SIZES = {
    "full": {"side_by_side": [100, 200, 500, 1000, 2000], "equal_accuracy": [100, 200, 500, 1000, 2000],
             "irka_max_order": 30, "sweep_runs": 1000,
             "large": [10_000, 100_000, 1_000_000], "stretch": [10_000_000],
             "spectral": [10_000, 100_000, 1_000_000], "end_to_end": ("pandapower:case9241pegase", 10)},
    "quick": {"side_by_side": [40, 80], "equal_accuracy": [40], "irka_max_order": 5, "sweep_runs": 16,
              "large": [3_000, 6_000], "stretch": [20_000],
              "spectral": [3_000],
              "end_to_end": ("nets_nyps68", 5)},
}
TARGETS = {"large_1e6_seconds": 15.0, "large_1e6_peak_gib": 3.0, "large_1e5_seconds": 1.5,
           "floor_ratio": 1.3, "case9241pegase_seconds": 30.0, "spectral_1e6_speedup_over_amg": 3.0,
           "stretch_1e7_peak_gib": 20.0}
#: Smallest network whose product / floor ratio the floor target judges. Below it the
#: ratio measures fixed costs, not the eigensolver: at 10^4 nodes the floor is 0.04 s and
#: the k-means restarts and the aggregates' FWBT add about 0.12 s whatever n is.
FLOOR_RATIO_MIN_N = 100_000
#: Seconds the ``stretch`` case may take (``--stretch-timeout``): its 10^7-node reduction
#: took 896 s, beyond the other cases' timeout.
STRETCH_TIMEOUT = 1800.0
SIDE_BY_SIDE = ("pipeline", "balred", "pymor")
#: Modules every case imports, loaded once by the process the cases are forked from.
PRELOADED = ("scipy.sparse.linalg", "control", "slycot", "gridcoherence.reduction.pipeline")
#: The spectral-clustering methods compared: ours on two embeddings and scikit-learn's with
#: two eigensolvers.
SPECTRAL_METHODS = ("gridcoherence-laplacian", "gridcoherence-normalized", "sklearn-amg", "sklearn-arpack")
#: Ours among them: ``gridcoherence-<embedding>``.
OUR_SPECTRAL_METHODS = tuple(m for m in SPECTRAL_METHODS if m.startswith("gridcoherence-"))
SUITES = ("core", "cases", "reduction", "aggregate_reduction", "learning")
CASES = SIDE_BY_SIDE + ("large", "stretch", "spectral", "end_to_end", "sweep_dask") + tuple(
    f"suite_{name}" for name in SUITES)


# ---------------------------------------------------------------------- models
def side_by_side_model(n, seed=0):
    """The (3.41) SBM scaled to n machines (Q * min(1, 80/n)), family nodes, f = 1/s."""
    from gridcoherence import NetworkModel
    from gridcoherence.studies.experiments.sbm_reduction import SBM_341
    from gridcoherence.cases.random_nodes import random_family_nodes
    from gridcoherence.cases.sbm import sample_sbm

    proportions = np.array(SBM_341["sizes"])
    sizes = proportions * n // proportions.sum()
    Q = np.array(SBM_341["Q"]) * min(1.0, BASE_NODES / n)
    sample = sample_sbm(sizes, Q, SBM_341["W"], random_state=seed)
    nodes = random_family_nodes(sample.n, random_state=seed)
    return NetworkModel(nodes, sample.laplacian, "1/s", name=f"sbm341-sparse-n{sample.n}")


def large_sbm_sample(n, k=LARGE_CLUSTERS, seed=0, degrees=(LARGE_DEGREE_INSIDE, LARGE_DEGREE_ACROSS)):
    """k equal blocks, expected degree 27 inside + 3 across (``degrees``), unit weights (an SBMSample)."""
    from gridcoherence.cases.sbm import sample_sbm

    inside, across = degrees
    block = n // k
    Q = np.full((k, k), across / (n - block))
    np.fill_diagonal(Q, inside / (block - 1))
    return sample_sbm([block] * k, Q, np.ones((k, k)), random_state=seed)


def large_sbm_model(n, k=LARGE_CLUSTERS, seed=0, degrees=(LARGE_DEGREE_INSIDE, LARGE_DEGREE_ACROSS)):
    """:func:`large_sbm_sample` with random family nodes, f = 1/s."""
    from gridcoherence import NetworkModel
    from gridcoherence.cases.random_nodes import random_family_nodes

    sample = large_sbm_sample(n, k, seed, degrees)
    return NetworkModel(random_family_nodes(sample.n, random_state=seed), sample.laplacian, "1/s")


# ---------------------------------------------------------------------- reductions
def run_pipeline(model, k, order, embedding=None):
    """(final k-node model, structure, implementation) by the package pipeline (``embedding``: its default)."""
    from gridcoherence.reduction.pipeline import reduce_network

    result = reduce_network(model, k, order=order, embedding=embedding)
    return result.model, result.structure, "gridcoherence.reduction.pipeline.reduce_network"


def angle_difference_system(model, input_index=_INPUT_INDEX):
    """The network without its zero mode, as sparse (A, B, C, D) with 3n - 1 states.

    States [node states; delta] with delta_i = theta_i - theta_0 (i = 1..n-1): x_full =
    T x + theta_0 e with e = [0; 1] the mean-angle direction. Exact when A e = 0 and
    C e = 0 (f = 1/s, L 1 = 0, frequency outputs), which is checked.
    """
    import scipy.sparse as sp

    real = model.realization()
    if model.coupling.name != "1/s" or real.n_coupling_states != model.n:
        raise ValueError("angle differences need f = 1/s (one angle per node)")
    n, nx = model.n, real.n_node_states
    e = np.r_[np.zeros(nx), np.ones(n)]
    scale = max(abs(real.A).max(), 1.0)
    if abs(real.A @ e).max() > 1e-10 * scale * n or abs(real.C @ e).max() > 0:
        raise ArithmeticError("the mean angle is not an unobservable zero mode of this realization")
    expand = sp.block_diag([sp.identity(nx), sp.vstack([sp.csr_matrix((1, n - 1)), sp.identity(n - 1)])])
    differences = sp.block_diag([sp.identity(nx), sp.hstack([-np.ones((n - 1, 1)), sp.identity(n - 1)])])
    A = (differences @ real.A @ expand).tocsc()
    B = (differences @ real.B[:, [input_index]]).toarray()
    C = (real.C @ expand).tocsr()
    D = real.D[:, [input_index]].toarray()
    return A, B, C, D


# ---------------------------------------------------------------------- accuracy
def reference_column(model):
    """Full model: T(jw) e_2 on the band grid (nw, n)."""
    return model.transfer_matrix(1j * BAND_FREQUENCIES, columns=[_INPUT_INDEX])[:, :, 0]


def reference_responses(model):
    """Full model: T(jw) e_2 on the band grid (nw, n) and the step response (nt, n)."""
    return reference_column(model), model.response(_INPUT_INDEX, "step", STEP_TIMES).y


def state_space_column(A, B, C, D):
    """A dense reduced model's response column C (jw I - A)^{-1} B + D on the band grid (nw, n).

    One Hessenberg reduction A = Q H Q^T, then every frequency is a banded solve with H (one
    subdiagonal): O(r^2) per frequency instead of O(r^3), which the order searches of
    :func:`case_equal_accuracy` need at orders in the thousands.
    """
    import scipy.linalg as sla

    A, B, C, D = (np.asarray(x, dtype=float) for x in (A, B, C, D))
    r = A.shape[0]
    H, Q = sla.hessenberg(A, calc_q=True)
    rhs, output = (Q.T @ B[:, 0]).astype(complex), C @ Q  # complex: solve_banded divides it in place
    upper = r - 1
    # -H in LAPACK band storage: entry (i, j) at row upper + i - j.
    banded = np.zeros((r + 1, r), dtype=complex)
    for offset in range(-1, r):
        banded[upper - offset, max(offset, 0):r + min(offset, 0)] = -np.diagonal(H, offset)
    columns = []
    for w in BAND_FREQUENCIES:
        shifted = banded.copy()
        shifted[upper] += 1j * w
        columns.append(output @ sla.solve_banded((1, upper), shifted, rhs) + D[:, 0])
    return np.stack(columns)


def state_space_responses(A, B, C, D):
    """A small dense reduced model's column (nw, n) and step response (nt, n)."""
    from gridcoherence.models.simulate import simulate_lti

    step = simulate_lti(A, B, C, D, [1.0], "step", STEP_TIMES).y
    return state_space_column(A, B, C, D), step


def lifted_column(final, structure, model):
    """The pipeline's k-node model lifted to the original nodes: its response column (nw, n)."""
    restricted = structure.partition.restrict(model.input_shape(_INPUT_INDEX))
    return structure.partition.lift(final.transfer_matrix(1j * BAND_FREQUENCIES) @ restricted, axis=-1)


def lifted_responses(final, structure, model):
    """The pipeline's k-node model lifted to the original nodes: column and step response."""
    restricted = structure.partition.restrict(model.input_shape(_INPUT_INDEX))
    step = structure.partition.lift(final.response(restricted, "step", STEP_TIMES).y, axis=-1)
    return lifted_column(final, structure, model), step


def band_error(reference_column, column):
    """sup over the band grid of the 2-norm over nodes of the response columns' difference."""
    error = float(np.linalg.norm(reference_column - column, axis=1).max())
    if not np.isfinite(error):
        raise ArithmeticError(f"the band error is {error}: a response column is not finite")
    return error


def accuracy(reference, reduced):
    """Band error of the input column (2-norm over nodes, sup over w) and step error."""
    (column, step), (column_r, step_r) = reference, reduced
    band = band_error(column, column_r)
    step_error = float(np.abs(step - step_r).max())
    return {"band_error": band, "relative_band_error": band / float(np.linalg.norm(column, axis=1).max()),
            "step_error": step_error, "relative_step_error": step_error / float(np.abs(step).max())}


def _timed(function, *args, **kwargs):
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - start


# ---------------------------------------------------------------------- cases (children)
def case_pipeline(machines):
    # Imported before the clock starts, as balred's control and slycot are: the cases time
    # the reductions, not the first import of the libraries they call.
    import slycot  # noqa: F401

    import gridcoherence.reduction.pipeline  # noqa: F401

    model = side_by_side_model(machines)
    (final, structure, implementation), seconds = _timed(run_pipeline, model, CLUSTERS, AGGREGATE_ORDER)
    order = final.realization().n_states - 1
    errors = accuracy(reference_responses(model), lifted_responses(final, structure, model))
    return {"machines": model.n, "states": model.realization().n_states, "edges": model.n_edges,
            "order": order, "reduce_seconds": seconds, "pipeline_implementation": implementation,
            "cluster_sizes": structure.sizes.tolist(), **errors}


def case_balred(machines):
    import control
    import slycot  # noqa: F401 -- balred imports it on its first call; not timed, as for the pipeline

    model = side_by_side_model(machines)
    (A, B, C, D), prepare = _timed(angle_difference_system, model)
    dense = control.ss(A.toarray(), B, C.toarray(), D)
    reduced, seconds = _timed(control.balred, dense, EQUAL_ORDER)
    errors = accuracy(reference_responses(model), state_space_responses(reduced.A, reduced.B, reduced.C, reduced.D))
    return {"machines": model.n, "states": A.shape[0], "order": reduced.nstates, "prepare_seconds": prepare,
            "reduce_seconds": seconds, "zero_mode": "removed exactly (angle differences)", **errors}


def case_pymor(machines):
    from pymor.models.iosys import LTIModel
    from pymor.reductors.bt import BTReductor

    model = side_by_side_model(machines)
    (A, B, C, D), prepare = _timed(angle_difference_system, model)
    fom = LTIModel.from_matrices(A, B, C.toarray(), D)
    rom, seconds = _timed(lambda: BTReductor(fom).reduce(EQUAL_ORDER))
    errors = accuracy(reference_responses(model), state_space_responses(*pymor_matrices(rom)))
    return {"machines": model.n, "states": A.shape[0], "order": rom.order, "prepare_seconds": prepare,
            "reduce_seconds": seconds, "lyapunov_backend": pymor_lyapunov_backend(A.shape[0]),
            "zero_mode": "removed exactly (angle differences)", **errors}


def pymor_matrices(rom):
    """A pyMOR reduced LTIModel as (A, B, C, D) with E = I (E^{-1} applied when E is given)."""
    A, B, C, D, E = rom.to_matrices()
    if E is not None:
        A, B = np.linalg.solve(E, A), np.linalg.solve(E, B)
    return A, B, C, D


def pymor_lyapunov_backend(states):
    """The Lyapunov solver pyMOR picks for ``states`` states (dense below its sparse minimum size)."""
    from pymor.solvers.matrix_equations.utils import mat_eqn_sparse_min_size

    return "lradi (low-rank ADI)" if states >= mat_eqn_sparse_min_size() else "dense (slycot)"


# ---------------------------------------------------------------------- time to equal accuracy
#: The methods whose order is searched until their band error reaches the pipeline's.
EQUAL_ACCURACY_METHODS = ("balred-truncate", "balred-matchdc", "pymor-bt", "pymor-irka")
#: Orders tried below the crossing the search finds, in case the band error dips there.
SEARCH_WINDOW = 4
#: IRKA's convergence tolerance (pyMOR's default: relative change of the interpolation points).
IRKA_TOLERANCE = 1e-4


def smallest_reaching_order(band_error_at, target, upper):
    """The lowest order in 1..upper found with ``band_error_at(order) <= target``.

    The band error of balanced truncation alternates between odd and even orders where an
    odd order splits a pair of nearly equal Hankel singular values (measured on the (3.41)
    SBMs: at 80 machines order 113 reaches the pipeline's band error, 114 does not, 115
    does ...). So the odd and the even orders are bisected apart, each between order 0
    (taken as not reaching) and its highest order up to ``upper``; the lower crossing is
    kept, and the :data:`SEARCH_WINDOW` orders below it are tried too (moving down while
    one reaches). The band error is not monotone in the order, so an order further below
    could still reach; every order evaluated is returned.

    Parameters
    ----------
    band_error_at : callable
        ``band_error_at(order) -> float``.
    target : float
        The band error to reach.
    upper : int
        Highest order to try (e.g. the first order whose error bound is below ``target``).

    Returns
    -------
    order : int or None
        None when neither ``upper`` nor ``upper - 1`` reaches ``target``.
    errors : dict
        The band error of every order evaluated.

    Examples
    --------
    >>> errors_by_order = {1: 9.0, 2: 5.0, 3: 7.0, 4: 0.5, 5: 0.8, 6: 0.1, 7: 0.1, 8: 0.1}
    >>> smallest_reaching_order(errors_by_order.get, 1.0, 8)[0]
    4
    >>> smallest_reaching_order(errors_by_order.get, 0.01, 8)[0] is None
    True

    Odd orders reach from 3 on, even ones only from 8 on:

    >>> alternating = {1: 9.0, 2: 9.0, 3: 0.5, 4: 2.0, 5: 0.5, 6: 2.0, 7: 0.5, 8: 0.5}
    >>> order, errors = smallest_reaching_order(alternating.get, 1.0, 8)
    >>> order, sorted(errors)
    (3, [1, 2, 3, 4, 6, 7, 8])
    """
    errors = {}

    def reaches(order):
        if order not in errors:
            errors[order] = float(band_error_at(order))
        return errors[order] <= target

    crossings = []
    for first in (1, 2):
        orders = range(first, upper + 1, 2)
        if not orders or not reaches(orders[-1]):
            continue
        low, high = -1, len(orders) - 1  # indices into orders; -1 stands for order 0
        while high - low > 1:
            middle = (low + high) // 2
            low, high = (low, middle) if reaches(orders[middle]) else (middle, high)
        crossings.append(orders[high])
    if not crossings:
        return None, errors
    found = min(crossings)
    order = found - 1
    while order >= max(1, found - SEARCH_WINDOW):
        if reaches(order):
            found = order
        order -= 1
    return found, errors


def equal_accuracy_problem(machines):
    """Model, angle-difference system, full response column and the pipeline's band error (the target)."""
    model = side_by_side_model(machines)
    A, B, C, D = angle_difference_system(model)
    reference = reference_column(model)
    final, structure, _ = run_pipeline(model, CLUSTERS, AGGREGATE_ORDER)
    return model, (A, B, C, D), reference, band_error(reference, lifted_column(final, structure, model))


def equal_accuracy_row(machines, method, states, target, reference, order, seconds, column, errors):
    """The record of one time-to-equal-accuracy search (order None: not reached)."""
    scale = float(np.linalg.norm(reference, axis=1).max())
    reached = order is not None and band_error(reference, column) <= target
    row = {"machines": machines, "method": method, "states": states, "pipeline_band_error": target,
           "reached": reached, "equal_accuracy_order": order, "equal_accuracy_seconds": seconds,
           "band_error": None, "relative_band_error": None,
           "band_error_below": errors.get(order - 1) if order else None,
           "searched_band_errors": [[r, errors[r]] for r in sorted(errors)]}
    if column is not None:
        row["band_error"] = band_error(reference, column)
        row["relative_band_error"] = row["band_error"] / scale
    return row


def balanced_realization(A, B, C):
    """The square-root balanced minimal realization of a stable (A, B, C) (SLICOT AB09AD, as balred).

    Returns (Ab, Bb, Cb, hsv): truncating it to its leading r states is ``balred(sys, r)``.
    """
    import warnings

    from slycot import ab09ad

    n = A.shape[0]
    with warnings.catch_warnings():  # "the selected order is greater than the minimal order": asked for
        warnings.simplefilter("ignore")
        order, Ab, Bb, Cb, hsv = ab09ad("C", "B", "N", n, B.shape[1], C.shape[0], A.copy(), B.copy(), C.copy(),
                                        nr=n, tol=0.0)
    return Ab[:order, :order], Bb[:order], Cb[:, :order], hsv[:order]


def balanced_reduction(balanced, D, order, method):
    """Order-r balred model from a balanced realization: truncation, or "matchdc" (singular perturbation)."""
    Ab, Bb, Cb = balanced
    if method == "truncate":
        return Ab[:order, :order], Bb[:order], Cb[:, :order], D
    kept, dropped = slice(0, order), slice(order, None)
    X = np.linalg.solve(Ab[dropped, dropped], np.hstack([Ab[dropped, kept], Bb[dropped]]))
    return (Ab[kept, kept] - Ab[kept, dropped] @ X[:, :order], Bb[kept] - Ab[kept, dropped] @ X[:, order:],
            Cb[:, kept] - Cb[:, dropped] @ X[:, :order], D - Cb[:, dropped] @ X[:, order:])


def search_balanced(balanced, hsv, D, kind, reference, target):
    """Order search on one balanced realization: every order is a slice (``kind``: truncate or matchdc).

    ``hsv`` are its Hankel singular values; the first order whose error bound 2 (sum of the
    dropped ones) is at most ``target`` is the highest tried. Returns (order or None,
    errors, that bound order).
    """
    tails = 2.0 * np.cumsum(np.asarray(hsv)[::-1])[::-1]  # tails[r] = 2 * sum(hsv[r:])
    bounded = np.flatnonzero(np.r_[tails[1:], 0.0] <= target)
    upper = int(bounded[0]) + 1 if bounded.size else len(hsv)
    order, errors = smallest_reaching_order(
        lambda r: band_error(reference, state_space_column(*balanced_reduction(balanced, D, r, kind))),
        target, upper)
    return order, errors, upper


def case_equal_accuracy(machines, method, irka_max_order):
    """The order and time at which ``method`` (EQUAL_ACCURACY_METHODS) reaches the pipeline's band error.

    IRKA tries the orders 1..``irka_max_order``.
    """
    model, (A, B, C, D), reference, target = equal_accuracy_problem(machines)
    start = time.perf_counter()
    if method.startswith("balred-"):
        found = _search_balred(method.split("-")[1], (A, B, C, D), reference, target)
    elif method == "pymor-bt":
        found = _search_pymor_bt((A, B, C, D), reference, target)
    else:
        found = _search_pymor_irka((A, B, C, D), reference, target, irka_max_order)
    order, seconds, column, errors, facts = found
    return {**equal_accuracy_row(model.n, method, A.shape[0], target, reference, order, seconds, column, errors),
            "search_seconds": time.perf_counter() - start, **facts}


def _search_balred(kind, system, reference, target):
    """One balancing gives every order; the balred call (``method=kind``) at the order found is timed alone."""
    import control

    A, B, C, D = system
    (Ab, Bb, Cb, hsv), balancing_seconds = _timed(balanced_realization, A.toarray(), B, C.toarray())
    order, errors, upper = search_balanced((Ab, Bb, Cb), hsv, D, kind, reference, target)
    facts = {"minimal_order": Ab.shape[0], "bound_order": upper, "balancing_seconds": balancing_seconds}
    if order is None:
        return None, None, None, errors, facts
    dense = control.ss(A.toarray(), B, C.toarray(), D)
    reduced, seconds = _timed(control.balred, dense, order, method=kind)
    return order, seconds, state_space_column(reduced.A, reduced.B, reduced.C, reduced.D), errors, facts


def _pymor_fom(system):
    from pymor.models.iosys import LTIModel

    A, B, C, D = system
    return LTIModel.from_matrices(A, B, C.toarray(), D)


def _search_pymor_bt(system, reference, target):
    """pyMOR's gramian factors balanced once (square root: every order a slice); the order found is
    then timed as ``BTReductor.reduce`` on a fresh model, whose gramians are computed anew."""
    from pymor.reductors.bt import BTReductor

    A, B, C, D = system
    fom = _pymor_fom(system)
    (Zc, Zo), gramian_seconds = _timed(lambda: (fom.gramian("c_lr").to_numpy(), fom.gramian("o_lr").to_numpy()))
    U, hsv, Vh = np.linalg.svd(Zo.T @ Zc, full_matrices=False)
    # As SLICOT's minimal order: Hankel singular values above n eps times the largest.
    kept = min(int(np.sum(hsv > hsv[0] * A.shape[0] * np.finfo(float).eps)), A.shape[0] - 1)
    scale = 1.0 / np.sqrt(hsv[:kept])
    T, W = Zc @ (Vh[:kept].T * scale), Zo @ (U[:, :kept] * scale)
    balanced = (W.T @ (A @ T), W.T @ B, np.asarray(C @ T))
    order, errors, upper = search_balanced(balanced, hsv[:kept], D, "truncate", reference, target)
    facts = {"lyapunov_backend": pymor_lyapunov_backend(A.shape[0]), "gramian_factor_ranks": [Zc.shape[1],
             Zo.shape[1]], "highest_order": kept, "bound_order": upper, "gramian_seconds": gramian_seconds}
    if order is None:
        return None, None, None, errors, facts
    rom, seconds = _timed(BTReductor(_pymor_fom(system)).reduce, order)
    return order, seconds, state_space_column(*pymor_matrices(rom)), errors, facts


def _search_pymor_irka(system, reference, target, highest):
    """IRKA from scratch (its random initial points) at orders 1, 2, ... up to ``highest`` until one reaches."""
    from pymor.reductors.h2 import IRKAReductor

    errors, converged = {}, []
    for order in range(1, highest + 1):
        reductor = IRKAReductor(_pymor_fom(system))
        rom, seconds = _timed(reductor.reduce, order, tol=IRKA_TOLERANCE)
        matrices = pymor_matrices(rom)
        column = state_space_column(*matrices)
        errors[order] = band_error(reference, column)
        if reductor.conv_crit[-1] < IRKA_TOLERANCE:
            converged.append(order)
        if errors[order] <= target:
            return order, seconds, column, errors, {
                "highest_order": highest, "irka_converged_orders": converged,
                "irka_iterations": len(reductor.conv_crit),
                "stable": bool(np.linalg.eigvals(matrices[0]).real.max() < 0)}
    return None, None, None, errors, {"highest_order": highest, "irka_converged_orders": converged}


def _blas_threads():
    """The most threads any BLAS pool of this process may use (1 under :func:`measure`'s limit)."""
    from threadpoolctl import threadpool_info

    return max((pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"), default=1)


def _rss_mb():
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _timed_reduction(model, sample_seconds):
    """(final model, fields) of the ``large`` reduction of ``model``: what ``large`` and ``stretch`` share."""
    sampled_rss = _rss_mb()
    (final, _, implementation), seconds = _timed(run_pipeline, model, LARGE_CLUSTERS, AGGREGATE_ORDER,
                                                 LARGE_EMBEDDING)
    return final, {"n": model.n, "k": LARGE_CLUSTERS, "edges": model.n_edges,
                   "mean_degree": 2 * model.n_edges / model.n, "embedding": LARGE_EMBEDDING,
                   "blas_threads": _blas_threads(), "sample_seconds": sample_seconds, "reduce_seconds": seconds,
                   "order": final.realization().n_states - 1, "pipeline_implementation": implementation,
                   "rss_after_sampling_mb": round(sampled_rss, 1)}


def case_large(n):
    import gridcoherence.reduction.pipeline  # noqa: F401 -- imported before the clock starts
    from gridcoherence.models.laplacian import smallest_eigenpairs

    model, sample_seconds = _timed(large_sbm_model, n)
    final, row = _timed_reduction(model, sample_seconds)
    reduced_rss = _rss_mb()
    laplacian, floor = _timed(smallest_eigenpairs, model.laplacian, LARGE_CLUSTERS + 1)
    return {**row, "rss_after_reduction_mb": round(reduced_rss, 1), "floor_seconds": floor,
            "floor_methods": [laplacian.method], "reduce_over_floor": row["reduce_seconds"] / floor,
            "max_residual_norm": float(laplacian.residual_norms.max()), **large_band_error(final)}


#: Expected degree (inside the block, across) of the ``stretch`` SBM.
STRETCH_DEGREES = (9.0, 1.0)


def stretch_model(n, seed=0):
    """The largest connected component of the degree-10 SBM, random family nodes, f = 1/s.

    At expected degree 10 a node is isolated with probability about e^-10: some hundreds
    of the 10^7 nodes are, and the pipeline needs a connected network.
    """
    from gridcoherence import NetworkModel
    from gridcoherence.cases.random_nodes import random_family_nodes
    from gridcoherence.models.laplacian import laplacian_components

    L = large_sbm_sample(n, LARGE_CLUSTERS, seed, STRETCH_DEGREES).laplacian.tocsr()
    kept = np.sort(laplacian_components(L)[0])
    if kept.size < n:  # no edge leaves a component: the rows of the kept block still sum to 0
        L = L[kept][:, kept]
    return NetworkModel(random_family_nodes(kept.size, random_state=seed), L, "1/s"), n - kept.size


def case_stretch(n):
    import gridcoherence.reduction.pipeline  # noqa: F401 -- imported before the clock starts

    (model, dropped), sample_seconds = _timed(stretch_model, n)
    _, row = _timed_reduction(model, sample_seconds)
    return {**row, "n": n, "n_connected": model.n, "dropped_nodes": dropped}


def large_band_error(reduced):
    """The ``band_error*`` fields of a ``large`` row: certified bounds and seconds, or the note."""
    if reduced.original.n > LARGE_BAND_ERROR_LIMIT:
        return {"band_error": None, "band_error_note": LARGE_BAND_ERROR_NOTE}
    from gridcoherence.reduction.band import band_error

    result, seconds = _timed(band_error, reduced, BAND_EDGE)
    return {"band_error": result.sup_error, "band_error_upper": result.sup_error_upper,
            "band_error_kind": result.kind, "band_error_method": result.method,
            "band_error_worst_frequency": result.worst_frequency,
            "band_error_frequencies": int(result.frequencies.size), "band_error_seconds": seconds}


#: Address space allowed to one spectral-clustering case: the machine (24 GiB) is shared, and a
#: sparse LU of a random graph (scikit-learn's shift-invert ARPACK) can fill in without bound.
#: At 8 GiB scikit-learn's amg ran out at 10^6 nodes.
SPECTRAL_ADDRESS_SPACE_GIB = 16


def case_spectral(n, method):
    """One spectral clustering of the n-node ``large`` SBM graph by ``method`` (SPECTRAL_METHODS)."""
    import resource

    import scipy.sparse as sp
    from sklearn.metrics import adjusted_rand_score

    limit = SPECTRAL_ADDRESS_SPACE_GIB * 2**30
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    sample, sample_seconds = _timed(large_sbm_sample, n)
    L = sample.laplacian
    sampled_rss = _rss_mb()
    row = {"n": sample.n, "method": method, "k": LARGE_CLUSTERS, "edges": int((L.nnz - sample.n) // 2),
           "sample_seconds": sample_seconds}
    if method in OUR_SPECTRAL_METHODS:
        from gridcoherence.models.laplacian import smallest_eigenpairs
        from gridcoherence.reduction.clustering import spectral_clustering

        embedding = method.split("-")[1]
        result, seconds = _timed(spectral_clustering, L, LARGE_CLUSTERS, embedding=embedding)
        labels = result.labels_
        weight = L.diagonal() if embedding == "normalized" else None
        floor, floor_seconds = _timed(smallest_eigenpairs, L, LARGE_CLUSTERS + 1, weight=weight)
        row.update(eigen_method=result.eigen_method_, floor_seconds=floor_seconds,
                   product_over_floor=seconds / floor_seconds, max_residual_norm=float(floor.residual_norms.max()))
    else:
        from sklearn.cluster import SpectralClustering

        adjacency = (sp.diags(L.diagonal()) - L).tocsr()
        adjacency.eliminate_zeros()
        model = SpectralClustering(LARGE_CLUSTERS, affinity="precomputed", eigen_solver=method.split("-")[1],
                                   random_state=0, n_init=10)
        labels, seconds = _timed(lambda: model.fit(adjacency).labels_)
    row.update(cluster_seconds=seconds, rss_after_sampling_mb=round(sampled_rss, 1),
               adjusted_rand_index=float(adjusted_rand_score(sample.labels, labels)))
    return row


def case_end_to_end(name, k):
    from gridcoherence.cases.loader import load_case
    from gridcoherence.report.compare import compare_step_responses
    from gridcoherence.reduction.structure import ReducedNetwork

    start = time.perf_counter()
    case = load_case(name)
    loaded = time.perf_counter()
    model = case.model
    final, structure, implementation = run_pipeline(model, k, AGGREGATE_ORDER)
    reduced = time.perf_counter()
    disturbed = int(np.argmax(model.inertia))

    def lifted_step(u, t):
        return structure.partition.lift(final.response(structure.partition.restrict(u), "step", t).y, axis=-1)

    # A ReducedNetwork is compared exactly; the fallback's plain k-node model by samples.
    compared = final if isinstance(final, ReducedNetwork) else lifted_step
    table = compare_step_responses(model, {"pipeline": compared}, u0=disturbed, groups=structure.labels)
    done = time.perf_counter()
    rows = table[table["model"] == "pipeline"]
    return {"case": name, "machines": model.n, "edges": model.n_edges, "k": k,
            "order": final.realization().n_states - 1, "pipeline_implementation": implementation,
            "load_seconds": loaded - start, "reduce_seconds": reduced - loaded, "table_seconds": done - reduced,
            "total_seconds": done - start, "table_rows": int(len(table)),
            "max_linf_error": float(rows["linf_error"].max())}


# ---------------------------------------------------------------------- Dask sweep
#: The bundled Monte-Carlo study of the sweep benchmark: Thm 3.10's trial (a new graph and new
#: machines per seed) on the (3.41) SBM scaled to 40 nodes, about 50 ms a run.
SWEEP_STUDY, SWEEP_PARAMS = "thm3_10", {"n": [40]}
SWEEP_WORKERS = 2
#: Relative difference below which two sweep tables' numbers count as equal.
SWEEP_RTOL = 1e-12
_SINGLE_THREADS = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def table_difference(first, second):
    """Compare two sweep tables except their ``seconds``: (identical, largest relative difference).

    Rows are sorted by every column but ``seconds`` first; numbers count as equal within a
    relative :data:`SWEEP_RTOL`, anything else must match exactly (NaN never matches).
    """
    columns = [c for c in first.columns if c != "seconds"]
    if sorted(columns) != sorted(c for c in second.columns if c != "seconds") or len(first) != len(second):
        return False, None
    first, second = (t[columns].sort_values(columns, kind="stable").reset_index(drop=True) for t in (first, second))
    numeric = [c for c in columns if first[c].dtype.kind in "fiu" and second[c].dtype.kind in "fiu"]
    others = [c for c in columns if c not in numeric]
    a, b = first[numeric].to_numpy(dtype=float), second[numeric].to_numpy(dtype=float)
    scale = np.maximum(np.abs(a), np.abs(b))
    with np.errstate(invalid="ignore", divide="ignore"):
        relative = np.where(a == b, 0.0, np.abs(a - b) / scale)
    largest = float(relative.max()) if relative.size else 0.0
    same = bool(first[others].equals(second[others]) and np.all(relative <= SWEEP_RTOL))
    return same, largest


def local_cluster_timing(n_workers):
    """Seconds to start a LocalCluster like the sweep's, to run one trial on each worker (their imports)
    and to shut it down, and each worker's BLAS threads and thread settings."""
    from dask.distributed import Client, LocalCluster

    def worker_threads():
        from threadpoolctl import threadpool_info

        return {"blas_threads": sorted({pool["num_threads"] for pool in threadpool_info()}),
                **{k: os.environ.get(k) for k in _SINGLE_THREADS}}

    def first_trial():
        from gridcoherence.studies.bundled import STUDIES

        STUDIES[SWEEP_STUDY](0, **{k: v[0] for k, v in SWEEP_PARAMS.items()})

    start = time.perf_counter()
    cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None)
    client = Client(cluster)
    client.wait_for_workers(n_workers)
    started = time.perf_counter()
    client.run(first_trial)
    warmed = time.perf_counter()
    workers = list(client.run(worker_threads).values())
    stop = time.perf_counter()
    client.close()
    cluster.close()
    return {"cluster_startup_seconds": started - start, "worker_first_trial_seconds": warmed - started,
            "cluster_shutdown_seconds": time.perf_counter() - stop, "worker_threads": workers}


def case_sweep_dask(runs):
    """The same sweep of SWEEP_STUDY over seeds 0..runs-1, serially and on a 2-worker LocalCluster.

    The two tables are written to fresh files; the cluster's start-up, the workers' first
    trial (imports) and its shut-down are timed on a second, identical cluster afterwards.
    """
    from gridcoherence.studies.bundled import STUDIES
    from gridcoherence.studies.sweeps import sweep

    os.environ.update(_SINGLE_THREADS)  # inherited by the workers (Dask's nanny sets the same)
    STUDIES[SWEEP_STUDY](0, **{k: v[0] for k, v in SWEEP_PARAMS.items()})  # imports before either clock
    seeds = range(runs)
    with tempfile.TemporaryDirectory() as folder:
        serial, serial_seconds = _timed(sweep, SWEEP_STUDY, seeds, SWEEP_PARAMS, out=Path(folder) / "serial.csv",
                                        progress=False)
        dask, dask_seconds = _timed(sweep, SWEEP_STUDY, seeds, SWEEP_PARAMS, out=Path(folder) / "dask.csv",
                                    scheduler="local", n_workers=SWEEP_WORKERS, progress=False)
    cluster = local_cluster_timing(SWEEP_WORKERS)
    fixed = cluster["cluster_startup_seconds"] + cluster["worker_first_trial_seconds"] \
        + cluster["cluster_shutdown_seconds"]
    identical, largest = table_difference(serial.table, dask.table)
    ideal = serial_seconds / SWEEP_WORKERS
    return {"runs": runs, "study": SWEEP_STUDY, "params": SWEEP_PARAMS, "workers": SWEEP_WORKERS,
            "serial_seconds": serial_seconds, "dask_seconds": dask_seconds, "speedup": serial_seconds / dask_seconds,
            "mean_run_seconds": float(serial.table["seconds"].mean()),
            # The same runs timed on the workers: above the serial mean, the workers were short of CPU.
            "mean_run_seconds_dask": float(dask.table["seconds"].mean()),
            "overhead_per_run_seconds": (dask_seconds - ideal) / runs, **cluster,
            "overhead_per_run_after_fixed_seconds": (dask_seconds - fixed - ideal) / runs,
            "rows": [int(len(serial.table)), int(len(dask.table))], "tables_identical": identical,
            "max_relative_difference": largest}


# ---------------------------------------------------------------------- driver
def run_case(fn, *args, timeout):
    outcome = measure(fn, *args, timeout=timeout)
    row = {"timeout": outcome["timeout"], "case_seconds": round(outcome["seconds"], 3),
           "peak_rss_mb": None if outcome["peak_rss_mb"] is None else round(outcome["peak_rss_mb"], 1)}
    if outcome["error"]:
        row["error"] = outcome["error"]
    elif not isinstance(outcome["result"], dict):
        row["error"] = f"the case returned {outcome['result']!r} instead of a record"
    return {**(outcome["result"] or {}), **row}


def run_series(fn, sizes, size_key, timeout, *args, skip=None):
    """One row per size (``fn(size, *args)``); sizes after a timeout (or a crash) are skipped.

    ``skip`` maps sizes not to run to the reason recorded instead.
    """
    rows, stop = [], None
    for size in sizes:
        if stop or size in (skip or {}):
            rows.append({size_key: size, "skipped": stop or skip[size]})
            continue
        row = run_case(fn, size, *args, timeout=timeout)
        row.setdefault(size_key, size)
        print(f"{fn.__name__}: {json.dumps(row, default=float)}", file=sys.stderr, flush=True)
        if row["timeout"]:
            stop = f"a smaller size timed out after {timeout} s"
        elif "error" in row:
            stop = f"a smaller size failed: {row['error']}"
        rows.append(row)
    return rows


def finished(rows):
    return [r for r in rows if "reduce_seconds" in r and not r.get("timeout") and "error" not in r]


def balanced_truncation_skips(rows, family, timeout):
    """Sizes whose equal-accuracy balanced truncation would not finish, by the equal-order run's rows.

    The search balances once and then times one more reduction, each costing at least the
    equal-order run (which is a balancing and a truncation): a size whose equal-order run
    did not finish, or took over half the timeout, is skipped with the reason.

    Examples
    --------
    >>> rows = [{"machines": 100, "reduce_seconds": 2.0, "timeout": False},
    ...         {"machines": 1000, "reduce_seconds": 290.0, "timeout": False},
    ...         {"machines": 2000, "timeout": True}]
    >>> balanced_truncation_skips(rows, "balred", 400.0)  # doctest: +NORMALIZE_WHITESPACE
    {1000: 'balred took 290 s at order 11: a balancing and one more reduction would take over the 400 s timeout',
     2000: 'balred at order 11 did not finish at this size'}
    """
    done = {r["machines"]: r["reduce_seconds"] for r in finished(rows)}
    skips = {}
    for r in rows:
        seconds = done.get(r["machines"])
        if seconds is None:
            skips[r["machines"]] = f"{family} at order {EQUAL_ORDER} did not finish at this size"
        elif 2 * seconds > timeout:
            skips[r["machines"]] = (f"{family} took {seconds:.0f} s at order {EQUAL_ORDER}: a balancing and one "
                                    f"more reduction would take over the {timeout:g} s timeout")
    return skips


def fitted_exponent(rows, size_key, time_key="reduce_seconds"):
    """Slope of log(time) against log(size) over the finished rows (None below 2)."""
    good = finished(rows)
    if len(good) < 2:
        return None
    return float(np.polyfit(np.log([r[size_key] for r in good]), np.log([r[time_key] for r in good]), 1)[0])


def ratios(series, equal_accuracy):
    """Per size: other method / pipeline for time and both errors, and time to equal accuracy / pipeline's."""
    pipeline = {r["machines"]: r for r in finished(series.get("pipeline", []))}
    out = {method: [{"machines": r["machines"], "equal_accuracy_order": r["equal_accuracy_order"],
                     "time_to_equal_accuracy_ratio": r["equal_accuracy_seconds"]
                     / pipeline[r["machines"]]["reduce_seconds"]}
                    for r in rows if r.get("reached") and r["machines"] in pipeline]
           for method, rows in equal_accuracy.items() if isinstance(rows, list)}
    for method in ("balred", "pymor"):
        rows = series.get(method, [])
        if not isinstance(rows, list):
            continue
        out[method] = [
            {"machines": r["machines"],
             "time_ratio": r["reduce_seconds"] / pipeline[r["machines"]]["reduce_seconds"],
             "band_error_ratio": r["band_error"] / pipeline[r["machines"]]["band_error"],
             "step_error_ratio": r["step_error"] / pipeline[r["machines"]]["step_error"]}
            for r in finished(rows) if r["machines"] in pipeline]
    return out


def targets(large, spectral, end_to_end, quick, stretch=()):
    report = {}
    done = {r["n"]: r for r in finished(large)}
    report["large_1e6"] = {"target_seconds": TARGETS["large_1e6_seconds"],
                           "target_peak_gib": TARGETS["large_1e6_peak_gib"], "met": None}
    if 1_000_000 in done:
        r = done[1_000_000]
        report["large_1e6"].update(seconds=r["reduce_seconds"], peak_gib=r["peak_rss_mb"] / 1024,
                                   met=bool(r["reduce_seconds"] < TARGETS["large_1e6_seconds"]
                                            and r["peak_rss_mb"] / 1024 < TARGETS["large_1e6_peak_gib"]))
    report["large_1e5"] = {"target_seconds": TARGETS["large_1e5_seconds"], "met": None}
    if 100_000 in done:
        seconds = done[100_000]["reduce_seconds"]
        report["large_1e5"].update(seconds=seconds, met=bool(seconds < TARGETS["large_1e5_seconds"]))
    ratios_seen = [(f"reduction n={r['n']}", r["n"], r["reduce_over_floor"]) for r in done.values()]
    ratios_seen += [(f"clustering ({method.split('-')[1]}) n={r['n']}", r["n"], r["product_over_floor"])
                    for method in OUR_SPECTRAL_METHODS for r in spectral.get(method, []) if "product_over_floor" in r]
    judged = [x for _, n, x in ratios_seen if n >= FLOOR_RATIO_MIN_N]
    report["floor_ratio"] = {"target": TARGETS["floor_ratio"], "target_from_n": FLOOR_RATIO_MIN_N,
                             **{name: x for name, _, x in ratios_seen},
                             "met": bool(all(x <= TARGETS["floor_ratio"] for x in judged)) if judged else None}
    report["spectral_1e6"] = spectral_target(spectral)
    report["stretch_1e7"] = {"target_peak_gib": TARGETS["stretch_1e7_peak_gib"], "met": None}
    for r in finished(stretch):
        if r["n"] == 10_000_000:
            report["stretch_1e7"].update(seconds=r["reduce_seconds"], peak_gib=r["peak_rss_mb"] / 1024,
                                         met=bool(r["peak_rss_mb"] / 1024 < TARGETS["stretch_1e7_peak_gib"]))
    report["case9241pegase"] = {"target_seconds": TARGETS["case9241pegase_seconds"], "met": None}
    if end_to_end and not quick and "total_seconds" in end_to_end:
        report["case9241pegase"].update(seconds=end_to_end["total_seconds"],
                                        met=bool(end_to_end["total_seconds"] < TARGETS["case9241pegase_seconds"]))
    return report


def spectral_target(spectral):
    """Ours (the faster embedding) against scikit-learn's amg at 10^6 nodes: speed-up at an equal ARI.

    When scikit-learn timed out, the speed-up is a lower bound: its clustering ran at least
    the case's seconds less the time our case took to sample the same graph. When it failed
    (out of memory), there is no ratio and ``met`` stays None.
    """
    def done(method):
        return [r for r in spectral.get(method, []) if r.get("n") == 1_000_000 and "cluster_seconds" in r
                and not r.get("timeout") and "error" not in r]

    report = {"target_speedup": TARGETS["spectral_1e6_speedup_over_amg"], "met": None}
    ours = [r for m in OUR_SPECTRAL_METHODS for r in done(m)]
    amg = next((r for r in spectral.get("sklearn-amg", []) if r.get("n") == 1_000_000), None)
    if not ours or amg is None or "skipped" in amg:
        return report
    best = min(ours, key=lambda r: r["cluster_seconds"])
    report.update(ours=best["method"], ours_seconds=best["cluster_seconds"], ours_ari=best["adjusted_rand_index"])
    if done("sklearn-amg"):
        report.update(amg_seconds=amg["cluster_seconds"], amg_ari=amg["adjusted_rand_index"],
                      speedup=amg["cluster_seconds"] / best["cluster_seconds"])
        equal = best["adjusted_rand_index"] >= amg["adjusted_rand_index"] - 1e-9
    elif amg.get("timeout"):
        report.update(amg_status=f"timed out after {amg['case_seconds']:g} s",
                      speedup_at_least=(amg["case_seconds"] - best["sample_seconds"]) / best["cluster_seconds"])
        report["speedup"] = report["speedup_at_least"]
        equal = best["adjusted_rand_index"] >= 1.0 - 1e-9  # nothing to compare with: only a perfect ARI is "equal"
    else:
        report["amg_status"] = amg.get("error", "did not finish")
        return report
    report["met"] = bool(equal and report["speedup"] >= report["target_speedup"])
    return report


def last_json_document(text):
    """The last JSON value printed (some suites print progress lines before it)."""
    decoder, position, last = json.JSONDecoder(), 0, None
    while position < len(text):
        start = min((i for i in (text.find("{", position), text.find("[", position)) if i >= 0), default=-1)
        if start < 0:
            break
        try:
            last, position = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            position = start + 1
    return last


def run_suite(name, quick, timeout):
    """Run scripts/bench_<name>.py in a subprocess; its JSON, time and exit status."""
    with tempfile.TemporaryDirectory() as out:
        command = [sys.executable, str(SCRIPTS / f"bench_{name}.py")] + (["--quick"] if quick else [])
        if name == "reduction":
            command += ["--out", out]
        start = time.perf_counter()
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            return {"timeout": True, "seconds": float(timeout), "returncode": None, "report": None}
        seconds = time.perf_counter() - start
    row = {"timeout": False, "seconds": round(seconds, 3), "returncode": done.returncode,
           "report": last_json_document(done.stdout)}
    if done.returncode != 0:
        row["error"] = (done.stderr.strip().splitlines() or ["(no stderr)"])[-1]
    return row


MARKDOWN_INTRO = """# Benchmarks

Generated by `python scripts/bench.py --markdown docs/benchmarks.md` from the JSON report of
one run, kept beside it as `docs/benchmarks.json` (`--render docs/benchmarks.json --markdown
docs/benchmarks.md` rewrites the page from it).
Each case ran in its own process with one BLAS thread; the machine may be shared with other
work, so the load average is part of the record. The targets are facts of this run, not
promises. Every eigensolve states the accuracy it reached:

```python
import numpy as np
from gridcoherence.cases.sbm import sample_sbm
from gridcoherence.models.laplacian import eigenvalue_error_bounds, smallest_eigenpairs

sample = sample_sbm([100, 100], [[0.2, 0.01], [0.01, 0.2]], np.ones((2, 2)), random_state=0)
spectrum = smallest_eigenpairs(sample.laplacian, 3)
bounds = eigenvalue_error_bounds(spectrum.values, spectrum.residual_norms)
assert np.all(bounds[1:] <= 1e-10 * spectrum.values[1:])
```
"""


def _cell(value, digits=3):
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def _table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(x) for x in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _status(row, key):
    """A row's value, or why there is none (timeout, error, skipped)."""
    if row.get("skipped"):
        return "skipped"
    if row.get("timeout"):
        return "timeout"
    if "error" in row:
        return "error: " + row["error"].split(":")[0]
    return row.get(key)


def _equal_accuracy_status(row):
    """The order found, "not reached (up to N)", or why the size has no result."""
    status = _status(row, "equal_accuracy_order")
    if "reached" in row and not row["reached"]:
        return f"not reached (up to {max(r for r, _ in row['searched_band_errors'])})"
    return status


def markdown(report):
    """The Markdown tables of docs/benchmarks.md from a report of :func:`main`."""
    env, comparison = report["environment"], report["comparison"]
    parts = [MARKDOWN_INTRO,
             f"Run: {'quick' if report['quick'] else 'full'}; Python {env['python']}, {env['cpu_count']} cores; "
             f"load average (1, 5, 15 min) {env.get('load_average')} at the start and "
             f"{report.get('load_average_end')} at the end; timeout {report['timeout_seconds']:g} s per case.\n"]
    spectral = comparison.get("spectral") or {}
    if spectral:
        rows = [[r["n"], method, _status(r, "cluster_seconds"), r.get("peak_rss_mb"), r.get("rss_after_sampling_mb"),
                 r.get("adjusted_rand_index"), r.get("floor_seconds"), r.get("product_over_floor")]
                for method, series in spectral.items() for r in series]
        rows.sort(key=lambda row: (row[0], SPECTRAL_METHODS.index(row[1])))
        parts.append("## Spectral clustering of the SBM graphs (k = 10, degree 30)\n\n"
                     "Clustering time (graph given), peak RSS of the process and its RSS after sampling the "
                     "graph, adjusted Rand index against the planted blocks; for ours the eigensolver alone "
                     "(the floor) and clustering / floor.\n\n"
                     + _table(["n", "method", "seconds", "peak RSS MB", "RSS after sampling MB", "ARI",
                               "eigensolver s", "product / floor"], rows))
    large = comparison.get("large") or []
    if large:
        rows = [[r["n"], r.get("sample_seconds"), _status(r, "reduce_seconds"), r.get("floor_seconds"),
                 r.get("reduce_over_floor"), r.get("peak_rss_mb"), ", ".join(r.get("floor_methods", [])) or None,
                 r.get("max_residual_norm")] for r in large]
        parts.append("## Reduction of the SBM networks (k = 10, order 3 aggregates)\n\n"
                     "Model to reduced model by Algorithm 1 (clustered on L's eigenvectors); the floor is the "
                     "one eigensolve it needs (the 11 smallest pairs of L), cold, timed apart.\n\n"
                     + _table(["n", "sampling s", "reduction s", "eigensolver floor s", "reduction / floor",
                               "peak RSS MB", "eigensolvers", "max residual norm"], rows))
    stretch = comparison.get("stretch") or []
    if stretch:
        rows = [[r["n"], r.get("mean_degree"), r.get("sample_seconds"), _status(r, "reduce_seconds"),
                 r.get("rss_after_sampling_mb"), r.get("peak_rss_mb")] for r in stretch]
        parts.append("## Stretch: the reduction on a sparse SBM of degree 10 (10^7 nodes in a full run)\n\n"
                     "The same reduction on the largest connected component of an SBM of expected degree 10 "
                     "(9 inside the block, 1 across), without floor or band error.\n\n"
                     + _table(["n", "mean degree", "sampling s", "reduction s", "RSS after sampling MB",
                               "peak RSS MB"], rows))
    side = comparison.get("side_by_side") or {}
    rows = [[r["machines"], method, _status(r, "reduce_seconds"), r.get("relative_band_error"),
             r.get("relative_step_error")] for method, series in side.items() if isinstance(series, list)
            for r in series]
    if rows:
        parts.append("## Side by side on (3.41) SBM machines (order 11)\n\n"
                     + _table(["machines", "method", "reduction s", "relative band error", "relative step error"],
                              sorted(rows, key=lambda row: (row[0], row[1]))))
    equal_accuracy = {method: rows for method, rows in (comparison.get("equal_accuracy") or {}).items()
                      if isinstance(rows, list)}
    pipeline = {r["machines"]: r for r in finished(side.get("pipeline", []) if isinstance(side, dict) else [])}
    rows = [[r["machines"], method, r.get("pipeline_band_error"), _equal_accuracy_status(r), r.get("band_error"),
             r.get("band_error_below"), r.get("equal_accuracy_seconds"),
             pipeline[r["machines"]]["reduce_seconds"] if r["machines"] in pipeline else None,
             r["equal_accuracy_seconds"] / pipeline[r["machines"]]["reduce_seconds"]
             if r.get("reached") and r["machines"] in pipeline else None]
            for method, series in equal_accuracy.items() for r in series]
    if rows:
        settings = comparison["settings"]
        parts.append("## Time to equal accuracy on (3.41) SBM machines\n\n"
                     "The lowest order at which each method's band error reaches the pipeline's (order "
                     f"{settings['equal_order']}), and the time of that one reduction. balred and pyMOR's "
                     "balanced truncation: orders searched on one balancing (odd and even orders bisected "
                     f"apart, then the {settings['search_window']} orders below the crossing tried); IRKA: "
                     f"orders 1 to {settings['irka_max_order']} from scratch. \"band error one order "
                     "lower\" is the searched model's.\n\n"
                     + _table(["machines", "method", "pipeline band error", "order", "band error there",
                               "band error one order lower", "reduction s", "pipeline s", "time / pipeline's"],
                              sorted(rows, key=lambda row: (row[0], EQUAL_ACCURACY_METHODS.index(row[1])))))
    sweep = comparison.get("sweep_dask")
    if sweep:
        parts.append(f"## Monte-Carlo sweep: serial against Dask ({sweep.get('workers')} workers)\n\n"
                     f"Study `{sweep.get('study')}` "
                     f"({', '.join(f'{k} = {v[0]}' for k, v in (sweep.get('params') or {}).items())}), "
                     "one run per seed, each sweep into a "
                     "fresh file; the cluster's start-up, the workers' first trial (their imports) and shut-down "
                     "were timed on a second, identical cluster. Overhead per run: (Dask s - serial s / workers) "
                     "/ runs, and the same after those three.\n\n"
                     + _table(["runs", "serial s", "Dask s", "speed-up", "mean run s", "mean run on workers s",
                               "start-up s",
                               "first trial s", "shut-down s", "overhead per run s", "after fixed costs s",
                               "tables identical"],
                              [[sweep.get("runs"), _status(sweep, "serial_seconds"), sweep.get("dask_seconds"),
                                sweep.get("speedup"), sweep.get("mean_run_seconds"), sweep.get("mean_run_seconds_dask"),
                                sweep.get("cluster_startup_seconds"), sweep.get("worker_first_trial_seconds"),
                                sweep.get("cluster_shutdown_seconds"), sweep.get("overhead_per_run_seconds"),
                                sweep.get("overhead_per_run_after_fixed_seconds"), sweep.get("tables_identical")]]))
    rows = []
    for name, target in comparison.get("targets", {}).items():
        value = {k: v for k, v in target.items() if k not in ("met",) and not k.startswith("target")}
        goal = {k: v for k, v in target.items() if k.startswith("target")}
        rows.append([name, ", ".join(f"{k} {_cell(v)}" for k, v in goal.items()),
                     ", ".join(f"{k} {_cell(v)}" for k, v in value.items()) or "not measured", target.get("met")])
    parts.append("## Targets\n\n" + _table(["target", "goal", "measured", "met"], rows))
    return "\n".join(parts)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (CI smoke run, < 60 s)")
    parser.add_argument("--only", nargs="+", choices=CASES, metavar="NAME",
                        help=f"run only these cases: {', '.join(CASES)}")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per case (default 600)")
    parser.add_argument("--stretch-timeout", type=float, default=STRETCH_TIMEOUT,
                        help=f"seconds for the stretch case (default {STRETCH_TIMEOUT:g})")
    parser.add_argument("--suite-timeout", type=float, default=3600.0,
                        help="seconds per embedded bench_*.py suite (default 3600)")
    parser.add_argument("--markdown", type=Path, metavar="PATH",
                        help="also write the report's Markdown tables (docs/benchmarks.md) to PATH")
    parser.add_argument("--render", type=Path, metavar="JSON",
                        help="run nothing: write --markdown from this saved report")
    args = parser.parse_args(argv)
    if args.render is not None:
        if args.markdown is None:
            parser.error("--render needs --markdown PATH")
        args.markdown.write_text(markdown(json.loads(args.render.read_text())))
        return
    selected = set(args.only or CASES)
    sizes = SIZES["quick" if args.quick else "full"]
    # Imported once, by the server every case is forked from; a case's other imports
    # (scikit-learn, pyMOR, pandapower, Dask) stay its own.
    preload(*PRELOADED)
    started = environment()  # the load average before the cases add to it

    # stdout carries the JSON only: everything else (children included) goes to stderr.
    json_out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)

    series = {}
    for method, fn in (("pipeline", case_pipeline), ("balred", case_balred), ("pymor", case_pymor)):
        if method not in selected:
            continue
        if method == "pymor" and importlib.util.find_spec("pymor") is None:
            series[method] = {"available": False}
            continue
        series[method] = run_series(fn, sizes["side_by_side"], "machines", args.timeout)
    equal_accuracy = {}
    for method in EQUAL_ACCURACY_METHODS:
        family = method.split("-")[0]
        if family not in series:
            continue
        if not isinstance(series[family], list):  # {"available": false}
            equal_accuracy[method] = series[family]
            continue
        skip = {} if method == "pymor-irka" else balanced_truncation_skips(series[family], family, args.timeout)
        equal_accuracy[method] = run_series(case_equal_accuracy, sizes["equal_accuracy"], "machines", args.timeout,
                                            method, sizes["irka_max_order"], skip=skip)
    sweep_dask = run_case(case_sweep_dask, sizes["sweep_runs"], timeout=args.timeout) \
        if "sweep_dask" in selected else None
    large = run_series(case_large, sizes["large"], "n", args.timeout) if "large" in selected else []
    stretch = run_series(case_stretch, sizes["stretch"], "n", args.stretch_timeout) if "stretch" in selected else []
    spectral = {method: run_series(case_spectral, sizes["spectral"], "n", args.timeout, method)
                for method in SPECTRAL_METHODS} if "spectral" in selected else {}
    end_to_end = run_case(case_end_to_end, *sizes["end_to_end"], timeout=args.timeout) \
        if "end_to_end" in selected else None

    exponents = {method: fitted_exponent(rows, "machines") for method, rows in series.items()
                 if isinstance(rows, list)}
    if large:
        exponents["pipeline_large"] = fitted_exponent(large, "n")
    report = {
        "benchmark": "gridcoherence",
        "quick": args.quick,
        "timeout_seconds": args.timeout,
        "environment": started,
        "comparison": {
            "settings": {"input_node": INPUT_NODE, "outputs": "all node frequencies", "clusters": CLUSTERS,
                         "aggregate_order": AGGREGATE_ORDER, "equal_order": EQUAL_ORDER,
                         "band_edge": BAND_EDGE, "band_frequencies": int(BAND_FREQUENCIES.size),
                         "step_horizon_s": float(STEP_TIMES[-1]), "step_points": int(STEP_TIMES.size),
                         "sizes": sizes["side_by_side"], "equal_accuracy_sizes": sizes["equal_accuracy"],
                         "search_window": SEARCH_WINDOW,
                         "irka_max_order": sizes["irka_max_order"], "irka_tolerance": IRKA_TOLERANCE,
                         "sweep_study": SWEEP_STUDY, "sweep_params": SWEEP_PARAMS, "sweep_runs": sizes["sweep_runs"],
                         "sweep_workers": SWEEP_WORKERS},
            "side_by_side": series,
            "large": large,
            "stretch": stretch,
            "spectral": spectral,
            "end_to_end": end_to_end,
            "equal_accuracy": equal_accuracy,
            "sweep_dask": sweep_dask,
            "ratios": ratios(series, equal_accuracy),
            "fitted_exponents": exponents,
            "targets": targets(large, spectral, end_to_end, args.quick, stretch),
        },
        "suites": {name: run_suite(name, args.quick, args.suite_timeout)
                   for name in SUITES if f"suite_{name}" in selected},
    }
    report["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    if args.markdown is not None:
        args.markdown.write_text(markdown(report))
    json.dump(report, json_out, indent=2, default=float)
    json_out.write("\n")
    json_out.flush()


if __name__ == "__main__":
    main()
