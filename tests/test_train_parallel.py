"""Data parallelism over 4 CPU host devices equals single-device training.

XLA_FLAGS must be set before JAX initialises, and this pytest process already has JAX
with one device, so the comparison runs in a subprocess.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import dataclasses, json, os
    import jax, numpy as np
    from ltcjax import LTCCell, AutoNCP
    from ltcjax.data import make_synthetic
    from ltcjax.train import SequenceModel, Task, TrainConfig, Trainer, fit
    from ltcjax.train.cli import main as cli_main

    assert len(jax.devices()) == 4, jax.devices()
    # 30 training sequences: the last batch of each epoch is padded (weight 0 rows).
    splits = make_synthetic(num_sequences=40, seq_len=6, seed=0)
    cell = LTCCell(input_size=1, wiring=AutoNCP(6, 2), constraint="clip", ode_unfolds=2)
    model = SequenceModel(cell=cell, output_dim=1)
    task = Task(kind="regression", output_dim=1, sequence=True)
    one = TrainConfig(epochs=2, batch_size=8, learning_rate=0.05, progress=False,
                      data_parallel=False, grad_clip_norm=1.0)
    four = dataclasses.replace(one, data_parallel=True)
    r1 = fit(model, task, splits, one, verbose=False)
    r4 = fit(model, task, splits, four, verbose=False)
    diff = max(float(np.max(np.abs(np.asarray(a) - np.asarray(b))))
               for a, b in zip(jax.tree.leaves(r1.final_params), jax.tree.leaves(r4.final_params)))
    scale = max(float(np.max(np.abs(np.asarray(a)))) for a in jax.tree.leaves(r1.final_params))
    trainer = Trainer(model, task, four, 4)
    batch = trainer.place({"x": np.zeros((8, 3), np.float32)})["x"]
    shard_rows = sorted(s.data.shape[0] for s in batch.addressable_shards)
    leaf = jax.tree.leaves(r4.final_params)[0]
    error = ""
    try:
        Trainer(model, task, dataclasses.replace(four, batch_size=6), 4)
    except ValueError as err:
        error = str(err)
    rc = cli_main(["--units", "6", "--num-sequences", "24", "--seq-len", "4",
                   "--batch-size", "6", "--data-parallel", "on", "--out", os.environ["OUT"]])
    print("RESULT", json.dumps({
        "diff": diff, "scale": scale, "mesh": trainer.mesh.size, "shard_rows": shard_rows,
        "replicated": leaf.sharding.is_fully_replicated, "n_devices_leaf": len(leaf.devices()),
        "error": error, "cli_rc": rc,
        "loss1": [h["train"]["loss"] for h in r1.history],
        "loss4": [h["train"]["loss"] for h in r4.history],
        "test1": r1.test["mse"], "test4": r4.test["mse"],
    }))
    """
)


def test_four_device_data_parallel_equals_one_device(tmp_path):
    env = {
        **os.environ,
        "XLA_FLAGS": "--xla_force_host_platform_device_count=4",
        "JAX_PLATFORMS": "cpu",
        "OUT": str(tmp_path / "cli"),
    }
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = next(x for x in proc.stdout.splitlines() if x.startswith("RESULT "))
    r = json.loads(line[len("RESULT ") :])
    assert r["mesh"] == 4 and r["shard_rows"] == [2, 2, 2, 2]
    assert r["replicated"] and r["n_devices_leaf"] == 4
    # Same training to float32 tolerance (only the order of the batch reductions differs).
    assert r["diff"] <= 1e-5 * max(1.0, r["scale"]), r
    assert abs(r["test1"] - r["test4"]) <= 1e-5 * max(1.0, r["test1"])
    for a, b in zip(r["loss1"], r["loss4"], strict=True):
        assert abs(a - b) <= 1e-5 * max(1.0, a)
    assert "batch_size: expected a multiple of the number of devices (4)" in r["error"]
    assert "got 6, which is not divisible by 4" in r["error"]
    assert r["cli_rc"] == 2 and "--batch-size: expected a multiple" in proc.stderr


TWO_PROCESSES = textwrap.dedent(
    """
    import json, sys
    import jax
    import numpy as np

    pid, port = int(sys.argv[1]), sys.argv[2]
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(f"127.0.0.1:{port}", num_processes=2, process_id=pid)
    from ltcjax.train.sharding import data_mesh, is_main_process, shard_batch

    d = jax.devices()  # process 0 owns d[0], d[1]; process 1 owns d[2], d[3]
    # Interleaved: each process's devices are not one contiguous block of the mesh.
    mesh = data_mesh([d[0], d[2], d[1], d[3]])
    value = np.arange(16.0, dtype=np.float32).reshape(8, 2)
    x = shard_batch({"x": value}, mesh)["x"]
    ok = all(np.array_equal(np.asarray(s.data), value[s.index]) for s in x.addressable_shards)
    rows = sorted(int(v) // 2 for s in x.addressable_shards for v in np.asarray(s.data)[:, 0])
    total = float(jax.jit(lambda a: (a * np.arange(1, 9, dtype=np.float32)[:, None]).sum())(x))
    print("RESULT", json.dumps({"ok": ok, "rows": rows, "total": total,
                                "main": is_main_process()}))
    """
)


def test_shard_batch_on_two_processes_with_interleaved_devices(tmp_path):
    """Two JAX processes (2 CPU devices each) on this host, as on two hosts: every device
    gets exactly its rows of the global batch, whatever the device order in the mesh."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = str(sock.getsockname()[1])
    env = {
        **os.environ,
        "XLA_FLAGS": "--xla_force_host_platform_device_count=2",
        "JAX_PLATFORMS": "cpu",
    }
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", TWO_PROCESSES, str(pid), port],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for pid in (0, 1)
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err[-3000:]
        line = next(x for x in out.splitlines() if x.startswith("RESULT "))
        results.append(json.loads(line[len("RESULT ") :]))
    value = [[2 * i, 2 * i + 1] for i in range(8)]
    want_total = float(sum((i + 1) * (a + b) for i, (a, b) in enumerate(value)))
    # Mesh positions 0, 2 belong to process 0 and 1, 3 to process 1 (2 rows each).
    assert results[0]["rows"] == [0, 1, 4, 5] and results[1]["rows"] == [2, 3, 6, 7]
    for r in results:
        assert r["ok"] and r["total"] == want_total
    assert [r["main"] for r in results] == [True, False]
