"""Typical machine data by type and size: the declared table, how types are chosen, the
default for networks without a case file, machines tables over it, in-memory networks.
(The generated table of docs/howto-own-network.md is checked in test_case_schema.py.)

Expected node parameters are computed here from the declared typical values, the ratings
pandapower's own power flow gives, and the conversions of (3.84) in the convention of
Table 3-I (m = 2 H S / (omega_s S_base), q = (1/R) S / (omega_s S_base)).
"""

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.io
import scipy.signal

from gridcoherence.cases.loader import load_case
from gridcoherence.cases.machines import machine_data_table
from gridcoherence.cases.schema import CaseError
from gridcoherence.cases.typical_machines import (
    MACHINE_TYPES,
    QUANTITIES,
    SIZE_CLASSES,
    SOURCES,
    TYPE_NAMES,
    hydro_governor_lag,
)
from gridcoherence.reduction.pipeline import reduce_network

pp = pytest.importorskip("pandapower")
pn = pytest.importorskip("pandapower.networks")

ROOT = Path(__file__).resolve().parents[1]
THREE_MACHINE = (ROOT / "tests" / "data" / "three_machine.m").read_text()
pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")  # pandapower's MATPOWER converter


def _per_unit(case, rating):
    """S_machine / (omega_s S_base) of the case."""
    return np.asarray(rating, float) / (2 * math.pi * case.metadata.frequency_hz * case.metadata.base_mva)


def _rows(case):
    return {row["name"]: row for row in case.metadata.details["machine_data"]}


def _turbine(case, name):
    """(gain, tau) of the turbine of machine ``name``, or None."""
    nodes, i = case.model.nodes, case.model.node_names.index(name)
    turbines = np.flatnonzero(nodes.turbine_node == i)
    assert turbines.size <= 1
    return (nodes.turbine_gain[turbines[0]], nodes.turbine_tau[turbines[0]]) if turbines.size else None


# ------------------------------------------------------------------ the declared table
def test_every_synchronous_type_has_every_quantity_within_its_range_and_source():
    for t in MACHINE_TYPES.values():
        if not t.synchronous:
            assert t.values == {}, t.name
            continue
        assert set(t.values) == {q.key for q in QUANTITIES}, t.name
        for q in QUANTITIES:
            typical = t.values[q.key]
            assert typical.low <= typical.value <= typical.high, (t.name, q.key)
            assert not q.bounds.violated([typical.low, typical.value, typical.high]).any(), (t.name, q.key)
            assert typical.source in SOURCES, (t.name, q.key)
        governed = t.values["inv_droop"].value > 0
        assert not governed or t.values["tau"].value > 0, t.name


def test_size_classes_cover_every_rating_once_with_probabilities_of_known_types():
    assert SIZE_CLASSES[0].low_mva == 0 and math.isinf(SIZE_CLASSES[-1].high_mva)
    for below, above in zip(SIZE_CLASSES, SIZE_CLASSES[1:]):
        assert below.high_mva == above.low_mva
    for size in SIZE_CLASSES:
        assert sum(size.probabilities.values()) == pytest.approx(1.0, abs=1e-12)
        assert all(MACHINE_TYPES[t].synchronous for t in size.probabilities)
    assert set(TYPE_NAMES.values()) <= set(MACHINE_TYPES)


def test_reheat_steam_answers_slower_than_non_reheat_steam_and_gas():
    tau = {name: t.values["tau"].value for name, t in MACHINE_TYPES.items() if t.synchronous}
    assert tau["gas_turbine"] < tau["steam_reheat"] and tau["steam_nonreheat"] < tau["steam_reheat"]
    assert tau["steam_reheat"] < tau["hydro"]


@pytest.mark.parametrize("water_time, H", [(0.5, 4.0), (1.0, 3.0), (2.0, 3.0)])
def test_hydro_lag_is_the_time_constant_of_the_transient_droop_governor(water_time, H):
    # Speed-to-gate (1/R_P)(1 + s T_R) / (1 + s T_R R_T / R_P) at the guideline settings: its
    # step response leaves 1/e of its gap to 1/R_P after tau.
    droop = 0.05
    transient = (2.3 - (water_time - 1.0) * 0.15) * water_time / (2 * H)
    reset = (5.0 - (water_time - 1.0) * 0.5) * water_time
    tau = hydro_governor_lag(water_time, H, droop)
    governor = scipy.signal.lti([reset / droop, 1 / droop], [reset * transient / droop, 1.0])
    _, response = governor.step(T=[0.0, tau])
    np.testing.assert_allclose((1 / droop - response[1]) / (1 / droop - response[0]), math.exp(-1), rtol=1e-6)
    assert response[0] == pytest.approx(1 / transient, rel=1e-9)   # the fast transient gain the lag drops


