"""Reproduce fig2_6: writes fig2_6.json and fig2_6.png (see `gridcoherence reproduce --only fig2_6`).

Usage: python scripts/fig2_6.py [--out DIR] [--quick]
"""

from gridcoherence.studies.reproduce import script_main

if __name__ == "__main__":
    script_main("fig2_6")
