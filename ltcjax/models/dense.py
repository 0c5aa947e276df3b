"""What the CT-RNN and the ODE-RNN share: the dense ``tanh(W [x; h] + b)`` drive and a
base class for a continuous-time cell of ``units`` hidden units."""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from ltcjax.cell import ContinuousTimeCell
from ltcjax.validation import check_positive_int

__all__ = ["DenseODECell", "dense_tanh", "dense_tanh_init"]


def dense_tanh_init(key: jax.Array, fan_in: int, units: int, dtype: Any) -> tuple[Array, Array]:
    """Glorot-uniform kernel and zero bias (the TF ``Dense`` defaults of the paper's code).

    Example:
        >>> import jax, jax.numpy as jnp
        >>> kernel, bias = dense_tanh_init(jax.random.key(0), 5, 3, jnp.float32)
        >>> kernel.shape, bias.tolist()
        ((5, 3), [0.0, 0.0, 0.0])
    """
    kernel = jax.nn.initializers.xavier_uniform()(key, (fan_in, units), dtype)
    return kernel, jnp.zeros((units,), dtype)


def dense_tanh(
    kernel: Float[Array, "fan_in units"],
    bias: Float[Array, " units"],
    h: Float[Array, "*batch units"],
    x: Float[ArrayLike, "*batch inputs"],
) -> Float[Array, "*batch units"]:
    """``tanh([x; h] @ kernel + bias)``, with ``x`` broadcast to ``h``'s batch axes.

    Example:
        >>> import jax.numpy as jnp
        >>> dense_tanh(jnp.ones((3, 2)), jnp.zeros(2), jnp.zeros(2), jnp.zeros(1)).tolist()
        [0.0, 0.0]
    """
    inputs = kernel.shape[0] - h.shape[-1]
    x = jnp.broadcast_to(jnp.asarray(x, h.dtype), (*h.shape[:-1], inputs))
    return jnp.tanh(jnp.concatenate([x, h], axis=-1) @ kernel + bias)


@dataclasses.dataclass(frozen=True, kw_only=True)
class DenseODECell(ContinuousTimeCell):
    """Base of the CT-RNN and the ODE-RNN: ``units`` hidden units (the state and the
    output), a ``solver`` with ``ode_unfolds`` steps per observation, and a dense ``tanh``
    drive initialised as the paper's TF ``Dense`` (Glorot-uniform ``W``, zero ``b``).
    The vector field is ``dh/dt = leak(h) + tanh(W [x; h] + b)``; subclasses set the leak
    (none by default) and may override ``init`` and the ``solver`` default."""

    input_size: int
    units: int
    solver: Any = "rk4"
    ode_unfolds: int = 6

    def __post_init__(self) -> None:
        check_positive_int("input_size", self.input_size)
        check_positive_int("units", self.units)
        check_positive_int("ode_unfolds", self.ode_unfolds)
        self.normalise_solver()

    @property
    def state_size(self) -> int:
        return self.units

    @property
    def output_size(self) -> int:
        return self.units

    def leak(self, params: Any, h: Float[Array, "... units"]) -> Float[Array, "... units"] | float:
        """The term added to the dense drive (0: a pure Neural ODE)."""
        return 0.0

    def vector_field(
        self, params: Any, h: Float[Array, "... units"], x: Float[ArrayLike, "... inputs"]
    ) -> Float[Array, "... units"]:
        """``dh/dt = leak(h) + tanh(W [x; h] + b)``.

        Example:
            >>> import jax, jax.numpy as jnp
            >>> from ltcjax import CTRNNCell, ODERNNCell
            >>> for cls in (CTRNNCell, ODERNNCell):
            ...     cell = cls(input_size=2, units=3)
            ...     p = cell.init(jax.random.key(0))
            ...     print(cell.vector_field(p, jnp.zeros(3), jnp.zeros(2)).tolist())
            [0.0, 0.0, 0.0]
            [0.0, 0.0, 0.0]
        """
        return self.leak(params, h) + dense_tanh(params.kernel, params.bias, h, x)

    def init_dense(self, key: jax.Array, dtype: Any = jnp.float32) -> tuple[Array, Array]:
        """The drive's ``(kernel, bias)``: kernel ``[input_size + units, units]``."""
        return dense_tanh_init(key, self.input_size + self.units, self.units, dtype)
