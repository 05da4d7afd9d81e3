"""Case files: format validation, bundled cases, load_case from anywhere, SBM statistics."""

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from gridcoherence import validate_laplacian
from gridcoherence.cases.bundled import bundled_case_index, list_cases
from gridcoherence.cases.loader import case_summary, load_case
from gridcoherence.cases.schema import CaseError

CASES_FOLDER = Path(__file__).resolve().parents[1] / "cases"
EXPECTED = {"coherent5", "sbm3", "iceland", "iceland_strong", "nets_nyps68", "new_england39",
            "kundur_two_area", "npcc48"}


def test_bundled_cases_are_listed():
    assert EXPECTED <= set(list_cases())


def test_stored_case_index_matches_the_loaded_cases():
    # `gridcoherence cases` prints the index instead of loading every case; it must not rot
    # (regenerate with scripts/update_case_index.py).
    index = bundled_case_index()
    assert sorted(index) == list_cases()
    for name in list_cases():
        stored, loaded = index[name], case_summary(load_case(name))
        assert stored["lambda_2"] == pytest.approx(loaded["lambda_2"], rel=1e-5), name
        assert {k: v for k, v in stored.items() if k != "lambda_2"} == \
            {k: v for k, v in loaded.items() if k != "lambda_2"}, name


def test_listing_the_bundled_cases_imports_no_numerical_package(tmp_path):
    # `gridcoherence cases` lists the index; it must not pay for numpy, control or pandapower.
    script = (
        "import sys\n"
        "from gridcoherence.cases.bundled import list_cases, bundled_case_index\n"
        "names, index = list_cases(), bundled_case_index()\n"
        "assert 'coherent5' in names and index['coherent5']['machines'] == 5\n"
        "print(sorted(m for m in ('numpy', 'scipy', 'control', 'pandapower', 'pandas') if m in sys.modules))\n"
    )
    root = Path(__file__).resolve().parents[1]
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                            env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "[]"


def test_unknown_name_lists_the_available_cases():
    with pytest.raises(CaseError) as info:
        load_case("icelandd")
    message = str(info.value)
    assert "icelandd" in message and "Did you mean 'iceland'" in message
    for name in EXPECTED:
        assert name in message


