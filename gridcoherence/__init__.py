"""gridcoherence: coherence, aggregation and reduction of large networked dynamical systems.

The package answers which groups of nodes (machines) in a network move together, and
what small model reproduces how they move:

* :mod:`~gridcoherence.nodes` -- node dynamics g_i(s) (vectorised swing+turbine family,
  general LTI nodes);
* :mod:`~gridcoherence.coupling`, :mod:`~gridcoherence.laplacian` -- f(s) and L;
* :mod:`~gridcoherence.network` -- :class:`NetworkModel`, T(s) = (G^{-1} + f L)^{-1};
* :mod:`~gridcoherence.cases`, :mod:`~gridcoherence.powerflow` -- bundled cases and the
  pandapower pipeline (power flow, linearized Laplacian, Kron reduction);
* :mod:`~gridcoherence.aggregate` -- coherent aggregates ghat = (sum g_i^{-1})^{-1};
* :mod:`~gridcoherence.coherence` -- incoherence measures, bounds, time-domain deviation;
* :mod:`~gridcoherence.simulate` -- sparse time responses;
* :mod:`~gridcoherence.balanced`, :mod:`~gridcoherence.aggregate_reduction` -- frequency-
  weighted balanced truncation and reduced-order aggregate machines;
* :mod:`~gridcoherence.metrics` -- step-response error metrics;
* :mod:`~gridcoherence.clustering`, :mod:`~gridcoherence.reduction` -- spectral clustering
  and the structure-preserving k-node network (Algorithm 1);
* :mod:`~gridcoherence.pipeline` -- the whole reduction, :func:`reduce_network`;
* :mod:`~gridcoherence.compare`, :mod:`~gridcoherence.plots` -- comparison tables, figures;
* :mod:`~gridcoherence.serialization` -- reduced models as JSON files;
* :mod:`~gridcoherence.sweeps` -- resumable Monte-Carlo sweeps (serial or Dask);
* :mod:`~gridcoherence.learning` -- gradient-flow learning dynamics (Chapter 2).

The public names below are imported on first use (PEP 562), so ``import gridcoherence``
and the command line's ``--help`` stay fast: pandapower, matplotlib, dask and
python-control load only when a function that needs them is called.
"""

import importlib

__version__ = "0.1.0"

# public name -> submodule that defines it
_PUBLIC = {
    **dict.fromkeys(["NetworkModel"], "network"),
    **dict.fromkeys(["SwingTurbineNodes", "LTINodes", "StackedNodes"], "nodes"),
    **dict.fromkeys(["Coupling"], "coupling"),
    **dict.fromkeys(["coherent_aggregate", "harmonic_mean"], "aggregate"),
    **dict.fromkeys(["incoherence", "coherence_bound", "coherence_deviation", "aggregate_response", "harmonic_expectation", "concentration_gap"], "coherence"),
    **dict.fromkeys(["build_laplacian", "validate_laplacian", "smallest_eigenpairs", "algebraic_connectivity", "DisconnectedNetworkError"], "laplacian"),
    **dict.fromkeys(["balanced_truncation", "BalancedTruncation"], "balanced"),
    **dict.fromkeys(["reduce_aggregate", "AggregateReduction", "germond_podmore_aggregate", "guggilam_aggregate"], "aggregate_reduction"),
    **dict.fromkeys(["step_error_metrics", "StepErrorMetrics"], "metrics"),
    **dict.fromkeys(["load_case", "list_cases", "Case", "CaseMetadata", "CaseError"], "cases"),
    **dict.fromkeys(["spectral_clustering", "SpectralClustering", "suggest_k"], "clustering"),
    **dict.fromkeys(["structure_preserving_reduction", "ReducedNetwork"], "reduction"),
    **dict.fromkeys(["reduce_network", "CoherencyReductor", "NetworkReduction"], "pipeline"),
    **dict.fromkeys(["compare_step_responses", "export_table"], "compare"),
    **dict.fromkeys(["save_reduced", "load_reduced"], "serialization"),
    **dict.fromkeys(["sweep"], "sweeps"),
    **dict.fromkeys(["Step", "ExponentialApproach", "Sinusoid", "Sampled"], "simulate"),
}

__all__ = list(_PUBLIC)


def __getattr__(name):
    try:
        module = _PUBLIC[name]
    except KeyError:
        raise AttributeError(f"module 'gridcoherence' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # later look-ups skip __getattr__
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
