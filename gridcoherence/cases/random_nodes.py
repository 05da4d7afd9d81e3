"""Random swing(+turbine) nodes for synthetic networks: :func:`random_family_nodes`.

Synthetic networks (stochastic block models of :mod:`gridcoherence.cases.sbm`, grids of
:mod:`gridcoherence.cases.synthetic`, case files with ``machines.source = "random_family"``)
need node dynamics the dissertation does not state: these nodes of the family (3.84) have
independent uniform parameters on the ranges of :data:`FAMILY_NODE_RANGES`, which cover the
Table 3-I machines.
"""

from __future__ import annotations

import numpy as np

from ..models.nodes import SwingTurbineNodes

__all__ = ["random_family_nodes", "FAMILY_NODE_RANGES"]


#: Distributions of the random swing+turbine node parameters used for synthetic
#: networks (not stated in the dissertation; chosen here): uniform on these ranges. Inertia m and damping d
#: in p.u. (s^2/rad and s/rad on a 100 MVA base), turbine gain q = 1/r in p.u., time
#: constant tau in seconds; the ranges cover the Table 3-I machines.
FAMILY_NODE_RANGES = {
    "m": (0.01, 0.03),
    "d": (0.001, 0.004),
    "turbine_gain": (0.015, 0.03),
    "turbine_tau": (2.0, 10.0),
}


def random_family_nodes(n, random_state=None, *, turbines=True, ranges=None):
    """Random swing(+turbine) nodes with independent uniform parameters.

    Parameters
    ----------
    n : int
    random_state : int or Generator, optional
    turbines : bool
        Give every node one first-order turbine.
    ranges : dict, optional
        Overrides of :data:`FAMILY_NODE_RANGES` (keys m, d, turbine_gain, turbine_tau).

    Returns
    -------
    SwingTurbineNodes
    """
    spec = dict(FAMILY_NODE_RANGES, **(ranges or {}))
    unknown = set(spec) - set(FAMILY_NODE_RANGES)
    if unknown:
        raise ValueError(f"unknown parameter ranges {sorted(unknown)}; use {sorted(FAMILY_NODE_RANGES)}")
    rng = np.random.default_rng(random_state)
    draw = {key: rng.uniform(*spec[key], size=n) for key in FAMILY_NODE_RANGES}
    if not turbines:
        return SwingTurbineNodes(draw["m"], draw["d"])
    return SwingTurbineNodes(draw["m"], draw["d"], turbine_gain=draw["turbine_gain"],
                             turbine_tau=draw["turbine_tau"])
