"""Optional dependencies: import them where a feature needs them, or say which extra to install.

Parallel sweeps (Dask) and Parquet tables (pyarrow) are extras
(``pip install "gridcoherence[distributed]"``); a user without them gets one line naming
the extra, before any work starts, instead of an ImportError from deep inside a run.
"""

from __future__ import annotations

import importlib

__all__ = ["MissingExtraError", "require"]


class MissingExtraError(ImportError):
    """An optional dependency is not installed; the message names the extra to install."""


def require(module, extra, feature):
    """Import ``module`` or raise :class:`MissingExtraError` naming ``extra``.

    Examples
    --------
    >>> require("json", "none", "reading JSON").__name__
    'json'
    >>> require("no_such_module_xyz", "distributed", "parallel sweeps")
    Traceback (most recent call last):
    ...
    gridcoherence._extras.MissingExtraError: parallel sweeps need the optional package no_such_module_xyz: pip install "gridcoherence[distributed]"
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtraError(f"{feature} need the optional package {module}: "
                                f'pip install "gridcoherence[{extra}]"') from exc
