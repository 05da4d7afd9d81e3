"""Reproduce fig2_11: writes fig2_11.json and fig2_11.png (see `gridcoherence reproduce --only fig2_11`).

Usage: python scripts/fig2_11.py [--out DIR] [--quick]
"""

from gridcoherence.studies.reproduce import script_main

if __name__ == "__main__":
    script_main("fig2_11")
