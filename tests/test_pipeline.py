"""The whole reduction pipeline and reduced-model files."""

import json

import numpy as np
import pytest

import gridcoherence as gc
from gridcoherence.report.serialization import ReducedModelFileError


@pytest.fixture(scope="module")
def iceland():
    return gc.load_case("iceland").model


@pytest.fixture(scope="module")
def iceland_k3(iceland):
    return gc.reduce_network(iceland, 3, order=2, method="cl")


def test_pipeline_reduces_every_aggregate_and_keeps_structure(iceland, iceland_k3):
    result = iceland_k3
    assert result.model.n == 3 and result.structure.n == 3
    np.testing.assert_array_equal(result.model.labels, result.structure.labels)
    np.testing.assert_array_equal(result.model.reduced_laplacian, result.structure.reduced_laplacian)
    reduced_clusters = 0
    for row, reduction in zip(result.summary(), result.aggregate_reductions):
        assert row["order"] == min(2, row["full_order"])
        assert (reduction is None) == (row["full_order"] <= 2)
        reduced_clusters += reduction is not None
    assert reduced_clusters >= 2
    # Each reduced cluster node is its reduced aggregate (DC gain matched to the full one).
    full_dc = result.structure.nodes.dc_gain()
    for c, reduction in enumerate(result.aggregate_reductions):
        if reduction is None:
            continue
        node = result.model.nodes.subset([c])
        assert abs(node.transfer(1e-12)[0] - full_dc[c]) <= 1e-9 * full_dc[c]
        s = np.array([0.2j, 1.5j])
        np.testing.assert_allclose(node.transfer(s)[:, 0],
                                   [complex(reduction.system(sk)) for sk in s], rtol=1e-9)
    # Machines are clustered by the inertia embedding unless told otherwise; "order" is the order used.
    assert result.options == {"k": 3, "order": [min(2, row["full_order"]) for row in result.summary()],
                              "order_requested": 2, "method": "cl", "weight": None, "input_weight": None,
                              "embedding": "inertia", "random_state": 0, "partition_given": False,
                              "min_area_size": 1}


def test_order_reduced_model_stays_close_to_structure_preserving_one(iceland, iceland_k3):
    w = np.linspace(0.05, 1.0, 12)
    full = iceland_k3.structure.lifted_transfer_matrix(1j * w, columns=[1])
    reduced = iceland_k3.model.lifted_transfer_matrix(1j * w, columns=[1])
    exact = iceland.transfer_matrix(1j * w, columns=[1])
    spr_error = np.abs(exact - full).max()
    assert np.abs(reduced - full).max() < spr_error


def test_no_order_keeps_full_aggregates(iceland):
    result = gc.reduce_network(iceland, 2)
    assert result.model is result.structure
    assert all(r is None for r in result.aggregate_reductions)


def test_save_load_round_trip_is_exact(tmp_path, iceland_k3):
    path = tmp_path / "iceland_k3.json"
    gc.save_reduced(iceland_k3, path, case="iceland", extra={"note": "test"})
    loaded = gc.load_reduced(path)
    s = np.array([0.01j, 0.7j, 0.3 + 2j])
    np.testing.assert_array_equal(loaded.transfer_matrix(s), iceland_k3.model.transfer_matrix(s))
    np.testing.assert_array_equal(loaded.labels, iceland_k3.model.labels)
    t = np.linspace(0, 20, 201)
    a = loaded.lifted_response(1, "step", t)
    b = iceland_k3.model.lifted_response(1, "step", t)
    np.testing.assert_array_equal(a.y, b.y)
    np.testing.assert_array_equal(a.y_coi, b.y_coi)
    assert loaded.lifted_node_names == iceland_k3.model.lifted_node_names
    document = json.loads(path.read_text())
    assert document["format_version"] == 1 and len(document["clusters"]) == 3
    assert all(c["machine"] is not None or c["transfer_function"] for c in document["clusters"])
    with pytest.raises(ValueError, match="does not have"):
        loaded.band_error(1.0)


@pytest.mark.parametrize("mutate, field", [
    (lambda d: d.pop("partition"), "partition"),
    (lambda d: d.update(format_version=7), "format_version"),
    (lambda d: d.update(reduced_laplacian=[[1.0]]), "reduced_laplacian"),
    (lambda d: d["clusters"][0].update(machine={"m": -1.0, "d": 0.1, "turbines": []}), r"clusters\[0\]"),
    (lambda d: d["clusters"][1]["transfer_function"].update(num=["x"]), "clusters"),
])
def test_malformed_reduced_file_names_the_field(tmp_path, iceland_k3, mutate, field):
    path = tmp_path / "model.json"
    gc.save_reduced(iceland_k3, path)
    document = json.loads(path.read_text())
    if field == "clusters":
        document["clusters"][1]["machine"] = None
    mutate(document)
    path.write_text(json.dumps(document))
    with pytest.raises(ReducedModelFileError, match=field):
        gc.load_reduced(path)


