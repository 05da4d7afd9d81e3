"""Input checks shared across the package.

Each check raises an error that names the offending argument (and, for per-node
arrays, the first offending node) so that a user can find the bad number.
"""

from __future__ import annotations

import numpy as np

__all__ = ["as_node_array", "as_node_group", "check_finite", "as_frequencies", "first_repeat"]


def check_finite(name, values):
    """Raise ``ValueError`` naming ``name`` and the first index holding NaN or inf."""
    values = np.asarray(values)
    bad = ~np.isfinite(values)
    if bad.any():
        index = np.unravel_index(np.flatnonzero(bad)[0], values.shape)
        where = index[0] if len(index) == 1 else index
        raise ValueError(f"{name} has a non-finite value ({values[index]!r}) at index {where}")
    return values


def as_node_array(name, values, n=None, *, minimum=None, strict=False, dtype=float):
    """Validate a per-node parameter array.

    Parameters
    ----------
    name : str
        Parameter name used in error messages (e.g. ``"m"`` or ``"inertia"``).
    values : array_like
        Scalar (broadcast to ``n``) or 1-D array.
    n : int, optional
        Required length.
    minimum : float, optional
        Lower bound; ``strict`` makes it exclusive.

    Returns
    -------
    ndarray
        A contiguous 1-D float array.
    """
    arr = np.asarray(values, dtype=dtype)
    if arr.ndim == 0 and n is not None:
        arr = np.full(n, arr.item(), dtype=dtype)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array, got shape {arr.shape}")
    if n is not None and arr.shape[0] != n:
        raise ValueError(f"{name} must have length {n}, got {arr.shape[0]}")
    check_finite(name, arr)
    if minimum is not None:
        bad = arr <= minimum if strict else arr < minimum
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            relation = ">" if strict else ">="
            raise ValueError(
                f"{name} must be {relation} {minimum} at every node; node {i} has {arr[i]!r}"
            )
    return np.ascontiguousarray(arr)


def as_frequencies(s):
    """Return complex frequencies as a 1-D complex array and whether the input was scalar."""
    arr = np.asarray(s, dtype=complex)
    scalar = arr.ndim == 0
    arr = np.atleast_1d(arr)
    if arr.ndim != 1:
        raise ValueError(f"frequencies s must be a scalar or 1-D array, got shape {arr.shape}")
    check_finite("s", arr)
    return arr, scalar


def as_node_group(group, n, name="group"):
    """Node indices of a group of nodes out of ``n``, from indices or a boolean mask.

    Parameters
    ----------
    group : array_like of int or array_like of bool
        Node indices 0..n-1, each at most once, or a boolean mask of length ``n``.
    n : int
        Number of nodes the group is taken from.
    name : str
        Used in error messages.

    Returns
    -------
    ndarray of int64
        The node indices: in the order given, or ascending for a mask.

    Raises
    ------
    ValueError
        An empty group, a mask of the wrong length, indices that are not integers, or a
        node given more than once (named by its 1-based machine number and its index).
    IndexError
        An index outside 0..n-1.

    Examples
    --------
    >>> as_node_group([True, False, True, False], 4).tolist()
    [0, 2]
    >>> as_node_group([3, 1], 4).tolist()
    [3, 1]
    >>> as_node_group([0, 0], 4)
    Traceback (most recent call last):
    ...
    ValueError: machine 1 (node index 0) appears twice in group
    """
    values = np.asarray(group)
    if values.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of node indices or a boolean mask, "
                         f"got shape {values.shape}")
    if values.dtype == bool:
        if values.size != n:
            raise ValueError(f"{name} is a boolean mask of length {values.size}; it must have one entry "
                             f"per node ({n})")
        indices = np.flatnonzero(values)
    elif values.size and not np.issubdtype(values.dtype, np.integer):
        raise ValueError(f"{name} must hold integer node indices or be a boolean mask, got {values.dtype} values")
    else:
        indices = values.astype(np.int64)
    if indices.size == 0:
        raise ValueError(f"{name} is empty; it must hold at least one node")
    outside = (indices < 0) | (indices >= n)
    if outside.any():
        raise IndexError(f"{name} refers to node index {int(indices[outside][0])}, outside 0..{n - 1}")
    counts = np.bincount(indices, minlength=n)
    if counts.max() > 1:
        first = int(indices[counts[indices] > 1][0])
        times = "twice" if counts[first] == 2 else f"{counts[first]} times"
        raise ValueError(f"machine {first + 1} (node index {first}) appears {times} in {name}")
    return indices


def first_repeat(values):
    """Positions ``(i, j)``, i < j, of the first value that occurs again, or None.

    Examples
    --------
    >>> first_repeat(["G1", "G2", "G3", "G2"])
    (1, 3)
    >>> first_repeat(["G1", "G2"]) is None
    True
    """
    seen = {}
    for j, value in enumerate(values):
        if value in seen:
            return seen[value], j
        seen[value] = j
    return None
