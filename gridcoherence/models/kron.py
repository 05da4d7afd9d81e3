"""A Kron-reduced Laplacian kept in its sparse, unreduced form.

A power grid's machine network is the Schur complement of its sparse bus network onto
the machines' internal nodes (dissertation Sec. 3.1.1, Fig. 3-2):

    L = K_mm - K_mb K_bb^{-1} K_bm,      K = [[K_mm, K_mb], [K_bm, K_bb]],

with K the linearized Laplacian of the internal nodes and buses. L couples every pair of
machines (on case9241pegase its 1,445 x 1,445 matrix is 100 % filled), K does not (42,000
entries on 10,686 nodes). :class:`KronReduction` keeps K, so that a
:class:`~gridcoherence.models.network.NetworkModel` holding one solves with its network
matrix and multiplies by L through the sparse K:

* (diag(h) + c L) x = b  is  [[diag(h) + c K_mm, c K_mb], [c K_bm, c K_bb]] [x; y] = [b; 0]
  (block elimination of the buses), one sparse LU of the bordered matrix;
* L x = K_mm x - K_mb (K_bb^{-1} (K_bm x)), one sparse LU of K_bb computed once.

Both are exact: the same numbers as the dense L up to rounding, at a fraction of the cost
(case9241pegase: 10 ms against 150 ms per factorisation, 0.21 ms against 3.5 ms per
solve, 0.2 ms against 1.1-1.5 ms per product with L). The case loader
(:func:`gridcoherence.cases.loader.load_case`) gives every power case built by
:mod:`gridcoherence.cases.powerflow` its reduction.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

__all__ = ["KronReduction"]

#: SuperLU options for K's symmetric blocks: a minimum-degree ordering of K + K^T kept
#: symmetric, the diagonal pivot preferred down to 0.1 of its column's largest entry. On
#: case9241pegase 3x faster solves than the default (column ordering, partial
#: pivoting): 0.14 against 0.44 ms for K_bb, 0.21 against 0.76 ms for the bordered
#: matrix, residuals alike (1e-12).
SYMMETRIC_LU = {"permc_spec": "MMD_AT_PLUS_A", "diag_pivot_thresh": 0.1, "options": {"SymmetricMode": True}}

#: Relative agreement, on a random probe, of L x and :meth:`KronReduction.matvec` that
#: :meth:`KronReduction.check_reduces` requires (the dense L was symmetrised and its
#: diagonal rebalanced to exact zero row sums, which is rounding-level).
KRON_PROBE_RTOL = 1e-8


class KronReduction:
    """The Laplacian L = K_mm - K_mb K_bb^{-1} K_bm on the first n nodes of a sparse K.

    Parameters
    ----------
    full : sparse matrix, shape (N, N)
        Symmetric; the kept nodes first (rows and columns 0..n-1), the eliminated ones
        after them. Its eliminated block K_bb must be nonsingular (every eliminated node
        connected to a kept one).
    n : int
        Number of kept nodes, 1 <= n < N.

    Attributes
    ----------
    full : scipy.sparse.csr_matrix
    n : int
    n_eliminated : int

    Examples
    --------
    Two unit edges in series, the middle node eliminated: one edge of weight 1/2.

    >>> import numpy as np
    >>> from gridcoherence.models.laplacian import build_laplacian
    >>> path = build_laplacian([(0, 2), (2, 1)])
    >>> kron = KronReduction(path, 2)
    >>> kron.matvec(np.array([1.0, 0.0])).tolist()
    [0.5, -0.5]
    >>> solve = kron.solver(np.array([1.0, 1.0]), 1.0)   # (I + L)^{-1}
    >>> bool(np.allclose(solve(np.array([1.0, 0.0])), np.linalg.solve(np.eye(2) + [[0.5, -0.5], [-0.5, 0.5]], [1.0, 0.0])))
    True
    """

    def __init__(self, full, n):
        full = sp.csr_matrix(full)
        if full.ndim != 2 or full.shape[0] != full.shape[1]:
            raise ValueError(f"the unreduced matrix must be square, got shape {full.shape}")
        if not 1 <= int(n) < full.shape[0]:
            raise ValueError(f"n must keep between 1 and {full.shape[0] - 1} of the {full.shape[0]} nodes, got {n}")
        if not np.all(np.isfinite(full.data)):
            raise ValueError("the unreduced matrix has non-finite entries")
        asymmetry = (full - full.T).data
        if asymmetry.size and np.abs(asymmetry).max() > 1e-12 * max(np.abs(full.data).max(), 1.0):
            raise ValueError("the unreduced matrix must be symmetric")
        self.full = full
        self.n = int(n)
        self.n_eliminated = full.shape[0] - self.n
        self._kept_block = full[: self.n, : self.n].tocsr()
        self._coupling = full[: self.n, self.n:].tocsr()
        self._coupling_T = self._coupling.T.tocsr()
        self._bus_factor = None

    def __repr__(self):
        return f"KronReduction(n={self.n}, eliminated={self.n_eliminated}, nnz={self.full.nnz})"

    def scaled(self, c):
        """The reduction of c K, whose Laplacian is c L."""
        return KronReduction(float(c) * self.full, self.n)

    def matvec(self, X):
        """L X for an (n,) or (n, m) array, through the sparse K (K_bb factorised on first use)."""
        X = np.asarray(X)
        return self._kept_block @ X - self._coupling @ self._bus_solve(self._coupling_T @ X)

    def _bus_solve(self, Y):
        """K_bb^{-1} Y (real factor; a complex Y is solved by parts)."""
        if np.iscomplexobj(Y):
            return self._bus_solve(Y.real) + 1j * self._bus_solve(Y.imag)
        if self._bus_factor is None:
            self._bus_factor = spla.splu(self.full[self.n:, self.n:].tocsc(), **SYMMETRIC_LU)
        return self._bus_factor.solve(np.asarray(Y, dtype=float))

    def bordered(self, diagonal, c):
        """The sparse matrix [[diag(h) + c K_mm, c K_mb], [c K_bm, c K_bb]] (CSC) for h = ``diagonal``."""
        shift = np.zeros(self.full.shape[0], dtype=np.result_type(np.asarray(diagonal), c))
        shift[: self.n] = diagonal
        return (sp.diags(shift) + c * self.full).tocsc()

    def solver(self, diagonal, c):
        """X -> (diag(h) + c L)^{-1} X, from one sparse LU of :meth:`bordered`.

        Raises
        ------
        ZeroDivisionError
            The bordered matrix is exactly singular (so is diag(h) + c L).
        """
        try:
            lu = spla.splu(self.bordered(diagonal, c), **SYMMETRIC_LU)
        except RuntimeError as exc:  # "Factor is exactly singular"
            raise ZeroDivisionError("diag(h) + c L is singular") from exc
        n, pad = self.n, self.n_eliminated

        def solve(X):
            X = np.asarray(X)
            padded = np.concatenate([X, np.zeros((pad,) + X.shape[1:], dtype=X.dtype)])
            if np.iscomplexobj(padded) and lu.U.dtype.kind != "c":
                return (lu.solve(padded.real) + 1j * lu.solve(padded.imag))[:n]
            return lu.solve(padded.astype(np.result_type(padded, lu.U.dtype), copy=False))[:n]
        return solve

    def check_reduces(self, L, *, random_state=0):
        """Raise ``ValueError`` unless ``L`` (n x n) is this reduction's Laplacian, on a random probe."""
        if L.shape != (self.n, self.n):
            raise ValueError(f"the Kron reduction keeps {self.n} nodes but the Laplacian has shape {L.shape}")
        x = np.random.default_rng(random_state).standard_normal(self.n)
        expected = L @ x
        gap = np.linalg.norm(self.matvec(x) - expected)
        # L x is K_mm x less the buses' part: their rounding is relative to K_mm, whatever L's size
        # (one machine: L = 0 exactly, the two terms cancel).
        scale = max(abs(L).max(), np.abs(self._kept_block.data).max(initial=0.0)) * np.linalg.norm(x)
        if not gap <= KRON_PROBE_RTOL * scale:
            raise ValueError(f"the Laplacian is not the Kron reduction of the given sparse network "
                             f"(difference {gap / max(scale, 1e-300):.2e} relative to the network's entries "
                             "on a probe)")
