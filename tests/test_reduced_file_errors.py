"""A damaged or edited reduced-model file gives a ReducedModelFileError naming the field.

Every case starts from a real file: the bundled Kundur two-area case reduced to two
clusters of order 2 and written by ``save_reduced``; one field of its JSON is edited.
"""

import copy
import json
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gridcoherence as gc
from gridcoherence.report.serialization import ReducedModelFileError


@pytest.fixture(scope="module")
def kundur_reduction():
    return gc.reduce_network(gc.load_case("kundur_two_area").model, 2, order=2)


@pytest.fixture(scope="module")
def kundur_file(kundur_reduction, tmp_path_factory):
    path = tmp_path_factory.mktemp("reduced") / "kundur_k2.json"
    gc.save_reduced(kundur_reduction, path, case="kundur_two_area")
    return path


@pytest.fixture(scope="module")
def kundur_document(kundur_file):
    return json.loads(kundur_file.read_text())


def set_path(document, path, value):
    target = document
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value


def negative_weight(d):
    w = -d["reduced_laplacian"][0][1]
    d["reduced_laplacian"] = [[-w, w], [w, -w]]


def swap_signs_allowed(d):
    negative_weight(d)
    d["allow_negative_weights"] = True


def unstable_node(d):
    d["clusters"][0]["machine"] = None
    d["clusters"][0]["transfer_function"]["den"][1] = -0.2


def bad_reduction(**changes):
    def mutate(d):
        record = {"method": "cl", "order": 2, "dc_scale": 1.0, "hankel_singular_values": [0.5, 0.1],
                  "physical": True, "reason": ""}
        record.update(changes)
        d["clusters"][0]["reduction"] = record
    return mutate


