"""Graph Laplacians: construction, validation and the smallest eigenpairs.

A Laplacian here is a real symmetric matrix with zero row sums and non-positive
off-diagonal entries (edge weights >= 0), stored as ``scipy.sparse.csr_matrix``. The
spectrum's low end carries the network's coherence: lambda_2 (algebraic connectivity)
sets how coherent one group is (Lemma 3.1) and the k smallest eigenpairs drive the
spectral clustering and the structure-preserving reduction (Algorithm 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
import scipy.sparse.csgraph as csgraph
import scipy.sparse.linalg as spla

__all__ = [
    "build_laplacian",
    "validate_laplacian",
    "laplacian_components",
    "smallest_eigenpairs",
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
    """The k smallest eigenpairs of a Laplacian, ascending.

    Attributes
    ----------
    values : ndarray, shape (k,)
    vectors : ndarray, shape (n, k)
        Orthonormal columns; for a connected graph the first is +1/sqrt(n).
    method : str
        "dense", "shift-invert", "lanczos" or "lobpcg".
    """

    values: np.ndarray
    vectors: np.ndarray
    method: str


def smallest_eigenpairs(L, k, *, method="auto", tol=1e-10, random_state=0):
    """The k smallest eigenpairs of a symmetric PSD Laplacian.

    Parameters
    ----------
    L : sparse matrix or ndarray, shape (n, n)
    k : int
        1 <= k <= n.
    method : {"auto", "dense", "shift-invert", "lanczos", "lobpcg"}
        ``auto``: dense LAPACK for n <= 2000; shift-invert Lanczos (sparse LU of
        L + sigma I, sigma > 0 small, so the zero eigenvalue is harmless) when the mean
        degree is at most 16, where fill-in stays small (grid-like networks); otherwise
        (dense random graphs, whose low spectrum is well separated from the bulk)
        ``lanczos``: implicitly restarted Lanczos (ARPACK, smallest algebraic) on L with
        the constant vector deflated by a rank-one shift, no factorisation. ``lobpcg``:
        LOBPCG with a Jacobi preconditioner and the constant vector as a constraint
        (slower when lambda_k sits in the bulk: every block vector must converge).
    tol : float
        Eigenvalue tolerance for the iterative methods.
    random_state : int
        Seed of the iterative methods' start vectors.

    Returns
    -------
    LaplacianSpectrum
        ``values[0]`` is exactly 0: a Laplacian's rows sum to zero, so the constant vector
        is an eigenvector with eigenvalue 0 by construction, and every path (dense,
        Lanczos, LOBPCG, shift-invert) reports it as 0 rather than as solver round-off.
        Eigenvectors of a connected graph are oriented so the first is +1/sqrt(n).
    """
    L = sp.csr_matrix(L, dtype=float)
    n = L.shape[0]
    if not 1 <= k <= n:
        raise ValueError(f"k must be between 1 and n = {n}, got {k}")
    if method == "auto":
        if n <= DENSE_EIGEN_LIMIT:
            method = "dense"
        elif L.nnz / n <= 17:
            method = "shift-invert"
        else:
            method = "lanczos"
    rng = np.random.default_rng(random_state)
    if method == "dense" or k >= n - 1:
        values, vectors = sla.eigh(L.toarray(), subset_by_index=[0, k - 1])
        method = "dense"
    elif method == "shift-invert":
        scale = float(np.max(np.abs(L.diagonal()))) or 1.0
        sigma = 1e-6 * scale
        values, vectors = spla.eigsh(L, k=k, sigma=-sigma, which="LM", tol=tol,
                                     v0=rng.standard_normal(n))
    elif method == "lanczos":
        values, vectors = _lanczos_smallest(L, k, tol, rng)
    elif method == "lobpcg":
        values, vectors = _lobpcg_smallest(L, k, tol, rng)
    else:
        raise ValueError(f"unknown eigen method {method!r}")
    order = np.argsort(values)
    values, vectors = values[order], vectors[:, order]
    # L 1 = 0 by construction, so lambda_1 is exactly 0 for every Laplacian; the solvers'
    # round-off (1e-13 relative, of either sign) is not a property of the network.
    scale = max(1.0, float(abs(L).sum(axis=1).max()))
    if abs(values[0]) > 1e-8 * scale:
        raise ValueError(f"smallest eigenvalue {values[0]:.3g} is not 0: the matrix is not a Laplacian "
                         "(rows must sum to zero)")
    values[0] = 0.0
    # Orient the Fiedler-type vectors deterministically: first nonzero entry positive.
    for c in range(vectors.shape[1]):
        pivot = vectors[np.argmax(np.abs(vectors[:, c]) > 1e-12 * np.abs(vectors[:, c]).max()), c]
        if pivot < 0:
            vectors[:, c] *= -1.0
    if not (np.all(np.isfinite(values)) and np.all(np.isfinite(vectors))):
        raise ArithmeticError("eigensolver returned non-finite eigenpairs")
    return LaplacianSpectrum(values, vectors, method)


def _lanczos_smallest(L, k, tol, rng):
    """Lanczos (ARPACK, smallest algebraic) for the k smallest pairs, constant vector deflated.

    L + sigma 1 1^T / n with sigma above the spectrum (Gershgorin: twice the largest
    degree) moves the zero eigenvalue to the top, so the k - 1 smallest pairs of the
    shifted operator are lambda_2..lambda_k of L with vectors orthogonal to 1, and the
    exact constant vector is prepended. One sparse product per iteration, no
    factorisation: suited to dense random graphs, where shift-invert fills in.
    """
    n = L.shape[0]
    ones = np.full((n, 1), 1.0 / np.sqrt(n))
    if k == 1:
        return np.zeros(1), ones
    sigma = 2.0 * float(np.max(np.abs(L.diagonal()))) + 1.0
    shifted = spla.LinearOperator(
        L.shape, matvec=lambda x: L @ x + (sigma / n) * np.sum(x, axis=0), dtype=float)
    values, vectors = spla.eigsh(shifted, k=k - 1, which="SA", tol=tol, v0=rng.standard_normal(n))
    return np.r_[0.0, values], np.hstack([ones, vectors])


def _lobpcg_smallest(L, k, tol, rng):
    """LOBPCG for the k smallest eigenpairs with the constant vector deflated.

    The constant vector is an exact eigenvector (eigenvalue 0) of any Laplacian; for a
    connected graph it is the only one, so it is passed as a constraint and the
    remaining k-1 pairs are computed in its orthogonal complement.
    """
    n = L.shape[0]
    ones = np.full((n, 1), 1.0 / np.sqrt(n))
    diag = L.diagonal()
    preconditioner = sp.diags(1.0 / np.where(diag > 0, diag, 1.0))
    if k == 1:
        return np.zeros(1), ones
    block = min(n - 1, max(2 * (k - 1), k - 1 + 4))
    X = rng.standard_normal((n, block))
    values, vectors = spla.lobpcg(L, X, M=preconditioner, Y=ones, tol=np.sqrt(tol),
                                  maxiter=2000, largest=False)
    order = np.argsort(values)[: k - 1]
    return np.r_[0.0, values[order]], np.hstack([ones, vectors[:, order]])


def algebraic_connectivity(L, **kwargs):
    """lambda_2(L), the second smallest Laplacian eigenvalue (0 when disconnected)."""
    return float(smallest_eigenpairs(L, 2, **kwargs).values[1])
