"""The iterative eigensolvers against dense LAPACK, and the eigengap check on their output.

Every iterative path -- multigrid-preconditioned LOBPCG ("amg"), Lanczos (ARPACK, the
choice beyond 2,000 nodes for dense random graphs, the large SBM benchmarks included)
and shift-invert Lanczos (grid-like graphs) -- is forced on graphs of up to 2,000 nodes,
where ``auto`` would take the dense path. The eigengap check (Algorithm 1 needs
lambda_k < lambda_{k+1}) compares eigenvalues to a relative 1e-8; these tests show the
iterative eigenvalues are accurate enough for that comparison to be about the network,
not about the solver: equal to ``eigh``'s to 1e-8 relative, nearly repeated ones
resolved, truly repeated ones still reported as repeated.
"""

import networkx as nx
import numpy as np
import pytest
import scipy.linalg as sla
import scipy.sparse as sp

from gridcoherence.cases.sbm import sample_sbm
from gridcoherence.models.eigengap import check_eigengap
from gridcoherence.models.embedding import EigenpairCache
from gridcoherence.models.laplacian import (build_laplacian, eigenvalue_error_bounds, laplacian_components,
                                            smallest_eigenpairs)


def _cycle(n, perturbed_weight=1.0):
    """C_n: eigenvalues 2 - 2 cos(2 pi j / n), each j != 0, n/2 twice; one edge reweighted."""
    return build_laplacian([(i, (i + 1) % n, perturbed_weight if i == 0 else 1.0) for i in range(n)])


def _dense(L, k, weight=None):
    B = None if weight is None else np.diag(weight)
    return sla.eigh(L.toarray(), B, subset_by_index=[0, k - 1])[0]


ITERATIVE = ("amg", "lanczos", "shift-invert")


def _assert_matches_dense(L, k, method, weight=None):
    spectrum = smallest_eigenpairs(L, k, method=method, weight=weight)
    assert spectrum.method == method  # the path asked for, no fallback
    expected = _dense(L, k, weight)
    np.testing.assert_allclose(spectrum.values[1:], expected[1:], rtol=1e-8)
    V = spectrum.vectors
    B = np.ones(L.shape[0]) if weight is None else weight
    np.testing.assert_allclose(V.T @ (B[:, None] * V), np.eye(k), atol=1e-8)
    # The stated accuracy is the accuracy reached.
    scaled = (L @ V - (B[:, None] * V) * spectrum.values) / np.sqrt(B)[:, None]
    np.testing.assert_allclose(np.linalg.norm(scaled, axis=0), spectrum.residual_norms, rtol=1e-6, atol=1e-12)
    return spectrum, expected


