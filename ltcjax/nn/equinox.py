"""Equinox modules over ltcjax cells: :class:`Cell` (one step), :class:`Recurrent` (whole
sequences, and ``step`` for streaming) and :class:`LTC` (a ``Recurrent`` over an
:class:`ltcjax.LTCCell`, with ncps's arguments).

Example:
    >>> import jax, jax.numpy as jnp
    >>> from ltcjax.nn.equinox import LTC
    >>> model = LTC(3, 8, key=jax.random.key(0))
    >>> ys, v = model(jnp.ones((5, 3)))   # one sequence; jax.vmap or a batch axis for more
    >>> ys.shape
    (5, 8)
"""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax
from jaxtyping import Array, ArrayLike, Float

from ltcjax.cell import RecurrentCell
from ltcjax.custom_types import Dim, PyTree
from ltcjax.models.ltc import LTCCell
from ltcjax.nn.shared import StepInput, StepOutput, StepTime, checked_step
from ltcjax.sequence import unroll
from ltcjax.validation import float_dtype
from ltcjax.wirings import Wiring

__all__ = ["LTC", "Cell", "Recurrent"]


class Cell(eqx.Module):
    """One step of any ltcjax cell as an ``eqx.Module``: ``state, y = cell(state, x, dt)``.

    The per-step counterpart of :class:`Recurrent` (like ``eqx.nn.GRUCell``), for writing
    your own loop or ``lax.scan``. ``x`` has shape ``(input_size,)`` or any leading batch
    axes (the state then has the same ones); ``dt`` is a scalar or has the batch shape.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from ltcjax import LTCCell
        >>> step = Cell(LTCCell(input_size=2, units=4), key=jax.random.key(0))
        >>> def body(state, x):
        ...     return step(state, x, 0.5)
        >>> state, ys = jax.lax.scan(body, step.initial_state(), jnp.ones((6, 2)))
        >>> ys.shape, state.shape
        ((6, 4), (4,))
    """

    params: Any
    cell: RecurrentCell = eqx.field(static=True)

    def __init__(self, cell: RecurrentCell, *, key: jax.Array):
        self.cell = cell
        self.params = cell.init(key)

    def __call__(
        self, state: PyTree, x: StepInput, dt: StepTime = 1.0
    ) -> tuple[PyTree, StepOutput]:
        return checked_step(self.cell, self.params, state, x, dt)

    def initial_state(self, batch_shape: tuple[Dim, ...] = ()) -> PyTree:
        """The cell's zero state for ``batch_shape`` leading axes."""
        return self.cell.initial_state(batch_shape, float_dtype(self.params))


class Recurrent(eqx.Module):
    """Any ltcjax cell over sequences, as an ``eqx.Module`` holding the parameter pytree.

    ``__call__`` takes (T, F) or (B, T, F) inputs and the keyword arguments of
    :func:`ltcjax.unroll`, and returns ``(outputs, final_state)``; :meth:`step` advances
    one observation (for control loops).

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from ltcjax import LTCCell
        >>> model = Recurrent(LTCCell(input_size=2, units=4), key=jax.random.key(0))
        >>> ys, state = model(jnp.ones((3, 7, 2)), timespans=0.5)
        >>> ys.shape
        (3, 7, 4)
    """

    params: Any
    cell: RecurrentCell = eqx.field(static=True)
    return_sequences: bool = eqx.field(static=True, default=True)

    def __init__(self, cell: RecurrentCell, *, key: jax.Array, return_sequences: bool = True):
        self.cell = cell
        self.params = cell.init(key)
        self.return_sequences = return_sequences

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
            >>> model = LTC(2, 4, key=jax.random.key(0))
            >>> state, y = model.step(model.cell.initial_state((3,)), jnp.ones((3, 2)), 0.1)
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
        key: PRNG key of the parameters.
        return_sequences: outputs at every step, or only the last.
        **cell_options: any :class:`ltcjax.LTCCell` option (``mixed_memory``,
            ``ode_unfolds``, ``solver``, ``input_mapping``, ...).

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from ltcjax import NCP
        >>> wiring = NCP(4, 3, 2, 2, 2, 2, 2)
        >>> model = LTC(3, wiring, key=jax.random.key(0), return_sequences=False)
        >>> model(jnp.ones((6, 3)))[0].shape
        (2,)
    """

    def __init__(
        self,
        input_size: int,
        units: int | Wiring,
        *,
        key: jax.Array,
        return_sequences: bool = True,
        **cell_options: Any,
    ):
        cell = LTCCell(input_size=input_size, units=units, **cell_options)
        super().__init__(cell, key=key, return_sequences=return_sequences)
