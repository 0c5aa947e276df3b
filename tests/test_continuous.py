"""ltcjax.continuous (whole-sequence Diffrax solves, irregular times, dense output) against
independent references: scipy solve_ivp (DOP853, rtol 1e-10, float64) integrated interval
by interval, each sequence solved alone, the discrete unroll, and finite differences."""

from __future__ import annotations

import dataclasses

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from ltc_reference import ltc_vector_field_numpy
from scipy.integrate import solve_ivp

from ltcjax import LSTMCell, LTCCell
from ltcjax.continuous import (
    INVALID_TIMES,
    ContinuousSolution,
    ObservationPath,
    check_status,
    odeint_sequence,
    vector_field,
)
from ltcjax.solvers import DiffraxSolver


def _scipy_sequence(cell, params, xs, ts, t0, interpolation, query=()):
    """States at ``ts`` and ``query`` by scipy, integrating between consecutive breakpoints."""
    g = ltc_vector_field_numpy(cell, params)
    xs, ts = np.asarray(xs, np.float64), np.asarray(ts, np.float64)

    def x_at(t):
        if interpolation == "previous":  # the segment (t, b] starts at t
            return xs[max(np.searchsorted(ts, t, side="right") - 1, 0)]
        if interpolation == "linear":
            return np.array([np.interp(t, ts, xs[:, j]) for j in range(xs.shape[1])])
        return xs[min(np.searchsorted(ts, t, side="left"), len(ts) - 1)]

    events = sorted(set(ts.tolist()) | set(np.asarray(query, np.float64).tolist()) | {t0})
    v, t, states = np.zeros(cell.units), t0, {t0: np.zeros(cell.units)}
    for b in events:
        if b > t:
            if interpolation == "linear":
                rhs = lambda s, v: g(v, x_at(s))  # noqa: E731
            else:
                x = x_at(t) if interpolation == "previous" else x_at(b)  # constant on (t, b]
                rhs = lambda s, v, x=x: g(v, x)  # noqa: E731
            v = solve_ivp(rhs, (t, b), v, "DOP853", rtol=1e-10, atol=1e-12).y[:, -1]
            t = b
        states[b] = v
    return np.stack([states[t] for t in ts]), np.stack([states[q] for q in query] or [v[:0]])


#: One solver configuration, one batch shape and one set of query times shared by most tests,
#: so that the jitted solve compiles once (compilation dominates these tests' run time).
TIGHT = dict(solver=DiffraxSolver(solver=diffrax.Tsit5(), rtol=1e-8, atol=1e-10, throw=False))
T0 = (-0.5, 0.0, -0.2)
QUERY = (4.5, 0.1, 1.0, 2.2, 3.1)  # unsorted, one beyond the last observation


@pytest.fixture
def setup(x64):
    cell = LTCCell(input_size=2, units=3)
    params = cell.init(jax.random.key(7), dtype=jnp.float64)
    rng = np.random.default_rng(1)
    times = np.sort(rng.uniform(0.0, 4.0, (3, 5)), axis=1)
    times[1, 2] = times[1, 1]  # a repeated time is allowed (the later input acts for 0 time)
    xs = rng.normal(size=(3, 5, 2))
    return cell, params, jnp.asarray(xs), jnp.asarray(times)


@pytest.mark.parametrize(
    "solver,interpolation",
    [(diffrax.Tsit5(), "constant"), (diffrax.Tsit5(), "linear"), (diffrax.Kvaerno5(), "previous")],
)
def test_matches_scipy_at_observation_and_query_times(setup, solver, interpolation):
    cell, params, xs, times = setup
    t0 = jnp.array([-0.5, 0.0, -0.2])
    query = jnp.array([4.5, 0.1, 1.0, 2.2, 3.1])  # unsorted, one beyond the last observation
    sol = odeint_sequence(
        cell,
        params,
        xs,
        times,
        t0=t0,
        solver=DiffraxSolver(solver=solver, rtol=1e-9, atol=1e-11),
        interpolation=interpolation,
        query_times=query,
    )
    check_status(sol)
    for b in range(3):
        ref, ref_q = _scipy_sequence(
            cell, params, xs[b], times[b], float(t0[b]), interpolation, np.asarray(query)
        )
        np.testing.assert_allclose(sol.states[b], ref, atol=1e-7)
        np.testing.assert_allclose(sol.query_states[b], ref_q, atol=1e-7)
    np.testing.assert_allclose(sol.outputs, cell.map_outputs(params, sol.states))
    np.testing.assert_allclose(sol.final_state, sol.states[:, -1])


