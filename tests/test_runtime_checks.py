"""Bad values raise an error naming the argument, eagerly and inside jit / vmap / grad.

Each case of issue 12 is run through every public entry point it reaches, once eagerly and
once jitted; the jitted error is a ``JaxRuntimeError`` whose text holds the same message.
"""

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import ltcjax
from ltcjax.cell import checked_step
from ltcjax.continuous import odeint_sequence

# Users do not run the test-time jaxtyping hook: they see ltcjax's own errors.
pytestmark = pytest.mark.usefixtures("without_runtime_typechecks")

CELL = ltcjax.LTCCell(input_size=3, wiring=ltcjax.AutoNCP(10, 2))
PARAMS = CELL.init(jax.random.key(0))
X = jnp.ones((4, 6, 3))
DT = jnp.full((4, 6), 0.5)


def raises_naming(fn, *args, name, expected=None):
    """Call ``fn(*args)`` and assert it raised "name: expected ..." (possibly wrapped)."""
    with pytest.raises((ValueError, jax.errors.JaxRuntimeError)) as info:
        jax.block_until_ready(fn(*args))
    text = str(info.value)
    assert f"{name}: expected" in text, text
    if expected is not None:
        assert expected in text, text


MODES = {"eager": lambda f: f, "jit": jax.jit}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "bad, got",
    [(jnp.nan, "NaN or inf"), (-1.0, "a negative value -1.0"), (jnp.inf, "NaN or inf")],
)
def test_bad_timespans_raise_in_apply(mode, bad, got):
    f = MODES[mode](lambda d: CELL.apply(PARAMS, X, timespans=d)[0])
    raises_naming(f, DT.at[0, 2].set(bad), name="timespans", expected=got)


@pytest.mark.parametrize("mode", MODES)
def test_bad_dt_raises_in_step_batch_and_checked_step(mode):
    state = CELL.initial_state((4,))
    f = MODES[mode](lambda d: CELL.step_batch(PARAMS, state, X[:, 0], d)[1])
    raises_naming(f, jnp.full((4,), 0.5).at[1].set(jnp.nan), name="dt")
    g = MODES[mode](lambda d: checked_step(CELL, PARAMS, state, X[:, 0], d)[1])
    raises_naming(g, jnp.array(-2.0), name="dt", expected="-2.0")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("lengths, got", [([7, 6, 6, 6], "got 7"), ([3, -1, 6, 6], "got -1")])
def test_lengths_out_of_range_raise(mode, lengths, got):
    f = MODES[mode](lambda n: CELL.apply(PARAMS, X, timespans=DT, lengths=n)[0])
    raises_naming(f, jnp.array(lengths), name="lengths", expected=got)


@pytest.mark.parametrize("mode", MODES)
def test_float_mask_is_rejected(mode):
    f = MODES[mode](lambda m: CELL.apply(PARAMS, X, timespans=DT, mask=m)[0])
    raises_naming(f, jnp.ones((4, 6)), name="mask", expected="booleans")


@pytest.mark.parametrize("mode", MODES)
def test_non_finite_initial_state_raises(mode):
    s0 = CELL.initial_state((4,)).at[0, 0].set(jnp.nan)
    f = MODES[mode](lambda s: CELL.apply(PARAMS, X, timespans=DT, initial_state=s)[0])
    raises_naming(f, s0, name="initial_state", expected="NaN or inf")


@pytest.mark.parametrize("mode", MODES)
def test_decreasing_times_raise(mode):
    times = jnp.cumsum(DT, axis=1).at[0, 3].set(0.1)
    f = MODES[mode](lambda t: ltcjax.unroll(CELL, PARAMS, X, times=t, t0=0.0)[0])
    raises_naming(f, times, name="times", expected="non-decreasing")


@pytest.mark.parametrize("mode", MODES)
def test_params_of_another_cell_name_params(mode):
    other = ltcjax.LTCCell(input_size=3, units=6)
    f = MODES[mode](lambda p: other.apply(p, X)[0])
    raises_naming(f, PARAMS, name="params", expected="of shape (6,)")
    g = MODES[mode](lambda p: other.step_batch(p, other.initial_state((4,)), X[:, 0])[1])
    raises_naming(g, PARAMS, name="params")
    cfc = ltcjax.CfCCell(input_size=3, units=10)
    h = MODES[mode](lambda p: cfc.apply(p, X)[0])
    raises_naming(h, PARAMS, name="params", expected="structure")


