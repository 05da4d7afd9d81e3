"""Reproduce sbm_scaling: writes sbm_scaling.json and sbm_scaling.png (see `gridcoherence reproduce --only sbm_scaling`).

Usage: python scripts/sbm_scaling.py [--out DIR] [--quick]
"""

from gridcoherence.studies.reproduce import script_main

if __name__ == "__main__":
    script_main("sbm_scaling")
