"""PST data files: safe reader, conversion to case files, and the converted cases."""

import math
import tomllib
from pathlib import Path

import numpy as np
import pytest

from gridcoherence.cases.loader import load_case
from gridcoherence.cases.pst import PST_CASES, PSTParseError, governor_time_constant, pst_case_document, read_pst_file

# The PST data files travel with the tests (MIT licence in tests/data/pst/LICENSE).
PST_FOLDER = Path(__file__).resolve().parent / "data" / "pst"
CASES_FOLDER = Path(__file__).resolve().parents[1] / "cases"


def test_reader_handles_comments_continuations_strings_and_rescaling(tmp_path):
    text = (
        "% header\n"
        "disp('50% load')   % a % inside a string is not a comment\n"
        "bus = [ 1 1.0 100 ; % first row\n"
        "        2 0.9 ...\n"
        "              -50\n"
        "%        3 9 9\n"
        "        4 1.1 1e2];\n"
        "bus(:,3:3) = bus(:,3:3)/100;\n"
        "v = [1 2 3]';\n"
        "empty = [];\n"
    )
    path = tmp_path / "demo.m"
    path.write_text(text)
    data = read_pst_file(path)
    np.testing.assert_allclose(data.get("bus"), [[1, 1.0, 1.0], [2, 0.9, -0.5], [4, 1.1, 1.0]])
    assert data.get("v").shape == (3, 1)
    assert data.get("empty").size == 0
    assert data.skipped == ["disp('50% load')"]


def test_reader_refuses_code_inside_a_matrix(tmp_path):
    path = tmp_path / "evil.m"
    path.write_text("bus = [1 2 3;\n 4 system('rm') 6];\n")
    with pytest.raises(PSTParseError, match=r"evil\.m, line 1: matrix 'bus'.*non-numeric"):
        read_pst_file(path)


def test_reader_reports_ragged_rows(tmp_path):
    path = tmp_path / "ragged.m"
    path.write_text("line = [1 2 3;\n 4 5];\n")
    with pytest.raises(PSTParseError, match="ragged.m.*'line'.*different lengths"):
        read_pst_file(path)


@pytest.mark.parametrize("name, buses, lines, machines", [
    ("nets_nyps68", 68, 86, 16), ("new_england39", 39, 46, 10),
    ("kundur_two_area", 13, 14, 4), ("npcc48", 140, 233, 48),
])
def test_pst_files_parse_to_the_documented_sizes(name, buses, lines, machines):
    data = read_pst_file(PST_FOLDER / PST_CASES[name][0])
    assert data.get("bus").shape[0] == buses
    assert data.get("line").shape[0] == lines
    assert data.get("mac_con").shape[0] == machines


@pytest.mark.parametrize("name", sorted(PST_CASES))
def test_committed_case_files_are_the_current_conversion(name):
    file, frequency, description = PST_CASES[name]
    expected = pst_case_document(PST_FOLDER / file, name, frequency, description)
    assert (CASES_FOLDER / f"{name}.toml").read_text() == expected


def test_licence_travels_with_the_converted_files():
    text = (CASES_FOLDER / "LICENSE-PST").read_text()
    assert "Permission is hereby granted, free of charge" in text
    assert "National Technology & Engineering Solutions of Sandia" in text
    for name in PST_CASES:
        assert f"{name}.toml" in text
        assert "LICENSE-PST" in (CASES_FOLDER / f"{name}.toml").read_text()


