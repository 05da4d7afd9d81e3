"""Resumable sweeps: Dask equals serial; a row is reused only for its full run key; one
writer at a time; a killed sweep resumes to exactly the table of a clean run."""

import fcntl
import os
import subprocess
import sys
import time

import pandas as pd
import pytest

import gridcoherence
from gridcoherence.studies.sweeps import SweepError, plan_sweep, run_key, sweep

PARAMS = {"n": [10, 100], "n_reference": [20_000]}
SEEDS = range(4)
#: The run-key columns of a ``concentration`` table.
KEY = ["study", "version", "seed", "n", "n_freq", "n_reference", "omega_max"]
ENV = dict(os.environ, OPENBLAS_NUM_THREADS="1")

# A sweep of ``concentration`` over SEEDS and PARAMS that stops, at the COUNT-th call of
# HOOK (the study, os.fsync or os.replace), before making that call: it creates the
# file READY and waits there to be killed.
STOPPING_SWEEP = f"""
import functools, os, sys, threading
from pathlib import Path
out, hook, count, ready = sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
calls = 0
def stop_at_count(function):
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        global calls
        calls += 1
        if calls == count:
            ready.touch()
            threading.Event().wait()
        return function(*args, **kwargs)
    return wrapper
if hook == "study":
    from gridcoherence.studies import bundled
    bundled.STUDIES["concentration"] = stop_at_count(bundled.STUDIES["concentration"])
else:
    setattr(os, hook, stop_at_count(getattr(os, hook)))
from gridcoherence.studies.sweeps import sweep
sweep("concentration", {list(SEEDS)!r}, {PARAMS!r}, out=out, progress=False)
"""


def comparable(table):
    return table.drop(columns=["seconds"]).reset_index(drop=True)


def wait_for(condition, what, timeout=120):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def start_stopping_sweep(out, hook, count):
    """Start STOPPING_SWEEP; return the process once it waits at its stop."""
    ready = out.with_name(f"ready-{hook}-{count}-{time.monotonic_ns()}")
    process = subprocess.Popen([sys.executable, "-c", STOPPING_SWEEP, str(out), hook, str(count), str(ready)],
                               env=ENV)
    wait_for(lambda: ready.exists() or process.poll() is not None, f"{hook} call {count}")
    if not ready.exists():
        pytest.fail(f"the sweep ended (exit {process.returncode}) before {hook} call {count}")
    ready.unlink()
    return process


def kill_at(out, hook, count):
    process = start_stopping_sweep(out, hook, count)
    process.kill()
    process.wait()


def finished_rows(out):
    """The sweep table at ``out``: complete lines only, no duplicate run key."""
    table = pd.read_csv(out)
    assert not table.duplicated(KEY).any(), "a run was written twice"
    return table


def test_local_cluster_equals_serial(tmp_path):
    serial = sweep("concentration", range(3), PARAMS, out=tmp_path / "serial.csv", progress=False)
    dask = sweep("concentration", range(3), PARAMS, out=tmp_path / "dask.csv", scheduler="local",
                 n_workers=2, progress=False)
    assert serial.n_run == dask.n_run == 6
    pd.testing.assert_frame_equal(comparable(serial.table), comparable(dask.table))


def test_rerun_skips_finished_runs_and_returns_only_the_requested_ones(tmp_path):
    out = tmp_path / "s.csv"
    first = sweep("concentration", [0, 1], PARAMS, out=out, progress=False)
    again = sweep("concentration", [0, 1, 2], PARAMS, out=out, progress=False)
    assert (first.n_run, again.n_run, again.n_skipped) == (4, 2, 4)
    assert len(again.table) == 6 and not again.table.duplicated(KEY).any()
    subset = sweep("concentration", [2], {"n": [100], "n_reference": [20_000]}, out=out, progress=False)
    assert (subset.n_run, subset.n_skipped) == (0, 1)
    assert subset.table[["n", "seed"]].values.tolist() == [[100, 2]]
    assert len(pd.read_csv(out)) == 6, "the file keeps the other runs"


def trial(seed, scale, offset=0):
    return {"value": seed * scale + offset}


