"""Liquid time-constant (``tau_sys``) traces along trajectories, with Theorem 1's bounds.

Two model families are covered:

* the library's conductance-form :class:`ltcjax.LTCCell` (trained or freshly initialised):
  :func:`tau_sys_trace` runs the cell over a sequence and evaluates
  :func:`ltcjax.models.ltc.tau_sys` after every observation, together with
  :func:`ltcjax.models.ltc.tau_sys_bounds` and :func:`ltcjax.models.ltc.state_bounds`;
* the paper-form random LTC of :mod:`~ltcjax.expressivity.random_networks`:
  :func:`random_ltc_tau_sys_trace` integrates it with Diffrax on the circle input and returns
  ``tau_sys`` with the bounds of :mod:`~ltcjax.expressivity.bounds`.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from ltcjax.validation import argument_error

from .bounds import ltc_state_bounds, ltc_tau_sys, ltc_tau_sys_bounds
from .integrate import circle_input, solve_network
from .random_networks import LayerParams, NetworkSpec

__all__ = ["TauSysTrace", "random_ltc_tau_sys_trace", "tau_sys_trace"]


class TauSysTrace(NamedTuple):
    """``tau_sys`` along a trajectory with Theorem 1 and Theorem 2 bounds.

    Attributes:
        ts: ``(T,)`` times of the samples (cumulative elapsed time for a cell).
        states: ``(..., T, N)`` neuron states (``(T, depth, k)`` for random networks).
        tau_sys: ``(..., T, N)`` liquid time constants at those states and inputs.
        tau_lower: ``(N,)`` Theorem 1 lower bound.
        tau_upper: ``(N,)`` Theorem 1 upper bound.
        state_lower: Theorem 2 lower bound, broadcastable against ``states`` (``(N,)``, or
            ``(B, 1, N)`` for a batched cell trace).
        state_upper: Theorem 2 upper bound, likewise.

    Example:
        >>> import jax
        >>> from ltcjax.expressivity import NetworkSpec, init_random_network
        >>> spec = NetworkSpec("ltc", width=4)
        >>> tr = random_ltc_tau_sys_trace(spec, init_random_network(jax.random.PRNGKey(0), spec))
        >>> bool((tr.tau_sys <= tr.tau_upper).all())
        True
    """

    ts: Float[Array, "*batch T"]
    states: Float[Array, "*batch T N"]
    tau_sys: Float[Array, "*batch T N"]
    tau_lower: Float[Array, " N"]
    tau_upper: Float[Array, " N"]
    state_lower: Float[Array, "*batch N"]
    state_upper: Float[Array, "*batch N"]


def tau_sys_trace(
    cell: Any,
    params: Any,
    inputs: Float[Array, "*batch T F"],
    timespans: Float[ArrayLike, ...] | float | None = None,
    initial_state: Any = None,
) -> TauSysTrace:
    """Run a conductance-form :class:`ltcjax.LTCCell` and trace ``tau_sys`` of every neuron.

    After observation ``t`` (input ``x_t`` held over the elapsed time ``dt_t``, as the cell's
    solvers do) the trace holds the state ``v_t`` and ``tau_sys(v_t, x_t)``. Works for trained
    or random parameters; jit-able and batched over a leading axis of ``inputs``.

    Args:
        cell: an ``ltcjax.LTCCell``.
        params: its parameters (``cell.init(key)`` or trained).
        inputs: ``(T, F)`` or ``(B, T, F)`` input sequence.
        timespans: elapsed time before each observation: scalar, ``(T,)`` or ``(B, T)``
            (default 1.0).
        initial_state: state before the first step (default zeros, ``(N,)`` or ``(B, N)``).

    Returns:
        A :class:`TauSysTrace` (``ts`` is the cumulative time at each observation). The
        Theorem 2 bounds do not apply to ``mixed_memory`` cells (the LSTM rewrites the state).

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from ltcjax import LTCCell
        >>> cell = LTCCell(input_size=2, units=5)
        >>> params = cell.init(jax.random.key(0))
        >>> tr = tau_sys_trace(cell, params, jnp.ones((12, 2)), timespans=0.5)
        >>> tr.tau_sys.shape, bool(jnp.all(tr.tau_sys <= tr.tau_upper))
        ((12, 5), True)
    """
    from ltcjax.models.ltc import state_bounds, tau_sys, tau_sys_bounds

    leaves = jax.tree_util.tree_leaves(params)
    dtype = next((x.dtype for x in leaves if jnp.issubdtype(x.dtype, jnp.floating)), jnp.float32)
    inputs = jnp.asarray(inputs, dtype)
    if inputs.ndim not in (2, 3) or inputs.shape[-1] != cell.input_size:
        raise argument_error(
            "inputs",
            f"shape (T, {cell.input_size}) or (B, T, {cell.input_size})",
            tuple(inputs.shape),
        )
    batched = inputs.ndim == 3
    batch_shape = inputs.shape[:1] if batched else ()
    steps = inputs.shape[-2]
    dts = jnp.ones((), dtype) if timespans is None else jnp.asarray(timespans, dtype)
    try:
        dts = jnp.broadcast_to(dts, (*batch_shape, steps))
    except ValueError as err:
        raise argument_error(
            "timespans", f"a shape broadcasting to {(*batch_shape, steps)}", tuple(dts.shape)
        ) from err
    if initial_state is None:
        initial_state = cell.initial_state(batch_shape, dtype)

    def run_one(xs, dt, state0):
        def body(state, inp):
            x, h = inp
            new_state, _ = cell.step(params, state, x, h)
            v = new_state[0] if isinstance(new_state, tuple) else new_state
            return new_state, (v, tau_sys(cell, params, v, x))

        _, (vs, taus) = jax.lax.scan(body, state0, (xs, dt))
        v0 = state0[0] if isinstance(state0, tuple) else state0
        return jnp.cumsum(dt), vs, taus, v0

    if batched:
        ts, vs, taus, v0 = jax.vmap(run_one)(inputs, dts, initial_state)
    else:
        ts, vs, taus, v0 = run_one(inputs, dts, initial_state)
    lo, hi = tau_sys_bounds(cell, params)
    s_lo, s_hi = state_bounds(cell, params, v0)
    if batched:  # per-sequence bounds, broadcastable against states (B, T, N)
        s_lo, s_hi = s_lo[:, None, :], s_hi[:, None, :]
    return TauSysTrace(ts, vs, taus, lo, hi, s_lo, s_hi)


def random_ltc_tau_sys_trace(
    spec: NetworkSpec,
    params: tuple[LayerParams, ...],
    activation_index=None,
    **solve_kwargs,
) -> TauSysTrace:
    """Integrate a paper-form random LTC on the circle input and trace ``tau_sys``.

    Args:
        spec: LTC network description (``spec.model == "ltc"``).
        params: its parameters.
        activation_index: optional override of ``spec.activation``.
        **solve_kwargs: forwarded to :func:`~ltcjax.expressivity.solve_network`
            (``solver``, ``ts``/``inputs``, ``y0``...).

    Returns:
        A :class:`TauSysTrace` with ``states``/``tau_sys`` of shape ``(T, depth, k)`` and bounds
        of shape ``(depth, k)``. The Theorem 1 bound assumes ``|I_j(t)| <= max |inputs|``.

    Example:
        >>> import jax
        >>> from ltcjax.expressivity import NetworkSpec, init_random_network
        >>> spec = NetworkSpec("ltc", width=6, activation="tanh")
        >>> params = init_random_network(jax.random.PRNGKey(0), spec)
        >>> tr = random_ltc_tau_sys_trace(spec, params, num_samples=30)
        >>> tr.tau_sys.shape
        (30, 1, 6)
    """
    if spec.model != "ltc":
        raise argument_error(
            "spec", "an LTC (tau_sys is defined for the LTC)", f"model {spec.model!r}"
        )

    sol = solve_network(spec, params, activation_index=activation_index, **solve_kwargs)
    inputs = solve_kwargs.get("inputs")
    if inputs is None:
        _, inputs = circle_input(sol.ts.shape[0], dtype=sol.states.dtype)
    inputs = jnp.asarray(inputs, sol.states.dtype)
    taus = ltc_tau_sys(spec, params, sol.states, inputs, activation_index)
    y0 = solve_kwargs.get("y0")
    input_bound = jnp.max(jnp.abs(inputs), axis=0)
    lo, hi = ltc_tau_sys_bounds(spec, params, input_bound, y0, activation_index)
    s_lo, s_hi = ltc_state_bounds(spec, params, y0, activation_index)
    return TauSysTrace(sol.ts, sol.states, taus, lo, hi, s_lo, s_hi)
