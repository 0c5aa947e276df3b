"""The step logic the three framework adapters share (:mod:`ltcjax.nn.nnx`,
:mod:`ltcjax.nn.linen`, :mod:`ltcjax.nn.equinox`); it imports no framework.

* :func:`checked_step`: the contract of every adapter's ``Recurrent.step`` (and of the
  Equinox ``Cell``): ``x`` of shape ``(input_size,)`` or with any leading batch axes, the
  state with the same axes, ``dt`` a scalar or of the batch shape; errors name ``x``,
  ``dt`` or ``state``.
* :func:`step_any_batch`: the same step unchecked, for the ``Cell`` inside ``nnx.RNN`` /
  ``nn.RNN``;
* :func:`split_time_channel`: a ``Cell``'s inputs with the elapsed time as the last channel.

Example:
    >>> import jax, jax.numpy as jnp
    >>> from ltcjax import LTCCell
    >>> cell = LTCCell(input_size=2, units=4)
    >>> params = cell.init(jax.random.key(0))
    >>> state, y = checked_step(cell, params, cell.initial_state((5, 3)), jnp.ones((5, 3, 2)))
    >>> y.shape
    (5, 3, 4)
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from ltcjax.cell import RecurrentCell
from ltcjax.custom_types import PyTree
from ltcjax.validation import (
    argument_error,
    check_dt,
    check_last_axis,
    check_state,
    float_dtype,
)

__all__ = [
    "StepInput",
    "StepOutput",
    "StepTime",
    "checked_step",
    "split_time_channel",
    "step_any_batch",
]

#: ``x`` of one step: shape ``(input_size,)`` or with leading batch axes.
StepInput = Float[ArrayLike, "*batch features"]
#: ``dt`` of one step: a scalar or of the batch shape.
StepTime = Float[ArrayLike, "*batch"] | float
#: ``y`` of one step: shape ``(output_size,)`` with the batch axes of ``x``.
StepOutput = Float[Array, "*batch outputs"]


def split_time_channel(
    cell: RecurrentCell, inputs: Float[Array, "*batch channels"], time_channel: bool
) -> tuple[Float[Array, "*batch features"], Float[Array, "*batch"]]:
    """Split ``inputs`` into features and elapsed time (last channel when ``time_channel``;
    otherwise every step lasts 1.0).

    Example:
        >>> import jax.numpy as jnp
        >>> from ltcjax import LTCCell
        >>> x, dt = split_time_channel(LTCCell(input_size=2, units=3), jnp.ones((4, 3)), True)
        >>> x.shape, dt.shape
        ((4, 2), (4,))
    """
    expected = cell.input_size + (1 if time_channel else 0)
    if inputs.shape[-1] != expected:
        what = " plus one elapsed-time channel" if time_channel else ""
        raise argument_error(
            "inputs",
            f"{cell.input_size} features{what} on the last axis",
            f"shape {tuple(inputs.shape)}",
        )
    if time_channel:
        return inputs[..., :-1], inputs[..., -1]
    return inputs, jnp.ones(inputs.shape[:-1], inputs.dtype)


def step_any_batch(
    cell: RecurrentCell,
    params: PyTree,
    state: PyTree,
    x: Float[Array, "*batch features"],
    dt: Float[Array, "*batch"],
) -> tuple[PyTree, Float[Array, "*batch outputs"]]:
    """Unchecked ``cell.step`` over any number of leading batch axes of ``x`` (and of
    ``state``); ``dt`` has the batch shape."""
    batch_shape = x.shape[:-1]
    flat = lambda a: a.reshape(-1, *a.shape[len(batch_shape) :])
    state, y = cell.step_many(params, jax.tree.map(flat, state), flat(x), dt.reshape(-1))
    unflat = lambda a: a.reshape(*batch_shape, *a.shape[1:])
    return jax.tree.map(unflat, state), unflat(y)


def checked_step(
    cell: RecurrentCell,
    params: PyTree,
    state: PyTree,
    x: StepInput,
    dt: StepTime = 1.0,
) -> tuple[PyTree, StepOutput]:
    """One checked step: ``state, y = checked_step(cell, params, state, x, dt)``.

    ``x`` has shape ``(input_size,)`` or ``(*batch, input_size)``; ``state`` is shaped like
    ``cell.initial_state(batch)``; ``dt`` is a scalar or has shape ``batch``, and a concrete
    ``dt`` (outside ``jit``) must be finite and >= 0. Otherwise a ValueError names ``x``,
    ``state`` or ``dt``.

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
    dtype = float_dtype(params)
    check_state(cell, state, batch_shape, dtype, f"batch shape {batch_shape} of x")
    if jnp.shape(dt) not in ((), batch_shape):
        raise argument_error("dt", f"a scalar or shape {batch_shape} (from x)", jnp.shape(dt))
    check_dt(dt)
    dt = jnp.broadcast_to(jnp.asarray(dt, dtype), batch_shape)
    return step_any_batch(cell, params, state, x, dt)
