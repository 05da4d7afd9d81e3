"""Power flow -> linearized Laplacian -> Kron reduction (gridcoherence.cases.powerflow)."""

import numpy as np
import pytest
import scipy.sparse as sp

pp = pytest.importorskip("pandapower")
pn = pytest.importorskip("pandapower.networks")

from gridcoherence import NetworkModel, SwingTurbineNodes, validate_laplacian
from gridcoherence.cases.powerflow import (
    IslandError,
    Machine,
    PowerFlowError,
    kron_reduce,
    linearized_laplacian,
    machine_network,
)


def _three_bus_chain():
    """Lossless chain 0-1-2, x = 0.1 p.u. per line, every bus held at 1 p.u., 50 MW load at bus 2."""
    net = pp.create_empty_network(sn_mva=100.0)
    buses = [pp.create_bus(net, vn_kv=110.0) for _ in range(3)]
    z_base = 110.0 ** 2 / 100.0
    for a, b in ((0, 1), (1, 2)):
        pp.create_line_from_parameters(net, buses[a], buses[b], length_km=1.0, r_ohm_per_km=0.0,
                                       x_ohm_per_km=0.1 * z_base, c_nf_per_km=0.0, max_i_ka=10.0)
    pp.create_ext_grid(net, buses[0], vm_pu=1.0)
    pp.create_gen(net, buses[1], p_mw=0.0, vm_pu=1.0)
    pp.create_gen(net, buses[2], p_mw=0.0, vm_pu=1.0)
    pp.create_load(net, buses[2], p_mw=50.0)
    return net


def test_linearized_laplacian_matches_hand_computed_three_bus_flow():
    net = _three_bus_chain()
    network = machine_network(net, name="chain")
    # Hand solution: 0.5 p.u. flows over both lines, 10 sin(dtheta) = 0.5 on each.
    dtheta = np.arcsin(0.05)
    np.testing.assert_allclose(net.res_bus.va_degree.to_numpy(), np.rad2deg([0, -dtheta, -2 * dtheta]),
                               atol=1e-8)
    w = 10.0 * np.cos(dtheta)
    hand = np.array([[w, -w, 0], [-w, 2 * w, -w], [0, -w, w]])
    n_m = len(network.machines)
    bus_block = network.full_laplacian.toarray()[n_m:, n_m:]
    # The bus block also holds the machine branches on its diagonal; remove them.
    machine_part = -network.full_laplacian.toarray()[n_m:, :n_m].sum(axis=1)
    np.testing.assert_allclose(bus_block - np.diag(machine_part), hand, rtol=1e-9)


def test_linearization_is_the_jacobian_of_a_lossless_network_with_taps_and_phase_shift():
    rng = np.random.default_rng(5)
    n = 5
    edges = [(0, 1), (1, 2), (2, 3), (3, 4), (0, 4), (1, 3)]
    tap = np.array([1.0, 1.05, 1.0, 0.97, 1.0, 1.0]) * np.exp(1j * np.deg2rad([0, 8.0, 0, -5.0, 0, 0]))
    b = rng.uniform(5, 20, size=len(edges))
    Y = np.zeros((n, n), complex)
    for (f, t), a, bk in zip(edges, tap, b):
        ys = -1j * bk
        Y[f, f] += ys / abs(a) ** 2
        Y[t, t] += ys
        Y[f, t] += -ys / np.conj(a)
        Y[t, f] += -ys / a
    vm = rng.uniform(0.95, 1.05, n)
    theta = rng.uniform(-0.3, 0.3, n)

    def injections(angles):
        V = vm * np.exp(1j * angles)
        return np.real(V * np.conj(Y @ V))

    L = linearized_laplacian(sp.csr_matrix(Y), vm * np.exp(1j * theta)).toarray()
    h = 1e-6
    J = np.column_stack([(injections(theta + h * e) - injections(theta - h * e)) / (2 * h) for e in np.eye(n)])
    np.testing.assert_allclose(L, J, atol=1e-7)
    validate_laplacian(L)


def test_kron_reduce_matches_dense_schur_complement_in_chunks():
    rng = np.random.default_rng(1)
    A = sp.random(40, 40, density=0.15, random_state=2) + 1j * sp.random(40, 40, density=0.15, random_state=3)
    A = A + A.T + sp.identity(40) * 8
    keep = rng.choice(40, size=7, replace=False)
    rest = np.setdiff1d(np.arange(40), keep)
    D = A.toarray()
    dense = D[np.ix_(keep, keep)] - D[np.ix_(keep, rest)] @ np.linalg.solve(D[np.ix_(rest, rest)], D[np.ix_(rest, keep)])
    np.testing.assert_allclose(kron_reduce(A, keep, chunk=3), dense, atol=1e-12)


