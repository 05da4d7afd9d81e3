"""Reduced-order aggregate machines for a coherent group (dissertation Sec. 3.3).

The aggregate of swing-with-turbine nodes (3.85),

    ghat(s) = 1 / (mhat s + dhat + ghat_t(s)),   ghat_t(s) = sum_j q_j / (tau_j s + 1),

has order 1 + (number of distinct turbine time constants). Two reductions by Enns'
frequency-weighted balanced truncation (:mod:`gridcoherence.reduction.balanced`):

* ``"tb"``: reduce the turbine aggregate ghat_t to order k - 1 and close the loop with
  the exact swing part, (3.87);
* ``"cl"``: reduce the closed loop ghat to order k directly.

Both are rescaled to ghat's exact DC gain (the closed loop is scaled) and
interpreted as one machine m~ s + d~ with first-order turbines by polynomial division
and partial fractions. The classical one-turbine aggregates of Germond & Podmore and
Guggilam et al. are provided as baselines.

Large groups (10^5 distinct turbines) use a structured path: the closed-loop state
matrix is an arrow matrix (diagonal turbine block bordered by the swing state), so
shifted solves cost O(p); the gramians have tiny numerical rank and are approximated
by Galerkin projection onto a rational Krylov space, then reduced by the same
projection code as the dense method.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import control
import numpy as np
import scipy.linalg as la

from .._numeric import tall_qr
from ..coherence.aggregate import coherent_aggregate
from .balanced import balanced_truncation, controllability_factor
from ..models.lti import as_stable_weight, dc_gain
from ..models.nodes import SwingTurbineNodes

__all__ = [
    "DEFAULT_WEIGHTS",
    "MINIMUM_ORDER",
    "MINIMUM_ORDER_REASON",
    "AUTO_ORDER_RTOL",
    "band_pass_weight",
    "as_frequency_weight",
    "auto_order",
    "AggregateInterpretation",
    "AggregateReduction",
    "reduce_aggregate",
    "interpret_machine",
    "first_order_terms",
    "closed_loop_system",
    "turbine_system",
    "germond_podmore_aggregate",
    "ArrowMatrix",
    "guggilam_aggregate",
]

#: Default weights of Sec. 3.3.3: W_tb = (s + 3e-2)/(s + 1e-4), W_cl = (s + 8e-2)/(s + 1e-4).
DEFAULT_WEIGHTS = {
    "tb": control.tf([1.0, 3e-2], [1.0, 1e-4]),
    "cl": control.tf([1.0, 8e-2], [1.0, 1e-4]),
}

#: Number of distinct turbines from which the structured (low-rank) path is used.
STRUCTURED_THRESHOLD = 400

#: Lowest physically meaningful order of the reduced closed loop per method: the swing
#: state and at least one turbine state. A first-order "machine" 1/(m~ s + d~) would fold
#: the governors into an instantaneous damping d~: its step response falls monotonically
#: to the steady state, with no nadir and the wrong rate of change of frequency, so
#: neither method goes below order 2. "tb" reduces the turbine aggregate to order - 1
#: states and closes the loop with the exact swing state; "cl" reduces the closed loop.
MINIMUM_ORDER = {"cl": 2, "tb": 2}

#: Why the minimum is what it is, in words for error messages.
MINIMUM_ORDER_REASON = ("an aggregate machine keeps its swing state and at least one turbine state; "
                        "order 1 would fold the governors into an instantaneous damping, with no nadir")

#: :func:`auto_order` keeps the fewest states whose discarded weighted Hankel singular
#: values sum to at most this fraction of their total.
AUTO_ORDER_RTOL = 0.01


def band_pass_weight(w_low, w_high):
    """Second-order Butterworth band-pass weight with its -3 dB edges at w_low and w_high (rad/s).

    W(s) = B s / (s^2 + B s + w0^2) with B = w_high - w_low and w0 = sqrt(w_low w_high)
    (:func:`scipy.signal.butter` with N = 1, ``btype="bandpass"``, ``analog=True``): unit
    gain at w0, |W| = 1/sqrt(2) at both edges, rolling off as w and 1/w outside. As a
    weight of Enns' method it makes the balanced truncation accurate on the band; the
    reduced aggregate's DC gain is matched separately (``match_dc``), since W(0) = 0.

    Parameters
    ----------
    w_low, w_high : float
        Band edges, 0 < w_low < w_high (rad/s).

    Returns
    -------
    control.TransferFunction

    Examples
    --------
    >>> weight = band_pass_weight(0.1, 10.0)
    >>> round(float(abs(weight(1j))), 6), round(float(abs(weight(0.1j))), 6)
    (1.0, 0.707107)
    """
    import scipy.signal

    w_low, w_high = float(w_low), float(w_high)
    if not (np.isfinite(w_low) and np.isfinite(w_high) and 0.0 < w_low < w_high):
        raise ValueError(f"a band weight needs 0 < w_low < w_high (rad/s), got ({w_low!r}, {w_high!r})")
    num, den = scipy.signal.butter(1, [w_low, w_high], btype="bandpass", analog=True)
    return control.tf(num, den)


def as_frequency_weight(weight, name="weight"):
    """A frequency weight given as an LTI object, a band ``(w_low, w_high)`` in rad/s, or None.

    A band becomes :func:`band_pass_weight`; an LTI object (python-control
    ``TransferFunction`` or ``StateSpace``) is returned as it is (its stability is
    checked where it is used); None stays None.
    """
    if weight is None or isinstance(weight, (control.TransferFunction, control.StateSpace)):
        return weight
    if isinstance(weight, (tuple, list, np.ndarray)) and np.shape(weight) == (2,):
        return band_pass_weight(*weight)
    raise TypeError(f"{name} must be a python-control LTI object or a band (w_low, w_high) in rad/s, "
                    f"got {type(weight).__name__}")


@dataclass(frozen=True)
class AggregateInterpretation:
    """One equivalent machine: 1 / (m s + d + sum_j gain_j / (tau_j s + 1)).

    Attributes
    ----------
    m, d : float
        Equivalent inertia and damping (quotient of the polynomial division D = Q N + R).
    turbine_gain, turbine_tau : ndarray
        First-order turbines from partial fractions of R/N (complex where a pole of N
        is complex).
    physical : bool
        True when m > 0, d >= 0, every turbine pole is real and every gain and time
        constant positive.
    reason : str
        Why the interpretation is not physical ("" when it is).
    """

    m: float
    d: float
    turbine_gain: np.ndarray
    turbine_tau: np.ndarray
    physical: bool
    reason: str

    def to_nodes(self):
        """The equivalent machine as a one-node :class:`SwingTurbineNodes` (physical only)."""
        if not self.physical:
            raise ValueError(f"the reduced model has no physical interpretation: {self.reason}")
        return SwingTurbineNodes(
            [self.m], [self.d], turbine_gain=self.turbine_gain.real, turbine_tau=self.turbine_tau.real,
            turbine_node=np.zeros(self.turbine_gain.size, dtype=np.int64),
        )


@dataclass(frozen=True)
class AggregateReduction:
    """How a reduced aggregate machine was made, and what it is.

    Attributes
    ----------
    method : {"tb", "cl"}
    order : int
        Order of the reduced closed loop, the order actually used.
    full_order : int
        Order of the aggregate ghat, 1 + its distinct turbines.
    weight : control.TransferFunction
        Output weight used by Enns' method.
    input_weight : control.TransferFunction or None
        Input weight used by Enns' method (None: none).
    hankel_singular_values : ndarray
        Weighted Hankel singular values of the reduced object (turbine aggregate for
        "tb", closed loop for "cl").
    dc_scale : float
        Factor applied to the reduced closed loop to match ghat(0) exactly (1 if
        ``match_dc=False``).
    system : control.StateSpace
        The reduced closed loop (after DC scaling).
    turbine : control.StateSpace or None
        "tb" only: the reduced turbine aggregate g_t,k-1 before DC scaling.
    interpretation : AggregateInterpretation
        Of ``system``.
    structured : bool
        Whether the low-rank structured path computed the gramians.
    """

    method: str
    order: int
    full_order: int
    weight: control.TransferFunction
    input_weight: control.TransferFunction | None
    hankel_singular_values: np.ndarray
    dc_scale: float
    system: control.StateSpace
    turbine: control.StateSpace | None
    interpretation: AggregateInterpretation
    structured: bool = field(default=False)

    @property
    def reduced(self):
        """Whether the order is below the aggregate's: False when the "reduction" is the aggregate itself."""
        return self.order < self.full_order

    def to_nodes(self):
        """The interpretation as a one-node :class:`SwingTurbineNodes` (raises if not physical)."""
        return self.interpretation.to_nodes()


