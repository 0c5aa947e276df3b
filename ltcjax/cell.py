"""The recurrent-cell interface shared by every model in ltcjax.

A cell is an immutable, hashable configuration object (a frozen dataclass) with pure
functions over parameter pytrees. It never holds arrays that change during training, so a
cell can be closed over by ``jax.jit`` or passed as a static argument.

Every cell implements, for a single (unbatched) example:

* ``init(key) -> params``: a pytree of parameters;
* ``initial_state(batch_shape=(), dtype=float32) -> state``: a pytree of zeros;
* ``step(params, state, x, dt) -> (state, y)``: advance by one observation, where ``x`` has
  shape ``(input_size,)`` and ``dt`` is the elapsed time (a scalar);

and inherits ``apply`` (sequences, batches, elapsed times and masks, see
:func:`ltcjax.sequence.unroll`) and ``step_batch`` from :class:`RecurrentCell`.
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

PyTree = Any


class RecurrentCell:
    """Base class of all pure recurrent cells.

    Subclasses are frozen dataclasses that define ``input_size`` (a field) and the
    ``state_size`` and ``output_size`` properties, and implement ``init``,
    ``initial_state`` and ``step``.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from ltcjax import LTCCell
        >>> cell = LTCCell(units=8, input_size=3)
        >>> params = cell.init(jax.random.key(0))
        >>> ys, state = cell.apply(params, jnp.ones((2, 5, 3)))
        >>> ys.shape, state.shape
        ((2, 5, 8), (2, 8))
    """

    input_size: int
    #: Whether ``step`` uses the elapsed time ``dt``. Discrete-time cells ignore it.
    uses_time: bool = True

    @property
    def remat_by_default(self) -> bool:
        """Whether :func:`ltcjax.sequence.unroll` rematerialises each step by default.

        True unless the cell's step has a derivative whose residuals are already small
        (the LTC's fused solver), where recomputing the forward pass only costs time.
        """
        return True

    @property
    def state_size(self) -> int:
        raise NotImplementedError

    @property
    def output_size(self) -> int:
        raise NotImplementedError

    def init(self, key: jax.Array) -> PyTree:
        raise NotImplementedError

    def initial_state(self, batch_shape: tuple[int, ...] = (), dtype: Any = jnp.float32) -> PyTree:
        """Zero state: an array of shape ``batch_shape + (state_size,)``."""
        return jnp.zeros((*batch_shape, self.state_size), dtype)

    def step(
        self, params: PyTree, state: PyTree, x: jax.Array, dt: jax.Array
    ) -> tuple[PyTree, jax.Array]:
        raise NotImplementedError

    def batched_step(
        self, params: PyTree, state: PyTree, x: jax.Array, dt: jax.Array
    ) -> tuple[PyTree, jax.Array]:
        """``step`` for a batch: ``x`` (B, F), ``dt`` (B,), state with a leading batch axis.

        The default vmaps ``step``; a cell whose equations broadcast over a batch can
        override it (the LTC does, so that its custom derivative sees the whole batch).
        """
        return jax.vmap(self.step, in_axes=(None, 0, 0, 0))(params, state, x, dt)

    def step_batch(
        self,
        params: PyTree,
        state: PyTree,
        x: Float[ArrayLike, "batch features"],
        dt: Float[ArrayLike, "*batch"] | float = 1.0,
    ) -> tuple[PyTree, Float[Array, "batch outputs"]]:
        """One step for a batch: ``x`` of shape (B, F), ``dt`` scalar or (B,).

        This is the streaming / online entry point (control loops): call it once per new
        observation, carrying the state. ``state`` must be shaped like
        ``cell.initial_state((B,))``; a concrete ``dt`` (outside ``jit``) must be finite and
        >= 0 (see :func:`ltcjax.sequence.validate_timespans`), otherwise a ValueError names
        the argument.

        Example:
            >>> import jax, jax.numpy as jnp
            >>> from ltcjax import LTCCell
            >>> cell = LTCCell(units=4, input_size=2)
            >>> params = cell.init(jax.random.key(0))
            >>> state = cell.initial_state((3,))
            >>> state, y = cell.step_batch(params, state, jnp.zeros((3, 2)), 0.1)
            >>> y.shape
            (3, 4)
        """
        x = jnp.asarray(x)
        if x.ndim != 2 or x.shape[-1] != self.input_size:
            raise ValueError(f"x: expected shape (batch, {self.input_size}), got {tuple(x.shape)}")
        dtype = _float_dtype(params)
        check_state(self, state, x.shape[:1], dtype, f"batch {x.shape[0]} from x")
        if jnp.ndim(dt) > 1 or (jnp.ndim(dt) == 1 and jnp.shape(dt) != x.shape[:1]):
            raise ValueError(
                f"dt: expected a scalar or shape ({x.shape[0]},), got {tuple(jnp.shape(dt))}"
            )
        check_dt(dt)
        dt = jnp.broadcast_to(jnp.asarray(dt, dtype=dtype), x.shape[:1])
        return self.batched_step(params, state, x, dt)

    def apply(self, params: PyTree, inputs: jax.Array, **kwargs: Any) -> tuple[jax.Array, PyTree]:
        """Run the cell over a sequence; see :func:`ltcjax.sequence.unroll` for arguments."""
        from ltcjax.sequence import unroll

        return unroll(self, params, inputs, **kwargs)

    def num_params(self, params: PyTree) -> int:
        """Number of scalar parameters (trainable leaves of ``params``)."""
        return int(sum(math.prod(leaf.shape) for leaf in jax.tree.leaves(params)))


def _float_dtype(params: PyTree) -> Any:
    """The floating dtype the state is kept in: the widest float dtype among ``params``."""
    leaves = [leaf for leaf in jax.tree.leaves(params) if jnp.issubdtype(leaf.dtype, jnp.floating)]
    if not leaves:
        return jnp.float32
    return jnp.result_type(*leaves)


def check_state(
    cell: RecurrentCell,
    state: PyTree,
    batch_shape: tuple[int, ...],
    dtype: Any,
    context: str = "",
    name: str = "state",
) -> None:
    """Raise a ValueError naming ``name`` unless ``state`` has the structure and shapes of
    ``cell.initial_state(batch_shape, dtype)``; ``context`` says where the batch came from.

    Example:
        >>> import jax.numpy as jnp
        >>> from ltcjax import LTCCell
        >>> cell = LTCCell(units=4, input_size=2)
        >>> check_state(cell, jnp.zeros((3, 4)), (3,), jnp.float32)
        >>> check_state(cell, jnp.zeros((3, 5)), (3,), jnp.float32)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: state: expected shape (3, 4) (state_size 4), got (3, 5)
    """
    expected = jax.eval_shape(lambda: cell.initial_state(batch_shape, dtype))
    where = f"{context}, " if context else ""
    if jax.tree.structure(state) != jax.tree.structure(expected):
        shapes = jax.tree.map(lambda a: a.shape, expected)
        raise ValueError(
            f"{name}: expected a pytree of shapes {shapes} ({where}state_size "
            f"{cell.state_size}), got structure {jax.tree.structure(state)}"
        )
    for want, got in zip(jax.tree.leaves(expected), jax.tree.leaves(state), strict=True):
        if tuple(jnp.shape(got)) != want.shape:
            raise ValueError(
                f"{name}: expected shape {want.shape} ({where}state_size {cell.state_size}), "
                f"got {tuple(jnp.shape(got))}"
            )


def check_last_axis(name: str, value: Any, size: int, what: str) -> None:
    """Raise a ValueError naming ``name`` unless ``value``'s last axis has ``size`` entries
    (leading batch axes are left to broadcasting); ``what`` says what the axis holds.

    Example:
        >>> import jax.numpy as jnp
        >>> check_last_axis("x", jnp.ones((5, 2)), 2, "input_size features")
        >>> check_last_axis("x", jnp.ones(4), 2, "input_size features")
        Traceback (most recent call last):
        ...
        ValueError: x: expected shape (..., 2) (input_size features), got (4,)
    """
    if jnp.ndim(value) == 0 or jnp.shape(value)[-1] != size:
        raise ValueError(
            f"{name}: expected shape (..., {size}) ({what}), got {tuple(jnp.shape(value))}"
        )


def check_dt(dt: Float[ArrayLike, "*batch"] | float) -> None:
    """Raise a ValueError naming ``dt`` if a concrete ``dt`` has NaN, inf or negative values.

    A traced ``dt`` (inside ``jit``) is not checked. Uses
    :func:`ltcjax.sequence.validate_timespans`.

    Example:
        >>> check_dt(0.5)
        >>> check_dt(-1.0)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: dt: expected finite values >= 0 ... got a negative value -1.0
    """
    from ltcjax.sequence import _is_concrete, validate_timespans

    if _is_concrete(dt):
        try:
            validate_timespans(dt)
        except ValueError as err:
            raise ValueError(str(err).replace("timespans:", "dt:", 1)) from None


def check_choice(name: str, value: str, choices: tuple[str, ...]) -> str:
    """Raise a ValueError naming ``name`` unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name}: expected one of {choices}, got {value!r}")
    return value


def check_positive_int(name: str, value: int) -> int:
    """Raise a ValueError naming ``name`` unless ``value`` is a positive integer."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name}: expected a positive integer, got {value!r}")
    return value
