"""Studies: resumable sweeps, the bundled sweep studies, the dissertation's reproductions
and benchmark helpers.

The top layer below the command line: it may import every other subpackage.

* :mod:`~gridcoherence.studies.benchmarking` -- Measurement helpers for the
  ``scripts/bench*.py`` benchmarks.
* :mod:`~gridcoherence.studies.bundled` -- Bundled sweep studies: one Monte-Carlo trial
  each, as functions of a seed and parameters.
* :mod:`~gridcoherence.studies.reproduce` -- Registry of every figure and table of the
  dissertation that the package reproduces.
* :mod:`~gridcoherence.studies.sweeps` -- Resumable parameter sweeps over seeds, serially or
  on a Dask cluster.
* :mod:`~gridcoherence.studies.validation` -- Validation against an independent simulator,
  TOPS: modes, a load step, equivalent damping.
* :mod:`~gridcoherence.studies.experiments` -- the drivers of each reproduced figure and table.

Every public name of these modules is importable from this package; each loads on
first use, so importing the package is cheap.
"""

import lazy_loader as _lazy

__getattr__, __dir__, __all__ = _lazy.attach(
    __name__,
    submodules=["benchmarking", "bundled", "reproduce", "sweeps", "validation", "experiments"],
    submod_attrs={
        "benchmarking": ["measure", "environment"],
        "bundled": ["dynamics_concentration", "aggregate_inertia", "sbm_band_error", "STUDIES"],
        "reproduce": ["INDEX", "script_main"],
        "sweeps": ["sweep", "plan_sweep", "run_key", "SweepPlan", "SweepResult", "SweepError"],
        "validation": [
            "ValidationResult", "ValidationInputError", "validate", "equivalent_damping",
            "MODE_UNITS", "TIME_UNITS"
        ],
    },
)
