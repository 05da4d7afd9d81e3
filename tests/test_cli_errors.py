"""The command line refuses bad usage early, and its run folders are all-new or all-old.

Most commands run in-process through :func:`gridcoherence.cli.main`; the SIGKILL test
forks this process at the start of the writing, so each kill costs no recomputation.
"""

import hashlib
import json
import os
import shutil
import signal
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import run_folder, run_main

import gridcoherence as gc
from gridcoherence.report import bundle

# Kundur's two areas swing on beyond the default 120 s horizon; the table says so in a warning.
pytestmark = pytest.mark.filterwarnings("ignore:outputs still outside the 0.02 settling band")

CASES_FOLDER = Path(__file__).resolve().parents[1] / "cases"
REDUCE = ["reduce", "kundur_two_area", "-k", "2", "--points", "201", "--out", "out"]
COMPARE = ["compare", "kundur_two_area", "--points", "201"]
# Iceland's k = 3 aggregates have orders 25, 4 and 9: order 2 reduces every one of them.
REDUCE_ICELAND = ["reduce", "iceland", "-k", "3", "--points", "201", "--out", "out"]


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """A folder with an ordinary file and an islanded copy of the Kundur case."""
    text = (CASES_FOLDER / "kundur_two_area.toml").read_text()
    # Cut both tie lines to generators 3/4 and give their area its own reference bus.
    for old, new in [("  [3, 101, 0.011, 0.11, 0.1925, 1, 0],\n", ""), ("  [13, 101, 0.011, 0.11, 0.1925, 1, 0],\n", ""),
                     ("  [11, 2, 0, 0, 0, 0, 1.03, -6.8, 22],", "  [11, 3, 0, 0, 0, 0, 1.03, -6.8, 22],"),
                     ("  [101, 2, 0, 0, 0, 0, 1, -19.3, 500],", "  [101, 1, 0, 0, 0, 0, 1, -19.3, 500],")]:
        assert old in text
        text = text.replace(old, new)
    (tmp_path / "split.toml").write_text(text)
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / "thesis").mkdir()
    (tmp_path / "thesis" / "chapter.tex").write_text("mine")
    monkeypatch.chdir(tmp_path)
    return tmp_path


