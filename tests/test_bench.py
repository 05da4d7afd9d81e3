"""Smoke test of scripts/bench.py: the quick run's JSON has every field, finite and positive.

No wall-clock assertions: only structure and finiteness of what was measured, and the facts
the searches and the sweep claim (orders that reach or do not reach, identical tables).
"""

import doctest
import importlib.util
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import gridcoherence as gc

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "bench.py"
CASES = ["pipeline", "balred", "pymor", "large", "stretch", "spectral", "end_to_end", "sweep_dask", "suite_learning"]
EQUAL_ACCURACY_METHODS = ["balred-truncate", "balred-matchdc", "pymor-bt", "pymor-irka"]

SIDE_BY_SIDE_FIELDS = {"machines", "states", "order", "reduce_seconds", "band_error", "relative_band_error",
                       "step_error", "relative_step_error", "timeout", "case_seconds", "peak_rss_mb"}
LARGE_FIELDS = {"n", "k", "edges", "mean_degree", "blas_threads", "sample_seconds", "reduce_seconds", "order",
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
        # Algorithm 1 as published: clustered on L's eigenvectors, so one eigensolve is the floor.
        assert row["embedding"] == "laplacian" and len(row["floor_methods"]) == 1
        # The band error is certified at the quick sizes (above 2,000 nodes: the bounds, timed apart).
        assert row["band_error_kind"] == "bounds" and row["band_error_method"] == "bounds"
        assert _positive(row["band_error"]) and _positive(row["band_error_seconds"])
        assert row["band_error"] <= row["band_error_upper"] < math.inf
        assert 0 < row["band_error_worst_frequency"] <= 1.0 and "band_error_note" not in row
    end = comparison["end_to_end"]
    assert END_TO_END_FIELDS <= set(end)
    assert all(_positive(end[key]) for key in END_TO_END_FIELDS - {"case"})
    [stretch] = comparison["stretch"]
    assert stretch["n"] == 20_000 and stretch["timeout"] is False and "error" not in stretch, stretch
    assert stretch["n_connected"] + stretch["dropped_nodes"] == 20_000 and stretch["dropped_nodes"] < 20
    assert all(_positive(stretch[key]) for key in ("sample_seconds", "reduce_seconds", "peak_rss_mb",
                                                    "rss_after_sampling_mb"))
    assert 8.0 < stretch["mean_degree"] < 12.0  # expected degree 10
    targets = comparison["targets"]
    assert {"large_1e6", "large_1e5", "floor_ratio", "case9241pegase", "stretch_1e7"} <= set(targets)
    assert targets["stretch_1e7"]["met"] is None  # quick sizes never reach 10^7 nodes
    assert targets["large_1e6"]["met"] is None  # quick sizes never reach 10^6 nodes
    assert targets["large_1e5"]["met"] is None
    floor = targets["floor_ratio"]
    assert floor["met"] is None  # quick sizes stay below the sizes the floor target judges
    assert {"reduction n=3000", "reduction n=6000"} <= set(floor) and _positive(floor["reduction n=3000"])


def test_spectral_comparison(report):
    spectral = report["comparison"]["spectral"]
    assert set(spectral) == {"gridcoherence-laplacian", "gridcoherence-normalized", "sklearn-amg", "sklearn-arpack"}
    for method, rows in spectral.items():
        assert [row["n"] for row in rows] == [3000]
        for row in rows:
            assert SPECTRAL_FIELDS <= set(row) and row["timeout"] is False and "error" not in row, (method, row)
            assert all(_positive(row[key]) for key in SPECTRAL_FIELDS - {"timeout"})
            assert -0.5 <= row["adjusted_rand_index"] <= 1.0
    for embedding in ("laplacian", "normalized"):
        ours = spectral[f"gridcoherence-{embedding}"][0]
        assert _positive(ours["floor_seconds"]) and _positive(ours["product_over_floor"])
    # ARPACK's 1e-10 relative tolerance on eigenvalues of D^{-1/2} L D^{-1/2} (all in [0, 2]).
    assert spectral["gridcoherence-normalized"][0]["max_residual_norm"] < 1e-9
    # The 10^6 comparison with scikit-learn's amg is not part of a quick run.
    assert report["comparison"]["targets"]["spectral_1e6"]["met"] is None
    assert len(report["environment"]["load_average"]) == 3 and len(report["load_average_end"]) == 3


def test_markdown_is_rendered_from_the_report(run, tmp_path):
    report, written = run
    text = written.read_text()
    assert "## Spectral clustering" in text and "## Reduction of the SBM networks" in text and "## Targets" in text
    assert "## Stretch" in text
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


def test_equal_accuracy_searches(report):
    comparison = report["comparison"]
    settings = comparison["settings"]
    pipeline = {row["machines"]: row for row in comparison["side_by_side"]["pipeline"]}
    pymor_missing = isinstance(comparison["side_by_side"]["pymor"], dict)
    equal_accuracy = comparison["equal_accuracy"]
    assert set(equal_accuracy) == set(EQUAL_ACCURACY_METHODS)
    for method in EQUAL_ACCURACY_METHODS:
        rows = equal_accuracy[method]
        if method.startswith("pymor") and pymor_missing:
            assert rows == {"available": False}
            continue
        assert [row["machines"] for row in rows] == settings["equal_accuracy_sizes"]
        for row in rows:
            assert row["timeout"] is False and "error" not in row, (method, row)
            target = row["pipeline_band_error"]
            # The child's pipeline run is the pipeline case's: same model, same seed.
            assert target == pytest.approx(pipeline[row["machines"]]["band_error"], rel=1e-9)
            searched = dict((order, error) for order, error in row["searched_band_errors"])
            assert all(math.isfinite(error) and error >= 0 for error in searched.values())
            order = row["equal_accuracy_order"]
            if method == "pymor-irka":
                tried = list(range(1, (order or settings["irka_max_order"]) + 1))
                assert sorted(searched) == tried  # every order from 1, none skipped
            if not row["reached"]:
                assert method == "pymor-irka" and order is None and row["equal_accuracy_seconds"] is None
                assert all(error > target for error in searched.values())
                continue
            assert row["band_error"] <= target
            assert _positive(row["equal_accuracy_seconds"])
            assert searched[order] <= target
            if order > 1:
                assert row["band_error_below"] == searched[order - 1] > target
            if method != "pymor-irka":
                assert order <= row["bound_order"]
                # The searched model and the timed one are the same reduction.
                assert row["band_error"] == pytest.approx(searched[order], rel=1e-6, abs=1e-9)
                # Below the crossing, the search window was tried and does not reach either.
                window = range(max(1, order - settings["search_window"]), order)
                assert all(searched[r] > target for r in window)
    ratios = comparison["ratios"]
    for method in EQUAL_ACCURACY_METHODS:
        rows = equal_accuracy[method]
        if isinstance(rows, dict):
            continue
        reached = [row for row in rows if row["reached"]]
        assert [r["machines"] for r in ratios[method]] == [row["machines"] for row in reached]
        for ratio, row in zip(ratios[method], reached):
            assert ratio["equal_accuracy_order"] == row["equal_accuracy_order"]
            assert ratio["time_to_equal_accuracy_ratio"] == pytest.approx(
                row["equal_accuracy_seconds"] / pipeline[row["machines"]]["reduce_seconds"])


def test_dask_sweep_matches_the_serial_one(report):
    sweep = report["comparison"]["sweep_dask"]
    settings = report["comparison"]["settings"]
    assert sweep["timeout"] is False and "error" not in sweep, sweep
    runs = settings["sweep_runs"]
    assert sweep["runs"] == runs > 1
    assert sweep["rows"] == [runs, runs]
    assert sweep["tables_identical"] is True and sweep["max_relative_difference"] <= 1e-12
    assert len(sweep["worker_threads"]) == sweep["workers"] == 2
    for worker in sweep["worker_threads"]:
        assert worker["blas_threads"] == [1] and worker["OPENBLAS_NUM_THREADS"] == "1"
    for key in ("serial_seconds", "dask_seconds", "speedup", "mean_run_seconds", "mean_run_seconds_dask",
                "cluster_startup_seconds",
                "worker_first_trial_seconds", "cluster_shutdown_seconds"):
        assert _positive(sweep[key]), (key, sweep[key])
    assert sweep["speedup"] == pytest.approx(sweep["serial_seconds"] / sweep["dask_seconds"])
    assert sweep["overhead_per_run_seconds"] == pytest.approx(
        (sweep["dask_seconds"] - sweep["serial_seconds"] / 2) / runs)


def test_markdown_has_the_equal_accuracy_and_sweep_tables(run):
    report, written = run
    text = written.read_text()
    assert "## Time to equal accuracy" in text and "## Monte-Carlo sweep: serial against Dask" in text
    for row in report["comparison"]["equal_accuracy"]["balred-truncate"]:
        assert f"| {row['machines']} | balred-truncate | " in text
        assert f" | {row['equal_accuracy_order']} | " in text


def _bench_module():
    spec = importlib.util.spec_from_file_location("bench_script", SCRIPT)
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


def test_bench_examples_run_as_written():
    result = doctest.testmod(_bench_module(), verbose=False, report=True)
    assert result.attempted > 0 and result.failed == 0


def test_order_search_finds_the_lowest_order_past_a_spike():
    bench = _bench_module()
    # Order 6 spikes above the target inside the bisection's range; 4 is the lowest that reaches.
    errors = {1: 5.0, 2: 4.0, 3: 3.0, 4: 0.5, 5: 0.4, 6: 2.0, 7: 0.3, 8: 0.2, 9: 0.1, 10: 0.1}
    order, evaluated = bench.smallest_reaching_order(errors.get, 1.0, 10)
    assert order == 4 and all(errors[r] > 1.0 for r in range(1, order))
    assert set(evaluated) <= set(errors) and all(evaluated[r] == errors[r] for r in evaluated)
    assert bench.smallest_reaching_order(errors.get, 0.05, 10) == (None, {10: 0.1, 9: 0.1})


def test_state_space_column_matches_a_dense_solve():
    bench = _bench_module()
    rng = np.random.default_rng(0)
    for order in (1, 2, 7):
        A = rng.standard_normal((order, order)) - 3 * order * np.eye(order)
        B, C, D = rng.standard_normal((order, 1)), rng.standard_normal((4, order)), rng.standard_normal((4, 1))
        expected = np.stack([(C @ np.linalg.solve(1j * w * np.eye(order) - A, B) + D)[:, 0]
                             for w in bench.BAND_FREQUENCIES])
        assert np.allclose(bench.state_space_column(A, B, C, D), expected, rtol=1e-10, atol=1e-12)


def test_table_difference_sees_a_changed_number_and_ignores_row_order_and_seconds():
    bench = _bench_module()
    table = pd.DataFrame({"study": ["s"] * 3, "seed": [0, 1, 2], "value": [1.0, 2.0, 3.0],
                          "success": [True, False, True], "seconds": [0.1, 0.2, 0.3]})
    shuffled = table.iloc[[2, 0, 1]].assign(seconds=[9.0, 8.0, 7.0])
    assert bench.table_difference(table, shuffled) == (True, 0.0)
    nudged = table.assign(value=[1.0, 2.0 * (1 + 1e-9), 3.0])
    same, largest = bench.table_difference(table, nudged)
    assert same is False and largest == pytest.approx(1e-9, rel=1e-3)
    flipped = table.assign(success=[True, True, True])
    assert bench.table_difference(table, flipped)[0] is False
    missing = table.assign(value=[1.0, np.nan, 3.0])
    assert bench.table_difference(missing, missing)[0] is False  # NaN never counts as equal
    assert bench.table_difference(table, table.iloc[:2]) == (False, None)


def test_band_error_refuses_a_non_finite_response():
    bench = _bench_module()
    reference = np.ones((3, 2), dtype=complex)
    assert bench.band_error(reference, reference) == 0.0
    broken = reference.copy()
    broken[1, 0] = np.nan
    with pytest.raises(ArithmeticError, match="not finite"):
        bench.band_error(reference, broken)


def test_measured_child_starts_every_blas_pool_with_the_thread_limit(monkeypatch):
    """Pools loaded after the child's threadpoolctl limit read the thread variables: set for the child only."""
    import os

    from gridcoherence.studies.benchmarking import THREAD_VARIABLES, measure

    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "7")
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    outcome = measure(os.getenv, "OPENBLAS_NUM_THREADS", threads=1)
    assert outcome["error"] is None and outcome["result"] == "1"
    assert measure(os.getenv, "OMP_NUM_THREADS", threads=1)["result"] == "1"
    assert os.environ["OPENBLAS_NUM_THREADS"] == "7" and "OMP_NUM_THREADS" not in os.environ
    assert "MKL_NUM_THREADS" in THREAD_VARIABLES


