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
    with pytest.raises(ValueError, match=r"x: expected shape \(\.\.\., 3\)"):
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


# ---- the three adapters agree: LTC is a Recurrent class, Recurrent.step has one contract ----


def test_ltc_is_a_recurrent_class_in_every_adapter():
    for adapter in (ltc_nnx, ltc_linen, ltc_eqx):
        assert isinstance(adapter.LTC, type), adapter.__name__
        assert issubclass(adapter.LTC, adapter.Recurrent), adapter.__name__
    options = dict(mixed_memory=True, ode_unfolds=3)
    expected = LTCCell(input_size=3, units=8, **options)
    eqx_model = ltc_eqx.LTC(3, 8, key=jax.random.key(0), **options)
    nnx_model = ltc_nnx.LTC(3, 8, rngs=nnx.Rngs(0), **options)
    linen_model = ltc_linen.LTC(3, 8, return_sequences=False, **options)
    for model, adapter in ((eqx_model, ltc_eqx), (nnx_model, ltc_nnx), (linen_model, ltc_linen)):
        assert isinstance(model, adapter.Recurrent) and model.cell == expected
    wiring = AutoNCP(9, 2)
    assert ltc_nnx.LTC(3, wiring, rngs=nnx.Rngs(0)).cell.wiring == wiring.build(3)
    assert ltc_eqx.LTC(3, wiring, key=jax.random.key(0)).cell.output_size == 2


def test_linen_ltc_init_apply_and_clone():
    x = jax.random.normal(jax.random.key(3), (2, 5, 3))
    model = ltc_linen.LTC(3, 8, return_sequences=False, mixed_memory=True)
    variables = model.init(jax.random.key(0), x)
    y, (h, c) = model.apply(variables, x)
    assert y.shape == (2, 8) and h.shape == c.shape == (2, 8)
    # The same numbers as the generic Recurrent over the same cell; clone keeps the cell.
    ref = ltc_linen.Recurrent(model.cell, return_sequences=False).apply(variables, x)
    np.testing.assert_allclose(y, ref[0], atol=1e-6)
    assert (
        model.clone() == model and ltc_linen.LTC(cell=model.cell, return_sequences=False) == model
    )
    with pytest.raises(ValueError, match="cell: expected None when input_size"):
        ltc_linen.LTC(3, 8, cell=model.cell)

    class Head(nn.Module):  # an LTC as a submodule, constructed inside a compact method
        @nn.compact
        def __call__(self, x):
            y, _ = ltc_linen.LTC(3, AutoNCP(9, 2), return_sequences=False, ode_unfolds=2)(x)
            return nn.Dense(1)(y)

    head_vars = Head().init(jax.random.key(1), x)
    assert set(head_vars["params"]) == {"LTC_0", "Dense_0"}
    assert Head().apply(head_vars, x).shape == (2, 1)


def _recurrent_and_step(adapter, cell, params):
    """A ``Recurrent`` over ``cell`` holding ``params`` and its ``step`` as a function."""
    if adapter is ltc_nnx:
        model = ltc_nnx.Recurrent(cell, rngs=nnx.Rngs(0))
        _set_nnx_params(model, params)
        return model, model.step
    if adapter is ltc_eqx:
        model = eqx.tree_at(
            lambda m: m.params, ltc_eqx.Recurrent(cell, key=jax.random.key(0)), params
        )
        return model, model.step
    model = ltc_linen.Recurrent(cell)
    variables = {"params": {ltc_linen.PARAM_NAME: params}}
    return model, lambda *args: model.apply(variables, *args, method="step")


@pytest.mark.parametrize("adapter", [ltc_nnx, ltc_linen, ltc_eqx], ids=["nnx", "linen", "equinox"])
def test_recurrent_step_batched_and_unbatched_agree(setup, adapter):
    cell, params, xs, ts, _, _ = setup
    _, step = _recurrent_and_step(adapter, cell, params)
    state0 = cell.step_batch(params, cell.initial_state((4,)), xs[:, 0], ts[:, 0])[0]
    ref_state, ref_y = cell.step_batch(params, state0, xs[:, 1], ts[:, 1])
    # Batched (B, F) with per-row dt, and with a scalar dt.
    state, y = step(state0, xs[:, 1], ts[:, 1])
    np.testing.assert_allclose(y, ref_y, atol=1e-6)
    np.testing.assert_allclose(state, ref_state, atol=1e-6)
    np.testing.assert_allclose(
        step(state0, xs[:, 1], 0.5)[1], cell.step_batch(params, state0, xs[:, 1], 0.5)[1], atol=1e-6
    )
    # Unbatched, row by row.
    for b in range(4):
        state_b, y_b = step(state0[b], xs[b, 1], ts[b, 1])
        np.testing.assert_allclose(y_b, ref_y[b], atol=1e-6)
        np.testing.assert_allclose(state_b, ref_state[b], atol=1e-6)
    # Under jit (the dt check is skipped for a traced dt; shapes are still checked).
    jit = eqx.filter_jit if adapter is ltc_eqx else jax.jit
    np.testing.assert_allclose(jit(step)(state0, xs[:, 1], ts[:, 1])[1], ref_y, atol=1e-6)
    # Two leading batch axes.
    state2, y2 = step(state0.reshape(2, 2, -1), xs[:, 1].reshape(2, 2, 3), ts[:, 1].reshape(2, 2))
    np.testing.assert_allclose(y2.reshape(4, -1), ref_y, atol=1e-6)


@pytest.mark.usefixtures("without_runtime_typechecks")
@pytest.mark.parametrize("adapter", [ltc_nnx, ltc_linen, ltc_eqx], ids=["nnx", "linen", "equinox"])
def test_recurrent_step_errors_name_x_state_or_dt(setup, adapter):
    cell, params, xs, ts, _, _ = setup
    _, step = _recurrent_and_step(adapter, cell, params)
    state0 = cell.step_batch(params, cell.initial_state((4,)), xs[:, 0], ts[:, 0])[0]
    with pytest.raises(ValueError, match=r"x: expected shape \(\.\.\., 3\)"):
        step(state0, jnp.ones((4, 2)), 0.5)
    with pytest.raises(ValueError, match=r"state: expected shape \(4, 9\)"):
        step(state0[0], xs[:, 1], 0.5)
    with pytest.raises(ValueError, match=r"dt: expected a scalar or shape \(4,\)"):
        step(state0, xs[:, 1], jnp.ones(3))
    with pytest.raises(ValueError, match="dt: expected finite values >= 0"):
        step(state0, xs[:, 1], -1.0)
