"""Continuous time with Diffrax: whole sequences, irregular sampling, dense output.

:func:`odeint_sequence` solves a continuous-time cell's ODE over each sequence's whole
observation window with one adaptive ``diffrax.diffeqsolve`` per sequence (vmapped over the
batch), the input held piecewise constant (or linearly interpolated) between observation
times. Observation times are absolute and may differ between the sequences of a batch;
padding is masked. It returns the state and outputs at the observation times, at arbitrary
query times (dense output), per-interval solver step counts, and a status per sequence.

Conventions (the same as :func:`ltcjax.sequence.unroll` with
``timespans = diff(times, prepend=t0)``): the input ``x_k`` observed at ``times[k]`` drives
the state over the interval ``(times[k-1], times[k]]`` (and ``(t0, times[0]]`` for the first
one), and ``outputs[k]`` is read at ``times[k]``. After the last observation the last input
is held. With ``interpolation="previous"`` the input is a causal zero-order hold (``x_k`` from
``times[k]`` on), with ``"linear"`` it is interpolated linearly between consecutive
observations (held constant before the first and after the last).

The building blocks are public too: :class:`ObservationPath` (a ``diffrax.AbstractPath``
over the observations) and :func:`vector_field` (``f(t, y, args)`` for ``diffrax.ODETerm``).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from typing import Any, Literal, NamedTuple

import diffrax as dfx
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Bool, Float, Int

from ltcjax.cell import ContinuousTimeCell, RecurrentCell
from ltcjax.custom_types import PyTree
from ltcjax.deprecation import warn_renamed
from ltcjax.sequence import build_valid_mask, check_sequence_inputs
from ltcjax.solvers import DiffraxSolver, as_diffrax_solver
from ltcjax.validation import argument_error, check_choice, float_dtype, is_concrete

INTERPOLATIONS = ("constant", "previous", "linear")

#: Status code of a sequence whose observation times were invalid (NaN, inf, decreasing,
#: or before ``t0``) and could only be checked inside ``jit``. Other codes are Diffrax's
#: ``RESULTS`` values (0: success, 1: ``max_steps`` reached, ...).
INVALID_TIMES = -1


class ObservationPath(dfx.AbstractPath):
    """The input signal between observations, as a ``diffrax.AbstractPath``.

    ``evaluate(t)`` returns ``values[k]`` for ``t`` in ``(times[k-1], times[k]]``
    (``interpolation="constant"``; the convention of the discrete unroll), ``values[k]`` for
    ``t`` in ``[times[k], times[k+1])`` (``"previous"``: a causal zero-order hold, the last
    observation so far), or the linear interpolation between ``values[k-1]`` and
    ``values[k]`` (``"linear"``). Before
    ``times[0]`` the first value and after ``times[-1]`` the last value is held. ``times``
    must be non-decreasing (repeated times are allowed: the later value then acts for zero
    time).

    Example:
        >>> import jax.numpy as jnp
        >>> path = ObservationPath(jnp.array([1.0, 2.0]), jnp.array([[10.0], [20.0]]))
        >>> [float(path.evaluate(t)[0]) for t in (0.5, 1.0, 1.5, 3.0)]
        [10.0, 10.0, 20.0, 20.0]
        >>> lin = ObservationPath(jnp.array([1.0, 2.0]), jnp.array([[10.0], [20.0]]), "linear")
        >>> float(lin.evaluate(1.25)[0])
        12.5
        >>> prev = ObservationPath(jnp.array([1.0, 2.0]), jnp.array([[10.0], [20.0]]), "previous")
        >>> [float(prev.evaluate(t)[0]) for t in (1.5, 2.0)]
        [10.0, 20.0]
    """

    times: Float[Array, " time"]
    values: Float[Array, "time features"]
    interpolation: str = eqx.field(static=True, default="constant")

    def __check_init__(self) -> None:
        if self.interpolation not in INTERPOLATIONS:
            raise argument_error("interpolation", f"one of {INTERPOLATIONS}", self.interpolation)

    @property
    def t0(self):
        return -jnp.inf

    @property
    def t1(self):
        return jnp.inf

    def _at(self, t):
        ts, xs = self.times, self.values
        n = ts.shape[0]
        if self.interpolation == "previous":  # causal zero-order hold
            return xs[jnp.clip(jnp.searchsorted(ts, t, side="right") - 1, 0, n - 1)]
        k = jnp.clip(jnp.searchsorted(ts, t, side="left"), 0, n - 1)
        if self.interpolation == "constant":
            return xs[k]
        prev = jnp.maximum(k - 1, 0)
        span = ts[k] - ts[prev]
        w = jnp.where(span > 0, (t - ts[prev]) / jnp.where(span > 0, span, 1), 1)
        w = jnp.clip(w, 0, 1)
        return xs[prev] + w * (xs[k] - xs[prev])

    def evaluate(self, t0, t1=None, left: bool = True):
        if t1 is None:
            return self._at(t0)
        return self._at(t1) - self._at(t0)


def vector_field(cell: RecurrentCell) -> Any:
    """The cell's ODE as ``f(t, y, args)`` for ``diffrax.ODETerm``, ``args = (params, path)``.

    ``path`` is any object with ``evaluate(t)`` returning the raw input at time ``t``
    (an :class:`ObservationPath`, or a ``diffrax`` interpolation). Works for any cell with
    ``vector_field(params, state, x)`` (LTC, CT-RNN, ODE-RNN). Parameters travel in
    ``args``, so every Diffrax adjoint (including ``BacksolveAdjoint``) differentiates them.

    Example:
        >>> import diffrax, jax, jax.numpy as jnp
        >>> from ltcjax import LTCCell
        >>> cell = LTCCell(input_size=1, units=3)
        >>> params = cell.init(jax.random.key(0))
        >>> path = ObservationPath(jnp.array([1.0, 2.0]), jnp.array([[0.5], [-0.5]]))
        >>> sol = diffrax.diffeqsolve(
        ...     diffrax.ODETerm(vector_field(cell)), diffrax.Tsit5(), 0.0, 2.0, None,
        ...     jnp.zeros(3), (params, path),
        ...     stepsize_controller=diffrax.PIDController(rtol=1e-5, atol=1e-7),
        ... )
        >>> sol.ys.shape
        (1, 3)
    """
    _check_cell(cell)

    def f(t, y, args):
        params, path = args
        return cell.vector_field(params, y, path.evaluate(t))

    return f


class ContinuousSolution(NamedTuple):
    """What :func:`odeint_sequence` returns (a pytree; batch axis first when batched).

    Attributes:
        states: (B, T, N) state at each observation time (at a masked observation: the state
            at the previous valid one, as in :func:`ltcjax.sequence.unroll`).
        outputs: (B, T, O) the cell's outputs read from ``states``.
        final_state: (B, N) the state at the last valid observation.
        query_states: (B, Q, N) the state at each query time (dense output), or None.
        query_outputs: (B, Q, O) the outputs at each query time, or None.
        steps_per_interval: (B, T) accepted solver steps inside ``(times[k-1], times[k]]``
            (the "computational depth" per input sample); -1 where the adjoint cannot record
            steps (``BacksolveAdjoint``).
        num_steps: (B,) all solver steps (accepted and rejected) of each sequence's solve.
        num_accepted_steps: (B,) accepted steps.
        num_rejected_steps: (B,) rejected steps.
        status: (B,) int32: 0 success; :data:`INVALID_TIMES` (-1) bad times found inside
            ``jit``; otherwise a ``diffrax.RESULTS`` code (1: ``max_steps`` reached, ...).
            The states of a failed sequence are NaN. See :func:`check_status`.
    """

    states: Array
    outputs: Array
    final_state: Array
    query_states: Array | None
    query_outputs: Array | None
    steps_per_interval: Array
    num_steps: Array
    num_accepted_steps: Array
    num_rejected_steps: Array
    status: Array

    @property
    def ok(self) -> Array:
        """Booleans: which sequences were solved successfully."""
        return self.status == 0


def status_message(code: int | Int[ArrayLike, ""]) -> str:
    """A readable message for a :attr:`ContinuousSolution.status` code.

    Example:
        >>> status_message(1)
        'The maximum number of solver steps was reached. Try increasing `max_steps`.'
    """
    code = int(code)
    if code == 0:
        return "success"
    if code == INVALID_TIMES:
        return (
            "invalid times: observation times must be finite and non-decreasing over the "
            "valid (unmasked) observations, and not before t0; query times finite and >= t0"
        )
    if 0 < code < len(_RESULT_NAMES):
        return dfx.RESULTS[getattr(dfx.RESULTS, _RESULT_NAMES[code])]
    return f"the solver failed (status {code})"


#: Diffrax's outcomes by their public names; a status code is the index here (the same
#: numbers as Diffrax's own ``RESULTS`` order: 0 success, 1 ``max_steps`` reached, ...).
_RESULT_NAMES = tuple(
    name
    for name in (
        "successful",
        "max_steps_reached",
        "singular",
        "breakdown",
        "stagnation",
        "conlim",
        "nonfinite_input",
        "nonlinear_max_steps_reached",
        "nonlinear_divergence",
        "nonfinite",
        "dt_min_reached",
        "event_occurred",
        "max_steps_rejected",
        "internal_error",
    )
    if hasattr(dfx.RESULTS, name)
)


def _status_code(result: Any) -> Array:
    """The int32 status of a Diffrax ``RESULTS`` item (only public comparisons)."""
    matches = [result == getattr(dfx.RESULTS, name) for name in _RESULT_NAMES]
    return jnp.select(matches, list(range(len(_RESULT_NAMES))), len(_RESULT_NAMES))


def check_status(solution: ContinuousSolution) -> ContinuousSolution:
    """Raise a RuntimeError naming the failed sequences and why; else return ``solution``.

    Call it outside ``jit`` on the solution of :func:`odeint_sequence` (which, with a
    solver of ``throw=False``, reports failures as a status and NaN states instead of
    raising).

    Example:
        >>> import diffrax, jax, jax.numpy as jnp
        >>> from ltcjax import DiffraxSolver, LTCCell
        >>> cell = LTCCell(input_size=1, units=2)
        >>> p = cell.init(jax.random.key(0))
        >>> solver = DiffraxSolver(solver=diffrax.Tsit5(), max_steps=2, throw=False)
        >>> times = jnp.array([[0.0, 1, 2]] * 2)
        >>> sol = odeint_sequence(cell, p, jnp.ones((2, 3, 1)), times, solver=solver)
        >>> check_status(sol)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        RuntimeError: odeint_sequence: 2 of 2 sequences failed: sequence 0: The maximum ...
    """
    status = np.atleast_1d(np.asarray(solution.status))
    bad = np.flatnonzero(status != 0)
    if bad.size:
        details = "; ".join(f"sequence {i}: {status_message(status[i])}" for i in bad[:5])
        more = f" (and {bad.size - 5} more)" if bad.size > 5 else ""
        raise RuntimeError(
            f"odeint_sequence: {bad.size} of {status.size} sequences failed: {details}{more}"
        )
    return solution


def validate_times(
    times: ArrayLike | Sequence[Any],
    valid: ArrayLike | Sequence[Any] | None = None,
    t0: ArrayLike | Sequence[Any] | None = None,
    query_times: ArrayLike | Sequence[Any] | None = None,
) -> None:
    """Raise a ValueError naming the argument if concrete times are unusable.

    ``times`` (B, T) or (T,) must be finite and non-decreasing over the valid (unmasked)
    entries and not before ``t0``; ``query_times`` must be finite and, if ``t0`` is given,
    >= ``t0``. :func:`odeint_sequence` calls this on concrete inputs;
    inside ``jit`` the same checks set the status :data:`INVALID_TIMES` instead.

    Example:
        >>> validate_times([[0.0, 1.0, 0.5]])  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: times: expected non-decreasing observation times, got sequence 0 ...
    """
    ts = np.atleast_2d(np.asarray(times, np.float64))
    ok = np.ones(ts.shape, bool) if valid is None else np.atleast_2d(np.asarray(valid, bool))
    for b in range(ts.shape[0]):
        row = ts[b][ok[b]]
        if not np.all(np.isfinite(row)):
            raise argument_error(
                "times",
                "finite observation times",
                f"NaN or inf in sequence {b} at a valid (unmasked) position",
            )
        drops = np.flatnonzero(np.diff(row) < 0)
        if drops.size:
            i = drops[0]
            raise argument_error(
                "times",
                "non-decreasing observation times",
                f"sequence {b} going from {row[i]} to {row[i + 1]} (valid observation {i} to "
                f"{i + 1})",
            )
    starts = None
    if t0 is not None:
        t0 = np.broadcast_to(np.asarray(t0, np.float64), ts.shape[:1])
        if not np.all(np.isfinite(t0)):
            raise argument_error("t0", "finite start times", "NaN or inf")
        for b in range(ts.shape[0]):
            row = ts[b][ok[b]]
            if row.size and row[0] < t0[b]:
                raise argument_error(
                    "t0",
                    "start times <= each sequence's first valid observation time",
                    f"t0={t0[b]} for sequence {b}, whose first observation is at {row[0]}",
                )
        starts = t0
    if query_times is not None:
        qs = np.asarray(query_times, np.float64)
        if not np.all(np.isfinite(qs)):
            raise argument_error("query_times", "finite times", "NaN or inf")
        qs = np.broadcast_to(np.atleast_2d(qs), (ts.shape[0], qs.shape[-1]))
        for b in range(ts.shape[0]):
            if starts is not None and qs.shape[1] and qs[b].min() < starts[b]:
                raise argument_error(
                    "query_times",
                    "times >= each sequence's start time",
                    f"{qs[b].min()} for sequence {b}, which starts at {starts[b]}",
                )


def odeint_sequence(
    cell: RecurrentCell,
    params: PyTree,
    inputs: Float[ArrayLike, "*batch time features"],
    times: Float[ArrayLike, "*#batch time"],
    *,
    t0: Float[ArrayLike, "*#batch"] | float | None = None,
    solver: DiffraxSolver | str | Any = None,
    interpolation: Literal["constant", "previous", "linear"] = "constant",
    mask: Bool[ArrayLike, "*#batch time"] | None = None,
    lengths: Int[ArrayLike, "*#batch"] | None = None,
    initial_state: Float[ArrayLike, "*#batch units"] | None = None,
    query_times: Float[ArrayLike, "*#batch query"] | Sequence[float] | None = None,
    **deprecated: Any,
) -> ContinuousSolution:
    """Solve a continuous-time cell over irregularly sampled sequences with Diffrax.

    One adaptive ``diffrax.diffeqsolve`` per sequence over ``[t0, last time]``, vmapped over
    the batch, with the observation times as known discontinuities of the input (the
    controller steps exactly to them: ``ClipStepSizeController(jump_ts=...)``) and saving
    at the observation and query times.

    Args:
        cell: a continuous-time cell with ``vector_field(params, state, x)`` (LTC, CT-RNN,
            ODE-RNN). A mixed-memory LTC is not supported (its discrete LSTM update per
            observation has no continuous-time form): use :func:`ltcjax.sequence.unroll`
            with a Diffrax ``solver`` on the cell instead.
        params: the cell's parameters.
        inputs: (B, T, F) or (T, F) observations.
        times: (B, T) or (T,) absolute observation times, per sequence (they may differ
            between sequences; a (T,) grid with batched inputs is shared). Finite and
            non-decreasing over the valid observations.
        t0: (B,) or scalar start time, where ``initial_state`` holds. Default: each
            sequence's first valid observation time, or its earliest query time if that is
            earlier (with the first observation at ``t0``, the first input acts for zero
            time, so ``outputs[:, 0]`` reads the initial state).
        solver: a :class:`~ltcjax.solvers.DiffraxSolver` (tolerances, ``max_steps`` for
            each whole sequence, adjoint, ``dt0``, ``throw``), or a shorthand
            (``"tsit5"``, a ``diffrax.AbstractSolver`` instance) that normalises to one with
            the default fields. It must be adaptive (have an error estimate). Default: the
            cell's own solver if that is a Diffrax solver, else
            ``DiffraxSolver(solver=diffrax.Tsit5(), throw=False)``. As in
            ``diffrax.diffeqsolve``, the solver's ``throw`` decides what a failed solve
            does: raise (also inside ``jit``), or, with ``throw=False``, return a status per
            sequence and NaN states. ``adjoint="backsolve"`` is approximate and leaves
            ``steps_per_interval`` at -1.
        interpolation: the input between observations: "constant" (``x_k`` over
            ``(times[k-1], times[k]]``, as the discrete unroll), "previous" (causal hold:
            ``x_k`` over ``[times[k], times[k+1])``, so the state between observations
            depends only on past observations) or "linear".
        mask: (B, T) booleans, False at padded / missing observations (they are ignored:
            no input, no interval; their state and output repeat the previous valid ones).
        lengths: (B,) number of valid observations; exclusive with ``mask``.
        initial_state: (B, N) or (N,) state at ``t0`` (default zeros).
        query_times: (Q,) shared or (B, Q) per-sequence times at which to report the state
            (dense output), in any order, >= ``t0`` if given; query times after the last observation
            hold the last input (continuous-time forecasting).
        **deprecated: ``rtol``, ``atol``, ``max_steps``, ``adjoint``, ``dt0``, ``throw``:
            deprecated overrides of the solver's fields (a DeprecationWarning; put them in
            the ``DiffraxSolver`` instead). They go in 0.3.

    Returns:
        A :class:`ContinuousSolution`. Concrete bad times raise a ValueError naming the
        argument; inside ``jit`` they set ``status`` to :data:`INVALID_TIMES`.

    Example:
        >>> import diffrax, jax, jax.numpy as jnp
        >>> from ltcjax import DiffraxSolver, LTCCell
        >>> cell = LTCCell(input_size=2, units=4)
        >>> params = cell.init(jax.random.key(0))
        >>> times = jnp.array([[0.0, 0.3, 1.1, 2.0], [0.0, 0.9, 1.0, 3.5]])
        >>> solver = DiffraxSolver(solver=diffrax.Tsit5(), rtol=1e-5, atol=1e-7)
        >>> sol = odeint_sequence(cell, params, jnp.ones((2, 4, 2)), times, solver=solver,
        ...                       query_times=jnp.linspace(0.0, 2.0, 9))
        >>> sol.outputs.shape, sol.query_states.shape, sol.status.tolist()
        ((2, 4, 4), (2, 9, 4), [0, 0])
        >>> bool((sol.steps_per_interval[:, 1:] >= 1).all())
        True
    """
    _check_cell(cell)
    check_choice("interpolation", interpolation, INTERPOLATIONS)
    config = _solver_config(cell, solver, deprecated)
    dtype = float_dtype(params)

    inputs, batched = check_sequence_inputs(cell, inputs, dtype)
    inputs = inputs.astype(dtype)
    batch, steps = inputs.shape[:2]

    times_arr = jnp.asarray(times)
    if times_arr.shape == (steps,):
        times_arr = jnp.broadcast_to(times_arr, (batch, steps))
    if times_arr.shape != (batch, steps):
        expected = f"({batch}, {steps}) or ({steps},)" if batched else f"({steps},)"
        raise argument_error(
            "times",
            f"shape {expected} matching inputs' batch and time axes",
            tuple(jnp.shape(times)),
        )
    valid = build_valid_mask(mask, lengths, batch, steps, batched)
    if valid is None:
        valid = jnp.ones((batch, steps), bool)

    t0_arr = None
    if t0 is not None:
        t0_arr = jnp.asarray(t0)
        if t0_arr.ndim > 1 or (t0_arr.ndim == 1 and t0_arr.shape != (batch,)):
            raise argument_error("t0", f"a scalar or shape ({batch},)", t0_arr.shape)
        t0_arr = jnp.broadcast_to(t0_arr, (batch,))

    q_arr = None
    if query_times is not None:
        q_arr = jnp.asarray(query_times)
        if q_arr.ndim == 1:
            q_arr = jnp.broadcast_to(q_arr, (batch, q_arr.shape[0]))
        elif not (batched and q_arr.ndim == 2 and q_arr.shape[0] == batch):
            raise argument_error("query_times", f"shape (Q,) or ({batch}, Q)", q_arr.shape)

    if is_concrete((times_arr, valid, t0_arr, q_arr)):
        validate_times(times_arr, valid, t0_arr, q_arr)

    if initial_state is None:
        y0 = jnp.zeros((batch, cell.state_size), dtype)
    else:
        y0 = jnp.asarray(initial_state, dtype)
        if not batched and y0.ndim == 1:
            y0 = y0[None]
        if y0.shape != (batch, cell.state_size):
            want = (batch, cell.state_size) if batched else (cell.state_size,)
            raise argument_error("initial_state", f"shape {want}", tuple(y0.shape))

    out = _solve_batch(
        cell,
        config,
        interpolation,
        params,
        inputs,
        times_arr.astype(dtype),
        valid,
        None if t0_arr is None else t0_arr.astype(dtype),
        y0,
        None if q_arr is None else q_arr.astype(dtype),
    )
    if not batched:
        out = jax.tree.map(lambda a: a[0], out)
    return out


@functools.partial(jax.jit, static_argnums=(0, 1, 2))
def _solve_batch(cell, config, interpolation, params, xs, ts, valid, t0, y0, qs):
    """All sequences, vmapped; jitted (and cached) per cell, solver configuration and shape."""

    def one(x, t, m, s, y, q):
        return _solve_one(cell, params, config, interpolation, x, t, m, s, y, q)

    axes = (0, 0, 0, None if t0 is None else 0, 0, None if qs is None else 0)
    return jax.vmap(one, in_axes=axes)(xs, ts, valid, t0, y0, qs)


class _Window(NamedTuple):
    """One sequence's observation window, relative to its start time ``t0``."""

    times: Array  # (T,) forward-filled over masked observations, >= 0
    inputs: Array  # (T, F) forward-filled likewise
    query: Array | None  # (Q,) query times, or None
    end: Array  # the end of the solve: the last observation or query time
    ok: Array  # whether the (possibly traced) times were valid


