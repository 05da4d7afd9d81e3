"""Linear networks of any depth with a general loss (Section 2.2, component M2).

``L(W_1, ..., W_L) = f(W_1 W_2 ... W_L)`` with ``W_l`` of shape ``h_{l-1} x h_l``. The module
holds the losses ``f`` used in the text (:class:`SquaredLoss`, :class:`ExponentialLoss`), the
network as a gradient-flow model (:class:`DeepLinearNetwork`, :class:`DiagonalLinearNetwork`,
usable with :mod:`.flow`), the operator ``T`` of (2.99) and its smallest eigenvalue, the
invariant imbalances ``D_l`` (Def. 2.3), and every lower bound on ``lambda_min(T)`` together
with its domain of validity:

=========================  =====================================  ==============================
bound                      function                               valid for
=========================  =====================================  ==============================
Lemma 2.7 (corrected)      :func:`two_layer_bound`                L = 2, any n, m
Thm 2.3 constant           :func:`thm23_constant`                 L = 2 (case 2 needs A2)
Thm 2.4 Delta*             :func:`three_layer_delta_star`         L = 3
Lemma 2.9 RHS              :func:`lemma29_bound`                  L = 3
Thm 2.5 prod dtil          :func:`unimodal_bound`                 unimodal weights, any L
(2.114) homogeneous        :func:`homogeneous_bound`              homogeneous imbalance, n = m
Lemma 2.18                 :func:`scalar_tau_bound`               scalar layers
=========================  =====================================  ==============================

Convergence envelopes (2.103), Thm 2.6 and Cor. 2.5 are :func:`exponential_envelope`,
:func:`classification_envelope` and :func:`cor25_constant`. Constructors for unimodal and
balanced weights support the checks.
"""

from __future__ import annotations

from functools import reduce
from math import prod

import numpy as np

from ._checks import as_real_array, positive_int, require_shape
from .imbalance import (
    eigvals_desc,
    factor_rate_bound,
    imbalance_quantities,
    nth_eigenvalue,
    nth_singular_value,
    rate_function,
)

__all__ = [
    "SquaredLoss",
    "ExponentialLoss",
    "DeepLinearNetwork",
    "DiagonalLinearNetwork",
    "end_to_end",
    "partial_products",
    "apply_operator",
    "operator_matrix",
    "lambda_min_operator",
    "layer_imbalances",
    "two_layer_bound",
    "lemma28_margins",
    "thm23_constant",
    "wedge",
    "three_layer_delta_star",
    "lemma29_bound",
    "unimodal_indices",
    "cumulative_imbalances",
    "unimodal_bound",
    "homogeneous_bound",
    "cor25_constant",
    "scalar_tau",
    "scalar_tau_bound",
    "exponential_envelope",
    "classification_envelope",
    "unimodal_weights",
    "balanced_weights",
    "INIT_SCHEMES",
    "random_layer_init",
]


# ------------------------------------------------------------------------- losses
class SquaredLoss:
    """``f(W) = 1/2 ||Y - W||_F^2``: PL with ``gamma = 2``, ``K = mu_sc = 1``, ``W* = Y``, ``f* = 0``.

    Parameters
    ----------
    Y : array_like
        Target, any shape (a matrix for :class:`DeepLinearNetwork`, a vector for
        :class:`DiagonalLinearNetwork`).
    """

    gamma = 2.0
    smoothness = 1.0
    strong_convexity = 1.0
    f_star = 0.0

    def __init__(self, Y):
        self.target = as_real_array(Y, "Y")
        self.shape = self.target.shape

    def value(self, W):
        return 0.5 * float(np.sum((self.target - W) ** 2))

    def grad(self, W):
        return W - self.target


