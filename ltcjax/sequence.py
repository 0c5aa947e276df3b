"""Sequence unrolling: batches, per-step and per-sequence elapsed times, masks, remat.

One function, :func:`unroll`, runs any :class:`~ltcjax.cell.RecurrentCell` over inputs of
shape (B, T, F) or (T, F) with ``lax.scan`` (no Python loop over time). Each time step is
wrapped in ``jax.checkpoint`` by default, so training memory grows as O(B * N * T): only
the state at each observation is stored for the backward pass, never the B x N x N
synapse activations of the inner ODE unfolds.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Bool, Float, Int

from ltcjax.cell import PyTree, RecurrentCell, _float_dtype, check_state


def unroll(
    cell: RecurrentCell,
    params: PyTree,
    inputs: Float[ArrayLike, "*batch time features"],
    *,
    timespans: Float[ArrayLike, "*batch time"] | float | None = None,
    mask: Bool[ArrayLike, "*batch time"] | None = None,
    lengths: Int[ArrayLike, "*batch"] | None = None,
    initial_state: PyTree | None = None,
    return_sequences: bool = True,
    remat: bool | None = None,
    solver: Any = None,
    times: Float[ArrayLike, "*batch time"] | None = None,
    t0: Float[ArrayLike, "*batch"] | float | None = None,
) -> tuple[Float[Array, "*batch time outputs"] | Float[Array, "*batch outputs"], PyTree]:
    """Apply ``cell`` to a sequence and return ``(outputs, final_state)``.

    Args:
        cell: any recurrent cell (LTC, CfC, CT-RNN, ...).
        params: the cell's parameters, from ``cell.init``.
        inputs: (B, T, F) batched, or (T, F) for a single sequence.
        timespans: elapsed time before each observation: (B, T) per sequence, (T,) shared
            by the batch, or a scalar. Default 1.0. Must be finite and >= 0.
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
    dtype = _float_dtype(params)
    if solver is not None:
        if not hasattr(cell, "solver"):
            raise ValueError(
                f"solver: {type(cell).__name__} has no solver to choose (not a "
                "continuous-time cell with a solver field)"
            )
        import dataclasses

        cell = dataclasses.replace(cell, solver=solver)
    if times is not None:
        if timespans is not None:
            raise ValueError("times, timespans: pass at most one of them")
        timespans = _timespans_from_times(times, t0)
    elif t0 is not None:
        raise ValueError("t0: only used with times=")
    inputs, batched = check_sequence_inputs(cell, inputs, dtype)
    batch, steps = inputs.shape[:2]

    ts = _broadcast_timespans(timespans, batch, steps, batched, dtype)
    valid = _build_mask(mask, lengths, batch, steps, batched)

    if initial_state is None:
        state = cell.initial_state((batch,), dtype)
    else:
        state = _check_initial_state(cell, initial_state, batch, batched, dtype)

    step = cell.batched_step
    if remat is None:
        remat = cell.remat_by_default
    if remat:
        step = jax.checkpoint(step)

    out_shape = jax.eval_shape(step, params, state, inputs[:, 0], ts[:, 0])[1]
    y0 = jnp.zeros(out_shape.shape, out_shape.dtype)

    def body(carry, xs):
        state, y_prev = carry
        x_t, dt_t, m_t = xs
        new_state, y = step(params, state, x_t, dt_t)
        if m_t is not None:
            new_state = jax.tree.map(
                lambda new, old: jnp.where(m_t.reshape(-1, *([1] * (new.ndim - 1))), new, old),
                new_state,
                state,
            )
            y = jnp.where(m_t[:, None], y, y_prev)
        return (new_state, y), (y if return_sequences else None)

    xs = (
        jnp.swapaxes(inputs, 0, 1),
        ts.T,
        None if valid is None else valid.T,
    )
    (final_state, last_y), ys = jax.lax.scan(body, (state, y0), xs)
    outputs = jnp.swapaxes(ys, 0, 1) if return_sequences else last_y
    if not batched:
        outputs = outputs[0]
        final_state = jax.tree.map(lambda s: s[0], final_state)
    return outputs, final_state


def _timespans_from_times(times: Any, t0: Any) -> Array:
    times = jnp.asarray(times)
    if times.ndim not in (1, 2):
        raise ValueError(f"times: expected shape (batch, time) or (time,), got {times.shape}")
    start = times[..., :1] if t0 is None else jnp.asarray(t0, times.dtype)[..., None]
    if _is_concrete(times) and _is_concrete(start):
        if not np.all(np.isfinite(np.asarray(times))):
            raise ValueError("times: expected finite observation times, got NaN or inf")
        if np.any(np.diff(np.asarray(times), axis=-1) < 0):
            raise ValueError("times: expected non-decreasing observation times")
        if np.any(np.asarray(times)[..., :1] < np.asarray(start)):
            raise ValueError("t0: expected t0 <= the first observation time")
    return jnp.diff(times, axis=-1, prepend=start)


