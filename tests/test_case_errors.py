"""Bad case files: each gives a CaseError (or, when the data is legitimate only on purpose,
a CaseWarning) naming the file, the field and the row, and no network file runs code.

The catalogue builds every bad input from a good one -- a bundled case file (TOML), a
pandapower JSON file written by ``pandapower.to_json`` or the MATPOWER case of
``tests/data`` -- by one edit, and states the exception class and a message fragment.
"""

import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from gridcoherence.cases.loader import load_case
from gridcoherence.cases.pandapower_json import ALLOWED_OBJECTS, refused_object
from gridcoherence.cases.schema import CaseError, CaseWarning

pp = pytest.importorskip("pandapower")
pn = pytest.importorskip("pandapower.networks")
pytest.importorskip("matpowercaseframes")

ROOT = Path(__file__).resolve().parents[1]
CASES_FOLDER = ROOT / "cases"
KUNDUR = (CASES_FOLDER / "kundur_two_area.toml").read_text()
COHERENT5 = (CASES_FOLDER / "coherent5.toml").read_text()
SBM3 = (CASES_FOLDER / "sbm3.toml").read_text()
MATPOWER = (ROOT / "tests" / "data" / "three_machine.m").read_text()
SBM3_Q = "Q = [[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8]]"
SBM3_W = "W = [[20.0, 0.4, 0.8], [0.4, 20.0, 0.7], [0.8, 0.7, 20.0]]"
TIE = "  [13, 101, 0.011, 0.11, 0.1925, 1, 0],\n"
# Line 10-20 as a longer line (bus 10 - new bus 21) compensated by a series capacitor (21 - 20).
SERIES_CAPACITOR = [("  [20, 1, 0, 0, 0, 0, 0.9876, 2.1, 230],", "  [20, 1, 0, 0, 0, 0, 0.9876, 2.1, 230],\n"
                     "  [21, 1, 0, 0, 0, 0, 0.9876, 2.1, 230],"),
                    ("  [10, 20, 0.0025, 0.025, 0.0437, 1, 0],", "  [10, 21, 0.0025, 0.035, 0.0437, 1, 0],\n"
                     "  [21, 20, 0, -0.01, 0, 1, 0],")]


def _edited(text, *replacements):
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


def toml(base, *replacements):
    """A case file: ``base`` with each (old, new) replaced once."""
    def build(tmp_path):
        path = tmp_path / "bad.toml"
        path.write_text(_edited(base, *replacements))
        return path
    return build


def matpower(*replacements, text=None):
    """A MATPOWER file: the test case with each (old, new) replaced once, or ``text``."""
    def build(tmp_path):
        path = tmp_path / "bad.m"
        path.write_text(_edited(MATPOWER, *replacements) if text is None else text)
        return path
    return build


def pandapower_json(edit, network="case9"):
    """A pandapower JSON file: ``pandapower.to_json`` of a network, then ``edit(document)``."""
    def build(tmp_path):
        document = json.loads(pp.to_json(getattr(pn, network)()))
        edit(document)
        path = tmp_path / "bad.json"
        path.write_text(json.dumps(document))
        return path
    return build


def pandapower_name(name):
    return lambda tmp_path: f"pandapower:{name}"


def _table(document, name):
    return json.loads(document["_object"][name]["_object"])


def _set_table(document, name, table):
    document["_object"][name]["_object"] = json.dumps(table)


def _set_cell(name, column, value, row=0):
    def edit(document):
        table = _table(document, name)
        table["data"][row][table["columns"].index(column)] = value
        _set_table(document, name, table)
    return edit


def _put(key, value):
    def edit(document):
        document["_object"][key] = value
    return edit


def _drop_rows(name):
    def edit(document):
        table = _table(document, name)
        table["data"], table["index"] = [], []
        _set_table(document, name, table)
    return edit


def _replace_network(document):
    document.clear()
    document.update(json.loads(pp.to_json(pp.create_empty_network())))


def _no_network(document):
    document.clear()
    document["bus"] = [1, 2]


def _extra_key(document):
    document["_object"]["bus"]["engine"] = "pyarrow"


def _path_as_table(document):
    document["_object"]["bus"]["_object"] = "/tmp/elsewhere.json"


EVIL = {"_module": "this", "_class": "function", "_object": "s"}

