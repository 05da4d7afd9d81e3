"""Smoke test of scripts/bench.py: the quick run's JSON has every field, finite and positive.

No wall-clock assertions: only structure and finiteness of what was measured.
"""

import importlib.util
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

import gridcoherence as gc

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "bench.py"
CASES = ["pipeline", "balred", "pymor", "large", "spectral", "end_to_end", "suite_learning"]

SIDE_BY_SIDE_FIELDS = {"machines", "states", "order", "reduce_seconds", "band_error", "relative_band_error",
                       "step_error", "relative_step_error", "timeout", "case_seconds", "peak_rss_mb"}
LARGE_FIELDS = {"n", "k", "edges", "mean_degree", "sample_seconds", "reduce_seconds", "order",
                "timeout", "case_seconds", "peak_rss_mb", "floor_seconds", "reduce_over_floor",
                "max_residual_norm", "rss_after_sampling_mb"}
SPECTRAL_FIELDS = {"n", "k", "edges", "sample_seconds", "cluster_seconds", "rss_after_sampling_mb",
                   "adjusted_rand_index", "timeout", "case_seconds", "peak_rss_mb"}
END_TO_END_FIELDS = {"case", "machines", "k", "order", "load_seconds", "reduce_seconds", "table_seconds",
                     "total_seconds", "table_rows", "max_linf_error", "peak_rss_mb"}


def _positive(value):
    return isinstance(value, (int, float)) and math.isfinite(value) and value > 0


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    markdown = tmp_path_factory.mktemp("bench") / "benchmarks.md"
    done = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--timeout", "300", "--markdown", str(markdown),
                           "--only", *CASES], capture_output=True, text=True, timeout=900, check=True)
    return json.loads(done.stdout), markdown


@pytest.fixture(scope="module")
def report(run):
    return run[0]


def test_top_level_fields(report):
    assert {"benchmark", "quick", "timeout_seconds", "environment", "comparison", "suites"} <= set(report)
    assert report["quick"] is True
    env = report["environment"]
    assert env["blas_threads_per_case"] == 1
    assert {"numpy", "scipy", "control", "slycot", "pymor", "gridcoherence"} <= set(env["versions"])


def test_side_by_side_rows(report):
    comparison = report["comparison"]
    assert {"settings", "side_by_side", "large", "end_to_end", "ratios", "fitted_exponents",
            "targets"} <= set(comparison)
    sizes = comparison["settings"]["sizes"]
    equal_order = comparison["settings"]["equal_order"]
    series = comparison["side_by_side"]
    for method in ("pipeline", "balred"):
        rows = series[method]
        assert [row["machines"] for row in rows] == sizes
        for row in rows:
            assert SIDE_BY_SIDE_FIELDS <= set(row), (method, row)
            assert row["timeout"] is False and "error" not in row
            assert row["order"] == equal_order
            for key in SIDE_BY_SIDE_FIELDS - {"timeout", "order"}:
                assert _positive(row[key]), (method, key, row[key])
    pymor = series["pymor"]
    if isinstance(pymor, dict):  # optional dependency missing
        assert pymor == {"available": False}
    else:
        for row in pymor:
            assert SIDE_BY_SIDE_FIELDS | {"lyapunov_backend"} <= set(row)
            assert _positive(row["reduce_seconds"]) and _positive(row["band_error"])


def test_ratios_and_exponents(report):
    comparison = report["comparison"]
    n_sizes = len(comparison["settings"]["sizes"])
    balred = comparison["ratios"]["balred"]
    assert len(balred) == n_sizes
    for row in balred:
        assert {"machines", "time_ratio", "band_error_ratio", "step_error_ratio"} <= set(row)
        assert all(_positive(row[key]) for key in ("time_ratio", "band_error_ratio", "step_error_ratio"))
    exponents = comparison["fitted_exponents"]
    for method in ("pipeline", "balred", "pipeline_large"):
        assert math.isfinite(exponents[method])
    if isinstance(comparison["side_by_side"]["pymor"], list):
        assert math.isfinite(exponents["pymor"])
        assert len(comparison["ratios"]["pymor"]) == n_sizes


