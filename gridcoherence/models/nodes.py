"""Node dynamics: the SISO transfer functions g_i(s) sitting at the nodes of a network.

Three classes share one interface (:class:`NodeDynamics`):

* :class:`SwingTurbineNodes` -- the vectorised family

      g_i^{-1}(s) = m_i s + d_i + sum_j q_ij / (tau_ij s + 1)

  ("swing equation with parallel first-order turbines"). Swing machines (no turbine),
  droop-controlled inverters (m = tau_P / k_P, d = 1 / k_P) and swing machines with a
  turbine-governor droop (q = 1/r) are all members, and the coherent aggregate of any
  group stays in the family (dissertation (3.84)-(3.85)). Parameters are flat arrays, so
  millions of nodes are practical.
* :class:`LTINodes` -- arbitrary proper SISO python-control systems, one per node.
* :class:`StackedNodes` -- several collections placed at given node indices, so family
  and general nodes can be mixed freely in one network.

Each collection evaluates g^{-1}(s) and g(s) for all nodes at many complex frequencies,
and gives a sparse block-diagonal realization (:class:`BlockRealization`) that
:class:`gridcoherence.NetworkModel` interconnects with the coupling and the Laplacian.
"""

from __future__ import annotations

from dataclasses import dataclass

import control
import numpy as np
import scipy.sparse as sp

from .._validation import as_frequencies, as_node_array, check_finite

__all__ = [
    "NodeDynamics",
    "SwingTurbineNodes",
    "LTINodes",
    "StackedNodes",
    "BlockRealization",
    "PassivityReport",
    "as_node_dynamics",
    "stack_single_nodes",
    "concatenate_family",
]


@dataclass(frozen=True)
class BlockRealization:
    """Sparse block-diagonal state-space realization of n decoupled SISO nodes.

    ``x' = A x + B v``, ``y = C x + D v`` with ``v`` the n node inputs and ``y`` the n
    node outputs. ``D`` is the vector of the nodes' feedthrough gains (a diagonal).

    Attributes
    ----------
    A : scipy.sparse.csr_matrix, shape (nx, nx)
    B : scipy.sparse.csr_matrix, shape (nx, n)
    C : scipy.sparse.csr_matrix, shape (n, nx)
    D : ndarray, shape (n,)
    """

    A: sp.csr_matrix
    B: sp.csr_matrix
    C: sp.csr_matrix
    D: np.ndarray

    @property
    def n_states(self):
        return self.A.shape[0]


@dataclass(frozen=True)
class PassivityReport:
    """Output strict passivity of nodes (Thm 3.4's condition).

    A SISO g is output strictly passive with index eps > 0 when
    Re g(s) >= eps |g(s)|^2 on Re s > 0, i.e. Re g^{-1}(s) >= eps there.

    Attributes
    ----------
    epsilon : ndarray
        Per node, the largest eps for which the condition holds (``<= 0``: not OSP).
    decided : ndarray of bool
        Whether the value is exact (closed form) or a frequency-grid estimate could be
        made (node stable and minimum phase, so g^{-1} is analytic in Re s > 0 and its
        real part attains its infimum on the imaginary axis). ``False``: undecided.
    exact : ndarray of bool
        ``True`` where ``epsilon`` is a closed-form value, ``False`` for grid estimates.
    """

    epsilon: np.ndarray
    decided: np.ndarray
    exact: np.ndarray

    @property
    def all_strictly_passive(self):
        """True when every node is decided and output strictly passive."""
        return bool(np.all(self.decided) and np.all(self.epsilon > 0))


