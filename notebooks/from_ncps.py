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
# # From ncps to ltcjax: import a model, check equal outputs, train on in JAX
#
# [Open in Colab](https://colab.research.google.com/github/ltcjax/ltcjax/blob/main/notebooks/from_ncps.ipynb)
#
# [ncps](https://github.com/mlech26l/ncps) is the PyTorch / Keras implementation of LTCs and
# NCPs. ltcjax keeps its vocabulary and numerics: `ltcjax.from_ncps_ltc` turns an ncps
# `LTC`'s state dict into an `LTCCell` and its parameters, with the same outputs to float32
# rounding. Here we build an ncps model, import it, compare outputs, and continue training in
# JAX.
#
# Needs PyTorch and ncps (on Colab the install cell adds ncps; elsewhere
# `pip install "ltcjax[bench]"`). Without them, the comparison uses the outputs of ncps 1.0.1
# recorded in the repository (`tests/data/ncps_ltc_reference.npz`), and says so. Set
# `LTCJAX_NOTEBOOK_SMALL=1` for a quick run.

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
if importlib.util.find_spec("torch") is not None:  # Colab has PyTorch: add ncps
    PACKAGES["ncps"] = "ncps==1.0.1"
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
import importlib.util
import json
from pathlib import Path

import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
import optax

import ltcjax

SMALL = os.environ.get("LTCJAX_NOTEBOOK_SMALL") == "1"  # CI runs every notebook small
HAVE_NCPS = all(importlib.util.find_spec(m) is not None for m in ("torch", "ncps"))
print(
    "ltcjax",
    ltcjax.__version__,
    "| small run" if SMALL else "| full run",
    "| ncps and torch:",
    "found" if HAVE_NCPS else "NOT installed",
)

# %% [markdown]
# ## An ncps model and its outputs
#
# ncps 1.0.1 takes distinct elapsed times per sequence only one sequence at a time, so we run
# it sequence by sequence; ltcjax runs the whole batch at once.

# %%
FEATURES, BATCH, STEPS = 4, 3, 12
if HAVE_NCPS:
    import torch
    from ncps.torch import LTC
    from ncps.wirings import AutoNCP

    torch.manual_seed(0)
    ncps_model = LTC(FEATURES, AutoNCP(16, 3), batch_first=True)  # ... trained in PyTorch ...
    with torch.no_grad():  # move the weights away from ncps's initial values
        for name, p in ncps_model.named_parameters():
            if name.endswith(("input_w", "output_w", "input_b", "output_b", "vleak", "mu")):
                p.add_(0.3 * torch.randn_like(p))
    state_dict = {k: v.detach().numpy() for k, v in ncps_model.state_dict().items()}
    rng = np.random.default_rng(0)
    inputs = rng.normal(size=(BATCH, STEPS, FEATURES)).astype(np.float32)
    timespans = rng.uniform(0.05, 2.0, size=(BATCH, STEPS)).astype(np.float32)
    with torch.no_grad():
        ncps_outputs = np.concatenate(
            [
                ncps_model(
                    torch.from_numpy(inputs[b : b + 1]),
                    timespans=torch.from_numpy(timespans[b : b + 1]),
                )[0].numpy()
                for b in range(BATCH)
            ]
        )
    source = "ncps 1.0.1, run now"
else:
    reference = next(
        (
            p
            for p in (Path("../tests/data"), Path("tests/data"))
            if (p / "ncps_ltc_reference.npz").exists()
        ),
        None,
    )
    if reference is None:
        raise RuntimeError(
            "needs torch and ncps (pip install 'ltcjax[bench]'), or a clone of "
            "the repository for its recorded ncps outputs"
        )
    ref = np.load(reference / "ncps_ltc_reference.npz")
    prefix = "autoncp16_implicit/"
    state_dict = {
        k.removeprefix(prefix + "state_dict/"): ref[k]
        for k in ref.files
        if k.startswith(prefix + "state_dict/")
    }
    inputs, timespans = ref[prefix + "inputs"], ref[prefix + "timespans"]
    ncps_outputs = ref[prefix + "outputs"]
    source = "outputs of ncps 1.0.1 recorded in tests/data (torch/ncps not installed)"
print("ncps outputs:", ncps_outputs.shape, "from", source)

# %% [markdown]
# ## Import and compare
#
# `wiring=` rebuilds the same AutoNCP (same seed, identical adjacency); without it the
# sparsity masks in the state dict define the wiring.

# %%
cell, params = ltcjax.from_ncps_ltc(state_dict, wiring=ltcjax.AutoNCP(16, 3))
outputs, state = cell.apply(params, inputs, timespans=timespans)  # the whole batch at once
max_diff = float(np.max(np.abs(np.asarray(outputs) - ncps_outputs)))
print(cell)
print(f"max |ltcjax - ncps| = {max_diff:.2e} over {ncps_outputs.size} outputs")
assert max_diff < 1e-5

# %% [markdown]
# ## Train on in JAX
#
# The imported parameters are an ordinary pytree: continue training them with Optax, here on
# a toy task (report a leaky running mean of the first three input channels), with irregular
# elapsed times per sequence.

# %%
n, steps = (32, 12) if SMALL else (256, 32)
rng = np.random.default_rng(1)
x = rng.normal(size=(n, steps, FEATURES)).astype(np.float32)
dt = rng.uniform(0.1, 1.0, size=(n, steps)).astype(np.float32)
decay = np.exp(-dt)[..., None]
target = np.zeros((n, steps, 3), np.float32)
running = np.zeros((n, 3), np.float32)
for t in range(steps):
    running = decay[:, t] * running + (1 - decay[:, t]) * x[:, t, :3]
    target[:, t] = running


def loss_fn(p):
    y, _ = cell.apply(p, x, timespans=dt)
    return jnp.mean((y - target) ** 2)


optimizer = optax.adam(0.01)
opt_state = optimizer.init(params)


@jax.jit
def train_step(p, s):
    loss, g = jax.value_and_grad(loss_fn)(p)
    u, s = optimizer.update(g, s, p)
    return optax.apply_updates(p, u), s, loss


losses = []
for _ in range(25 if SMALL else 400):
    params, opt_state, loss = train_step(params, opt_state)
    losses.append(float(loss))
print(f"loss {losses[0]:.4f} -> {losses[-1]:.4f}")
fig, ax = plt.subplots(figsize=(5, 3))
ax.semilogy(losses)
ax.set(xlabel="step", ylabel="MSE", title="training the imported model in JAX")

# %% [markdown]
# The trained parameters go back to ncps's names (the `LTCParams` fields are ncps's state
# dict keys), e.g. to continue in PyTorch:

# %%
back = {name: np.asarray(value) for name, value in params._asdict().items() if value is not None}
print(sorted(back)[:6], "...")

# %% [markdown]
# ## Result

# %%
result = {
    "source": "ncps" if HAVE_NCPS else "recorded",
    "max_diff": max_diff,
    "loss_first": losses[0],
    "loss_last": losses[-1],
}
print("RESULT", json.dumps(result))
