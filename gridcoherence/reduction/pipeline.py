"""The whole reduction pipeline: clusters, aggregates, L_k and reduced aggregate machines.

:class:`CoherencyReductor` follows pyMOR's reductor pattern: it holds the full model, the
options and what it computed (the validated Laplacian and the eigenpairs, shared by all
its reductions), and :meth:`CoherencyReductor.reduce` returns a :class:`NetworkReduction`
that remembers how it was made. The steps are

1. spectral clustering of L and the structure-preserving k-node network of Algorithm 1
   (:func:`gridcoherence.structure_preserving_reduction`): one coherent aggregate per
   cluster, coupled through the reduced Laplacian L_k;
2. optionally, each aggregate's order is reduced by frequency-weighted balanced
   truncation (:func:`gridcoherence.reduce_aggregate`, "cl" or "tb"); the reduced
   aggregate replaces the full one as the cluster's node. Where the reduced model has a
   physical interpretation (positive inertia, damping, real turbines) the node is that
   equivalent machine; otherwise the reduced transfer function itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import control

from ..models.eigengap import DEFAULT_MAX_CLUSTERS
from ..models.network import NetworkModel
from ..models.nodes import LTINodes, SwingTurbineNodes, stack_single_nodes
from .clustering import EMBEDDINGS, EigenpairCache
from .machines import reduce_aggregate
from .structure import _algorithm1, structure_preserving_reduction

__all__ = ["CoherencyReductor", "NetworkReduction", "reduce_network"]


@dataclass
class NetworkReduction:
    """Result of :meth:`CoherencyReductor.reduce`.

    Attributes
    ----------
    model : ReducedNetwork
        The final k-node network (order-reduced aggregates when ``order`` was given);
        its ``lifted_*`` methods give responses on the original nodes.
    structure : ReducedNetwork
        The structure-preserving network with the full aggregates (Algorithm 1).
    aggregate_reductions : list
        Per cluster, the :class:`~gridcoherence.AggregateReduction`, or ``None`` where the
        aggregate was kept (order not given, aggregate already of at most that order, or
        not a swing/turbine aggregate).
    options : dict
        k, order, method, embedding, random_state: how the reduction was made.
    """

    model: object
    structure: object
    aggregate_reductions: list
    options: dict = field(default_factory=dict)

    @property
    def labels(self):
        return self.structure.labels

    @property
    def n_clusters(self):
        return self.structure.n_clusters

    def summary(self):
        """One dict per cluster: size, full and reduced order, equivalent machine."""
        rows = []
        for c, reduction in enumerate(self.aggregate_reductions):
            full = self.structure.nodes.subset([c]).realization().n_states
            row = {"cluster": c, "size": int(self.structure.sizes[c]), "full_order": int(full),
                   "order": int(full if reduction is None else reduction.order)}
            if reduction is not None:
                interp = reduction.interpretation
                row.update({"physical": interp.physical, "m": interp.m, "d": interp.d,
                            "reason": interp.reason})
            rows.append(row)
        return rows


def _node_from_reduction(reduction):
    """The cluster node for a reduced aggregate: its equivalent machine when physical."""
    if reduction.interpretation.physical:
        return reduction.to_nodes()
    return LTINodes([control.tf(reduction.system)])


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
    embedding : {"laplacian", "normalized", "inertia"}
        Spectral embedding used for the clustering (Algorithm 1 uses the Laplacian); k
        is suggested from its eigenvalues when not given.
    max_clusters : int
        Largest k the eigengap suggestion considers.
    eigen_method : str
        Passed to :func:`gridcoherence.models.laplacian.smallest_eigenpairs`.
    random_state : int
        Seed of the eigensolvers and of the k-means restarts.

    Attributes
    ----------
    eigenpairs : EigenpairCache
        The eigenpairs computed so far.

    Examples
    --------
    >>> from gridcoherence import load_case
    >>> case = load_case("kundur_two_area")
    >>> reductor = CoherencyReductor(case.model)
    >>> result = reductor.reduce(2, order=2)
    >>> result.model.n, [row["order"] for row in result.summary()]
    (2, [2, 2])
    >>> reductor.reduce().n_clusters  # the eigengap suggestion, from the same eigenpairs
    2
    """

    def __init__(self, model, *, embedding="laplacian", max_clusters=DEFAULT_MAX_CLUSTERS,
                 eigen_method="auto", random_state=0):
        if not isinstance(model, NetworkModel):
            raise TypeError(f"model must be a NetworkModel, got {type(model).__name__}")
        if embedding not in EMBEDDINGS:
            raise ValueError(f"unknown embedding {embedding!r}; use one of {EMBEDDINGS}")
        self.model = model
        self.embedding = embedding
        self.max_clusters = max_clusters
        self.random_state = random_state
        self.eigenpairs = EigenpairCache(model.laplacian, inertia=model.inertia, eigen_method=eigen_method,
                                         random_state=random_state, min_count=max_clusters + 1)

    def reduce(self, k=None, *, order=None, method="cl", partition=None):
        """Run the pipeline.

        Parameters
        ----------
        k : int, optional
            Number of clusters; when omitted (and no partition is given) the eigengap
            suggestion :func:`~gridcoherence.models.eigengap.suggest_k` on the
            embedding's eigenvalues, the k ``gridcoherence info`` reports.
        order : int, optional
            Order of every reduced aggregate machine; aggregates already of at most
            this order are kept. ``None`` keeps the full aggregates.
        method : {"cl", "tb"}
            Aggregate reduction method (Sec. 3.3).
        partition : Partition or array_like, optional
            A given partition (labels or index groups) instead of spectral clustering.

        Returns
        -------
        NetworkReduction
        """
        structure = _algorithm1(self.model, self.eigenpairs, k, partition=partition, embedding=self.embedding,
                                max_clusters=self.max_clusters, n_init=10, merge_rtol=0.0)
        return _network_reduction(structure, order, method, embedding=self.embedding,
                                  random_state=self.random_state, partition_given=partition is not None)


