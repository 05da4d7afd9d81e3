"""Rewrite cases/index.json: the stored summary of every bundled case.

Usage::

    python scripts/update_case_index.py

``gridcoherence cases`` reads this index instead of loading every case (which runs their
power flows). Run the script after adding or changing a bundled case; the test suite
fails while the index disagrees with the cases as loaded.
"""

from __future__ import annotations

import json
from pathlib import Path

from gridcoherence._io import atomic_write
from gridcoherence.cases.bundled import CASE_INDEX, list_cases
from gridcoherence.cases.loader import case_summary, load_case


def main():
    index = {"cases": {name: case_summary(load_case(name)) for name in list_cases()}}
    path = Path(__file__).resolve().parents[1] / "cases" / CASE_INDEX
    with atomic_write(path) as handle:
        handle.write(json.dumps(index, indent=1) + "\n")
    print(f"wrote {path} ({len(index['cases'])} cases)")


if __name__ == "__main__":
    main()
