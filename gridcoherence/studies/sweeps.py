"""Resumable parameter sweeps over seeds, serially or on a Dask cluster.

A *study* is a function ``study(seed, **params) -> dict`` of scalar results (a
Monte-Carlo trial of a random network, say). :func:`sweep` runs it for every
combination of parameter values and seeds and writes one tidy table with one row per
run. Because each run depends only on its seed and parameters, a sweep on Dask gives
the same table as a serial one (rows are sorted by parameters and seed at the end).

Resuming. A run is known by its key (:func:`run_key`): the study's name, the package
version, the value of *every* parameter of the study (given, or the default in the
study function's signature) and the seed. Running a sweep again on the same file
reuses exactly the rows whose key it asks for; rows of other seeds, other parameter
values or another package version stay in the file but are neither reused nor
returned. A file holds the table of one study: a file whose header is not that of a
sweep table of this study (columns ``study, version, seed``, every parameter, the
results, ``seconds``) is refused and left unchanged.

Writing. A sweep holds an exclusive lock on ``<out>.lock`` (``fcntl.flock``) from start
to end, so a second sweep on the same file stops at once with :class:`SweepError`. The
first row creates the file together with its header, atomically; later rows are
appended one by one, each flushed and fsync'ed, so an interrupted sweep keeps every
finished row. A torn last line (a write cut short) is cut off before resuming, by
writing the repaired table beside the file and moving it into place.

Dask is used through ``dask.distributed``: a ``LocalCluster`` by default, or an existing
scheduler given by address (``tcp://host:port``).
"""

from __future__ import annotations

import contextlib
import csv
import fcntl
import inspect
import io
import itertools
import math
import numbers
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from .. import __version__
from .._extras import require
from .._io import atomic_write

__all__ = ["sweep", "plan_sweep", "run_key", "SweepPlan", "SweepResult", "SweepError"]

#: Columns every sweep table has besides the parameters and the results.
_META = ("study", "version", "seed", "seconds")


class SweepError(ValueError):
    """A sweep refused before it ran: bad study, seeds, parameters or output file.

    Attributes
    ----------
    argument : {"study", "seeds", "params", "out"}
        The argument of :func:`sweep` at fault.
    """

    def __init__(self, message, argument):
        super().__init__(message)
        self.argument = argument


def run_key(study, params, seed, version=__version__):
    """Identity of one run: study, package version, every parameter and the seed.

    Values are compared as the text the CSV table holds (``str``), so a key computed for a
    planned run equals the key of the row that run wrote.

    Parameters
    ----------
    study : str
        Name of the study.
    params : dict
        Value of every parameter of the study.
    seed : int or str
    version : str
        Package version that computed the run (default: this one).

    Examples
    --------
    >>> run_key("trial", {"scale": 10, "mode": "fast"}, 3, version="0.1.0")
    ('trial', '0.1.0', (('mode', 'fast'), ('scale', '10')), '3')
    """
    return str(study), str(version), tuple((k, str(params[k])) for k in sorted(params)), str(int(seed))


@dataclass(frozen=True)
class SweepPlan:
    """The validated runs of a sweep (from :func:`plan_sweep`).

    Attributes
    ----------
    study : str
        Name of the study (a callable is known by its ``__name__``).
    function : callable
        ``study(seed, **params) -> dict``.
    parameters : tuple of str
        Every parameter of the study, sorted.
    runs : tuple of (dict, int)
        Every run: the value of each parameter, and the seed.
    """

    study: str
    function: Callable
    parameters: tuple
    runs: tuple

    def keys(self):
        """The :func:`run_key` of every run, in the order of :attr:`runs`."""
        return [run_key(self.study, params, seed) for params, seed in self.runs]


def plan_sweep(study, seeds, params=None):
    """Check a sweep's study, seeds and parameters, and list its runs; nothing is run.

    Parameters not given take the default of the study function's signature. Values are
    converted to the type of that default (int, float, bool or str; text such as
    ``"100"`` or ``"true"`` is accepted, as from the command line); values of a parameter
    whose default has another type, or that has no default, are used as given.

    Parameters
    ----------
    study, seeds, params
        As for :func:`sweep`.

    Returns
    -------
    SweepPlan

    Raises
    ------
    SweepError
        Unknown study or parameter, a value of the wrong type, a non-finite float, a
        parameter without default and without values, repeated values or seeds, no
        seeds, a negative seed.

    Examples
    --------
    >>> plan = plan_sweep("concentration", [0, 1], {"n": ["10", "100"]})
    >>> plan.parameters
    ('n', 'n_freq', 'n_reference', 'omega_max')
    >>> plan.runs[2]
    ({'n': 100, 'n_freq': 20, 'n_reference': 200000, 'omega_max': 2.0}, 0)
    >>> plan_sweep("concentration", [0], {"bogus": [1]})
    Traceback (most recent call last):
    ...
    gridcoherence.studies.sweeps.SweepError: study 'concentration' has no parameter 'bogus'; its parameters: n, n_freq, n_reference, omega_max
    """
    name, function = _resolve_study(study)
    defaults = _study_parameters(name, function)
    params = dict(params or {})
    unknown = sorted(set(params) - set(defaults))
    if unknown:
        raise SweepError(f"study {name!r} has no parameter {unknown[0]!r}; its parameters: "
                         f"{', '.join(sorted(defaults)) or '(none)'}", "params")
    values = {key: _parameter_values(name, key, params.get(key), default)
              for key, default in defaults.items()}
    seeds = _check_seeds(seeds)
    names = tuple(sorted(values))
    grid = [dict(zip(names, combo)) for combo in itertools.product(*(values[k] for k in names))]
    return SweepPlan(name, function, names, tuple((p, s) for p in grid for s in seeds))


