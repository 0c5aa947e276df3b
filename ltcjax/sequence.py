"""Sequence unrolling: batches, per-step and per-sequence elapsed times, masks, remat.

One function, :func:`unroll`, runs any :class:`~ltcjax.cell.RecurrentCell` over inputs of
shape (B, T, F) or (T, F) with ``lax.scan`` (no Python loop over time). Each time step is
wrapped in ``jax.checkpoint`` by default, so training memory grows as O(B * N * T): only
the state at each observation is stored for the backward pass, never the B x N x N
synapse activations of the inner ODE unfolds.

This module sits below :mod:`ltcjax.cell` (whose ``apply`` calls :func:`unroll`): it uses a
cell only through its methods, and imports no cell.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Bool, Float, Int

from ltcjax.custom_types import Dim, PyTree
from ltcjax.precision import Precision, as_precision, cast_floating
from ltcjax.validation import (
    argument_error,
    check_finite,
    check_params,
    check_state,
    check_values,
    state_dtype,
    validate_timespans,
)

if TYPE_CHECKING:
    from ltcjax.cell import RecurrentCell

__all__ = [
    "build_valid_mask",
    "check_initial_state",
    "check_sequence_inputs",
    "precision_step",
    "step_compute_dtype",
    "resolve_precision",
    "timespans_from_times",
    "unroll",
    "validate_timespans",
]


def unroll(
    cell: RecurrentCell,
    params: PyTree,
    inputs: Float[ArrayLike, "*batch time features"],
    *,
    timespans: Float[ArrayLike, ...] | float | None = None,
    mask: Bool[ArrayLike, "*#batch time"] | None = None,
    lengths: Int[ArrayLike, "*#batch"] | None = None,
    initial_state: PyTree | None = None,
    return_sequences: bool = True,
    remat: bool | None = None,
    solver: Any = None,
    times: Float[ArrayLike, "*#batch time"] | None = None,
    t0: Float[ArrayLike, "*#batch"] | float | None = None,
    key: jax.Array | None = None,
    precision: Precision | str | None = None,
) -> tuple[Float[Array, "*batch time outputs"] | Float[Array, "*batch outputs"], PyTree]:
    """Apply ``cell`` to a sequence and return ``(outputs, final_state)``.

    Args:
        cell: any recurrent cell (LTC, CfC, CT-RNN, ...).
        params: the cell's parameters, from ``cell.init``.
        inputs: (B, T, F) batched, or (T, F) for a single sequence.
        timespans: elapsed time before each observation: (B, T) per sequence, (T,) shared
            by the batch, or a scalar. Default 1.0. Must be finite and >= 0 at valid steps
            (padded steps, see ``mask``, may hold anything, even NaN).
        mask: (B, T) booleans, False at padded steps; a padded step leaves the state (and
            the last output) unchanged. Exclusive with ``lengths``.
        lengths: (B,) number of valid steps of each sequence (steps after it are padding).
        initial_state: the state before the first step (default zeros), shaped like
            ``cell.initial_state((B,))``.
        return_sequences: return outputs at every step (B, T, O) or only the last valid
            one (B, O).
        remat: rematerialise each step in the backward pass, so that training memory
            stays O(B * N * T). Default ``None``: ``cell.remat_by_default`` (on, except for
            the LTC's fused solver, whose hand-written derivative already keeps only
            ``O(B * N)`` per sub-step and runs about 20% faster without recomputation).
            ``True`` also makes a cell with a whole-sequence path
            (:meth:`~ltcjax.cell.RecurrentCell.sequence_kernel`) run step by step.
        solver: override the cell's ``solver`` for this call: "fused", "euler", "rk4", or a
            Diffrax solver (instance, name such as "tsit5", or
            :class:`ltcjax.solvers.DiffraxSolver` with tolerances, ``max_steps``, adjoint).
            Needs a cell with a ``solver`` field. See docs/solvers.md.
        times: absolute observation times, (B, T) or (T,), instead of ``timespans``:
            the elapsed times are ``diff(times, prepend=t0)``. Exclusive with
            ``timespans``. For whole-sequence adaptive solves with dense output use
            :func:`ltcjax.continuous.odeint_sequence`.
        t0: start time(s) for ``times``, scalar or (B,); default the first time (the first
            step then has elapsed time 0).
        key: a PRNG key for stochastic cells (``cell.is_stochastic``, e.g. a CfC with
            backbone dropout): each sequence gets its own key, split again at every valid
            step, and the step draws from it (training mode). None: deterministic.

    Returns:
        ``(outputs, final_state)``.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from ltcjax import LTCCell, unroll
        >>> cell = LTCCell(units=6, input_size=2)
        >>> params = cell.init(jax.random.key(0))
        >>> xs = jnp.ones((4, 10, 2))
        >>> ts = jnp.full((4, 10), 0.5)
        >>> ys, h = unroll(cell, params, xs, timespans=ts, lengths=jnp.array([10, 7, 3, 1]))
        >>> ys.shape, h.shape
        ((4, 10, 6), (4, 6))
    """
    if solver is not None:
        cell = cell.with_solver(solver)
    params, dtype, compute = resolve_precision(cell, params, precision)
    if times is not None:
        if timespans is not None:
            raise argument_error("times, timespans", "at most one of them", "both")
        timespans = timespans_from_times(times, t0)
    elif t0 is not None:
        raise argument_error("t0", "None unless times= is given", repr(t0))
    inputs, batched = check_sequence_inputs(cell, inputs, compute or dtype)
    batch, steps = inputs.shape[:2]

    valid = build_valid_mask(mask, lengths, batch, steps, batched)
    ts = _broadcast_timespans(timespans, batch, steps, batched, dtype)
    if valid is not None:  # padded steps may hold anything (even NaN): they are not used
        ts = jnp.where(valid, ts, jnp.zeros((), ts.dtype))
    if timespans is not None and times is None:  # (times are checked by timespans_from_times)
        # the given values when all steps are valid: a Python or NumPy value is checked at
        # once, even under jit, instead of by a run-time callback on its broadcast copy
        validate_timespans(ts if valid is not None else jnp.asarray(timespans, dtype))

    if initial_state is None:
        state = cell.initial_state((batch,), dtype)
    else:
        state = check_initial_state(cell, initial_state, batch, batched, dtype)
        check_finite("initial_state", state)
    keys = None
    if key is not None and cell.is_stochastic:
        keys = jax.random.split(key, batch)

    run_sequence = (
        cell.sequence_kernel() if keys is None and compute is None and not remat else None
    )
    if run_sequence is not None:  # the sequence at once (the LTC's fused solver, any backend)
        ys, final_state = run_sequence(params, state, inputs, ts, valid)
        outputs = ys if return_sequences else ys[:, -1]
        if not batched:
            outputs, final_state = outputs[0], jax.tree.map(lambda s: s[0], final_state)
        return outputs, final_state

    step = precision_step(cell, compute)
    if remat is None:
        remat = cell.remat_by_default
    if remat:
        step = jax.checkpoint(step)

    out_shape = jax.eval_shape(step, params, state, inputs[:, 0], ts[:, 0], keys)[1]
    y0 = jnp.zeros(out_shape.shape, out_shape.dtype)

    def body(carry, xs):
        state, keys, y_prev = carry
        x_t, dt_t, m_t = xs
        step_keys = None
        if keys is not None:
            pairs = jax.vmap(jax.random.split)(keys)
            keys, step_keys = pairs[:, 0], pairs[:, 1]
        new_state, y = step(params, state, x_t, dt_t, step_keys)
        if m_t is not None:
            keep = lambda new, old: jnp.where(  # noqa: E731
                m_t.reshape(-1, *([1] * (new.ndim - 1))), new, old
            )
            new_state = jax.tree.map(keep, new_state, state)
            if keys is not None:
                keys = keep(keys, carry[1])
            y = jnp.where(m_t[:, None], y, y_prev)
        return (new_state, keys, y), (y if return_sequences else None)

    xs = (
        jnp.swapaxes(inputs, 0, 1),
        ts.T,
        None if valid is None else valid.T,
    )
    (final_state, _, last_y), ys = jax.lax.scan(body, (state, keys, y0), xs)
    outputs = jnp.swapaxes(ys, 0, 1) if return_sequences else last_y
    if not batched:
        outputs = outputs[0]
        final_state = jax.tree.map(lambda s: s[0], final_state)
    return outputs, final_state


def resolve_precision(
    cell: RecurrentCell, params: PyTree, precision: Precision | str | None
) -> tuple[PyTree, Any, Any]:
    """Check ``params`` against ``cell`` and apply a precision policy: returns the params
    (cast to the compute dtype if the policy has one), the state dtype, and the compute dtype
    (None: no cast)."""
    check_params(cell, params)
    policy = as_precision(precision)
    if policy is None:
        return params, state_dtype(params), None
    dtype = policy.state_dtype_for(params)
    return cast_floating(params, policy.compute_dtype), dtype, policy.compute_dtype


def step_compute_dtype(cell: RecurrentCell, compute: Any) -> Any:
    """The dtype a step's state is cast to: ``compute``, except None for an adaptive (Diffrax)
    solver, whose error control needs more than half precision's 8-11 significant bits (it
    integrates in the state's dtype; the params and inputs keep the compute dtype)."""
    if getattr(getattr(cell, "solver", None), "is_adaptive", False):
        return None
    return compute


