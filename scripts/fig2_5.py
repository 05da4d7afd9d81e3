"""Reproduce dissertation Fig. 2-5; see gridcoherence.learning.experiments.fig2_5.

Usage: python scripts/fig2_5.py [--out DIR] [--quick] [--seed N]
"""

from gridcoherence.learning.experiments import run_cli

if __name__ == "__main__":
    run_cli("fig2_5")
