"""The interfaces every model implements: :class:`RecurrentCell` and :class:`ContinuousTimeCell`.

A cell is an immutable, hashable configuration object (a frozen dataclass) with pure
functions over parameter pytrees. It never holds arrays, so a cell can be closed over by
``jax.jit`` or passed as a static argument; randomness (dropout) arrives as a ``key``.

A :class:`RecurrentCell` implements, for a single (unbatched) example:

* ``init(key) -> params``: a pytree of parameters;
* ``state_size``, ``output_size``: sizes;
* ``step(params, state, x, dt, *, key=None) -> (state, y)``: advance by one observation,
  where ``x`` has shape ``(input_size,)`` and ``dt`` is the elapsed time (a scalar);

and inherits ``initial_state``, ``apply`` (sequences, batches, elapsed times, masks, see
:func:`ltcjax.unroll`), ``step_batch`` (streaming), ``project`` and ``num_params``.

A :class:`ContinuousTimeCell` instead implements ``vector_field(params, state, x)`` and has
``solver`` and ``ode_unfolds`` fields: its ``step`` integrates the vector field over ``dt``
with the solver (:mod:`ltcjax.solvers`), and it also runs in
:func:`ltcjax.continuous.odeint_sequence`. A new model is one file: see docs/design.md.
"""

from __future__ import annotations

import abc
import dataclasses
import math
from collections.abc import Callable
from typing import Any, ClassVar

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from ltcjax.custom_types import Dim, PyTree
from ltcjax.deprecation import warn_renamed
from ltcjax.precision import Precision, cast_floating
from ltcjax.sequence import resolve_precision, step_compute_dtype, unroll
from ltcjax.solvers import as_solver
from ltcjax.validation import (
    argument_error,
    check_dt,
    check_last_axis,
    check_state,
)

__all__ = ["ContinuousTimeCell", "RecurrentCell", "checked_step", "step_any_batch"]


