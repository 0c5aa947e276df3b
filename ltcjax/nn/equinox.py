"""Equinox modules over ltcjax cells.

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

from ltcjax.cell import RecurrentCell
from ltcjax.nn._common import make_ltc_cell
from ltcjax.sequence import unroll
from ltcjax.wirings import Wiring


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
