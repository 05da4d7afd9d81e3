"""The network model: nodes g_i(s) coupled through f(s) and a Laplacian L.

:class:`NetworkModel` is the package's central object (dissertation Fig. 3-1, (3.1)-(3.2)):

    y = T(s) u,    T(s) = (I + G(s) f(s) L)^{-1} G(s) = (diag{g_i^{-1}(s)} + f(s) L)^{-1}

It evaluates T(s) with sparse factorisations, builds a sparse state-space realization
(angles/coupling states, node states such as frequencies and turbine powers), converts
to a python-control ``StateSpace`` for moderate sizes, and simulates time responses
without dense matrices (:mod:`gridcoherence.models.simulate`).
"""

from __future__ import annotations

from dataclasses import dataclass

import control
import numpy as np
import scipy.linalg as la
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from .._validation import as_frequencies, check_finite
from .coupling import as_coupling
from .kron import KronReduction
from .laplacian import validate_laplacian, build_laplacian
from .nodes import as_node_dynamics
from .simulate import Step, TimeResponse, default_time_grid, simulate_lti, uniform_time_grid

__all__ = ["NetworkModel", "NetworkRealization", "disturbance_shape"]

#: Largest network for which T(s) is returned in full by default, and for which
#: ``to_statespace`` builds a dense python-control model without being asked to.
DENSE_LIMIT = 5000

#: Step responses whose state trajectory (samples x states) has at most this many entries
#: (160 MB) keep it (:meth:`NetworkModel.step_states`), so that a second response to the
#: same disturbance on the same grid applies its outputs instead of simulating again.
STEP_STATES_LIMIT = 20_000_000

#: Fill nnz(L) / n^2 of the Laplacian from which :meth:`NetworkModel.network_solver`
#: factorises the network matrix densely (LAPACK) rather than by SuperLU: Kron-reduced
#: grids are dense, and SuperLU's bookkeeping then costs more than the factorisation
#: (0.70 s against 0.43 s at n = 1,445).
DENSE_SOLVE_FILL = 0.2


@dataclass(frozen=True)
class NetworkRealization:
    """Sparse state-space realization x' = A x + B u, y = C x + D u of a network.

    States are ordered [node states; coupling states]. For the power family with
    f = 1/s the node states are the frequencies (first n) then the turbine powers, and
    the coupling states are the node angles.

    Attributes
    ----------
    A, B, C, D : scipy.sparse.csr_matrix
    n_node_states, n_coupling_states : int
    apply_A : callable or None
        x -> A x through the network's Kron reduction
        (:attr:`NetworkModel.kron`, when its sparse network has fewer entries than L):
        the same numbers as ``A @ x`` to rounding, at the cost of the sparse network
        rather than of the full reduced L. None when A is best applied as stored.
    """

    A: sp.csr_matrix
    B: sp.csr_matrix
    C: sp.csr_matrix
    D: sp.csr_matrix
    n_node_states: int
    n_coupling_states: int
    apply_A: object = None

    @property
    def n_states(self):
        return self.A.shape[0]

    def transfer(self, s):
        """C (sI - A)^{-1} B + D at one complex s (sparse LU; dense result)."""
        identity = sp.identity(self.n_states, dtype=complex, format="csc")
        lu = spla.splu((s * identity - self.A).tocsc())
        X = lu.solve(self.B.toarray().astype(complex))
        return self.C @ X + self.D.toarray()


