"""ODE integration over one observation interval, for any continuous-time cell.

``integrate(f, y, dt, method, unfolds)`` advances ``dy/dt = f(y)`` (input held constant over
the interval) by ``dt``. ``method`` is

* ``"euler"`` or ``"rk4"``: ``unfolds`` fixed steps of ``dt / unfolds`` (the paper's
  explicit solvers);
* a Diffrax solver: a :class:`DiffraxSolver` configuration, a ``diffrax.AbstractSolver``
  instance (``diffrax.Tsit5()``, ``diffrax.Kvaerno5()``, ...) or one of the names in
  :data:`DIFFRAX_SOLVER_NAMES` (``"tsit5"``, ``"kvaerno5"``, ...). Adaptive solvers choose
  their own steps under a PID controller (``rtol``/``atol``); solvers without an error
  estimate (``diffrax.Euler()``) take ``unfolds`` equal steps.

:func:`validate_solver` is the one place that decides which solvers a cell accepts: the
names it lists, plus every Diffrax solver. This module imports Diffrax lazily (only when a
Diffrax solver is used), so the core stays free of it.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

FIXED_STEP_METHODS = ("euler", "rk4")

#: Names accepted wherever a solver is, mapped to the Diffrax solver class they build.
DIFFRAX_SOLVER_NAMES: dict[str, str] = {
    "tsit5": "Tsit5",
    "dopri5": "Dopri5",
    "dopri8": "Dopri8",
    "heun": "Heun",
    "bosh3": "Bosh3",
    "kvaerno3": "Kvaerno3",
    "kvaerno5": "Kvaerno5",
}

ADJOINTS = ("recursive", "backsolve")


def euler_step(f: Callable[[jax.Array], jax.Array], y: jax.Array, h: jax.Array) -> jax.Array:
    """One explicit Euler step ``y + h f(y)``."""
    return y + h * f(y)


def rk4_step(f: Callable[[jax.Array], jax.Array], y: jax.Array, h: jax.Array) -> jax.Array:
    """One classical fourth-order Runge-Kutta step."""
    k1 = f(y)
    k2 = f(y + 0.5 * h * k1)
    k3 = f(y + 0.5 * h * k2)
    k4 = f(y + h * k3)
    return y + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)


def _safe_hash(x: Any) -> int:
    try:
        return hash(x)
    except TypeError:  # e.g. diffrax.BacksolveAdjoint holds a dict
        return id(x)


@dataclasses.dataclass(frozen=True, kw_only=True)
class DiffraxSolver:
    """A Diffrax solver with its step-size control, step budget and adjoint.

    Hashable and immutable, so it can sit in a cell's ``solver`` field (cells are static
    configuration). A bare ``diffrax.AbstractSolver`` or a name such as ``"tsit5"`` passed as
    a cell's ``solver`` is wrapped in one with these defaults.

    Args:
        solver: a ``diffrax.AbstractSolver`` instance (``Tsit5()``, ``Dopri5()``,
            ``Dopri8()``, ``Heun()``, ``Kvaerno3()``/``Kvaerno5()`` for stiff regimes, ...).
        rtol: relative tolerance of the PID step-size controller.
        atol: absolute tolerance of the PID step-size controller.
        max_steps: the most solver steps per solve (per interval for a cell's step, per
            sequence for :func:`ltcjax.continuous.odeint_sequence`).
        adjoint: how gradients are computed: ``"recursive"`` (default,
            ``diffrax.RecursiveCheckpointAdjoint``: exact gradients of the discretised
            solve, memory O(log max_steps) checkpoints), ``"backsolve"``
            (``diffrax.BacksolveAdjoint``: solves the adjoint ODE backwards in time; O(1)
            memory but *approximate*: its gradient differs from the true gradient of the
            discrete solve by the solver error), or any ``diffrax.AbstractAdjoint``.
        dt0: the first step (None: Diffrax picks it automatically). Fixed-step solves (a
            solver without an error estimate such as ``diffrax.Euler()``, or
            ``controller=diffrax.ConstantStepSize()``) ignore it inside a cell's step and
            take the cell's ``ode_unfolds`` equal steps per interval.
        controller: a ``diffrax`` step-size controller that replaces the default
            ``PIDController(rtol=rtol, atol=atol)``; ``diffrax.ConstantStepSize()`` turns any
            solver into a fixed-step one (e.g. ``Heun()`` with fixed steps, order 2).
        throw: when a solve fails (e.g. ``max_steps`` exhausted), raise an error (True) or
            return NaN states (False).

    Example:
        >>> import diffrax
        >>> s = DiffraxSolver(solver=diffrax.Tsit5(), rtol=1e-6, atol=1e-8)
        >>> s.name
        'Tsit5'
        >>> hash(s) == hash(DiffraxSolver(solver=diffrax.Tsit5(), rtol=1e-6, atol=1e-8))
        True
    """

    solver: Any
    rtol: float = 1e-3
    atol: float = 1e-6
    max_steps: int = 4096
    adjoint: Any = "recursive"
    dt0: float | None = None
    controller: Any = None
    throw: bool = True

    def __post_init__(self) -> None:
        dfx = _import_diffrax()
        if not isinstance(self.solver, dfx.AbstractSolver):
            raise ValueError(
                f"solver: expected a diffrax.AbstractSolver instance, got {self.solver!r}"
            )
        for name in ("rtol", "atol"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not value > 0:
                raise ValueError(f"{name}: expected a positive number, got {value!r}")
        if isinstance(self.max_steps, bool) or not isinstance(self.max_steps, int):
            raise ValueError(f"max_steps: expected a positive integer, got {self.max_steps!r}")
        if self.max_steps < 1:
            raise ValueError(f"max_steps: expected a positive integer, got {self.max_steps!r}")
        if isinstance(self.adjoint, str):
            if self.adjoint not in ADJOINTS:
                raise ValueError(
                    f"adjoint: expected one of {ADJOINTS} or a diffrax.AbstractAdjoint, "
                    f"got {self.adjoint!r}"
                )
        elif not isinstance(self.adjoint, dfx.AbstractAdjoint):
            raise ValueError(
                f"adjoint: expected one of {ADJOINTS} or a diffrax.AbstractAdjoint, "
                f"got {self.adjoint!r}"
            )
        if self.dt0 is not None and not (isinstance(self.dt0, int | float) and self.dt0 > 0):
            raise ValueError(f"dt0: expected None or a positive number, got {self.dt0!r}")
        if self.controller is not None and not isinstance(
            self.controller, dfx.AbstractStepSizeController
        ):
            raise ValueError(
                "controller: expected None or a diffrax.AbstractStepSizeController, "
                f"got {self.controller!r}"
            )

    def __hash__(self) -> int:
        return hash(tuple(_safe_hash(getattr(self, f.name)) for f in dataclasses.fields(self)))

    @property
    def name(self) -> str:
        """The Diffrax solver's class name, e.g. ``"Tsit5"``."""
        return type(self.solver).__name__

    @property
    def is_adaptive(self) -> bool:
        """Whether steps are chosen adaptively: the solver has an error estimate (so a PID
        controller can drive it) and ``controller`` is not ``diffrax.ConstantStepSize``."""
        dfx = _import_diffrax()
        if isinstance(self.controller, dfx.ConstantStepSize):
            return False
        return isinstance(self.solver, dfx.AbstractAdaptiveSolver)

    def diffrax_adjoint(self) -> Any:
        """The ``diffrax.AbstractAdjoint`` instance for :attr:`adjoint`."""
        dfx = _import_diffrax()
        if self.adjoint == "recursive":
            return dfx.RecursiveCheckpointAdjoint()
        if self.adjoint == "backsolve":
            return dfx.BacksolveAdjoint()
        return self.adjoint

    def diffrax_controller(self, jump_ts: Array | None = None) -> Any:
        """The step-size controller: ``controller`` or ``PIDController(rtol, atol)``, with
        the vector field's discontinuities ``jump_ts`` stepped to exactly if given."""
        dfx = _import_diffrax()
        controller = self.controller
        if controller is None:
            controller = dfx.PIDController(rtol=self.rtol, atol=self.atol)
        if jump_ts is None:
            return controller
        if hasattr(dfx, "ClipStepSizeController"):  # diffrax >= 0.7
            return dfx.ClipStepSizeController(controller, jump_ts=jump_ts)
        return dataclasses.replace(controller, jump_ts=jump_ts)  # pragma: no cover


