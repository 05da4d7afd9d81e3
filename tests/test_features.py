"""Features of step responses against closed forms: sampled extremes and settling times, the
exact features of modal forms, and the checks of whether a sampled grid resolves a response."""

import math

import numpy as np
import pytest
from scipy.optimize import brentq

from gridcoherence.report.features import (curvature_mismatch, hermite_extreme, sampled_feature_reasons,
                                           settling_time, step_response_features)
from gridcoherence.report.modal import ModalStepResponse, modal_features
from gridcoherence.report.responses import LiftedNetwork, node_groups

DECAY, FREQUENCY = 0.3, 2.0


def damped_sine(t):
    """y = e^{-a t} sin(w t) and its exact derivative; the peak is at tan(w t) = w / a."""
    y = np.exp(-DECAY * t) * np.sin(FREQUENCY * t)
    rate = np.exp(-DECAY * t) * (FREQUENCY * np.cos(FREQUENCY * t) - DECAY * np.sin(FREQUENCY * t))
    return y, rate


def test_hermite_extreme_is_within_the_cubic_hermite_error_bound():
    peak_time = math.atan(FREQUENCY / DECAY) / FREQUENCY
    peak = math.exp(-DECAY * peak_time) * math.sin(FREQUENCY * peak_time)
    # |y - p| <= h^4 / 384 max|d^4y/dt^4| for the cubic Hermite interpolant p, and
    # |d^4y/dt^4| <= |-a + i w|^4 since y = Im exp((-a + i w) t).
    fourth = (DECAY**2 + FREQUENCY**2) ** 2
    for samples in (41, 81, 161):  # about 13, 26 and 51 samples per period over 0..20 s
        t = np.linspace(0.0, 20.0, samples)
        value, time = hermite_extreme(t, *damped_sine(t))
        nearest = np.abs(damped_sine(t)[0]).max()
        assert abs(value - peak) < abs(nearest - peak)  # the refinement beats the best sample
        assert abs(value - peak) <= (t[1] - t[0]) ** 4 / 384.0 * fourth
        assert time == pytest.approx(peak_time, abs=1e-2)


def test_hermite_extreme_keeps_the_sign_of_a_nadir():
    t = np.linspace(0.0, 20.0, 81)
    y, rate = damped_sine(t)
    value, _ = hermite_extreme(t, -y, -rate)
    assert value < 0 and value == pytest.approx(-hermite_extreme(t, y, rate)[0], rel=1e-12)


def test_settling_time_of_a_first_order_approach():
    t = np.linspace(0.0, 10.0, 1001)
    for band in (0.05, 0.02, 0.01):
        # |y - 1| = e^{-t} leaves the band last at t = ln(1 / band).
        assert settling_time(t, 1.0 - np.exp(-t), 1.0, band) == pytest.approx(math.log(1.0 / band), abs=1e-4)


def test_settling_time_relative_to_the_peak_when_the_limit_is_zero():
    t = np.linspace(0.0, 30.0, 3001)
    y = t * np.exp(-t)  # peak 1/e at t = 1, back to 0
    expected = brentq(lambda s: s * math.exp(-s) - 0.02 / math.e, 1.0, 30.0)
    assert settling_time(t, y, 0.0, 0.02) == pytest.approx(expected, abs=1e-3)


def test_settling_time_inside_the_band_throughout_or_never_settled():
    t = np.linspace(0.0, 10.0, 101)
    assert settling_time(t, np.full(t.size, 2.0), 2.0, 0.02) == 0.0
    assert settling_time(t, 1.0 - np.exp(-t), 1.0, 1e-6) == math.inf


def test_step_response_features_of_a_first_order_loss():
    t = np.linspace(0.0, 20.0, 2001)
    y, rate, acceleration = np.exp(-t) - 1.0, -np.exp(-t), np.exp(-t)
    features = step_response_features(t, y, rate, acceleration, -1.0, 0.02)
    assert features["nadir"] == pytest.approx(y[-1], rel=1e-12) and features["nadir_time"] == t[-1]
    assert features["max_rocof"] == pytest.approx(1.0, rel=1e-12)  # |dy/dt| is largest at t = 0+
    assert features["settling_time"] == pytest.approx(math.log(50.0), abs=1e-4)
    assert features["steady_state"] == -1.0


def test_a_diverging_output_never_settles():
    t = np.linspace(0.0, 10.0, 101)
    features = step_response_features(t, -t, -np.ones_like(t), np.zeros_like(t), -math.inf, 0.02)
    assert features["settling_time"] == math.inf and features["steady_state"] == -math.inf
    assert features["nadir"] == pytest.approx(-10.0) and features["max_rocof"] == pytest.approx(1.0)