@pytest.mark.parametrize("method", ITERATIVE)
@pytest.mark.parametrize("n", [300, 2000])
def test_iterative_eigenvalues_equal_dense_ones_on_block_models(n, method):
    sizes = [n // 4, n // 2, n - n // 4 - n // 2]
    Q = np.full((3, 3), 8.0 / n) + np.eye(3) * (40.0 / n)
    sample = sample_sbm(sizes, Q, np.ones((3, 3)), random_state=n)
    _assert_matches_dense(sample.laplacian, 8, method)
    inertia = np.random.default_rng(n).uniform(0.5, 3.0, n)
    _assert_matches_dense(sample.laplacian, 8, method, weight=inertia)


@pytest.mark.parametrize("method", ITERATIVE)
def test_iterative_solvers_resolve_nearly_repeated_eigenvalues(method):
    # C_400 with one edge 1 + 1e-5: each double eigenvalue splits by about 1e-7 relative,
    # far above the check's 1e-8 and far below any solver-independent gap.
    L = _cycle(400, 1.0 + 1e-5)
    spectrum, expected = _assert_matches_dense(L, 7, method)
    split = (expected[2] - expected[1]) / expected[2]
    assert 1e-8 < split < 1e-5
    np.testing.assert_allclose(spectrum.values[2] - spectrum.values[1], expected[2] - expected[1], rtol=1e-2)
    check_eigengap(spectrum.values, 2)  # lambda_2 < lambda_3: V_2 is determined


@pytest.mark.parametrize("method", ITERATIVE)
def test_the_eigengap_check_fires_on_truly_repeated_iterative_eigenvalues(method):
    L = _cycle(400)  # lambda_2 = lambda_3 exactly
    spectrum, _ = _assert_matches_dense(L, 6, method)
    with pytest.raises(ValueError, match="coincide"):
        check_eigengap(spectrum.values, 2)
    check_eigengap(spectrum.values, 3)  # lambda_3 < lambda_4


@pytest.mark.parametrize("method", ITERATIVE)
def test_iterative_solvers_on_a_2d_grid_with_repeated_eigenvalues(method):
    side = 30  # the 30 x 30 torus: lambda_2 = lambda_3 = lambda_4 = lambda_5
    index = np.arange(side * side).reshape(side, side)
    edges = [(index[i, j], index[(i + 1) % side, j]) for i in range(side) for j in range(side)]
    edges += [(index[i, j], index[i, (j + 1) % side]) for i in range(side) for j in range(side)]
    spectrum, _ = _assert_matches_dense(build_laplacian(edges), 7, method)
    for k in (2, 3, 4):
        with pytest.raises(ValueError, match="coincide"):
            check_eigengap(spectrum.values, k)
    check_eigengap(spectrum.values, 5)


def test_error_bounds_cluster_close_ritz_values():
    values = np.array([0.0, 1.0, 1.0 + 1e-9, 2.0])
    residuals = np.array([0.0, 1e-6, 1e-6, 1e-6])
    bounds = eigenvalue_error_bounds(values, residuals)
    # the pair at 1 is one cluster: (sqrt(2) 1e-6)^2 / (2 - 1) -- quadratic, not 1e-6
    np.testing.assert_allclose(bounds[1:3], 2e-12 / (1.0 - 1e-9), rtol=1e-9)
    assert bounds[3] == pytest.approx(1e-6)  # the last: no gap known beyond it, Weyl's bound
    assert bounds[0] == 0.0


def test_cache_warm_start_reaches_the_same_eigenpairs(monkeypatch):
    from gridcoherence.models import embedding

    sample = sample_sbm([500, 700, 600], np.full((3, 3), 0.004) + np.eye(3) * 0.02, np.ones((3, 3)),
                        random_state=3)
    inertia = np.random.default_rng(3).uniform(0.5, 3.0, sample.n)
    starts = []
    original = embedding.smallest_eigenpairs

    def recording(*args, **kwargs):
        starts.append(kwargs["start"])
        return original(*args, **kwargs)

    monkeypatch.setattr(embedding, "smallest_eigenpairs", recording)
    cache = EigenpairCache(sample.laplacian, inertia=inertia, eigen_method="amg")
    pencil = cache.eigenpairs("inertia", 6)
    warm = cache.eigenpairs("laplacian", 6)
    assert starts[0] is None and starts[1] is pencil.vectors  # L's solve started from the pencil's vectors
    assert warm.method == "amg"
    np.testing.assert_allclose(warm.values[1:], _dense(sample.laplacian, 6)[1:], rtol=1e-8)
    np.testing.assert_allclose(pencil.values[1:], _dense(sample.laplacian, 6, inertia)[1:], rtol=1e-8)


def test_amg_falls_back_to_arpack_when_it_cannot_reach_the_accuracy():
    # A path of 20,000 nodes: lambda_2 is 1.2e-8 of ||L||, beyond what LOBPCG resolves to 1e-10 relative.
    n = 20_000
    L = sp.diags([np.r_[1.0, np.full(n - 2, 2.0), 1.0], -np.ones(n - 1), -np.ones(n - 1)], [0, 1, -1]).tocsr()
    spectrum = smallest_eigenpairs(L, 4, method="amg")
    exact = 4.0 * np.sin(np.pi * np.arange(4) / (2 * n)) ** 2  # 2 - 2 cos, without its cancellation
    # Backward-stable accuracy, a few eps ||L||: no float64 method does better on 2.5e-8.
    np.testing.assert_allclose(spectrum.values[1:], exact[1:], rtol=0, atol=8 * np.finfo(float).eps * 4.0)
    assert spectrum.method == "shift-invert"  # the ARPACK choice for a sparse graph


def test_bad_weights_are_refused_naming_the_node():
    L = _cycle(5)
    with pytest.raises(ValueError, match="node 2 has nan"):
        smallest_eigenpairs(L, 2, weight=[1.0, 1.0, np.nan, 1.0, 1.0])
    with pytest.raises(ValueError, match="node 0 has -1.0"):
        smallest_eigenpairs(L, 2, weight=[-1.0, 1.0, 1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="shape"):
        smallest_eigenpairs(L, 2, weight=np.ones(4))
    with pytest.raises(ValueError, match="unknown eigen method"):
        smallest_eigenpairs(L, 2, method="lobpcg")


def test_threaded_products_are_the_serial_ones_to_the_bit(monkeypatch):
    import gridcoherence._numeric as numeric

    monkeypatch.setattr(numeric, "THREADED_PRODUCT_MIN_NNZ", 0)  # split even this small matrix
    A = sp.random(500, 500, density=0.05, random_state=1, format="csr") + sp.eye(500)
    x = np.random.default_rng(2).standard_normal(500)
    X = np.random.default_rng(3).standard_normal((500, 4))
    for workers in (1, 2, 3):
        with numeric.threaded_product(A, workers) as product:
            np.testing.assert_array_equal(product @ x, A @ x)
            np.testing.assert_array_equal(product @ X, A @ X)
    with pytest.raises(ValueError, match="workers must be a positive number of threads"):
        with numeric.threaded_product(A, 0):
            pass
    # So Lanczos finds the same eigenpairs whatever the number of threads.
    L = sample_sbm([150, 150], [[0.2, 0.02], [0.02, 0.2]], np.ones((2, 2)), random_state=4).laplacian
    serial = smallest_eigenpairs(L, 4, method="lanczos", workers=1)
    threaded = smallest_eigenpairs(L, 4, method="lanczos", workers=2)
    np.testing.assert_array_equal(serial.values, threaded.values)
    np.testing.assert_array_equal(serial.vectors, threaded.vectors)


def test_auto_factorises_only_grid_like_sparse_graphs():
    # Both have under 17 entries per row; only the grid's LU stays sparse.
    side = 46  # 2,116 nodes: above the dense limit
    grid = nx.grid_2d_graph(side, side)
    L_grid = build_laplacian(nx.convert_node_labels_to_integers(grid).edges())
    assert smallest_eigenpairs(L_grid, 4).method == "shift-invert"
    sample = sample_sbm([1100, 1100], [[10 / 1100, 1 / 1100], [1 / 1100, 10 / 1100]], np.ones((2, 2)),
                        random_state=5)
    L_random = sample.laplacian
    components = laplacian_components(L_random)
    kept = np.sort(components[0])
    L_random = L_random.tocsr()[kept][:, kept]
    assert L_random.nnz / L_random.shape[0] < 17
    spectrum = smallest_eigenpairs(L_random, 4)
    assert spectrum.method == "lanczos"
    np.testing.assert_allclose(spectrum.values[1:], _dense(L_random, 4)[1:], rtol=1e-8)
