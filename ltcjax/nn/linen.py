"""Flax Linen modules over ltcjax cells.

``Cell`` subclasses ``nn.RNNCellBase`` and works inside ``nn.RNN``; elapsed times can be
packed as the last input channel (``time_channel=True``). ``Recurrent``/``LTC`` run the
whole sequence with ltcjax's own scan (elapsed times, masks, remat).

Example:
    >>> import jax, jax.numpy as jnp
    >>> import flax.linen as nn
    >>> from ltcjax import LTCCell
    >>> from ltcjax.nn.linen import Cell
    >>> rnn = nn.RNN(Cell(LTCCell(input_size=2, units=4)))
    >>> x = jnp.ones((3, 7, 2))
    >>> variables = rnn.init(jax.random.key(0), x)
    >>> rnn.apply(variables, x).shape
    (3, 7, 4)
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax

from ltcjax.cell import RecurrentCell
from ltcjax.nn._common import make_ltc_cell, split_time_channel, step_any_batch
from ltcjax.sequence import unroll
from ltcjax.wirings import Wiring

#: The name of the parameter pytree inside the module's ``params`` collection.
PARAM_NAME = "cell"


class Cell(nn.RNNCellBase):
    """One step of any ltcjax cell, for ``nn.RNN``.

    Attributes:
        cell: the pure cell.
        time_channel: if True, the last input channel is the step's elapsed time.
    """

    cell: RecurrentCell
    time_channel: bool = False

    @nn.compact
    def __call__(self, carry: Any, inputs: jax.Array) -> tuple[Any, jax.Array]:
        params = self.param(PARAM_NAME, self.cell.init)
        x, dt = split_time_channel(self.cell, inputs, self.time_channel)
        return step_any_batch(self.cell, params, carry, x, dt)

    @nn.nowrap
    def initialize_carry(self, rng: jax.Array, input_shape: tuple[int, ...]) -> Any:
        del rng
        return self.cell.initial_state(tuple(input_shape[:-1]))

    @property
    def num_feature_axes(self) -> int:
        return 1


class Recurrent(nn.Module):
    """Any ltcjax cell over whole sequences; returns ``(outputs, final_state)``.

    Keyword arguments of ``__call__`` are those of :func:`ltcjax.unroll`.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from ltcjax import LTCCell
        >>> model = Recurrent(LTCCell(input_size=2, units=4))
        >>> x, ts = jnp.ones((3, 7, 2)), jnp.full((3, 7), 0.3)
        >>> variables = model.init(jax.random.key(0), x, timespans=ts)
        >>> ys, v = model.apply(variables, x, timespans=ts)
        >>> ys.shape
        (3, 7, 4)
    """

    cell: RecurrentCell
    return_sequences: bool = True

    @nn.compact
    def __call__(self, inputs: jax.Array, **kwargs: Any) -> tuple[jax.Array, Any]:
        params = self.param(PARAM_NAME, self.cell.init)
        kwargs.setdefault("return_sequences", self.return_sequences)
        return unroll(self.cell, params, inputs, **kwargs)


def LTC(  # noqa: N802 - a module factory named like the module it returns
    input_size: int, units: int | Wiring, *, return_sequences: bool = True, **cell_kwargs: Any
) -> Recurrent:
    """An LTC network over sequences with ncps's arguments (a :class:`Recurrent`).

    Example:
        >>> import jax, jax.numpy as jnp
        >>> model = LTC(3, 8, return_sequences=False)
        >>> x = jnp.ones((2, 5, 3))
        >>> variables = model.init(jax.random.key(0), x)
        >>> model.apply(variables, x)[0].shape
        (2, 8)
    """
    cell = make_ltc_cell(input_size, units, **cell_kwargs)
    return Recurrent(cell=cell, return_sequences=return_sequences)
