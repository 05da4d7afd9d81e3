"""Two-layer ReLU classifier with small initialisation (Section 2.3, component M3).

``f(x) = sum_j v_j relu(<w_j, x>)`` with ``W = [w_1 .. w_h]`` (d_in x h), exponential loss
``L = sum_i exp(-y_i f(x_i))`` (2.163). :class:`ReluNetwork` is the gradient-flow model (usable with
:mod:`.flow`; subgradient ``relu'(z) = 1{z > 0}``). Module functions give the initialisations
(balanced small (2.165), unbalanced Gaussian as in the experiments), the data geometry (separation
``mu_sep`` (2.167), class sums ``x+``/``x-``, norms), the cones S+/S-/S_dead, the signed active sum
``x_a``, the alignment diagnostics of Figs. 2-11 / 2-12, the exact and approximate directional
dynamics (2.166) and the explicit constants of Lemma 2.22 and Thm. 2.10.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._checks import as_real_array, positive_float, positive_int, require_shape

__all__ = [
    "ReluNetwork",
    "balanced_small_init",
    "gaussian_init",
    "DataGeometry",
    "data_geometry",
    "REGION_CODES",
    "neuron_regions",
    "active_signed_sum",
    "stable_rank",
    "alignment_diagnostics",
    "directional_velocity",
    "early_phase_constants",
    "thm210_constants",
    "late_phase_envelope",
]

#: Region codes returned by :func:`neuron_regions`.
REGION_CODES = {"S+": 1, "S-": -1, "S_dead": 0, "other": 2}


def _check_data(X, y):
    X = as_real_array(X, "X", ndim=2)
    y = require_shape(as_real_array(y, "y", ndim=1), (X.shape[0],), "y")
    if not np.all(np.abs(y) == 1):
        raise ValueError("y must contain only -1 and +1 labels")
    if not (np.any(y > 0) and np.any(y < 0)):
        raise ValueError("y must contain both classes")
    return X, y


class ReluNetwork:
    """Gradient-flow model of a two-layer ReLU network with exponential loss (2.163)-(2.164).

    Parameters
    ----------
    X : (n_samples, d_in) array_like
    y : (n_samples,) array_like of +-1
    reduction : {"sum", "mean"}
        ``"sum"`` is the loss of the theory; ``"mean"`` divides by ``n_samples`` (used for the
        MNIST experiment, where the sum is unstable at the dissertation's step size; our choice,
        not stated in the dissertation).

    Examples
    --------
    >>> net = ReluNetwork(np.array([[1.0, 0.0], [-1.0, 0.0]]), np.array([1.0, -1.0]))
    >>> net.loss((np.zeros((2, 3)), np.zeros(3)))
    2.0
    """

    loss_star = 0.0

    def __init__(self, X, y, reduction="sum"):
        self.X, self.y = _check_data(X, y)
        if reduction not in ("sum", "mean"):
            raise ValueError(f"reduction must be 'sum' or 'mean', got {reduction!r}")
        self.reduction = reduction
        self.weight = 1.0 if reduction == "sum" else 1.0 / self.X.shape[0]

    def check_params(self, params):
        if not isinstance(params, (tuple, list)) or len(params) != 2:
            raise TypeError("params must be a pair (W, v)")
        W = require_shape(as_real_array(params[0], "W", ndim=2), (self.X.shape[1], None), "W")
        v = require_shape(as_real_array(params[1], "v", ndim=1), (W.shape[1],), "v")
        return W, v

    def outputs(self, params):
        """``f(x_i)`` for every sample."""
        W, v = params
        return np.maximum(self.X @ W, 0.0) @ v

    def loss(self, params):
        return self.weight * float(np.sum(np.exp(-self.y * self.outputs(params))))

    def excess_loss(self, params):
        return self.loss(params)

    def gradients(self, params):
        """``(dL/dW, dL/dv)``; gradient flow is their negative (correction: the dissertation's (2.164)
        lacks the sign)."""
        W, v = params
        pre = self.X @ W
        g = self.weight * self.y * np.exp(-self.y * (np.maximum(pre, 0.0) @ v))
        grad_W = -self.X.T @ ((pre > 0) * g[:, None] * v[None, :])
        grad_v = -np.maximum(pre, 0.0).T @ g
        return grad_W, grad_v

    def neuron_invariants(self, params):
        """``v_j^2 - ||w_j||^2`` per neuron, constant under gradient flow for any init."""
        W, v = params
        return v**2 - np.sum(W**2, axis=0)


# ------------------------------------------------------------------ initialisations
def balanced_small_init(d_in, h, eps, signs, random_state=None):
    """Balanced init (2.165): ``W = eps W0`` with ``[W0]_ij ~ N(0, 1/d_in)``, ``v_j = s_j ||w_j||``.

    Parameters
    ----------
    d_in, h : int
    eps : float
        Initialisation scale.
    signs : (h,) array_like of +-1
        Signs of the second-layer weights (chosen by the user).
    random_state : int or numpy.random.Generator, optional

    Returns
    -------
    (W, v), W0 : tuple
        The parameters and the unscaled directions ``W0`` (needed by the constants).
    """
    d_in, h = positive_int(d_in, "d_in"), positive_int(h, "h")
    eps = positive_float(eps, "eps")
    signs = require_shape(as_real_array(signs, "signs", ndim=1), (h,), "signs")
    if not np.all(np.abs(signs) == 1):
        raise ValueError("signs must contain only -1 and +1")
    W0 = np.random.default_rng(random_state).normal(size=(d_in, h)) / np.sqrt(d_in)
    W = eps * W0
    return (W, signs * np.linalg.norm(W, axis=0)), W0


def gaussian_init(d_in, h, init_var, random_state=None):
    """Unbalanced init of Section 2.3.3: every entry of ``W`` and ``v`` iid ``N(0, init_var)``."""
    d_in, h = positive_int(d_in, "d_in"), positive_int(h, "h")
    std = np.sqrt(positive_float(init_var, "init_var"))
    rng = np.random.default_rng(random_state)
    return std * rng.normal(size=(d_in, h)), std * rng.normal(size=h)


# ----------------------------------------------------------------------- geometry
@dataclass(frozen=True)
class DataGeometry:
    """Data constants of Section 2.3 (2.167)-(2.168).

    Attributes
    ----------
    mu_sep : float
        ``min_{i,j} cos(y_i x_i, y_j x_j)``; Assumption 2.2 asks for ``mu_sep > 0``.
    x_plus, x_minus : numpy.ndarray
        Class sums ``sum_{I+} x_i`` and ``sum_{I-} x_i``.
    n_plus, n_minus : int
    x_max, x_min : float
        Largest and smallest data norm.
    """

    mu_sep: float
    x_plus: np.ndarray
    x_minus: np.ndarray
    n_plus: int
    n_minus: int
    x_max: float
    x_min: float


def data_geometry(X, y):
    """Compute :class:`DataGeometry` for data ``X`` (n_samples x d_in) and labels ``y``."""
    X, y = _check_data(X, y)
    norms = np.linalg.norm(X, axis=1)
    if np.any(norms == 0):
        raise ValueError("X contains a zero data point; cosines are undefined")
    signed = X * (y / norms)[:, None]
    positive = y > 0
    return DataGeometry(
        mu_sep=float(np.min(signed @ signed.T)),
        x_plus=X[positive].sum(axis=0),
        x_minus=X[~positive].sum(axis=0),
        n_plus=int(positive.sum()),
        n_minus=int((~positive).sum()),
        x_max=float(norms.max()),
        x_min=float(norms.min()),
    )


def neuron_regions(X, y, W):
    """Region code per neuron (see :data:`REGION_CODES`): S+, S-, S_dead or other.

    S+ : active exactly on the positive data; S- : exactly on the negative data; S_dead : active on
    none (``<w, x_i> <= 0`` for all i).
    """
    X, y = _check_data(X, y)
    active = (X @ W) > 0
    positive = (y > 0)[:, None]
    codes = np.full(W.shape[1], REGION_CODES["other"])
    codes[np.all(active == positive, axis=0)] = REGION_CODES["S+"]
    codes[np.all(active != positive, axis=0)] = REGION_CODES["S-"]
    codes[~np.any(active, axis=0)] = REGION_CODES["S_dead"]
    return codes


def active_signed_sum(X, y, W):
    """``x_a(w_j) = sum_{i: <x_i, w_j> > 0} y_i x_i`` for every column (d_in x h)."""
    return X.T @ (((X @ W) > 0) * y[:, None])


def stable_rank(W):
    """``||W||_F^2 / ||W||_2^2``."""
    return float(np.sum(W**2) / np.linalg.norm(W, 2) ** 2)


def _cosines(W, direction):
    return (direction @ W) / (np.linalg.norm(W, axis=0) * np.linalg.norm(direction))


def alignment_diagnostics(X, y, params):
    """Alignment diagnostics of Section 2.3 for one state (used by Figs. 2-11 and 2-12).

    ``V+(t)``/``V-(t)`` are defined by the current signs of ``v``. Returns a dict with
    ``cos_mean_plus`` (cos of the mean V+ neuron with x+), ``cos_min_plus``, ``cos_max_plus``, the
    same for minus (with x-), ``spectral_sq`` (``||W||_2^2``), ``stable_rank``, ``regions`` and
    ``invariants`` (``v_j^2 - ||w_j||^2``). Empty groups give NaN-free zeros with ``count`` 0.
    """
    W, v = params
    geometry = data_geometry(X, y)
    out = {}
    for label, members, direction in (("plus", v > 0, geometry.x_plus), ("minus", v < 0, geometry.x_minus)):
        cos = _cosines(W[:, members], direction) if members.any() else np.zeros(1)
        mean_w = W[:, members].mean(axis=1) if members.any() else direction
        out[f"cos_mean_{label}"] = float(_cosines(mean_w[:, None], direction)[0])
        out[f"cos_min_{label}"], out[f"cos_max_{label}"] = float(cos.min()), float(cos.max())
        out[f"count_{label}"] = int(members.sum())
    out["spectral_sq"] = float(np.linalg.norm(W, 2) ** 2)
    out["stable_rank"] = stable_rank(W)
    out["regions"] = neuron_regions(X, y, W)
    out["invariants"] = v**2 - np.sum(W**2, axis=0)
    return out


def directional_velocity(network, params):
    """Exact ``d/dt (w_j/||w_j||)`` and the approximation ``sign(v_j) P_w x_a(w_j)`` (2.166).

    Returns ``(exact, approx)``, both d_in x h. Lemma 2.23 bounds the column norms of
    ``exact - approx`` by ``2 n X_max max_i |f(x_i)|`` for balanced init (sum loss).
    """
    W, v = params
    norms = np.linalg.norm(W, axis=0)
    units = W / norms

    def project(Z):
        return Z - units * np.sum(units * Z, axis=0)

    exact = project(-network.gradients(params)[0]) / norms
    approx = np.sign(v) * project(active_signed_sum(network.X, network.y, W))
    return exact, approx


# ---------------------------------------------------------------------- constants
def early_phase_constants(geometry, h, W0):
    """Lemma 2.22 (2.173): the eps threshold, horizon ``T`` and early-phase bounds.

    Returns a function of ``eps`` giving a dict with ``eps_max`` (the lemma needs
    ``eps <= 1/(4 sqrt(h) X_max W_max^2)``), ``T = log(1/(sqrt(h) eps))/(4 n X_max)``,
    ``weight_sq_bound = 2 eps W_max^2/sqrt(h)`` and ``output_bound = 2 eps sqrt(h) X_max W_max^2``.
    """
    w_max = float(np.linalg.norm(W0, axis=0).max())
    n = geometry.n_plus + geometry.n_minus

    def at(eps):
        return {
            "eps_max": 1 / (4 * np.sqrt(h) * geometry.x_max * w_max**2),
            "T": np.log(1 / (np.sqrt(h) * eps)) / (4 * n * geometry.x_max),
            "weight_sq_bound": 2 * eps * w_max**2 / np.sqrt(h),
            "output_bound": 2 * eps * np.sqrt(h) * geometry.x_max * w_max**2,
        }

    return at


def thm210_constants(X, y, W0, signs, eps, xi=None):
    """Explicit constants of Thm. 2.10.

    Parameters
    ----------
    X, y : array_like
        Data and +-1 labels.
    W0 : (d_in, h) array_like
        Unscaled initial directions.
    signs : (h,) array_like
        Signs of ``v(0)``.
    eps : float
        Initialisation scale.
    xi : float, optional
        Constant of Lemma 2.28 (no closed form; supply an estimate to get ``t1`` and the eps
        condition (2.191)).

    Returns
    -------
    dict
        ``zeta1 = min_i min{cos^2(x+, x_i), cos^2(x-, x_i)}`` and ``zeta2 = 1 - max cos^2`` of
        Assumption 2.3 (suprema of the admissible values, derived here; ``zeta2`` pairs V+ with
        x- and V- with x+, as (2.189) needs, correcting the pairing printed in Assumption 2.3),
        ``zeta = min`` of them (correction: the dissertation writes max),
        ``rate_const = (mu X_min)^2/(8 X_max)`` (correction: the dissertation prints
        ``L(t2)^alpha``), and with
        ``xi``: ``t1``, ``eps_condition`` and ``eps_satisfies_condition``.
    """
    X, y = _check_data(X, y)
    geometry = data_geometry(X, y)
    W0 = require_shape(as_real_array(W0, "W0", ndim=2), (X.shape[1], None), "W0")
    signs = require_shape(as_real_array(signs, "signs", ndim=1), (W0.shape[1],), "signs")
    eps = positive_float(eps, "eps")
    mu, n = geometry.mu_sep, X.shape[0]
    units = X / np.linalg.norm(X, axis=1)[:, None]
    cos_data = np.concatenate([_cosines(units.T, geometry.x_plus), _cosines(units.T, geometry.x_minus)])
    cos_w_minus = _cosines(W0[:, signs > 0], geometry.x_minus) if np.any(signs > 0) else np.zeros(1)
    cos_w_plus = _cosines(W0[:, signs < 0], geometry.x_plus) if np.any(signs < 0) else np.zeros(1)
    worst = max(cos_w_minus.max(), cos_w_plus.max(), 0.0)
    norms0 = np.linalg.norm(W0, axis=0)
    out = {
        "mu_sep": mu,
        "zeta1": float(np.min(cos_data**2)),
        "zeta2": float(1 - worst**2),
        "rate_const": (mu * geometry.x_min) ** 2 / (8 * geometry.x_max),
        "w_max": float(norms0.max()),
        "w_min": float(norms0.min()),
    }
    out["zeta"] = min(out["zeta1"], out["zeta2"])
    if xi is not None:
        xi = positive_float(xi, "xi")
        small = min(out["zeta"], xi)
        h = W0.shape[1]
        out["t1"] = 16 * np.log(n) / (small * np.sqrt(mu) * geometry.x_min)
        out["eps_condition"] = min(
            min(mu, out["zeta"], xi) * np.sqrt(mu) * geometry.x_min
            / (4 * np.sqrt(h) * n * geometry.x_max**2 * out["w_max"] ** 2),
            np.exp(-64 * n * geometry.x_max * np.log(n) / (small * np.sqrt(mu) * geometry.x_min)) / np.sqrt(h),
        )
        out["eps_satisfies_condition"] = bool(eps <= out["eps_condition"])
    return out


def late_phase_envelope(t, t2, loss_t2, rate_const):
    """Thm. 2.10 O(1/t) bound ``L(t) <= L(t2) / (L(t2) rate_const (t - t2) + 1)`` for ``t >= t2``."""
    return loss_t2 / (loss_t2 * rate_const * (np.asarray(t, dtype=float) - t2) + 1)