@pytest.mark.parametrize("factory", [pn.case9, pn.case39])
def test_kron_reduction_preserves_the_response_seen_from_the_machines(factory):
    network = machine_network(factory(), name=factory.__name__)
    L = network.laplacian
    n = L.shape[0]
    np.testing.assert_allclose(L.toarray(), L.toarray().T, atol=0)
    np.testing.assert_allclose(np.asarray(L.sum(axis=1)).ravel(), 0, atol=1e-10 * abs(L).max())
    rng = np.random.default_rng(0)
    nodes = SwingTurbineNodes(rng.uniform(0.05, 0.2, n), rng.uniform(0.01, 0.03, n),
                              turbine_gain=rng.uniform(0.1, 0.3, n), turbine_tau=rng.uniform(2, 8, n))
    reduced = NetworkModel(nodes, L)
    full = network.full_laplacian
    n_total = full.shape[0]
    for s in (0.05j, 0.7j, 3.0j, 0.4 + 2.0j):
        h = np.zeros(n_total, complex)
        h[:n] = nodes.inverse_transfer(s)
        T_full = np.linalg.inv(np.diag(h) + full.toarray() / s)[:n, :n]
        np.testing.assert_allclose(reduced.transfer_matrix(s), T_full, rtol=1e-8, atol=1e-12)


def test_iceland_negative_reactance_is_absorbed_by_the_reduction():
    net = pn.iceland()
    assert (net.line.x_ohm_per_km < 0).sum() == 1
    network = machine_network(net, name="iceland")
    assert len(network.machines) == 35 and network.negative_weights == 0
    off = sp.triu(network.full_laplacian, k=1)
    assert (off.data > 0).sum() >= 1   # the series capacitor: a negative weight before reduction
    validate_laplacian(network.laplacian)


def test_several_machines_on_one_bus_get_their_own_internal_nodes():
    net = _three_bus_chain()
    net.gen.at[1, "p_mw"] = 20.0
    pp.create_gen(net, 2, p_mw=30.0, vm_pu=1.0)
    machines = [Machine(f"{kind}{k}", int(net[kind].at[k, "bus"]), 0.3, element=(kind, k))
                for kind, k in (("ext_grid", 0), ("gen", 0), ("gen", 1), ("gen", 2))]
    network = machine_network(net, machines, name="shared bus")
    assert [m.name for m in network.machines] == ["ext_grid0", "gen0", "gen1", "gen2"]
    np.testing.assert_allclose(network.power[2:].real, [0.2, 0.3], rtol=1e-9)
    assert abs(network.emf[2] - network.emf[3]) > 1e-3   # same x'_d, different loading
    # Two machines on one bus are coupled through their two reactances in series.
    assert network.laplacian[2, 3] < 0
    validate_laplacian(network.laplacian)


def test_islanded_machine_is_named_unless_main_island_is_kept():
    net = _three_bus_chain()
    island = pp.create_bus(net, vn_kv=110.0)
    pp.create_ext_grid(net, island, vm_pu=1.0, name="far unit")
    with pytest.raises(IslandError, match="far unit"):
        machine_network(net, name="islands")
    network = machine_network(net, name="islands", keep_main_island=True)
    assert network.dropped == ["far unit"] and len(network.machines) == 3
    # ext_grids first: [ext_grid0, far unit, gen0, gen1]; the kept ones by position.
    assert network.kept.tolist() == [0, 2, 3]
    assert [m.name for m in network.machines] == ["ext_grid0", "gen0", "gen1"]


def test_machines_sharing_a_name_are_refused_naming_both():
    net = _three_bus_chain()
    twins = [Machine("G", 0, 0.3, element=("ext_grid", 0)), Machine("G", 1, 0.3, element=("gen", 0))]
    with pytest.raises(ValueError, match="machines 'G' at ext_grid row 0 and gen row 0 share a name"):
        machine_network(net, twins, name="twins")
    with pytest.raises(ValueError, match="machines 'G' at entries 0 and 1 of the machine list share a name"):
        machine_network(net, [Machine("G", 0, 0.3), Machine("G", 1, 0.3)], name="twins")


def test_machine_at_isolated_bus_is_named():
    net = _three_bus_chain()
    lonely = pp.create_bus(net, vn_kv=110.0)
    with pytest.raises(IslandError, match="'lonely'.*bus 3"):
        machine_network(net, [Machine("lonely", lonely, 0.3)] + [Machine("m0", 0, 0.3, element=("ext_grid", 0))],
                        name="isolated")


def test_non_converging_power_flow_names_the_network():
    net = pn.case9()
    net.load["p_mw"] *= 60
    with pytest.raises(PowerFlowError, match="heavy case9"):
        machine_network(net, name="heavy case9")