class ExponentialLoss:
    """``f(w) = sum_i exp(-y_i <x_i, w>)`` for ``w`` of shape (d, 1) (Thm. 2.6 setting, m = 1).

    ``f* = 0`` (an infimum). If the data are separable with margin ``gamma`` (unit ``z`` with
    ``y_i <x_i, z> >= gamma``), Assumption A1' holds with that ``gamma`` (derived here).

    Parameters
    ----------
    X : (N, d) array_like
    y : (N,) array_like of +-1
    """

    f_star = 0.0

    def __init__(self, X, y):
        X = as_real_array(X, "X", ndim=2)
        y = require_shape(as_real_array(y, "y", ndim=1), (X.shape[0],), "y")
        if not np.all(np.abs(y) == 1):
            raise ValueError("y must contain only -1 and +1 labels")
        self.signed = X * y[:, None]
        self.shape = (X.shape[1], 1)

    def value(self, W):
        return float(np.sum(np.exp(-self.signed @ W)))

    def grad(self, W):
        return -self.signed.T @ np.exp(-self.signed @ W)

    def margin(self, direction):
        """``min_i y_i <x_i, z>/||z||`` for a candidate separator ``z`` (the A1' constant)."""
        z = as_real_array(direction, "direction").reshape(-1)
        return float(np.min(self.signed @ z) / np.linalg.norm(z))


# ------------------------------------------------------------------------ products
def end_to_end(weights):
    """``W_1 W_2 ... W_L``."""
    return reduce(np.matmul, weights)


def partial_products(weights):
    """``A_l = W_1 ... W_{l-1}`` and ``B_l = W_{l+1} ... W_L`` for every layer (2.100)."""
    n, m = weights[0].shape[0], weights[-1].shape[1]
    prefixes, suffixes = [np.eye(n)], [np.eye(m)]
    for W in weights[:-1]:
        prefixes.append(prefixes[-1] @ W)
    for W in weights[:0:-1]:
        suffixes.append(W @ suffixes[-1])
    return prefixes, suffixes[::-1]


def _check_weights(weights):
    if not isinstance(weights, (tuple, list)) or len(weights) < 2:
        raise TypeError("weights must be a sequence of at least two 2-D arrays")
    weights = [as_real_array(W, f"weights[{i}]", ndim=2) for i, W in enumerate(weights)]
    for i in range(len(weights) - 1):
        if weights[i].shape[1] != weights[i + 1].shape[0]:
            raise ValueError(
                f"weights[{i}] has {weights[i].shape[1]} columns but weights[{i + 1}] has "
                f"{weights[i + 1].shape[0]} rows; consecutive layers must chain"
            )
    return weights


class DeepLinearNetwork:
    """Gradient-flow model ``L({W_l}) = f(W_1 ... W_L)`` for :mod:`.flow` (2.97)-(2.100).

    Parameters
    ----------
    loss : SquaredLoss or ExponentialLoss
        Any object with ``value(W)``, ``grad(W)``, ``shape`` and ``f_star``.

    Examples
    --------
    >>> net = DeepLinearNetwork(SquaredLoss(np.ones((2, 1))))
    >>> weights = (np.ones((2, 3)), np.ones((3, 3)) / 3, np.ones((3, 1)) / 3)
    >>> net.loss(weights)
    0.0
    """

    def __init__(self, loss):
        self.f = loss
        self.loss_star = float(loss.f_star)

    def check_params(self, params):
        weights = _check_weights(params)
        if (weights[0].shape[0], weights[-1].shape[1]) != tuple(self.f.shape):
            raise ValueError(
                f"the end-to-end matrix has shape {(weights[0].shape[0], weights[-1].shape[1])}, "
                f"but the loss expects {tuple(self.f.shape)}"
            )
        return tuple(weights)

    def loss(self, params):
        return self.f.value(end_to_end(params))

    def excess_loss(self, params):
        return self.loss(params) - self.loss_star

    def gradients(self, params):
        """``dL/dW_l = A_l^T grad f(W) B_l^T`` (2.100)."""
        G = self.f.grad(end_to_end(params))
        prefixes, suffixes = partial_products(params)
        return tuple(A.T @ G @ B.T for A, B in zip(prefixes, suffixes))


