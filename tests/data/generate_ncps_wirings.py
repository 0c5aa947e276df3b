"""Writes ``ncps_wirings.npz``: reference wiring matrices produced by ncps 1.0.1.

Run once, with ``ncps==1.0.1`` installed (not run in CI)::

    python tests/data/generate_ncps_wirings.py

The file holds a JSON list of configurations under the key ``configs`` and, for configuration
``i``, the int8 arrays ``adj_{i}`` (units x units) and ``sens_{i}`` (input_dim x units).
Each configuration is ``{"cls": name, "kwargs": {...}, "input_dim": int}``.
"""

from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path

import numpy as np
from ncps import wirings

OUT = Path(__file__).with_name("ncps_wirings.npz")


def configurations() -> list[dict]:
    configs: list[dict] = []

    def add(cls: str, input_dim: int, **kwargs: object) -> None:
        configs.append({"cls": cls, "kwargs": kwargs, "input_dim": input_dim})

    for units, input_dim in ((4, 1), (8, 3), (16, 8)):
        for seed in (1111, 7):
            for self_connections in (True, False):
                add(
                    "FullyConnected",
                    input_dim,
                    units=units,
                    erev_init_seed=seed,
                    self_connections=self_connections,
                )
        add("FullyConnected", input_dim + 1, units=units, output_dim=max(units // 4, 1))
    for units, input_dim in ((5, 2), (12, 4), (20, 6)):
        for sparsity in (0.0, 0.25, 0.5, 0.9):
            for seed in (1111, 3):
                add(
                    "Random",
                    input_dim,
                    units=units,
                    output_dim=2,
                    sparsity_level=sparsity,
                    random_seed=seed,
                )
    # Large enough that numpy's choice without replacement switches algorithm (N > 10000).
    add("Random", 90, units=120, output_dim=3, sparsity_level=0.995, random_seed=5)
    ncp_args = (
        dict(
            inter_neurons=6,
            command_neurons=4,
            motor_neurons=2,
            sensory_fanout=3,
            inter_fanout=2,
            recurrent_command_synapses=3,
            motor_fanin=2,
        ),
        dict(
            inter_neurons=12,
            command_neurons=8,
            motor_neurons=3,
            sensory_fanout=4,
            inter_fanout=4,
            recurrent_command_synapses=6,
            motor_fanin=4,
        ),
        # Sparse on purpose: many neurons stay unreached and get random partners.
        dict(
            inter_neurons=10,
            command_neurons=6,
            motor_neurons=4,
            sensory_fanout=1,
            inter_fanout=1,
            recurrent_command_synapses=0,
            motor_fanin=1,
        ),
    )
    for args, input_dim in zip(ncp_args, (5, 2, 3), strict=True):
        for seed in (22222, 1, 12345):
            add("NCP", input_dim, seed=seed, **args)
    for units in (16, 32, 64):
        for output_size in (1, 2, 4):
            for sparsity in (0.3, 0.5, 0.7):
                for seed in (22222, 0, 42):
                    input_dim = 1 + (units + output_size + seed) % 7
                    add(
                        "AutoNCP",
                        input_dim,
                        units=units,
                        output_size=output_size,
                        sparsity_level=sparsity,
                        seed=seed,
                    )
    return configs


def main() -> None:
    assert version("ncps") == "1.0.1", version("ncps")  # ncps.__version__ says 0.0.2
    configs = configurations()
    arrays: dict[str, np.ndarray] = {"configs": np.array(json.dumps(configs))}
    for i, cfg in enumerate(configs):
        wiring = getattr(wirings, cfg["cls"])(**cfg["kwargs"])
        wiring.build(cfg["input_dim"])
        arrays[f"adj_{i}"] = wiring.adjacency_matrix.astype(np.int8)
        arrays[f"sens_{i}"] = wiring.sensory_adjacency_matrix.astype(np.int8)
    np.savez_compressed(OUT, **arrays)
    print(f"wrote {len(configs)} configurations to {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
