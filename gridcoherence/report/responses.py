"""Step responses of a network and its models, seen from the original nodes.

The first stage of :func:`~gridcoherence.report.compare.compare_step_responses`: every
model is brought to the original n nodes and driven by u(t) = step * u0 * 1(t), and each
node group I is observed through its centre-of-inertia output

    y_I(t) = sum_{i in I} m_i y_i(t) / sum_{i in I} m_i.

* :func:`node_groups` -- the validated node groups (their COI weights W, groups x n,
  come from :meth:`~gridcoherence.models.network.NetworkModel.center_of_inertia_weights`);
* :func:`time_grid` -- the uniform time grid of the responses;
* :class:`LiftedNetwork` -- a :class:`~gridcoherence.NetworkModel` or a
  :class:`~gridcoherence.reduction.structure.ReducedNetwork` (disturbance summed per
  cluster, cluster outputs broadcast: the lifted model That_k of (3.30)) as one sparse
  state-space system from sigma(t) to the group outputs: its exact step response with
  two derivatives, its DC gain or ramp, its group transfer functions, its modal form;
* :class:`SampledModel` -- a model known only by its sampled node responses;
* :func:`check_model`, :func:`as_model` -- validation and dispatch between the two.

What is read off the responses is in :mod:`~gridcoherence.report.features`, the errors
between two of them in :mod:`~gridcoherence.report.errors`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import cached_property

import control
import numpy as np
import scipy.linalg as la
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ..models.network import NetworkModel
from ..models.simulate import Step, TimeResponse, simulate_lti, uniform_time_grid
from ..reduction.structure import ReducedNetwork
from .modal import ModalStepResponse

__all__ = ["GroupResponse", "LiftedNetwork", "SampledModel", "node_groups", "time_grid",
           "check_model", "as_model"]

#: Default time grid: 60 s in steps of 10 ms (governor time constants are up to ~10 s).
DEFAULT_HORIZON = 60.0
DEFAULT_SAMPLES = 6001

#: A sparse LU whose condition estimate times eps exceeds this is treated as singular (fewer
#: than 4 digits would be left): a pole at s = 0 that rounding moved to ~eps.
SINGULAR_RCOND = 1e-4

#: Networks of at least this many nodes whose node dynamics are equal per unit inertia
#: (g_i^{-1}(s) = m_i phi(s), e.g. uniform per-inertia damping and turbines) get their
#: frequency responses from one symmetric eigendecomposition instead of an LU per
#: frequency (see :meth:`LiftedNetwork._modal_response`); smaller ones keep the LU.
MODAL_MIN_NODES = 200
#: Relative spread of g_i^{-1}(s) / m_i across nodes below which they count as uniform.
MODAL_UNIFORM_RTOL = 1e-12
#: The frequency (rad/s, as s = j) at which the node dynamics are first checked for being
#: uniform per inertia, before the modal form's eigendecomposition is computed.
MODAL_PROBE_FREQUENCY = 1j
#: Relative asymmetry of the Laplacian below which it counts as symmetric.
MODAL_SYMMETRY_RTOL = 1e-12

#: Derivatives at t = 0+ and relative tolerance with which a modal form must reproduce the
#: exact Markov parameters and Laurent terms (see :meth:`LiftedNetwork.modal_form`).
MODAL_CHECK_DERIVATIVES = 3
MODAL_CHECK_RTOL = 1e-8

#: Tolerance of the structural check that the zero mode is unobservable.
MARGINAL_MODE_RTOL = 1e-9


# ---------------------------------------------------------------------------- inputs
def node_groups(groups, models, n):
    """Validated names and node indices of the node groups of a comparison.

    Parameters
    ----------
    groups : array_like of int (n,), dict of str -> array_like of int, or None
        A label per node (groups ``"cluster <label>"``, in sorted label order), or named
        node sets that together cover every node (they may overlap). ``None``: the
        clusters of the first :class:`~gridcoherence.reduction.structure.ReducedNetwork`
        in ``models``, else one group ``"all"``.
    models : dict of str -> model
        The compared models (only searched for a default clustering).
    n : int
        Number of nodes of the reference.

    Returns
    -------
    names : list of str
    members : list of ndarray of int64
        The node indices of each group.

    Raises
    ------
    ValueError
        An empty dict, a malformed or repeated node list, labels of the wrong shape or
        type, or groups that leave a node out.
    IndexError
        A node index outside 0..n-1.

    Examples
    --------
    >>> names, members = node_groups([2, 2, 5], {}, 3)
    >>> names, [m.tolist() for m in members]
    (['area 3', 'area 6'], [[0, 1], [2]])
    """
    if groups is None:
        reduced = next((m for m in models.values() if isinstance(m, ReducedNetwork)), None)
        if reduced is None:
            return ["all"], [np.arange(n)]
        groups = reduced.labels
    if isinstance(groups, dict):
        if not groups:
            raise ValueError("groups is an empty dict; give at least one group of nodes")
        names, members = [], []
        for name, nodes in groups.items():
            nodes = np.asarray(nodes)
            if nodes.ndim != 1 or nodes.size == 0 or not np.issubdtype(nodes.dtype, np.integer):
                raise ValueError(f"group {name!r} must be a non-empty 1-D array of node indices, got {nodes!r}")
            if nodes.min() < 0 or nodes.max() >= n:
                raise IndexError(f"group {name!r} refers to node {int(nodes.max() if nodes.max() >= n else nodes.min())}, "
                                 f"outside 0..{n - 1}")
            if np.unique(nodes).size != nodes.size:
                raise ValueError(f"group {name!r} lists a node more than once")
            names.append(str(name))
            members.append(nodes.astype(np.int64))
        missing = np.setdiff1d(np.arange(n), np.concatenate(members))
        if missing.size:
            raise ValueError(f"the groups do not cover every node; missing nodes {missing[:10].tolist()}"
                             f"{' ...' if missing.size > 10 else ''}")
        return names, members
    labels = np.asarray(groups)
    if labels.shape != (n,):
        raise ValueError(f"group labels must have shape ({n},) (one label per node), got {labels.shape}")
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError("group labels must be integers")
    values = np.unique(labels)
    # Labels are cluster numbers from 0; what a user reads numbers areas from 1.
    return [f"area {v + 1}" for v in values], [np.flatnonzero(labels == v) for v in values]


def time_grid(t):
    """The validated uniform time grid ``t`` from 0, or the default 0..60 s in 10 ms steps.

    Raises ``ValueError`` (from :func:`~gridcoherence.models.simulate.uniform_time_grid`)
    for a grid that is not uniform, does not start at 0 or is not finite.
    """
    if t is None:
        return np.linspace(0.0, DEFAULT_HORIZON, DEFAULT_SAMPLES)
    return uniform_time_grid(t)[0]


# ---------------------------------------------------------------------------- models
def _solve_or_none(matrix, rhs):
    """Solution of a sparse square system by LU, or None when the matrix is singular.

    SuperLU only reports an exactly zero pivot; a matrix that is singular in exact
    arithmetic usually factors with a pivot ~eps instead and returns a solution of size
    ~1/eps. The 1-norm condition estimate (a few extra solves) catches those.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", spla.MatrixRankWarning)
            lu = spla.splu(matrix)
    except (RuntimeError, spla.MatrixRankWarning):
        return None
    inverse = spla.LinearOperator(matrix.shape, matvec=lu.solve, rmatvec=lambda x: lu.solve(x, trans="T"))
    if spla.onenormest(inverse) * spla.norm(matrix, 1) * np.finfo(float).eps > SINGULAR_RCOND:
        return None
    return lu.solve(rhs)


