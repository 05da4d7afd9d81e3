"""Graph Laplacians: construction, validation and the smallest eigenpairs.

A Laplacian here is a real symmetric matrix with zero row sums and non-positive
off-diagonal entries (edge weights >= 0), stored as ``scipy.sparse.csr_matrix``. The
spectrum's low end carries the network's coherence: lambda_2 (algebraic connectivity)
sets how coherent one group is (Lemma 3.1) and the k smallest eigenpairs drive the
spectral clustering and the structure-preserving reduction (Algorithm 1).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import networkx as nx
import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
import scipy.sparse.csgraph as csgraph
import scipy.sparse.linalg as spla

from .._numeric import threaded_product
from .eigengap import DEGENERACY_RTOL

__all__ = [
    "build_laplacian",
    "validate_laplacian",
    "laplacian_components",
    "smallest_eigenpairs",
    "eigenvalue_error_bounds",
    "algebraic_connectivity",
    "DisconnectedNetworkError",
    "LaplacianSpectrum",
]

#: Matrices up to this size use dense LAPACK eigensolvers.
DENSE_EIGEN_LIMIT = 2000


class DisconnectedNetworkError(ValueError):
    """The network graph has more than one connected component.

    Attributes
    ----------
    components : list of ndarray
        Node indices of each component, largest first.
    """

    def __init__(self, components):
        self.components = components
        sizes = [c.size for c in components]
        preview = "; ".join(
            f"component {k} ({c.size} nodes): {c[:8].tolist()}{' ...' if c.size > 8 else ''}"
            for k, c in enumerate(components[:4])
        )
        more = f"; and {len(components) - 4} more" if len(components) > 4 else ""
        super().__init__(
            f"the network is disconnected into {len(components)} components of sizes "
            f"{sizes[:10]}{'...' if len(sizes) > 10 else ''}: {preview}{more}. "
            "Pass allow_disconnected=True to accept it."
        )


def laplacian_components(L):
    """Connected components of the graph of ``L``'s off-diagonal entries, largest first.

    O(n log n + nnz): one stable sort of the component labels splits the nodes, so a
    graph with as many components as nodes costs no more than a connected one.
    """
    count, labels = csgraph.connected_components(sp.csr_matrix(L), directed=False)
    order = np.argsort(labels, kind="stable")
    components = np.split(order, np.cumsum(np.bincount(labels, minlength=count))[:-1])
    components.sort(key=lambda c: (-c.size, c[0]))
    return components


def validate_laplacian(L, *, name="L", allow_disconnected=False, allow_negative_weights=False,
                       rtol=1e-9):
    """Check that ``L`` is a Laplacian and return it as CSR (float64).

    Parameters
    ----------
    L : array_like or sparse matrix, shape (n, n)
    name : str
        Used in error messages.
    allow_disconnected : bool
        Accept a graph with several components (otherwise
        :class:`DisconnectedNetworkError` names them).
    allow_negative_weights : bool
        Accept positive off-diagonal entries (negative edge weights, e.g. a series
        capacitor in a full-bus power network).
    rtol : float
        Relative tolerance for symmetry and zero row sums, relative to max |L_ij|.

    Returns
    -------
    scipy.sparse.csr_matrix
    """
    L = sp.csr_matrix(L, dtype=float)
    if L.ndim != 2 or L.shape[0] != L.shape[1]:
        raise ValueError(f"{name} must be square, got shape {L.shape}")
    if L.shape[0] == 0:
        raise ValueError(f"{name} is empty")
    if not np.all(np.isfinite(L.data)):
        bad = np.flatnonzero(~np.isfinite(L.data))[0]
        row = int(np.searchsorted(L.indptr, bad, side="right") - 1)
        raise ValueError(f"{name} has a non-finite entry in row {row}, column {int(L.indices[bad])}")
    L.eliminate_zeros()
    scale = float(np.max(np.abs(L.data))) if L.nnz else 0.0
    tol = rtol * max(scale, np.finfo(float).tiny)
    asym = abs(L - L.T)
    if asym.nnz and asym.max() > tol:
        coo = asym.tocoo()
        k = int(np.argmax(coo.data))
        i, j = int(coo.row[k]), int(coo.col[k])
        raise ValueError(
            f"{name} is not symmetric: {name}[{i},{j}] = {L[i, j]!r} but {name}[{j},{i}] = {L[j, i]!r}"
        )
    row_sums = np.asarray(L.sum(axis=1)).ravel()
    bad_rows = np.flatnonzero(np.abs(row_sums) > tol * max(1.0, np.sqrt(L.shape[0])))
    if bad_rows.size:
        i = int(bad_rows[0])
        raise ValueError(
            f"{name} is not a Laplacian: row {i} sums to {row_sums[i]:.3e}, not 0 "
            f"({bad_rows.size} rows affected)"
        )
    if not allow_negative_weights:
        off = sp.triu(L, k=1).tocoo()
        positive = off.data > tol
        if positive.any():
            k = int(np.flatnonzero(positive)[0])
            raise ValueError(
                f"{name} has a positive off-diagonal entry {name}[{off.row[k]},{off.col[k]}] = "
                f"{off.data[k]!r} (a negative edge weight); pass allow_negative_weights=True "
                "if this is intended"
            )
    if not allow_disconnected and L.shape[0] > 1:
        components = laplacian_components(L)
        if len(components) > 1:
            raise DisconnectedNetworkError(components)
    return L


def build_laplacian(source, *, n=None, weight="weight", nodelist=None, allow_disconnected=False,
                    allow_negative_weights=False):
    """Build and validate a Laplacian from a graph, an edge list or a matrix.

    Parameters
    ----------
    source : networkx.Graph, sequence of edges, ndarray or sparse matrix
        * a networkx graph: edge attribute ``weight`` (default 1) gives the weights;
          node order is ``nodelist`` or ``list(G)``;
        * edges ``(i, j)`` or ``(i, j, w)`` with integer nodes 0..n-1 (parallel edges
          add up);
        * a square matrix, taken to be the Laplacian itself and validated.
    n : int, optional
        Number of nodes for an edge list (default: largest index + 1).

    Returns
    -------
    scipy.sparse.csr_matrix
        L = diag(A 1) - A, validated by :func:`validate_laplacian`.

    Examples
    --------
    >>> L = build_laplacian([(0, 1, 2.0), (1, 2)])
    >>> L.toarray()
    array([[ 2., -2.,  0.],
           [-2.,  3., -1.],
           [ 0., -1.,  1.]])
    """
    if isinstance(source, nx.Graph):
        if source.is_directed():
            raise ValueError("the network graph must be undirected")
        adjacency = nx.to_scipy_sparse_array(source, nodelist=nodelist, weight=weight, format="csr")
        adjacency = sp.csr_matrix(adjacency, dtype=float)
        adjacency.setdiag(0.0)
        L = sp.diags(np.asarray(adjacency.sum(axis=1)).ravel()) - adjacency
    elif sp.issparse(source) or (isinstance(source, np.ndarray) and source.ndim == 2
                                 and source.shape[0] == source.shape[1] and source.shape[1] != 2
                                 and source.shape[1] != 3):
        L = source
    else:
        rows = [tuple(edge) for edge in source]
        if not rows or any(len(edge) not in (2, 3) for edge in rows):
            raise ValueError("an edge list must be a non-empty list of (i, j) or (i, j, weight) rows")
        edges = np.array([edge if len(edge) == 3 else (*edge, 1.0) for edge in rows], dtype=float)
        if not np.all(np.isfinite(edges)):
            raise ValueError("the edge list has a non-finite entry")
        i, j = edges[:, 0], edges[:, 1]
        if np.any(i != np.round(i)) or np.any(j != np.round(j)) or np.any(edges[:, :2] < 0):
            raise ValueError("edge endpoints must be non-negative integers")
        i, j = i.astype(np.int64), j.astype(np.int64)
        w = edges[:, 2]
        size = int(max(i.max(), j.max()) + 1) if n is None else int(n)
        if n is not None and (i.max() >= n or j.max() >= n):
            raise ValueError(f"an edge refers to node {int(max(i.max(), j.max()))} but n = {n}")
        keep = i != j
        i, j, w = i[keep], j[keep], w[keep]
        adjacency = sp.csr_matrix(
            (np.r_[w, w], (np.r_[i, j], np.r_[j, i])), shape=(size, size)
        )
        L = sp.diags(np.asarray(adjacency.sum(axis=1)).ravel()) - adjacency
    return validate_laplacian(L, allow_disconnected=allow_disconnected,
                              allow_negative_weights=allow_negative_weights)


@dataclass(frozen=True)
class LaplacianSpectrum:
    """The k smallest eigenpairs of a Laplacian (or of its pencil with a positive diagonal), ascending.

    Attributes
    ----------
    values : ndarray, shape (k,)
    vectors : ndarray, shape (n, k)
        Orthonormal columns (B-orthonormal, v^T diag(weight) v = I, for a pencil); for a
        connected graph the first is the positive constant vector.
    method : str
        The solver that produced them: "dense", "amg", "shift-invert" or "lanczos".
    residual_norms : ndarray, shape (k,)
        The accuracy reached: ||S u_i - lambda_i u_i||_2 for the unit vectors u_i =
        diag(weight)^{1/2} v_i of the symmetric form S = diag(weight)^{-1/2} L
        diag(weight)^{-1/2} (S = L without a weight). Some eigenvalue of L lies within
        ``residual_norms[i]`` of ``values[i]`` (Weyl), and within residual^2 / gap when the
        gap to the rest of the spectrum is known (Kato-Temple).
    """

    values: np.ndarray
    vectors: np.ndarray
    method: str
    residual_norms: np.ndarray


#: Relative accuracy of the eigenvalues the iterative solvers accept: a hundred times
#: finer than the coincidence tolerance of the eigengap check
#: (:data:`~gridcoherence.models.eigengap.DEGENERACY_RTOL`), so that check compares
#: eigenvalues, not solver error.
EIGENVALUE_RTOL = 1e-2 * DEGENERACY_RTOL

#: Mean number of stored entries per row up to which the ARPACK fallback factorises
#: (shift-invert); above it (dense random graphs, where the LU fills in) it uses Lanczos.
SHIFT_INVERT_MAX_ROW_NNZ = 17

#: A sparse graph counts as grid-like (shift-invert) when a breadth-first search from node 0
#: needs more than this many times log(n) / log(mean degree) levels -- the depth of a random
#: graph of that degree. Random (expander-like) graphs reach every node in about that many
#: levels, have no small separators, and their LU fills in: shift-invert took 540 s on a
#: 20,000-node SBM of degree 10 where Lanczos takes 0.36 s. Grids, chains and power networks
#: are many times deeper.
GRID_LIKE_DEPTH_RATIO = 4.0

EIGEN_METHODS = ("auto", "dense", "amg", "shift-invert", "lanczos")


def smallest_eigenpairs(L, k, *, weight=None, method="auto", tol=1e-10, random_state=0, start=None, workers=None):
    """The k smallest eigenpairs of a Laplacian, or of the pencil L v = lambda diag(weight) v.

    ``L`` is trusted to be a symmetric positive semidefinite Laplacian whose kernel is the
    constant vector (a connected graph; :func:`validate_laplacian`). With a positive
    ``weight`` the problem is solved in its symmetric form S = W^{-1/2} L W^{-1/2}
    (W = diag(weight)), whose kernel is W^{1/2} 1.

    Parameters
    ----------
    L : sparse matrix or ndarray, shape (n, n)
    k : int
        1 <= k <= n.
    weight : ndarray of shape (n,), optional
        Positive diagonal of B (node inertias, weighted degrees); B = I when omitted.
    method : {"auto", "dense", "amg", "shift-invert", "lanczos"}
        ``auto``: dense LAPACK for n <= 2000; beyond, shift-invert for grid-like
        networks -- up to :data:`SHIFT_INVERT_MAX_ROW_NNZ` stored entries per row and
        deep, where the LU fill-in stays small -- and Lanczos for the others (random
        graphs, sparse or dense, whose low spectrum stands apart from the bulk). ``shift-invert``: Lanczos (ARPACK) on
        (S + sigma I)^{-1} with a sparse LU, sigma > 0 small. ``lanczos``: implicitly
        restarted Lanczos (ARPACK, smallest algebraic) on S, no factorisation. ``amg``:
        LOBPCG preconditioned by smoothed-aggregation algebraic multigrid (pyamg, as
        scikit-learn's ``eigen_solver="amg"``) with the kernel vector deflated exactly (a
        constraint of the iteration); it stops only when every eigenvalue is accurate to
        :data:`EIGENVALUE_RTOL` relative by the residual bounds
        (:func:`eigenvalue_error_bounds`: residual^2 / gap for a cluster of close
        eigenvalues, so the eigengap check compares eigenvalues, not solver error), and
        falls back to ``auto``'s ARPACK choice when three rounds do not get there. It is
        not ``auto``'s choice: on the benchmark graphs (scripts/bench.py) its multigrid
        setup on dense random graphs costs more than Lanczos altogether (11 pairs of
        the 10^5-node degree-30 SBM: 67 s for the inertia pencil and 87 s for L, against
        2.1 s and 1.9 s by Lanczos; LOBPCG with a diagonal preconditioner and a block of
        16 needed 35-120 iterations, 3.6-9 s), and on grid-like ones, whose lambda_2 is
        1e-9 of ||L||, LOBPCG cannot reach that relative accuracy where shift-invert
        does.
    tol : float
        ARPACK's relative eigenvalue tolerance.
    random_state : int
        Seed of the iterative methods' start vectors.
    start : ndarray of shape (n, j), optional
        Approximate eigenvectors (of this or a nearby problem) to start ``amg`` from, e.g.
        those of another embedding of the same network; the block is completed with
        random vectors. The ARPACK methods ignore it: a start vector built from them
        saved nothing at 10^5 SBM nodes.
    workers : int, optional
        Threads of Lanczos's products with S and of the residuals' (row blocks,
        :func:`~gridcoherence._numeric.threaded_product`, from 2 M stored entries; the
        results do not depend on it); default every core this process may use.

    Returns
    -------
    LaplacianSpectrum
        ``values[0]`` is exactly 0: the kernel vector is an eigenvector with eigenvalue 0
        by construction (L 1 = 0), and every path reports it as 0 rather than as solver
        round-off. ``residual_norms`` say how accurate the pairs are. Eigenvectors are
        oriented so the first entry of significant size is positive.

    Raises
    ------
    ValueError
        A negative eigenvalue (L is not positive semidefinite) or a smallest eigenvalue
        that is not 0 (not a Laplacian).

    Examples
    --------
    >>> L = build_laplacian([(0, 1), (1, 2), (2, 3)])  # path graph: 2 - 2 cos(j pi / 4)
    >>> spectrum = smallest_eigenpairs(L, 3)
    >>> spectrum.values.round(6).tolist(), spectrum.method, bool(spectrum.residual_norms.max() < 1e-12)
    ([0.0, 0.585786, 2.0], 'dense', True)
    """
    L = sp.csr_matrix(L, dtype=float)
    n = L.shape[0]
    if not 1 <= k <= n:
        raise ValueError(f"k must be between 1 and n = {n}, got {k}")
    if method not in EIGEN_METHODS:
        raise ValueError(f"unknown eigen method {method!r}; use one of {EIGEN_METHODS}")
    if weight is None:
        root, S = None, L
        kernel = np.full(n, 1.0 / np.sqrt(n))
    else:
        weight = np.asarray(weight, dtype=float)
        if weight.shape != (n,):
            raise ValueError(f"weight must have shape ({n},), got {weight.shape}")
        bad = np.flatnonzero(~(np.isfinite(weight) & (weight > 0)))
        if bad.size:
            raise ValueError(f"weight must be finite and positive at every node; node {int(bad[0])} has "
                             f"{float(weight[bad[0]])!r}")
        root = np.sqrt(weight)
        S = _scaled_symmetrically(L, 1.0 / root)
        kernel = root / np.linalg.norm(root)
    scale = max(1.0, _gershgorin_bound(S))
    if method == "auto":
        method = "dense" if n <= DENSE_EIGEN_LIMIT else _arpack_method(S)
    rng = np.random.default_rng(random_state)
    if method == "dense" or k >= n - 1:
        values, U = sla.eigh(S.toarray(), subset_by_index=[0, k - 1])
        method = "dense"
    elif k == 1:
        values, U = np.zeros(1), kernel[:, None]
    else:
        found = None
        if method == "amg":
            guess = None if start is None else (start if root is None else start * root[:, None])
            found = _amg_lobpcg(S, kernel, k, scale, rng, guess)
            if found is None:
                method = _arpack_method(S)
        if found is not None:
            values, U = found
        elif method == "shift-invert":
            sigma = 1e-6 * float(np.max(np.abs(S.diagonal()))) or 1e-6
            values, U = spla.eigsh(S, k=k, sigma=-sigma, which="LM", tol=tol, v0=rng.standard_normal(n))
        else:
            values, U = _lanczos_smallest(S, kernel, k, tol, rng, scale, workers)
    order = np.argsort(values)
    values, U = values[order], U[:, order]
    if values[0] < -1e-8 * scale:
        raise ValueError(f"the problem has a negative eigenvalue {values[0]:.3g}: the Laplacian is not "
                         "positive semidefinite")
    if abs(values[0]) > 1e-8 * scale:
        raise ValueError(f"smallest eigenvalue {values[0]:.3g} is not 0: the matrix is not a Laplacian "
                         "(rows must sum to zero)")
    # L 1 = 0 by construction, so lambda_1 is exactly 0 for every Laplacian; the solvers'
    # round-off (1e-13 relative, of either sign) is not a property of the network.
    values[0] = 0.0
    with threaded_product(S, workers) as product:
        residual_norms = np.linalg.norm(product @ U - U * values, axis=0)
    vectors = U if root is None else U / root[:, None]
    # Orient deterministically: the first entry of significant size positive.
    for c in range(vectors.shape[1]):
        pivot = vectors[np.argmax(np.abs(vectors[:, c]) > 1e-12 * np.abs(vectors[:, c]).max()), c]
        if pivot < 0:
            vectors[:, c] *= -1.0
    if not (np.all(np.isfinite(values)) and np.all(np.isfinite(vectors))):
        raise ArithmeticError("eigensolver returned non-finite eigenpairs")
    return LaplacianSpectrum(values, vectors, method, residual_norms)


def _scaled_symmetrically(L, scale):
    """diag(scale) L diag(scale) as CSR sharing ``L``'s index arrays: O(nnz), no sparse product."""
    data = np.repeat(scale, np.diff(L.indptr))
    data *= L.data
    data *= scale[L.indices]
    return sp.csr_matrix((data, L.indices, L.indptr), shape=L.shape)