CATALOGUE = [
    # ---------------------------------------------------------------- inline tables (TOML)
    pytest.param(toml(KUNDUR, ("[4, 1, 976, 100,", "[4.5, 1, 976, 100,")), CaseError, "network.bus",
                 "row 3: bus number 4.5 is not an integer", id="bus-number-not-integer"),
    pytest.param(toml(KUNDUR, ("  [2, 700, 176, 1.01],", "  [2.5, 700, 176, 1.01],")), CaseError, "network.gen",
                 "row 1: bus 2.5 is not an integer", id="gen-bus-not-integer"),
    pytest.param(toml(KUNDUR, ("  [3, 4, 0, 0.005, 0, 1, 0],", "  [3, 4.5, 0, 0.005, 0, 1, 0],")), CaseError,
                 "network.branch", "row 2: to bus 4.5 is not an integer", id="branch-bus-not-integer"),
    pytest.param(toml(KUNDUR, ("bus = [1, 2, 11, 12]", "bus = [1, 2, 11, 12.5]")), CaseError, "machines.bus",
                 "must hold integers; entry 3 is 12.5", id="machine-bus-not-integer"),
    pytest.param(toml(KUNDUR, ("  [10, 1, 0, 0, 0, 0, 1.0103,", "  [4, 1, 0, 0, 0, 0, 1.0103,")),
                 CaseError, "network.bus", "row 4: bus number 4 is also the number of row 3", id="bus-number-twice"),
    pytest.param(toml(KUNDUR, ("  [1, 3, 0, 0, 0, 0, 1.03, 18.5, 22],", "  [1, 2, 0, 0, 0, 0, 1.03, 18.5, 22],")),
                 CaseError, "network.bus", "no reference bus (type 3)", id="no-reference-bus"),
    pytest.param(toml(KUNDUR, ("  [1, 3, 0, 0, 0, 0, 1.03, 18.5, 22],", "  [1, 2, 0, 0, 0, 0, 1.03, 18.5, 22],"),
                      ("  [3, 1, 0, 0, 0, 300,", "  [3, 3, 0, 0, 0, 300,")),
                 CaseError, "network.bus", "row 2: reference bus 3 has no in-service generator",
                 id="reference-bus-without-generator"),
    pytest.param(toml(KUNDUR, (TIE, TIE + "  [13, 13, 0.011, 0.11, 0.1925, 1, 0],\n")), CaseError, "network.branch",
                 "row 10: connects bus 13 to itself", id="branch-self-loop"),
    pytest.param(toml(KUNDUR, ("  [3, 4, 0, 0.005, 0, 1, 0],", "  [3, 4, 0, 0, 0, 1, 0],")), CaseError,
                 "network.branch", "row 2: bus 3 - 4 has zero reactance", id="branch-zero-reactance"),
    pytest.param(toml(KUNDUR, *SERIES_CAPACITOR), CaseWarning, "network.negative_reactances",
                 "network.branch row 7 (bus 21 - 20, x = -0.01)", id="branch-negative-reactance"),
    pytest.param(toml(KUNDUR, ('loads = "impedance"', 'loads = "impedance"\nnegative_reactances = 1')), CaseWarning,
                 "network.negative_reactances", "no branch with negative series reactance, but the case states 1",
                 id="negative-reactance-stated-but-absent"),
    pytest.param(toml(KUNDUR, ("bus = [1, 2, 11, 12]", "bus = [1, 2, 11, 13]")), CaseWarning, "machines.bus",
                 "'G4' at bus 13: they run at P = Q = 0", id="machine-at-bus-without-generation"),
    pytest.param(toml(KUNDUR, ("  [3, 101, 0.011, 0.11, 0.1925, 1, 0],\n" * 2, ""), (TIE * 2, ""),
                      ("  [11, 2, 0, 0, 0, 0, 1.03,", "  [11, 3, 0, 0, 0, 0, 1.03,"),
                      ("  [101, 2, 0, 0, 0, 0, 1, -19.3, 500],", "  [101, 1, 0, 0, 0, 0, 1, -19.3, 500],")),
                 CaseError, "network", "islanded from the main group. Pass keep_main_island=True",
                 id="islands-advise-keep-main-island"),
    # ---------------------------------------------------------------- names (repeats: test_case_machines)
    pytest.param(toml(KUNDUR, ('name = ["G1", "G2", "G3", "G4"]', "name = [1, 2, 3, 4]")), CaseError,
                 "machines.name", "must be a list of non-empty strings", id="machine-names-numbers"),
    pytest.param(toml(KUNDUR, ('name = ["G1", "G2", "G3", "G4"]', 'name = ["G1", "G2", " ", "G4"]')), CaseError,
                 "machines.name", "must be a list of non-empty strings", id="machine-name-blank"),
    pytest.param(toml(COHERENT5, ('name = ["G1", "G2", "G3", "G4", "G5"]', "name = [1, 2, 3, 4, 5]")), CaseError,
                 "machines.name", "must be a list of non-empty strings", id="node-names-numbers"),
    # ---------------------------------------------------------------- graph and SBM networks
    pytest.param(toml(COHERENT5, ("[3, 4, 10.0]", "[4, 4, 10.0]")), CaseError, "network.edges",
                 "row 9 [4, 4, 10.0] connects node 4 to itself", id="graph-self-loop"),
    pytest.param(toml(COHERENT5, ("[3, 4, 10.0]", "[3, 4.5, 10.0]")), CaseError, "network.edges",
                 "row 9 [3.0, 4.5, 10.0]: endpoints must be node numbers 0..4", id="graph-endpoint-not-integer"),
    pytest.param(toml(SBM3, (SBM3_Q, "Q = [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]")), CaseError,
                 "network.Q", "Q is 0 between blocks [0] and [1]", id="sbm-no-edges"),
    pytest.param(toml(SBM3, (SBM3_Q, "Q = [[0.8, 0.0, 0.0], [0.0, 0.8, 0.1], [0.0, 0.1, 0.8]]")), CaseError,
                 "network.Q", "Q is 0 between blocks [0] and [1, 2]", id="sbm-block-cut-off"),
    pytest.param(toml(SBM3, (SBM3_W, "W = [[20.0, 0.0, 0.0], [0.0, 20.0, 0.7], [0.0, 0.7, 20.0]]")), CaseError,
                 "network.W", "W is 0 between blocks [0] and [1, 2]", id="sbm-zero-weights"),
    pytest.param(toml(SBM3, (SBM3_Q, "Q = [[0.8, 0.001, 0.001], [0.001, 0.8, 0.001], [0.001, 0.001, 0.8]]")),
                 CaseError, "network.Q", "the graph sampled with network.seed = 341 is disconnected",
                 id="sbm-sample-disconnected"),
    pytest.param(toml(SBM3, ("seed = 341", "seed = -1")), CaseError, "network.seed", "must be >= 0, got -1",
                 id="sbm-negative-network-seed"),
    pytest.param(toml(SBM3, ("seed = 342", "seed = -1")), CaseError, "machines.seed", "must be >= 0, got -1",
                 id="sbm-negative-machine-seed"),
    # ---------------------------------------------------------------- pandapower networks by name
    pytest.param(pandapower_name("create_bus"), CaseError, "network.name",
                 "pandapower.networks has no network 'create_bus'", id="pandapower-element-function"),
    pytest.param(pandapower_name("create_empty_network"), CaseError, "network.name",
                 "pandapower.networks has no network 'create_empty_network'", id="pandapower-empty-network"),
    pytest.param(pandapower_name("case3900"), CaseError, "network.name",
                 "pandapower.networks has no network 'case3900'; did you mean 'case300'?", id="pandapower-misspelt"),
    # ---------------------------------------------------------------- pandapower JSON files
    pytest.param(pandapower_json(_put("evil", EVIL)), CaseError, "network.file",
                 "the object at _object.evil names _module 'this' and _class 'function'", id="json-imports-module"),
    pytest.param(pandapower_json(_put("shell", {"_module": "os", "_class": "system", "_object": "true"})), CaseError,
                 "network.file", "names _module 'os' and _class 'system'", id="json-calls-function"),
    pytest.param(pandapower_json(_put("controller", {"_module": "pandapower.control.controller.const_control",
                                                     "_class": "ConstControl", "_object": "{}"})),
                 CaseError, "network.file", "_class 'ConstControl', which pandapower would import",
                 id="json-controller"),
    pytest.param(pandapower_json(_set_cell("bus", "name", EVIL)), CaseError, "network.file",
                 "the object at _object.bus._object (JSON text).data[0][0] names _module 'this'",
                 id="json-object-inside-table"),
    pytest.param(pandapower_json(_path_as_table), CaseError, "network.file",
                 "the object at _object.bus is a DataFrame whose _object is not JSON text", id="json-table-from-path"),
    pytest.param(pandapower_json(_extra_key), CaseError, "network.file",
                 "is a DataFrame with keys pandapower does not write: 'engine'", id="json-table-extra-key"),
    pytest.param(pandapower_json(_no_network), CaseError, "network.file",
                 "(top level) is not a pandapower network", id="json-not-a-network"),
    pytest.param(pandapower_json(_replace_network), CaseError, "network", "the network has no buses",
                 id="json-no-buses"),
    pytest.param(pandapower_json(_drop_rows("ext_grid")), CaseError, "network",
                 "no reference for the power flow: no in-service ext_grid or slack gen", id="json-no-reference"),
    pytest.param(pandapower_json(_set_cell("line", "x_ohm_per_km", -85.0, row=3)), CaseWarning,
                 "network.negative_reactances", "line 3 (bus 2 - 5), x = -", id="json-negative-line-reactance"),
    # ---------------------------------------------------------------- MATPOWER files
    pytest.param(matpower(text=""), CaseError, "network.file", "bad.m: the file is empty", id="matpower-empty"),
    pytest.param(matpower(text="mpc.bus = [\n1 3 0 0 0 0 1 1 0 230 1 1.1 0.9;\n];\n"), CaseError, "network.file",
                 "bad.m: not a MATPOWER case: no 'function mpc = <name>' line", id="matpower-no-function-line"),
    pytest.param(matpower(("0	230	1	1.1	0.9;\n];\n%	bus	Pg", "0	230	1	1.1	0.9;\n\n%	bus	Pg")), CaseError,
                 "network.file", "bad.m: line 6: no '];' closes mpc.bus before line 14", id="matpower-missing-close"),
    pytest.param(matpower(("4	1	150	40	0	0	1	1	0	230	1	1.1	0.9;", "4	1	150	40	0	0	1	1	0	230	1	1.1	0.9 x;")),
                 CaseError, "network.file", "bad.m: line 10: 'x' in mpc.bus is not a number", id="matpower-syntax"),
    pytest.param(matpower(("4	1	150	40	0	0	1	1	0	230	1	1.1	0.9;", "4	1	150	40	0	0	1	1;")), CaseError,
                 "network.file", "bad.m: line 10 (mpc.bus row 4) has 8 columns but the first row of mpc.bus 13",
                 id="matpower-ragged-rows"),
    pytest.param(matpower(("0.9;\n	5	1", "0.9;	5	1")), CaseError, "network.file",
                 "bad.m: line 10: more than one row of mpc.bus", id="matpower-two-rows-on-a-line"),
    pytest.param(matpower(("mpc.gen = [", "mpc.generators = [")), CaseError, "network.file", "bad.m: no mpc.gen",
                 id="matpower-missing-matrix"),
    pytest.param(matpower(("1	3	0	0	0	0	1	1.04", "1	2	0	0	0	0	1	1.04")), CaseError, "network.file",
                 "bad.m: no reference bus (type 3)", id="matpower-no-reference-bus"),
    pytest.param(matpower(("	5	3	0.01	0.09", "	5	9	0.01	0.09")), CaseError, "network.file",
                 "bad.m: line 24 (mpc.branch row 4): refers to unknown bus 9", id="matpower-branch-to-missing-bus"),
    pytest.param(matpower(("	3	80	0	300", "	7	80	0	300")), CaseError, "network.file",
                 "bad.m: line 17 (mpc.gen row 3): refers to unknown bus 7", id="matpower-gen-at-missing-bus"),
    pytest.param(matpower(("	5	3	0.01	0.09", "	5	5	0.01	0.09")), CaseError, "network.file",
                 "bad.m: line 24 (mpc.branch row 4): connects bus 5 to itself", id="matpower-self-loop"),
    pytest.param(matpower(("	5	1	100	30", "	5.5	1	100	30")), CaseError, "network.file",
                 "bad.m: line 11 (mpc.bus row 5): bus number 5.5 is not an integer", id="matpower-bus-not-integer"),
    pytest.param(matpower(("	5	1	100	30", "	5	1	NaN	30")), CaseError, "network.file",
                 "bad.m: line 11 (mpc.bus row 5): column 3 is nan", id="matpower-nan"),
    pytest.param(matpower(("	5	3	0.01	0.09", "	5	3	0.01	-0.09")), CaseWarning, "network.negative_reactances",
                 "bad.m: line 24 (mpc.branch row 4) (bus 5 - 3, x = -0.09)", id="matpower-negative-reactance"),
]


