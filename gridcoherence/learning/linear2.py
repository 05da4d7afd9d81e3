"""Two-layer linear regression networks trained by gradient flow (Section 2.1, component M1).

The model is ``f(x) = V U^T x`` with ``U`` (n x h), ``V`` (m x h) and loss (2.5)
``L = 1/2 ||Y - X U V^T||_F^2``. :class:`TwoLayerLinearRegression` holds the data, the compact
SVD reparametrization (2.7)-(2.15) and every quantity the analysis uses: the error ``E``, the
residual ``L*``, the imbalance ``D`` (2.26), the rate bounds of Lemma 2.2 / Prop. 2.1 and the
convergence constant ``c(t)`` of Thm. 2.1, the min-norm solution (2.39) and the orthogonality
invariant set (2.43)-(2.45). It implements the model protocol of :mod:`.flow` (``loss``,
``gradients``, ``excess_loss``), so the same object drives the ODE integrator and gradient
descent. Module functions cover initialisations (balanced (Section 2.1.5), block-orthogonal, wide
random (2.46)), the random-init bounds of Lemma 2.1 / Thm. 2.2 and the scalar warm-up (2.16)-(2.25).

The scaled factorisation of experiment E1 (Fig. 2-3), ``1/2 ||Y - U V^T/sqrt(m h)||^2``, is
this model with ``X = I_n / sqrt(m h)``: the bounds then come out in the scaled form automatically.
"""

from __future__ import annotations

import numpy as np

from ._checks import as_real_array, positive_float, positive_int, require_finite, require_shape
from .imbalance import (
    factor_rate_bound,
    factor_spectral_sum,
    imbalance_quantities,
    nth_singular_value,
    rate_function,
)

__all__ = [
    "TwoLayerLinearRegression",
    "balanced_init",
    "block_orthogonal_init",
    "random_wide_init",
    "lemma21_bounds",
    "thm22_width_threshold",
    "thm22_distance_bound",
    "scalar_rates",
    "scalar_rate_lower_bound",
]


