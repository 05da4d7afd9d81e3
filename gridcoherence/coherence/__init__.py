"""Coherence of node groups: coherent aggregates and incoherence measures (dissertation
Sec. 3.1).

Imports only :mod:`~gridcoherence.models` (and :mod:`~gridcoherence.cases` for random
node families).

* :mod:`~gridcoherence.coherence.aggregate` -- Coherent aggregation of a group of nodes into
  one equivalent node.
* :mod:`~gridcoherence.coherence.measures` -- Coherence diagnostics of a network
  (dissertation Sec. 3.1).

Every public name of these modules is importable from this package; each loads on
first use, so importing the package is cheap.
"""

import lazy_loader as _lazy

__getattr__, __dir__, __all__ = _lazy.attach(
    __name__,
    submodules=["aggregate", "measures"],
    submod_attrs={
        "aggregate": [
            "coherent_aggregate", "harmonic_mean", "mean_inverse_transfer",
            "merge_equal_time_constants"
        ],
        "measures": [
            "incoherence", "coherence_bound", "CoherenceBound", "aggregate_response",
            "coherence_deviation", "CoherenceDeviation", "harmonic_expectation", "concentration_gap"
        ],
    },
)