def test_a_parameter_left_at_its_default_is_part_of_the_key(tmp_path):
    out = tmp_path / "t.csv"
    sweep(trial, [0, 1], {"scale": [10], "offset": [3]}, out=out, progress=False)
    default = sweep(trial, [0, 1], {"scale": [10]}, out=out, progress=False)
    assert (default.n_run, default.n_skipped) == (2, 0), "offset=3 rows must not stand for offset=0"
    assert default.table[["offset", "value"]].values.tolist() == [[0, 0], [0, 10]]
    explicit = sweep(trial, [0, 1], {"scale": [10], "offset": [0]}, out=out, progress=False)
    assert (explicit.n_run, explicit.n_skipped) == (0, 2), "the default given explicitly is the same run"
    assert len(pd.read_csv(out)) == 4


def test_rows_of_another_version_are_kept_but_not_reused(tmp_path):
    out = tmp_path / "s.csv"
    sweep("concentration", [0, 1], PARAMS, out=out, progress=False)
    old = pd.read_csv(out).assign(version="0.0.1")
    old.to_csv(out, index=False)
    again = sweep("concentration", [0, 1], PARAMS, out=out, progress=False)
    assert (again.n_run, again.n_skipped) == (4, 0)
    assert set(again.table["version"]) == {gridcoherence.__version__}
    assert sorted(set(finished_rows(out)["version"])) == ["0.0.1", gridcoherence.__version__]


def test_run_key_holds_study_version_every_parameter_and_seed():
    plan = plan_sweep("concentration", [7], {"n": [80]})
    (params, seed), = plan.runs
    assert plan.keys() == [run_key("concentration", params, 7)]
    key = run_key("concentration", params, seed)
    assert key[:2] == ("concentration", gridcoherence.__version__) and key[3] == "7"
    assert dict(key[2]) == {"n": "80", "n_freq": "20", "n_reference": "200000", "omega_max": "2.0"}
    assert run_key("thm3_10", params, seed) != key
    assert run_key("concentration", params, seed, version="0.0.1") != key


def test_values_are_converted_to_the_type_of_the_default():
    plan = plan_sweep("concentration", [0], {"n": ["10", 20], "omega_max": ["3"]})
    assert [(p["n"], p["omega_max"]) for p, _ in plan.runs] == [(10, 3.0), (20, 3.0)]
    assert all(type(p["n"]) is int and type(p["omega_max"]) is float for p, _ in plan.runs)

    def flagged(seed, flag=False, method="cl"):
        return {}

    plan = plan_sweep(flagged, [0], {"flag": ["true", False], "method": ["tb"]})
    assert [p for p, _ in plan.runs] == [{"flag": True, "method": "tb"}, {"flag": False, "method": "tb"}]


def variadic(seed, **params):
    return {}


@pytest.mark.parametrize("study, seeds, params, argument, message", [
    ("nope", [0], {}, "study", r"unknown study 'nope'; available: .*concentration"),
    (variadic, [0], {}, "study", r"'params' must be a named keyword argument"),
    (trial, [0], {}, "params", r"parameter 'scale' of study 'trial' has no default"),
    ("concentration", [0], {"bogus": [1]}, "params",
     r"no parameter 'bogus'; its parameters: n, n_freq, n_reference, omega_max"),
    ("concentration", [0], {"n": 5}, "params", r"parameter 'n' must be given as a list"),
    ("concentration", [0], {"n": []}, "params", r"parameter 'n' .* empty list"),
    ("concentration", [0], {"n": ["abc"]}, "params", r"'n' of study 'concentration' must be an integer, got 'abc'"),
    ("concentration", [0], {"n": [True]}, "params", r"'n' .* must be an integer, got True"),
    ("concentration", [0], {"n": [2.5]}, "params", r"'n' .* must be an integer, got 2.5"),
    ("concentration", [0], {"n": [10, "10"]}, "params", r"'n' lists the value 10 twice"),
    ("concentration", [0], {"omega_max": [float("nan")]}, "params", r"'omega_max' .* a finite number, got nan"),
    ("concentration", [0], {"omega_max": ["x"]}, "params", r"'omega_max' .* a finite number"),
    ("aggregate_inertia", [0], {"method": [1]}, "params", r"'method' .* must be a string, got 1"),
    ("concentration", [], {}, "seeds", r"seeds is empty"),
    ("concentration", range(5, 2), {}, "seeds", r"seeds is empty"),
    ("concentration", [0, 1, 0], {}, "seeds", r"seed 0 is listed twice"),
    ("concentration", [-1], {}, "seeds", r"non-negative integers, got -1"),
    ("concentration", [0.5], {}, "seeds", r"non-negative integers, got 0.5"),
])
def test_bad_input_is_refused_before_any_file_is_made(tmp_path, study, seeds, params, argument, message):
    with pytest.raises(SweepError, match=message) as error:
        sweep(study, seeds, params, out=tmp_path / "x.csv")
    assert error.value.argument == argument
    assert not list(tmp_path.iterdir())