class RecurrentCell(abc.ABC):
    """The interface of all pure recurrent cells.

    Subclasses are frozen dataclasses with an ``input_size`` field; they implement
    ``state_size``, ``output_size``, ``init`` and ``step``.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from ltcjax import LTCCell
        >>> cell = LTCCell(units=8, input_size=3)
        >>> params = cell.init(jax.random.key(0))
        >>> ys, state = cell.apply(params, jnp.ones((2, 5, 3)))
        >>> ys.shape, state.shape
        ((2, 5, 8), (2, 8))
    """

    input_size: int
    #: Whether ``step`` uses the elapsed time ``dt``. Discrete-time cells ignore it.
    uses_time: ClassVar[bool] = True
    #: Whether ``step`` broadcasts over leading batch axes of ``state`` and ``x`` (then
    #: :func:`ltcjax.unroll` calls it on the whole batch instead of ``vmap``-ing it; the
    #: LTC's hand-written derivative then sees the batch at once).
    broadcasts_batch: ClassVar[bool] = False

    # -- what a model defines -------------------------------------------------------------
    @property
    @abc.abstractmethod
    def state_size(self) -> int:
        """Size of the (flat) state."""

    @property
    @abc.abstractmethod
    def output_size(self) -> int:
        """Size of each output."""

    @abc.abstractmethod
    def init(self, key: jax.Array, dtype: Any = jnp.float32) -> PyTree:
        """Draw initial parameters (a pytree)."""

    @abc.abstractmethod
    def step(
        self,
        params: PyTree,
        state: PyTree,
        x: Float[ArrayLike, "*batch features"],
        dt: Float[ArrayLike, "*batch"],
        *,
        key: jax.Array | None = None,
    ) -> tuple[PyTree, Float[Array, "*batch outputs"]]:
        """Advance one observation: ``(state, y) = step(params, state, x, dt)``.

        ``key`` is a PRNG key for a stochastic step (dropout; training mode); None is
        deterministic. Cells without randomness ignore it.
        """

    # -- what a model may refine ----------------------------------------------------------
    @property
    def is_stochastic(self) -> bool:
        """Whether ``step`` draws random numbers from its ``key`` (e.g. dropout)."""
        return False

    @property
    def remat_by_default(self) -> bool:
        """Whether :func:`ltcjax.unroll` rematerialises each step by default.

        True unless the cell's step has a derivative whose residuals are already small
        (the LTC's fused solver), where recomputing the forward pass only costs time.
        """
        return True

    def initial_state(self, batch_shape: tuple[Dim, ...] = (), dtype: Any = jnp.float32) -> PyTree:
        """Zero state: an array of shape ``batch_shape + (state_size,)``."""
        return jnp.zeros((*batch_shape, self.state_size), dtype)

    def with_solver(self, solver: Any) -> RecurrentCell:
        """This cell with another solver; only continuous-time cells have one."""
        raise argument_error(
            "solver",
            "None for a discrete-time cell",
            f"{solver!r} ({type(self).__name__} has no solver to choose)",
        )

    def project(self, params: PyTree) -> PyTree:
        """Project ``params`` onto the cell's constraint set after an optimiser update
        (identity unless the cell has a constraint, e.g. ``LTCCell(constraint="clip")``)."""
        return params

    def sequence_kernel(self) -> Callable[..., tuple[Array, PyTree]] | None:
        """A function that runs a whole batch of sequences at once, or None (default): then
        :func:`ltcjax.unroll` scans :meth:`step_many`. Called as ``f(params, state, inputs,
        timespans, valid) -> (outputs, final_state)`` with inputs (B, T, F), timespans
        (B, T), valid (B, T) or None, outputs (B, T, O) holding the last valid output at
        padded steps (the LTC's fused solver: the Pallas kernel or a scan with the
        state-independent terms hoisted out of it)."""
        return None

    # -- what every cell inherits ---------------------------------------------------------
    def step_batch(
        self,
        params: PyTree,
        state: PyTree,
        x: Float[ArrayLike, "batch features"],
        dt: Float[ArrayLike, "*batch"] | Float[ArrayLike, ""] | float = 1.0,
        *,
        key: jax.Array | None = None,
        precision: Precision | str | None = None,
    ) -> tuple[PyTree, Float[Array, "batch outputs"]]:
        """One checked step for a batch: ``x`` of shape (B, F), ``dt`` scalar or (B,).

        This is the streaming / online entry point (control loops): call it once per new
        observation, carrying the state. ``state`` must be shaped like
        ``cell.initial_state((B,))``; ``dt`` must be finite and >= 0 (checked at run time
        under ``jit``, see :func:`ltcjax.runtime_checks`), otherwise a ValueError names the
        argument. ``key`` (stochastic cells) is split over the batch; ``precision`` as in
        :func:`ltcjax.unroll`.

        Example:
            >>> import jax, jax.numpy as jnp
            >>> from ltcjax import LTCCell
            >>> cell = LTCCell(units=4, input_size=2)
            >>> params = cell.init(jax.random.key(0))
            >>> state = cell.initial_state((3,))
            >>> state, y = cell.step_batch(params, state, jnp.zeros((3, 2)), 0.1)
            >>> y.shape
            (3, 4)
        """
        if jnp.ndim(x) != 2 or jnp.shape(x)[-1] != self.input_size:
            raise argument_error("x", f"shape (batch, {self.input_size})", jnp.shape(x))
        return checked_step(self, params, state, x, dt, key=key, precision=precision)

    def step_many(
        self,
        params: PyTree,
        state: PyTree,
        x: Float[Array, "batch features"],
        dt: Float[Array, " batch"],
        keys: jax.Array | None = None,
    ) -> tuple[PyTree, Float[Array, "batch outputs"]]:
        """Unchecked ``step`` over a leading batch axis (one PRNG key per row, or None):
        the inner loop of :func:`ltcjax.unroll`. Calls ``step`` on the whole batch if the
        cell :attr:`broadcasts_batch`, else ``vmap``-s it."""
        if self.broadcasts_batch and keys is None:
            return self.step(params, state, x, dt)

        def one(state, x, dt, key):
            return self.step(params, state, x, dt, key=key)

        return jax.vmap(one, in_axes=(0, 0, 0, None if keys is None else 0))(state, x, dt, keys)

    def batched_step(self, params: PyTree, state: PyTree, x: jax.Array, dt: jax.Array):
        """Deprecated alias of :meth:`step_many` (removed in 0.3)."""
        warn_renamed("RecurrentCell.batched_step", "RecurrentCell.step_many")
        return self.step_many(params, state, x, dt)

    def apply(
        self, params: PyTree, inputs: Float[ArrayLike, "*batch time features"], **kwargs: Any
    ) -> tuple[Array, PyTree]:
        """Run the cell over a sequence; see :func:`ltcjax.unroll` for the arguments."""
        return unroll(self, params, inputs, **kwargs)

    def num_params(self, params: PyTree) -> int:
        """Number of scalar parameters (leaves of ``params``)."""
        return int(sum(math.prod(leaf.shape) for leaf in jax.tree.leaves(params)))


