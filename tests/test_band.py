"""The band error sup_{|w| <= eta} ||T(jw) - That_k(jw)||: its grid, resonances and accuracy."""

import numpy as np
import pytest
import scipy.optimize as sopt

import gridcoherence as gc
from gridcoherence.reduction import band

BANDS = (0.5, 1.0, 10.0, 100.0, 1e6)

#: (case, k, aggregate order): the two bundled grids the band error is checked on.
REDUCTIONS = {"kundur": ("kundur_two_area", 2, 2), "iceland": ("iceland", 3, None)}


@pytest.fixture(scope="module", params=sorted(REDUCTIONS))
def reduction(request):
    case, k, order = REDUCTIONS[request.param]
    reduced = gc.reduce_network(gc.load_case(case).model, k, order=order).model
    return request.param, reduced, {eta: reduced.band_error(eta) for eta in BANDS}


def dense_band_error(reduced, w):
    """||T(jw) - That_k(jw)|| from the definitions T = (G^{-1} + f L)^{-1} (dense, batched)."""
    s = 1j * np.atleast_1d(np.asarray(w, dtype=float))
    original = reduced.original
    f = original.coupling(s)[:, None, None]
    K = original.nodes.inverse_transfer(s)[:, :, None] * np.eye(original.n) + f * original.laplacian.toarray()
    Kk = reduced.nodes.inverse_transfer(s)[:, :, None] * np.eye(reduced.n) + f * reduced.reduced_laplacian
    lifted = np.linalg.inv(Kk)[:, reduced.labels[:, None], reduced.labels[None, :]]
    return np.linalg.norm(np.linalg.inv(K) - lifted, 2, axis=(1, 2))


def brute_force_sups(reduced, bands, per_band=20_000, refined=8):
    """sup over each band of a log grid with >= ``per_band`` points in every band, refined.

    One grid serves all the nested bands: log-spaced from 1e-6 rad/s to the widest edge,
    dense enough that the narrowest band holds ``per_band`` points; in each band the
    ``refined`` largest local maxima are maximised between their neighbours.
    """
    low = 1e-6
    density = per_band / np.log10(min(bands) / low)
    grid = np.logspace(np.log10(low), np.log10(max(bands)), int(density * np.log10(max(bands) / low)))
    grid = np.unique(np.r_[grid, bands])
    values = np.concatenate([dense_band_error(reduced, part) for part in np.array_split(grid, 40)])
    sups = {}
    for eta in bands:
        w, e = grid[grid <= eta], values[grid <= eta]
        assert w.size >= per_band
        padded = np.r_[-np.inf, e, -np.inf]
        peaks = np.flatnonzero((e >= padded[:-2]) & (e >= padded[2:]))
        best = e.max()
        for i in peaks[np.argsort(e[peaks])[::-1][:refined]]:
            lo, hi = w[max(i - 1, 0)], w[min(i + 1, w.size - 1)]
            found = sopt.minimize_scalar(lambda x: -dense_band_error(reduced, x)[0], bounds=(lo, hi),
                                         method="bounded", options={"xatol": 1e-14 * hi, "maxiter": 200})
            best = max(best, -found.fun)
        sups[eta] = best
    return sups


def test_band_error_grows_with_the_band(reduction):
    name, _, errors = reduction
    sups = [errors[eta].sup_error for eta in BANDS]
    for narrow, wide in zip(sups, sups[1:]):
        assert wide >= narrow * (1 - 1e-12), (name, sups)


def test_band_error_matches_a_dense_brute_force_reference(reduction):
    name, reduced, errors = reduction
    reference = brute_force_sups(reduced, BANDS)
    for eta in BANDS:
        assert errors[eta].sup_error == pytest.approx(reference[eta], rel=1e-6), (name, eta)


def test_peak_frequency_and_grid_are_reported(reduction):
    _, reduced, errors = reduction
    for eta, result in errors.items():
        assert 0 < result.worst_frequency <= eta
        assert dense_band_error(reduced, result.worst_frequency)[0] == pytest.approx(result.sup_error, rel=1e-9)
        assert result.grid_points <= result.frequencies.size
        assert np.all(np.diff(result.frequencies) > 0)
        assert np.all((result.resonances > 0) & (result.resonances <= eta))
        assert np.isin(result.resonances, result.frequencies).all()


