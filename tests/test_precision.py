"""Half precision: every cell, wiring and solver runs with bfloat16 / float16 parameters and
inputs, keeps its state in float32, and stays close to a float64 solve of the same model."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import _x64

import ltcjax
from ltcjax.precision import cast_floating

WIRINGS = {
    "fc": lambda: ltcjax.FullyConnected(8, 2),
    "random": lambda: ltcjax.Random(8, 2, sparsity_level=0.5, random_seed=1),
    "ncp": lambda: ltcjax.NCP(
        inter_neurons=4,
        command_neurons=3,
        motor_neurons=2,
        sensory_fanout=2,
        inter_fanout=2,
        recurrent_command_synapses=2,
        motor_fanin=2,
        seed=2,
    ),
    "autoncp": lambda: ltcjax.AutoNCP(10, 2, seed=3),
}


def cells():
    """(id, cell) pairs: the LTC on every wiring and solver, and every other model."""
    out = []
    for w in WIRINGS:  # every wiring with the fused solver, every fixed-step solver once
        out.append((f"ltc-{w}-fused", ltcjax.LTCCell(input_size=3, wiring=WIRINGS[w]())))
    for w, solver in (("autoncp", "euler"), ("ncp", "rk4")):
        cell = ltcjax.LTCCell(input_size=3, wiring=WIRINGS[w](), solver=solver)
        out.append((f"ltc-{w}-{solver}", cell))
    out.append(("ltc-fc-tsit5", ltcjax.LTCCell(input_size=3, units=6, solver="tsit5")))
    out.append(("ltc-mixed-memory", ltcjax.LTCCell(input_size=3, units=6, mixed_memory=True)))
    out.append(("cfc", ltcjax.CfCCell(input_size=3, units=6)))
    out.append(("cfc-ncp", ltcjax.CfCCell(input_size=3, wiring=ltcjax.AutoNCP(10, 2, seed=0))))
    out.append(("cfc-pure", ltcjax.CfCCell(input_size=3, units=6, mode="pure")))
    out.append(("ctrnn", ltcjax.CTRNNCell(input_size=3, units=6)))
    out.append(("ctrnn-tsit5", ltcjax.CTRNNCell(input_size=3, units=6, solver="tsit5")))
    out.append(("odernn", ltcjax.ODERNNCell(input_size=3, units=6)))
    out.append(("ctgru", ltcjax.CTGRUCell(input_size=3, units=6)))
    out.append(("lstm", ltcjax.LSTMCell(input_size=3, units=6)))
    return out


CELLS = cells()


def inputs(dtype):
    x = jnp.sin(jnp.linspace(0.0, 6.0, 2 * 7 * 3)).reshape(2, 7, 3)
    return x.astype(dtype), jnp.full((2, 7), 0.4)


def float64_reference(cell, params, x, ts):
    """The same model (the rounded half-precision parameters and inputs, upcast) in float64."""
    with _x64():
        p64 = cast_floating(params, jnp.float64)
        return cell.apply(p64, jnp.asarray(x, jnp.float64), timespans=jnp.asarray(ts, jnp.float64))


#: float16 (and the mixed policies) on a representative subset, bfloat16 everywhere: every
#: cell, wiring and solver meets each dtype at least once while CI time stays small.
SUBSET = {"ltc-autoncp-fused", "ltc-fc-tsit5"}
HALF_CASES = [(n, c, jnp.bfloat16) for n, c in CELLS] + [
    (n, c, jnp.float16) for n, c in CELLS if n in SUBSET
]
POLICY_CASES = [(n, c, "bfloat16") for n, c in CELLS] + [
    (n, c, p) for n, c in CELLS if n in SUBSET for p in ("mixed_bfloat16", "float16")
]


def _ids(cases):
    return [f"{n}-{jnp.dtype(d).name if not isinstance(d, str) else d}" for n, _, d in cases]


@pytest.mark.parametrize("name, cell, dtype", HALF_CASES, ids=_ids(HALF_CASES))
def test_half_params_keep_float32_state(name, cell, dtype):
    """Half-precision params and inputs, no policy: the state is carried and updated in
    float32 (the halves are upcast where they meet it), eager and jitted."""
    params = cell.init(jax.random.key(0), dtype=dtype)
    x, ts = inputs(dtype)
    ys, state = cell.apply(params, x, timespans=ts)
    ys_jit, _ = jax.jit(lambda p, x: cell.apply(p, x, timespans=ts))(params, x)
    for leaf in jax.tree.leaves(state):
        assert leaf.dtype == jnp.float32
    assert np.all(np.isfinite(np.asarray(ys, np.float32)))
    np.testing.assert_allclose(
        np.asarray(ys, np.float32), np.asarray(ys_jit, np.float32), atol=1e-5
    )
    ref, ref_state = float64_reference(cell, params, x, ts)
    scale = 1.0 + np.max(np.abs(ref))
    # only parameter-only terms (e.g. softplus of a weight) round in half precision
    err = np.max(np.abs(np.asarray(ys, np.float64) - np.asarray(ref))) / scale
    assert err < 2e-2, err


@pytest.mark.parametrize("name, cell, policy", POLICY_CASES, ids=_ids(POLICY_CASES))
def test_compute_dtype_policy(name, cell, policy):
    """A compute dtype: the step's arithmetic (masks and constants included) stays in that
    dtype, so the outputs come out in it, and the carried state stays float32."""
    prec = ltcjax.Precision.named(policy)
    params = prec.init(cell, jax.random.key(0))
    x, ts = inputs(jnp.float32)
    ys, state = jax.jit(lambda p, x: cell.apply(p, x, timespans=ts, precision=prec))(params, x)
    if name != "ltc-fc-tsit5" and not name.endswith("tsit5"):
        assert ys.dtype == prec.compute_dtype, ys.dtype
    for leaf in jax.tree.leaves(state):
        assert leaf.dtype == jnp.float32
    ref, _ = float64_reference(cell, cast_floating(params, prec.compute_dtype), x, ts)
    scale = 1.0 + np.max(np.abs(ref))
    err = np.max(np.abs(np.asarray(ys, np.float64) - np.asarray(ref))) / scale
    assert err < 0.1, err  # bfloat16 has 8 significant bits: ~0.4% per operation


def test_step_batch_keeps_the_state_dtype_of_a_scan_carry():
    """A control loop over step_batch in lax.scan: the carry's dtype never changes."""
    cell = ltcjax.LTCCell(input_size=3, wiring=ltcjax.AutoNCP(10, 2))
    params = cell.init(jax.random.key(0), dtype=jnp.bfloat16)

    def body(state, x):
        return cell.step_batch(params, state, x, 0.5)

    xs = jnp.ones((5, 1, 3), jnp.bfloat16)
    state, ys = jax.jit(lambda s: jax.lax.scan(body, s, xs))(cell.initial_state((1,)))
    assert state.dtype == jnp.float32
    state16, _ = jax.lax.scan(
        lambda s, x: cell.step_batch(params, s, x, 0.5, precision="bfloat16"),
        cell.initial_state((1,)),
        xs,
    )
    assert state16.dtype == jnp.float32


def test_precision_rejects_non_float_dtypes_and_unknown_names():
    with pytest.raises(ValueError, match="compute_dtype: expected a floating dtype"):
        ltcjax.Precision(compute_dtype=jnp.int32)
    with pytest.raises(ValueError, match="precision: expected one of"):
        ltcjax.LTCCell(input_size=1, units=2).apply(
            ltcjax.LTCCell(input_size=1, units=2).init(jax.random.key(0)),
            jnp.ones((1, 2, 1)),
            precision="half",
        )