def test_out_must_be_a_file_in_an_existing_folder(tmp_path):
    with pytest.raises(SweepError, match=r"is a folder") as error:
        sweep("concentration", [0], PARAMS, out=tmp_path)
    assert error.value.argument == "out" and not list(tmp_path.iterdir())
    with pytest.raises(FileNotFoundError, match=r"output folder"):
        sweep("concentration", [0], PARAMS, out=tmp_path / "missing" / "x.csv")


@pytest.mark.parametrize("content", [
    b"line one\nimportant last line",
    b"line one\nline two\n",
    b"study,seed,n,gap,seconds\nconcentration,0,10,0.1,0.2\n",  # no version column
    b"\xff\xfe binary",
    # a second header in the middle, as two unlocked writers once left it
    b"study,version,seed,n,n_freq,n_reference,omega_max,gap,seconds\n"
    b"study,version,seed,n,n_freq,n_reference,omega_max,gap,seconds\n",
], ids=["text-torn", "text", "old-table", "binary", "two-headers"])
def test_a_file_that_is_not_a_table_of_the_study_is_left_unchanged(tmp_path, content):
    out = tmp_path / "n.txt"
    out.write_bytes(content)
    with pytest.raises(SweepError, match=r"n.txt.* (not a sweep table|not a run) of study 'concentration'"):
        sweep("concentration", [0], PARAMS, out=out)
    assert out.read_bytes() == content
    assert [p.name for p in tmp_path.iterdir()] == ["n.txt"], "no lock or temporary file may stay"


def test_a_table_of_another_study_is_refused(tmp_path):
    out = tmp_path / "t.csv"
    sweep(trial, [0], {"scale": [1]}, out=out, progress=False)
    content = out.read_bytes()
    with pytest.raises(SweepError, match=r"not a sweep table of study 'concentration'"):
        sweep("concentration", [0], PARAMS, out=out)
    # The same columns but another study's name in the rows.
    out.write_bytes(content.replace(b"\ntrial,", b"\nother,"))
    with pytest.raises(SweepError, match=r"row 2 is not a run of study 'trial'"):
        sweep(trial, [0], {"scale": [1]}, out=out)
    assert out.read_bytes() == content.replace(b"\ntrial,", b"\nother,")


def test_torn_last_line_is_cut_by_an_atomic_replace(tmp_path):
    out = tmp_path / "s.csv"
    sweep("concentration", [0, 1], PARAMS, out=out, progress=False)
    complete = out.read_bytes()
    with open(out, "ab") as handle:
        handle.write(b"concentration,0.1.0,2,10,20,20000")
    inode = out.stat().st_ino
    resumed = sweep("concentration", [0, 1], PARAMS, out=out, progress=False)
    assert (resumed.n_run, resumed.n_skipped) == (0, 4)
    assert out.read_bytes() == complete
    assert out.stat().st_ino != inode, "the repaired table must replace the file, not rewrite it in place"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.csv"]


def raising(seed, error="runtime"):
    raise {"runtime": RuntimeError("study failed"), "interrupt": KeyboardInterrupt()}[error]


