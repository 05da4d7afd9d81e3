"""Step-response comparison tables of an original network and its reduced models.

:func:`compare_step_responses` drives the original network and every candidate model
with the same step disturbance u(t) = step * u0 * 1(t) and tabulates, per model and per
node group (a cluster, or any set of nodes), the group's centre-of-inertia output

    y_I(t) = sum_{i in I} m_i y_i(t) / sum_{i in I} m_i

and what a power engineer reads off a frequency response: the nadir and its time, the
largest rate of change of frequency (RoCoF), the settling time and the steady-state
deviation, next to the L2 / L-infinity step-response errors and the H-infinity transfer
function error against the original (the columns of Table 3-II, computed by
:func:`gridcoherence.report.metrics.step_error_metrics` where the models are small enough).
:func:`export_table` writes the table as CSV, Markdown or LaTeX.

Models are brought to the original nodes first: a
:class:`~gridcoherence.reduction.structure.ReducedNetwork` by summing the disturbance per cluster
and broadcasting its cluster outputs (the lifted model That_k of (3.30)), another
:class:`~gridcoherence.NetworkModel` on the same nodes as it is, and a callable by its
sampled response.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import control
import numpy as np
import pandas as pd
import scipy.linalg as la
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy.optimize import minimize_scalar

from .._io import atomic_write
from .metrics import step_error_metrics
from ..models.network import NetworkModel
from ..reduction.structure import ReducedNetwork
from ..models.simulate import Step, TimeResponse, simulate_lti, uniform_time_grid

__all__ = ["COLUMNS", "UNITS", "compare_step_responses", "export_table", "table_to_markdown"]

#: Table columns, in order.
COLUMNS = ("model", "group", "n_nodes", "l2_error", "linf_error", "hinf_error", "nadir", "nadir_time",
           "max_rocof", "settling_time", "steady_state", "error_method")

#: Units of the columns when the outputs are frequency deviations in rad/s and the
#: disturbance is in p.u. (the power networks of :mod:`gridcoherence.cases.loader`).
UNITS = {
    "l2_error": "rad/s * s^(1/2)",
    "linf_error": "rad/s",
    "hinf_error": "rad/s per p.u.",
    "nadir": "rad/s",
    "nadir_time": "s",
    "max_rocof": "rad/s^2",
    "settling_time": "s",
    "steady_state": "rad/s",
}

#: Largest combined order of the reference and approximation group systems (after the
#: unobservable zero mode is removed) whose errors come from the exact metric functions.
#: Their cost grows like order^2 times the number of time samples: ~1 s at order 16,
#: ~8 s at order 330 per group.
EXACT_STATE_LIMIT = 500

#: Default time grid: 60 s in steps of 10 ms (governor time constants are up to ~10 s).
DEFAULT_HORIZON = 60.0
DEFAULT_SAMPLES = 6001

#: Frequencies of the sampled H-infinity sweep (log-spaced over 8 decades below 10 ||A||_1).
HINF_GRID_POINTS = 160
HINF_DECADES = 8.0
#: Local maxima of the sampled H-infinity sweep that are refined.
HINF_PEAKS = 5

#: Relative distances from an undamped pole frequency at which the H-infinity sweep
#: checks whether the error transfer function has that pole (see :func:`_sampled_hinf`).
UNDAMPED_OFFSETS = (1e-6, 1e-8)

#: Relative DC mismatch above which the sampled path reports an infinite L2 error (the
#: DC values come from sparse LU solves, so this is looser than the metric's 1e-12).
SAMPLED_DC_RTOL = 1e-9

#: A sparse LU whose condition estimate times eps exceeds this is treated as singular (fewer
#: than 4 digits would be left): a pole at s = 0 that rounding moved to ~eps.
SINGULAR_RCOND = 1e-4

#: Networks of at least this many nodes whose node dynamics are equal per unit inertia
#: (g_i^{-1}(s) = m_i phi(s), e.g. uniform per-inertia damping and turbines) get their
#: frequency responses from one symmetric eigendecomposition instead of an LU per
#: frequency (see :meth:`_LiftedNetwork._modal_response`); smaller ones keep the LU.
MODAL_MIN_NODES = 200
#: Relative spread of g_i^{-1}(s) / m_i across nodes below which they count as uniform.
MODAL_UNIFORM_RTOL = 1e-12
#: Relative asymmetry of the Laplacian below which it counts as symmetric.
MODAL_SYMMETRY_RTOL = 1e-12

#: Tolerance of the structural check that the zero mode is unobservable.
MARGINAL_MODE_RTOL = 1e-9


# ---------------------------------------------------------------------------- inputs
def _as_groups(groups, models, n):
    """Validated (names, node index arrays) of the node groups."""
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
    return [f"cluster {v}" for v in values], [np.flatnonzero(labels == v) for v in values]


def _time_grid(t):
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
class _GroupResponse:
    """One model's group outputs y, dy/dt and d2y/dt2 on the grid (nt, groups), and the DC values."""

    y: np.ndarray
    rate: np.ndarray
    acceleration: np.ndarray
    steady_state: np.ndarray


