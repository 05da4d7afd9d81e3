"""``reduce`` and ``compare`` choose and report honestly: tolerance, orders, weights, areas, saved models.

The commands run in this process through :func:`gridcoherence.cli.main` on small cases;
every number the command line prints or writes is checked against the library call that
computes it.
"""

import json

import numpy as np
import pandas as pd
import pytest
from conftest import run_main

import gridcoherence as gc
from gridcoherence import cli
from gridcoherence.reduction.machines import MINIMUM_ORDER

# Kundur's two areas swing on beyond a short horizon; the table says so in a warning.
pytestmark = pytest.mark.filterwarnings("ignore:outputs still outside the 0.02 settling band",
                                        "ignore:features not resolved", "ignore:outputs with a pole at s = 0")

HORIZON, POINTS = 30.0, 301
STEP = ["--horizon", str(HORIZON), "--points", str(POINTS)]


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(scope="module")
def kundur():
    return gc.load_case("kundur_two_area").model


@pytest.fixture(scope="module")
def iceland():
    """Iceland's k = 3 aggregates have orders 25, 4 and 9: order 2 reduces every one (Kundur's cannot be)."""
    return gc.load_case("iceland").model


def step(model):
    """The disturbance and time grid the command line uses by default (machine 1, -1 p.u.)."""
    return -model.input_shape(0), np.linspace(0.0, HORIZON, POINTS)


def printed(out, prefix):
    return [line for line in out.splitlines() if line.startswith(prefix)]


def refused(capsys, args):
    """The one error line of a command that must exit 2."""
    code = run_main(args)
    err = capsys.readouterr().err
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    return err


# ---------------------------------------------------------------------------- tolerance
def test_tolerance_picks_k_prints_and_writes_the_error_vs_k_curve(workdir, capsys, kundur):
    assert run_main(["reduce", "kundur_two_area", "--tolerance", "0.01", *STEP, "--out", "out"]) == 0
    out = capsys.readouterr().out
    u0, t = step(kundur)
    expected = gc.reduce_network(kundur, tolerance=0.01, u0=u0, t=t)  # the default band, as the CLI's
    assert printed(out, "chosen")[0].startswith(f"chosen         k = {expected.n_clusters} (the smallest k")
    assert printed(out, "verdict")[0] == f"verdict        {expected.verdict()}"
    curve = pd.read_csv(workdir / "out" / "error_vs_k.csv")
    assert list(curve.columns) == ["k", "embedding", "area_sizes", "band_error_rad_s_per_pu",
                                   "relative_band_error_of_sup_T", "peak_frequency_rad_s", "worst_area",
                                   "worst_area_error_of_its_nadir", "met", "chosen", "note"]
    selection = expected.selection_
    assert len(curve) == len(selection) and curve["k"].tolist() == selection["k"].tolist()
    np.testing.assert_allclose(curve["relative_band_error_of_sup_T"], selection["relative_band_error"], rtol=1e-12)
    np.testing.assert_allclose(curve["band_error_rad_s_per_pu"], selection["band_error_rad_s_per_pu"], rtol=1e-12)
    # Areas from 1: the worst area of each row is its cluster index + 1.
    assert curve["worst_area"].tolist() == (selection["worst_area"] + 1).tolist()
    assert curve.loc[curve["chosen"], "k"].tolist() == [expected.n_clusters]
    assert curve["k"].max() > 1, "the search tried more than one k"
    markdown = (workdir / "out" / "error_vs_k.md").read_text().splitlines()[0]
    assert "band_error [rad/s per p.u.]" in markdown and "peak_frequency [rad/s]" in markdown
    assert (workdir / "out" / "error_vs_k.png").stat().st_size > 0
    assert "| k | embedding |" in out
    # The accuracy in units and relative terms, worst area numbered from 1.
    accuracy = expected.accuracy()
    band_line = printed(out, "band error")[0]
    assert f"{accuracy.band_error_rad_s_per_pu:.4g} rad/s per p.u." in band_line
    assert f"{100 * accuracy.relative_band_error:.3g} % of sup||T||" in band_line
    assert f"peak at {accuracy.peak_frequency_rad_s:.4g} rad/s" in band_line
    area_line = printed(out, "area error")[0]
    assert f"worst in area {accuracy.worst_area + 1}:" in area_line
    assert f"{100 * accuracy.worst_area_error:.3g} % of its nadir" in area_line


