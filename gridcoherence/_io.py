"""Atomic output files and run folders shared by the experiment drivers, the CLI and the exporters.

Every file the package writes goes through :func:`atomic_write`: the content is written
to a temporary file in the destination folder and moved into place with ``os.replace``,
so an interrupted run never leaves a half-written file behind.

A run folder (the command line's ``reduce --out`` and ``compare --out``) is atomic as a
whole: :func:`atomic_directory` writes the run into a hidden sibling folder and swaps it
into place only when every file is written, so the folder is at every instant either
the complete earlier run or the complete new one. Each run folder holds a manifest,
:data:`MANIFEST` (:func:`write_manifest`), which also marks it as a folder this package
may replace.

:func:`write_reproduction` finishes every reproduced figure and table of the dissertation:
a caption line naming what it reproduces and where its data come from, on the PNG and in
the JSON.
"""

from __future__ import annotations

import contextlib
import datetime
import errno
import functools
import json
import math
import os
import re
import secrets
import shutil
import signal
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np

__all__ = ["atomic_write", "write_json", "save_figure", "write_reproduction", "to_jsonable", "MANIFEST",
           "RunFolderError", "check_run_folder", "atomic_directory", "write_manifest"]

#: File name of a run folder's manifest (:func:`write_manifest`).
MANIFEST = "run.json"

#: Suffix of the folder that keeps the earlier run with ``keep_previous=True``.
PREVIOUS_SUFFIX = ".previous"

#: Hidden siblings of a run folder ``NAME``: ``.NAME.tmp-PID-XXXXXXXX``, a run being written
#: by process PID or an earlier run being removed. A process killed with SIGKILL leaves
#: them behind; the next run into the same parent removes them.
_SIBLING = re.compile(r"\.(?P<name>.+)\.tmp-(?P<pid>[0-9]+)-[0-9a-f]{8}")


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
    try:  # at once: a Ctrl-C from here on removes the temporary file
        # mkstemp creates the file 0600; give it the permissions a plain open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
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


def subplots(nrows=1, ncols=1, **kwargs):
    """A figure and its axes like :func:`matplotlib.pyplot.subplots`, without pyplot.

    The figure is a plain :class:`matplotlib.figure.Figure`: no backend is chosen or
    changed (a user's notebook keeps its own) and nothing is registered with pyplot, so
    nothing needs closing. ``figsize`` and ``layout`` go to the figure, the rest to
    :meth:`~matplotlib.figure.Figure.subplots`.
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=kwargs.pop("figsize", None), layout=kwargs.pop("layout", None))
    return fig, fig.subplots(nrows, ncols, **kwargs)


def save_figure(fig, path, dpi=120):
    """Save a matplotlib figure atomically (format from the suffix)."""
    path = Path(path)
    with atomic_write(path, "wb") as handle:
        fig.savefig(handle, format=path.suffix.lstrip(".") or "png", dpi=dpi)


#: Height (inches) of one line of a reproduction's caption strip.
_CAPTION_LINE = 0.2


def write_reproduction(out_dir, name, fig, numbers, *, reproduces, data_source):
    """Write ``NAME.json`` and ``NAME.png`` of a reproduced dissertation figure or table.

    The figure gets a caption strip at its bottom, "Reproduces <reproduces> of the
    dissertation. Data: <data_source>", below its laid-out axes (the figure grows by the
    strip's height, the axes keep theirs); the JSON gets the fields ``reproduces``,
    ``data_source`` and ``caption`` before the numbers.

    Parameters
    ----------
    out_dir : str or Path
        Created if missing.
    name : str
        File stem, e.g. ``"fig3_5"``.
    fig : matplotlib.figure.Figure
        Not yet laid out (this function calls ``tight_layout``).
    numbers : dict
        The figure's numbers.
    reproduces : str
        The dissertation's figure or table, e.g. ``"Fig. 3-5"``.
    data_source : str
        Where the numbers come from; say so when data are substitutes or stand-ins.

    Returns
    -------
    dict
        ``numbers`` with the three fields first (what is written to the JSON).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    caption = f"Reproduces {reproduces} of the dissertation. Data: {data_source}"
    width, height = fig.get_size_inches()
    characters_per_line = max(int(width * 13), 40)  # about 13 characters of 8-point text per inch
    lines = textwrap.wrap(caption, characters_per_line)
    strip = _CAPTION_LINE * len(lines) + 0.1
    fig.set_size_inches(width, height + strip)
    fig.tight_layout(rect=(0.0, strip / (height + strip), 1.0, 1.0))
    fig.text(0.01, 0.05 / (height + strip), "\n".join(lines), fontsize=8, ha="left", va="bottom", color="0.25")
    record = {"reproduces": reproduces, "data_source": data_source, "caption": caption, **numbers}
    write_json(out_dir / f"{name}.json", record)
    save_figure(fig, out_dir / f"{name}.png")
    return record


