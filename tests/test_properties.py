"""Property tests: invariants over thousands of random configurations.

Hypothesis draws a structure (model, wiring, size, dtype) from a small set, so that each
jitted function compiles once per structure, and values (parameters, initial states,
elapsed times including 0 and very large ones, inputs, masks) for a batch of ``ROWS``
configurations that are checked at once. Cases per test = examples x ROWS; the counts are
in ``CASES`` (printed with ``-s``). ``LTCJAX_PROPERTY_EXAMPLES`` raises the example count.
"""

import functools
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ltcjax

EXAMPLES = int(os.environ.get("LTCJAX_PROPERTY_EXAMPLES", "20"))
ROWS = 64  # configurations per example (one batch)
STEPS = 12
INPUTS = 3
CASES: dict[str, int] = {}
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # reproducible in CI
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def count(name: str) -> None:
    CASES[name] = CASES.get(name, 0) + ROWS


WIRINGS = {
    "fc8": lambda: ltcjax.FullyConnected(8),
    "random8": lambda: ltcjax.Random(8, 2, sparsity_level=0.6, random_seed=4),
    "autoncp12": lambda: ltcjax.AutoNCP(12, 2, seed=5),
    "ncp9": lambda: ltcjax.NCP(
        inter_neurons=3,
        command_neurons=4,
        motor_neurons=2,
        sensory_fanout=2,
        inter_fanout=2,
        recurrent_command_synapses=2,
        motor_fanin=2,
        seed=6,
    ),
}


@functools.cache
def ltc(wiring: str, unfolds: int = 6) -> ltcjax.LTCCell:
    return ltcjax.LTCCell(input_size=INPUTS, wiring=WIRINGS[wiring](), ode_unfolds=unfolds)


@functools.cache
def other(name: str):
    return {
        "cfc": lambda: ltcjax.CfCCell(input_size=INPUTS, units=6),
        "ctrnn": lambda: ltcjax.CTRNNCell(input_size=INPUTS, units=6),
        "ctgru": lambda: ltcjax.CTGRUCell(input_size=INPUTS, units=5),
        "lstm": lambda: ltcjax.LSTMCell(input_size=INPUTS, units=6),
    }[name]()


CELL_NAMES = [f"ltc-{w}" for w in WIRINGS] + ["cfc", "ctrnn", "ctgru", "lstm"]


def cell_named(name: str):
    return ltc(name[4:]) if name.startswith("ltc-") else other(name)


# elapsed times: zeros, tiny, ordinary and huge, mixed in every batch
DT_CHOICES = np.array([0.0, 1e-6, 0.01, 0.3, 1.0, 7.0, 1e3, 1e6], np.float32)


def draw_values(seed: int, cell, dtype=jnp.float32):
    rng = np.random.default_rng(seed)
    params = cell.init(jax.random.key(seed % (2**31)), dtype=dtype)
    x = rng.normal(0, 2, (ROWS, STEPS, INPUTS)).astype(np.float32)
    dt = DT_CHOICES[rng.integers(0, len(DT_CHOICES), (ROWS, STEPS))]
    lengths = rng.integers(0, STEPS + 1, ROWS)
    return params, jnp.asarray(x, dtype), jnp.asarray(dt), jnp.asarray(lengths)


# -- Theorem 2: the fused solver keeps each neuron in its hull ------------------------------
@functools.cache
def _trajectory(wiring: str, unfolds: int):
    cell = ltc(wiring, unfolds)

    @jax.jit
    def run(params, v0, x, dt):
        def body(v, xs):
            v, _ = cell.step_many(params, v, *xs)
            return v, v

        _, vs = jax.lax.scan(body, v0, (jnp.swapaxes(x, 0, 1), dt.T))
        return vs  # (T, B, N)

    return run


@SETTINGS
@given(
    wiring=st.sampled_from(sorted(WIRINGS)),
    unfolds=st.sampled_from([1, 6]),
    seed=st.integers(0, 2**32 - 1),
    scale=st.sampled_from([0.0, 1.0, 5.0]),
)
def test_fused_solver_state_stays_within_theorem_2_bounds(wiring, unfolds, seed, scale):
    cell = ltc(wiring, unfolds)
    params, x, dt, _ = draw_values(seed, cell)
    rng = np.random.default_rng(seed + 1)
    v0 = jnp.asarray(rng.normal(0, scale, (ROWS, cell.units)), jnp.float32)
    vs = _trajectory(wiring, unfolds)(params, v0, x, dt)
    lo, hi = ltcjax.state_bounds(cell, params, v0)
    tol = 1e-4 * (1.0 + np.abs(np.asarray(hi)) + np.abs(np.asarray(lo)))
    assert np.all(np.isfinite(np.asarray(vs)))
    assert np.all(np.asarray(vs) >= np.asarray(lo) - tol)
    assert np.all(np.asarray(vs) <= np.asarray(hi) + tol)
    count("theorem_2_bound")


# -- padding, batching, stepping -------------------------------------------------------
@functools.cache
def _apply(name: str):
    cell = cell_named(name)
    return jax.jit(lambda p, x, dt, n: cell.apply(p, x, timespans=dt, lengths=n))


