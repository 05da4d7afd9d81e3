"""Machine data travels with the machine: every node's m, d and turbine are the ones its
case data gives, machine names are distinct however the machines enter.

Expected values are computed here from the case file's tables (H, MVA, damping, 1/R, tau,
system base, frequency) and from pandapower's own tables and power flow, with the
conversions of (3.84) in the convention of Table 3-I, and matched to the loaded nodes by
machine name.
"""

import math
import re
import tomllib
from pathlib import Path

import numpy as np
import pytest

from gridcoherence.cases.loader import load_case
from gridcoherence.cases.schema import CaseError

pp = pytest.importorskip("pandapower")
pn = pytest.importorskip("pandapower.networks")

CASES_FOLDER = Path(__file__).resolve().parents[1] / "cases"
KUNDUR = (CASES_FOLDER / "kundur_two_area.toml").read_text()
# Distinct data for every machine, so that a machine given another machine's data shows.
DISTINCT_MACHINES = '''[machines]
source = "table"
name = ["G1", "G2", "G3", "G4"]
bus = [1, 2, 11, 12]
mva = [900, 700, 800, 1000]
H = [6.5, 5.0, 4.0, 3.0]
damping = [0, 1.0, 2.0, 0.5]
xd_prime = [0.3, 0.25, 0.35, 0.28]
inv_droop = [25, 0, 20, 10]
tau = [4.35, 0, 3.0, 6.0]

[machines.units]
mva = "MVA"
H = "s"
damping = "pu_machine"
xd_prime = "pu_machine"
inv_droop = "pu_machine"
tau = "s"
'''


def _family(H, mva, damping, inv_droop, tau, base_mva, frequency_hz):
    """Per machine (m, d, q, tau): m = 2 H S / (omega_s S_base), d = D S / (...), q = S/R / (...)."""
    per_unit = np.asarray(mva, float) / (2 * math.pi * frequency_hz * base_mva)
    return list(zip(2 * np.asarray(H, float) * per_unit, np.asarray(damping, float) * per_unit,
                    np.asarray(inv_droop, float) * per_unit, np.asarray(tau, float)))


def _assert_nodes_are(case, expected):
    """Each node's m, d and turbine (gain, tau) are those ``expected`` gives for its name."""
    nodes = case.model.nodes
    assert set(case.model.node_names) <= set(expected)
    for i, name in enumerate(case.model.node_names):
        m, d, q, tau = expected[name]
        assert nodes.m[i] == pytest.approx(m, rel=1e-12), name
        assert nodes.d[i] == pytest.approx(d, rel=1e-12), name
        turbines = np.flatnonzero(nodes.turbine_node == i)
        if q > 0:
            assert turbines.size == 1, name
            assert nodes.turbine_gain[turbines[0]] == pytest.approx(q, rel=1e-12), name
            assert nodes.turbine_tau[turbines[0]] == pytest.approx(tau, rel=1e-12), name
        else:
            assert turbines.size == 0, name


def _table_expected(text):
    document = tomllib.loads(text)
    machines = document["machines"]
    values = _family(machines["H"], machines["mva"], machines["damping"], machines["inv_droop"],
                     machines["tau"], document["base_mva"], document["frequency_hz"])
    return dict(zip(machines["name"], values))


def _with_distinct_machines(text):
    return re.sub(r"(?s)\[machines\].*", DISTINCT_MACHINES, text)


def _split_areas(text):
    """Cut both tie lines and give the cut-off area its own reference bus."""
    for old, new in [("  [3, 101, 0.011, 0.11, 0.1925, 1, 0],\n", ""), ("  [13, 101, 0.011, 0.11, 0.1925, 1, 0],\n", ""),
                     ("  [11, 2, 0, 0, 0, 0, 1.03, -6.8, 22],", "  [11, 3, 0, 0, 0, 0, 1.03, -6.8, 22],"),
                     ("  [101, 2, 0, 0, 0, 0, 1, -19.3, 500],", "  [101, 1, 0, 0, 0, 0, 1, -19.3, 500],")]:
        assert old in text
        text = text.replace(old, new)
    return text


