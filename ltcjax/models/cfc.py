"""Closed-form continuous-time (CfC) cells, with ncps 1.0.1 (PyTorch) semantics.

A CfC step replaces the ODE solve of an LTC by a closed-form, time-gated interpolation
(Hasani et al., Nature Machine Intelligence 2022). For input ``x``, state ``h`` and elapsed
time ``t``::

    z   = backbone([x; h])                     # Linear + activation layers; z = [x; h] if none
    ff1 = tanh(W1 z + b1)     ff2 = tanh(W2 z + b2)
    s   = sigmoid((Wa z + ba) * t + (Wb z + bb))   # the time gate
    default:  h' = ff1 * (1 - s) + s * ff2
    no_gate:  h' = ff1 + s * ff2
    pure:     h' = -A * exp(-t * (|w_tau| + |f|)) * f + A,   with f = W1 z + b1 (no tanh)

With a wiring, as ncps's ``WiredCfCCell``: one CfC layer per wiring layer (for an NCP:
inter -> command -> motor), each without backbone, taking the previous layer's new state as
input; the ``ff1``/``ff2`` kernels are multiplied by the layer's adjacency block (and ones
over the layer's own state); the time heads are not masked. The state is the concatenation
of the layers' states in layer order (so for an NCP ``[inter, command, motor]``, unlike the
wiring's neuron numbering) and the output is the last layer's state. For a one-layer wiring
(FullyConnected, Random) that is *all* units, as in ncps, not only the motor neurons.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Literal, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from ltcjax.cell import RecurrentCell
from ltcjax.custom_types import Dim, PyTree
from ltcjax.deprecation import warn_renamed
from ltcjax.models.lstm import LSTMParams, init_lstm, lstm_step
from ltcjax.validation import check_choice, check_int, check_positive_int
from ltcjax.wirings import Wiring, resolve_wiring

MODES = ("default", "no_gate", "pure")
ACTIVATIONS = ("lecun_tanh", "tanh", "relu", "silu", "gelu")


def lecun_tanh(x: ArrayLike) -> Array:
    """``1.7159 * tanh(0.666 * x)`` (LeCun et al.'s scaled tanh, as in ncps).

    Example:
        >>> round(float(lecun_tanh(1.0)), 4)
        0.9992
    """
    return 1.7159 * jnp.tanh(0.666 * jnp.asarray(x))


_ACTIVATION_FNS = {
    "lecun_tanh": lecun_tanh,
    "tanh": jnp.tanh,
    "relu": jax.nn.relu,
    "silu": jax.nn.silu,
    "gelu": lambda x: jax.nn.gelu(x, approximate=False),  # torch's nn.GELU default
}


class Dense(NamedTuple):
    """A linear layer ``x @ kernel + bias``; kernel laid out ``[in, out]``."""

    kernel: Float[Array, "inputs outputs"]
    bias: Float[Array, " outputs"]


class CfCLayerParams(NamedTuple):
    """One CfC layer. ``ff2``/``time_a``/``time_b`` are None in pure mode, ``w_tau``/``A``
    otherwise; ``backbone`` is empty with zero backbone layers (always, when wired)."""

    backbone: tuple[Dense, ...]
    ff1: Dense
    ff2: Dense | None = None
    time_a: Dense | None = None
    time_b: Dense | None = None
    w_tau: Float[Array, " hidden"] | None = None
    A: Float[Array, " hidden"] | None = None


class CfCParams(NamedTuple):
    """CfC parameters: one layer (or one per wiring layer), the mixed-memory LSTM and the
    output projection (``proj_size``), None where absent."""

    layers: tuple[CfCLayerParams, ...]
    memory: LSTMParams | None = None
    proj: Dense | None = None


def _torch_linear_init(key: jax.Array, fan_in: int, fan_out: int, dtype: Any) -> Dense:
    """Xavier-uniform kernel (ncps ``init_weights``) and torch's default U(+-1/sqrt(in)) bias."""
    kw, kb = jax.random.split(key)
    kernel = jax.nn.initializers.xavier_uniform()(kw, (fan_in, fan_out), dtype)
    bound = 1.0 / math.sqrt(fan_in)
    return Dense(kernel, jax.random.uniform(kb, (fan_out,), dtype, -bound, bound))


@dataclasses.dataclass(frozen=True, kw_only=True)
class CfCCell(RecurrentCell):
    """A closed-form continuous-time cell (ncps ``CfC``: cell, mixed memory and projection).

    Args:
        input_size: number of input features.
        units: number of hidden units; or give ``wiring`` instead (wired CfC).
        wiring: a :mod:`ltcjax.wirings` wiring; one CfC layer per wiring layer, no backbone
            (as in ncps, giving ``backbone_units``, ``backbone_layers`` or
            ``backbone_dropout`` together with a wiring is an error).
        mode: "default" (gated interpolation), "no_gate" or "pure" (the direct solution).
        backbone_units: width of each backbone layer (default ``None``: ncps's 128).
        backbone_layers: number of backbone layers (0: the heads read ``[x; h]`` directly;
            default ``None``: ncps's 1).
        backbone_activation: "lecun_tanh" (default), "tanh", "relu", "silu" or "gelu".
        backbone_dropout: dropout rate, applied as ncps torch does: after the activation of
            backbone layers 2, 3, ... (never after the first, so it has no effect with one
            backbone layer). Dropout is only active when a key is given (``step(...,
            key=k)`` or ``apply(..., key=k)``); without a key the cell is
            deterministic, like ncps in eval mode. Default ``None``: 0.0.
        mixed_memory: run an LSTM cell (forget bias 1) before each CfC step; its hidden
            output replaces the CfC state, and the state is the pair ``(h, c)``.
        proj_size: if given, a linear map of each output to ``proj_size`` features (ncps's
            ``fc``); the state is not projected.

    The elapsed time ``dt`` enters the time gate (default modes) or the exponential (pure
    mode); ncps's default when no timespans are given is 1.0, as here.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from ltcjax import AutoNCP
        >>> cell = CfCCell(input_size=3, units=8, backbone_units=16)
        >>> params = cell.init(jax.random.key(0))
        >>> ys, h = cell.apply(params, jnp.ones((2, 5, 3)), timespans=jnp.full((2, 5), 0.3))
        >>> ys.shape, h.shape
        ((2, 5, 8), (2, 8))
        >>> wired = CfCCell(input_size=3, wiring=AutoNCP(10, 2), mode="pure")
        >>> ys, h = wired.apply(wired.init(jax.random.key(1)), jnp.ones((5, 3)))
        >>> ys.shape, h.shape
        ((5, 2), (10,))
    """

    input_size: int
    units: int | Wiring | None = None
    wiring: Wiring | None = None
    mode: Literal["default", "no_gate", "pure"] = "default"
    backbone_units: int | None = None
    backbone_layers: int | None = None
    backbone_activation: Literal["lecun_tanh", "tanh", "relu", "silu", "gelu"] = "lecun_tanh"
    backbone_dropout: float | None = None
    mixed_memory: bool = False
    proj_size: int | None = None

    def __post_init__(self) -> None:
        if isinstance(self.units, Wiring) and self.wiring is None:  # ncps: CfC(in, wiring)
            object.__setattr__(self, "wiring", self.units)
            object.__setattr__(self, "units", None)
        check_positive_int("input_size", self.input_size)
        check_choice("mode", self.mode, MODES)
        check_choice("backbone_activation", self.backbone_activation, ACTIVATIONS)
        if isinstance(self.wiring, Wiring):
            for name in ("backbone_units", "backbone_layers", "backbone_dropout"):
                if getattr(self, name) is not None:
                    raise ValueError(
                        f"{name}: a wired CfC has no backbone (as in ncps); expected None "
                        f"with wiring={self.wiring!r}, got {getattr(self, name)!r}"
                    )
            # ncps's wired CfC: one backbone-free CfC layer per wiring layer.
            object.__setattr__(self, "backbone_units", 0)
            object.__setattr__(self, "backbone_layers", 0)
            object.__setattr__(self, "backbone_dropout", 0.0)
        else:
            defaults = (("backbone_units", 128), ("backbone_layers", 1), ("backbone_dropout", 0.0))
            for name, default in defaults:
                if getattr(self, name) is None:
                    object.__setattr__(self, name, default)
        check_int("backbone_layers", self.backbone_layers, minimum=0)
        if self.backbone_layers > 0:
            check_positive_int("backbone_units", self.backbone_units)
        if not 0.0 <= float(self.backbone_dropout) < 1.0:
            raise ValueError(
                f"backbone_dropout: expected a rate in [0, 1), got {self.backbone_dropout!r}"
            )
        check_positive_int("proj_size", self.proj_size, allow_none=True)
        wiring = resolve_wiring(self.wiring, self.units, self.input_size)
        if wiring is None:
            return
        object.__setattr__(self, "wiring", wiring)
        object.__setattr__(self, "units", wiring.units)

    # -- sizes ---------------------------------------------------------------------------
    @property
    def layer_sizes(self) -> tuple[int, ...]:
        """Units of each CfC layer (one entry unless wired)."""
        if self.wiring is None:
            return (self.units,)
        return tuple(
            len(self.wiring.get_neurons_of_layer(i)) for i in range(self.wiring.num_layers)
        )

    @property
    def state_size(self) -> int:
        return self.units

    @property
    def output_size(self) -> int:
        return self.proj_size if self.proj_size is not None else self.layer_sizes[-1]

    def layer_masks(self) -> tuple[np.ndarray | None, ...]:
        """Per layer, the ``[in + hidden, hidden]`` 0/1 mask of ``ff1``/``ff2`` (None unwired).

        Example:
            >>> from ltcjax import NCP
            >>> cell = CfCCell(input_size=2, wiring=NCP(3, 2, 1, 2, 2, 1, 2))
            >>> [m.shape for m in cell.layer_masks()]
            [(5, 3), (5, 2), (3, 1)]
        """
        if self.wiring is None:
            return (None,)
        w = self.wiring
        masks = []
        for layer in range(w.num_layers):
            neurons = w.get_neurons_of_layer(layer)
            if layer == 0:
                block = np.asarray(w.sensory_adjacency_matrix)[:, neurons]
            else:
                prev = w.get_neurons_of_layer(layer - 1)
                block = np.asarray(w.adjacency_matrix)[np.ix_(prev, neurons)]
            own = np.ones((len(neurons), len(neurons)))
            masks.append(np.abs(np.concatenate([block, own], axis=0)).astype(np.float32))
        return tuple(masks)

    # -- parameters ----------------------------------------------------------------------
    def init(self, key: jax.Array, dtype: Any = jnp.float32) -> CfCParams:
        """ncps initialisation: xavier-uniform for every 2-D weight (including pure mode's
        ``w_tau`` and ``A``, which ncps's ``init_weights`` overwrites), torch's default
        U(+-1/sqrt(fan_in)) for biases, the ncps LSTM for mixed memory, and torch's default
        ``nn.Linear`` for the projection.

        Example:
            >>> import jax
            >>> p = CfCCell(input_size=2, units=4, backbone_units=8).init(jax.random.key(0))
            >>> p.layers[0].backbone[0].kernel.shape, p.layers[0].ff1.kernel.shape
            ((6, 8), (8, 4))
        """
        k_layers, k_mem, k_proj = jax.random.split(key, 3)
        layers = []
        in_features = self.input_size
        for size, k in zip(
            self.layer_sizes, jax.random.split(k_layers, len(self.layer_sizes)), strict=True
        ):
            layers.append(self._init_layer(k, in_features, size, dtype))
            in_features = size
        proj = None
        if self.proj_size is not None:
            kw, kb = jax.random.split(k_proj)
            fan_in = self.layer_sizes[-1]
            bound = 1.0 / math.sqrt(fan_in)
            proj = Dense(
                jax.random.uniform(kw, (fan_in, self.proj_size), dtype, -bound, bound),
                jax.random.uniform(kb, (self.proj_size,), dtype, -bound, bound),
            )
        memory = None
        if self.mixed_memory:
            memory = jax.tree.map(
                lambda a: a.astype(dtype), init_lstm(k_mem, self.input_size, self.units)
            )
        return CfCParams(layers=tuple(layers), memory=memory, proj=proj)

    def _init_layer(self, key: jax.Array, in_features: int, hidden: int, dtype: Any):
        keys = iter(jax.random.split(key, self.backbone_layers + 6))
        backbone = []
        width = in_features + hidden
        for _ in range(self.backbone_layers):
            backbone.append(_torch_linear_init(next(keys), width, self.backbone_units, dtype))
            width = self.backbone_units
        ff1 = _torch_linear_init(next(keys), width, hidden, dtype)
        if self.mode == "pure":
            bound = math.sqrt(6.0 / (hidden + 1))  # xavier on ncps's (1, hidden) parameters
            w_tau = jax.random.uniform(next(keys), (hidden,), dtype, -bound, bound)
            a = jax.random.uniform(next(keys), (hidden,), dtype, -bound, bound)
            return CfCLayerParams(tuple(backbone), ff1, w_tau=w_tau, A=a)
        ff2, time_a, time_b = (
            _torch_linear_init(next(keys), width, hidden, dtype) for _ in range(3)
        )
        return CfCLayerParams(tuple(backbone), ff1, ff2, time_a, time_b)

    def initial_state(self, batch_shape: tuple[Dim, ...] = (), dtype: Any = jnp.float32):
        h = jnp.zeros((*batch_shape, self.units), dtype)
        return (h, jnp.zeros_like(h)) if self.mixed_memory else h

    # -- dynamics ------------------------------------------------------------------------
    def layer_step(
        self,
        p: CfCLayerParams,
        h: Float[Array, "... hidden"],
        x: Float[ArrayLike, "... inputs"],
        dt: Float[ArrayLike, ...],
        mask: np.ndarray | None = None,
        key: jax.Array | None = None,
    ) -> Float[Array, "... hidden"]:
        """One CfC layer's closed-form update (see the module docstring for the equations)."""
        z = jnp.concatenate([x, h], axis=-1)
        act = _ACTIVATION_FNS[self.backbone_activation]
        for i, layer in enumerate(p.backbone):
            z = act(z @ layer.kernel + layer.bias)
            if i > 0 and key is not None and self.backbone_dropout > 0:
                key, sub = jax.random.split(key)
                keep = jax.random.bernoulli(sub, 1.0 - self.backbone_dropout, z.shape)
                z = jnp.where(keep, z / (1.0 - self.backbone_dropout), 0.0)
        dt = jnp.asarray(dt, z.dtype)[..., None]

        def head(d: Dense, masked: bool) -> Array:
            kernel = d.kernel * mask if (masked and mask is not None) else d.kernel
            return z @ kernel + d.bias

        ff1 = head(p.ff1, True)
        if self.mode == "pure":
            return -p.A * jnp.exp(-dt * (jnp.abs(p.w_tau) + jnp.abs(ff1))) * ff1 + p.A
        ff1 = jnp.tanh(ff1)
        ff2 = jnp.tanh(head(p.ff2, True))
        gate = jax.nn.sigmoid(head(p.time_a, False) * dt + head(p.time_b, False))
        if self.mode == "no_gate":
            return ff1 + gate * ff2
        return ff1 * (1.0 - gate) + gate * ff2

    @property
    def is_stochastic(self) -> bool:
        """Whether a ``key`` turns on backbone dropout (``backbone_dropout > 0``)."""
        return self.backbone_dropout > 0

    def step(self, params: CfCParams, state, x, dt, *, key: jax.Array | None = None):
        """Advance one observation: ``(state, y) = step(params, state, x, dt)``.

        ``key`` turns on backbone dropout for this step (training); None is deterministic.
        """
        if self.mixed_memory:
            h, c = state
            h, c = lstm_step(params.memory, h, c, x)
        else:
            h = state
        sizes = self.layer_sizes
        splits = np.cumsum(sizes)[:-1].tolist()
        hs = jnp.split(h, splits, axis=-1) if len(sizes) > 1 else [h]
        inputs, new = x, []
        keys = [None] * len(sizes) if key is None else list(jax.random.split(key, len(sizes)))
        for p, h_l, mask, k in zip(params.layers, hs, self.layer_masks(), keys, strict=True):
            if mask is not None:  # constants follow the params' dtype (precision policy)
                mask = mask.astype(p.ff1.kernel.dtype)
            inputs = self.layer_step(p, h_l, inputs, dt, mask, k)
            new.append(inputs)
        h = jnp.concatenate(new, axis=-1) if len(new) > 1 else new[0]
        y = inputs
        if params.proj is not None:
            y = y @ params.proj.kernel + params.proj.bias
        return ((h, c) if self.mixed_memory else h), y

    def apply(
        self,
        params: CfCParams,
        inputs: Float[ArrayLike, "*batch time features"],
        *,
        dropout_key: jax.Array | None = None,
        **kwargs: Any,
    ) -> tuple[jax.Array, PyTree]:
        """Run over a sequence (arguments of :func:`ltcjax.unroll`).

        ``key`` (``dropout_key`` is its deprecated older name): if given (and
        ``backbone_dropout > 0``), backbone dropout is applied with a fresh mask at every
        step of every sequence (training mode); by default the cell is deterministic (ncps
        eval mode).

        Example:
            >>> import jax, jax.numpy as jnp
            >>> cell = CfCCell(input_size=2, units=4, backbone_layers=2, backbone_units=8,
            ...                backbone_dropout=0.5)
            >>> p = cell.init(jax.random.key(0))
            >>> ys, _ = cell.apply(p, jnp.ones((3, 6, 2)), key=jax.random.key(1))
            >>> ys.shape
            (3, 6, 4)
        """
        if dropout_key is not None:
            warn_renamed("CfCCell.apply(..., dropout_key=k)", "CfCCell.apply(..., key=k)")
            if kwargs.get("key") is not None:
                raise ValueError("key, dropout_key: expected at most one of them, got both")
            kwargs["key"] = dropout_key
        return super().apply(params, inputs, **kwargs)