def test_checks_hold_under_vmap_and_grad():
    def loss(d):
        return jnp.sum(CELL.apply(PARAMS, X[:1], timespans=d)[0])

    bad = DT[:1].at[0, 1].set(jnp.nan)
    raises_naming(jax.jit(jax.grad(loss)), bad, name="timespans")
    raises_naming(jax.jit(jax.vmap(loss)), jnp.stack([DT[:1], bad]), name="timespans")
    raises_naming(jax.vmap(loss), jnp.stack([DT[:1], bad]), name="timespans")
    good = jax.jit(jax.grad(loss))(DT[:1])
    assert np.all(np.isfinite(good))


@pytest.mark.parametrize("framework", ["equinox", "nnx", "linen"])
def test_nn_adapters_check_under_jit(framework):
    bad = DT.at[1, 1].set(-3.0)
    if framework == "equinox":
        from ltcjax.nn.equinox import LTC

        model = LTC(input_size=3, units=4, key=jax.random.key(0))
        f = jax.jit(lambda d: model(X, timespans=d)[0])
    elif framework == "nnx":
        from flax import nnx

        from ltcjax.nn.nnx import LTC

        model = LTC(3, 4, rngs=nnx.Rngs(0))
        f = nnx.jit(lambda m, d: m(X, timespans=d)[0])
        f = lambda d, f=f: f(model, d)  # noqa: E731
    else:
        from ltcjax.nn.linen import Recurrent

        model = Recurrent(ltcjax.LTCCell(input_size=3, units=4))
        variables = model.init(jax.random.key(0), X, timespans=DT)
        f = jax.jit(lambda d: model.apply(variables, X, timespans=d)[0])
    raises_naming(f, bad, name="timespans", expected="-3.0")


def test_switch_turns_traced_checks_off_and_eager_checks_stay():
    bad = DT.at[0, 2].set(jnp.nan)
    with ltcjax.runtime_checks(False):
        f = jax.jit(lambda d: CELL.apply(PARAMS, X, timespans=d)[0])
        ys = jax.block_until_ready(f(bad))  # unchecked: the fused solver holds the state
        assert not ltcjax.runtime_checks_enabled()
        raises_naming(lambda: CELL.apply(PARAMS, X, timespans=bad), name="timespans")
    assert ltcjax.runtime_checks_enabled()
    np.testing.assert_array_equal(ys, f(DT.at[0, 2].set(0.0)))


def test_padded_steps_may_hold_nan_timespans():
    mask = jnp.ones((4, 6), bool).at[1, 4:].set(False)
    bad = DT.at[1, 4:].set(jnp.nan)
    for f in (
        lambda d: CELL.apply(PARAMS, X, timespans=d, mask=mask),
        jax.jit(lambda d: CELL.apply(PARAMS, X, timespans=d, mask=mask)),
    ):
        ys, state = f(bad)
        ref_ys, ref_state = CELL.apply(PARAMS, X, timespans=DT, mask=mask)
        np.testing.assert_allclose(ys, ref_ys, rtol=1e-5, atol=1e-6)  # jit vs eager rounding
        np.testing.assert_allclose(state, ref_state, rtol=1e-5, atol=1e-6)
    grads = jax.grad(lambda d: jnp.sum(CELL.apply(PARAMS, X, timespans=d, mask=mask)[0]))(bad)
    assert np.all(np.isfinite(np.asarray(grads)[mask]))


def test_unroll_times_with_scalar_t0_equals_timespans():
    ys, _ = ltcjax.unroll(CELL, PARAMS, X, times=jnp.cumsum(DT, 1), t0=0.0)
    ref, _ = CELL.apply(PARAMS, X, timespans=DT)
    np.testing.assert_allclose(ys, ref, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mode", MODES)
def test_odeint_query_times_before_first_observation(mode):
    """query_times from 0 with observations from 0.5: the solve starts at the earliest
    query time, the same as passing t0=0 explicitly."""
    cell = ltcjax.LTCCell(input_size=3, units=4)
    params = cell.init(jax.random.key(1))
    times = jnp.cumsum(DT, 1)
    q = jnp.linspace(0.0, 3.0, 10)
    solver = ltcjax.DiffraxSolver(solver=diffrax.Tsit5(), rtol=1e-6, atol=1e-8)

    def run(t0):
        return odeint_sequence(cell, params, X, times=times, t0=t0, query_times=q, solver=solver)

    sol = MODES[mode](lambda: run(None))()
    ref = run(0.0)
    np.testing.assert_array_equal(sol.status, 0)
    np.testing.assert_allclose(sol.query_states, ref.query_states, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(sol.query_states[:, 0], 0.0, atol=1e-7)  # the initial state
