"""Registry of every figure and table of the dissertation that the package reproduces.

Each experiment is a function ``experiment(out_dir, quick=False) -> dict`` that writes
``NAME.json`` (its numbers) and ``NAME.png`` (its plot) into ``out_dir``. The drivers live
in :mod:`gridcoherence.studies.experiments` (Chapter 3) and :mod:`gridcoherence.learning.experiments`
(Chapter 2); ``scripts/*.py`` and ``gridcoherence reproduce`` call them from here.
"""

from __future__ import annotations

import importlib
from pathlib import Path

__all__ = ["experiments", "reproduce", "script_main"]

#: Modules holding an ``EXPERIMENTS`` dict, in the order figures appear in the text.
_MODULES = (
    "gridcoherence.learning.experiments",
    "gridcoherence.studies.experiments.coherence_figures",
    "gridcoherence.studies.experiments.sbm_reduction",
    "gridcoherence.studies.experiments.aggregate_order",
)


def experiments():
    """Name -> driver function of every reproducible figure and table."""
    registry = {}
    for module_name in _MODULES:
        registry.update(importlib.import_module(module_name).EXPERIMENTS)
    return registry


def reproduce(out_dir, only=None, *, quick=False, progress=False):
    """Run the chosen experiments (all by default) into ``out_dir``.

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

    Returns
    -------
    dict
        Name -> the numbers each experiment wrote to its JSON file.
    """
    from tqdm.auto import tqdm

    registry = experiments()
    names = list(registry) if only is None else list(only)
    unknown = [n for n in names if n not in registry]
    if unknown:
        raise ValueError(f"unknown experiment(s) {', '.join(unknown)}; available: {', '.join(registry)}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    results = {}
    for name in tqdm(names, disable=not progress, desc="reproduce"):
        results[name] = registry[name](out_dir, quick=quick)
    return results


def script_main(name, argv=None):
    """Command line of ``scripts/<name>.py``: run one experiment with one BLAS thread.

    Options: ``--out DIR`` (default ``results``), ``--quick``, and, where the experiment
    takes them, ``--seed N`` (its ``random_state``) and ``--mnist PATH`` (a folder of
    MNIST IDX files). Prints the paths written.
    """
    import argparse
    import inspect

    from threadpoolctl import threadpool_limits

    experiment = experiments()[name]
    accepted = inspect.signature(experiment).parameters
    parser = argparse.ArgumentParser(description=(experiment.__doc__ or name).strip().splitlines()[0])
    parser.add_argument("--out", default="results", help=f"output folder for {name}.json and {name}.png")
    parser.add_argument("--quick", action="store_true", help="small settings that run in seconds")
    if "random_state" in accepted:
        parser.add_argument("--seed", type=int, default=0, help="random_state of the experiment")
    if "mnist_path" in accepted:
        parser.add_argument("--mnist", metavar="PATH", default=None,
                            help="folder with MNIST train-*-ubyte IDX files (default: scikit-learn digits proxy)")
    args = parser.parse_args(argv)
    options = {}
    if "random_state" in accepted:
        options["random_state"] = args.seed
    if "mnist_path" in accepted:
        options["mnist_path"] = args.mnist
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with threadpool_limits(1):
        experiment(out, quick=args.quick, **options)
    print(f"wrote {out / (name + '.json')} and {out / (name + '.png')}")
