"""Generate ncps 1.0.1 CfC reference outputs for the converter parity tests.

Run once with torch and ncps installed (``pip install -e ".[bench]"``):

    python tests/data/generate_ncps_cfc.py

It writes ``tests/data/ncps_cfc_reference.npz``: for each configuration the model's state
dict, its constructor options, random inputs, per-sequence irregular timespans, and ncps's
outputs and final states (eval mode). ncps 1.0.1 cannot take distinct timespans per
sequence in one batch (it squeezes them to shape (B,)), so each sequence is run through
ncps alone and the results are stacked.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from ncps.torch import CfC
from ncps.wirings import NCP, AutoNCP, FullyConnected

OUT = Path(__file__).with_name("ncps_cfc_reference.npz")
BATCH, STEPS, FEATURES = 3, 12, 4

# name -> (units or wiring factory, CfC keyword arguments)
CONFIGS = {
    "default": (8, dict(mode="default")),
    "no_gate_silu_2layers": (
        8,
        dict(mode="no_gate", activation="silu", backbone_units=32, backbone_layers=2),
    ),
    "pure": (8, dict(mode="pure", backbone_units=16)),
    "relu_3layers_dropout_proj": (
        6,
        dict(
            activation="relu",
            backbone_units=16,
            backbone_layers=3,
            backbone_dropout=0.3,
            proj_size=3,
        ),
    ),
    "no_backbone_mixed_gelu": (
        5,
        dict(mode="default", activation="gelu", backbone_layers=0, mixed_memory=True),
    ),
    "pure_tanh_mixed": (
        5,
        dict(mode="pure", activation="tanh", backbone_units=8, mixed_memory=True),
    ),
    "wired_ncp_default": (lambda: NCP(5, 4, 2, 3, 3, 2, 3), dict(mode="default")),
    "wired_autoncp_no_gate_mixed": (
        lambda: AutoNCP(12, 3),
        dict(mode="no_gate", mixed_memory=True),
    ),
    "wired_autoncp_pure_proj": (lambda: AutoNCP(10, 2), dict(mode="pure", proj_size=4)),
    "wired_fc_pure": (lambda: FullyConnected(6, 2), dict(mode="pure")),
}


def main() -> None:
    torch.manual_seed(4321)
    rng = np.random.default_rng(4321)
    arrays: dict[str, np.ndarray] = {}
    for name, (units, kwargs) in CONFIGS.items():
        units = units() if callable(units) else units
        model = CfC(FEATURES, units, **kwargs).eval()
        mixed = kwargs.get("mixed_memory", False)
        x = rng.normal(size=(BATCH, STEPS, FEATURES)).astype(np.float32)
        ts = rng.uniform(0.05, 2.0, size=(BATCH, STEPS)).astype(np.float32)
        ys, hs, cs = [], [], []
        with torch.no_grad():
            for b in range(BATCH):
                y, h = model(torch.tensor(x[b : b + 1]), timespans=torch.tensor(ts[b : b + 1]))
                if mixed:
                    h, c = h
                    cs.append(c.numpy()[0])
                ys.append(y.numpy()[0])
                hs.append(h.numpy()[0])
        for key, value in model.state_dict().items():
            arrays[f"{name}/state_dict/{key}"] = value.numpy()
        arrays[f"{name}/kwargs"] = np.array(json.dumps(kwargs))
        arrays[f"{name}/inputs"] = x
        arrays[f"{name}/timespans"] = ts
        arrays[f"{name}/outputs"] = np.stack(ys)
        arrays[f"{name}/final_state"] = np.stack(hs)
        if cs:
            arrays[f"{name}/final_memory"] = np.stack(cs)
    np.savez_compressed(OUT, **arrays)
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes, {len(CONFIGS)} configurations)")


if __name__ == "__main__":
    main()