def test_explicit_clusters_print_the_same_accuracy_table_for_that_k(workdir, capsys, kundur):
    assert run_main(["reduce", "kundur_two_area", "-k", "2", "--tolerance", "0.05", *STEP, "--out", "out"]) == 0
    out = capsys.readouterr().out
    u0, t = step(kundur)
    expected = gc.reduce_network(kundur, 2, tolerance=0.05, u0=u0, t=t)
    curve = pd.read_csv(workdir / "out" / "error_vs_k.csv")
    assert curve["k"].tolist() == [2] and curve["chosen"].tolist() == [True]
    assert curve["met"].tolist() == [expected.accuracy().met(0.05)]
    assert printed(out, "verdict")[0] == f"verdict        {expected.verdict()}"
    assert printed(out, "chosen")[0].startswith("chosen         k = 2 (--clusters;")
    # Without a tolerance: the accuracy, and no verdict (there is nothing to judge it by).
    assert run_main(["reduce", "kundur_two_area", "-k", "2", *STEP, "--out", "out"]) == 0
    out = capsys.readouterr().out
    assert not printed(out, "verdict") and printed(out, "band error") and printed(out, "area error")
    accuracy = gc.reduce_network(kundur, 2).accuracy(None, u0, t)  # the default band, as the CLI's
    assert f"{accuracy.band_error_rad_s_per_pu:.4g} rad/s per p.u." in printed(out, "band error")[0]


def test_a_model_that_never_settles_gets_a_headline_warning(workdir, capsys):
    # new_england39: no damping and no governors, the centre of inertia ramps.
    assert run_main(["reduce", "new_england39", "-k", "3", *STEP, "--out", "out"]) == 0
    captured = capsys.readouterr()
    warning = [line for line in captured.err.splitlines() if "never settles" in line]
    assert warning and warning[0].startswith("gridcoherence reduce: warning: new_england39 never settles")
    assert "finite horizon of 30 s" in warning[0]
    assert set(pd.read_csv(workdir / "out" / "step_comparison.csv").query("model != 'original'")["error_method"]) == {
        "finite horizon"}


# ---------------------------------------------------------------------------- orders and weights
def test_order_auto_uses_the_hankel_rule_and_labels_the_orders_used(workdir, capsys, kundur):
    assert run_main(["reduce", "kundur_two_area", "-k", "2", "--order", "auto", *STEP, "--out", "out"]) == 0
    captured = capsys.readouterr()
    expected = gc.reduce_network(kundur, 2, order="auto")
    labels = set(pd.read_csv(workdir / "out" / "step_comparison.csv")["model"]) - {"original"}
    summary = json.loads((workdir / "out" / "reduction_summary.json").read_text())
    assert [row["order"] for row in summary["clusters"]] == expected.orders
    if any(row["reduced"] for row in expected.summary()):
        assert labels == {cli._reduction_label(2, expected.orders, "cl")}
    else:
        assert labels == {f"k=2, order={max(expected.full_orders)} (full aggregates), cl"}
        assert "--order auto reduces nothing" in captured.err


@pytest.mark.parametrize("method", ["cl", "tb"])
def test_an_order_below_the_methods_minimum_exits_2_with_the_reason(workdir, capsys, method):
    order = MINIMUM_ORDER[method] - 1
    err = refused(capsys, ["reduce", "kundur_two_area", "--order", order, "--method", method, "--out", "out"])
    assert f"--order must be at least {MINIMUM_ORDER[method]} for method {method} (" in err
    assert not (workdir / "out").exists()