class NodeDynamics:
    """Interface of a collection of n SISO node transfer functions."""

    n: int

    def inverse_transfer(self, s):
        """g_i^{-1}(s) for all nodes.

        Parameters
        ----------
        s : complex or array_like of complex, shape (ns,)

        Returns
        -------
        ndarray, shape (n,) for scalar ``s`` else (ns, n)
        """
        raise NotImplementedError

    def transfer(self, s):
        """g_i(s) for all nodes, same shapes as :meth:`inverse_transfer`."""
        with np.errstate(divide="ignore", invalid="ignore"):
            g = 1.0 / self.inverse_transfer(s)
        if not np.all(np.isfinite(g)):
            raise ZeroDivisionError("g(s) has a pole at one of the requested frequencies")
        return g

    def realization(self):
        """Sparse block-diagonal :class:`BlockRealization` of all nodes."""
        raise NotImplementedError

    def subset(self, indices):
        """The nodes at ``indices`` (in that order) as a new collection."""
        raise NotImplementedError

    def node_system(self, i):
        """Node ``i`` as a python-control ``TransferFunction``."""
        raise NotImplementedError

    @property
    def inertia(self):
        """High-frequency coefficient m_i = lim g_i^{-1}(s)/s (the COI weights).

        Zero for nodes whose g^{-1} stays bounded (feedthrough nodes).
        """
        raise NotImplementedError

    def passivity(self):
        """:class:`PassivityReport` of output strict passivity per node."""
        raise NotImplementedError

    def __len__(self):
        return self.n


def _turbine_incidence(turbine_node, n):
    """Sparse n x p 0/1 matrix E with E[i, t] = 1 when turbine t belongs to node i."""
    p = turbine_node.shape[0]
    return sp.csr_matrix((np.ones(p), (turbine_node, np.arange(p))), shape=(n, p))