@pytest.mark.filterwarnings("ignore::FutureWarning")  # pandapower's MATPOWER converter
@pytest.mark.parametrize("build, expected, field, fragment", CATALOGUE)
def test_bad_case_file_catalogue(tmp_path, build, expected, field, fragment):
    source = build(tmp_path)
    label = Path(str(source)).name if not str(source).startswith("pandapower:") else str(source)
    if expected is CaseError:
        with pytest.raises(CaseError) as info:
            load_case(source)
        messages = [str(info.value)]
    else:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            load_case(source)
        messages = [str(w.message) for w in caught if issubclass(w.category, expected)]
        assert messages, f"no {expected.__name__}"
    assert any(label in m and f"field '{field}'" in m and fragment in m for m in messages), messages


# ---------------------------------------------------------------- no code from a data file
def test_pandapower_json_naming_a_module_imports_nothing(tmp_path):
    # `this` prints the Zen of Python when imported: the file must be refused before that.
    document = json.loads(pp.to_json(pn.case9()))
    document["_object"]["evil"] = EVIL
    path = tmp_path / "evil.json"
    path.write_text(json.dumps(document))
    script = (
        "import sys\n"
        "from gridcoherence.cases.loader import load_case\n"
        "from gridcoherence.cases.schema import CaseError\n"
        f"try:\n    load_case({str(path)!r})\n"
        "except CaseError as exc:\n    print('refused:', exc)\n"
        "print('imported this:', 'this' in sys.modules)\n"
    )
    environment = {"PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, cwd=ROOT,
                            env=environment)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "refused:" in result.stdout and "evil.json" in result.stdout and "_module 'this'" in result.stdout
    assert "imported this: False" in result.stdout
    assert "Zen of Python" not in result.stdout + result.stderr


