"""tau_sys traces of the library's conductance-form LTCCell: Theorem 1 / 2 along trajectories
of random cells and inputs, and agreement with the cell's own sequence API."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ltcjax import LTCCell
from ltcjax.expressivity import check_within, tau_sys_trace
from ltcjax.expressivity.plots import plot_tau_sys_trace
from ltcjax.models.ltc import tau_sys

CELL = LTCCell(input_size=3, units=6)
_trace = jax.jit(lambda p, x, dt: tau_sys_trace(CELL, p, x, timespans=dt))


@settings(max_examples=10, deadline=None)
@given(
    seed=st.integers(0, 2**20),
    input_scale=st.floats(0.01, 20.0),
    max_dt=st.floats(0.01, 5.0),
)
def test_theorem_1_and_2_hold_for_random_cells_and_inputs(seed, input_scale, max_dt):
    rng = np.random.default_rng(seed)
    key = jax.random.PRNGKey(seed)
    params = CELL.init(key)
    # Perturb the raw parameters so trained-looking values are covered too.
    params = params._replace(
        w=params.w + jnp.asarray(rng.normal(scale=1.0, size=params.w.shape), jnp.float32),
        vleak=jnp.asarray(rng.normal(size=6), jnp.float32),
    )
    x = jnp.asarray(input_scale * rng.normal(size=(2, 15, 3)), jnp.float32)
    dt = jnp.asarray(rng.uniform(0.0, max_dt, size=(2, 15)), jnp.float32)
    tr = _trace(params, x, dt)
    assert tr.tau_sys.shape == (2, 15, 6)
    tau_ok = check_within(tr.tau_sys / tr.tau_upper, tr.tau_lower / tr.tau_upper, 1.0, 1e-5)
    assert bool(tau_ok.ok), float(tau_ok.max_violation)
    span = float(jnp.max(tr.state_upper - tr.state_lower))
    state_ok = check_within(tr.states, tr.state_lower, tr.state_upper, 1e-5 * span)
    assert bool(state_ok.ok), float(state_ok.max_violation)
    np.testing.assert_allclose(tr.ts, np.cumsum(np.asarray(dt), axis=-1), rtol=1e-5)


def test_trace_agrees_with_cell_apply_and_direct_tau_sys():
    params = CELL.init(jax.random.PRNGKey(3))
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.normal(size=(2, 15, 3)), jnp.float32)
    dt = jnp.asarray(rng.uniform(0.1, 1.0, size=(2, 15)), jnp.float32)
    tr = _trace(params, x, dt)  # same shapes as the property test: no recompilation
    _, final = CELL.apply(params, x, timespans=dt)
    np.testing.assert_allclose(tr.states[:, -1], final, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        tr.tau_sys[1, 4], tau_sys(CELL, params, tr.states[1, 4], x[1, 4]), rtol=1e-6
    )
    # Unbatched call with default timespans (1.0).
    single = tau_sys_trace(CELL, params, x[0, :4])
    np.testing.assert_allclose(single.ts, np.arange(1, 5), rtol=1e-6)
    _, final1 = CELL.apply(params, x[:1, :4])
    np.testing.assert_allclose(single.states[-1], final1[0], rtol=1e-5, atol=1e-6)


def test_trace_argument_errors_and_plot(tmp_path):
    params = CELL.init(jax.random.PRNGKey(0))
    with pytest.raises(ValueError, match="inputs"):
        tau_sys_trace(CELL, params, jnp.ones((5, 2)))
    with pytest.raises(ValueError, match="timespans"):
        tau_sys_trace(CELL, params, jnp.ones((5, 3)), timespans=jnp.ones(4))
    tr = tau_sys_trace(CELL, params, jnp.ones((5, 3)))
    path = tmp_path / "tau.png"
    plot_tau_sys_trace(tr, path)
    assert path.stat().st_size > 1000