def _gershgorin_bound(S):
    """max_i sum_j |S_ij|, an upper bound of ||S||_2, without a copy of S's index arrays."""
    if S.nnz == 0:
        return 0.0
    magnitudes = sp.csr_matrix((np.abs(S.data), S.indices, S.indptr), shape=S.shape)
    return float(np.max(magnitudes @ np.ones(S.shape[1])))


def _arpack_method(S):
    """ARPACK's variant for S: shift-invert when its LU stays sparse (grid-like), else plain Lanczos.

    Grid-like: at most :data:`SHIFT_INVERT_MAX_ROW_NNZ` stored entries per row and a
    breadth-first depth from node 0 above :data:`GRID_LIKE_DEPTH_RATIO` log(n) / log(d)
    (d the mean degree, at least 2): O(n + nnz).
    """
    n = S.shape[0]
    if S.nnz / n > SHIFT_INVERT_MAX_ROW_NNZ:
        return "lanczos"
    pattern = sp.csr_matrix((np.ones(S.nnz), S.indices, S.indptr), shape=S.shape)  # signs are not hops
    depth = csgraph.shortest_path(pattern, directed=False, unweighted=True, indices=0)
    mean_degree = max((S.nnz - n) / n, 2.0)
    grid_like = np.max(depth[np.isfinite(depth)]) > GRID_LIKE_DEPTH_RATIO * np.log(n) / np.log(mean_degree)
    return "shift-invert" if grid_like else "lanczos"


