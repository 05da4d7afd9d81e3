"""Reproduce fig2_4: writes fig2_4.json and fig2_4.png (see `gridcoherence reproduce --only fig2_4`).

Usage: python scripts/fig2_4.py [--out DIR] [--quick]
"""

from gridcoherence.studies.reproduce import script_main

if __name__ == "__main__":
    script_main("fig2_4")