def test_table_machines_carry_their_own_data(tmp_path):
    text = _with_distinct_machines(KUNDUR)
    path = tmp_path / "distinct.toml"
    path.write_text(text)
    case = load_case(path)
    assert case.model.node_names == ["G1", "G2", "G3", "G4"]
    _assert_nodes_are(case, _table_expected(text))
    assert case.model.nodes.n_turbines == 3   # G2 has no governor


def test_table_machines_keep_their_data_when_an_island_is_dropped(tmp_path):
    text = _split_areas(_with_distinct_machines(KUNDUR))
    path = tmp_path / "split.toml"
    path.write_text(text)
    case = load_case(path, keep_main_island=True)
    assert case.model.n == 2
    assert sorted(case.model.node_names + case.metadata.details["dropped_machines"]) == ["G1", "G2", "G3", "G4"]
    _assert_nodes_are(case, _table_expected(text))


def _ratings(net):
    """Machine name -> rating: sn_mva when given, else max(|S| / 0.85, 1 MVA) from the flow."""
    pp.runpp(net, numba=False, init="auto")
    ratings = {}
    for kind in ("ext_grid", "gen"):
        for index in net[kind].index[net[kind].in_service]:
            label = net[kind].at[index, "name"]
            name = label if isinstance(label, str) and label else f"{kind}{index}"
            given = net[kind].at[index, "sn_mva"] if "sn_mva" in net[kind] else np.nan
            flow = abs(complex(net[f"res_{kind}"].at[index, "p_mw"], net[f"res_{kind}"].at[index, "q_mvar"]))
            ratings[name] = given if np.isfinite(given) and given > 0 else max(flow / 0.85, 1.0)
    return ratings


def _uniform_rule_expected(net):
    """The uniform rule: H = 4 s, D = 1, 1/R = 20, tau = 5 s on every machine's rating."""
    ratings = _ratings(net)
    n = len(ratings)
    values = _family([4.0] * n, list(ratings.values()), [1.0] * n, [20.0] * n, [5.0] * n,
                     float(net.sn_mva), float(net.f_hz))
    return dict(zip(ratings, values))


def _case9_with_named_generators():
    net = pn.case9()
    net.gen["name"] = ["G small", "G big"]
    net.gen["sn_mva"] = [100.0, 300.0]
    return net


def test_pandapower_machines_carry_their_own_data(tmp_path):
    net = _case9_with_named_generators()
    path = tmp_path / "nine.json"
    pp.to_json(net, str(path))
    case = load_case(path, machines="uniform")
    assert case.model.node_names == ["ext_grid0", "G small", "G big"]
    _assert_nodes_are(case, _uniform_rule_expected(net))


def test_pandapower_machines_keep_their_data_when_an_island_is_dropped(tmp_path):
    net = _case9_with_named_generators()
    island = pp.create_bus(net, vn_kv=345.0)
    pp.create_ext_grid(net, island, vm_pu=1.0, name="far unit")
    path = tmp_path / "islands.json"
    pp.to_json(net, str(path))
    with pytest.raises(CaseError, match="far unit"):
        load_case(path)
    case = load_case(path, keep_main_island=True, machines="uniform")
    assert case.metadata.details["dropped_machines"] == ["far unit"]
    assert case.model.node_names == ["ext_grid0", "G small", "G big"]
    _assert_nodes_are(case, _uniform_rule_expected(net))


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # pandapower, on the iceland data
def test_rule_machines_of_iceland_carry_their_own_data():
    # The rule of cases/iceland.toml, applied here: one machine per in-service ext_grid and
    # gen (ext_grids first), its type drawn with the type probabilities (types in name
    # order), then per type, in the column order H, damping, xd_prime, inv_droop, tau, each
    # ranged column drawn uniformly for the machines of that type, all from one seeded stream.
    document = tomllib.loads((CASES_FOLDER / "iceland.toml").read_text())
    rule = document["machines"]
    names = sorted(rule["types"])
    ratings = _ratings(pn.iceland())
    n = len(ratings)
    rng = np.random.default_rng(rule["seed"])
    probability = np.array([rule["types"][t]["probability"] for t in names])
    kinds = rng.choice(len(names), size=n, p=probability / probability.sum())
    columns = {key: np.empty(n) for key in ("H", "damping", "xd_prime", "inv_droop", "tau")}
    for t_index, t in enumerate(names):
        chosen = np.flatnonzero(kinds == t_index)
        for key in columns:
            entry = rule["types"][t][key]
            columns[key][chosen] = rng.uniform(*entry, size=chosen.size) if isinstance(entry, list) else entry
    expected = dict(zip(ratings, _family(columns["H"], list(ratings.values()), columns["damping"],
                                         columns["inv_droop"], columns["tau"], document["base_mva"],
                                         document["frequency_hz"])))
    case = load_case(CASES_FOLDER / "iceland.toml")
    assert case.model.node_names == list(ratings)
    _assert_nodes_are(case, expected)
    assert [row["type"] for row in case.metadata.details["machine_data"]] == [names[k] for k in kinds]