def _relative_window(xs, ts, valid, t0, qs, dtype) -> _Window:
    """Forward-fill masked observations and make the times relative to ``t0`` (so large
    absolute times lose no float32 precision); invalid times are replaced by safe ones and
    reported through ``ok`` (concrete ones were already rejected with clear errors)."""
    steps = ts.shape[0]
    idx = jnp.arange(steps)
    first = jnp.argmax(valid)
    if t0 is None:  # the first valid observation, or an earlier query time
        t0 = jnp.where(jnp.any(valid), ts[first], jnp.inf)
        if qs is not None:
            t0 = jnp.minimum(t0, jnp.min(jnp.where(jnp.isfinite(qs), qs, jnp.inf), initial=jnp.inf))
        t0 = jnp.where(jnp.isfinite(t0), t0, 0).astype(dtype)
    finite = jnp.all(jnp.where(valid, jnp.isfinite(ts), True)) & jnp.isfinite(t0)
    last_valid = jax.lax.cummax(jnp.where(valid, idx, -1))
    filled = jnp.where(last_valid >= 0, ts[jnp.maximum(last_valid, 0)], t0)
    filled = jnp.where(finite, filled, t0)
    ok = finite & jnp.all(jnp.diff(filled) >= 0) & jnp.all(filled >= t0)
    if qs is not None:
        ok = ok & jnp.all(jnp.isfinite(qs)) & jnp.all(qs >= t0)
    rel = jnp.maximum(jnp.where(ok, filled - t0, idx.astype(dtype)), 0)
    query = None if qs is None else jnp.where(ok, jnp.clip(qs - t0, 0, None), 0)
    end = rel[-1] if query is None else jnp.maximum(rel[-1], jnp.max(query, initial=0))
    inputs = xs[jnp.where(last_valid >= 0, last_valid, first)]
    return _Window(rel, inputs, query, end, ok)