def _network_reduction(structure, order, method, **options):
    """Step 2 of the pipeline on Algorithm 1's network: the order-reduced aggregates, recorded."""
    reductions, parts = [], []
    for c in range(structure.n_clusters):
        aggregate = structure.nodes.subset([c])
        reduction = None
        if (order is not None and isinstance(aggregate, SwingTurbineNodes)
                and aggregate.n_turbines + 1 > order):
            reduction = reduce_aggregate(aggregate, int(order), method=method)
        reductions.append(reduction)
        parts.append(aggregate if reduction is None else _node_from_reduction(reduction))
    model = structure if order is None else structure.with_nodes(stack_single_nodes(parts))
    options = {"k": structure.n_clusters, "order": order, "method": method, **options}
    return NetworkReduction(model, structure, reductions, options)


def reduce_network(model, k=None, *, order=None, method="cl", embedding="laplacian",
                   random_state=0, partition=None):
    """The pipeline once: what ``CoherencyReductor(model, ...).reduce(k, order=..., method=...)`` returns.

    A single reduction computes only the eigenpairs it needs (k + 1 of them when k is
    given, through :func:`~gridcoherence.reduction.structure.structure_preserving_reduction`);
    to try several k on one network, keep a :class:`CoherencyReductor`.

    Without k (and without a partition) the number of clusters is the eigengap
    suggestion :func:`~gridcoherence.models.eigengap.suggest_k` on the embedding's
    eigenvalues -- for the default embedding the k that ``gridcoherence info`` and
    :meth:`~gridcoherence.cases.loader.Case.spectrum_summary` report.
    """
    structure = structure_preserving_reduction(model, k, partition=partition, embedding=embedding,
                                               random_state=random_state)
    return _network_reduction(structure, order, method, embedding=embedding, random_state=random_state,
                              partition_given=partition is not None)
