"""Simulators for gradient flow and gradient descent (component M4).

Both simulators work on any *model* object with

* ``loss(params) -> float`` and ``gradients(params) -> tuple of arrays`` (same shapes as
  ``params``, a tuple of arrays);
* optionally ``excess_loss(params)`` (``L - L*`` without cancellation; default
  ``loss - loss_star``) and ``check_params(params)`` (input validation).

:func:`integrate_gradient_flow` steps an adaptive explicit Runge-Kutta solver of
:mod:`scipy.integrate` (``DOP853`` by default, tolerances :data:`~.defaults.GF_RTOL` and
:data:`~.defaults.GF_ATOL`) and evaluates the
dense output at the requested sample times, so only the sampled diagnostics are kept in memory,
not the whole solver history. It is the tool for the theory checks. :func:`gradient_descent` is
the plain loop used by the figure experiments; its time axis is the gradient-flow time
``t_k = eta k`` of the model's loss. Both return a :class:`Trajectory`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.integrate

from ._checks import as_real_array, positive_float, positive_int

__all__ = [
    "Trajectory",
    "GradientDescentDivergedError",
    "integrate_gradient_flow",
    "gradient_descent",
]

_SOLVERS = ("DOP853", "RK45", "RK23", "Radau", "BDF", "LSODA")


class GradientDescentDivergedError(FloatingPointError):
    """Gradient descent blew up: the step size is too large for this problem.

    Attributes
    ----------
    step_size : float
    iteration : int
    loss : float
    """

    def __init__(self, step_size, iteration, loss):
        self.step_size, self.iteration, self.loss = step_size, iteration, loss
        super().__init__(
            f"gradient descent diverged at iteration {iteration} (loss = {loss:.3g}): "
            f"step_size = {step_size:g} is too large for this problem; reduce step_size"
        )


@dataclass
class Trajectory:
    """Sampled trajectory of a simulation.

    Attributes
    ----------
    times : numpy.ndarray
        Gradient-flow times of the samples.
    loss, excess_loss : numpy.ndarray
        ``L`` and ``L - L*`` at the samples.
    diagnostics : dict of str to numpy.ndarray
        One array per recorded diagnostic (first axis = sample).
    states : list of tuple or None
        Parameter copies at the samples (``store_states=True`` only).
    final_params : tuple of numpy.ndarray
        Parameters at the end of the run.
    n_steps : int
        Solver steps (gradient flow) or iterations (gradient descent) taken.
    reached_tolerance : bool
        Whether the run stopped because ``excess_loss <= stop_excess``.
    """

    times: np.ndarray
    loss: np.ndarray
    excess_loss: np.ndarray
    diagnostics: dict = field(default_factory=dict)
    states: list | None = None
    final_params: tuple = ()
    n_steps: int = 0
    reached_tolerance: bool = False

    def __getitem__(self, name):
        return self.diagnostics[name]


class _Recorder:
    """Collects samples; checks that every recorded number is finite."""

    def __init__(self, model, diagnostics, store_states):
        self.model, self.diagnostics, self.store_states = model, diagnostics, store_states
        self.times, self.loss, self.excess, self.states = [], [], [], []
        self.values = {}

    def record(self, t, params):
        loss = float(self.model.loss(params))
        excess = _excess_loss(self.model, params)
        if not (np.isfinite(loss) and np.isfinite(excess)):
            raise FloatingPointError(f"the loss became non-finite at time {t:g}")
        self.times.append(float(t))
        self.loss.append(loss)
        self.excess.append(excess)
        if self.store_states:
            self.states.append(tuple(np.array(p, copy=True) for p in params))
        if self.diagnostics is not None:
            for name, value in self.diagnostics(params).items():
                self.values.setdefault(name, []).append(value)
        return excess

    def result(self, final_params, n_steps, reached):
        return Trajectory(
            times=np.asarray(self.times),
            loss=np.asarray(self.loss),
            excess_loss=np.asarray(self.excess),
            diagnostics={k: np.asarray(v) for k, v in self.values.items()},
            states=self.states if self.store_states else None,
            final_params=tuple(final_params),
            n_steps=n_steps,
            reached_tolerance=reached,
        )


def _excess_loss(model, params):
    if hasattr(model, "excess_loss"):
        return float(model.excess_loss(params))
    return float(model.loss(params)) - float(getattr(model, "loss_star", 0.0))


def _prepare(model, params0):
    if not isinstance(params0, (tuple, list)) or not params0:
        raise TypeError("params0 must be a non-empty tuple of arrays")
    if hasattr(model, "check_params"):
        return tuple(model.check_params(tuple(params0)))
    return tuple(as_real_array(p, f"params0[{i}]") for i, p in enumerate(params0))


def integrate_gradient_flow(
    model,
    params0,
    t_max,
    t_eval=None,
    n_samples=200,
    rtol=1e-10,
    atol=1e-12,
    method="DOP853",
    stop_excess=None,
    diagnostics=None,
    store_states=False,
):
    """Integrate the gradient flow ``d(params)/dt = -grad L(params)`` adaptively.

    Parameters
    ----------
    model : object
        Implements the model protocol described in the module docstring.
    params0 : tuple of array_like
        Initial parameters.
    t_max : float
        Final time.
    t_eval : array_like, optional
        Increasing sample times in ``[0, t_max]``; default ``n_samples`` equispaced times.
    n_samples : int
        Number of default sample times.
    rtol, atol : float
        Solver tolerances (the theory checks use about 1e-10 and 1e-12).
    method : str
        A :mod:`scipy.integrate` ``OdeSolver`` name.
    stop_excess : float, optional
        Stop at the first solver step where ``L - L* <= stop_excess`` (that state is recorded).
    diagnostics : callable, optional
        ``diagnostics(params) -> dict`` of numbers/arrays recorded at every sample.
    store_states : bool
        Keep a copy of the parameters at every sample.

    Returns
    -------
    Trajectory

    Examples
    --------
    >>> from gridcoherence.learning.linear2 import TwoLayerLinearRegression
    >>> model = TwoLayerLinearRegression(np.eye(2), np.eye(2))
    >>> traj = integrate_gradient_flow(model, (np.eye(2) * 0.5, np.eye(2) * 0.5), t_max=20.0)
    >>> bool(traj.excess_loss[-1] < 1e-10)
    True
    """
    if method not in _SOLVERS:
        raise ValueError(f"method must be one of {_SOLVERS}, got {method!r}")
    t_max = positive_float(t_max, "t_max")
    rtol, atol = positive_float(rtol, "rtol"), positive_float(atol, "atol")
    if t_eval is None:
        t_eval = np.linspace(0.0, t_max, positive_int(n_samples, "n_samples", minimum=2))
    t_eval = as_real_array(t_eval, "t_eval", ndim=1)
    if t_eval.size == 0 or np.any(np.diff(t_eval) <= 0) or t_eval[0] < 0 or t_eval[-1] > t_max:
        raise ValueError("t_eval must be strictly increasing inside [0, t_max]")
    params = _prepare(model, params0)
    shapes = [p.shape for p in params]
    splits = np.cumsum([int(np.prod(s)) for s in shapes])[:-1]

    def unflatten(y):
        return tuple(chunk.reshape(s) for chunk, s in zip(np.split(y, splits), shapes))

    def rhs(_t, y):
        # Trial stages of a rejected step may overflow (e.g. exponential losses); the solver's
        # error control rejects such a step, and accepted states are checked for finiteness.
        with np.errstate(over="ignore", invalid="ignore"):
            return -np.concatenate([g.ravel() for g in model.gradients(unflatten(y))])

    y0 = np.concatenate([p.ravel() for p in params])
    solver = getattr(scipy.integrate, method)(rhs, 0.0, y0, t_max, rtol=rtol, atol=atol)
    recorder = _Recorder(model, diagnostics, store_states)
    next_sample = 0
    if t_eval[0] == 0.0:
        recorder.record(0.0, params)
        next_sample = 1
    reached, n_steps = False, 0
    while solver.status == "running":
        solver.step()
        n_steps += 1
        if solver.status == "failed" or not np.all(np.isfinite(solver.y)):
            raise FloatingPointError(f"gradient-flow integration failed at t = {solver.t:g}")
        if next_sample < len(t_eval) and t_eval[next_sample] <= solver.t:
            dense = solver.dense_output()
            while next_sample < len(t_eval) and t_eval[next_sample] <= solver.t:
                recorder.record(t_eval[next_sample], unflatten(dense(t_eval[next_sample])))
                next_sample += 1
        if stop_excess is not None and _excess_loss(model, unflatten(solver.y)) <= stop_excess:
            reached = True
            break
    final = unflatten(solver.y.copy())
    if not recorder.times or recorder.times[-1] < solver.t:
        recorder.record(solver.t, final)
    return recorder.result(final, n_steps, reached)


def gradient_descent(
    model,
    params0,
    step_size,
    n_steps,
    record_every=1,
    stop_excess=None,
    diagnostics=None,
    store_states=False,
    divergence_factor=1e6,
):
    """Plain gradient descent ``params <- params - step_size * grad L(params)``.

    Parameters
    ----------
    model : object
        Implements the model protocol described in the module docstring.
    params0 : tuple of array_like
    step_size : float
        ``eta``; sample ``k`` has gradient-flow time ``eta k``.
    n_steps : int
        Maximum number of iterations.
    record_every : int
        Record every this many iterations (and the last one).
    stop_excess : float, optional
        Stop at the first recorded iteration with ``L - L* <= stop_excess``.
    diagnostics : callable, optional
        As in :func:`integrate_gradient_flow`.
    store_states : bool
    divergence_factor : float
        The run is declared divergent when the loss exceeds ``divergence_factor * max(L(0), 1)``.

    Returns
    -------
    Trajectory

    Raises
    ------
    GradientDescentDivergedError
        If the loss grows past the divergence threshold or becomes non-finite.

    Examples
    --------
    >>> from gridcoherence.learning.linear2 import TwoLayerLinearRegression
    >>> model = TwoLayerLinearRegression(np.eye(2), np.eye(2))
    >>> traj = gradient_descent(model, (np.eye(2) * 0.5, np.eye(2) * 0.5), 0.1, 500, record_every=100)
    >>> traj.times.tolist()
    [0.0, 10.0, 20.0, 30.0, 40.0, 50.0]
    """
    step_size = positive_float(step_size, "step_size")
    n_steps = positive_int(n_steps, "n_steps", minimum=0)
    record_every = positive_int(record_every, "record_every")
    params = [np.array(p, dtype=float, copy=True) for p in _prepare(model, params0)]
    recorder = _Recorder(model, diagnostics, store_states)
    recorder.record(0.0, tuple(params))
    threshold = divergence_factor * max(recorder.loss[0], 1.0)
    reached, k = False, 0
    for k in range(1, n_steps + 1):
        # Overflow is expected when the step is too large; it is reported as a divergence below.
        with np.errstate(over="ignore", invalid="ignore"):
            for p, g in zip(params, model.gradients(tuple(params))):
                p -= step_size * g
            if k % record_every != 0 and k != n_steps:
                continue
            loss = float(model.loss(tuple(params)))
        if not np.isfinite(loss) or loss > threshold:
            raise GradientDescentDivergedError(step_size, k, loss)
        excess = recorder.record(step_size * k, tuple(params))
        if stop_excess is not None and excess <= stop_excess:
            reached = True
            break
    return recorder.result(params, k, reached)
