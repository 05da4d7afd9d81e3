"""Benchmark Algorithm 1 (clustering + refinement + reduced model) on large sparse SBMs.

For each n: k equal blocks, mean degree about 50 (45 inside the block, 5 across), unit
weights, random swing+turbine nodes. Times, one BLAS thread:

* ``floor``: scipy's own eigensolver for the same k + 1 smallest eigenpairs
  (``scipy.sparse.linalg.eigsh(L, k + 1, which="SA")``, the same tolerance);
* ``total``: ``structure_preserving_reduction(model, k)`` end to end, and its parts
  ``clustering`` (eigenpairs + k-means) and ``reduced_model`` (refinement, L_k and the
  k coherent aggregates);

with the peak memory the pipeline allocates (tracemalloc, numpy buffers included) and
the process's peak resident size. Prints one JSON document and writes it to
``OUT/bench_reduction.json``.
"""

import argparse
import json
import resource
import time
import tracemalloc
from pathlib import Path

import numpy as np
import scipy.sparse.linalg as spla
from threadpoolctl import threadpool_limits

from gridcoherence import NetworkModel
from gridcoherence._io import to_jsonable, write_json
from gridcoherence.reduction.clustering import misclassification_rate, spectral_clustering
from gridcoherence.reduction.structure import ReducedNetwork, structure_preserving_reduction
from gridcoherence.cases.random_nodes import random_family_nodes
from gridcoherence.cases.sbm import sample_sbm

MEAN_DEGREE_INSIDE, MEAN_DEGREE_ACROSS = 45.0, 5.0


def sbm_case(n, k, seed=0):
    block = n // k
    Q = np.full((k, k), MEAN_DEGREE_ACROSS / (n - block))
    np.fill_diagonal(Q, MEAN_DEGREE_INSIDE / (block - 1))
    return sample_sbm([block] * k, Q, np.ones((k, k)), random_state=seed)


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - start


def bench(n, k):
    sample, sample_seconds = timed(sbm_case, n, k)
    model = NetworkModel(random_family_nodes(sample.n, random_state=0), sample.laplacian)
    L = model.laplacian
    rng = np.random.default_rng(0)
    _, floor = timed(spla.eigsh, L, k=k + 1, which="SA", tol=1e-10, v0=rng.standard_normal(L.shape[0]))
    reduced, total = timed(structure_preserving_reduction, model, k)
    # tracemalloc slows allocation-heavy code, so the peak is taken in a separate run
    tracemalloc.start()
    structure_preserving_reduction(model, k)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    clustering, clustering_seconds = timed(spectral_clustering, L, k)
    spectrum = clustering.eigenvalues_
    _, reduced_seconds = timed(ReducedNetwork, model, clustering.labels_, spectrum[:k],
                               clustering.embedding_, lambda_next=spectrum[k])
    return {
        "n": sample.n, "k": k, "edges": sample.n_edges, "mean_degree": 2 * sample.n_edges / sample.n,
        "sample_seconds": sample_seconds,
        "floor_eigsh_seconds": floor,
        "total_seconds": total,
        "ratio_to_floor": total / floor,
        "clustering_seconds": clustering_seconds,
        "reduced_model_seconds": reduced_seconds,
        "eigen_method": clustering.eigen_method_,
        "peak_traced_MB": peak / 2**20,
        "max_rss_MB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "misclassification": misclassification_rate(sample.labels, reduced.labels),
        "lambda_k": spectrum[k - 1], "lambda_next": reduced.lambda_next,
        "refinement_error": reduced.refinement_error,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="results", help="output folder (created if missing)")
    parser.add_argument("--quick", action="store_true", help="one 20,000-node case (seconds)")
    parser.add_argument("--sizes", type=int, nargs="*", help="node counts (default 100000 1000000)")
    parser.add_argument("-k", type=int, default=10, help="number of blocks / clusters")
    args = parser.parse_args()
    sizes = args.sizes or ([20_000] if args.quick else [100_000, 1_000_000])
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with threadpool_limits(1):
        rows = [bench(n, args.k) for n in sizes]
    report = {"benchmark": "structure_preserving_reduction", "threads": 1, "rows": rows}
    write_json(out / "bench_reduction.json", report)
    print(json.dumps(to_jsonable(report), indent=1))


if __name__ == "__main__":
    main()