def _resolve_study(study):
    if callable(study):
        return getattr(study, "__name__", "study"), study
    from .bundled import STUDIES

    if study not in STUDIES:
        raise SweepError(f"unknown study {study!r}; available: {', '.join(sorted(STUDIES))}", "study")
    return study, STUDIES[study]


def _study_parameters(name, function):
    """The parameters after the seed: name -> default (``inspect.Parameter.empty`` if none)."""
    parameters = list(inspect.signature(function).parameters.values())
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    if not parameters or parameters[0].kind not in positional:
        raise SweepError(f"study {name!r} must take the seed as its first argument", "study")
    named = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    for parameter in parameters[1:]:
        if parameter.kind not in named:
            raise SweepError(f"study {name!r}: parameter {parameter.name!r} must be a named keyword "
                             "argument (a run is known by the value of every parameter)", "study")
        if parameter.name in _META:
            raise SweepError(f"study {name!r}: parameter {parameter.name!r} clashes with the table "
                             f"column of that name", "study")
    return {p.name: p.default for p in parameters[1:]}


def _parameter_values(study, name, given, default):
    """The values of one parameter, converted to its default's type; ``[default]`` if not given."""
    if given is None:
        if default is inspect.Parameter.empty:
            raise SweepError(f"parameter {name!r} of study {study!r} has no default: give its values",
                             "params")
        return [default]
    if isinstance(given, (str, bytes)) or not hasattr(given, "__iter__"):
        raise SweepError(f"parameter {name!r} must be given as a list of values", "params")
    values = [_convert(study, name, value, default) for value in given]
    if not values:
        raise SweepError(f"parameter {name!r} of study {study!r} has an empty list of values", "params")
    texts = [str(v) for v in values]
    repeated = next((t for i, t in enumerate(texts) if t in texts[:i]), None)
    if repeated is not None:
        raise SweepError(f"parameter {name!r} lists the value {repeated} twice", "params")
    return values


def _convert(study, name, value, default):
    """``value`` (a Python value or command-line text) as the type of ``default``."""
    def wrong(expected):
        return SweepError(f"parameter {name!r} of study {study!r} must be {expected}, got {value!r}",
                          "params")

    if isinstance(default, bool):
        if isinstance(value, (bool, np.bool_)):
            return bool(value)
        words = {"true": True, "false": False}
        if isinstance(value, str) and value.lower() in words:
            return words[value.lower()]
        raise wrong("True or False")
    if isinstance(default, numbers.Integral):
        if isinstance(value, numbers.Integral) and not isinstance(value, bool):
            return int(value)
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                return int(value)
        raise wrong("an integer")
    if isinstance(default, numbers.Real):
        number = None
        if isinstance(value, numbers.Real) and not isinstance(value, bool):
            number = float(value)
        elif isinstance(value, str):
            with contextlib.suppress(ValueError):
                number = float(value)
        if number is None or not math.isfinite(number):
            raise wrong("a finite number")
        return number
    if isinstance(default, str):
        if not isinstance(value, str):
            raise wrong("a string")
        return value
    return value


def _check_seeds(seeds):
    try:
        seeds = list(seeds)
    except TypeError:
        raise SweepError(f"seeds must be a list of integers, got {seeds!r}", "seeds") from None
    if not seeds:
        raise SweepError("seeds is empty: give at least one seed", "seeds")
    for i, seed in enumerate(seeds):
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
            raise SweepError(f"seeds must be non-negative integers, got {seed!r}", "seeds")
        if seed in seeds[:i]:
            raise SweepError(f"seed {seed} is listed twice", "seeds")
    return [int(s) for s in seeds]


