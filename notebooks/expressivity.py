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
# # Expressivity: trajectory length of LTC, CT-RNN and Neural ODE networks
#
# [Open in Colab](https://colab.research.google.com/github/ltcjax/ltcjax/blob/main/notebooks/expressivity.ipynb)
#
# Section 4 of the LTC paper measures expressivity by the *trajectory length* of the latent
# states: feed a circle `I(t) = (sin t, cos t)` into a randomly initialised network, project
# its latent trajectory on the first two principal components, and measure the arc length.
# Longer, more folded trajectories mean a more expressive map. This notebook reproduces the
# style of the paper's Figure 2 at a size that runs in minutes: the projected trajectories,
# and the length against the weight variance `sigma_w^2` and the width.
#
# One choice decides the headline: the paper's text draws weights from `N(0, sigma_w^2 / k)`,
# its MATLAB code with standard deviation `sigma_w` (`weight_convention="code"`). We use the
# code's convention, under which LTCs have the longest trajectories, and show at the end that
# under the text's convention the order reverses. See `docs/expressivity.md` and
# `experiments/results/expressivity/REPORT.md` for the full sweep and the comparison with the
# paper's numbers.
# Set `LTCJAX_NOTEBOOK_SMALL=1` for a quick run.

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
import functools
import json
import time

import matplotlib.pyplot as plt
import numpy as np

import ltcjax
from ltcjax.expressivity import NetworkSpec, init_random_network, solve_network, trajectory_length

SMALL = os.environ.get("LTCJAX_NOTEBOOK_SMALL") == "1"  # CI runs every notebook small
print("ltcjax", ltcjax.__version__, "| small run" if SMALL else "| full run")

MODELS = {"node": "Neural ODE", "ctrnn": "CT-RNN", "ltc": "LTC"}
ACTIVATION = "hardtanh"
DRAWS = 3 if SMALL else 10
WIDTH = 10 if SMALL else 100
SIGMAS = (2.0, 4.0) if SMALL else (1.0, 2.0, 4.0, 8.0)
WIDTHS = (WIDTH,) if SMALL else (25, 50, 100, 200)  # includes WIDTH: reuses its compilation

# %% [markdown]
# ## Lengths of many random draws at once
#
# `solve_network` integrates a random network on the circle input with an adaptive
# Dormand-Prince (RK45) solver, rtol 1e-2 and atol 1e-4 as in the paper; `jax.vmap` runs all
# draws of a setting in one batched solve.


# %%
@functools.cache
def sweep_fn(model: str, width: int, convention: str = "code"):
    """A compiled function of (keys, sigma_w2): one compilation per model and width."""
    spec = NetworkSpec(
        model, width=width, depth=1, activation=ACTIVATION, weight_convention=convention
    )

    def one(key, sigma_w2):
        params = init_random_network(key, spec, sigma_w2=sigma_w2, sigma_b2=1.0)
        sol = solve_network(spec, params)
        res = trajectory_length(sol.states[:, 0])
        return res.pca_length, sol.computational_depth, res.projection

    return jax.jit(jax.vmap(one, in_axes=(0, None)))


def lengths(model: str, width: int, sigma_w2: float, seed: int = 0, convention: str = "code"):
    keys = jax.random.split(jax.random.key(seed), DRAWS)
    length, depth, projection = sweep_fn(model, width, convention)(keys, sigma_w2)
    return np.asarray(length), np.asarray(projection)


start = time.perf_counter()
by_sigma = {m: [lengths(m, WIDTH, s) for s in SIGMAS] for m in MODELS}
by_width = {m: [lengths(m, k, 2.0)[0] for k in WIDTHS] for m in MODELS}
print(
    f"{len(MODELS) * (len(SIGMAS) + len(WIDTHS)) * DRAWS} solves in "
    f"{time.perf_counter() - start:.0f} s"
)
print(f"median trajectory length, width {WIDTH}, {ACTIVATION}:")
for m, name in MODELS.items():
    row = ", ".join(
        f"sigma_w^2={s:g}: {np.median(v[0]):9.1f}" for s, v in zip(SIGMAS, by_sigma[m], strict=True)
    )
    print(f"  {name:10} {row}")

# %% [markdown]
# ## The latent trajectories (first draw, `sigma_w^2 = 2`)
#
# The projection of each network's latent trajectory on its first two principal components,
# while the input goes once around the circle.

# %%
fig, axes = plt.subplots(1, 4, figsize=(16, 3.4))
for ax, (m, name) in zip(axes[:3], MODELS.items(), strict=True):
    length, projection = by_sigma[m][SIGMAS.index(2.0)]
    ax.plot(projection[0, :, 0], projection[0, :, 1], lw=0.8)
    ax.set(title=f"{name}: length {length[0]:.1f}", xlabel="PC 1", ylabel="PC 2")
circle = np.linspace(0, 2 * np.pi, 100)
axes[3].plot(np.sin(circle), np.cos(circle))
axes[3].set(title="the input I(t) = (sin t, cos t)", aspect="equal")
fig.tight_layout()

# %% [markdown]
# ## Length against the weight variance and the width (median and quartiles of the draws)

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
for m, name in MODELS.items():
    sigma_lengths = [length for length, _ in by_sigma[m]]
    for ax, xs, values in ((axes[0], SIGMAS, sigma_lengths), (axes[1], WIDTHS, by_width[m])):
        q1, med, q3 = (np.array([np.percentile(v, q) for v in values]) for q in (25, 50, 75))
        ax.plot(xs, med, "o-", label=name)
        ax.fill_between(xs, q1, q3, alpha=0.2)
axes[0].set(
    xscale="log",
    yscale="log",
    xlabel="sigma_w^2",
    ylabel="trajectory length",
    title=f"width {WIDTH}",
)
axes[1].set(yscale="log", xlabel="width k", ylabel="trajectory length", title="sigma_w^2 = 2")
axes[0].legend()
fig.tight_layout()

# %% [markdown]
# ## The other weight convention
#
# With the paper's text convention, `N(0, sigma_w^2 / k)`, the reversal potentials
# `A = sum_j E_j` stay `O(sigma_w)` instead of `O(sigma_w sqrt(k))`; the LTC state (bounded by
# them, Theorem 2) then has amplitude `O(1)`, and the LTC has the *shortest* trajectories.

# %%
text = {m: float(np.median(lengths(m, WIDTH, 2.0, convention="paper")[0])) for m in MODELS}
print(f"median length, width {WIDTH}, sigma_w^2 = 2, weights N(0, sigma_w^2 / k):")
for m, name in MODELS.items():
    print(f"  {name:10} {text[m]:9.1f}")

# %% [markdown]
# ## Result
#
# The paper's finding, under its code's weights: LTC trajectories are longer than those of
# CT-RNNs and Neural ODEs of the same size (`ltc_longest`, one entry per `sigma_w^2`; at small
# widths and `sigma_w^2 = 1` the Neural ODE can be longer).

# %%
median = {m: [float(np.median(length)) for length, _ in by_sigma[m]] for m in MODELS}
result = {
    "sigma_w2": list(SIGMAS),
    "median_length": median,
    "ltc_longest": [
        median["ltc"][i] > max(median["ctrnn"][i], median["node"][i]) for i in range(len(SIGMAS))
    ],
    "text_convention_median_length": text,
}
print("RESULT", json.dumps(result))