def test_unreadable_reduced_file(tmp_path):
    with pytest.raises(ReducedModelFileError, match="cannot read"):
        gc.load_reduced(tmp_path / "absent.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ReducedModelFileError, match="not valid JSON"):
        gc.load_reduced(bad)


def test_from_parts_maps_node_c_to_the_cluster_labelled_c():
    """Node c of the reduced nodes (row c of L_k) is the cluster labelled c, in any numbering."""
    nodes = gc.SwingTurbineNodes([1.0, 2.0, 3.0], [0.1, 0.2, 0.3])
    Lk = np.array([[2.0, -2.0, 0.0], [-2.0, 3.0, -1.0], [0.0, -1.0, 1.0]])
    given = np.array([2, 2, 0, 1, 1])
    reduced = gc.ReducedNetwork.from_parts(nodes, Lk, "1/s", given, inertia=[1.0, 2.0, 3.0])
    assert reduced.labels.tolist() == [0, 0, 1, 2, 2]  # canonical, nodes reordered with it
    np.testing.assert_array_equal(reduced.inertia, [3.0, 1.0, 2.0])
    s = 0.5j
    # The k-node network as given, lifted by hand: original node i sees cluster given[i].
    T = gc.NetworkModel(nodes, Lk).transfer_matrix(s)
    np.testing.assert_allclose(reduced.lifted_transfer_matrix(s), T[np.ix_(given, given)], rtol=1e-12)
    with pytest.raises(ValueError, match="every cluster used"):
        gc.ReducedNetwork.from_parts(nodes.subset([0, 1]), [[1.0, -1.0], [-1.0, 1.0]], "1/s", [0, 0, 2, 2])


# ---------------------------------------------------------------------------- computed once
def _count_calls(monkeypatch, module, name):
    calls = []
    original = getattr(module, name)

    def counting(*args, **kwargs):
        calls.append((args, kwargs))
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, counting)
    return calls


@pytest.mark.parametrize("embedding", ["laplacian", "inertia"])
def test_reductor_computes_the_eigenpairs_once_for_every_reduce(monkeypatch, iceland, embedding):
    from gridcoherence.models import embedding as embeddings

    solves = _count_calls(monkeypatch, embeddings, "smallest_eigenpairs")
    reductor = gc.CoherencyReductor(iceland, embedding=embedding)
    results = [reductor.reduce(k) for k in (3, 2, None, 4)]
    results.append(reductor.reduce(partition=results[0].labels))
    weights = [kwargs["weight"] for _, kwargs in solves]
    assert sum(w is None for w in weights) == 1  # L's eigenpairs
    assert sum(w is not None for w in weights) == (embedding == "inertia")  # the M^{-1} L pencil's
    # ... and every reduction equals a fresh one made from scratch.
    assert [r.n_clusters for r in results] == [3, 2, results[2].n_clusters, 4, 3]
    fresh = gc.reduce_network(iceland, 3, embedding=embedding)  # computes only the 4 pairs it needs
    assert results[0].options == fresh.options
    np.testing.assert_array_equal(results[0].labels, fresh.labels)
    Lk = fresh.structure.reduced_laplacian
    np.testing.assert_allclose(results[0].structure.reduced_laplacian, Lk, rtol=1e-9, atol=1e-12 * np.abs(Lk).max())


