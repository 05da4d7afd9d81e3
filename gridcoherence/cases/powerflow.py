"""From a pandapower network to the machine network: power flow, linearization, Kron reduction.

Pipeline of :func:`machine_network` (dissertation Sec. 3.1.1, Fig. 3-2 and (3.80)):

1. Solve the AC power flow of a pandapower network (:func:`solve_power_flow`).
2. Attach every machine to its bus through its transient reactance x'_d: an internal node
   with EMF E_i = V_b + j x'_d I_i, I_i = conj(S_i / V_b), where S_i is the machine's
   share of the generation solved at its bus. Several machines on one bus each get their
   own internal node (and their own share of the bus's generation).
3. Linearize the active power injections of the network *with* the internal nodes at the
   operating point (:func:`linearized_laplacian`): L = d P / d theta with voltage
   magnitudes held fixed. For a branch with series susceptance b the off-diagonal entry
   is -|V_i||V_k| b cos(theta_i - theta_k - phi) (phi: phase shift, t: tap folded into b);
   conductances only add an antisymmetric part, which is dropped (lossless linearization).
4. Kron-reduce L onto the internal nodes (:func:`kron_reduce`, sparse LU of the bus block,
   chunked solves for the machine columns), and validate the result as a Laplacian. The
   full-bus matrix is kept too (:attr:`MachineNetwork.full_laplacian`): the case loader
   hands it to the model as a :class:`~gridcoherence.models.kron.KronReduction`, on which
   solves with the network matrix stay sparse.

The reduced matrix is exactly the Schur complement of the full-bus linearized model, so the
machine network (G^{-1}(s) + (1/s) L_red)^{-1} equals the full-bus model (every bus an
algebraic node without dynamics) seen from the machines, at every frequency.

Loads. In this fixed-voltage-magnitude linearization a load's power does not depend on the
bus angles whether it is constant power or constant impedance, so loads enter only through
the operating point: they shape the power flow (angles, voltages, EMFs) and are then
eliminated with their buses. The alternative ``linearization="reduced"`` models loads as
constant admittances y = conj(S_load)/|V|^2 at the solved voltage, Kron-reduces the
complex admittance matrix onto the internal nodes first and linearizes the reduced network
at the EMFs (L_ij = -|E_i||E_j| B_ij cos(delta_i - delta_j), symmetric part). On heavily
loaded meshed cases (pandapower's case39 and case118) the reduced admittance has couplings
of the wrong sign, so this choice raises there; the default does not.

Negative reactances (series capacitors, e.g. Iceland's line 165-169) give negative edge
weights in the full-bus matrix; they are allowed there (:func:`negative_reactance_branches`
lists them, and loading a case says so). The reduced matrix is checked to be
symmetric with zero row sums and a connected graph; if it still has negative edge weights
(large networks with many series capacitors or phase shifters, e.g. case9241pegase), it is
accepted only when positive semidefinite with a simple zero eigenvalue, and the count is
reported in :attr:`MachineNetwork.negative_weights`.

Islands: components of the network without any machine, and machines separated from
the largest machine group, raise :class:`IslandError` naming buses and machines, unless
``keep_main_island=True`` (then the component with the most machines is kept and the
dropped machines are reported).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
import scipy.sparse.csgraph as csgraph
import scipy.sparse.linalg as spla

from .._validation import first_repeat
from ..models.laplacian import smallest_eigenpairs, validate_laplacian

__all__ = [
    "Machine",
    "MachineNetwork",
    "PowerFlowError",
    "IslandError",
    "solve_power_flow",
    "linearized_laplacian",
    "kron_reduce",
    "machine_network",
    "element_machines",
    "element_ratings",
    "given_rating",
    "element_name",
    "negative_reactance_branches",
    "internal_node_admittance",
    "checked_machine_laplacian",
]

#: Columns of the eliminated block solved per chunk in :func:`kron_reduce` (bounds the
#: dense workspace to n_eliminated x this many entries).
KRON_CHUNK = 512


class PowerFlowError(ValueError):
    """The AC power flow of a network failed (message names the network)."""


class IslandError(ValueError):
    """The network is split into islands; the message names the buses and machines."""


@dataclass(frozen=True)
class Machine:
    """A synchronous machine attached to a pandapower bus.

    Attributes
    ----------
    name : str
    bus : int
        pandapower bus index.
    xd_prime : float
        Transient reactance x'_d in p.u. on the *system* base (> 0).
    element : tuple (str, int) or None
        ``("gen", k)`` or ``("ext_grid", k)``: the machine's power is that element's
        power-flow result. ``None``: the machine takes ``p_share``/``q_share`` of the total
        generation (gen + ext_grid results) at its bus.
    p_share, q_share : float
        Shares of the bus generation (used when ``element`` is None).
    """

    name: str
    bus: int
    xd_prime: float
    element: tuple | None = None
    p_share: float = 1.0
    q_share: float = 1.0


@dataclass(frozen=True)
class MachineNetwork:
    """The machine network at an operating point.

    Attributes
    ----------
    laplacian : scipy.sparse.csr_matrix, shape (n, n)
        Kron-reduced linearized power-flow Laplacian on the internal nodes (p.u. power per
        rad, system base).
    machines : list of Machine
        The machines kept, in the order of the Laplacian.
    kept : ndarray of int
        Position of each kept machine in the list given to :func:`machine_network`: data
        that travels with the machines (their dynamics) is re-attached by these, never by
        name.
    emf : ndarray of complex, shape (n,)
        Internal EMFs (p.u.).
    power : ndarray of complex, shape (n,)
        Machine complex powers (p.u. system base).
    dropped : list of str
        Machines dropped with minor islands (``keep_main_island=True``).
    base_mva, frequency_hz : float
    full_laplacian : scipy.sparse.csr_matrix or None
        The full-bus linearized Laplacian on [internal nodes; buses] before reduction
        (``linearization="network"`` only).
    bus_order : ndarray of int
        pandapower indices of the buses of ``full_laplacian`` (after the internal nodes).
    negative_weights : int
        Number of negative edge weights in ``laplacian`` (accepted only when it is positive
        semidefinite with a simple zero eigenvalue).
    """

    laplacian: sp.csr_matrix
    machines: list
    kept: np.ndarray
    emf: np.ndarray
    power: np.ndarray
    dropped: list
    base_mva: float
    frequency_hz: float
    full_laplacian: sp.csr_matrix | None = None
    bus_order: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    negative_weights: int = 0


def solve_power_flow(net, *, name="network", **runpp_options):
    """Run pandapower's AC power flow; raise :class:`PowerFlowError` naming ``name`` on failure.

    Parameters
    ----------
    net : pandapowerNet
        Modified in place (results tables).
    name : str
        Used in error messages (case name or file).
    **runpp_options
        Passed to ``pandapower.runpp`` (defaults: ``numba=False``, ``init="auto"``).
    """
    import pandapower as pp

    options = {"numba": False, "init": "auto", **runpp_options}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pp.runpp(net, **options)
    except pp.LoadflowNotConverged as exc:
        raise PowerFlowError(
            f"{name}: the AC power flow did not converge ({exc}); check the loads, generation "
            "and branch data, or the voltage set points"
        ) from exc
    except (FloatingPointError, ZeroDivisionError, OverflowError) as exc:  # pandapower computes under errstate
        raise PowerFlowError(
            f"{name}: the AC power flow met non-finite numbers ({exc}); an extreme value in the "
            "case data (e.g. an impedance, charging or tap ratio near 1e308, or a zero base) overflows"
        ) from exc
    if not net.converged:
        raise PowerFlowError(f"{name}: the AC power flow did not converge")
    return net


def linearized_laplacian(Y, V):
    """Lossless linearization L = dP/dtheta of the injections of a network at voltages V.

    Parameters
    ----------
    Y : sparse or dense complex matrix, shape (n, n)
        Nodal admittance matrix (p.u.).
    V : array_like of complex, shape (n,)
        Node voltages at the operating point.

    Returns
    -------
    scipy.sparse.csr_matrix
        Symmetric with zero row sums: L_ik = sym(Im(V_i conj(Y_ik V_k))) for i != k,
        i.e. -|V_i||V_k| b_ik cos(theta_i - theta_k) for a lossless branch; the diagonal
        makes the rows sum to zero. Shunts do not enter. O(nnz(Y)).

    Examples
    --------
    >>> import numpy as np
    >>> Y = np.array([[-10j, 10j], [10j, -10j]])
    >>> L = linearized_laplacian(Y, [1.0, np.exp(-0.1j)])
    >>> bool(np.isclose(L[0, 1], -10 * np.cos(0.1)))
    True
    """
    Y = sp.coo_matrix(Y)
    V = np.asarray(V, dtype=complex)
    off = Y.row != Y.col
    row, col = Y.row[off], Y.col[off]
    values = np.imag(V[row] * np.conj(Y.data[off] * V[col]))
    n = Y.shape[0]
    J = sp.csr_matrix((values, (row, col)), shape=(n, n))
    J = 0.5 * (J + J.T)
    L = J - sp.diags(np.asarray(J.sum(axis=1)).ravel())
    L = sp.csr_matrix(L)
    L.eliminate_zeros()
    return L


def kron_reduce(A, keep, *, chunk=KRON_CHUNK):
    """Schur complement A_kk - A_ke A_ee^{-1} A_ek onto the nodes ``keep`` (Kron reduction).

    Parameters
    ----------
    A : sparse matrix, shape (N, N), real or complex
    keep : array_like of int
        Nodes kept, in the order of the result.
    chunk : int
        Right-hand sides solved at once (memory O(N chunk)).

    Returns
    -------
    ndarray, shape (len(keep), len(keep))
        Dense (a Kron-reduced network is generally fully coupled).

    Notes
    -----
    One sparse LU of the eliminated block A_ee (SuperLU, COLAMD ordering), then one solve
    per kept column that touches the eliminated nodes: for grid-like networks roughly
    O(fill(A_ee) + k * fill(A_ee)) time with k = len(keep).

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> path = sp.csr_matrix(np.array([[1., -1, 0], [-1, 2, -1], [0, -1, 1]]))
    >>> kron_reduce(path, [0, 2]).tolist()   # two unit edges in series
    [[0.5, -0.5], [-0.5, 0.5]]
    """
    A = sp.csc_matrix(A)
    N = A.shape[0]
    keep = np.asarray(keep, dtype=np.int64)
    eliminated = np.setdiff1d(np.arange(N), keep)
    A_kk = A[keep][:, keep].toarray()
    if eliminated.size == 0:
        return A_kk
    A_ee = A[eliminated][:, eliminated].tocsc()
    A_ek = A[eliminated][:, keep].tocsc()
    A_ke = A[keep][:, eliminated].tocsr()
    try:
        lu = spla.splu(A_ee)
    except RuntimeError as exc:
        raise ArithmeticError(
            "the eliminated block is singular: some eliminated nodes are not connected to any "
            "kept node"
        ) from exc
    result = A_kk.astype(np.result_type(A.dtype, float))
    touched = np.flatnonzero(np.diff(A_ek.indptr))
    for start in range(0, touched.size, chunk):
        cols = touched[start:start + chunk]
        X = lu.solve(A_ek[:, cols].toarray())
        result[:, cols] -= A_ke @ X
    if not np.all(np.isfinite(result)):
        raise ArithmeticError("Kron reduction produced non-finite entries")
    return result


#: Default rule for machines of pandapower networks without machine data: rated power
#: sn_mva when given, else the solved apparent power over this power factor ...
DEFAULT_POWER_FACTOR = 0.85
#: ... but at least this many MVA (idle units and synchronous condensers).
MINIMUM_RATING_MVA = 1.0
#: Default transient reactance x'_d, p.u. on the machine's own rating.
DEFAULT_XD_PRIME = 0.3


def element_ratings(net):
    """Rated power (MVA) of every in-service ext_grid and gen, ext_grids first.

    ``sn_mva`` when finite and positive; otherwise max(|S| / 0.85, 1 MVA) with S the
    solved power-flow output (pandapower's ``max_p_mw`` is often a placeholder, e.g. 2000
    MW for every Icelandic unit, so it is not used). Needs power-flow results.

    Returns
    -------
    list of (kind, index, rating_mva)
    """
    ratings = []
    for kind in ("ext_grid", "gen"):
        table, res = net[kind], net[f"res_{kind}"]
        for index in table.index[table.in_service]:
            rating = given_rating(net, kind, index)
            if rating is None:
                apparent = abs(complex(res.at[index, "p_mw"], res.at[index, "q_mvar"]))
                if not np.isfinite(apparent):
                    raise PowerFlowError(f"no power-flow result for {kind} {index}")
                rating = max(apparent / DEFAULT_POWER_FACTOR, MINIMUM_RATING_MVA)
            ratings.append((kind, int(index), rating))
    return ratings


def given_rating(net, kind, index):
    """The rating ``sn_mva`` of a pandapower element when finite and positive, else None."""
    table = net[kind]
    given = float(table.at[index, "sn_mva"]) if "sn_mva" in table else float("nan")
    return given if np.isfinite(given) and given > 0 else None


def element_machines(net, xd_prime=DEFAULT_XD_PRIME):
    """One :class:`Machine` per in-service ``ext_grid`` and ``gen`` element of ``net``.

    Parameters
    ----------
    net : pandapowerNet
        With power-flow results (the ratings come from :func:`element_ratings`).
    xd_prime : float or sequence
        Transient reactance on each machine's own rating (default 0.3 p.u.), converted to
        the system base as x'_d S_base / S_rated.

    Returns
    -------
    list of Machine
        Named by :func:`element_name`; ext_grids first.
    """
    ratings = element_ratings(net)
    xd = np.broadcast_to(np.asarray(xd_prime, dtype=float), (len(ratings),))
    return [Machine(element_name(net, kind, index), int(net[kind].at[index, "bus"]),
                    float(x) * net.sn_mva / rating, element=(kind, index))
            for (kind, index, rating), x in zip(ratings, xd)]


def element_name(net, kind, index):
    """Name of the machine of a pandapower element: its name, or ``"<kind><index>"`` if it has none.

    pandapower leaves names None or NaN when unset; such machines are named after their row,
    e.g. ``"gen3"`` or ``"ext_grid0"``.
    """
    label = net[kind].at[index, "name"] if "name" in net[kind] else None
    return str(label) if isinstance(label, str) and label.strip() else f"{kind}{index}"


#: Buses of the branch elements of a pandapower network, in the order of their windings.
BRANCH_BUSES = {"line": ("from_bus", "to_bus"), "trafo": ("hv_bus", "lv_bus"), "impedance": ("from_bus", "to_bus"),
                "trafo3w": ("hv_bus", "mv_bus", "lv_bus"), "xward": ("bus",)}


def negative_reactance_branches(net):
    """The in-service branches of a solved pandapower network with negative series reactance.

    Read from the branch table of pandapower's internal power-flow model, so that every
    element that enters the admittance matrix is seen, including the star-equivalent
    windings of three-winding transformers (one branch per winding, from the winding's bus
    to the star point) and the internal branch of an extended ward.

    Parameters
    ----------
    net : pandapowerNet
        With power-flow results (:func:`solve_power_flow`).

    Returns
    -------
    list of str
        Each branch as its element, row, buses and x (p.u. system base), e.g.
        ``"line 80 (bus 165 - 169), x = -0.4 p.u."``.
    """
    from pandapower.pypower.idx_brch import BR_STATUS, BR_X

    branch = net._ppc["branch"]
    found = []
    for kind, (start, end) in net._pd2ppc_lookups["branch"].items():
        table = net[kind] if kind in net else None
        for k in range(start, end):
            x = float(np.real(branch[k, BR_X]))
            if not (x < 0 and np.real(branch[k, BR_STATUS]) > 0):
                continue
            if table is None or kind not in BRANCH_BUSES or len(table) == 0:
                found.append(f"{kind} branch {k - start}, x = {x:.4g} p.u.")
                continue
            position, winding = (k - start) % len(table), (k - start) // len(table)
            index = table.index[position]
            columns = BRANCH_BUSES[kind]
            if kind == "trafo3w":
                ends = f"{columns[winding][:2]} winding, bus {table.at[index, columns[winding]]} - star point"
            elif kind == "xward":
                ends = f"bus {table.at[index, 'bus']} - its internal bus"
            else:
                ends = f"bus {table.at[index, columns[0]]} - {table.at[index, columns[1]]}"
            found.append(f"{kind} {index} ({ends}), x = {x:.4g} p.u.")
    return found


def _check_distinct_names(machines, name):
    """Raise ``ValueError`` naming both rows when two machines share a name."""
    repeat = first_repeat([m.name for m in machines])
    if repeat is None:
        return
    first, second = (machines[i] for i in repeat)
    if first.element is not None and second.element is not None:
        (kind_a, row_a), (kind_b, row_b) = first.element, second.element
        where = (f"{kind_a} rows {row_a} and {row_b}" if kind_a == kind_b
                 else f"{kind_a} row {row_a} and {kind_b} row {row_b}")
    else:
        where = f"entries {repeat[0]} and {repeat[1]} of the machine list"
    raise ValueError(f"{name}: machines {first.name!r} at {where} share a name; machine names must be distinct")


def _machine_powers(net, machines, name):
    """Complex machine powers (p.u. system base) from the power-flow results."""
    base = float(net.sn_mva)
    generation = {}
    for kind in ("ext_grid", "gen"):
        res, table = net[f"res_{kind}"], net[kind]
        for index in table.index[table.in_service]:
            bus = int(table.at[index, "bus"])
            generation[bus] = generation.get(bus, 0.0) + complex(res.at[index, "p_mw"], res.at[index, "q_mvar"])
    powers = np.empty(len(machines), dtype=complex)
    for i, machine in enumerate(machines):
        if machine.element is not None:
            kind, index = machine.element
            if index not in net[kind].index or not bool(net[kind].at[index, "in_service"]):
                raise ValueError(f"{name}: machine {machine.name!r} refers to {kind} {index}, "
                                 "which does not exist or is out of service")
            res = net[f"res_{kind}"]
            s = complex(res.at[index, "p_mw"], res.at[index, "q_mvar"])
        else:
            total = generation.get(machine.bus, 0j)
            s = complex(machine.p_share * total.real, machine.q_share * total.imag)
        powers[i] = s / base
    if not np.all(np.isfinite(powers)):
        bad = machines[int(np.flatnonzero(~np.isfinite(powers))[0])]
        raise PowerFlowError(f"{name}: the power flow gives no result for machine {bad.name!r} "
                             f"(bus {bad.bus}); is it isolated?")
    return powers


def _island_check(L_full, n_machines, machines, bus_order, keep_main_island, name):
    """Nodes to keep (a single component with machines), or :class:`IslandError`."""
    count, labels = csgraph.connected_components(abs(L_full), directed=False)
    machine_labels = labels[:n_machines]
    without = [c for c in range(count) if c not in set(machine_labels.tolist())]
    groups = sorted(set(machine_labels.tolist()), key=lambda c: -np.count_nonzero(machine_labels == c))
    if (without or len(groups) > 1) and not keep_main_island:
        parts = []
        if without:
            buses = bus_order[np.flatnonzero(np.isin(labels[n_machines:], without))]
            parts.append(f"{len(without)} island(s) without any machine, buses "
                         f"{buses[:12].tolist()}{' ...' if buses.size > 12 else ''}")
        for c in groups[1:]:
            names = [machines[i].name for i in np.flatnonzero(machine_labels == c)]
            parts.append(f"machines {names[:8]} islanded from the main group")
        raise IslandError(f"{name}: the network has islands: " + "; ".join(parts)
                          + ". Pass keep_main_island=True to keep the largest machine group.")
    return np.flatnonzero(labels == groups[0])


def machine_network(net, machines=None, *, name="network", linearization="network",
                    keep_main_island=False, run_power_flow=True):
    """Solve, linearize and Kron-reduce a pandapower network onto its machines.

    Parameters
    ----------
    net : pandapowerNet
    machines : list of Machine, optional
        Default :func:`element_machines` (every in-service ext_grid and gen, x'_d = 0.3
        p.u. on the rating of :func:`element_ratings`). Names must be distinct (they name
        the dropped machines and the machines of error messages).
    name : str
        Used in error messages.
    linearization : {"network", "reduced"}
        See the module notes: linearize the full network then Kron-reduce (default), or
        Kron-reduce the complex admittance with constant-admittance loads then linearize.
    keep_main_island : bool
        Keep the component with the most machines instead of raising :class:`IslandError`.
    run_power_flow : bool
        Set False when ``net`` already holds converged results.

    Returns
    -------
    MachineNetwork

    Raises
    ------
    IslandError
        Islands (unless ``keep_main_island``), or a machine at an isolated bus.
    ValueError
        No machines, two machines sharing a name (the message names both rows), a machine
        with x'_d <= 0 or at an unknown bus.

    Notes
    -----
    Sparse throughout except the reduced n_machines x n_machines result:
    O(nnz + fill + n_machines * fill) time for the LU and the solves, memory
    O(fill + N * KRON_CHUNK + n_machines^2).
    """
    from pandapower.pypower.makeYbus import makeYbus

    if linearization not in ("network", "reduced"):
        raise ValueError(f"linearization must be 'network' or 'reduced', got {linearization!r}")
    if run_power_flow:
        solve_power_flow(net, name=name)
    machines = list(element_machines(net) if machines is None else machines)
    if not machines:
        raise ValueError(f"{name}: no machines to attach")
    _check_distinct_names(machines, name)
    ppc = net._ppc
    lookup = net._pd2ppc_lookups["bus"]
    bus_data = ppc["bus"]
    active = np.flatnonzero(bus_data[:, 1] != 4)  # type 4 = isolated / out of service
    position = np.full(bus_data.shape[0], -1, dtype=np.int64)
    position[active] = np.arange(active.size)
    for machine in machines:
        if not machine.xd_prime > 0:
            raise ValueError(f"{name}: machine {machine.name!r} needs x'_d > 0, got {machine.xd_prime!r}")
        if machine.bus not in net.bus.index:
            raise ValueError(f"{name}: machine {machine.name!r} is attached to unknown bus {machine.bus}")
        if position[lookup[machine.bus]] < 0:
            raise IslandError(f"{name}: machine {machine.name!r} is at bus {machine.bus}, which is "
                              "isolated or out of service")
    Ybus, _, _ = makeYbus(ppc["baseMVA"], bus_data, ppc["branch"])
    Ybus = sp.csr_matrix(Ybus)[active][:, active]
    V = bus_data[active, 7] * np.exp(1j * np.deg2rad(bus_data[active, 8]))
    pd_of_active = np.full(active.size, -1, dtype=np.int64)
    pd_index = net.bus.index.to_numpy()
    mapped = position[lookup[pd_index]]
    pd_of_active[mapped[mapped >= 0]] = pd_index[mapped >= 0]

    power = _machine_powers(net, machines, name)
    n_m = len(machines)
    at = position[lookup[np.array([m.bus for m in machines])]]
    Y_aug, emf = internal_node_admittance(Ybus, V, at, [m.xd_prime for m in machines], power)
    L_full = linearized_laplacian(Y_aug, np.r_[emf, V])
    keep_nodes = _island_check(L_full, n_m, machines, pd_of_active, keep_main_island, name)
    kept = keep_nodes[keep_nodes < n_m]
    dropped = [machines[i].name for i in np.setdiff1d(np.arange(n_m), kept)]
    L_sub = L_full[keep_nodes][:, keep_nodes]
    machine_positions = np.arange(kept.size)  # internal nodes come first in keep_nodes
    if linearization == "network":
        reduced = kron_reduce(L_sub, machine_positions)
    else:
        load = (bus_data[active, 2] - 1j * bus_data[active, 3]) / ppc["baseMVA"] / np.abs(V) ** 2
        Y_loaded = (Y_aug + sp.diags(np.r_[np.zeros(n_m), load])).tocsr()[keep_nodes][:, keep_nodes]
        reduced = linearized_laplacian(kron_reduce(Y_loaded, machine_positions), emf[kept]).toarray()
    laplacian, negative = checked_machine_laplacian(reduced, name, linearization)
    return MachineNetwork(
        laplacian=laplacian,
        machines=[machines[i] for i in kept],
        kept=kept,
        emf=emf[kept],
        power=power[kept],
        dropped=dropped,
        base_mva=float(net.sn_mva),
        frequency_hz=float(net.f_hz),
        full_laplacian=sp.csr_matrix(L_sub) if linearization == "network" else None,
        bus_order=pd_of_active[keep_nodes[keep_nodes >= n_m] - n_m],
        negative_weights=negative,
    )


def internal_node_admittance(Ybus, V, at, xd_prime, power):
    """The admittance matrix with every machine's internal node behind x'_d, and the EMFs.

    Parameters
    ----------
    Ybus : sparse or dense complex matrix, shape (n_b, n_b)
        Bus admittance matrix (p.u. system base).
    V : ndarray of complex, shape (n_b,)
        Solved bus voltages.
    at : array_like of int, shape (n_m,)
        Position in ``Ybus`` of each machine's terminal bus (several machines may share one).
    xd_prime : array_like, shape (n_m,)
        Transient reactances (p.u. system base, > 0).
    power : array_like of complex, shape (n_m,)
        Machine complex powers (p.u. system base).

    Returns
    -------
    Y_aug : scipy.sparse.csr_matrix, shape (n_m + n_b, n_m + n_b)
        On [internal nodes; buses].
    emf : ndarray of complex, shape (n_m,)
        E_i = V_b + j x'_d conj(S_i / V_b).

    Examples
    --------
    >>> import numpy as np
    >>> Y_aug, emf = internal_node_admittance(np.zeros((1, 1)), np.array([1.0 + 0j]), [0], [0.5], [1.0])
    >>> Y_aug.toarray().imag.tolist(), complex(emf[0])
    ([[-2.0, 2.0], [2.0, -2.0]], (1+0.5j))
    """
    at = np.asarray(at, dtype=np.int64)
    xd_prime = np.asarray(xd_prime, dtype=float)
    n_m, n_b = at.size, len(V)
    y = 1.0 / (1j * xd_prime)
    emf = V[at] + 1j * xd_prime * np.conj(np.asarray(power, dtype=complex) / V[at])
    coupling = sp.csr_matrix((-y, (np.arange(n_m), at)), shape=(n_m, n_b))
    at_bus = sp.csr_matrix((y, (at, at)), shape=(n_b, n_b))  # duplicates add up
    Y_aug = sp.bmat([[sp.diags(y), coupling], [coupling.T, sp.csr_matrix(Ybus) + at_bus]], format="csr")
    return Y_aug, emf


def checked_machine_laplacian(reduced, name, linearization="network"):
    """The Kron-reduced machine matrix made an exact Laplacian and validated.

    Symmetrized, with the diagonal set so the rows sum to zero (rounding), then checked:
    symmetric, zero row sums, connected, positive semidefinite. Negative edge weights
    (positive off-diagonal entries) are accepted when the matrix is positive semidefinite
    with a simple zero eigenvalue -- Kron reduction of a network with series capacitors or
    phase shifters can produce a few small ones -- and are counted.

    Returns
    -------
    laplacian : scipy.sparse.csr_matrix
    negative : int
        Number of negative edge weights.
    """
    reduced = 0.5 * (reduced + reduced.T)
    np.fill_diagonal(reduced, 0.0)
    reduced -= np.diag(reduced.sum(axis=1))
    label = f"{name}: reduced Laplacian (linearization={linearization!r})"
    laplacian = validate_laplacian(sp.csr_matrix(reduced), name=label, allow_negative_weights=True)
    off = sp.triu(laplacian, k=1)
    negative = int(np.count_nonzero(off.data > 0))
    if negative and laplacian.shape[0] > 1:
        values = smallest_eigenpairs(laplacian, 2).values
        scale = float(np.max(np.abs(laplacian.diagonal())))
        if values[0] < -1e-9 * scale or values[1] <= 1e-12 * scale:
            raise ValueError(
                f"{label} is not positive semidefinite with a simple zero eigenvalue "
                f"(smallest eigenvalues {values[0]:.3e}, {values[1]:.3e}; {negative} negative edge "
                "weights): the operating point has angle differences beyond 90 degrees or "
                "strongly capacitive couplings"
            )
    return laplacian, negative