class ContinuousTimeCell(RecurrentCell):
    """A cell defined by an ODE ``d state/dt = vector_field(params, state, x)`` and a solver.

    Subclasses are frozen dataclasses with ``solver`` and ``ode_unfolds`` fields and call
    :meth:`normalise_solver` in ``__post_init__``. They implement ``vector_field``; the
    inherited ``step`` is ``solve`` then ``readout``, and ``solve`` dispatches to the solver
    object (:class:`ltcjax.solvers.Solver`): a generic solver integrates
    :meth:`interval_field`, the fused solver calls :meth:`fused_solve`.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from ltcjax import CTRNNCell
        >>> cell = CTRNNCell(input_size=2, units=3, solver="rk4")
        >>> p = cell.init(jax.random.key(0))
        >>> h, y = cell.step(p, jnp.zeros(3), jnp.ones(2), 0.5)
        >>> h.shape, bool(jnp.all(h == y))
        ((3,), True)
    """

    solver: Any
    ode_unfolds: int

    @abc.abstractmethod
    def vector_field(
        self, params: PyTree, state: Float[Array, "*batch n"], x: Float[ArrayLike, "*batch f"]
    ) -> Float[Array, "*batch n"]:
        """``d state / dt`` at ``state`` for the raw input ``x`` (held over the interval)."""

    # -- refinements ----------------------------------------------------------------------
    @property
    def remat_by_default(self) -> bool:
        return self.solver.remat_by_default

    def with_solver(self, solver: Any) -> ContinuousTimeCell:
        """This cell with ``solver`` (any solver or shorthand of :func:`ltcjax.solvers.as_solver`).

        Example:
            >>> from ltcjax import LTCCell
            >>> LTCCell(input_size=1, units=2).with_solver("rk4").solver
            RK4()
        """
        return dataclasses.replace(self, solver=solver)

    def normalise_solver(self) -> None:
        """Replace a shorthand ``solver`` field by its value object (for ``__post_init__``)
        and check that the cell supports it."""
        solver = as_solver(self.solver)
        if solver.needs_fused_form and not self.has_fused_form:
            raise argument_error(
                "solver",
                f"Euler(), RK4() or a Diffrax solver ({type(self).__name__} has no fused "
                "semi-implicit form)",
                repr(self.solver),
            )
        object.__setattr__(self, "solver", solver)

    @property
    def state_follows_ode(self) -> bool:
        """Whether the state evolves by the ODE alone (no discrete update at observations),
        so that :func:`ltcjax.continuous.odeint_sequence` can solve whole sequences."""
        return True

    @property
    def has_fused_form(self) -> bool:
        """Whether the cell implements :meth:`fused_solve` (the LTC does)."""
        return type(self).fused_solve is not ContinuousTimeCell.fused_solve

    def interval_field(
        self, params: PyTree, x: Float[ArrayLike, "*batch f"]
    ) -> tuple[Callable[..., Array], tuple[Array, ...] | None]:
        """The vector field for one interval with the input held at ``x``, as
        ``(f, args)`` with ``d state/dt = f(state, *args)``.

        ``args`` are per-example arrays broadcasting to the state (None: ``f(state)``); with
        them a Diffrax solver solves each example of a batch alone. The default closes over
        ``x``; the LTC passes its sensory currents as ``args``.
        """
        return (lambda state: self.vector_field(params, state, x)), None

    def fused_solve(
        self,
        params: PyTree,
        state: Float[Array, "*batch n"],
        x: Float[ArrayLike, "*batch f"],
        dt: Float[ArrayLike, "*batch"],
    ) -> Float[Array, "*batch n"]:
        """The semi-implicit (fused) solve over ``dt``; only cells with that form define it."""
        raise argument_error(
            "solver", "a solver the cell supports", f"Fused() for {type(self).__name__}"
        )

    def solve(
        self,
        params: PyTree,
        state: Float[Array, "*batch n"],
        x: Float[ArrayLike, "*batch f"],
        dt: Float[ArrayLike, "*batch"],
    ) -> Float[Array, "*batch n"]:
        """Integrate the ODE over the interval ``dt`` with the input held at ``x``."""
        if self.solver.needs_fused_form:
            return self.fused_solve(params, state, x, dt)
        f, args = self.interval_field(params, x)
        dt = jnp.asarray(dt, state.dtype)[..., None]
        return self.solver.integrate(f, state, dt, self.ode_unfolds, args)

    def readout(
        self, params: PyTree, state: Float[Array, "*batch n"], x: Float[ArrayLike, "*batch f"]
    ) -> Float[Array, "*batch outputs"]:
        """The output read from ``state`` (default: the state itself)."""
        return state

    def step(self, params, state, x, dt, *, key=None):
        """Advance one observation: :meth:`solve` over ``dt``, then :meth:`readout`."""
        del key
        state = self.solve(params, state, x, dt)
        return state, self.readout(params, state, x)


