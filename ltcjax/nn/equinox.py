"""Equinox modules over ltcjax cells: :class:`Cell` (one step), :class:`Recurrent` (whole
sequences) and :func:`LTC`.

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
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from ltcjax.cell import RecurrentCell
from ltcjax.validation import check_dt, float_dtype
from ltcjax.nn._common import make_ltc_cell, split_time_channel, step_any_batch
from ltcjax.sequence import unroll
from ltcjax.wirings import Wiring


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
        self,
        state: Any,
        x: Float[ArrayLike, "*batch features"],
        dt: Float[ArrayLike, "*batch"] | float = 1.0,
    ) -> tuple[Any, Float[Array, "*batch outputs"]]:
        x, _ = split_time_channel(self.cell, jnp.asarray(x), time_channel=False)
        check_dt(dt)
        dt = jnp.broadcast_to(jnp.asarray(dt, float_dtype(self.params)), x.shape[:-1])
        return step_any_batch(self.cell, self.params, state, x, dt)

    def initial_state(self, batch_shape: tuple[int, ...] = ()) -> Any:
        """The cell's zero state for ``batch_shape`` leading axes."""
        return self.cell.initial_state(batch_shape, float_dtype(self.params))


class Recurrent(eqx.Module):
    """Any ltcjax cell over sequences, as an ``eqx.Module`` holding the parameter pytree.

    ``__call__`` takes (T, F) or (B, T, F) inputs and the keyword arguments of
    :func:`ltcjax.unroll`, and returns ``(outputs, final_state)``; ``step`` advances one
    unbatched observation (for control loops).

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from ltcjax import LTCCell
        >>> model = Recurrent(LTCCell(input_size=2, units=4), key=jax.random.key(0))
        >>> state, y = model.step(model.cell.initial_state(), jnp.ones(2), 0.1)
        >>> y.shape
        (4,)
    """

    params: Any
    cell: RecurrentCell = eqx.field(static=True)
    return_sequences: bool = eqx.field(static=True, default=True)

    def __init__(self, cell: RecurrentCell, *, key: jax.Array, return_sequences: bool = True):
        self.cell = cell
        self.params = cell.init(key)
        self.return_sequences = return_sequences

    def __call__(self, inputs: jax.Array, **kwargs: Any) -> tuple[jax.Array, Any]:
        kwargs.setdefault("return_sequences", self.return_sequences)
        return unroll(self.cell, self.params, inputs, **kwargs)

    def step(self, state: Any, x: jax.Array, dt: Any = 1.0) -> tuple[Any, jax.Array]:
        """One unbatched step: ``state, y = model.step(state, x, dt)``."""
        return self.cell.step(self.params, state, x, dt)


def LTC(  # noqa: N802 - a module factory named like the module it returns
    input_size: int,
    units: int | Wiring,
    *,
    key: jax.Array,
    return_sequences: bool = True,
    **cell_kwargs: Any,
) -> Recurrent:
    """An LTC network (a :class:`Recurrent`) with ncps's arguments.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from ltcjax import NCP
        >>> wiring = NCP(4, 3, 2, 2, 2, 2, 2)
        >>> model = LTC(3, wiring, key=jax.random.key(0), return_sequences=False)
        >>> model(jnp.ones((6, 3)))[0].shape
        (2,)
    """
    cell = make_ltc_cell(input_size, units, **cell_kwargs)
    return Recurrent(cell, key=key, return_sequences=return_sequences)