# ------------------------------------------------------------------ how a type is chosen
def _case9_typed(types):
    net = pn.case9()
    net.gen["type"] = types
    net.gen["sn_mva"] = [300.0, 200.0]
    return net


def test_types_from_gen_type_give_the_typical_data_and_wind_is_left_out():
    case = load_case(_case9_typed(["Coal", "wind"]))
    assert case.model.node_names == ["ext_grid0", "gen0"]
    rows = _rows(case)
    assert rows["gen0"]["type"] == "steam_reheat" and rows["gen0"]["type_source"] == "gen.type 'Coal'"
    assert rows["gen0"]["rating_source"] == "gen.sn_mva"
    typical = MACHINE_TYPES["steam_reheat"].values
    per_unit = _per_unit(case, 300.0)
    i = case.model.node_names.index("gen0")
    assert case.model.nodes.m[i] == pytest.approx(2 * typical["H"].value * per_unit, rel=1e-12)
    assert case.model.nodes.d[i] == pytest.approx(typical["damping"].value * per_unit, rel=1e-12)
    gain, tau = _turbine(case, "gen0")
    assert gain == pytest.approx(typical["inv_droop"].value * per_unit, rel=1e-12)
    assert tau == typical["tau"].value
    (wind,) = case.metadata.details["converter_generators"]
    assert (wind["name"], wind["type"], wind["element"]) == ("gen1", "wind", "gen 1")


def test_an_unrecognized_type_name_falls_back_to_the_size_class_and_says_so():
    case = load_case(_case9_typed(["CHP", None]))
    source = _rows(case)["gen0"]["type_source"]
    assert source.startswith("gen.type 'CHP' not recognized; drawn for size class 50-400 MVA (rated 300 MVA")
    assert _rows(case)["gen0"]["type"] in SIZE_CLASSES[1].probabilities


def test_generators_without_active_power_are_synchronous_condensers_without_governor():
    net = pn.case118()
    case = load_case("pandapower:case118")
    idle = [f"gen{i}" for i in net.gen.index[(net.gen.p_mw == 0) & net.gen.in_service]]
    rows = _rows(case)
    assert len(idle) == 35
    assert sorted(name for name, row in rows.items() if row["type"] == "synchronous_condenser") == sorted(idle)
    assert all(_turbine(case, name) is None for name in idle)
    condenser = MACHINE_TYPES["synchronous_condenser"].values["H"].value
    for name in idle:
        i = case.model.node_names.index(name)
        assert case.model.nodes.m[i] == pytest.approx(2 * condenser * _per_unit(case, rows[name]["rating_mva"]),
                                                      rel=1e-12)


def test_types_by_size_are_drawn_from_their_class_seeded_and_one_override_moves_no_other():
    first, again = load_case("pandapower:case118"), load_case("pandapower:case118")
    other = load_case("pandapower:case118", machine_seed=7)
    drawn = {name: row for name, row in _rows(first).items() if row["type_source"].startswith("drawn")}
    assert len(drawn) == 19
    for row in drawn.values():
        size = next(c for c in SIZE_CLASSES if c.low_mva <= row["rating_mva"] < c.high_mva)
        assert row["type"] in size.probabilities and size.label() in row["type_source"]
    assert [r["type"] for r in _rows(again).values()] == [r["type"] for r in _rows(first).values()]
    assert [_rows(other)[n]["type"] for n in drawn] != [r["type"] for r in drawn.values()]
    assert all("seed 7" in _rows(other)[n]["type_source"] for n in drawn)
    name = next(iter(drawn))
    kept = "hydro" if drawn[name]["type"] != "hydro" else "nuclear"
    changed = load_case("pandapower:case118", machines=pd.DataFrame({"name": [name], "type": [kept]}))
    assert _rows(changed)[name]["type"] == kept
    assert {n: r["type"] for n, r in _rows(changed).items() if n != name} == \
        {n: r["type"] for n, r in _rows(first).items() if n != name}


