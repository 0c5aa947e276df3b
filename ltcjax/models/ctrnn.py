"""Continuous-time RNN (CT-RNN), the LTC paper's baseline.

    dh/dt = -h / tau + tanh(W [x; h] + b)

integrated over the elapsed time ``dt`` of each observation with ``ode_unfolds`` fixed
steps of ``dt / ode_unfolds`` (explicit Euler by default), the input held constant. The
paper's code takes 6 Euler steps of h = 0.1 per observation: that is ``timespans=0.6``
with the defaults here. The output is the hidden state (the paper puts a separate linear
readout after the RNN).
"""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ltcjax.models.dense import DenseODECell
from ltcjax.validation import argument_error

#: softplus(TAU_RAW_ONE) == 1: the raw value that makes a trainable tau start at 1.
TAU_RAW_ONE = float(np.log(np.expm1(1.0)))


class CTRNNParams(NamedTuple):
    """CT-RNN parameters: ``kernel`` laid out ``[inputs + units, units]`` (rows: x then h);
    ``tau_raw`` (softplus gives tau) is None unless ``trainable_tau``."""

    kernel: Float[Array, "fan_in units"]
    bias: Float[Array, " units"]
    tau_raw: Float[Array, " units"] | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class CTRNNCell(DenseODECell):
    """A continuous-time RNN cell, ``dh/dt = -h / tau + tanh(W [x; h] + b)``.

    Args:
        input_size: number of input features.
        units: number of hidden units.
        tau: the fixed time constant (paper: 1), used when ``trainable_tau`` is False.
        trainable_tau: learn one time constant per unit, kept positive as
            ``tau = softplus(tau_raw)`` and initialised to ``tau`` (this is the variant
            counted in the paper's Table S2, ``k^2 + 2k`` recurrent parameters per layer).
        solver: "euler" (paper) or "rk4" (or a Diffrax solver, where supported by
            :func:`ltcjax.solvers.as_solver`, except the LTC-only fused solver).
        ode_unfolds: solver steps per observation (paper: 6).

    Example:
        >>> import jax, jax.numpy as jnp
        >>> cell = CTRNNCell(input_size=3, units=8)
        >>> params = cell.init(jax.random.key(0))
        >>> ys, h = cell.apply(params, jnp.ones((2, 5, 3)), timespans=0.6)  # paper: 6 x 0.1
        >>> ys.shape, h.shape
        ((2, 5, 8), (2, 8))
    """

    tau: float = 1.0
    trainable_tau: bool = False
    solver: Any = "euler"

    def __post_init__(self) -> None:
        super().__post_init__()
        if not float(self.tau) > 0 or not np.isfinite(self.tau):
            raise argument_error("tau", "a finite value > 0", repr(self.tau))

    def init(self, key: jax.Array, dtype: Any = jnp.float32) -> CTRNNParams:
        """Glorot-uniform ``W``, zero ``b``; ``tau_raw = softplus^-1(tau)`` if trainable.

        Example:
            >>> import jax
            >>> p = CTRNNCell(input_size=2, units=4, trainable_tau=True).init(jax.random.key(0))
            >>> p.kernel.shape, round(float(jax.nn.softplus(p.tau_raw[0])), 5)
            ((6, 4), 1.0)
        """
        kernel, bias = self.init_dense(key, dtype)
        tau_raw = None
        if self.trainable_tau:
            raw = float(np.log(np.expm1(self.tau)))
            tau_raw = jnp.full((self.units,), raw, dtype)
        return CTRNNParams(kernel, bias, tau_raw)

    def time_constant(self, params: CTRNNParams) -> Float[Array, " units"] | float:
        """The time constant(s) the ODE uses: ``softplus(tau_raw)`` or the fixed ``tau``."""
        return self.tau if params.tau_raw is None else jax.nn.softplus(params.tau_raw)

    def leak(self, params: CTRNNParams, h: Float[Array, "... units"]) -> Float[Array, "... units"]:
        """``-h / tau``: with the dense drive, ``dh/dt = -h / tau + tanh(W [x; h] + b)``.

        Example:
            >>> import jax, jax.numpy as jnp
            >>> cell = CTRNNCell(input_size=2, units=3, tau=2.0)
            >>> cell.leak(cell.init(jax.random.key(0)), jnp.ones(3)).tolist()
            [-0.5, -0.5, -0.5]
        """
        return -h / self.time_constant(params)