def _lanczos_smallest(S, kernel, k, tol, rng, scale, workers=None):
    """Lanczos (ARPACK, smallest algebraic) for the k smallest pairs of S, the kernel exact.

    One sparse product per iteration, no factorisation: suited to dense random graphs,
    whose low spectrum is well separated from the bulk and where shift-invert fills in.
    The zero eigenvalue is the extreme one and converges first; its Ritz vector is
    replaced by the exact kernel vector. When the pairs found hold a repeated eigenvalue
    (two values that the eigengap check would call coincident) -- the mark of a symmetric
    graph, whose eigenspaces Lanczos explores one direction at a time -- copies that the
    iteration skipped are searched for and added (:func:`_add_skipped_copies`). Without
    that mark the search is not made: on the benchmark graphs it would cost half of the
    solve again. The products with S, Lanczos's whole cost on large graphs, run on
    ``workers`` threads (:func:`~gridcoherence._numeric.threaded_product`).
    """
    with threaded_product(S, workers) as product:
        values, vectors = spla.eigsh(product, k=k, which="SA", tol=tol, v0=rng.standard_normal(S.shape[0]))
        order = np.argsort(values)
        values, vectors = values[order], vectors[:, order]
        if np.any(np.diff(values[1:]) <= DEGENERACY_RTOL * np.abs(values[2:])):
            values, vectors = _add_skipped_copies(product, values, vectors, tol, rng, scale)
    vectors[:, 0] = kernel
    return values, vectors