class DiagonalLinearNetwork:
    """Diagonal linear network ``L = f(w_1 * ... * w_L)`` (entry-wise product, Section 2.2.5).

    ``params`` is a tuple of L vectors of length n; ``f`` acts on vectors (e.g.
    ``SquaredLoss(y)`` with a vector ``y``). Entry-wise ``w_{l,i}^2 - w_{l+1,i}^2`` is invariant.
    """

    def __init__(self, loss):
        self.f = loss
        self.loss_star = float(loss.f_star)

    def check_params(self, params):
        if not isinstance(params, (tuple, list)) or len(params) < 2:
            raise TypeError("params must be a sequence of at least two vectors")
        vectors = [require_shape(as_real_array(w, f"params[{i}]", ndim=1), self.f.shape, f"params[{i}]")
                   for i, w in enumerate(params)]
        return tuple(vectors)

    def loss(self, params):
        return self.f.value(np.prod(params, axis=0))

    def excess_loss(self, params):
        return self.loss(params) - self.loss_star

    def gradients(self, params):
        stacked = np.asarray(params)
        grad = self.f.grad(np.prod(stacked, axis=0))
        return tuple(grad * _products_except_each(stacked))

    def rate_factors(self, params):
        """``tau_i = sum_l prod_{k != l} w_{k,i}^2``; ``dL/dt <= -(min_i tau_i) ||grad f||^2``."""
        return np.sum(_products_except_each(np.asarray(params) ** 2), axis=0)


def _products_except_each(stacked):
    """Row l = product of all rows but l, without division (safe when some entry is 0)."""
    L = stacked.shape[0]
    ones = np.ones((1,) + stacked.shape[1:])
    before = np.cumprod(np.concatenate([ones, stacked[:-1]]), axis=0)
    after = np.cumprod(np.concatenate([ones, stacked[:0:-1]]), axis=0)[::-1]
    return before[:L] * after[:L]


# ----------------------------------------------------------------------- operator T
def apply_operator(weights, E):
    """``T E = sum_l A_l A_l^T E B_l^T B_l`` (2.99)."""
    prefixes, suffixes = partial_products(_check_weights(weights))
    return sum(A @ A.T @ E @ B.T @ B for A, B in zip(prefixes, suffixes))


def operator_matrix(weights):
    """``mat(T) = sum_l (B_l^T B_l) kron (A_l A_l^T)`` (column-major vec, nm x nm)."""
    prefixes, suffixes = partial_products(_check_weights(weights))
    return sum(np.kron(B.T @ B, A @ A.T) for A, B in zip(prefixes, suffixes))


def lambda_min_operator(weights):
    """``lambda_min(T)``, the smallest eigenvalue of :func:`operator_matrix`."""
    return float(eigvals_desc(operator_matrix(weights))[-1])


def layer_imbalances(weights):
    """``D_l = W_l^T W_l - W_{l+1} W_{l+1}^T`` for ``l = 1..L-1`` (Def. 2.3), invariant under GF."""
    weights = _check_weights(weights)
    return [W.T @ W - Wn @ Wn.T for W, Wn in zip(weights[:-1], weights[1:])]


# ----------------------------------------------------------------------- two layers
def two_layer_bound(W1, W2, pairing="corrected"):
    """Lemma 2.7: ``lambda_min(T) >= 1/2 g(Delta+, Delta-, Delta_, sigma_m(W), sigma_n(W))``.

    Correction: the dissertation's (2.105) pairs ``sigma_n`` with Delta+; that printed form is available as
    ``pairing="swapped"`` and fails for ``n != m``. The exact value is
    ``lambda_n(W1 W1^T) + lambda_m(W2^T W2)`` (2.104), :func:`~.imbalance.factor_spectral_sum`.
    """
    return 0.5 * factor_rate_bound(W1, W2, pairing)