@functools.cache
def _apply_alone(name: str):
    cell = cell_named(name)

    def alone(p, x, dt, n):  # one (T, F) sequence, no batch axis
        return cell.apply(p, x, timespans=dt, lengths=n)

    return jax.jit(lambda p, x, dt, n: jax.lax.map(lambda a: alone(p, *a), (x, dt, n)))


@SETTINGS
@given(name=st.sampled_from(CELL_NAMES), seed=st.integers(0, 2**32 - 1))
def test_padding_leaves_the_state_unchanged(name, seed):
    """Steps after each sequence's length (garbage inputs, NaN elapsed times) change neither
    the final state nor the outputs at valid steps."""
    cell = cell_named(name)
    params, x, dt, lengths = draw_values(seed, cell)
    pad = jnp.arange(STEPS)[None, :] >= lengths[:, None]
    x_garbage = jnp.where(pad[..., None], 1e4 * jnp.sign(x), x)
    dt_garbage = jnp.where(pad, jnp.nan, dt)
    ys, state = _apply(name)(params, x, dt, lengths)
    ys2, state2 = _apply(name)(params, x_garbage, dt_garbage, lengths)
    for a, b in zip(jax.tree.leaves(state), jax.tree.leaves(state2), strict=True):
        np.testing.assert_array_equal(a, b)
    valid = np.asarray(~pad)
    np.testing.assert_array_equal(np.asarray(ys)[valid], np.asarray(ys2)[valid])
    count("padding")


@SETTINGS
@given(name=st.sampled_from(CELL_NAMES), seed=st.integers(0, 2**32 - 1))
def test_a_batch_equals_each_sequence_alone(name, seed):
    cell = cell_named(name)
    params, x, dt, lengths = draw_values(seed, cell)
    ys, state = _apply(name)(params, x, dt, lengths)
    ys1, state1 = _apply_alone(name)(params, x, dt, lengths)
    # float32: XLA tiles a matmul differently for a batch and a single row, and an explicit
    # solver over dt = 1e6 amplifies that rounding along with the (diverging) state
    np.testing.assert_allclose(ys, ys1, rtol=1e-3, atol=1e-4)
    for a, b in zip(jax.tree.leaves(state), jax.tree.leaves(state1), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-4)
    count("batch_equals_alone")


@functools.cache
def _stepped(name: str):
    cell = cell_named(name)

    @jax.jit
    def run(params, x, dt):
        def body(s, xs):
            return cell.step_batch(params, s, *xs)

        s0 = cell.initial_state((x.shape[0],))
        state, ys = jax.lax.scan(body, s0, (jnp.swapaxes(x, 0, 1), dt.T))
        return jnp.swapaxes(ys, 0, 1), state

    return run


@SETTINGS
@given(name=st.sampled_from(CELL_NAMES), seed=st.integers(0, 2**32 - 1))
def test_step_repeated_equals_apply(name, seed):
    cell = cell_named(name)
    params, x, dt, _ = draw_values(seed, cell)
    full = jnp.full((ROWS,), STEPS)
    ys, state = _apply(name)(params, x, dt, full)
    ys1, state1 = _stepped(name)(params, x, dt)
    np.testing.assert_allclose(ys, ys1, rtol=2e-5, atol=2e-5)
    for a, b in zip(jax.tree.leaves(state), jax.tree.leaves(state1), strict=True):
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-5)
    count("step_equals_apply")


@settings(SETTINGS, max_examples=min(EXAMPLES, 8))  # a new cell (and compile) per example
@given(
    wiring=st.sampled_from(sorted(WIRINGS)),
    mapping=st.sampled_from(["affine", "linear", "none"]),
    mixed=st.booleans(),
    seed=st.integers(0, 2**31 - 1),
)
def test_ncps_weights_round_trip(wiring, mapping, mixed, seed):
    """to_ncps_ltc then from_ncps_ltc gives back the same parameters and the same model."""
    cell = ltcjax.LTCCell(
        input_size=INPUTS,
        wiring=WIRINGS[wiring](),
        input_mapping=mapping,
        output_mapping=mapping,
        mixed_memory=mixed,
    )
    params = cell.init(jax.random.key(seed))
    # without an output map the state dict does not say how many motor neurons there are
    wiring = cell.wiring if mapping == "none" else None
    cell2, params2 = ltcjax.from_ncps_ltc(ltcjax.to_ncps_ltc(cell, params), wiring=wiring)
    for a, b in zip(jax.tree.leaves(params), jax.tree.leaves(params2), strict=True):
        np.testing.assert_array_equal(a, b)
    x = jnp.asarray(np.random.default_rng(seed).normal(size=(2, 5, INPUTS)), jnp.float32)
    np.testing.assert_array_equal(cell.apply(params, x)[0], cell2.apply(params2, x)[0])
    CASES["ncps_round_trip"] = CASES.get("ncps_round_trip", 0) + 1


def test_report_case_counts():
    """Runs last in this file (pytest keeps file order): print what ran."""
    if not CASES:
        pytest.skip("run with the property tests (not alone)")
    print("property cases:", CASES)
