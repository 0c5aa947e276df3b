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
# # Irregularly sampled series with Diffrax
#
# [Open in Colab](https://colab.research.google.com/github/ltcjax/ltcjax/blob/main/notebooks/irregular_diffrax.ipynb)
#
# An LTC is an ODE, so it can be solved *between* observations by any Diffrax solver. This
# notebook trains a small LTC on noisy, irregularly sampled oscillators with the paper's fused
# step, then solves the same model with adaptive solvers: dense output between observations,
# the solver's step statistics, and the accuracy / cost trade-off of the fused solver against
# Tsit5. Set `LTCJAX_NOTEBOOK_SMALL=1` for a quick run.

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
import dataclasses
import json
import time

import diffrax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
import optax

import ltcjax
from ltcjax.continuous import check_status, odeint_sequence

SMALL = os.environ.get("LTCJAX_NOTEBOOK_SMALL") == "1"  # CI runs every notebook small
print("ltcjax", ltcjax.__version__, "| small run" if SMALL else "| full run")

# %% [markdown]
# ## Data: every sequence has its own observation times
#
# Damped oscillators `x(t) = A exp(-0.08 w t) cos(w t + phi)` observed with noise at random
# times in [0, 8]. The model reads the noisy observations and estimates the clean position.

# %%
B, T, T_END = (4, 10, 8.0) if SMALL else (64, 32, 8.0)
rng = np.random.default_rng(0)


def oscillator(t, amp, w, phi):
    return amp * np.exp(-0.08 * w * t) * np.cos(w * t + phi)


times = np.sort(rng.uniform(0.0, T_END, (B, T)), axis=1)
times[:, 0] = 0.0
amp, w = rng.uniform(0.5, 1.0, (B, 1)), rng.uniform(1.5, 3.0, (B, 1))
phi = rng.uniform(0, 2 * np.pi, (B, 1))
clean = oscillator(times, amp, w, phi)
noisy = clean + 0.1 * rng.normal(size=clean.shape)
x, y = jnp.asarray(noisy[..., None], jnp.float32), jnp.asarray(clean[..., None], jnp.float32)
times_j = jnp.asarray(times, jnp.float32)
timespans = jnp.diff(times_j, axis=1, prepend=0.0)  # elapsed time before each observation

# %% [markdown]
# ## Train with the fused solver (fast), one step per observation interval

# %%
cell = ltcjax.LTCCell(input_size=1, wiring=ltcjax.FullyConnected(12, 1), ode_unfolds=6)
params = cell.init(jax.random.key(0))


def loss_fn(p):
    pred, _ = cell.apply(p, x, timespans=timespans)
    return jnp.mean((pred - y) ** 2)


num_steps = 20 if SMALL else 400
opt = optax.adam(0.03)
opt_state = opt.init(params)


@jax.jit
def train_step(p, s):
    loss, g = jax.value_and_grad(loss_fn)(p)
    u, s = opt.update(g, s, p)
    return optax.apply_updates(p, u), s, loss


losses = []
for _ in range(num_steps):
    params, opt_state, loss = train_step(params, opt_state)
    losses.append(float(loss))
print(f"fused training: MSE {losses[0]:.4f} -> {losses[-1]:.4f} (noise variance 0.01)")

# %% [markdown]
# ## One adaptive solve per sequence, with dense output
#
# `odeint_sequence` integrates each sequence over its own observation times with an adaptive
# Diffrax solver, stepping exactly onto every observation, and reports the state at any
# `query_times` in between. With `interpolation="constant"` the input `x[k]` drives the state
# over `(times[k-1], times[k]]`: the same convention as the fused unroll, so both solve the
# same ODE.

# %%
tsit5 = ltcjax.DiffraxSolver(
    solver=diffrax.Tsit5(), rtol=1e-4, atol=1e-6, max_steps=65536, throw=False
)
grid = jnp.broadcast_to(jnp.linspace(0.0, T_END, 400), (B, 400))
query = jnp.concatenate([grid, times_j], axis=1)  # (B, Q): a grid, and each sequence's own times
sol = odeint_sequence(cell, params, x, times_j, t0=0.0, solver=tsit5, query_times=query)
check_status(sol)  # raises a readable error if a sequence failed
print("outputs", sol.outputs.shape, "| dense outputs", sol.query_outputs.shape)

# Dense output evaluated at the observation times agrees with the solution at those times.
dense_gap = float(jnp.max(jnp.abs(sol.query_states[:, 400:] - sol.states)))
print(f"dense output at the observation times vs the solution there: {dense_gap:.2e}")

