"""Reproduce fig2_5: writes fig2_5.json and fig2_5.png (see `gridcoherence reproduce --only fig2_5`).

Usage: python scripts/fig2_5.py [--out DIR] [--quick]
"""

from gridcoherence.studies.reproduce import script_main

if __name__ == "__main__":
    script_main("fig2_5")
