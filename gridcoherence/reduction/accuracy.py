"""How accurate a reduced network is, in numbers a power engineer can read, and a verdict.

:class:`ReductionAccuracy` measures a structure-preserving reduction
(:class:`~gridcoherence.reduction.structure.ReducedNetwork` with its original network) in
two ways, both with their units:

* in frequency, the band error of Thm 3.10, sup_{|w| <= band} ||T(jw) - That_k(jw)||
  (rad/s per p.u.; :func:`gridcoherence.reduction.band.band_error`), where it peaks, and
  the same error relative to sup_{|w| <= band} ||T(jw)|| of the original network on the
  same frequencies -- a number without scale that says how much of the response is lost.
  Beyond a few thousand nodes the band error comes as lower and upper bounds (kind
  "bounds", no solve with the n x n network matrix); the accuracy then holds both and
  compares the upper one with a tolerance;
* in time, per area, the largest deviation of the area's centre-of-inertia step
  response y_I(t) (the COI of :meth:`~gridcoherence.models.network.NetworkModel.center_of_inertia_weights`)
  from the original's, relative to the original area's nadir max_t |y_I(t)|: the
  quantities ``linf_error`` / ``|nadir|`` of
  :func:`gridcoherence.report.compare.compare_step_responses`, sampled on the time grid.

:meth:`ReductionAccuracy.verdict` says in one line whether the k-area model meets a
tolerance. The reduction pipeline (:func:`gridcoherence.reduction.pipeline.reduce_network`)
attaches it to its results and uses it to choose k and the aggregate orders.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..models.embedding import default_embedding
from ..models.network import disturbance_shape
from ..models.simulate import uniform_time_grid
from . import band as band_module

__all__ = ["ReductionAccuracy", "AccuracyReference", "reduction_accuracy", "area_step_errors",
           "default_disturbance", "default_band", "accuracy_arguments", "DEFAULT_BAND", "MACHINE_BAND",
           "DEFAULT_HORIZON", "DEFAULT_SAMPLES"]

#: Default band edge (rad/s) of the band error of a network without inertia: eta = 1,
#: the band of Thm 3.10 and of the dissertation's Algorithm 1 experiments.
DEFAULT_BAND = 1.0

#: Default band edge (rad/s) for machine networks: 2 pi rad/s = 1 Hz, the upper end of the
#: inter-area range (about 0.1-1 Hz) where the slow modes an area model must reproduce lie.
#: Below 1 rad/s (0.16 Hz) most inter-area modes -- Kundur's two-area system swings at
#: 3.5 rad/s -- would fall outside the band and a single centre-of-inertia machine would
#: pass for accurate. Local modes (1-2 Hz) swing machines of one area against each other:
#: no area model holds them, so the band stops below them.
MACHINE_BAND = 2.0 * np.pi

#: Default time grid of the area step errors, as in ``compare_step_responses``: 0..60 s in 10 ms steps.
DEFAULT_HORIZON = 60.0
DEFAULT_SAMPLES = 6001

#: |sum_i g_i^{-1}(0)| at most this times sum_i |g_i^{-1}(0)|: the centre of inertia has a
#: pole at s = 0 (no damping and no governors) and the step response never settles.
SETTLING_RTOL = 1e-12


def default_band(model):
    """The band edge eta (rad/s) of the accuracy when none is given.

    :data:`MACHINE_BAND` (1 Hz) for machine networks, whose nodes all have inertia (the
    rule of :func:`~gridcoherence.models.embedding.default_embedding`), else
    :data:`DEFAULT_BAND` (1 rad/s).

    Examples
    --------
    >>> from gridcoherence import load_case
    >>> round(default_band(load_case("kundur_two_area").model), 4)
    6.2832
    """
    machines = default_embedding(model.nodes.inertia) == "inertia"
    return MACHINE_BAND if machines else DEFAULT_BAND


def default_disturbance(model):
    """The default disturbance of the accuracy: a 1 p.u. load step at the machine of largest inertia.

    u0 = -e_i with i = argmax m_i (a load increase is a negative power injection). A step
    spread over all machines in proportion to their inertia is not used: when the
    machines are equal per unit inertia (as in the pandapower cases, whose machines share
    one per-inertia damping, droop and turbine time constant) it excites only the
    centre-of-inertia motion, every area then follows the COI exactly and any partition
    would look perfect. A step at one machine also excites the inter-area modes.

    Parameters
    ----------
    model : NetworkModel

    Returns
    -------
    ndarray, shape (n,)
    """
    u0 = np.zeros(model.n)
    u0[int(np.argmax(model.inertia))] = -1.0
    return u0


def _settles(model):
    """Whether the centre-of-inertia step response has a steady state (no pole at s = 0).

    In the COI direction the network reduces to sum_i g_i^{-1}(s) y = sum_i u_i, so the
    COI integrates the disturbance exactly when sum_i g_i^{-1}(0) = 0: no damping and no
    governors (lossless swing nodes, g^{-1} = m s). Nodes with g(0) = 0 (infinite
    g^{-1}(0)) settle.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        inverse = np.asarray(model.nodes.inverse_transfer(0.0))
    if not np.all(np.isfinite(inverse)):
        return True
    return bool(abs(inverse.sum()) > SETTLING_RTOL * np.abs(inverse).sum())