def _execute(study_fn, params, seed):
    """One run: the study's results plus its timing (executed on a worker)."""
    start = time.perf_counter()
    result = study_fn(seed, **params)
    if not isinstance(result, dict):
        raise TypeError(f"a study must return a dict of results, got {type(result).__name__}")
    clash = sorted(set(result) & (set(params) | set(_META)))
    if clash:
        raise TypeError(f"a study's results must not be named like a parameter or table column: {clash}")
    return {"seed": int(seed), **params, **result, "seconds": time.perf_counter() - start}


@dataclass
class SweepResult:
    """Outcome of :func:`sweep`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per requested run (and only those), sorted by parameters then seed.
    path : Path
        The CSV file holding the table (it may hold further rows of earlier sweeps).
    n_run, n_skipped : int
        Runs executed now, and runs found finished from an earlier invocation.
    """

    table: pd.DataFrame
    path: Path
    n_run: int
    n_skipped: int


def sweep(study, seeds, params=None, *, out, scheduler=None, n_workers=2, progress=None,
          parquet=False):
    """Run ``study`` over every parameter combination and seed, resumably.

    A run is reused from ``out`` when its :func:`run_key` matches: same study, same
    package version, the same value of every parameter of the study (a parameter not in
    ``params`` counts with its default) and the same seed. Everything is checked before
    the first run; while the sweep runs it holds an exclusive lock on ``<out>.lock``, so
    a second sweep on the same file fails at once (the lock file is removed at the end).

    Parameters
    ----------
    study : str or callable
        A bundled study name (:data:`gridcoherence.studies.bundled.STUDIES`) or a function
        ``study(seed, **params) -> dict`` with named parameters after the seed; with Dask
        it must be importable by workers.
    seeds : iterable of int
        Distinct non-negative seeds.
    params : dict of lists, optional
        Parameter grid, e.g. ``{"n": [80, 320, 1280]}``; values are converted to the type of
        the parameter's default (see :func:`plan_sweep`).
    out : str or Path
        CSV file (created or resumed). Its folder must exist. An existing file must be a
        sweep table of this study; anything else is refused and left unchanged.
    scheduler : None, "serial", "local" or str
        ``None``/``"serial"``: run in this process; ``"local"``: a
        ``dask.distributed.LocalCluster`` with ``n_workers`` single-threaded workers;
        any other string: address of an existing Dask scheduler.
    n_workers : int
        Workers of the local cluster.
    progress : bool, optional
        Show a tqdm bar (default: only on a terminal).
    parquet : bool
        Also write the returned table as Parquet beside the CSV (same stem).

    Returns
    -------
    SweepResult

    Raises
    ------
    SweepError
        Bad study, seeds or parameters (:func:`plan_sweep`), ``out`` a folder or not a sweep
        table of this study, or another sweep writing ``out``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> def trial(seed, scale, offset=0):
    ...     return {"value": seed * scale + offset}
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "trial.csv"
    >>> result = sweep(trial, seeds=[0, 1], params={"scale": [1, 10]}, out=out, progress=False)
    >>> result.table[["scale", "offset", "seed", "value"]].values.tolist()
    [[1, 0, 0, 0], [1, 0, 1, 1], [10, 0, 0, 0], [10, 0, 1, 10]]
    >>> again = sweep(trial, seeds=[0, 1], params={"scale": [10], "offset": [0, 5]}, out=out,
    ...               progress=False)
    >>> again.n_skipped, again.n_run
    (2, 2)
    """
    plan = plan_sweep(study, seeds, params)
    out = Path(out)
    if out.is_dir():
        raise SweepError(f"{out} is a folder; give the path of a CSV file", "out")
    if not out.parent.is_dir():
        raise FileNotFoundError(f"output folder {out.parent} does not exist")
    # Optional packages are checked before any run, so a missing one costs no work.
    if scheduler not in (None, "serial"):
        require("dask.distributed", "distributed", "parallel sweeps")
    if parquet:
        require("pyarrow", "distributed", "Parquet tables")
    if progress is None:
        progress = os.isatty(2)

    with _exclusive_lock(out):
        header, rows = _read_table(out, plan)
        wanted = plan.keys()
        requested = set(wanted)
        lines = {}  # key -> CSV line of each requested run, found in the file or done now
        for key, row in rows:
            if key in requested and key not in lines:
                lines[key] = _csv_line(row)
        todo = [run for run, key in zip(plan.runs, wanted) if key not in lines]
        n_skipped = len(plan.runs) - len(todo)

        from tqdm.auto import tqdm

        with _TableWriter(out, plan, header) as table_file, \
                contextlib.closing(_run(plan.function, todo, scheduler, n_workers)) as finished, \
                tqdm(total=len(todo), disable=not progress, desc=f"sweep {plan.study}") as bar:
            for row in finished:
                lines[run_key(plan.study, {k: row[k] for k in plan.parameters}, row["seed"])] = \
                    table_file.append(row)
                bar.update()
        table = _final_table(table_file.header, [lines[key] for key in wanted], plan.parameters)
        if parquet:
            with atomic_write(out.with_suffix(".parquet"), "wb") as handle:
                table.to_parquet(handle, index=False)
    return SweepResult(table, out, len(todo), n_skipped)