class TwoLayerLinearRegression:
    """Data, SVD reparametrization and bounds for ``L(V, U) = 1/2 ||Y - X U V^T||_F^2`` (2.5).

    Parameters
    ----------
    X : (N, n) array_like
        Inputs, one sample per row.
    Y : (N, m) array_like
        Targets.
    rank_tol : float, optional
        Singular values of ``X`` at or below this are treated as zero (defines ``r``). Default:
        numpy's ``matrix_rank`` tolerance.

    Attributes
    ----------
    Px, sx, Phi1, Phi2 : numpy.ndarray
        Compact SVD ``X = Px diag(sx) Phi1^T`` (2.7) and an orthonormal complement ``Phi2``.
    r : int
        ``rank(X)``.
    Ytil : (r, m) numpy.ndarray
        ``Px^T Y``.
    loss_star : float
        ``L* = 1/2 ||(I - Px Px^T) Y||_F^2`` (2.13), the optimal value.
    theta_hat : (n, m) numpy.ndarray
        Min-norm solution ``Phi1 Sigma_x^{-1/2} Px^T Y`` (2.42).
    lambda_max, lambda_min : float
        ``lambda_1(Sigma_x)`` and ``lambda_r(Sigma_x)`` (squared extreme singular values of X).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> model = TwoLayerLinearRegression(rng.normal(size=(4, 6)), rng.normal(size=(4, 3)))
    >>> U, V = rng.normal(size=(6, 8)), rng.normal(size=(3, 8))
    >>> bool(np.isclose(model.loss((U, V)), model.excess_loss((U, V)) + model.loss_star))
    True
    """

    def __init__(self, X, Y, rank_tol=None):
        X = as_real_array(X, "X", ndim=2)
        Y = as_real_array(Y, "Y", ndim=2)
        if X.shape[0] != Y.shape[0]:
            raise ValueError(f"X has {X.shape[0]} rows (samples) but Y has {Y.shape[0]}; they must agree")
        if min(X.shape) == 0 or Y.shape[1] == 0:
            raise ValueError(f"X and Y must be non-empty, got shapes {X.shape} and {Y.shape}")
        self.X, self.Y = X, Y
        self.N, self.n = X.shape
        self.m = Y.shape[1]
        P, s, Qt = np.linalg.svd(X, full_matrices=True)
        if rank_tol is None:
            rank_tol = s[0] * max(X.shape) * np.finfo(float).eps
        self.r = int(np.sum(s > rank_tol))
        if self.r == 0:
            raise ValueError("X is (numerically) zero: the regression problem is degenerate")
        self.Px = P[:, : self.r]
        self.sx = s[: self.r]
        self.Phi1 = Qt[: self.r].T
        self.Phi2 = Qt[self.r :].T
        self.Ytil = self.Px.T @ Y
        self.loss_star = 0.5 * float(np.sum((Y - self.Px @ self.Ytil) ** 2))
        self.theta_hat = self.Phi1 @ (self.Ytil / self.sx[:, None])
        self.lambda_max = float(self.sx[0] ** 2)
        self.lambda_min = float(self.sx[-1] ** 2)

    # ----------------------------------------------------------------- parameters
    def check_params(self, params):
        """Validate ``params = (U, V)``; return them as float arrays."""
        if not isinstance(params, (tuple, list)) or len(params) != 2:
            raise TypeError("params must be a pair (U, V)")
        U = require_shape(as_real_array(params[0], "U", ndim=2), (self.n, None), "U")
        V = require_shape(as_real_array(params[1], "V", ndim=2), (self.m, U.shape[1]), "V")
        return U, V

    def split(self, U):
        """``(U1, U2) = (Phi1^T U, Phi2^T U)`` (2.8)."""
        return self.Phi1.T @ U, self.Phi2.T @ U

    # ------------------------------------------------------------ flow protocol
    def loss(self, params):
        """``L = 1/2 ||Y - X U V^T||_F^2`` (2.5)."""
        U, V = params
        return 0.5 * float(np.sum((self.Y - (self.X @ U) @ V.T) ** 2))

    def gradients(self, params):
        """``(dL/dU, dL/dV)``; gradient flow (2.6) is their negative."""
        U, V = params
        XU = self.X @ U
        residual = self.Y - XU @ V.T
        return -(self.X.T @ (residual @ V)), -(residual.T @ XU)

    def error(self, params):
        """``E = Px^T Y - Sx U1 V^T`` (2.10), an r x m matrix."""
        U, V = params
        return self.Ytil - self.sx[:, None] * ((self.Phi1.T @ U) @ V.T)

    def excess_loss(self, params):
        """``L - L* = 1/2 ||E||_F^2`` (2.12), computed without cancellation."""
        return 0.5 * float(np.sum(self.error(params) ** 2))

    # ------------------------------------------------------------- imbalance
    def imbalance(self, params):
        """``D = U1^T U1 - V^T V`` (2.26), invariant under gradient flow."""
        U, V = params
        U1 = self.Phi1.T @ U
        return U1.T @ U1 - V.T @ V

    def imbalance_quantities(self, params):
        """Delta+, Delta-, Delta_ of ``D`` with ``r = rank(X)`` (2.30)-(2.32)."""
        return imbalance_quantities(self.imbalance(params), self.r, self.m)

    # ------------------------------------------------------------------ rates
    def rate(self, params):
        """Exact instantaneous rate ``-(d/dt)(L - L*)/(L - L*)`` along gradient flow.

        Computed in the reparametrized coordinates (2.11):
        ``(||Sx E V||^2 + ||E^T Sx U1||^2) / (1/2 ||E||^2)`` (derived here).
        """
        U, V = params
        E = self.error(params)
        SE = self.sx[:, None] * E
        excess = 0.5 * float(np.sum(E**2))
        if excess == 0.0:
            raise ValueError("the rate is undefined at a global minimiser (L - L* = 0)")
        speed = float(np.sum((SE @ V) ** 2) + np.sum((SE.T @ (self.Phi1.T @ U)) ** 2))
        return speed / excess

    def lemma22_bound(self, params):
        """Lemma 2.2 (2.55): ``2 lambda_r(Sigma_x)(lambda_r(U1 U1^T) + lambda_m(V V^T))``."""
        U, V = params
        return 2 * self.lambda_min * factor_spectral_sum(self.Phi1.T @ U, V.T)

    def prop21_bound(self, params, quantities=None, pairing="corrected"):
        """Prop. 2.1 (2.29): ``lambda_r(Sigma_x) g(Delta+, Delta-, Delta_, sigma_m, sigma_r)``.

        Correction: the dissertation states the bound for ``-dLtil/dt``; it bounds the normalised rate
        :meth:`rate`. ``sigma_m`` / ``sigma_r`` are singular values of ``U1 V^T`` (r x m);
        ``sigma_m`` goes with Delta+. ``pairing="swapped"`` exchanges them (regression guard).

        Parameters
        ----------
        params : tuple (U, V)
        quantities : ImbalanceQuantities, optional
            Precomputed from ``D(0)`` (they are invariant); computed from ``params`` if omitted.
        pairing : {"corrected", "swapped"}

        Returns
        -------
        float
        """
        U, V = params
        q = self.imbalance_quantities(params) if quantities is None else quantities
        return self.lambda_min * factor_rate_bound(self.Phi1.T @ U, V.T, pairing, quantities=q)

    def convergence_constant(self, params, quantities=None):
        """``c(t)`` of Thm. 2.1 (2.34) evaluated at ``params``.

        ``nu_k = [sigma_k(Ytil) - ||E||_F]_+`` and
        ``c = g(Delta+, Delta-, Delta_, nu_m / sqrt(lambda_1), nu_r / sqrt(lambda_1))``.
        """
        q = self.imbalance_quantities(params) if quantities is None else quantities
        return self._margin_constant(np.linalg.norm(self.error(params)), q)

    def asymptotic_constant(self, quantities):
        """``c(inf)`` (2.37): :meth:`convergence_constant` with ``E = 0``."""
        return self._margin_constant(0.0, quantities)

    def _margin_constant(self, error_norm, q):
        scale = np.sqrt(self.lambda_max)
        nu_m = max(nth_singular_value(self.Ytil, self.m) - error_norm, 0.0) / scale
        nu_r = max(nth_singular_value(self.Ytil, self.r) - error_norm, 0.0) / scale
        return rate_function(q.delta_plus, q.delta_minus, q.delta_gap, nu_m, nu_r)

    def envelope(self, t, c0, excess0, t0=0.0):
        """Thm. 2.1 / Cor. 2.3 envelope ``exp(-lambda_r c0 (t - t0)) (L(t0) - L*)``.

        Correction: the dissertation prints ``t`` in the exponent of Cor. 2.3 (2.36); the proof
        gives ``t - t0``.
        """
        return excess0 * np.exp(-self.lambda_min * c0 * (np.asarray(t, dtype=float) - t0))

    # -------------------------------------------------- min norm / invariant set
    def distance_to_min_norm(self, params):
        """``||U V^T - Theta_hat||_F``."""
        U, V = params
        return float(np.linalg.norm(U @ V.T - self.theta_hat))

    def min_norm_decomposition(self, params):
        """The two terms of ``||UV^T - Theta_hat||^2 = ||Sigma^{-1/2} E||^2 + ||U2 V^T||^2``.

        Exact identity behind Prop. 2.2 / (2.41), derived here. Returns the two norms (not squared).
        """
        U, V = params
        E = self.error(params)
        return float(np.linalg.norm(E / self.sx[:, None])), float(np.linalg.norm((self.Phi2.T @ U) @ V.T))

    def orthogonality_residual(self, params):
        """``Z = [V U2^T ; U1 U2^T]`` of (2.45); ``Z = 0`` is the invariant set of Prop. 2.3."""
        U, V = params
        U1, U2 = self.split(U)
        return np.vstack([V @ U2.T, U1 @ U2.T])

    def proximity(self, params):
        """``P = ||V U2^T||_F + ||U1 U2^T||_F`` (2.52)."""
        U, V = params
        U1, U2 = self.split(U)
        return float(np.linalg.norm(V @ U2.T) + np.linalg.norm(U1 @ U2.T))

    def gronwall_bound(self, z0_norm, error_integral):
        """(2.89): ``||Z(t)||_F <= exp(lambda_1^{1/2}(Sigma_x) int_0^t ||E||_F) ||Z(0)||_F``."""
        return z0_norm * np.exp(np.sqrt(self.lambda_max) * np.asarray(error_integral, dtype=float))

    def weight_norm_bound(self, params0):
        """Prop. 2.2 bound on ``||[V; U1]||_F^2`` along the flow (needs ``c(0) > 0``)."""
        U, V = params0
        c0 = self.convergence_constant(params0)
        if c0 <= 0:
            raise ValueError("the Prop. 2.2 norm bound needs c(0) > 0 at the initialisation")
        error0 = np.linalg.norm(self.error(params0))
        zp0 = np.sum(V**2) + np.sum((self.Phi1.T @ U) ** 2)
        return float(np.exp(4 * np.sqrt(self.lambda_max) * error0 / (c0 * self.lambda_min)) * zp0)


