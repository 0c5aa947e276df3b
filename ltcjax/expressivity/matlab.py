"""What the paper's MATLAB code measures: MATLAB ``ode45`` in JAX, and its Figure 2 / Table 2
measurements.

The paper's trajectory-length numbers come from ``trajectory_length_analysis/main.m`` of its
public repository. That script integrates each random network with
``[t, y] = ode45(odefun, [0 t_max], ic, odeset('RelTol', 1e-2, 'AbsTol', 1e-4))`` and then

* runs ``pca`` on **all rows of** ``y``: with a two-element ``tspan``, ``ode45`` returns the
  initial point and, for every accepted step, ``Refine = 4`` points (3 from its dense
  interpolant, then the step's end), not the 100 input samples;
* measures ``arclength`` (sum of chord lengths, its default ``'linear'`` method) of the first
  two principal-component scores over those rows;
* takes Table 2's "computational depth" as the number of those output times ``t`` with
  ``gt(l) < t <= gt(l+1)`` for ``l = 1..99``, averaged over a vector of **100** entries (the
  last of which is never filled): ``Refine * steps / 100``, not steps per input interval.

:func:`ode45` is MATLAB's ``ode45`` algorithm (Dormand-Prince 5(4) with MATLAB's initial-step
rule, max-norm error test ``|e_i| <= max(rtol |y_i|, atol)``, step-size update and failure
handling, default ``MaxStep = 0.1 |t1 - t0|``, ``Refine`` dense output by MATLAB's ``ntrp45``
polynomial), written as one ``lax.while_loop`` (one attempted step per iteration), jit- and
vmap-able. :func:`simulate_matlab_draws` integrates random networks with it and measures them
as main.m does, streaming the output points through two identical solves (the first
accumulates the PCA covariance, the second the chord lengths of the projected points), so no
trajectory is stored. See docs/expressivity.md ("Audit of the MATLAB code") for the audit and
where this differs from MATLAB.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Bool, Float, Int

from ltcjax.validation import argument_error, check_int, check_positive_int, check_positive_number

from .random_networks import ALL_ACTIVATIONS, NetworkSpec, init_random_network, network_vector_field

__all__ = [
    "MATLAB_ATOL",
    "MATLAB_REFINE",
    "MATLAB_RTOL",
    "MatlabDraws",
    "Ode45Solution",
    "activation_index_of",
    "matlab_table2_depth",
    "ode45",
    "simulate_matlab_draws",
]

#: The tolerances main.m passes to ode45 (``odeset('RelTol', 1e-2, 'AbsTol', 1e-4)``; MATLAB's
#: own defaults are 1e-3 and 1e-6).
MATLAB_RTOL = 1e-2
MATLAB_ATOL = 1e-4
#: ode45's default ``Refine``: output points per accepted step.
MATLAB_REFINE = 4

# Dormand-Prince 5(4) as in MATLAB's ode45.m: nodes, stage weights, 5th-order weights (row 6
# of B), error weights E, and the dense-output matrix BI of ntrp45.m (rows: stages 1..7,
# columns: coefficients of s, s^2, s^3, s^4).
_C = (0.0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1.0)
_A = (
    (),
    (1 / 5,),
    (3 / 40, 9 / 40),
    (44 / 45, -56 / 15, 32 / 9),
    (19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729),
    (9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656),
)
_B = (35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84)
_E = (71 / 57600, 0.0, -71 / 16695, 71 / 1920, -17253 / 339200, 22 / 525, -1 / 40)
_BI = (
    (1.0, -183 / 64, 37 / 12, -145 / 128),
    (0.0, 0.0, 0.0, 0.0),
    (0.0, 1500 / 371, -1000 / 159, 1000 / 371),
    (0.0, -125 / 32, 125 / 12, -375 / 64),
    (0.0, 9477 / 3392, -729 / 106, 25515 / 6784),
    (0.0, -11 / 7, 11 / 3, -55 / 28),
    (0.0, 3 / 2, -4.0, 5 / 2),
)
_POW = 1 / 5


class _Loop(NamedTuple):
    t: Array
    y: Array
    f1: Array
    absh: Array
    new_step: Array  # the next attempt starts a new step (clamp and stretch apply)
    done: Array  # the current attempt was stretched to t1
    nofailed: Array  # no failed attempt in the current step
    finished: Array
    ok: Array
    num_steps: Array
    num_failed: Array
    obs: Any


def _ode45_loop(
    fun: Callable[[Array, Array], Array],
    t0: Array,
    t1: Array,
    y0: Array,
    rtol: float,
    atol: float,
    refine: int,
    hmax: Array,
    max_steps: int,
    observe: Callable[[Any, Array, Array], Any],
    obs0: Any,
) -> _Loop:
    """MATLAB ode45's main loop for ``t1 > t0``; ``observe(obs, ts, ys)`` is called on the
    ``refine`` output points of every accepted step."""
    dtype = y0.dtype
    threshold = atol / rtol
    f0 = fun(t0, y0)
    htspan = jnp.abs(t1 - t0)
    hmin0 = 16 * jnp.spacing(jnp.abs(t0))
    absh = jnp.minimum(hmax, htspan)
    rh = jnp.max(jnp.abs(f0) / jnp.maximum(jnp.abs(y0), threshold)) / (0.8 * rtol**_POW)
    absh = jnp.where(absh * rh > 1, 1 / rh, absh)
    absh = jnp.maximum(absh, hmin0)
    s = jnp.arange(1, refine, dtype=dtype) / refine  # ntrp45 points inside the step
    powers = jnp.stack([s, s**2, s**3, s**4], axis=-1)  # (refine - 1, 4)
    bi = jnp.asarray(_BI, dtype)

    def attempt(c: _Loop) -> _Loop:
        hmin = 16 * jnp.spacing(jnp.abs(c.t))
        clamped = jnp.minimum(hmax, jnp.maximum(hmin, c.absh))
        stretch = c.new_step & (1.1 * clamped >= jnp.abs(t1 - c.t))
        absh = jnp.where(c.new_step, jnp.where(stretch, jnp.abs(t1 - c.t), clamped), c.absh)
        done = jnp.where(c.new_step, stretch, c.done)
        h = absh
        fs = [c.f1]
        for i in range(1, 6):
            yi = c.y + h * sum(a * f for a, f in zip(_A[i], fs, strict=True))
            fs.append(fun(c.t + h * _C[i], yi))
        tnew = jnp.where(done, t1, c.t + h)
        h = tnew - c.t  # "purify h"
        ynew = c.y + h * sum(b * f for b, f in zip(_B, fs, strict=True) if b != 0.0)
        f7 = fun(tnew, ynew)
        fs.append(f7)
        fe = sum(e * f for e, f in zip(_E, fs, strict=True) if e != 0.0)
        scale = jnp.maximum(jnp.maximum(jnp.abs(c.y), jnp.abs(ynew)), threshold)
        err = absh * jnp.max(jnp.abs(fe) / scale)
        failed = err > rtol  # NaN compares False: accepted, as in MATLAB
        give_up = failed & (absh <= hmin)
        # failed attempt: shrink
        shrink = jnp.where(c.nofailed, jnp.maximum(0.1, 0.8 * (rtol / err) ** _POW), 0.5)
        absh_fail = jnp.maximum(hmin, absh * shrink)
        # accepted step: output and grow (only when the step had no failure)
        temp = 1.25 * (err / rtol) ** _POW
        grown = jnp.where(temp > 0.2, absh / temp, 5.0 * absh)
        absh_ok = jnp.where(c.nofailed, grown, absh)
        ts_out = jnp.concatenate([c.t + (tnew - c.t) * s, tnew[None]])
        f_stack = jnp.stack(fs)  # (7, n)
        y_int = c.y + (powers @ (h * bi).T) @ f_stack  # (refine - 1, n)
        ys_out = jnp.concatenate([y_int, ynew[None]])
        accept = ~failed
        obs = jax.lax.cond(accept, lambda o: observe(o, ts_out, ys_out), lambda o: o, c.obs)

        def pick(a, b):
            return jnp.where(accept, a, b)

        return _Loop(
            t=pick(tnew, c.t),
            y=pick(ynew, c.y),
            f1=pick(f7, c.f1),
            absh=pick(absh_ok, absh_fail),
            new_step=accept,
            done=pick(done, jnp.zeros_like(done)),
            nofailed=accept,
            finished=(accept & done) | give_up,
            ok=~give_up,
            num_steps=c.num_steps + accept,
            num_failed=c.num_failed + failed,
            obs=obs,
        )

    def cond(c: _Loop) -> Array:
        return ~c.finished & (c.num_steps + c.num_failed < max_steps)

    init = _Loop(
        t=t0,
        y=y0,
        f1=f0,
        absh=absh,
        new_step=jnp.asarray(True),
        done=jnp.asarray(False),
        nofailed=jnp.asarray(True),
        finished=jnp.asarray(False),
        ok=jnp.asarray(True),
        num_steps=jnp.asarray(0, jnp.int32),
        num_failed=jnp.asarray(0, jnp.int32),
        obs=obs0,
    )
    out = jax.lax.while_loop(cond, attempt, init)
    return out._replace(ok=out.ok & out.finished)


class Ode45Solution(NamedTuple):
    """Output of :func:`ode45`: what MATLAB's ``[t, y] = ode45(f, [t0 t1], y0, opts)`` returns.

    Attributes:
        ts: ``(max_points,)`` output times, padded with NaN after ``num_points``.
        ys: ``(max_points, n)`` output states, padded with NaN.
        num_points: number of output points (``1 + refine * num_steps`` on success, or the
            number of points that fitted into ``max_points``).
        num_steps: accepted steps.
        num_failed: failed attempts.
        success: the solve reached ``t1`` within ``max_steps`` attempts and ``max_points``.
    """

    ts: Float[Array, " P"]
    ys: Float[Array, "P n"]
    num_points: Int[Array, ""]
    num_steps: Int[Array, ""]
    num_failed: Int[Array, ""]
    success: Bool[Array, ""]


def _check_tolerances(rtol: float, atol: float, refine: int, max_steps: int) -> None:
    check_positive_number("rtol", rtol)
    check_positive_number("atol", atol)
    check_positive_int("refine", refine)
    check_positive_int("max_steps", max_steps)


def ode45(
    fun: Callable[[Array, Array], Array],
    t_span: tuple[float, float],
    y0: Float[ArrayLike, " n"],
    *,
    rtol: float = MATLAB_RTOL,
    atol: float = MATLAB_ATOL,
    refine: int = MATLAB_REFINE,
    max_step: float | None = None,
    max_steps: int = 100_000,
    max_points: int = 4001,
) -> Ode45Solution:
    """MATLAB's ``ode45`` for a two-element ``tspan``: every accepted step's ``refine`` output
    points (``refine - 1`` from the ntrp45 interpolant, then the step's end) after ``t0``.

    Defaults are main.m's ``odeset('RelTol', 1e-2, 'AbsTol', 1e-4)`` and ode45's own
    ``Refine = 4`` and ``MaxStep = 0.1 |t1 - t0|``. ``fun(t, y)`` returns ``dy/dt`` (shape of
    ``y0``). Not jitted itself (``fun`` is a Python callable); wrap the call in ``jax.jit``.

    Example:
        >>> sol = ode45(lambda t, y: jnp.ones_like(y), (0.0, 1.0), jnp.zeros(1))
        >>> int(sol.num_steps), int(sol.num_points)  # MATLAB: 12 steps, 49 points
        (12, 49)
        >>> [round(float(t), 4) for t in sol.ts[:5]]
        [0.0, 0.0008, 0.0016, 0.0024, 0.0032]
    """
    _check_tolerances(rtol, atol, refine, max_steps)
    check_int("max_points", max_points, 2)
    t0, t1 = (float(t) for t in t_span)
    if not t1 > t0:
        raise argument_error("t_span", "(t0, t1) with t1 > t0", t_span)
    y0 = jnp.asarray(y0)
    if not jnp.issubdtype(y0.dtype, jnp.floating):
        y0 = y0.astype(jnp.zeros(()).dtype)
    if y0.ndim != 1:
        raise argument_error("y0", "shape (n,)", y0.shape)
    dtype = y0.dtype
    hmax = 0.1 * abs(t1 - t0) if max_step is None else check_positive_number("max_step", max_step)
    ts = jnp.full((max_points,), jnp.nan, dtype).at[0].set(t0)
    ys = jnp.full((max_points,) + y0.shape, jnp.nan, dtype).at[0].set(y0)

    def observe(obs, t_out, y_out):
        ts, ys, n = obs
        idx = n + jnp.arange(refine)  # out-of-range indices are dropped
        return ts.at[idx].set(t_out, mode="drop"), ys.at[idx].set(y_out, mode="drop"), n + refine

    out = _ode45_loop(
        fun,
        jnp.asarray(t0, dtype),
        jnp.asarray(t1, dtype),
        y0,
        rtol,
        atol,
        refine,
        jnp.asarray(hmax, dtype),
        max_steps,
        observe,
        (ts, ys, jnp.asarray(1, jnp.int32)),
    )
    ts, ys, n = out.obs
    return Ode45Solution(
        ts=ts,
        ys=ys,
        num_points=jnp.minimum(n, max_points),
        num_steps=out.num_steps,
        num_failed=out.num_failed,
        success=out.ok & (n <= max_points),
    )


def matlab_table2_depth(
    ts: Float[ArrayLike, " P"], sample_ts: Float[ArrayLike, " T"]
) -> Float[Array, ""]:
    """Table 2's "computational depth" as main.m computes it from ode45's output times.

    For ``l = 1..T-1`` main.m counts the output times with ``gt(l) < t <= gt(l+1)`` into
    ``steps(l)`` of a vector of ``T`` entries, and reports ``mean(steps)``: the count over all
    intervals divided by ``T`` (the last entry stays 0). NaN times (padding) are ignored.

    Example:
        >>> gt = jnp.linspace(0.0, 1.0, 5)
        >>> ts = jnp.array([0.0, 0.1, 0.2, 0.3, 1.0])  # 4 points after t0, over T = 5
        >>> round(float(matlab_table2_depth(ts, gt)), 6)
        0.8
    """
    ts = jnp.asarray(ts)
    gt = jnp.asarray(sample_ts)
    inside = (gt[:-1, None] < ts[None, :]) & (ts[None, :] <= gt[1:, None])  # NaN: False
    return jnp.sum(inside) / gt.shape[0]


class MatlabDraws(NamedTuple):
    """Per-draw measurements of :func:`simulate_matlab_draws` (``D`` draws), as main.m takes
    them.

    Attributes:
        pca_length: ``(D, depth)`` arclength of the first two PCA scores over ode45's output.
        full_length: ``(D, depth)`` arc length of the full ``k``-dimensional output curve.
        explained_variance_ratio: ``(D, depth, 2)`` variance fraction of the two PCs.
        state_norm: ``(D, depth)`` mean state norm over the output points.
        computational_depth: ``(D,)`` Table 2's count (:func:`matlab_table2_depth`).
        num_points, num_steps, num_failed: ``(D,)`` ode45's output points, accepted steps and
            failed attempts.
        success: ``(D,)`` the solve finished within ``max_steps`` attempts, lengths finite.
    """

    pca_length: Array
    full_length: Array
    explained_variance_ratio: Array
    state_norm: Array
    computational_depth: Array
    num_points: Array
    num_steps: Array
    num_failed: Array
    success: Array


def _network_fun(spec, params, gt, inputs, activation_index):
    def fun(t, y):
        # interp1(gt, inputs(i, :), t): linear (MATLAB returns NaN outside [gt(1), gt(end)];
        # jnp.interp holds the end values, which ode45 never asks for).
        u = jnp.stack([jnp.interp(t, gt, inputs[:, i]) for i in range(inputs.shape[1])])
        return network_vector_field(spec, params, y, u, activation_index)

    return fun


_PASS_STATIC = ("spec", "num_samples", "rtol", "atol", "refine", "max_steps")


@functools.partial(jax.jit, static_argnames=_PASS_STATIC)
def _measure_pass(
    spec, params, comps, activation_index, num_samples, rtol, atol, refine, max_steps
):
    """One ode45 solve per draw (vmapped over ``params``), accumulating what both passes need:
    the point count, sums for the per-layer covariance, full-space chord length, state norm
    and Table 2 count, and the chord length of the points projected on ``comps``
    ``(draws, depth, k, 2)``. The solve does not depend on ``comps``, so calling this twice
    (zeros, then the principal directions) repeats the same steps."""
    k, depth = spec.width, spec.depth
    dtype = params[0].w_in.dtype
    t_max = 2 * math.pi
    gt = jnp.linspace(0.0, t_max, num_samples, dtype=dtype)
    inputs = jnp.stack([jnp.sin(gt), jnp.cos(gt)], axis=-1)
    hmax = jnp.asarray(0.1 * t_max, dtype)
    y0 = jnp.zeros((spec.state_size,), dtype)
    lay0 = y0.reshape(depth, k)

    def one(params, comps):
        fun = _network_fun(spec, params, gt, inputs, activation_index)

        def observe(obs, ts, ys):
            n, s1, s2, full, norm, count, prev, length, prev_z = obs
            lay = ys.reshape(-1, depth, k)
            chords = jnp.diff(jnp.concatenate([prev[None], lay]), axis=0)
            z = jnp.einsum("pdi,dic->pdc", lay, comps)
            z_chords = jnp.diff(jnp.concatenate([prev_z[None], z]), axis=0)
            return (
                n + ys.shape[0],
                s1 + lay.sum(0),
                s2 + jnp.einsum("pdi,pdj->dij", lay, lay),
                full + jnp.sum(jnp.linalg.norm(chords, axis=-1), axis=0),
                norm + jnp.sum(jnp.linalg.norm(lay, axis=-1), axis=0),
                count + jnp.sum((ts > gt[0]) & (ts <= gt[-1])).astype(jnp.int32),
                lay[-1],
                length + jnp.sum(jnp.linalg.norm(z_chords, axis=-1), axis=0),
                z[-1],
            )

        obs0 = (  # the initial point (y0 = 0 at t0) is the first output row
            jnp.asarray(1.0, dtype),
            lay0,
            jnp.einsum("di,dj->dij", lay0, lay0),
            jnp.zeros((depth,), dtype),
            jnp.linalg.norm(lay0, axis=-1),
            jnp.asarray(0, jnp.int32),
            lay0,
            jnp.zeros((depth,), dtype),
            jnp.einsum("di,dic->dc", lay0, comps),
        )
        out = _ode45_loop(
            fun, gt[0], gt[-1], y0, rtol, atol, refine, hmax, max_steps, observe, obs0
        )
        return out.obs, out.num_steps, out.num_failed, out.ok

    return jax.vmap(one)(params, comps)


def simulate_matlab_draws(
    spec: NetworkSpec,
    keys: Array,
    sigma_w2,
    sigma_b2,
    activation_index,
    *,
    num_samples: int = 100,
    rtol: float = MATLAB_RTOL,
    atol: float = MATLAB_ATOL,
    refine: int = MATLAB_REFINE,
    max_steps: int = 50_000,
) -> MatlabDraws:
    """Draw ``len(keys)`` random networks and measure them as the paper's main.m does.

    The input is main.m's circle (``gt = linspace(0, 2 pi, num_samples)``, ``interp1``
    linear), the initial state 0, the solver :func:`ode45` with main.m's tolerances; the
    trajectory length is the chord length of the first two PCA scores of all ode45 output
    points, per layer, and the computational depth :func:`matlab_table2_depth`. Parameters
    are drawn by :func:`~ltcjax.expressivity.init_random_network` under ``spec``'s weight
    convention (``"matlab"`` for what main.m draws); ``activation_index`` indexes
    :data:`~ltcjax.expressivity.random_networks.ALL_ACTIVATIONS` (use ``"htanh_matlab"`` for
    main.m's hard-tanh). ``sigma_w2``, ``sigma_b2`` and ``activation_index`` may change
    without recompiling; one compilation serves each ``spec`` (its activation is ignored).
    Every draw is solved twice (the first solve gives the principal directions, the second
    the chord length of the projected points), so nothing of the trajectory is stored.

    Example:
        >>> spec = NetworkSpec("node", width=4, weight_convention="matlab")
        >>> keys = jax.random.split(jax.random.PRNGKey(0), 2)
        >>> d = simulate_matlab_draws(spec, keys, 2.0, 1.0, 0, num_samples=20)
        >>> d.pca_length.shape, bool(d.success.all())
        ((2, 1), True)
    """
    check_int("num_samples", num_samples, 2)
    _check_tolerances(rtol, atol, refine, max_steps)
    dtype = jnp.asarray(sigma_w2).dtype
    if not jnp.issubdtype(dtype, jnp.floating):
        dtype = jnp.zeros(()).dtype
    sigma_w2, sigma_b2 = jnp.asarray(sigma_w2, dtype), jnp.asarray(sigma_b2, dtype)
    params = jax.vmap(lambda key: init_random_network(key, spec, sigma_w2, sigma_b2, dtype))(keys)
    pass_spec = spec.replace(activation="tanh", weight_convention="code", tau_min=0.0)
    index = jnp.asarray(activation_index, jnp.int32)
    static = dict(
        num_samples=int(num_samples), rtol=float(rtol), atol=float(atol), refine=int(refine),
        max_steps=int(max_steps),
    )  # fmt: skip
    k, depth, draws = spec.width, spec.depth, keys.shape[0]
    zeros = jnp.zeros((draws, depth, k, 2), dtype)
    obs, num_steps, num_failed, ok1 = _measure_pass(pass_spec, params, zeros, index, **static)
    n, s1, s2, full, norm, count = obs[:6]
    n_ = n[:, None, None]
    mean = s1 / n_
    cov = (s2 - n_[..., None] * jnp.einsum("bdi,bdj->bdij", mean, mean)) / jnp.maximum(
        n_[..., None] - 1, 1
    )
    evals, evecs = jnp.linalg.eigh(cov)  # ascending
    comps = evecs[..., ::-1][..., :2]  # (draws, depth, k, 2): the two leading directions
    top = evals[..., ::-1][..., :2]
    total = jnp.sum(evals, axis=-1, keepdims=True)
    ratio = jnp.where(total > 0, top / jnp.where(total > 0, total, 1), 0)
    obs2, steps2, _, ok2 = _measure_pass(pass_spec, params, comps, index, **static)
    pca_length = obs2[7]
    success = ok1 & ok2 & (steps2 == num_steps) & jnp.all(jnp.isfinite(pca_length), axis=-1)
    return MatlabDraws(
        pca_length=pca_length,
        full_length=full,
        explained_variance_ratio=ratio,
        state_norm=norm / n[:, None],
        computational_depth=count.astype(dtype) / num_samples,
        num_points=(1 + refine * num_steps).astype(jnp.int32),
        num_steps=num_steps,
        num_failed=num_failed,
        success=success,
    )


def activation_index_of(name: str) -> int:
    """Index of an activation in :data:`ALL_ACTIVATIONS` (for ``activation_index``).

    Example:
        >>> activation_index_of("htanh_matlab")
        4
    """
    from .random_networks import canonical_activation

    return ALL_ACTIVATIONS.index(canonical_activation(name))
