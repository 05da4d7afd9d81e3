"""TOPS models as cases, and validation of our models against the TOPS simulator."""

import json
import math
import sys

import numpy as np
import pytest

pytest.importorskip("tops", reason="TOPS is the optional extra 'validate' (pip install gridcoherence[validate])")

from gridcoherence import load_case  # noqa: E402
from gridcoherence._extras import MissingExtraError  # noqa: E402
from gridcoherence.cases.schema import CaseError  # noqa: E402
from gridcoherence.cases.tops import tops_model, tops_network  # noqa: E402
from gridcoherence.studies.validation import ValidationInputError, validate  # noqa: E402


@pytest.fixture(scope="module")
def k2a():
    return tops_network("tops:k2a")


@pytest.fixture(scope="module")
def k2a_validation():
    return validate(load_case("tops:k2a"), k=2)


@pytest.fixture(scope="module")
def ieee39_modes():
    return validate(load_case("tops:ieee39"), time_domain=False)


# ---------------------------------------------------------------------------- cases
def test_k2a_machines_on_the_system_base(k2a):
    model = k2a.case.model
    raw = tops_model("tops:k2a")[0]
    rows = [dict(zip(raw["generators"]["GEN"][0], row)) for row in raw["generators"]["GEN"][1:]]
    omega = 2 * math.pi * raw["f"]
    assert model.node_names == [r["name"] for r in rows]
    expected_m = [2 * r["H"] * r["S_n"] / (omega * raw["base_mva"]) for r in rows]
    assert np.allclose(model.nodes.m, expected_m, rtol=1e-12)
    # TGOV1: 1/R = 20 on the machine rating, its D_t = 0.02 joins the damping (D = 0).
    gov = [dict(zip(raw["gov"]["TGOV1"][0], row)) for row in raw["gov"]["TGOV1"][1:]]
    scale = [r["S_n"] / (omega * raw["base_mva"]) for r in rows]
    assert np.allclose(model.nodes.turbine_gain, [s / g["R"] for s, g in zip(scale, gov)], rtol=1e-6)
    assert np.allclose(model.nodes.d, [s * g["D_t"] for s, g in zip(scale, gov)], rtol=1e-6)
    # First moment of TGOV1 (1 + s T_2) / ((1 + s T_1)(1 + s T_3)): T_1 + T_3 - T_2.
    assert np.allclose(model.nodes.turbine_tau, [g["T_1"] + g["T_3"] - g["T_2"] for g in gov], rtol=1e-6)


def test_ieee39_governors_are_exact_sums_of_droops():
    network = tops_network("tops:ieee39")
    fit = network.governors[0]
    # 20 (1 + s) / ((1 + 0.2 s)(1 + 2 s)) = 11.1 / (1 + 2 s) + 8.9 / (1 + 0.2 s).
    assert np.allclose(sorted(fit.gains), [80 / 9, 100 / 9], rtol=1e-6)
    assert np.allclose(sorted(fit.taus), [0.2, 2.0], rtol=1e-6)
    assert max(fit.relative_error) < 1e-6
    assert network.case.model.nodes.n_turbines == 2 * len(network.governors)


def test_model_dict_in_memory_is_used_and_left_unchanged():
    raw = tops_model("tops:k2a")[0]
    raw["generators"]["GEN"][1][raw["generators"]["GEN"][0].index("H")] *= 2
    before = json.dumps(raw, sort_keys=True)
    case = load_case(raw)
    reference = load_case("tops:k2a")
    assert json.dumps(raw, sort_keys=True) == before
    assert case.model.nodes.m[0] == pytest.approx(2 * reference.model.nodes.m[0], rel=1e-12)
    assert np.allclose(case.model.nodes.m[1:], reference.model.nodes.m[1:], rtol=1e-12)


def test_bus_injection_reaches_the_machines_whole(k2a):
    shape = k2a.machine_injection({"B9": 1.0})
    assert shape.sum() == pytest.approx(1.0, rel=1e-9)
    assert shape[2:].sum() > shape[:2].sum()  # B9 is in the area of G3 and G4
    with pytest.raises(ValueError, match="no bus 'B99'"):
        k2a.machine_injection({"B99": 1.0})


def test_ieee68_refused_with_the_reason():
    with pytest.raises(CaseError, match=r"TOPS cannot initialise.*P = Q = 0"):
        load_case("tops:ieee68")


def test_unknown_tops_model_and_options_refused():
    with pytest.raises(CaseError, match="tops:k2a, tops:ieee39"):
        load_case("tops:k3a")
    with pytest.raises(CaseError, match="does not apply to TOPS models"):
        load_case("tops:k2a", keep_main_island=True)
    with pytest.raises(CaseError, match="missing from the TOPS model dict"):
        load_case({"base_mva": 100})


def test_missing_extra_names_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "tops", None)
    with pytest.raises(MissingExtraError, match=r'gridcoherence\[validate\]'):
        load_case("tops:k2a")


# ---------------------------------------------------------------------------- validation
def test_k2a_modes_within_10_percent_of_tops(k2a_validation):
    modes = k2a_validation.modes
    assert len(modes) == 3 and not k2a_validation.unmatched["ours"] and not k2a_validation.unmatched["tops"]
    assert (modes["frequency_difference"].abs() < 10).all()
    # The inter-area mode is the slowest: G1 and G2 against G3 and G4 in our model.
    model = load_case("tops:k2a").model
    from gridcoherence.cases.tops import model_modes

    ours = model_modes(model)
    shape = ours.shapes[:, 0] / ours.shapes[np.argmax(np.abs(ours.shapes[:, 0])), 0]
    assert np.all(shape[:2].real * shape[2:].real.mean() < 0)
    assert modes["frequency"].iloc[0] == pytest.approx(ours.frequency_hz[0])


