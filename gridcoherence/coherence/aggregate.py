"""Coherent aggregation of a group of nodes into one equivalent node.

When the nodes of a group move together (all outputs equal), the group behaves as one
node driven by the group's total disturbance, with transfer function

    ghat(s) = (sum_{i in group} g_i^{-1}(s))^{-1}           (dissertation (3.26), (3.82))

and gbar(s) = n ghat(s) is the harmonic mean of the g_i (3.4). For
:class:`~gridcoherence.models.nodes.SwingTurbineNodes` the aggregate has the closed form (3.85):
inertias and dampings add, turbines are collected, and turbines with equal time
constants merge exactly into one. For general LTI nodes the aggregate is realized from
the polynomial identity below and cross-checked against the frequency-domain harmonic
mean.
"""

from __future__ import annotations

import control
import numpy as np

from .._validation import as_frequencies, as_node_group
from ..models.nodes import (
    LTINodes,
    NodeDynamics,
    StackedNodes,
    SwingTurbineNodes,
    as_node_dynamics,
    concatenate_family,
)

__all__ = ["coherent_aggregate", "harmonic_mean", "mean_inverse_transfer", "merge_equal_time_constants"]


def merge_equal_time_constants(gain, tau, rtol=0.0):
    """Merge turbines whose time constants are equal (within ``rtol``) by adding gains.

    sum_j q_j/(tau_j s + 1) is unchanged when equal-tau terms are added, so this is an
    exact reduction of the aggregate's order for ``rtol=0``.

    Parameters
    ----------
    gain, tau : ndarray, shape (p,)
    rtol : float
        Relative tolerance for "equal". Nonzero values merge nearly equal time
        constants into their gain-weighted mean (an approximation).

    Returns
    -------
    gain, tau : ndarray
        Merged turbines sorted by time constant. O(p log p).
    """
    gain = np.asarray(gain, dtype=float)
    tau = np.asarray(tau, dtype=float)
    if tau.size == 0:
        return gain.copy(), tau.copy()
    order = np.argsort(tau, kind="stable")
    tau_sorted, gain_sorted = tau[order], gain[order]
    if rtol == 0.0:
        starts = np.flatnonzero(np.r_[True, np.diff(tau_sorted) != 0.0])
    else:
        starts = np.flatnonzero(np.r_[True, np.diff(tau_sorted) > rtol * tau_sorted[1:]])
    merged_gain = np.add.reduceat(gain_sorted, starts)
    merged_tau = np.add.reduceat(gain_sorted * tau_sorted, starts) / merged_gain
    if rtol == 0.0:
        merged_tau = tau_sorted[starts]
    return merged_gain, merged_tau


def _as_family(nodes):
    """A StackedNodes made only of family parts, as one SwingTurbineNodes (closed form applies).

    The node order is not kept (parts are concatenated), which the aggregate, a sum over
    the nodes, does not see.
    """
    if isinstance(nodes, StackedNodes) and all(isinstance(p, SwingTurbineNodes) for p in nodes.parts):
        return concatenate_family(nodes.parts)
    return nodes


def _aggregate_family(nodes: SwingTurbineNodes, merge_rtol):
    gain, tau = merge_equal_time_constants(nodes.turbine_gain, nodes.turbine_tau, merge_rtol)
    return SwingTurbineNodes(
        [nodes.m.sum()], [nodes.d.sum()],
        turbine_gain=gain, turbine_tau=tau, turbine_node=np.zeros(gain.size, dtype=np.int64),
    )


def _aggregate_general(nodes: NodeDynamics):
    """ghat = prod(num_i) / sum_i(den_i prod_{j != i} num_j) for g_i = num_i/den_i.

    The denominator's degree is at least the numerator's because deg den_i >= deg num_i,
    so the aggregate is proper whenever every node is. Polynomial products lose accuracy
    for large groups of high-order nodes; the caller cross-checks against the
    harmonic mean (see :func:`coherent_aggregate`).
    """
    systems = [nodes.node_system(i) for i in range(nodes.n)]
    nums = [np.atleast_1d(g.num[0][0]) for g in systems]
    dens = [np.atleast_1d(g.den[0][0]) for g in systems]
    numerator = np.array([1.0])
    for num in nums:
        numerator = np.polymul(numerator, num)
    denominator = np.array([0.0])
    for i, den in enumerate(dens):
        term = den
        for j, num in enumerate(nums):
            if j != i:
                term = np.polymul(term, num)
        denominator = np.polyadd(denominator, term)
    aggregate = control.minreal(control.tf(numerator, denominator), verbose=False)
    return LTINodes([aggregate])