#: Relative accuracy of the search for a skipped eigenvalue below the largest one found
#: (:func:`_add_skipped_copies`): it decides only whether one lies below.
SKIPPED_COPY_RTOL = 1e-4


def _add_skipped_copies(S, values, U, tol, rng, scale):
    """The k smallest pairs of S (ascending): ``values``, ``U`` with the repeated copies Lanczos skipped.

    From one start vector Lanczos sees a single direction of each eigenspace in exact
    arithmetic; further copies of a repeated eigenvalue appear only through rounding, and
    ARPACK may report k converged pairs that skip one (on the 30 x 30 torus, three of the
    four copies of lambda_2), after which the eigengap check would find a gap where the
    eigenvalues coincide. So the smallest eigenvalue of S on the orthogonal complement of
    the pairs found is computed -- Lanczos on P S P + ||S|| U U^T (P = I - U U^T),
    started in the complement, to :data:`SKIPPED_COPY_RTOL` -- and while it lies below the
    largest value found (by more than the eigengap check's coincidence tolerance), its
    pair is computed to ``tol`` and joins them (Rayleigh-Ritz on the span, the k smallest
    kept). A Ritz value bounds the smallest eigenvalue from above, so a value found below
    is a skipped eigenvalue, never solver error.
    """
    n, k = U.shape

    def apply(x):
        inside = U.T @ x
        y = S @ (x - U @ inside)
        y -= U @ (U.T @ y)
        y += scale * (U @ inside)
        return y

    operator = spla.LinearOperator((n, n), matvec=apply, dtype=float)
    for _ in range(k - 1):
        start = rng.standard_normal(n)
        start -= U @ (U.T @ start)
        lowest, w = spla.eigsh(operator, k=1, which="SA", tol=SKIPPED_COPY_RTOL, v0=start)
        if not lowest[0] < values[-1] * (1.0 - DEGENERACY_RTOL):
            break
        _, w = spla.eigsh(operator, k=1, which="SA", tol=tol, v0=w[:, 0])
        basis = np.linalg.qr(np.c_[U, w])[0]
        projected = basis.T @ (S @ basis)
        theta, Y = np.linalg.eigh(0.5 * (projected + projected.T))
        values, U = theta[:k], basis @ Y[:, :k]
    return values, U


