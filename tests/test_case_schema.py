"""The case-format table: it drives the checks of every field and the committed reference."""

from pathlib import Path

import pytest

import gridcoherence.cases.bundled as bundled
from gridcoherence.cases.bundled import list_cases
from gridcoherence.cases.loader import load_case
from gridcoherence.cases.schema import CaseError, markdown_reference
from gridcoherence.cases.typical_machines import markdown_table

ROOT = Path(__file__).resolve().parents[1]
CASES_FOLDER = ROOT / "cases"
KUNDUR = (CASES_FOLDER / "kundur_two_area.toml").read_text()
COHERENT5 = (CASES_FOLDER / "coherent5.toml").read_text()
ICELAND = (CASES_FOLDER / "iceland.toml").read_text()
SBM3 = (CASES_FOLDER / "sbm3.toml").read_text()


@pytest.mark.parametrize("document, generate", [("case-format.md", markdown_reference),
                                                ("howto-own-network.md", markdown_table)])
def test_committed_references_are_the_generated_ones(document, generate):
    # The field reference and the typical machine data; regenerate with scripts/update_case_format.py.
    reference = generate()
    first, last = reference.splitlines()[0], reference.splitlines()[-1]
    text = (ROOT / "docs" / document).read_text(encoding="utf-8")
    assert text.count(first) == 1 and text.count(last) == 1
    start = text.index(first)
    assert text[start:text.index(last) + len(last) + 1] == reference


def _load(tmp_path, text, name="bad.toml"):
    path = tmp_path / name
    path.write_text(text)
    return load_case(path)


@pytest.mark.parametrize("text, field, problem", [
    # A field of another machine table or network source says where it belongs.
    (KUNDUR.replace("\nH = [", "\nm = [0.1, 0.1, 0.1, 0.1]\nH = ["), "machines.m",
     "it belongs to machines.source = 'table' on a graph or SBM network"),
    (COHERENT5.replace("\nm = 0.01366", "\np_share = 1.0\nm = 0.01366"), "machines.p_share",
     "it belongs to machines.source = 'table' on a power network"),
    (ICELAND.replace('name = "iceland"\ncoupling', 'file = "x.json"\ncoupling'), "network.file",
     "it belongs to network.source = 'pandapower_json'"),
    (ICELAND.replace("seed = 2024", "seed = 2024\nturbines = true"), "machines.turbines",
     "it belongs to machines.source = 'random_family'"),
    # The format has no free-form tables.
    (KUNDUR + "\n[options]\nscale = 2\n", "options", "unknown field"),
    # Bounds of the table, for fixed values and ranges, for every type of a rule.
    (ICELAND.replace("H = [2.5, 4.0]", "H = [0.0, 4.0]"), "machines.types.hydro.H", "must be > 0"),
    (ICELAND.replace("probability = 0.3\nH = [4.0, 6.0]", "probability = 0.3\nH = [6.0, 4.0]"),
     "machines.types.geothermal.H", "[low, high] with low <= high"),
    (ICELAND.replace("inv_droop = 25.0", "inv_droop = -25.0"), "machines.types.hydro.inv_droop", "must be >= 0"),
    (ICELAND.replace("probability = 0.3", "probability = 1.3"), "machines.types.geothermal.probability",
     "must lie in [0, 1]"),
    (KUNDUR.replace("bus = [1, 2, 11, 12]", "bus = [1, 2, 11.5, 12]"), "machines.bus", "must hold integers"),
    (SBM3.replace("[0.8, 0.1, 0.1], [0.1, 0.8", "[1.8, 0.1, 0.1], [0.1, 0.8"), "network.Q", "must lie in [0, 1]"),
    (SBM3.replace("seed = 342", "seed = -1"), "machines.seed", "must be >= 0"),
    (SBM3 + "\n[machines.ranges]\nm = [0.03, 0.01]\n", "machines.ranges.m", "low <= high"),
    (SBM3 + "\n[machines.ranges]\nd = [-0.01, 0.01]\n", "machines.ranges.d", "must be >= 0"),
    (SBM3 + "\n[machines.ranges]\nmass = [0.01, 0.03]\n", "machines.ranges.mass", "unknown field"),
    # TOML has nan and inf; no field lets them through.
    (KUNDUR.replace("frequency_hz = 60.0", "frequency_hz = nan"), "frequency_hz", "must be finite"),
    (KUNDUR.replace("H = [6.5, 6.5", "H = [nan, 6.5"), "machines.H", "non-finite value at index [0]"),
    (SBM3 + "\n[machines.ranges]\nturbine_tau = [2.0, inf]\n", "machines.ranges.turbine_tau", "must be finite"),
    (ICELAND.replace("damping = 1.0", "damping = nan", 1), "machines.types.hydro.damping", "must be finite"),
    # Choices, units.
    (KUNDUR.replace('loads = "impedance"', 'loads = "constant_power"'), "network.loads", "unknown loads"),
    (COHERENT5.replace('m = "pu_s2_per_rad"', 'm = "pu_s2_per_rad"\nH = "s"'), "machines.units.H",
     "no quantity 'H' takes a unit here"),
    (COHERENT5.replace('tau = "s"\n', ""), "machines.units.tau", "missing: state the unit of machines.tau"),
])
def test_the_table_checks_every_field(tmp_path, text, field, problem):
    with pytest.raises(CaseError) as info:
        _load(tmp_path, text)
    message = str(info.value)
    assert f"field '{field}'" in message and problem in message, message


def test_linearization_given_to_load_case_is_checked_as_the_field(tmp_path):
    with pytest.raises(CaseError, match=r"'network\.linearization'.*unknown linearization 'full'"):
        load_case(CASES_FOLDER / "kundur_two_area.toml", linearization="full")


def test_bundled_cases_are_found_in_a_checkout_without_the_data_package(monkeypatch):
    if not (Path(bundled.__file__).resolve().parents[2] / "cases" / "coherent5.toml").is_file():
        pytest.skip("the package is installed, not imported from a source checkout")

    def missing(name):
        raise ModuleNotFoundError(name)

    monkeypatch.setattr(bundled.resources, "files", missing)
    assert {"coherent5", "iceland", "sbm3"} <= set(list_cases())
    assert load_case("coherent5").model.n == 5
