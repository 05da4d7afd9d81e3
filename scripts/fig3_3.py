"""Reproduce fig3_3: writes fig3_3.json and fig3_3.png (see `gridcoherence reproduce --only fig3_3`).

Usage: python scripts/fig3_3.py [--out DIR] [--quick]
"""

from gridcoherence.studies.reproduce import script_main

if __name__ == "__main__":
    script_main("fig3_3")