def _percent(fraction):
    """A fraction as a percentage of 2-3 significant digits ("3.1 %", "41 %", "< 0.01 %")."""
    value = 100.0 * fraction
    if value < 0.01:
        return "< 0.01 %"
    return f"{value:.2g} %" if value < 10.0 else f"{value:.0f} %"


@dataclass(frozen=True)
class ReductionAccuracy:
    """The accuracy of one k-area reduced network, with units in the names.

    Outputs are frequency deviations in rad/s and disturbances powers in p.u. (the power
    networks of :mod:`gridcoherence.cases.loader`), so T(s) is in rad/s per p.u.

    Attributes
    ----------
    n_areas : int
        k.
    band_rad_s : float
        Band edge eta: the band is |w| <= eta.
    band_error_kind : str
        "exact" (the band error's norms themselves) or "bounds" (lower and upper bounds,
        :attr:`~gridcoherence.reduction.band.BandError.kind`).
    band_error_rad_s_per_pu : float
        sup_{|w| <= eta} ||T(jw) - That_k(jw)|| (spectral norm), sampled and refined as in
        :func:`~gridcoherence.reduction.band.band_error`; for kind "bounds" its upper bound.
    band_error_lower_rad_s_per_pu : float
        The same for kind "exact"; a lower bound of the band error for kind "bounds".
    transfer_norm_rad_s_per_pu : float
        sup ||T(jw)|| of the original network on the same frequencies; for kind "bounds"
        a lower bound of it.
    relative_band_error : float
        ``band_error_rad_s_per_pu / transfer_norm_rad_s_per_pu`` (T is nonsingular, so
        the denominator is positive); inf when undamped poles lie in the band. For kind
        "bounds" an upper bound of the relative band error (what a tolerance is compared with).
    relative_band_error_lower : float
        The same for kind "exact"; for kind "bounds" the lower bound of the band error over
        the upper bound of sup ||T||.
    peak_frequency_rad_s : float
        Where the band error peaks (the slowest undamped pole if any).
    undamped_frequencies_rad_s : ndarray
        Frequencies in the band of undamped poles of the original or the reduced
        network: the band error is unbounded there. Empty for damped networks.
    area_error_rad_s : ndarray, shape (k,)
        Per area, max_t |y_I(t) - yhat_I(t)| of the centre-of-inertia responses to the
        step ``disturbance_pu``, over the samples of the time grid.
    area_nadir_rad_s : ndarray, shape (k,)
        Per area, max_t |y_I(t)| of the original network (the nadir's size).
    area_relative_error : ndarray, shape (k,)
        ``area_error_rad_s / area_nadir_rad_s``.
    disturbance_pu : ndarray, shape (n,)
        The step's shape u0 on the original nodes (p.u.).
    horizon_s : float
        End of the time grid.
    n_samples : int
        Samples of the time grid.
    settles : bool
        False when the original's centre of inertia never settles (no damping and no
        governors: a pole at s = 0); the area errors and nadirs are then over the
        finite horizon only and grow with it.
    band_error : BandError
        The band error itself (:meth:`~gridcoherence.reduction.structure.ReducedNetwork.band_error`
        on the band): its frequencies, the sampled errors and how they were computed.
    """

    n_areas: int
    band_rad_s: float
    transfer_norm_rad_s_per_pu: float
    relative_band_error: float
    relative_band_error_lower: float
    area_error_rad_s: np.ndarray
    area_nadir_rad_s: np.ndarray
    area_relative_error: np.ndarray
    disturbance_pu: np.ndarray
    horizon_s: float
    n_samples: int
    settles: bool
    band_error: band_module.BandError = field(repr=False)

    # The band error's own numbers, read off it in the units of this class's names.
    @property
    def band_error_kind(self):
        return self.band_error.kind

    @property
    def band_error_rad_s_per_pu(self):
        return self.band_error.sup_error_upper

    @property
    def band_error_lower_rad_s_per_pu(self):
        return self.band_error.sup_error

    @property
    def peak_frequency_rad_s(self):
        return self.band_error.worst_frequency

    @property
    def undamped_frequencies_rad_s(self):
        return self.band_error.undamped_frequencies.copy()

    @property
    def worst_area(self):
        """The area with the largest relative step error, as its cluster index (0 first; printed as area + 1)."""
        return int(np.argmax(self.area_relative_error))

    @property
    def worst_area_error(self):
        """max over areas of ``area_relative_error``."""
        return float(np.max(self.area_relative_error))

    @property
    def error(self):
        """The larger of ``relative_band_error`` and ``worst_area_error``: what a tolerance is compared with."""
        return max(self.relative_band_error, self.worst_area_error)

    @property
    def band_text(self):
        """The band in words, in rad/s and Hz: "|w| <= 6.28 rad/s (1 Hz)"."""
        return f"|w| <= {self.band_rad_s:.3g} rad/s ({self.band_rad_s / (2.0 * np.pi):.3g} Hz)"

    def met(self, tolerance):
        """Whether both the relative band error and every area's relative step error are <= ``tolerance``."""
        return self.error <= _check_tolerance(tolerance)

    def verdict(self, tolerance):
        """One line: does this k-area model reproduce the original within ``tolerance``?

        Examples of the two forms: "k = 4 reproduces the area responses within 3.1 %
        (band error 2.4 % of sup||T|| on |w| <= 6.28 rad/s (1 Hz))", and "no 4-area
        model is accurate here: worst area error 41 % (area 2), band error 12 % of
        sup||T|| on |w| <= 6.28 rad/s (1 Hz) (tolerance 10 %)" (the measure that fails first). Areas are
        numbered from 1, as everything printed: area c + 1 is cluster c of the reduction
        (:attr:`worst_area` + 1 here). For a band error of kind
        "bounds" the band part reads "band error between 2.1 % and 2.4 % of sup||T|| on
        |w| <= 6.28 rad/s (1 Hz) (bounds, not computed exactly)", and the upper bound is what must
        meet the tolerance.
        """
        tolerance = _check_tolerance(tolerance)
        scope = f"of sup||T|| on {self.band_text}"
        if self.band_error_kind == "exact":
            band = f"band error {_percent(self.relative_band_error)} {scope}"
        else:
            band = (f"band error between {_percent(self.relative_band_error_lower)} and "
                    f"{_percent(self.relative_band_error)} {scope} (bounds, not computed exactly)")
        if self.met(tolerance):
            line = (f"k = {self.n_areas} reproduces the area responses within {_percent(self.worst_area_error)} "
                    f"({band})")
        else:
            area = f"worst area error {_percent(self.worst_area_error)} (area {self.worst_area + 1})"
            first, second = (area, band) if self.worst_area_error > tolerance else (band, area)
            line = (f"no {self.n_areas}-area model is accurate here: {first}, {second} "
                    f"(tolerance {_percent(tolerance)})")
        if self.undamped_frequencies_rad_s.size:
            poles = ", ".join(f"{w:.3g}" for w in self.undamped_frequencies_rad_s[:5])
            more = "" if self.undamped_frequencies_rad_s.size <= 5 else ", ..."
            line += f"; undamped modes at {poles}{more} rad/s make the band error unbounded"
        if not self.settles:
            line += (f"; the model never settles (no damping and no governors: the centre of inertia drifts), "
                     f"so the area errors are over the first {self.horizon_s:g} s only")
        return line

    def as_dict(self):
        """The numbers as plain Python values (lists for the per-area arrays)."""
        return {"n_areas": self.n_areas, "band_rad_s": self.band_rad_s, "band_error_kind": self.band_error_kind,
                "band_error_rad_s_per_pu": self.band_error_rad_s_per_pu,
                "band_error_lower_rad_s_per_pu": self.band_error_lower_rad_s_per_pu,
                "transfer_norm_rad_s_per_pu": self.transfer_norm_rad_s_per_pu,
                "relative_band_error": self.relative_band_error,
                "relative_band_error_lower": self.relative_band_error_lower,
                "peak_frequency_rad_s": self.peak_frequency_rad_s,
                "area_error_rad_s": self.area_error_rad_s.tolist(),
                "area_nadir_rad_s": self.area_nadir_rad_s.tolist(),
                "area_relative_error": self.area_relative_error.tolist(),
                "worst_area": self.worst_area, "worst_area_error": self.worst_area_error,
                "horizon_s": self.horizon_s, "n_samples": self.n_samples, "settles": self.settles,
                "undamped_frequencies_rad_s": self.undamped_frequencies_rad_s.tolist()}


