"""LTC numerics against independent references: hand computation, scipy, invariants."""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ltc_reference import scipy_ltc_solve

from ltcjax import FullyConnected, LTCCell, state_bounds, tau_sys, tau_sys_bounds
from ltcjax.models.ltc import LTCParams


def _sig(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def test_fused_step_matches_hand_computation():
    # One neuron with a self-synapse and one sensory input, two unfolds, by hand.
    cell = LTCCell(
        input_size=1,
        wiring=FullyConnected(1),
        ode_unfolds=2,
        constraint="clip",
        input_mapping="affine",
        output_mapping="affine",
    )
    p = LTCParams(
        gleak=jnp.array([0.7]),
        vleak=jnp.array([-0.1]),
        cm=jnp.array([0.5]),
        sigma=jnp.array([[4.0]]),
        mu=jnp.array([[0.4]]),
        w=jnp.array([[0.8]]),
        erev=jnp.array([[1.0]]),
        sensory_sigma=jnp.array([[5.0]]),
        sensory_mu=jnp.array([[0.6]]),
        sensory_w=jnp.array([[0.3]]),
        sensory_erev=jnp.array([[-1.0]]),
        input_w=jnp.array([2.0]),
        input_b=jnp.array([0.1]),
        output_w=jnp.array([3.0]),
        output_b=jnp.array([-0.5]),
    )
    x, v, dt, eps = 0.45, 0.2, 0.8, 1e-8
    u = 2.0 * x + 0.1
    sa = 0.3 * _sig(5.0 * (u - 0.6))
    cm_t = 0.5 / (dt / 2)
    for _ in range(2):
        a = 0.8 * _sig(4.0 * (v - 0.4))
        v = (cm_t * v + 0.7 * -0.1 + a * 1.0 + sa * -1.0) / (cm_t + 0.7 + a + sa + eps)
    new_v, y = cell.step(p, jnp.array([0.2]), jnp.array([x]), jnp.asarray(dt))
    np.testing.assert_allclose(new_v, [v], rtol=1e-6)
    np.testing.assert_allclose(y, [3.0 * v - 0.5], rtol=1e-6)


def _plain_fused_apply(cell, params, xs, ts, v0):
    """Eq. 3 written out with sigmoids and masks, differentiated by plain autodiff."""
    p = cell.effective_params(params)
    mask, smask = cell.sparsity_masks()

    def step(v, inputs):
        x, dt = inputs
        u = x * p.input_w + p.input_b
        sens = p.sensory_w * smask * jax.nn.sigmoid(p.sensory_sigma * (u[:, None] - p.sensory_mu))
        cm_t = p.cm / (dt / cell.ode_unfolds)
        for _ in range(cell.ode_unfolds):
            rec = p.w * mask * jax.nn.sigmoid(p.sigma * (v[:, None] - p.mu))
            numerator = cm_t * v + p.gleak * p.vleak + (rec * p.erev).sum(0)
            numerator = numerator + (sens * p.sensory_erev).sum(0)
            denominator = cm_t + p.gleak + rec.sum(0) + sens.sum(0) + cell.epsilon
            v = numerator / denominator
        return v, cell.map_outputs(params, v)

    return jax.lax.scan(step, v0, (xs, ts))[1]


@pytest.mark.parametrize(
    "wiring, remat",
    [(None, None), ("ncp", None), (None, True), ("large", None), ("large", True)],
    ids=["fc", "ncp", "fc-per-step", "fc64-sequence", "fc64-per-step"],
)
def test_fused_solver_derivative_equals_autodiff_of_the_plain_recursion(x64, wiring, remat):
    """The fused solver's hand-written VJP against autodiff of Eq. 3 written from scratch:
    the whole-sequence path (default) and the per-step scan (``remat=True``), with a small
    layer (the dot form of the synaptic sums) and 64 units x 4 sequences (on CPU the complex
    form; see ``synaptic_currents``)."""
    from ltcjax import NCP

    if wiring == "ncp":
        kwargs = dict(wiring=NCP(2, 2, 2, 1, 2, 2, 1))
    else:
        kwargs = dict(units=64 if wiring == "large" else 4)
    batch = 4 if wiring == "large" else 3
    cell = LTCCell(input_size=2, ode_unfolds=3, **kwargs)
    params = cell.init(jax.random.key(0), dtype=jnp.float64)
    keys = jax.random.split(jax.random.key(1), 3)
    xs = jax.random.normal(keys[0], (batch, 5, 2), jnp.float64)
    ts = jax.random.uniform(keys[1], (batch, 5), jnp.float64, 0.05, 2.0)
    v0 = jax.random.normal(keys[2], (batch, cell.state_size), jnp.float64)

    def ours(params, xs, ts, v0):
        ys, _ = cell.apply(params, xs, timespans=ts, initial_state=v0, remat=remat)
        return jnp.sum(jnp.sin(3 * ys))

    def plain(params, xs, ts, v0):
        ys = jax.vmap(_plain_fused_apply, in_axes=(None, None, 0, 0, 0))(cell, params, xs, ts, v0)
        return jnp.sum(jnp.sin(3 * ys))

    np.testing.assert_allclose(ours(params, xs, ts, v0), plain(params, xs, ts, v0), rtol=1e-12)
    got = jax.grad(ours, argnums=(0, 1, 2, 3))(params, xs, ts, v0)
    want = jax.grad(plain, argnums=(0, 1, 2, 3))(params, xs, ts, v0)
    for g, w in zip(jax.tree.leaves(got), jax.tree.leaves(want), strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-12)


def test_dt_zero_is_identity():
    cell = LTCCell(input_size=3, units=6)
    p = cell.init(jax.random.key(0))
    v = jax.random.normal(jax.random.key(1), (6,))
    for solver in ("fused", "euler", "rk4"):
        c = dataclasses.replace(cell, solver=solver)
        new_v, _ = c.step(p, v, jnp.ones(3), jnp.asarray(0.0))
        np.testing.assert_array_equal(new_v, v)


@pytest.mark.parametrize("solver,order", [("euler", 1), ("rk4", 4), ("fused", 1)])
def test_solvers_converge_to_scipy_at_expected_order(x64, solver, order):
    cell = LTCCell(input_size=2, units=5, solver=solver)
    params = cell.init(jax.random.key(3), dtype=jnp.float64)
    v0 = jnp.asarray(np.random.default_rng(0).uniform(-0.5, 0.5, 5))
    x = jnp.array([0.3, -0.8])
    t_end = 1.0
    ref = scipy_ltc_solve(cell, params, v0, x, t_end, rtol=1e-12, atol=1e-13)
    errors = []
    unfolds = [8, 16, 32, 64]
    for n in unfolds:
        c = dataclasses.replace(cell, ode_unfolds=n)
        v = c.solve(params, v0, x, jnp.asarray(t_end))
        errors.append(float(np.max(np.abs(np.asarray(v) - ref))))
    rates = [math.log2(a / b) for a, b in zip(errors, errors[1:])]
    assert errors[-1] < errors[0]
    assert all(abs(r - order) < 0.3 for r in rates), (errors, rates)


_state_bound_cell = LTCCell(input_size=3, units=7)


@jax.jit
def _run_bounded(key, scale, dt_scale):
    k1, k2, k3, k4 = jax.random.split(key, 4)
    p = _state_bound_cell.init(k1)
    # widen the parameters beyond the init ranges: any positive w, cm, gleak and any erev
    p = p._replace(
        erev=p.erev * jax.random.uniform(k2, p.erev.shape, minval=0.0, maxval=3.0),
        vleak=p.vleak * 5.0,
        sensory_erev=p.sensory_erev * 2.0,
    )
    xs = scale * jax.random.normal(k3, (40, 3))
    ts = dt_scale * jax.random.exponential(k4, (40,))
    v0 = jax.random.uniform(k4, (7,), minval=-2.0, maxval=2.0)

    def body(v, xt):
        v, _ = _state_bound_cell.step(p, v, *xt)
        return v, v

    _, states = jax.lax.scan(body, v0, (xs, ts))
    lo, hi = state_bounds(_state_bound_cell, p, v0)
    return states, lo, hi


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    scale=st.floats(0.01, 20.0),
    dt_scale=st.floats(1e-3, 100.0),
)
def test_fused_state_stays_in_convex_hull(seed, scale, dt_scale):
    states, lo, hi = _run_bounded(jax.random.key(seed), scale, dt_scale)
    tol = 1e-5 * (1 + jnp.maximum(jnp.abs(lo), jnp.abs(hi)))
    assert bool(jnp.all(states >= lo - tol)), (states.min(0), lo)
    assert bool(jnp.all(states <= hi + tol)), (states.max(0), hi)