def test_spectral_target_against_scikit_learn_amg_at_a_million_nodes():
    bench = _bench_module()

    def ours(method, seconds, ari=1.0):
        return {"n": 1_000_000, "method": method, "cluster_seconds": seconds, "sample_seconds": 8.0,
                "adjusted_rand_index": ari, "timeout": False}

    rows = {"gridcoherence-laplacian": [ours("gridcoherence-laplacian", 20.0)],
            "gridcoherence-normalized": [{"n": 1_000_000, "timeout": True, "case_seconds": 600.0}]}
    finished = dict(rows, **{"sklearn-amg": [{**ours("sklearn-amg", 70.0), "method": "sklearn-amg"}]})
    target = bench.spectral_target(finished)
    assert target["ours"] == "gridcoherence-laplacian" and target["speedup"] == pytest.approx(3.5)
    assert target["met"] is True
    slower = dict(rows, **{"sklearn-amg": [{**ours("sklearn-amg", 50.0), "method": "sklearn-amg"}]})
    assert bench.spectral_target(slower)["met"] is False
    better = dict(rows, **{"sklearn-amg": [{**ours("sklearn-amg", 90.0, ari=1.0), "method": "sklearn-amg"}]})
    better["gridcoherence-laplacian"] = [ours("gridcoherence-laplacian", 20.0, ari=0.9)]
    assert bench.spectral_target(better)["met"] is False  # faster, but less accurate
    # A timeout bounds the speed-up from below: (600 s - our 8 s of sampling) / 20 s.
    timed_out = dict(rows, **{"sklearn-amg": [{"n": 1_000_000, "timeout": True, "case_seconds": 600.0}]})
    target = bench.spectral_target(timed_out)
    assert target["speedup_at_least"] == pytest.approx(29.6) and target["met"] is True
    failed = dict(rows, **{"sklearn-amg": [{"n": 1_000_000, "timeout": False, "case_seconds": 90.0,
                                            "error": "MemoryError"}]})
    target = bench.spectral_target(failed)
    assert target["met"] is None and target["amg_status"] == "MemoryError"
    assert bench.spectral_target({})["met"] is None


def test_floor_target_judges_the_ratios_from_its_smallest_size_up():
    bench = _bench_module()

    def large(n, ratio):
        return {"n": n, "reduce_seconds": 1.0, "reduce_over_floor": ratio, "timeout": False}

    def floor(rows):
        return bench.targets(rows, {}, None, quick=False)["floor_ratio"]

    small = bench.FLOOR_RATIO_MIN_N // 10
    report = floor([large(small, 4.0), large(bench.FLOOR_RATIO_MIN_N, 1.2)])
    assert report[f"reduction n={small}"] == 4.0 and report["met"] is True  # reported, not judged
    assert floor([large(small, 1.0), large(bench.FLOOR_RATIO_MIN_N, 1.4)])["met"] is False
    assert floor([large(small, 1.0)])["met"] is None


def test_the_benchmarks_page_is_the_render_of_its_saved_report():
    """docs/benchmarks.md shows the run in docs/benchmarks.json, not numbers from elsewhere."""
    docs = Path(__file__).resolve().parents[1] / "docs"
    bench = _bench_module()
    report = json.loads((docs / "benchmarks.json").read_text())
    assert report["benchmark"] == "gridcoherence" and report["quick"] is False
    assert (docs / "benchmarks.md").read_text() == bench.markdown(report)