def test_large_and_end_to_end(report):
    comparison = report["comparison"]
    assert len(comparison["large"]) == 2
    for row in comparison["large"]:
        assert LARGE_FIELDS <= set(row) and row["timeout"] is False
        assert all(_positive(row[key]) for key in LARGE_FIELDS - {"timeout"})
        # The band error is certified at the quick sizes (above 2,000 nodes: the bounds, timed apart).
        assert row["band_error_kind"] == "bounds" and row["band_error_method"] == "bounds"
        assert _positive(row["band_error"]) and _positive(row["band_error_seconds"])
        assert row["band_error"] <= row["band_error_upper"] < math.inf
        assert 0 < row["band_error_worst_frequency"] <= 1.0 and "band_error_note" not in row
    end = comparison["end_to_end"]
    assert END_TO_END_FIELDS <= set(end)
    assert all(_positive(end[key]) for key in END_TO_END_FIELDS - {"case"})
    targets = comparison["targets"]
    assert {"large_1e6", "large_1e5", "floor_ratio", "case9241pegase"} <= set(targets)
    assert targets["large_1e6"]["met"] is None  # quick sizes never reach 10^6 nodes
    assert targets["large_1e5"]["met"] is None
    assert isinstance(targets["floor_ratio"]["met"], bool)  # a fact of the run, whichever way


def test_spectral_comparison(report):
    spectral = report["comparison"]["spectral"]
    assert set(spectral) == {"gridcoherence", "sklearn-amg", "sklearn-arpack"}
    for method, rows in spectral.items():
        assert [row["n"] for row in rows] == [3000]
        for row in rows:
            assert SPECTRAL_FIELDS <= set(row) and row["timeout"] is False and "error" not in row, (method, row)
            assert all(_positive(row[key]) for key in SPECTRAL_FIELDS - {"timeout"})
            assert -0.5 <= row["adjusted_rand_index"] <= 1.0
    ours = spectral["gridcoherence"][0]
    assert _positive(ours["floor_seconds"]) and _positive(ours["product_over_floor"])
    # ARPACK's 1e-10 relative tolerance on eigenvalues of D^{-1/2} L D^{-1/2} (all in [0, 2]).
    assert ours["max_residual_norm"] < 1e-9
    assert len(report["environment"]["load_average"]) == 3 and len(report["load_average_end"]) == 3


def test_markdown_is_rendered_from_the_report(run, tmp_path):
    report, written = run
    text = written.read_text()
    assert "## Spectral clustering" in text and "## Reduction of the SBM networks" in text and "## Targets" in text
    assert "| 3000 | sklearn-amg |" in text
    saved = tmp_path / "bench.json"
    saved.write_text(json.dumps(report))
    again = tmp_path / "again.md"
    subprocess.run([sys.executable, str(SCRIPT), "--render", str(saved), "--markdown", str(again)], check=True,
                   timeout=120)
    assert again.read_text() == text


def test_suites_embedded(report):
    suite = report["suites"]["learning"]
    assert suite["timeout"] is False and suite["returncode"] == 0
    assert isinstance(suite["report"], dict) and "gradient_flow_two_layer" in suite["report"]


def _bench_module():
    spec = importlib.util.spec_from_file_location("bench", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_large_band_error_fields_and_the_limit(monkeypatch):
    """Up to the limit the certified band error with its own seconds; above it the measured note."""
    bench = _bench_module()
    reduced = gc.reduce_network(gc.load_case("kundur_two_area").model, 2).model
    fields = bench.large_band_error(reduced)
    exact = reduced.band_error(bench.BAND_EDGE)
    assert fields["band_error_kind"] == "exact" and fields["band_error_method"] == exact.method
    assert fields["band_error"] == pytest.approx(exact.sup_error, rel=1e-12)
    assert fields["band_error_upper"] == fields["band_error"] and _positive(fields["band_error_seconds"])
    monkeypatch.setattr(bench, "LARGE_BAND_ERROR_LIMIT", reduced.original.n - 1)
    assert bench.large_band_error(reduced) == {"band_error": None, "band_error_note": bench.LARGE_BAND_ERROR_NOTE}
