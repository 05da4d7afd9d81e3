"""Reproduce fig3_9: writes fig3_9.json and fig3_9.png (see `gridcoherence reproduce --only fig3_9`).

Usage: python scripts/fig3_9.py [--out DIR] [--quick]
"""

from gridcoherence.studies.reproduce import script_main

if __name__ == "__main__":
    script_main("fig3_9")
