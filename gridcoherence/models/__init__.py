"""Network models: node dynamics g_i(s), coupling f(s), Laplacians, the network T(s) and
its time responses.

The lowest layer: it imports only numpy, scipy, python-control and the package's private
helpers, never cases, coherence, reduction, report or studies.

* :mod:`~gridcoherence.models.coupling` -- Coupling dynamics f(s) between a network's nodes.
* :mod:`~gridcoherence.models.eigengap` -- The eigengap rules: the suggested number of
  clusters k and the check that V_k is determined.
* :mod:`~gridcoherence.models.embedding` -- Spectral embeddings of a network Laplacian,
  their smallest eigenpairs and the default choice.
* :mod:`~gridcoherence.models.kron` -- A Kron-reduced Laplacian kept in its sparse,
  unreduced form.
* :mod:`~gridcoherence.models.laplacian` -- Graph Laplacians: construction, validation and
  the smallest eigenpairs.
* :mod:`~gridcoherence.models.lti` -- Continuous-time LTI helpers: model validation, DC
  gain, stable/unstable split.
* :mod:`~gridcoherence.models.network` -- The network model: nodes g_i(s) coupled through
  f(s) and a Laplacian L.
* :mod:`~gridcoherence.models.nodes` -- Node dynamics: the SISO transfer functions g_i(s)
  sitting at the nodes of a network.
* :mod:`~gridcoherence.models.simulate` -- Time responses of sparse LTI systems to inputs of
  a fixed spatial shape.

Every public name of these modules is importable from this package; each loads on
first use, so importing the package is cheap.
"""

import lazy_loader as _lazy

__getattr__, __dir__, __all__ = _lazy.attach(
    __name__,
    submodules=["coupling", "eigengap", "embedding", "kron", "laplacian", "lti", "network", "nodes", "simulate"],
    submod_attrs={
        "coupling": ["Coupling", "as_coupling"],
        "eigengap": [
            "suggest_k", "check_eigengap", "suggestion_count", "DEFAULT_MAX_CLUSTERS",
            "DEGENERACY_RTOL"
        ],
        "embedding": ["EMBEDDINGS", "EigenpairCache", "default_embedding", "suggest_k_for"],
        "kron": ["KronReduction"],
        "laplacian": [
            "build_laplacian", "validate_laplacian", "laplacian_components", "smallest_eigenpairs",
            "eigenvalue_error_bounds", "algebraic_connectivity", "DisconnectedNetworkError",
            "LaplacianSpectrum"
        ],
        "lti": [
            "as_continuous_statespace", "as_stable_weight", "dc_gain", "stable_unstable_split",
            "default_stability_margin"
        ],
        "network": ["NetworkModel", "NetworkRealization", "disturbance_shape"],
        "nodes": [
            "NodeDynamics", "SwingTurbineNodes", "LTINodes", "StackedNodes", "BlockRealization",
            "PassivityReport", "as_node_dynamics", "stack_single_nodes", "concatenate_family"
        ],
        "simulate": [
            "Step", "ExponentialApproach", "Sinusoid", "Sampled", "as_signal", "simulate_lti",
            "TimeResponse", "uniform_time_grid", "default_time_grid"
        ],
    },
)