def eigenvalue_error_bounds(values, residual_norms):
    """Bounds on the eigenvalue errors of Ritz pairs from their residual norms.

    Ritz values closer than the sum of their residuals cannot be told apart at that
    accuracy and form a cluster; a cluster's error is at most min(r, r^2 / delta), with r
    the root sum of its squared residuals and delta its distance to the nearest value
    outside it (Kato-Temple; Weyl's r alone for the last cluster, whose gap to the
    uncomputed rest is unknown).

    Parameters
    ----------
    values : ndarray, shape (m,)
        Ritz values, ascending.
    residual_norms : ndarray, shape (m,)

    Returns
    -------
    ndarray, shape (m,)

    Examples
    --------
    >>> eigenvalue_error_bounds(np.array([1.0, 1.0 + 1e-9, 5.0]), np.array([1e-6, 1e-6, 1e-6])).round(13).tolist()
    [5e-13, 5e-13, 1e-06]
    """
    m = values.size
    bounds = residual_norms.astype(float).copy()
    first = 0
    while first < m:
        last = first
        while last + 1 < m and values[last + 1] - values[last] <= residual_norms[last] + residual_norms[last + 1]:
            last += 1
        if last + 1 < m:
            r = float(np.sqrt(np.sum(residual_norms[first:last + 1] ** 2)))
            gap = values[last + 1] - values[last]
            if first > 0:
                gap = min(gap, values[first] - values[first - 1])
            bounds[first:last + 1] = min(r, r * r / gap)
        first = last + 1
    return bounds