BAD_USAGE = {
    "band-0": (REDUCE + ["--band", "0"], "argument --band: must be a finite number > 0 (rad/s), got 0"),
    "band-inf": (REDUCE + ["--band", "inf"], "argument --band: must be a finite number, got inf"),
    "band-nan": (REDUCE + ["--band", "nan"], "argument --band: must be a finite number, got nan"),
    "amplitude-nan": (REDUCE + ["--amplitude", "nan"], "argument --amplitude: must be a finite number, got nan"),
    "amplitude-inf": (REDUCE + ["--amplitude", "inf"], "argument --amplitude: must be a finite number, got inf"),
    "amplitude-0": (REDUCE + ["--amplitude", "0"], "argument --amplitude: must not be 0: a zero step has no response"),
    "horizon-0": (REDUCE + ["--horizon", "0"], "argument --horizon: must be a finite number > 0 (s), got 0"),
    "horizon-nan": (REDUCE + ["--horizon", "nan"], "argument --horizon: must be a finite number, got nan"),
    "horizon-negative": (REDUCE + ["--horizon", "-5"], "argument --horizon: must be a finite number > 0 (s), got -5"),
    "points-1": (REDUCE + ["--points", "1"], "argument --points: must be at least 2"),
    "points-negative": (REDUCE + ["--points", "-1"], "argument --points: must be at least 2"),
    "seed-negative": (REDUCE + ["--seed", "-1"], "argument --seed: must be a k-means seed in 0..4294967295, got -1"),
    "eigenvalues-0": (["info", "kundur_two_area", "--eigenvalues", "0"], "argument --eigenvalues: must be at least 2 (lambda_1 = 0 and lambda_2), got 0"),
    "order-0": (REDUCE + ["--order", "0"], "--order must be at least 2 for method cl"),
    "order-1-cl": (REDUCE + ["--order", "1"],
                   "--order must be at least 2 for method cl (an aggregate machine keeps its swing state and at "
                   "least one turbine state; order 1 would fold the governors into an instantaneous damping"),
    "order-1-tb": (REDUCE + ["--order", "1", "--method", "tb"], "--order must be at least 2 for method tb"),
    "models-negative-order": (COMPARE + ["--models", "k=2,order=-3"],
                              "argument --models: 'k=2,order=-3': order must be at least 2 for method cl"),
    "models-order-1-cl": (COMPARE + ["--models", "k=2", "k=2,order=1"],
                          "'k=2,order=1': order must be at least 2 for method cl"),
    "models-order-1-tb": (COMPARE + ["--models", "k=2", "method=tb,order=1,k=2"],
                          "'method=tb,order=1,k=2': order must be at least 2 for method tb"),
    "models-k-0": (COMPARE + ["--models", "k=0"], "argument --models: 'k=0': k must be at least 1"),
    "models-k-too-large": (COMPARE + ["--models", "k=2", "k=9"],
                           "--models 'k=9': k must be between 1 and 4 (the number of machines), got 9"),
    "disturbance-too-large": (REDUCE + ["--disturbance", "5"],
                              "--disturbance must be a machine number 1..4, got 5"),
    "disturbance-zero": (REDUCE + ["--disturbance", "0"],
                         "argument --disturbance: must be a machine number 1..n (machines count from 1), got 0"),
    "reproduce-mnist-missing": (["reproduce", "--only", "fig2_12", "--mnist", "nowhere.npz", "--out", "figures"],
                                "--mnist: nowhere.npz does not exist"),
    "disturbance-unknown-name": (REDUCE + ["--disturbance", "G9"],
                                 "--disturbance: the case has no machine named 'G9'; its machines are G1, G2, G3, G4"),
    "out-is-a-file": (REDUCE[:-1] + ["notes.txt"], "--out: {tmp}/notes.txt is a file, not a folder"),
    "out-is-not-a-run": (COMPARE + ["--models", "2", "--out", "thesis"],
                         "--out: {tmp}/thesis is a folder gridcoherence did not write (no run.json)"),
    "keep-previous-without-out": (COMPARE + ["--models", "2", "--keep-previous"], "--keep-previous needs --out"),
    "pandapower-function": (["info", "pandapower:create_bus"],
                            "case pandapower:create_bus: field 'network.name': pandapower.networks has no network 'create_bus' "
                            "(create_bus is a pandapower function that builds no network)"),
    "pandapower-empty-network": (["reduce", "pandapower:create_empty_network", "--out", "out"],
                                 "pandapower.networks has no network 'create_empty_network'"),
    "pandapower-unknown": (["info", "pandapower:nonexistent"], "pandapower.networks has no network 'nonexistent'"),
    "pandapower-typo": (["compare", "pandapower:case_nine", "--models", "2"], "did you mean 'case_ieee30'?"),
    "islands": (["info", "split.toml"], "the network has islands: machines ['G3', 'G4'] islanded from the main "
                                        "group. Pass keep_main_island=True to keep the largest machine group. "
                                        "(use --keep-main-island)"),
    "islands-reduce": (["reduce", "split.toml", "--out", "out"], "(use --keep-main-island)"),
}


@pytest.mark.parametrize("args, message", list(BAD_USAGE.values()), ids=list(BAD_USAGE))
def test_bad_usage_exits_2_with_one_line_naming_the_option(workdir, capsys, args, message):
    before = sorted(p.name for p in workdir.iterdir())
    code = run_main(args)
    err = capsys.readouterr().err
    assert code == 2, err
    assert message.format(tmp=workdir) in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert err.startswith(f"gridcoherence {args[0]}: error: ")
    assert sorted(p.name for p in workdir.iterdir()) == before, "no output folder may be made"


def test_keep_main_island_keeps_the_largest_machine_group(workdir, capsys):
    assert run_main(["reduce", "split.toml", "-k", "1", "--points", "101", "--out", "out", "--keep-main-island"]) == 0
    capsys.readouterr()
    summary = json.loads((workdir / "out" / "reduction_summary.json").read_text())
    assert [row["size"] for row in summary["clusters"]] == [2], "G3 and G4 are dropped with their island"
    assert json.loads((workdir / "out" / "run.json").read_text())["options"]["keep_main_island"] is True