def lemma28_margins(loss, W0):
    """``nu_k = [sigma_k(W*) - sqrt(K/mu_sc) ||W(0) - W*||_F]_+`` for k = 1.. (Lemma 2.8).

    Needs a loss under Assumption A2 with a known minimiser (``SquaredLoss``).
    Returns the vector of ``nu_k``, ``k = 1..min(n, m)``.
    """
    if not isinstance(loss, SquaredLoss):
        raise TypeError("lemma28_margins needs a strongly convex loss with known minimiser (SquaredLoss)")
    W0 = require_shape(as_real_array(W0, "W0", ndim=2), loss.shape, "W0")
    radius = np.sqrt(loss.smoothness / loss.strong_convexity) * np.linalg.norm(W0 - loss.target)
    return np.maximum(np.linalg.svd(loss.target, compute_uv=False) - radius, 0.0)


def thm23_constant(W1, W2, loss=None):
    """Thm. 2.3 rate constant ``alpha2``; the envelope is ``exp(-alpha2 gamma t)``.

    Case 1 (``loss`` is None, A1 only): ``alpha2 = Delta_``. Case 2 (``loss`` satisfies A2):
    ``alpha2 = 1/2 g(Delta+, Delta-, Delta_, nu_m, nu_n)`` with the Lemma 2.8 margins.
    Correction: the dissertation's (2.108) omits the 1/2 and swaps the pairing; both are
    corrected here.
    """
    W1, W2 = _check_weights([W1, W2])
    n, m = W1.shape[0], W2.shape[1]
    q = imbalance_quantities(W1.T @ W1 - W2 @ W2.T, n, m)
    if loss is None:
        return q.delta_gap
    nu = lemma28_margins(loss, W1 @ W2)
    nu_m, nu_n = (nu[k - 1] if k <= len(nu) else 0.0 for k in (m, n))
    return 0.5 * rate_function(q.delta_plus, q.delta_minus, q.delta_gap, nu_m, nu_n)


# --------------------------------------------------------------------- three layers
def wedge(a_eigs, b_eigs, r):
    """Diagonal of ``A ^_r B`` (Def. 2.1): ``min{lambda_i(A), lambda_{i+1-r}(B)}``.

    ``lambda_j(B) = +inf`` for ``j <= 0``, so the first ``r - 1`` entries are ``lambda_i(A)``.
    Arguments are descending eigenvalue vectors of equal length.
    """
    a_eigs, b_eigs = np.asarray(a_eigs, float), np.asarray(b_eigs, float)
    shift = positive_int(r, "r") - 1
    shifted = np.concatenate([np.full(min(shift, len(b_eigs)), np.inf), b_eigs[: len(b_eigs) - shift]])
    return np.minimum(a_eigs, shifted)


def _padded(eigs, size):
    return np.concatenate([eigs, np.zeros(max(size - len(eigs), 0))])[:size]


def three_layer_delta_star(weights):
    """Thm. 2.4 (2.111) bound ``Delta*(D21, D23) <= lambda_min(T)`` and its pieces (Def. 2.2).

    Parameters
    ----------
    weights : sequence of three arrays (W1, W2, W3)

    Returns
    -------
    dict
        ``delta21, delta21_sq, delta23, delta23_sq`` (the ``^(2)`` terms may be negative) and
        ``delta_star``.
    """
    W1, W2, W3 = _three_layers(weights)
    n, m = W1.shape[0], W3.shape[1]
    eig21 = eigvals_desc(W2 @ W2.T - W1.T @ W1)  # D21 = -D_1
    eig23 = eigvals_desc(W2.T @ W2 - W3 @ W3.T)  # D23 = D_2
    size = max(len(eig21), len(eig23))
    dbar = np.maximum(np.maximum(_padded(eig21, size), _padded(eig23, size)), 0.0)

    def spreads(eigs, r):
        top = dbar[: len(eigs)]
        wedged = wedge(top, eigs, r)
        return top.sum() - wedged.sum(), np.sum(top**2) - np.sum(wedged**2)

    d21, d21_sq = spreads(eig21, n)
    d23, d23_sq = spreads(eig23, m)
    delta_star = 0.5 * (d21_sq + d21**2) + d21 * d23 + 0.5 * (d23_sq + d23**2)
    return {"delta21": d21, "delta21_sq": d21_sq, "delta23": d23, "delta23_sq": d23_sq, "delta_star": delta_star}


