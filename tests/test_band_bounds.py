"""The band error's bounds (method "bounds"): they bracket the dense norms, and the accuracy says so."""

import warnings

import numpy as np
import pytest
import scipy.sparse.linalg as spla

import gridcoherence as gc
from gridcoherence.cases.random_nodes import random_family_nodes
from gridcoherence.cases.sbm import sample_sbm
from gridcoherence.reduction import accuracy as accuracy_module
from gridcoherence.reduction import band

#: Relative slack of the bracket checks: the dense references' own rounding.
ROUNDING = 1e-9


def sbm_reduction(n, k=10, degree_inside=27.0, degree_across=3.0, seed=0):
    """k equal blocks of expected degree 27 + 3, unit weights, random family nodes (heterogeneous), f = 1/s."""
    block = n // k
    Q = np.full((k, k), degree_across / (n - block))
    np.fill_diagonal(Q, degree_inside / (block - 1))
    sample = sample_sbm([block] * k, Q, np.ones((k, k)), random_state=seed)
    model = gc.NetworkModel(random_family_nodes(sample.n, random_state=seed), sample.laplacian, "1/s")
    return gc.structure_preserving_reduction(model, k)


def dense_norms(reduced, w):
    """(||T - That_k||, ||T - T_k||, ||T||) at s = jw from dense inverses of the definitions."""
    s = 1j * w
    model = reduced.original
    f = complex(model.coupling(s))
    T = np.linalg.inv(np.diag(model.nodes.inverse_transfer(s)) + f * model.laplacian.toarray())
    Tr = np.linalg.inv(np.diag(reduced.nodes.inverse_transfer(s)) + f * reduced.reduced_laplacian)
    lifted = Tr[reduced.labels[:, None], reduced.labels[None, :]]
    V, lam = reduced.embedding, reduced.eigenvalues
    Tk = V @ np.linalg.inv(V.T @ (model.nodes.inverse_transfer(s)[:, None] * V) + f * np.diag(lam)) @ V.T
    return tuple(float(spla.svds(X, k=1, return_singular_vectors=False, random_state=0)[0])
                 for X in (T - lifted, T - Tk, T))


def assert_brackets(result, reduced, frequencies):
    """lower <= dense <= upper for the three norms at each of ``frequencies``; the dense band errors."""
    errors = []
    for w in frequencies:
        i = int(np.flatnonzero(result.frequencies == w)[0])
        error, lowrank, norm = dense_norms(reduced, w)
        errors.append(error)
        for lo, exact, hi, what in ((result.error[i], error, result.error_upper[i], "band error"),
                                    (result.lowrank_error[i], lowrank, result.lowrank_error_upper[i], "low-rank"),
                                    (*result.transfer_norm_bounds[i][:1], norm, result.transfer_norm_bounds[i][1],
                                     "||T||")):
            assert lo <= exact * (1 + ROUNDING), (what, w, lo, exact)
            assert exact <= hi * (1 + ROUNDING), (what, w, exact, hi)
    return errors


@pytest.fixture(scope="module")
def sbm600():
    reduced = sbm_reduction(600)
    return reduced, reduced.band_error(1.0, method="bounds")


def test_bounds_bracket_the_dense_norms_at_every_frequency(sbm600):
    reduced, result = sbm600
    assert result.kind == "bounds" and result.method == "bounds"
    assert_brackets(result, reduced, result.frequencies)


def test_bounds_are_tight_on_an_sbm(sbm600):
    """On an SBM the fast modes behave like 1 / (g^-1 + f lambda_{k+1}): the bounds are close."""
    reduced, result = sbm600
    assert np.isfinite(result.sup_error_upper)
    assert result.sup_error_upper < 2.0 * result.sup_error
    exact = band.band_error(reduced, 1.0, method="dense")
    assert result.sup_error <= exact.sup_error * (1 + 1e-6)
    assert exact.sup_error <= result.sup_error_upper * (1 + 1e-6)
    # The Krylov lower bound at the bounds' peak is the norm there, close to the dense sup.
    assert result.sup_error > 0.99 * exact.sup_error


def test_bounds_bracket_on_2000_nodes():
    reduced = sbm_reduction(2000)
    result = band.band_error(reduced, 1.0, points_per_decade=1, refine=False, method="bounds")
    peak = result.frequencies[np.argmax(result.error_upper)]
    *_, at_worst = assert_brackets(result, reduced, [result.frequencies[0], peak, result.worst_frequency])
    # At the lower bound's peak the Krylov subspace reaches the norm itself.
    assert result.sup_error == pytest.approx(at_worst, rel=1e-6)


