"""Run the ``sbm_scaling`` experiment of gridcoherence.experiments.sbm_reduction (JSON + PNG into --out)."""

import argparse
import json
from pathlib import Path

from threadpoolctl import threadpool_limits

from gridcoherence._io import to_jsonable
from gridcoherence.experiments.sbm_reduction import sbm_scaling


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="results", help="output folder (created if missing)")
    parser.add_argument("--quick", action="store_true", help="small sizes / coarse grids, seconds")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with threadpool_limits(1):
        numbers = sbm_scaling(out, quick=args.quick)
    print(json.dumps(to_jsonable({key: numbers[key] for key in SUMMARY_KEYS if key in numbers})))


SUMMARY_KEYS = ("experiment", "n", "band_error", "lowrank_band_error", "misclassification", "rows")


if __name__ == "__main__":
    main()
