"""Smoke test of scripts/bench_band.py --quick: the JSON has every field, finite where measured.

No wall-clock assertions: the targets are facts of a run.
"""

import json
import math
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "bench_band.py"


def test_quick_benchmark_writes_its_json(tmp_path):
    subprocess.run([sys.executable, str(SCRIPT), "--quick", "--out", str(tmp_path)], capture_output=True,
                   text=True, timeout=600, check=True)
    report = json.loads((tmp_path / "bench_band.json").read_text())
    assert report["quick"] is True and report["environment"]["blas_threads_per_case"] == 1
    small, large = report["band_error"]
    assert small["kind"] == "exact" and large["kind"] == "bounds" and large["method"] == "bounds"
    # The bounds bracket the exact value at the small size.
    assert small["bounds_sup_error"] <= small["exact_sup_error"] * (1 + 1e-6)
    assert small["exact_sup_error"] <= small["bounds_sup_error_upper"] * (1 + 1e-6)
    for row in report["band_error"]:
        assert 0 < row["sup_error"] <= row["sup_error_upper"] < math.inf
        assert row["band_error_seconds"] > 0 and {"load_1min", "load_5min", "load_15min"} <= set(row["load_before"])
    (sweep,) = report["hinf_sweep"]
    assert sweep["areas"] == len(sweep["hinf_error"]) and all(0 < e < math.inf for e in sweep["hinf_error"])
    assert sweep["sweep_seconds"] > 0 and "load_after" in sweep
