"""Resumable sweeps: Dask equals serial; an interrupted sweep resumes without duplicates."""

import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from gridcoherence.studies.sweeps import sweep

PARAMS = {"n": [10, 100], "n_reference": [20_000]}


def comparable(table):
    return table.drop(columns=["seconds"]).reset_index(drop=True)


def test_local_cluster_equals_serial(tmp_path):
    serial = sweep("concentration", range(3), PARAMS, out=tmp_path / "serial.csv", progress=False)
    dask = sweep("concentration", range(3), PARAMS, out=tmp_path / "dask.csv", scheduler="local",
                 n_workers=2, progress=False)
    assert serial.n_run == dask.n_run == 6
    pd.testing.assert_frame_equal(comparable(serial.table), comparable(dask.table))


def test_rerun_skips_finished_runs(tmp_path):
    out = tmp_path / "s.csv"
    first = sweep("concentration", [0, 1], PARAMS, out=out, progress=False)
    again = sweep("concentration", [0, 1, 2], PARAMS, out=out, progress=False)
    assert (first.n_run, again.n_run, again.n_skipped) == (4, 2, 4)
    assert len(again.table) == 6 and not again.table.duplicated(["n", "seed"]).any()


def test_killed_sweep_resumes_without_duplicates(tmp_path):
    out = tmp_path / "killed.csv"
    code = (
        "from gridcoherence.studies.sweeps import sweep\n"
        f"sweep('concentration', range(12), {{'n': [50], 'n_reference': [400_000]}}, out={str(out)!r}, progress=False)\n"
    )
    process = subprocess.Popen([sys.executable, "-c", code])
    deadline = time.time() + 120
    while time.time() < deadline:
        if out.exists() and out.read_text().count("\n") >= 3:  # header + 2 rows
            break
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    partial = pd.read_csv(out)
    assert 2 <= len(partial) < 12, "the sweep should have been interrupted part-way"
    # A torn last line (killed mid-write) must also be tolerated.
    with open(out, "a") as handle:
        handle.write("concentration,99,50,0.1")
    resumed = sweep("concentration", range(12), {"n": [50], "n_reference": [400_000]}, out=out,
                    progress=False)
    assert resumed.n_skipped == len(partial)
    assert sorted(resumed.table["seed"]) == list(range(12))
    reference = sweep("concentration", range(12), {"n": [50], "n_reference": [400_000]},
                      out=tmp_path / "clean.csv", progress=False)
    pd.testing.assert_frame_equal(comparable(resumed.table), comparable(reference.table))


def test_bad_sweep_input(tmp_path):
    with pytest.raises(ValueError, match=r"unknown study 'nope'; available: .*concentration"):
        sweep("nope", [0], out=tmp_path / "x.csv")
    with pytest.raises(ValueError, match=r"parameter 'n' must be given as a list"):
        sweep("concentration", [0], {"n": 5}, out=tmp_path / "x.csv")
    with pytest.raises(FileNotFoundError, match=r"output folder"):
        sweep("concentration", [0], out=tmp_path / "missing" / "x.csv")


def test_thm3_10_study_error_shrinks_with_n(tmp_path):
    result = sweep("thm3_10", range(2), {"n": [80, 320]}, out=tmp_path / "t.csv", progress=False)
    table = result.table
    assert table["success"].all()
    mean_error = table.groupby("n")["band_error"].mean()
    assert mean_error[320] < 0.5 * mean_error[80]
    # The structure-preserving error tracks eta / lambda_4 (Thm 3.8 regime).
    ratio = table["band_error"] * table["lambda_next"]
    assert ratio.between(0.3, 3.0).all()


def test_missing_extra_is_named_before_any_run(tmp_path, monkeypatch, capsys):
    from gridcoherence._extras import MissingExtraError
    from gridcoherence.cli import main

    # A None entry in sys.modules makes the import fail as if the package were absent.
    monkeypatch.setitem(sys.modules, "dask.distributed", None)
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(MissingExtraError, match=r'gridcoherence\[distributed\]'):
        sweep("concentration", [0], PARAMS, out=tmp_path / "a.csv", scheduler="local")
    with pytest.raises(MissingExtraError, match="pyarrow"):
        sweep("concentration", [0], PARAMS, out=tmp_path / "b.csv", parquet=True)
    assert not list(tmp_path.iterdir()), "no run may start without the extra"
    code = main(["sweep", "concentration", "--seeds", "0:1", "--workers", "2", "--out", str(tmp_path / "c.csv")])
    assert code == 2
    assert 'pip install "gridcoherence[distributed]"' in capsys.readouterr().err
