"""Flax NNX modules over ltcjax cells: :class:`Cell` (one step, for ``nnx.RNN``),
:class:`Recurrent` (whole sequences, and ``step`` for streaming) and :class:`LTC` (a
``Recurrent`` over an :class:`ltcjax.LTCCell`, with ncps's arguments).

Example:
    >>> import jax.numpy as jnp
    >>> from flax import nnx
    >>> from ltcjax.nn.nnx import LTC
    >>> model = LTC(3, 8, rngs=nnx.Rngs(0))
    >>> ys, state = model(jnp.ones((2, 5, 3)), timespans=jnp.full((2, 5), 0.5))
    >>> ys.shape
    (2, 5, 8)
"""

from __future__ import annotations

from typing import Any

import jax
from flax import nnx
from jaxtyping import Array, ArrayLike, Float

from ltcjax.cell import RecurrentCell
from ltcjax.custom_types import PyTree
from ltcjax.models.ltc import LTCCell
from ltcjax.nn.shared import (
    StepInput,
    StepOutput,
    StepTime,
    checked_step,
    split_time_channel,
    step_any_batch,
)
from ltcjax.sequence import unroll
from ltcjax.wirings import Wiring

__all__ = ["LTC", "Cell", "Recurrent", "pure_params"]

_data = getattr(nnx, "data", lambda x: x)


def _is_variable(x: Any) -> bool:
    return isinstance(x, nnx.Variable)


def pure_params(module: nnx.Module) -> PyTree:
    """The module's parameters as the pure cell's pytree (e.g. an ``LTCParams``)."""
    return jax.tree.map(lambda v: v[...], module.params, is_leaf=_is_variable)


def _init_params(cell: RecurrentCell, rngs: nnx.Rngs) -> PyTree:
    """The cell's initial parameters with ``nnx.Param`` leaves (the pure pytree's structure)."""
    return _data(jax.tree.map(nnx.Param, cell.init(rngs.params())))


class Cell(nnx.RNNCellBase):
    """One step of any ltcjax cell, usable with ``nnx.RNN``.

    Args:
        cell: the pure cell (e.g. ``LTCCell(...)``).
        rngs: NNX random streams (``params`` is used).
        time_channel: if True, the last input channel is the elapsed time of the step.

    Example:
        >>> import jax.numpy as jnp
        >>> from flax import nnx
        >>> from ltcjax import LTCCell
        >>> cell = Cell(LTCCell(input_size=2, units=4), rngs=nnx.Rngs(0))
        >>> ys = nnx.RNN(cell)(jnp.ones((3, 7, 2)))
        >>> ys.shape
        (3, 7, 4)
    """

    def __init__(self, cell: RecurrentCell, *, rngs: nnx.Rngs, time_channel: bool = False):
        self.cell = cell
        self.params = _init_params(cell, rngs)
        self.time_channel = time_channel

    def __call__(
        self, carry: PyTree, inputs: Float[Array, "*batch channels"]
    ) -> tuple[PyTree, Float[Array, "*batch outputs"]]:
        x, dt = split_time_channel(self.cell, inputs, self.time_channel)
        return step_any_batch(self.cell, pure_params(self), carry, x, dt)

    def initialize_carry(self, input_shape: tuple[int, ...], rngs: Any = None, carry_init=None):
        del rngs, carry_init
        return self.cell.initial_state(tuple(input_shape[:-1]))

    @property
    def num_feature_axes(self) -> int:
        return 1


class Recurrent(nnx.Module):
    """Any ltcjax cell over whole sequences (see :func:`ltcjax.unroll` for arguments).

    Calling it returns ``(outputs, final_state)``; :meth:`step` advances one observation
    (for control loops).

    Example:
        >>> import jax.numpy as jnp
        >>> from flax import nnx
        >>> from ltcjax import LSTMCell
        >>> rnn = Recurrent(LSTMCell(units=4, input_size=2), rngs=nnx.Rngs(0))
        >>> ys, (h, c) = rnn(jnp.ones((3, 7, 2)))
        >>> ys.shape, h.shape
        ((3, 7, 4), (3, 4))
    """

    def __init__(self, cell: RecurrentCell, *, rngs: nnx.Rngs, return_sequences: bool = True):
        self.cell = cell
        self.return_sequences = return_sequences
        self.params = _init_params(cell, rngs)

    def __call__(
        self, inputs: Float[ArrayLike, "*batch time features"], **kwargs: Any
    ) -> tuple[Float[Array, "*batch time outputs"] | Float[Array, "*batch outputs"], PyTree]:
        kwargs.setdefault("return_sequences", self.return_sequences)
        return unroll(self.cell, pure_params(self), inputs, **kwargs)

    def step(self, state: PyTree, x: StepInput, dt: StepTime = 1.0) -> tuple[PyTree, StepOutput]:
        """One checked step: ``x`` of shape ``(input_size,)`` or with leading batch axes,
        ``state`` with the same axes, ``dt`` a scalar or of the batch shape (see
        :func:`ltcjax.nn.shared.checked_step`).

        Example:
            >>> import jax.numpy as jnp
            >>> from flax import nnx
            >>> model = LTC(2, 4, rngs=nnx.Rngs(0))
            >>> state, y = model.step(model.cell.initial_state(), jnp.ones(2), 0.1)
            >>> y.shape
            (4,)
        """
        return checked_step(self.cell, pure_params(self), state, x, dt)


class LTC(Recurrent):
    """An LTC network (a :class:`Recurrent` over an :class:`ltcjax.LTCCell`) with ncps's
    arguments.

    Args:
        input_size: number of input features.
        units: number of (fully connected) neurons, or a wiring.
        rngs: NNX random streams.
        return_sequences: outputs at every step, or only the last.
        **cell_options: any :class:`ltcjax.LTCCell` option (``mixed_memory``,
            ``ode_unfolds``, ``solver``, ``input_mapping``, ...).

    Example:
        >>> import jax.numpy as jnp
        >>> from flax import nnx
        >>> from ltcjax import AutoNCP
        >>> model = LTC(3, AutoNCP(12, 2), rngs=nnx.Rngs(0), return_sequences=False)
        >>> y, v = model(jnp.ones((4, 9, 3)))
        >>> y.shape, v.shape
        ((4, 2), (4, 12))
    """

    def __init__(
        self,
        input_size: int,
        units: int | Wiring,
        *,
        rngs: nnx.Rngs,
        return_sequences: bool = True,
        **cell_options: Any,
    ):
        cell = LTCCell(input_size=input_size, units=units, **cell_options)
        super().__init__(cell, rngs=rngs, return_sequences=return_sequences)
