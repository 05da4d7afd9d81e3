"""Measurement helpers for the ``scripts/bench*.py`` benchmarks.

Each case runs in a fresh subprocess so that its peak resident memory is its own
(``ru_maxrss`` never decreases within a process), with BLAS pools limited to the
requested number of threads: slycot's and numpy's OpenBLAS both spawn pools, and
oversubscribing two cores slowed dense work by 10x in our measurements.

The subprocesses are forked from one server process (multiprocessing's ``forkserver``)
that has imported :func:`preload`'s modules and run nothing else: each case starts with
no state of the cases before it, without paying the imports again (about 1-2 s a case
with scipy, python-control and pandapower, most of a small case's time).
"""

from __future__ import annotations

import importlib.metadata
import multiprocessing
import os
import platform
import queue as queue_module
import resource
import time

__all__ = ["measure", "environment", "preload"]

#: Environment variables that set the thread count of a BLAS or OpenMP pool when it loads.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")

_CONTEXT = multiprocessing.get_context("forkserver")


def preload(*modules):
    """Have the server that forks :func:`measure`'s children import ``modules`` first.

    Call it before the first :func:`measure` of the process: the server starts then,
    and later calls change nothing. Time spent importing a preloaded module is then in
    no case's measurement; its memory is in every case's peak RSS, as it would be had
    the case imported it.

    Parameters
    ----------
    *modules : str
        Importable module names, e.g. ``"scipy.sparse.linalg"``.
    """
    _CONTEXT.set_forkserver_preload(["threadpoolctl", *modules])


def _child(queue, fn, args, kwargs, threads):
    from threadpoolctl import threadpool_limits

    # The server's environment is that of the first measure(); this child's limit must
    # hold for the pools its case loads later (slycot's OpenBLAS reads it at load time).
    os.environ.update({name: str(threads) for name in THREAD_VARIABLES})
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


def measure(fn, *args, threads=1, timeout=None, **kwargs):
    """Run ``fn(*args, **kwargs)`` in a fresh process; return time, peak RSS and result.

    The process is forked from a server that has imported only :func:`preload`'s modules.

    ``fn`` must be importable (a module-level function) and return something picklable.
    The wall time covers ``fn`` only; the peak RSS includes the interpreter and imports
    (about 150-250 MB with scipy, python-control and pandapower loaded).

    Returns a dict with ``seconds``, ``peak_rss_mb``, ``result``, ``error`` (None or the
    exception's text) and ``timeout``. With ``timeout`` (seconds of wall time for the whole
    child, imports included) a child still running then is killed and the outcome is
    ``{"timeout": True, "seconds": timeout, "peak_rss_mb": None, "result": None,
    "error": "timed out after ... s"}``. A child that dies without reporting (killed,
    out of memory) gives an ``error`` naming its exit code.
    """
    queue = _CONTEXT.Queue()
    process = _CONTEXT.Process(target=_child, args=(queue, fn, args, kwargs, threads))
    start = time.perf_counter()
    # threadpoolctl limits the BLAS pools loaded when the child enters the limit; one
    # loaded before (in the server, which starts with the first measure) reads these.
    saved = {name: os.environ.get(name) for name in THREAD_VARIABLES}
    os.environ.update({name: str(threads) for name in THREAD_VARIABLES})
    try:
        process.start()
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    while True:
        try:
            outcome = queue.get(timeout=0.5)
            break
        except queue_module.Empty:
            pass
        if not process.is_alive():
            try:  # the child may have reported just before exiting
                outcome = queue.get(timeout=1.0)
                break
            except queue_module.Empty:
                process.join()
                return {"seconds": time.perf_counter() - start, "peak_rss_mb": None, "result": None,
                        "error": f"the child process died with exit code {process.exitcode}",
                        "timeout": False}
        if timeout is not None and time.perf_counter() - start > timeout:
            process.kill()
            process.join()
            return {"seconds": float(timeout), "peak_rss_mb": None, "result": None,
                    "error": f"timed out after {timeout:g} s", "timeout": True}
    process.join()
    outcome["timeout"] = False
    return outcome


def environment():
    """Library versions, thread settings and machine facts for a benchmark report."""
    versions = {}
    for package in ("numpy", "scipy", "control", "slycot", "networkx", "pandapower", "pymor",
                    "threadpoolctl", "scikit-learn", "pyamg", "gridcoherence"):
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
        # The machine may be shared: the 1, 5 and 15 minute load averages when this was taken.
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "env": {k: os.environ.get(k) for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")},
    }