def turbine_system(aggregate):
    """ghat_t(s) = sum_j q_j/(tau_j s + 1) as a StateSpace with diagonal A (order p)."""
    tau, gain = aggregate.turbine_tau, aggregate.turbine_gain
    return control.ss(np.diag(-1.0 / tau), (gain / tau)[:, None], np.ones((1, tau.size)), 0.0)


def _close_swing_loop(m, d, turbine):
    """1 / (m s + d + turbine(s)) as a StateSpace with states [w; turbine states]."""
    At, Bt, Ct, Dt = (np.asarray(x, dtype=float) for x in (turbine.A, turbine.B, turbine.C, turbine.D))
    damping = d + Dt[0, 0]
    A = np.block([[np.array([[-damping / m]]), -Ct / m], [Bt, At]])
    B = np.vstack([[1.0 / m], np.zeros((At.shape[0], 1))])
    C = np.hstack([[[1.0]], np.zeros((1, At.shape[0]))])
    return control.ss(A, B, C, 0.0)


def closed_loop_system(aggregate):
    """ghat(s) of a one-node family aggregate (3.85) as a StateSpace of order 1 + p."""
    aggregate = _as_one_node(aggregate)
    return _close_swing_loop(aggregate.m[0], aggregate.d[0], turbine_system(aggregate))


