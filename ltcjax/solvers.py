"""One solver vocabulary: how a continuous-time cell advances over an observation interval.

A solver is a small immutable value object (equal configurations are equal and hash
equally, so a cell holding one stays a valid static argument of ``jit``):

* :class:`Fused`: the paper's fused semi-implicit step (the LTC only): ``ode_unfolds``
  sub-steps, state bounded by construction, hand-written O(B * N) derivative;
* :class:`Euler`, :class:`RK4`: ``ode_unfolds`` explicit steps of ``dt / ode_unfolds``;
* :class:`DiffraxSolver`: a Diffrax solver with its step-size controller, tolerances,
  ``max_steps``, adjoint and ``throw``.

Shorthands are accepted wherever a solver is and normalise through :func:`as_solver`:
``"fused"``, ``"euler"``, ``"rk4"``, a Diffrax name from :data:`DIFFRAX_SOLVER_NAMES`
(``"tsit5"``, ``"kvaerno5"``, MATLAB's ``"ode45"``, ...) or a bare
``diffrax.AbstractSolver`` instance. The number of fixed steps stays the cell's
``ode_unfolds`` (ncps's name). Only Diffrax's public API is used, and Diffrax is imported
lazily (only when a Diffrax solver is used), so the core stays free of it.

Example:
    >>> as_solver("rk4")
    RK4()
    >>> import diffrax
    >>> as_solver(diffrax.Tsit5()) == as_solver("tsit5")
    True
"""

from __future__ import annotations

import abc
import dataclasses
import sys
from collections.abc import Callable
from typing import Any, ClassVar

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from ltcjax.validation import (
    argument_error,
    check_choice,
    check_positive_int,
    check_positive_number,
)

__all__ = [
    "DIFFRAX_SOLVER_NAMES",
    "SOLVER_NAMES",
    "DiffraxSolver",
    "Euler",
    "Fused",
    "RK4",
    "Solver",
    "as_diffrax_solver",
    "as_solver",
    "diffrax_integrate",
    "euler_step",
    "integrate",
    "rk4_step",
    "validate_solver",
]

