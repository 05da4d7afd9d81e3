"""Coupling dynamics f(s) between a network's nodes.

A network couples its nodes through f(s) L: each node receives ``u_i - (f(s) L y)_i``.
Power networks use f(s) = 1/s (the line flows integrate the frequency deviations into
angle differences); first-order consensus uses f(s) = 1. Any proper rational SISO f can
be given as a python-control system.
"""

from __future__ import annotations

import control
import numpy as np

from .._validation import as_frequencies, check_finite

__all__ = ["Coupling", "as_coupling"]


def _poly_text(coefficients):
    """Compact text of a polynomial in s, e.g. ``s^2 + 3 s + 2``."""
    degree = len(coefficients) - 1
    terms = []
    for k, c in enumerate(coefficients):
        if c == 0:
            continue
        power = degree - k
        monomial = "" if power == 0 else ("s" if power == 1 else f"s^{power}")
        value = f"{c:g}" if (abs(c) != 1 or not monomial) else ("-" if c < 0 else "")
        terms.append(f"{value} {monomial}".strip() if value not in ("", "-") else value + monomial)
    return " + ".join(terms).replace("+ -", "- ") or "0"


class Coupling:
    """A scalar proper rational coupling f(s) with a minimal realization (af, bf, cf, df).

    Use the constructors :meth:`integrator` (1/s), :meth:`unity` (1) or
    :meth:`from_lti`, or :func:`as_coupling` for the short forms.

    Attributes
    ----------
    name : str
    num, den : ndarray
        Polynomial coefficients of f, highest power first (den monic).
    af, bf, cf : ndarray
        Realization matrices, shapes (r, r), (r, 1), (1, r).
    df : float
        Feedthrough.
    """

    def __init__(self, num, den, name=None):
        num = np.trim_zeros(np.atleast_1d(np.asarray(num, dtype=float)), "f")
        den = np.trim_zeros(np.atleast_1d(np.asarray(den, dtype=float)), "f")
        check_finite("coupling numerator", num)
        check_finite("coupling denominator", den)
        if den.size == 0:
            raise ValueError("coupling denominator is zero")
        if num.size == 0:
            raise ValueError("coupling f(s) is identically zero; the nodes would be decoupled")
        if num.size > den.size:
            raise ValueError(
                f"coupling f(s) is improper (numerator degree {num.size - 1} > "
                f"denominator degree {den.size - 1})"
            )
        self.num, self.den = num / den[0], den / den[0]
        self.name = name or f"({_poly_text(self.num)})/({_poly_text(self.den)})"
        if self.den.size == 1:
            self.af = np.zeros((0, 0))
            self.bf = np.zeros((0, 1))
            self.cf = np.zeros((1, 0))
            self.df = float(self.num[0])
        else:
            realization = control.ss(control.tf(self.num, self.den))
            self.af, self.bf = np.asarray(realization.A), np.asarray(realization.B)
            self.cf, self.df = np.asarray(realization.C), float(realization.D[0, 0])

    @classmethod
    def integrator(cls):
        """f(s) = 1/s: power networks (angles integrate frequency deviations)."""
        return cls([1.0], [1.0, 0.0], name="1/s")

    @classmethod
    def unity(cls):
        """f(s) = 1: first-order consensus."""
        return cls([1.0], [1.0], name="1")

    @classmethod
    def from_lti(cls, system):
        """Any proper continuous-time SISO python-control system."""
        if not isinstance(system, (control.TransferFunction, control.StateSpace)):
            raise TypeError(f"coupling must be a python-control system, got {type(system).__name__}")
        if system.ninputs != 1 or system.noutputs != 1 or not system.isctime():
            raise ValueError("coupling must be a continuous-time SISO system")
        tf = control.tf(system)
        return cls(tf.num[0][0], tf.den[0][0])

    @property
    def order(self):
        return self.af.shape[0]

    def __call__(self, s):
        """f(s) at one or many complex frequencies."""
        s_arr, scalar = as_frequencies(s)
        with np.errstate(divide="ignore", invalid="ignore"):
            value = np.polyval(self.num, s_arr) / np.polyval(self.den, s_arr)
        if not np.all(np.isfinite(value)):
            raise ZeroDivisionError(f"f(s) = {self.name} has a pole at a requested frequency")
        return value[0] if scalar else value

    def poles(self):
        return np.roots(self.den)

    def is_positive_real(self, n_grid=2000):
        """Whether f is positive real (Thm 3.4): no poles in Re s > 0, simple imaginary-axis
        poles with positive residue, and Re f(jw) >= 0 on a frequency grid (a grid check)."""
        poles = self.poles()
        if np.any(poles.real > 1e-12):
            return False
        w = np.concatenate([np.logspace(-4, 4, n_grid)])
        on_axis = np.abs(poles.real) <= 1e-12
        axis_poles = poles[on_axis]
        if np.unique(np.round(axis_poles, 9)).size < axis_poles.size:
            return False  # a repeated pole on the imaginary axis
        # Residue num(p) / den'(p) at each simple imaginary-axis pole: real and positive.
        residues = np.polyval(self.num, axis_poles) / np.polyval(np.polyder(self.den), axis_poles)
        if np.any(residues.real <= 0) or np.any(np.abs(residues.imag) > 1e-9 * np.abs(residues)):
            return False
        w = w[np.all(np.abs(w[:, None] - np.abs(axis_poles.imag)[None, :]) > 1e-9, axis=1)]
        return bool(np.all(self(1j * w).real >= -1e-12))

    def as_lti(self):
        return control.tf(self.num, self.den)

    def __repr__(self):
        return f"Coupling({self.name})"


def as_coupling(coupling):
    """Coerce ``"1/s"``, ``"integrator"``, ``1``, ``"unity"``, ``"consensus"``, a
    :class:`Coupling` or a python-control system to a :class:`Coupling`."""
    if isinstance(coupling, Coupling):
        return coupling
    if isinstance(coupling, str):
        key = coupling.strip().lower().replace(" ", "")
        if key in {"1/s", "integrator", "power"}:
            return Coupling.integrator()
        if key in {"1", "unity", "consensus"}:
            return Coupling.unity()
        raise ValueError(
            f"unknown coupling {coupling!r}; use '1/s' (power networks), '1' (consensus) "
            "or a python-control system"
        )
    if isinstance(coupling, (int, float)) and not isinstance(coupling, bool):
        return Coupling([float(coupling)], [1.0])
    return Coupling.from_lti(coupling)
