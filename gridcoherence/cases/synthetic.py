"""Synthetic power-grid-like topologies for large studies and benchmarks.

Transmission grids are sparse (mean degree about 2.5-3.5), nearly planar and mostly
local, which keeps sparse LU fill-in small. :func:`synthetic_grid` mimics that: random
bus locations in the unit square, the Euclidean minimum spanning tree of their Delaunay
triangulation (a connected backbone), plus the shortest remaining Delaunay edges as
meshing lines.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import minimum_spanning_tree
from scipy.spatial import Delaunay

from .._numeric import sorted_unique
from ..models.laplacian import build_laplacian

__all__ = ["SyntheticGrid", "synthetic_grid"]


@dataclass(frozen=True)
class SyntheticGrid:
    """A synthetic grid: Laplacian, edge list and bus coordinates.

    Attributes
    ----------
    laplacian : scipy.sparse.csr_matrix
    edges : ndarray, shape (m, 2)
    weights : ndarray, shape (m,)
    coordinates : ndarray, shape (n, 2)
    """

    laplacian: sp.csr_matrix
    edges: np.ndarray
    weights: np.ndarray
    coordinates: np.ndarray


def synthetic_grid(n, *, extra_edges=0.4, weight_range=(5.0, 50.0), random_state=None):
    """A connected, sparse, planar grid-like network with n nodes.

    Parameters
    ----------
    n : int
        Number of buses (>= 3).
    extra_edges : float
        Meshing lines added to the spanning tree, as a fraction of n (0.4 gives mean
        degree about 2.8).
    weight_range : (float, float)
        Edge weights (p.u. synchronising coefficients) drawn uniformly from this range.
    random_state : int or Generator, optional

    Returns
    -------
    SyntheticGrid

    Notes
    -----
    O(n log n) time (Delaunay triangulation and the sort of its edges).

    Examples
    --------
    >>> grid = synthetic_grid(500, random_state=0)
    >>> grid.laplacian.shape, round(2 * len(grid.edges) / 500, 1)
    ((500, 500), 2.8)
    """
    if n < 3:
        raise ValueError(f"a synthetic grid needs n >= 3 buses, got {n}")
    if extra_edges < 0:
        raise ValueError(f"extra_edges must be >= 0, got {extra_edges}")
    rng = np.random.default_rng(random_state)
    points = rng.random((n, 2))
    simplices = Delaunay(points).simplices
    pairs = np.sort(np.vstack([simplices[:, [0, 1]], simplices[:, [1, 2]], simplices[:, [0, 2]]]), axis=1)
    codes = sorted_unique(pairs[:, 0].astype(np.int64) * n + pairs[:, 1])
    i, j = codes // n, codes % n
    length = np.linalg.norm(points[i] - points[j], axis=1)
    tree = minimum_spanning_tree(sp.csr_matrix((length, (i, j)), shape=(n, n))).tocoo()
    tree_codes = np.minimum(tree.row, tree.col).astype(np.int64) * n + np.maximum(tree.row, tree.col)
    others = ~np.isin(codes, tree_codes)
    shortest = np.argsort(length[others], kind="stable")[: int(extra_edges * n)]
    extra = codes[others][shortest]
    chosen = np.r_[tree_codes, extra]
    edges = np.c_[chosen // n, chosen % n]
    weights = rng.uniform(*weight_range, size=len(edges))
    laplacian = build_laplacian(np.c_[edges, weights], n=n)
    return SyntheticGrid(laplacian, edges, weights, points)
