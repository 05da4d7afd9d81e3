"""Reproduce fig3_10: writes fig3_10.json and fig3_10.png (see `gridcoherence reproduce --only fig3_10`).

Usage: python scripts/fig3_10.py [--out DIR] [--quick]
"""

from gridcoherence.studies.reproduce import script_main

if __name__ == "__main__":
    script_main("fig3_10")