# ------------------------------------------------------------------ duplicate names
def test_two_pandapower_generators_with_one_name_are_refused_naming_both_rows(tmp_path):
    net = pn.case9()
    net.gen["name"] = ["G", "G"]
    net.gen["sn_mva"] = [100.0, 300.0]
    path = tmp_path / "twins.json"
    pp.to_json(net, str(path))
    with pytest.raises(CaseError, match=r"twins\.json.*machines 'G' at gen rows 0 and 1 share a name"):
        load_case(path)
    net.ext_grid["name"] = ["G"]
    net.gen["name"] = ["G2", "G"]
    pp.to_json(net, str(path))
    with pytest.raises(CaseError, match=r"machines 'G' at ext_grid row 0 and gen row 1 share a name"):
        load_case(path)


def test_unnamed_pandapower_machines_are_named_after_their_rows(tmp_path):
    net = pn.case9()
    net.gen["name"] = [np.nan, None]
    path = tmp_path / "unnamed.json"
    pp.to_json(net, str(path))
    assert load_case(path).model.node_names == ["ext_grid0", "gen0", "gen1"]


def test_rule_case_with_generators_sharing_a_name_is_refused(tmp_path):
    net = pn.case9()
    net.gen["name"] = ["unit", "unit"]
    pp.to_json(net, str(tmp_path / "net.json"))
    text = (CASES_FOLDER / "iceland.toml").read_text()
    text = text.replace('source = "pandapower"\nname = "iceland"', 'source = "pandapower_json"\nfile = "net.json"')
    text = text.replace("frequency_hz = 50.0", "frequency_hz = 60.0")
    text = re.sub(r"(?m)^negative_reactances = .*\n", "", text)  # Iceland's series capacitor; case9 has none
    (tmp_path / "rule.toml").write_text(text)
    with pytest.raises(CaseError, match=r"machines 'unit' at gen rows 0 and 1 share a name"):
        load_case(tmp_path / "rule.toml")


def test_table_machines_sharing_a_name_are_refused(tmp_path):
    path = tmp_path / "twins.toml"
    path.write_text(KUNDUR.replace('name = ["G1", "G2", "G3", "G4"]', 'name = ["G1", "G2", "G1", "G4"]'))
    with pytest.raises(CaseError, match=r"'machines\.name'.*machines 'G1' at entries 0 and 2 share a name"):
        load_case(path)


def test_graph_nodes_sharing_a_name_are_refused(tmp_path):
    text = (CASES_FOLDER / "coherent5.toml").read_text()
    path = tmp_path / "twins.toml"
    path.write_text(text.replace('name = ["G1", "G2", "G3", "G4", "G5"]', 'name = ["G1", "G2", "G3", "G4", "G4"]'))
    with pytest.raises(CaseError, match=r"'machines\.name'.*machines 'G4' at entries 3 and 4 share a name"):
        load_case(path)