class _LiftedNetwork:
    """A network model seen from the original nodes, driven by u0 and observed per group.

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
        sim = simulate_lti(self.A, self.b[:, None], outputs, feedthrough, [1.0], Step(step), t)
        y, rate, acceleration = np.split(sim.y, 3, axis=1)
        return _GroupResponse(y, rate, acceleration, step * self.dc_gain())

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
            null = singular <= singular[0] * max(bordered.shape) * np.finfo(float).eps
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
        """
        if self.laurent[2] is None:
            return np.empty(0)
        eigenvalues = la.eigvals(self.A.toarray())
        scale = abs(self.A).sum(axis=0).max()
        tolerance = MARGINAL_MODE_RTOL * scale
        axis = (np.abs(eigenvalues.real) <= tolerance) & (eigenvalues.imag > tolerance)
        return eigenvalues.imag[axis]

    def dc_gain(self):
        """Limit of every group's unit-step response: the DC gain, or +-inf (sign of the ramp)."""
        ramp, constant, _ = self.laurent
        return np.where(ramp != 0.0, np.copysign(np.inf, ramp), constant)

    def group_systems(self):
        """One python-control SISO StateSpace per group, zero mode removed (dense)."""
        Q = la.null_space(self.marginal.T) if self.marginal.shape[1] else np.eye(self.A.shape[0])
        A = Q.T @ (self.A @ Q)
        B = (Q.T @ self.b)[:, None]
        C = np.asarray(self.C @ Q)
        return [control.ss(A, B, C[g:g + 1], self.d[g]) for g in range(C.shape[0])]

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
        rhs = self.network_input.astype(complex)
        for k, wk in enumerate(np.atleast_1d(w)):
            if deflated is None:
                modal = self._modal_response(1j * wk)
                out[k] = (modal if modal is not None else
                          self.network_output @ spla.splu(self.network.system_matrix(1j * wk)).solve(rhs))
            else:
                regular = self.C @ spla.splu((1j * wk * identity - self.A).tocsc()).solve(deflated.astype(complex))
                out[k] = ramp / (1j * wk) + regular + self.d
        return out


    @cached_property
    def _modal(self):
        """(inertia, eigenvalues, left, right) of the pencil (L, M), or None when not applicable.

        For networks of at least MODAL_MIN_NODES nodes with a symmetric Laplacian and
        positive inertia: S = M^{-1/2} L M^{-1/2} = U diag(lam) U^T once (dense, O(n^3)),
        left = W M^{-1/2} U, right = U^T M^{-1/2} u0 (see :meth:`_modal_response`).
        """
        model = self.network
        if model.n < MODAL_MIN_NODES or self.laurent[2] is not None:
            return None
        m = np.asarray(model.inertia, dtype=float)
        if m.shape != (model.n,) or not np.all(m > 0.0) or not np.all(np.isfinite(m)):
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
        ratio = self.network.nodes.inverse_transfer(s) / m
        phi = ratio.mean()
        if np.abs(ratio - phi).max() > MODAL_UNIFORM_RTOL * abs(phi):
            return None
        return left @ (right / (phi + complex(self.network.coupling(s)) * lam))