def _network_with_geodata():
    net = pp.create_empty_network()
    buses = [pp.create_bus(net, 110, geodata=(float(i), 0.5 * i)) for i in range(3)]
    pp.create_ext_grid(net, buses[0])
    pp.create_gen(net, buses[2], p_mw=20.0, vm_pu=1.0)
    pp.create_load(net, buses[1], p_mw=30.0, q_mvar=5.0)
    for a, b in ((0, 1), (1, 2), (0, 2)):
        pp.create_line(net, buses[a], buses[b], 10.0, "149-AL1/24-ST1A 110.0",
                       geodata=[(float(a), 0.5 * a), (float(b), 0.5 * b)])
    return net


def _network_with_a_series():
    net = pn.case9()
    net["measured_loads_mw"] = __import__("pandas").Series([90.0, 100.0, 125.0])
    return net


REAL_NETWORKS = {
    "case9": pn.case9, "case39": pn.case39, "case118": pn.case118, "iceland": pn.iceland,
    "mv_oberrhein": pn.mv_oberrhein, "example_multivoltage": pn.example_multivoltage,
    "geodata": _network_with_geodata, "series": _network_with_a_series,
}


def _objects(document):
    """Every (module, class) of a pandapower JSON document, with nested JSON text."""
    found, stack = set(), [document]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            if "_module" in value:
                found.add((value["_module"], value.get("_class")))
            stack += list(value.values())
        elif isinstance(value, list):
            stack += value
        elif isinstance(value, str) and value[:1] in "{[":
            try:
                stack.append(json.loads(value))
            except ValueError:
                pass
    return found


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # pandapower, on the iceland data
@pytest.mark.parametrize("name", sorted(REAL_NETWORKS))
def test_real_pandapower_json_files_load_as_the_network_itself(tmp_path, name):
    net = REAL_NETWORKS[name]()
    path = tmp_path / f"{name}.json"
    pp.to_json(net, str(path))
    document = json.loads(path.read_text())
    assert refused_object(document) is None
    assert _objects(document) <= set(ALLOWED_OBJECTS)
    options = {"keep_main_island": True} if name == "mv_oberrhein" else {}  # two ext_grids, apart
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CaseWarning)  # iceland's series capacitor
        from_file = load_case(path, **options)
        direct = load_case(f"pandapower:{name}", **options) if name in pn.__dict__ else None
    assert from_file.metadata.details["n_buses"] == len(net.bus)
    if direct is not None:
        assert from_file.model.node_names == direct.model.node_names
        np.testing.assert_allclose(from_file.model.laplacian.toarray(), direct.model.laplacian.toarray(),
                                   rtol=1e-9, atol=1e-9)