def test_resonances_are_the_lightly_damped_poles_in_the_band():
    model = gc.load_case("kundur_two_area").model
    reduced = gc.reduce_network(model, 2, order=2).model
    result = reduced.band_error(10.0)
    expected = []
    for network in (model, reduced):
        poles = np.linalg.eigvals(network.to_statespace().A)
        light = (poles.imag > 0) & (poles.imag <= 10.0) & (-poles.real < 0.3 * np.abs(poles))
        expected.extend(poles.imag[light])
    np.testing.assert_allclose(result.resonances, np.sort(expected), rtol=1e-9)
    # The sharp inter-machine modes near 7.4 rad/s (damping ratio ~1e-4) lie in this band.
    assert np.any(np.abs(result.resonances - 7.4) < 0.1)


def test_large_networks_use_electromechanical_estimates(monkeypatch):
    """Beyond POLE_DENSE_LIMIT states: sqrt(lambda_i / v_i^T M v_i) from the reduction's eigenpairs."""
    model = gc.load_case("kundur_two_area").model
    reduced = gc.reduce_network(model, 2, order=2).model
    exact = reduced.band_error(10.0)
    monkeypatch.setattr(band, "POLE_DENSE_LIMIT", 0)
    estimated = reduced.band_error(10.0)
    m = model.inertia.mean()  # equal inertias: the estimates are sqrt(lambda_i / m)
    undamped = np.sqrt(np.r_[reduced.eigenvalues[1:], reduced.lambda_next] / m)
    np.testing.assert_allclose(estimated.resonances, np.sort(undamped), rtol=1e-9)
    poles = band.network_poles(model, dense_limit=model.realization().n_states)
    modes = poles.imag[poles.imag > 1.0]
    for w in estimated.resonances:  # within a few percent of the damped modes
        assert np.min(np.abs(modes - w)) < 0.03 * w
    assert 0 < estimated.sup_error <= exact.sup_error * (1 + 1e-6)


@pytest.mark.parametrize("eta", [0.0, -1.0, np.nan, np.inf, -np.inf, "wide", 1j])
def test_nonsense_band_edges_are_refused(eta):
    reduced = gc.reduce_network(gc.load_case("kundur_two_area").model, 2).model
    with pytest.raises(ValueError, match="band"):
        reduced.band_error(eta)


def test_nonsense_grid_density_is_refused():
    reduced = gc.reduce_network(gc.load_case("kundur_two_area").model, 2).model
    for density in (0, -3, np.nan):
        with pytest.raises(ValueError, match="points_per_decade"):
            band.band_error(reduced, 1.0, points_per_decade=density)


def test_without_the_lowrank_error_the_band_error_is_the_same(reduction):
    """lowrank=False skips one spectral norm per frequency and changes nothing else; ||T|| comes with a cache."""
    name, reduced, errors = reduction
    norms = {}
    lean = reduced.band_error(1.0, lowrank=False, transfer_norms=norms)
    assert lean.lowrank_error is None and lean.sup_lowrank_error is None
    assert errors[1.0].lowrank_error is not None and errors[1.0].transfer_norm_bounds is None
    np.testing.assert_allclose(lean.frequencies, errors[1.0].frequencies, rtol=1e-12)
    np.testing.assert_allclose(lean.error, errors[1.0].error, rtol=1e-9)
    # ||T(jw)|| at every sampled frequency, in the cache and in the result, against the definition
    assert sorted(norms) == lean.frequencies.tolist()
    s = 1j * lean.frequencies
    original = reduced.original
    K = (original.nodes.inverse_transfer(s)[:, :, None] * np.eye(original.n)
         + original.coupling(s)[:, None, None] * original.laplacian.toarray())
    exact = np.linalg.norm(np.linalg.inv(K), 2, axis=(1, 2))
    np.testing.assert_allclose(lean.transfer_norm_bounds[:, 0], exact, rtol=1e-6)
    np.testing.assert_array_equal(lean.transfer_norm_bounds[:, 0], lean.transfer_norm_bounds[:, 1])