def _import_diffrax():
    import diffrax

    return diffrax


def _is_diffrax_solver(solver: object) -> bool:
    dfx = sys.modules.get("diffrax")  # a diffrax object implies diffrax is imported
    return dfx is not None and isinstance(solver, dfx.AbstractSolver)


def as_diffrax_solver(solver: object) -> DiffraxSolver | None:
    """``solver`` as a :class:`DiffraxSolver`, or None if it is not a Diffrax solver.

    Accepts a :class:`DiffraxSolver`, a ``diffrax.AbstractSolver`` instance (wrapped with
    the default tolerances) or a name in :data:`DIFFRAX_SOLVER_NAMES`.

    Example:
        >>> as_diffrax_solver("kvaerno5").name
        'Kvaerno5'
        >>> as_diffrax_solver("rk4") is None
        True
    """
    if isinstance(solver, DiffraxSolver):
        return solver
    if _is_diffrax_solver(solver):
        return DiffraxSolver(solver=solver)
    if isinstance(solver, str) and solver in DIFFRAX_SOLVER_NAMES:
        return DiffraxSolver(solver=getattr(_import_diffrax(), DIFFRAX_SOLVER_NAMES[solver])())
    return None


def validate_solver(solver: object, allowed: tuple[str, ...]) -> object:
    """Check a cell's ``solver`` argument and return it in canonical form.

    Accepted: one of the names in ``allowed`` (returned as is), or any Diffrax solver: a
    :class:`DiffraxSolver`, a ``diffrax.AbstractSolver`` instance or a name in
    :data:`DIFFRAX_SOLVER_NAMES` (returned as a :class:`DiffraxSolver`). The one place that
    decides which solvers a continuous-time cell accepts; cells call it from
    ``__post_init__``.

    Example:
        >>> validate_solver("rk4", ("euler", "rk4"))
        'rk4'
        >>> import diffrax
        >>> validate_solver(diffrax.Tsit5(), ("euler", "rk4")).name
        'Tsit5'
    """
    if isinstance(solver, str) and solver in allowed:
        return solver
    wrapped = as_diffrax_solver(solver)
    if wrapped is not None:
        return wrapped
    raise ValueError(
        f"solver: expected one of {allowed}, a Diffrax solver name in "
        f"{tuple(DIFFRAX_SOLVER_NAMES)}, a diffrax.AbstractSolver instance or an "
        f"ltcjax.solvers.DiffraxSolver; got {solver!r}"
    )