def test_theorem1_tau_sys_bounds_hold_on_random_states():
    cell = LTCCell(input_size=4, units=9)
    for seed in range(5):
        k1, k2, k3 = jax.random.split(jax.random.key(seed), 3)
        p = cell.init(k1)
        v = 3 * jax.random.normal(k2, (50, 9))
        x = 3 * jax.random.normal(k3, (50, 4))
        t = tau_sys(cell, p, v, x)
        lo, hi = tau_sys_bounds(cell, p)
        assert bool(jnp.all(t >= lo * (1 - 1e-6))) and bool(jnp.all(t <= hi * (1 + 1e-6)))
        assert bool(jnp.all(t < hi))  # synapses always shorten the time constant


def test_tau_sys_is_inverse_of_linear_coefficient():
    # dv/dt is affine in v for fixed synaptic activations: check -d(dv/dt)/dv_j at j's own
    # synapse-free direction equals 1/tau_sys when there are no self-synapses.
    cell = LTCCell(input_size=2, wiring=FullyConnected(4, self_connections=False))
    p = cell.init(jax.random.key(0))
    v, x = jnp.array([0.1, -0.3, 0.5, 0.0]), jnp.array([0.2, 0.9])
    jac = jax.jacfwd(lambda v: cell.vector_field(p, v, x))(v)
    np.testing.assert_allclose(-jnp.diag(jac), 1.0 / tau_sys(cell, p, v, x), rtol=1e-5)