def _records_steps(config: DiffraxSolver) -> bool:
    """Whether the adjoint lets Diffrax record every step (not ``BacksolveAdjoint``)."""
    backsolve = config.adjoint == "backsolve" or isinstance(config.adjoint, dfx.BacksolveAdjoint)
    return not backsolve


def _steps_per_interval(step_ends: Array, times: Array) -> Array:
    """Accepted steps ending inside each ``(times[k-1], times[k]]``."""
    steps = times.shape[0]
    interval = jnp.searchsorted(times, step_ends, side="left")
    interval = jnp.where(jnp.isfinite(step_ends), interval, steps)
    counts = jax.ops.segment_sum(jnp.ones_like(interval), interval, num_segments=steps)
    return counts.astype(jnp.int32)


def _solve_one(cell, params, config, interpolation, xs, ts, valid, t0, y0, qs):
    """One sequence: one ``diffeqsolve`` over its window, saving at the observation and
    query times (sorted together) and, if the adjoint allows, at every step."""
    dtype, steps = y0.dtype, ts.shape[0]
    window = _relative_window(xs, ts, valid, t0, qs, dtype)
    path = ObservationPath(window.times, window.inputs, interpolation)
    save_ts = (
        window.times if window.query is None else jnp.concatenate([window.times, window.query])
    )
    order = jnp.argsort(save_ts)
    at_times = dfx.SubSaveAt(ts=save_ts[order])
    record_steps = _records_steps(config)
    step_ends = dfx.SubSaveAt(steps=True, fn=lambda t, y, args: jnp.zeros((), y.dtype))
    saveat = dfx.SaveAt(subs=[at_times, step_ends] if record_steps else at_times)
    jump_ts = jnp.where((window.times > 0) & (window.times < window.end), window.times, jnp.inf)
    sol = dfx.diffeqsolve(
        dfx.ODETerm(vector_field(cell)),
        config.solver,
        jnp.zeros((), dtype),
        window.end,
        None if config.dt0 is None else jnp.asarray(config.dt0, dtype),
        y0,
        (params, path),
        saveat=saveat,
        stepsize_controller=config.diffrax_controller(jump_ts),
        adjoint=config.diffrax_adjoint(),
        max_steps=config.max_steps,
        throw=config.throw,
    )
    status = jnp.where(window.ok, _status_code(sol.result), INVALID_TIMES).astype(jnp.int32)
    saved = (sol.ys[0] if record_steps else sol.ys)[jnp.argsort(order)]
    saved = jnp.where(status == 0, saved, jnp.nan)
    states = saved[:steps]
    if record_steps:
        per_interval = _steps_per_interval(sol.ts[1], window.times)
    else:
        per_interval = jnp.full((steps,), -1, jnp.int32)
    readout = jax.vmap(lambda v, t: cell.readout(params, v, path.evaluate(t)))
    q_states = None if window.query is None else saved[steps:]
    stats = {k: jnp.asarray(sol.stats[k], jnp.int32) for k in _STEP_STATS}
    return ContinuousSolution(
        states=states,
        outputs=readout(states, window.times),
        final_state=states[-1],  # forward-filled: the last valid observation's state
        query_states=q_states,
        query_outputs=None if q_states is None else readout(q_states, window.query),
        steps_per_interval=per_interval,
        status=status,
        **stats,
    )


