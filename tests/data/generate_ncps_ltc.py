"""Generate ncps 1.0.1 LTC reference outputs for the converter parity tests.

Run once with torch and ncps installed (``pip install -e ".[bench]"``):

    python tests/data/generate_ncps_ltc.py

It writes ``tests/data/ncps_ltc_reference.npz``: for each configuration the model's state
dict, random inputs, per-sequence irregular timespans, and ncps's outputs and final states.
ncps 1.0.1 cannot take distinct timespans per sequence in one batch (it squeezes them to
shape (B,)), so each sequence is run through ncps alone and the results are stacked.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from ncps.torch import LTC
from ncps.wirings import NCP, AutoNCP, FullyConnected

OUT = Path(__file__).with_name("ncps_ltc_reference.npz")
BATCH, STEPS, FEATURES = 3, 12, 4

CONFIGS = {
    "fc8_implicit": dict(units=lambda: FullyConnected(8), mixed_memory=False, implicit=True),
    "fc8_clip": dict(units=lambda: FullyConnected(8), mixed_memory=False, implicit=False),
    "autoncp16_implicit": dict(units=lambda: AutoNCP(16, 3), mixed_memory=False, implicit=True),
    "ncp_mixed": dict(units=lambda: NCP(5, 4, 2, 3, 3, 2, 3), mixed_memory=True, implicit=True),
    "fc6_mixed_clip": dict(units=lambda: FullyConnected(6, 2), mixed_memory=True, implicit=False),
}


def main() -> None:
    torch.manual_seed(1234)
    rng = np.random.default_rng(1234)
    arrays: dict[str, np.ndarray] = {}
    for name, cfg in CONFIGS.items():
        model = LTC(
            FEATURES,
            cfg["units"](),
            mixed_memory=cfg["mixed_memory"],
            implicit_param_constraints=cfg["implicit"],
        )
        x = rng.normal(size=(BATCH, STEPS, FEATURES)).astype(np.float32)
        ts = rng.uniform(0.05, 2.0, size=(BATCH, STEPS)).astype(np.float32)
        ys, hs, cs = [], [], []
        with torch.no_grad():
            for b in range(BATCH):
                y, h = model(torch.tensor(x[b : b + 1]), timespans=torch.tensor(ts[b : b + 1]))
                if cfg["mixed_memory"]:
                    h, c = h
                    cs.append(c.numpy()[0])
                ys.append(y.numpy()[0])
                hs.append(h.numpy()[0])
        for key, value in model.state_dict().items():
            arrays[f"{name}/state_dict/{key}"] = value.numpy()
        arrays[f"{name}/inputs"] = x
        arrays[f"{name}/timespans"] = ts
        arrays[f"{name}/outputs"] = np.stack(ys)
        arrays[f"{name}/final_state"] = np.stack(hs)
        if cs:
            arrays[f"{name}/final_memory"] = np.stack(cs)
        arrays[f"{name}/implicit"] = np.array(cfg["implicit"])
    np.savez_compressed(OUT, **arrays)
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes, {len(CONFIGS)} configurations)")


if __name__ == "__main__":
    main()
