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
# Runs on CPU, GPU or TPU (Colab: *Runtime > Change runtime type*). On Colab, first run
# `!pip install ltcjax` (or `!pip install git+<this repository>`).
#
# We train an NCP-wired Liquid Time-constant network to track a damped oscillator observed at
# random times, then look at its liquid time constants and its wiring.

# %%
import os

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import optax

import ltcjax

QUICK = os.environ.get("LTCJAX_NOTEBOOK_QUICK") == "1"  # CI runs the notebook small
print("jax", jax.__version__, "on", jax.devices()[0].platform, "| ltcjax", ltcjax.__version__)

# %% [markdown]
# ## Data: random observation times, different in every sequence
#
# `timespans[b, t]` is the time elapsed before observation `t` of sequence `b`. ncps 1.0.1
# cannot run a batch whose rows have different elapsed times; ltcjax can.

# %%
key = jax.random.key(0)
batch, steps = (16, 24) if QUICK else (64, 48)
k_dt, k_freq, k_phase = jax.random.split(key, 3)
timespans = jax.random.uniform(k_dt, (batch, steps), minval=0.05, maxval=0.5)
times = jnp.cumsum(timespans, axis=1)
freq = jax.random.uniform(k_freq, (batch, 1), minval=1.0, maxval=3.0)
phase = jax.random.uniform(k_phase, (batch, 1), maxval=2 * jnp.pi)
signal = jnp.exp(-0.15 * times) * jnp.sin(freq * times + phase)
inputs = jnp.stack([signal, timespans], axis=-1)[:, :-1]  # observe x(t) and the gap
targets = signal[:, 1:, None]  # predict the next observation
ts = timespans[:, 1:]

# %% [markdown]
# ## Model: an LTC cell with an NCP wiring
#
# The cell is configuration; its parameters are a pytree (`LTCParams`, named as in ncps).

# %%
wiring = ltcjax.AutoNCP(16, 1)
cell = ltcjax.LTCCell(input_size=2, wiring=wiring)
params = cell.init(jax.random.key(1))
# Wirings are immutable values: the cell holds the wiring built for its 2 inputs.
print(cell.num_params(params), "parameters;", cell.wiring.synapse_count, "synapses")


def loss_fn(params):
    predictions, _ = cell.apply(params, inputs, timespans=ts)
    return jnp.mean((predictions - targets) ** 2)


optimizer = optax.adam(0.02)
opt_state = optimizer.init(params)


@jax.jit
def train_step(params, opt_state):
    loss, grads = jax.value_and_grad(loss_fn)(params)
    updates, opt_state = optimizer.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state, loss


losses = []
for _ in range(30 if QUICK else 300):
    params, opt_state, loss = train_step(params, opt_state)
    losses.append(float(loss))
print(f"loss {losses[0]:.4f} -> {losses[-1]:.4f}")

# %%
predictions, state = cell.apply(params, inputs, timespans=ts)
fig, axes = plt.subplots(1, 2, figsize=(11, 3.2))
axes[0].semilogy(losses)
axes[0].set(title="training loss", xlabel="step")
axes[1].plot(times[0, 1:], targets[0, :, 0], "k.-", label="target")
axes[1].plot(times[0, 1:], predictions[0, :, 0], "r.--", label="LTC")
axes[1].set(title="sequence 0 (irregular times)", xlabel="time")
axes[1].legend()
fig.tight_layout()

# %% [markdown]
# ## Liquid time constants
#
# Each neuron's time constant `tau_sys` depends on the state and the input; Theorem 1 bounds
# it between `cm / (gleak + sum w)` and `cm / gleak`.

# %%
lo, hi = ltcjax.tau_sys_bounds(cell, params)
tau = ltcjax.tau_sys(cell, params, state, inputs[:, -1])
assert bool(jnp.all((tau >= lo * (1 - 1e-6)) & (tau <= hi * (1 + 1e-6))))
print("tau_sys of sequence 0:", jnp.round(tau[0], 3))

# %% [markdown]
# ## The wiring

# %%
fig = cell.wiring.draw()
