"""gridcoherence: coherence, aggregation and reduction of large networked dynamical systems.

The package answers which groups of nodes (machines) in a network move together, and
what small model reproduces how they move. Its subpackages are layers; each imports only
the ones above it in this list (``docs/architecture.md`` has the full rules):

* :mod:`~gridcoherence.models` -- node dynamics g_i(s), coupling f(s), Laplacians L, the
  network model T(s) = (G^{-1}(s) + f(s) L)^{-1} and its time responses;
* :mod:`~gridcoherence.cases` -- the case-file format, bundled cases, pandapower, MATPOWER
  and PST networks (power flow, linearization, Kron reduction), random networks;
* :mod:`~gridcoherence.coherence` -- coherent aggregates and incoherence measures;
* :mod:`~gridcoherence.reduction` -- spectral clustering, the structure-preserving k-node
  network (Algorithm 1), frequency-weighted balanced truncation, aggregate machines and
  the whole pipeline, :func:`reduce_network`;
* :mod:`~gridcoherence.report` -- comparison tables, error metrics, figures, reduced-model
  files, dynamic equivalents for TOPS, PSS/E and pandapower;
* :mod:`~gridcoherence.studies` -- resumable sweeps (serial or Dask), the dissertation's
  reproductions, benchmark helpers;
* :mod:`~gridcoherence.learning` -- gradient-flow learning dynamics (Chapter 2), separate
  from the rest.

The public names below load on first use (``lazy_loader``), so ``import gridcoherence``
and the command line's ``--help`` stay fast: pandapower, matplotlib, dask and
python-control load only when something that needs them is used.
"""

import lazy_loader as _lazy

__version__ = "0.1.0"

__getattr__, __dir__, __all__ = _lazy.attach(
    __name__,
    submodules=["models", "cases", "coherence", "reduction", "report", "studies", "learning"],
    submod_attrs={
        "models": [
            "NetworkModel", "SwingTurbineNodes", "LTINodes", "StackedNodes", "Coupling",
            "build_laplacian", "validate_laplacian", "smallest_eigenpairs",
            "algebraic_connectivity", "DisconnectedNetworkError", "Step", "ExponentialApproach",
            "Sinusoid", "Sampled", "suggest_k"
        ],
        "cases": [
            "load_case", "list_cases", "Case", "CaseMetadata", "CaseError", "CaseWarning",
            "machine_data_table"
        ],
        "coherence": [
            "coherent_aggregate", "harmonic_mean", "incoherence", "coherence_bound",
            "coherence_deviation", "aggregate_response", "harmonic_expectation", "concentration_gap"
        ],
        "reduction": [
            "balanced_truncation", "BalancedTruncation", "reduce_aggregate", "AggregateReduction",
            "germond_podmore_aggregate", "guggilam_aggregate", "spectral_clustering",
            "SpectralClustering", "structure_preserving_reduction", "ReducedNetwork",
            "reduce_network", "CoherencyReductor", "NetworkReduction"
        ],
        "report": [
            "step_error_metrics", "StepErrorMetrics", "compare_step_responses", "export_table",
            "save_reduced", "load_reduced", "dynamic_equivalent", "to_tops_model", "write_psse", "read_psse",
            "to_pandapower"
        ],
        "studies": [
            "sweep"
        ],
    },
)
