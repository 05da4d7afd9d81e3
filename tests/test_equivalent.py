"""Reduced models exported as dynamic equivalents: TOPS, PSS/E (.raw/.dyr) and pandapower."""

import json

import control
import numpy as np
import pytest

import gridcoherence as gc
from gridcoherence.models.nodes import LTINodes, StackedNodes
from gridcoherence.report.equivalent import (EquivalentError, dynamic_equivalent, read_psse, to_pandapower,
                                             to_tops_model, write_psse)

BASES = {"base_mva": 100.0, "frequency_hz": 50.0}
#: A loaded, non-flat operating point with generator ratings unlike the base.
OPERATING_POINT = {"angle": [0.0, -0.2, 0.1], "voltage": [1.02, 1.0, 0.98], "load_mw": [50.0, 80.0, 30.0],
                   "rating_mva": [500.0, 200.0, 300.0]}


@pytest.fixture(scope="module")
def iceland():
    return gc.load_case("iceland").model


@pytest.fixture(scope="module")
def two_turbines(iceland):
    """Iceland in 3 areas, each aggregate reduced to order 3: a machine with two turbines."""
    return gc.reduce_network(iceland, 3, order=3).model


def relative(a, b):
    return np.linalg.norm(np.asarray(a) - np.asarray(b)) / np.linalg.norm(b)


def machine_of(reduced, area):
    nodes = reduced.nodes.subset([area])
    gains, taus = nodes.turbines_of(0)
    return nodes.m[0], nodes.d[0], gains, taus


# ---------------------------------------------------------------------------- PSS/E
def test_psse_files_read_back_to_the_same_machines_and_laplacian(two_turbines, tmp_path):
    write_psse(two_turbines, tmp_path / "eq.raw", tmp_path / "eq.dyr", **BASES, **OPERATING_POINT)
    back = read_psse(tmp_path / "eq.raw", tmp_path / "eq.dyr")
    assert back.n == 3 and (back.base_mva, back.frequency_hz) == (100.0, 50.0)
    for area, machine in enumerate(back.machines):
        m, d, gains, taus = machine_of(two_turbines, area)
        assert gains.size == 2
        assert machine.m == pytest.approx(m, rel=1e-8) and machine.d == pytest.approx(d, rel=1e-8)
        assert relative(machine.turbine_gain, gains) < 1e-8 and relative(machine.turbine_tau, taus) < 1e-8
    assert relative(back.synchronizing_laplacian, two_turbines.reduced_laplacian) < 1e-8
    assert relative(back.angle, OPERATING_POINT["angle"]) < 1e-12
    assert relative(back.load_mw, OPERATING_POINT["load_mw"]) < 1e-12
    assert relative(back.rating_mva, OPERATING_POINT["rating_mva"]) < 1e-12


def test_psse_header_comments_state_buses_base_and_units(two_turbines, tmp_path):
    write_psse(two_turbines, tmp_path / "eq.raw", tmp_path / "eq.dyr", **BASES)
    raw = (tmp_path / "eq.raw").read_text().splitlines()
    dyr = (tmp_path / "eq.dyr").read_text()
    assert raw[0].startswith("0, 100.0, 33, 0, 1, 50.0")
    assert "buses 1..3 are areas 1..3" in raw[1] and "100.0 MVA" in raw[2] and "p.u." in raw[2]
    assert "buses 1..3 are areas 1..3" in dyr and "GENCLS: H (s)" in dyr
    assert dyr.count("'GENCLS'") == 3 and dyr.count("'TGOV1'") == 3