@pytest.mark.parametrize("name", sorted(PST_CASES))
def test_power_flow_of_converted_network_solves_the_pi_model_equations(name):
    """pandapower's model of the inline tables equals the MATPOWER pi model, and the flow solves it."""
    pytest.importorskip("pandapower")
    from pandapower.pypower.makeYbus import makeYbus

    from gridcoherence.cases.network_sources import inline_net
    from gridcoherence.cases.powerflow import solve_power_flow
    from gridcoherence.cases.schema import TableReader

    document = tomllib.loads((CASES_FOLDER / f"{name}.toml").read_text())
    tables = document["network"]
    net = inline_net(name, TableReader(name, tables, "network", "inline"), 100.0, 60.0)
    solve_power_flow(net, name=name)
    bus, branch = np.array(tables["bus"], float), np.array(tables["branch"], float)
    row = {int(b): i for i, b in enumerate(bus[:, 0])}
    f = np.array([row[int(b)] for b in branch[:, 0]])
    t = np.array([row[int(b)] for b in branch[:, 1]])
    a = np.where(branch[:, 5] == 0, 1.0, branch[:, 5]) * np.exp(1j * np.deg2rad(branch[:, 6]))
    ys = 1.0 / (branch[:, 2] + 1j * branch[:, 3])
    y_tt = ys + 0.5j * branch[:, 4]
    n = len(bus)
    Y = np.zeros((n, n), complex)
    np.add.at(Y, (f, f), y_tt / abs(a) ** 2)
    np.add.at(Y, (t, t), y_tt)
    np.add.at(Y, (f, t), -ys / np.conj(a))
    np.add.at(Y, (t, f), -ys / a)
    Y[np.arange(n), np.arange(n)] += (bus[:, 4] + 1j * bus[:, 5]) / 100.0
    lookup = net._pd2ppc_lookups["bus"][bus[:, 0].astype(int)]
    Y_pp = makeYbus(100.0, net._ppc["bus"], net._ppc["branch"])[0].toarray()[np.ix_(lookup, lookup)]
    np.testing.assert_allclose(Y_pp, Y, atol=1e-9)
    res = net.res_bus.loc[bus[:, 0].astype(int)]
    V = res.vm_pu.to_numpy() * np.exp(1j * np.deg2rad(res.va_degree.to_numpy()))
    S = V * np.conj(Y @ V)
    generation = np.zeros(n, complex)
    for g in tables["gen"]:
        generation[row[int(g[0])]] = (g[1] + 1j * g[2]) / 100.0
    mismatch = S - (generation - (bus[:, 2] + 1j * bus[:, 3]) / 100.0)
    assert np.abs(mismatch.real[bus[:, 1] != 3]).max() < 1e-6
    assert np.abs(mismatch.imag[bus[:, 1] == 1]).max() < 1e-6


def test_governor_first_moment_time_constant():
    # Kundur's governor: Ts 0.1, Tc 0.5, T3 0, T4 1.25, T5 5.0.
    assert governor_time_constant([1, 1, 1, 25.0, 1.0, 0.1, 0.5, 0.0, 1.25, 5.0]) == pytest.approx(4.35)


def test_kundur_machine_parameters_follow_the_documented_conversion():
    case = load_case("kundur_two_area")
    omega = 2 * math.pi * 60.0
    nodes = case.model.nodes
    np.testing.assert_allclose(nodes.m, 2 * 6.5 * 900 / (omega * 100), rtol=1e-12)
    np.testing.assert_allclose(nodes.turbine_gain, 25.0 * 900 / (omega * 100), rtol=1e-12)
    np.testing.assert_allclose(nodes.turbine_tau, 4.35, rtol=1e-12)
    assert case.metadata.machine_bus == (1, 2, 11, 12)


def test_kundur_lowest_modes_separate_the_two_areas():
    case = load_case("kundur_two_area")
    assert case.model.node_names == ["G1", "G2", "G3", "G4"]
    L = case.model.laplacian.toarray()
    values, vectors = np.linalg.eigh(L)
    fiedler = vectors[:, 1]
    assert np.sign(fiedler[0]) == np.sign(fiedler[1]) != np.sign(fiedler[2]) == np.sign(fiedler[3])
    # The inter-area mode is well separated from the two local modes.
    assert values[2] > 2 * values[1]
    # Same split for the inertia-weighted (slow-coherency) problem M^{-1} L.
    m = case.model.nodes.m
    w, U = np.linalg.eigh(L / np.sqrt(np.outer(m, m)))
    slow = U[:, 1] / np.sqrt(m)
    assert np.sign(slow[0]) == np.sign(slow[1]) != np.sign(slow[2]) == np.sign(slow[3])


def test_npcc_machines_sharing_a_bus_split_its_generation():
    case = load_case("npcc48")
    names = case.model.node_names
    power = case.metadata.details["machine_power"]
    g4, g5 = names.index("G4"), names.index("G5")
    assert case.metadata.machine_bus[g4] == case.metadata.machine_bus[g5] == 23
    assert power[g4].real / power[g5].real == pytest.approx(0.55 / 0.45, rel=1e-12)
