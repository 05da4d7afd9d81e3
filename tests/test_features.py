"""Features read off a step response, against closed forms: extremes, settling times."""

import math

import numpy as np
import pytest
from scipy.optimize import brentq

from gridcoherence.report.features import hermite_extreme, settling_time, step_response_features

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
