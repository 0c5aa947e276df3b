"""Flax Linen modules over ltcjax cells: :class:`Cell` (one step, for ``nn.RNN``),
:class:`Recurrent` (whole sequences, and ``step`` for streaming) and :class:`LTC` (a
``Recurrent`` over an :class:`ltcjax.LTCCell`, with ncps's arguments).

``Cell`` subclasses ``nn.RNNCellBase`` and works inside ``nn.RNN``; elapsed times can be
packed as the last input channel (``time_channel=True``). ``Recurrent`` and ``LTC`` run the
whole sequence with ltcjax's own scan (elapsed times, masks, remat). All keep the cell's
parameter pytree as one entry, :data:`PARAM_NAME`, of the ``params`` collection.

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
from ltcjax.validation import argument_error
from ltcjax.wirings import Wiring

__all__ = ["LTC", "PARAM_NAME", "Cell", "Recurrent"]

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
    def __call__(
        self, carry: PyTree, inputs: Float[Array, "*batch channels"]
    ) -> tuple[PyTree, Float[Array, "*batch outputs"]]:
        params = self.param(PARAM_NAME, self.cell.init)
        x, dt = split_time_channel(self.cell, inputs, self.time_channel)
        return step_any_batch(self.cell, params, carry, x, dt)

    @nn.nowrap
    def initialize_carry(self, rng: jax.Array, input_shape: tuple[int, ...]) -> PyTree:
        del rng
        return self.cell.initial_state(tuple(input_shape[:-1]))

    @property
    def num_feature_axes(self) -> int:
        return 1


class Recurrent(nn.Module):
    """Any ltcjax cell over whole sequences; returns ``(outputs, final_state)``.

    Keyword arguments of ``__call__`` are those of :func:`ltcjax.unroll`; :meth:`step`
    advances one observation (call it with ``apply(..., method="step")``).

    Attributes:
        cell: the pure cell.
        return_sequences: outputs at every step, or only the last.

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

    def setup(self) -> None:
        self.params = self.param(PARAM_NAME, self.cell.init)

    def __call__(
        self, inputs: Float[ArrayLike, "*batch time features"], **kwargs: Any
    ) -> tuple[Float[Array, "*batch time outputs"] | Float[Array, "*batch outputs"], PyTree]:
        kwargs.setdefault("return_sequences", self.return_sequences)
        return unroll(self.cell, self.params, inputs, **kwargs)

    def step(self, state: PyTree, x: StepInput, dt: StepTime = 1.0) -> tuple[PyTree, StepOutput]:
        """One checked step: ``x`` of shape ``(input_size,)`` or with leading batch axes,
        ``state`` with the same axes, ``dt`` a scalar or of the batch shape (see
        :func:`ltcjax.nn.shared.checked_step`).

        Example:
            >>> import jax, jax.numpy as jnp
            >>> model = LTC(2, 4)
            >>> state, x = model.cell.initial_state((3,)), jnp.ones((3, 2))
            >>> variables = model.init(jax.random.key(0), state, x, method="step")
            >>> state, y = model.apply(variables, state, x, 0.1, method="step")
            >>> y.shape
            (3, 4)
        """
        return checked_step(self.cell, self.params, state, x, dt)


class LTC(Recurrent):
    """An LTC network (a :class:`Recurrent` over an :class:`ltcjax.LTCCell`) with ncps's
    arguments.

    Args:
        input_size: number of input features.
        units: number of (fully connected) neurons, or a wiring.
        return_sequences: outputs at every step, or only the last.
        **cell_options: any :class:`ltcjax.LTCCell` option (``mixed_memory``,
            ``ode_unfolds``, ``solver``, ``input_mapping``, ...), and Linen's ``parent`` and
            ``name``.

    The module's fields are those of :class:`Recurrent` (``cell``, ``return_sequences``):
    the arguments above build the cell, so ``LTC(cell=...)`` (what Flax's ``clone`` calls)
    works too.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> model = LTC(3, 8, return_sequences=False, ode_unfolds=3)
        >>> x = jnp.ones((2, 5, 3))
        >>> variables = model.init(jax.random.key(0), x)
        >>> model.apply(variables, x)[0].shape
        (2, 8)
    """

    def __init__(
        self,
        input_size: int | None = None,
        units: int | Wiring | None = None,
        *,
        return_sequences: bool = True,
        cell: RecurrentCell | None = None,
        **cell_options: Any,
    ):
        module_args = {k: cell_options.pop(k) for k in ("parent", "name") if k in cell_options}
        if cell is None:
            cell = LTCCell(input_size=input_size, units=units, **cell_options)
        elif input_size is not None or units is not None or cell_options:
            raise argument_error(
                "cell", "None when input_size, units or cell options are given", repr(cell)
            )
        super().__init__(cell, return_sequences, **module_args)
