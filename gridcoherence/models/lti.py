"""Continuous-time LTI helpers: model validation, DC gain, stable/unstable split.

Generic helpers on python-control ``StateSpace`` / ``TransferFunction`` models and on
state-space matrices (A, B, C, D), used by the balanced truncation of
:mod:`gridcoherence.reduction.balanced`, the aggregate machines of
:mod:`gridcoherence.reduction.machines` and the error metrics of
:mod:`gridcoherence.report.metrics`:

* :func:`as_continuous_statespace` -- a proper, finite, continuous-time model as StateSpace;
* :func:`as_stable_weight` -- the same for a stable frequency weight of a given size;
* :func:`dc_gain` -- G(0) = D - C A^{-1} B, refusing a pole at s = 0;
* :func:`stable_unstable_split` -- G = G_s + G_u by an ordered Schur form, with
  :func:`default_stability_margin` saying which poles count as marginal.
"""

from __future__ import annotations

import control
import numpy as np
import scipy.linalg as la

from .._validation import check_finite

__all__ = [
    "as_continuous_statespace",
    "as_stable_weight",
    "dc_gain",
    "stable_unstable_split",
    "default_stability_margin",
]


def as_continuous_statespace(system, name="system"):
    """Validate a continuous-time proper python-control model and return it as StateSpace.

    Raises ``TypeError`` for non-LTI input and ``ValueError`` for discrete-time,
    non-proper or non-finite models.
    """
    if not isinstance(system, (control.StateSpace, control.TransferFunction)):
        raise TypeError(f"{name} must be a python-control StateSpace or TransferFunction, got {type(system).__name__}")
    if not system.isctime():
        raise ValueError(f"{name} must be continuous-time (got dt={system.dt!r})")
    if isinstance(system, control.TransferFunction):
        for i in range(system.noutputs):
            for j in range(system.ninputs):
                num = np.trim_zeros(np.atleast_1d(system.num[i][j]), "f")
                den = np.trim_zeros(np.atleast_1d(system.den[i][j]), "f")
                check_finite(f"{name} numerator ({i},{j})", num)
                check_finite(f"{name} denominator ({i},{j})", den)
                if num.size > den.size:
                    raise ValueError(
                        f"{name} entry ({i},{j}) is not proper (numerator degree {num.size - 1} > "
                        f"denominator degree {den.size - 1}); balanced truncation needs a proper model"
                    )
        system = control.ss(system)
    for label, matrix in zip("ABCD", (system.A, system.B, system.C, system.D)):
        check_finite(f"{name}.{label}", matrix)
    return system


def as_stable_weight(weight, size, side):
    """Validate a frequency weight and return it as a StateSpace.

    Parameters
    ----------
    weight : control.StateSpace or TransferFunction
        Continuous-time, proper, with every pole in the open left half plane.
    size : int
        Required number of outputs (input weight) or inputs (output weight).
    side : {"input", "output"}
    """
    name = f"{side}_weight"
    weight = as_continuous_statespace(weight, name)
    connected = weight.noutputs if side == "input" else weight.ninputs
    if connected != size:
        what = "outputs" if side == "input" else "inputs"
        raise ValueError(f"{name} must have {size} {what} to match the system, got {connected}")
    poles = la.eigvals(weight.A) if weight.nstates else np.zeros(0)
    if np.any(poles.real >= 0):
        raise ValueError(
            f"{name} must be stable (Enns' method needs stable weights); it has a pole at "
            f"{poles[np.argmax(poles.real)]:.6g}"
        )
    return weight


def dc_gain(A, B, C, D):
    """G(0) = D - C A^{-1} B; raises ``ZeroDivisionError`` when A is singular (pole at 0)."""
    if A.shape[0] == 0:
        return np.array(D, dtype=float)
    lu, piv = la.lu_factor(A, check_finite=True)
    if np.min(np.abs(np.diag(lu))) <= np.finfo(float).eps * max(1.0, np.abs(A).max()) * A.shape[0]:
        raise ZeroDivisionError("the system has a pole at s = 0; its DC gain is infinite")
    return D - C @ la.lu_solve((lu, piv), B)


def default_stability_margin(A):
    """sqrt(machine eps) * max(1, ||A||_1): poles closer to the imaginary axis count as marginal."""
    return np.sqrt(np.finfo(float).eps) * max(1.0, la.norm(A, 1) if A.size else 0.0)


def stable_unstable_split(A, B, C, stability_margin):
    """Additive decomposition G = G_s + G_u by an ordered real Schur form.

    Poles with real part < -``stability_margin`` go to G_s. The off-diagonal Schur block
    is removed with the Sylvester equation T11 X - X T22 + T12 = 0, so the two parts are
    decoupled: A = blockdiag(A_s, A_u). O(n^3).

    Returns
    -------
    (A_s, B_s, C_s), (A_u, B_u, C_u) : tuples of ndarray
    """
    n = A.shape[0]
    if n == 0:
        empty = (A, B, C)
        return empty, empty
    T, Z, n_stable = la.schur(A, output="real", sort=lambda re, im: re < -stability_margin)
    T11, T12, T22 = T[:n_stable, :n_stable], T[:n_stable, n_stable:], T[n_stable:, n_stable:]
    X = la.solve_sylvester(T11, -T22, -T12) if 0 < n_stable < n else np.zeros((n_stable, n - n_stable))
    Bz, Cz = Z.T @ B, C @ Z
    B_s = Bz[:n_stable] - X @ Bz[n_stable:]
    C_u = Cz[:, n_stable:] + Cz[:, :n_stable] @ X
    stable = (T11, B_s, Cz[:, :n_stable])
    unstable = (T22, Bz[n_stable:], C_u)
    return stable, unstable