def _as_one_node(aggregate, group=None):
    if not isinstance(aggregate, SwingTurbineNodes):
        raise TypeError(
            f"expected a SwingTurbineNodes aggregate (or family nodes with a group), got {type(aggregate).__name__}"
        )
    if group is not None or aggregate.n != 1:
        aggregate = coherent_aggregate(aggregate, group)
    if aggregate.n_turbines == 0:
        raise ValueError("the aggregate has no turbines; it is already first order")
    return aggregate


def first_order_terms(numerator, denominator):
    """Partial fractions of a strictly proper N(s)/D(s) as sum_j gain_j / (tau_j s + 1).

    Distinct poles p_j with residues c_j give tau_j = -1/p_j and gain_j = c_j tau_j
    (complex for complex poles). Raises ``ValueError`` for a pole at 0 or repeated poles.
    """
    residues, poles, direct = _residue(numerator, denominator)
    if np.any(np.abs(poles) == 0):
        raise ValueError("a pole at s = 0 has no first-order-turbine form")
    tau = -1.0 / poles
    return residues * tau, tau


def _residue(numerator, denominator):
    import scipy.signal

    residues, poles, direct = scipy.signal.residue(numerator, denominator)
    if np.unique(np.round(poles, 10)).size < poles.size:
        raise ValueError("repeated poles: no partial fractions into first-order terms")
    return residues, poles, direct


def interpret_machine(system):
    """Polynomial division of a reduced closed loop g = N/D into machine + turbines.

    D = Q N + R with Q = m~ s + d~ (equivalent inertia and damping) and R/N expanded in
    first-order turbines (Sec. 3.3.2, after (3.87)). The relative degree of g must be 1.

    Parameters
    ----------
    system : control.StateSpace or TransferFunction, SISO

    Returns
    -------
    AggregateInterpretation
    """
    tf = control.tf(system)
    num = np.trim_zeros(np.atleast_1d(tf.num[0][0]).astype(float), "f")
    den = np.trim_zeros(np.atleast_1d(tf.den[0][0]).astype(float), "f")
    if den.size - num.size != 1:
        raise ValueError(
            f"the reduced model has relative degree {den.size - num.size}; a machine with turbines has 1"
        )
    quotient, remainder = np.polydiv(den, num)
    m, d = float(quotient[0]), float(quotient[1])
    remainder = np.trim_zeros(remainder, "f")
    reasons = []
    if remainder.size == 0:
        gain, tau = np.zeros(0), np.zeros(0)
    else:
        gain, tau = first_order_terms(remainder, num)
    if not m > 0:
        reasons.append(f"equivalent inertia m = {m:.6g} is not positive")
    if not d >= 0:
        reasons.append(f"equivalent damping d = {d:.6g} is negative")
    if np.any(np.abs(np.imag(tau)) > 0):
        reasons.append("the turbine part has complex poles")
    else:
        gain, tau = gain.real, tau.real
        if np.any(tau <= 0):
            reasons.append("a turbine time constant is not positive (unstable turbine pole)")
        if np.any(gain <= 0):
            reasons.append(f"a turbine gain is not positive ({', '.join(f'{g:.6g}' for g in gain)})")
    order = np.argsort(np.real(tau))
    return AggregateInterpretation(m, d, gain[order], tau[order], not reasons, "; ".join(reasons))


