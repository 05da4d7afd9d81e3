"""A run's output folder, written by the library (the command line's reduce and compare use it)."""

import dataclasses
import hashlib
import json

import numpy as np
import pandas as pd
import pytest

import gridcoherence as gc
from gridcoherence.report.bundle import error_vs_k_table, write_comparison_bundle, write_reduction_bundle
from gridcoherence.report.compare import UNITS


@pytest.fixture(scope="module")
def iceland_reduction():
    case = gc.load_case("iceland")
    return case, gc.reduce_network(case.model, 3, order=2)  # order 2 < the aggregates' orders 25, 4, 9


def small_table():
    table = pd.DataFrame({"model": ["original", "k=2"], "group": ["area 1"] * 2, "nadir": [-0.3, -0.31]})
    table.attrs["units"] = dict(UNITS)
    return table


def test_reduction_bundle_writes_and_lists_every_file(iceland_reduction, tmp_path):
    case, result = iceland_reduction
    band = result.model.band_error(1.0)  # computed apart from the bundle's, which comes with its accuracy
    u0 = -np.eye(case.model.n)[0]
    out = tmp_path / "run"
    curve = error_vs_k_table(result.selection_)
    written = write_reduction_bundle(out, case, result, small_table(), u0, np.linspace(0.0, 10.0, 201),
                                     band=1.0, error_vs_k=curve, tolerance=0.05)
    assert [p.name for p in written] == [
        "step_comparison.csv", "step_comparison.md", "step_comparison.tex", "error_vs_k.csv", "error_vs_k.md",
        "error_vs_k.png", "cluster_responses.png", "coi_vs_aggregate.png",
        "bode_aggregate.png", "hankel_singular_values.png", "cluster_map.png", "reduced_model.json",
        "reduction_summary.json", "area_map.png", "report.html", "run.json"]
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in written)
    assert [p.name for p in tmp_path.iterdir()] == ["run"], "no hidden folder is left beside the run"
    assert all(p.stat().st_size > 0 for p in written)
    assert (out / "step_comparison.csv").read_text().splitlines()[0] == "model,group,nadir_rad_s"
    assert "band_error_rad_s_per_pu" in (out / "error_vs_k.csv").read_text().splitlines()[0].split(",")
    summary = json.loads((out / "reduction_summary.json").read_text())
    assert summary["case"] == "iceland" and summary["band"] == pytest.approx(1.0, rel=1e-15)
    assert summary["band_error"]["sup_error"] == pytest.approx(band.sup_error, rel=1e-12)
    assert gc.load_reduced(out / "reduced_model.json").n_clusters == 3


def test_manifest_lists_every_file_and_identifies_the_case(iceland_reduction, tmp_path):
    case, result = iceland_reduction
    out = tmp_path / "run"
    written = write_reduction_bundle(out, case, result, small_table(), np.eye(case.model.n)[0],
                                     np.linspace(0.0, 5.0, 101), band=1.0)
    manifest = json.loads((out / "run.json").read_text())
    assert manifest["gridcoherence_version"] == gc.__version__
    assert {f["name"]: f["bytes"] for f in manifest["files"]} == {
        p.name: p.stat().st_size for p in written if p.name != "run.json"}
    assert manifest["case"]["sha256"] == hashlib.sha256(open(case.metadata.source, "rb").read()).hexdigest()
    assert manifest["case"]["sha256_of"] == "file" and manifest["case"]["name"] == "iceland"
    # Without a record of the run, the reduction's own options and seed are stored.
    assert manifest["options"]["order"] == [2, 2, 2] and manifest["seeds"] == {"k_means": result.options["random_state"]}
    assert manifest["command"] is None


def test_reduction_bundle_without_reduced_aggregates(tmp_path):
    case = gc.load_case("kundur_two_area")
    result = gc.reduce_network(case.model, 2)
    out = tmp_path / "run"
    written = write_reduction_bundle(out, case, result, small_table(), np.eye(case.model.n)[1],
                                     np.linspace(0.0, 5.0, 101), band=1.0)
    names = [p.name for p in written]
    assert "bode_aggregate.png" not in names and "hankel_singular_values.png" not in names
    assert sorted(p.name for p in out.iterdir()) == sorted(names)
    band_error = json.loads((out / "reduction_summary.json").read_text())["band_error"]
    assert band_error["sup_error"] == pytest.approx(result.model.band_error(1.0).sup_error, rel=1e-12)


def test_comparison_bundle(iceland_reduction, tmp_path):
    case, _ = iceland_reduction
    run = {"command": ["gridcoherence", "compare"], "options": {"points": 11}, "seeds": {"k_means": 3}}
    written = write_comparison_bundle(tmp_path / "cmp", case, small_table(), run=run)
    assert [p.name for p in written] == ["comparison.csv", "comparison.md", "comparison.tex", "area_map.png",
                                         "report.html", "run.json"]
    assert written[1].read_text().splitlines()[0] == "| model | group | nadir [rad/s] |"
    assert "nadir [rad/s]" in written[2].read_text()
    manifest = json.loads(written[-1].read_text())
    assert {key: manifest[key] for key in run} == run
    assert [f["name"] for f in manifest["files"]] == ["area_map.png", "comparison.csv", "comparison.md",
                                                      "comparison.tex", "report.html"]


def test_manifest_of_a_pandapower_network_hashes_its_name(iceland_reduction, tmp_path):
    case, _ = iceland_reduction
    named = dataclasses.replace(case, metadata=dataclasses.replace(case.metadata, source="pandapower:case9"))
    write_comparison_bundle(tmp_path / "cmp", named, small_table())
    record = json.loads((tmp_path / "cmp" / "run.json").read_text())["case"]
    assert record["sha256_of"] == "name" and record["source"] == "pandapower:case9"
    assert record["sha256"] == hashlib.sha256(b"pandapower:case9").hexdigest()
