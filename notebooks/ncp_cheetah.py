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
# # NCP wirings for control: Half-Cheetah kinematics
#
# [Open in Colab](https://colab.research.google.com/github/ltcjax/ltcjax/blob/main/notebooks/ncp_cheetah.ipynb)
#
# The paper's Half-Cheetah task (Table 6): 17 joint angles and velocities of a simulated
# robot; predict the next step from the current one. We train a Neural Circuit Policy (an
# LTC with a sparse sensory -> inter -> command -> motor wiring), draw its wiring, and watch
# the liquid time constants `tau_sys` of its neurons change along a rollout.
#
# Data: `ltcjax.data.load_task("cheetah")` downloads the paper's 31 traces (with checksums)
# into a cache, or reads a local copy from `$LTCJAX_DATA_DIR` (a folder holding
# `cheetah/trace_0000.npy` ...). Set `LTCJAX_NOTEBOOK_SMALL=1` for a quick run; a small run
# without the data uses a synthetic stand-in and says so.

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
import jax

devices = jax.devices()
kinds = sorted({f"{d.platform.upper()} ({d.device_kind})" for d in devices})
print(f"JAX {jax.__version__}: {len(devices)} device(s):", ", ".join(kinds))

# %%
import json
import time
from pathlib import Path

import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
import optax

import ltcjax
from ltcjax.data import SequenceData, Splits, load_task
from ltcjax.expressivity import tau_sys_trace

SMALL = os.environ.get("LTCJAX_NOTEBOOK_SMALL") == "1"  # CI runs every notebook small
print("ltcjax", ltcjax.__version__, "| small run" if SMALL else "| full run")

# %% [markdown]
# ## Data

# %%
candidates = [os.environ.get("LTCJAX_DATA_DIR"), "../shared/data", "../../shared/data"]
data_dir = next(
    (Path(c) for c in candidates if c and (Path(c) / "cheetah" / "trace_0000.npy").exists()), None
)


def stand_in(num_windows: int, seed: int) -> SequenceData:
    """Smooth 17-D signals (sums of sines): a stand-in with the data's shapes, no more."""
    rng = np.random.default_rng(seed)
    t = np.arange(33)[None, :, None] * 0.1
    freq, phase = (
        rng.uniform(0.5, 3, (num_windows, 1, 17)),
        rng.uniform(0, 6.3, (num_windows, 1, 17)),
    )
    series = (np.sin(freq * t + phase) + 0.5 * np.sin(2.3 * freq * t)).astype(np.float32)
    return SequenceData(
        inputs=series[:, :-1],
        timespans=np.ones((num_windows, 32), np.float32),
        targets=series[:, 1:],
    )


if data_dir is not None:
    splits = load_task("cheetah", data_dir=data_dir)
    source = f"the paper's traces in {data_dir}"
elif SMALL:
    splits = Splits(train=stand_in(64, 0), valid=stand_in(16, 1), test=stand_in(32, 2))
    source = "a SYNTHETIC STAND-IN (no local copy of the data; a small run does not download)"
else:
    splits = load_task("cheetah")  # downloads into the cache on first use
    source = "the paper's traces (downloaded into the cache)"
train, test = splits.train, splits.test
if SMALL:
    train, test = train.take(np.arange(min(64, len(train)))), test.take(np.arange(32))
print(f"data: {source}")
print("train", train.inputs.shape, "-> targets", train.targets.shape, "| test", test.inputs.shape)

# %% [markdown]
# ## Model: an NCP with 17 motor neurons, one per output

# %%
wiring = ltcjax.AutoNCP(32, 17)
cell = ltcjax.LTCCell(input_size=17, wiring=wiring)
params = cell.init(jax.random.key(0))
print(
    {role: len(ids) for role, ids in cell.wiring.roles.items()},
    "|",
    cell.wiring.synapse_count,
    "synapses,",
    cell.num_params(params),
    "parameters",
)
fig = cell.wiring.draw()


