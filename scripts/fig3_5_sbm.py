"""Reproduce fig3_5: writes fig3_5.json and fig3_5.png (see `gridcoherence reproduce --only fig3_5`).

Usage: python scripts/fig3_5_sbm.py [--out DIR] [--quick]
"""

from gridcoherence.studies.reproduce import script_main

if __name__ == "__main__":
    script_main("fig3_5")
