"""Atomic output files shared by the experiment drivers, the CLI and the exporters.

Every file the package writes goes through :func:`atomic_write`: the content is written
to a temporary file in the destination folder and moved into place with ``os.replace``,
so an interrupted run never leaves a half-written file behind.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from pathlib import Path

import numpy as np

__all__ = ["atomic_write", "write_json", "save_figure", "to_jsonable"]


@contextlib.contextmanager
def atomic_write(path, mode="w", **open_kwargs):
    """Open a temporary file beside ``path``; move it onto ``path`` only on success.

    Parameters
    ----------
    path : str or Path
        Final destination. Its folder must exist.
    mode : {"w", "wb"}
        Text or binary.
    **open_kwargs
        Passed to :func:`open` (e.g. ``encoding``, ``newline``).

    Yields
    ------
    file object
        Write to it; on an exception the temporary file is removed and ``path`` is left
        untouched.
    """
    path = Path(path)
    if "b" not in mode:
        open_kwargs.setdefault("encoding", "utf-8")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    # mkstemp creates the file 0600; give it the permissions a plain open() would.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    try:
        with os.fdopen(fd, mode, **open_kwargs) as handle:
            yield handle
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def to_jsonable(obj):
    """Convert numpy scalars/arrays (and nested containers) to plain JSON types.

    Non-finite floats become ``None`` (JSON has no NaN); complex numbers become
    ``{"re": .., "im": ..}``.
    """
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (complex, np.complexfloating)):
        return {"re": to_jsonable(float(obj.real)), "im": to_jsonable(float(obj.imag))}
    if isinstance(obj, (float, np.floating)):
        value = float(obj)
        return value if math.isfinite(value) else None
    if isinstance(obj, (np.bool_,)):
        return bool(obj)
    if isinstance(obj, Path):
        return str(obj)
    return obj


def write_json(path, data, indent=2):
    """Write ``data`` (numpy types allowed) as JSON, atomically."""
    with atomic_write(path) as handle:
        json.dump(to_jsonable(data), handle, indent=indent, sort_keys=False)
        handle.write("\n")


def save_figure(fig, path, dpi=120):
    """Save a matplotlib figure atomically (format from the suffix) and close it."""
    import matplotlib.pyplot as plt

    path = Path(path)
    try:
        with atomic_write(path, "wb") as handle:
            fig.savefig(handle, format=path.suffix.lstrip(".") or "png", dpi=dpi)
    finally:
        plt.close(fig)