# ---------------------------------------------------------------------------- run folders
class RunFolderError(ValueError):
    """A run folder cannot be written at a path: it is a file, a folder this package did
    not write, or its parent cannot be created or written."""


def check_run_folder(path, *, keep_previous=False):
    """Raise :class:`RunFolderError` unless :func:`atomic_directory` may write ``path``.

    ``path`` may be absent (its parents are created when the run is written), an empty
    folder or an earlier run folder (one holding :data:`MANIFEST`); a file or a non-empty
    folder without a manifest is refused, so a run never replaces data it did not write.
    Nothing is created.

    Parameters
    ----------
    path : str or Path
        The run folder.
    keep_previous : bool
        Also check ``NAME.previous``, where the earlier run will be kept.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> (folder / "notes.txt").write_text("mine")
    4
    >>> check_run_folder(folder / "run")            # absent: may be written
    >>> check_run_folder(folder)
    Traceback (most recent call last):
    ...
    gridcoherence._io.RunFolderError: ... is a folder gridcoherence did not write (no run.json); give a new or empty folder
    """
    path = Path(os.path.abspath(path))
    if not path.name:
        raise RunFolderError(f"{path} cannot be a run folder")
    targets = [path, path.with_name(path.name + PREVIOUS_SUFFIX)] if keep_previous else [path]
    for target in targets:
        if target.is_symlink():
            raise RunFolderError(f"{target} is a symbolic link; give the folder itself")
        if target.exists() and not target.is_dir():
            raise RunFolderError(f"{target} is a file, not a folder")
        if target.is_dir() and not (target / MANIFEST).is_file() and any(target.iterdir()):
            raise RunFolderError(f"{target} is a folder gridcoherence did not write (no {MANIFEST}); "
                                 "give a new or empty folder")
    ancestor = path.parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise RunFolderError(f"cannot create output folder {path}: {ancestor} is not a folder")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise RunFolderError(f"cannot create output folder {path}: {ancestor} is not writable")