def test_reduce_computes_the_band_error_and_the_originals_response_once(workdir, capsys, monkeypatch):
    from gridcoherence.models.network import NetworkModel
    from gridcoherence.reduction.structure import ReducedNetwork

    calls = {"band_error": 0, "original response": 0}
    band_error, response = ReducedNetwork.band_error, NetworkModel.response

    def counted_band_error(self, *args, **kwargs):
        calls["band_error"] += 1
        return band_error(self, *args, **kwargs)

    def counted_response(self, *args, **kwargs):
        calls["original response"] += type(self) is NetworkModel and self.n == 35
        return response(self, *args, **kwargs)

    monkeypatch.setattr(ReducedNetwork, "band_error", counted_band_error)
    monkeypatch.setattr(NetworkModel, "response", counted_response)
    assert run_main(["reduce", "iceland", "-k", "3", "--order", "2", *STEP, "--out", "out"]) == 0
    capsys.readouterr()
    assert calls == {"band_error": 1, "original response": 1}
    summary = json.loads((workdir / "out" / "reduction_summary.json").read_text())
    assert summary["band"] == pytest.approx(2 * np.pi, rel=1e-15)  # the machine networks' default band, 1 Hz


def test_a_band_weight_is_the_libraries_band_pass_weight(workdir, capsys, iceland):
    assert run_main(["reduce", "iceland", "-k", "3", "--order", "2", "--weight", "band:0.1:10", *STEP,
                     "--out", "out"]) == 0
    capsys.readouterr()
    saved = gc.load_reduced(workdir / "out" / "reduced_model.json")
    weighted = gc.reduce_network(iceland, 3, order=2, weight=(0.1, 10.0)).model
    default = gc.reduce_network(iceland, 3, order=2).model
    s = np.array([0.05j, 0.5j, 3j])
    np.testing.assert_allclose(saved.lifted_transfer_matrix(s, columns=[0]),
                               weighted.lifted_transfer_matrix(s, columns=[0]), rtol=1e-10)
    assert not np.allclose(weighted.lifted_transfer_matrix(s, columns=[0]),
                           default.lifted_transfer_matrix(s, columns=[0]), rtol=1e-6)
    summary = json.loads((workdir / "out" / "reduction_summary.json").read_text())
    assert summary["options"]["weight"] == [0.1, 10.0]


BAD_OPTIONS = {
    "weight-word": (["--weight", "wide"], "argument --weight: must be none or band:LOW:HIGH"),
    "weight-reversed": (["--weight", "band:10:0.1", "--order", "1"], "argument --weight: must be none or band:"),
    "weight-nan": (["--weight", "band:nan:1", "--order", "1"], "argument --weight: must be none or band:"),
    "weight-without-order": (["--weight", "band:0.1:10"], "--weight weights the balanced truncation"),
    "order-word": (["--order", "some"], "argument --order/-r: must be an integer, got 'some'"),
    "tolerance-0": (["--tolerance", "0"], "argument --tolerance: must be a finite number > 0"),
    "tolerance-nan": (["--tolerance", "nan"], "argument --tolerance: must be a finite number, got nan"),
    "min-area-size-0": (["--min-area-size", "0"], "argument --min-area-size: must be at least 1"),
    "min-area-size-large": (["--min-area-size", "5"], "--min-area-size must be at most 4"),
    "areas-and-clusters": (["--areas", "a.csv", "-k", "2"], "--areas gives the areas; leave out --clusters"),
    "tolerance-embedding": (["--tolerance", "0.1", "--embedding", "laplacian"],
                            "--embedding: with --tolerance and no --clusters every embedding is tried"),
}


@pytest.mark.parametrize("extra, message", list(BAD_OPTIONS.values()), ids=list(BAD_OPTIONS))
def test_every_bad_option_value_exits_2_naming_the_option(workdir, capsys, extra, message):
    err = refused(capsys, ["reduce", "kundur_two_area", *extra, "--out", "out"])
    assert message in err
    assert not (workdir / "out").exists()


# ---------------------------------------------------------------------------- area sizes
def test_single_machine_areas_are_named_with_the_reason_or_refused(workdir, capsys, kundur):
    assert run_main(["reduce", "kundur_two_area", "-k", "4", *STEP, "--out", "out"]) == 0
    out = capsys.readouterr().out
    singles = gc.reduce_network(kundur, 4).single_machine_areas()
    assert printed(out, "single machine") == [f"single machine {row['reason']}" for row in singles]
    assert len(singles) == 4 and all(f"alone in area {row['area'] + 1}" in row["reason"] for row in singles)
    assert all(f"(machine {row['node'] + 1})" in row["reason"] for row in singles)
    err = refused(capsys, ["reduce", "kundur_two_area", "-k", "4", "--min-area-size", "2", *STEP, "--out", "out"])
    assert err.startswith("gridcoherence reduce: error: --min-area-size: k = 4 gives 4 area(s) of fewer than 2")
    assert "area 1 (G1)" in err and "area 4 (" in err