def pipeline_reduction(n, k=10, order=3):
    """The ``large`` benchmark's reduction: the SBM of :func:`sbm_reduction`, aggregates of order 3."""
    reduced = sbm_reduction(n, k)
    return gc.reduce_network(reduced.original, k, order=order).model


def test_bounds_bracket_a_pipeline_reduction_of_2000_nodes():
    """Order-reduced aggregates: lower <= dense <= upper, and the lower bound is the norm at its peak."""
    reduced = pipeline_reduction(2000)
    result = band.band_error(reduced, 1.0, points_per_decade=3, method="bounds")
    assert result.kind == "bounds" and np.isfinite(result.sup_error_upper)
    at_worst, _ = assert_brackets(result, reduced, [result.worst_frequency,
                                                    result.frequencies[np.argmax(result.error_upper)]])
    assert result.sup_error == pytest.approx(at_worst, rel=1e-6)
    assert result.sup_error_upper < 1.35 * result.sup_error  # a certificate, not a bracket of decades


def test_krylov_lower_bound_holds_whatever_the_solver_returns(sbm600, monkeypatch):
    """x' = K y is formed by a product, so even a useless "solution" y gives a valid lower bound."""
    reduced, result = sbm600
    w = result.worst_frequency
    exact = dense_norms(reduced, w)[0]
    start = np.random.default_rng(1).standard_normal(reduced.original.n)
    value, vector = band._krylov_lower_bound(reduced, w, start)
    assert value == pytest.approx(exact, rel=1e-6)
    assert vector.shape == (reduced.original.n,)
    # y = x: ||x - That_k x|| / ||x|| would exceed ||T - That_k|| (||I - That_k K|| is large), the bound may not.
    monkeypatch.setattr(band, "_preconditioned_gmres", lambda operator, precondition, x: (x, 1))
    crippled, _ = band._krylov_lower_bound(reduced, w, start)
    assert 0.0 < crippled <= exact * (1 + ROUNDING)


def test_bounds_bracket_on_a_heterogeneous_pandapower_case():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = gc.load_case("pandapower:case118").model
    reduced = gc.structure_preserving_reduction(model, 4)
    result = band.band_error(reduced, 1.0, points_per_decade=3, method="bounds")
    assert np.all(result.error <= result.error_upper)
    assert_brackets(result, reduced, result.frequencies[::4])


def test_auto_picks_bounds_above_the_dense_limit(monkeypatch, sbm600):
    reduced, _ = sbm600
    assert reduced.band_error(1.0, points_per_decade=1, refine=False).kind == "exact"
    monkeypatch.setattr(band, "BAND_DENSE_LIMIT", 100)
    assert reduced.band_error(1.0, points_per_decade=1, refine=False).kind == "bounds"


def test_exact_kind_has_equal_bounds():
    reduced = gc.reduce_network(gc.load_case("kundur_two_area").model, 2).model
    result = reduced.band_error(1.0, points_per_decade=2)
    assert result.kind == "exact" and result.transfer_norm_bounds is None
    assert result.sup_error_upper == result.sup_error
    assert result.as_dict()["kind"] == "exact"


def test_accuracy_carries_the_kind_into_the_verdict(monkeypatch):
    model = gc.load_case("kundur_two_area").model
    reduced = gc.reduce_network(model, 2).model
    reference = accuracy_module.AccuracyReference(model)
    exact = accuracy_module.reduction_accuracy(reduced, reference)
    monkeypatch.setattr(band, "BAND_DENSE_LIMIT", 1)
    monkeypatch.setattr(band, "SPLU_DEGREE_LIMIT", 0)  # no sparse LU either: the bounds
    bounded = accuracy_module.reduction_accuracy(reduced, reference)
    assert exact.band_error_kind == "exact" and bounded.band_error_kind == "bounds"
    assert exact.relative_band_error_lower == exact.relative_band_error
    assert bounded.relative_band_error_lower <= exact.relative_band_error * (1 + 1e-6)
    assert exact.relative_band_error <= bounded.relative_band_error * (1 + 1e-6)
    assert "bounds" in bounded.verdict(0.5) and "bounds" not in exact.verdict(0.5)
    assert bounded.as_dict()["band_error_kind"] == "bounds"


def test_bounds_need_lambda_next_and_a_symmetric_laplacian():
    reduced = gc.reduce_network(gc.load_case("kundur_two_area").model, 2).model
    with pytest.raises(ValueError, match="lambda_"):
        band.band_error(reduced.__class__(reduced.original, reduced.labels, reduced.eigenvalues, reduced.embedding),
                        1.0, method="bounds")
    with pytest.raises(ValueError, match="'bounds'"):
        band.band_error(reduced, 1.0, method="ritz")
