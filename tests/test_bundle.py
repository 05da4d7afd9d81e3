"""A run's output folder, written by the library (the command line's reduce and compare use it)."""

import json

import numpy as np
import pandas as pd
import pytest

import gridcoherence as gc
from gridcoherence.report.bundle import write_comparison_bundle, write_reduction_bundle
from gridcoherence.report.compare import UNITS


@pytest.fixture(scope="module")
def kundur_reduction():
    case = gc.load_case("kundur_two_area")
    return case, gc.reduce_network(case.model, 2, order=1)  # order 1 < the aggregates' order 2


def small_table():
    table = pd.DataFrame({"model": ["original", "k=2"], "group": ["cluster 0"] * 2, "nadir": [-0.3, -0.31]})
    table.attrs["units"] = dict(UNITS)
    return table


def test_reduction_bundle_writes_and_lists_every_file(kundur_reduction, tmp_path):
    case, result = kundur_reduction
    band = result.model.band_error(1.0)
    u0 = -np.eye(case.model.n)[0]
    written = write_reduction_bundle(tmp_path, case, result, small_table(), u0, np.linspace(0.0, 10.0, 201),
                                     band=1.0, band_error=band)
    assert [p.name for p in written] == [
        "step_comparison.csv", "step_comparison.md", "cluster_responses.png", "coi_vs_aggregate.png",
        "bode_aggregate.png", "hankel_singular_values.png", "cluster_map.png", "reduced_model.json",
        "reduction_summary.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in written)
    assert all(p.stat().st_size > 0 for p in written)
    assert (tmp_path / "step_comparison.csv").read_text().splitlines()[0] == "model,group,nadir_rad_s"
    summary = json.loads((tmp_path / "reduction_summary.json").read_text())
    assert summary["case"] == "kundur_two_area" and summary["band"] == 1.0
    assert summary["band_error"]["sup_error"] == pytest.approx(band.sup_error, rel=1e-12)
    assert gc.load_reduced(tmp_path / "reduced_model.json").n_clusters == 2


def test_reduction_bundle_without_reduced_aggregates_or_band(tmp_path):
    case = gc.load_case("kundur_two_area")
    result = gc.reduce_network(case.model, 2)
    written = write_reduction_bundle(tmp_path, case, result, small_table(), np.eye(case.model.n)[1],
                                     np.linspace(0.0, 5.0, 101), band=1.0)
    names = [p.name for p in written]
    assert "bode_aggregate.png" not in names and "hankel_singular_values.png" not in names
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names)
    assert json.loads((tmp_path / "reduction_summary.json").read_text())["band_error"] is None


def test_comparison_bundle(tmp_path):
    written = write_comparison_bundle(tmp_path, small_table())
    assert [p.name for p in written] == ["comparison.csv", "comparison.md"]
    assert written[1].read_text().splitlines()[0] == "| model | group | nadir [rad/s] |"