fig, ax = plt.subplots(figsize=(10, 3.2))
tt = np.linspace(0, T_END, 400)
ax.plot(tt, oscillator(tt, amp[0], w[0], phi[0]), "k-", lw=1, label="clean signal")
ax.plot(times[0], noisy[0], "k.", label="noisy observations")
ax.plot(grid[0], sol.query_outputs[0, :400, 0], "r-", label="LTC, dense output (Tsit5)")
ax.plot(times[0], sol.outputs[0, :, 0], "ro", ms=4, label="LTC at observations")
ax.set(xlabel="time", title="sequence 0: the state between observations")
ax.legend(fontsize=8)

# %% [markdown]
# ## Solver statistics
#
# Each sequence gets its own step sizes: `steps_per_interval[b, k]` is the number of accepted
# steps in `(times[k-1], times[k]]`; longer gaps take more steps.

# %%
gaps = np.asarray(timespans[:, 1:]).ravel()
steps_k = np.asarray(sol.steps_per_interval[:, 1:]).ravel()
print("accepted steps per sequence:", np.asarray(sol.num_steps))
print("rejected steps per sequence:", np.asarray(sol.num_rejected_steps))
fig, ax = plt.subplots(figsize=(5, 3))
ax.scatter(gaps, steps_k, s=8)
ax.set(xlabel="gap between observations", ylabel="accepted steps", title="Tsit5, rtol 1e-4")

# %% [markdown]
# ## The trade-off: fused solver vs Tsit5
#
# A reference solution at `rtol=1e-6` (Dopri8, 8th order), then the error of each solver at the
# observation times against the time of one jit-compiled forward pass over the batch. The
# fused step is first order and unconditionally stable: cheap and robust, less accurate per
# unfold. Tsit5 reaches any tolerance, at the price of adaptive stepping.

# %%
reference = ltcjax.DiffraxSolver(  # 8th order: its error is far below rtol (float32: rtol >= 1e-6)
    solver=diffrax.Dopri8(), rtol=1e-6, atol=1e-8, max_steps=65536
)
ref = check_status(odeint_sequence(cell, params, x, times_j, t0=0.0, solver=reference))


def timed(fn, repeats=1 if SMALL else 5):
    out = jax.block_until_ready(fn())  # compile
    start = time.perf_counter()
    for _ in range(repeats):
        out = jax.block_until_ready(fn())
    return out, (time.perf_counter() - start) / repeats


rows = []
for unfolds in (1, 4, 16) if SMALL else (1, 2, 6, 24, 96):
    c = dataclasses.replace(cell, ode_unfolds=unfolds)
    run = jax.jit(lambda p, c=c: c.apply(p, x, timespans=timespans)[0])
    out, sec = timed(lambda run=run: run(params))
    rows.append(("fused", f"{unfolds} unfolds", float(jnp.max(jnp.abs(out - ref.outputs))), sec))
for rtol in (1e-2, 1e-5) if SMALL else (1e-2, 1e-3, 1e-4, 1e-5):
    s = ltcjax.DiffraxSolver(
        solver=diffrax.Tsit5(), rtol=rtol, atol=rtol * 1e-2, max_steps=65536, throw=False
    )
    run = jax.jit(lambda p, s=s: odeint_sequence(cell, p, x, times_j, t0=0.0, solver=s).outputs)
    out, sec = timed(lambda run=run: run(params))
    rows.append(("tsit5", f"rtol {rtol:g}", float(jnp.max(jnp.abs(out - ref.outputs))), sec))

print(f"{'solver':7} {'setting':11} {'max error':>10} {'ms / batch':>10}")
for name, setting, err, sec in rows:
    print(f"{name:7} {setting:11} {err:10.2e} {1e3 * sec:10.2f}")
fig, ax = plt.subplots(figsize=(5, 3.4))
for name, marker in (("fused", "o-"), ("tsit5", "s-")):
    r = [row for row in rows if row[0] == name]
    ax.loglog([row[3] * 1e3 for row in r], [row[2] for row in r], marker, label=name)
    for row in r:
        ax.annotate(row[1], (row[3] * 1e3, row[2]), fontsize=7)
ax.set(xlabel="ms per forward pass", ylabel="max error vs reference", title="accuracy vs cost")
ax.legend()

# %% [markdown]
# How to read it: each model's `tau_sys` set how stiff its ODE is. After training, some neurons
# have time constants far below the gaps between observations; an explicit adaptive solver
# such as Tsit5 must then keep its steps short for stability, whatever the tolerance (see the
# accepted steps above), so it costs much more than the fused solver at equal error. The
# fused step stays stable at any step size but is only first order. For a stiff model and a
# tight tolerance, an implicit Diffrax solver (`diffrax.Kvaerno5()`) is the third option.

# %% [markdown]
# ## Result

# %%
fused_errors = [row[2] for row in rows if row[0] == "fused"]
tsit5_errors = [row[2] for row in rows if row[0] == "tsit5"]
result = {
    "loss_first": losses[0],
    "loss_last": losses[-1],
    "dense_gap": dense_gap,
    "fused_errors": fused_errors,
    "tsit5_errors": tsit5_errors,
}
print("RESULT", json.dumps(result))