def _check_tolerance(tolerance):
    value = float(tolerance)
    if not (np.isfinite(value) and value > 0):
        raise ValueError(f"tolerance must be a positive fraction (0.05 for 5 %), got {tolerance!r}")
    return value


class AccuracyReference:
    """What the accuracy of every reduction of one network compares with, computed once.

    The original network's step response to the disturbance on the time grid and its
    ||T(jw)|| at every frequency asked so far; :func:`reduction_accuracy` of several
    reductions of the network (the pipeline's search over k) shares them.

    Parameters
    ----------
    model : NetworkModel
        The original network.
    band : float, optional
        Band edge (rad/s), positive; default :func:`default_band` (1 Hz for machines).
    u0 : array_like of shape (n,), int or None
        Disturbance shape (p.u.; an int k is e_k); None: :func:`default_disturbance`.
    t : array_like, optional
        Uniform time grid from 0 (s); default 0..60 s in 10 ms steps.

    Attributes
    ----------
    band, u0, t
        The arguments, defaults filled in (:func:`accuracy_arguments`).
    key : tuple
        (band, u0, t) as a hashable key.
    transfer_norms : dict
        ||T(jw)|| of the original by frequency w, filled by the exact band errors of
        the reductions compared with it (``band_error(..., transfer_norms=)``).
    solvers : dict
        The sparse LU factorisations of the original's network matrix those band errors
        made on their grids, by w (``band_error(..., solvers=)``): the grids of
        different reductions share their log-spaced frequencies.

    Notes
    -----
    Holds the (len(t), n) node responses of the original: O(len(t) n) memory.
    """

    def __init__(self, model, band=None, u0=None, t=None):
        self.model = model
        self.band, self.u0, self.t = accuracy_arguments(model, band, u0, t)
        self.key = _arguments_key(self.band, self.u0, self.t)
        self.response = model.response(self.u0, "step", self.t)
        self.settles = _settles(model)
        self.transfer_norms = {}
        self.solvers = {}



