"""Theorems 1, 2 (property tests on random networks and inputs) and Theorems 4, 5 formulas."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ltcjax.expressivity import (
    ACTIVATIONS,
    NetworkSpec,
    check_within,
    ctrnn_length_lower_bound,
    init_random_network,
    length_lower_bound,
    ltc_length_lower_bound,
    ltc_state_bounds,
    ltc_tau_sys,
    ltc_tau_sys_bounds,
    node_length_lower_bound,
    random_ltc_tau_sys_trace,
)

# ---------------------------------------------------------------- Theorems 4 and 5 (formulas)


def _c(sw2, sb2, k):
    return math.sqrt(sw2 + sb2 + k * math.sqrt(sw2 + sb2))


@pytest.mark.parametrize("sw2, sb2, k, d, L", [(2.0, 1.0, 100, 1, 4.0), (16.0, 1.0, 25, 3, 0.5)])
def test_length_bounds_match_the_reference_formulas(sw2, sb2, k, d, L):
    sw, sb = math.sqrt(sw2), math.sqrt(sb2)
    node = (sw * math.sqrt(k) / _c(sw2, sb2, k)) ** (d * L) * 2 * math.pi
    ctrnn = ((sw - sb) * math.sqrt(k) / _c(sw2, sb2, k)) ** (d * L) * 2 * math.pi
    norm, dt = 3.0, 0.07
    ltc = (sw * math.sqrt(k) / _c(sw2, sb2, k)) ** (d * L) * (sw + norm / min(dt, L)) * 2 * math.pi
    assert float(node_length_lower_bound(sw2, sb2, k, d, L)) == pytest.approx(node, rel=1e-5)
    assert float(ctrnn_length_lower_bound(sw2, sb2, k, d, L)) == pytest.approx(ctrnn, rel=1e-5)
    assert float(ltc_length_lower_bound(sw2, sb2, k, d, L, norm, dt)) == pytest.approx(
        ltc, rel=1e-5
    )
    assert float(length_lower_bound("neural-ode", sw2, sb2, k, d, L)) == pytest.approx(node, 1e-5)
    assert float(length_lower_bound("ltc", sw2, sb2, k, d, L, state_norm=norm, dt=dt)) == (
        pytest.approx(ltc, rel=1e-5)
    )
    # Scaling the input trajectory scales every bound linearly.
    assert float(node_length_lower_bound(sw2, sb2, k, d, L, input_length=1.0)) == pytest.approx(
        node / (2 * math.pi), rel=1e-5
    )


def test_ctrnn_bound_is_vacuous_when_sigma_w_le_sigma_b():
    assert float(ctrnn_length_lower_bound(0.5, 1.0, 50, 1, 3.0)) == 0.0
    with pytest.raises(ValueError, match="model"):
        length_lower_bound("gru", 2.0, 1.0, 10, 1, 1.0)


# ---------------------------------------------------------------- Theorems 1 and 2 (property)

NP_ACT = {
    "tanh": np.tanh,
    "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)),
    "relu": lambda x: np.maximum(x, 0.0),
    "hardtanh": lambda x: np.clip(x, -1.0, 1.0),
}


@settings(max_examples=10, deadline=None)
@given(
    seed=st.integers(0, 2**20),
    activation=st.sampled_from(ACTIVATIONS),
    sigma_w2=st.floats(0.25, 16.0),
    convention=st.sampled_from(["paper", "code"]),
    input_scale=st.floats(0.05, 3.0),
    y0_scale=st.floats(0.0, 2.0),
)
def test_theorems_1_and_2_hold_along_random_trajectories(
    seed, activation, sigma_w2, convention, input_scale, y0_scale
):
    with jax.enable_x64(True):
        rng = np.random.default_rng(seed)
        # One compiled solve for every example: the activation is passed as a traced index.
        spec = NetworkSpec("ltc", width=4, depth=2, activation="tanh", weight_convention=convention)
        idx = ACTIVATIONS.index(activation)
        params = init_random_network(jax.random.PRNGKey(seed), spec, sigma_w2, 1.0)
        ts = jnp.linspace(0.0, 2 * math.pi, 25)
        inputs = jnp.asarray(input_scale * rng.uniform(-1, 1, size=(25, 2)))
        y0 = jnp.asarray(y0_scale * rng.normal(size=(2, 4)))
        tr = random_ltc_tau_sys_trace(
            spec, params, ts=ts, inputs=inputs, y0=y0, rtol=1e-8, atol=1e-10,
            activation_index=idx,
        )  # fmt: skip
        assert tr.states.dtype == jnp.float64
        scale = 1.0 + float(jnp.max(jnp.abs(jnp.stack([tr.state_lower, tr.state_upper]))))
        state_check = check_within(tr.states, tr.state_lower, tr.state_upper, 1e-6 * scale)
        assert bool(state_check.ok), float(state_check.max_violation)
        rel = tr.tau_sys / tr.tau_upper
        tau_check = check_within(rel, tr.tau_lower / tr.tau_upper, 1.0, 1e-9)
        assert bool(tau_check.ok), float(tau_check.max_violation)

        # tau_sys against a numpy transcription of 1 / (1/tau + |f_in| + |f_rec|).
        act = NP_ACT[activation]
        t, layer = 7, 1
        p = params[layer]
        u = np.asarray(tr.states[t, 0])
        y = np.asarray(tr.states[t, 1])
        f_in = act(u @ np.asarray(p.w_in) + np.asarray(p.b_in))
        f_rec = act(y @ np.asarray(p.w_rec) + np.asarray(p.b_rec))
        expected = 1.0 / (1.0 / np.asarray(p.tau) + np.abs(f_in) + np.abs(f_rec))
        np.testing.assert_allclose(tr.tau_sys[t, layer], expected, rtol=1e-10)


def test_state_bounds_follow_activation_sign():
    spec = NetworkSpec("ltc", width=3, activation="sigmoid")
    params = init_random_network(jax.random.PRNGKey(0), spec)
    lo, hi = ltc_state_bounds(spec, params)
    a_in = np.asarray(params[0].e_in).sum(0)
    a_rec = np.asarray(params[0].e_rec).sum(0)
    np.testing.assert_allclose(lo[0], np.minimum(0, np.minimum(a_in, a_rec)), rtol=1e-6)
    np.testing.assert_allclose(hi[0], np.maximum(0, np.maximum(a_in, a_rec)), rtol=1e-6)
    lo_t, hi_t = ltc_state_bounds(spec.replace(activation="tanh"), params)
    m = np.maximum(np.abs(a_in), np.abs(a_rec))
    np.testing.assert_allclose(hi_t[0], m, rtol=1e-6)
    np.testing.assert_allclose(lo_t[0], -m, rtol=1e-6)


def test_tau_bounds_bounded_activation_uses_at_most_two():
    spec = NetworkSpec("ltc", width=5, activation="hardtanh")
    params = init_random_network(jax.random.PRNGKey(1), spec)
    lo, hi = ltc_tau_sys_bounds(spec, params)
    tau = params[0].tau
    np.testing.assert_allclose(hi[0], tau, rtol=1e-6)
    assert bool(jnp.all(lo[0] >= tau / (1 + 2 * tau) * (1 - 1e-6)))
    assert bool(jnp.all(lo[0] <= hi[0]))


def test_tau_sys_rejects_non_ltc_models():
    spec = NetworkSpec("ctrnn", width=3)
    params = init_random_network(jax.random.PRNGKey(0), spec)
    with pytest.raises(ValueError, match="spec"):
        ltc_tau_sys(spec, params, jnp.zeros((1, 3)), jnp.zeros(2))
    with pytest.raises(ValueError, match="spec"):
        ltc_state_bounds(spec, params)
    signed = NetworkSpec("ltc", width=3, ltc_decay="signed")
    with pytest.raises(ValueError, match="ltc_decay"):
        ltc_tau_sys_bounds(signed, init_random_network(jax.random.PRNGKey(0), signed))
