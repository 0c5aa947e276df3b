"""Flax NNX modules over ltcjax cells.

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

from ltcjax.cell import RecurrentCell
from ltcjax.nn._common import make_ltc_cell, split_time_channel, step_any_batch
from ltcjax.sequence import unroll
from ltcjax.wirings import Wiring

_data = getattr(nnx, "data", lambda x: x)


def _to_variables(params: Any) -> Any:
    return _data(jax.tree.map(nnx.Param, params))


def _is_variable(x: Any) -> bool:
    return isinstance(x, nnx.Variable)


def pure_params(module: nnx.Module) -> Any:
    """The module's parameters as the pure cell's pytree (e.g. an ``LTCParams``)."""
    return jax.tree.map(lambda v: v[...], module.params, is_leaf=_is_variable)


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
        self.time_channel = time_channel
        self.params = _to_variables(cell.init(rngs.params()))

    def __call__(self, carry: Any, inputs: jax.Array) -> tuple[Any, jax.Array]:
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

    Calling it returns ``(outputs, final_state)``.

    Example:
        >>> import jax.numpy as jnp
        >>> from flax import nnx
        >>> from ltcjax import LSTMCell
        >>> rnn = Recurrent(LSTMCell(units=4, input_size=2), rngs=nnx.Rngs(0))
        >>> ys, (h, c) = rnn(jnp.ones((3, 7, 2)))
        >>> ys.shape
        (3, 7, 4)
    """

    def __init__(self, cell: RecurrentCell, *, rngs: nnx.Rngs, return_sequences: bool = True):
        self.cell = cell
        self.return_sequences = return_sequences
        self.params = _to_variables(cell.init(rngs.params()))

    def __call__(self, inputs: jax.Array, **kwargs: Any) -> tuple[jax.Array, Any]:
        kwargs.setdefault("return_sequences", self.return_sequences)
        return unroll(self.cell, pure_params(self), inputs, **kwargs)

    def step(self, state: Any, x: jax.Array, dt: Any = 1.0) -> tuple[Any, jax.Array]:
        """One streaming step for a batch ``x`` of shape (B, F)."""
        return self.cell.step_batch(pure_params(self), state, x, dt)


class LTC(Recurrent):
    """An LTC network over sequences, with ncps's arguments.

    Args:
        input_size: number of input features.
        units: number of (fully connected) neurons, or a wiring.
        rngs: NNX random streams.
        return_sequences: outputs at every step, or only the last.
        **cell_kwargs: any :class:`ltcjax.LTCCell` option (``mixed_memory``,
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
        **cell_kwargs: Any,
    ):
        cell = make_ltc_cell(input_size, units, **cell_kwargs)
        super().__init__(cell, rngs=rngs, return_sequences=return_sequences)
