"""Import trained weights from ncps (PyTorch) models, and export LTC weights back to them.

The converters take a state dict as a mapping of names to numpy arrays (so torch is not
needed at import time): ``{k: v.detach().numpy() for k, v in model.state_dict().items()}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jax.numpy as jnp
import numpy as np

from ltcjax.models.cfc import MODES, CfCCell, CfCLayerParams, CfCParams, Dense
from ltcjax.models.lstm import LSTMParams
from ltcjax.models.ltc import LTCCell, LTCParams
from ltcjax.validation import argument_error, check_choice, check_params
from ltcjax.wirings import Wiring

_LTC_KEYS = (
    "gleak",
    "vleak",
    "cm",
    "sigma",
    "mu",
    "w",
    "erev",
    "sensory_sigma",
    "sensory_mu",
    "sensory_w",
    "sensory_erev",
)


def _strip_prefix(state_dict: Mapping[str, Any], prefix: str) -> dict[str, np.ndarray]:
    return {k[len(prefix) :]: np.asarray(v) for k, v in state_dict.items() if k.startswith(prefix)}


def _ncps_lstm(state_dict: Mapping[str, Any], dtype: Any) -> LSTMParams:
    """The mixed-memory LSTM of an ncps LTC/CfC state dict (torch Linear weights transposed)."""
    lstm = _strip_prefix(state_dict, "lstm.")
    return LSTMParams(
        input_kernel=jnp.asarray(lstm["input_map.weight"].T, dtype),
        input_bias=jnp.asarray(lstm["input_map.bias"], dtype),
        recurrent_kernel=jnp.asarray(lstm["recurrent_map.weight"].T, dtype),
    )


def from_ncps_ltc(
    state_dict: Mapping[str, Any],
    *,
    wiring: Wiring | None = None,
    implicit_param_constraints: bool = True,
    ode_unfolds: int = 6,
    epsilon: float = 1e-8,
    dtype: Any = jnp.float32,
) -> tuple[LTCCell, LTCParams]:
    """Convert an ncps ``LTC`` (or ``LTCCell``) state dict into ``(cell, params)``.

    Args:
        state_dict: names to numpy arrays, from ``ncps.torch.LTC(...).state_dict()`` (keys
            ``rnn_cell.*`` and, with mixed memory, ``lstm.*``) or from an ``LTCCell``.
        wiring: the ltcjax wiring the model was built with. If None, a wiring is made from
            the state dict's sparsity masks (polarities come from the trained ``erev``).
        implicit_param_constraints: as passed to ncps (True is ncps ``LTC``'s default and
            maps to ``constraint="softplus"``; False maps to ``"clip"``).
        ode_unfolds, epsilon: as passed to ncps.

    Returns:
        An :class:`~ltcjax.LTCCell` and its :class:`~ltcjax.LTCParams`; ``cell.apply(params,
        x, timespans=ts)`` reproduces ``model(x, timespans=ts)``.

    Example:
        >>> import numpy as np
        >>> from ltcjax import FullyConnected, LTCCell
        >>> import jax
        >>> cell = LTCCell(input_size=2, units=3)
        >>> p = cell.init(jax.random.key(0))
        >>> sd = {f"rnn_cell.{k}": np.asarray(v) for k, v in p._asdict().items() if v is not None}
        >>> mask, sensory_mask = cell.sparsity_masks()
        >>> sd["rnn_cell.sparsity_mask"], sd["rnn_cell.sensory_sparsity_mask"] = mask, sensory_mask
        >>> cell2, p2 = from_ncps_ltc(sd, wiring=FullyConnected(3))
        >>> cell2.units, p2.w.shape
        (3, (3, 3))
    """
    sd = _strip_prefix(state_dict, "rnn_cell.")
    if not sd:
        sd = {k: np.asarray(v) for k, v in state_dict.items()}
    missing = [k for k in (*_LTC_KEYS, "sparsity_mask", "sensory_sparsity_mask") if k not in sd]
    if missing:
        raise argument_error(
            "state_dict",
            f"an ncps LTC state dict (missing LTC entries {missing})",
            f"keys {sorted(sd)}",
        )
    mask, sensory_mask = sd["sparsity_mask"], sd["sensory_sparsity_mask"]
    input_size, units = sensory_mask.shape
    if "output_w" in sd:
        motor = sd["output_w"].shape[0]
    elif wiring is not None:
        motor = wiring.output_dim
    else:
        raise argument_error(
            "wiring", "the wiring (its motor-neuron count: the state dict has no output_w)", "None"
        )
    if wiring is None:
        wiring = Wiring.from_adjacency(
            mask.astype(np.int8), motor, sensory_adjacency=sensory_mask.astype(np.int8)
        )
    else:
        wiring = wiring.build(input_size)
        if not np.array_equal(np.abs(wiring.adjacency_matrix), mask) or not np.array_equal(
            np.abs(wiring.sensory_adjacency_matrix), sensory_mask
        ):
            raise argument_error(
                "wiring",
                "an adjacency equal to the state dict's sparsity masks",
                "a wiring whose adjacency does not match them",
            )

    def mapping(w: str, b: str) -> str:
        return "affine" if b in sd else ("linear" if w in sd else "none")

    mixed = any(k.startswith("lstm.") for k in state_dict)
    cell = LTCCell(
        input_size=input_size,
        wiring=wiring,
        input_mapping=mapping("input_w", "input_b"),
        output_mapping=mapping("output_w", "output_b"),
        ode_unfolds=ode_unfolds,
        constraint="softplus" if implicit_param_constraints else "clip",
        mixed_memory=mixed,
        epsilon=epsilon,
    )
    memory = _ncps_lstm(state_dict, dtype) if mixed else None

    def get(k: str):
        return jnp.asarray(sd[k], dtype) if k in sd else None

    params = LTCParams(
        **{k: get(k) for k in _LTC_KEYS},
        input_w=get("input_w"),
        input_b=get("input_b"),
        output_w=get("output_w"),
        output_b=get("output_b"),
        memory=memory,
    )
    return cell, params


def to_ncps_ltc(cell: LTCCell, params: LTCParams) -> dict[str, np.ndarray]:
    """The ncps ``LTC`` state dict (keys ``rnn_cell.*``, and ``lstm.*`` with mixed memory) of
    an LTC: the inverse of :func:`from_ncps_ltc`. Load it into torch with
    ``model.load_state_dict({k: torch.from_numpy(v) for k, v in sd.items()})``; the ncps
    model must be built with the same wiring and options (``implicit_param_constraints``
    is True for ``constraint="softplus"``).

    Example:
        >>> import jax, numpy as np
        >>> from ltcjax import LTCCell
        >>> cell = LTCCell(input_size=2, units=3)
        >>> params = cell.init(jax.random.key(0))
        >>> _, back = from_ncps_ltc(to_ncps_ltc(cell, params))
        >>> bool(np.array_equal(back.w, params.w))
        True
    """
    check_params(cell, params)
    sd = {
        f"rnn_cell.{k}": np.asarray(v)
        for k, v in params._asdict().items()
        if v is not None and k != "memory"
    }
    mask, sensory_mask = cell.sparsity_masks()
    sd["rnn_cell.sparsity_mask"], sd["rnn_cell.sensory_sparsity_mask"] = mask, sensory_mask
    if params.memory is not None:
        m = params.memory
        sd["lstm.input_map.weight"] = np.asarray(m.input_kernel).T
        sd["lstm.input_map.bias"] = np.asarray(m.input_bias)
        sd["lstm.recurrent_map.weight"] = np.asarray(m.recurrent_kernel).T
    return sd


def _dense(sd: Mapping[str, np.ndarray], name: str, dtype: Any) -> Dense:
    """A torch ``nn.Linear``'s ``weight`` ([out, in]) and ``bias`` as a :class:`Dense`."""
    return Dense(jnp.asarray(sd[f"{name}.weight"].T, dtype), jnp.asarray(sd[f"{name}.bias"], dtype))