@contextlib.contextmanager
def atomic_directory(path, *, keep_previous=False):
    """Write a run folder completely or not at all; replace an earlier run only when done.

    Yields a new hidden folder ``.NAME.tmp-PID-XXXXXXXX`` beside ``path``; write the run
    into it. When the block ends without an exception, the folder is swapped into place
    and the earlier run is removed, or kept as ``NAME.previous`` (replacing an older one).
    On Linux the swap is one atomic ``renameat2(RENAME_EXCHANGE)``, so ``path`` holds the
    complete earlier or the complete new run at every instant, even if the process is
    killed; elsewhere the earlier folder is renamed aside and the new one in (and the
    earlier one back if that fails), so between the two renames ``path`` is briefly
    absent. On an exception, including Ctrl-C, the hidden folder is removed and ``path``
    is left as it was. SIGINT and SIGTERM are held back while the folders are swapped.

    Hidden folders of this pattern that a killed process left in the parent are removed
    on entry: those older than this run whose process is gone.

    Parameters
    ----------
    path : str or Path
        The run folder: absent, empty or an earlier run (:func:`check_run_folder`).
    keep_previous : bool
        Keep the earlier run as ``NAME.previous`` instead of removing it.

    Yields
    ------
    pathlib.Path
        The folder to write into.

    Raises
    ------
    RunFolderError
        From :func:`check_run_folder`, before anything is written.

    Examples
    --------
    >>> import tempfile
    >>> run = Path(tempfile.mkdtemp()) / "run"
    >>> with atomic_directory(run) as folder:
    ...     _ = (folder / "notes.txt").write_text("x")
    ...     _ = write_manifest(folder, {"command": ["example"]})
    >>> sorted(p.name for p in run.parent.iterdir()), json.loads((run / MANIFEST).read_text())["files"]
    (['run'], [{'name': 'notes.txt', 'bytes': 1}])
    """
    started = time.time()
    check_run_folder(path, keep_previous=keep_previous)
    path = Path(os.path.abspath(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_siblings(path.parent, started)
    folder = _new_sibling(path)
    earlier = None  # where the replaced run is, once the new one is in place
    # One try from the yield to the end: a Ctrl-C between the block's end and the swap
    # (before the signals are held) must still discard the hidden folder.
    try:
        yield folder
        with _signals_held():
            earlier = _move_folder(folder, path)
            if earlier is not None and keep_previous:
                earlier = _move_folder(earlier, path.with_name(path.name + PREVIOUS_SUFFIX))
    except BaseException:
        if earlier is None:  # not swapped in: ``folder`` holds the unfinished run
            shutil.rmtree(folder, ignore_errors=True)
        raise
    finally:
        if earlier is not None:
            # Left behind only if removal fails; the next run into this parent removes it.
            shutil.rmtree(earlier, ignore_errors=True)


def write_manifest(folder, record):
    """Write ``folder/run.json``: ``record``, the package version and every file with its size.

    Call it last, when every other file of the run is in ``folder``.

    Parameters
    ----------
    folder : str or Path
        The run folder being written (from :func:`atomic_directory`).
    record : dict
        What made the run, e.g. ``command``, ``case``, ``options``, ``seeds``.

    Returns
    -------
    pathlib.Path
        The manifest.
    """
    from . import __version__

    folder = Path(folder)
    files = [{"name": p.relative_to(folder).as_posix(), "bytes": p.stat().st_size}
             for p in sorted(folder.rglob("*")) if p.is_file() and p.name != MANIFEST]
    created = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    write_json(folder / MANIFEST, {"gridcoherence_version": __version__, "created": created, **record,
                                   "files": files})
    return folder / MANIFEST


def _new_sibling(path):
    while True:
        sibling = path.with_name(f".{path.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}")
        with contextlib.suppress(FileExistsError):
            sibling.mkdir()
            return sibling


def _remove_stale_siblings(parent, started):
    """Remove the hidden run folders of killed processes: older than ``started``, process gone."""
    for entry in os.scandir(parent):
        match = _SIBLING.fullmatch(entry.name)
        if (match and entry.is_dir(follow_symlinks=False) and entry.stat(follow_symlinks=False).st_mtime < started
                and not _process_alive(int(match["pid"]))):
            shutil.rmtree(entry.path, ignore_errors=True)


def _process_alive(pid):
    if pid == os.getpid():
        return True
    if os.name != "posix":  # no signal-0 probe: the age alone decides
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _move_folder(source, target):
    """Move folder ``source`` onto ``target``; return where the former ``target`` now is (or None)."""
    if not os.path.lexists(target):
        os.rename(source, target)
        return None
    if _exchange(source, target):
        return source
    aside = _new_sibling(target)
    os.rmdir(aside)
    os.rename(target, aside)
    try:
        os.rename(source, target)
    except BaseException:
        os.rename(aside, target)
        raise
    return aside


@functools.lru_cache(maxsize=1)
def _renameat2():
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    function = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if function is not None:
        function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
        function.restype = ctypes.c_int
    return function


def _exchange(first, second):
    """Swap two existing paths in one step (Linux); False where the system or file system cannot."""
    function = _renameat2()
    if function is None:
        return False
    import ctypes

    at_cwd, rename_exchange = -100, 2  # AT_FDCWD and RENAME_EXCHANGE of <fcntl.h>, <linux/fs.h>
    if function(at_cwd, os.fsencode(first), at_cwd, os.fsencode(second), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(first), None, str(second))


@contextlib.contextmanager
def _signals_held():
    """Hold SIGINT and SIGTERM back (POSIX); a held signal arrives when the block ends."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