def precision_step(cell: RecurrentCell, compute: Any) -> Any:
    """``cell.step_many`` that casts the state and elapsed times to ``compute`` (if not None,
    and the cell's solver is not adaptive) before the step and returns the new state in the
    dtype of the state it was given."""

    compute = step_compute_dtype(cell, compute)

    def step(params: PyTree, state: PyTree, x: Array, dt: Array, keys: Any) -> Any:
        if compute is not None:
            dt = dt.astype(compute)
        new_state, y = cell.step_many(params, cast_floating(state, compute), x, dt, keys)
        new_state = jax.tree.map(lambda new, old: new.astype(old.dtype), new_state, state)
        return new_state, y

    return step


def timespans_from_times(
    times: Float[ArrayLike, "*batch time"] | Sequence[Any],
    t0: Float[ArrayLike, "*#batch"] | float | None = None,
) -> Float[Array, "*batch time"]:
    """Elapsed times ``diff(times, prepend=t0)`` (``t0`` default: the first time), checked.

    Example:
        >>> timespans_from_times([[1.0, 1.5, 3.0]], t0=0.0).tolist()
        [[1.0, 0.5, 1.5]]
    """
    times = jnp.asarray(times)
    if times.ndim not in (1, 2):
        raise argument_error("times", "shape (batch, time) or (time,)", times.shape)
    if t0 is None:
        start = times[..., :1]
    else:
        t0 = jnp.asarray(t0, times.dtype)
        if t0.ndim > 1 or (t0.ndim == 1 and t0.shape != times.shape[:-1]):
            raise argument_error("t0", f"a scalar or shape {times.shape[:-1]}", t0.shape)
        start = jnp.broadcast_to(t0[..., None], (*times.shape[:-1], 1))
    check_values(_summarise_times, _times_message, times, start)
    return jnp.diff(times, axis=-1, prepend=start)