def integrate(
    f: Callable[..., jax.Array],
    y: Float[Array, "*batch n"],
    dt: Float[ArrayLike, ...],
    method: Any,
    unfolds: int,
    args: tuple[ArrayLike, ...] | None = None,
) -> Float[Array, "*batch n"]:
    """Advance ``y`` by ``dt`` under ``dy/dt = f(y)`` (or ``f(y, *args)`` if ``args``).

    ``method`` is ``"euler"``/``"rk4"`` (``unfolds`` fixed steps of ``dt / unfolds``) or a
    Diffrax solver (see :func:`diffrax_integrate`). ``dt`` must broadcast against ``y``
    (e.g. shape ``(..., 1)``).

    ``args``: per-example arrays broadcasting to ``y``'s shape (e.g. a cell's input
    currents). With them, the leading axes of ``y`` are a batch of independent problems and
    a Diffrax solver solves each one on its own (its own adaptive steps, its own failure);
    without them a batched ``y`` is one system with shared steps.

    Example:
        >>> import jax.numpy as jnp
        >>> y = integrate(lambda y: -y, jnp.ones(1), jnp.asarray(1.0), "rk4", 10)
        >>> round(float(y[0]), 5)  # exp(-1)
        0.36788
        >>> y = integrate(lambda y: -y, jnp.ones(1), jnp.asarray(1.0), "tsit5", 1)
        >>> round(float(y[0]), 3)
        0.368
        >>> rate = jnp.array([[1.0], [2.0]])  # two problems, dy/dt = -rate * y
        >>> y = integrate(lambda y, r: -r * y, jnp.ones((2, 1)), 1.0, "dopri5", 1, args=(rate,))
        >>> [round(float(v), 2) for v in y[:, 0]]  # exp(-1), exp(-2)
        [0.37, 0.14]
    """
    if isinstance(method, str) and method in FIXED_STEP_METHODS:
        step = {"euler": euler_step, "rk4": rk4_step}[method]
        g = f if args is None else (lambda y: f(y, *args))
        h = jnp.asarray(dt) / unfolds
        for _ in range(unfolds):
            y = step(g, y, h)
        return y
    config = as_diffrax_solver(method)
    if config is None:
        raise ValueError(
            f"method: expected one of {FIXED_STEP_METHODS} or a Diffrax solver, got {method!r}"
        )
    return diffrax_integrate(f, y, dt, config, unfolds, args=args)


