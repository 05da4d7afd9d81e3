"""Reports of a reduction: comparison tables, error metrics, figures, reduced-model files.

Reads :mod:`~gridcoherence.models` and :mod:`~gridcoherence.reduction` results; used by
the command line and :mod:`~gridcoherence.studies`.

* :mod:`~gridcoherence.report.bundle` -- A run's output folder: the files of the command
  line's ``reduce`` and ``compare``.
* :mod:`~gridcoherence.report.compare` -- Step-response comparison tables of an original
  network and its reduced models.
* :mod:`~gridcoherence.report.equivalent` -- Reduced models as dynamic equivalents for
  power-system simulators: TOPS, PSS/E, pandapower.
* :mod:`~gridcoherence.report.errors` -- Error norms between a reference's and a model's
  group step responses.
* :mod:`~gridcoherence.report.export` -- Tables as CSV, Markdown or LaTeX files, with the
  units in the column headers.
* :mod:`~gridcoherence.report.features` -- Features of a sampled step response: nadir and
  its time, RoCoF, settling time, steady state.
* :mod:`~gridcoherence.report.html` -- The run report ``report.html``: one self-contained
  page of a reduction or a comparison.
* :mod:`~gridcoherence.report.layout` -- Where to draw a case's buses and machines: bus
  coordinates or a layout of the bus graph.
* :mod:`~gridcoherence.report.metrics` -- Error metrics between a reference model and an
  approximation (Table 3-II's columns).
* :mod:`~gridcoherence.report.modal` -- Step responses in modal form and their features,
  exact and independent of any time grid.
* :mod:`~gridcoherence.report.plots` -- Figures of the reduction workflow: responses,
  aggregates, spectra and cluster maps.
* :mod:`~gridcoherence.report.responses` -- Step responses of a network and its models, seen
  from the original nodes.
* :mod:`~gridcoherence.report.serialization` -- Reduced models as versioned, human-readable
  JSON files.

Every public name of these modules is importable from this package; each loads on
first use, so importing the package is cheap.
"""

import lazy_loader as _lazy

__getattr__, __dir__, __all__ = _lazy.attach(
    __name__,
    submodules=["bundle", "compare", "equivalent", "errors", "export", "features", "html", "layout", "metrics", "modal", "plots", "responses", "serialization"],
    submod_attrs={
        "bundle": [
            "write_reduction_bundle", "write_comparison_bundle", "error_vs_k_table",
            "ERROR_VS_K_UNITS"
        ],
        "compare": ["COLUMNS", "UNITS", "compare_step_responses"],
        "equivalent": [
            "EquivalentError", "EquivalentMachine", "DynamicEquivalent", "dynamic_equivalent",
            "to_tops_model", "write_psse", "read_psse", "to_pandapower"
        ],
        "errors": ["sampled_hinf", "sampled_errors", "exact_errors"],
        "export": ["export_table", "table_to_markdown", "unit_headers"],
        "features": [
            "hermite_extreme", "settling_time", "step_response_features", "curvature_mismatch",
            "sampled_feature_reasons", "horizon_end_reason", "ramp_reason"
        ],
        "html": ["write_run_report", "REPORT", "AREA_MAP", "FIGURE_CAPTIONS"],
        "layout": [
            "GridCoordinates", "grid_coordinates", "area_colors", "area_labels", "marker_sizes",
            "plot_area_map", "KAMADA_KAWAI_LIMIT"
        ],
        "metrics": [
            "StepErrorMetrics", "step_error_metrics", "error_system", "step_error_response"
        ],
        "modal": ["ModalStepResponse", "modal_features"],
        "plots": [
            "plot_cluster_responses", "plot_coi_vs_aggregate", "plot_bode_aggregate",
            "plot_hankel_singular_values", "plot_cluster_map", "plot_error_vs_k"
        ],
        "responses": [
            "GroupResponse", "LiftedNetwork", "SampledModel", "node_groups", "time_grid",
            "check_model", "as_model"
        ],
        "serialization": [
            "save_reduced", "load_reduced", "ReducedModelFileError", "FORMAT", "FORMAT_VERSION"
        ],
    },
)