def _summarise_times(xp: Any, times: Any, start: Any) -> tuple[Any, Any, Any]:
    finite = xp.all(xp.isfinite(times))
    increasing = xp.all(xp.diff(times, axis=-1) >= 0) if times.shape[-1] > 1 else True
    return finite, xp.asarray(increasing), xp.all(times[..., :1] >= start)


def _times_message(finite: Any, increasing: Any, after_start: Any) -> str | None:
    if not np.all(finite):
        return str(argument_error("times", "finite observation times", "NaN or inf"))
    if not np.all(increasing):
        return str(argument_error("times", "non-decreasing observation times", "a decrease"))
    if not np.all(after_start):
        return str(argument_error("t0", "t0 <= the first observation time", "a later t0"))
    return None


def check_sequence_inputs(
    cell: RecurrentCell, inputs: ArrayLike, dtype: Any
) -> tuple[Float[Array, "batch time features"], bool]:
    """Validate sequence ``inputs`` for ``cell``; return them as (B, T, F) and whether they
    were batched. Floating inputs are cast to ``dtype`` (the state's precision).
    """
    inputs = jnp.asarray(inputs)
    if inputs.ndim not in (2, 3):
        raise argument_error(
            "inputs", "shape (batch, time, features) or (time, features)", tuple(inputs.shape)
        )
    if inputs.shape[-1] != cell.input_size:
        raise argument_error(
            "inputs",
            f"{cell.input_size} features on the last axis (the cell's input_size)",
            f"shape {tuple(inputs.shape)}",
        )
    batched = inputs.ndim == 3
    if not batched:
        inputs = inputs[None]
    if inputs.shape[1] == 0:
        raise argument_error("inputs", "at least one time step", "a time axis of length 0")
    if jnp.issubdtype(inputs.dtype, jnp.floating):
        inputs = inputs.astype(dtype)
    return inputs, batched


