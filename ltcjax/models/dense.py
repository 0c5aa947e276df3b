"""The dense ``tanh(W [x; h] + b)`` layer shared by the CT-RNN and the ODE-RNN."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

__all__ = ["dense_tanh", "dense_tanh_init"]


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