def test_negative_star_winding_of_a_three_winding_transformer_is_named(tmp_path):
    # Star equivalent: x_hv = (x_hv-mv + x_hv-lv - x_mv-lv) / 2 < 0 when x_mv-lv is the largest.
    net = pn.example_multivoltage()
    index = net.trafo3w.index[0]
    net.trafo3w.loc[index, ["vk_hv_percent", "vk_mv_percent", "vk_lv_percent"]] = [5.0, 20.0, 5.0]
    path = tmp_path / "multivoltage.json"
    pp.to_json(net, str(path))
    with pytest.warns(CaseWarning, match=rf"trafo3w {index} \(hv winding, bus {net.trafo3w.at[index, 'hv_bus']} "
                                         r"- star point\), x = -"):
        load_case(path)


@pytest.mark.filterwarnings("ignore::FutureWarning")  # pandapower's MATPOWER converter
def test_a_mat_file_loads_like_its_m_file_and_is_checked(tmp_path):
    scipy_io = pytest.importorskip("scipy.io")
    m_case = load_case(ROOT / "tests" / "data" / "three_machine.m")
    mpc = {"version": "2", "baseMVA": 100.0}
    for name in ("bus", "gen", "branch"):
        block = MATPOWER.split(f"mpc.{name} = [\n")[1].split("];")[0]
        mpc[name] = np.array([[float(v) for v in line.split(";")[0].split()] for line in block.splitlines()])
    scipy_io.savemat(tmp_path / "three.mat", {"mpc": mpc})
    mat_case = load_case(tmp_path / "three.mat")
    np.testing.assert_allclose(mat_case.model.laplacian.toarray(), m_case.model.laplacian.toarray(), rtol=1e-12)
    mpc["bus"] = mpc["bus"].copy()
    mpc["bus"][0, 1] = 2
    scipy_io.savemat(tmp_path / "noref.mat", {"mpc": mpc})
    with pytest.raises(CaseError, match=r"noref\.mat.*'network\.file'.*noref\.mat: no reference bus \(type 3\)"):
        load_case(tmp_path / "noref.mat")
    scipy_io.savemat(tmp_path / "other.mat", {"grid": mpc})
    with pytest.raises(CaseError, match=r"other\.mat: no MATPOWER struct 'mpc'"):
        load_case(tmp_path / "other.mat")