@pytest.mark.parametrize("constraint", ["clip", "softplus"])
def test_paper_init_scheme_has_the_papers_effective_values(constraint):
    cell = LTCCell(input_size=3, units=6, init_scheme="paper", constraint=constraint)
    raw = cell.init(jax.random.key(0))
    p = cell.effective_params(raw)  # what the equations see
    np.testing.assert_allclose(p.gleak, 1.0, rtol=1e-6)
    np.testing.assert_allclose(p.cm, 0.5, rtol=1e-6)
    assert set(np.unique(p.erev).tolist()) == {-1.0, 1.0}  # dense +-1, no zeros
    assert set(np.unique(p.sensory_erev).tolist()) == {-1.0, 1.0}
    for name in ("w", "sensory_w"):
        value = getattr(p, name)
        assert float(value.min()) >= 0.01 - 1e-7 and float(value.max()) <= 1.0 + 1e-6, name
        assert float(value.max()) - float(value.min()) > 0.3, name  # still spread out
    if constraint == "softplus":  # stored as inverse softplus, e.g. log(e - 1) for gleak 1
        np.testing.assert_allclose(raw.gleak, math.log(math.e - 1), rtol=1e-6)
        np.testing.assert_allclose(raw.cm, math.log(math.exp(0.5) - 1), rtol=1e-5)


def test_ncps_init_scheme_keeps_ncps_raw_values_under_softplus():
    """ncps parity: its ranges are raw values and its softplus moves them (gleak U(0.001, 1)
    is effective softplus(U(0.001, 1)), in (0.69, 1.32))."""
    cell = LTCCell(input_size=3, units=50)
    raw = cell.init(jax.random.key(0))
    eff = cell.effective_params(raw)
    assert float(raw.gleak.min()) >= 0.001 and float(raw.gleak.max()) <= 1.0
    np.testing.assert_allclose(eff.gleak, np.log1p(np.exp(np.asarray(raw.gleak))), rtol=1e-6)
    assert float(eff.gleak.min()) > 0.69 and float(eff.cm.min()) > 0.9


def test_ncps_init_ranges_and_erev_from_wiring():
    cell = LTCCell(input_size=3, units=6)
    p = cell.init(jax.random.key(0))
    np.testing.assert_array_equal(p.erev, cell.wiring.adjacency_matrix)
    np.testing.assert_array_equal(p.sensory_erev, cell.wiring.sensory_adjacency_matrix)
    for name, (lo, hi) in {"gleak": (0.001, 1.0), "cm": (0.4, 0.6), "sigma": (3, 8)}.items():
        value = getattr(p, name)
        assert float(value.min()) >= lo and float(value.max()) <= hi, name


