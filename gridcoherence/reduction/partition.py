"""Partitions of a network's nodes into k clusters {I_1..I_k} (Algorithm 1, Sec. 3.2).

A :class:`Partition` is a frozen value: every node's cluster in canonical numbering
0..k-1 (cluster 0 holds node 0, the next new cluster met in node order is 1, and so
on), the cluster sizes |I_i|, the members of each cluster and the partition matrix
P = [1_{I_1} ... 1_{I_k}] of (3.29), with P^T x (:meth:`Partition.restrict`) and P y
(:meth:`Partition.lift`) computed without forming P. It is validated once, when it is
made; the functions that take a partition accept a :class:`Partition`, labels or index
groups and turn them into one with :func:`as_partition` at their boundary, so code
inside trusts it. :func:`check_n_clusters` is the one check of a number of clusters k.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.sparse as sp

__all__ = ["Partition", "as_partition", "as_labels", "check_n_clusters"]


def check_n_clusters(k, n, name="k"):
    """Validate a number of clusters for n nodes: an integer 1 <= k <= n, returned as int.

    Examples
    --------
    >>> check_n_clusters(3.0, 10)
    3
    """
    whole = (isinstance(k, (int, float, np.integer, np.floating)) and not isinstance(k, (bool, np.bool_))
             and np.isfinite(k) and int(k) == k)
    if not whole or not 1 <= int(k) <= n:
        raise ValueError(f"{name} must be an integer between 1 and n = {n}, got {k!r}")
    return int(k)


def _canonical(labels):
    """Cluster numbers 0..k-1 in order of first appearance, and k. O(n log n)."""
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    rank = np.empty(first.size, dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(first.size)
    return rank[inverse.ravel()], first.size


@dataclass(frozen=True, eq=False, init=False)
class Partition:
    """A partition of nodes 0..n-1 into k non-empty clusters.

    Parameters
    ----------
    labels : array_like of int, shape (n,)
        A cluster number per node: any integers; they are renumbered canonically.
    n : int, optional
        Required number of nodes.
    n_clusters : int, optional
        Required number of clusters k: another number of clusters raises.

    Attributes
    ----------
    labels : ndarray of int64, shape (n,), read-only
        Cluster of every node, canonical numbering 0..k-1 by first appearance.
    n_clusters : int
        k.
    sizes : ndarray of int64, shape (k,), read-only
        |I_i|.

    Raises
    ------
    ValueError
        Labels that are not a 1-D integer array of length n (naming what is wrong), or a
        number of clusters other than the required ``n_clusters``.

    Examples
    --------
    >>> p = Partition([7, 7, 3, 5, 3])
    >>> p.labels.tolist(), p.n_clusters, p.sizes.tolist()
    ([0, 0, 1, 2, 1], 3, [2, 2, 1])
    >>> p.members(1).tolist()
    [2, 4]
    >>> p.restrict([1.0, 2.0, 3.0, 4.0, 5.0]).tolist()
    [3.0, 8.0, 4.0]
    >>> p.lift([10.0, 20.0, 30.0]).tolist()
    [10.0, 10.0, 20.0, 30.0, 20.0]
    """

    labels: np.ndarray
    n_clusters: int
    sizes: np.ndarray

    def __init__(self, labels, *, n=None, n_clusters=None):
        labels = np.asarray(labels)
        if labels.ndim != 1 or labels.size == 0:
            raise ValueError(f"labels must be a non-empty 1-D array (one cluster per node), got shape {labels.shape}")
        if n is not None and labels.size != n:
            raise ValueError(f"labels must have shape ({n},) (one cluster per node), got {labels.shape}")
        if not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(f"labels must be integers, got dtype {labels.dtype}")
        canonical, k = _canonical(labels)
        if n_clusters is not None and k != n_clusters:
            raise ValueError(f"the partition has {k} clusters but k = {n_clusters}")
        sizes = np.bincount(canonical, minlength=k)
        canonical.setflags(write=False)
        sizes.setflags(write=False)
        object.__setattr__(self, "labels", canonical)
        object.__setattr__(self, "n_clusters", int(k))
        object.__setattr__(self, "sizes", sizes)

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_labels(cls, partition, n=None, *, n_clusters=None):
        """A partition from labels or from a list of node-index groups.

        Parameters
        ----------
        partition : array_like of int, shape (n,), or sequence of array_like of int
            A cluster number per node (renumbered canonically), or a list of node-index
            groups (e.g. known control areas) that together cover 0..n-1 exactly once.
        n : int, optional
            Number of nodes (required length of labels; the groups must cover 0..n-1).
        n_clusters : int, optional
            Required number of clusters.

        Examples
        --------
        >>> Partition.from_labels([[3, 0], [1, 2]], 4).labels.tolist()
        [0, 1, 1, 0]
        """
        is_groups = isinstance(partition, (list, tuple)) and len(partition) > 0 and all(
            np.ndim(group) == 1 for group in partition)
        if not is_groups:
            return cls(partition, n=n, n_clusters=n_clusters)
        groups = [np.asarray(group).ravel() for group in partition]
        for c, group in enumerate(groups):
            if group.size == 0:
                raise ValueError(f"group {c} of the partition is empty: every group must hold at least one node")
            if not np.issubdtype(group.dtype, np.integer):
                raise ValueError(f"group {c} of the partition must hold integer node indices, got dtype {group.dtype}")
        everything = np.concatenate(groups)
        size = everything.size if n is None else n
        if not np.array_equal(np.sort(everything), np.arange(size)):
            raise ValueError(f"the groups must cover node indices 0..{size - 1} exactly once")
        labels = np.empty(size, dtype=np.int64)
        for c, group in enumerate(groups):
            labels[group] = c
        return cls(labels, n_clusters=n_clusters)

    @classmethod
    def from_partition_matrix(cls, matrix, *, n_clusters=None):
        """The partition whose matrix P (3.29) is given: the column holding each row's single 1.

        Every column must hold at least one 1 (no empty cluster); clusters are renumbered
        canonically, so P's columns may come in any order.

        Examples
        --------
        >>> P = Partition([0, 1, 1, 0]).matrix
        >>> Partition.from_partition_matrix(P).labels.tolist()
        [0, 1, 1, 0]
        """
        P = sp.csr_matrix(matrix)
        P.eliminate_zeros()
        if np.any(np.diff(P.indptr) != 1) or not np.all(P.data == 1.0):
            raise ValueError("a partition matrix has exactly one entry 1 in every row")
        empty = np.flatnonzero(np.bincount(P.indices, minlength=P.shape[1]) == 0)
        if empty.size:
            raise ValueError(f"column {int(empty[0])} of the partition matrix is empty: every cluster "
                             "must hold at least one node")
        return cls(P.indices.astype(np.int64), n_clusters=n_clusters)

    # ------------------------------------------------------------------ queries
    @property
    def n(self):
        """Number of nodes."""
        return self.labels.size

    @cached_property
    def _order(self):
        """Nodes sorted by cluster (stable) and the offsets of each cluster in that order."""
        order = np.argsort(self.labels, kind="stable")
        return order, np.r_[0, np.cumsum(self.sizes)]

    def members(self, c):
        """Node indices of cluster ``c``, ascending."""
        if not 0 <= c < self.n_clusters:
            raise IndexError(f"cluster {c} out of range 0..{self.n_clusters - 1}")
        order, offsets = self._order
        return order[offsets[c]:offsets[c + 1]]

    @cached_property
    def matrix(self):
        """P = [1_{I_1} ... 1_{I_k}] of (3.29), a sparse n x k 0/1 matrix (CSR)."""
        n = self.n
        return sp.csr_matrix((np.ones(n), (np.arange(n), self.labels)), shape=(n, self.n_clusters))

    def node_indices(self, nodes=None):
        """Validated original node indices as an int array (all nodes when ``nodes`` is None)."""
        if nodes is None:
            return np.arange(self.n)
        nodes = np.atleast_1d(np.asarray(nodes))
        if nodes.size and (not np.issubdtype(nodes.dtype, np.integer) or nodes.min() < 0
                           or nodes.max() >= self.n):
            raise IndexError(f"node indices must be integers in 0..{self.n - 1}, got {nodes.tolist()[:10]}")
        return nodes.astype(np.int64)

    @cached_property
    def _summation(self):
        """P^T as CSR, built once: the band error's operators restrict thousands of times."""
        return self.matrix.T.tocsr()

    def restrict(self, x, axis=0):
        """P^T x: the values of ``x`` SUMMED over each cluster along ``axis`` (length n -> k).

        Sums, not means: inputs entering a cluster add up at its aggregate node, and a
        cluster's inertia is the total of its nodes' inertias. O(n) per column: one sparse
        product with P^T (:attr:`matrix`).
        """
        x = np.moveaxis(np.asarray(x), axis, 0)
        if x.shape[0] != self.n:
            raise ValueError(f"restrict needs {self.n} values along axis {axis}, got {x.shape[0]}")
        flat = x.reshape(self.n, -1).astype(np.result_type(x.dtype, float), copy=False)
        out = np.asarray(self._summation @ flat).reshape((self.n_clusters,) + x.shape[1:])
        return np.moveaxis(out, 0, axis)

    def lift(self, y, axis=0, nodes=None):
        """P y: every node gets its cluster's value of ``y`` (length k -> n along ``axis``).

        ``nodes`` selects which original nodes are returned (all by default).
        """
        y = np.asarray(y)
        if y.shape[axis] != self.n_clusters:
            raise ValueError(f"lift needs {self.n_clusters} cluster values along axis {axis}, got {y.shape[axis]}")
        return np.take(y, self.labels[self.node_indices(nodes)], axis=axis)

    def __eq__(self, other):
        return isinstance(other, Partition) and np.array_equal(self.labels, other.labels)

    def __hash__(self):
        return hash(self.labels.tobytes())

    def __repr__(self):
        return f"Partition(n={self.n}, n_clusters={self.n_clusters}, sizes={self.sizes.tolist()})"


def as_partition(partition, n=None, *, n_clusters=None):
    """A :class:`Partition` from a Partition (checked, returned as is), labels or index groups.

    The boundary check of every function that takes a partition: arguments are validated
    here, once; a :class:`Partition` was validated when it was made, so only its size is
    compared with ``n`` and ``n_clusters``.

    Parameters
    ----------
    partition : Partition, array_like of int, or sequence of array_like of int
        See :meth:`Partition.from_labels`.
    n : int, optional
    n_clusters : int, optional

    Returns
    -------
    Partition
    """
    if not isinstance(partition, Partition):
        return Partition.from_labels(partition, n, n_clusters=n_clusters)
    if n is not None and partition.n != n:
        raise ValueError(f"the partition covers {partition.n} nodes, not n = {n}")
    if n_clusters is not None and partition.n_clusters != n_clusters:
        raise ValueError(f"the partition has {partition.n_clusters} clusters but k = {n_clusters}")
    return partition


def as_labels(partition, n):
    """Canonical labels of a partition of nodes 0..n-1 (see :func:`as_partition`).

    Examples
    --------
    >>> as_labels([[3, 0], [1, 2]], 4).tolist()
    [0, 1, 1, 0]
    """
    return as_partition(partition, n).labels
