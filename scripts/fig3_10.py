"""Write fig3_10.json and fig3_10.png (Sec. 3.3.3); see gridcoherence.experiments.aggregate_order.fig3_10."""

import argparse

from gridcoherence.experiments.aggregate_order import fig3_10


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="results", help="output folder")
    parser.add_argument("--quick", action="store_true", help="coarse grids, runs in seconds")
    args = parser.parse_args()
    fig3_10(args.out, quick=args.quick)


if __name__ == "__main__":
    main()