def test_matpower_genfuel_gives_the_types(tmp_path):
    fuels = "mpc.genfuel = {\n\t'coal';\n\t'hydro';\n\t'wind';\n};\n"
    path = tmp_path / "fuel.m"
    path.write_text(THREE_MACHINE.replace("mpc.branch = [", fuels + "mpc.branch = ["))
    case = load_case(path)
    assert case.model.node_names == ["ext_grid0", "gen0"]
    assert [(r["type"], r["type_source"]) for r in _rows(case).values()] == \
        [("steam_reheat", "ext_grid.type 'coal'"), ("hydro", "gen.type 'hydro'")]
    assert case.metadata.details["converter_generators"][0]["type"] == "wind"
    path.write_text(THREE_MACHINE.replace("mpc.branch = [", "mpc.genfuel = {'coal'; 'hydro'};\nmpc.branch = ["))
    with pytest.raises(CaseError, match=r"fuel\.m: line 2\d: mpc\.genfuel has 2 entries but mpc\.gen 3 rows"):
        load_case(path)
    path.write_text(THREE_MACHINE.replace("mpc.branch = [", "mpc.genfuel = {'coal'; 3; 'ng'};\nmpc.branch = ["))
    with pytest.raises(CaseError, match=r"mpc\.genfuel must hold quoted fuel names only, found '3'"):
        load_case(path)


def test_mat_file_genfuel_gives_the_types(tmp_path):
    mpc = {"version": "2", "baseMVA": 100.0}
    for name in ("bus", "gen", "branch"):
        block = THREE_MACHINE.split(f"mpc.{name} = [\n")[1].split("];")[0]
        mpc[name] = np.array([[float(v) for v in line.split(";")[0].split()] for line in block.splitlines()])
    mpc["genfuel"] = np.array(["nuclear", "ng", "solar"], dtype=object)
    scipy.io.savemat(tmp_path / "fuel.mat", {"mpc": mpc})
    case = load_case(tmp_path / "fuel.mat")
    assert [r["type"] for r in _rows(case).values()] == ["nuclear", "combined_cycle"]


# ------------------------------------------------------------------ the default
@pytest.mark.parametrize("name", ["case39", "case118"])
def test_typical_machines_give_aggregates_that_balanced_truncation_reduces(name):
    typical = load_case(f"pandapower:{name}")
    full = reduce_network(typical.model, k=3).summary()
    assert max(row["full_order"] for row in full) > 2
    reduced = reduce_network(typical.model, k=3, order=2).summary()
    assert any(row["order"] < row["full_order"] for row in reduced)
    uniform = load_case(f"pandapower:{name}", machines="uniform")
    assert max(row["full_order"] for row in reduce_network(uniform.model, k=3).summary()) <= 2
    assert len({row["tau_s"] for row in typical.metadata.details["machine_data"]}) > 2