def test_psse_reader_tolerates_layout_and_comments(two_turbines, tmp_path):
    expected = write_psse(two_turbines, tmp_path / "eq.raw", tmp_path / "eq.dyr", **BASES, **OPERATING_POINT)
    raw = (tmp_path / "eq.raw").read_text().splitlines()
    # Spaces instead of commas, comment lines, blank lines and trailing comments.
    edited = raw[:3] + ["@! bus data follows", ""] + [
        line.replace(",", " ") + " / a bus" if not line.startswith("0 ") else line for line in raw[3:]]
    (tmp_path / "edited.raw").write_text("\n".join(edited) + "\n")
    edited = ["@! each record over two lines"]
    for line in (tmp_path / "eq.dyr").read_text().splitlines():
        fields = line.split()
        edited += [line] if line.startswith("/") else [" ".join(fields[:3]), "   " + " ".join(fields[3:])]
    (tmp_path / "edited.dyr").write_text("\n".join(edited) + "\n")
    back = read_psse(tmp_path / "edited.raw", tmp_path / "edited.dyr")
    assert [machine.m for machine in back.machines] == pytest.approx([m.m for m in expected.machines], rel=1e-12)
    assert relative(back.synchronizing_laplacian, expected.synchronizing_laplacian) < 1e-12


@pytest.mark.parametrize("edit, message", [
    (lambda raw, dyr: (raw.replace(", 33, ", ", 34, ", 1), dyr), "reads version 33"),
    (lambda raw, dyr: (raw, dyr.replace("'TGOV1'", "'IEEEG1'", 1)), "'IEEEG1' is not GENCLS or TGOV1"),
    (lambda raw, dyr: (raw, dyr.replace("'GENCLS' 1 ", "'GENCLS' 1 -", 1)), "field H must be > 0"),
    (lambda raw, dyr: (raw, dyr.rstrip().rstrip("/")), "does not end with '/'"),
    (lambda raw, dyr: (raw.replace("0 / END OF TRANSFORMER DATA", "1, 2, 0, '1', 1, 1, 1\n0 / END OF TRANSFORMER DATA"),
                       dyr), "transformer data is not part of a dynamic equivalent"),
])
def test_psse_reader_names_what_it_cannot_read(two_turbines, tmp_path, edit, message):
    write_psse(two_turbines, tmp_path / "eq.raw", tmp_path / "eq.dyr", **BASES)
    raw, dyr = edit((tmp_path / "eq.raw").read_text(), (tmp_path / "eq.dyr").read_text())
    (tmp_path / "bad.raw").write_text(raw)
    (tmp_path / "bad.dyr").write_text(dyr)
    with pytest.raises(EquivalentError, match=message):
        read_psse(tmp_path / "bad.raw", tmp_path / "bad.dyr")


def test_one_turbine_and_no_turbine_areas_round_trip(iceland, tmp_path):
    # Iceland's areas at order 2 keep one turbine; NETS-NYPS has no governors: no turbine at all.
    no_governors = gc.load_case("nets_nyps68").model
    for reduced, turbines in ((gc.reduce_network(iceland, 3, order=2).model, 1),
                              (gc.reduce_network(no_governors, 3).model, 0)):
        write_psse(reduced, tmp_path / "eq.raw", tmp_path / "eq.dyr", **BASES)
        back = read_psse(tmp_path / "eq.raw", tmp_path / "eq.dyr")
        for area, machine in enumerate(back.machines):
            m, d, gains, taus = machine_of(reduced, area)
            assert len(machine.turbine_gain) == gains.size == turbines
            assert machine.m == pytest.approx(m, rel=1e-8) and machine.d == pytest.approx(d, rel=1e-8)
            assert np.allclose(machine.turbine_gain, gains, rtol=1e-8, atol=0)
            assert np.allclose(machine.turbine_tau, taus, rtol=1e-8, atol=0)


