"""Continuous-time GRU (CT-GRU; Mozer, Kazakov and Lindsey 2017), the LTC paper's baseline.

Each unit i keeps M traces ``hh[i, k]`` that decay with fixed time scales
``tau_k = 10^(0.5 k)``, k = 0..M-1 (M = 8 by default: 1 to ~3162 time units). For input
``x``, elapsed time ``dt`` and state ``hh`` (shape ``(units, M)``, flattened to
``units * M``)::

    h      = sum_k hh[:, k]                                   # the unit's visible value
    ln_r   = W_r [x; h] + b_r                                 # (units, M) retrieval logits
    r      = softmax_k(-(ln_r - ln tau_k)^2)                  # retrieval-scale weights
    q      = tanh(W_q [x; sum_k r[:, k] hh[:, k]] + b_q)      # the event signal, (units,)
    ln_s   = W_s [x; h] + b_s
    s      = softmax_k(-(ln_s - ln tau_k)^2)                  # storage-scale weights
    hh'    = ((1 - s) * hh + s * q[:, None]) * exp(-dt / tau_k)
    output = sum_k hh'[:, k]

as in the paper's TensorFlow code: ``W_r`` and ``W_s`` map to one log time scale per unit
*and* trace (units * M outputs; Mozer et al. use one per unit), which gives the Table S2
count ``2 m k^2 + 2 m k + k^2 + k`` recurrent parameters (k units, m = M traces) plus
``(2 m k + k) * inputs`` input weights. The event is stored and then decays over the
elapsed time ``dt`` (Mozer et al.'s ``Delta t``; the paper's code uses a fixed step), so
``dt = 0`` stores without decay.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from ltcjax.cell import RecurrentCell
from ltcjax.validation import check_positive_int


class CTGRUParams(NamedTuple):
    """CT-GRU parameters; kernels laid out ``[inputs + units, outputs]`` (rows: x then h),
    the retrieval/storage outputs ordered unit-major (``unit * M + k``)."""

    retrieval_kernel: Float[Array, "fan_in units_x_scales"]
    retrieval_bias: Float[Array, " units_x_scales"]
    event_kernel: Float[Array, "fan_in units"]
    event_bias: Float[Array, " units"]
    storage_kernel: Float[Array, "fan_in units_x_scales"]
    storage_bias: Float[Array, " units_x_scales"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class CTGRUCell(RecurrentCell):
    """A continuous-time GRU cell with ``num_scales`` fixed time scales ``10^(0.5 k)``.

    Args:
        input_size: number of input features.
        units: number of units (the output size); the state has ``units * num_scales``
            entries.
        num_scales: M, the number of time scales (paper: 8).

    Example:
        >>> import jax, jax.numpy as jnp
        >>> cell = CTGRUCell(input_size=3, units=8)
        >>> params = cell.init(jax.random.key(0))
        >>> ys, hh = cell.apply(params, jnp.ones((2, 5, 3)), timespans=jnp.full((2, 5), 0.5))
        >>> ys.shape, hh.shape
        ((2, 5, 8), (2, 64))
    """

    input_size: int
    units: int
    num_scales: int = 8

    def __post_init__(self) -> None:
        check_positive_int("input_size", self.input_size)
        check_positive_int("units", self.units)
        check_positive_int("num_scales", self.num_scales)

    @property
    def state_size(self) -> int:
        return self.units * self.num_scales

    @property
    def output_size(self) -> int:
        return self.units

    @property
    def log_time_scales(self) -> np.ndarray:
        """``ln tau_k = 0.5 k ln 10`` for k = 0..M-1."""
        return 0.5 * np.arange(self.num_scales) * math.log(10.0)

    @property
    def time_scales(self) -> np.ndarray:
        """``tau_k = 10^(0.5 k)``.

        Example:
            >>> CTGRUCell(input_size=1, units=1, num_scales=3).time_scales.round(3).tolist()
            [1.0, 3.162, 10.0]
        """
        return np.exp(self.log_time_scales)

    def init(self, key: jax.Array, dtype: Any = jnp.float32) -> CTGRUParams:
        """Glorot-uniform kernels and zero biases (the TF ``Dense`` defaults).

        Example:
            >>> import jax
            >>> p = CTGRUCell(input_size=2, units=4, num_scales=3).init(jax.random.key(0))
            >>> p.retrieval_kernel.shape, p.event_kernel.shape
            ((6, 12), (6, 4))
        """
        fan_in, n, m = self.input_size + self.units, self.units, self.num_scales
        kr, kq, ks = jax.random.split(key, 3)
        glorot = jax.nn.initializers.xavier_uniform()
        return CTGRUParams(
            retrieval_kernel=glorot(kr, (fan_in, n * m), dtype),
            retrieval_bias=jnp.zeros((n * m,), dtype),
            event_kernel=glorot(kq, (fan_in, n), dtype),
            event_bias=jnp.zeros((n,), dtype),
            storage_kernel=glorot(ks, (fan_in, n * m), dtype),
            storage_bias=jnp.zeros((n * m,), dtype),
        )

    def _scale_weights(self, logits: Array) -> Array:
        logits = logits.reshape(*logits.shape[:-1], self.units, self.num_scales)
        log_tau = jnp.asarray(self.log_time_scales, logits.dtype)
        return jax.nn.softmax(-jnp.square(logits - log_tau), axis=-1)

    def step(
        self,
        params: CTGRUParams,
        state: Float[Array, " state"],
        x: Float[ArrayLike, " inputs"],
        dt: Float[ArrayLike, ""],
        *,
        key: jax.Array | None = None,
    ) -> tuple[Float[Array, " state"], Float[Array, " units"]]:
        """Store the event, then decay over ``dt``; ``(hh', sum_k hh') = step(...)``."""
        p = params
        hh = state.reshape(*state.shape[:-1], self.units, self.num_scales)
        x = jnp.asarray(x, state.dtype)
        h = jnp.sum(hh, axis=-1)
        fused = jnp.concatenate([x, h], axis=-1)
        r = self._scale_weights(fused @ p.retrieval_kernel + p.retrieval_bias)
        retrieved = jnp.sum(r * hh, axis=-1)
        q = jnp.tanh(jnp.concatenate([x, retrieved], axis=-1) @ p.event_kernel + p.event_bias)
        s = self._scale_weights(fused @ p.storage_kernel + p.storage_bias)
        tau = jnp.asarray(self.time_scales, state.dtype)
        decay = jnp.exp(-jnp.asarray(dt, state.dtype)[..., None, None] / tau)
        hh = ((1.0 - s) * hh + s * q[..., None]) * decay
        return hh.reshape(state.shape), jnp.sum(hh, axis=-1)