# ------------------------------------------------------------------ machines tables
def _csv(tmp_path, text, name="machines.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_machines_file_and_a_dataframe_set_the_data_they_give(tmp_path):
    path = _csv(tmp_path, "name,type,rating_mva,H_s,tau_s\ngen0,hydro,250,3.5,\ngen1,,,6.0,9.0\n")
    case = load_case("pandapower:case9", machines=path)
    rows = _rows(case)
    assert (rows["gen0"]["type"], rows["gen0"]["type_source"]) == ("hydro", "type column of machines.csv line 2")
    assert rows["gen0"]["rating_source"] == "machines.csv line 2"
    i = case.model.node_names.index("gen0")
    assert case.model.nodes.m[i] == pytest.approx(2 * 3.5 * _per_unit(case, 250.0), rel=1e-12)
    assert _turbine(case, "gen0")[1] == MACHINE_TYPES["hydro"].values["tau"].value   # empty cell: typical
    assert _turbine(case, "gen1")[1] == 9.0 and rows["gen1"]["H_s"] == 6.0
    assert rows["gen1"]["data_source"].endswith("; H_s, tau_s from machines.csv line 3")
    assert rows["ext_grid0"]["data_source"] == f"typical {rows['ext_grid0']['type']}"
    frame = pd.DataFrame({"name": ["gen0", "gen1"], "type": ["hydro", None], "rating_mva": [250.0, np.nan],
                          "H_s": [3.5, 6.0], "tau_s": [np.nan, 9.0]})
    from_frame = load_case("pandapower:case9", machines=frame)
    np.testing.assert_array_equal(from_frame.model.nodes.m, case.model.nodes.m)
    np.testing.assert_array_equal(from_frame.model.nodes.turbine_tau, case.model.nodes.turbine_tau)
    assert from_frame.metadata.options["machines"] == "DataFrame"


def test_the_machine_data_table_read_back_as_a_machines_file_gives_the_same_nodes(tmp_path):
    case = load_case("pandapower:case39")
    table = machine_data_table(case)
    assert list(table.columns[:7]) == ["name", "element", "bus", "type", "type_source", "rating_mva",
                                       "rating_source"]
    columns = ["name", "type", "rating_mva", *(q.column for q in QUANTITIES)]
    table[columns].to_csv(tmp_path / "edited.csv", index=False)
    again = load_case("pandapower:case39", machines=tmp_path / "edited.csv", machine_seed=5)
    for key in ("m", "d", "turbine_gain", "turbine_tau"):
        np.testing.assert_allclose(getattr(again.model.nodes, key), getattr(case.model.nodes, key), rtol=1e-12)


@pytest.mark.parametrize("text, problem", [
    ("name,H\ngen0,3\n", "machines.csv: unknown column 'H'; did you mean 'H_s'?"),
    ("H_s\n3\n", "machines.csv: no column 'name'"),
    ("name,H_s,H_s\ngen0,3,4\n", "column 'H_s' appears twice"),
    ("name,H_s\ngen7,3\n", "machines.csv line 2, column 'name': no machine 'gen7' in the network; close names: "
                           "'gen1', 'gen0' (3 machines: 'ext_grid0', 'gen0', 'gen1')"),
    ("name,H_s\ngen0,3\ngen0,4\n", "machines.csv line 3, column 'name': machine 'gen0' is also given at "
                                   "machines.csv line 2"),
    ("name,H_s\ngen0,-1\n", "machines.csv line 2, column 'H_s': must be > 0, got -1.0"),
    ("name,tau_s\ngen0,abc\n", "machines.csv line 2, column 'tau_s': must be a finite number, got 'abc'"),
    ("name,D_pu\ngen0,nan\n", "column 'D_pu': must be a finite number, got 'nan'"),
    ("name,type\ngen0,fusion\n", "machines.csv line 2, column 'type': unknown type 'fusion'; use one of "
                                 "steam_nonreheat, steam_reheat"),
    ("name,H_s\ngen0,3,4\n", "machines.csv line 2: 3 cells, but the header has 2 columns"),
    ("name,type,H_s\ngen0,wind,3\n", "machine 'gen0' is of type wind (converter-interfaced, not a machine of the "
                                     "model), so its H_s cannot be set"),
    ("name,type\next_grid0,wind\ngen0,solar\ngen1,wind\n", "no synchronous machine: every generator is "
                                                        "converter-interfaced"),
    ("name,type,inv_droop_pu\ngen0,synchronous_condenser,20\n",
     "machine 'gen0' has a governor (1/R = 20) but tau = 0: give tau_s > 0"),
    ("\n", "machines.csv: the file is empty"),
])
def test_a_bad_machines_file_is_refused_naming_file_row_and_column(tmp_path, text, problem):
    with pytest.raises(CaseError, match=re.escape(problem)) as error:
        load_case("pandapower:case9", machines=_csv(tmp_path, text))
    assert error.value.source == "pandapower:case9" and error.value.field == "machines"


def test_a_bad_dataframe_is_refused_naming_its_row():
    frame = pd.DataFrame({"name": ["gen0"], "H_s": [-2.0]}, index=["first"])
    with pytest.raises(CaseError, match=re.escape("DataFrame row 'first', column 'H_s': must be > 0, got -2.0")):
        load_case("pandapower:case9", machines=frame)


def test_machines_options_are_checked():
    with pytest.raises(CaseError, match=r"unknown machine rule 'typcial'; did you mean 'typical'\?"):
        load_case("pandapower:case9", machines="typcial")
    with pytest.raises(CaseError, match=r"field 'machines': no such file '.*absent\.csv'"):
        load_case("pandapower:case9", machines="absent.csv")
    with pytest.raises(TypeError, match=r"machines must be 'typical' or 'uniform', a CSV file path or a pandas "
                                        r"DataFrame, got int"):
        load_case("pandapower:case9", machines=42)
    with pytest.raises(CaseError, match=r"machines= and machine_seed= are for networks given without a case file"):
        load_case("kundur_two_area", machines="uniform")
    with pytest.raises(CaseError, match=r"machines= and machine_seed= are for networks given without a case file"):
        load_case(ROOT / "cases" / "iceland.toml", machine_seed=3)


def test_a_case_file_reaches_the_typical_rule_with_seed_and_file(tmp_path):
    _csv(tmp_path, "name,H_s\ngen1,7.5\n")
    (tmp_path / "typical.toml").write_text('''format_version = 1
name = "nine"
description = "case9 with typical machines"

[provenance]
network = "pandapower.networks.case9()"

[network]
source = "pandapower"
name = "case9"

[machines]
source = "typical"
seed = 3
file = "machines.csv"
''')
    from_file = load_case(tmp_path / "typical.toml")
    direct = load_case("pandapower:case9", machines=tmp_path / "machines.csv", machine_seed=3)
    np.testing.assert_array_equal(from_file.model.nodes.m, direct.model.nodes.m)
    np.testing.assert_array_equal(from_file.model.nodes.turbine_tau, direct.model.nodes.turbine_tau)
    assert _rows(from_file)["gen1"]["H_s"] == 7.5
    (tmp_path / "typical.toml").write_text((tmp_path / "typical.toml").read_text().replace("machines.csv", "gone.csv"))
    with pytest.raises(CaseError, match=r"field 'machines\.file': no such file '.*gone\.csv'"):
        load_case(tmp_path / "typical.toml")


def test_a_graph_case_has_no_machine_data_table():
    with pytest.raises(ValueError, match="'coherent5' is a graph network: its nodes have no machine data"):
        machine_data_table(load_case("coherent5"))


# ------------------------------------------------------------------ in-memory networks
def test_an_in_memory_network_loads_like_its_name_and_is_not_changed(tmp_path):
    net = pn.case9()
    before = len(net.res_bus)
    case = load_case(net)
    named = load_case("pandapower:case9")
    assert len(net.res_bus) == before                       # the copy was solved, not the network
    assert case.model.node_names == named.model.node_names
    np.testing.assert_allclose(case.model.laplacian.toarray(), named.model.laplacian.toarray(), rtol=1e-12)
    np.testing.assert_array_equal(case.model.nodes.m, named.model.nodes.m)
    assert case.metadata.source == "pandapower network 'case9'"
    net.name = "nine"
    with_table = load_case(net, machines=_csv(tmp_path, "name,H_s\next_grid0,9.0\n"))
    assert with_table.metadata.source == "pandapower network 'nine'"
    i = with_table.model.node_names.index("ext_grid0")
    rating = _rows(with_table)["ext_grid0"]["rating_mva"]
    assert with_table.model.nodes.m[i] == pytest.approx(2 * 9.0 * _per_unit(with_table, rating), rel=1e-12)
    with pytest.raises(CaseError, match=r"case pandapower network 'nine': field 'machines': machines\.csv line 2, "
                                        r"column 'name': no machine 'G1'"):
        load_case(net, machines=_csv(tmp_path, "name,H_s\nG1,9.0\n"))


def test_an_in_memory_network_is_checked_like_a_file():
    with pytest.raises(CaseError, match=r"case pandapower network: field 'network': the network has no buses"):
        load_case(pp.create_empty_network(name=""))
    with pytest.raises(TypeError, match=r"load_case takes a case name, a path, a pandapower network "
                                        r"\(pandapowerNet\) or a TOPS model dict, got list"):
        load_case([{"bus": []}])
    # A plain dict is a TOPS model, checked as one.
    with pytest.raises(CaseError, match=r"case TOPS model: field 'base_mva': missing from the TOPS model dict"):
        load_case({"bus": []})