def _cfc_layer(sd: Mapping[str, np.ndarray], mode: str, dtype: Any) -> CfCLayerParams:
    indices = sorted(
        int(k.split(".")[1]) for k in sd if k.startswith("backbone.") and k.endswith(".weight")
    )
    backbone = tuple(_dense(sd, f"backbone.{i}", dtype) for i in indices)
    ff1 = _dense(sd, "ff1", dtype)
    if mode == "pure":
        return CfCLayerParams(
            backbone,
            ff1,
            w_tau=jnp.asarray(sd["w_tau"].reshape(-1), dtype),
            A=jnp.asarray(sd["A"].reshape(-1), dtype),
        )
    heads = (_dense(sd, n, dtype) for n in ("ff2", "time_a", "time_b"))
    return CfCLayerParams(backbone, ff1, *heads)


def from_ncps_cfc(
    state_dict: Mapping[str, Any],
    *,
    wiring: Wiring | None = None,
    mode: str = "default",
    backbone_activation: str = "lecun_tanh",
    backbone_dropout: float = 0.0,
    dtype: Any = jnp.float32,
) -> tuple[CfCCell, CfCParams]:
    """Convert an ncps ``CfC`` state dict into ``(cell, params)``.

    Sizes (inputs, units, backbone width and depth, mixed memory, ``proj_size``) are read
    from the state dict; what it cannot tell is passed as to ``ncps.torch.CfC``.

    Args:
        state_dict: names to numpy arrays, from ``ncps.torch.CfC(...).state_dict()`` (keys
            ``rnn_cell.*``, ``lstm.*`` with mixed memory, ``fc.*`` with ``proj_size``) or
            from a bare ``CfCCell`` / ``WiredCfCCell``.
        wiring: the ltcjax wiring of a wired CfC (required when the state dict has
            ``rnn_cell.layer_*`` entries); its masks are checked against the state dict's.
        mode: "default", "no_gate" or "pure", as passed to ncps (pure is checked against the
            state dict).
        backbone_activation, backbone_dropout: as passed to ncps (``activation`` there).

    Returns:
        A :class:`~ltcjax.models.cfc.CfCCell` and its :class:`~ltcjax.models.cfc.CfCParams`;
        ``cell.apply(params, x, timespans=ts)`` reproduces ``model.eval()(x, timespans=ts)``.

    Example:
        >>> import jax, numpy as np
        >>> cell = CfCCell(input_size=2, units=3, backbone_units=4)
        >>> p = cell.init(jax.random.key(0))
        >>> layer = p.layers[0]
        >>> sd = {f"rnn_cell.{n}.weight": np.asarray(getattr(layer, n).kernel).T
        ...       for n in ("ff1", "ff2", "time_a", "time_b")}
        >>> sd |= {f"rnn_cell.{n}.bias": np.asarray(getattr(layer, n).bias)
        ...        for n in ("ff1", "ff2", "time_a", "time_b")}
        >>> sd |= {"rnn_cell.backbone.0.weight": np.asarray(layer.backbone[0].kernel).T,
        ...        "rnn_cell.backbone.0.bias": np.asarray(layer.backbone[0].bias)}
        >>> cell2, p2 = from_ncps_cfc(sd)
        >>> cell2 == cell
        True
    """
    check_choice("mode", mode, MODES)
    sd = _strip_prefix(state_dict, "rnn_cell.")
    if not sd:  # a bare ncps CfCCell / WiredCfCCell state dict
        sd = {k: np.asarray(v) for k, v in state_dict.items()}
    if "ff1.weight" not in sd and not any(k.startswith("layer_") for k in sd):
        raise argument_error(
            "state_dict",
            "an ncps CfC state dict (rnn_cell.ff1.* entries)",
            f"keys {sorted(state_dict)}",
        )
    wired = any(k.startswith("layer_") for k in sd)
    if wired:
        if wiring is None:
            raise argument_error(
                "wiring", "the wiring a wired CfC state dict was built with", "None"
            )
        n_layers = len({k.split(".")[0] for k in sd if k.startswith("layer_")})
        layer_sds = [_strip_prefix(sd, f"layer_{i}.") for i in range(n_layers)]
        input_size = layer_sds[0]["ff1.weight"].shape[1] - layer_sds[0]["ff1.weight"].shape[0]
    else:
        layer_sds = [sd]
    is_pure = "w_tau" in layer_sds[0]
    if is_pure != (mode == "pure"):
        raise argument_error(
            "mode", f"{'pure' if is_pure else 'a gated mode'} (the state dict's CfC)", repr(mode)
        )
    proj_size = state_dict["fc.weight"].shape[0] if "fc.weight" in state_dict else None
    mixed = any(k.startswith("lstm.") for k in state_dict)
    if wired:
        cell = CfCCell(
            input_size=int(input_size),
            wiring=wiring,
            mode=mode,
            mixed_memory=mixed,
            proj_size=proj_size,
        )
        if len(cell.layer_sizes) != n_layers:
            raise argument_error(
                "wiring", f"{n_layers} layers (as in the state dict)", len(cell.layer_sizes)
            )
        for i, (mask, lsd) in enumerate(zip(cell.layer_masks(), layer_sds, strict=True)):
            if "sparsity_mask" in lsd and not np.array_equal(lsd["sparsity_mask"].T, mask):
                raise argument_error(
                    "wiring", f"layer {i}'s mask as in the state dict", "a different mask"
                )
    else:
        backbone = sorted(
            int(k.split(".")[1]) for k in sd if k.startswith("backbone.") and k.endswith(".weight")
        )
        units = sd["ff1.weight"].shape[0]
        if backbone:
            input_size = sd[f"backbone.{backbone[0]}.weight"].shape[1] - units
            backbone_units = sd[f"backbone.{backbone[0]}.weight"].shape[0]
        else:
            input_size = sd["ff1.weight"].shape[1] - units
            backbone_units = 128
        cell = CfCCell(
            input_size=int(input_size),
            units=int(units),
            mode=mode,
            backbone_units=int(backbone_units),
            backbone_layers=len(backbone),
            backbone_activation=backbone_activation,
            backbone_dropout=backbone_dropout,
            mixed_memory=mixed,
            proj_size=proj_size,
        )
    memory = _ncps_lstm(state_dict, dtype) if mixed else None
    proj = _dense(_strip_prefix(state_dict, ""), "fc", dtype) if proj_size is not None else None
    layers = tuple(_cfc_layer(lsd, mode, dtype) for lsd in layer_sds)
    return cell, CfCParams(layers=layers, memory=memory, proj=proj)