def _amg_lobpcg(S, kernel, k, scale, rng, start):
    """LOBPCG with an algebraic multigrid preconditioner: the k smallest pairs, or None.

    The kernel vector is a constraint (Y), so the block converges to lambda_2.. in its
    orthogonal complement. The residual tolerance starts at 1e-6 ||S|| and is tightened
    (from the current block) until :func:`eigenvalue_error_bounds` put every wanted
    eigenvalue within :data:`EIGENVALUE_RTOL` of the truth; None when three rounds do
    not get there (the caller falls back to ARPACK).
    """
    import pyamg

    n = S.shape[0]
    # The singular S is shifted for the multigrid hierarchy only (as scikit-learn does):
    # the smoothed-aggregation theory needs a nonsingular matrix; the kernel vector is
    # the near-nullspace candidate of the aggregation.
    shift = 1e-5 * float(np.mean(S.diagonal()))
    hierarchy = pyamg.smoothed_aggregation_solver((S + shift * sp.identity(n, format="csr")).tocsr(),
                                                  B=kernel[:, None])
    preconditioner = hierarchy.aspreconditioner(cycle="V")
    block = min(n - 2, k - 1 + max(3, (k - 1) // 2))
    X = rng.standard_normal((n, block))
    if start is not None:
        guess = start[:, 1:block + 1]
        X[:, :guess.shape[1]] = guess
    tolerance = 1e-6 * scale
    wanted = slice(0, k - 1)
    for _ in range(3):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "Exited at iteration ...": judged below
            values, X = spla.lobpcg(S, X, M=preconditioner, Y=kernel[:, None], tol=tolerance, maxiter=300,
                                    largest=False)
        order = np.argsort(values)
        values, X = values[order], X[:, order]
        residual_norms = np.linalg.norm(S @ X - X * values, axis=0)
        bounds = eigenvalue_error_bounds(np.r_[0.0, values], np.r_[0.0, residual_norms])[1:]
        if np.all(bounds[wanted] <= EIGENVALUE_RTOL * np.abs(values[wanted])):
            return np.r_[0.0, values[wanted]], np.hstack([kernel[:, None], X[:, wanted]])
        tolerance = max(1e-3 * tolerance, 1e-13 * scale)
    return None


def algebraic_connectivity(L, **kwargs):
    """lambda_2(L), the second smallest Laplacian eigenvalue (0 when disconnected)."""
    return float(smallest_eigenpairs(L, 2, **kwargs).values[1])