def _broadcast_timespans(
    timespans: Any, batch: Dim, steps: Dim, batched: bool, dtype: Any
) -> Float[Array, "batch time"]:
    if timespans is None:
        return jnp.ones((batch, steps), dtype)
    ts = jnp.asarray(timespans, dtype)
    if ts.ndim == 0:
        return jnp.full((batch, steps), ts)
    if batched and ts.ndim == 3 and ts.shape[-1] == 1:  # (B, T, 1), as Keras packs it
        ts = ts[..., 0]
    if ts.shape == (steps,):
        return jnp.broadcast_to(ts, (batch, steps))
    if batched and ts.shape == (batch, steps):
        return ts
    expected = f"({batch}, {steps}) or ({steps},)" if batched else f"({steps},)"
    raise argument_error(
        "timespans",
        f"shape {expected} matching inputs' batch and time axes, or a scalar",
        tuple(ts.shape),
    )


def build_valid_mask(
    mask: Any, lengths: Any, batch: Dim, steps: Dim, batched: bool
) -> Bool[Array, "batch time"] | None:
    """The (B, T) boolean mask of valid steps from ``mask`` or ``lengths`` (None: all valid).

    Example:
        >>> build_valid_mask(None, [2, 1], 2, 3, True).tolist()
        [[True, True, False], [True, False, False]]
    """
    if mask is not None and lengths is not None:
        raise argument_error("mask, lengths", "at most one of them", "both")
    if lengths is not None:
        lengths = jnp.asarray(lengths)
        if not batched and lengths.ndim == 0:
            lengths = lengths[None]
        if lengths.shape != (batch,):
            raise argument_error("lengths", f"shape ({batch},)", tuple(lengths.shape))
        if not jnp.issubdtype(lengths.dtype, jnp.integer):
            raise argument_error("lengths", "integers", f"dtype {lengths.dtype}")
        check_values(
            lambda xp, n: (xp.min(n), xp.max(n)),
            lambda lo, hi: _lengths_message(lo, hi, steps),
            lengths,
        )
        return jnp.arange(steps)[None, :] < lengths[:, None]
    if mask is not None:
        mask = jnp.asarray(mask)
        if not batched and mask.ndim == 1:
            mask = mask[None]
        if mask.shape != (batch, steps):
            raise argument_error(
                "mask",
                f"shape {(batch, steps) if batched else (steps,)} matching inputs' batch and "
                "time axes",
                tuple(mask.shape),
            )
        if mask.dtype != jnp.bool_:
            raise argument_error("mask", "booleans (True at valid steps)", f"dtype {mask.dtype}")
        return mask
    return None


def _lengths_message(lo: Any, hi: Any, steps: Dim) -> str | None:
    expected = f"values in [0, {steps}] (the number of valid steps of each sequence)"
    if np.min(lo) < 0:
        return str(argument_error("lengths", expected, int(np.min(lo))))
    if np.max(hi) > steps:
        return str(argument_error("lengths", expected, int(np.max(hi))))
    return None


def check_initial_state(
    cell: RecurrentCell, initial_state: PyTree, batch: Dim, batched: bool, dtype: Any
) -> PyTree:
    """Check ``initial_state`` against ``cell`` and the inputs' batch; return it batched."""
    batch_shape = (batch,) if batched else ()
    check_state(cell, initial_state, batch_shape, dtype, "batch from inputs", "initial_state")
    state = jax.tree.map(lambda a: jnp.asarray(a, dtype), initial_state)
    if not batched:
        state = jax.tree.map(lambda a: a[None], state)
    return state
