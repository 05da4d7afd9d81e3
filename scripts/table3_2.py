"""Write table3_2.json and table3_2.png (Sec. 3.3.3); see gridcoherence.studies.experiments.aggregate_order.table3_2."""

import argparse

from gridcoherence.studies.experiments.aggregate_order import METRICS, table3_2


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="results", help="output folder")
    parser.add_argument("--quick", action="store_true", help="coarse grids, runs in seconds")
    args = parser.parse_args()
    result = table3_2(args.out, quick=args.quick)
    print(f"{'model':10s} " + " ".join(f"{m + ' ours':>16s} {m + ' pub.':>16s}" for m in METRICS))
    for name, row in result["rows"].items():
        print(f"{name:10s} " + " ".join(f"{row['ours'][m]:16.4f} {row['published'][m]:16.4f}"
                                         for m in METRICS))


if __name__ == "__main__":
    main()