class SwingTurbineNodes(NodeDynamics):
    """Vectorised swing-with-turbines nodes g_i^{-1}(s) = m_i s + d_i + sum_j q_ij/(tau_ij s + 1).

    Parameters
    ----------
    m : array_like, shape (n,)
        Inertia coefficients (> 0), e.g. M = 2H S_machine / (omega_s S_base) in
        p.u. s^2/rad.
    d : array_like, shape (n,)
        Damping (>= 0).
    turbine_gain, turbine_tau : array_like, optional
        Turbine gains q (= 1/r, the inverse droop; > 0) and time constants tau (s, > 0).
        Either shape (n,) (one turbine per node; a zero gain means no turbine) or
        (n, p) (up to p turbines per node, zero gains ignored), or flat arrays of any
        length together with ``turbine_node``.
    turbine_node : array_like of int, optional
        Owner node of each turbine when the turbines are given as flat arrays.

    Attributes
    ----------
    n : int
    m, d : ndarray, shape (n,)
    turbine_node, turbine_gain, turbine_tau : ndarray, shape (p,)
        Flat turbine list, sorted by owner node.

    Notes
    -----
    The realization has one frequency state per node followed by one state per
    turbine: ``m w' = -d w - sum_j p_j + v`` and ``tau_j p_j' = q_j w - p_j``; the
    output is w. Evaluating g^{-1} at ns frequencies costs O(ns (n + p)).

    Examples
    --------
    >>> nodes = SwingTurbineNodes(m=[0.1, 0.2], d=[0.01, 0.02],
    ...                           turbine_gain=[0.05, 0.0], turbine_tau=[5.0, 1.0])
    >>> nodes.n, nodes.turbine_gain.size
    (2, 1)
    >>> complex(nodes.inverse_transfer(0.0)[0])
    (0.060000000000000005+0j)
    """

    def __init__(self, m, d, turbine_gain=None, turbine_tau=None, turbine_node=None):
        self.m = as_node_array("m (inertia)", m, minimum=0.0, strict=True)
        self.n = self.m.shape[0]
        if self.n == 0:
            raise ValueError("a node collection needs at least one node")
        self.d = as_node_array("d (damping)", d, self.n, minimum=0.0)
        node, gain, tau = self._flat_turbines(turbine_gain, turbine_tau, turbine_node)
        keep = gain != 0.0
        order = np.argsort(node[keep], kind="stable")
        self.turbine_node = node[keep][order]
        self.turbine_gain = gain[keep][order]
        self.turbine_tau = tau[keep][order]
        self._incidence = None

    def _flat_turbines(self, gain, tau, node):
        if gain is None and tau is None:
            if node is not None:
                raise ValueError("turbine_node given without turbine_gain and turbine_tau")
            empty = np.zeros(0)
            return empty.astype(np.int64), empty, empty
        if gain is None or tau is None:
            raise ValueError("turbine_gain and turbine_tau must be given together")
        gain = check_finite("turbine_gain", np.asarray(gain, dtype=float))
        tau = check_finite("turbine_tau", np.asarray(tau, dtype=float))
        if gain.shape != tau.shape:
            raise ValueError(
                f"turbine_gain has shape {gain.shape} but turbine_tau has shape {tau.shape}"
            )
        if node is not None:
            node = np.asarray(node)
            if node.shape != gain.shape or gain.ndim != 1:
                raise ValueError("turbine_node, turbine_gain and turbine_tau must be 1-D of equal length")
            if not np.issubdtype(node.dtype, np.integer):
                raise ValueError("turbine_node must hold integer node indices")
            if node.size and (node.min() < 0 or node.max() >= self.n):
                bad = int(node[(node < 0) | (node >= self.n)][0])
                raise ValueError(f"turbine_node refers to node {bad}, outside 0..{self.n - 1}")
        elif gain.ndim == 1 and gain.shape[0] == self.n:
            node = np.arange(self.n)
        elif gain.ndim == 2 and gain.shape[0] == self.n:
            node = np.repeat(np.arange(self.n), gain.shape[1])
            gain, tau = gain.ravel(), tau.ravel()
        else:
            raise ValueError(
                f"turbine_gain must have shape ({self.n},) or ({self.n}, p), or come with "
                f"turbine_node; got shape {gain.shape}"
            )
        active = gain != 0.0
        if (gain[active] < 0).any():
            t = int(np.flatnonzero(gain < 0)[0])
            raise ValueError(
                f"turbine_gain must be >= 0; node {int(node[t])} has a turbine gain {gain[t]!r}"
            )
        if (tau[active] <= 0).any():
            t = int(np.flatnonzero(active & (tau <= 0))[0])
            raise ValueError(
                f"turbine_tau must be > 0; node {int(node[t])} has a turbine time constant {tau[t]!r}"
            )
        return node.astype(np.int64), gain, tau

    @property
    def incidence(self):
        """Sparse n x p node-turbine incidence matrix."""
        if self._incidence is None:
            self._incidence = _turbine_incidence(self.turbine_node, self.n)
        return self._incidence

    @property
    def n_turbines(self):
        return int(self.turbine_gain.shape[0])

    def inverse_transfer(self, s):
        s, scalar = as_frequencies(s)
        h = s[:, None] * self.m[None, :] + self.d[None, :]
        if self.n_turbines:
            # Frequencies in batches so the (batch, turbines) temporary stays ~32 MB.
            batch = max(1, 2_000_000 // self.n_turbines)
            for lo in range(0, s.size, batch):
                part = s[lo:lo + batch, None]
                turbines = self.turbine_gain[None, :] / (part * self.turbine_tau[None, :] + 1.0)
                h[lo:lo + batch] += (self.incidence @ turbines.T).T
        return h[0] if scalar else h

    def realization(self):
        n, p = self.n, self.n_turbines
        E = self.incidence
        inv_m = sp.diags(1.0 / self.m)
        inv_tau = sp.diags(1.0 / self.turbine_tau) if p else sp.csr_matrix((0, 0))
        A = sp.bmat(
            [
                [sp.diags(-self.d / self.m), -(inv_m @ E)],
                [inv_tau @ sp.diags(self.turbine_gain) @ E.T, -inv_tau],
            ],
            format="csr",
        ) if p else sp.diags(-self.d / self.m, format="csr")
        B = sp.vstack([inv_m, sp.csr_matrix((p, n))], format="csr")
        C = sp.hstack([sp.identity(n), sp.csr_matrix((n, p))], format="csr")
        return BlockRealization(A, B, C, np.zeros(n))

    def subset(self, indices):
        indices = np.asarray(indices, dtype=np.int64).ravel()
        if indices.size and (indices.min() < 0 or indices.max() >= self.n):
            raise IndexError(f"node index out of range 0..{self.n - 1}")
        position = np.full(self.n, -1, dtype=np.int64)
        position[indices] = np.arange(indices.size)
        chosen = position[self.turbine_node] >= 0
        return SwingTurbineNodes(
            self.m[indices],
            self.d[indices],
            turbine_gain=self.turbine_gain[chosen],
            turbine_tau=self.turbine_tau[chosen],
            turbine_node=position[self.turbine_node[chosen]],
        )

    def turbines_of(self, i):
        """(gains, time constants) of node ``i``'s turbines."""
        lo, hi = np.searchsorted(self.turbine_node, [i, i + 1])
        return self.turbine_gain[lo:hi], self.turbine_tau[lo:hi]

    def node_system(self, i):
        gains, taus = self.turbines_of(i)
        inv = control.tf([self.m[i], self.d[i]], [1.0])
        for q, tau in zip(gains, taus):
            inv = inv + control.tf([q], [tau, 1.0])
        # g = 1/inv as a ratio of polynomials: inv = N/D  =>  g = D/N.
        num, den = inv.num[0][0], inv.den[0][0]
        return control.tf(den / num[0], num / num[0])

    @property
    def inertia(self):
        return self.m.copy()

    def passivity(self):
        # Re g^{-1}(s) = m Re s + d + sum q Re 1/(tau s + 1) and every term is >= 0 on
        # Re s >= 0, with infimum d (reached as s -> j infinity).
        eps = self.d.copy()
        ones = np.ones(self.n, dtype=bool)
        return PassivityReport(eps, ones, ones.copy())

    def dc_gain(self):
        """g_i(0) = 1 / (d_i + sum_j q_ij) per node (inf where that sum is 0)."""
        total = self.d + np.bincount(self.turbine_node, self.turbine_gain, minlength=self.n)
        with np.errstate(divide="ignore"):
            return 1.0 / total

    def __repr__(self):
        return f"SwingTurbineNodes(n={self.n}, turbines={self.n_turbines})"


def _siso_tf(system, name):
    """Validate one node model and return it as a python-control TransferFunction."""
    if not isinstance(system, (control.TransferFunction, control.StateSpace)):
        raise TypeError(f"{name} must be a python-control TransferFunction or StateSpace, got {type(system).__name__}")
    if system.ninputs != 1 or system.noutputs != 1:
        raise ValueError(f"{name} must be SISO, got {system.noutputs}x{system.ninputs}")
    if not system.isctime():
        raise ValueError(f"{name} must be continuous-time")
    tf = control.tf(system) if isinstance(system, control.StateSpace) else system
    num = np.trim_zeros(np.atleast_1d(tf.num[0][0]), "f")
    den = np.trim_zeros(np.atleast_1d(tf.den[0][0]), "f")
    check_finite(f"{name} numerator", num)
    check_finite(f"{name} denominator", den)
    if num.size == 0:
        raise ValueError(f"{name} is identically zero; g^{{-1}} does not exist")
    if num.size > den.size:
        raise ValueError(f"{name} is improper (numerator degree {num.size - 1} > denominator degree {den.size - 1})")
    return control.tf(num / den[0], den / den[0])


class LTINodes(NodeDynamics):
    """Arbitrary proper SISO LTI nodes given as python-control systems.

    Parameters
    ----------
    systems : sequence of control.TransferFunction or control.StateSpace
        One continuous-time, proper, nonzero SISO system per node.

    Notes
    -----
    Evaluation loops over the nodes (O(n) Python calls per frequency batch); use
    :class:`SwingTurbineNodes` for very large homogeneous-family networks.
    """

    def __init__(self, systems):
        systems = list(systems)
        if not systems:
            raise ValueError("a node collection needs at least one node")
        self.systems = [_siso_tf(g, f"node {i}") for i, g in enumerate(systems)]
        self.n = len(self.systems)
        self._num = [np.atleast_1d(g.num[0][0]) for g in self.systems]
        self._den = [np.atleast_1d(g.den[0][0]) for g in self.systems]

    def inverse_transfer(self, s):
        s, scalar = as_frequencies(s)
        h = np.empty((s.size, self.n), dtype=complex)
        for i, (num, den) in enumerate(zip(self._num, self._den)):
            h[:, i] = np.polyval(den, s) / np.polyval(num, s)
        return h[0] if scalar else h

    def realization(self):
        blocks = [control.ss(g) for g in self.systems]
        A = sp.block_diag([sp.csr_matrix(b.A) for b in blocks], format="csr")
        B = sp.block_diag([sp.csr_matrix(b.B) for b in blocks], format="csr")
        C = sp.block_diag([sp.csr_matrix(b.C) for b in blocks], format="csr")
        D = np.array([float(b.D[0, 0]) for b in blocks])
        if A.shape[0] == 0:
            A = sp.csr_matrix((0, 0))
            B = sp.csr_matrix((0, self.n))
            C = sp.csr_matrix((self.n, 0))
        return BlockRealization(A, B, C, D)

    def subset(self, indices):
        return LTINodes([self.systems[int(i)] for i in np.asarray(indices).ravel()])

    def node_system(self, i):
        return self.systems[i]

    @property
    def inertia(self):
        # g^{-1}(s) ~ (den_0/num_0) s^(deg den - deg num): relative degree 1 gives m = 1/(CB).
        m = np.zeros(self.n)
        for i, (num, den) in enumerate(zip(self._num, self._den)):
            if den.size - num.size == 1:
                m[i] = den[0] / num[0]
        return m

    def passivity(self, n_grid=2000):
        eps = np.full(self.n, -np.inf)
        decided = np.zeros(self.n, dtype=bool)
        w = np.concatenate([[0.0], np.logspace(-4, 4, n_grid)])
        for i, (num, den) in enumerate(zip(self._num, self._den)):
            # g^{-1} is analytic in Re s >= 0 when g has no zeros there and g is stable.
            if np.all(np.roots(num).real < 0) and np.all(np.roots(den).real < 0):
                eps[i] = np.min((np.polyval(den, 1j * w) / np.polyval(num, 1j * w)).real)
                decided[i] = True
        return PassivityReport(eps, decided, np.zeros(self.n, dtype=bool))

    def __repr__(self):
        return f"LTINodes(n={self.n})"


class StackedNodes(NodeDynamics):
    """Several node collections placed at given node indices of one network.

    Parameters
    ----------
    parts : sequence of NodeDynamics
    positions : sequence of array_like of int, optional
        Global node index of each node of each part. Together they must cover
        0..n-1 exactly once. Default: the parts are numbered one after another.

    Examples
    --------
    >>> import control
    >>> swing = SwingTurbineNodes(m=[1.0, 1.0], d=[0.1, 0.1])
    >>> other = LTINodes([control.tf([1.0], [1.0, 2.0])])
    >>> nodes = StackedNodes([swing, other], positions=[[0, 2], [1]])
    >>> nodes.n
    3
    """

    def __init__(self, parts, positions=None):
        self.parts = [as_node_dynamics(p) for p in parts]
        if not self.parts:
            raise ValueError("StackedNodes needs at least one part")
        sizes = [p.n for p in self.parts]
        self.n = int(sum(sizes))
        if positions is None:
            starts = np.cumsum([0] + sizes)
            positions = [np.arange(a, b) for a, b in zip(starts[:-1], starts[1:])]
        positions = [np.asarray(pos, dtype=np.int64).ravel() for pos in positions]
        if len(positions) != len(self.parts):
            raise ValueError(f"{len(self.parts)} parts but {len(positions)} position arrays")
        for k, (pos, size) in enumerate(zip(positions, sizes)):
            if pos.size != size:
                raise ValueError(f"part {k} has {size} nodes but {pos.size} positions")
        everything = np.concatenate(positions)
        if not np.array_equal(np.sort(everything), np.arange(self.n)):
            raise ValueError(f"positions must cover node indices 0..{self.n - 1} exactly once")
        self.positions = positions
        self._owner = np.empty(self.n, dtype=np.int64)
        self._local = np.empty(self.n, dtype=np.int64)
        for k, pos in enumerate(positions):
            self._owner[pos] = k
            self._local[pos] = np.arange(pos.size)

    def inverse_transfer(self, s):
        s_arr, scalar = as_frequencies(s)
        h = np.empty((s_arr.size, self.n), dtype=complex)
        for part, pos in zip(self.parts, self.positions):
            h[:, pos] = part.inverse_transfer(s_arr)
        return h[0] if scalar else h

    def realization(self):
        reals = [p.realization() for p in self.parts]
        A = sp.block_diag([r.A for r in reals], format="csr")
        B_stack = sp.block_diag([r.B for r in reals], format="csr")
        C_stack = sp.block_diag([r.C for r in reals], format="csr")
        # Stacked inputs/outputs are in part order; permute them to node order.
        order = np.concatenate(self.positions)
        perm = sp.csr_matrix((np.ones(self.n), (order, np.arange(self.n))), shape=(self.n, self.n))
        D = np.empty(self.n)
        D[order] = np.concatenate([r.D for r in reals])
        return BlockRealization(A, (B_stack @ perm.T).tocsr(), (perm @ C_stack).tocsr(), D)

    def subset(self, indices):
        indices = np.asarray(indices, dtype=np.int64).ravel()
        owners = self._owner[indices]
        parts, positions = [], []
        for k in np.unique(owners):
            chosen = np.flatnonzero(owners == k)
            parts.append(self.parts[k].subset(self._local[indices[chosen]]))
            positions.append(chosen)
        return parts[0] if len(parts) == 1 else StackedNodes(parts, positions)

    def node_system(self, i):
        return self.parts[self._owner[i]].node_system(self._local[i])

    @property
    def inertia(self):
        m = np.empty(self.n)
        for part, pos in zip(self.parts, self.positions):
            m[pos] = part.inertia
        return m

    def passivity(self):
        eps, decided, exact = np.empty(self.n), np.empty(self.n, bool), np.empty(self.n, bool)
        for part, pos in zip(self.parts, self.positions):
            report = part.passivity()
            eps[pos], decided[pos], exact[pos] = report.epsilon, report.decided, report.exact
        return PassivityReport(eps, decided, exact)

    def __repr__(self):
        return f"StackedNodes(n={self.n}, parts={self.parts!r})"


def as_node_dynamics(nodes):
    """Coerce ``nodes`` to a :class:`NodeDynamics`.

    Accepts a NodeDynamics, or a sequence of python-control SISO systems (an
    :class:`LTINodes`).
    """
    if isinstance(nodes, NodeDynamics):
        return nodes
    if isinstance(nodes, (list, tuple)):
        return LTINodes(nodes)
    raise TypeError(
        "nodes must be a NodeDynamics (e.g. SwingTurbineNodes) or a list of python-control "
        f"SISO systems, got {type(nodes).__name__}"
    )


def concatenate_family(parts):
    """Family collections one after another as one :class:`SwingTurbineNodes`.

    Node i of part j becomes node ``sum(parts[:j].n) + i``; turbines follow their nodes.
    """
    offsets = np.cumsum([0] + [p.n for p in parts])
    return SwingTurbineNodes(
        np.concatenate([p.m for p in parts]),
        np.concatenate([p.d for p in parts]),
        turbine_gain=np.concatenate([p.turbine_gain for p in parts]),
        turbine_tau=np.concatenate([p.turbine_tau for p in parts]),
        turbine_node=np.concatenate([p.turbine_node + o for p, o in zip(parts, offsets)]),
    )


def stack_single_nodes(parts):
    """k one-node collections as one k-node collection, node c being ``parts[c]``.

    A vectorised :class:`SwingTurbineNodes` when every part is one, else a
    :class:`StackedNodes`. Used for the k aggregates of a reduced network.
    """
    parts = [as_node_dynamics(p) for p in parts]
    if any(p.n != 1 for p in parts):
        raise ValueError("every part must hold exactly one node")
    if all(isinstance(p, SwingTurbineNodes) for p in parts):
        return concatenate_family(parts)
    return StackedNodes(parts, positions=[[c] for c in range(len(parts))])