def lemma29_bound(weights):
    """Lemma 2.9: ``lambda_n(W1 W2 W2^T W1^T) + lambda_n(W1 W1^T) lambda_m(W3^T W3) + lambda_m(W3^T W2^T W2 W3)``."""
    W1, W2, W3 = _three_layers(weights)
    n, m = W1.shape[0], W3.shape[1]
    W12, W23 = W1 @ W2, W2 @ W3
    return (
        nth_eigenvalue(eigvals_desc(W12 @ W12.T), n)
        + nth_eigenvalue(eigvals_desc(W1 @ W1.T), n) * nth_eigenvalue(eigvals_desc(W3.T @ W3), m)
        + nth_eigenvalue(eigvals_desc(W23.T @ W23), m)
    )


def _three_layers(weights):
    weights = _check_weights(weights)
    if len(weights) != 3:
        raise ValueError(f"expected three weight matrices (W1, W2, W3), got {len(weights)}")
    return weights


# ------------------------------------------------------------------ deep networks
def unimodal_indices(imbalances, tol=1e-10):
    """All ``l*`` in ``1..L`` for which the weights are unimodal (as in Thm. 2.5).

    ``D_l`` PSD for ``l < l*`` and NSD for ``l >= l*`` (up to ``tol`` times the largest norm).
    """
    scale = tol * max(1.0, max(np.abs(D).max() for D in imbalances))
    eigs = [eigvals_desc(D) for D in imbalances]
    psd = [e[-1] >= -scale for e in eigs]
    nsd = [e[0] <= scale for e in eigs]
    L = len(imbalances) + 1
    return [s for s in range(1, L + 1) if all(psd[: s - 1]) and all(nsd[s - 1 :])]


def cumulative_imbalances(imbalances, l_star, n, m):
    """``dtil_(i)``, ``i = 1..L-1``, for unimodal index ``l_star`` (Thm. 2.5)."""
    lam_n = [nth_eigenvalue(eigvals_desc(D), n) for D in imbalances]
    lam_m_neg = [nth_eigenvalue(eigvals_desc(-D), m) for D in imbalances]
    values = []
    for i in range(1, len(imbalances) + 1):
        if i >= l_star:
            values.append(sum(lam_m_neg[l_star - 1 : i]))
        else:
            values.append(sum(lam_n[i - 1 : l_star - 1]))
    return np.array(values)


def unimodal_bound(weights, tol=1e-10):
    """Thm. 2.5 (2.113): ``lambda_min(T) >= prod_{i=1}^{L-1} dtil_(i)``.

    Correction: the dissertation prints the product index as ``l``; it runs over ``i``.

    Takes the largest bound over all valid unimodal indices (our choice when several apply).

    Raises
    ------
    ValueError
        If the weights are not unimodal.
    """
    weights = _check_weights(weights)
    imbalances = layer_imbalances(weights)
    indices = unimodal_indices(imbalances, tol)
    if not indices:
        raise ValueError("the weights are not unimodal: Thm. 2.5 does not apply")
    n, m = weights[0].shape[0], weights[-1].shape[1]
    return max(float(np.prod(cumulative_imbalances(imbalances, s, n, m))) for s in indices)


def homogeneous_bound(weights, tol=1e-10):
    """(2.114): ``sqrt((prod dtil)^2 + (L sigma_min(W)^{2-2/L})^2)`` for homogeneous imbalance.

    Correction: valid only for ``n = m``, which the dissertation does not say: for ``n != m`` a
    balanced network has ``lambda_min(T) = sigma_min^{2-2/L}``, not ``L`` times it. Raises
    ValueError when ``n != m`` or when some ``D_l`` is not a multiple of the identity.
    """
    weights = _check_weights(weights)
    n, m = weights[0].shape[0], weights[-1].shape[1]
    if n != m:
        raise ValueError(f"the homogeneous bound (2.114) holds only for n = m, got n = {n}, m = {m}")
    imbalances = layer_imbalances(weights)
    for l, D in enumerate(imbalances, start=1):
        d = np.trace(D) / D.shape[0]
        if np.abs(D - d * np.eye(D.shape[0])).max() > tol * max(1.0, np.abs(D).max()):
            raise ValueError(f"D_{l} is not a multiple of the identity: the imbalance is not homogeneous")
    L = len(weights)
    sigma_min = nth_singular_value(end_to_end(weights), n)
    return float(np.hypot(unimodal_bound(weights, tol), L * sigma_min ** (2 - 2 / L)))


