"""Time responses of sparse LTI systems to inputs of a fixed spatial shape.

The package's time-domain experiments drive a network with u(t) = u0 * sigma(t): a
spatial shape u0 (which nodes are disturbed, by how much) times a scalar signal
sigma(t). This module holds the signals and one simulator, :func:`simulate_lti`, used
for networks, reduced networks and aggregate machines alike.

Method. Step, exponential-approach and sinusoidal signals are outputs of small
autonomous generators (u = c_g exp(A_g t) x_g0), so the driven system plus its generator
is autonomous and x(t) = exp(t A_aug) x_aug(0) exactly. That product is computed with
``scipy.sparse.linalg.expm_multiply`` (Al-Mohy & Higham's truncated Taylor method,
backward error at the level of the unit roundoff), after a diagonal similarity
balancing that brings the matrix 1-norm down toward its spectral radius, which is
what the Taylor method's cost scales with. Sampled signals are held piecewise linear
(first-order hold) and propagated interval by interval the same way, which is exact for
that interpolant. No dense matrix is formed: cost O(nnz(A) * ||A_bal||_1 * T) operations
and O(nnz(A) + n_t * n_out) memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from .._validation import check_finite

__all__ = [
    "Step",
    "ExponentialApproach",
    "Sinusoid",
    "Sampled",
    "as_signal",
    "simulate_lti",
    "TimeResponse",
    "uniform_time_grid",
    "default_time_grid",
]

#: Augmented systems up to this many states are propagated with one dense matrix
#: exponential per step size (exact to rounding, O(nt nx^2)); larger ones use
#: expm_multiply, whose per-call overhead dominates for small systems.
DENSE_PROPAGATOR_LIMIT = 400


#: States held at once by :func:`simulate_lti` (time points x states): ~160 MB.
STATE_BUFFER_ENTRIES = 20_000_000


class Signal:
    """A scalar input signal sigma(t)."""

    def __call__(self, t):
        raise NotImplementedError


@dataclass(frozen=True)
class _GeneratorSignal(Signal):
    """sigma(t) = c_g exp(A_g t) x_g0, the output of a small autonomous generator."""

    def generator(self):
        raise NotImplementedError

    def __call__(self, t):
        a, x0, c = self.generator()
        t = np.asarray(t, dtype=float)
        w, V = np.linalg.eig(a)
        coeff = np.linalg.solve(V, x0)
        values = ((c @ V) * coeff)[None, :] * np.exp(np.outer(t.ravel(), w))
        return values.sum(axis=1).real.reshape(t.shape)


@dataclass(frozen=True)
class Step(_GeneratorSignal):
    """sigma(t) = amplitude for t >= 0 (Laplace transform amplitude / s)."""

    amplitude: float = 1.0

    def generator(self):
        return np.zeros((1, 1)), np.array([1.0]), np.array([self.amplitude])


@dataclass(frozen=True)
class ExponentialApproach(_GeneratorSignal):
    """sigma(t) = amplitude (1 - exp(-alpha t)), Laplace transform alpha / (s (s + alpha))."""

    alpha: float
    amplitude: float = 1.0

    def __post_init__(self):
        if not (np.isfinite(self.alpha) and self.alpha > 0):
            raise ValueError(f"alpha must be a positive number, got {self.alpha!r}")

    def generator(self):
        a = np.diag([0.0, -self.alpha])
        return a, np.array([1.0, 1.0]), self.amplitude * np.array([1.0, -1.0])

    def __call__(self, t):
        return self.amplitude * -np.expm1(-self.alpha * np.asarray(t, dtype=float))


@dataclass(frozen=True)
class Sinusoid(_GeneratorSignal):
    """sigma(t) = amplitude sin(omega t + phase)."""

    omega: float
    amplitude: float = 1.0
    phase: float = 0.0

    def __post_init__(self):
        if not (np.isfinite(self.omega) and self.omega > 0):
            raise ValueError(f"omega must be a positive angular frequency, got {self.omega!r}")

    def generator(self):
        a = np.array([[0.0, self.omega], [-self.omega, 0.0]])
        return a, np.array([np.sin(self.phase), np.cos(self.phase)]), np.array([self.amplitude, 0.0])

    def __call__(self, t):
        return self.amplitude * np.sin(self.omega * np.asarray(t, dtype=float) + self.phase)


@dataclass(frozen=True)
class Sampled(Signal):
    """A sampled signal, linearly interpolated between samples (first-order hold).

    Parameters
    ----------
    times : array_like, shape (k,)
        Strictly increasing sample times starting at 0.
    values : array_like, shape (k,)
    """

    times: np.ndarray
    values: np.ndarray

    def __post_init__(self):
        times = check_finite("sampled signal times", np.asarray(self.times, dtype=float))
        values = check_finite("sampled signal values", np.asarray(self.values, dtype=float))
        if times.ndim != 1 or times.shape != values.shape or times.size < 2:
            raise ValueError("sampled signal needs 1-D times and values of equal length >= 2")
        if np.any(np.diff(times) <= 0):
            raise ValueError("sampled signal times must be strictly increasing")
        object.__setattr__(self, "times", times)
        object.__setattr__(self, "values", values)

    def __call__(self, t):
        return np.interp(t, self.times, self.values)


def as_signal(signal):
    """Coerce ``"step"`` or a :class:`Signal` to a signal object."""
    if isinstance(signal, Signal):
        return signal
    if isinstance(signal, str) and signal.lower() == "step":
        return Step()
    raise TypeError(
        "signal must be 'step', Step(), ExponentialApproach(alpha), Sinusoid(omega) or "
        f"Sampled(times, values); got {signal!r}"
    )


@dataclass
class TimeResponse:
    """Outputs of a simulated system.

    ``y`` is time x outputs, one row per sample, the transpose of python-control's
    ``TimeResponseData.outputs`` (outputs x time): the layout of :func:`scipy.signal.lsim`
    and of a time series in a pandas table, so that ``y[k]`` holds every output at
    ``t[k]`` and ``y @ w`` is a weighted sum of the outputs over time.

    Attributes
    ----------
    t : ndarray, shape (nt,)
    y : ndarray, shape (nt, p)
        Every output (node) at every time.
    u : ndarray, shape (nt,)
        The scalar input signal sigma(t).
    y_coi : ndarray, shape (nt,) or None
        Centre-of-inertia output (sum m_i y_i / sum m_i), for network responses.
    method : str
    info : dict
    """

    t: np.ndarray
    y: np.ndarray
    u: np.ndarray
    y_coi: np.ndarray | None = None
    method: str = "expm"
    info: dict = field(default_factory=dict)


def _balance(A, sweeps=8):
    """Diagonal similarity D^{-1} A D (powers of two) that equalises row and column norms.

    Sparse analogue of LAPACK's xGEBAL scaling step: O(nnz(A)) per sweep. Returns the
    scaled matrix and the diagonal d.
    """
    A = sp.csr_matrix(A)
    n = A.shape[0]
    d = np.ones(n)
    off = A - sp.diags(A.diagonal())
    absA = abs(off).tocsr()
    for _ in range(sweeps):
        scaled = sp.diags(1.0 / d) @ absA @ sp.diags(d)
        rows = np.asarray(scaled.sum(axis=1)).ravel()
        cols = np.asarray(scaled.sum(axis=0)).ravel()
        ok = (rows > 0) & (cols > 0)
        factor = np.ones(n)
        factor[ok] = np.exp2(np.round(0.5 * np.log2(rows[ok] / cols[ok])))
        if np.all(factor == 1.0):
            break
        d = d * factor
    return (sp.diags(1.0 / d) @ A @ sp.diags(d)).tocsr(), d


def default_time_grid():
    """The default simulation grid: 0 to 30 s in 10 ms steps (3,001 points)."""
    return np.linspace(0.0, 30.0, 3001)


def uniform_time_grid(t):
    """Validate a uniform time grid starting at 0; return it and its step."""
    t = check_finite("t", np.asarray(t, dtype=float))
    if t.ndim != 1 or t.size < 2:
        raise ValueError("t must be a 1-D array of at least two times")
    if abs(t[0]) > 0:
        raise ValueError(f"t must start at 0, got t[0] = {t[0]!r}")
    h = np.diff(t)
    if np.any(h <= 0) or np.ptp(h) > 1e-9 * t[-1]:
        raise ValueError("t must be uniformly spaced and increasing (e.g. numpy.linspace(0, T, N))")
    return t, float(t[-1] / (t.size - 1))


def simulate_lti(A, B, C, D, b, signal, t, *, x0=None, apply_A=None):
    """Response of x' = A x + B b sigma(t), y = C x + D b sigma(t) on a uniform grid.

    Parameters
    ----------
    A : sparse or dense, (nx, nx)
    B : sparse or dense, (nx, m)
    C : sparse or dense, (p, nx)
    D : sparse or dense, (p, m)
    b : array_like, (m,)
        Spatial shape of the input.
    signal : Signal or "step"
    t : array_like
        Uniform grid starting at 0.
    x0 : array_like, optional
        Initial state (zero by default).
    apply_A : callable, optional
        x -> A x for (nx,) and (nx, m) arrays, the same numbers as ``A @ x`` to rounding
        but cheaper (a network's products through its Kron reduction,
        :attr:`~gridcoherence.models.network.NetworkRealization.apply_A`); the
        propagation of generator signals then uses it, while ``A`` itself still gives
        the balancing, the trace and the products with A^T of the norm estimates.

    Returns
    -------
    TimeResponse
        ``info["balanced_norm"]`` is the 1-norm of the balanced augmented matrix (the
        cost driver of ``expm_multiply``).
    """
    signal = as_signal(signal)
    t, h = uniform_time_grid(t)
    A = sp.csr_matrix(A, dtype=float)
    nx = A.shape[0]
    b = check_finite("input shape u0", np.asarray(b, dtype=float).ravel())
    Bb = np.asarray(sp.csr_matrix(B, dtype=float) @ b).ravel()
    Db = np.asarray(sp.csr_matrix(D, dtype=float) @ b).ravel()
    C = sp.csr_matrix(C, dtype=float)
    x0 = np.zeros(nx) if x0 is None else check_finite("x0", np.asarray(x0, dtype=float).ravel())
    sigma = signal(t)

    if isinstance(signal, _GeneratorSignal):
        ag, xg0, cg = signal.generator()
        coupling = sp.csr_matrix(np.outer(Bb, cg))
        A_aug = sp.bmat([[A, coupling], [None, sp.csr_matrix(ag)]], format="csr")
        A_bal, d = _balance(A_aug)
        if A_bal.shape[0] <= DENSE_PROPAGATOR_LIMIT:
            step = sla.expm(A_bal.toarray() * h)
            states = np.empty((t.size, A_bal.shape[0]))
            states[0] = np.r_[x0, xg0] / d
            for k in range(1, t.size):
                states[k] = step @ states[k - 1]
            y = (C @ (states[:, :nx] * d[None, :nx]).T).T + np.outer(sigma, Db)
            return _finish(t, y, sigma, "dense propagator (exact generator)", A_bal)
        # Time points in chunks, each restarted from the last state, so memory stays
        # O(chunk * nx) instead of holding every state at every time.
        chunk = max(2, min(t.size, STATE_BUFFER_ENTRIES // max(1, A_bal.shape[0])))
        propagated = A_bal if apply_A is None else _balanced_operator(A_bal, d, apply_A, coupling, ag)
        trace = float(A_bal.diagonal().sum())
        y_parts, v = [], np.r_[x0, xg0] / d
        for lo in range(0, t.size - 1, chunk - 1):
            count = min(chunk, t.size - lo)
            states = spla.expm_multiply(propagated, v, start=0.0, stop=h * (count - 1), num=count,
                                        endpoint=True, traceA=trace)
            v = states[-1]
            part = (C @ (states[:, :nx] * d[None, :nx]).T).T
            y_parts.append(part if lo == 0 else part[1:])
        y_states = np.vstack(y_parts)
        method = "expm_multiply (exact generator)"
    else:
        # First-order hold: on each interval sigma = s_k + r (tau), r the slope.
        ramp = sp.csr_matrix(np.array([[0.0, 1.0], [0.0, 0.0]]))
        coupling = sp.csr_matrix(np.outer(Bb, [1.0, 0.0]))
        A_aug = sp.bmat([[A, coupling], [None, ramp]], format="csr")
        A_bal, d = _balance(A_aug)
        Ah = (A_bal * h).tocsr()
        trace = float(Ah.diagonal().sum())
        y_states = np.empty((t.size, C.shape[0]))
        x = x0
        y_states[0] = C @ x
        for k in range(t.size - 1):
            slope = (sigma[k + 1] - sigma[k]) / h
            v = np.r_[x, sigma[k], slope] / d
            x = (spla.expm_multiply(Ah, v, traceA=trace) * d)[:nx]
            y_states[k + 1] = C @ x
        method = "expm_multiply (first-order hold)"
    return _finish(t, y_states + np.outer(sigma, Db), sigma, method, A_bal)


def _balanced_operator(A_bal, d, apply_A, coupling, ag):
    """D^{-1} [[A, coupling], [0, ag]] D as a LinearOperator applying A by ``apply_A`` (A_bal^T for adjoints)."""
    nx = A_bal.shape[0] - ag.shape[0]
    ag = sp.csr_matrix(ag)

    def matvec(v):
        x = v * (d if v.ndim == 1 else d[:, None])
        top = apply_A(x[:nx]) + coupling @ x[nx:]
        out = np.concatenate([top, ag @ x[nx:]])
        return out / (d if v.ndim == 1 else d[:, None])

    transposed = A_bal.T.tocsr()
    return spla.LinearOperator(A_bal.shape, matvec=matvec, matmat=matvec, rmatvec=transposed.__matmul__,
                               rmatmat=transposed.__matmul__, dtype=float)


def _finish(t, y, sigma, method, A_bal):
    if not np.all(np.isfinite(y)):
        raise ArithmeticError("simulation produced non-finite outputs")
    norm = float(abs(A_bal).sum(axis=0).max())
    return TimeResponse(t, y, sigma, method=method, info={"balanced_norm": norm})