def accuracy_arguments(model, band=None, u0=None, t=None):
    """The accuracy's (band, u0, t) validated, with the defaults for those that are None.

    Returns
    -------
    band : float
        Default :func:`default_band` (rad/s).
    u0 : ndarray, shape (n,)
        Default :func:`default_disturbance`.
    t : ndarray
        Default 0..:data:`DEFAULT_HORIZON` s in :data:`DEFAULT_SAMPLES` samples.
    """
    band = default_band(model) if band is None else float(band)
    if not (np.isfinite(band) and band > 0):
        raise ValueError(f"band must be a positive frequency in rad/s, got {band!r}")
    u0 = default_disturbance(model) if u0 is None else disturbance_shape(u0, model.n)
    if not np.any(u0):
        raise ValueError("u0 is zero: the accuracy needs a disturbance")
    t = np.linspace(0.0, DEFAULT_HORIZON, DEFAULT_SAMPLES) if t is None else uniform_time_grid(t)[0]
    return band, u0, t


def _arguments_key(band, u0, t):
    return (band, u0.tobytes(), t.tobytes())


def area_step_errors(reduced, reference):
    """Per area, the step error of the centre of inertia and the original's nadir, in rad/s.

    The time-domain half of :func:`reduction_accuracy`, without the band error: one
    simulation of the k-node network, O(k^3 + len(t) k^2). The tolerance search of
    :func:`~gridcoherence.reduction.pipeline.reduce_network` uses it alone where the area
    errors already decide.

    Parameters
    ----------
    reduced : ReducedNetwork
        With its original network (``reduced.original is reference.model``).
    reference : AccuracyReference

    Returns
    -------
    error : ndarray, shape (k,)
        max_t |y_I(t) - yhat_I(t)| over the samples of the time grid.
    nadir : ndarray, shape (k,)
        max_t |y_I(t)| of the original, positive.

    Raises
    ------
    ArithmeticError
        An area that does not respond to the disturbance on the grid (its relative error
        is undefined).
    """
    model = reference.model
    if reduced.original is not model:
        raise ValueError("the reduced network does not reduce the reference's network")
    partition = reduced.partition
    groups = [partition.members(c) for c in range(partition.n_clusters)]
    weights = model.center_of_inertia_weights(groups)
    original = np.asarray(weights @ reference.response.y.T).T
    approximation = reduced.response(partition.restrict(reference.u0), "step", reference.t).y
    error = np.abs(original - approximation).max(axis=0)
    nadir = np.abs(original).max(axis=0)
    if not np.all(nadir > 0):
        raise ArithmeticError(f"area {int(np.flatnonzero(~(nadir > 0))[0]) + 1} does not respond to the "
                              "disturbance on the time grid; its relative error is undefined")
    return error, nadir