def check_sequence_inputs(
    cell: RecurrentCell, inputs: ArrayLike, dtype: Any
) -> tuple[Float[Array, "batch time features"], bool]:
    """Validate sequence ``inputs`` for ``cell``; return them as (B, T, F) and whether they
    were batched. Floating inputs are cast to ``dtype`` (the state's precision).
    """
    inputs = jnp.asarray(inputs)
    if inputs.ndim not in (2, 3):
        raise ValueError(
            "inputs: expected shape (batch, time, features) or (time, features), "
            f"got {tuple(inputs.shape)}"
        )
    if inputs.shape[-1] != cell.input_size:
        raise ValueError(
            f"inputs: expected {cell.input_size} features on the last axis (the cell's "
            f"input_size), got shape {tuple(inputs.shape)}"
        )
    batched = inputs.ndim == 3
    if not batched:
        inputs = inputs[None]
    if inputs.shape[1] == 0:
        raise ValueError("inputs: expected at least one time step, got a time axis of length 0")
    if jnp.issubdtype(inputs.dtype, jnp.floating):
        inputs = inputs.astype(dtype)
    return inputs, batched


def _is_concrete(x: Any) -> bool:
    return not isinstance(x, jax.core.Tracer)


def _broadcast_timespans(
    timespans: Any, batch: int, steps: int, batched: bool, dtype: Any
) -> Float[Array, "batch time"]:
    if timespans is None:
        return jnp.ones((batch, steps), dtype)
    if _is_concrete(timespans):
        validate_timespans(timespans)
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
    raise ValueError(
        f"timespans: expected shape {expected} matching inputs' batch and time axes, or a "
        f"scalar; got {tuple(ts.shape)}"
    )


def validate_timespans(timespans: ArrayLike) -> None:
    """Raise a ValueError if concrete ``timespans`` contain NaN, inf or negative values.

    :func:`unroll` calls this automatically when ``timespans`` is a concrete array (outside
    ``jit``); inside a jitted function call it yourself on the host data.

    Example:
        >>> validate_timespans([0.5, 1.0])
        >>> validate_timespans([0.5, -1.0])  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: timespans: expected finite values >= 0 ... got a negative value -1.0
    """
    arr = np.asarray(timespans, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError("timespans: expected finite values >= 0 (elapsed times), got NaN or inf")
    if arr.size and arr.min() < 0:
        raise ValueError(
            "timespans: expected finite values >= 0 (elapsed times), got a negative value "
            f"{arr.min()}"
        )


def _build_mask(
    mask: Any, lengths: Any, batch: int, steps: int, batched: bool
) -> Bool[Array, "batch time"] | None:
    if mask is not None and lengths is not None:
        raise ValueError("mask, lengths: pass at most one of them")
    if lengths is not None:
        lengths = jnp.asarray(lengths)
        if not batched and lengths.ndim == 0:
            lengths = lengths[None]
        if lengths.shape != (batch,):
            raise ValueError(f"lengths: expected shape ({batch},), got {tuple(lengths.shape)}")
        if not jnp.issubdtype(lengths.dtype, jnp.integer):
            raise ValueError(f"lengths: expected integers, got dtype {lengths.dtype}")
        if _is_concrete(lengths) and (np.any(np.asarray(lengths) < 0)):
            raise ValueError("lengths: expected values >= 0")
        return jnp.arange(steps)[None, :] < lengths[:, None]
    if mask is not None:
        mask = jnp.asarray(mask)
        if not batched and mask.ndim == 1:
            mask = mask[None]
        if mask.shape != (batch, steps):
            raise ValueError(
                f"mask: expected shape {(batch, steps) if batched else (steps,)} matching "
                f"inputs' batch and time axes, got {tuple(mask.shape)}"
            )
        return mask.astype(bool)
    return None


def _check_initial_state(
    cell: RecurrentCell, initial_state: PyTree, batch: int, batched: bool, dtype: Any
) -> PyTree:
    batch_shape = (batch,) if batched else ()
    check_state(cell, initial_state, batch_shape, dtype, "batch from inputs", "initial_state")
    state = jax.tree.map(lambda a: jnp.asarray(a, dtype), initial_state)
    if not batched:
        state = jax.tree.map(lambda a: a[None], state)
    return state