# ------------------------------------------------------------------ initialisations
def balanced_init(model, theta0, h, random_state=None):
    """Balanced initialisation with a prescribed end-to-end matrix (Section 2.1.5).

    ``M = Theta0^T Phi1 Phi1^T Theta0``, ``U = Theta0 M^{-1/4} Q^T``, ``V = M^{1/4} Q^T`` with a
    random ``Q`` (h x m, orthonormal columns). Then ``U V^T = Theta0`` and ``D = 0``.
    Correction: the dissertation prints ``V = M^{1/4} Q`` (wrong dimensions).

    Parameters
    ----------
    model : TwoLayerLinearRegression
    theta0 : (n, m) array_like
        Target end-to-end matrix; ``Phi1^T Theta0`` must have full column rank m.
    h : int
        Width, ``h >= m``.
    random_state : int or numpy.random.Generator, optional
        Seed for ``Q`` (which does not affect ``E(t)`` or ``L(t)``).

    Returns
    -------
    (U, V) : tuple of numpy.ndarray
    """
    theta0 = require_shape(as_real_array(theta0, "theta0", ndim=2), (model.n, model.m), "theta0")
    h = positive_int(h, "h", minimum=model.m)
    projected = model.Phi1.T @ theta0
    M = projected.T @ projected
    eigs, vecs = np.linalg.eigh(M)
    if eigs[0] <= 1e-12 * max(eigs[-1], 1.0):
        raise ValueError("Phi1^T theta0 must have full column rank m for the balanced initialisation")
    rng = np.random.default_rng(random_state)
    Q, _ = np.linalg.qr(rng.normal(size=(h, model.m)))
    M_quarter = (vecs * eigs**0.25) @ vecs.T
    M_minus_quarter = (vecs * eigs**-0.25) @ vecs.T
    return theta0 @ M_minus_quarter @ Q.T, M_quarter @ Q.T


