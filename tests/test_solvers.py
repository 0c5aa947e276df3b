"""Diffrax solvers inside a cell's step (ltcjax.solvers), against independent references:
scipy solve_ivp (DOP853, rtol 1e-10, float64) and finite differences."""

from __future__ import annotations

import dataclasses
import functools
import math

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from ltc_reference import scipy_ltc_solve

from ltcjax import LTCCell
from ltcjax.solvers import (
    RK4,
    DiffraxSolver,
    Euler,
    Fused,
    as_diffrax_solver,
    as_solver,
    integrate,
    validate_solver,
)


@pytest.fixture
def problem(x64):
    cell = LTCCell(input_size=2, units=4)
    params = cell.init(jax.random.key(3), dtype=jnp.float64)
    v0 = jnp.asarray(np.random.default_rng(0).uniform(-0.5, 0.5, 4))
    x = jnp.array([0.3, -0.8])
    t_end = 1.5
    return cell, params, v0, x, t_end, scipy_ltc_solve(cell, params, v0, x, t_end)


def test_as_solver_normalises_shorthands_to_value_objects():
    assert as_solver("euler") == Euler() and as_solver("RK4") == RK4()
    assert as_solver("fused") == Fused()
    wrapped = as_solver(diffrax.Kvaerno5())
    assert isinstance(wrapped, DiffraxSolver) and wrapped.name == "Kvaerno5"
    assert as_solver("dopri8").name == "Dopri8"
    assert as_solver("ode45") == as_solver("rk45") == as_solver(diffrax.Dopri5())
    cfg = DiffraxSolver(solver=diffrax.Tsit5(), rtol=1e-5)
    assert as_solver(cfg) is cfg
    with pytest.raises(ValueError, match="solver: expected one of"):
        as_solver("rk5")
    with pytest.raises(ValueError, match="solver"):
        LTCCell(input_size=1, units=2, solver=object())
    assert as_diffrax_solver("fused") is None
    # the deprecated validate_solver still restricts the shorthands a caller allows
    assert validate_solver("euler", ("euler", "rk4")) == Euler()
    with pytest.raises(ValueError, match="solver: expected one of"):
        validate_solver("fused", ("euler", "rk4"))


def test_solver_value_objects_have_consistent_equality_and_hash():
    a = DiffraxSolver(solver=diffrax.Tsit5(), adjoint=diffrax.BacksolveAdjoint())
    b = DiffraxSolver(solver=diffrax.Tsit5(), adjoint=diffrax.BacksolveAdjoint())
    assert a == b and hash(a) == hash(b)
    c = DiffraxSolver(solver=diffrax.Tsit5(), rtol=1e-5)
    assert c != a and c == DiffraxSolver(solver=diffrax.Tsit5(), rtol=1e-5)
    assert hash(c) == hash(DiffraxSolver(solver=diffrax.Tsit5(), rtol=1e-5))
    assert len({Euler(), Euler(), RK4(), Fused(), as_solver("fused")}) == 3
    # cells holding equal solvers are equal and hash equally (valid static jit arguments)
    one = LTCCell(input_size=1, units=2, solver=a)
    two = LTCCell(input_size=1, units=2, solver=b)
    assert one == two and hash(one) == hash(two)
    assert LTCCell(input_size=1, units=2, solver="rk4") == LTCCell(
        input_size=1, units=2, solver=RK4()
    )


