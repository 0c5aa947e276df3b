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

import math
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import ArrayLike, Float

from ltcjax.custom_types import Dim, PyTree

__all__ = [
    "argument_error",
    "check_choice",
    "check_dt",
    "check_int",
    "check_last_axis",
    "check_positive_int",
    "check_positive_number",
    "check_state",
    "float_dtype",
    "is_concrete",
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
    """Raise a ValueError naming ``name`` if concrete elapsed times contain NaN, inf or
    negative values.

    :func:`ltcjax.unroll` calls this automatically when ``timespans`` is a concrete array
    (outside ``jit``); inside a jitted function call it yourself on the host data.

    Example:
        >>> validate_timespans([0.5, 1.0])
        >>> validate_timespans([0.5, -1.0])  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: timespans: expected finite values >= 0 ... got a negative value -1.0
    """
    arr = np.asarray(timespans, dtype=np.float64)
    expected = "finite values >= 0 (elapsed times)"
    if not np.all(np.isfinite(arr)):
        raise argument_error(name, expected, "NaN or inf")
    if arr.size and arr.min() < 0:
        raise argument_error(name, expected, f"a negative value {arr.min()}")


def check_dt(dt: Float[ArrayLike, "*batch"] | float) -> None:
    """Raise a ValueError naming ``dt`` if a concrete ``dt`` has NaN, inf or negative values
    (a traced ``dt``, inside ``jit``, is not checked).

    Example:
        >>> check_dt(0.5)
        >>> check_dt(-1.0)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: dt: expected finite values >= 0 ... got a negative value -1.0
    """
    if is_concrete(dt):
        validate_timespans(dt, name="dt")
