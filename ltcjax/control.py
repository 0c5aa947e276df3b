"""Low-latency steps for control loops: one observation in, one action out.

:func:`compile_step` folds a cell's parameters into one compiled step, so that each call
passes only the state and the new observation. XLA then sees the parameters as constants
and does the work that depends on them alone (the softplus of positive parameters, the
synapses' folded weights, the sparsity masks) once, at compile time, instead of at every
call: on the 2-core CPU of ``benchmarks/bench_ltc.py`` a batch-1 step of an AutoNCP(64, 1)
LTC takes a third of the time of a jitted ``cell.step_batch`` with the parameters as
arguments. Build a new one after the parameters change (training): each build compiles.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from ltcjax.cell import RecurrentCell, checked_step
from ltcjax.custom_types import PyTree
from ltcjax.precision import Precision
from ltcjax.sequence import resolve_precision
from ltcjax.validation import argument_error, check_dt

__all__ = ["CompiledStep", "compile_step"]


@dataclasses.dataclass(frozen=True, eq=False)
class CompiledStep:
    """A cell's step with its parameters folded in, compiled for one batch shape (see
    :func:`compile_step`). Call it as ``state, y = step(state, x)`` (or ``step(state, x,
    dt)`` when it was built without a fixed ``dt``)."""

    cell: RecurrentCell
    batch_shape: tuple[int, ...]
    dt: float | None
    state_dtype: Any
    run: Callable[..., tuple[PyTree, Array]] = dataclasses.field(repr=False)

    def initial_state(self) -> PyTree:
        """The cell's initial state for this step's batch shape."""
        return self.cell.initial_state(self.batch_shape, self.state_dtype)

    def __call__(
        self,
        state: PyTree,
        x: Float[ArrayLike, "*batch features"],
        dt: Float[ArrayLike, "*batch"] | float | None = None,
    ) -> tuple[PyTree, Float[Array, "*batch outputs"]]:
        if self.dt is None:
            if dt is None:
                raise argument_error("dt", "the elapsed time (no fixed dt was compiled in)", None)
            return self.run(state, x, dt)
        if dt is not None:
            raise argument_error("dt", f"None (this step has dt={self.dt} compiled in)", dt)
        return self.run(state, x)


def compile_step(
    cell: RecurrentCell,
    params: PyTree,
    *,
    batch_shape: tuple[int, ...] = (),
    dt: float | None = 1.0,
    precision: Precision | str | None = None,
) -> CompiledStep:
    """Compile ``cell``'s step with ``params`` folded in, for inputs of ``batch_shape``.

    Args:
        cell: any recurrent cell.
        params: its parameters (checked once, here).
        batch_shape: leading axes of ``x``: ``()`` for one system (``x`` of shape
            ``(input_size,)``), ``(1,)`` for a batch of one, ``(B,)`` for B systems.
        dt: the elapsed time between observations, compiled in and checked once (a fixed
            control rate); None: pass ``dt`` at each call (then checked at each call
            unless :func:`ltcjax.runtime_checks` is off).
        precision: as in :func:`ltcjax.unroll`.

    Returns:
        A :class:`CompiledStep`; it is compiled before this returns, so that the first
        control step is as fast as the others. ``x`` of another shape is an error naming
        ``x``, a state of another shape one naming ``state``.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from ltcjax import AutoNCP, LTCCell
        >>> cell = LTCCell(input_size=8, wiring=AutoNCP(19, 1))
        >>> step = compile_step(cell, cell.init(jax.random.key(0)), dt=0.05)
        >>> state = step.initial_state()
        >>> for observation in jnp.ones((3, 8)):
        ...     state, action = step(state, observation)
        >>> action.shape
        (1,)
    """
    if not isinstance(cell, RecurrentCell):
        raise argument_error("cell", "a recurrent cell (e.g. LTCCell)", type(cell).__name__)
    batch_shape = tuple(int(b) for b in batch_shape)
    params, state_dtype, _ = resolve_precision(cell, params, precision)
    params = jax.tree.map(jnp.asarray, params)
    x_shape = (*batch_shape, cell.input_size)

    def step(state: PyTree, x: Array, dt: Any) -> tuple[PyTree, Array]:
        if jnp.shape(x) != x_shape:
            raise argument_error("x", f"shape {x_shape} (compiled for it)", jnp.shape(x))
        return checked_step(cell, params, state, x, dt, precision=precision)

    if dt is None:
        run = jax.jit(step)
        example_dt: tuple[Array, ...] = (jnp.ones(batch_shape, state_dtype),)
    else:
        check_dt(dt)
        fixed = dt = float(dt)
        run = jax.jit(lambda state, x: step(state, x, fixed))
        example_dt = ()
    compiled = CompiledStep(cell, batch_shape, dt, state_dtype, run)
    jax.block_until_ready(
        run(compiled.initial_state(), jnp.zeros(x_shape, state_dtype), *example_dt)
    )
    return compiled