@dataclass
class GroupResponse:
    """One model's step response per node group.

    Attributes
    ----------
    y, rate, acceleration : ndarray, shape (nt, groups)
        The group outputs y_I, dy_I/dt and d2y_I/dt2 at the samples (t > 0 limits).
    steady_state : ndarray, shape (groups,)
        lim_{t -> inf} y_I(t): the DC gain times the step, ``+-inf`` for an output that
        ramps (a pole at s = 0 that it sees); the last sample for a sampled model.
    """

    y: np.ndarray
    rate: np.ndarray
    acceleration: np.ndarray
    steady_state: np.ndarray


class LiftedNetwork:
    """A network model seen from the original nodes, driven by u0 and observed per group.

    Parameters
    ----------
    model : NetworkModel or ReducedNetwork
        On the reference's n nodes, or a reduction of the reference.
    u0 : ndarray, shape (n,)
        Disturbance shape on the original nodes.
    weights : scipy.sparse matrix, shape (groups, n)
        Group weights W (:meth:`~gridcoherence.models.network.NetworkModel.center_of_inertia_weights`).
    name : str
        The model's name in error messages.

    Notes
    -----
    x' = A x + b sigma(t), y_groups = C x + d sigma(t), with b = B u0, C = W C_nodes and
    d = W D_nodes u0 (W the group weights). For a ReducedNetwork B_nodes = B_k P^T and
    C_nodes = P C_k (inputs summed per cluster, outputs broadcast).

    ``marginal`` is an orthonormal basis of the coupling's zero mode: for f(s) with a pole
    at 0 (f = 1/s: equal angles everywhere), x = [0; xi (x) 1_n] with af xi = 0 satisfies
    A x = 0 and C x = 0 (L 1 = 0), a marginal mode that no output sees. It is checked,
    then removed by restricting to its orthogonal complement, which is exact because it
    is A-invariant and unobservable.
    """

    def __init__(self, model, u0, weights, name):
        real = model.realization()
        B, C, D = real.B, real.C, real.D
        # The network's own input and group-output maps, for T(s) = (G^{-1} + f L)^{-1}.
        self.network, self.network_input, self.network_output = model, u0, weights
        if isinstance(model, ReducedNetwork):
            P = model.partition.matrix
            B, C, D = B @ P.T, P @ C, P @ D @ P.T
            self.network_input, self.network_output = P.T @ u0, weights @ P
        self.name = name
        self.A = real.A.tocsr()
        self.apply_A = real.apply_A
        self.b = np.asarray(B @ u0).ravel()
        self.C = sp.csr_matrix(weights @ C)
        self.d = np.asarray(weights @ (D @ u0)).ravel()
        xi = la.null_space(model.coupling.af) if model.coupling.order else np.zeros((0, 0))
        self.marginal = np.zeros((self.A.shape[0], xi.shape[1]))
        self.marginal[real.n_node_states:] = np.kron(xi, np.ones((model.n, 1))) / np.sqrt(model.n)
        node_C = sp.csr_matrix(C)
        scale_A, scale_C = abs(self.A).max(), max(abs(node_C).max(), 1.0)
        if xi.shape[1] and (np.abs(self.A @ self.marginal).max() > MARGINAL_MODE_RTOL * scale_A
                            or np.abs(node_C @ self.marginal).max() > MARGINAL_MODE_RTOL * scale_C):
            raise ArithmeticError(f"model {name!r}: the coupling's zero mode is not an unobservable "
                                  "eigenvector of the realization (is the Laplacian's row sum zero?)")
        self.order = self.A.shape[0] - self.marginal.shape[1]

    def response(self, t, step):
        """Group outputs and their exact first two derivatives on the grid (t > 0).

        With a constant input, y' = C A x + C b sigma and y'' = C A^2 x + C A b sigma, so
        all three are outputs of one simulation.
        """
        CA = self.C @ self.A
        outputs = sp.vstack([self.C, CA, CA @ self.A]).tocsr()
        feedthrough = np.r_[self.d, self.C @ self.b, CA @ self.b][:, None]
        # The network itself: its unit step's states, when it keeps them (simulated once per
        # disturbance and grid, shared with e.g. the accuracy's node responses), scale with the step.
        states = None if isinstance(self.network, ReducedNetwork) else self.network.step_states(self.network_input, t)
        if states is None:
            sim_y = simulate_lti(self.A, self.b[:, None], outputs, feedthrough, [1.0], Step(step), t,
                                 apply_A=self.apply_A).y
        else:
            sim_y = step * (np.asarray(outputs @ states.y.T).T + feedthrough[:, 0])
        y, rate, acceleration = np.split(sim_y, 3, axis=1)
        return GroupResponse(y, rate, acceleration, step * self.dc_gain())

    @cached_property
    def laurent(self):
        """(ramp, constant, deflated): the group transfer functions u0 -> y_I as ramp / s + constant + O(s).

        ``ramp`` is nonzero only for outputs that see a pole at s = 0 (their unit-step
        response grows like ramp * t); elsewhere ``constant`` is the exact DC gain.
        ``deflated`` is b with the pole's component removed, so that
        C (sI - A)^{-1} deflated + d = G(s) - ramp / s (None without a pole at 0).

        [[A, V0], [V0^T, 0]] [x; mu] = [-b; 0] is nonsingular when 0 is a simple eigenvalue
        with eigenvector V0; then C x + d is the limit of the step response (the V0
        drift mu t is unobservable). Otherwise, when its null space has dimension one
        (e.g. zero damping and no governors: the centre-of-inertia frequency integrates
        the disturbance), the quotient by V0 has a simple eigenvalue 0 with right and left
        null vectors r, l, taken from an SVD of the bordered matrix, and the residue at
        s = 0 is (C r)(l^T b) / (l^T r). The bordered matrix with r and l appended is
        then nonsingular and its solution is x = -A^# b (group inverse), whose C x + d is
        the constant term. Raises ``ValueError`` for any other pole at 0.
        """
        r = self.marginal.shape[1]
        V0 = sp.csr_matrix(self.marginal)
        bordered = sp.bmat([[self.A, V0], [V0.T, None]], format="csc") if r else self.A.tocsc()
        rhs = np.r_[-self.b, np.zeros(r)]
        ramp, deflated = np.zeros(self.C.shape[0]), None
        x = _solve_or_none(bordered, rhs)
        if x is None:
            # Dense, O(order^3): reached only by models with a pole at s = 0.
            U, singular, Vh = la.svd(bordered.toarray())
            # Singular in the sense of _solve_or_none (1-norm condition above
            # SINGULAR_RCOND / eps, so 2-norm condition above that over the size): a pole
            # that rounding moved off 0, e.g. a damping of 1e-13, counts as the pole at 0.
            null = singular <= singular[0] * max(bordered.shape) * np.finfo(float).eps / SINGULAR_RCOND
            n = self.A.shape[0]
            right, left = Vh[-1, :n], U[:n, -1]
            overlap = left @ right
            if null.sum() == 1 and abs(overlap) > MARGINAL_MODE_RTOL:  # a simple pole, not a Jordan chain
                x = _solve_or_none(sp.bmat([[bordered, np.r_[right, np.zeros(r)][:, None]],
                                            [np.r_[left, np.zeros(r)][None, :], None]], format="csc"),
                                   np.r_[rhs, 0.0])
            if x is None:
                raise ValueError(f"model {self.name!r} has a pole at s = 0 of order or multiplicity above one "
                                 "that its outputs see (e.g. a disconnected network or integrating nodes): "
                                 "the step response has no steady state")
            # Rounding leaves |C r| ~ eps ||C|| ||r|| on outputs that do not see the pole.
            seen = (np.abs(self.C @ right) > MARGINAL_MODE_RTOL * abs(self.C).max(axis=1).toarray().ravel()
                    * np.abs(right).sum())
            if abs(left @ self.b) > MARGINAL_MODE_RTOL * np.abs(left).max() * np.abs(self.b).sum():
                ramp = np.where(seen, (self.C @ right) * (left @ self.b) / overlap, 0.0)
                # (sI - A)^{-1} r = r / s - mu V0 / s^2 and C V0 = 0: removing r's share of b
                # removes exactly the ramp / s term.
                deflated = self.b - right * (left @ self.b) / overlap
        constant = self.C @ x[:self.A.shape[0]] + self.d
        if not (np.all(np.isfinite(constant)) and np.all(np.isfinite(ramp))):
            raise ArithmeticError(f"model {self.name!r}: the DC gain came out non-finite")
        return ramp, constant, deflated

    @cached_property
    def undamped_frequencies(self):
        """Frequencies w0 > 0 of the poles on the imaginary axis (dense eigenvalues).

        Only models whose outputs ramp are searched: in this family a pole at s = 0 means
        lossless nodes (no damping, no governors), whose electromechanical modes are
        then undamped unless the coupling dissipates; any other model is asymptotically
        stable apart from the unobservable zero mode, which the table assumes anyway.
        Frequencies below sqrt(eps) ||A||_1 are left out: there rounding splits the
        Jordan chain at s = 0 (the mean angle integrates the ramping mean frequency)
        into a pair +-j sqrt(eps) ||A||, which is no oscillation.
        """
        if self.laurent[2] is None:
            return np.empty(0)
        eigenvalues = la.eigvals(self.A.toarray())
        scale = abs(self.A).sum(axis=0).max()
        tolerance = MARGINAL_MODE_RTOL * scale
        axis = (np.abs(eigenvalues.real) <= tolerance) & (eigenvalues.imag > np.sqrt(np.finfo(float).eps) * scale)
        return eigenvalues.imag[axis]

    def dc_gain(self):
        """Limit of every group's unit-step response: the DC gain, or +-inf (sign of the ramp)."""
        ramp, constant, _ = self.laurent
        return np.where(ramp != 0.0, np.copysign(np.inf, ramp), constant)

    def _restricted(self):
        """Dense (A, b, C) on the orthogonal complement of the unobservable zero mode."""
        Q = la.null_space(self.marginal.T) if self.marginal.shape[1] else np.eye(self.A.shape[0])
        return Q.T @ (self.A @ Q), Q.T @ self.b, np.asarray(self.C @ Q)

    def group_systems(self):
        """One python-control SISO StateSpace per group, zero mode removed (dense)."""
        A, b, C = self._restricted()
        return [control.ss(A, b[:, None], C[g:g + 1], self.d[g]) for g in range(C.shape[0])]

    def modal_form(self, step):
        """The group step responses in modal form, or None when its residues cannot be trusted.

        One dense eigendecomposition of the realization without its zero mode, O(order^3):
        for models up to a few hundred states. The form is checked against exact values
        it must reproduce: the first MODAL_CHECK_DERIVATIVES derivatives at t = 0+ (step
        times the Markov parameters C A^j b, from sparse products) and the Laurent terms at
        s = 0 (:attr:`laurent`), see
        :meth:`~gridcoherence.report.modal.ModalStepResponse.mismatch`; a mismatch above
        MODAL_CHECK_RTOL (ill-conditioned eigenvectors, a nearly defective A) gives None.

        Returns
        -------
        ModalStepResponse or None
        """
        A, b, C = self._restricted()
        try:
            modal = ModalStepResponse.from_state_space(A, b, C, self.d, step)
        except la.LinAlgError:  # an exactly singular eigenvector matrix: a defective A
            return None
        markov, sizes, vector, size = [], [], self.b, np.abs(self.b)
        for _ in range(MODAL_CHECK_DERIVATIVES):
            markov.append(step * (self.C @ vector))
            sizes.append(abs(step) * (abs(self.C) @ size))
            vector, size = self.A @ vector, abs(self.A) @ size
        ramp, constant, _ = self.laurent
        if modal.mismatch(np.array(markov), np.array(sizes), step * constant, step * ramp) > MODAL_CHECK_RTOL:
            return None
        return modal

    def frequency_response(self, w):
        """Group transfer functions W T(jw) u0 at angular frequencies w > 0, shape (nw, groups).

        One sparse LU of the n x n network matrix G^{-1}(jw) + f(jw) L per frequency,
        a third of the realization's size for swing-turbine nodes. With a pole at s = 0
        that solve loses ~cond ~ w^-2 digits of a value ~ramp / w, which would swamp the
        difference of two models at low w; there ramp / (jw) is added exactly to the
        regular part, solved with the realization and the deflated input (absolute
        error ~eps ||A|| / w instead).
        """
        out = np.empty((np.size(w), self.C.shape[0]), dtype=complex)
        ramp, _, deflated = self.laurent
        identity = sp.identity(self.A.shape[0], format="csc")
        for k, wk in enumerate(np.atleast_1d(w)):
            if deflated is None:
                modal = self._modal_response(1j * wk)
                out[k] = modal if modal is not None else self.network_output @ self.network_solution(wk)
            else:
                regular = self.C @ spla.splu((1j * wk * identity - self.A).tocsc()).solve(deflated.astype(complex))
                out[k] = ramp / (1j * wk) + regular + self.d
        return out

    def network_solution(self, w):
        """x(jw) = (G^{-1}(jw) + f(jw) L)^{-1} b for the network input b, kept per frequency.

        One LU of the n x n network matrix
        (:meth:`~gridcoherence.models.network.NetworkModel.network_solver`: sparse, or dense
        for dense Laplacians); the solutions are kept, so the frequencies of a sweep can
        later span a local projection (:meth:`projected`) at no further cost.
        """
        w = float(w)
        if w not in self._solutions:
            self._solutions[w] = self.network.network_solver(1j * w)(self.network_input.astype(complex))
        return self._solutions[w]

    @cached_property
    def _solutions(self):
        return {}

    def forget_solutions(self):
        """Drop the solutions :meth:`network_solution` kept (n values per frequency)."""
        self._solutions.clear()

    @property
    def projectable(self):
        """Whether :meth:`projected` applies: the network-matrix path (no pole at s = 0, no modal form)."""
        return self.laurent[2] is None and self._modal is None

    def projected(self, w):
        """Group transfer functions of the Galerkin projection on the solutions at ``w``.

        With V an orthonormal real basis of the real and imaginary parts of x(j w_i)
        (:meth:`network_solution`) and of b, the function returned gives
        W V (V^T (G^{-1}(s) + f(s) L) V)^{-1} V^T b at s = j w for one w > 0, in
        O(n r^2) for r = len(V) columns instead of an n x n LU. It is exact at the w_i
        (each x(j w_i) lies in span V) and, between samples a fraction of a decade apart,
        accurate to far below the differences a sweep looks for; it only guides a search,
        whose result is then evaluated exactly.
        """
        if not self.projectable:
            raise ValueError(f"model {self.name!r} has no network-matrix frequency response to project")
        X = np.column_stack([self.network_solution(wk) for wk in np.atleast_1d(w)])
        V, singular, _ = la.svd(np.column_stack([X.real, X.imag, self.network_input]), full_matrices=False)
        V = V[:, singular > singular[0] * np.finfo(float).eps * V.shape[0]]
        network = self.network
        LV = network.apply_laplacian(V)
        projected_L, projected_b, output = V.T @ LV, V.T @ self.network_input, self.network_output @ V

        def response(wk):
            s = 1j * float(wk)
            core = (V.T * network.nodes.inverse_transfer(s)) @ V + complex(network.coupling(s)) * projected_L
            return output @ la.solve(core, projected_b.astype(complex), check_finite=False)

        return response


    @cached_property
    def _modal(self):
        """(inertia, eigenvalues, left, right) of the pencil (L, M), or None when not applicable.

        For networks of at least MODAL_MIN_NODES nodes with a symmetric Laplacian,
        positive inertia and node dynamics uniform per inertia at MODAL_PROBE_FREQUENCY:
        S = M^{-1/2} L M^{-1/2} = U diag(lam) U^T once (dense, O(n^3)),
        left = W M^{-1/2} U, right = U^T M^{-1/2} u0 (see :meth:`_modal_response`).
        """
        model = self.network
        if model.n < MODAL_MIN_NODES or self.laurent[2] is not None:
            return None
        m = np.asarray(model.inertia, dtype=float)
        if m.shape != (model.n,) or not np.all(m > 0.0) or not np.all(np.isfinite(m)):
            return None
        if self._uniform_per_inertia(MODAL_PROBE_FREQUENCY, m) is None:  # no O(n^3) eigendecomposition in vain
            return None
        L = model.laplacian
        L = L.toarray() if sp.issparse(L) else np.asarray(L, dtype=float)
        if np.abs(L - L.T).max() > MODAL_SYMMETRY_RTOL * np.abs(L).max():
            return None
        scale = 1.0 / np.sqrt(m)
        lam, U = la.eigh(scale[:, None] * (0.5 * (L + L.T)) * scale[None, :])
        left = np.asarray(self.network_output @ (scale[:, None] * U))
        right = U.T @ (scale * self.network_input)
        return m, lam, left, right

    def _modal_response(self, s):
        """W T(s) u0 from the modal form, or None when the node dynamics are not uniform per inertia.

        When every node's g_i^{-1}(s) = m_i phi(s) (equal per-inertia damping and turbines:
        checked at this s to MODAL_UNIFORM_RTOL), T(s) = (phi M + f L)^{-1}
        = M^{-1/2} U diag(1 / (phi + f lam)) U^T M^{-1/2}: O(groups n) per frequency instead
        of a dense n x n LU.
        """
        if self._modal is None:
            return None
        m, lam, left, right = self._modal
        phi = self._uniform_per_inertia(s, m)
        if phi is None:
            return None
        return left @ (right / (phi + complex(self.network.coupling(s)) * lam))

    def _uniform_per_inertia(self, s, m):
        """phi(s) when every g_i^{-1}(s) = m_i phi(s) to MODAL_UNIFORM_RTOL, else None."""
        ratio = self.network.nodes.inverse_transfer(s) / m
        phi = ratio.mean()
        return None if np.abs(ratio - phi).max() > MODAL_UNIFORM_RTOL * abs(phi) else complex(phi)


