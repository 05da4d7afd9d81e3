"""Model reduction: spectral clustering, the structure-preserving k-node network
(Algorithm 1), frequency-weighted balanced truncation, aggregate machines, the pipeline.

Imports :mod:`~gridcoherence.models` and :mod:`~gridcoherence.coherence`; never
:mod:`~gridcoherence.report`, :mod:`~gridcoherence.studies` or the command line.

* :mod:`~gridcoherence.reduction.accuracy` -- How accurate a reduced network is, in numbers
  a power engineer can read, and a verdict.
* :mod:`~gridcoherence.reduction.balanced` -- Frequency-weighted balanced truncation of
  continuous-time LTI systems.
* :mod:`~gridcoherence.reduction.band` -- How well a structure-preserving reduced network
  approximates the original (Sec. 3.2).
* :mod:`~gridcoherence.reduction.clustering` -- Spectral clustering of a network Laplacian
  into coherent groups (Algorithm 1, step 1).
* :mod:`~gridcoherence.reduction.machines` -- Reduced-order aggregate machines for a
  coherent group (dissertation Sec. 3.3).
* :mod:`~gridcoherence.reduction.partition` -- Partitions of a network's nodes into k
  clusters {I_1..I_k} (Algorithm 1, Sec. 3.2).
* :mod:`~gridcoherence.reduction.pipeline` -- The whole reduction pipeline: clusters,
  aggregates, L_k, reduced aggregate machines, and its accuracy.
* :mod:`~gridcoherence.reduction.structure` -- Structure-preserving reduction of a network
  to k aggregate nodes (Algorithm 1, Sec. 3.2).

Every public name of these modules is importable from this package; each loads on
first use, so importing the package is cheap.
"""

import lazy_loader as _lazy

__getattr__, __dir__, __all__ = _lazy.attach(
    __name__,
    submodules=["accuracy", "balanced", "band", "clustering", "machines", "partition", "pipeline", "structure"],
    submod_attrs={
        "accuracy": [
            "ReductionAccuracy", "AccuracyReference", "reduction_accuracy", "area_step_errors",
            "default_disturbance", "default_band", "accuracy_arguments", "DEFAULT_BAND",
            "MACHINE_BAND", "DEFAULT_HORIZON", "DEFAULT_SAMPLES"
        ],
        "balanced": [
            "BalancedTruncation", "balanced_truncation", "controllability_factor",
            "observability_factor", "weighted_gramian_factors", "project_balanced"
        ],
        "band": [
            "BandError", "band_error", "network_poles", "lowrank_transfer_matrix", "thm38_bound",
            "thm38_right_side"
        ],
        "clustering": [
            "SpectralClustering", "spectral_clustering", "kmeans_labels", "misclassification_rate"
        ],
        "machines": [
            "DEFAULT_WEIGHTS", "MINIMUM_ORDER", "MINIMUM_ORDER_REASON", "AUTO_ORDER_RTOL",
            "band_pass_weight", "as_frequency_weight", "auto_order", "AggregateInterpretation",
            "AggregateReduction", "reduce_aggregate", "interpret_machine", "first_order_terms",
            "closed_loop_system", "turbine_system", "germond_podmore_aggregate", "ArrowMatrix",
            "guggilam_aggregate"
        ],
        "partition": ["Partition", "as_partition", "as_labels", "check_n_clusters"],
        "pipeline": [
            "CoherencyReductor", "NetworkReduction", "reduce_network", "AreaSizeError",
            "SELECTION_COLUMNS", "MAX_TRIED_K"
        ],
        "structure": [
            "refine_embedding", "reduced_laplacian", "block_ideal_residual", "is_block_ideal",
            "ReducedNetwork", "structure_preserving_reduction"
        ],
    },
)
