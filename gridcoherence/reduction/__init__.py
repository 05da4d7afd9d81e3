"""Model reduction: spectral clustering, the structure-preserving k-node network
(Algorithm 1), frequency-weighted balanced truncation, aggregate machines, the pipeline.

Imports :mod:`~gridcoherence.models` and :mod:`~gridcoherence.coherence`; never
:mod:`~gridcoherence.report`, :mod:`~gridcoherence.studies` or the command line.

* :mod:`~gridcoherence.reduction.balanced` -- frequency-weighted balanced truncation of continuous-time LTI systems.
* :mod:`~gridcoherence.reduction.clustering` -- spectral clustering of a network Laplacian into coherent groups (Algorithm 1, step 1).
* :mod:`~gridcoherence.reduction.machines` -- reduced-order aggregate machines for a coherent group (dissertation Sec. 3.3).
* :mod:`~gridcoherence.reduction.pipeline` -- the whole reduction pipeline: clusters, aggregates, structure-preserving network,
* :mod:`~gridcoherence.reduction.structure` -- structure-preserving reduction of a network to k aggregate nodes (Algorithm 1, Sec. 3.2).

Every public name of these modules is importable from this package; each loads on
first use, so importing the package is cheap.
"""

import lazy_loader as _lazy

__getattr__, __dir__, __all__ = _lazy.attach(
    __name__,
    submodules=["balanced", "clustering", "machines", "pipeline", "structure"],
    submod_attrs={
        "balanced": [
            "BalancedTruncation", "balanced_truncation", "controllability_factor",
            "observability_factor", "weighted_gramian_factors", "project_balanced"
        ],
        "clustering": [
            "SpectralClustering", "spectral_clustering", "suggest_k", "check_eigengap",
            "kmeans_labels", "as_labels", "canonical_labels", "partition_matrix",
            "labels_from_partition_matrix", "cluster_sizes", "misclassification_rate", "EMBEDDINGS",
            "DEFAULT_MAX_CLUSTERS"
        ],
        "machines": [
            "DEFAULT_WEIGHTS", "AggregateInterpretation", "AggregateReduction", "reduce_aggregate",
            "interpret_machine", "first_order_terms", "closed_loop_system", "turbine_system",
            "germond_podmore_aggregate", "ArrowMatrix", "guggilam_aggregate"
        ],
        "pipeline": ["CoherencyReductor", "NetworkReduction", "reduce_network"],
        "structure": [
            "refine_embedding", "reduced_laplacian", "block_ideal_residual", "is_block_ideal",
            "thm38_bound", "BandError", "ReducedNetwork", "structure_preserving_reduction"
        ],
    },
)
