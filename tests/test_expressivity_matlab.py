"""The "matlab" convention: what the paper's MATLAB code (trajectory_length_analysis/) computes.

Each audited point of docs/expressivity.md ("Audit of the MATLAB code") is pinned by a small
hand-computed case: makedist's standard deviation, the (k, k) first-layer reversal potentials
summed over all rows, Htanh.m on a vector, ode45's step sequence / dense output / tolerance,
and main.m's Table 2 count.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ltcjax.expressivity import LayerParams, NetworkSpec, init_random_network, network_vector_field
from ltcjax.expressivity.matlab import (
    MATLAB_ATOL,
    MATLAB_RTOL,
    activation_index_of,
    matlab_table2_depth,
    ode45,
    simulate_matlab_draws,
)
from ltcjax.expressivity.random_networks import matlab_htanh


def test_matlab_draws_have_standard_deviation_sigma_w2():
    # main.m: makedist('normal','mu',0,'sigma',k*sigma/k) -> standard deviation sigma (the value
    # swept as sigma_w^2), not sqrt(sigma).
    spec = NetworkSpec("ltc", width=200, weight_convention="matlab")
    p = init_random_network(jax.random.PRNGKey(0), spec, sigma_w2=4.0, sigma_b2=1.0)[0]
    for name in ("w_rec", "e_rec", "e_in"):
        assert np.std(np.asarray(getattr(p, name))) == pytest.approx(4.0, rel=0.03), name
    assert np.std(np.asarray(p.b_rec)) == pytest.approx(1.0, rel=0.2)
    # tau = |N(0, 1)|: mean sqrt(2 / pi)
    assert np.mean(np.asarray(p.tau)) == pytest.approx(math.sqrt(2 / math.pi), rel=0.15)
    code = init_random_network(jax.random.PRNGKey(0), spec.replace(weight_convention="code"), 4.0)
    assert np.std(np.asarray(code[0].w_rec)) == pytest.approx(2.0, rel=0.03)


def test_matlab_first_layer_reversal_potentials_sum_all_k_rows():
    # ltc_def.m: sum(reshape(E_l(1,:,i),k,1)*net_out(i,:),1) sums all k rows of E_l(1,:,:)
    # for neuron i, although the input has m = 2 components.
    spec = NetworkSpec("ltc", width=3, activation="tanh", weight_convention="matlab")
    drawn = init_random_network(jax.random.PRNGKey(0), spec)[0]
    assert drawn.e_in.shape == (3, 3) and drawn.w_in.shape == (2, 3)
    code = init_random_network(jax.random.PRNGKey(0), spec.replace(weight_convention="code"))[0]
    assert code.e_in.shape == (2, 3)
    e_in = jnp.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]])
    layer = LayerParams(
        w_in=jnp.zeros((2, 3)),
        b_in=jnp.full((3,), math.atanh(0.5)),  # f_in = tanh(b_in) = 0.5
        w_rec=jnp.zeros((3, 3)),
        b_rec=jnp.zeros(3),  # f_rec = 0
        e_in=e_in,
        e_rec=jnp.ones((3, 3)),
        tau=jnp.ones(3),
    )
    # at y = 0: dy/dt = f_in * (column sums 12, 15, 18) = 6, 7.5, 9
    dy = network_vector_field(spec, (layer,), jnp.zeros(3), jnp.array([0.3, -0.2]))
    np.testing.assert_allclose(dy, [6.0, 7.5, 9.0], rtol=1e-6)
    # with two rows (the "code"/"paper" shape) only rows 1-2 count: 0.5 * (5, 7, 9)
    dy2 = network_vector_field(spec, (layer._replace(e_in=e_in[:2]),), jnp.zeros(3), jnp.zeros(2))
    np.testing.assert_allclose(dy2, [2.5, 3.5, 4.5], rtol=1e-6)


def test_matlab_htanh_is_identity_unless_all_entries_saturate():
    # Htanh.m: `if x>=1` on a vector is true only if every entry is >= 1.
    np.testing.assert_array_equal(matlab_htanh(jnp.array([3.0, -2.0, 0.5])), [3.0, -2.0, 0.5])
    np.testing.assert_array_equal(matlab_htanh(jnp.array([3.0, 1.0, 7.0])), [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(matlab_htanh(jnp.array([-3.0, -1.0])), [-1.0, -1.0])
    np.testing.assert_array_equal(matlab_htanh(jnp.array(5.0)), 1.0)  # a scalar saturates
    batch = matlab_htanh(jnp.array([[2.0, 3.0], [2.0, 0.0]]))  # rows are separate vectors
    np.testing.assert_array_equal(batch, [[1.0, 1.0], [2.0, 0.0]])
    spec = NetworkSpec("node", width=2, activation="htanh_matlab")
    layer = LayerParams(w_in=jnp.zeros((2, 2)), b_in=jnp.array([5.0, -0.5]))
    dy = network_vector_field(spec, (layer,), jnp.zeros(2), jnp.zeros(2))
    np.testing.assert_array_equal(dy, [5.0, -0.5])  # elementwise hard-tanh would give 1, -0.5
    assert activation_index_of("htanh_matlab") == 4


def _matlab_step_ends_for_constant_rhs(t1: float, rtol: float, atol: float) -> list[float]:
    """ode45's step ends for y' = 1, y(0) = 0 on [0, t1], by hand: the error estimate is 0, so
    every step grows 5x from h0 = 1 / rh (rh = (1 / (atol / rtol)) / (0.8 rtol^(1/5))), capped
    at hmax = t1 / 10; a step within 10 % of the end is stretched to it."""
    hmax = 0.1 * t1
    rh = (1.0 / (atol / rtol)) / (0.8 * rtol**0.2)
    h = min(hmax, t1)
    h = 1 / rh if h * rh > 1 else h
    t, ends = 0.0, []
    while True:
        h = min(hmax, h)
        if 1.1 * h >= t1 - t:
            ends.append(t1)
            return ends
        t += h
        ends.append(t)
        h *= 5


def test_ode45_step_sequence_and_refined_output_for_constant_rhs():
    ends = _matlab_step_ends_for_constant_rhs(1.0, MATLAB_RTOL, MATLAB_ATOL)
    assert len(ends) == 12  # 3 growing steps, 8 of hmax = 0.1, one stretched to 1
    sol = ode45(lambda t, y: jnp.ones_like(y), (0.0, 1.0), jnp.zeros(1, jnp.float32))
    assert int(sol.num_steps) == 12 and int(sol.num_failed) == 0
    n = int(sol.num_points)
    assert n == 1 + 4 * 12  # t0, then Refine = 4 points per step
    ts = np.asarray(sol.ts[:n])
    np.testing.assert_allclose(ts[4::4], ends, rtol=1e-6)
    starts = np.concatenate([[0.0], ends[:-1]])
    for j in (1, 2, 3):  # the interpolated points at quarter steps
        expected = starts + (np.asarray(ends) - starts) * j / 4
        np.testing.assert_allclose(ts[j::4], expected, rtol=1e-5)
    assert ts[-1] == 1.0  # the end point is hit exactly
    np.testing.assert_allclose(np.asarray(sol.ys[:n, 0]), ts, atol=1e-6)  # y = t exactly


def test_ode45_dense_output_is_exact_for_a_cubic_and_error_meets_tolerance(x64):
    # y' = t^2: y = t^3 / 3; Dormand-Prince's 4th-order ntrp45 interpolant is exact for it.
    sol = ode45(lambda t, y: jnp.full_like(y, t * t), (0.0, 2.0), jnp.zeros(1))
    n = int(sol.num_points)
    ts = np.asarray(sol.ts[:n])
    np.testing.assert_allclose(np.asarray(sol.ys[:n, 0]), ts**3 / 3, atol=1e-12)
    # y' = -y at main.m's tolerances: the error stays at the tolerance's scale; tight
    # tolerances converge to exp(-t).
    for rtol, atol, bound in ((1e-2, 1e-4, 2e-3), (1e-9, 1e-12, 1e-8)):
        sol = ode45(lambda t, y: -y, (0.0, 2.0), jnp.ones(1), rtol=rtol, atol=atol)
        n = int(sol.num_points)
        err = np.abs(np.asarray(sol.ys[:n, 0]) - np.exp(-np.asarray(sol.ts[:n])))
        assert err.max() < bound and bool(sol.success)


def test_ode45_rejects_steps_on_a_stiff_problem_and_reports_exhaustion():
    # y' = -200 (y - cos t): explicit RK45 is stability-limited to h ~ 3.3 / 200, far below
    # hmax, so steps fail and are retried; too few attempts is reported, not raised.
    def fun(t, y):
        return -200.0 * (y - jnp.cos(t))

    sol = ode45(fun, (0.0, 1.0), jnp.ones(1), max_points=2000)
    assert bool(sol.success) and int(sol.num_failed) > 0 and int(sol.num_steps) > 50
    short = ode45(fun, (0.0, 1.0), jnp.ones(1), max_steps=20)
    assert not bool(short.success)
    with pytest.raises(ValueError, match="t_span"):
        ode45(fun, (1.0, 0.0), jnp.ones(1))


def test_matlab_table2_depth_counts_points_in_half_open_intervals_over_T():
    gt = jnp.array([0.0, 1.0, 2.0, 3.0])
    ts = jnp.array([0.0, 0.5, 1.0, 1.0, 2.5, 3.0, jnp.nan])
    # (0,1]: 0.5, 1, 1 -> 3; (1,2]: none; (2,3]: 2.5, 3 -> 2; mean over T = 4 entries
    assert float(matlab_table2_depth(ts, gt)) == pytest.approx(5 / 4)


def test_simulate_matlab_draws_measures_pca_and_steps_of_the_ode45_output(x64):
    # The streamed two-pass measurement equals PCA (numpy SVD) + chord length of ode45's full
    # output for the same network; depth = 4 * steps / 100; the MATLAB hard-tanh N-ODE leaves
    # the 2 pi sqrt(k) bound of a true hard-tanh.
    spec = NetworkSpec("node", width=6, weight_convention="matlab")
    keys = jax.random.split(jax.random.PRNGKey(3), 1)
    act = activation_index_of("htanh_matlab")
    d = simulate_matlab_draws(spec, keys, 2.0, 1.0, act)
    assert bool(d.success.all())
    np.testing.assert_allclose(d.computational_depth, 4 * np.asarray(d.num_steps) / 100)
    np.testing.assert_array_equal(d.num_points, 1 + 4 * np.asarray(d.num_steps))
    gt = jnp.linspace(0.0, 2 * math.pi, 100)
    xs = jnp.stack([jnp.sin(gt), jnp.cos(gt)], -1)
    for i, key in enumerate(keys):
        params = init_random_network(key, spec, jnp.asarray(2.0), jnp.asarray(1.0), jnp.float64)
        sp = spec.replace(activation="htanh_matlab")

        def fun(t, y, params=params, sp=sp):
            u = jnp.stack([jnp.interp(t, gt, xs[:, j]) for j in range(2)])
            return network_vector_field(sp, params, y, u)

        sol = ode45(fun, (0.0, float(gt[-1])), jnp.zeros(6), max_points=4001)
        n = int(sol.num_points)
        assert n == int(d.num_points[i])
        y = np.asarray(sol.ys[:n])
        centred = y - y.mean(0)
        _, _, vt = np.linalg.svd(centred, full_matrices=False)
        score = centred @ vt[:2].T
        length = np.sum(np.linalg.norm(np.diff(score, axis=0), axis=1))
        assert float(d.pca_length[i, 0]) == pytest.approx(length, rel=1e-8)
        full = np.sum(np.linalg.norm(np.diff(y, axis=0), axis=1))
        assert float(d.full_length[i, 0]) == pytest.approx(full, rel=1e-8)
    assert np.all(np.asarray(d.full_length[:, 0]) > 2 * math.pi * math.sqrt(6))