def step_any_batch(
    cell: RecurrentCell,
    params: PyTree,
    state: PyTree,
    x: Float[Array, "*batch features"],
    dt: Float[Array, "*batch"],
    keys: jax.Array | None = None,
) -> tuple[PyTree, Float[Array, "*batch outputs"]]:
    """Unchecked ``cell.step`` over any number of leading batch axes of ``x`` (and of
    ``state``); ``dt`` (and ``keys``, one PRNG key per row, if given) have the batch shape."""
    batch_shape = x.shape[:-1]
    flat = lambda a: a.reshape(-1, *a.shape[len(batch_shape) :])  # noqa: E731
    flat_keys = None if keys is None else keys.reshape(-1)
    state, y = cell.step_many(params, jax.tree.map(flat, state), flat(x), dt.reshape(-1), flat_keys)
    unflat = lambda a: a.reshape(*batch_shape, *a.shape[1:])  # noqa: E731
    return jax.tree.map(unflat, state), unflat(y)


def checked_step(
    cell: RecurrentCell,
    params: PyTree,
    state: PyTree,
    x: Float[ArrayLike, "*batch features"],
    dt: Float[ArrayLike, "*batch"] | Float[ArrayLike, ""] | float = 1.0,
    *,
    key: jax.Array | None = None,
    precision: Precision | str | None = None,
) -> tuple[PyTree, Float[Array, "*batch outputs"]]:
    """One checked step: ``state, y = checked_step(cell, params, state, x, dt)``.

    ``x`` has shape ``(input_size,)`` or ``(*batch, input_size)``; ``state`` is shaped like
    ``cell.initial_state(batch)``; ``dt`` is a scalar or has shape ``batch`` and must be
    finite and >= 0 (at run time under ``jit``); ``params`` must come from ``cell.init``.
    Otherwise a ValueError names ``x``, ``state``, ``dt`` or ``params``. ``key``
    (stochastic cells) is split over the batch. The new state has the dtype of ``state``;
    ``precision`` (a :class:`ltcjax.Precision` or its name) may set the arithmetic's. This is
    ``cell.step_batch`` without its restriction to one batch axis, and every framework
    adapter's ``Recurrent.step``.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from ltcjax import LTCCell
        >>> cell = LTCCell(input_size=2, units=4)
        >>> params = cell.init(jax.random.key(0))
        >>> state, y = checked_step(cell, params, cell.initial_state(), jnp.ones(2), 0.5)
        >>> y.shape
        (4,)
        >>> checked_step(cell, params, cell.initial_state(), jnp.ones((3, 2)))
        Traceback (most recent call last):
        ...
        ValueError: state: expected shape (3, 4) (batch shape (3,) of x, state_size 4), got (4,)
    """
    x = jnp.asarray(x)
    check_last_axis("x", x, cell.input_size, "input_size features")
    batch_shape = x.shape[:-1]
    params, dtype, compute = resolve_precision(cell, params, precision)
    check_state(cell, state, batch_shape, dtype, f"batch shape {batch_shape} of x")
    if jnp.shape(dt) not in ((), batch_shape):
        raise argument_error("dt", f"a scalar or shape {batch_shape} (from x)", jnp.shape(dt))
    check_dt(dt)
    state_compute = step_compute_dtype(cell, compute)
    dt = jnp.broadcast_to(jnp.asarray(dt, state_compute or dtype), batch_shape)
    if jnp.issubdtype(x.dtype, jnp.floating):
        x = x.astype(compute or dtype)
    keys = None
    if key is not None:
        keys = jax.random.split(key, math.prod(batch_shape)).reshape(batch_shape)
    new_state, y = step_any_batch(cell, params, cast_floating(state, state_compute), x, dt, keys)
    new_state = jax.tree.map(lambda new, old: new.astype(jnp.result_type(old)), new_state, state)
    return new_state, y
