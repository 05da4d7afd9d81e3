"""Quick runs of the experiment drivers, data loaders and simulator error handling."""

import gzip
import json

import numpy as np
import pytest

from gridcoherence.learning.data import load_digits_pair, load_mnist_pair, read_idx
from gridcoherence.learning.defaults import settings
from gridcoherence.learning.experiments import EXPERIMENTS
from gridcoherence.learning.flow import GradientDescentDivergedError, gradient_descent, integrate_gradient_flow
from gridcoherence.learning.linear2 import TwoLayerLinearRegression


@pytest.fixture(scope="module")
def quick_results(tmp_path_factory):
    out = tmp_path_factory.mktemp("learning_quick")
    return out, {name: driver(out, quick=True, random_state=0) for name, driver in EXPERIMENTS.items()}


def test_drivers_write_json_and_png(quick_results):
    out, results = quick_results
    for name in EXPERIMENTS:
        assert (out / f"{name}.png").stat().st_size > 1000
        saved = json.loads((out / f"{name}.json").read_text())
        assert saved["random_state"] == 0 and saved["settings"]


def test_fig2_3_bounds_hold_and_width_ordering(quick_results):
    widths = quick_results[1]["fig2_3"]["widths"]
    small, large = widths["30"], widths["1000"]
    assert small["delta_plus_scaled"] > small["delta_minus_scaled"] > small["delta_gap_scaled"]
    assert large["delta_gap_scaled"] > large["delta_plus_scaled"] > large["delta_minus_scaled"]
    for run in widths.values():
        assert run["max_log_loss_over_envelope"] <= 1e-8
        assert run["min_rate_over_prop21"] >= 1 - 1e-6


def test_fig2_4_more_imbalance_converges_faster(quick_results):
    cases = quick_results[1]["fig2_4"]["cases"]
    assert cases["balanced"]["c0"] < 1e-10
    ratios = [k for k in cases if k != "balanced"]
    finals = [cases[k]["final_excess_loss"] for k in ratios]
    iterations = [cases[k]["iterations"] for k in ratios]
    assert cases["balanced"]["final_excess_loss"] > max(finals)
    assert iterations == sorted(iterations, reverse=True)
    assert all(cases[k]["max_log_loss_over_envelope"] <= 1e-8 for k in ratios)


def test_fig2_5_inverse_sqrt_decay(quick_results):
    numbers = quick_results[1]["fig2_5"]
    assert -0.7 <= numbers["loglog_slope"] <= -0.35
    assert np.all(np.abs(np.asarray(numbers["u2v_final_over_distance"]) - 1) <= 0.01)


def test_fig2_6_delta_star_positive_and_bound_holds(quick_results):
    numbers = quick_results[1]["fig2_6"]
    assert all(v["fraction_positive"] == 1.0 for v in numbers["delta_star_at_init"].values())
    for run in numbers["gd_runs"].values():
        assert run["rate_over_bound"] >= 1.0


def test_fig2_11_alignment_and_low_rank(quick_results):
    numbers = quick_results[1]["fig2_11"]
    assert numbers["alignment_iteration"] is not None
    assert numbers["cos_min_plus_final"] > 0.9
    assert numbers["late_phase_bound_holds"] is True
    assert numbers["stable_rank_final"] <= 2 + 1e-3


def test_fig2_12_proxy_is_labelled_and_centred(quick_results):
    numbers = quick_results[1]["fig2_12"]
    assert "proxy" in numbers["data_source"]
    assert abs(numbers["cos_x_plus_x_minus"] + 1) < 1e-10  # exact after centring with equal weights
    assert numbers["final"]["cos_wbar_plus_xbar_plus"] > 0.5
    assert numbers["loss"][-1] < numbers["loss"][0]


def _write_idx(path, array, compress):
    header = bytes([0, 0, 0x08, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    payload = header + array.astype(np.uint8).tobytes()
    (gzip.open if compress else open)(path, "wb").write(payload)


@pytest.mark.parametrize("compress", [False, True])
def test_mnist_idx_reader_roundtrip(tmp_path, compress):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(30, 4, 5), dtype=np.uint8)
    labels = np.arange(30) % 3
    suffix = ".gz" if compress else ""
    _write_idx(tmp_path / f"train-images-idx3-ubyte{suffix}", images, compress)
    _write_idx(tmp_path / f"train-labels-idx1-ubyte{suffix}", labels, compress)
    assert np.array_equal(read_idx(tmp_path / f"train-images-idx3-ubyte{suffix}"), images)
    data = load_mnist_pair(tmp_path, digits=(0, 1))
    assert data.X.shape == (20, 20) and data.image_shape == (4, 5)
    assert set(data.y) == {-1.0, 1.0} and data.X.max() == 1.0
    assert "MNIST" in data.source


def test_idx_reader_rejects_bad_files(tmp_path):
    bad = tmp_path / "bad"
    bad.write_bytes(b"\x01\x02\x03\x04")
    with pytest.raises(ValueError, match="magic"):
        read_idx(bad)
    truncated = tmp_path / "truncated"
    truncated.write_bytes(bytes([0, 0, 8, 1]) + np.asarray([10], dtype=">u4").tobytes() + b"\x00")
    with pytest.raises(ValueError, match="truncated"):
        read_idx(truncated)
    with pytest.raises(FileNotFoundError):
        load_mnist_pair(tmp_path / "missing")


def test_digits_proxy():
    data = load_digits_pair(digits=(0, 1))
    assert data.image_shape == (8, 8) and data.X.shape[1] == 64
    assert 300 < len(data.y) < 400 and "proxy" in data.source


def test_diverging_gradient_descent_names_step_size():
    rng = np.random.default_rng(0)
    model = TwoLayerLinearRegression(rng.normal(size=(5, 4)), rng.normal(size=(5, 2)))
    params = (rng.normal(size=(4, 6)), rng.normal(size=(2, 6)))
    with pytest.raises(GradientDescentDivergedError, match="step_size = 5") as info:
        gradient_descent(model, params, 5.0, 200, record_every=50)
    assert info.value.step_size == 5.0


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        ({"step_size": -1.0, "n_steps": 5}, ValueError, "step_size must be > 0"),
        ({"step_size": float("nan"), "n_steps": 5}, ValueError, "step_size must be finite"),
        ({"step_size": "0.1", "n_steps": 5}, TypeError, "step_size must be a real number"),
        ({"step_size": 0.1, "n_steps": 2.5}, TypeError, "n_steps must be an integer"),
    ],
)
def test_gradient_descent_argument_errors(kwargs, exc, match):
    model = TwoLayerLinearRegression(np.eye(2), np.eye(2))
    with pytest.raises(exc, match=match):
        gradient_descent(model, (np.eye(2), np.eye(2)), **kwargs)


def test_integrator_argument_errors():
    model = TwoLayerLinearRegression(np.eye(2), np.eye(2))
    params = (np.eye(2), np.eye(2))
    with pytest.raises(ValueError, match="t_eval must be strictly increasing"):
        integrate_gradient_flow(model, params, 1.0, t_eval=[0.0, 2.0])
    with pytest.raises(ValueError, match="method"):
        integrate_gradient_flow(model, params, 1.0, method="Euler")
    with pytest.raises(TypeError, match="params must be a pair"):
        integrate_gradient_flow(model, (np.eye(2),), 1.0)


def test_settings_lookup():
    assert settings("fig2_12").iterations >= 15000
    with pytest.raises(ValueError, match="unknown experiment"):
        settings("fig9")
