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
# # ltcjax quickstart: an LTC on irregularly sampled data
#
# [Open in Colab](https://colab.research.google.com/github/ltcjax/ltcjax/blob/main/notebooks/quickstart.ipynb)
# (any runtime: CPU, GPU or TPU). We train an NCP-wired Liquid Time-constant network to
# track a driven oscillator observed at random times, different in every sequence, then look
# at its liquid time constants and its wiring. Set `LTCJAX_NOTEBOOK_SMALL=1` for a quick run.

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

import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
import optax

import ltcjax

SMALL = os.environ.get("LTCJAX_NOTEBOOK_SMALL") == "1"  # CI runs every notebook small
print("ltcjax", ltcjax.__version__, "| small run" if SMALL else "| full run")

# %% [markdown]
# ## Data: a driven oscillator observed at random times
#
# `ltcjax.data.make_synthetic` simulates a damped oscillator pushed by a piecewise-constant
# input, observed at random times: `timespans[b, t]` is the time elapsed before observation
# `t` of sequence `b`, different in every sequence (0.05 to 0.4). The model sees the input
# and must report the oscillator's position at every observation, which depends on the
# elapsed times. ncps 1.0.1 cannot run a batch whose rows have different elapsed times;
# ltcjax can.

# %%
from ltcjax.data import make_synthetic

splits = make_synthetic(num_sequences=96 if SMALL else 512, seq_len=24 if SMALL else 48, seed=0)
train, test = splits.train, splits.test
print(
    "train inputs",
    train.inputs.shape,
    "timespans",
    train.timespans.shape,
    "targets",
    train.targets.shape,
)

# %% [markdown]
# ## Model: an LTC cell with an NCP wiring
#
# The cell is configuration; its parameters are a pytree (`LTCParams`, named as in ncps).
# `cell.apply` unrolls it over a batch of sequences; everything below is plain JAX + Optax.

# %%
cell = ltcjax.LTCCell(input_size=1, wiring=ltcjax.AutoNCP(24, 1))
params = cell.init(jax.random.key(1))
print(cell.num_params(params), "parameters;", cell.wiring.synapse_count, "synapses")


def loss_fn(params, inputs, timespans, targets):
    predictions, _ = cell.apply(params, inputs, timespans=timespans)
    return jnp.mean((predictions - targets) ** 2)


num_steps, batch_size = (40, 16) if SMALL else (800, 16)
optimizer = optax.adam(optax.cosine_decay_schedule(0.02, num_steps, alpha=0.1))
opt_state = optimizer.init(params)


@jax.jit
def train_step(params, opt_state, inputs, timespans, targets):
    loss, grads = jax.value_and_grad(loss_fn)(params, inputs, timespans, targets)
    updates, opt_state = optimizer.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state, loss


test_loss = jax.jit(loss_fn)
initial_test = float(test_loss(params, test.inputs, test.timespans, test.targets))
losses, start = [], time.perf_counter()
order = np.random.default_rng(0)
for _ in range(num_steps):
    idx = order.choice(len(train.inputs), batch_size, replace=False)
    params, opt_state, loss = train_step(
        params, opt_state, train.inputs[idx], train.timespans[idx], train.targets[idx]
    )
    losses.append(float(loss))
elapsed = time.perf_counter() - start
final_test = float(test_loss(params, test.inputs, test.timespans, test.targets))
print(f"{num_steps} steps in {elapsed:.1f} s; test MSE {initial_test:.4f} -> {final_test:.4f}")
print(f"(the targets' variance is {float(np.var(test.targets)):.4f})")

# %%
predictions, state = cell.apply(params, test.inputs, timespans=test.timespans)
times = np.cumsum(test.timespans, axis=1)
fig, axes = plt.subplots(1, 3, figsize=(14, 3.2))
axes[0].semilogy(losses)
axes[0].set(title="training loss (MSE)", xlabel="step")
for ax, b in zip(axes[1:], (0, 1), strict=True):
    ax.plot(times[b], test.targets[b, :, 0], "k.-", label="target")
    ax.plot(times[b], predictions[b, :, 0], "r.--", label="LTC")
    ax.set(title=f"test sequence {b} (irregular times)", xlabel="time")
    ax.legend()
fig.tight_layout()

# %% [markdown]
# ## Liquid time constants
#
# Each neuron's time constant `tau_sys` depends on the state and the input; Theorem 1 bounds
# it between `cm / (gleak + sum w)` and `cm / gleak`.

# %%
lo, hi = ltcjax.tau_sys_bounds(cell, params)
tau = ltcjax.tau_sys(cell, params, state, test.inputs[:, -1])
within = bool(jnp.all((tau >= lo * (1 - 1e-6)) & (tau <= hi * (1 + 1e-6))))
print("tau_sys of sequence 0:", jnp.round(tau[0], 3))
print("within the bounds of Theorem 1:", within)

# %% [markdown]
# ## The wiring

# %%
fig = cell.wiring.draw()

# %% [markdown]
# ## Result

# %%
result = {
    "test_mse_initial": initial_test,
    "test_mse_final": final_test,
    "target_variance": float(np.var(test.targets)),
    "tau_within_bounds": within,
}
print("RESULT", json.dumps(result))