def block_orthogonal_init(model, h, n_active, scale=1.0, random_state=None):
    """A nontrivial initialisation inside the invariant set (2.43) with ``U2(0) != 0``.

    Hidden units ``0..n_active-1`` carry ``U1`` and ``V``; the remaining ``h - n_active`` carry
    ``U2`` only. Then ``V U2^T = 0`` and ``U1 U2^T = 0`` exactly.

    Parameters
    ----------
    model : TwoLayerLinearRegression
    h : int
    n_active : int
        Size of the first block, ``1 <= n_active < h``.
    scale : float
        Standard deviation of the Gaussian entries.
    random_state : int or numpy.random.Generator, optional

    Returns
    -------
    (U, V) : tuple of numpy.ndarray
    """
    h = positive_int(h, "h", minimum=2)
    n_active = positive_int(n_active, "n_active")
    if n_active >= h:
        raise ValueError(f"n_active must be < h = {h}, got {n_active}")
    scale = positive_float(scale, "scale")
    rng = np.random.default_rng(random_state)
    U1 = np.zeros((model.r, h))
    U2 = np.zeros((model.n - model.r, h))
    V = np.zeros((model.m, h))
    U1[:, :n_active] = scale * rng.normal(size=(model.r, n_active))
    V[:, :n_active] = scale * rng.normal(size=(model.m, n_active))
    U2[:, n_active:] = scale * rng.normal(size=(model.n - model.r, h - n_active))
    return model.Phi1 @ U1 + model.Phi2 @ U2, V


def random_wide_init(n, m, h, alpha_init=0.5, random_state=None):
    """Entries of ``U`` (n x h) and ``V`` (m x h) iid ``N(0, h^{-2 alpha_init})`` (2.46)-(2.47)."""
    n, m, h = positive_int(n, "n"), positive_int(m, "m"), positive_int(h, "h")
    alpha_init = positive_float(alpha_init, "alpha_init")
    rng = np.random.default_rng(random_state)
    std = h ** (-alpha_init)
    return std * rng.normal(size=(n, h)), std * rng.normal(size=(m, h))


