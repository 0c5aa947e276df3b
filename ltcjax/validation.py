"""Argument checks and dtype helpers shared by every layer (a leaf: imports no ltcjax module).

Every check raises a ``ValueError`` in one style, ``"name: expected ..., got ..."``, naming
the argument as the user wrote it (see :func:`argument_error`).

Example:
    >>> check_positive_int("units", 8)
    8
    >>> check_positive_int("units", 0)
    Traceback (most recent call last):
    ...
    ValueError: units: expected a positive integer, got 0
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import ArrayLike, Float

from ltcjax.custom_types import Dim, PyTree

__all__ = [
    "argument_error",
    "check_finite",
    "check_params",
    "check_values",
    "check_choice",
    "check_dt",
    "check_int",
    "check_last_axis",
    "check_positive_int",
    "check_positive_number",
    "check_state",
    "float_dtype",
    "is_concrete",
    "runtime_checks",
    "runtime_checks_enabled",
    "set_runtime_checks",
    "state_dtype",
    "validate_timespans",
]


def argument_error(name: str, expected: str, got: Any) -> ValueError:
    """The ValueError of every check: ``"name: expected <expected>, got <got>"``.

    Example:
        >>> argument_error("lengths", "integers", "dtype float32")
        ValueError('lengths: expected integers, got dtype float32')
    """
    return ValueError(f"{name}: expected {expected}, got {got}")


def is_concrete(x: Any) -> bool:
    """Whether ``x`` is a concrete value (not a tracer inside ``jit``/``vmap``/``grad``)."""
    return not any(isinstance(leaf, jax.core.Tracer) for leaf in jax.tree.leaves(x))


def float_dtype(params: PyTree) -> Any:
    """The floating dtype the state is kept in: the widest float dtype among ``params``.

    Example:
        >>> import jax.numpy as jnp
        >>> float_dtype({"a": jnp.ones(2, jnp.bfloat16), "b": jnp.ones(2)})
        dtype('float32')
    """
    leaves = [leaf for leaf in jax.tree.leaves(params) if jnp.issubdtype(leaf.dtype, jnp.floating)]
    if not leaves:
        return jnp.dtype(jnp.float32)
    return jnp.result_type(*leaves)


def state_dtype(params: PyTree) -> Any:
    """The dtype the recurrent state (and elapsed times) are kept in: the params' widest float
    dtype, but at least float32, so that half-precision parameters and inputs never round the
    state that is carried from step to step (see docs/reliability.md).

    Example:
        >>> import jax.numpy as jnp
        >>> state_dtype({"w": jnp.ones(2, jnp.bfloat16)}), state_dtype({"w": jnp.ones(2)})
        (dtype('float32'), dtype('float32'))
    """
    return jnp.promote_types(float_dtype(params), jnp.float32)


# ---------------------------------------------------------------------------------------
# Checks of values: eager when the values are concrete, at run time under jit/vmap/grad.

_RUNTIME_CHECKS = os.environ.get("LTCJAX_RUNTIME_CHECKS", "1").strip().lower() not in (
    "0",
    "false",
    "off",
    "no",
)


def runtime_checks_enabled() -> bool:
    """Whether value checks are compiled into traced (jitted) code; see :func:`runtime_checks`."""
    return _RUNTIME_CHECKS


def set_runtime_checks(enabled: bool) -> None:
    """Turn the run-time value checks on or off for code traced from now on (a function
    already jitted keeps what it was traced with). Also: ``LTCJAX_RUNTIME_CHECKS=0`` in the
    environment before importing ltcjax."""
    global _RUNTIME_CHECKS
    _RUNTIME_CHECKS = bool(enabled)


@contextlib.contextmanager
def runtime_checks(enabled: bool) -> Iterator[None]:
    """Context manager: run-time value checks on or off while tracing inside it.

    Values that are concrete (outside ``jit``) are always checked; this switch decides
    whether the same checks are compiled into jitted, vmapped or differentiated code (as a
    host callback that raises; off saves a few percent per step, see docs/reliability.md).

    Example:
        >>> import jax, jax.numpy as jnp
        >>> import ltcjax
        >>> cell = ltcjax.LTCCell(input_size=1, units=2)
        >>> params = cell.init(jax.random.key(0))
        >>> with ltcjax.runtime_checks(False):
        ...     f = jax.jit(lambda ts: cell.apply(params, jnp.ones((1, 3, 1)), timespans=ts)[0])
        ...     ys = f(jnp.array([[1.0, jnp.nan, 1.0]]))  # not checked: the state freezes
    """
    global _RUNTIME_CHECKS
    previous = _RUNTIME_CHECKS
    _RUNTIME_CHECKS = bool(enabled)
    try:
        yield
    finally:
        _RUNTIME_CHECKS = previous


def check_values(
    summarise: Callable[..., Any],
    message: Callable[..., str | None],
    *values: Any,
) -> None:
    """Raise ``ValueError(message(...))`` if ``message`` of the summaries of ``values`` is
    not None, eagerly for concrete values and at run time inside ``jit``/``vmap``/``grad``.

    ``summarise(xp, *values)`` maps the arrays to a few small arrays with the array module
    ``xp``: NumPy for concrete values (no compilation), ``jax.numpy`` for traced ones (on the
    device, so only the summaries travel to the host); ``message`` receives them as NumPy
    arrays (with extra leading axes under ``vmap``: reduce with ``np.any``/``np.min``) and returns
    the error message or None. Under ``jit`` the error surfaces as a ``JaxRuntimeError``
    whose text contains the message, when the result is computed.

    Example:
        >>> import jax, jax.numpy as jnp, numpy as np
        >>> def nonneg(x):
        ...     check_values(lambda xp, x: xp.min(x),
        ...                  lambda m: None if np.min(m) >= 0 else f"x: got {m}", x)
        ...     return x
        >>> nonneg(jnp.array([1.0, -2.0]))
        Traceback (most recent call last):
        ...
        ValueError: x: got -2.0
    """
    if is_concrete(values):  # also constants inside a jit trace
        summaries = _as_tuple(summarise(np, *(np.asarray(v) for v in values)))
        msg = message(*(np.asarray(s) for s in summaries))
        if msg is not None:
            raise ValueError(msg)
        return
    if not _RUNTIME_CHECKS:
        return

    def on_host(*summaries: Any) -> None:
        msg = message(*(np.asarray(s) for s in summaries))
        if msg is not None:
            raise ValueError(msg)

    jax.debug.callback(on_host, *_as_tuple(summarise(jnp, *(jnp.asarray(v) for v in values))))


def _as_tuple(x: Any) -> tuple[Any, ...]:
    return x if isinstance(x, tuple) else (x,)


def check_finite(name: str, value: PyTree, expected: str = "finite values") -> None:
    """Raise (eagerly, or at run time under ``jit``) if a float leaf of ``value`` holds NaN
    or inf.

    Example:
        >>> import jax.numpy as jnp
        >>> check_finite("initial_state", jnp.array([0.0, jnp.nan]))
        Traceback (most recent call last):
        ...
        ValueError: initial_state: expected finite values, got NaN or inf
    """
    leaves = [
        leaf
        for leaf in jax.tree.leaves(value)
        if jnp.issubdtype(jnp.result_type(leaf), jnp.inexact)
    ]
    if not leaves:
        return
    check_values(
        lambda xp, *xs: xp.all(xp.stack([xp.all(xp.isfinite(x)) for x in xs])),
        lambda ok: None if np.all(ok) else str(argument_error(name, expected, "NaN or inf")),
        *leaves,
    )


def check_params(cell: Any, params: PyTree) -> None:
    """Raise unless ``params`` have the structure and shapes ``cell.init`` gives (any float
    dtype): e.g. the parameters of another cell, or of another wiring, name ``params``.

    Example:
        >>> import jax
        >>> from ltcjax import LTCCell
        >>> p = LTCCell(input_size=3, units=10).init(jax.random.key(0))
        >>> check_params(LTCCell(input_size=3, units=6), p)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: params: expected the parameters of this cell (from its init), ... got ...
    """
    try:
        expected = _expected_params(cell)
    except TypeError:  # an unhashable cell: no cache
        expected = _param_shapes(cell)
    got_leaves, got_tree = jax.tree_util.tree_flatten_with_path(params)
    want_leaves, want_tree = expected
    what = f"the parameters of this cell (from its init), {type(cell).__name__}"
    if got_tree != want_tree:
        raise argument_error("params", f"{what} with structure {want_tree}", f"{got_tree}")
    for (path, got), want in zip(got_leaves, want_leaves, strict=True):
        shape = tuple(jnp.shape(got))
        if shape != want:
            where = jax.tree_util.keystr(path)
            raise argument_error("params", f"{what}: {where} of shape {want}", f"shape {shape}")


@functools.lru_cache(maxsize=256)
def _expected_params(cell: Any) -> tuple[list[tuple[int, ...]], Any]:
    return _param_shapes(cell)


def _param_shapes(cell: Any) -> tuple[list[tuple[int, ...]], Any]:
    shapes = jax.eval_shape(cell.init, jax.random.key(0))
    leaves, tree = jax.tree.flatten(shapes)
    return [tuple(leaf.shape) for leaf in leaves], tree


def check_int(name: str, value: Any, minimum: int = 1, *, allow_none: bool = False) -> Any:
    """Raise unless ``value`` is an integer >= ``minimum`` (or None if ``allow_none``).

    Example:
        >>> check_int("backbone_layers", 0, minimum=0)
        0
        >>> check_int("backbone_layers", -1, minimum=0)
        Traceback (most recent call last):
        ...
        ValueError: backbone_layers: expected an integer >= 0, got -1
    """
    if allow_none and value is None:
        return value
    ok = not isinstance(value, bool) and isinstance(value, int | np.integer) and value >= minimum
    if not ok:
        what = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        if allow_none:
            what += " or None"
        raise argument_error(name, what, repr(value))
    return value


def check_positive_int(name: str, value: Any, *, allow_none: bool = False) -> Any:
    """Raise unless ``value`` is a positive integer (or None if ``allow_none``)."""
    return check_int(name, value, 1, allow_none=allow_none)


def check_positive_number(name: str, value: Any, *, allow_none: bool = False) -> Any:
    """Raise unless ``value`` is a finite real number > 0 (or None if ``allow_none``).

    Example:
        >>> check_positive_number("rtol", 1e-3)
        0.001
        >>> check_positive_number("rtol", -1)
        Traceback (most recent call last):
        ...
        ValueError: rtol: expected a positive number, got -1
    """
    if allow_none and value is None:
        return value
    ok = (
        not isinstance(value, bool)
        and isinstance(value, int | float | np.integer | np.floating)
        and math.isfinite(value)
        and value > 0
    )
    if not ok:
        raise argument_error(
            name, "a positive number" + (" or None" if allow_none else ""), repr(value)
        )
    return value


def check_choice(name: str, value: Any, choices: tuple[Any, ...]) -> Any:
    """Raise unless ``value`` is one of ``choices``.

    Example:
        >>> check_choice("mode", "pure", ("default", "pure"))
        'pure'
    """
    if value not in choices:
        raise argument_error(name, f"one of {choices}", repr(value))
    return value


def check_last_axis(name: str, value: Any, size: int, what: str) -> None:
    """Raise unless ``value``'s last axis has ``size`` entries (leading batch axes are left
    to broadcasting); ``what`` says what the axis holds.

    Example:
        >>> import jax.numpy as jnp
        >>> check_last_axis("x", jnp.ones((5, 2)), 2, "input_size features")
        >>> check_last_axis("x", jnp.ones(4), 2, "input_size features")
        Traceback (most recent call last):
        ...
        ValueError: x: expected shape (..., 2) (input_size features), got (4,)
    """
    if jnp.ndim(value) == 0 or jnp.shape(value)[-1] != size:
        raise argument_error(name, f"shape (..., {size}) ({what})", tuple(jnp.shape(value)))


def check_state(
    cell: Any,
    state: PyTree,
    batch_shape: tuple[Dim, ...],
    dtype: Any,
    context: str = "",
    name: str = "state",
) -> None:
    """Raise unless ``state`` has the structure and shapes of
    ``cell.initial_state(batch_shape, dtype)``; ``context`` says where the batch came from.

    Example:
        >>> import jax.numpy as jnp
        >>> from ltcjax import LTCCell
        >>> cell = LTCCell(units=4, input_size=2)
        >>> check_state(cell, jnp.zeros((3, 4)), (3,), jnp.float32)
        >>> check_state(cell, jnp.zeros((3, 5)), (3,), jnp.float32)
        Traceback (most recent call last):
        ...
        ValueError: state: expected shape (3, 4) (state_size 4), got (3, 5)
    """
    expected = jax.eval_shape(lambda: cell.initial_state(batch_shape, dtype))
    where = f"{context}, " if context else ""
    if jax.tree.structure(state) != jax.tree.structure(expected):
        shapes = jax.tree.map(lambda a: a.shape, expected)
        raise argument_error(
            name,
            f"a pytree of shapes {shapes} ({where}state_size {cell.state_size})",
            f"structure {jax.tree.structure(state)}",
        )
    for want, got in zip(jax.tree.leaves(expected), jax.tree.leaves(state), strict=True):
        if tuple(jnp.shape(got)) != want.shape:
            raise argument_error(
                name,
                f"shape {want.shape} ({where}state_size {cell.state_size})",
                tuple(jnp.shape(got)),
            )


def validate_timespans(timespans: ArrayLike | Sequence[Any], name: str = "timespans") -> None:
    """Raise a ValueError naming ``name`` if elapsed times contain NaN, inf or negative values.

    Concrete values are checked at once; traced ones (inside ``jit``/``vmap``/``grad``) at run
    time, unless :func:`runtime_checks` is off. :func:`ltcjax.unroll` calls this for you.

    Example:
        >>> validate_timespans([0.5, 1.0])
        >>> validate_timespans([0.5, -1.0])  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: timespans: expected finite values >= 0 ... got a negative value -1.0
    """
    expected = "finite values >= 0 (elapsed times)"

    def summarise(xp: Any, t: Any) -> tuple[Any, Any]:
        if t.size == 0:
            return xp.asarray(True), xp.zeros((), t.dtype)
        return xp.all(xp.isfinite(t)), xp.min(t)

    def message(finite: np.ndarray, smallest: np.ndarray) -> str | None:
        if not np.all(finite):
            return str(argument_error(name, expected, "NaN or inf"))
        if np.min(smallest) < 0:
            return str(argument_error(name, expected, f"a negative value {np.min(smallest)}"))
        return None

    check_values(summarise, message, timespans)


def check_dt(dt: Float[ArrayLike, "*batch"] | float) -> None:
    """Raise a ValueError naming ``dt`` if ``dt`` has NaN, inf or negative values (at run
    time inside ``jit``; see :func:`runtime_checks`).

    Example:
        >>> check_dt(0.5)
        >>> check_dt(-1.0)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: dt: expected finite values >= 0 ... got a negative value -1.0
    """
    validate_timespans(dt, name="dt")