def test_bundled_cases_load_from_an_installed_package_outside_the_checkout(tmp_path):
    script = (
        "import gridcoherence.cases.loader as c\n"
        "for name in c.list_cases():\n"
        "    case = c.load_case(name)\n"
        "    assert case.model.n > 1, name\n"
        "    print(name, case.model.n)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True,
                            timeout=300, env={"OPENBLAS_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr[-2000:]
    loaded = dict(line.split() for line in result.stdout.splitlines() if re.match(r"^\w+ \d+$", line))
    assert EXPECTED <= set(loaded)
    assert loaded["iceland"] == "35" and loaded["nets_nyps68"] == "16" and loaded["npcc48"] == "48"


def test_coherent5_aggregate_is_table_3_1_exactly():
    case = load_case("coherent5")
    nodes = case.model.nodes
    assert nodes.m.sum() == pytest.approx(0.0683, rel=1e-14, abs=0)
    assert nodes.d.sum() == pytest.approx(0.0107, rel=1e-14, abs=0)
    np.testing.assert_array_equal(nodes.turbine_gain, [0.0218, 0.0256, 0.0236, 0.0255, 0.0192])
    np.testing.assert_array_equal(nodes.turbine_tau, [9.08, 5.26, 2.29, 7.97, 3.24])
    s = np.array([0.0, 0.1j, 1.0j, 0.3 + 2j])
    table = 0.0683 * s + 0.0107 + sum(q / (t * s + 1) for q, t in zip(nodes.turbine_gain, nodes.turbine_tau))
    np.testing.assert_allclose(nodes.inverse_transfer(s).sum(axis=1), table, rtol=1e-14)
    assert case.spectrum_summary(2)["lambda_2"] == pytest.approx(50.0, rel=1e-12)


def test_iceland_case_and_its_strong_variant():
    weak, strong = load_case("iceland"), load_case("iceland_strong")
    assert weak.model.n == 35 and weak.metadata.frequency_hz == 50.0
    validate_laplacian(weak.model.laplacian)
    np.testing.assert_allclose(strong.model.laplacian.toarray(), 10 * weak.model.laplacian.toarray(), rtol=1e-12)
    np.testing.assert_array_equal(strong.model.nodes.m, weak.model.nodes.m)
    summary = weak.spectrum_summary(6)
    assert 0 < summary["lambda_2"] < summary["eigenvalues"][2]
    assert np.all(np.isfinite(weak.model.nodes.m)) and np.all(weak.model.nodes.m > 0)
    assert {row["type"] for row in weak.metadata.details["machine_data"]} == {"hydro", "geothermal"}
    assert "rule" in weak.metadata.provenance["machine_data"]


def test_sbm3_is_the_3_41_experiment_and_scales():
    case = load_case("sbm3")
    assert case.model.n == 80
    assert case.metadata.details["sizes"] == [20, 40, 20]
    big = load_case("sbm3", scale=4)
    assert big.model.n == 320 and big.metadata.details["sizes"] == [80, 160, 80]
    sparse = load_case("sbm3", scale=50, keep_degree=True)
    degree_small = case.model.laplacian.diagonal().mean()
    degree_sparse = sparse.model.laplacian.diagonal().mean()
    assert 0.8 < degree_sparse / degree_small < 1.2
    with pytest.raises(CaseError, match="scale"):
        load_case("iceland", scale=2)
    with pytest.raises(CaseError, match="positive integer"):
        load_case("sbm3", scale=0)


def test_sbm_edges_have_the_block_probabilities_and_weights():
    case = load_case("sbm3", scale=5)
    L = case.model.laplacian
    validate_laplacian(L)
    labels = case.metadata.details["labels"]
    Q, W = np.array(case.metadata.details["Q"]), np.array(case.metadata.details["W"])
    sizes = np.bincount(labels)
    A = -L.tocoo()
    off = A.row > A.col
    rows, cols, weights = A.row[off], A.col[off], A.data[off]
    for a in range(3):
        for b in range(a + 1):
            in_pair = ((labels[rows] == a) & (labels[cols] == b)) | ((labels[rows] == b) & (labels[cols] == a))
            pairs = sizes[a] * (sizes[a] - 1) // 2 if a == b else sizes[a] * sizes[b]
            count = int(in_pair.sum())
            # Two-sided binomial test at level 1e-4 per block pair (fixed seed in the case).
            assert stats.binomtest(count, pairs, Q[a, b]).pvalue > 1e-4, (a, b, count, pairs)
            np.testing.assert_array_equal(weights[in_pair], W[a, b])


def test_pandapower_name_and_json_file_load_alike(tmp_path):
    pp = pytest.importorskip("pandapower")
    import pandapower.networks as pn

    case = load_case("pandapower:case9")
    assert case.model.n == 3 and case.model.node_names == ["ext_grid0", "gen0", "gen1"]
    path = tmp_path / "nine.json"
    pp.to_json(pn.case9(), str(path))
    from_file = load_case(path)
    np.testing.assert_allclose(from_file.model.laplacian.toarray(), case.model.laplacian.toarray(), rtol=1e-10)
    np.testing.assert_allclose(from_file.model.nodes.m, case.model.nodes.m, rtol=1e-12)
    assert case.metadata.options["machines"] == "typical"
    # The uniform rule on request: H = 4 s, so m = 2 H S / (omega S_base) with the rating from the flow.
    uniform = load_case("pandapower:case9", machines="uniform")
    rating = np.array([row["rating_mva"] for row in uniform.metadata.details["machine_data"]])
    np.testing.assert_allclose(uniform.model.nodes.m, 8 * rating / (2 * np.pi * 60 * 100), rtol=1e-12)
    with pytest.raises(CaseError, match="no network 'case_nine'"):
        load_case("pandapower:case_nine")


# ------------------------------------------------------------------ bad input
KUNDUR = (CASES_FOLDER / "kundur_two_area.toml").read_text()


def _write(tmp_path, text, name="bad.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("edit, field, problem", [
    (lambda t: re.sub(r"(?m)^H = .*\n", "", t), "machines.H", "missing"),
    (lambda t: t.replace("\nH = [", "\nHH = ["), "machines.HH", "did you mean 'H'"),
    (lambda t: t.replace('H = "s"', 'H = "ms"'), "machines.units.H", "'ms' not accepted"),
    (lambda t: t.replace('xd_prime = "pu_machine"', 'xd_prime = "ohm"'), "machines.units.xd_prime", "not accepted"),
    (lambda t: t.replace("H = [6.5, 6.5", "H = [-6.5, 6.5"), "machines.H", "must be > 0"),
    (lambda t: t.replace("bus = [1, 2, 11, 12]", "bus = [1, 2, 11, 99]"), "machines.bus", "unknown bus 99"),
    (lambda t: t.replace("  [13, 120, 0.001, 0.01, 0.0175, 1, 0],\n", "  [13, 121, 0.001, 0.01, 0.0175, 1, 0],\n"),
     "network.branch", "unknown bus 121"),
    (lambda t: t.replace("format_version = 1", "format_version = 7"), "format_version", "unsupported"),
    (lambda t: t.replace('source = "inline"', 'source = "inlined"'), "network.source", "unknown source"),
    (lambda t: t.replace("frequency_hz = 60.0", "frequency_hz = -60.0"), "frequency_hz", "> 0"),
])
def test_bad_fields_name_the_file_and_the_field(tmp_path, edit, field, problem):
    text = edit(KUNDUR)
    assert text != KUNDUR
    path = _write(tmp_path, text)
    with pytest.raises(CaseError) as info:
        load_case(path)
    message = str(info.value)
    assert "bad.toml" in message and f"'{field}'" in message and problem in message, message


def test_islanded_machine_names_the_case_and_machine(tmp_path):
    # Cut both tie lines between the areas' generator pair 3/4 and the rest, and give the
    # cut-off area its own reference so the power flow still solves.
    text = KUNDUR.replace("  [3, 101, 0.011, 0.11, 0.1925, 1, 0],\n", "")
    text = text.replace("  [13, 101, 0.011, 0.11, 0.1925, 1, 0],\n", "")
    text = text.replace("  [11, 2, 0, 0, 0, 0, 1.03, -6.8, 22],", "  [11, 3, 0, 0, 0, 0, 1.03, -6.8, 22],")
    text = text.replace("  [101, 2, 0, 0, 0, 0, 1, -19.3, 500],", "  [101, 1, 0, 0, 0, 0, 1, -19.3, 500],")
    path = _write(tmp_path, text, "split.toml")
    with pytest.raises(CaseError, match=r"split\.toml.*'network'.*islands.*G3"):
        load_case(path)
    kept = load_case(path, keep_main_island=True)
    assert kept.model.n == 2 and len(kept.metadata.details["dropped_machines"]) == 2


def test_non_converging_power_flow_names_the_case(tmp_path):
    text = KUNDUR.replace("[4, 1, 976, 100,", "[4, 1, 97600, 100,")
    path = _write(tmp_path, text, "heavy.toml")
    with pytest.raises(CaseError, match=r"heavy\.toml.*'network'.*did not converge"):
        load_case(path)


def test_invalid_toml_and_missing_files(tmp_path):
    path = _write(tmp_path, "format_version = 1\nname = [\n", "broken.toml")
    with pytest.raises(CaseError, match="broken.toml.*not valid TOML"):
        load_case(path)
    with pytest.raises(CaseError, match="no such file"):
        load_case(tmp_path / "absent.toml")