_STEP_STATS = ("num_steps", "num_accepted_steps", "num_rejected_steps")


def _check_cell(cell: RecurrentCell) -> None:
    if not isinstance(cell, ContinuousTimeCell):
        raise argument_error(
            "cell",
            "a continuous-time cell (an ltcjax.ContinuousTimeCell: LTC, CT-RNN, ODE-RNN)",
            type(cell).__name__,
        )
    if not cell.state_follows_ode:
        raise argument_error(
            "cell",
            "a cell whose state follows its ODE alone (a mixed-memory LTC has a discrete "
            "LSTM update at each observation, which has no continuous-time form; use "
            "unroll / cell.apply with a Diffrax solver on the cell instead, e.g. "
            "LTCCell(..., mixed_memory=True, solver=diffrax.Tsit5()))",
            type(cell).__name__ + "(mixed_memory=True)",
        )


#: The default solver of :func:`odeint_sequence`: a status per sequence on failure.
def _default_solver() -> DiffraxSolver:
    return DiffraxSolver(solver=dfx.Tsit5(), throw=False)


_DEPRECATED_OVERRIDES = ("rtol", "atol", "max_steps", "adjoint", "dt0", "throw")


def _solver_config(
    cell: ContinuousTimeCell, solver: Any, deprecated: dict[str, Any]
) -> DiffraxSolver:
    unknown = sorted(set(deprecated) - set(_DEPRECATED_OVERRIDES))
    if unknown:
        raise TypeError(f"odeint_sequence() got unexpected keyword arguments {unknown}")
    if solver is None:
        config = as_diffrax_solver(cell.solver) or _default_solver()
    else:
        config = as_diffrax_solver(solver)
        if config is None:
            raise argument_error(
                "solver",
                "a Diffrax solver (an ltcjax.solvers.DiffraxSolver, a diffrax.AbstractSolver "
                "instance or a name such as 'tsit5'); for 'fused', 'euler' or 'rk4' use "
                "unroll (cell.apply)",
                repr(solver),
            )
    overrides = {k: v for k, v in deprecated.items() if v is not None}
    if overrides:
        for name in overrides:
            warn_renamed(
                f"odeint_sequence(..., {name}=...)",
                f"odeint_sequence(..., solver=DiffraxSolver(..., {name}=...))",
                stacklevel=4,
            )
        config = dataclasses.replace(config, **overrides)
    if not config.is_adaptive:
        raise argument_error(
            "solver",
            "an adaptive Diffrax solver (with an error estimate, e.g. Tsit5, Dopri5, "
            "Kvaerno5) for odeint_sequence; for fixed steps use unroll (cell.apply) with "
            "solver='euler' or 'rk4'",
            config.name,
        )
    return config
