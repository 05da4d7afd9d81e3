"""Learning dynamics of overparametrized networks (dissertation Chapter 2).

Submodules, one concept each:

* :mod:`.imbalance` - spectral conventions, the rate function ``g`` and Delta+/Delta-/Delta_;
* :mod:`.linear2` - two-layer linear regression (Section 2.1): reparametrization, rate bounds,
  min-norm solution, invariant set, random-init bounds;
* :mod:`.multilayer` - linear networks of any depth with a general loss (Section 2.2): the
  operator T, the imbalances D_l and the two-, three-layer, deep and homogeneous bounds;
* :mod:`.relu` - two-layer ReLU classifier with small initialisation (Section 2.3);
* :mod:`.flow` - adaptive gradient-flow integrator and gradient-descent loop;
* :mod:`.data` - MNIST reader (IDX and .npz, no pickle), bundled digits proxy and synthetic data sets;
* :mod:`.defaults` - every setting the text leaves open, in one place;
* :mod:`.experiments` - drivers reproducing Figs. 2-3, 2-4, 2-5, 2-6, 2-11 and 2-12.
"""

from .flow import GradientDescentDivergedError, Trajectory, gradient_descent, integrate_gradient_flow
from .imbalance import ImbalanceQuantities, factor_rate_bound, imbalance_quantities, rate_function
from .linear2 import TwoLayerLinearRegression

__all__ = [
    "GradientDescentDivergedError",
    "Trajectory",
    "gradient_descent",
    "integrate_gradient_flow",
    "ImbalanceQuantities",
    "factor_rate_bound",
    "imbalance_quantities",
    "rate_function",
    "TwoLayerLinearRegression",
]