@pytest.mark.parametrize("error, exception", [("runtime", RuntimeError), ("interrupt", KeyboardInterrupt)])
def test_lock_is_released_when_a_sweep_fails(tmp_path, error, exception):
    out = tmp_path / "s.csv"
    with pytest.raises(exception):
        sweep(raising, [0], {"error": [error]}, out=out)
    assert not list(tmp_path.iterdir()), "neither the lock file nor a table may stay"
    assert sweep(trial, [0], {"scale": [2]}, out=out, progress=False).n_run == 1


def test_a_second_writer_is_refused_at_once_and_the_file_left_untouched(tmp_path):
    out = tmp_path / "s.csv"
    holder = start_stopping_sweep(out, "study", 2)  # one row written, the second run waiting
    try:
        content = out.read_bytes()
        with pytest.raises(SweepError, match=rf"another sweep is writing {out}") as error:
            sweep("concentration", SEEDS, PARAMS, out=out)
        assert error.value.argument == "out"
        cli = subprocess.run([sys.executable, "-m", "gridcoherence.cli", "sweep", "concentration",
                              "--seeds", "0:4", "--param", "n=10,100", "--param", "n_reference=20000",
                              "--out", str(out)], capture_output=True, text=True, env=ENV, timeout=120)
        assert cli.returncode == 2, cli.stderr
        assert f"--out: another sweep is writing {out}" in cli.stderr
        assert out.read_bytes() == content
        with open(out.with_name("s.csv.lock")) as lock, pytest.raises(BlockingIOError):
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    finally:
        holder.kill()
        holder.wait()
    resumed = sweep("concentration", SEEDS, PARAMS, out=out, progress=False)  # the kernel freed the lock
    assert (resumed.n_run, resumed.n_skipped) == (7, 1)


def test_two_sweeps_started_together_write_every_run_once(tmp_path):
    out = tmp_path / "s.csv"
    command = [sys.executable, "-m", "gridcoherence.cli", "sweep", "concentration", "--seeds", "0:4",
               "--param", "n=10,100", "--param", "n_reference=20000", "--out", str(out)]
    processes = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
                 for _ in range(2)]
    outcomes = [(p.wait(timeout=120), p.stdout.read() + p.stderr.read()) for p in processes]
    for code, output in outcomes:
        # Either this one ran, or the other held the lock, or the other had already finished.
        assert (code == 0 and "run(s) done" in output) or (code == 2 and "another sweep is writing" in output), output
    assert sum(code == 0 and "8 run(s) done" in output for code, output in outcomes) == 1
    assert out.read_text().count("study,version") == 1
    assert len(finished_rows(out)) == 8


def test_killed_sweep_resumes_to_the_clean_table(tmp_path):
    out = tmp_path / "killed.csv"
    # Killed while creating the table with its first row: no table at all.
    kill_at(out, "fsync", 1)
    assert not out.exists()
    # Killed after the 2nd row, then (resuming) after writing the 4th row but before its fsync.
    for hook, count, rows in [("study", 3, 2), ("fsync", 2, 4)]:
        kill_at(out, hook, count)
        assert out.read_bytes().endswith(b"\n")
        assert len(finished_rows(out)) == rows
    # A torn last line; killed while repairing it: the file is exactly as before.
    with open(out, "ab") as handle:
        handle.write(b"concentration,0.1.0,0,100,20,20000")
    torn = out.read_bytes()
    kill_at(out, "replace", 1)
    assert out.read_bytes() == torn
    # Resumed again: repaired, one more row, killed in the next run.
    kill_at(out, "study", 2)
    assert out.read_bytes().endswith(b"\n")
    assert len(finished_rows(out)) == 5
    resumed = sweep("concentration", SEEDS, PARAMS, out=out, progress=False)
    assert (resumed.n_run, resumed.n_skipped) == (3, 5)
    clean = sweep("concentration", SEEDS, PARAMS, out=tmp_path / "clean.csv", progress=False)
    pd.testing.assert_frame_equal(comparable(resumed.table), comparable(clean.table))
    pd.testing.assert_frame_equal(comparable(finished_rows(out).sort_values(["n", "seed"])),
                                  comparable(clean.table))


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
