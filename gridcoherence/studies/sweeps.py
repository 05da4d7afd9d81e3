"""Resumable parameter sweeps over seeds, serially or on a Dask cluster.

A *study* is a function ``study(seed, **params) -> dict`` of scalar results (a
Monte-Carlo trial of a random network, say). :func:`sweep` runs it for every
combination of parameter values and seeds and writes one tidy table with one row per
run. Rows are appended to a CSV file as runs finish (flushed and fsync'ed), so an
interrupted sweep keeps what it has; running the same sweep again skips the finished
runs. Because each run depends only on its seed and parameters, a sweep on Dask gives
the same table as a serial one (rows are sorted by parameters and seed at the end).

Dask is used through ``dask.distributed``: a ``LocalCluster`` by default, or an existing
scheduler given by address (``tcp://host:port``).
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .._extras import require
from .._io import atomic_write

__all__ = ["sweep", "SweepResult", "run_key", "parse_value"]

#: Columns every sweep table has besides the parameters and the results.
_META = ("study", "seed", "seconds")


def _resolve_study(study):
    if callable(study):
        return getattr(study, "__name__", "study"), study
    from .bundled import STUDIES

    if study not in STUDIES:
        raise ValueError(f"unknown study {study!r}; available: {', '.join(sorted(STUDIES))}")
    return study, STUDIES[study]


def run_key(params, seed):
    """Canonical identity of one run: its parameters (sorted, JSON) and its seed."""
    return json.dumps(params, sort_keys=True, default=str), int(seed)


def _grid(params):
    """All combinations of a dict of value lists, as a list of dicts (sorted keys)."""
    params = params or {}
    for key, values in params.items():
        if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
            raise ValueError(f"parameter {key!r} must be given as a list of values")
    keys = sorted(params)
    return [dict(zip(keys, combo)) for combo in itertools.product(*(list(params[k]) for k in keys))]


def _execute(study_fn, params, seed):
    """One run: the study's results plus its timing (executed on a worker)."""
    start = time.perf_counter()
    result = study_fn(seed, **params)
    if not isinstance(result, dict):
        raise TypeError(f"a study must return a dict of results, got {type(result).__name__}")
    return {"seed": int(seed), **params, **result, "seconds": time.perf_counter() - start}


def _read_finished(path, param_names):
    """Rows already in ``path`` and their run keys; a torn last line is dropped."""
    if not path.exists() or path.stat().st_size == 0:
        return [], set()
    text = path.read_text(encoding="utf-8")
    if not text.endswith("\n"):
        text = text[: text.rfind("\n") + 1]
        with open(path, "w", encoding="utf-8") as handle:  # repair the torn write in place
            handle.write(text)
    rows = list(csv.DictReader(io.StringIO(text)))
    finished = set()
    for row in rows:
        params = {k: parse_value(row[k]) for k in param_names if k in row}
        finished.add(run_key(params, int(row["seed"])))
    return rows, finished


def parse_value(text):
    """CSV text back to int/float/bool/str (parameters are compared as values)."""
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    return {"True": True, "False": False}.get(text, text)


@dataclass
class SweepResult:
    """Outcome of :func:`sweep`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per run, sorted by parameters then seed.
    path : Path
        The CSV file holding the table.
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

    Parameters
    ----------
    study : str or callable
        A bundled study name (:data:`gridcoherence.studies.bundled.STUDIES`) or a function
        ``study(seed, **params) -> dict``; with Dask it must be importable by workers.
    seeds : iterable of int
    params : dict of lists, optional
        Parameter grid, e.g. ``{"n": [80, 320, 1280]}``.
    out : str or Path
        CSV file (created or resumed). Its folder must exist.
    scheduler : None, "serial", "local" or str
        ``None``/``"serial"``: run in this process; ``"local"``: a
        ``dask.distributed.LocalCluster`` with ``n_workers`` single-threaded workers;
        any other string: address of an existing Dask scheduler.
    n_workers : int
        Workers of the local cluster.
    progress : bool, optional
        Show a tqdm bar (default: only on a terminal).
    parquet : bool
        Also write the final table as Parquet beside the CSV (same stem).

    Returns
    -------
    SweepResult

    Examples
    --------
    >>> import tempfile, pathlib
    >>> def trial(seed, scale):
    ...     return {"value": seed * scale}
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "trial.csv"
    >>> result = sweep(trial, seeds=[0, 1], params={"scale": [1, 10]}, out=out, progress=False)
    >>> result.table[["scale", "seed", "value"]].values.tolist()
    [[1, 0, 0], [1, 1, 1], [10, 0, 0], [10, 1, 10]]
    """
    name, study_fn = _resolve_study(study)
    out = Path(out)
    if not out.parent.exists():
        raise FileNotFoundError(f"output folder {out.parent} does not exist")
    # Optional packages are checked before any run, so a missing one costs no work.
    if scheduler not in (None, "serial"):
        require("dask.distributed", "distributed", "parallel sweeps")
    if parquet:
        require("pyarrow", "distributed", "Parquet tables")
    grid = _grid(params)
    param_names = sorted(params or {})
    seeds = [int(s) for s in seeds]
    existing, finished = _read_finished(out, param_names)
    todo = [(p, s) for p in grid for s in seeds if run_key(p, s) not in finished]
    n_skipped = len(grid) * len(seeds) - len(todo)
    header = list(existing[0].keys()) if existing else None
    if progress is None:
        progress = os.isatty(2)

    with open(out, "a", encoding="utf-8", newline="") as handle:
        writer = None

        def record(row):
            nonlocal writer, header
            row = {"study": name, **row}
            if writer is None:
                header = header or list(row.keys())
                writer = csv.DictWriter(handle, fieldnames=header, extrasaction="raise")
                if handle.tell() == 0:
                    writer.writeheader()
            writer.writerow(row)
            handle.flush()
            os.fsync(handle.fileno())

        from tqdm.auto import tqdm

        with tqdm(total=len(todo), disable=not progress, desc=f"sweep {name}") as bar:
            for row in _run(study_fn, todo, scheduler, n_workers):
                record(row)
                bar.update()

    table = _final_table(out, param_names)
    if parquet:
        with atomic_write(out.with_suffix(".parquet"), "wb") as handle:
            table.to_parquet(handle, index=False)
    return SweepResult(table, out, len(todo), n_skipped)


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


def _final_table(path, param_names):
    table = pd.read_csv(path)
    order = [c for c in param_names if c in table.columns] + ["seed"]
    return table.sort_values(order, kind="stable").reset_index(drop=True)
