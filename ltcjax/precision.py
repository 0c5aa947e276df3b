"""Precision policies: which dtype parameters are stored in, arithmetic runs in, and the
recurrent state is carried in (the vocabulary of Flax's ``param_dtype``/``dtype`` and jmp).

Without a policy, ltcjax computes in the parameters' dtype and carries the state (and the
elapsed times) in that dtype but at least float32, so bfloat16 or float16 parameters and
inputs never round the state from step to step. A :class:`Precision` with ``compute_dtype``
also runs each step's arithmetic (synapses, sums, unfolds) in that dtype, and casts the new
state back to ``state_dtype`` after every step. See docs/reliability.md for what is
accumulated in which dtype and the measured error against float64.

Example:
    >>> import jax, jax.numpy as jnp
    >>> import ltcjax
    >>> cell = ltcjax.LTCCell(input_size=3, wiring=ltcjax.AutoNCP(10, 2))
    >>> policy = ltcjax.Precision.named("bfloat16")
    >>> params = policy.init(cell, jax.random.key(0))
    >>> ys, state = cell.apply(params, jnp.ones((4, 6, 3)), precision=policy)
    >>> params.w.dtype, ys.dtype, state.dtype
    (dtype(bfloat16), dtype(bfloat16), dtype('float32'))
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp

from ltcjax.custom_types import PyTree
from ltcjax.validation import argument_error, state_dtype

__all__ = ["PRECISIONS", "Precision", "as_precision", "cast_floating"]


def _float_dtype_or_none(name: str, value: Any) -> Any:
    if value is None:
        return None
    try:
        dtype = jnp.dtype(value)
    except TypeError:
        dtype = None
    if dtype is None or not jnp.issubdtype(dtype, jnp.floating):
        raise argument_error(name, "a floating dtype (e.g. 'bfloat16', jnp.float32) or None", value)
    return dtype


@dataclasses.dataclass(frozen=True)
class Precision:
    """A precision policy.

    Args:
        param_dtype: the dtype :meth:`init` stores parameters in.
        compute_dtype: the dtype of each step's arithmetic: parameters, inputs, elapsed times
            and the state are cast to it at the start of a step. None: no cast (arithmetic
            follows JAX's promotion of the parameters' and the state's dtypes).
        state_dtype: the dtype the state is carried in between steps (and the dtype of the
            elapsed times outside a step). None: the parameters' widest float dtype, at least
            float32.

    Example:
        >>> policy = Precision.named("mixed_bfloat16")
        >>> policy.param_dtype, policy.compute_dtype, policy.state_dtype
        (dtype('float32'), dtype(bfloat16), dtype('float32'))
    """

    param_dtype: Any = jnp.float32
    compute_dtype: Any = None
    state_dtype: Any = None

    def __post_init__(self) -> None:
        param = _float_dtype_or_none("param_dtype", self.param_dtype)
        if param is None:
            raise argument_error("param_dtype", "a floating dtype", None)
        object.__setattr__(self, "param_dtype", param)
        object.__setattr__(
            self, "compute_dtype", _float_dtype_or_none("compute_dtype", self.compute_dtype)
        )
        object.__setattr__(
            self, "state_dtype", _float_dtype_or_none("state_dtype", self.state_dtype)
        )

    @classmethod
    def named(cls, name: str) -> Precision:
        """One of :data:`PRECISIONS`: "float32", "float64", "bfloat16", "mixed_bfloat16",
        "float16", "mixed_float16"."""
        if name not in PRECISIONS:
            raise argument_error("precision", f"one of {tuple(PRECISIONS)}", repr(name))
        return PRECISIONS[name]

    def init(self, cell: Any, key: jax.Array) -> PyTree:
        """``cell.init(key, dtype=param_dtype)``."""
        return cell.init(key, dtype=self.param_dtype)

    def state_dtype_for(self, params: PyTree) -> Any:
        """The dtype the state is carried in with these ``params``."""
        return self.state_dtype if self.state_dtype is not None else state_dtype(params)


#: Named policies. "bfloat16": parameters and arithmetic in bfloat16, state in float32 (TPU);
#: "mixed_bfloat16": float32 parameters, bfloat16 arithmetic, float32 state (jmp's
#: "params=float32,compute=bfloat16"); the float16 pair likewise (GPU).
PRECISIONS: dict[str, Precision] = {
    "float32": Precision(),
    "float64": Precision(param_dtype=jnp.float64),
    "bfloat16": Precision(
        param_dtype=jnp.bfloat16, compute_dtype=jnp.bfloat16, state_dtype=jnp.float32
    ),
    "mixed_bfloat16": Precision(compute_dtype=jnp.bfloat16, state_dtype=jnp.float32),
    "float16": Precision(
        param_dtype=jnp.float16, compute_dtype=jnp.float16, state_dtype=jnp.float32
    ),
    "mixed_float16": Precision(compute_dtype=jnp.float16, state_dtype=jnp.float32),
}


def as_precision(precision: Precision | str | None) -> Precision | None:
    """A :class:`Precision` from a policy, a name in :data:`PRECISIONS`, or None (None).

    Example:
        >>> as_precision("float32") == Precision()
        True
    """
    if precision is None or isinstance(precision, Precision):
        return precision
    if isinstance(precision, str):
        return Precision.named(precision)
    raise argument_error(
        "precision", f"a Precision, one of {tuple(PRECISIONS)}, or None", repr(precision)
    )


def widen_floating(tree: PyTree, dtype: Any) -> PyTree:
    """Cast the floating leaves of ``tree`` that are narrower than ``dtype`` up to it (e.g.
    bfloat16 parameters meeting a float32 state compute in float32, eagerly and under
    ``jit`` alike; under ``jit`` XLA may otherwise keep some half-precision products in
    excess precision and others not).

    Example:
        >>> import jax.numpy as jnp
        >>> tree = {"half": jnp.ones(2, jnp.bfloat16), "single": jnp.ones(2, jnp.float32)}
        >>> {k: str(v.dtype) for k, v in widen_floating(tree, jnp.float32).items()}
        {'half': 'float32', 'single': 'float32'}
        >>> str(widen_floating(tree, jnp.float16)["single"].dtype)  # never narrows
        'float32'
    """
    bits = jnp.finfo(dtype).bits

    def widen(leaf: Any) -> Any:
        leaf = jnp.asarray(leaf)
        narrow = jnp.issubdtype(leaf.dtype, jnp.floating) and jnp.finfo(leaf.dtype).bits < bits
        return leaf.astype(dtype) if narrow else leaf

    return jax.tree.map(widen, tree)


def cast_floating(tree: PyTree, dtype: Any) -> PyTree:
    """Cast every floating leaf of ``tree`` to ``dtype`` (others unchanged; None: no cast).

    Example:
        >>> import jax.numpy as jnp
        >>> cast_floating({"w": jnp.ones(2), "n": jnp.arange(2)}, jnp.bfloat16)["w"].dtype
        dtype(bfloat16)
    """
    if dtype is None:
        return tree

    def cast(leaf: Any) -> Any:
        leaf = jnp.asarray(leaf)
        return leaf.astype(dtype) if jnp.issubdtype(leaf.dtype, jnp.floating) else leaf

    return jax.tree.map(cast, tree)