def diffrax_integrate(
    f: Callable[..., jax.Array],
    y: Float[Array, "*batch n"],
    dt: Float[ArrayLike, ...],
    config: DiffraxSolver,
    unfolds: int = 1,
    args: tuple[ArrayLike, ...] | None = None,
) -> Float[Array, "*batch n"]:
    """Advance ``y`` by ``dt`` under ``dy/dt = f(y)`` with ``diffrax.diffeqsolve``.

    Time is rescaled to ``s = t / dt`` in [0, 1] (``dy/ds = dt * f(y)``), so ``dt`` may be
    a traced value, zero (the identity: padding stays exact), or an array broadcasting to
    ``y``'s shape. Adaptive solvers are controlled by ``config``'s PID controller; solvers
    without an error estimate (or with ``controller=diffrax.ConstantStepSize()``) take
    ``unfolds`` equal steps. Closed-over arrays in ``f`` are hoisted into the solve's
    ``args``, so ``adjoint="backsolve"`` differentiates with respect to them too.

    Batches. With ``args`` (per-example arrays broadcasting to ``y``'s shape, passed as
    ``f(y, *args)``), every index of ``y``'s leading axes is solved on its own (``vmap``
    of one ``diffeqsolve`` per problem): each problem gets its own adaptive step sizes and
    error norm, and its own failure status, so a batch gives the same result as solving
    each problem alone. Without ``args``, ``y`` is one system: a batched ``y`` shares step
    sizes and error norm, and one failure fails all of it.

    On failure (``max_steps`` exhausted, a non-finite state) this raises if
    ``config.throw`` and otherwise returns NaN (only for the failed problems when solved
    per problem). The status itself is not returned; :func:`ltcjax.continuous.odeint_sequence`
    reports one per sequence.

    Example:
        >>> import diffrax, jax.numpy as jnp
        >>> cfg = DiffraxSolver(solver=diffrax.Dopri5(), rtol=1e-8, atol=1e-10)
        >>> y = diffrax_integrate(lambda y: -y, jnp.ones(1), 2.0, cfg)
        >>> round(float(y[0]), 6)  # exp(-2)
        0.135335
        >>> rate = jnp.array([[1.0], [3.0]])  # two independent problems
        >>> y = diffrax_integrate(lambda y, r: -r * y, jnp.ones((2, 1)), 1.0, cfg, args=(rate,))
        >>> [round(float(v), 6) for v in y[:, 0]]  # exp(-1), exp(-3)
        [0.367879, 0.049787]
    """
    y = jnp.asarray(y)
    dt = jnp.asarray(dt, y.dtype)
    if args is None:
        return _diffrax_solve(f, y, dt, config, unfolds)
    if y.ndim == 0:
        raise ValueError("y: expected at least one axis (the state), got a scalar")
    args = tuple(jnp.asarray(a) for a in args)
    for k, a in enumerate(args):
        try:
            jnp.broadcast_shapes(a.shape, y.shape)
        except ValueError:
            raise ValueError(
                f"args[{k}]: expected an array broadcasting to y's shape {y.shape}, "
                f"got shape {a.shape}"
            ) from None
    shape = jnp.broadcast_shapes(y.shape, dt.shape, *(a.shape for a in args))
    if shape != y.shape:
        raise ValueError(f"dt: expected a shape broadcasting to y's {y.shape}, got {dt.shape}")

    def solve_one(y, dt, *args):
        return _diffrax_solve(lambda y: f(y, *args), y, dt, config, unfolds)

    for _ in range(y.ndim - 1):  # one solve per index of the leading (batch) axes
        solve_one = jax.vmap(solve_one)
    return solve_one(y, jnp.broadcast_to(dt, shape), *(jnp.broadcast_to(a, shape) for a in args))


def _diffrax_solve(
    f: Callable[[jax.Array], jax.Array], y: jax.Array, dt: jax.Array, config, unfolds: int
) -> jax.Array:
    """One ``diffeqsolve`` of ``dy/ds = dt * f(y)`` over s in [0, 1]; NaN on failure unless
    ``config.throw``."""
    dfx = _import_diffrax()
    f_closed, consts = jax.closure_convert(f, y)

    def vector_field(s, y, args):
        dt, consts = args
        return dt * f_closed(y, *consts)

    if config.is_adaptive:
        controller, dt0 = config.diffrax_controller(), None
        if config.dt0 is not None:  # a first step in real time: a fraction of the interval
            span = jnp.max(jnp.abs(dt))
            dt0 = jnp.where(span > 0, jnp.minimum(config.dt0 / jnp.where(span > 0, span, 1), 1), 1)
    else:
        controller, dt0 = dfx.ConstantStepSize(), 1.0 / unfolds
    zero, one = jnp.zeros((), y.dtype), jnp.ones((), y.dtype)
    sol = dfx.diffeqsolve(
        dfx.ODETerm(vector_field),
        config.solver,
        zero,
        one,
        None if dt0 is None else jnp.asarray(dt0, y.dtype),
        y,
        (dt, tuple(consts)),
        saveat=dfx.SaveAt(t1=True),
        stepsize_controller=controller,
        adjoint=config.diffrax_adjoint(),
        max_steps=config.max_steps,
        throw=config.throw,
    )
    y1 = sol.ys[0]
    if config.throw:
        return y1
    return jnp.where(sol.result == dfx.RESULTS.successful, y1, jnp.nan)
