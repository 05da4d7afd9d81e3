"""Reproduce dissertation Fig. 2-12; see gridcoherence.learning.experiments.fig2_12.

Usage: python scripts/fig2_12.py [--out DIR] [--quick] [--seed N] [--mnist PATH]
"""

from gridcoherence.learning.experiments import run_cli

if __name__ == "__main__":
    run_cli("fig2_12")