class _SampledModel:
    """A model known only by its sampled node responses (a callable or an object with ``response``)."""

    order = None

    def __init__(self, model, u0, weights, name, n):
        self.model, self.u0, self.weights, self.name, self.n = model, u0, weights, name, n

    def response(self, t, step):
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
        return _GroupResponse(y, rate, np.gradient(rate, t, axis=0, edge_order=2), y[-1].copy())


def _check_model(name, model, reference):
    """Raise unless ``model`` is a supported model on the reference's nodes."""
    if isinstance(model, ReducedNetwork):
        if model.original.n != reference.n:
            raise ValueError(f"model {name!r} reduces a network of {model.original.n} nodes; "
                             f"the reference has {reference.n}")
    elif isinstance(model, NetworkModel):
        if model.n != reference.n:
            raise ValueError(f"model {name!r} has {model.n} nodes; the reference has {reference.n} "
                             "(pass a ReducedNetwork to compare a k-node model on the original nodes)")
    elif not (callable(model) or callable(getattr(model, "response", None))):
        raise TypeError(f"model {name!r} must be a ReducedNetwork, a NetworkModel on the reference's nodes "
                        f"or a callable (u0, t) -> node responses; got {type(model).__name__}")


def _as_model(name, model, reference, u0, weights):
    if isinstance(model, NetworkModel):
        return _LiftedNetwork(model, u0, weights, name)
    return _SampledModel(model, u0, weights, name, reference.n)


# ---------------------------------------------------------------------------- features
def _hermite_extreme(t, y, rate):
    """(value, time) of the largest |y|, refined on the cubic Hermite interpolant.

    y and dy/dt at the samples determine a C^1 cubic on each interval whose error is
    O(h^4 |y''''|); the stationary points of the cubics on either side of the largest
    sample are compared with it.
    """
    k = int(np.argmax(np.abs(y)))
    best_value, best_time = float(y[k]), float(t[k])
    for i in (k - 1, k):
        if i < 0 or i + 1 >= t.size:
            continue
        h = t[i + 1] - t[i]
        y0, y1, d0, d1 = y[i], y[i + 1], rate[i] * h, rate[i + 1] * h
        # p(s) = y0 + d0 s + c2 s^2 + c3 s^3 on s in [0, 1].
        c2, c3 = 3.0 * (y1 - y0) - 2.0 * d0 - d1, 2.0 * (y0 - y1) + d0 + d1
        for s in np.roots([3.0 * c3, 2.0 * c2, d0]):
            if abs(s.imag) < 1e-12 and 0.0 < s.real < 1.0:
                s = s.real
                value = y0 + d0 * s + c2 * s**2 + c3 * s**3
                if abs(value) > abs(best_value):
                    best_value, best_time = float(value), float(t[i] + s * h)
    return best_value, best_time


def _settling_time(t, y, steady_state, band):
    """Last time |y - y_ss| leaves band * |y_ss| (band * max|y| when y_ss = 0), linearly interpolated.

    ``inf`` when the output is still outside the band at the last sample.
    """
    peak = float(np.max(np.abs(y)))
    tolerance = band * (abs(steady_state) if abs(steady_state) > 1e-9 * peak else peak)
    excess = np.abs(y - steady_state) - tolerance
    outside = np.flatnonzero(excess > 0)
    if outside.size == 0:
        return 0.0
    i = int(outside[-1])
    if i == t.size - 1:
        return math.inf
    return float(t[i] + (t[i + 1] - t[i]) * excess[i] / (excess[i] - excess[i + 1]))


def _features(t, response, g, band):
    nadir, nadir_time = _hermite_extreme(t, response.y[:, g], response.rate[:, g])
    steady_state = float(response.steady_state[g])
    # A diverging output (steady state +-inf) never enters a band around its limit.
    settling = _settling_time(t, response.y[:, g], steady_state, band) if math.isfinite(steady_state) else math.inf
    return {"nadir": nadir, "nadir_time": nadir_time,
            "max_rocof": abs(_hermite_extreme(t, response.rate[:, g], response.acceleration[:, g])[0]),
            "settling_time": settling, "steady_state": steady_state}