def test_andes_reads_the_psse_files(two_turbines, tmp_path):
    andes = pytest.importorskip("andes", reason="ANDES is optional; it cross-checks the PSS/E files")
    equivalent = write_psse(two_turbines, tmp_path / "eq.raw", tmp_path / "eq.dyr", **BASES)
    system = andes.load(str(tmp_path / "eq.raw"), addfile=str(tmp_path / "eq.dyr"), setup=True,
                        no_output=True, default_config=True)
    assert np.allclose(system.GENCLS.M.v, 2 * equivalent.inertia_constant, rtol=1e-10, atol=0)
    assert np.allclose(system.GENCLS.D.v, equivalent.damping, rtol=1e-10, atol=0)
    governors = np.array([equivalent.governor(area) for area in range(3)])
    for column, name in enumerate(["R", "T1", "T2", "T3"]):
        assert np.allclose(getattr(system.TGOV1, name).v, governors[:, column], rtol=1e-10, atol=0)


# ---------------------------------------------------------------------------- TOPS
def test_tops_model_initialises_and_matches_the_reduced_linear_model(two_turbines):
    dynamic = pytest.importorskip("tops.dynamic", reason="TOPS (PyPI tops) is needed to simulate the export")
    solvers = pytest.importorskip("tops.solvers", reason="TOPS (PyPI tops) is needed to simulate the export")
    equivalent = dynamic_equivalent(two_turbines, **BASES)
    system = dynamic.PowerSystemModel(json.loads(json.dumps(to_tops_model(equivalent))))
    system.init_dyn_sim()
    x0 = system.x_0.copy()
    assert np.abs(system.ode_fun(0.0, x0)).max() < 1e-9  # initialised at an equilibrium
    bus, step = 1, 0.01  # a load of 0.01 p.u. (1 MW) switched on at bus 2
    system.y_bus_red_mod[bus, bus] = step / abs(system.v_0[bus]) ** 2
    solver = solvers.ModifiedEulerDAE(system.state_derivatives, system.solve_algebraic, 0.0, x0, 20.0,
                                      max_step=0.01)
    generators = system.gen["GEN"]
    times, speeds = [0.0], [generators.speed(x0, system.v_0).copy()]
    while solver.t < 20.0 - 1e-9:
        solver.step()
        times.append(solver.t)
        speeds.append(generators.speed(solver.x, solver.v).copy())
    frequency = np.array(speeds) * equivalent.omega  # p.u. speed -> rad/s
    u0 = np.zeros(3)
    u0[bus] = -step
    linear = two_turbines.response(u0, t=np.array(times))
    assert np.abs(linear.y).max() > 1e-3  # the step moves every area
    for area in range(3):
        assert relative(frequency[:, area], linear.y[:, area]) < 0.1, area


def test_tops_load_flow_reproduces_the_operating_point(two_turbines):
    dynamic = pytest.importorskip("tops.dynamic", reason="TOPS (PyPI tops) is needed to run its load flow")
    system = dynamic.PowerSystemModel(to_tops_model(two_turbines, **BASES, **OPERATING_POINT))
    system.power_flow()
    assert np.allclose(np.angle(system.v_0), OPERATING_POINT["angle"], atol=1e-8)
    assert np.allclose(np.abs(system.v_0), OPERATING_POINT["voltage"], atol=1e-8)
    system.init_dyn_sim()
    assert np.abs(system.ode_fun(0.0, system.x_0.copy())).max() < 1e-8


# ---------------------------------------------------------------------------- pandapower
def test_pandapower_net_gives_back_the_laplacian_and_machines(two_turbines):
    import pandapower as pp

    net = to_pandapower(two_turbines, **BASES, **OPERATING_POINT)
    pp.runpp(net, numba=False)
    voltage, angle = net.res_bus.vm_pu.to_numpy(), np.radians(net.res_bus.va_degree.to_numpy())
    assert np.allclose(angle, OPERATING_POINT["angle"], atol=1e-8)
    i, j = net.impedance.from_bus.to_numpy(), net.impedance.to_bus.to_numpy()
    x = net.impedance.xft_pu.to_numpy() * net.sn_mva / net.impedance.sn_mva.to_numpy()
    weight = voltage[i] * voltage[j] * np.cos(angle[i] - angle[j]) / x
    laplacian = np.zeros((3, 3))
    np.add.at(laplacian, (i, j), -weight)
    np.add.at(laplacian, (j, i), -weight)
    np.fill_diagonal(laplacian, -laplacian.sum(axis=1))
    assert relative(laplacian, two_turbines.reduced_laplacian) < 1e-8
    for area in range(3):
        m, d, _, taus = machine_of(two_turbines, area)
        row = net.gen.iloc[area]
        assert row.m == pytest.approx(m, rel=1e-12) and row.d == pytest.approx(d, rel=1e-12)
        rating = OPERATING_POINT["rating_mva"][area]
        assert row.H == pytest.approx(m * 2 * np.pi * 50.0 * 100.0 / (2 * rating), rel=1e-12)
        assert (row.T1, row.T3) == pytest.approx(tuple(taus), rel=1e-12)