def test_bundled_iceland_states_its_series_capacitor():
    # Read from the checkout, not the installed data package.
    with warnings.catch_warnings():
        warnings.simplefilter("error", CaseWarning)
        case = load_case(CASES_FOLDER / "iceland.toml")
    assert case.model.n == 35


def test_negative_reactances_of_a_pandapower_network_warn_without_a_case_file():
    with pytest.warns(CaseWarning, match=r"pandapower:iceland.*1 branch\(es\).*line 80 \(bus 165 - 169\)"):
        load_case("pandapower:iceland")


def test_case_errors_pickle_with_their_parts():
    import pickle

    error = pickle.loads(pickle.dumps(CaseError("a.toml", "machines.H", "must be > 0")))
    assert (type(error), error.source, error.field, str(error)) == \
        (CaseError, "a.toml", "machines.H", "case a.toml: field 'machines.H': must be > 0")



def test_a_named_network_is_built_once_and_every_caller_gets_its_own_copy():
    from gridcoherence.cases import network_sources

    first = network_sources.named_network("test", "case9")
    first.load["p_mw"] *= 2.0  # a caller changing its network changes no other caller's
    second = network_sources.named_network("test", "case9")
    assert second is not first and np.allclose(second.load["p_mw"] * 2.0, first.load["p_mw"])
    assert network_sources._built_network.cache_info().hits >= 1