# ------------------------------------------------------------- exact features of a modal form
# y(t) = -1 + e^{-a t} (cos w t + (a / w) sin w t): a unit loss with overshoot, y(0) = 0 and
# y'(t) = -(a^2 + w^2) / w e^{-a t} sin w t.
OFFSET_PHASE = DECAY / FREQUENCY


def overshoot_form():
    lam = -DECAY + 1j * FREQUENCY
    return ModalStepResponse([lam], [[2.0 * lam * 0.5 * (1.0 - 1j * OFFSET_PHASE)]], [-1.0], [0.0])


def overshoot(t):
    return -1.0 + np.exp(-DECAY * t) * (np.cos(FREQUENCY * t) + OFFSET_PHASE * np.sin(FREQUENCY * t))


def test_modal_form_evaluates_the_closed_form():
    modal = overshoot_form()
    t = np.linspace(0.0, 30.0, 301)
    np.testing.assert_allclose(modal.evaluate(t)[:, 0], overshoot(t), atol=1e-14)
    rate = -(DECAY**2 + FREQUENCY**2) / FREQUENCY * np.exp(-DECAY * t) * np.sin(FREQUENCY * t)
    np.testing.assert_allclose(modal.evaluate(t, 1)[:, 0], rate, atol=1e-14)


def test_modal_features_of_an_overshoot_are_its_closed_form():
    (features, reasons), = modal_features(overshoot_form(), 60.0, 0.02)
    assert reasons == []
    # Nadir: y' = 0 first at w t = pi. RoCoF: (e^{-a t} sin w t)' = 0 at tan w t = w / a.
    assert features["nadir_time"] == pytest.approx(math.pi / FREQUENCY, rel=1e-12)
    assert features["nadir"] == pytest.approx(overshoot(math.pi / FREQUENCY), rel=1e-12)
    rocof_time = math.atan(FREQUENCY / DECAY) / FREQUENCY
    rocof = (DECAY**2 + FREQUENCY**2) / FREQUENCY * math.exp(-DECAY * rocof_time) * math.sin(FREQUENCY * rocof_time)
    assert features["max_rocof"] == pytest.approx(rocof, rel=1e-12)
    # Settling: the last swing out of the 2 % band, found on a fine grid of the closed form.
    t = np.linspace(0.0, 60.0, 600_001)
    last = np.flatnonzero(np.abs(overshoot(t) + 1.0) > 0.02)[-1]
    expected = brentq(lambda s: abs(overshoot(s) + 1.0) - 0.02, t[last], t[last + 1], xtol=1e-13)
    assert features["settling_time"] == pytest.approx(expected, rel=1e-10)


def test_settling_beyond_the_horizon_is_infinite_even_inside_the_band_at_its_end():
    """At a zero crossing of y + 1 before the last swing out of the band, a sampled check of the
    end would call the output settled; the modal search sees the later swing."""
    (settled, _), = modal_features(overshoot_form(), 60.0, 0.02)
    before = settled["settling_time"] - math.pi / FREQUENCY
    crossing = brentq(lambda s: overshoot(s) + 1.0, before - 0.5 * math.pi / FREQUENCY, before + 0.5 * math.pi / FREQUENCY)
    assert abs(overshoot(crossing) + 1.0) < 0.02 < crossing  # inside the band at the horizon end
    (features, reasons), = modal_features(overshoot_form(), crossing, 0.02)
    assert features["settling_time"] == math.inf and reasons == []


def test_a_horizon_before_the_first_swing_flags_the_nadir():
    horizon = 0.5 * math.pi / FREQUENCY  # y still falling
    (features, reasons), = modal_features(overshoot_form(), horizon, 0.02)
    assert features["nadir"] == pytest.approx(overshoot(horizon), rel=1e-12)
    assert features["nadir_time"] == horizon
    assert reasons == [f"nadir at the horizon end t = {horizon:.6g} s (the response has not settled)"]
    assert features["settling_time"] == math.inf


def test_a_loss_without_overshoot_has_its_limit_as_nadir():
    """y = -1 + e^{-t}: |y| only approaches 1; the nadir is the limit, reached at t = inf."""
    (features, reasons), = modal_features(ModalStepResponse([-1.0], [[-1.0]], [-1.0], [0.0]), 1e9, 0.02)
    assert reasons == []
    assert features["nadir"] == -1.0 and features["nadir_time"] == math.inf
    assert features["max_rocof"] == pytest.approx(1.0, rel=1e-14)  # at t = 0+
    assert features["settling_time"] == pytest.approx(math.log(50.0), rel=1e-12)