# %%
def loss_fn(p, inputs, targets):
    predictions, _ = cell.apply(p, inputs)  # regular sampling: elapsed time 1 per step
    return jnp.mean((predictions - targets) ** 2)


num_steps, batch_size = (30, 16) if SMALL else (1500, 16)
optimizer = optax.adam(optax.cosine_decay_schedule(0.01, num_steps, alpha=0.1))
opt_state = optimizer.init(params)


@jax.jit
def train_step(p, s, inputs, targets):
    loss, g = jax.value_and_grad(loss_fn)(p, inputs, targets)
    u, s = optimizer.update(g, s, p)
    return optax.apply_updates(p, u), s, loss


evaluate = jax.jit(loss_fn)
test_initial = float(evaluate(params, test.inputs, test.targets))
baseline = float(np.mean((test.targets - train.targets.mean((0, 1))) ** 2))  # the mean
rng, losses, start = np.random.default_rng(0), [], time.perf_counter()
for _ in range(num_steps):
    idx = rng.choice(len(train.inputs), batch_size, replace=False)
    params, opt_state, loss = train_step(params, opt_state, train.inputs[idx], train.targets[idx])
    losses.append(float(loss))
test_final = float(evaluate(params, test.inputs, test.targets))
print(f"{num_steps} steps in {time.perf_counter() - start:.0f} s")
print(
    f"test MSE {test_initial:.3f} -> {test_final:.3f} (predicting the training mean: "
    f"{baseline:.3f}; the paper's LTC after 200 epochs: 2.308)"
)

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 3.2))
axes[0].semilogy(losses)
axes[0].set(title="training loss (MSE)", xlabel="step")
predictions, _ = cell.apply(params, test.inputs[:1])
for j, color in zip((0, 5, 10), ("C0", "C1", "C2"), strict=True):
    axes[1].plot(test.targets[0, :, j], color=color, label=f"observation {j}")
    axes[1].plot(predictions[0, :, j], color=color, ls="--")
axes[1].set(title="test window 0: target (solid) and NCP (dashed)", xlabel="step")
axes[1].legend(fontsize=8)
fig.tight_layout()

# %% [markdown]
# ## Liquid time constants along a rollout
#
# `tau_sys = cm / (gleak + sum of the active synaptic conductances)` changes with the state
# and the input: the "liquid" time constant. Theorem 1 bounds it between
# `cm / (gleak + sum w)` and `cm / gleak` (dotted).

# %%
trace = tau_sys_trace(cell, params, test.inputs[0])
roles = cell.wiring.roles
fig, axes = plt.subplots(1, 3, figsize=(14, 3.2), sharex=True)
for ax, role in zip(axes, ("inter", "command", "motor"), strict=True):
    for i in roles[role][:6]:
        (line,) = ax.plot(trace.ts, trace.tau_sys[:, i], label=f"neuron {i}")
        ax.axhline(float(trace.tau_upper[i]), color=line.get_color(), ls=":", lw=0.8)
    ax.set(title=f"{role} neurons", xlabel="time", ylabel="tau_sys")
    ax.set_yscale("log")
fig.tight_layout()
within = bool(
    jnp.all(
        (trace.tau_sys >= trace.tau_lower * (1 - 1e-5))
        & (trace.tau_sys <= trace.tau_upper * (1 + 1e-5))
    )
)
spread = float(jnp.median(jnp.max(trace.tau_sys, 0) / jnp.min(trace.tau_sys, 0)))
print(
    f"tau_sys within the Theorem 1 bounds: {within}; median max/min ratio over time: {spread:.2f}"
)

# %% [markdown]
# ## Result

# %%
result = {
    "data": "stand-in" if data_dir is None and SMALL else "cheetah",
    "test_mse_initial": test_initial,
    "test_mse_final": test_final,
    "mean_baseline": baseline,
    "tau_within_bounds": within,
    "tau_spread": spread,
}
print("RESULT", json.dumps(result))
