"""The step logic the three framework adapters share (:mod:`ltcjax.nn.nnx`,
:mod:`ltcjax.nn.linen`, :mod:`ltcjax.nn.equinox`); it imports no framework.

* :func:`checked_step` (from :mod:`ltcjax.cell`, where ``step_batch`` uses it too): the
  contract of every adapter's ``Recurrent.step`` (and of the Equinox ``Cell``): ``x`` of
  shape ``(input_size,)`` or with any leading batch axes, the state with the same axes,
  ``dt`` a scalar or of the batch shape; errors name ``x``, ``dt`` or ``state``.
* :func:`step_any_batch` (also from :mod:`ltcjax.cell`): the same step unchecked, for the
  ``Cell`` inside ``nnx.RNN`` / ``nn.RNN``;
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

import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from ltcjax.cell import RecurrentCell, checked_step, step_any_batch
from ltcjax.validation import argument_error

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
