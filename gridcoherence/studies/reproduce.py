"""Registry of every figure and table of the dissertation that the package reproduces.

Each experiment is a function ``experiment(out_dir, quick=False) -> dict`` that writes
``NAME.json`` (its numbers, with the fields ``reproduces``, ``data_source`` and ``caption``)
and ``NAME.png`` (its plot, with that caption) into ``out_dir``. The drivers live in
:mod:`gridcoherence.studies.experiments` (Chapter 3) and
:mod:`gridcoherence.learning.experiments` (Chapter 2); ``scripts/*.py`` and
``gridcoherence reproduce`` call them through :func:`reproduce`, which runs them with one
BLAS thread and records each in the folder's :data:`INDEX` file.
"""

from __future__ import annotations

import datetime
import importlib
import inspect
import json
from pathlib import Path

from .._io import write_json

__all__ = ["INDEX", "experiments", "reproduce", "script_main"]

#: Modules holding an ``EXPERIMENTS`` dict, in the order figures appear in the text.
_MODULES = (
    "gridcoherence.learning.experiments",
    "gridcoherence.studies.experiments.coherence_figures",
    "gridcoherence.studies.experiments.sbm_reduction",
    "gridcoherence.studies.experiments.aggregate_order",
)

#: File of an output folder listing every experiment written into it (by any run).
INDEX = "reproduce_index.json"


def experiments():
    """Name -> driver function of every reproducible figure and table."""
    registry = {}
    for module_name in _MODULES:
        registry.update(importlib.import_module(module_name).EXPERIMENTS)
    return registry


def _read_index(path):
    """The entries of an existing index (empty if there is none); a foreign file is refused."""
    if not path.exists():
        return {}
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))["experiments"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path} is not a reproduce index (expected a JSON object with 'experiments'); "
                         "move it away or choose another folder") from exc
    if not isinstance(entries, dict):
        raise ValueError(f"{path}: 'experiments' must map experiment names to their records")
    return entries


def reproduce(out_dir, only=None, *, quick=False, progress=False, mnist_path=None, random_state=None):
    """Run the chosen experiments (all by default) into ``out_dir``, one BLAS thread each.

    The folder's :data:`INDEX` gains (or updates) one entry per experiment run: earlier
    entries for other experiments stay, so several runs can fill one folder.

    Parameters
    ----------
    out_dir : str or Path
        Created if missing.
    only : iterable of str, optional
        Experiment names (see :func:`experiments`).
    quick : bool
        Small settings that run in seconds (smoke tests, CI).
    progress : bool
        Show a tqdm progress bar.
    mnist_path : str or Path, optional
        Local MNIST data for Fig. 2-12 (a folder of IDX files, the training-images IDX file
        or an ``.npz`` archive; see :func:`gridcoherence.learning.data.read_mnist`). Without
        it Fig. 2-12 uses its labelled proxy data.
    random_state : int, optional
        Seed of the experiments that take one (their default otherwise).

    Returns
    -------
    dict
        Name -> the numbers each experiment wrote to its JSON file.
    """
    from threadpoolctl import threadpool_limits
    from tqdm.auto import tqdm

    registry = experiments()
    names = list(registry) if only is None else list(only)
    unknown = [n for n in names if n not in registry]
    if unknown:
        raise ValueError(f"unknown experiment(s) {', '.join(unknown)}; available: {', '.join(registry)}")
    if mnist_path is not None and not Path(mnist_path).exists():
        raise FileNotFoundError(f"mnist_path {mnist_path} does not exist")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    index = _read_index(out_dir / INDEX)
    results = {}
    for name in tqdm(names, disable=not progress, desc="reproduce"):
        driver = registry[name]
        accepted = inspect.signature(driver).parameters
        options = {}
        if mnist_path is not None and "mnist_path" in accepted:
            options["mnist_path"] = mnist_path
        if random_state is not None and "random_state" in accepted:
            options["random_state"] = random_state
        with threadpool_limits(1):
            results[name] = driver(out_dir, quick=quick, **options)
        index[name] = {
            "reproduces": results[name]["reproduces"],
            "data_source": results[name]["data_source"],
            "quick": quick,
            "options": {key: str(value) for key, value in options.items()},
            "files": [f"{name}.json", f"{name}.png"],
            "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        }
        write_json(out_dir / INDEX, {"experiments": dict(sorted(index.items()))})
    return results


def script_main(name, argv=None):
    """Command line of ``scripts/<name>.py``: :func:`reproduce` of one experiment.

    Options: ``--out DIR`` (default ``results``), ``--quick``, and, where the experiment
    takes them, ``--seed N`` (its ``random_state``) and ``--mnist PATH`` (local MNIST data,
    see :func:`reproduce`). Prints the paths written.
    """
    import argparse

    experiment = experiments()[name]
    accepted = inspect.signature(experiment).parameters
    parser = argparse.ArgumentParser(description=(experiment.__doc__ or name).strip().splitlines()[0])
    parser.add_argument("--out", default="results", help=f"output folder for {name}.json and {name}.png")
    parser.add_argument("--quick", action="store_true", help="small settings that run in seconds")
    if "random_state" in accepted:
        parser.add_argument("--seed", type=int, default=None, help="random_state of the experiment")
    if "mnist_path" in accepted:
        parser.add_argument("--mnist", metavar="PATH", default=None,
                            help="local MNIST: IDX folder or file, or .npz (default: scikit-learn digits proxy)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    reproduce(out, [name], quick=args.quick, mnist_path=getattr(args, "mnist", None),
              random_state=getattr(args, "seed", None))
    print(f"wrote {out / (name + '.json')} and {out / (name + '.png')}")
