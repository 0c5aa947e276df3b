"""LSTM cell (forget-gate bias +1), used alone and as the LTC/CfC "mixed memory".

The gate layout and initialisation follow ncps's LSTM cell: input kernel xavier-uniform,
recurrent kernel orthogonal, input bias U(-0.1, 0.1), and gates ordered
(input activation, input gate, forget gate, output gate).
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from ltcjax.cell import RecurrentCell
from ltcjax.custom_types import Dim
from ltcjax.validation import check_positive_int


class LSTMParams(NamedTuple):
    """LSTM parameters; kernels laid out ``[in, 4 * hidden]``."""

    input_kernel: Float[Array, "inputs gates"]
    input_bias: Float[Array, " gates"]
    recurrent_kernel: Float[Array, "hidden gates"]


def init_lstm(key: jax.Array, input_size: int, hidden_size: int) -> LSTMParams:
    """ncps-style LSTM initialisation.

    Example:
        >>> import jax
        >>> p = init_lstm(jax.random.key(0), 3, 5)
        >>> p.input_kernel.shape, p.recurrent_kernel.shape
        ((3, 20), (5, 20))
    """
    k_in, k_rec, k_b = jax.random.split(key, 3)
    gates = 4 * hidden_size
    input_kernel = jax.nn.initializers.xavier_uniform()(k_in, (input_size, gates))
    recurrent_kernel = jax.nn.initializers.orthogonal()(k_rec, (hidden_size, gates))
    input_bias = jax.random.uniform(k_b, (gates,), minval=-0.1, maxval=0.1)
    return LSTMParams(input_kernel, input_bias, recurrent_kernel)


def lstm_step(
    params: LSTMParams,
    h: Float[Array, "*batch hidden"],
    c: Float[Array, "*batch hidden"],
    x: Float[ArrayLike, "*batch inputs"],
) -> tuple[Float[Array, "*batch hidden"], Float[Array, "*batch hidden"]]:
    """One LSTM update; returns ``(h, c)``.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> p = init_lstm(jax.random.key(0), 2, 3)
        >>> h, c = lstm_step(p, jnp.zeros(3), jnp.zeros(3), jnp.ones(2))
        >>> h.shape
        (3,)
    """
    z = x @ params.input_kernel + params.input_bias + h @ params.recurrent_kernel
    i, ig, fg, og = jnp.split(z, 4, axis=-1)
    c = c * jax.nn.sigmoid(fg + 1.0) + jnp.tanh(i) * jax.nn.sigmoid(ig)
    h = jnp.tanh(c) * jax.nn.sigmoid(og)
    return h, c


@dataclasses.dataclass(frozen=True)
class LSTMCell(RecurrentCell):
    """A discrete-time LSTM cell (the paper's LSTM baseline, forget bias 1).

    The state is the pair ``(h, c)``; the output is ``h``. Elapsed time is ignored.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> cell = LSTMCell(units=8, input_size=3)
        >>> params = cell.init(jax.random.key(0))
        >>> ys, (h, c) = cell.apply(params, jnp.ones((2, 5, 3)))
        >>> ys.shape
        (2, 5, 8)
    """

    units: int
    input_size: int
    uses_time: ClassVar[bool] = False

    def __post_init__(self) -> None:
        check_positive_int("units", self.units)
        check_positive_int("input_size", self.input_size)

    @property
    def state_size(self) -> int:
        return self.units

    @property
    def output_size(self) -> int:
        return self.units

    def init(self, key: jax.Array, dtype: Any = jnp.float32) -> LSTMParams:
        return jax.tree.map(lambda a: a.astype(dtype), init_lstm(key, self.input_size, self.units))

    def initial_state(self, batch_shape: tuple[Dim, ...] = (), dtype: Any = jnp.float32):
        zeros = jnp.zeros((*batch_shape, self.units), dtype)
        return (zeros, zeros)

    def step(self, params, state, x, dt, *, key=None):
        del dt
        h, c = lstm_step(params, *state, x)
        return (h, c), h
