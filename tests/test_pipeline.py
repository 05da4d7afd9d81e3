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
    assert result.options == {"k": 3, "order": 2, "method": "cl", "embedding": "laplacian",
                              "random_state": 0, "partition_given": False}


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


def test_from_parts_keeps_the_given_cluster_numbering():
    """Node c of the reduced nodes is cluster c: labels [1, 1, 0, 0] must not be renumbered."""
    nodes = gc.SwingTurbineNodes([1.0, 10.0], [0.1, 1.0])
    reduced = gc.ReducedNetwork.from_parts(nodes, [[1.0, -1.0], [-1.0, 1.0]], "1/s", [1, 1, 0, 0],
                                           cluster_inertia=[1.0, 10.0])
    np.testing.assert_array_equal(reduced.labels, [1, 1, 0, 0])
    s = 0.5j
    lifted = reduced.lifted_transfer_matrix(s, columns=[2])
    np.testing.assert_allclose(lifted[2, 0], reduced.transfer_matrix(s)[0, 0])
    with pytest.raises(ValueError, match="every cluster used"):
        gc.ReducedNetwork.from_parts(nodes, [[1.0, -1.0], [-1.0, 1.0]], "1/s", [0, 0, 2, 2])