def germond_podmore_aggregate(aggregate, group=None):
    """Germond & Podmore's one-turbine aggregate (baseline of Table 3-II).

    q = sum q_j and tau = sum q_j / sum (q_j / tau_j), which matches the turbine
    aggregate's DC gain and its high-frequency behaviour q/(tau s) (this
    choice reproduces the published row to about 0.5 %).

    Returns
    -------
    SwingTurbineNodes
        One node: mhat, dhat and the single turbine.
    """
    aggregate = _as_one_node(aggregate, group)
    gain = aggregate.turbine_gain.sum()
    tau = gain / np.sum(aggregate.turbine_gain / aggregate.turbine_tau)
    return SwingTurbineNodes(aggregate.m, aggregate.d, turbine_gain=[gain], turbine_tau=[tau])


def guggilam_aggregate(aggregate, group=None):
    """One-turbine aggregate standing in for Guggilam et al.'s model (Table 3-II baseline).

    q = sum q_j and tau = the droop-weighted mean sum q_j tau_j / sum q_j (matching the
    turbine aggregate's first moment, i.e. the derivative of ghat_t at s = 0). The
    dissertation does not give enough detail to rebuild the published model, so this
    choice is ours;
    for the Table 3-I group (tau = 5.64 s) this row differs from the published one (see
    ``table3_2``: the published L2/Linf are matched by tau near 3.66 s only, and no
    single-turbine tau also matches its H-inf value).
    """
    aggregate = _as_one_node(aggregate, group)
    gain = aggregate.turbine_gain.sum()
    tau = np.sum(aggregate.turbine_gain * aggregate.turbine_tau) / gain
    return SwingTurbineNodes(aggregate.m, aggregate.d, turbine_gain=[gain], turbine_tau=[tau])


@dataclass(frozen=True)
class ArrowMatrix:
    """Arrow matrix [[corner, row^T], [column, diag(diagonal)]] of order 1 + p.

    The closed loop (3.85) with turbine states is of this form (diagonal turbine block,
    bordered by the swing state); the turbine aggregate alone is the case p >= 1 with
    zero border. Products and shifted solves cost O(p) per column.
    """

    corner: float
    row: np.ndarray
    column: np.ndarray
    diagonal: np.ndarray

    def matmat(self, X):
        """M @ X for X of shape (1 + p, k)."""
        top = self.corner * X[:1] + self.row @ X[1:]
        return np.vstack([top, self.column[:, None] * X[:1] + self.diagonal[:, None] * X[1:]])

    def shifted_solve(self, shift, Y, transpose=False):
        """Solve (M + shift I) X = Y (or with M^T) by the Schur complement of the corner."""
        row, column = (self.column, self.row) if transpose else (self.row, self.column)
        inverse_diagonal = 1.0 / (self.diagonal + shift)
        complement = self.corner + shift - row @ (inverse_diagonal * column)
        top = (Y[:1] - row @ (inverse_diagonal[:, None] * Y[1:])) / complement
        return np.vstack([top, inverse_diagonal[:, None] * (Y[1:] - column[:, None] * top)])


def _structured_operator(aggregate, method):
    """(ArrowMatrix, B, C) of ghat ("cl") or ghat_t ("tb") in coordinates with A + A^T <= 0.

    Turbine states are scaled by sqrt(m q_j / tau_j) so that the swing-turbine coupling
    is skew-symmetric; then every Galerkin projection V^T A V (V orthonormal) is stable.
    """
    m, d = float(aggregate.m[0]), float(aggregate.d[0])
    gain, tau = aggregate.turbine_gain, aggregate.turbine_tau
    p = gain.size
    if method == "tb":
        # Diagonal A embedded as an arrow with a decoupled, unobservable, uncontrollable
        # extra state (removed again by the projection basis, which never touches it).
        matrix = ArrowMatrix(-1.0, np.zeros(p), np.zeros(p), -1.0 / tau)
        scale = np.sqrt(gain)
        B = np.r_[0.0, scale / tau][:, None]
        C = np.r_[0.0, scale][None, :]
    else:
        coupling = np.sqrt(gain / (m * tau))
        matrix = ArrowMatrix(-d / m, -coupling, coupling, -1.0 / tau)
        B = np.r_[1.0 / m, np.zeros(p)][:, None]
        C = np.r_[1.0, np.zeros(p)][None, :]
    return matrix, B, C