CASES = [
    # (id, mutation, field, message fragment)
    ("negative weight", negative_weight, "reduced_laplacian", "a negative edge weight"),
    ("negative weight allowed but L_k indefinite", swap_signs_allowed, "reduced_laplacian",
     "negative eigenvalue"),
    ("row sum", lambda d: set_path(d, ["reduced_laplacian", 1, 1], 7.0), "reduced_laplacian",
     "row 1 sums to"),
    ("asymmetric", lambda d: set_path(d, ["reduced_laplacian", 0, 1], -1.0), "reduced_laplacian",
     "not symmetric"),
    ("NaN in L_k", lambda d: set_path(d, ["reduced_laplacian", 0, 0], float("nan")), "reduced_laplacian[0][0]",
     "must be finite"),
    ("L_k shape", lambda d: d.update(reduced_laplacian=[[0.0]]), "reduced_laplacian", "1 entries, not 2"),
    ("disconnected L_k", lambda d: d.update(reduced_laplacian=[[0.0, 0.0], [0.0, 0.0]]), "reduced_laplacian",
     "disconnected"),
    ("negative cluster inertia", lambda d: set_path(d, ["clusters", 1, "inertia"], -0.6), "clusters[1].inertia",
     "must be >= 0"),
    ("infinite inertia", lambda d: set_path(d, ["clusters", 1, "inertia"], float("inf")), "clusters[1].inertia",
     "must be finite"),
    ("inertia too large", lambda d: set_path(d, ["clusters", 1, "inertia"], 10**400), "clusters[1].inertia",
     "too large"),
    ("zero total inertia", lambda d: [set_path(d, ["clusters", c, "inertia"], 0.0) for c in range(2)],
     "clusters[*].inertia", "positive total"),
    ("negative machine inertia", lambda d: set_path(d, ["clusters", 0, "machine", "m"], -0.6),
     "clusters[0].machine.m", "must be > 0"),
    ("negative damping", lambda d: set_path(d, ["clusters", 0, "machine", "d"], -0.1),
     "clusters[0].machine.d", "must be >= 0"),
    ("turbine time constant", lambda d: set_path(d, ["clusters", 0, "machine", "turbines", 0, "tau"], 0.0),
     "clusters[0].machine.turbines[0].tau", "must be > 0"),
    ("machine and transfer function disagree",
     lambda d: set_path(d, ["clusters", 0, "transfer_function", "den", 1], 0.5),
     "clusters[0].transfer_function.den", "does not match the machine"),
    ("unstable node", unstable_node, "clusters[0].transfer_function", "right half-plane"),
    ("improper node", lambda d: set_path(d, ["clusters", 1, "transfer_function", "num"], [1.0, 0.0, 0.0, 0.0]),
     "clusters[1].transfer_function", "improper"),
    ("unstable coupling", lambda d: set_path(d, ["coupling", "den"], [1.0, -1.0]), "coupling", "right half-plane"),
    ("double integrator coupling", lambda d: set_path(d, ["coupling", "den"], [1.0, 0.0, 0.0]), "coupling",
     "repeated pole"),
    ("negative coupling", lambda d: set_path(d, ["coupling", "num"], [-1.0]), "coupling", "not positive real"),
    ("zero coupling", lambda d: set_path(d, ["coupling", "num"], [0.0]), "coupling.num", "nonzero polynomial"),
    ("truncated partition", lambda d: d.update(partition=[0, 0, 1]), "partition", "3 entries, not 4"),
    ("empty partition", lambda d: d.update(partition=[]), "partition", "0 entries, not 4"),
    ("partition out of range", lambda d: set_path(d, ["partition", 3], 2), "partition[3]", "must lie in 0..1"),
    ("partition boolean", lambda d: set_path(d, ["partition", 1], False), "partition[1]",
     "must be an integer, got boolean"),
    ("unused cluster", lambda d: d.update(partition=[0, 0, 0, 0]), "partition", "no node in cluster 1"),
    ("cluster nodes disagree with partition", lambda d: set_path(d, ["clusters", 0, "nodes"], [0, 2]),
     "clusters[0].nodes", "does not match the partition"),
    ("cluster numbering", lambda d: set_path(d, ["clusters", 0, "cluster"], 1), "clusters[0].cluster",
     "must be 0"),
    ("n_clusters", lambda d: d.update(n_clusters=3), "clusters", "2 entries, not 3"),
    ("n_nodes as text", lambda d: d.update(n_nodes="4"), "n_nodes", "must be an integer, got string"),
    ("node_names a number", lambda d: d.update(node_names=5), "node_names", "must be an array, got integer"),
    ("node_names length", lambda d: d.update(node_names=["G1"]), "node_names", "1 entries, not 4"),
    ("node name not text", lambda d: set_path(d, ["node_names", 2], 3), "node_names[2]", "must be a string"),
    ("cluster record a string", lambda d: set_path(d, ["clusters", 0], "cluster 0"), "clusters[0]",
     "must be an object, got string"),
    ("missing cluster field", lambda d: d["clusters"][1].pop("inertia"), "clusters[1].inertia", "missing"),
    ("unexpected cluster field", lambda d: d["clusters"][0].update(colour="red"), "clusters[0].colour",
     "unexpected field"),
    ("missing top-level field", lambda d: d.pop("coupling"), "coupling", "missing"),
    ("flag not boolean", lambda d: d.update(allow_negative_weights="no"), "allow_negative_weights",
     "must be true or false"),
    ("format_version true", lambda d: d.update(format_version=True), "format_version", "must be 1"),
    ("format", lambda d: d.update(format="other"), "format", "must be 'gridcoherence.reduced'"),
    ("case a number", lambda d: d.update(case=5), "case", "must be a string or null"),
    ("options a list", lambda d: d.update(options=[]), "options", "must be an object, got array"),
    ("extra a string", lambda d: d.update(extra="x"), "extra", "must be an object, got string"),
    ("reduction method", bad_reduction(method="pod"), "clusters[0].reduction.method", "must be one of"),
    ("reduction order", bad_reduction(order=0), "clusters[0].reduction.order", "must be >= 1"),
    ("Hankel singular value", bad_reduction(hankel_singular_values=[0.5, -0.1]),
     "clusters[0].reduction.hankel_singular_values[1]", "must be >= 0"),
    ("reduction physical without machine", bad_reduction(physical=False), "clusters[0].reduction.physical",
     "has a machine"),
]


