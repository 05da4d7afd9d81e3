"""Reproduce fig2_12: writes fig2_12.json and fig2_12.png (see `gridcoherence reproduce --only fig2_12`).

Usage: python scripts/fig2_12.py [--out DIR] [--quick]
"""

from gridcoherence.studies.reproduce import script_main

if __name__ == "__main__":
    script_main("fig2_12")
