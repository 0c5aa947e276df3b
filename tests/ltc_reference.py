"""An independent float64 numpy/scipy reference for the LTC ODE, shared by the tests.

Written out from the equations (REFERENCE.md section 1), not from ltcjax's code: sigmoids as
``1 / (1 + exp(-z))``, masks applied elementwise, no constant folding.
"""

from __future__ import annotations

import jax
import numpy as np
from scipy.integrate import solve_ivp


def ltc_vector_field_numpy(cell, params):
    """``g(v, x) = dv/dt`` of an ``LTCCell`` with parameters ``params``, in float64 numpy."""
    p = jax.tree.map(lambda a: np.asarray(a, np.float64), cell.effective_params(params))
    mask, smask = cell.sparsity_masks(np.float64)

    def g(v, x):
        u = np.asarray(x, np.float64) * p.input_w + p.input_b
        sens = p.sensory_w * smask / (1 + np.exp(-p.sensory_sigma * (u[:, None] - p.sensory_mu)))
        rec = p.w * mask / (1 + np.exp(-p.sigma * (v[:, None] - p.mu)))
        current = (rec * (p.erev - v[None, :])).sum(0) + (sens * (p.sensory_erev - v)).sum(0)
        return (p.gleak * (p.vleak - v) + current) / p.cm

    return g


def scipy_ltc_solve(cell, params, v0, x, t_end, rtol=1e-10, atol=1e-12):
    """The state at ``t_end`` from ``v0`` with the input held at ``x`` (DOP853)."""
    g = ltc_vector_field_numpy(cell, params)
    sol = solve_ivp(
        lambda _, v: g(v, x),
        (0.0, t_end),
        np.asarray(v0, np.float64),
        "DOP853",
        rtol=rtol,
        atol=atol,
    )
    return sol.y[:, -1]
