"""What the reproduced figures show: captions, data sources and the properties each figure is for.

Every experiment runs once in its quick mode (module fixture) through
:func:`gridcoherence.studies.reproduce.reproduce`, as ``gridcoherence reproduce --quick`` does.
"""

import json
import re

import numpy as np
import pytest

from gridcoherence.studies.reproduce import INDEX, experiments, reproduce


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("figures")
    results = reproduce(out, quick=True)
    return out, results


def _saved(out, name):
    return json.loads((out / f"{name}.json").read_text())


def _expected_reproduces(name):
    """'fig3_5' -> 'Fig. 3-5', 'table3_2' -> 'Table 3-II'; None for the studies without a number."""
    figure = re.fullmatch(r"fig(\d)_(\d+)", name)
    if figure:
        return f"Fig. {figure[1]}-{figure[2]}"
    return {"table3_2": "Table 3-II"}.get(name)


def test_every_figure_names_what_it_reproduces_and_its_data(quick_run):
    out, results = quick_run
    index = json.loads((out / INDEX).read_text())["experiments"]
    assert sorted(index) == sorted(experiments())
    for name in experiments():
        saved = _saved(out, name)
        expected = _expected_reproduces(name)
        if expected is not None:
            assert saved["reproduces"] == expected, name
        else:
            assert re.search(r"(Sec\.|Thm\.) 3\.", saved["reproduces"]), name
        assert len(saved["data_source"]) > 10, name
        assert saved["caption"] == f"Reproduces {saved['reproduces']} of the dissertation. Data: {saved['data_source']}"
        assert index[name]["reproduces"] == saved["reproduces"] and index[name]["quick"] is True
        assert (out / f"{name}.png").stat().st_size > 10_000, name


def test_fig3_5_groups_differ_settle_and_the_step_is_in_group_2(quick_run):
    from gridcoherence.studies.experiments.sbm_reduction import sbm341_sample

    saved = _saved(quick_run[0], "fig3_5")
    means = np.asarray(saved["group_mean_response"])
    d = np.asarray(saved["node_parameters"]["d"])
    steady_state = 1.0 / d.sum()  # unit step on swing nodes: sum(u) / sum(d)
    assert np.isclose(saved["steady_state"], steady_state, rtol=1e-12)
    # The three groups' mean responses differ by more than 20 % of the steady state ...
    separation = np.max(np.abs(means[:, None, :] - means[None, :, :]))
    assert separation > 0.2 * steady_state
    # ... and every group reaches 95 % of it by the end of the window.
    assert np.all(means[:, -1] >= 0.95 * steady_state)
    assert saved["t"][-1] == saved["horizon_s"]
    # The disturbed node (1-based) is in the (3.41) model's second block (nodes 21..60).
    blocks = sbm341_sample(80, saved["seed"]).labels
    assert blocks[saved["step_node"] - 1] == 1 and saved["step_node_group"] == 2
    assert sorted(entry["group"] for entry in saved["clusters"]) == [1, 2, 3]
    assert "U(0.2, 0.6)" in saved["data_source"]


def test_iceland_figures_say_the_machine_data_are_ours(quick_run):
    from gridcoherence.cases.loader import load_case

    lambda_2 = load_case("iceland").spectrum_summary(2)["lambda_2"]
    for name in ("fig3_3", "fig3_7"):
        saved = _saved(quick_run[0], name)
        assert saved["machine_data"].startswith("synthetic rule")
        assert f"{lambda_2:.3g}" in saved["machine_data"] and "0.0915" in saved["machine_data"]
        assert "synthetic rule" in saved["caption"]
    assert _saved(quick_run[0], "fig3_7")["highlighted_machine"] >= 1


def test_guggilam_row_and_curve_are_marked_as_stand_ins(quick_run):
    table = _saved(quick_run[0], "table3_2")
    assert "stand-in" in table["rows"]["Guggilam"]["stand_in"]
    assert list(table["stand_in_rows"]) == ["Guggilam"]
    assert all("stand_in" not in row for name, row in table["rows"].items() if name != "Guggilam")
    assert "stand-in" in table["caption"]
    curves = _saved(quick_run[0], "fig3_10")
    assert list(curves["stand_in_curves"]) == ["Guggilam"] and "stand-in" in curves["caption"]
    assert "stand_in_curves" not in _saved(quick_run[0], "fig3_8")


def test_fig2_4_draws_no_envelope_for_the_balanced_start(quick_run):
    cases = _saved(quick_run[0], "fig2_4")["cases"]
    assert cases["balanced"]["thm21_envelope_drawn"] is False
    assert 0 <= cases["balanced"]["c0"] < 1e-10  # rounding level, not exactly 0
    assert all(case["thm21_envelope_drawn"] for name, case in cases.items() if name != "balanced")


