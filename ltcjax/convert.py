"""Import trained weights from ncps (PyTorch) models.

The converters take a state dict as a mapping of names to numpy arrays (so torch is not
needed at import time): ``{k: v.detach().numpy() for k, v in model.state_dict().items()}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jax.numpy as jnp
import numpy as np

from ltcjax.lstm import LSTMParams
from ltcjax.ltc import LTCCell, LTCParams
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
        >>> cell2, p2 = from_ncps_ltc(sd, wiring=FullyConnected(3))
        >>> cell2.units, p2.w.shape
        (3, (3, 3))
    """
    sd = _strip_prefix(state_dict, "rnn_cell.")
    if not sd:
        sd = {k: np.asarray(v) for k, v in state_dict.items()}
    missing = [k for k in (*_LTC_KEYS, "sparsity_mask", "sensory_sparsity_mask") if k not in sd]
    if missing:
        raise ValueError(f"state_dict: missing LTC entries {missing}; got keys {sorted(sd)}")
    mask, sensory_mask = sd["sparsity_mask"], sd["sensory_sparsity_mask"]
    input_size, units = sensory_mask.shape
    if "output_w" in sd:
        motor = sd["output_w"].shape[0]
    elif wiring is not None:
        motor = wiring.output_dim
    else:
        raise ValueError(
            "wiring: needed to know the motor-neuron count when the state dict has no output_w"
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
            raise ValueError("wiring: its adjacency does not match the state dict's sparsity masks")

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
    memory = None
    if mixed:
        lstm = _strip_prefix(state_dict, "lstm.")
        memory = LSTMParams(
            input_kernel=jnp.asarray(lstm["input_map.weight"].T, dtype),
            input_bias=jnp.asarray(lstm["input_map.bias"], dtype),
            recurrent_kernel=jnp.asarray(lstm["recurrent_map.weight"].T, dtype),
        )

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