def cor25_constant(prod_dtil, depth, nu_min=0.0, form="derived"):
    """Cor. 2.5 (2.115) rate constant ``alphaL`` (envelope ``exp(-alphaL gamma t)``).

    ``form="derived"`` (derived here): ``sqrt(prod_dtil^2 + (L nu_min^{2-2/L})^2)``, consistent with
    (2.114) (valid for n = m). ``form="printed"``: ``sqrt(prod_dtil^2 + (L nu_min)^2)`` exactly as
    the text prints it; it claims more than is proven when ``nu_min < 1`` and ``L >= 3``
    and is provided for comparison only.
    """
    L = positive_int(depth, "depth", minimum=2)
    if form == "derived":
        return float(np.hypot(prod_dtil, L * nu_min ** (2 - 2 / L)))
    if form == "printed":
        return float(np.hypot(prod_dtil, L * nu_min))
    raise ValueError(f"form must be 'derived' or 'printed', got {form!r}")


# ------------------------------------------------------------------ scalar layers
def scalar_tau(w):
    """``tau = sum_l prod_{k != l} w_k^2``; exactly ``lambda_min(T)`` of a scalar deep net."""
    w = as_real_array(w, "w", ndim=1)
    return float(np.sum(_products_except_each(w**2)))


def scalar_tau_bound(w):
    """Lemma 2.18 lower bound on :func:`scalar_tau` (corrected: the sum is garbled in the
    dissertation).

    Layers are sorted so that ``w_1^2 >= ... >= w_L^2`` (reordering leaves ``tau`` unchanged);
    then ``d_(i) = w_i^2 - w_L^2 >= 0`` and the bound is
    ``sqrt((prod_{i<L} d_(i))^2 + (L |prod w|^{2-2/L})^2)``. Equality holds when some ``w_l = 0``.
    """
    w = as_real_array(w, "w", ndim=1)
    squares = np.sort(w**2)[::-1]
    L = len(squares)
    gaps = squares[:-1] - squares[-1]
    return float(np.hypot(np.prod(gaps), L * abs(prod(w)) ** (2 - 2 / L)))


# -------------------------------------------------------------------- envelopes
def exponential_envelope(t, rate_const, gamma, excess0):
    """(2.103): ``exp(-a gamma t)(L(0) - L*)`` when ``lambda_min(T) >= a`` along the flow."""
    return excess0 * np.exp(-rate_const * gamma * np.asarray(t, dtype=float))


def classification_envelope(t, rate_const, gamma, excess0):
    """Thm. 2.6 (2.116): ``(L0 - L*) / ((L0 - L*) a gamma^2 t + 1)`` under A1'."""
    return excess0 / (excess0 * rate_const * gamma**2 * np.asarray(t, dtype=float) + 1)


# ----------------------------------------------------------------- constructors
def _random_orthogonal(rng, d):
    Q, R = np.linalg.qr(rng.normal(size=(d, d)))
    return Q * np.sign(np.diag(R))


def _psd_sqrt(S):
    eigs, vecs = np.linalg.eigh(0.5 * (S + S.T))
    return (vecs * np.sqrt(np.maximum(eigs, 0.0))) @ vecs.T