# ------------------------------------------------------------ random-init bounds
def _beta(m, n, delta):
    delta = positive_float(delta, "delta")
    if delta >= 1:
        raise ValueError(f"delta must be in (0, 1), got {delta}")
    return np.sqrt(m + n) + 0.5 * np.log(2 / delta)


def lemma21_bounds(m, n, h, alpha_init, delta):
    """Lemma 2.1 (2.48)-(2.50): high-probability bounds at a wide random initialisation.

    Parameters
    ----------
    m, n, h : int
        Output, input and hidden dimensions.
    alpha_init : float
        Variance exponent in ``(1/4, 1/2]``.
    delta : float
        Failure probability in ``(0, 1)``.

    Returns
    -------
    dict
        ``beta``, ``h0 = 16 beta^2`` (the lemma needs ``h > h0``), ``gap_lower`` (2.48),
        ``z_upper`` (2.49, with the text's ``sqrt(m + n)``) and ``u1v_upper`` (2.50).
    """
    beta = _beta(m, n, delta)
    decay = h ** (2 * alpha_init - 0.5)
    return {
        "beta": beta,
        "h0": 16 * beta**2,
        "gap_lower": h ** (1 - 2 * alpha_init),
        "z_upper": 2 * np.sqrt(m + n) * beta / decay,
        "u1v_upper": 2 * np.sqrt(m) * beta / decay,
    }


def thm22_width_threshold(model, alpha_init, delta):
    """Width above which Thm. 2.2 (2.54) applies: ``h0'^{1/(4 alpha_init - 1)}`` (text's h0')."""
    beta = _beta(model.m, model.n, delta)
    if not 0.25 < alpha_init <= 0.5:
        raise ValueError(f"alpha_init must be in (1/4, 1/2], got {alpha_init}")
    h0 = max(16.0, 4 * (model.lambda_max / model.lambda_min) ** 2) * model.m * beta**2
    return float(h0 ** (1 / (4 * alpha_init - 1)))


def thm22_distance_bound(model, h, alpha_init, delta):
    """Thm. 2.2 (2.54) bound on ``||Uhat Vhat^T - Theta_hat||_2``.

    ``2 C^{1/h^{1-2 alpha}} sqrt(m + r) beta / h^{2 alpha - 1/2}``, with
    ``C = exp(1 + (lambda_1/lambda_r) ||X^+ Y||_F)`` (correction: the dissertation's (2.94)
    prints ``||Y||_F``). The constant
    ``C`` can overflow for badly conditioned data; then ``inf`` is returned (the bound is vacuous).
    """
    beta = _beta(model.m, model.n, delta)
    log_c = 1 + (model.lambda_max / model.lambda_min) * np.linalg.norm(model.theta_hat)
    log_factor = log_c / h ** (1 - 2 * alpha_init)
    if log_factor > 700:  # exp would overflow: the bound is vacuous
        return float("inf")
    return float(2 * np.exp(log_factor) * np.sqrt(model.m + model.r) * beta / h ** (2 * alpha_init - 0.5))


# ---------------------------------------------------------------- scalar warm-up
def scalar_rates(u, v, x=1.0):
    """Scalar model ``1/2 (y - x u v)^2``: the exact rate two ways, (2.19)-(2.20).

    Returns ``(2 x^2 (u^2 + v^2), 2 x^2 sqrt(d^2 + 4 (u v)^2))`` with ``d = u^2 - v^2``; they are
    equal. Correction: with an input ``x`` the factor is ``x^2``; the dissertation prints ``2x``.
    """
    u, v, x = (float(as_real_array(z, name, ndim=0)) for z, name in ((u, "u"), (v, "v"), (x, "x")))
    d = u**2 - v**2
    return 2 * x**2 * (u**2 + v**2), 2 * x**2 * np.sqrt(d**2 + 4 * (u * v) ** 2)


def scalar_rate_lower_bound(d0, y, uv_t0):
    """Combined scalar bound (2.25): ``2 sqrt(d0^2 + 4 [|y| - |y - u(t0) v(t0)|]_+^2)``."""
    margin = max(abs(y) - abs(y - uv_t0), 0.0)
    return float(require_finite(2 * np.sqrt(d0**2 + 4 * margin**2), "scalar rate bound"))