class NetworkModel:
    """A network of SISO nodes coupled through f(s) L.

    Parameters
    ----------
    nodes : NodeDynamics or list of python-control SISO systems
        Node transfer functions g_i(s), see :mod:`gridcoherence.models.nodes`.
    laplacian : sparse matrix, ndarray, networkx.Graph or edge list
        The coupling graph (validated; see :func:`gridcoherence.models.laplacian.build_laplacian`).
    coupling : "1/s", "1", Coupling or python-control system
        The coupling dynamics f(s). Default 1/s (power networks).
    allow_disconnected, allow_negative_weights : bool
        Passed to the Laplacian validation, and kept as attributes: what the validated
        Laplacian is known to satisfy.
    node_names : sequence of str, optional
    name : str, optional
    kron : KronReduction, optional
        The sparse network that ``laplacian`` is the Kron reduction of (a power grid's
        buses, eliminated onto its machines; :mod:`gridcoherence.models.kron`), checked
        against ``laplacian`` on a random probe. Solves with the network matrix then run
        on it, sparse, instead of on the (generally full) reduced L.

    Attributes
    ----------
    n : int
    nodes : NodeDynamics
    laplacian : scipy.sparse.csr_matrix
    coupling : Coupling
    inertia : ndarray
        The centre-of-inertia weights m_i: the high-frequency coefficient of g_i^{-1}
        (all equal if no node has one); see :meth:`center_of_inertia_weights`.
    kron : KronReduction or None

    Examples
    --------
    >>> import numpy as np
    >>> from gridcoherence import NetworkModel, SwingTurbineNodes
    >>> nodes = SwingTurbineNodes(m=[1.0, 2.0, 1.5], d=[0.1, 0.2, 0.1])
    >>> model = NetworkModel(nodes, [(0, 1, 5.0), (1, 2, 3.0)], coupling="1/s")
    >>> T = model.transfer_matrix(1j)
    >>> T.shape
    (3, 3)
    >>> bool(np.allclose(T, T.T))
    True
    """

    def __init__(self, nodes, laplacian, coupling="1/s", *, allow_disconnected=False,
                 allow_negative_weights=False, node_names=None, name=None, kron=None):
        self.nodes = as_node_dynamics(nodes)
        if sp.issparse(laplacian) or (isinstance(laplacian, np.ndarray) and laplacian.ndim == 2
                                      and laplacian.shape[0] == laplacian.shape[1]
                                      and laplacian.shape[0] == self.nodes.n):
            self.laplacian = validate_laplacian(laplacian, allow_disconnected=allow_disconnected,
                                                allow_negative_weights=allow_negative_weights)
        else:
            self.laplacian = build_laplacian(laplacian, n=self.nodes.n,
                                             allow_disconnected=allow_disconnected,
                                             allow_negative_weights=allow_negative_weights)
        if self.laplacian.shape[0] != self.nodes.n:
            raise ValueError(
                f"the Laplacian has {self.laplacian.shape[0]} nodes but {self.nodes.n} node models were given"
            )
        self.allow_disconnected = bool(allow_disconnected)
        self.allow_negative_weights = bool(allow_negative_weights)
        self.coupling = as_coupling(coupling)
        self.n = self.nodes.n
        if node_names is not None:
            node_names = [str(x) for x in node_names]
            if len(node_names) != self.n:
                raise ValueError(f"node_names has {len(node_names)} entries for {self.n} nodes")
        self.node_names = node_names
        self.name = name
        if kron is not None:
            if not isinstance(kron, KronReduction):
                raise TypeError(f"kron must be a KronReduction, got {type(kron).__name__}")
            kron.check_reduces(self.laplacian)
        self.kron = kron
        m = self.nodes.inertia
        self.inertia = m if np.any(m > 0) else np.ones(self.n)
        self._realization = None
        self._step_states = None

    def __repr__(self):
        label = f"{self.name!r}, " if self.name else ""
        return (f"NetworkModel({label}n={self.n}, nodes={self.nodes!r}, edges={self.n_edges}, "
                f"coupling={self.coupling.name})")

    @property
    def n_edges(self):
        return int((self.laplacian.nnz - np.count_nonzero(self.laplacian.diagonal())) // 2)

    # ------------------------------------------------------------------ frequency domain
    def system_matrix(self, s):
        """The sparse matrix G^{-1}(s) + f(s) L at one complex s (CSC)."""
        h = self.nodes.inverse_transfer(complex(s))
        return (sp.diags(h) + self.coupling(complex(s)) * self.laplacian).tocsc()

    @property
    def solves_unreduced(self):
        """Whether :meth:`network_solver`'s sparse LU runs on the :attr:`kron` network (it has fewer entries than L)."""
        return self.kron is not None and self.kron.full.nnz < self.laplacian.nnz

    def apply_laplacian(self, X):
        """L X for an (n,) or (n, m) array: through the :attr:`kron` network when it is the sparser form."""
        return self.kron.matvec(X) if self.solves_unreduced else self.laplacian @ X

    def network_solver(self, s, dense=None):
        """X -> (G^{-1}(s) + f(s) L)^{-1} X = T(s) X, the network matrix factorised once.

        Parameters
        ----------
        s : complex
        dense : bool, optional
            LAPACK LU of the dense n x n matrix, or a sparse LU (SuperLU): of the
            unreduced sparse network when the model has a :attr:`kron` reduction with
            fewer entries than L, else of the sparse n x n matrix. By default sparse when
            that reduction exists, otherwise dense when L fills at least
            :data:`DENSE_SOLVE_FILL` of n^2.

        Returns
        -------
        callable
            Taking an (n,) or (n, m) array.

        Raises
        ------
        ZeroDivisionError
            The network matrix is singular: T(s) has a pole at s.
        """
        s = complex(s)
        unreduced = self.solves_unreduced
        if dense is None:
            dense = not unreduced and self.laplacian.nnz >= DENSE_SOLVE_FILL * self.n ** 2
        h, fs = self.nodes.inverse_transfer(s), self.coupling(s)
        if dense:
            K = fs * self.laplacian.toarray()
            K[np.diag_indices_from(K)] += h
            factor = la.lu_factor(K, check_finite=False)
            if not np.all(np.diagonal(factor[0])):
                raise ZeroDivisionError(f"T(s) has a pole at s = {s}")
            return lambda X: la.lu_solve(factor, X, check_finite=False)
        if unreduced:
            try:
                return self.kron.solver(h, fs)
            except ZeroDivisionError as exc:
                raise ZeroDivisionError(f"T(s) has a pole at s = {s}") from exc
        try:
            lu = spla.splu(self.system_matrix(s))
        except RuntimeError as exc:  # "Factor is exactly singular"
            raise ZeroDivisionError(f"T(s) has a pole at s = {s}") from exc
        return lambda X: lu.solve(np.asarray(X, dtype=complex))

    def transfer_matrix(self, s, columns=None):
        """T(s) = (G^{-1}(s) + f(s) L)^{-1}, or the chosen columns of it.

        Parameters
        ----------
        s : complex or array_like, shape (ns,)
        columns : array_like of int, optional
            Input nodes whose columns are wanted (the responses of every node to a
            disturbance at those nodes). All columns by default, allowed up to
            n = 5000; give ``columns`` for larger networks.

        Returns
        -------
        ndarray, shape (n, c) for scalar ``s`` else (ns, n, c)

        Notes
        -----
        One sparse LU factorisation per frequency (:meth:`network_solver`, of the
        unreduced network when there is a :attr:`kron` reduction), then c triangular
        solves: for grid-like networks O(ns (nnz + c n)) up to fill-in; no dense inverse
        is formed.
        """
        s_arr, scalar = as_frequencies(s)
        if columns is None:
            if self.n > DENSE_LIMIT:
                raise ValueError(
                    f"the full {self.n}x{self.n} T(s) is too large; pass columns=[...] "
                    "to get the responses to disturbances at chosen nodes"
                )
            columns = np.arange(self.n)
        columns = np.atleast_1d(np.asarray(columns, dtype=np.int64))
        if columns.size and (columns.min() < 0 or columns.max() >= self.n):
            raise IndexError(f"column index out of range 0..{self.n - 1}")
        rhs = np.zeros((self.n, columns.size), dtype=complex)
        rhs[columns, np.arange(columns.size)] = 1.0
        out = np.empty((s_arr.size, self.n, columns.size), dtype=complex)
        for k, sk in enumerate(s_arr):
            out[k] = self.network_solver(sk, dense=False)(rhs)
        if not np.all(np.isfinite(out)):
            raise ArithmeticError("T(s) evaluation produced non-finite values")
        return out[0] if scalar else out

    # ------------------------------------------------------------------ state space
    def realization(self):
        """Sparse :class:`NetworkRealization` (cached).

        Interconnection: node states x_n (x_n' = A_n x_n + B_n v, y = C_n x_n + D_n v),
        coupling states z = per-node f(s)-filtered outputs (z' = A_f z + B_f y, for
        f = 1/s the node angles), node inputs v = u - L c with c = C_f z + d_f y. When
        d_f and some node feedthrough are both nonzero the loop is algebraic and is
        closed with a sparse LU of I + d_f D_n L.
        """
        if self._realization is None:
            self._realization = self._build_realization()
        return self._realization

    def _build_realization(self):
        n, L, f = self.n, self.laplacian, self.coupling
        nodes = self.nodes.realization()
        An, Bn, Cn, Dn = nodes.A, nodes.B, nodes.C, nodes.D
        r = f.order
        Af = sp.kron(sp.csr_matrix(f.af), sp.identity(n), format="csr")
        Bf = sp.kron(sp.csr_matrix(f.bf), sp.identity(n), format="csr")
        Cf = sp.kron(sp.csr_matrix(f.cf), sp.identity(n), format="csr")
        nxn, nz = An.shape[0], r * n
        Dn_mat = sp.diags(Dn)
        # c = Cc x (+ df Dn v): the coupled signal before L.
        Cc = sp.hstack([f.df * Cn, Cf], format="csr")
        A0 = sp.bmat([[An, sp.csr_matrix((nxn, nz))], [Bf @ Cn, Af]], format="csr")
        Bv = sp.vstack([Bn, Bf @ Dn_mat], format="csr")
        C0 = sp.hstack([Cn, sp.csr_matrix((n, nz))], format="csr")
        apply_A = None
        if f.df != 0.0 and np.any(Dn != 0.0):
            K = (sp.identity(n) + f.df * Dn_mat @ L).tocsc()
            lu = spla.splu(K)
            Fv = sp.csr_matrix(L @ lu.solve(Cc.toarray()))
            Ev = sp.csr_matrix(np.eye(n) - f.df * (L @ lu.solve(Dn_mat.toarray())))
        else:
            Fv = (L @ Cc).tocsr()
            Ev = sp.identity(n, format="csr")
            if self.solves_unreduced:
                def apply_A(x):  # A = A0 - Bv L Cc, without the full reduced L
                    return A0 @ x - Bv @ self.apply_laplacian(Cc @ x)
        A = (A0 - Bv @ Fv).tocsr()
        B = (Bv @ Ev).tocsr()
        C = (C0 - Dn_mat @ Fv).tocsr()
        D = (Dn_mat @ Ev).tocsr()
        for name, M in (("A", A), ("B", B), ("C", C), ("D", D)):
            check_finite(f"realization matrix {name}", M.data)
        return NetworkRealization(A, B, C, D, nxn, nz, apply_A)

    def to_statespace(self, *, max_states=DENSE_LIMIT):
        """The network as a dense python-control ``StateSpace`` (moderate sizes only).

        Raises ``ValueError`` when the realization has more than ``max_states`` states.
        """
        real = self.realization()
        if real.n_states > max_states:
            raise ValueError(
                f"the realization has {real.n_states} states (> max_states={max_states}); "
                "use realization() for the sparse form"
            )
        return control.ss(real.A.toarray(), real.B.toarray(), real.C.toarray(), real.D.toarray())

    # ------------------------------------------------------------------ time domain
    def center_of_inertia_weights(self, groups=None):
        """Centre-of-inertia weights m_i / sum_{j in I} m_j of node groups, a sparse (groups x n) matrix.

        The package's one definition of a centre of inertia (COI): within each group I
        the nodes are weighted by :attr:`inertia`; a group whose nodes have no inertia
        at all (feedthrough nodes) gets their plain mean.

        Parameters
        ----------
        groups : sequence of array_like of int, optional
            Node indices of each group; by default one group of all nodes.

        Examples
        --------
        >>> from gridcoherence import NetworkModel, SwingTurbineNodes
        >>> model = NetworkModel(SwingTurbineNodes(m=[1.0, 3.0, 2.0], d=0.1), [(0, 1), (1, 2)])
        >>> model.center_of_inertia_weights([[0, 1], [2]]).toarray().tolist()
        [[0.25, 0.75, 0.0], [0.0, 0.0, 1.0]]
        """
        members = [np.arange(self.n)] if groups is None else [np.asarray(g, dtype=np.int64).ravel()
                                                              for g in groups]
        rows, cols, values = [], [], []
        for g, nodes in enumerate(members):
            m = self.inertia[nodes]
            total = m.sum()
            rows.append(np.full(nodes.size, g))
            cols.append(nodes)
            values.append(m / total if total > 0 else np.full(nodes.size, 1.0 / nodes.size))
        return sp.csr_matrix((np.concatenate(values), (np.concatenate(rows), np.concatenate(cols))),
                             shape=(len(members), self.n))

    def center_of_inertia(self, y):
        """y_COI along the last axis of ``y``: :meth:`center_of_inertia_weights` of all nodes applied."""
        return np.asarray(y) @ self.center_of_inertia_weights().toarray()[0]

    def response(self, u0, signal="step", t=None, *, x0=None):
        """Every node's output and the COI output for the input u(t) = u0 sigma(t).

        Parameters
        ----------
        u0 : array_like, shape (n,) or int
            Spatial shape of the disturbance; an int k means the unit vector e_k.
        signal : "step" or a signal from :mod:`gridcoherence.models.simulate`
            ``Step()``, ``ExponentialApproach(alpha)`` (alpha / (s (s + alpha))),
            ``Sinusoid(omega)`` or ``Sampled(times, values)``.
        t : array_like
            Uniform time grid starting at 0 (default ``linspace(0, 30, 3001)``).
        x0 : array_like, optional
            Initial state of :meth:`realization` (zero by default).

        Returns
        -------
        TimeResponse
            ``y`` has shape (nt, n); ``y_coi`` shape (nt,).

        Notes
        -----
        Exact up to ``expm_multiply``'s unit-roundoff backward error for generator
        signals; exact for the piecewise-linear interpolant of sampled signals. Sparse
        throughout: cost grows with nnz(A) times the balanced norm of A times the horizon.
        A unit step from rest is read off :meth:`step_states` (simulated once per
        disturbance and grid).
        """
        u0 = self.input_shape(u0)
        t = default_time_grid() if t is None else t
        real = self.realization()
        states = self.step_states(u0, t) if x0 is None and _is_unit_step(signal) else None
        if states is None:
            result = simulate_lti(real.A, real.B, real.C, real.D, u0, signal, t, x0=x0, apply_A=real.apply_A)
        else:
            y = np.asarray(real.C @ states.y.T).T + np.outer(states.u, real.D @ u0)
            result = TimeResponse(states.t, y, states.u, method=states.method, info=dict(states.info))
        result.y_coi = self.center_of_inertia(result.y)
        return result

    def step_states(self, u0, t):
        """The realization's states x(t) in the unit step response to u0 from rest, or None when too many.

        Kept for the last (u0, t) asked, so that responses of several outputs to the same
        disturbance on the same grid (an accuracy's node frequencies, a comparison
        table's area COIs and their derivatives) share one simulation.

        Parameters
        ----------
        u0 : array_like, shape (n,) or int
        t : array_like
            Uniform time grid from 0.

        Returns
        -------
        TimeResponse or None
            ``y`` of shape (nt, n_states); None when nt * n_states exceeds
            :data:`STEP_STATES_LIMIT` (the memory it would hold): simulate the outputs
            directly then.
        """
        u0 = self.input_shape(u0)
        t = uniform_time_grid(t)[0]
        real = self.realization()
        if t.size * real.n_states > STEP_STATES_LIMIT:
            return None
        key = (u0.tobytes(), t.tobytes())
        if self._step_states is None or self._step_states[0] != key:
            identity = sp.identity(real.n_states, format="csr")
            states = simulate_lti(real.A, real.B, identity, sp.csr_matrix((real.n_states, self.n)), u0, Step(), t,
                                  apply_A=real.apply_A)
            self._step_states = (key, states)
        return self._step_states[1]

    def input_shape(self, u0):
        """Validate a disturbance shape: an int k is the unit vector e_k."""
        return disturbance_shape(u0, self.n)


def _is_unit_step(signal):
    return (isinstance(signal, str) and signal == "step") or (isinstance(signal, Step) and signal.amplitude == 1.0)


def disturbance_shape(u0, n):
    """A disturbance on n nodes as a float vector; an int k means the unit vector e_k.

    Raises ``IndexError`` for a node outside 0..n-1 and ``ValueError`` for a wrong length
    or a non-finite entry.
    """
    if np.ndim(u0) == 0 and float(u0) == int(u0) and not isinstance(u0, float):
        k = int(u0)
        if not 0 <= k < n:
            raise IndexError(f"disturbed node {k} is outside 0..{n - 1}")
        u0 = np.zeros(n)
        u0[k] = 1.0
    u0 = check_finite("u0", np.asarray(u0, dtype=float).ravel())
    if u0.size != n:
        raise ValueError(f"u0 must have length n = {n}, got {u0.size}")
    return u0
