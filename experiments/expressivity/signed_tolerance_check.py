"""Are the signed-f LTC lengths converged in the solver tolerance?

The sweep solves the LTC of Eq. 1 without absolute values (``ltc_decay="signed"``, an unstable
system: its decay rate can turn negative) at rtol 1e-2, atol 1e-4 in float32. This re-solves the
same 10 draws (hard-tanh, width 100, sigma_w^2 = 2, code convention) at rtol 1e-6, atol 1e-8 in
float64 and compares the 2-PC lengths draw by draw.

    nice python experiments/expressivity/signed_tolerance_check.py

Writes experiments/results/expressivity/signed_tolerance_check.json.
"""

from __future__ import annotations

import json
import os
import time

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from ltcjax.expressivity import (  # noqa: E402
    NetworkSpec,
    SweepSetting,
    group_key,
    init_random_network,
    network_solver,
    solve_network,
    trajectory_length,
)

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(os.path.dirname(os.path.dirname(HERE)), "experiments", "results",
                   "expressivity", "signed_tolerance_check.json")  # fmt: skip


def lengths(dtype, rtol, atol, max_steps):
    spec = NetworkSpec("ltc", 100, 1, "hardtanh", weight_convention="code", ltc_decay="signed")
    setting = SweepSetting("width", "ltc", "hardtanh", width=100, ltc_decay="signed")
    keys = jax.random.split(group_key(0, setting), 10)  # the sweep's draws
    solver = network_solver("rk45", rtol=rtol, atol=atol, max_steps=max_steps)

    @jax.jit
    @jax.vmap
    def one(key):
        # Draw in float32 exactly as the sweep did, then solve in ``dtype``.
        params = init_random_network(key, spec, jnp.float32(2.0), jnp.float32(1.0), jnp.float32)
        params = jax.tree_util.tree_map(lambda x: x.astype(dtype), params)
        sol = solve_network(spec, params, solver=solver)
        return trajectory_length(sol.states[:, 0]).pca_length, sol.success, sol.num_accepted_steps

    return [np.asarray(x) for x in one(keys)]


def main() -> None:
    t0 = time.perf_counter()
    lo, lo_ok, lo_steps = lengths(jnp.float32, 1e-2, 1e-4, 20_000)
    hi, hi_ok, hi_steps = lengths(jnp.float64, 1e-6, 1e-8, 200_000)
    ratio = hi / lo
    res = {
        "setting": "signed-f LTC, hard-tanh, width 100, sigma_w^2 = 2, code convention, 10 draws",
        "sweep_rtol_1e-2_float32": lo.tolist(),
        "rtol_1e-6_float64": hi.tolist(),
        "success": [bool(a) and bool(b) for a, b in zip(lo_ok, hi_ok, strict=True)],
        "accepted_steps": [lo_steps.tolist(), hi_steps.tolist()],
        "ratio_tight_over_sweep": ratio.tolist(),
        "median": [float(np.median(lo)), float(np.median(hi))],
        "mean": [float(np.mean(lo)), float(np.mean(hi))],
        "seconds": time.perf_counter() - t0,
    }
    with open(OUT, "w") as f:
        json.dump(res, f, indent=1)
    print(json.dumps({k: v for k, v in res.items() if k != "accepted_steps"}, indent=1))


if __name__ == "__main__":
    main()