# ---------------------------------------------------------------------------- errors
def _sampled_hinf(reference, model, dc_difference):
    """sup_w |G_ref(jw) - G_mod(jw)| per group on a log grid, refined around its local maxima.

    The grid spans HINF_DECADES decades below 10 max(||A||_1) (which bounds every pole's
    modulus) plus w = 0 (``dc_difference``, exact). Around each of the HINF_PEAKS largest local
    maxima a bounded scalar search in log10 w between the neighbouring grid points
    locates the peak to 1e-6 in log10 w. A lightly damped resonance (width 2 zeta w0,
    far narrower than the 0.05-decade spacing) still raises its neighbouring grid
    values above the background, so it is found; the result is a lower bound that can
    miss a resonance hidden in the tail of a larger neighbour in the same interval.
    Undamped resonances (poles on the imaginary axis, see
    :attr:`_LiftedNetwork.undamped_frequencies`) that do not cancel give ``inf``.
    """
    top = 10.0 * max(abs(m.A).sum(axis=0).max() for m in (reference, model))
    grid = np.logspace(np.log10(top) - HINF_DECADES, np.log10(top), HINF_GRID_POINTS)

    def error(w):
        return np.abs(reference.frequency_response(w) - model.frequency_response(w))

    values = error(grid)
    result = np.maximum(values.max(axis=0), np.abs(dc_difference))
    # An undamped pole jw0 that the two models do not share with equal residues makes the
    # error unbounded. Moving 100 times closer to a pole multiplies |error| by ~100 and
    # leaves a regular point's value unchanged (w0 is exact to ~eps, far below the offsets).
    for w0 in np.union1d(reference.undamped_frequencies, model.undamped_frequencies):
        near, nearer = error(w0 * (1.0 + UNDAMPED_OFFSETS[0]))[0], error(w0 * (1.0 + UNDAMPED_OFFSETS[1]))[0]
        result[nearer > 10.0 * near] = np.inf
    for g in range(values.shape[1]):
        v = values[:, g]
        peaks = np.flatnonzero(np.r_[v[0] >= v[1], (v[1:-1] >= v[:-2]) & (v[1:-1] >= v[2:]), v[-1] >= v[-2]])
        for k in peaks[np.argsort(v[peaks])[::-1][:HINF_PEAKS]]:
            lo, hi = np.log10(grid[max(k - 1, 0)]), np.log10(grid[min(k + 1, grid.size - 1)])
            search = minimize_scalar(lambda x: -error(10.0 ** x)[0, g], bounds=(lo, hi), method="bounded",
                                     options={"xatol": 1e-6})
            result[g] = max(result[g], -search.fun)
    return result


def _sampled_errors(t, reference_response, model_response, reference, model):
    """L2 by the trapezoid rule over t, L-inf refined by Hermite interpolation, H-inf by sweep.

    For network models (exact DC values) a DC mismatch makes L2 infinite, as in
    :func:`~gridcoherence.report.metrics.step_error_metrics`; for sampled models, whose steady
    state is only their last sample, L2 is the finite-horizon value, L-inf the largest
    sample and H-inf is NaN. Groups where either output diverges (steady state +-inf)
    keep the finite-horizon L2 over t; their transfer-function difference at w = 0 is
    the difference of the constant terms when the two ramps (residues at s = 0) agree,
    else unbounded (H-inf = inf).
    """
    e = reference_response.y - model_response.y
    l2 = np.sqrt(np.trapezoid(e**2, t, axis=0))
    if not isinstance(model, _LiftedNetwork):
        # Finite-difference derivatives would make a Hermite refinement invent errors.
        return l2, np.abs(e).max(axis=0), np.full(e.shape[1], np.nan)
    rate = reference_response.rate - model_response.rate
    linf = np.array([abs(_hermite_extreme(t, e[:, g], rate[:, g])[0]) for g in range(e.shape[1])])
    (reference_ramp, reference_constant, _), (model_ramp, model_constant, _) = reference.laurent, model.laurent
    dc_error = reference_constant - model_constant
    diverging = (reference_ramp != 0.0) | (model_ramp != 0.0)
    l2[~diverging & (np.abs(dc_error) > SAMPLED_DC_RTOL * np.abs(reference_constant))] = np.inf
    # The ramps cancel only if the residues agree, e.g. when a reduction keeps the total inertia.
    ramp_mismatch = np.abs(reference_ramp - model_ramp) > SAMPLED_DC_RTOL * np.abs(reference_ramp)
    return l2, linf, _sampled_hinf(reference, model, np.where(ramp_mismatch, np.inf, dc_error))


