"""The gridcoherence command line, run end to end in subprocesses."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import run_folder

import gridcoherence as gc

ENV = dict(os.environ, MPLBACKEND="Agg", OPENBLAS_NUM_THREADS="1")


def run(*args, cwd=None, timeout=300):
    return subprocess.run([sys.executable, "-m", "gridcoherence.cli", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, env=ENV, timeout=timeout)


def test_help_of_every_command_has_examples():
    result = run("--help")
    assert result.returncode == 0 and "exit codes" in result.stdout
    for command in ["cases", "info", "reduce", "compare", "reproduce", "sweep", "export"]:
        result = run(command, "--help")
        assert result.returncode == 0, command
        assert "examples:" in result.stdout and f"gridcoherence {command}" in result.stdout


def test_cases_lists_bundled_cases():
    result = run("cases")
    assert result.returncode == 0, result.stderr
    for name in gc.list_cases():
        assert name in result.stdout
    assert "lambda_2" in result.stdout


def test_info_reports_spectrum_and_suggested_clusters():
    result = run("info", "kundur_two_area")
    assert result.returncode == 0, result.stderr
    lambda_2 = gc.load_case("kundur_two_area").spectrum_summary(2)["lambda_2"]
    assert f"lambda_2     {lambda_2:.6g}" in result.stdout
    assert "suggested k  2" in result.stdout and "passivity" in result.stdout


def _info_suggested_k(capsys, *args):
    from gridcoherence.cli import main

    assert main(["info", *args]) == 0
    line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("suggested k"))
    return int(line.split()[2])


def test_info_reduce_and_spectrum_summary_suggest_the_same_k(capsys):
    for name in gc.list_cases():
        case = gc.load_case(name)
        suggested = _info_suggested_k(capsys, name)
        # however many eigenvalues info shows or spectrum_summary is asked for
        assert _info_suggested_k(capsys, name, "--eigenvalues", "3") == suggested, name
        assert case.spectrum_summary(2)["suggested_k"] == suggested, name
        assert case.spectrum_summary(9)["suggested_k"] == suggested, name
        assert gc.reduce_network(case.model).n_clusters == suggested, name
        assert gc.CoherencyReductor(case.model).reduce(order=2).n_clusters == suggested, name


def test_reduce_without_clusters_succeeds_on_a_complete_graph(tmp_path):
    # coherent5: eigenvalues 0, 50, 50, 50, 50 -- no k in 2..4 leaves V_k determined
    out = tmp_path / "coherent5"
    result = run("reduce", "coherent5", "--points", "201", "--horizon", "20", "--out", out)
    assert result.returncode == 0, result.stderr
    summary = json.loads((out / "reduction_summary.json").read_text())
    assert summary["options"]["k"] == 1 and len(summary["clusters"]) == 1


def test_reduce_writes_table_plots_and_a_model_that_round_trips(tmp_path):
    out = tmp_path / "out"
    result = run("reduce", "iceland", "--clusters", "3", "--order", "2", "--disturbance", "2",
                 "--points", "601", "--out", out)
    assert result.returncode == 0, result.stderr
    for name in ["step_comparison.csv", "step_comparison.md", "reduced_model.json",
                 "reduction_summary.json", "cluster_responses.png", "coi_vs_aggregate.png",
                 "bode_aggregate.png", "hankel_singular_values.png", "cluster_map.png"]:
        assert (out / name).stat().st_size > 0, name
    assert not [p for p in out.iterdir() if p.name.startswith(".")], "temporary files left behind"
    # The saved model is the one the library computes with the same options.
    loaded = gc.load_reduced(out / "reduced_model.json")
    expected = gc.reduce_network(gc.load_case("iceland").model, 3, order=2, method="cl").model
    s = np.array([0.1j, 1j, 0.5 + 3j])
    np.testing.assert_allclose(loaded.lifted_transfer_matrix(s, columns=[1]),
                               expected.lifted_transfer_matrix(s, columns=[1]), rtol=1e-12, atol=0)
    summary = json.loads((out / "reduction_summary.json").read_text())
    assert summary["band_error"]["sup_error"] > 0
    assert "| model" in result.stdout and "| nadir [rad/s] |" in result.stdout
    assert "nadir_rad_s" in (out / "step_comparison.csv").read_text().splitlines()[0].split(",")
    assert "| nadir [rad/s] |" in (out / "step_comparison.md").read_text().splitlines()[0]


def test_compare_several_reductions(tmp_path):
    result = run("compare", "kundur_two_area", "--models", "k=2", "2,order=2,method=tb", "k=1",
                 "--points", "601", "--out", tmp_path)
    assert result.returncode == 0, result.stderr
    table = (tmp_path / "comparison.csv").read_text()
    assert "k=2" in table and "k=1" in table and "original" in table


@pytest.mark.parametrize("args, message", [
    (["info", "icelnd"], "Did you mean 'iceland'"),
    (["reduce", "kundur_two_area", "--clusters", "9", "--out", "x"], "--clusters must be between 1 and 4"),
    (["reduce", "kundur_two_area", "--clusters", "0", "--out", "x"], "--clusters must be between 1 and 4"),
    (["compare", "kundur_two_area", "--models", "k=2,order=x"], "order must be an integer"),
    (["reproduce", "--only", "fig9_9", "--out", "x"], "unknown experiment"),
    (["sweep", "nope", "--out", "x.csv"], "unknown study"),
])
def test_bad_usage_exits_2_with_one_line(tmp_path, args, message):
    result = run(*args, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_malformed_case_file_and_unwritable_output(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("format_version = 1\nname = 'x'\n")
    result = run("info", bad)
    assert result.returncode == 2 and "bad.toml" in result.stderr and "Traceback" not in result.stderr
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = run("reduce", "kundur_two_area", "--clusters", "2", "--out", blocker / "sub")
    assert result.returncode == 2 and "cannot create output folder" in result.stderr


def test_argparse_errors_exit_2():
    assert run("reduce").returncode == 2
    assert run("frobnicate").returncode == 2


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "terminate"])
def test_interrupted_reduce_leaves_the_old_or_the_new_run(tmp_path, sig):
    out = tmp_path / "out"
    args = ["reduce", "kundur_two_area", "--clusters", "2", "--points", "201", "--out", out]
    assert run(*args, "--band", "2").returncode == 0
    old = run_folder(out)
    process = subprocess.Popen([sys.executable, "-m", "gridcoherence.cli", *map(str, args)], env=ENV,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    # Interrupt while the new run is being written into its hidden folder beside out.
    while (time.time() < deadline and process.poll() is None
           and not any(p.name.startswith(".out.tmp-") and any(p.iterdir()) for p in tmp_path.iterdir())):
        time.sleep(0.005)
    process.send_signal(sig)
    process.wait(timeout=60)
    new_command = ["gridcoherence", *map(str, args)]
    if process.returncode == 0:  # it finished before the signal came
        assert run_folder(out)[0] == new_command
    elif process.returncode == -sig:
        # The signal landed outside main (the interpreter's start-up or shutdown, on a loaded
        # machine): the default handler ended the process; the folder is still whole.
        assert run_folder(out) == old or run_folder(out)[0] == new_command
    else:
        assert process.returncode == 130 and "interrupted" in process.stderr.read().decode()
        assert run_folder(out) == old or run_folder(out)[0] == new_command
    assert [p.name for p in tmp_path.iterdir()] == ["out"], "the interrupted run left its hidden folder"


def test_main_restores_the_terminate_handler_when_it_returns(capsys):
    """SIGTERM unwinds main like Ctrl-C only while main runs; after it, the process terminates as usual."""
    from gridcoherence.cli import main

    before = signal.getsignal(signal.SIGTERM)
    assert main(["cases"]) == 0
    assert signal.getsignal(signal.SIGTERM) is before


@pytest.mark.filterwarnings("ignore:outputs still outside the 0.02 settling band")  # Kundur settles slowly
def test_disturbance_is_a_machine_number_from_1_or_a_name(capsys):
    from gridcoherence.cli import main
    from gridcoherence.report.compare import compare_step_responses
    from gridcoherence.report.export import table_to_markdown

    options = ["compare", "kundur_two_area", "--models", "k=2", "--points", "1201"]
    printed = {}
    for machine in ("3", "G3", "1"):
        assert main([*options, "--disturbance", machine]) == 0
        printed[machine] = capsys.readouterr().out
    assert printed["3"] == printed["G3"] != printed["1"]
    # Machine 3 is the model's third node (index 2); the rows agree but for the model's label.
    model = gc.load_case("kundur_two_area").model
    reduction = gc.reduce_network(model, 2)
    table = compare_step_responses(model, {"k=2": reduction.model}, u0=-model.input_shape(2),
                                   t=np.linspace(0.0, 120.0, 1201), groups=reduction.labels)

    def numbers(markdown):
        return [line.split("|")[2:] for line in markdown.strip().splitlines()]

    # The command line adds the partition column after the model's label.
    assert [row[1:] for row in numbers(printed["3"])] == numbers(table_to_markdown(table))


def test_reproduce_quick_writes_json_and_png(tmp_path):
    result = run("reproduce", "--only", "table3_2", "fig3_7", "--quick", "--out", tmp_path)
    assert result.returncode == 0, result.stderr
    for name in ["table3_2", "fig3_7"]:
        assert json.loads((tmp_path / f"{name}.json").read_text())
        assert (tmp_path / f"{name}.png").stat().st_size > 0


def test_sweep_command_resumes(tmp_path):
    out = tmp_path / "s.csv"
    args = ["sweep", "concentration", "--seeds", "0:3", "--param", "n=10,100", "--param",
            "n_reference=20000", "--out", out]
    first = run(*args)
    assert first.returncode == 0, first.stderr
    assert "6 run(s) done, 0 already finished" in first.stdout
    second = run(*args)
    assert "0 run(s) done, 6 already finished" in second.stdout


def test_sweep_help_states_the_resume_rule_and_the_lock():
    result = run("sweep", "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    assert "every parameter of the study (given or default)" in text and "package version" in text
    assert "locks OUT.lock" in text


def test_sweep_reuses_no_row_run_with_another_parameter_value(tmp_path):
    out = tmp_path / "a.csv"
    order_3 = run("sweep", "aggregate_inertia", "--seeds", "0:1", "--param", "order=3", "--out", out)
    assert "1 run(s) done, 0 already finished" in order_3.stdout, order_3.stderr
    default = run("sweep", "aggregate_inertia", "--seeds", "0:1", "--out", out)
    assert "1 run(s) done, 0 already finished" in default.stdout, default.stderr
    explicit = run("sweep", "aggregate_inertia", "--seeds", "0:1", "--param", "order=2", "--out", out)
    assert "0 run(s) done, 1 already finished" in explicit.stdout, explicit.stderr


def test_sweep_leaves_a_file_it_did_not_write_unchanged(tmp_path):
    note = tmp_path / "n.txt"
    note.write_bytes(b"line one\nimportant last line")
    result = run("sweep", "aggregate_inertia", "--seeds", "0:1", "--out", note)
    assert result.returncode == 2
    assert f"--out: {note} is not a sweep table of study 'aggregate_inertia'" in result.stderr
    assert note.read_bytes() == b"line one\nimportant last line"
    # Another study's table is refused, not mixed with or mistaken for this one's.
    table = tmp_path / "s.csv"
    assert run("sweep", "concentration", "--seeds", "0:2", "--param", "n=80", "--param", "n_reference=20000",
               "--out", table).returncode == 0
    content = table.read_bytes()
    result = run("sweep", "thm3_10", "--seeds", "0:2", "--param", "n=80", "--out", table)
    assert result.returncode == 2 and "is not a sweep table of study 'thm3_10'" in result.stderr
    assert table.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["n.txt", "s.csv"]


@pytest.mark.parametrize("args, message", [
    (["--seeds", "5:2"], "--seeds '5:2' is empty"),
    (["--seeds", "0,1,0"], "--seeds: seed 0 is listed twice"),
    (["--seeds=-1,2"], "--seeds: seeds must be non-negative integers, got -1"),
    (["--seeds", "a:b"], "--seeds 'a:b' must be A:B or a comma list of integers"),
    (["--param", "n=abc"], "--param: parameter 'n' of study 'concentration' must be an integer, got 'abc'"),
    (["--param", "omega_max=nan"], "--param: parameter 'omega_max' of study 'concentration' must be a finite"),
    (["--param", "bogus=1"], "--param: study 'concentration' has no parameter 'bogus'; its parameters: "
                             "n, n_freq, n_reference, omega_max"),
    (["--param", "n=10", "--param", "n=20"], "--param n is given twice"),
    (["--param", "n=10,10"], "--param: parameter 'n' lists the value 10 twice"),
    (["--out", "tables"], "--out: tables is a folder"),
], ids=["empty-range", "repeated-seed", "negative-seed", "not-seeds", "not-int", "nan", "unknown-param",
        "param-twice", "repeated-value", "out-folder"])
def test_bad_sweep_input_exits_2_before_any_work(tmp_path, args, message):
    (tmp_path / "tables").mkdir()
    result = run("sweep", "concentration", "--out", "new/s.csv", *args, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["tables"], "no folder or file may be made"
    assert not list((tmp_path / "tables").iterdir())


def test_help_imports_no_heavy_module():
    code = ("import sys\nfrom gridcoherence.cli import main\n"
            "for argv in (['--help'], ['reduce', '--help'], ['sweep', '--help'], ['export', '--help']):\n"
            "    try:\n        main(argv)\n    except SystemExit:\n        pass\n"
            "heavy = [m for m in ('pandapower', 'dask', 'matplotlib', 'sklearn', 'control', 'pandas')"
            " if m in sys.modules]\nprint('HEAVY', heavy)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ENV, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "HEAVY []" in result.stdout


def test_version():
    result = run("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"gridcoherence {gc.__version__}"