#: Names accepted wherever a solver is, mapped to the Diffrax solver class they build
#: (``ode45``/``rk45`` and ``ode23``/``rk23`` are MATLAB's names for the same methods).
DIFFRAX_SOLVER_NAMES: dict[str, str] = {
    "tsit5": "Tsit5",
    "dopri5": "Dopri5",
    "rk45": "Dopri5",
    "ode45": "Dopri5",
    "dopri8": "Dopri8",
    "heun": "Heun",
    "bosh3": "Bosh3",
    "rk23": "Bosh3",
    "ode23": "Bosh3",
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


class Solver(abc.ABC):
    """The interface of every solver: integrate ``dy/dt = f(y, *args)`` over ``dt``.

    Subclasses are frozen dataclasses (value objects). ``remat_by_default`` says whether
    :func:`ltcjax.unroll` should rematerialise each step when this solver is used (False
    only where the solver's derivative already keeps small residuals).
    """

    #: Whether a cell using this solver rematerialises each step by default.
    remat_by_default: ClassVar[bool] = True
    #: Whether the solver needs the cell's semi-implicit (fused) form, not a vector field.
    needs_fused_form: ClassVar[bool] = False

    @property
    def name(self) -> str:
        """A short readable name, e.g. ``"RK4"`` or ``"Tsit5"``."""
        return type(self).__name__

    @abc.abstractmethod
    def integrate(
        self,
        f: Callable[..., jax.Array],
        y: Float[Array, "*batch n"],
        dt: Float[ArrayLike, ...],
        unfolds: int,
        args: tuple[ArrayLike, ...] | None = None,
    ) -> Float[Array, "*batch n"]:
        """Advance ``y`` by ``dt`` under ``dy/dt = f(y)`` (``f(y, *args)`` with ``args``)."""


@dataclasses.dataclass(frozen=True)
class _FixedStep(Solver):
    """``unfolds`` explicit steps of ``dt / unfolds`` with :attr:`step_rule`."""

    step_rule: ClassVar[Callable[..., jax.Array]]

    def integrate(self, f, y, dt, unfolds, args=None):
        g = f if args is None else (lambda y: f(y, *args))
        h = jnp.asarray(dt) / unfolds
        for _ in range(unfolds):
            y = type(self).step_rule(g, y, h)
        return y

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


@dataclasses.dataclass(frozen=True)
class Euler(_FixedStep):
    """Explicit Euler: ``ode_unfolds`` steps of ``dt / ode_unfolds`` (the CT-RNN's default).

    Example:
        >>> import jax.numpy as jnp
        >>> y = Euler().integrate(lambda y: -y, jnp.ones(1), 1.0, 2)
        >>> float(y[0])  # (1 - 1/2)^2
        0.25
    """

    step_rule: ClassVar[Callable[..., jax.Array]] = staticmethod(euler_step)


@dataclasses.dataclass(frozen=True)
class RK4(_FixedStep):
    """Classical Runge-Kutta 4: ``ode_unfolds`` steps of ``dt / ode_unfolds``.

    Example:
        >>> import jax.numpy as jnp
        >>> y = RK4().integrate(lambda y: -y, jnp.ones(1), 1.0, 10)
        >>> round(float(y[0]), 5)  # exp(-1)
        0.36788
    """

    step_rule: ClassVar[Callable[..., jax.Array]] = staticmethod(rk4_step)


@dataclasses.dataclass(frozen=True)
class Fused(Solver):
    """The LTC paper's fused semi-implicit solver (Eq. 3): ``ode_unfolds`` sub-steps.

    It needs the cell's semi-implicit form (:meth:`ltcjax.cell.ContinuousTimeCell.fused_solve`,
    defined by the LTC), not a generic vector field, so :meth:`integrate` raises.

    Example:
        >>> Fused() == as_solver("fused")
        True
    """

    remat_by_default: ClassVar[bool] = False
    needs_fused_form: ClassVar[bool] = True

    def integrate(self, f, y, dt, unfolds, args=None):
        raise argument_error(
            "solver",
            "Euler(), RK4() or a Diffrax solver to integrate a generic vector field (the fused "
            "solver advances a cell's semi-implicit form)",
            "Fused()",
        )

    def __repr__(self) -> str:
        return "Fused()"


def _hash_part(x: Any) -> int:
    """A hash consistent with ``==`` for fields that may be unhashable: equal Diffrax
    objects that cannot be hashed (``BacksolveAdjoint`` holds a dict) hash by type."""
    try:
        return hash(x)
    except TypeError:
        return hash(type(x).__qualname__)


@dataclasses.dataclass(frozen=True, kw_only=True)
class DiffraxSolver(Solver):
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
            raise argument_error("solver", "a diffrax.AbstractSolver instance", repr(self.solver))
        check_positive_number("rtol", self.rtol)
        check_positive_number("atol", self.atol)
        check_positive_int("max_steps", self.max_steps)
        if isinstance(self.adjoint, str):
            check_choice("adjoint", self.adjoint, ADJOINTS)
        elif not isinstance(self.adjoint, dfx.AbstractAdjoint):
            raise argument_error(
                "adjoint", f"one of {ADJOINTS} or a diffrax.AbstractAdjoint", repr(self.adjoint)
            )
        check_positive_number("dt0", self.dt0, allow_none=True)
        if self.controller is not None and not isinstance(
            self.controller, dfx.AbstractStepSizeController
        ):
            raise argument_error(
                "controller", "None or a diffrax.AbstractStepSizeController", repr(self.controller)
            )

    def integrate(self, f, y, dt, unfolds, args=None):
        """Advance ``y`` by ``dt``: :func:`diffrax_integrate` with this configuration."""
        return diffrax_integrate(f, y, dt, self, unfolds, args=args)

    def __hash__(self) -> int:
        return hash(tuple(_hash_part(getattr(self, f.name)) for f in dataclasses.fields(self)))

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


#: Shorthand names of ltcjax's own solvers.
SOLVER_NAMES: dict[str, type[Solver]] = {"fused": Fused, "euler": Euler, "rk4": RK4}


def as_solver(solver: object) -> Solver:
    """Normalise a solver or shorthand to a :class:`Solver` value object.

    Accepted: a :class:`Solver`; ``"fused"``, ``"euler"``, ``"rk4"``; a name in
    :data:`DIFFRAX_SOLVER_NAMES`; a ``diffrax.AbstractSolver`` instance (wrapped in a
    :class:`DiffraxSolver` with the default tolerances).

    Example:
        >>> as_solver("euler")
        Euler()
        >>> as_solver("kvaerno5").name
        'Kvaerno5'
        >>> as_solver("rk5")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: solver: expected one of ('fused', 'euler', 'rk4'), a Diffrax solver ...
    """
    if isinstance(solver, Solver):
        return solver
    if isinstance(solver, str) and solver.lower() in SOLVER_NAMES:
        return SOLVER_NAMES[solver.lower()]()
    wrapped = as_diffrax_solver(solver)
    if wrapped is not None:
        return wrapped
    raise argument_error(
        "solver",
        f"one of {tuple(SOLVER_NAMES)}, a Diffrax solver name in "
        f"{tuple(DIFFRAX_SOLVER_NAMES)}, a diffrax.AbstractSolver instance or an "
        "ltcjax.solvers.Solver (Fused(), Euler(), RK4(), DiffraxSolver(...))",
        repr(solver),
    )


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
    if isinstance(solver, str) and solver.lower() in DIFFRAX_SOLVER_NAMES:
        cls = getattr(_import_diffrax(), DIFFRAX_SOLVER_NAMES[solver.lower()])
        return DiffraxSolver(solver=cls())
    return None


def validate_solver(solver: object, allowed: tuple[str, ...]) -> Solver:
    """Deprecated: use :func:`as_solver` (cells check what they support themselves).

    Normalises ``solver`` and raises unless it is a Diffrax solver or one of the
    shorthand names in ``allowed``.

    Example:
        >>> validate_solver("rk4", ("euler", "rk4"))
        RK4()
    """
    if isinstance(solver, str) and solver.lower() in SOLVER_NAMES and solver not in allowed:
        raise argument_error(
            "solver",
            f"one of {allowed} or a Diffrax solver (a name in {tuple(DIFFRAX_SOLVER_NAMES)}, "
            "a diffrax.AbstractSolver instance or an ltcjax.solvers.DiffraxSolver)",
            repr(solver),
        )
    if isinstance(solver, str) and solver not in allowed and as_diffrax_solver(solver) is None:
        raise argument_error(
            "solver",
            f"one of {allowed}, a Diffrax solver name in {tuple(DIFFRAX_SOLVER_NAMES)}, a "
            "diffrax.AbstractSolver instance or an ltcjax.solvers.DiffraxSolver",
            repr(solver),
        )
    return as_solver(solver)


def integrate(
    f: Callable[..., jax.Array],
    y: Float[Array, "*batch n"],
    dt: Float[ArrayLike, ...],
    method: Any,
    unfolds: int,
    args: tuple[ArrayLike, ...] | None = None,
) -> Float[Array, "*batch n"]:
    """Advance ``y`` by ``dt`` under ``dy/dt = f(y)`` (or ``f(y, *args)`` if ``args``).

    ``method`` is any solver or shorthand accepted by :func:`as_solver` (but not the fused
    solver, which needs a cell's semi-implicit form); this is ``as_solver(method).integrate``.
    ``dt`` must broadcast against ``y`` (e.g. shape ``(..., 1)``).

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
    return as_solver(method).integrate(f, y, dt, unfolds, args)


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