def test_an_order_that_reduces_nothing_is_labelled_with_the_order_used(workdir, capsys):
    # Kundur's two-machine aggregates have order 2 (one turbine time constant): order 5 reduces nothing.
    assert run_main(REDUCE + ["--order", "5"]) == 0
    err = capsys.readouterr().err
    notes = [line for line in err.splitlines() if "note:" in line]
    assert notes == ["gridcoherence reduce: note: --order 5 reduces nothing: every aggregate is already of "
                     "order <= 5 (orders 2, 2); the model keeps the full aggregates"]
    assert set(pd.read_csv(workdir / "out" / "step_comparison.csv")["model"]) == {
        "original", "k=2, order=2 (full aggregates), cl"}
    # An order that reduces every aggregate keeps the requested order in the label, with no note.
    assert run_main(REDUCE_ICELAND + ["--order", "2"]) == 0
    assert "note:" not in capsys.readouterr().err
    assert set(pd.read_csv(workdir / "out" / "step_comparison.csv")["model"]) == {"original", "k=3, order=2, cl"}


def test_second_reduce_leaves_no_file_of_the_first(workdir, capsys):
    assert run_main(REDUCE_ICELAND + ["--order", "2"]) == 0
    _, first = run_folder(workdir / "out")
    assert {"bode_aggregate.png", "hankel_singular_values.png"} <= set(first)
    assert run_main(REDUCE) == 0
    command, second = run_folder(workdir / "out")
    assert command == ["gridcoherence", *REDUCE]
    assert "bode_aggregate.png" not in second and "hankel_singular_values.png" not in second
    # --keep-previous keeps the run it replaces beside the new one.
    assert run_main(REDUCE_ICELAND + ["--keep-previous", "--order", "2"]) == 0
    assert run_folder(workdir / "out")[1].keys() == first.keys()
    assert run_folder(workdir / "out.previous") == (command, second)
    assert not [p.name for p in workdir.iterdir() if p.name.startswith(".")], "no hidden folder may stay"
    capsys.readouterr()


def test_run_manifest_records_command_case_options_and_seeds(workdir, capsys):
    args = ["compare", "kundur_two_area", "--models", "2", "1", "--points", "101", "--seed", "7", "--out", "cmp"]
    assert run_main(args) == 0
    capsys.readouterr()
    manifest = json.loads((workdir / "cmp" / "run.json").read_text())
    assert manifest["command"] == ["gridcoherence", *args]
    assert manifest["gridcoherence_version"] == gc.__version__
    assert manifest["seeds"] == {"k_means": 7}
    assert manifest["options"]["points"] == 101 and [m["text"] for m in manifest["options"]["models"]] == ["2", "1"]
    source = gc.load_case("kundur_two_area").metadata.source
    assert manifest["case"] == {"name": "kundur_two_area", "source": source, "sha256_of": "file",
                                "sha256": hashlib.sha256(Path(source).read_bytes()).hexdigest()}
    assert run_folder(workdir / "cmp")[1].keys() == {"comparison.csv", "comparison.md", "comparison.tex",
                                                     "responses_1.png", "responses_2.png", "cluster_map.png",
                                                     "area_map.png", "report.html"}


# ---------------------------------------------------------------------------- SIGKILL
#: File-system audit events (PEP 578) that change or read folders and files; the last is
#: raised by the writer child around the folder swap, which ctypes does not announce.
EVENTS = {"open", "os.mkdir", "os.rename", "os.remove", "os.rmdir", "os.chmod", "os.scandir", "os.listdir",
          "shutil.rmtree", "exchange"}


def _paths(args):
    for arg in args:
        if isinstance(arg, tuple):
            yield from _paths(arg)
        elif isinstance(arg, (str, bytes, os.PathLike)):
            yield os.fsdecode(arg)