def _rational_krylov_basis(matrix, B, C, shifts, rank_tol=1e-13):
    """Orthonormal basis of span{(A + s I)^{-1} B, (A^T + s I)^{-1} C^T : s in shifts} and of B, C^T.

    For the closed loop ("cl", :func:`_structured_operator`) the border is skew (row =
    -column), so A^T = J A J with J = diag(1, -I), and B, C^T lie along e_1 = J e_1: each
    solve with A^T is J times the solve with A, and the space is e_1 plus the turbine parts
    of the solves with A -- half the columns to orthonormalise, the same span.
    """
    along_first = B[0, 0] != 0.0 and C[0, 0] != 0.0 and not np.any(B[1:]) and not np.any(C[:, 1:])
    if along_first and np.array_equal(matrix.row, -matrix.column):
        first = np.zeros_like(B)
        first[0] = 1.0
        turbine = _orthonormal_columns(np.hstack([matrix.shifted_solve(s, first)[1:] for s in shifts]), rank_tol)
        basis = np.zeros((1 + turbine.shape[0], 1 + turbine.shape[1]))
        basis[0, 0] = 1.0
        basis[1:, 1:] = turbine
        return basis
    blocks = [matrix.shifted_solve(s, B) for s in shifts] + [matrix.shifted_solve(s, C.T, True) for s in shifts]
    return _orthonormal_columns(np.hstack(blocks + [B, C.T]), rank_tol)


def _orthonormal_columns(X, rank_tol):
    """Orthonormal basis of the numerical range of X: singular values above ``rank_tol`` times the largest.

    The gramians' numerical rank is small, so the rational Krylov vectors are nearly
    dependent; the directions below the threshold are dropped.
    """
    Q, R = tall_qr(X)
    U, sigma, _ = la.svd(R, full_matrices=False)
    keep = sigma > rank_tol * sigma[0]
    return Q @ U[:, keep]


def _structured_reduction(aggregate, method, order, weight, input_weight, balancing, n_shifts=40,
                          residual_tol=1e-6):
    """Galerkin projection onto a rational Krylov space, then dense Enns FWBT.

    Projection onto the orthonormal basis V gives gramians V P_r V^T; balanced
    truncation of (V^T A V, V^T B, C V) with these factors is exactly the projection
    step of the dense method with low-rank factors, so the reduced model agrees with the
    dense one up to the gramian approximation error. That error is checked by the
    normalized Lyapunov residual of the controllability gramian (``ArithmeticError``
    above ``residual_tol``; at 40 shifts it is ~1e-8 and the reduced model matches the
    dense one to ~1e-13 at 2,000 turbines). Shifts: 0 and ``n_shifts`` log-spaced
    points from a tenth of the slowest rate (turbine, swing or weight pole) to ten
    times the fastest. Cost O(p n_shifts^2).
    """
    matrix, B, C = _structured_operator(aggregate, method)
    rates = np.abs(np.r_[matrix.diagonal, matrix.corner])
    low = min(rates.min(), weight_pole_scale(weight),
              np.inf if input_weight is None else weight_pole_scale(input_weight)) / 10.0
    shifts = np.r_[0.0, np.geomspace(low, 10.0 * rates.max(), n_shifts)]
    basis = _rational_krylov_basis(matrix, B, C, shifts)
    A_basis = matrix.matmat(basis)
    Ar, Br, Cr = basis.T @ A_basis, basis.T @ B, C @ basis
    small = control.ss(Ar, Br, Cr, 0.0)
    S = controllability_factor(Ar, Br)
    residual = _lyapunov_residual(basis, A_basis, Ar, Br, S @ S.T, B)
    if not residual <= residual_tol:
        raise ArithmeticError(
            f"low-rank gramian did not converge (relative Lyapunov residual {residual:.1e}); "
            f"use structured=False"
        )
    result = balanced_truncation(small, order, input_weight=input_weight, output_weight=weight, method=balancing)
    return result.system, result.hankel_singular_values