def reduction_accuracy(reduced, reference):
    """The :class:`ReductionAccuracy` of a reduced network against its original.

    Parameters
    ----------
    reduced : ReducedNetwork
        With its original network (``reduced.original is reference.model``), full or
        order-reduced aggregates.
    reference : AccuracyReference
        The original's responses (band, disturbance, time grid).

    Returns
    -------
    ReductionAccuracy

    Notes
    -----
    Band error: :meth:`~gridcoherence.reduction.structure.ReducedNetwork.band_error`
    (one factorisation of the n x n network matrix per frequency, about 40 frequencies),
    and ||T(jw)|| at the same frequencies with the same factorisation (dense SVD for
    n <= 400, ARPACK beyond), kept in the reference for the next reduction (the
    low-rank model's error, which the accuracy does not use, is not computed); beyond
    2,000 nodes the band error's bounds, which come with bounds of ||T(jw)||. Area
    errors: one simulation of the k-node network (exact at the samples,
    :func:`~gridcoherence.models.simulate.simulate_lti`); the maxima are over the samples
    of t, so the continuous-time maxima that ``compare_step_responses`` reports can be
    larger by O(h^2) in the step h (about 1e-4 relative at 10 ms for modes of 1-2 Hz).

    Examples
    --------
    >>> from gridcoherence import load_case, reduce_network
    >>> model = load_case("kundur_two_area").model
    >>> reduced = reduce_network(model, 2).model
    >>> accuracy = reduction_accuracy(reduced, AccuracyReference(model))
    >>> accuracy.n_areas, accuracy.area_relative_error.shape, bool(0 < accuracy.relative_band_error < 1)
    (2, (2,), True)
    """
    return _accuracy_with_band_error(reduced, reference, area_step_errors(reduced, reference))


def _accuracy_with_band_error(reduced, reference, area_errors):
    """:func:`reduction_accuracy` given the ``(error, nadir)`` of :func:`area_step_errors`.

    For the tolerance search, which has them already where it decides whether the band
    error is needed.
    """
    error, nadir = area_errors
    band = reduced.band_error(reference.band, transfer_norms=reference.transfer_norms, solvers=reference.solvers,
                              lowrank=False)
    transfer_norm, transfer_norm_upper = (float(x) for x in band.transfer_norm_bounds.max(axis=0))
    return ReductionAccuracy(
        n_areas=int(reduced.partition.n_clusters), band_rad_s=reference.band, transfer_norm_rad_s_per_pu=transfer_norm,
        relative_band_error=band.sup_error_upper / transfer_norm,
        relative_band_error_lower=band.sup_error / transfer_norm_upper,
        area_error_rad_s=error, area_nadir_rad_s=nadir, area_relative_error=error / nadir,
        disturbance_pu=reference.u0.copy(), horizon_s=float(reference.t[-1]), n_samples=int(reference.t.size),
        settles=reference.settles, band_error=band)