@pytest.mark.parametrize("mutate, field, fragment", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_bad_field_is_named(tmp_path, kundur_document, mutate, field, fragment):
    document = copy.deepcopy(kundur_document)
    mutate(document)
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(document))
    with pytest.raises(ReducedModelFileError, match=re.escape(f"field '{field}': ") + ".*" + re.escape(fragment)):
        gc.load_reduced(path)


@pytest.mark.parametrize("content, fragment", [
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    (b'{"format": "gridcoherence.reduced", "n_nodes": ' + b"9" * 5000 + b"}", "not valid JSON"),
    (b"\xff\xfe\x00garbage", "not UTF-8"),
    (b"[1, 2, 3]", "must hold a JSON object, got array"),
    (b'"a string record"', "must hold a JSON object, got string"),
])
def test_unparseable_file_is_named(tmp_path, content, fragment):
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(ReducedModelFileError, match=re.escape("field 'file': ") + ".*" + re.escape(fragment)):
        gc.load_reduced(path)


def test_negative_weights_round_trip_only_when_recorded(tmp_path):
    """Iceland into 6 clusters gives an L_k with positive off-diagonal entries: the file
    records it, loads, and is rejected once the record says there are none."""
    result = gc.reduce_network(gc.load_case("iceland").model, 6, order=2)
    off = result.model.reduced_laplacian - np.diag(np.diag(result.model.reduced_laplacian))
    assert off.max() > 0
    path = tmp_path / "iceland_k6.json"
    gc.save_reduced(result, path, case="iceland")
    document = json.loads(path.read_text())
    assert document["allow_negative_weights"] is True
    loaded = gc.load_reduced(path)
    s = np.array([0.05j, 1j, 0.2 + 3j])
    np.testing.assert_array_equal(loaded.transfer_matrix(s), result.model.transfer_matrix(s))
    document["allow_negative_weights"] = False
    path.write_text(json.dumps(document))
    with pytest.raises(ReducedModelFileError, match=r"field 'reduced_laplacian': .*a negative edge weight"):
        gc.load_reduced(path)


def test_kundur_file_records_no_negative_weights(kundur_document):
    assert kundur_document["allow_negative_weights"] is False


# ---------------------------------------------------------------------------- property test
def json_paths(value, prefix=()):
    """Every path (sequence of keys and indices) into a parsed JSON document."""
    paths = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            paths += json_paths(item, prefix + (key,))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            paths += json_paths(item, prefix + (i,))
    return paths


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


@st.composite
def damaged_files(draw, document, text):
    """Bytes of the valid file after one random mutation."""
    kind = draw(st.sampled_from(["replace", "drop", "truncate", "bytes", "flip"]))
    if kind in ("replace", "drop"):
        document = copy.deepcopy(document)
        path = draw(st.sampled_from(json_paths(document)))
        target = document
        for key in path[:-1]:
            target = target[key]
        if kind == "drop":
            del target[path[-1]]
        else:
            target[path[-1]] = draw(json_values)
        return json.dumps(document).encode()
    data = text.encode()
    if kind == "truncate":
        return data[:draw(st.integers(0, len(data) - 1))]
    if kind == "flip":
        i = draw(st.integers(0, len(data) - 1))
        return data[:i] + bytes([draw(st.integers(0, 255))]) + data[i + 1:]
    return draw(st.binary(max_size=300))


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_random_damage_raises_only_reduced_model_file_error(kundur_file, kundur_document, data):
    damaged = data.draw(damaged_files(kundur_document, kundur_file.read_text()))
    path = kundur_file.with_name("damaged.json")
    path.write_bytes(damaged)
    try:
        loaded = gc.load_reduced(path)
    except ReducedModelFileError as error:
        assert error.field and str(path) in str(error)
    else:
        assert isinstance(loaded, gc.ReducedNetwork) and loaded.n == 2


def test_valid_file_still_loads_exactly(kundur_file, kundur_reduction):
    loaded = gc.load_reduced(kundur_file)
    s = np.array([0.01j, 0.7j, 0.3 + 2j])
    np.testing.assert_array_equal(loaded.transfer_matrix(s), kundur_reduction.model.transfer_matrix(s))
    np.testing.assert_array_equal(loaded.labels, kundur_reduction.model.labels)
