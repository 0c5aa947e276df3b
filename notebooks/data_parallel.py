# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Scaling out: data-parallel training over all devices
#
# [Open in Colab](https://colab.research.google.com/github/ltcjax/ltcjax/blob/main/notebooks/data_parallel.ipynb)
#
# One training step, written once, run on one device and on every device: the batch is
# split along its first axis over a 1-D device mesh, parameters and optimiser state are
# replicated, and XLA inserts the gradient all-reduce. On a Colab TPU runtime that is 8 TPU
# cores; on a GPU machine every GPU; on a CPU this notebook splits the host into 4 devices
# (which shows the mechanics, not a speed-up: they share the same cores). `ltcjax.train.fit`
# does exactly this when more than one device is visible. Set `LTCJAX_NOTEBOOK_SMALL=1` for a
# quick run.

# %% tags=["install"]
# Install ltcjax where it is missing (a fresh Colab runtime: CPU, GPU or TPU). From PyPI once
# published; until then from the repository, whose URL is [project.urls] Source in
# pyproject.toml (tests/test_notebooks.py checks that the two agree).
import importlib.util
import os
import subprocess
import sys

LTCJAX_SOURCE = "https://github.com/ltcjax/ltcjax"
PACKAGES = {"ltcjax": f"ltcjax @ git+{LTCJAX_SOURCE}"}  # module -> pip requirement
missing = [req for mod, req in PACKAGES.items() if importlib.util.find_spec(mod) is None]
if missing:
    if os.path.exists("/dev/nvidia0"):
        missing.append("jax[cuda12]")  # keep JAX's GPU plugin in step with the new JAX
    elif os.path.exists("/dev/accel0") or "COLAB_TPU_ADDR" in os.environ:
        missing.append("jax[tpu]")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", *missing], check=True)

# %%
# On a CPU-only machine, let XLA split the host into 4 devices (must precede `import jax`;
# it does not touch GPUs or TPUs, where the real devices are used).
os.environ["XLA_FLAGS"] = (
    os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=4"
).strip()
import jax

devices = jax.devices()
kinds = sorted({f"{d.platform.upper()} ({d.device_kind})" for d in devices})
print(f"JAX {jax.__version__}: {len(devices)} device(s):", ", ".join(kinds))

# %%
import json
import time

import jax.numpy as jnp
import numpy as np
import optax

import ltcjax
from ltcjax.data import make_synthetic
from ltcjax.train import data_mesh, replicate, shard_batch

SMALL = os.environ.get("LTCJAX_NOTEBOOK_SMALL") == "1"  # CI runs every notebook small
print("ltcjax", ltcjax.__version__, "| small run" if SMALL else "| full run")

# %% [markdown]
# ## The model and one training step, device-agnostic

# %%
n_dev = len(jax.devices())
batch_size = (8 if SMALL else 64) * n_dev  # a multiple of the device count
splits = make_synthetic(num_sequences=4 * batch_size, seq_len=16 if SMALL else 48, seed=0)
train = splits.train
cell = ltcjax.LTCCell(input_size=1, wiring=ltcjax.AutoNCP(16 if SMALL else 32, 1))
optimizer = optax.adam(0.01)


def loss_fn(params, inputs, timespans, targets):
    predictions, _ = cell.apply(params, inputs, timespans=timespans)
    return jnp.mean((predictions - targets) ** 2)


@jax.jit
def train_step(params, opt_state, batch):
    loss, grads = jax.value_and_grad(loss_fn)(params, *batch)
    updates, opt_state = optimizer.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state, loss


def train_on(devices, num_steps):
    """The same code for one device or many: only the mesh changes."""
    mesh = data_mesh(devices)
    params = replicate(cell.init(jax.random.key(0)), mesh)
    opt_state = replicate(optimizer.init(params), mesh)
    rng, losses = np.random.default_rng(0), []
    batches = []
    for _ in range(num_steps):
        idx = rng.choice(len(train), batch_size, replace=False)
        batches.append(
            shard_batch((train.inputs[idx], train.timespans[idx], train.targets[idx]), mesh)
        )
    params, opt_state, loss = train_step(params, opt_state, batches[0])  # compile
    jax.block_until_ready(loss)
    start = time.perf_counter()
    for batch in batches:
        params, opt_state, loss = train_step(params, opt_state, batch)
        losses.append(float(loss))  # waits for the step: one step in flight at a time
    seconds = time.perf_counter() - start
    return losses, num_steps * batch_size / seconds, params


num_steps = 5 if SMALL else 50
one_losses, one_rate, _ = train_on(jax.devices()[:1], num_steps)
all_losses, all_rate, params = train_on(jax.devices(), num_steps)
print(f"batch {batch_size}, {num_steps} steps after compilation")
print(f"1 device : {one_rate:9.0f} sequences / s")
print(f"{n_dev} devices: {all_rate:9.0f} sequences / s ({all_rate / one_rate:.2f}x)")

# %% [markdown]
# ## Same result, distributed
#
# The parameters live on every device; each device holds its share of the batch:

# %%
batch = shard_batch((train.inputs[:batch_size],), data_mesh())[0]
print("a batch's shards:", [(s.device.id, s.data.shape) for s in batch.addressable_shards][:8])
print("parameter sharding:", params.gleak.sharding)
diff = max(abs(a - b) for a, b in zip(one_losses, all_losses, strict=True))
print(f"largest difference between the two runs' losses: {diff:.2e} (reduction order only)")

# %% [markdown]
# ## Result

# %%
result = {
    "devices": n_dev,
    "throughput_one": one_rate,
    "throughput_all": all_rate,
    "loss_first": all_losses[0],
    "loss_last": all_losses[-1],
    "max_loss_difference": diff,
}
print("RESULT", json.dumps(result))
