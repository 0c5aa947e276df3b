"""compile_step: a control loop's step with the parameters folded in."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ltcjax import AutoNCP, CfCCell, LTCCell, compile_step, runtime_checks


def _loop_by_hand(cell, params, xs, dts, state):
    """The same loop through the cell's own step, one observation at a time."""
    ys = []
    for x, dt in zip(xs, dts, strict=True):
        state, y = cell.step(params, state, x, dt)
        ys.append(y)
    return state, jnp.stack(ys)


CELLS = {
    "ltc-autoncp": lambda: LTCCell(input_size=3, wiring=AutoNCP(12, 2)),
    "ltc-mixed-memory": lambda: LTCCell(input_size=3, units=5, mixed_memory=True),
    "ltc-64": lambda: LTCCell(input_size=3, units=64),
    "cfc": lambda: CfCCell(input_size=3, units=6),
}


@pytest.mark.parametrize("name", list(CELLS))
@pytest.mark.parametrize("batch_shape", [(), (1,), (4,)])
@pytest.mark.parametrize("fixed_dt", [True, False])
def test_compiled_loop_equals_the_cells_steps(name, batch_shape, fixed_dt):
    cell = CELLS[name]()
    params = cell.init(jax.random.key(0))
    xs = jax.random.normal(jax.random.key(1), (6, *batch_shape, 3))
    dts = (
        jnp.full((6, *batch_shape), 0.3)
        if fixed_dt
        else jax.random.uniform(jax.random.key(2), (6, *batch_shape), minval=0.0, maxval=2.0)
    )
    step = compile_step(cell, params, batch_shape=batch_shape, dt=0.3 if fixed_dt else None)
    state, ys = step.initial_state(), []
    for x, dt in zip(xs, dts, strict=True):
        state, y = step(state, x) if fixed_dt else step(state, x, dt)
        ys.append(y)
    want_state, want_ys = _loop_by_hand(cell, params, xs, dts, cell.initial_state(batch_shape))
    np.testing.assert_allclose(jnp.stack(ys), want_ys, rtol=1e-5, atol=1e-6)
    for got, want in zip(jax.tree.leaves(state), jax.tree.leaves(want_state), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_parameters_are_folded_in_not_read_again():
    """The compiled step keeps the parameters it was built with (a later change of the
    caller's arrays does not reach it): rebuild after training."""
    cell = LTCCell(input_size=2, units=4)
    params = cell.init(jax.random.key(0))
    step = compile_step(cell, params, dt=0.5)
    before = step(step.initial_state(), jnp.ones(2))[1]
    other = compile_step(cell, params._replace(vleak=params.vleak + 1.0), dt=0.5)
    np.testing.assert_array_equal(step(step.initial_state(), jnp.ones(2))[1], before)
    assert not np.allclose(other(other.initial_state(), jnp.ones(2))[1], before)


@pytest.mark.usefixtures("without_runtime_typechecks")
def test_bad_arguments_are_named():
    cell = LTCCell(input_size=2, units=4)
    params = cell.init(jax.random.key(0))
    with pytest.raises(ValueError, match="^dt: expected finite values >= 0"):
        compile_step(cell, params, dt=-1.0)
    with pytest.raises(ValueError, match="^params: expected"):
        compile_step(cell, params._replace(gleak=jnp.ones(7)))
    step = compile_step(cell, params, batch_shape=(2,), dt=0.1)
    with pytest.raises(ValueError, match=r"^x: expected shape \(2, 2\)"):
        step(step.initial_state(), jnp.ones((3, 2)))
    with pytest.raises(ValueError, match="^state: expected shape"):
        step(jnp.zeros((2, 5)), jnp.ones((2, 2)))
    with pytest.raises(ValueError, match="^dt: expected None"):
        step(step.initial_state(), jnp.ones((2, 2)), 0.1)
    free = compile_step(cell, params, dt=None)
    with pytest.raises(ValueError, match="^dt: expected the elapsed time"):
        free(free.initial_state(), jnp.ones(2))
    with runtime_checks(True), pytest.raises(Exception, match="dt: expected finite values"):
        jax.block_until_ready(free(free.initial_state(), jnp.ones(2), -0.5))
