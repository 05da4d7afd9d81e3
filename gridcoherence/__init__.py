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
"""

from .aggregate import coherent_aggregate, harmonic_mean
from .aggregate_reduction import (
    AggregateReduction,
    germond_podmore_aggregate,
    guggilam_aggregate,
    reduce_aggregate,
)
from .balanced import BalancedTruncation, balanced_truncation
from .cases import Case, CaseError, CaseMetadata, list_cases, load_case
from .clustering import SpectralClustering, spectral_clustering, suggest_k
from .coherence import (
    aggregate_response,
    coherence_bound,
    coherence_deviation,
    concentration_gap,
    harmonic_expectation,
    incoherence,
)
from .compare import compare_step_responses, export_table
from .coupling import Coupling
from .laplacian import (
    DisconnectedNetworkError,
    algebraic_connectivity,
    build_laplacian,
    smallest_eigenpairs,
    validate_laplacian,
)
from .network import NetworkModel
from .metrics import StepErrorMetrics, step_error_metrics
from .nodes import LTINodes, StackedNodes, SwingTurbineNodes
from .pipeline import CoherencyReductor, NetworkReduction, reduce_network
from .reduction import ReducedNetwork, structure_preserving_reduction
from .serialization import load_reduced, save_reduced
from .simulate import ExponentialApproach, Sampled, Sinusoid, Step
from .sweeps import sweep

__version__ = "0.1.0"

__all__ = [
    "NetworkModel",
    "SwingTurbineNodes",
    "LTINodes",
    "StackedNodes",
    "Coupling",
    "coherent_aggregate",
    "harmonic_mean",
    "incoherence",
    "coherence_bound",
    "coherence_deviation",
    "aggregate_response",
    "harmonic_expectation",
    "concentration_gap",
    "build_laplacian",
    "validate_laplacian",
    "smallest_eigenpairs",
    "algebraic_connectivity",
    "DisconnectedNetworkError",
    "balanced_truncation",
    "BalancedTruncation",
    "reduce_aggregate",
    "AggregateReduction",
    "germond_podmore_aggregate",
    "guggilam_aggregate",
    "step_error_metrics",
    "StepErrorMetrics",
    "load_case",
    "list_cases",
    "Case",
    "CaseMetadata",
    "CaseError",
    "spectral_clustering",
    "SpectralClustering",
    "suggest_k",
    "structure_preserving_reduction",
    "ReducedNetwork",
    "reduce_network",
    "CoherencyReductor",
    "NetworkReduction",
    "compare_step_responses",
    "export_table",
    "save_reduced",
    "load_reduced",
    "sweep",
    "Step",
    "ExponentialApproach",
    "Sinusoid",
    "Sampled",
]
