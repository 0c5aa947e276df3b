"""Random networks and their Diffrax integration, against independent numpy/scipy references
and Diffrax's own step statistics."""

from __future__ import annotations

import math
import warnings

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import solve_ivp

from ltcjax.expressivity import (
    ACTIVATIONS,
    NetworkSpec,
    canonical_solver,
    circle_input,
    computational_depth,
    get_solver,
    init_random_network,
    network_solver,
    network_vector_field,
    solve_network,
    solver_label,
    trajectory_length,
)
from ltcjax.solvers import RK4, DiffraxSolver, Euler, Fused

NP_ACT = {
    "tanh": np.tanh,
    "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)),
    "relu": lambda x: np.maximum(x, 0.0),
    "hardtanh": lambda x: np.clip(x, -1.0, 1.0),
}


def _np_params(params):
    return [
        {k: (None if v is None else np.asarray(v, np.float64)) for k, v in p._asdict().items()}
        for p in params
    ]


def reference_rhs(spec: NetworkSpec, params, y: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Neuron-by-neuron numpy transcription of the three models (REFERENCE.md section 6)."""
    act = NP_ACT[spec.activation]
    k = spec.width
    ys = y.reshape(spec.depth, k)
    out = np.zeros_like(ys)
    for layer, p in enumerate(_np_params(params)):
        inp = u if layer == 0 else ys[layer - 1]
        for i in range(k):
            pre_in = sum(inp[j] * p["w_in"][j, i] for j in range(len(inp))) + p["b_in"][i]
            if spec.model == "ltc":
                f_in = act(pre_in)
                pre_rec = sum(ys[layer, j] * p["w_rec"][j, i] for j in range(k)) + p["b_rec"][i]
                f_rec = act(pre_rec)
                e_in = sum(p["e_in"][j, i] for j in range(len(inp)))
                e_rec = sum(p["e_rec"][j, i] for j in range(k))
                gate = (f_in + f_rec) if spec.ltc_decay == "signed" else (abs(f_in) + abs(f_rec))
                out[layer, i] = (
                    -ys[layer, i] * (1 / p["tau"][i] + gate) + f_in * e_in + f_rec * e_rec
                )
            else:
                if spec.recurrent:
                    pre_in += sum(ys[layer, j] * p["w_rec"][j, i] for j in range(k))
                f_in = act(pre_in)
                if spec.model == "ctrnn":
                    out[layer, i] = -ys[layer, i] / p["tau"][i] + f_in
                else:
                    out[layer, i] = f_in
    return out.reshape(-1)


@pytest.mark.parametrize("model", ["ltc", "ctrnn", "node"])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_vector_field_matches_numpy_reference(model, activation):
    spec = NetworkSpec(model, width=4, depth=2, activation=activation)
    params = init_random_network(jax.random.PRNGKey(1), spec, sigma_w2=3.0, sigma_b2=0.5)
    rng = np.random.default_rng(0)
    y = rng.normal(size=8)
    u = rng.normal(size=2)
    got = network_vector_field(spec, params, jnp.asarray(y, jnp.float32), jnp.asarray(u))
    np.testing.assert_allclose(got, reference_rhs(spec, params, y, u), rtol=1e-4, atol=1e-5)
    # The traced activation override gives the same field.
    idx = ACTIVATIONS.index(activation)
    other = NetworkSpec(model, width=4, depth=2, activation="tanh")
    got2 = network_vector_field(other, params, jnp.asarray(y, jnp.float32), jnp.asarray(u), idx)
    np.testing.assert_allclose(got2, got, rtol=1e-6)


def test_signed_ltc_variant_matches_reference():
    spec = NetworkSpec("ltc", width=3, depth=2, activation="hardtanh", ltc_decay="signed")
    params = init_random_network(jax.random.PRNGKey(4), spec, sigma_w2=4.0)
    y, u = np.random.default_rng(1).normal(size=6), np.array([0.6, -0.8])
    got = network_vector_field(spec, params, jnp.asarray(y, jnp.float32), jnp.asarray(u))
    np.testing.assert_allclose(got, reference_rhs(spec, params, y, u), rtol=1e-4, atol=1e-5)
    absolute = network_vector_field(spec.replace(ltc_decay="abs"), params, jnp.asarray(y), u)
    assert not np.allclose(got, absolute)  # hard-tanh gates take both signs here
    with pytest.raises(ValueError, match="ltc_decay"):
        NetworkSpec("ltc", ltc_decay="relu")


@pytest.mark.parametrize("model", ["ctrnn", "node"])
def test_recurrent_variant_matches_reference(model):
    spec = NetworkSpec(model, width=3, depth=1, activation="tanh", recurrent=True)
    params = init_random_network(jax.random.PRNGKey(2), spec)
    assert params[0].w_rec.shape == (3, 3)
    y, u = np.array([0.3, -0.2, 0.5]), np.array([0.1, 0.9])
    got = network_vector_field(spec, params, jnp.asarray(y, jnp.float32), jnp.asarray(u))
    np.testing.assert_allclose(got, reference_rhs(spec, params, y, u), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("convention, var", [("paper", 2.0 / 400), ("code", 2.0)])
def test_weight_convention_scales(convention, var):
    spec = NetworkSpec("ltc", width=400, activation="tanh", weight_convention=convention)
    p = init_random_network(jax.random.PRNGKey(0), spec, sigma_w2=2.0, sigma_b2=0.25)[0]
    n = p.w_rec.size  # 160000 samples: the empirical variance is within ~1 %.
    assert float(jnp.var(p.w_rec)) == pytest.approx(var, rel=0.03)
    assert float(jnp.var(p.e_rec)) == pytest.approx(var, rel=0.03)
    assert float(jnp.var(p.w_in)) == pytest.approx(var, rel=0.5)  # only 800 samples
    assert float(jnp.var(p.b_in)) == pytest.approx(0.25, rel=0.4)
    # tau = |N(0, sigma_b^2)|: E|N(0, s^2)| = s sqrt(2/pi).
    assert float(jnp.mean(p.tau)) == pytest.approx(0.5 * math.sqrt(2 / math.pi), rel=0.2)
    assert bool(jnp.all(p.tau >= 0)) and n == 160000


def test_model_specific_fields_and_depth_stacking():
    spec = NetworkSpec("node", width=5, depth=3)
    params = init_random_network(jax.random.PRNGKey(0), spec)
    assert [p.w_in.shape for p in params] == [(2, 5), (5, 5), (5, 5)]
    assert all(p.tau is None and p.w_rec is None for p in params)
    ct = init_random_network(jax.random.PRNGKey(0), spec.replace(model="ctrnn"))
    assert all(p.tau.shape == (5,) and p.e_in is None for p in ct)
    floored = init_random_network(jax.random.PRNGKey(0), spec.replace(model="ltc", tau_min=0.3))
    assert all(bool(jnp.all(p.tau >= 0.3)) for p in floored)


def test_bad_arguments_name_the_argument():
    with pytest.raises(ValueError, match="activation"):
        NetworkSpec("ltc", activation="softsign")
    with pytest.raises(ValueError, match="model"):
        NetworkSpec("lstm")
    with pytest.raises(ValueError, match="width"):
        NetworkSpec("ltc", width=0)
    with pytest.raises(ValueError, match="depth"):
        NetworkSpec("ltc", depth=-1)
    with pytest.raises(ValueError, match="weight_convention"):
        NetworkSpec("ltc", weight_convention="xavier")
    spec = NetworkSpec("ltc", width=3)
    with pytest.raises(ValueError, match="sigma_w2"):
        init_random_network(jax.random.PRNGKey(0), spec, sigma_w2=0.0)
    params = init_random_network(jax.random.PRNGKey(0), spec)
    with pytest.raises(ValueError, match="solver"):
        solve_network(spec, params, solver="rk4000")
    with pytest.raises(ValueError, match="num_samples"):
        circle_input(1)
    with pytest.raises(ValueError, match="y0"):
        solve_network(spec, params, y0=jnp.zeros(4))
    with pytest.raises(ValueError, match="norm"):
        network_solver("rk45", norm="l1")


def test_solution_matches_scipy_reference(x64):
    spec = NetworkSpec("ltc", width=3, depth=2, activation="tanh", tau_min=0.2)
    params = init_random_network(jax.random.PRNGKey(3), spec, sigma_w2=2.0)
    ts, xs = circle_input(40)
    tight = network_solver("rk45", rtol=1e-9, atol=1e-11)
    sol = solve_network(spec, params, solver=tight, ts=ts, inputs=xs)
    assert bool(sol.success)
    ts_np, xs_np = np.asarray(ts), np.asarray(xs)

    def f(t, y):
        u = np.array([np.interp(t, ts_np, xs_np[:, j]) for j in range(2)])
        return reference_rhs(spec, params, y, u)

    ref = solve_ivp(
        f,
        (0.0, ts_np[-1]),
        np.zeros(6),
        t_eval=ts_np,
        rtol=1e-10,
        atol=1e-12,
        method="DOP853",
        max_step=ts_np[1] - ts_np[0],
    )
    np.testing.assert_allclose(np.asarray(sol.states).reshape(40, 6), ref.y.T, atol=1e-6)


def test_computational_depth_equals_diffrax_stats():
    solver = "rk45"
    spec = NetworkSpec("ctrnn", width=4, activation="hardtanh")
    params = init_random_network(jax.random.PRNGKey(5), spec)
    sol = solve_network(spec, params, solver=solver, num_samples=30)
    # Independent run straight through Diffrax with the same problem.
    ts, xs = circle_input(30)
    path = diffrax.LinearInterpolation(ts, xs)
    ref = diffrax.diffeqsolve(
        diffrax.ODETerm(lambda t, y, a: network_vector_field(spec, params, y, path.evaluate(t))),
        network_solver(solver).solver,
        t0=ts[0],
        t1=ts[-1],
        dt0=None,
        y0=jnp.zeros(4),
        saveat=diffrax.SaveAt(ts=ts),
        stepsize_controller=diffrax.PIDController(rtol=1e-2, atol=1e-4),
        max_steps=200_000,
    )
    assert int(sol.num_accepted_steps) == int(ref.stats["num_accepted_steps"])
    assert int(sol.num_steps) == int(ref.stats["num_steps"])
    assert int(sol.num_rejected_steps) == int(ref.stats["num_rejected_steps"])
    assert float(sol.computational_depth) == pytest.approx(
        int(ref.stats["num_accepted_steps"]) / 29
    )
    # Same steps; states agree to well within the solver tolerance (float32 round-off only).
    np.testing.assert_allclose(sol.states[:, 0], ref.ys, rtol=1e-2, atol=1e-3)


def test_euler_takes_exactly_substeps_per_interval():
    spec = NetworkSpec("node", width=3, activation="relu")
    params = init_random_network(jax.random.PRNGKey(0), spec)
    sol = solve_network(spec, params, solver="euler", num_samples=11, euler_substeps=4)
    assert int(sol.num_accepted_steps) == 40
    assert float(sol.computational_depth) == pytest.approx(4.0)
    assert float(computational_depth(40, 11)) == pytest.approx(4.0)


def test_tighter_tolerance_takes_more_steps():
    # Same spec and shapes as above; the tolerances are part of the (static) solver.
    spec = NetworkSpec("ctrnn", width=4, activation="hardtanh")
    for seed in (5, 6):
        params = init_random_network(jax.random.PRNGKey(seed), spec)
        loose = solve_network(spec, params, num_samples=30)
        tight = solve_network(
            spec, params, num_samples=30, solver=network_solver("rk45", rtol=1e-5, atol=1e-7)
        )
        assert int(tight.num_accepted_steps) > int(loose.num_accepted_steps)
        assert bool(loose.success) and bool(tight.success)


def test_max_steps_exhaustion_is_reported_not_raised():
    spec = NetworkSpec("ltc", width=4, activation="tanh")
    params = init_random_network(jax.random.PRNGKey(0), spec)
    sol = solve_network(spec, params, solver=network_solver("rk45", max_steps=2), num_samples=20)
    assert not bool(sol.success)


# ------------------------------------------------------------- the one solver vocabulary


def _lengths(sol):
    return np.asarray(trajectory_length(np.swapaxes(np.asarray(sol.states), 0, 1)).pca_length)


def test_matlab_and_diffrax_names_are_one_solver():
    spec = NetworkSpec("ltc", width=4, depth=2, activation="tanh")
    params = init_random_network(jax.random.PRNGKey(2), spec)
    names = ("ode45", "rk45", "dopri5", diffrax.Dopri5())
    assert len({network_solver(s) for s in names}) == 1
    assert {solver_label(s) for s in names} == {"rk45"}
    assert network_solver("ode45").solver == diffrax.Dopri5()
    ref = solve_network(spec, params, num_samples=20)  # the default: rk45
    for s in names:
        sol = solve_network(spec, params, solver=s, num_samples=20)
        np.testing.assert_array_equal(_lengths(sol), _lengths(ref))
        assert int(sol.num_accepted_steps) == int(ref.num_accepted_steps)
    assert {solver_label(s) for s in ("ode23", "rk23", "bosh3")} == {"rk23"}
    assert [solver_label(s) for s in ("tsit5", "kvaerno3", "euler", "kvaerno5")] == [
        "tsit5", "kvaerno3", "euler", "kvaerno5",
    ]  # fmt: skip


def test_shorthands_get_the_paper_control_and_value_objects_keep_theirs():
    s = network_solver("tsit5")
    assert (s.rtol, s.atol, s.max_steps, s.throw) == (1e-2, 1e-4, 200_000, False)
    own = DiffraxSolver(solver=diffrax.Tsit5(), rtol=1e-5, atol=1e-7, max_steps=50, throw=False)
    assert network_solver(own) is own
    assert network_solver(own, max_steps=80) == DiffraxSolver(
        solver=diffrax.Tsit5(), rtol=1e-5, atol=1e-7, max_steps=80, throw=False
    )
    matlab = network_solver("ode45", norm="max", dtmax=0.5)
    assert (matlab.controller.rtol, matlab.controller.dtmax) == (1e-2, 0.5)
    assert network_solver("ode45", norm="rms") == network_solver("ode45")
    # An explicit solver is used as given: a tighter tolerance takes more steps.
    spec = NetworkSpec("ctrnn", width=4, activation="hardtanh")
    params = init_random_network(jax.random.PRNGKey(5), spec)
    loose = solve_network(spec, params, solver="tsit5", num_samples=30)
    tight = solve_network(spec, params, solver=own, num_samples=30)
    assert not bool(tight.success)  # its max_steps=50 is too few
    tight = solve_network(spec, params, solver=network_solver(own, max_steps=5000), num_samples=30)
    assert int(tight.num_accepted_steps) > int(loose.num_accepted_steps)
    # Its throw=True (DiffraxSolver's default) raises instead of reporting success=False.
    with pytest.raises(Exception, match="max_steps"):
        solve_network(spec, params, solver=DiffraxSolver(solver=diffrax.Tsit5(), max_steps=2))


def test_euler_value_object_uses_euler_substeps():
    spec = NetworkSpec("ctrnn", width=3, activation="tanh")
    params = init_random_network(jax.random.PRNGKey(1), spec)
    by_name = solve_network(spec, params, solver="euler", num_samples=11, euler_substeps=7)
    by_object = solve_network(spec, params, solver=Euler(), num_samples=11, euler_substeps=7)
    assert int(by_object.num_accepted_steps) == 70 == int(by_name.num_accepted_steps)
    np.testing.assert_array_equal(by_object.states, by_name.states)
    # A Diffrax solver without an error estimate is a fixed-step solve too.
    fixed = DiffraxSolver(solver=diffrax.Euler(), throw=False)
    sol = solve_network(spec, params, solver=fixed, num_samples=11, euler_substeps=7)
    np.testing.assert_array_equal(sol.states, by_name.states)
    # Euler steps by hand: 7 steps of (2 pi / 10) / 7 per interval, the input interpolated.
    ts, xs = circle_input(11)
    h = float(ts[1] - ts[0]) / 7
    y = np.zeros(3)
    for n in range(70):
        t = n * h
        u = np.array([np.interp(t, np.asarray(ts), np.asarray(xs[:, j])) for j in range(2)])
        y = y + h * np.asarray(network_vector_field(spec, params, jnp.asarray(y, jnp.float32), u))
    np.testing.assert_allclose(by_object.states[-1, 0], y, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="euler_substeps"):
        solve_network(spec, params, solver=Euler(), euler_substeps=0)


@pytest.mark.parametrize("bad", ["rk4000", "trbdf2", RK4(), Fused(), 42, None])
def test_bad_solver_is_an_error_naming_solver(bad):
    spec = NetworkSpec("node", width=3)
    params = init_random_network(jax.random.PRNGKey(0), spec)
    with pytest.raises(ValueError, match=r"^solver: expected "):
        solve_network(spec, params, solver=bad)
    with pytest.raises(ValueError, match=r"^solver: expected "):
        solver_label(bad)


def test_old_keywords_and_names_still_work_with_a_deprecation_warning():
    spec = NetworkSpec("ctrnn", width=4, activation="hardtanh")
    params = init_random_network(jax.random.PRNGKey(5), spec)
    solver = network_solver("rk45", rtol=1e-5, atol=1e-7, max_steps=500)
    new = solve_network(spec, params, num_samples=30, solver=solver)
    with pytest.warns(DeprecationWarning, match=r"solve_network\(\.\.\., rtol=\.\.\."):
        old = solve_network(spec, params, num_samples=30, rtol=1e-5, atol=1e-7, max_steps=500)
    np.testing.assert_array_equal(old.states, new.states)
    with pytest.warns(DeprecationWarning), pytest.raises(ValueError, match="norm"):
        solve_network(spec, params, norm="l1")
    with pytest.raises(TypeError, match="tol"):
        solve_network(spec, params, tol=1e-3)
    with pytest.warns(DeprecationWarning, match="canonical_solver"):
        assert canonical_solver("ode45") == "rk45"
    with pytest.warns(DeprecationWarning, match="get_solver"):
        assert type(get_solver("bosh3")) is diffrax.Bosh3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with pytest.raises(ValueError, match="solver"):
            canonical_solver("tr-bdf2")  # dropped: Diffrax has no TR-BDF2 (it meant Kvaerno3)


def test_argument_errors_use_the_one_message_style():
    spec = NetworkSpec("node", width=3)
    params = init_random_network(jax.random.PRNGKey(0), spec)
    cases = {
        "num_samples": lambda: circle_input(1),
        "y0": lambda: solve_network(spec, params, y0=jnp.zeros(4)),
        "ts, inputs": lambda: solve_network(spec, params, ts=jnp.linspace(0, 1, 5)),
        "euler_substeps": lambda: solve_network(spec, params, euler_substeps=0),
        "norm": lambda: network_solver("rk45", norm="l1"),
        "dtmax": lambda: network_solver("rk45", dtmax=-1.0),
        "model": lambda: NetworkSpec("lstm"),
        "width": lambda: NetworkSpec("ltc", width=0),
        "sigma_w2": lambda: init_random_network(jax.random.PRNGKey(0), spec, sigma_w2=0.0),
    }
    for name, call in cases.items():
        with pytest.raises(ValueError, match=rf"^{name}: expected .+, got "):
            call()