def test_min_area_size_skips_k_with_small_areas_in_the_tolerance_search(workdir, capsys, kundur):
    assert run_main(["reduce", "kundur_two_area", "--tolerance", "0.01", "--min-area-size", "2", *STEP,
                     "--out", "out"]) == 0
    capsys.readouterr()
    curve = pd.read_csv(workdir / "out" / "error_vs_k.csv")
    chosen = curve[curve["chosen"]].iloc[0]
    assert min(map(int, str(chosen["area_sizes"]).split("/"))) >= 2
    assert curve.loc[curve["note"].fillna("").str.contains("min_area_size"), "k"].size > 0


# ---------------------------------------------------------------------------- --areas
def test_given_areas_by_name_and_number_are_the_partition(workdir, capsys, kundur):
    (workdir / "areas.csv").write_text("machine,area\nG1,North\n2,North\nG4,South\n3,South\n")
    assert run_main(["reduce", "kundur_two_area", "--areas", "areas.csv", *STEP, "--out", "out"]) == 0
    out = capsys.readouterr().out
    expected = gc.reduce_network(kundur, partition=[0, 0, 1, 1])
    saved = gc.load_reduced(workdir / "out" / "reduced_model.json")
    assert saved.labels.tolist() == [0, 0, 1, 1]
    s = np.array([0.3j, 2j])
    np.testing.assert_allclose(saved.lifted_transfer_matrix(s, columns=[2]),
                               expected.model.lifted_transfer_matrix(s, columns=[2]), rtol=1e-10)
    assert printed(out, "areas") == ["areas          1 = North, 2 = South"]
    assert printed(out, "chosen")[0].startswith("chosen         k = 2 (the areas of areas.csv;")


BAD_AREAS = {
    "header": ("node,zone\nG1,a\n", "line 1: the header must be 'machine,area', got 'node,zone'"),
    "empty": ("", "line 1: the header must be 'machine,area', got 'an empty file'"),
    "fields": ("machine,area\nG1,a\nG2,a,b\n", "line 3: expected 2 fields (machine,area), got 3"),
    "unknown-name": ("machine,area\nG1,a\nG7,b\n", "line 3: field 'machine': unknown machine 'G7'"),
    "number-0": ("machine,area\n0,a\n", "line 2: field 'machine': unknown machine '0' (a machine name of the case "
                                        "or a number 1..4)"),
    "empty-area": ("machine,area\nG1,\n", "line 2: field 'area': empty"),
    "duplicate": ("machine,area\nG1,a\nG2,a\n1,b\n", "line 4: field 'machine': machine '1' is listed twice "
                                                     "(first on line 2)"),
    "missing": ("machine,area\nG1,a\nG2,b\n", "machine(s) G3, G4 have no area: every machine needs one"),
}


@pytest.mark.parametrize("text, message", list(BAD_AREAS.values()), ids=list(BAD_AREAS))
def test_a_bad_areas_file_exits_2_naming_file_line_and_field(workdir, capsys, text, message):
    (workdir / "areas.csv").write_text(text)
    err = refused(capsys, ["reduce", "kundur_two_area", "--areas", "areas.csv", "--out", "out"])
    assert f"--areas areas.csv: {message}" in err
    assert not (workdir / "out").exists()


def test_an_unreadable_areas_file_exits_2(workdir, capsys):
    err = refused(capsys, ["reduce", "kundur_two_area", "--areas", "absent.csv", "--out", "out"])
    assert "--areas absent.csv: cannot read: No such file or directory" in err


# ---------------------------------------------------------------------------- compare with saved models
def test_compare_step_responses_accepts_a_saved_model(tmp_path, iceland):
    gc.save_reduced(gc.reduce_network(iceland, 3, order=2), tmp_path / "m.json")
    saved = gc.load_reduced(tmp_path / "m.json")
    t = np.linspace(0.0, HORIZON, POINTS)
    table = gc.compare_step_responses(iceland, {"f": saved}, u0=1, t=t)
    direct = gc.compare_step_responses(iceland, {"f": gc.reduce_network(iceland, 3, order=2).model}, u0=1, t=t)
    numbers = ["l2_error", "linf_error", "hinf_error", "nadir", "steady_state"]
    np.testing.assert_allclose(table[numbers].to_numpy(), direct[numbers].to_numpy(), rtol=1e-9)


