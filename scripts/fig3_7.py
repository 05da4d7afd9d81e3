"""Reproduce fig3_7: writes fig3_7.json and fig3_7.png (see `gridcoherence reproduce --only fig3_7`).

Usage: python scripts/fig3_7.py [--out DIR] [--quick]
"""

from gridcoherence.studies.reproduce import script_main

if __name__ == "__main__":
    script_main("fig3_7")