def coherent_aggregate(nodes, group=None, *, merge_rtol=0.0, check=True, mean=False):
    """The coherent aggregate ghat(s) = (sum_{i in group} g_i^{-1}(s))^{-1} as one node.

    Parameters
    ----------
    nodes : NodeDynamics or NetworkModel
        The node collection (a :class:`~gridcoherence.NetworkModel` is accepted and its
        nodes used).
    group : array_like of int or of bool, optional
        The group's node indices (each at most once) or a boolean mask of length n;
        all nodes by default. An empty group, a repeated node, an index out of range
        or a mask of the wrong length raises.
    merge_rtol : float
        Family nodes only: turbines whose time constants agree to this relative
        tolerance are merged (0, the default, merges exactly equal ones only).
    check : bool
        General nodes only: verify the realization against the frequency-domain harmonic
        mean at a few frequencies and raise ``ArithmeticError`` if they disagree by more
        than 1e-6 relative.
    mean : bool
        Return the coherent dynamics gbar(s) = |group| ghat(s) (the harmonic mean
        (3.4)) instead of ghat: the same realization with its output scaled (family
        nodes: every coefficient divided by the group size).

    Returns
    -------
    NodeDynamics with ``n == 1``
        A :class:`SwingTurbineNodes` (closed form (3.85): m = sum m_i, d = sum d_i,
        turbines collected; order 1 + number of distinct time constants) when every
        node of the group is in the family, else an :class:`LTINodes` holding a minimal
        proper realization; gbar instead of ghat with ``mean=True``.

    Examples
    --------
    >>> from gridcoherence.models.nodes import SwingTurbineNodes
    >>> nodes = SwingTurbineNodes([1.0, 2.0], [0.1, 0.2], turbine_gain=[0.5, 0.5],
    ...                           turbine_tau=[4.0, 4.0])
    >>> agg = coherent_aggregate(nodes)
    >>> float(agg.m[0]), float(agg.d[0]), agg.turbine_gain.tolist(), agg.turbine_tau.tolist()
    (3.0, 0.30000000000000004, [1.0], [4.0])
    """
    nodes = as_node_dynamics(getattr(nodes, "nodes", nodes))
    if group is not None:
        nodes = nodes.subset(as_node_group(group, nodes.n))
    nodes = _as_family(nodes)
    size = nodes.n
    if isinstance(nodes, SwingTurbineNodes):
        aggregate = _aggregate_family(nodes, merge_rtol)
        if mean:
            aggregate = SwingTurbineNodes(aggregate.m / size, aggregate.d / size,
                                          turbine_gain=aggregate.turbine_gain / size,
                                          turbine_tau=aggregate.turbine_tau,
                                          turbine_node=aggregate.turbine_node)
        return aggregate
    aggregate = _aggregate_general(nodes)
    if check:
        s = np.array([0.05j, 0.7 + 0.3j, 3j, 20j + 1.0])
        exact = harmonic_mean(nodes, s) / nodes.n
        realized = aggregate.transfer(s)[:, 0]
        error = np.max(np.abs(realized - exact) / np.maximum(np.abs(exact), 1e-300))
        if not error < 1e-6:
            raise ArithmeticError(
                f"aggregate realization disagrees with the harmonic mean by {error:.2e} "
                f"(relative); the polynomial construction is ill-conditioned for this group"
            )
    return LTINodes([size * aggregate.systems[0]]) if mean else aggregate


def mean_inverse_transfer(nodes, s, chunk=200_000):
    """(1/n) sum_i g_i^{-1}(s), accumulated over chunks of nodes.

    Memory O(ns * chunk) whatever n is; time O(ns * (n + turbines)) for family nodes.

    Parameters
    ----------
    nodes : NodeDynamics
    s : complex or array_like, shape (ns,)
    chunk : int
        Nodes evaluated at once.

    Returns
    -------
    complex or ndarray, shape (ns,)
    """
    s_arr, scalar = as_frequencies(s)
    if nodes.n <= chunk:
        total = nodes.inverse_transfer(s_arr).sum(axis=1)
    else:
        total = np.zeros(s_arr.size, dtype=complex)
        for start in range(0, nodes.n, chunk):
            part = nodes.subset(np.arange(start, min(start + chunk, nodes.n)))
            total += part.inverse_transfer(s_arr).sum(axis=1)
    mean = total / nodes.n
    return mean[0] if scalar else mean


def harmonic_mean(nodes, s, group=None):
    """gbar(s) = ((1/|group|) sum_{i in group} g_i^{-1}(s))^{-1}, evaluated directly (3.4).

    Parameters
    ----------
    nodes : NodeDynamics or NetworkModel
    s : complex or array_like, shape (ns,)
    group : array_like of int or of bool, optional
        Node indices (each at most once) or a boolean mask of length n, as for
        :func:`coherent_aggregate`; all nodes by default.

    Returns
    -------
    complex or ndarray, shape (ns,)
        See :func:`mean_inverse_transfer` for the cost.
    """
    nodes = as_node_dynamics(getattr(nodes, "nodes", nodes))
    if group is not None:
        nodes = nodes.subset(as_node_group(group, nodes.n))
    return 1.0 / mean_inverse_transfer(nodes, s)
