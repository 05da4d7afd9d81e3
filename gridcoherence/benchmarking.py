"""Measurement helpers for the ``scripts/bench*.py`` benchmarks.

Each case runs in a fresh subprocess so that its peak resident memory is its own
(``ru_maxrss`` never decreases within a process), with BLAS pools limited to the
requested number of threads: slycot's and numpy's OpenBLAS both spawn pools, and
oversubscribing two cores slowed dense work by 10x in our measurements.
"""

from __future__ import annotations

import importlib.metadata
import multiprocessing
import os
import platform
import resource
import time

__all__ = ["measure", "environment"]


def _child(queue, fn, args, kwargs, threads):
    from threadpoolctl import threadpool_limits

    with threadpool_limits(threads):
        start = time.perf_counter()
        try:
            result = fn(*args, **kwargs)
            error = None
        except Exception as exc:  # reported back to the parent, not swallowed
            result, error = None, f"{type(exc).__name__}: {exc}"
        seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    queue.put({"seconds": seconds, "peak_rss_mb": peak_mb, "result": result, "error": error})


def measure(fn, *args, threads=1, **kwargs):
    """Run ``fn(*args, **kwargs)`` in a fresh process; return time, peak RSS and result.

    ``fn`` must be importable (a module-level function) and return something picklable.
    The wall time covers ``fn`` only; the peak RSS includes the interpreter and imports
    (about 150-250 MB with scipy, python-control and pandapower loaded).
    """
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_child, args=(queue, fn, args, kwargs, threads))
    process.start()
    outcome = queue.get()
    process.join()
    return outcome


def environment():
    """Library versions, thread settings and machine facts for a benchmark report."""
    versions = {}
    for package in ("numpy", "scipy", "control", "slycot", "networkx", "pandapower", "gridcoherence"):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "versions": versions,
        "blas_threads_per_case": 1,
        "env": {k: os.environ.get(k) for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")},
    }