def test_a_ramp_flags_its_nadir():
    """y = -0.1 t + 0.05 sin 2t (a pole at s = 0 and an undamped mode): no steady state."""
    modal = ModalStepResponse([2.0j], [[2.0 * 2.0j * (-0.025j)]], [0.0], [-0.1])
    t = np.linspace(0.0, 30.0, 300_001)
    y = -0.1 * t + 0.05 * np.sin(2.0 * t)
    np.testing.assert_allclose(modal.evaluate(t)[:, 0], y, atol=1e-13)
    (features, reasons), = modal_features(modal, 30.0, 0.02)
    assert reasons == ["nadir set by the horizon end t = 30 s (the output ramps, a pole at s = 0: "
                       "the response has not settled)"]
    k = int(np.argmax(np.abs(y)))
    assert features["nadir"] == pytest.approx(y[k], rel=1e-9)
    assert features["max_rocof"] == pytest.approx(0.2, rel=1e-12)  # |-0.1 + 0.1 cos 2t| at cos 2t = -1
    assert features["settling_time"] == math.inf


def test_the_feature_grid_resolves_the_live_modes_and_coarsens_after_the_fast_ones_die():
    """A fast, heavily damped mode (-50) and a slow oscillation (-0.1 +- 1j)."""
    modal = ModalStepResponse([-50.0, -0.1 + 1.0j], [[-50.0, 2.0 * (-0.1 + 1.0j) * 0.5]], [-1.0], [0.0])
    times, cut = modal.grid(0.0, 100.0, 10**6)
    assert not cut and times[0] == 0.0 and times[-1] == 100.0
    steps = np.diff(times)
    # The fast mode matters (above 1e-10 of the scale) until ln(1e10 * its share) / 50 < 1 s.
    assert steps[times[:-1] < 0.4].max() <= (1.0 / 50.0) / 20.0
    assert steps[times[:-1] > 1.0].min() > (1.0 / 50.0)
    assert steps.max() <= (2.0 * math.pi) / 20.0


def test_modal_form_of_a_network_reproduces_its_simulation(damped):
    model, reduced = damped
    names, members = node_groups(reduced.labels, {}, model.n)
    weights = model.center_of_inertia_weights(members)
    lifted = LiftedNetwork(reduced, model.input_shape(2), weights, "k=2")
    t = np.linspace(0.0, 20.0, 401)
    response = lifted.response(t, -0.1)
    modal = lifted.modal_form(-0.1)
    for derivative, sampled in enumerate((response.y, response.rate, response.acceleration)):
        np.testing.assert_allclose(modal.evaluate(t, derivative), sampled, rtol=1e-9,
                                   atol=1e-11 * np.abs(sampled).max())


# ------------------------------------------------------------- is a sampled grid fine enough?
def test_curvature_mismatch_follows_the_sinusoid_estimate():
    for samples_per_period in (10, 20, 40):
        h = 2.0 * math.pi / samples_per_period
        t = np.arange(0.0, 30.0, h)
        mismatch = curvature_mismatch(t, np.sin(t), np.cos(t), -np.sin(t))
        assert mismatch == pytest.approx(h**2 / 12.0, rel=0.05)
    ramp = np.linspace(0.0, 10.0, 11)
    assert curvature_mismatch(ramp, -0.3 * ramp, np.full(11, -0.3), np.zeros(11)) == 0.0


def test_sampled_reasons_name_what_the_grid_misses():
    t = np.linspace(0.0, 20.0, 2001)
    y, rate = damped_sine(t)
    features = step_response_features(t, -y, -rate, np.zeros_like(t), 0.0, 0.02)
    assert sampled_feature_reasons(t, -y, features, period=2.0 * math.pi / FREQUENCY) == []
    assert "coarser than 1/10" in sampled_feature_reasons(t, -y, features, period=0.05)[0]
    assert "does not resolve the response" in sampled_feature_reasons(t, -y, features, mismatch=0.5)[0]
    # The largest sample is the last one of an oscillation that was cut short.
    short = t[t <= math.atan(FREQUENCY / DECAY) / FREQUENCY]
    y, rate = damped_sine(short)
    cut = step_response_features(short, y, rate, np.zeros_like(short), 0.0, 0.02)
    assert sampled_feature_reasons(short, y, cut) == [
        f"nadir at the horizon end t = {short[-1]:.6g} s (the response has not settled)"]
    # A first-order approach ends at its largest sample, settled: nothing to flag.
    loss = np.exp(-t) - 1.0
    settled = step_response_features(t, loss, -np.exp(-t), np.exp(-t), -1.0, 0.02)
    assert sampled_feature_reasons(t, loss, settled) == []