def test_pst_kundur_modes_within_10_percent_of_tops_k2a():
    result = validate(load_case("kundur_two_area"), reference="tops:k2a")
    assert len(result.modes) == 3
    assert (result.modes["frequency_difference"].abs() < 10).all()
    assert result.time_domain is None


def test_ieee39_every_mode_matched_within_15_percent(ieee39_modes):
    modes = ieee39_modes.modes
    assert len(modes) == 9 and not ieee39_modes.unmatched["ours"] and not ieee39_modes.unmatched["tops"]
    assert (modes["frequency_difference"].abs() < 15).all()


def test_equivalent_damping_gives_tops_damping_ratios(k2a_validation, ieee39_modes):
    for result in (k2a_validation, ieee39_modes):
        modes = result.modes
        data_gap = (modes["damping"] - modes["tops_damping"]).abs()
        fitted_gap = (modes["equivalent_damping"] - modes["tops_damping"]).abs()
        assert fitted_gap.max() < data_gap.min()
        assert (result.damping["d_equivalent"] >= 0).all()


def test_k2a_load_step_reported(k2a_validation):
    table = k2a_validation.time_domain
    full = table[table["model"] == "full (data damping)"]
    assert len(full) == 2 and np.isfinite(full["l2_error"]).all() and (full["l2_error"] > 0).all()
    tops_rows = table[table["model"] == "TOPS"]
    assert (tops_rows["nadir"] < 0).all()  # a load increase lowers the frequency
    step = k2a_validation.disturbance
    assert step["load"] == "L2" and step["step_mw"] == pytest.approx(17.67)
    assert 0 < step["net_step_mw"] < step["step_mw"]  # the constant-impedance loads give some back


def test_exported_equivalent_simulated_by_tops_closes_the_loop(k2a_validation):
    # The reduced model leaves the package as a k-bus TOPS model; TOPS's nonlinear
    # simulation of it reproduces our reduced linear model, so it is as far from TOPS's
    # full model as our linear models are.
    assert k2a_validation.disturbance["equivalent"] == "full aggregates"
    responses = k2a_validation.responses
    exported, linear = responses["equivalent in TOPS"], responses["reduced (data damping)"]
    assert exported.shape == linear.shape == (responses["t"].size, 2)
    assert np.linalg.norm(exported - linear) / np.linalg.norm(linear) < 0.05
    table = k2a_validation.time_domain.set_index(["area", "model"])
    assert sorted(table.index.get_level_values("area").unique()) == [1, 2]  # areas are 1-based
    for area in (1, 2):
        ours = table.loc[(area, "reduced (data damping)"), "l2_error"]
        assert table.loc[(area, "equivalent in TOPS"), "l2_error"] == pytest.approx(ours, rel=0.05)


@pytest.mark.xfail(strict=True, reason="per-machine equivalent damping also damps the area COI frequency, and "
                   "TOPS's constant-impedance loads follow voltages the classical model holds; see "
                   "docs/howto-validate.md")
def test_k2a_load_step_with_equivalent_damping_within_20_percent(k2a_validation):
    table = k2a_validation.time_domain
    assert (table[table["model"] == "full (equivalent damping)"]["l2_error"] < 20).all()


def test_write_tables_and_plots(k2a_validation, tmp_path):
    written = k2a_validation.write(tmp_path / "out")
    names = {p.name for p in written}
    assert {"validation.json", "modes.csv", "modes.md", "time.csv", "time.md", "area_1.png", "area_2.png"} <= names
    header = (tmp_path / "out" / "modes.md").read_text().splitlines()[0]
    assert "tops_frequency [Hz]" in header and "damping [%]" in header
    record = json.loads((tmp_path / "out" / "validation.json").read_text())
    assert record["disturbance"]["load"] == "L2" and len(record["modes"]) == 3


def test_validate_input_errors():
    case = load_case("tops:k2a")
    with pytest.raises(ValidationInputError, match="no load 'L9'"):
        validate(case, load="L9", duration=1.0)
    with pytest.raises(ValidationInputError, match="not a TOPS case"):
        validate(load_case("kundur_two_area"))
    with pytest.raises(ValidationInputError, match="machines"):
        validate(load_case("new_england39"), reference="tops:k2a")
    with pytest.raises(ValidationInputError, match="damping"):
        validate(case, damping="fitted")


def test_cli_validate_prints_tables_and_writes_a_run_folder(tmp_path, capsys):
    from gridcoherence.cli import main

    out = tmp_path / "run"
    assert main(["validate", "tops:k2a", "--k", "2", "--duration", "2", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "tops_frequency [Hz]" in printed and "l2_error [% of TOPS nadir]" in printed
    assert {"run.json", "modes.csv", "time.md", "area_1.png", "area_2.png"} <= {p.name for p in out.iterdir()}


def test_cli_validate_bad_input_exits_2(tmp_path, capsys):
    from gridcoherence.cli import main

    assert main(["validate", "tops:k2a", "--load", "L9", "--out", str(tmp_path / "a")]) == 2
    assert "no load 'L9'" in capsys.readouterr().err
    assert main(["validate", "tops:ieee68", "--out", str(tmp_path / "b")]) == 2
    assert "P = Q = 0" in capsys.readouterr().err