def test_algorithm1_as_published_runs_one_eigensolve_of_l(monkeypatch):
    # The large-SBM benchmark's reduction at 2,500 nodes (beyond the dense limit, so ARPACK
    # runs): clustering on L's own eigenvectors needs L's 11 pairs and nothing else.
    import sys

    import scipy.sparse.linalg as spla

    from gridcoherence.cases.random_nodes import random_family_nodes
    from gridcoherence.cases.sbm import sample_sbm
    from gridcoherence.models import laplacian
    from gridcoherence.reduction.clustering import misclassification_rate

    n, k = 2500, 10
    Q = np.full((k, k), 3.0 / (n - n // k))
    np.fill_diagonal(Q, 27.0 / (n // k - 1))
    sample = sample_sbm([n // k] * k, Q, np.ones((k, k)), random_state=0)
    model = gc.NetworkModel(random_family_nodes(n, random_state=0), sample.laplacian, "1/s")
    solves, arpack = [], _count_calls(monkeypatch, spla, "eigsh")
    original = laplacian.smallest_eigenpairs

    def counting(*args, **kwargs):
        solves.append(kwargs.get("weight"))
        return original(*args, **kwargs)

    for module in list(sys.modules.values()):  # every module that imported the function
        if getattr(module, "smallest_eigenpairs", None) is original:
            monkeypatch.setattr(module, "smallest_eigenpairs", counting)
    result = gc.reduce_network(model, k, order=3, embedding="laplacian")
    assert solves == [None] and len(arpack) == 1 and arpack[0][1]["k"] == k + 1
    assert result.n_clusters == k and misclassification_rate(sample.labels, result.labels) == 0.0


def test_the_laplacian_is_validated_once_when_the_model_is_built_and_trusted_by_the_reduction(monkeypatch):
    import sys

    from gridcoherence.models import laplacian

    calls = []
    original = laplacian.validate_laplacian

    def counting(L, **kwargs):
        calls.append(L.shape)
        return original(L, **kwargs)

    for module in list(sys.modules.values()):  # every module that imported the function
        if getattr(module, "validate_laplacian", None) is original:
            monkeypatch.setattr(module, "validate_laplacian", counting)
    model, _ = _sbm_model(80, 1)
    assert calls == [(80, 80)]
    for reduce, arguments in ((gc.structure_preserving_reduction, {"k": 3}), (gc.structure_preserving_reduction, {}),
                              (gc.structure_preserving_reduction,
                               {"partition": [np.arange(20), np.arange(20, 60), np.arange(60, 80)]}),
                              (gc.structure_preserving_reduction, {"k": 3, "embedding": "inertia"}),
                              (gc.reduce_network, {"k": 3, "order": 2}), (gc.reduce_network, {"order": 2})):
        calls.clear()
        reduced = reduce(model, **arguments)
        assert reduced.n_clusters == 3
        # Only the k x k L_k is validated, when it becomes the reduced NetworkModel's Laplacian.
        assert (80, 80) not in calls and (3, 3) in calls, arguments


def test_a_model_allowed_to_be_disconnected_is_still_refused_by_the_reduction():
    from gridcoherence.models.laplacian import DisconnectedNetworkError

    L = gc.build_laplacian([(0, 1), (1, 2), (3, 4)], allow_disconnected=True)
    model = gc.NetworkModel(gc.SwingTurbineNodes(m=np.ones(5), d=np.full(5, 0.1)), L, allow_disconnected=True)
    with pytest.raises(DisconnectedNetworkError, match="2 components"):
        gc.structure_preserving_reduction(model, 2)
    with pytest.raises(DisconnectedNetworkError):
        gc.CoherencyReductor(model)


def _sbm_model(n, seed):
    from gridcoherence.cases.random_nodes import random_family_nodes
    from gridcoherence.studies.experiments.sbm_reduction import sbm341_sample

    sample = sbm341_sample(n, seed)
    return gc.NetworkModel(random_family_nodes(n, random_state=seed), sample.laplacian), sample


# ---------------------------------------------------------------------------- one centre of inertia
def test_reduced_lifted_and_original_centres_of_inertia_are_one_quantity():
    """Feedthrough nodes have no inertia: the COI weights fall back to equal ones everywhere."""
    import control

    rng = np.random.default_rng(4)
    systems = [control.tf([1.0, a], [1.0, a + 0.5]) for a in rng.uniform(0.5, 2.0, 7)]
    L = gc.build_laplacian([(0, 1, 9), (1, 2, 9), (0, 2, 9), (3, 4, 9), (4, 5, 9), (5, 6, 9), (3, 6, 9),
                            (2, 3, 0.1)])
    model = gc.NetworkModel(gc.LTINodes(systems), L, coupling="1")
    assert np.all(model.nodes.inertia == 0) and np.all(model.inertia == 1.0)
    reduced = gc.structure_preserving_reduction(model, 2)
    assert reduced.sizes.tolist() == [3, 4]
    np.testing.assert_array_equal(reduced.inertia, [3.0, 4.0])  # cluster totals, not the aggregates' own
    t = np.linspace(0.0, 5.0, 51)
    lifted = reduced.lifted_response(0, "step", t)
    own = reduced.response(reduced.partition.restrict(np.eye(7)[0]), "step", t)
    np.testing.assert_allclose(lifted.y_coi, own.y_coi, rtol=1e-12)
    np.testing.assert_allclose(lifted.y_coi, lifted.y.mean(axis=1), rtol=1e-12)  # original's COI of lifted y
    # the group COI of a comparison table uses the same weights
    W = model.center_of_inertia_weights([reduced.partition.members(c) for c in range(2)]).toarray()
    np.testing.assert_allclose(W @ np.ones(7), 1.0, rtol=1e-14)
    np.testing.assert_allclose(W[1, 3:], 0.25, rtol=1e-14)


def test_order_reduced_machines_keep_the_cluster_inertias(iceland_k3):
    np.testing.assert_array_equal(iceland_k3.model.inertia, iceland_k3.structure.inertia)
    np.testing.assert_allclose(iceland_k3.structure.inertia,
                               iceland_k3.structure.partition.restrict(iceland_k3.structure.original.inertia),
                               rtol=1e-14)
