"""Generate ncps 1.0.1 LTC reference outputs for the converter parity tests.

Run once with torch and ncps installed (``pip install -e ".[bench]"``):

    python tests/data/generate_ncps_ltc.py

It writes ``tests/data/ncps_ltc_reference.npz``: for each configuration the model's state
dict, random inputs, per-sequence irregular timespans, and ncps's outputs and final states.

The parameters are perturbed away from ncps's initialisation before recording (see
``perturb``): with untrained weights (``input_w = output_w = 1``, ``input_b = output_b = 0``,
``erev = adjacency``) a converter that dropped or swapped the input/output maps, or rebuilt
``erev`` from the wiring, would still reproduce ncps. The perturbed values are random affine
maps, reversal potentials off +-1 (a few with flipped sign), and a spread of raw ``w``,
``sensory_w``, ``cm`` and ``gleak`` that includes negative raw values for the softplus
(implicit) configurations. The clip configurations keep positive ``cm`` and ``gleak`` (ncps
uses them as they are) and get ncps's ``apply_weight_constraints()`` after perturbing, so
some synapse weights are exactly 0.
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
    "fc5_linear_maps": dict(
        units=lambda: FullyConnected(5, 3),
        mixed_memory=False,
        implicit=True,
        input_mapping="linear",
        output_mapping="linear",
    ),
}


def perturb(model: LTC, implicit: bool, gen: torch.Generator) -> None:
    """Move every trainable LTC parameter away from ncps's initial values (in place)."""
    params = model.rnn_cell._params

    def uniform(shape, lo, hi):
        return lo + (hi - lo) * torch.rand(shape, generator=gen)

    with torch.no_grad():
        for name in ("input_w", "output_w"):
            if name in params:  # random scales of both signs, away from 1
                p = params[name]
                sign = torch.where(torch.rand(p.shape, generator=gen) < 0.25, -1.0, 1.0)
                p.copy_(sign * uniform(p.shape, 0.3, 2.0))
        for name in ("input_b", "output_b"):
            if name in params:
                p = params[name]
                p.copy_(uniform(p.shape, -0.8, 0.8))
        for name in ("erev", "sensory_erev"):  # off +-1, and a few polarities flipped
            p = params[name]
            flip = torch.where(torch.rand(p.shape, generator=gen) < 0.2, -1.0, 1.0)
            p.copy_(p * flip * uniform(p.shape, 0.3, 1.7) + uniform(p.shape, -0.3, 0.3))
        params["vleak"].copy_(uniform(params["vleak"].shape, -0.6, 0.6))
        for name in ("sigma", "sensory_sigma"):
            params[name].copy_(uniform(params[name].shape, -2.0, 9.0))
        for name in ("mu", "sensory_mu"):
            params[name].copy_(uniform(params[name].shape, -0.5, 1.2))
        if implicit:  # raw values through softplus: include negatives
            ranges = {"w": (-3, 2), "sensory_w": (-3, 2), "cm": (-1.5, 1.5), "gleak": (-2, 1.5)}
        else:  # used as they are: keep cm, gleak > 0; w clipped to >= 0 below
            ranges = {
                "w": (-0.5, 1.5),
                "sensory_w": (-0.5, 1.5),
                "cm": (0.1, 1.2),
                "gleak": (0.05, 1.5),
            }
        for name, (lo, hi) in ranges.items():
            params[name].copy_(uniform(params[name].shape, lo, hi))
    if not implicit:
        model.rnn_cell.apply_weight_constraints()


def main() -> None:
    torch.manual_seed(1234)
    gen = torch.Generator().manual_seed(4321)
    rng = np.random.default_rng(1234)
    arrays: dict[str, np.ndarray] = {}
    for name, cfg in CONFIGS.items():
        model = LTC(
            FEATURES,
            cfg["units"](),
            mixed_memory=cfg["mixed_memory"],
            implicit_param_constraints=cfg["implicit"],
            input_mapping=cfg.get("input_mapping", "affine"),
            output_mapping=cfg.get("output_mapping", "affine"),
        )
        perturb(model, cfg["implicit"], gen)
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
