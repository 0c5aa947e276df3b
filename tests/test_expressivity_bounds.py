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
    network_solver,
    node_length_lower_bound,
    random_ltc_tau_sys_trace,
    solve_network,
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
            spec, params, ts=ts, inputs=inputs, y0=y0,
            solver=network_solver("rk45", rtol=1e-8, atol=1e-10), activation_index=idx,
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


# ------------------------------------------- Theorem 1 lower bound against an independent W


def _np_state_box(p, activation):
    """Theorem 2 box of one layer (y0 = 0), written from the theorem: y is pulled towards a
    convex combination of 0 and the effective reversal potentials sign(f) * sum_j E_j."""
    a_in, a_rec = np.asarray(p.e_in).sum(0), np.asarray(p.e_rec).sum(0)
    if activation in ("sigmoid", "relu"):  # f >= 0: potentials A_in, A_rec
        return np.minimum(0, np.minimum(a_in, a_rec)), np.maximum(0, np.maximum(a_in, a_rec))
    m = np.maximum(np.abs(a_in), np.abs(a_rec))  # f of either sign: +-A_in, +-A_rec
    return -m, m


def _np_sup_abs(act, w, b, u_abs):
    """sup |act(u @ w + b)| over the box |u_j| <= u_abs_j, and the maximising corner."""
    w, b = np.asarray(w), np.asarray(b)
    radius = np.abs(w).T @ u_abs
    hi, lo = np.abs(act(b + radius)), np.abs(act(b - radius))
    # For neuron i the pre-activation b_i +- radius_i is reached at u_j = +-sign(w_ji) u_abs_j.
    side = np.where(hi >= lo, 1.0, -1.0)
    corner = side[None, :] * np.sign(w) * u_abs[:, None]  # (m, k): column i maximises neuron i
    return np.maximum(hi, lo), corner


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_theorem_1_lower_bound_holds_on_the_state_box_and_is_tight(activation):
    """tau_sys >= tau / (1 + tau W) at random points of (input box) x (Theorem 2 state box),
    with W = sup(|f_in| + |f_rec|) computed here in numpy, and equality at the box corner that
    maximises |f_in| + |f_rec| (so the bound is the infimum over the box, not just a bound)."""
    act = NP_ACT[activation]
    rng = np.random.default_rng(ACTIVATIONS.index(activation))
    with jax.enable_x64(True):
        for seed, conv in ((0, "code"), (1, "paper")):
            spec = NetworkSpec("ltc", width=5, depth=2, activation=activation,
                               weight_convention=conv)  # fmt: skip
            params = init_random_network(jax.random.PRNGKey(seed), spec, 2.0, 1.0)
            boxes = [_np_state_box(p, activation) for p in params]
            lib_lo, _ = ltc_tau_sys_bounds(spec, params, input_bound=1.0)
            u_abs = np.ones(2)  # |I_j| <= 1 (the circle)
            for li, p in enumerate(params):
                lo, hi = boxes[li]
                y_abs = np.maximum(np.abs(lo), np.abs(hi))
                sup_in, c_in = _np_sup_abs(act, p.w_in, p.b_in, u_abs)
                sup_rec, c_rec = _np_sup_abs(act, p.w_rec, p.b_rec, y_abs)
                tau = np.asarray(p.tau)
                bound = tau / (1.0 + tau * (sup_in + sup_rec))
                np.testing.assert_allclose(lib_lo[li], bound, rtol=1e-12)

                def tau_sys(u, y, p=p, tau=tau):
                    f_in = act(u @ np.asarray(p.w_in) + np.asarray(p.b_in))
                    f_rec = act(y @ np.asarray(p.w_rec) + np.asarray(p.b_rec))
                    return 1.0 / (1.0 / tau + np.abs(f_in) + np.abs(f_rec))

                # Random points: inputs in the input box, states in the Theorem 2 box.
                u = rng.uniform(-u_abs, u_abs, size=(2000, u_abs.size))
                y = rng.uniform(lo, hi, size=(2000, lo.size))
                assert np.all(tau_sys(u, y) >= bound * (1 - 1e-12))
                assert np.all(tau_sys(u, y) <= tau)
                # Tightness: neuron i at its own maximising corner reaches the bound exactly.
                at_corner = np.array(
                    [tau_sys(c_in[:, i], c_rec[:, i])[i] for i in range(spec.width)]
                )
                np.testing.assert_allclose(at_corner, bound, rtol=1e-12)
                if activation in ("tanh", "hardtanh"):  # the box is symmetric: corner inside
                    assert np.all((c_rec >= lo[:, None] - 1e-12) & (c_rec <= hi[:, None] + 1e-12))
                u_abs = y_abs  # layer 2 is driven by layer 1's state


# ------------------------------------------- speed bound of a hard-tanh Neural ODE


def test_hardtanh_neural_ode_length_is_at_most_2_pi_sqrt_k():
    """dy/dt = hardtanh(W_in I + b) has |dy/dt| <= sqrt(k), so over t in [0, 2 pi] its
    full-dimensional trajectory is at most 2 pi sqrt(k) long (the report's argument against the
    paper's Neural ODE lengths). A ReLU Neural ODE has no such bound and exceeds it."""
    k = 16
    spec = NetworkSpec("node", width=k, activation="hardtanh", weight_convention="code")
    bound = 2 * math.pi * math.sqrt(k)
    lengths = {}
    for act in ("hardtanh", "relu"):
        lengths[act] = []
        for seed in range(3):
            params = init_random_network(jax.random.PRNGKey(seed), spec, 32.0, 1.0)
            sol = solve_network(spec, params, solver=network_solver("rk45", rtol=1e-6, atol=1e-8),
                                activation_index=ACTIVATIONS.index(act))  # fmt: skip
            assert bool(sol.success)
            y = np.asarray(sol.states[:, 0], np.float64)
            lengths[act].append(np.linalg.norm(np.diff(y, axis=0), axis=-1).sum())
    assert max(lengths["hardtanh"]) <= bound
    # With sigma_w^2 = 32 most neurons saturate, so the bound is nearly reached: the check is
    # not vacuous, and the unbounded ReLU network breaks it.
    assert min(lengths["hardtanh"]) >= 0.8 * bound
    assert min(lengths["relu"]) > bound
