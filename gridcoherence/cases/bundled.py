"""The bundled cases: their folder, :func:`list_cases` and the stored :func:`bundled_case_index`.

Bundled case files live in the top-level ``cases/`` folder, installed as the data package
``gridcoherence.bundled_cases``, with ``index.json`` holding a summary of every case. This
module imports only the standard library, so listing the cases (``gridcoherence cases``)
loads neither numpy nor pandapower; :mod:`~gridcoherence.cases.loader` reads the case files
it finds here.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

__all__ = ["list_cases", "bundled_case_index", "BUNDLED_PACKAGE", "CASE_INDEX"]

#: The data package that holds the bundled case files.
BUNDLED_PACKAGE = "gridcoherence.bundled_cases"
#: The file beside the bundled cases that stores their summaries.
CASE_INDEX = "index.json"


def bundled_folder():
    """The bundled case files: the installed data package, or ``cases/`` of a source checkout.

    Running from a checkout (``python -m gridcoherence`` in the repository) imports the
    package from the source tree, where the data package does not exist as such.
    """
    try:
        return resources.files(BUNDLED_PACKAGE)
    except ModuleNotFoundError:
        return Path(__file__).resolve().parents[2] / "cases"


def bundled_path(name):
    """The case file of the bundled case ``name`` (it may not exist)."""
    return bundled_folder().joinpath(f"{name}.toml")


def list_cases():
    """Names of the bundled cases, sorted.

    Examples
    --------
    >>> {"coherent5", "sbm3", "iceland"} <= set(list_cases())
    True
    """
    return sorted(p.name[:-5] for p in bundled_folder().iterdir() if p.name.endswith(".toml"))


def bundled_case_index():
    """Stored :func:`~gridcoherence.cases.loader.case_summary` of every bundled case, without
    loading any of them.

    Read from ``index.json`` beside the bundled case files (written by
    ``scripts/update_case_index.py``; the tests check it against freshly loaded cases), so
    listing the cases runs no power flow.

    Returns
    -------
    dict
        Case name -> summary, for the bundled cases the index knows.

    Examples
    --------
    >>> bundled_case_index()["coherent5"]["machines"]
    5
    """
    try:
        text = bundled_folder().joinpath(CASE_INDEX).read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    return json.loads(text)["cases"]
