"""Input checks shared by the learning-dynamics modules.

Every public entry point of :mod:`gridcoherence.learning` converts its array arguments with
:func:`as_real_array` so that wrong types raise :class:`TypeError`, and wrong shapes or
non-finite entries raise :class:`ValueError`, always naming the offending argument.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["as_real_array", "require_shape", "positive_float", "positive_int", "require_finite"]


def as_real_array(value, name, ndim=None):
    """Return ``value`` as a finite float64 array, or raise naming ``name``.

    Parameters
    ----------
    value : array_like
        Real numbers.
    name : str
        Argument name used in error messages.
    ndim : int, optional
        Required number of dimensions.

    Returns
    -------
    numpy.ndarray
        A float64 array (a copy only when a conversion is needed).
    """
    if value is None or isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be a real numeric array, got {type(value).__name__}")
    if np.iscomplexobj(value):
        raise TypeError(f"{name} must be real, got complex values")
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a real numeric array, got {type(value).__name__}") from exc
    if ndim is not None and array.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-dimensional, got shape {array.shape}")
    if array.size and not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains non-finite values (NaN or inf)")
    return array


def require_shape(array, shape, name):
    """Raise ValueError unless ``array.shape`` matches ``shape`` (``None`` = any size)."""
    ok = array.ndim == len(shape) and all(
        want is None or want == got for want, got in zip(shape, array.shape)
    )
    if not ok:
        wanted = "(" + ", ".join("*" if s is None else str(s) for s in shape) + ")"
        raise ValueError(f"{name} has shape {array.shape}, expected {wanted}")
    return array


def positive_float(value, name, allow_zero=False):
    """Return ``value`` as a finite float that is > 0 (or >= 0 with ``allow_zero``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be {bound}, got {value}")
    return value


def positive_int(value, name, minimum=1):
    """Return ``value`` as an int >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def require_finite(value, what):
    """Raise FloatingPointError if a computed result is not finite (never let NaN pass)."""
    if not np.all(np.isfinite(value)):
        raise FloatingPointError(f"{what} is not finite")
    return value