def _exact_errors(reference_systems, model, step):
    results = [step_error_metrics(ref, mod, step) for ref, mod in zip(reference_systems, model.group_systems())]
    return (np.array([r.l2 for r in results]), np.array([r.linf for r in results]),
            np.array([r.hinf for r in results]))


# ---------------------------------------------------------------------------- table
def compare_step_responses(reference, models, *, u0, groups=None, t=None, step=1.0, settling_band=0.02,
                           reference_name="original", exact_limit=EXACT_STATE_LIMIT):
    """Table of step-response errors and frequency-response features per model and node group.

    Every model is driven by u(t) = step * u0 * 1(t) on the ORIGINAL nodes; each group's
    output is its inertia-weighted mean (centre of inertia) over the group's nodes.

    Parameters
    ----------
    reference : NetworkModel
        The original network.
    models : dict of str -> model
        Each model is a :class:`~gridcoherence.reduction.structure.ReducedNetwork` of the
        reference (compared through its lifted response, cluster outputs broadcast to
        their nodes), a :class:`~gridcoherence.NetworkModel` on the same n nodes, or a
        sampled model: a callable ``model(u, t)`` or an object with
        ``model.response(u, "step", t)`` returning the (len(t), n) node responses (array
        or :class:`~gridcoherence.models.simulate.TimeResponse`) to the step disturbance
        ``u = step * u0``.
    u0 : array_like, shape (n,), or int
        Disturbance shape (an int k is the unit vector e_k), p.u.
    groups : array_like of int (n,), dict of str -> array_like of int, or None
        Cluster label per node (groups named ``"cluster <label>"``), or named node sets
        (they may overlap but must together cover every node). By default the clusters
        of the first ReducedNetwork in ``models``, else one group ``"all"``.
    t : array_like, optional
        Uniform time grid from 0 (s) for the time-domain features and the sampled
        errors; default 0..60 s in 10 ms steps.
    step : float
        Step height (p.u.); nonzero.
    settling_band : float
        Relative band of the settling time, 0 < band < 1.
    reference_name : str
        The ``model`` entry of the reference's own rows.
    exact_limit : int
        Largest combined order of the two group systems for which the errors are exact.

    Returns
    -------
    pandas.DataFrame
        One row per (model, group), the reference first, with columns :data:`COLUMNS`:

        * ``n_nodes`` -- nodes in the group;
        * ``l2_error``, ``linf_error`` -- ||e||_2 and max_t |e(t)| of the group output's
          step-response error against the reference (0 on the reference's rows; l2 is
          ``inf`` when the steady states differ); on ``"finite horizon"`` rows the L2
          norm and the maximum over [0, t[-1]] only;
        * ``hinf_error`` -- ||G_ref - G_model||_inf of the group transfer functions
          u0 -> y_I (per unit step height; NaN only for sampled models, with a warning);
          ``inf`` when the difference has a pole on the imaginary axis: at s = 0 when the
          two ramps differ, at jw0 when an undamped mode does not cancel (lossless
          machines with a 1/s coupling: every electromechanical mode is undamped);
        * ``nadir`` -- the extreme of y_I (largest |y_I|, sign kept) and ``nadir_time``;
        * ``max_rocof`` -- max_t |dy_I/dt| for t > 0;
        * ``settling_time`` -- last time |y_I - y_ss| leaves ``settling_band * |y_ss|``
          (relative to max |y_I| when y_ss = 0), ``inf`` with a warning if the output
          has not settled by the end of ``t``, and ``inf`` when y_ss is infinite;
        * ``steady_state`` -- y_ss = lim y_I(t), exact (DC gain, not the last sample);
          ``+inf`` or ``-inf`` (the sign of the ramp) when the output sees a pole at
          s = 0: the output diverges; no steady state. With zero damping and no
          governors (e.g. the ``nets_nyps68`` and ``new_england39`` cases) every output
          follows the centre-of-inertia ramp step * sum(u0) / sum(m) * t;
        * ``error_method`` -- ``"reference"``, ``"exact"``, ``"sampled"`` or
          ``"finite horizon"`` (the model's or the reference's output diverges: the
          errors are over [0, t[-1]], computed as on the sampled path; one warning
          lists these rows).

        With outputs in rad/s (frequency deviation) and u in p.u. the units are those of
        :data:`UNITS` (``df.attrs["units"]``).

    Raises
    ------
    TypeError
        A reference that is not a NetworkModel, or a model of an unsupported type.
    ValueError
        Models on a different number of nodes, groups that do not cover the nodes or are
        malformed, a non-finite or wrongly sized u0, a bad t, step or band, models whose
        outputs see a pole at s = 0 that is not simple (a double integrator, or several
        undamped islands).
    IndexError
        Group node indices or an int u0 outside 0..n-1.

    Notes
    -----
    Errors, exact path (networks whose group systems have combined order
    <= ``exact_limit``): each group output is formed as a python-control SISO
    ``StateSpace`` (input sigma(t), output y_I) with the coupling's unobservable zero
    mode removed exactly (see :class:`_LiftedNetwork`), and passed to
    :func:`gridcoherence.report.metrics.step_error_metrics`: exact infinite-horizon L2,
    L-inf, and AB13DD H-inf, so the table agrees with the metric functions to rounding.

    Errors, sampled path (larger networks, or sampled models): both responses come from
    the sparse simulator (:func:`~gridcoherence.models.simulate.simulate_lti`, exact at the
    samples up to unit roundoff) on ``t``; L2 is the trapezoid rule over ``t``
    (relative error O(h^2) plus the tail beyond ``t[-1]``, so ``t`` must cover the
    decay), L-inf the largest sample refined on the cubic Hermite interpolant (exact
    derivatives, error O(h^4)), H-inf a sweep over 160 log-spaced frequencies (8
    decades below 10 ||A||_1, which bounds every pole) refined by a bounded search
    around its 5 largest local maxima (a lower bound; it can miss a resonance hidden
    in a larger neighbour's tail within one grid interval). Each frequency costs one
    sparse LU of the network matrix, except for networks of at least
    :data:`MODAL_MIN_NODES` nodes whose node dynamics are equal per unit inertia
    (g_i^{-1}(s) = m_i phi(s), checked at every frequency): there one symmetric
    eigendecomposition of M^{-1/2} L M^{-1/2} gives every frequency in O(groups n),
    the same values to rounding (~1e-13 relative on case9241pegase, where it cuts the
    table from ~6 min to ~20 s, now mostly the time simulation).

    Features: y_I, dy_I/dt = C (A x + b sigma) and d2y_I/dt2 are simulated together
    (exact at the samples); the nadir is the largest |y_I| sample refined on the cubic
    Hermite interpolant of (y_I, dy_I/dt), the RoCoF likewise from (dy_I/dt,
    d2y_I/dt2): error O(h^4) in the value, so a grid that resolves the fastest
    oscillation to a few samples per period gives 4-5 digits (for swing nodes the RoCoF
    is often its t = 0+ value u_I / m_I, exact). The steady state is the DC gain from a
    sparse bordered solve. Sampled models get second-order finite-difference
    derivatives and their last sample as steady state.

    Outputs without a steady state: when the bordered matrix is singular, its null
    vectors (dense SVD, O(order^3), only for such models) give the residue of the pole
    at s = 0 exactly (see :class:`_LiftedNetwork`), nonzero for outputs that ramp. Their
    rows take the sampled path on the finite horizon of ``t``; at w = 0 the error's
    transfer function is the difference of the constant terms when the residues agree
    (a structure-preserving reduction keeps the total inertia, hence the ramp) and
    unbounded otherwise.

    Cost: one sparse simulation per model plus, on the exact path, O(order^2) per time
    sample of the L-inf search in :func:`~gridcoherence.report.metrics.step_error_metrics` per
    group (about 1 s per group for Kundur's 4 machines).

    Examples
    --------
    >>> from gridcoherence.cases.loader import load_case
    >>> from gridcoherence.reduction.structure import structure_preserving_reduction
    >>> model = load_case("kundur_two_area").model
    >>> reduced = structure_preserving_reduction(model, 2)
    >>> import warnings, numpy as np
    >>> with warnings.catch_warnings(record=True) as caught:  # Kundur's modes ring for minutes
    ...     warnings.simplefilter("always")
    ...     table = compare_step_responses(model, {"k=2": reduced}, u0=0, step=-0.1,
    ...                                    t=np.linspace(0.0, 20.0, 401))
    >>> str(caught[0].message)[:41]
    'outputs still outside the 0.02 settling b'
    >>> table[["model", "group", "n_nodes"]].values.tolist()
    [['original', 'cluster 0', 2], ['original', 'cluster 1', 2], ['k=2', 'cluster 0', 2], ['k=2', 'cluster 1', 2]]
    >>> bool((table["steady_state"] < 0).all())
    True
    """
    if not isinstance(reference, NetworkModel):
        raise TypeError(f"reference must be a NetworkModel, got {type(reference).__name__}")
    if not isinstance(models, dict):
        raise TypeError(f"models must be a dict of name -> model, got {type(models).__name__}")
    if str(reference_name) in map(str, models):
        raise ValueError(f"a model is named {reference_name!r}, the name of the reference's rows; "
                         "rename it or pass reference_name=")
    u0 = reference.input_shape(u0)
    step = float(step)
    if not math.isfinite(step) or step == 0.0:
        raise ValueError(f"step must be a finite nonzero height, got {step!r}")
    settling_band = float(settling_band)
    if not 0.0 < settling_band < 1.0:
        raise ValueError(f"settling_band must be in (0, 1), got {settling_band!r}")
    t = _time_grid(t)
    for name, model in models.items():
        _check_model(str(name), model, reference)
    names, members = _as_groups(groups, models, reference.n)
    weights = reference.center_of_inertia_weights(members)

    base = _LiftedNetwork(reference, u0, weights, str(reference_name))
    candidates = {str(name): _as_model(str(name), model, reference, u0, weights) for name, model in models.items()}
    base_response = base.response(t, step)
    reference_systems = None
    rows = []

    def add_rows(label, response, errors, methods):
        for g, (group, nodes) in enumerate(zip(names, members)):
            row = {"model": label, "group": group, "n_nodes": int(nodes.size),
                   "l2_error": float(errors[0][g]), "linf_error": float(errors[1][g]),
                   "hinf_error": float(errors[2][g])}
            row.update(_features(t, response, g, settling_band))
            row["error_method"] = methods[g]
            rows.append(row)

    zeros = np.zeros(len(names))
    add_rows(str(reference_name), base_response, (zeros, zeros, zeros), ["reference"] * len(names))
    for name, candidate in candidates.items():
        response = candidate.response(t, step)
        # Infinite-horizon errors do not exist when either output ramps: those groups are
        # measured on t, and their whole model takes the sampled path (the exact metrics
        # need stable group systems).
        diverging = ~np.isfinite(base_response.steady_state) | ~np.isfinite(response.steady_state)
        if (candidate.order is not None and base.order + candidate.order <= exact_limit
                and not diverging.any()):
            if reference_systems is None:
                reference_systems = base.group_systems()
            errors, method = _exact_errors(reference_systems, candidate, step), "exact"
        else:
            errors, method = _sampled_errors(t, base_response, response, base, candidate), "sampled"
        add_rows(name, response, errors, np.where(diverging, "finite horizon", method))
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    numeric = table.select_dtypes("number")
    nan_columns = [c for c in numeric.columns if numeric[c].isna().any() and c != "hinf_error"]
    if nan_columns:
        raise ArithmeticError(f"the comparison produced NaN in {nan_columns}")
    sampled = [name for name, c in candidates.items() if isinstance(c, _SampledModel)]
    if sampled:
        warnings.warn(f"models {sampled} are only known by samples: their steady state is the last sample, "
                      "their RoCoF a finite difference and their H-infinity error is not available (NaN)",
                      stacklevel=2)
    diverging = np.isinf(table["steady_state"]) | (table["error_method"] == "finite horizon")
    if diverging.any():
        pairs = ", ".join(f"{m}/{g}" for m, g in table.loc[diverging, ["model", "group"]].itertuples(index=False))
        warnings.warn(f"outputs with a pole at s = 0 diverge and have no steady state (steady_state = +-inf, "
                      f"settling_time = inf), or are compared with one that does; their errors are over the "
                      f"finite horizon [0, {t[-1]:g}] s of t (error_method 'finite horizon'): {pairs}",
                      stacklevel=2)
    unsettled = table.loc[np.isinf(table["settling_time"]) & ~diverging, ["model", "group"]]
    if len(unsettled):
        pairs = ", ".join(f"{m}/{g}" for m, g in unsettled.itertuples(index=False))
        warnings.warn(f"outputs still outside the {settling_band:g} settling band at t = {t[-1]:g} s "
                      f"(settling_time = inf): {pairs}; pass a longer t", stacklevel=2)
    table.attrs["units"] = dict(UNITS)
    return table


