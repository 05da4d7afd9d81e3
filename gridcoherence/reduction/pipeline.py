"""The whole reduction pipeline: clusters, aggregates, L_k, reduced aggregate machines, and its accuracy.

:class:`CoherencyReductor` follows pyMOR's reductor pattern: it holds the full model, the
options and what it computed (the validated Laplacian and the eigenpairs, shared by all
its reductions), and :meth:`CoherencyReductor.reduce` returns a :class:`NetworkReduction`
that remembers how it was made. The steps are

1. spectral clustering and the structure-preserving k-node network of Algorithm 1
   (:func:`gridcoherence.structure_preserving_reduction`): one coherent aggregate per
   cluster, coupled through the reduced Laplacian L_k. Machines are clustered by the
   inertia embedding M^{-1} L by default (slow coherency,
   :func:`~gridcoherence.models.embedding.default_embedding`), other graphs by L itself;
2. optionally, each aggregate's order is reduced by frequency-weighted balanced
   truncation (:func:`gridcoherence.reduce_aggregate`, "cl" or "tb"); the reduced
   aggregate replaces the full one as the cluster's node. Where the reduced model has a
   physical interpretation (positive inertia, damping, real turbines) the node is that
   equivalent machine; otherwise the reduced transfer function itself.

:meth:`NetworkReduction.accuracy` measures the result
(:class:`~gridcoherence.reduction.accuracy.ReductionAccuracy`: band error in rad/s per
p.u. and relative to sup ||T||, area step errors relative to the area nadirs) and
:meth:`NetworkReduction.verdict` says in one line whether it meets a tolerance.
``reduce_network(model, tolerance=0.05)`` chooses k, the embedding and the aggregate
orders by that measure and keeps the error-vs-k curve (:attr:`NetworkReduction.selection_`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import control
import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from ..models.eigengap import DEFAULT_MAX_CLUSTERS
from ..models.embedding import EMBEDDINGS, EigenpairCache, default_embedding
from ..models.network import NetworkModel
from ..models.nodes import LTINodes, SwingTurbineNodes, stack_single_nodes
from .accuracy import (AccuracyReference, _accuracy_with_band_error, _arguments_key, _check_tolerance,
                       accuracy_arguments, area_step_errors, reduction_accuracy)
from .machines import MINIMUM_ORDER, MINIMUM_ORDER_REASON, as_frequency_weight, auto_order, reduce_aggregate
from .structure import _algorithm1, structure_preserving_reduction

__all__ = ["CoherencyReductor", "NetworkReduction", "reduce_network", "AreaSizeError", "SELECTION_COLUMNS",
           "MAX_TRIED_K"]

#: Largest k the tolerance search of :func:`reduce_network` tries (and at most n).
MAX_TRIED_K = 12

#: Columns of :attr:`NetworkReduction.selection_`.
SELECTION_COLUMNS = ("k", "embedding", "relative_band_error", "worst_area_error", "worst_area",
                     "band_error_rad_s_per_pu", "peak_frequency_rad_s", "area_sizes", "smallest_area",
                     "met", "chosen", "note")


class AreaSizeError(ValueError):
    """A reduction whose areas would hold fewer machines than ``min_area_size``; the message names them."""


@dataclass
class NetworkReduction:
    """Result of :meth:`CoherencyReductor.reduce` and :func:`reduce_network`.

    Attributes
    ----------
    model : ReducedNetwork
        The final k-node network (order-reduced aggregates where an order below the
        aggregate's was used); its ``lifted_*`` methods give responses on the original nodes.
    structure : ReducedNetwork
        The structure-preserving network with the full aggregates (Algorithm 1).
    aggregate_reductions : list
        Per cluster, the :class:`~gridcoherence.AggregateReduction`, or ``None`` where the
        aggregate was kept (no order asked, an order at or above the aggregate's own --
        which reduces nothing -- or not a swing/turbine aggregate).
    full_orders : list of int
        Per area, the order of the full aggregate.
    options : dict
        How the reduction was made: ``k``, ``order`` (the order actually used per area,
        a list), ``order_requested`` (as given: None, an int, a list or ``"auto"``;
        ``"tolerance"`` when the search chose them), ``method``, ``weight`` and
        ``input_weight`` (None, the band [w_low, w_high] in rad/s, or the weight's
        {"num", "den"}), ``embedding``, ``random_state``, ``partition_given``,
        ``min_area_size``, and in tolerance mode ``tolerance``, ``band`` (rad/s) and
        ``met``.
    """

    model: object
    structure: object
    aggregate_reductions: list
    options: dict = field(default_factory=dict)
    full_orders: list = field(default=None)
    _selection: object = field(default=None, repr=False)
    _reference: object = field(default=None, repr=False)
    _accuracies: dict = field(default_factory=dict, repr=False)

    @property
    def labels(self):
        return self.structure.labels

    @property
    def n_clusters(self):
        return self.structure.n_clusters

    @property
    def orders(self):
        """The closed-loop order of every area's node as used (the aggregate's own where kept)."""
        return [int(row["order"]) for row in self.summary()]

    @property
    def label(self):
        """A short name with the true orders, e.g. ``"k=4, orders 2/2/1/2, cl"`` (``"k=4"`` without reduction)."""
        if not any(row["reduced"] for row in self.summary()):
            return f"k={self.n_clusters}"
        return f"k={self.n_clusters}, orders {'/'.join(map(str, self.orders))}, {self.options.get('method', 'cl')}"

    def summary(self):
        """One dict per cluster: size, full order, order used, whether it was reduced, the machine.

        ``order`` is the order of the area's node in :attr:`model` and ``reduced`` whether
        it is below ``full_order`` (an order at or above the aggregate's own reduces
        nothing and is recorded as ``reduced = False``).
        """
        rows = []
        full_orders = self.full_orders or [_full_order(self.structure.nodes.subset([c]))
                                           for c in range(self.n_clusters)]
        for c, reduction in enumerate(self.aggregate_reductions):
            full = full_orders[c]
            row = {"cluster": c, "size": int(self.structure.sizes[c]), "full_order": int(full),
                   "order": int(full if reduction is None else reduction.order),
                   "reduced": reduction is not None and reduction.reduced}
            if reduction is not None:
                interp = reduction.interpretation
                row.update({"physical": interp.physical, "m": interp.m, "d": interp.d,
                            "reason": interp.reason})
            rows.append(row)
        return rows

    def single_machine_areas(self):
        """The areas of one machine, each with why it stands alone.

        Returns
        -------
        list of dict
            Per single-machine area: ``area`` (its cluster index, 0 first), ``node``
            (the machine's node index), ``name`` (None without node names),
            ``coupling_to_rest`` (the machine's total tie to the rest of the network,
            L_ii = sum_j |L_ij|), ``coupling_rank`` (1 = the weakest total tie of all n
            nodes), ``slow_mode`` (the clustered slow eigenvector, 2..k, in which the
            machine's entry is largest relative to that vector's RMS), ``slow_mode_entry``
            (that ratio: an entry far above 1 makes the machine its own group) and
            ``reason``, the sentence that says so (areas and machines numbered from 1,
            as everything printed).
        """
        structure = self.structure
        original = structure.original
        if original is None:
            raise ValueError("the single-machine areas are explained from the original network, which "
                             "this reduction does not have")
        laplacian = original.laplacian
        degree = np.asarray(abs(laplacian).sum(axis=1)).ravel() - np.abs(laplacian.diagonal())
        order = np.argsort(degree, kind="stable")
        rank = np.empty(order.size, dtype=np.int64)
        rank[order] = np.arange(1, order.size + 1)
        vectors = (structure.clustering.embedding_ if structure.clustering is not None
                   else structure.embedding)
        names = original.node_names
        rows = []
        for c in np.flatnonzero(structure.sizes == 1):
            node = int(structure.partition.members(c)[0])
            name = None if names is None else str(names[node])
            who = f"{name} (machine {node + 1})" if name is not None else f"machine {node + 1}"
            row = {"area": int(c), "node": node, "name": name, "coupling_to_rest": float(degree[node]),
                   "coupling_rank": int(rank[node]), "slow_mode": None, "slow_mode_entry": None}
            reason = (f"{who} is alone in area {c + 1}: its ties to the rest of the network sum to "
                      f"{degree[node]:.3g} (the {_ordinal(rank[node])} weakest of {original.n} nodes)")
            if vectors.shape[1] > 1:
                slow = vectors[:, 1:]
                rms = np.sqrt(np.mean(slow**2, axis=0))
                ratio = np.abs(slow[node]) / rms
                j = int(np.argmax(ratio))
                row.update(slow_mode=j + 2, slow_mode_entry=float(ratio[j]))
                reason += (f", and its entry in slow eigenvector {j + 2} is {ratio[j]:.3g} times that "
                           "vector's RMS")
            row["reason"] = reason
            rows.append(row)
        return rows

    def accuracy(self, band=None, u0=None, t=None):
        """The :class:`~gridcoherence.reduction.accuracy.ReductionAccuracy` of :attr:`model`, cached per arguments.

        Parameters
        ----------
        band : float, optional
            Band edge eta (rad/s) of the band error; default the tolerance search's band,
            or :func:`~gridcoherence.reduction.accuracy.default_band` (1 Hz for machines,
            else 1 rad/s).
        u0 : array_like of shape (n,) or int, optional
            Step disturbance (p.u.); default a 1 p.u. load step at the machine of largest
            inertia (:func:`~gridcoherence.reduction.accuracy.default_disturbance`), or the
            tolerance search's.
        t : array_like, optional
            Uniform time grid from 0 (s) of the area step errors; default 0..60 s in
            10 ms steps, or the tolerance search's.

        Returns
        -------
        ReductionAccuracy
        """
        base = self._reference
        if base is not None:
            band = base.band if band is None else band
            u0 = base.u0 if u0 is None else u0
            t = base.t if t is None else t
        arguments = accuracy_arguments(self.structure.original, band, u0, t)
        key = _arguments_key(*arguments)
        if key not in self._accuracies:
            reference = base if base is not None and base.key == key else AccuracyReference(
                self.structure.original, *arguments)
            if self._reference is None:
                self._reference = reference
            self._accuracies[key] = reduction_accuracy(self.model, reference)
        return self._accuracies[key]

    def original_response(self, u0=None, t=None):
        """The original network's step response, the one :meth:`accuracy` compares with.

        The response behind the first :meth:`accuracy` (or the tolerance search) when the
        disturbance and grid are the same, so figures and tables drawn after the accuracy
        need no second simulation of the original; else simulated here.

        Parameters
        ----------
        u0, t
            As for :meth:`accuracy`, with the same defaults.

        Returns
        -------
        TimeResponse
            Node responses of the original, shape (len(t), n).
        """
        base = self._reference
        if base is not None:
            u0 = base.u0 if u0 is None else u0
            t = base.t if t is None else t
        _, u0, t = accuracy_arguments(self.structure.original, None, u0, t)
        if base is not None and np.array_equal(base.u0, u0) and np.array_equal(base.t, t):
            return base.response
        return self.structure.original.response(u0, "step", t)

    @property
    def selection_(self):
        """The error-vs-k curve, a DataFrame with columns :data:`SELECTION_COLUMNS`.

        After ``reduce_network(..., tolerance=...)``: one row per (k, embedding) tried,
        the chosen one marked ``chosen``. Otherwise: the one row of this reduction (its
        :meth:`accuracy`), ``chosen`` True and ``met`` against the tolerance given with k
        (None without one).

        Columns: ``relative_band_error`` (band error / sup ||T||), ``worst_area_error``
        (largest area step error / that area's nadir) and ``worst_area``,
        ``band_error_rad_s_per_pu``, ``peak_frequency_rad_s``, ``area_sizes`` (machines per
        area, cluster order), ``smallest_area``, ``met`` (both errors within the
        tolerance and no area below ``min_area_size``), ``note`` (why a row is not a
        candidate: an area below ``min_area_size``, or a k at which the embedding's
        eigenvalues coincide -- its error columns are then NaN; or why its band error was
        not computed: its area error alone exceeds the tolerance, and the best error
        found when no k meets it, so no band error could change the choice -- its band
        columns are then NaN and ``worst_area_error`` a lower bound of its error).
        """
        if self._selection is not None:
            return self._selection
        accuracy = self.accuracy()
        tolerance = self.options.get("tolerance")
        row = _selection_row(self.n_clusters, self.options.get("embedding"), self.structure.sizes,
                             None if tolerance is None else accuracy.met(tolerance), "", accuracy=accuracy)
        row["chosen"] = True
        return pd.DataFrame([row], columns=list(SELECTION_COLUMNS))

    def verdict(self, tolerance=None):
        """One line on whether this reduction reproduces the original within ``tolerance``.

        :meth:`~gridcoherence.reduction.accuracy.ReductionAccuracy.verdict` of
        :meth:`accuracy`; when the tolerance is not met and a search tried other k, the
        line ends with the best k tried and its error.

        Parameters
        ----------
        tolerance : float, optional
            Relative error (0.05 for 5 %); default the tolerance of the search.
        """
        if tolerance is None:
            tolerance = self.options.get("tolerance")
            if tolerance is None:
                raise ValueError("give a tolerance (e.g. 0.05 for 5 %): this reduction was made without one")
        accuracy = self.accuracy()
        line = accuracy.verdict(tolerance)
        curve = self._selection
        if not accuracy.met(tolerance) and curve is not None:
            tried = curve.dropna(subset=["relative_band_error"])
            worst = np.maximum(tried["relative_band_error"], tried["worst_area_error"])
            best = tried.loc[worst.idxmin()]
            cap = int(curve["k"].max())
            if best["chosen"]:
                line += f"; no k up to {cap} does better"
            else:
                line += (f"; the best k tried is {int(best['k'])} ({best['embedding']} embedding) with "
                         f"{100 * worst.min():.3g} %")
        return line


def _ordinal(n):
    n = int(n)
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _selection_row(k, embedding, sizes, met, note, *, accuracy=None, area_relative_error=None):
    """One row of :attr:`NetworkReduction.selection_`; without an accuracy its band columns are NaN."""
    sizes = tuple(int(s) for s in sizes)
    row = {"k": int(k), "embedding": embedding, "area_sizes": sizes, "smallest_area": min(sizes, default=0),
           "met": None if met is None else bool(met), "chosen": False, "note": note,
           "relative_band_error": np.nan, "worst_area_error": np.nan, "worst_area": -1,
           "band_error_rad_s_per_pu": np.nan, "peak_frequency_rad_s": np.nan}
    if accuracy is not None:
        row.update(relative_band_error=accuracy.relative_band_error,
                   band_error_rad_s_per_pu=accuracy.band_error_rad_s_per_pu,
                   peak_frequency_rad_s=accuracy.peak_frequency_rad_s)
        area_relative_error = accuracy.area_relative_error
    if area_relative_error is not None:
        row.update(worst_area_error=float(np.max(area_relative_error)), worst_area=int(np.argmax(area_relative_error)))
    return row


def _full_order(aggregate):
    """The order of an area's node: 1 + distinct turbines for a machine, else its realization's."""
    if isinstance(aggregate, SwingTurbineNodes):
        return 1 + aggregate.n_turbines
    return aggregate.realization().n_states


def _node_from_reduction(reduction):
    """The cluster node for a reduced aggregate: its equivalent machine when physical."""
    if reduction.interpretation.physical:
        return reduction.to_nodes()
    return LTINodes([control.tf(reduction.system)])


def _check_order(order, method, k):
    """The order request validated: None, "auto", an int or a per-area list, each >= the method's minimum."""
    if method not in MINIMUM_ORDER:
        raise ValueError(f"method must be 'cl' or 'tb', got {method!r}")
    if order is None or (isinstance(order, str) and order == "auto"):
        return order
    minimum = MINIMUM_ORDER[method]
    values = [order] if np.ndim(order) == 0 else list(order)
    for value in values:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"order must be None, 'auto', an integer or one integer per area, got {order!r}")
        if value < minimum:
            raise ValueError(f"order {value} is below the physical minimum {minimum} of method {method!r}: "
                             f"{MINIMUM_ORDER_REASON}")
    if np.ndim(order) != 0 and k is not None and len(values) != k:
        raise ValueError(f"order lists {len(values)} orders for {k} areas")
    return int(order) if np.ndim(order) == 0 else [int(v) for v in values]


def _weight_record(weight):
    """How a weight is recorded in ``options``: None, the band, or its transfer function."""
    if weight is None:
        return None
    if isinstance(weight, (tuple, list, np.ndarray)):
        return [float(w) for w in weight]
    tf = control.tf(weight)
    return {"num": np.atleast_1d(tf.num[0][0]).tolist(), "den": np.atleast_1d(tf.den[0][0]).tolist()}


def _reduce_area(aggregate, target, method, weight, input_weight):
    """The area's AggregateReduction for an order request, or None when the aggregate is kept.

    ``target`` is an int or "auto" (:func:`~gridcoherence.reduction.machines.auto_order`
    on the weighted Hankel singular values); an order at or above the aggregate's own
    keeps it (nothing to reduce).
    """
    if target is None or not isinstance(aggregate, SwingTurbineNodes) or aggregate.n_turbines == 0:
        return None
    full = aggregate.n_turbines + 1
    minimum = MINIMUM_ORDER[method]
    if target == "auto":
        if full <= minimum:
            return None
        probe = reduce_aggregate(aggregate, minimum, method, weight, input_weight=input_weight)
        target = auto_order(probe.hankel_singular_values, method)
        if target == minimum:
            return probe
    if target >= full:
        return None
    return reduce_aggregate(aggregate, int(target), method, weight, input_weight=input_weight)


def _network_reduction(structure, order, method, weight=None, input_weight=None, **options):
    """Step 2 of the pipeline on Algorithm 1's network: the order-reduced aggregates, recorded."""
    k = structure.n_clusters
    order = _check_order(order, method, k)
    targets = order if isinstance(order, list) else [order] * k
    band_weight, band_input = as_frequency_weight(weight), as_frequency_weight(input_weight, "input_weight")
    reductions, parts, full_orders = [], [], []
    for c in range(k):
        aggregate = structure.nodes.subset([c])
        reduction = _reduce_area(aggregate, targets[c], method, band_weight, band_input)
        reductions.append(reduction)
        full_orders.append(_full_order(aggregate))
        parts.append(aggregate if reduction is None else _node_from_reduction(reduction))
    model = structure if all(r is None for r in reductions) else structure.with_nodes(stack_single_nodes(parts))
    result = NetworkReduction(model, structure, reductions, full_orders=full_orders)
    result.options = {"k": k, "order": result.orders, "order_requested": order, "method": method,
                      "weight": _weight_record(weight), "input_weight": _weight_record(input_weight), **options}
    return result


def _check_min_area_size(min_area_size, n):
    if isinstance(min_area_size, bool) or not isinstance(min_area_size, (int, np.integer)) or min_area_size < 1:
        raise ValueError(f"min_area_size must be an integer >= 1, got {min_area_size!r}")
    if min_area_size > n:
        raise ValueError(f"min_area_size = {min_area_size} exceeds the {n} nodes of the network")
    return int(min_area_size)


def _refuse_small_areas(structure, min_area_size):
    """:class:`AreaSizeError` naming the areas below ``min_area_size`` machines (numbered from 1)."""
    small = np.flatnonzero(structure.sizes < min_area_size)
    if small.size == 0:
        return
    names = structure.original.node_names
    described = []
    for c in small:
        members = structure.partition.members(c)
        shown = [str(names[i]) if names is not None else f"machine {i + 1}" for i in members[:5]]
        described.append(f"area {c + 1} ({', '.join(shown)}{' ...' if members.size > 5 else ''})")
    raise AreaSizeError(f"k = {structure.n_clusters} gives {small.size} area(s) of fewer than {min_area_size} "
                     f"machines (min_area_size): {'; '.join(described)}. Choose another k, give the partition, "
                     "or let reduce_network(..., tolerance=...) choose a k without them")


def _checked_reduction(structure, order, method, weight, input_weight, min_area_size, **options):
    """:func:`_network_reduction` of a structure whose areas all have ``min_area_size`` machines.

    Raises :class:`AreaSizeError` otherwise.
    """
    _refuse_small_areas(structure, min_area_size)
    return _network_reduction(structure, order, method, weight, input_weight, min_area_size=min_area_size,
                              **options)


class CoherencyReductor:
    """Reduce a network to k coherent areas with low-order equivalent machines.

    Like a pyMOR reductor it holds the full model and what it computed for it: the
    Laplacian is validated once, here, and the eigenpairs of the embedding (and of L,
    for another embedding) are computed on the first :meth:`reduce` --
    ``min(n, max(max_clusters, k) + 1)`` of them -- and reused by every later call, so
    trying several k costs one eigensolve (a later k above ``max_clusters`` computes
    the larger set once more). For a single reduction with a given k,
    :func:`reduce_network` computes only the k + 1 pairs it needs.

    Parameters
    ----------
    model : NetworkModel
        The full network (connected).
    embedding : {"laplacian", "normalized", "inertia"}, optional
        Spectral embedding used for the clustering; k is suggested from its eigenvalues
        when not given. None (default) chooses
        (:func:`~gridcoherence.models.embedding.default_embedding`): ``"inertia"``, the
        slow-coherency embedding M^{-1} L, when every node has a positive inertia
        (machines), else ``"laplacian"`` as Algorithm 1. The evidence: on ``nets_nyps68``
        the inertia embedding with k = 5 gives the classic groups of the 16 machines,
        {1-9}, {10-13}, {14}, {15}, {16}, and on ``kundur_two_area`` its suggested k = 2
        gives Kundur's areas {G1, G2} | {G3, G4}. The refinement and L_k always use L's
        eigenpairs.
    max_clusters : int
        Largest k the eigengap suggestion considers.
    eigen_method : str
        Passed to :func:`gridcoherence.models.laplacian.smallest_eigenpairs`.
    random_state : int
        Seed of the eigensolvers and of the k-means restarts.

    Attributes
    ----------
    embedding : str
        The embedding used (chosen when None was given).
    eigenpairs : EigenpairCache
        The eigenpairs computed so far.

    Examples
    --------
    >>> from gridcoherence import load_case
    >>> case = load_case("iceland")
    >>> reductor = CoherencyReductor(case.model)
    >>> reductor.embedding
    'inertia'
    >>> result = reductor.reduce(3, order=2)  # the three aggregates have orders 25, 4 and 9
    >>> result.model.n, [(row["order"], row["reduced"]) for row in result.summary()]
    (3, [(2, True), (2, True), (2, True)])
    >>> reductor.reduce(3, order=30).label  # order 30 reduces nothing: recorded as such
    'k=3'
    >>> reductor.reduce().n_clusters  # the eigengap suggestion, from the same eigenpairs
    2
    """

    def __init__(self, model, *, embedding=None, max_clusters=DEFAULT_MAX_CLUSTERS,
                 eigen_method="auto", random_state=0):
        if not isinstance(model, NetworkModel):
            raise TypeError(f"model must be a NetworkModel, got {type(model).__name__}")
        embedding = default_embedding(model.nodes.inertia) if embedding is None else embedding
        if embedding not in EMBEDDINGS:
            raise ValueError(f"unknown embedding {embedding!r}; use one of {EMBEDDINGS}")
        self.model = model
        self.embedding = embedding
        self.max_clusters = max_clusters
        self.random_state = random_state
        self.eigenpairs = EigenpairCache.for_model(model, eigen_method=eigen_method, random_state=random_state,
                                                   min_count=max_clusters + 1)

    def structure(self, k=None, *, partition=None):
        """Algorithm 1's k-node network with the full aggregates (step 1 of :meth:`reduce`)."""
        return _algorithm1(self.model, self.eigenpairs, k, partition=partition, embedding=self.embedding,
                           max_clusters=self.max_clusters, n_init=10, merge_rtol=0.0)

    def reduce(self, k=None, *, order=None, method="cl", weight=None, input_weight=None, partition=None,
               min_area_size=1):
        """Run the pipeline.

        Parameters
        ----------
        k : int, optional
            Number of clusters; when omitted (and no partition is given) the eigengap
            suggestion :func:`~gridcoherence.models.eigengap.suggest_k` on the
            embedding's eigenvalues, the k ``gridcoherence info`` reports.
        order : int, "auto" or sequence of int, optional
            Order of every reduced aggregate machine (one per area for a sequence).
            ``None`` keeps the full aggregates; an order at or above an aggregate's own
            keeps it too (recorded in :meth:`NetworkReduction.summary` as
            ``reduced = False``, with the order actually used); an order below the
            method's physical minimum (:data:`~gridcoherence.reduction.machines.MINIMUM_ORDER`:
            2, the swing state and one turbine state) is a ``ValueError``. ``"auto"`` chooses each area's
            order from its weighted Hankel singular values
            (:func:`~gridcoherence.reduction.machines.auto_order`: the fewest states whose
            discarded tail is at most 1 % of their sum).
        method : {"cl", "tb"}
            Aggregate reduction method (Sec. 3.3).
        weight, input_weight : control LTI object or (w_low, w_high), optional
            Output and input frequency weights of the aggregates' balanced truncation
            (Enns' method); a band in rad/s becomes a second-order Butterworth
            band-pass (:func:`~gridcoherence.reduction.machines.band_pass_weight`). By
            default the output weight of Sec. 3.3.3 and no input weight.
        partition : Partition or array_like, optional
            A given partition (labels or index groups) instead of spectral clustering.
        min_area_size : int
            Fewest machines per area; a k that gives a smaller area raises
            :class:`AreaSizeError` (a ValueError) naming those areas. 1 (default) allows
            single-machine areas (:meth:`NetworkReduction.single_machine_areas` says why
            each stands alone).

        Returns
        -------
        NetworkReduction
        """
        min_area_size = _check_min_area_size(min_area_size, self.model.n)
        _check_order(order, method, k)
        return _checked_reduction(self.structure(k, partition=partition), order, method, weight, input_weight,
                                  min_area_size, embedding=self.embedding, random_state=self.random_state,
                                  partition_given=partition is not None)


def _candidate_embeddings(model):
    """The embeddings the tolerance search tries, the default first (it wins ties): all three for machines."""
    default = default_embedding(model.nodes.inertia)
    return [default] + [e for e in EMBEDDINGS if e not in (default, "inertia")]


@dataclass
class _Candidate:
    """One (k, embedding) of the tolerance search: its reduction, area errors and, when measured, accuracy."""

    k: int
    embedding: str
    result: "NetworkReduction | None" = None
    area_relative_error: np.ndarray | None = None  # per area, the step error relative to its nadir
    accuracy: object = None
    note: str = ""

    @property
    def area_error(self):
        return float(np.max(self.area_relative_error))

    @property
    def error(self):
        """The error compared with the tolerance; without the band error, the area error (a lower bound of it)."""
        return self.area_error if self.accuracy is None else self.accuracy.error


def _choose(model, tolerance, *, order, method, weight, input_weight, band, u0, t, min_area_size,
            max_k, random_state, progress):
    """The tolerance search of :func:`reduce_network`: smallest k, then the smallest orders.

    The band error, the costly half of an accuracy (one factorisation of the network
    matrix per frequency), is computed only where it can change the outcome: for a
    candidate whose area errors meet the tolerance, and, when no k meets it, for the
    candidates that might have the smallest error -- in increasing order of area error,
    until the next one's area error alone is no smaller than the best error found. The
    choice is the one every band error would give; the other rows keep their area
    errors, their band columns NaN and a note saying why.
    """
    tolerance = _check_tolerance(tolerance)
    min_area_size = _check_min_area_size(min_area_size, model.n)
    cap = min(model.n, MAX_TRIED_K if max_k is None else int(max_k))
    if cap < 1:
        raise ValueError(f"max_k must be >= 1, got {max_k!r}")
    _check_order(order, method, None)
    if isinstance(order, list):
        raise ValueError("with a tolerance the number of areas is chosen: give order as None, 'auto' or an int")
    reference = AccuracyReference(model, band, u0, t)
    embeddings = _candidate_embeddings(model)
    reductors = {e: CoherencyReductor(model, embedding=e, max_clusters=max(cap, 2), random_state=random_state)
                 for e in embeddings}
    options = {"random_state": random_state, "partition_given": False, "min_area_size": min_area_size}
    # Embeddings that find the same partition give the same reduced network (L_k and the
    # aggregates depend on the partition and L only): measured once, by partition.
    area_errors, accuracies = {}, {}

    def measure(candidate):
        labels = candidate.result.labels.tobytes()
        if labels not in accuracies:
            accuracies[labels] = _accuracy_with_band_error(candidate.result.model, reference, area_errors[labels])
        candidate.accuracy = accuracies[labels]

    candidates = []
    found = False
    bar = tqdm(range(1, cap + 1), desc="k", disable=not progress, leave=False)
    for k in bar:
        for embedding in embeddings:
            candidate = _Candidate(k, embedding)
            candidates.append(candidate)
            try:
                structure = reductors[embedding].structure(k)
            except ValueError as exc:  # lambda_k = lambda_{k+1}: V_k not determined at this k
                candidate.note = str(exc).split(":")[0]
                continue
            candidate.result = _network_reduction(structure, order, method, weight, input_weight,
                                                  embedding=embedding, **options)
            labels = structure.labels.tobytes()
            if labels not in area_errors:
                area_errors[labels] = area_step_errors(candidate.result.model, reference)
            error, nadir = area_errors[labels]
            candidate.area_relative_error = error / nadir
            smallest = int(structure.sizes.min())
            if smallest < min_area_size:
                candidate.note = f"an area of {smallest} machine(s), below min_area_size = {min_area_size}"
            elif candidate.area_error <= tolerance:
                measure(candidate)
                found = found or candidate.accuracy.met(tolerance)
        if found:
            break
    bar.close()
    measured = [c for c in candidates if c.result is not None]
    pool = [c for c in measured if not c.note] or measured
    if found:
        pool = [c for c in pool if c.accuracy is not None and c.accuracy.met(tolerance)]
    else:
        best = np.inf
        for candidate in sorted(pool, key=lambda c: c.area_error):  # stable: earlier rows first on ties
            if best < np.inf and candidate.area_error >= best:  # while best is inf (undamped modes), measure on
                break
            measure(candidate)
            best = min(best, candidate.error)
        pool = [c for c in pool if c.accuracy is not None]
    chosen = min(pool, key=lambda c: c.error)  # the first of equal errors: the smaller k, the default embedding
    result, accuracy = chosen.result, chosen.accuracy
    if found and order is None:
        result, accuracy = _choose_orders(result, accuracy, tolerance, reference, method, weight, input_weight,
                                          options)
        chosen.accuracy = accuracy
    rows = []
    for candidate in candidates:
        if candidate.result is None:
            rows.append(_selection_row(candidate.k, candidate.embedding, (), False, candidate.note))
            continue
        measured_accuracy = candidate.accuracy or accuracies.get(candidate.result.labels.tobytes())
        note = candidate.note
        if measured_accuracy is None and not note:
            note = ("band error not computed: the area error alone exceeds the tolerance"
                    + ("" if found else " and the best error found"))
        met = bool(measured_accuracy is not None and measured_accuracy.met(tolerance) and not candidate.note)
        row = _selection_row(candidate.k, candidate.embedding, candidate.result.structure.sizes, met, note,
                             accuracy=measured_accuracy, area_relative_error=candidate.area_relative_error)
        row["chosen"] = candidate is chosen
        rows.append(row)
    table = pd.DataFrame(rows, columns=list(SELECTION_COLUMNS))
    result.options.update(tolerance=tolerance, band=reference.band, met=bool(table.loc[table["chosen"], "met"].iloc[0]),
                          max_k=cap)
    if found and order is None:
        result.options["order_requested"] = "tolerance"
    result._selection = table
    result._reference = reference
    result._accuracies[reference.key] = accuracy
    return result


def _choose_orders(result, accuracy, tolerance, reference, method, weight, input_weight, options):
    """Per area, the smallest order whose measured accuracy still meets the tolerance (greedy, area by area).

    A trial whose area errors already exceed the tolerance is rejected without its band error.
    """
    structure = result.structure
    orders = result.orders
    minimum = MINIMUM_ORDER[method]
    for c in range(structure.n_clusters):
        if not isinstance(structure.nodes.subset([c]), SwingTurbineNodes):
            continue
        for r in range(minimum, orders[c]):
            trial_orders = orders[:c] + [r] + orders[c + 1:]
            trial = _network_reduction(structure, trial_orders, method, weight, input_weight,
                                       embedding=result.options["embedding"], **options)
            area_errors = area_step_errors(trial.model, reference)
            if np.max(area_errors[0] / area_errors[1]) > tolerance:
                continue
            trial_accuracy = _accuracy_with_band_error(trial.model, reference, area_errors)
            if trial_accuracy.met(tolerance):
                orders, result, accuracy = trial_orders, trial, trial_accuracy
                break
    return result, accuracy


def reduce_network(model, k=None, *, order=None, method="cl", embedding=None, weight=None, input_weight=None,
                   tolerance=None, band=None, u0=None, t=None, min_area_size=1, max_k=None,
                   random_state=0, partition=None, progress=False):
    """The pipeline once, or -- with a tolerance -- the smallest reduction that meets it.

    With k (or a partition), or with neither and no tolerance, this is what
    ``CoherencyReductor(model, embedding=embedding).reduce(k, order=..., ...)`` returns; a
    single reduction computes only the eigenpairs it needs (k + 1 of them when k is
    given). Without k the number of clusters is the eigengap suggestion
    :func:`~gridcoherence.models.eigengap.suggest_k` on the embedding's eigenvalues -- for
    the default embedding the k that ``gridcoherence info`` and
    :meth:`~gridcoherence.cases.loader.Case.spectrum_summary` report.

    With ``tolerance`` (and no k): for k = 1, 2, ... up to min(n, ``max_k``) and each
    embedding ("laplacian", "normalized" and, for machines, "inertia"; one reductor per
    embedding, so each eigensolve is done once) the reduction is measured
    (:meth:`NetworkReduction.accuracy` with ``band``, ``u0``, ``t``; its band error only
    where it can change the choice, see :attr:`NetworkReduction.selection_`); the first k at which
    some embedding meets the tolerance -- relative band error and every area's step
    error relative to its nadir at most ``tolerance``, no area below ``min_area_size`` --
    is chosen (the embedding with the smallest error at that k). Then, with ``order``
    None, each area in turn gets the smallest order (from the method's minimum) whose
    measured accuracy still meets the tolerance. If no k meets it, the reduction with
    the smallest error tried is returned, with ``options["met"] = False``, and its
    :meth:`~NetworkReduction.verdict` says so; nothing is raised. The curve of every
    (k, embedding) tried is :attr:`NetworkReduction.selection_`.

    Parameters
    ----------
    model : NetworkModel
    k : int, optional
        Number of areas. With a tolerance too, that k is measured against it
        (``options["met"]``, :meth:`~NetworkReduction.verdict`, the one-row
        :attr:`~NetworkReduction.selection_`) instead of being chosen.
    order, method, weight, input_weight, partition, min_area_size
        As for :meth:`CoherencyReductor.reduce`; with a tolerance, ``order`` may be
        None (chosen per area by the measured accuracy), ``"auto"`` or an int, and areas
        below ``min_area_size`` make their k a non-candidate (noted in the curve).
    embedding : {"laplacian", "normalized", "inertia"}, optional
        The clustered embedding; None chooses as :class:`CoherencyReductor` (inertia for
        machines). With a tolerance all are tried and this must be None.
    tolerance : float, optional
        Largest acceptable relative error (0.05 for 5 %).
    band : float, optional
        Band edge (rad/s) of the accuracy's band error (default
        :func:`~gridcoherence.reduction.accuracy.default_band`: 1 Hz for machines, else 1 rad/s).
    u0 : array_like or int, optional
        Step disturbance of the accuracy (default: 1 p.u. load step at the machine of
        largest inertia, :func:`~gridcoherence.reduction.accuracy.default_disturbance`).
    t : array_like, optional
        Time grid of the accuracy's area step errors (default 0..60 s, 10 ms steps).
    max_k : int, optional
        Largest k tried with a tolerance (default :data:`MAX_TRIED_K`, at most n).
    random_state : int
    progress : bool
        Show a progress bar over the k of the tolerance search (tqdm, on stderr).

    Returns
    -------
    NetworkReduction

    Examples
    --------
    >>> from gridcoherence import load_case
    >>> model = load_case("kundur_two_area").model
    >>> reduce_network(model, 2, tolerance=0.1).verdict()
    'k = 2 reproduces the area responses within 1.7 % (band error 8.6 % of sup||T|| on |w| <= 6.28 rad/s (1 Hz))'
    >>> chosen = reduce_network(model, tolerance=0.01)  # only one machine per area meets 1 %
    >>> chosen.n_clusters, int(chosen.selection_["k"].max()), bool(chosen.options["met"])
    (4, 4, True)
    """
    if not isinstance(model, NetworkModel):
        raise TypeError(f"model must be a NetworkModel, got {type(model).__name__}")
    if tolerance is None and any(x is not None for x in (band, u0, t, max_k)):
        raise ValueError("band, u0, t and max_k set the accuracy of a tolerance; without a tolerance pass "
                         "band, u0 and t to NetworkReduction.accuracy")
    if tolerance is None or k is not None or partition is not None:
        if max_k is not None:
            raise ValueError("max_k bounds the search over k; it has no meaning with a given k or partition")
        min_area_size = _check_min_area_size(min_area_size, model.n)
        embedding = default_embedding(model.nodes.inertia) if embedding is None else embedding
        _check_order(order, method, k)
        structure = structure_preserving_reduction(model, k, partition=partition, embedding=embedding,
                                                   random_state=random_state)
        result = _checked_reduction(structure, order, method, weight, input_weight, min_area_size,
                                    embedding=embedding, random_state=random_state,
                                    partition_given=partition is not None)
        if tolerance is not None:
            result._reference = AccuracyReference(model, band, u0, t)
            result.options.update(tolerance=_check_tolerance(tolerance), band=result._reference.band,
                                  met=result.accuracy().met(tolerance))
        return result
    if embedding is not None:
        raise ValueError("with a tolerance every embedding is tried; leave embedding=None")
    return _choose(model, tolerance, order=order, method=method, weight=weight, input_weight=input_weight,
                   band=band, u0=u0, t=t, min_area_size=min_area_size, max_k=max_k, random_state=random_state,
                   progress=progress)