def fork_writer(write, watched, stop_at, report):
    """Fork a child that calls ``write()``; return its pid.

    The child counts the file-system events from the first one under ``watched`` on (later
    ones may name a file relative to a folder descriptor, as in ``shutil.rmtree``). It stops
    just before event number ``stop_at``, writes ``report`` and waits to be killed; if it
    gets through, it writes the names of all its events to ``report``."""
    from gridcoherence import _io

    pid = os.fork()
    if pid:
        return pid
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        seen = []

        def hook(event, args):
            if event in EVENTS and (seen or any(p.startswith(watched) for p in _paths(args))):
                seen.append(event)
                if len(seen) == stop_at:
                    Path(report).write_text("stopped")
                    while True:
                        signal.pause()

        exchange = _io._exchange

        def announced_exchange(first, second):
            sys.audit("exchange", first, second)
            return exchange(first, second)

        _io._exchange = announced_exchange
        sys.addaudithook(hook)
        write()
        Path(report).write_text(json.dumps(seen))
        os._exit(0)
    except BaseException:
        os._exit(1)


def state(path):
    """:func:`run_folder` of ``path``, or what is wrong with it."""
    try:
        return run_folder(path)
    except (OSError, ValueError, AssertionError) as exc:
        return f"no complete run: {exc!r}"


def kill_at_stop(pid, report):
    """SIGKILL the child once it wrote ``report``; None, or its exit status if it exited first."""
    deadline = time.monotonic() + 60
    while not report.exists():
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        assert time.monotonic() < deadline, "the writer did not reach its stop"
        time.sleep(0.002)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return None


@pytest.mark.skipif(not hasattr(os, "fork") or not sys.platform.startswith("linux"),
                    reason="forks, and the atomic swap is Linux's renameat2")
def test_sigkill_at_any_point_leaves_the_old_or_the_new_run(tmp_path, monkeypatch, capsys):
    runs = tmp_path / "runs"
    runs.mkdir()
    monkeypatch.chdir(runs)
    old_args, new_args = REDUCE_ICELAND + ["--order", "2", "-q"], REDUCE + ["-q"]
    assert run_main(old_args) == 0
    old = run_folder(runs / "out")
    shutil.copytree(runs / "out", tmp_path / "old")
    real_write = bundle.write_reduction_bundle
    found = []  # (stop, state, expected) per kill; asserted after main returns

    def restore_old():
        shutil.rmtree(runs / "out")
        shutil.copytree(tmp_path / "old", runs / "out")

    def write_with_kills(*args, **kwargs):
        """Runs once the new run is computed: fork writers, kill them, check, then write for real."""
        write = lambda: real_write(*args, **kwargs)  # noqa: E731
        report = tmp_path / "report-full"
        assert os.waitpid(fork_writer(write, str(runs), 0, report), 0)[1] == 0
        events = json.loads(report.read_text())
        new = run_folder(runs / "out")
        exchange = events.index("exchange") + 1  # the stop just before the swap
        rng = np.random.default_rng(20240521)
        stops = set(rng.choice(np.arange(1, len(events) + 1), size=8, replace=False).tolist())
        # Just before and just after the swap, and while the earlier run is being removed.
        stops |= {exchange, exchange + 1, min(exchange + 4, len(events))}
        for stop in sorted(stops):
            restore_old()
            report = tmp_path / f"report-{stop}"
            early_exit = kill_at_stop(fork_writer(write, str(runs), stop, report), report)
            found.append((stop, (early_exit, state(runs / "out")), (None, new if stop > exchange else old)))
            # The next run succeeds and removes what the killed one left.
            status = os.waitpid(fork_writer(write, str(runs), 0, tmp_path / f"report-{stop}-next"), 0)[1]
            found.append((f"after {stop}", (status, state(runs / "out"), sorted(p.name for p in runs.iterdir())),
                          (0, new, ["out"])))
        restore_old()
        return real_write(*args, **kwargs)

    monkeypatch.setattr(bundle, "write_reduction_bundle", write_with_kills)
    assert run_main(new_args) == 0, capsys.readouterr().err
    assert len(found) >= 2 * 9
    for stop, seen, expected in found:
        assert seen == expected, f"kill point {stop}"
    assert run_folder(runs / "out")[0] == ["gridcoherence", *new_args]
    assert sorted(p.name for p in runs.iterdir()) == ["out"]