def weight_pole_scale(weight):
    """Smallest pole magnitude of a stable weight (sets the lowest Krylov shift)."""
    poles = np.abs(la.eigvals(weight.A)) if weight.nstates else np.array([np.inf])
    return float(poles.min())


def _lyapunov_residual(basis, A_basis, Ar, Br, P_small, B):
    """Normalized residual ||A X + X A^T + B B^T|| / (2 ||A V|| ||P|| + ||B^T B||), X = V P V^T (a bound).

    Frobenius norms; the normalization by the size of the terms makes the value
    comparable across scalings (rounding alone leaves ~1e-8 on these problems). With
    A_r = V^T A V, B_r = V^T B and W = A V - V A_r, the part of A V orthogonal to V, the
    residual is V E V^T + W P V^T + V P W^T (E = A_r P + P A_r^T + B_r B_r^T), three
    mutually orthogonal terms of norm sqrt(||E||^2 + 2 ||W P||^2), plus the terms of the
    part B - V B_r of B outside V (rounding: B is in the basis), bounded by
    ||B - V B_r|| (||B - V B_r|| + 2 ||B_r||). O(p r^2), no factorisation.
    """
    outside = A_basis - basis @ Ar
    E = Ar @ P_small + P_small @ Ar.T + Br @ Br.T
    B_outside = la.norm(B - basis @ Br)
    residual = np.sqrt(la.norm(E) ** 2 + 2.0 * la.norm(outside @ P_small) ** 2) \
        + B_outside * (B_outside + 2.0 * la.norm(Br))
    return residual / (2.0 * la.norm(A_basis) * la.norm(P_small) + la.norm(B.T @ B))


def reduce_aggregate(aggregate, order, method="cl", weight=None, *, input_weight=None, group=None,
                     match_dc=True, structured=None, balancing="bfsr"):
    """Reduced-order aggregate machine by frequency-weighted balanced truncation.

    Parameters
    ----------
    aggregate : SwingTurbineNodes
        A one-node family aggregate (from :func:`coherent_aggregate`), or family nodes
        together with ``group`` (aggregated here).
    order : int
        Order k of the reduced closed loop, from :data:`MINIMUM_ORDER` [method] (2) to the aggregate's own order 1 + p (which keeps it:
        ``reduced`` is then False).
    method : {"cl", "tb"}
        Reduce the closed loop ghat, or the turbine aggregate to order k - 1 and close
        the loop (3.87).
    weight : control.TransferFunction or StateSpace, or (w_low, w_high), optional
        Stable SISO output weight, or a band in rad/s (:func:`band_pass_weight`);
        default :data:`DEFAULT_WEIGHTS` [method].
    input_weight : control.TransferFunction or StateSpace, or (w_low, w_high), optional
        Stable SISO input weight (two-sided Enns weighting); none by default.
    group : array_like of int, optional
        Node indices of the coherent group when ``aggregate`` has several nodes.
    match_dc : bool
        Scale the reduced closed loop to ghat(0) exactly (footnote 5 of the text).
    structured : bool, optional
        Use the low-rank structured gramians; by default when the aggregate has at
        least ``STRUCTURED_THRESHOLD`` distinct turbines.
    balancing : {"bfsr", "sr"}
        Projection variant (see :func:`gridcoherence.reduction.balanced.project_balanced`).

    Returns
    -------
    AggregateReduction

    Notes
    -----
    Dense path: O(p^3) for p distinct turbines. Structured path: O(p r^2) for a
    rational Krylov space of dimension r (r ~ 30-80 here), i.e. linear in p; the
    benchmark ``scripts/bench_aggregate_reduction.py`` measures both.

    Examples
    --------
    >>> from gridcoherence.models.nodes import SwingTurbineNodes
    >>> agg = SwingTurbineNodes([0.0683], [0.0107],
    ...     turbine_gain=[[0.0218, 0.0256, 0.0236, 0.0255, 0.0192]],
    ...     turbine_tau=[[9.08, 5.26, 2.29, 7.97, 3.24]])
    >>> red = reduce_aggregate(agg, 2, "cl")
    >>> red.interpretation.physical, round(red.interpretation.m, 4)
    (True, 0.0672)
    """
    if method not in ("cl", "tb"):
        raise ValueError(f"method must be 'cl' or 'tb', got {method!r}")
    aggregate = _as_one_node(aggregate, group)
    m, d = float(aggregate.m[0]), float(aggregate.d[0])
    p = aggregate.n_turbines
    minimum = MINIMUM_ORDER[method]
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or not minimum <= order <= p + 1:
        raise ValueError(f"order for method {method!r} must be an integer in {minimum}..{p + 1}, got {order!r}")
    weight = as_frequency_weight(weight)
    weight = DEFAULT_WEIGHTS[method] if weight is None else weight
    weight_ss = as_stable_weight(weight, 1, "output")
    input_weight = as_frequency_weight(input_weight, "input_weight")
    input_ss = None if input_weight is None else as_stable_weight(input_weight, 1, "input")
    if structured is None:
        structured = p >= STRUCTURED_THRESHOLD
    reduced_order = order - 1 if method == "tb" else order

    if structured:
        reduced, hsv = _structured_reduction(aggregate, method, reduced_order, weight_ss, input_ss, balancing)
    else:
        full = turbine_system(aggregate) if method == "tb" else closed_loop_system(aggregate)
        result = balanced_truncation(full, reduced_order, input_weight=input_ss, output_weight=weight_ss,
                                     method=balancing)
        reduced, hsv = result.system, result.hankel_singular_values

    turbine = reduced if method == "tb" else None
    closed = _close_swing_loop(m, d, reduced) if method == "tb" else reduced
    scale = 1.0
    if match_dc:
        exact = 1.0 / (d + aggregate.turbine_gain.sum())
        scale = exact / float(dc_gain(closed.A, closed.B, closed.C, closed.D)[0, 0])
        closed = control.ss(closed.A, closed.B, scale * closed.C, scale * closed.D)
    return AggregateReduction(
        method=method,
        order=int(order),
        full_order=p + 1,
        weight=control.tf(weight),
        input_weight=None if input_weight is None else control.tf(input_weight),
        hankel_singular_values=hsv,
        dc_scale=scale,
        system=closed,
        turbine=turbine,
        interpretation=interpret_machine(closed),
        structured=bool(structured),
    )