def test_fused_solver_is_only_for_cells_with_a_fused_form():
    from ltcjax import CTRNNCell

    with pytest.raises(ValueError, match="solver: expected Euler.*CTRNNCell has no fused"):
        CTRNNCell(input_size=1, units=2, solver="fused")
    with pytest.raises(ValueError, match="solver: expected Euler.*the fused solver"):
        integrate(lambda y: -y, jnp.ones(1), 1.0, Fused(), 2)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(rtol=0.0), "rtol"),
        (dict(atol=-1.0), "atol"),
        (dict(max_steps=0), "max_steps"),
        (dict(adjoint="direct"), "adjoint"),
        (dict(dt0=-0.1), "dt0"),
        (dict(controller="pid"), "controller"),
    ],
)
def test_diffrax_solver_rejects_bad_configuration(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DiffraxSolver(solver=diffrax.Tsit5(), **kwargs)
    with pytest.raises(ValueError, match="solver"):
        DiffraxSolver(solver="tsit5")


def test_cells_with_diffrax_solvers_stay_hashable():
    a = LTCCell(input_size=2, units=3, solver=diffrax.Tsit5())
    b = LTCCell(input_size=2, units=3, solver=DiffraxSolver(solver=diffrax.Tsit5()))
    assert a == b and hash(a) == hash(b)
    c = LTCCell(input_size=2, units=3, solver=DiffraxSolver(solver=diffrax.Tsit5(), rtol=1e-6))
    assert a != c
    # BacksolveAdjoint itself is unhashable (it holds a dict); the config still hashes
    back = DiffraxSolver(solver=diffrax.Dopri5(), adjoint=diffrax.BacksolveAdjoint())
    hash(LTCCell(input_size=2, units=3, solver=back))
    # a cell is usable as a static jit argument
    f = jax.jit(lambda cell, p: cell.apply(p, jnp.ones((4, 2)))[1], static_argnums=0)
    f(a, a.init(jax.random.key(0)))


@pytest.mark.parametrize("solver", [diffrax.Tsit5(), diffrax.Kvaerno5()])
def test_adaptive_solvers_match_scipy_within_tolerance(problem, solver):
    cell, params, v0, x, t_end, ref = problem
    errors = []
    tolerances = (1e-4, 1e-8) if isinstance(solver, diffrax.Tsit5) else (1e-8,)
    for tol in tolerances:
        c = dataclasses.replace(
            cell, solver=DiffraxSolver(solver=solver, rtol=tol, atol=tol * 1e-2)
        )
        v = c.solve(params, v0, x, jnp.asarray(t_end))
        errors.append(float(np.max(np.abs(np.asarray(v) - ref))))
        # the global error is of the order of the local tolerance (a small multiple at most)
        assert errors[-1] < 50 * tol, errors
    assert errors == sorted(errors, reverse=True), errors


@pytest.mark.parametrize(
    "solver,tol",
    [
        (diffrax.Dopri5(), 1e-7),
        (diffrax.Dopri8(), 1e-9),
        (diffrax.Kvaerno3(), 1e-6),
        (diffrax.Heun(), 1e-5),  # adaptive Heun (embedded Euler error estimate), order 2
    ],
    ids=["dopri5", "dopri8", "kvaerno3", "heun"],
)
def test_more_adaptive_solvers_match_scipy_within_tolerance(problem, solver, tol):
    cell, params, v0, x, t_end, ref = problem
    c = dataclasses.replace(cell, solver=DiffraxSolver(solver=solver, rtol=tol, atol=tol * 1e-2))
    assert c.solver.is_adaptive
    error = float(np.max(np.abs(np.asarray(c.solve(params, v0, x, jnp.asarray(t_end))) - ref)))
    assert error < 50 * tol, error


@pytest.mark.parametrize(
    "solver,order",
    [(diffrax.Euler(), 1), (diffrax.Heun(), 2)],
)
def test_fixed_step_diffrax_solvers_converge_at_their_order(problem, solver, order):
    cell, params, v0, x, t_end, ref = problem
    config = DiffraxSolver(solver=solver, controller=diffrax.ConstantStepSize())
    errors = []
    unfolds = [8, 16]
    for n in unfolds:
        c = dataclasses.replace(cell, solver=config, ode_unfolds=n)
        v = c.solve(params, v0, x, jnp.asarray(t_end))
        errors.append(float(np.max(np.abs(np.asarray(v) - ref))))
    rates = [math.log2(a / b) for a, b in zip(errors, errors[1:])]
    assert all(abs(r - order) < 0.4 for r in rates), (errors, rates)


def test_dt_zero_is_identity_with_a_diffrax_solver():
    cell = LTCCell(input_size=3, units=5, solver="tsit5")
    p = cell.init(jax.random.key(0))
    v = jax.random.normal(jax.random.key(1), (5,))
    new_v, _ = cell.step(p, v, jnp.ones(3), jnp.asarray(0.0))
    np.testing.assert_array_equal(new_v, v)


def test_unroll_with_per_sequence_dt_matches_scipy(x64):
    cfg = DiffraxSolver(solver=diffrax.Tsit5(), rtol=1e-9, atol=1e-11)
    cell = LTCCell(input_size=2, units=3, solver=cfg)
    p = cell.init(jax.random.key(5), dtype=jnp.float64)
    xs = jax.random.normal(jax.random.key(6), (2, 3, 2), jnp.float64)
    ts = jnp.array([[0.2, 1.0, 0.0], [0.7, 0.1, 2.0]])
    _, final = cell.apply(p, xs, timespans=ts)
    for b in range(2):
        v = np.zeros(3)
        for k in range(3):
            if ts[b, k] > 0:
                v = scipy_ltc_solve(cell, p, v, xs[b, k], float(ts[b, k]))
        np.testing.assert_allclose(final[b], v, atol=1e-7)


def _loss(cell, params, v0, x, t_end):
    v = cell.solve(params, v0, x, jnp.asarray(t_end))
    return jnp.sum(v**2 * jnp.arange(1, v.shape[0] + 1))


@pytest.mark.parametrize("adjoint,tol", [("recursive", 1e-6), ("backsolve", 1e-4)])
def test_gradients_through_adaptive_solve_match_finite_differences(problem, adjoint, tol):
    cell, params, v0, x, t_end, _ = problem
    cfg = DiffraxSolver(solver=diffrax.Dopri5(), rtol=1e-10, atol=1e-12, adjoint=adjoint)
    c = dataclasses.replace(cell, solver=cfg)
    value_and_grad = jax.jit(jax.value_and_grad(lambda p, v: _loss(c, p, v, x, t_end), (0, 1)))
    loss = lambda p, v: value_and_grad(p, v)[0]  # noqa: E731
    grads = value_and_grad(params, v0)[1]
    direction = jax.tree.map(
        lambda a: jax.random.normal(jax.random.key(a.size), a.shape, a.dtype), params
    )
    eps = 1e-5
    plus = jax.tree.map(lambda a, d: a + eps * d, params, direction)
    minus = jax.tree.map(lambda a, d: a - eps * d, params, direction)
    fd = (loss(plus, v0) - loss(minus, v0)) / (2 * eps)
    analytic = sum(
        jnp.vdot(g, d)
        for g, d in zip(jax.tree.leaves(grads[0]), jax.tree.leaves(direction), strict=True)
    )
    np.testing.assert_allclose(analytic, fd, rtol=tol)
    e = jnp.zeros_like(v0).at[1].set(1.0)
    fd_v0 = (loss(params, v0 + eps * e) - loss(params, v0 - eps * e)) / (2 * eps)
    np.testing.assert_allclose(grads[1][1], fd_v0, rtol=tol)


def test_failed_interval_raises_or_returns_nan():
    stiff = DiffraxSolver(solver=diffrax.Tsit5(), rtol=1e-9, atol=1e-9, max_steps=3)
    cell = LTCCell(input_size=1, units=3, solver=stiff)
    p = cell.init(jax.random.key(0))
    with pytest.raises(Exception, match="max_steps"):
        cell.apply(p, jnp.ones((4, 1)), timespans=5.0)
    quiet = dataclasses.replace(cell, solver=dataclasses.replace(stiff, throw=False))
    ys, _ = quiet.apply(p, jnp.ones((4, 1)), timespans=5.0)
    assert bool(jnp.all(jnp.isnan(ys)))


def test_integrate_rejects_unknown_methods():
    with pytest.raises(ValueError, match="solver: expected one of"):
        integrate(lambda y: -y, jnp.ones(1), jnp.asarray(1.0), "rk5", 1)


def test_other_continuous_time_cells_get_diffrax_solvers():
    ctrnn = pytest.importorskip("ltcjax.models.ctrnn")
    cell = ctrnn.CTRNNCell(input_size=2, units=3, solver=diffrax.Tsit5())
    p = cell.init(jax.random.key(0))
    ys, _ = cell.apply(p, jnp.ones((2, 5, 2)), timespans=0.5)
    fixed = dataclasses.replace(cell, solver="rk4", ode_unfolds=50)
    ys_ref, _ = fixed.apply(p, jnp.ones((2, 5, 2)), timespans=0.5)
    np.testing.assert_allclose(ys, ys_ref, atol=1e-4)


def test_unroll_takes_a_solver_and_absolute_times():
    from ltcjax import unroll

    cell = LTCCell(input_size=2, units=3)
    p = cell.init(jax.random.key(0))
    xs = jax.random.normal(jax.random.key(1), (2, 4, 2))
    times = jnp.array([[0.0, 0.5, 0.7, 2.0], [1.0, 1.1, 3.0, 3.5]])
    t0 = jnp.array([-0.5, 0.0])
    gaps = jnp.diff(times, axis=1, prepend=t0[:, None])
    ys, _ = unroll(cell, p, xs, times=times, t0=t0, solver="tsit5")
    ref, _ = LTCCell(input_size=2, units=3, solver="tsit5").apply(p, xs, timespans=gaps)
    np.testing.assert_allclose(ys, ref, rtol=1e-6)
    ys1, _ = unroll(cell, p, xs, times=times)  # t0 = first time: first step has dt 0
    ref1, _ = cell.apply(p, xs, timespans=jnp.diff(times, axis=1, prepend=times[:, :1]))
    np.testing.assert_allclose(ys1, ref1, rtol=1e-6)
    with pytest.raises(ValueError, match="times: expected non-decreasing"):
        unroll(cell, p, xs, times=times[:, ::-1])
    with pytest.raises(ValueError, match="times, timespans"):
        unroll(cell, p, xs, times=times, timespans=gaps)
    with pytest.raises(ValueError, match="solver"):
        unroll(cell, p, xs, solver="rk5")


@functools.partial(jax.jit, static_argnums=2)
def _decay_rows(rates, dts, cfg):
    """integrate dy/dt = -rate * y^3 (stiffness and step sizes differ per row)."""
    y0 = jnp.ones((rates.shape[0], 2), rates.dtype)
    f = lambda y, r: -r * y**3  # noqa: E731
    return integrate(f, y0, dts[:, None], cfg, 1, args=(rates[:, None],))


def test_batched_diffrax_integrate_solves_each_problem_alone(x64):
    # with a loose tolerance, shared adaptive steps would differ from solo solves by ~rtol
    cfg = DiffraxSolver(solver=diffrax.Tsit5(), rtol=1e-3, atol=1e-6)
    rates = jnp.array([0.1, 5.0, 60.0])
    dts = jnp.array([0.3, 2.0, 7.0])
    batch = _decay_rows(rates, dts, cfg)
    for b in range(3):
        alone = _decay_rows(rates[b : b + 1], dts[b : b + 1], cfg)
        np.testing.assert_allclose(batch[b], alone[0], rtol=1e-12, atol=0)
    exact = 1 / np.sqrt(1 + 2 * np.asarray(rates * dts))  # y' = -r y^3, y(0) = 1
    np.testing.assert_allclose(batch[:, 0], exact, rtol=1e-2)
    with pytest.raises(ValueError, match=r"args\[0\]"):
        integrate(lambda y, r: -r * y, jnp.ones((3, 2)), 1.0, cfg, 1, args=(jnp.ones(4),))


def test_batched_diffrax_integrate_fails_per_problem(x64):
    cfg = DiffraxSolver(solver=diffrax.Tsit5(), rtol=1e-8, atol=1e-10, max_steps=16)
    rates = jnp.array([0.1, 1e4, 0.2])  # the middle problem needs far more than 16 steps
    dts = jnp.array([0.5, 5.0, 0.5])
    quiet = _decay_rows(rates, dts, dataclasses.replace(cfg, throw=False))
    assert bool(jnp.all(jnp.isnan(quiet[1])))
    for b in (0, 2):
        np.testing.assert_allclose(quiet[b], _decay_rows(rates[b : b + 1], dts[b : b + 1], cfg)[0])
    with pytest.raises(Exception, match="max_steps"):
        _decay_rows(rates, dts, cfg)


def _irregular_batch(cell, key):
    params = cell.init(key, dtype=jnp.float64)
    xs = jax.random.normal(jax.random.fold_in(key, 1), (3, 4, cell.input_size), jnp.float64)
    # different time grids: gaps of order 0.1, 1 and 5 (the last one pads with dt = 0)
    scale = jnp.array([[0.1], [1.0], [5.0]])
    ts = jax.random.exponential(jax.random.fold_in(key, 2), (3, 4), jnp.float64) * scale
    return params, xs, ts.at[2, 3].set(0.0)


def _ctrnn(**kwargs):
    ctrnn = pytest.importorskip("ltcjax.models.ctrnn")
    return ctrnn.CTRNNCell(input_size=2, units=5, **kwargs)


@pytest.mark.parametrize(
    "make_cell",
    [
        pytest.param(lambda **kw: LTCCell(input_size=2, units=5, **kw), id="ltc"),
        pytest.param(_ctrnn, id="ctrnn"),
    ],
)
def test_unroll_with_adaptive_solver_solves_each_sequence_alone(x64, make_cell):
    # rtol 1e-3: a solve shared by the batch differed from solo solves by 2e-4 here
    cell = make_cell(solver=DiffraxSolver(solver=diffrax.Tsit5(), rtol=1e-3, atol=1e-6))
    params, xs, ts = _irregular_batch(cell, jax.random.key(7))
    run = jax.jit(lambda x, t: cell.apply(params, x, timespans=t))
    ys, final = run(xs, ts)
    for b in range(3):
        ys_b, final_b = run(xs[b : b + 1], ts[b : b + 1])
        np.testing.assert_allclose(ys[b], ys_b[0], rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(final[b], final_b[0], rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize(
    "make_cell",
    [
        pytest.param(lambda **kw: LTCCell(input_size=2, units=5, **kw), id="ltc"),
        pytest.param(_ctrnn, id="ctrnn"),
    ],
)
def test_one_failing_sequence_does_not_poison_the_batch(x64, make_cell):
    cfg = DiffraxSolver(solver=diffrax.Tsit5(), rtol=1e-6, atol=1e-8, max_steps=12, throw=False)
    cell = make_cell(solver=cfg)
    params, xs, _ = _irregular_batch(cell, jax.random.key(8))
    ts = jnp.full((3, 4), 0.05).at[1, 2].set(500.0)  # 12 steps cannot cover dt = 500
    run = jax.jit(lambda x, t: cell.apply(params, x, timespans=t)[0])
    ys = run(xs, ts)
    failed = np.isnan(np.asarray(ys))
    assert failed[1, 2:].all() and not failed[1, :2].any(), failed  # NaN from the failure on
    assert not failed[[0, 2]].any()
    for b in (0, 2):
        np.testing.assert_allclose(ys[b], run(xs[b : b + 1], ts[b : b + 1])[0], rtol=1e-10)
