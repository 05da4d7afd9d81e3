"""Coherence diagnostics of a network (dissertation Sec. 3.1).

* :func:`incoherence` -- the incoherence measure ||T(s) - (1/n) gbar(s) 1 1^T|| (spectral
  norm) over a set of frequencies, densely for small networks and by a sparse
  largest-singular-value computation for large ones;
* :func:`coherence_bound` -- the Lemma 3.1 bound (3.5) and the effective algebraic
  connectivity |f(s)| lambda_2(L);
* :func:`aggregate_response` / :func:`coherence_deviation` -- the time-domain comparison
  of Thm 3.3 / 3.5: every node's response against the response ybar(t) of gbar to the
  averaged input;
* :func:`harmonic_expectation` / :func:`concentration_gap` -- dynamics concentration
  (Sec. 3.1.4): gbar_n of random nodes approaches (E g^{-1}(s))^{-1} (3.14).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse.linalg as spla

from .._numeric import symmetric_operator_norm
from .._validation import as_frequencies, as_node_group
from .aggregate import coherent_aggregate, harmonic_mean, mean_inverse_transfer
from ..models.laplacian import algebraic_connectivity
from ..models.network import DENSE_LIMIT
from ..models.simulate import default_time_grid, simulate_lti

__all__ = [
    "incoherence",
    "coherence_bound",
    "CoherenceBound",
    "aggregate_response",
    "coherence_deviation",
    "CoherenceDeviation",
    "harmonic_expectation",
    "concentration_gap",
]


def _rank_one_gap_norm_sparse(model, s, gbar, tol, random_state):
    """Largest singular value of E = T(s) - (gbar/n) 1 1^T without forming T.

    T is complex symmetric (L and G are), so E is too; each product costs one solve
    with the LU of G^{-1}(s) + f(s) L.
    """
    lu = spla.splu(model.system_matrix(s))
    shift = gbar / model.n
    return symmetric_operator_norm(lambda X: lu.solve(X) - shift * X.sum(axis=0, keepdims=True),
                                   model.n, tol=tol, dense_limit=0, random_state=random_state)


def incoherence(model, s, *, method="auto", tol=1e-10, random_state=0):
    """The incoherence measure ||T(s) - (1/n) gbar(s) 1 1^T||_2 at each frequency.

    Parameters
    ----------
    model : NetworkModel
    s : complex or array_like of complex
        E.g. ``1j * omega`` for a frequency grid ``omega``.
    method : {"auto", "dense", "sparse"}
        ``dense`` forms T(s) (allowed up to n = 5000; ``auto`` uses it up to n = 1500);
        ``sparse`` computes the largest singular value with ARPACK on the operator
        T(s) - rank-one, one sparse LU per frequency.
    tol : float
        Relative tolerance of the sparse singular value.

    Returns
    -------
    float or ndarray, shape (ns,)
    """
    s_arr, scalar = as_frequencies(s)
    if method == "auto":
        method = "dense" if model.n <= min(DENSE_LIMIT, 1500) else "sparse"
    if method not in {"dense", "sparse"}:
        raise ValueError(f"method must be 'auto', 'dense' or 'sparse', got {method!r}")
    gbar = harmonic_mean(model.nodes, s_arr)
    out = np.empty(s_arr.size)
    for k, sk in enumerate(s_arr):
        if method == "dense":
            gap = model.transfer_matrix(sk) - gbar[k] / model.n
            out[k] = np.linalg.norm(gap, 2)
        else:
            out[k] = _rank_one_gap_norm_sparse(model, sk, gbar[k], tol, random_state)
    return float(out[0]) if scalar else out


@dataclass(frozen=True)
class CoherenceBound:
    """Lemma 3.1 at each frequency.

    Attributes
    ----------
    bound : ndarray
        (M1 M2 + 1)^2 / (|f(s)| lambda_2 - M2 - M1 M2^2) where it applies, ``inf`` elsewhere.
    applicable : ndarray of bool
        |f(s)| lambda_2 >= M2 + M1 M2^2.
    effective_connectivity : ndarray
        |f(s)| lambda_2(L).
    M1, M2 : ndarray
        |gbar(s)| and max_i |g_i^{-1}(s)| (the tightest admissible constants).
    lambda2 : float
    """

    bound: np.ndarray
    applicable: np.ndarray
    effective_connectivity: np.ndarray
    M1: np.ndarray
    M2: np.ndarray
    lambda2: float


def coherence_bound(model, s, *, lambda2=None):
    """The Lemma 3.1 bound (3.5) on the incoherence measure.

    Parameters
    ----------
    model : NetworkModel
    s : complex or array_like of complex
    lambda2 : float, optional
        lambda_2(L) if already known.

    Returns
    -------
    CoherenceBound
    """
    s_arr, _ = as_frequencies(s)
    lam2 = algebraic_connectivity(model.laplacian) if lambda2 is None else float(lambda2)
    h = model.nodes.inverse_transfer(s_arr)
    M1 = np.abs(1.0 / h.mean(axis=1))
    M2 = np.abs(h).max(axis=1)
    eff = np.abs(model.coupling(s_arr)) * lam2
    margin = eff - M2 - M1 * M2**2
    applicable = margin >= 0
    with np.errstate(divide="ignore"):
        bound = np.where(applicable & (margin > 0), (M1 * M2 + 1) ** 2 / np.where(margin > 0, margin, 1.0),
                         np.inf)
    return CoherenceBound(bound, applicable, eff, M1, M2, lam2)


def aggregate_response(model, u0, signal="step", t=None, *, group=None):
    """ybar(t): the response of gbar to the averaged input (1/n) 1^T u(t).

    Equivalently the response of the aggregate ghat to the total input 1^T u(t)
    (Thm 3.3's comparison signal). ``group`` (node indices, each at most once, or a
    boolean mask of length n, as for :func:`~gridcoherence.coherent_aggregate`)
    restricts both to a subset of nodes.

    Returns
    -------
    TimeResponse
        ``y`` has shape (nt, 1).
    """
    u0 = model.input_shape(u0)
    if group is not None:
        group = as_node_group(group, model.n)
        u0 = u0[group]
    t = default_time_grid() if t is None else t
    aggregate = coherent_aggregate(model.nodes, group)
    real = aggregate.realization()
    D = np.atleast_2d(real.D)
    return simulate_lti(real.A, real.B, real.C, D, [u0.sum()], signal, t)


@dataclass(frozen=True)
class CoherenceDeviation:
    """Time-domain coherence (Thm 3.3 / 3.5).

    Attributes
    ----------
    max_deviation : float
        max_i sup_t |y_i(t) - ybar(t)| on the simulated grid.
    per_node : ndarray, shape (n,)
        sup_t |y_i(t) - ybar(t)| per node.
    network, aggregate : TimeResponse
    """

    max_deviation: float
    per_node: np.ndarray
    network: object
    aggregate: object


def coherence_deviation(model, u0, signal="step", t=None):
    """Deviation of every node's response from the coherent response ybar(t).

    Parameters
    ----------
    model : NetworkModel
    u0 : array_like or int
        Disturbance shape (an int k is e_k).
    signal : "step" or a signal of :mod:`gridcoherence.models.simulate`
    t : array_like, optional
        Uniform time grid from 0.

    Returns
    -------
    CoherenceDeviation
    """
    t = default_time_grid() if t is None else t
    network = model.response(u0, signal, t)
    aggregate = aggregate_response(model, u0, signal, t)
    per_node = np.max(np.abs(network.y - aggregate.y), axis=0)
    return CoherenceDeviation(float(per_node.max()), per_node, network, aggregate)


def harmonic_expectation(sample_nodes, s, *, n_samples=100_000, random_state=0):
    """Monte Carlo estimate of the harmonic expectation (E g^{-1}(s, w))^{-1} (3.14).

    Parameters
    ----------
    sample_nodes : callable ``(n, random_state) -> NodeDynamics``
        Draws n i.i.d. random nodes, e.g. :func:`gridcoherence.cases.random_nodes.random_family_nodes`.
    s : complex or array_like of complex
    n_samples : int
        Monte Carlo sample size; the standard error of E g^{-1} falls as n_samples^{-1/2}.

    Returns
    -------
    complex or ndarray
    """
    s_arr, scalar = as_frequencies(s)
    nodes = sample_nodes(n_samples, random_state)
    value = 1.0 / mean_inverse_transfer(nodes, s_arr)
    return value[0] if scalar else value


def concentration_gap(sample_nodes, sizes, s, *, reference=None, n_reference=1_000_000,
                      random_state=0):
    """sup_s |gbar_n(s) - ghat(s)| for growing n (dynamics concentration, Lemma 3.2).

    Parameters
    ----------
    sample_nodes : callable ``(n, random_state) -> NodeDynamics``
    sizes : sequence of int
        Network sizes n.
    s : array_like of complex
        The compact set S, discretised.
    reference : array_like, optional
        ghat on ``s``; estimated with ``n_reference`` samples by default (seed
        ``random_state + 1``, independent of the networks).

    Returns
    -------
    ndarray, shape (len(sizes),)
        The gap for each n (seed ``random_state``).
    """
    s_arr, _ = as_frequencies(s)
    if reference is None:
        reference = harmonic_expectation(sample_nodes, s_arr, n_samples=n_reference,
                                         random_state=random_state + 1)
    gaps = []
    for n in sizes:
        nodes = sample_nodes(int(n), random_state)
        gbar = 1.0 / mean_inverse_transfer(nodes, s_arr)
        gaps.append(np.max(np.abs(gbar - reference)))
    return np.asarray(gaps)
