"""Reproduce fig3_8: writes fig3_8.json and fig3_8.png (see `gridcoherence reproduce --only fig3_8`).

Usage: python scripts/fig3_8.py [--out DIR] [--quick]
"""

from gridcoherence.studies.reproduce import script_main

if __name__ == "__main__":
    script_main("fig3_8")
