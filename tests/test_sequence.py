"""The sequence API: masks, elapsed times, batching, transformations, errors, memory."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ltcjax import AutoNCP, LSTMCell, LTCCell, unroll


@pytest.fixture(scope="module")
def cell():
    return LTCCell(input_size=3, wiring=AutoNCP(10, 2))


@pytest.fixture(scope="module")
def params(cell):
    return cell.init(jax.random.key(0))


def _data(batch=4, steps=9, features=3, seed=1):
    k1, k2 = jax.random.split(jax.random.key(seed))
    xs = jax.random.normal(k1, (batch, steps, features))
    ts = jax.random.uniform(k2, (batch, steps), minval=0.05, maxval=2.0)
    return xs, ts


def _manual_loop(cell, params, x, ts):
    """Reference: a Python loop of single steps (independent of the scan machinery)."""
    v = cell.initial_state()
    ys = []
    for t in range(x.shape[0]):
        v, y = cell.step(params, v, x[t], ts[t])
        ys.append(y)
    return jnp.stack(ys), v


def test_apply_equals_python_loop_of_steps(cell, params):
    xs, ts = _data()
    ys, v = cell.apply(params, xs, timespans=ts)
    for b in range(xs.shape[0]):
        ref_y, ref_v = _manual_loop(cell, params, xs[b], ts[b])
        np.testing.assert_allclose(ys[b], ref_y, atol=1e-6)
        np.testing.assert_allclose(v[b], ref_v, atol=1e-6)


def test_different_time_grids_in_one_batch_equal_each_alone(cell, params):
    xs, ts = _data()
    ys, v = cell.apply(params, xs, timespans=ts)
    for b in range(xs.shape[0]):
        yb, vb = cell.apply(params, xs[b], timespans=ts[b])  # unbatched path
        np.testing.assert_allclose(ys[b], yb, atol=1e-6)
        np.testing.assert_allclose(v[b], vb, atol=1e-6)


def test_timespan_forms_broadcast(cell, params):
    xs, _ = _data()
    shared = jnp.linspace(0.1, 1.0, xs.shape[1])
    a = cell.apply(params, xs, timespans=shared)[0]
    b = cell.apply(params, xs, timespans=jnp.broadcast_to(shared, xs.shape[:2]))[0]
    c = cell.apply(params, xs, timespans=shared[None, :, None].repeat(4, 0))[0]
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)
    np.testing.assert_array_equal(
        cell.apply(params, xs)[0], cell.apply(params, xs, timespans=1.0)[0]
    )


def test_lengths_and_mask_freeze_state_at_padding(cell, params):
    xs, ts = _data()
    lengths = jnp.array([9, 5, 1, 0])
    ys, v = cell.apply(params, xs, timespans=ts, lengths=lengths)
    last, _ = cell.apply(params, xs, timespans=ts, lengths=lengths, return_sequences=False)
    for b, n in enumerate(lengths.tolist()):
        if n == 0:
            np.testing.assert_array_equal(v[b], jnp.zeros(10))
            continue
        yb, vb = cell.apply(params, xs[b, :n], timespans=ts[b, :n])
        np.testing.assert_allclose(v[b], vb, atol=1e-6)
        np.testing.assert_allclose(ys[b, :n], yb, atol=1e-6)
        np.testing.assert_allclose(ys[b, n:], jnp.broadcast_to(yb[-1], ys[b, n:].shape), atol=1e-6)
        np.testing.assert_allclose(last[b], yb[-1], atol=1e-6)
    mask = jnp.arange(9)[None] < lengths[:, None]
    np.testing.assert_array_equal(cell.apply(params, xs, timespans=ts, mask=mask)[1], v)


def test_masked_gap_in_the_middle_equals_skipping_the_step(cell, params):
    xs, ts = _data(batch=1)
    mask = jnp.ones((1, 9), bool).at[0, 4].set(False)
    _, v = cell.apply(params, xs, timespans=ts, mask=mask)
    keep = np.array([i for i in range(9) if i != 4])
    _, ref = cell.apply(params, xs[:, keep], timespans=ts[:, keep])
    np.testing.assert_allclose(v, ref, atol=1e-6)


def test_initial_state_and_streaming_step_agree(cell, params):
    xs, ts = _data()
    _, v_half = cell.apply(params, xs[:, :4], timespans=ts[:, :4])
    ys_rest, v_end = cell.apply(params, xs[:, 4:], timespans=ts[:, 4:], initial_state=v_half)
    ys_all, v_all = cell.apply(params, xs, timespans=ts)
    np.testing.assert_allclose(v_end, v_all, atol=1e-6)
    np.testing.assert_allclose(ys_rest, ys_all[:, 4:], atol=1e-6)
    state = v_half
    for t in range(4, 9):
        state, y = cell.step_batch(params, state, xs[:, t], ts[:, t])
    np.testing.assert_allclose(state, v_all, atol=1e-6)


def test_jit_vmap_grad_compose(cell, params):
    xs, ts = _data()
    f = lambda p, x, t: cell.apply(p, x, timespans=t)[0]  # noqa: E731
    np.testing.assert_allclose(jax.jit(f)(params, xs, ts), f(params, xs, ts), atol=1e-6)
    # vmap over an ensemble of parameter sets
    ensemble = jax.vmap(cell.init)(jax.random.split(jax.random.key(5), 3))
    out = jax.vmap(f, in_axes=(0, None, None))(ensemble, xs, ts)
    for i in range(3):
        p_i = jax.tree.map(lambda a: a[i], ensemble)
        np.testing.assert_allclose(out[i], f(p_i, xs, ts), atol=1e-6)
    # vmap over the batch of an unbatched call equals the batched call
    np.testing.assert_allclose(
        jax.vmap(f, in_axes=(None, 0, 0))(params, xs, ts), f(params, xs, ts), atol=1e-6
    )
    grads = jax.jit(jax.grad(lambda p: jnp.sum(f(p, xs, ts) ** 2)))(params)
    assert all(bool(jnp.all(jnp.isfinite(g))) for g in jax.tree.leaves(grads))
    assert float(jnp.abs(grads.sigma).sum()) > 0


def test_gradient_matches_finite_differences(x64):
    cell = LTCCell(input_size=2, units=4)
    p = cell.init(jax.random.key(2), dtype=jnp.float64)
    xs = jax.random.normal(jax.random.key(3), (2, 6, 2), jnp.float64)
    ts = jnp.full((2, 6), 0.7, jnp.float64)
    loss = lambda p: jnp.sum(cell.apply(p, xs, timespans=ts)[0] ** 2)  # noqa: E731
    g = jax.grad(loss)(p)
    direction = jax.tree.map(lambda a: jax.random.normal(jax.random.key(7), a.shape, a.dtype), p)
    eps = 1e-6
    plus = loss(jax.tree.map(lambda a, d: a + eps * d, p, direction))
    minus = loss(jax.tree.map(lambda a, d: a - eps * d, p, direction))
    fd = (plus - minus) / (2 * eps)
    analytic = sum(jnp.vdot(a, d) for a, d in zip(jax.tree.leaves(g), jax.tree.leaves(direction)))
    np.testing.assert_allclose(analytic, fd, rtol=1e-6)


def test_gradient_wrt_timespans_is_finite_including_zero(cell, params):
    xs, ts = _data()
    ts = ts.at[:, 3].set(0.0)
    g = jax.grad(lambda t: jnp.sum(cell.apply(params, xs, timespans=t)[0]))(ts)
    assert bool(jnp.all(jnp.isfinite(g)))


def test_float64_and_bfloat16_inputs(x64):
    cell = LTCCell(input_size=3, units=5)
    p64 = cell.init(jax.random.key(0), dtype=jnp.float64)
    xs, ts = _data(features=3)
    ys, v = cell.apply(p64, xs.astype(jnp.float64), timespans=ts.astype(jnp.float64))
    assert ys.dtype == jnp.float64 and v.dtype == jnp.float64
    p32 = cell.init(jax.random.key(0))
    ys16, v16 = cell.apply(p32, xs.astype(jnp.bfloat16), timespans=ts)
    assert v16.dtype == jnp.float32  # the state is kept in the parameters' precision


def test_mixed_memory_state_is_a_pair():
    cell = LTCCell(input_size=3, units=6, mixed_memory=True)
    p = cell.init(jax.random.key(0))
    xs, ts = _data()
    ys, (v, c) = cell.apply(p, xs, timespans=ts)
    assert ys.shape == (4, 9, 6) and v.shape == c.shape == (4, 6)
    ref_y, ref_state = _manual_loop(cell, p, xs[0], ts[0])
    np.testing.assert_allclose(ys[0], ref_y, atol=1e-6)


def test_any_cell_works_with_unroll():
    cell = LSTMCell(units=5, input_size=3)
    p = cell.init(jax.random.key(0))
    xs, _ = _data()
    ys, (h, c) = unroll(cell, p, xs, lengths=jnp.array([9, 3, 2, 1]))
    assert ys.shape == (4, 9, 5)
    np.testing.assert_allclose(ys[1, 2], ys[1, -1])


@pytest.mark.usefixtures("without_runtime_typechecks")
@pytest.mark.parametrize(
    "kwargs,inputs_shape,match",
    [
        ({}, (4, 9, 5), "inputs: expected 3 features"),
        ({}, (9,), "inputs: expected shape"),
        ({}, (2, 4, 9, 3), "inputs: expected shape"),
        ({"timespans": -np.ones((4, 9))}, (4, 9, 3), "timespans: .*negative"),
        ({"timespans": np.full((4, 9), np.nan)}, (4, 9, 3), "timespans: .*NaN"),
        ({"timespans": np.ones((3, 9))}, (4, 9, 3), r"timespans: expected shape \(4, 9\)"),
        ({"lengths": np.array([1, 2])}, (4, 9, 3), r"lengths: expected shape \(4,\)"),
        ({"mask": np.ones((4, 8), bool)}, (4, 9, 3), "mask: expected shape"),
        ({"mask": np.ones((4, 9)), "lengths": np.ones(4, int)}, (4, 9, 3), "at most one"),
        ({"initial_state": np.zeros((4, 7))}, (4, 9, 3), "initial_state: expected shape"),
        ({}, (4, 0, 3), "at least one time step"),
    ],
)
def test_bad_input_names_the_argument(cell, params, kwargs, inputs_shape, match):
    with pytest.raises(ValueError, match=match):
        cell.apply(params, jnp.ones(inputs_shape), **kwargs)


@pytest.mark.usefixtures("without_runtime_typechecks")
@pytest.mark.parametrize(
    "state_shape,x_shape,dt,match",
    [
        ((4, 10), (4, 3), -0.5, "dt: .*negative value -0.5"),
        ((4, 10), (4, 3), np.array([0.1, np.nan, 0.1, 0.1]), "dt: .*NaN"),
        ((4, 10), (4, 3), np.inf, "dt: .*NaN or inf"),
        ((4, 10), (4, 3), np.ones(3), r"dt: expected a scalar or shape \(4,\)"),
        ((3, 10), (4, 3), 0.1, r"state: expected shape \(4, 10\)"),
        ((4, 9), (4, 3), 0.1, r"state: expected shape \(4, 10\)"),
        ((10,), (4, 3), 0.1, r"state: expected shape \(4, 10\)"),
        ((4, 10), (4, 2), 0.1, r"x: expected shape \(batch, 3\)"),
    ],
)
def test_step_batch_bad_arguments_name_the_argument(cell, params, state_shape, x_shape, dt, match):
    with pytest.raises(ValueError, match=match):
        cell.step_batch(params, jnp.zeros(state_shape), jnp.ones(x_shape), dt)


def test_step_batch_checks_the_mixed_memory_pair_and_accepts_traced_dt():
    cell = LTCCell(input_size=2, units=4, mixed_memory=True)
    params = cell.init(jax.random.key(0))
    with pytest.raises(ValueError, match="state: expected a pytree"):
        cell.step_batch(params, jnp.zeros((3, 4)), jnp.ones((3, 2)), 0.1)
    state = cell.initial_state((3,))
    # A traced dt has no host value to check; the step still runs under jit.
    step = jax.jit(lambda s, dt: cell.step_batch(params, s, jnp.ones((3, 2)), dt)[0])
    v, c = step(state, jnp.array([0.5, 0.0, 1.0]))
    assert v.shape == c.shape == (3, 4) and np.all(np.isfinite(v))


@pytest.mark.usefixtures("without_runtime_typechecks")
@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"solver": "dopri"}, "solver: expected one of"),
        ({"input_mapping": "sigmoid"}, "input_mapping: expected one of"),
        ({"output_mapping": "relu"}, "output_mapping: expected one of"),
        ({"constraint": "abs"}, "constraint: expected one of"),
        ({"ode_unfolds": 0}, "ode_unfolds: expected a positive integer"),
        ({"units": None}, "units, wiring"),
        ({"units": 5, "wiring": AutoNCP(10, 2)}, "units: expected the wiring's 10 units"),
    ],
)
def test_bad_configuration_names_the_argument(kwargs, match):
    kwargs = {"units": 4, **kwargs}
    with pytest.raises(ValueError, match=match):
        LTCCell(input_size=3, **kwargs)


def test_wiring_built_for_other_input_size_is_rejected():
    wiring = AutoNCP(10, 2).build(5)
    with pytest.raises(ValueError, match="input_size: expected the 5 input features the wiring"):
        LTCCell(input_size=3, wiring=wiring)


def _gradient_temp_bytes(units: int, remat: bool | None, batch: int = 256, steps: int = 256):
    cell = LTCCell(input_size=16, units=units)
    params = cell.init(jax.random.key(0))
    x = jax.ShapeDtypeStruct((batch, steps, 16), jnp.float32)
    loss = lambda p, x: jnp.mean(cell.apply(p, x, remat=remat)[0] ** 2)  # noqa: E731
    analysis = jax.jit(jax.grad(loss)).lower(params, x).compile().memory_analysis()
    if analysis is None:
        pytest.skip("this backend reports no memory analysis")
    return analysis.temp_size_in_bytes


@pytest.mark.parametrize("remat", [None, True], ids=["default", "remat"])
def test_training_memory_is_linear_not_quadratic_in_synapses(remat):
    """Gradient of B=256, T=256, N=128: compiled temporaries must stay under 4 GB.

    A naive scan storing every unfold's B x N x N activations needs > 100 GB here. Each
    extra time step may add a few floats per neuron and sequence (states, denominators),
    never a B x N x N synapse array (128 floats per neuron and sequence here).
    """
    batch, units = 256, 128
    at_256 = _gradient_temp_bytes(units, remat, batch=batch, steps=256)
    assert at_256 < 4e9, at_256
    at_128 = _gradient_temp_bytes(units, remat, batch=batch, steps=128)
    floats_per_neuron_and_step = (at_256 - at_128) / (128 * batch * units * 4)
    assert floats_per_neuron_and_step < 32, floats_per_neuron_and_step


def test_absolute_times_with_a_scalar_or_per_sequence_t0():
    """``t0`` may be a scalar or (B,) with batched ``times`` (issue 12 found the scalar
    case failing with "axis 1 is out of bounds")."""
    cell = LTCCell(input_size=3, wiring=AutoNCP(10, 2))
    params = cell.init(jax.random.key(0))
    x = jax.random.normal(jax.random.key(1), (4, 6, 3))
    dt = jax.random.uniform(jax.random.key(2), (4, 6), minval=0.1, maxval=1.0)
    ref, _ = cell.apply(params, x, timespans=dt)
    ys, _ = cell.apply(params, x, times=jnp.cumsum(dt, 1), t0=0.0)
    np.testing.assert_allclose(ys, ref, atol=1e-5)
    shift = jnp.arange(4.0)
    ys, _ = cell.apply(params, x, times=jnp.cumsum(dt, 1) + shift[:, None], t0=shift)
    np.testing.assert_allclose(ys, ref, atol=1e-5)


@pytest.mark.usefixtures("without_runtime_typechecks")
def test_t0_of_the_wrong_shape_names_t0():
    cell = LTCCell(input_size=3, units=4)
    params = cell.init(jax.random.key(0))
    times = jnp.cumsum(jnp.ones((4, 6)), 1)
    with pytest.raises(ValueError, match=r"t0: expected a scalar or shape \(4,\)"):
        cell.apply(params, jnp.ones((4, 6, 3)), times=times, t0=jnp.zeros(3))