def _pad(xs, ts, length, fill_time):
    pad = length - ts.shape[0]
    return (
        jnp.concatenate([xs, jnp.full((pad, xs.shape[1]), 1e3)]),
        jnp.concatenate([ts, jnp.full((pad,), fill_time)]),
    )


def test_batch_with_different_grids_equals_each_sequence_alone(setup):
    cell, params, _, _ = setup
    rng = np.random.default_rng(4)
    lengths = [5, 2, 5]
    seqs = [
        (jnp.asarray(rng.normal(size=(n, 2))), jnp.asarray(np.cumsum(rng.exponential(0.7, n))))
        for n in lengths
    ]
    fills = [0.0, jnp.nan, -5.0]  # padded times are ignored, even NaN or decreasing ones
    padded = [_pad(x, t, 5, f) for (x, t), f in zip(seqs, fills)]
    xs = jnp.stack([p[0] for p in padded])
    ts = jnp.stack([p[1] for p in padded])
    kw = dict(t0=jnp.array(T0), query_times=jnp.array(QUERY), **TIGHT)
    batch = odeint_sequence(cell, params, xs, ts, lengths=jnp.array(lengths), **kw)
    mask = jnp.arange(5)[None] < jnp.array(lengths)[:, None]
    masked = odeint_sequence(cell, params, xs, ts, mask=mask, **kw)
    check_status(batch)
    for b, (x, t) in enumerate(seqs):
        alone = odeint_sequence(cell, params, x, t, **{**kw, "t0": T0[b]})
        n = lengths[b]
        np.testing.assert_allclose(batch.states[b, :n], alone.states, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(batch.query_states[b], alone.query_states, atol=1e-12)
        np.testing.assert_allclose(batch.final_state[b], alone.states[-1], atol=1e-12)
        np.testing.assert_allclose(masked.states[b], batch.states[b], atol=1e-12)
        # padded positions repeat the last valid state, and take no steps
        rest = np.broadcast_to(alone.states[-1], (5 - n, 3))
        np.testing.assert_allclose(batch.states[b, n:], rest)
        assert np.all(np.asarray(batch.steps_per_interval[b, n:]) == 0)
        assert int(batch.steps_per_interval[b, :n].sum()) <= int(alone.num_accepted_steps)


def test_missing_observation_in_the_middle_equals_dropping_it(setup):
    cell, params, xs, times = setup
    mask = jnp.ones((3, 5), bool).at[0, 2].set(False)
    kw = dict(t0=jnp.array(T0), query_times=jnp.array(QUERY), **TIGHT)
    sol = odeint_sequence(cell, params, xs, times, mask=mask, **kw)
    keep = np.array([0, 1, 3, 4])
    ref, _ = _scipy_sequence(cell, params, xs[0][keep], times[0][keep], T0[0], "constant")
    np.testing.assert_allclose(sol.states[0, keep], ref, atol=1e-7)
    np.testing.assert_allclose(sol.states[0, 2], sol.states[0, 1])


def test_agrees_with_unroll_using_timespans(setup):
    cell, params, xs, times = setup
    t0 = jnp.full((3,), -0.25)
    tight = DiffraxSolver(solver=diffrax.Tsit5(), rtol=1e-9, atol=1e-11)
    sol = odeint_sequence(cell, params, xs, times, t0=t0, solver=tight)
    timespans = jnp.diff(times, axis=1, prepend=t0[:, None])
    tight = LTCCell(
        input_size=2, units=3, solver=DiffraxSolver(solver=diffrax.Dopri5(), rtol=1e-9, atol=1e-11)
    )
    ys, final = tight.apply(params, xs, timespans=timespans)
    np.testing.assert_allclose(sol.outputs, ys, atol=1e-8)
    fused = LTCCell(input_size=2, units=3, ode_unfolds=60)
    ys_fused, _ = fused.apply(params, xs, timespans=timespans)
    assert float(jnp.max(jnp.abs(ys_fused - sol.outputs))) < 0.03  # first order in dt / 60


def test_gradient_matches_finite_differences(setup):
    cell, params, xs, times = setup

    @jax.jit
    def loss(p):
        sol = odeint_sequence(
            cell,
            p,
            xs[:2],
            times[:2],
            t0=0.0,
            solver=DiffraxSolver(solver=diffrax.Tsit5(), rtol=1e-10, atol=1e-12),
            query_times=jnp.array([1.7]),
        )
        return jnp.sum(sol.outputs**2) + jnp.sum(sol.query_outputs)

    grads = jax.grad(loss)(params)
    direction = jax.tree.map(
        lambda a: jax.random.normal(jax.random.key(a.size + 1), a.shape, a.dtype), params
    )
    eps = 1e-5
    fd = (
        loss(jax.tree.map(lambda a, d: a + eps * d, params, direction))
        - loss(jax.tree.map(lambda a, d: a - eps * d, params, direction))
    ) / (2 * eps)
    analytic = sum(
        jnp.vdot(g, d) for g, d in zip(jax.tree.leaves(grads), jax.tree.leaves(direction))
    )
    np.testing.assert_allclose(analytic, fd, rtol=1e-6)


def test_step_statistics(setup):
    cell, params, xs, times = setup
    t0 = jnp.array(T0)
    sol = odeint_sequence(cell, params, xs, times, t0=t0, query_times=jnp.array(QUERY), **TIGHT)
    spi = np.asarray(sol.steps_per_interval)
    gaps = np.diff(np.asarray(times), axis=1, prepend=np.asarray(t0)[:, None])
    assert np.all(spi[gaps > 0] >= 1) and np.all(spi[gaps == 0] == 0)
    # the steps after the last observation (to the query time 4.5) belong to no interval
    assert np.all(spi.sum(1) <= np.asarray(sol.num_accepted_steps))
    np.testing.assert_array_equal(sol.num_steps, sol.num_accepted_steps + sol.num_rejected_steps)
    backsolve = DiffraxSolver(solver=diffrax.Tsit5(), adjoint="backsolve")
    back = odeint_sequence(cell, params, xs, times, t0=t0, solver=backsolve)
    assert np.all(np.asarray(back.steps_per_interval) == -1) and np.all(back.num_steps > 0)


@pytest.mark.usefixtures("without_runtime_typechecks")
def test_bad_times_raise_clear_errors(setup):
    cell, params, xs, times = setup
    bad = times.at[1, 3].set(times[1, 1] - 1.0)
    with pytest.raises(ValueError, match="times: expected non-decreasing.*sequence 1"):
        odeint_sequence(cell, params, xs, bad)
    with pytest.raises(ValueError, match="times: expected finite"):
        odeint_sequence(cell, params, xs, times.at[0, 2].set(jnp.nan))
    # NaN or decreasing times at masked positions are fine
    odeint_sequence(
        cell,
        params,
        xs,
        times.at[0, 4].set(jnp.nan),
        lengths=jnp.array([4, 5, 5]),
        t0=jnp.array(T0),
        query_times=jnp.array(QUERY),
        **TIGHT,
    )
    with pytest.raises(ValueError, match="t0: expected start times <=.*sequence 0"):
        odeint_sequence(cell, params, xs, times, t0=10.0)
    with pytest.raises(ValueError, match="query_times: expected times >=.*sequence"):
        odeint_sequence(cell, params, xs, times, t0=0.0, query_times=jnp.array([-1.0]))
    with pytest.raises(ValueError, match="times: expected shape"):
        odeint_sequence(cell, params, xs, times[:, :3])
    with pytest.raises(ValueError, match="inputs: expected 2 features"):
        odeint_sequence(cell, params, xs[..., :1], times)


def test_bad_times_inside_jit_give_a_status(setup):
    cell, params, xs, times = setup
    run = jax.jit(lambda t: odeint_sequence(cell, params, xs, t))
    bad = times.at[1, 3].set(times[1, 1] - 1.0).at[2, 0].set(jnp.nan)
    sol = run(bad)
    assert sol.status.tolist() == [0, INVALID_TIMES, INVALID_TIMES]
    assert bool(jnp.all(jnp.isnan(sol.states[1:]))) and bool(jnp.all(jnp.isfinite(sol.states[0])))
    with pytest.raises(RuntimeError, match="2 of 3 sequences failed: sequence 1: invalid times"):
        check_status(sol)


def test_max_steps_exhausted_gives_status_or_error(setup):
    cell, params, xs, times = setup
    short = DiffraxSolver(solver=diffrax.Tsit5(), max_steps=4, throw=False)
    sol = odeint_sequence(cell, params, xs, times, t0=0.0, solver=short)
    assert sol.status.tolist() == [1, 1, 1] and not bool(jnp.any(sol.ok))
    assert bool(jnp.all(jnp.isnan(sol.outputs)))
    with pytest.raises(RuntimeError, match="max_steps"):
        check_status(sol)
    throwing = dataclasses.replace(short, throw=True)  # the solver's throw decides
    with pytest.raises(Exception, match="max_steps"):
        odeint_sequence(cell, params, xs, times, t0=0.0, solver=throwing)
    # the deprecated override arguments still work for one release, with a warning
    with pytest.warns(DeprecationWarning, match="max_steps"):
        old = odeint_sequence(cell, params, xs, times, t0=0.0, max_steps=4)
    assert old.status.tolist() == [1, 1, 1]


@pytest.mark.usefixtures("without_runtime_typechecks")
def test_rejects_unsupported_cells_and_options(setup):
    cell, params, xs, times = setup
    with pytest.raises(
        ValueError, match="cell: expected a cell whose state follows its ODE.*mixed"
    ):
        odeint_sequence(LTCCell(input_size=2, units=3, mixed_memory=True), params, xs, times)
    with pytest.raises(ValueError, match="cell: expected a continuous-time cell"):
        odeint_sequence(LSTMCell(input_size=2, units=3), params, xs, times)
    with pytest.raises(ValueError, match="solver: expected an adaptive Diffrax solver"):
        odeint_sequence(cell, params, xs, times, solver=diffrax.Euler())
    with pytest.raises(ValueError, match="solver: expected a Diffrax solver"):
        odeint_sequence(cell, params, xs, times, solver="fused")
    with pytest.raises(ValueError, match="interpolation"):
        odeint_sequence(cell, params, xs, times, interpolation="cubic")


def test_unbatched_call_and_the_cells_diffrax_solver_is_the_default(x64):
    cfg = DiffraxSolver(solver=diffrax.Dopri5(), rtol=1e-7, atol=1e-9)
    cell = LTCCell(input_size=1, units=2, solver=cfg)
    params = cell.init(jax.random.key(0), dtype=jnp.float64)
    sol = odeint_sequence(cell, params, jnp.ones((4, 1)), jnp.arange(4.0), query_times=[0.5])
    assert isinstance(sol, ContinuousSolution)
    assert sol.states.shape == (4, 2) and sol.query_outputs.shape == (1, 2)
    assert sol.status.shape == ()
    # the vector field in a hand-written diffeqsolve gives the same state
    path = ObservationPath(jnp.arange(4.0), jnp.ones((4, 1)))
    ref = diffrax.diffeqsolve(
        diffrax.ODETerm(vector_field(cell)),
        diffrax.Dopri5(),
        0.0,
        3.0,
        None,
        jnp.zeros(2),
        (params, path),
        stepsize_controller=diffrax.PIDController(rtol=1e-9, atol=1e-11),
    )
    np.testing.assert_allclose(sol.final_state, ref.ys[0], atol=1e-6)
