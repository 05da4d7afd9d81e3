"""Network cases: the case-file format, bundled cases, power-flow and PST data, random
networks.

Builds :mod:`~gridcoherence.models` objects from files, pandapower networks and random
graphs; imports only :mod:`~gridcoherence.models`.

* :mod:`~gridcoherence.cases.bundled` -- The bundled cases: their folder, :func:`list_cases`
  and the stored :func:`bundled_case_index`.
* :mod:`~gridcoherence.cases.loader` -- Network cases: :func:`load_case` by name, file or
  pandapower network, and the build of its model.
* :mod:`~gridcoherence.cases.machine_overrides` -- Per-machine data given over the typical
  data: a CSV file or a pandas DataFrame, checked.
* :mod:`~gridcoherence.cases.machines` -- Machine data of a case: the ``[machines]`` table
  as node parameters, machine by machine.
* :mod:`~gridcoherence.cases.matpower` -- MATPOWER cases and MATPOWER-style tables, checked
  before pandapower converts them.
* :mod:`~gridcoherence.cases.network_sources` -- Network sources of a case: the
  ``[network]`` table as a pandapower network or a Laplacian.
* :mod:`~gridcoherence.cases.pandapower_json` -- pandapower JSON files read without running
  anything the file names: an allowlist of objects.
* :mod:`~gridcoherence.cases.powerflow` -- From a pandapower network to the machine network:
  power flow, linearization, Kron reduction.
* :mod:`~gridcoherence.cases.pst` -- Power System Toolbox (PST) data files: a safe reader
  and the converter to case files.
* :mod:`~gridcoherence.cases.random_nodes` -- Random swing(+turbine) nodes for synthetic
  networks: :func:`random_family_nodes`.
* :mod:`~gridcoherence.cases.sbm` -- Weighted stochastic block models (dissertation
  (3.35)-(3.36), (3.46)-(3.47)).
* :mod:`~gridcoherence.cases.schema` -- The case-file format (version 1) as one declarative
  table: :data:`FIELDS`.
* :mod:`~gridcoherence.cases.synthetic` -- Synthetic power-grid-like topologies for large
  studies and benchmarks.
* :mod:`~gridcoherence.cases.tops` -- TOPS power-system models as cases:
  ``load_case("tops:k2a")`` and ``load_case(model_dict)``.
* :mod:`~gridcoherence.cases.typical_machines` -- Typical dynamic data of synchronous
  machines by type and size, declared once: :data:`MACHINE_TYPES`.

Every public name of these modules is importable from this package; each loads on
first use, so importing the package is cheap.
"""

import lazy_loader as _lazy

__getattr__, __dir__, __all__ = _lazy.attach(
    __name__,
    submodules=["bundled", "loader", "machine_overrides", "machines", "matpower", "network_sources", "pandapower_json", "powerflow", "pst", "random_nodes", "sbm", "schema", "synthetic", "tops", "typical_machines"],
    submod_attrs={
        "bundled": ["list_cases", "bundled_case_index", "BUNDLED_PACKAGE", "CASE_INDEX"],
        "loader": ["Case", "CaseMetadata", "load_case", "case_summary", "model_units"],
        "machine_overrides": ["OVERRIDE_COLUMNS", "MachineOverride", "read_machine_overrides"],
        "machines": ["UNIFORM_RULE", "PowerMachines", "machine_data_table"],
        "matpower": ["MATPOWER_COLUMNS", "check_grid_tables", "read_matpower"],
        "network_sources": ["charging_to_shunts", "bus_grid", "BusGrid"],
        "pandapower_json": ["ALLOWED_OBJECTS", "refused_object", "read_pandapower_json"],
        "powerflow": [
            "Machine", "MachineNetwork", "PowerFlowError", "IslandError", "solve_power_flow",
            "linearized_laplacian", "kron_reduce", "machine_network", "element_machines",
            "element_ratings", "given_rating", "element_name", "negative_reactance_branches",
            "internal_node_admittance", "checked_machine_laplacian"
        ],
        "pst": [
            "PSTData", "PSTParseError", "read_pst_file", "pst_case_document", "PST_CASES",
            "governor_time_constant"
        ],
        "random_nodes": ["random_family_nodes", "FAMILY_NODE_RANGES"],
        "sbm": ["SBMSample", "sample_sbm", "expected_laplacian", "block_labels"],
        "schema": [
            "CaseError", "CaseWarning", "FORMAT_VERSION", "Field", "Bounds", "Conversion",
            "PerUnitBases", "FIELDS", "NETWORK_SOURCES", "POWER_SOURCES", "markdown_reference"
        ],
        "synthetic": ["SyntheticGrid", "synthetic_grid"],
        "tops": [
            "TOPS_CASES", "GovernorFit", "TopsNetwork", "tops_network", "tops_model", "tops_system",
            "tops_loads", "speed_states", "Modes", "electromechanical_modes", "model_modes",
            "SPEED_SHARE", "ANGLE_SHARE", "ELECTROMECHANICAL_BAND_HZ"
        ],
        "typical_machines": [
            "Quantity", "Typical", "MachineType", "SizeClass", "QUANTITIES", "SOURCES",
            "MACHINE_TYPES", "SIZE_CLASSES", "TYPE_NAMES", "hydro_governor_lag", "machine_type",
            "size_class", "markdown_table"
        ],
    },
)