def test_fig2_11_loss_drops_once_per_class(quick_run):
    saved = _saved(quick_run[0], "fig2_11")
    drops = saved["loss_drop_t"]
    assert drops["minus"] > 2 * drops["plus"]
    # Between the drops the positive class is fitted and the negative one is not: the loss
    # sits on a plateau near the negative class's half of the initial loss.
    assert 0.3 * saved["loss_initial"] < saved["loss_between_drops"] < 0.7 * saved["loss_initial"]
    assert saved["loss_final"] < 0.05 * saved["loss_between_drops"]


def test_two_runs_into_one_folder_keep_both_index_entries(tmp_path):
    reproduce(tmp_path, ["table3_2"], quick=True)
    reproduce(tmp_path, ["fig3_10"], quick=True)
    index = json.loads((tmp_path / INDEX).read_text())["experiments"]
    assert sorted(index) == ["fig3_10", "table3_2"]
    assert index["table3_2"]["reproduces"] == "Table 3-II" and index["fig3_10"]["reproduces"] == "Fig. 3-10"


def test_a_foreign_index_file_is_refused_and_kept(tmp_path):
    (tmp_path / INDEX).write_text("[1, 2]")
    with pytest.raises(ValueError, match="is not a reproduce index"):
        reproduce(tmp_path, ["table3_2"], quick=True)
    assert (tmp_path / INDEX).read_text() == "[1, 2]" and not (tmp_path / "table3_2.json").exists()


def _tiny_mnist(rng, n=24, shape=(6, 6)):
    """Two 'digits': 0 bright on the left half, 1 on the right half, plus noise."""
    labels = np.arange(n) % 2
    images = rng.integers(0, 60, size=(n, *shape)).astype(np.uint8)
    half = shape[1] // 2
    images[labels == 0, :, :half] += 150
    images[labels == 1, :, half:] += 150
    return images, labels.astype(np.uint8)


def test_reproduce_mnist_option_makes_fig2_12_from_a_local_npz(tmp_path):
    images, labels = _tiny_mnist(np.random.default_rng(0))
    archive = tmp_path / "mnist.npz"
    np.savez(archive, x_train=images, y_train=labels, x_test=images[:2], y_test=labels[:2])
    from gridcoherence.cli import main

    out = tmp_path / "out"
    assert main(["reproduce", "--only", "fig2_12", "--quick", "--quiet", "--mnist", str(archive), "--out", str(out)]) == 0
    result = _saved(out, "fig2_12")
    assert result["data_source"] == "MNIST (mnist.npz)" and "proxy" not in result["caption"]
    assert result["d_in"] == 36 and result["n_samples"] == 24
    assert json.loads((out / INDEX).read_text())["experiments"]["fig2_12"]["options"] == {"mnist_path": str(archive)}


def test_mnist_files_are_read_without_pickle(tmp_path):
    from gridcoherence.learning.data import load_mnist_pair, read_mnist

    pickled = tmp_path / "objects.npz"
    np.savez(pickled, x_train=np.array([{"a": 1}], dtype=object), y_train=np.zeros(1))
    with pytest.raises(ValueError, match="pickle"):
        read_mnist(pickled)
    images, labels = _tiny_mnist(np.random.default_rng(1))
    np.savez(tmp_path / "no_labels.npz", x_train=images)
    with pytest.raises(ValueError, match="no array y_train"):
        read_mnist(tmp_path / "no_labels.npz")
    np.savez(tmp_path / "short.npz", x_train=images, y_train=labels[:-1])
    with pytest.raises(ValueError, match="24 images but 23 labels"):
        read_mnist(tmp_path / "short.npz")
    # The training-images IDX file itself: its labels file is found beside it.
    header = bytes([0, 0, 0x08, 3]) + np.asarray(images.shape, dtype=">u4").tobytes()
    (tmp_path / "train-images-idx3-ubyte").write_bytes(header + images.tobytes())
    header = bytes([0, 0, 0x08, 1]) + np.asarray(labels.shape, dtype=">u4").tobytes()
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(header + labels.tobytes())
    data = load_mnist_pair(tmp_path / "train-images-idx3-ubyte", digits=(0, 1))
    assert data.X.shape == (24, 36) and data.image_shape == (6, 6)
    with pytest.raises(ValueError, match="no image of digit 7"):
        load_mnist_pair(tmp_path / "train-images-idx3-ubyte", digits=(0, 7))