class SampledModel:
    """A model known only by its sampled node responses.

    ``model`` is a callable ``model(u, t)`` or an object with ``model.response(u, "step",
    t)``, returning the (len(t), n) node responses (array or
    :class:`~gridcoherence.models.simulate.TimeResponse`) to the step ``u = step * u0``.
    Its derivatives are second-order finite differences and its steady state is its last
    sample; ``order`` is ``None`` (no realization).
    """

    order = None

    def __init__(self, model, u0, weights, name, n):
        self.model, self.u0, self.weights, self.name, self.n = model, u0, weights, name, n

    def response(self, t, step):
        """The sampled group outputs as a :class:`GroupResponse`; raises ``ValueError`` for
        outputs of the wrong shape or non-finite outputs."""
        if callable(getattr(self.model, "response", None)):
            result = self.model.response(step * self.u0, "step", t)
        else:
            result = self.model(step * self.u0, t)
        y = np.asarray(result.y if isinstance(result, TimeResponse) else result, dtype=float)
        if y.shape != (t.size, self.n):
            raise ValueError(f"model {self.name!r} returned outputs of shape {y.shape}; expected "
                             f"(len(t), n) = ({t.size}, {self.n}) responses on the original nodes")
        if not np.all(np.isfinite(y)):
            raise ValueError(f"model {self.name!r} returned non-finite outputs")
        y = np.asarray((self.weights @ y.T).T)
        rate = np.gradient(y, t, axis=0, edge_order=2)
        return GroupResponse(y, rate, np.gradient(rate, t, axis=0, edge_order=2), y[-1].copy())


