"""Tests of gridcoherence.report.metrics against closed forms and brute-force simulation."""

import control
import numpy as np
import pytest
from scipy.integrate import quad

from gridcoherence.report.metrics import step_error_metrics, step_error_response


def test_first_order_pair_closed_form():
    # e(t) = e^{-t} - e^{-2t} per unit step: L2^2 = 1/2 - 2/3 + 1/4, maximum 1/4 at t = ln 2;
    # |1/(jw+1) - 2/(jw+2)| = |w| / |(jw+1)(jw+2)| peaks at w = sqrt(2) with value 1/3.
    result = step_error_metrics(control.tf([1.0], [1.0, 1.0]), control.tf([2.0], [1.0, 2.0]), step=2.0)
    assert result.l2_error == pytest.approx(2.0 * np.sqrt(1.0 / 12.0), rel=1e-12)
    assert result.linf_error == pytest.approx(0.5, rel=1e-10)
    assert result.linf_time == pytest.approx(np.log(2.0), rel=1e-6)
    assert result.hinf_error == pytest.approx(1.0 / 3.0, rel=1e-8)


def test_oscillatory_error_against_quadrature():
    reference = control.tf([1.0, 0.3], [1.0, 0.4, 4.0])
    approximation = control.tf([0.8, 0.2], [1.0, 0.5, 3.0])
    # Make the approximation's DC gain equal the reference's so the L2 norm is finite.
    k = (0.3 / 4.0) / float(control.dcgain(approximation))
    approximation = k * approximation
    result = step_error_metrics(reference, approximation)
    error = lambda t: float(step_error_response(reference, approximation, t))  # noqa: E731
    l2_squared = sum(quad(lambda t: error(t) ** 2, a, a + 20.0, limit=200)[0] for a in np.arange(0.0, 200.0, 20.0))
    assert result.l2_error == pytest.approx(np.sqrt(l2_squared), rel=1e-7)
    t = np.linspace(0.0, 60.0, 60001)
    dense = np.abs(step_error_response(reference, approximation, t))
    assert result.linf_error >= dense.max() - 1e-12
    assert result.linf_error == pytest.approx(dense.max(), rel=1e-6)


def test_dc_mismatch_gives_infinite_l2():
    result = step_error_metrics(control.tf([1.0], [1.0, 1.0]), control.tf([1.1], [1.0, 1.0]))
    assert np.isinf(result.l2_error) and result.dc_error == pytest.approx(-0.1)
    assert result.linf_error == pytest.approx(0.1, rel=1e-9)


def test_unstable_input_rejected():
    with pytest.raises(ValueError, match="stable"):
        step_error_metrics(control.tf([1.0], [1.0, -1.0]), control.tf([1.0], [1.0, 1.0]))


def undamped_plus(system, residue=1.0):
    """``system`` in parallel with residue / (s^2 + 1): an undamped pole pair at +-j."""
    return control.ss(system) + control.ss(control.tf([residue], [1.0, 0.0, 1.0]))


def test_undamped_poles_the_error_does_not_have_are_removed():
    reference, approximation = control.tf([1.0], [1.0, 1.0]), control.tf([2.0], [1.0, 2.0])
    expected = step_error_metrics(reference, approximation)
    # The same undamped pole in both models cancels in the error.
    cancelling = step_error_metrics(undamped_plus(reference), undamped_plus(approximation))
    # An undamped mode that the input does not excite is no pole of the model at all.
    hidden = control.ss(np.diag([-1.0, 0.0, 0.0]) + np.diag([0.0, 1.0], 1) - np.diag([0.0, 1.0], -1),
                        [[1.0], [0.0], [0.0]], [[1.0, 1.0, 0.0]], [[0.0]])
    assert abs(float(control.dcgain(hidden)) - 1.0) < 1e-12
    unexcited = step_error_metrics(hidden, approximation)
    for result in (cancelling, unexcited):
        assert result.l2_error == pytest.approx(expected.l2_error, rel=1e-9)
        assert result.linf_error == pytest.approx(expected.linf_error, rel=1e-9)
        assert result.hinf_error == pytest.approx(expected.hinf_error, rel=1e-6)


def test_an_undamped_pole_the_error_sees_is_refused():
    reference = control.tf([1.0], [1.0, 1.0])
    with pytest.raises(ValueError, match=r"pole at .*1j.*stable"):
        step_error_metrics(undamped_plus(reference), reference)
    with pytest.raises(ValueError, match="stable"):  # undamped poles that differ do not cancel
        step_error_metrics(undamped_plus(reference), undamped_plus(reference, residue=2.0))
