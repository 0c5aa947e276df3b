"""Flax NNX, Flax Linen and Equinox modules equal the pure core for the same parameters."""

from __future__ import annotations

import equinox as eqx
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from ltcjax import AutoNCP, LSTMCell, LTCCell
from ltcjax.nn import equinox as ltc_eqx
from ltcjax.nn import linen as ltc_linen
from ltcjax.nn import nnx as ltc_nnx


@pytest.fixture(scope="module")
def setup():
    cell = LTCCell(input_size=3, wiring=AutoNCP(9, 2), mixed_memory=False)
    params = cell.init(jax.random.key(42))
    k1, k2 = jax.random.split(jax.random.key(1))
    xs = jax.random.normal(k1, (4, 7, 3))
    ts = jax.random.uniform(k2, (4, 7), minval=0.1, maxval=1.5)
    ref_y, ref_v = cell.apply(params, xs, timespans=ts)
    return cell, params, xs, ts, ref_y, ref_v


def _set_nnx_params(module, params):
    leaves = jax.tree.leaves(module.params, is_leaf=lambda v: isinstance(v, nnx.Variable))
    for var, value in zip(leaves, jax.tree.leaves(params), strict=True):
        var[...] = value


def test_nnx_recurrent_and_cell_inside_nnx_rnn(setup):
    cell, params, xs, ts, ref_y, ref_v = setup
    model = ltc_nnx.Recurrent(cell, rngs=nnx.Rngs(0))
    _set_nnx_params(model, params)
    ys, v = model(xs, timespans=ts)
    np.testing.assert_allclose(ys, ref_y, atol=1e-6)
    np.testing.assert_allclose(v, ref_v, atol=1e-6)

    step_cell = ltc_nnx.Cell(cell, rngs=nnx.Rngs(0), time_channel=True)
    _set_nnx_params(step_cell, params)
    ys_rnn = nnx.RNN(step_cell)(jnp.concatenate([xs, ts[..., None]], -1))
    np.testing.assert_allclose(ys_rnn, ref_y, atol=1e-6)


def test_nnx_ltc_trains_with_optax():
    import optax

    model = ltc_nnx.LTC(2, 5, rngs=nnx.Rngs(0), return_sequences=False)
    opt = nnx.Optimizer(model, optax.adam(0.05), wrt=nnx.Param)
    xs = jax.random.normal(jax.random.key(0), (8, 6, 2))
    target = jnp.ones((8, 5)) * 0.3

    def loss_fn(m):
        return jnp.mean((m(xs)[0] - target) ** 2)

    @nnx.jit
    def train_step(model, opt):
        grads = nnx.grad(loss_fn)(model)
        opt.update(model, grads)

    before = loss_fn(model)
    for _ in range(20):
        train_step(model, opt)
    assert float(loss_fn(model)) < 0.5 * float(before)


def test_linen_cell_inside_nn_rnn_and_recurrent(setup):
    cell, params, xs, ts, ref_y, ref_v = setup
    variables = {"params": {ltc_linen.PARAM_NAME: params}}
    rnn = nn.RNN(ltc_linen.Cell(cell, time_channel=True))
    packed = jnp.concatenate([xs, ts[..., None]], -1)
    init_vars = rnn.init(jax.random.key(0), packed)
    # nn.RNN names its cell submodule "cell"; ltcjax's parameter pytree sits inside it.
    inner = init_vars["params"]["cell"][ltc_linen.PARAM_NAME]
    assert jax.tree.structure(inner) == jax.tree.structure(params)
    ys = rnn.apply({"params": {"cell": {ltc_linen.PARAM_NAME: params}}}, packed)
    np.testing.assert_allclose(ys, ref_y, atol=1e-6)

    model = ltc_linen.Recurrent(cell)
    ys2, v2 = model.apply(variables, xs, timespans=ts)
    np.testing.assert_allclose(ys2, ref_y, atol=1e-6)
    np.testing.assert_allclose(v2, ref_v, atol=1e-6)


def test_linen_cell_without_time_channel_uses_unit_steps(setup):
    cell, params, xs, _, _, _ = setup
    ref = cell.apply(params, xs)[0]
    variables = {"params": {"cell": {ltc_linen.PARAM_NAME: params}}}
    ys = nn.RNN(ltc_linen.Cell(cell)).apply(variables, xs)
    np.testing.assert_allclose(ys, ref, atol=1e-6)
    with pytest.raises(ValueError, match="inputs: expected 3 features plus one elapsed-time"):
        nn.RNN(ltc_linen.Cell(cell, time_channel=True)).init(jax.random.key(0), xs)


def test_equinox_module(setup):
    cell, params, xs, ts, ref_y, ref_v = setup
    model = ltc_eqx.Recurrent(cell, key=jax.random.key(0))
    model = eqx.tree_at(lambda m: m.params, model, params)
    ys, v = model(xs, timespans=ts)
    np.testing.assert_allclose(ys, ref_y, atol=1e-6)
    ys0, _ = eqx.filter_jit(lambda m, x, t: m(x, timespans=t))(model, xs[0], ts[0])
    np.testing.assert_allclose(ys0, ref_y[0], atol=1e-6)
    grads = eqx.filter_grad(lambda m: jnp.sum(m(xs, timespans=ts)[0]))(model)
    assert bool(jnp.all(jnp.isfinite(grads.params.w)))
    state, y = model.step(cell.initial_state(), xs[0, 0], ts[0, 0])
    np.testing.assert_allclose(y, ref_y[0, 0], atol=1e-6)


def test_equinox_cell_steps_equal_the_pure_core(setup):
    cell, params, xs, ts, ref_y, ref_v = setup
    step = ltc_eqx.Cell(cell, key=jax.random.key(0))
    step = eqx.tree_at(lambda m: m.params, step, params)
    # Batched, with per-sequence elapsed times, through a lax.scan of the module.
    scan = lambda m: jax.lax.scan(  # noqa: E731
        lambda s, xt: m(s, xt[0], xt[1]), m.initial_state((4,)), (xs.swapaxes(0, 1), ts.T)
    )
    v, ys = eqx.filter_jit(scan)(step)
    np.testing.assert_allclose(ys.swapaxes(0, 1), ref_y, atol=1e-6)
    np.testing.assert_allclose(v, ref_v, atol=1e-6)
    # Unbatched, one step.
    v1, y1 = step(step.initial_state(), xs[1, 0], ts[1, 0])
    np.testing.assert_allclose(y1, ref_y[1, 0], atol=1e-6)
    with pytest.raises(ValueError, match="inputs: expected 3 features"):
        step(step.initial_state(), jnp.ones(4), 0.5)
    with pytest.raises(ValueError, match="dt: .*negative"):
        step(step.initial_state(), xs[1, 0], -0.5)


def test_wrappers_accept_any_cell():
    lstm = LSTMCell(units=4, input_size=3)
    xs = jnp.ones((2, 5, 3))
    ys, _ = ltc_eqx.Recurrent(lstm, key=jax.random.key(0))(xs)
    assert ys.shape == (2, 5, 4)
    ys, _ = ltc_nnx.Recurrent(lstm, rngs=nnx.Rngs(0))(xs)
    assert ys.shape == (2, 5, 4)