# ---------------------------------------------------------------------------- refusals
def test_an_aggregate_without_physical_machine_is_refused(two_turbines):
    swing = two_turbines.nodes.subset([0, 2])
    # g^{-1} = 0.1 s + 0.01 + 0.05 (s + 1) / (s^2 + 0.2 s + 4): a "turbine" with complex poles.
    inverse = control.tf([0.1, 0.01], [1.0]) + control.tf([0.05, 0.05], [1.0, 0.2, 4.0])
    oscillating = control.tf(inverse.den[0][0], inverse.num[0][0])
    second_order = control.tf([1.0], [1.0, 1.0, 1.0])  # relative degree 2: no inertia
    for node, reason in ((oscillating, "complex poles"), (second_order, "relative degree 2")):
        reduced = two_turbines.with_nodes(StackedNodes([swing, LTINodes([node])], positions=[[0, 2], [1]]))
        with pytest.raises(EquivalentError, match=f"^area 2: .*{reason}"):
            to_tops_model(reduced, **BASES)


def test_an_order_reduced_aggregate_with_a_machine_interpretation_is_exported(two_turbines):
    """A physical aggregate given as a transfer function is exported as its machine."""
    swing = two_turbines.nodes.subset([0, 2])
    machine = two_turbines.nodes.subset([1])
    reduced = two_turbines.with_nodes(StackedNodes([swing, LTINodes([machine.node_system(0)])],
                                                   positions=[[0, 2], [1]]))
    exported = dynamic_equivalent(reduced, **BASES).machines[1]
    assert exported.m == pytest.approx(machine.m[0], rel=1e-9)
    assert np.allclose(exported.turbine_tau, machine.turbine_tau, rtol=1e-9, atol=0)


def test_more_than_two_turbine_time_constants_are_refused(iceland):
    full = gc.reduce_network(iceland, 3).model
    with pytest.raises(EquivalentError, match="^area 1: .* turbines with distinct time constants.* order 3"):
        dynamic_equivalent(full, **BASES)


def test_a_single_area_is_refused_for_tops_but_written_for_psse(iceland, tmp_path):
    single = gc.reduce_network(iceland, 1, order=2).model
    with pytest.raises(EquivalentError, match="at least two areas"):
        to_tops_model(single, **BASES)
    write_psse(single, tmp_path / "eq.raw", tmp_path / "eq.dyr", **BASES)
    back = read_psse(tmp_path / "eq.raw", tmp_path / "eq.dyr")
    assert back.n == 1 and back.branch_x.size == 0
    assert back.machines[0].m == pytest.approx(single.nodes.m[0], rel=1e-8)


def test_negative_edge_weights_and_other_couplings_are_refused():
    nodes = gc.SwingTurbineNodes(m=[0.1, 0.1, 0.1], d=[0.01, 0.01, 0.01])
    laplacian = np.array([[5.0, -6.0, 1.0], [-6.0, 10.0, -4.0], [1.0, -4.0, 3.0]])
    negative = gc.NetworkModel(nodes, laplacian, allow_negative_weights=True)
    with pytest.raises(EquivalentError, match="^areas 1 and 3: L_k.* negative edge weight"):
        dynamic_equivalent(negative, **BASES)
    consensus = gc.NetworkModel(nodes, np.array([[1.0, -1.0, 0.0], [-1.0, 2.0, -1.0], [0.0, -1.0, 1.0]]),
                                 coupling="1")
    with pytest.raises(EquivalentError, match="is not c/s"):
        dynamic_equivalent(consensus, **BASES)