@contextlib.contextmanager
def _exclusive_lock(out):
    """Hold an exclusive, non-blocking ``flock`` on ``<out>.lock``; the file is removed on exit."""
    path = out.with_name(out.name + ".lock")
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise SweepError(f"another sweep is writing {out} (it holds {path.name})", "out") from None
        try:
            locked_current_file = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            locked_current_file = False
        if locked_current_file:
            break
        # The previous holder removed the lock file between our open and flock: lock anew.
        os.close(fd)
    try:
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):  # removed while still locked, so no
            os.unlink(path)  # other sweep can hold the removed file
        os.close(fd)


def _csv_line(fields):
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(fields)
    return buffer.getvalue()


def _is_table_of(header, plan):
    prefix = ["study", "version", "seed", *plan.parameters]
    return (header is not None and header[:len(prefix)] == prefix and len(header) > len(prefix)
            and header[-1] == "seconds" and len(set(header)) == len(header))


def _read_table(path, plan):
    """Header and ``(run key, row)`` pairs of the sweep table at ``path`` (``None, []`` if absent).

    The file must be a sweep table of ``plan.study``; otherwise it is left unchanged and
    :class:`SweepError` names it. A torn last line is cut off atomically.
    """
    if not path.exists() or path.stat().st_size == 0:
        return None, []
    data = path.read_bytes()
    end = data.rfind(b"\n") + 1
    refusal = (f"{path} is not a sweep table of study {plan.study!r} (columns study, version, seed, "
               f"{', '.join(plan.parameters)}, <results>, seconds) and was left unchanged; "
               "write the sweep to another file")
    try:
        records = list(csv.reader(io.StringIO(data[:end].decode("utf-8"))))
    except (UnicodeDecodeError, csv.Error):
        raise SweepError(refusal, "out") from None
    header = records[0] if records else None
    if not _is_table_of(header, plan):
        raise SweepError(refusal, "out")
    rows = []
    for number, row in enumerate(records[1:], start=2):
        try:
            if len(row) != len(header) or row[0] != plan.study:
                raise ValueError
            key = run_key(row[0], dict(zip(plan.parameters, row[3:])), row[2], version=row[1])
        except ValueError:
            raise SweepError(f"{path}: row {number} is not a run of study {plan.study!r}; the file "
                             "was left unchanged", "out") from None
        rows.append((key, row))
    if end < len(data):  # a torn last line: the repaired table replaces the file in one step
        with atomic_write(path, "wb") as handle:
            handle.write(data[:end])
            _sync(handle)
    return header, rows


def _sync(handle):
    handle.flush()
    os.fsync(handle.fileno())


class _TableWriter:
    """Writes rows to a sweep table; each row is on disk (fsync'ed) before the next.

    Without a table yet, the first row creates the file together with its header,
    atomically; later rows are appended. :meth:`append` returns the row's CSV line.
    """

    def __init__(self, path, plan, header):
        self.path, self.plan, self.header = path, plan, header
        self._handle = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        if self._handle is not None:
            self._handle.close()

    def append(self, row):
        row = {"study": self.plan.study, "version": __version__, **row}
        if self.header is None:
            self.header = list(row)
            line = _csv_line([row[c] for c in self.header])
            with atomic_write(self.path, newline="") as handle:
                handle.write(_csv_line(self.header) + line)
                _sync(handle)
            return line
        if set(row) != set(self.header):
            raise SweepError(f"study {self.plan.study!r} returned the columns {', '.join(row)}, but "
                             f"{self.path} has {', '.join(self.header)}; write this sweep to a new "
                             "file", "out")
        line = _csv_line([row[c] for c in self.header])
        if self._handle is None:
            self._handle = open(self.path, "a", encoding="utf-8", newline="")
        self._handle.write(line)
        _sync(self._handle)
        return line


def _run(study_fn, todo, scheduler, n_workers):
    """Yield finished rows, serially or as Dask futures complete."""
    if scheduler in (None, "serial"):
        for params, seed in todo:
            yield _execute(study_fn, params, seed)
        return
    from dask.distributed import Client, LocalCluster, as_completed

    if scheduler == "local":
        cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
    else:
        cluster, client = None, Client(scheduler)
    try:
        futures = [client.submit(_execute, study_fn, params, seed, pure=False) for params, seed in todo]
        for future in as_completed(futures):
            yield future.result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _final_table(header, lines, param_names):
    table = pd.read_csv(io.StringIO(_csv_line(header) + "".join(lines)))
    return table.sort_values([*param_names, "seed"], kind="stable").reset_index(drop=True)