def auto_order(hankel_singular_values, method, rtol=AUTO_ORDER_RTOL):
    """The order an aggregate keeps by its weighted Hankel singular values.

    The fewest states r_s whose discarded tail sum_{j > r_s} sigma_j is at most ``rtol``
    times sum_j sigma_j (the weighted balanced-truncation error is governed by the
    discarded sigma_j: twice their sum bounds it in the unweighted case), as a closed-loop
    order: r_s for "cl" (the singular values are the closed loop's), r_s + 1 for "tb"
    (they are the turbine aggregate's, the swing state is kept exactly), and never below
    :data:`MINIMUM_ORDER` [method].

    Parameters
    ----------
    hankel_singular_values : array_like
        :attr:`AggregateReduction.hankel_singular_values` of any reduction of the aggregate
        (they do not depend on the order).
    method : {"cl", "tb"}
    rtol : float
        Largest discarded fraction, 0 <= rtol < 1.

    Returns
    -------
    int

    Examples
    --------
    >>> auto_order([1.0, 0.1, 0.001], "cl"), auto_order([1.0, 0.1, 0.001], "tb")
    (2, 3)
    """
    if method not in MINIMUM_ORDER:
        raise ValueError(f"method must be 'cl' or 'tb', got {method!r}")
    if not 0.0 <= rtol < 1.0:
        raise ValueError(f"rtol must lie in [0, 1), got {rtol!r}")
    sigma = np.sort(np.asarray(hankel_singular_values, dtype=float))[::-1]
    if sigma.size == 0 or not np.all(np.isfinite(sigma)) or not sigma.sum() > 0:
        raise ValueError("auto_order needs finite Hankel singular values with a positive sum")
    tail = np.r_[np.cumsum(sigma[::-1])[::-1], 0.0]  # tail[r] = sum_{j >= r} sigma_j
    kept = int(np.flatnonzero(tail <= rtol * sigma.sum())[0])
    return max(MINIMUM_ORDER[method], kept + (1 if method == "tb" else 0))
