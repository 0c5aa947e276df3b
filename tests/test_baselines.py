"""Baselines (CT-RNN, ODE-RNN, CT-GRU, LSTM): hand-computed steps, gradients, Table S2 counts."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

from ltcjax.models.ctgru import CTGRUCell
from ltcjax.models.ctrnn import CTRNNCell
from ltcjax.models.lstm import LSTMCell
from ltcjax.models.ltc import LTCCell
from ltcjax.models.node import ODERNNCell

F, K = 3, 4


def _np(a):
    return np.asarray(a, np.float64)


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


@pytest.fixture
def rng():
    return np.random.default_rng(0)


# -- hand-computed steps -------------------------------------------------------------------
@pytest.mark.parametrize("trainable_tau", [False, True])
def test_ctrnn_euler_step_by_hand(rng, trainable_tau):
    cell = CTRNNCell(input_size=F, units=K, tau=2.0, trainable_tau=trainable_tau)
    p = cell.init(jax.random.key(0))
    if trainable_tau:
        p = p._replace(tau_raw=jnp.asarray(rng.normal(size=K), jnp.float32))
        tau = np.log1p(np.exp(_np(p.tau_raw)))
    else:
        tau = 2.0
    p = p._replace(bias=jnp.asarray(rng.normal(size=K), jnp.float32))
    h0, x = rng.normal(size=K), rng.normal(size=F)
    h = h0.copy()
    for _ in range(6):  # the paper: 6 explicit Euler steps of 0.1
        h = h + 0.1 * (-h / tau + np.tanh(np.concatenate([x, h]) @ _np(p.kernel) + _np(p.bias)))
    new, y = cell.step(p, jnp.asarray(h0, jnp.float32), jnp.asarray(x, jnp.float32), 0.6)
    np.testing.assert_allclose(new, h, atol=1e-5)
    np.testing.assert_array_equal(new, y)


def _np_rk4(f, h, dt, n):
    s = dt / n
    for _ in range(n):
        k1 = f(h)
        k2 = f(h + 0.5 * s * k1)
        k3 = f(h + 0.5 * s * k2)
        k4 = f(h + s * k3)
        h = h + s / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    return h


def test_ode_rnn_rk4_step_by_hand(rng):
    cell = ODERNNCell(input_size=F, units=K)
    p = cell.init(jax.random.key(1))
    p = p._replace(bias=jnp.asarray(rng.normal(size=K), jnp.float32))
    h0, x = rng.normal(size=K), rng.normal(size=F)

    def f(h):
        return np.tanh(np.concatenate([x, h]) @ _np(p.kernel) + _np(p.bias))

    expected = _np_rk4(f, h0, 0.6, 6)
    new, y = cell.step(p, jnp.asarray(h0, jnp.float32), jnp.asarray(x, jnp.float32), 0.6)
    np.testing.assert_allclose(new, expected, atol=1e-5)
    # the Euler option takes 6 plain steps
    euler = ODERNNCell(input_size=F, units=K, solver="euler", ode_unfolds=3)
    h = h0.copy()
    for _ in range(3):
        h = h + 0.2 * f(h)
    np.testing.assert_allclose(
        euler.step(p, jnp.asarray(h0, jnp.float32), jnp.asarray(x, jnp.float32), 0.6)[0],
        h,
        atol=1e-5,
    )


def _np_ctgru_step(p, hh_flat, x, dt, units, m):
    """Mozer et al.'s CT-GRU as in the paper's TF code, written with explicit loops."""
    hh = hh_flat.reshape(units, m)
    ln_tau = np.array([k * 0.5 * np.log(10.0) for k in range(m)])
    h = hh.sum(axis=1)
    fused = np.concatenate([x, h])
    ln_r = (fused @ _np(p.retrieval_kernel) + _np(p.retrieval_bias)).reshape(units, m)
    ln_s = (fused @ _np(p.storage_kernel) + _np(p.storage_bias)).reshape(units, m)
    out = np.zeros_like(hh)
    retrieved = np.zeros(units)
    r = np.zeros((units, m))
    s = np.zeros((units, m))
    for i in range(units):
        er = np.exp(-((ln_r[i] - ln_tau) ** 2))
        r[i] = er / er.sum()
        es = np.exp(-((ln_s[i] - ln_tau) ** 2))
        s[i] = es / es.sum()
        retrieved[i] = np.dot(r[i], hh[i])
    q = np.tanh(np.concatenate([x, retrieved]) @ _np(p.event_kernel) + _np(p.event_bias))
    for i in range(units):
        for k in range(m):
            tau_k = 10.0 ** (0.5 * k)
            out[i, k] = ((1 - s[i, k]) * hh[i, k] + s[i, k] * q[i]) * np.exp(-dt / tau_k)
    return out.reshape(-1), out.sum(axis=1)


@pytest.mark.parametrize("dt", [0.0, 0.7, 30.0])
def test_ctgru_step_by_hand(rng, dt):
    cell = CTGRUCell(input_size=F, units=K, num_scales=5)
    p = cell.init(jax.random.key(2))
    p = p._replace(
        retrieval_bias=jnp.asarray(rng.normal(size=K * 5), jnp.float32),
        storage_bias=jnp.asarray(rng.normal(size=K * 5) + 2.0, jnp.float32),
        event_bias=jnp.asarray(rng.normal(size=K), jnp.float32),
    )
    hh0, x = rng.normal(size=K * 5), rng.normal(size=F)
    exp_state, exp_y = _np_ctgru_step(p, hh0, x, dt, K, 5)
    state, y = cell.step(p, jnp.asarray(hh0, jnp.float32), jnp.asarray(x, jnp.float32), dt)
    np.testing.assert_allclose(state, exp_state, atol=1e-5)
    np.testing.assert_allclose(y, exp_y, atol=1e-5)


def test_ctgru_time_scales():
    cell = CTGRUCell(input_size=1, units=2)
    np.testing.assert_allclose(cell.time_scales, 10.0 ** (0.5 * np.arange(8)), rtol=1e-12)
    assert cell.state_size == 16 and cell.output_size == 2


def test_lstm_step_by_hand(rng):
    cell = LSTMCell(units=K, input_size=F)
    p = cell.init(jax.random.key(3))
    h0, c0, x = rng.normal(size=K), rng.normal(size=K), rng.normal(size=F)
    z = x @ _np(p.input_kernel) + _np(p.input_bias) + h0 @ _np(p.recurrent_kernel)
    i, ig, fg, og = np.split(z, 4)
    c = c0 * _sigmoid(fg + 1.0) + np.tanh(i) * _sigmoid(ig)  # forget bias 1
    h = np.tanh(c) * _sigmoid(og)
    (h1, c1), y = cell.step(p, (jnp.asarray(h0), jnp.asarray(c0)), jnp.asarray(x), 0.3)
    np.testing.assert_allclose(h1, h, atol=1e-5)
    np.testing.assert_allclose(c1, c, atol=1e-5)
    np.testing.assert_array_equal(h1, y)


def test_discrete_lstm_ignores_elapsed_time():
    cell = LSTMCell(units=K, input_size=F)
    p = cell.init(jax.random.key(0))
    xs = jax.random.normal(jax.random.key(1), (2, 5, F))
    a, _ = cell.apply(p, xs, timespans=0.1)
    b, _ = cell.apply(p, xs, timespans=jnp.linspace(0, 3, 10).reshape(2, 5))
    np.testing.assert_array_equal(a, b)
    assert not cell.uses_time


@pytest.mark.parametrize("cls", [CTRNNCell, ODERNNCell, CTGRUCell])
def test_continuous_cells_use_elapsed_time(cls):
    cell = cls(input_size=F, units=K)
    assert cell.uses_time
    p = cell.init(jax.random.key(0))
    xs = jax.random.normal(jax.random.key(1), (2, 5, F))
    a, _ = cell.apply(p, xs, timespans=0.3)
    b, _ = cell.apply(p, xs, timespans=1.2)
    assert not np.allclose(a, b)


# -- gradients -----------------------------------------------------------------------------
def _lstm64(key):
    cell = LSTMCell(units=K, input_size=F)
    return cell, jax.tree.map(lambda a: a.astype(jnp.float64), cell.init(key))


CELLS64 = {
    "ctrnn": lambda k: (
        c := CTRNNCell(input_size=F, units=K, trainable_tau=True),
        c.init(k, jnp.float64),
    ),
    "node": lambda k: (c := ODERNNCell(input_size=F, units=K), c.init(k, jnp.float64)),
    "ctgru": lambda k: (
        c := CTGRUCell(input_size=F, units=K, num_scales=3),
        c.init(k, jnp.float64),
    ),
    "lstm": _lstm64,
}


@pytest.mark.parametrize("name", sorted(CELLS64))
def test_gradient_matches_finite_differences(x64, name):
    cell, params = CELLS64[name](jax.random.key(4))
    xs = jax.random.normal(jax.random.key(5), (2, 4, F), jnp.float64)
    ts = jnp.array([[0.1, 0.6, 1.0, 0.0], [2.0, 0.3, 0.6, 0.6]], jnp.float64)
    flat, unravel = ravel_pytree(params)

    def loss(theta):
        ys, _ = cell.apply(unravel(theta), xs, timespans=ts, lengths=jnp.array([4, 3]))
        return jnp.sum(jnp.sin(ys))

    g = jax.grad(loss)(flat)
    loss = jax.jit(loss)
    for seed in range(2):
        direction = jax.random.normal(jax.random.key(10 + seed), flat.shape, jnp.float64)
        eps = 1e-6
        fd = (loss(flat + eps * direction) - loss(flat - eps * direction)) / (2 * eps)
        np.testing.assert_allclose(jnp.dot(g, direction), fd, rtol=1e-6, atol=1e-9)


# -- parameter counts (Table S2) -----------------------------------------------------------
# Table S2 counts parameters of n stacked layers of k units (m: CT-GRU time scales) and
# leaves out the input-to-hidden weights: each formula is our count extrapolated to zero
# inputs, with n = 1 for a single cell. The input weights add the stated term per feature.
TABLE_S2 = {
    # name: (factory(F, k), Table S2 formula(n, k, m), input weights per feature(k, m))
    "ctrnn": (
        lambda f, k: CTRNNCell(input_size=f, units=k, trainable_tau=True),
        lambda n, k, m: n * k**2 + 2 * n * k,
        lambda k, m: k,
    ),
    "node": (
        lambda f, k: ODERNNCell(input_size=f, units=k),
        lambda n, k, m: n * k**2 + n * k,
        lambda k, m: k,
    ),
    "lstm": (
        lambda f, k: LSTMCell(units=k, input_size=f),
        lambda n, k, m: 4 * n * k**2 + 4 * n * k,
        lambda k, m: 4 * k,
    ),
    "ctgru": (
        lambda f, k: CTGRUCell(input_size=f, units=k),
        lambda n, k, m: 2 * m * k**2 + 2 * m * k + k**2 + k,
        lambda k, m: 2 * m * k + k,
    ),
    "ltc": (
        lambda f, k: LTCCell(input_size=f, units=k, input_mapping="none", output_mapping="none"),
        lambda n, k, m: 4 * n * k**2 + 3 * n * k,
        lambda k, m: 4 * k,  # sensory synapses: sigma, mu, w, erev
    ),
}


@pytest.mark.parametrize("name", sorted(TABLE_S2))
@pytest.mark.parametrize("k", [1, 7, 32])
def test_parameter_counts_match_table_s2(name, k):
    factory, formula, per_input = TABLE_S2[name]
    m = 8  # CT-GRU time scales (ignored by the others)

    def count(f):
        cell = factory(f, k)
        return cell.num_params(jax.eval_shape(cell.init, jax.random.key(0)))

    c2, c5 = count(2), count(5)
    slope = (c5 - c2) // 3
    assert slope == per_input(k, m)
    assert c2 - 2 * slope == formula(1, k, m)


def test_ctrnn_fixed_tau_has_no_tau_parameters():
    cell = CTRNNCell(input_size=2, units=5)
    assert cell.num_params(cell.init(jax.random.key(0))) == 5 * 5 + 5 + 2 * 5


def test_ctrnn_trainable_tau_starts_at_tau_and_stays_positive():
    cell = CTRNNCell(input_size=1, units=3, tau=0.5, trainable_tau=True)
    p = cell.init(jax.random.key(0))
    np.testing.assert_allclose(cell.time_constant(p), 0.5, rtol=1e-6)
    p = p._replace(tau_raw=jnp.array([-30.0, 0.0, 30.0]))
    assert bool(jnp.all(cell.time_constant(p) > 0))


# -- solvers and validation ----------------------------------------------------------------
def test_ode_rnn_converges_with_unfolds():
    """More RK4 unfolds approach the same flow; Euler approaches it too (error shrinks)."""
    cell = ODERNNCell(input_size=F, units=K, ode_unfolds=64)
    p = cell.init(jax.random.key(0))
    h0, x = jnp.linspace(-1, 1, K), jnp.ones(F)
    ref = cell.step(p, h0, x, 2.0)[0]
    errs = [
        float(
            jnp.max(
                jnp.abs(
                    ODERNNCell(input_size=F, units=K, solver="euler", ode_unfolds=n).step(
                        p, h0, x, 2.0
                    )[0]
                    - ref
                )
            )
        )
        for n in (4, 16)
    ]
    assert errs[1] < errs[0] / 2


def test_diffrax_solver_for_the_ode_rnn():
    cell = ODERNNCell(input_size=F, units=K, solver="tsit5")
    rk4 = ODERNNCell(input_size=F, units=K, ode_unfolds=32)
    p = rk4.init(jax.random.key(0))
    h0, x = jnp.linspace(-1, 1, K), jnp.ones(F)
    np.testing.assert_allclose(cell.step(p, h0, x, 0.6)[0], rk4.step(p, h0, x, 0.6)[0], atol=1e-3)


@pytest.mark.parametrize(
    ("cls", "kwargs", "arg"),
    [
        (CTRNNCell, dict(solver="fused"), "solver"),
        (CTRNNCell, dict(ode_unfolds=0), "ode_unfolds"),
        (CTRNNCell, dict(tau=0.0), "tau"),
        (CTRNNCell, dict(units=0), "units"),
        (ODERNNCell, dict(solver="dopri99"), "solver"),
        (ODERNNCell, dict(input_size=0), "input_size"),
        (CTGRUCell, dict(num_scales=0), "num_scales"),
    ],
)
def test_validation_names_the_argument(cls, kwargs, arg):
    base = dict(input_size=F, units=K)
    with pytest.raises(ValueError, match=f"^{arg}:"):
        cls(**{**base, **kwargs})


# -- wrappers ------------------------------------------------------------------------------
def test_baselines_run_through_linen_and_equinox():
    from ltcjax.nn import equinox as ltc_eqx
    from ltcjax.nn import linen as ltc_linen

    xs, ts = jnp.ones((2, 5, F)), jnp.full((2, 5), 0.6)
    for cell in (CTRNNCell(input_size=F, units=K), CTGRUCell(input_size=F, units=K, num_scales=3)):
        model = ltc_linen.Recurrent(cell)
        variables = model.init(jax.random.key(0), xs, timespans=ts)
        ys, _ = model.apply(variables, xs, timespans=ts)
        (params,) = variables["params"].values()
        np.testing.assert_allclose(ys, cell.apply(params, xs, timespans=ts)[0], atol=1e-6)
        assert ys.shape == (2, 5, K)
    cell = ODERNNCell(input_size=F, units=K)
    eq = ltc_eqx.Recurrent(cell, key=jax.random.key(1))
    ys, _ = eq(xs[0], timespans=ts[0])
    np.testing.assert_allclose(ys, cell.apply(eq.params, xs[0], timespans=ts[0])[0], atol=1e-6)
