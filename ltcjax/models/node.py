"""ODE-RNN / Neural ODE RNN, the LTC paper's "Neural ODE" baseline.

    dh/dt = tanh(W [x; h] + b)

integrated over the elapsed time ``dt`` of each observation with ``ode_unfolds`` fixed
steps of ``dt / ode_unfolds`` (classical RK4 by default), the input held constant. The
paper's code takes 6 RK4 steps of h = 0.1 per observation: that is ``timespans=0.6`` with
the defaults here. The output is the hidden state (the paper puts a separate linear readout
after the RNN).
"""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from ltcjax.models.dense import DenseODECell


class ODERNNParams(NamedTuple):
    """ODE-RNN parameters: ``kernel`` laid out ``[inputs + units, units]`` (rows: x then h)."""

    kernel: Float[Array, "fan_in units"]
    bias: Float[Array, " units"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class ODERNNCell(DenseODECell):
    """A Neural ODE RNN cell, ``dh/dt = tanh(W [x; h] + b)``.

    Args:
        input_size: number of input features.
        units: number of hidden units.
        solver: "rk4" (paper) or "euler" (or a Diffrax solver, where supported by
            :func:`ltcjax.solvers.as_solver`, except the LTC-only fused solver).
        ode_unfolds: solver steps per observation (paper: 6).

    Example:
        >>> import jax, jax.numpy as jnp
        >>> cell = ODERNNCell(input_size=3, units=8)
        >>> params = cell.init(jax.random.key(0))
        >>> ys, h = cell.apply(params, jnp.ones((2, 5, 3)), timespans=0.6)  # paper: 6 x 0.1
        >>> ys.shape, h.shape
        ((2, 5, 8), (2, 8))
    """

    solver: Any = "rk4"

    def init(self, key: jax.Array, dtype: Any = jnp.float32) -> ODERNNParams:
        """Glorot-uniform ``W`` and zero ``b`` (the paper's TF ``Dense`` defaults).

        Example:
            >>> import jax
            >>> ODERNNCell(input_size=2, units=4).init(jax.random.key(0)).kernel.shape
            (6, 4)
        """
        return ODERNNParams(*self.init_dense(key, dtype))