def check_model(name, model, reference):
    """Raise unless ``model`` can be compared with ``reference`` on its nodes.

    A :class:`~gridcoherence.reduction.structure.ReducedNetwork` must reduce a network of
    the reference's size, a :class:`~gridcoherence.NetworkModel` must have its nodes;
    anything else must be a callable or have a ``response`` method
    (:class:`SampledModel`). Raises ``ValueError`` for a size mismatch and ``TypeError``
    for an unsupported type, naming the model.
    """
    if isinstance(model, ReducedNetwork):
        # n_original, not original.n: a reduced network read from a file has no original
        # attached, and its partition is all the comparison needs.
        if model.n_original != reference.n:
            raise ValueError(f"model {name!r} reduces a network of {model.n_original} nodes; "
                             f"the reference has {reference.n}")
    elif isinstance(model, NetworkModel):
        if model.n != reference.n:
            raise ValueError(f"model {name!r} has {model.n} nodes; the reference has {reference.n} "
                             "(pass a ReducedNetwork to compare a k-node model on the original nodes)")
    elif not (callable(model) or callable(getattr(model, "response", None))):
        raise TypeError(f"model {name!r} must be a ReducedNetwork, a NetworkModel on the reference's nodes "
                        f"or a callable (u0, t) -> node responses; got {type(model).__name__}")


def as_model(name, model, reference, u0, weights):
    """The :class:`LiftedNetwork` of a network model, else the :class:`SampledModel` of ``model``.

    ``model`` must have passed :func:`check_model`.
    """
    if isinstance(model, NetworkModel):
        return LiftedNetwork(model, u0, weights, name)
    return SampledModel(model, u0, weights, name, reference.n)