@pytest.mark.parametrize("options, message", [
    ({"base_mva": 0.0, "frequency_hz": 50.0}, "base_mva must be a finite number > 0"),
    ({"base_mva": 100.0, "frequency_hz": float("nan")}, "frequency_hz must be a finite number > 0"),
    ({**BASES, "angle": [0.0, 0.1]}, r"angle must be a number or one number per area \(3\)"),
    ({**BASES, "rating_mva": "large"}, r"rating_mva must be a number or one number per area \(3\), got 'large'"),
    ({**BASES, "angle": [0.0, 2.0, 0.0]}, "angle: areas 1 and 2 are 2 rad apart"),
    ({**BASES, "load_mw": [1.0, float("nan"), 1.0]}, "load_mw must be finite; area 2"),
    ({**BASES, "voltage": [1.0, 1.0, 0.0]}, "voltage must be > 0.0; area 3"),
])
def test_bad_options_are_named(two_turbines, options, message):
    with pytest.raises(EquivalentError, match=message):
        dynamic_equivalent(two_turbines, **options)


# ---------------------------------------------------------------------------- command line
def exit_code(main, argv):
    """The command line's exit code, also for the errors argparse raises as SystemExit."""
    try:
        return main(argv)
    except SystemExit as exc:
        return exc.code


def test_cli_exports_every_format_and_refuses_bad_input(iceland, two_turbines, tmp_path, capsys):
    import pandapower as pp

    from gridcoherence.cli import main

    gc.save_reduced(two_turbines, tmp_path / "reduced_model.json", case="iceland")
    gc.save_reduced(gc.reduce_network(iceland, 3).model, tmp_path / "full.json", case="iceland")
    bases = ["--base-mva", "100", "--frequency-hz", "50"]
    for to, out in (("tops", "tops.json"), ("psse", "equivalent"), ("pandapower", "net.json")):
        assert main(["export", tmp_path / "reduced_model.json", "--to", to, "--out", tmp_path / out, *bases]) == 0
    back = read_psse(tmp_path / "equivalent.raw", tmp_path / "equivalent.dyr")
    assert relative(back.synchronizing_laplacian, two_turbines.reduced_laplacian) < 1e-8
    tops_model = json.loads((tmp_path / "tops.json").read_text())
    header, *rows = tops_model["generators"]["GEN"]
    assert [row[header.index("H")] for row in rows] == pytest.approx(
        dynamic_equivalent(two_turbines, **BASES).inertia_constant, rel=1e-12)
    assert len(tops_model["gov"]["TGOV1"]) == 4 and len(tops_model["lines"]) == 4
    assert pp.from_json(str(tmp_path / "net.json")).gen.H.to_numpy() == pytest.approx(
        dynamic_equivalent(two_turbines, **BASES).inertia_constant, rel=1e-12)
    capsys.readouterr()
    for args, message in (([tmp_path / "full.json", "--out", tmp_path / "x", *bases], "area 1: its aggregate has"),
                          ([tmp_path / "none.json", "--out", tmp_path / "x", *bases], "none.json: field 'file'"),
                          ([tmp_path / "reduced_model.json", "--out", tmp_path / "no" / "x", *bases],
                           "does not exist"),
                          ([tmp_path / "reduced_model.json", "--out", tmp_path / "x", "--base-mva", "100"],
                           "--frequency-hz")):
        assert exit_code(main, ["export", *args, "--to", "psse"]) == 2
        errors = capsys.readouterr().err
        assert message in errors and len(errors.strip().splitlines()) == 1, errors
    assert not (tmp_path / "x.raw").exists()