def unimodal_weights(depth, dim, l_star, random_state=None, scale=1.0):
    """Random square (dim x dim) weights that are unimodal with index ``l_star`` (Thm. 2.5).

    Starting from a random ``W_{l*}``, layers after ``l*`` solve ``W_{l+1} W_{l+1}^T = W_l^T W_l + P``
    and layers before solve ``W_l^T W_l = W_{l+1} W_{l+1}^T + P`` with random PSD ``P`` and random
    orthogonal factors, so ``D_l`` is PSD for ``l < l*`` and NSD for ``l >= l*``.
    """
    depth = positive_int(depth, "depth", minimum=2)
    dim = positive_int(dim, "dim")
    l_star = positive_int(l_star, "l_star")
    if l_star > depth:
        raise ValueError(f"l_star must be in 1..{depth}, got {l_star}")
    rng = np.random.default_rng(random_state)

    def random_psd():
        G = rng.normal(size=(dim, rng.integers(1, dim + 1))) * rng.uniform(0.1, 1.5) * scale
        return G @ G.T

    weights = {l_star: scale * rng.normal(size=(dim, dim))}
    for l in range(l_star, depth):
        prev = weights[l]
        weights[l + 1] = _psd_sqrt(prev.T @ prev + random_psd()) @ _random_orthogonal(rng, dim)
    for l in range(l_star, 1, -1):
        nxt = weights[l]
        weights[l - 1] = _random_orthogonal(rng, dim) @ _psd_sqrt(nxt @ nxt.T + random_psd())
    return [weights[l] for l in range(1, depth + 1)]


def balanced_weights(target, hidden, random_state=None):
    """Balanced weights (all ``D_l = 0``) with end-to-end product ``target`` (n x m).

    ``target = P S Q^T`` (compact SVD, rank k); ``W_1 = P S^{1/L} R_1^T``,
    ``W_l = R_{l-1} S^{1/L} R_l^T``, ``W_L = R_{L-1} S^{1/L} Q^T`` with random ``R_l`` (h_l x k)
    having orthonormal columns. ``hidden`` lists ``h_1..h_{L-1}`` (each ``>= k``).
    """
    target = as_real_array(target, "target", ndim=2)
    rng = np.random.default_rng(random_state)
    P, s, Qt = np.linalg.svd(target, full_matrices=False)
    root = s ** (1 / (len(hidden) + 1))
    frames = [P]
    for h in hidden:
        if h < len(s):
            raise ValueError(f"hidden widths must be >= {len(s)}, got {h}")
        frames.append(np.linalg.qr(rng.normal(size=(h, len(s))))[0])
    frames.append(Qt.T)
    return [(left * root) @ right.T for left, right in zip(frames[:-1], frames[1:])]


#: Random initialisation schemes of experiment E4 (Fig. 2-6 left).
INIT_SCHEMES = ("ntk", "xavier", "fan_out")


def random_layer_init(scheme, dims, random_state=None):
    """Gaussian weights ``W_l`` (``dims[l-1] x dims[l]``) for the E4 schemes.

    The dissertation names the schemes but not their variances; chosen here: NTK: ``N(0, 1)``;
    Xavier: ``N(0, 2/(h_{l-1} + h_l))``; Fan_out: ``N(0, 1/h_l)`` (fan_out = ``h_l``).

    Parameters
    ----------
    scheme : {"ntk", "xavier", "fan_out"}
    dims : sequence of int
        ``h_0 = n, h_1, ..., h_L = m``.
    random_state : int or numpy.random.Generator, optional

    Returns
    -------
    list of numpy.ndarray
    """
    if scheme not in INIT_SCHEMES:
        raise ValueError(f"scheme must be one of {INIT_SCHEMES}, got {scheme!r}")
    dims = [positive_int(d, "dims entry") for d in dims]
    rng = np.random.default_rng(random_state)
    variance = {
        "ntk": lambda a, b: 1.0,
        "xavier": lambda a, b: 2.0 / (a + b),
        "fan_out": lambda a, b: 1.0 / b,
    }[scheme]
    return [np.sqrt(variance(a, b)) * rng.normal(size=(a, b)) for a, b in zip(dims[:-1], dims[1:])]
