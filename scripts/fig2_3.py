"""Reproduce fig2_3: writes fig2_3.json and fig2_3.png (see `gridcoherence reproduce --only fig2_3`).

Usage: python scripts/fig2_3.py [--out DIR] [--quick]
"""

from gridcoherence.studies.reproduce import script_main

if __name__ == "__main__":
    script_main("fig2_3")
