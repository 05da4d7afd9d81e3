"""Reproduce grid_areas: writes grid_areas.json and grid_areas.png (see `gridcoherence reproduce --only grid_areas`).

Usage: python scripts/grid_areas.py [--out DIR] [--quick]
"""

from gridcoherence.studies.reproduce import script_main

if __name__ == "__main__":
    script_main("grid_areas")