# ---------------------------------------------------------------------------- export
def _format_cell(value):
    if isinstance(value, (float, np.floating)):
        return f"{value:.6g}"
    return str(value)


def table_to_markdown(table):
    """A GitHub-flavoured Markdown table (numbers right-aligned, 6 significant digits)."""
    numeric = [pd.api.types.is_numeric_dtype(table[c]) for c in table.columns]
    header = "| " + " | ".join(map(str, table.columns)) + " |"
    rule = "|" + "|".join("---:" if is_number else ":---" for is_number in numeric) + "|"
    body = ["| " + " | ".join(_format_cell(v).replace("|", "\\|") for v in row) + " |"
            for row in table.itertuples(index=False)]
    return "\n".join([header, rule, *body]) + "\n"


def export_table(table, path):
    """Write a comparison table as CSV, Markdown or LaTeX, chosen by the suffix, atomically.

    Parameters
    ----------
    table : pandas.DataFrame
        E.g. from :func:`compare_step_responses`.
    path : str or Path
        Ends in ``.csv`` (full precision), ``.md`` (GitHub Markdown) or ``.tex``
        (booktabs ``tabular``); numbers in Markdown and LaTeX have 6 significant digits.

    Returns
    -------
    pathlib.Path
        The written file.

    Examples
    --------
    >>> import tempfile, pathlib, pandas as pd
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> export_table(pd.DataFrame({"model": ["a"], "l2_error": [0.5]}), folder / "t.md").read_text()
    '| model | l2_error |\\n|:---|---:|\\n| a | 0.5 |\\n'
    """
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"table must be a pandas DataFrame, got {type(table).__name__}")
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        text = table.to_csv(index=False)
    elif suffix == ".md":
        text = table_to_markdown(table)
    elif suffix == ".tex":
        text = table.to_latex(index=False, escape=True, float_format=_format_cell)
    else:
        raise ValueError(f"unknown table format {path.suffix!r}; use .csv, .md or .tex")
    if not path.parent.is_dir():
        raise FileNotFoundError(f"folder {path.parent} does not exist")
    with atomic_write(path, newline="") as handle:
        handle.write(text)
    return path