@pytest.mark.parametrize("mapping", ["affine", "linear", "none"])
def test_input_and_output_mappings(mapping):
    cell = LTCCell(
        input_size=2,
        wiring=FullyConnected(5, output_dim=3),
        input_mapping=mapping,
        output_mapping=mapping,
    )
    p = cell.init(jax.random.key(0))
    assert (p.input_w is None) == (mapping == "none")
    assert (p.input_b is None) == (mapping != "affine")
    x, v = jnp.array([0.5, -2.0]), jnp.linspace(-0.3, 0.3, 5)
    if mapping != "none":
        p = p._replace(input_w=jnp.array([2.0, 3.0]), output_w=jnp.array([4.0, 5.0, 6.0]))
    if mapping == "affine":
        p = p._replace(input_b=jnp.array([0.1, 0.2]), output_b=jnp.array([1.0, 2.0, 3.0]))
    expected_u = {"affine": [1.1, -5.8], "linear": [1.0, -6.0], "none": [0.5, -2.0]}[mapping]
    np.testing.assert_allclose(cell.map_inputs(p, x), expected_u, rtol=1e-6)
    motor = np.asarray(v[:3])
    expected_y = {
        "affine": motor * [4, 5, 6] + [1, 2, 3],
        "linear": motor * [4, 5, 6],
        "none": motor,
    }[mapping]
    np.testing.assert_allclose(cell.map_outputs(p, v), expected_y, rtol=1e-6)


def test_project_params_clips_only_in_clip_mode():
    from ltcjax import project_params

    clip = LTCCell(input_size=2, units=3, constraint="clip")
    p = clip.init(jax.random.key(0))
    p = p._replace(w=p.w - 0.5, gleak=-p.gleak, vleak=p.vleak - 1.0)
    q = project_params(clip, p)
    minima = {"w": 1e-5, "sensory_w": 1e-5, "cm": 1e-6, "gleak": 1e-5}  # the paper's TF code
    for name, lo in minima.items():
        np.testing.assert_allclose(
            getattr(q, name), np.maximum(np.asarray(getattr(p, name)), np.float32(lo)), rtol=0
        )
    np.testing.assert_array_equal(q.gleak, np.float32(1e-5))  # all were negative
    np.testing.assert_array_equal(q.vleak, p.vleak)  # unconstrained parameters untouched
    soft = LTCCell(input_size=2, units=3)
    assert project_params(soft, p) is p


@pytest.mark.parametrize("solver", ["fused", "euler", "rk4"])
def test_projected_all_negative_params_give_finite_steps(solver):
    """ReLU to exactly 0 would make cm = 0 (vector field / cm = inf, tau_sys = 0)."""
    from ltcjax import project_params

    cell = LTCCell(input_size=2, units=3, constraint="clip", solver=solver)
    p = cell.init(jax.random.key(0))
    p = p._replace(**{k: -jnp.abs(getattr(p, k)) - 0.1 for k in ("w", "sensory_w", "cm", "gleak")})
    q = project_params(cell, p)
    v, x = jnp.array([0.3, -0.2, 0.1]), jnp.array([1.0, -1.0])
    state, y = cell.step(q, v, x, 0.5)
    assert np.all(np.isfinite(state)) and np.all(np.isfinite(y))
    assert np.all(np.isfinite(cell.vector_field(q, v, x)))
    t = tau_sys(cell, q, v, x)
    assert np.all(np.isfinite(t)) and np.all(t > 0)


@pytest.mark.parametrize(
    "mixed,state,x,match",
    [
        (False, jnp.zeros(4), jnp.ones(3), r"x: expected shape \(\.\.\., 2\)"),
        (False, jnp.zeros(5), jnp.ones(2), r"state: expected shape \(\.\.\., 4\)"),
        (False, jnp.zeros((2, 5)), jnp.ones((2, 2)), r"state: expected shape \(\.\.\., 4\)"),
        (True, jnp.zeros(4), jnp.ones(2), r"state: expected the pair \(v, c\)"),
        (True, (jnp.zeros(4), jnp.zeros(3)), jnp.ones(2), r"state: expected shape"),
    ],
)
def test_unbatched_step_checks_state_and_x(mixed, state, x, match):
    cell = LTCCell(input_size=2, units=4, mixed_memory=mixed)
    p = cell.init(jax.random.key(0))
    with pytest.raises(ValueError, match=match):
        cell.step(p, state, x, 0.5)


def test_tau_sys_checks_state_and_x():
    cell = LTCCell(input_size=2, units=4)
    p = cell.init(jax.random.key(0))
    with pytest.raises(ValueError, match=r"x: expected shape \(\.\.\., 2\)"):
        tau_sys(cell, p, jnp.zeros(4), jnp.ones(3))
    with pytest.raises(ValueError, match=r"state: expected shape \(\.\.\., 4\)"):
        tau_sys(cell, p, jnp.zeros(3), jnp.ones(2))
    assert tau_sys(cell, p, jnp.zeros((5, 4)), jnp.ones((5, 2))).shape == (5, 4)