def test_a_saved_model_round_trips_through_compare_with_the_same_numbers(workdir, capsys):
    assert run_main(["reduce", "iceland", "-k", "3", "--order", "2", *STEP, "--out", "run"]) == 0
    assert run_main(["compare", "iceland", "--saved", "run/reduced_model.json", *STEP, "--out", "cmp"]) == 0
    capsys.readouterr()
    written = pd.read_csv(workdir / "run" / "step_comparison.csv")
    compared = pd.read_csv(workdir / "cmp" / "comparison.csv")
    assert compared["partition"].tolist() == ["-"] * 3 + ["saved: run/reduced_model.json"] * 3
    same = [c for c in written.columns if c != "model"]
    pd.testing.assert_frame_equal(written[same], compared[same], check_exact=True)
    for name in ["comparison.md", "comparison.tex", "responses_1.png", "cluster_map.png"]:
        assert (workdir / "cmp" / name).stat().st_size > 0, name


def test_compare_says_which_partition_each_row_uses(workdir, capsys):
    assert run_main(["reduce", "kundur_two_area", "-k", "1", *STEP, "--out", "run"]) == 0
    capsys.readouterr()
    assert run_main(["compare", "kundur_two_area", "--models", "2", "1", "--saved",
                     "run/reduced_model.json", *STEP]) == 0
    out = capsys.readouterr().out
    rows = [line.split(" | ")[:3] for line in out.splitlines() if line.startswith("| ") and "---" not in line][1:]
    partitions = {model.lstrip("| "): partition for model, partition, _ in rows}
    assert partitions == {"original": "-", "k=2": "k=2 areas of --models 2",
                          "k=1": "k=1 areas of --models 1",
                          "saved reduced_model.json": "saved: run/reduced_model.json"}
    assert {group for _, _, group in rows} == {"area 1", "area 2"}


def test_compare_refuses_a_bad_saved_model_or_one_of_another_case(workdir, capsys):
    (workdir / "bad.json").write_text("{")
    err = refused(capsys, ["compare", "kundur_two_area", "--saved", "bad.json"])
    assert "--saved: reduced model bad.json: field 'file': not valid JSON" in err
    assert run_main(["reduce", "iceland", "-k", "2", *STEP, "--out", "ice"]) == 0
    capsys.readouterr()
    err = refused(capsys, ["compare", "kundur_two_area", "--saved", "ice/reduced_model.json"])
    assert "reduces a network of 35 machines; the case has 4" in err
    assert "give --models, --saved or both" in refused(capsys, ["compare", "kundur_two_area"])


# ---------------------------------------------------------------------------- progress and help
def test_progress_bars_only_on_a_terminal(workdir, capsys, monkeypatch):
    args = ["reduce", "kundur_two_area", "--tolerance", "0.01", *STEP, "--out", "out"]
    assert run_main(args) == 0
    quiet = capsys.readouterr()
    assert "\r" not in quiet.err and "it/s" not in quiet.err and "eigen-solve" not in quiet.err
    monkeypatch.setattr("sys.stderr.isatty", lambda: True, raising=False)
    assert run_main(args) == 0
    shown = capsys.readouterr()
    assert "eigen-solve and reduction" in shown.err and "plots and files" in shown.err
    assert shown.out == quiet.out, "the bars change nothing on stdout"


def test_the_reduce_help_examples_use_cases_that_fit_them(capsys):
    with pytest.raises(SystemExit):
        cli.main(["reduce", "--help"])
    examples = [line.split() for line in capsys.readouterr().out.splitlines() if line.startswith("  gridcoherence")]
    assert examples and not any("nets_nyps68" in words for words in examples)
    for words in examples:
        if "--method" in words and words[words.index("--method") + 1] == "tb":
            # tb reduces turbines: its example's case has them.
            case = gc.load_case(words[2])
            assert isinstance(case.model.nodes, gc.SwingTurbineNodes) and case.model.nodes.n_turbines > 0
