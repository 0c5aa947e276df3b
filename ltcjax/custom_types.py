"""Type aliases shared by the package (a leaf module)."""

from __future__ import annotations

from typing import Any, TypeAlias

#: Any JAX pytree (parameters, states, optimiser states).
PyTree: TypeAlias = Any
#: An array dimension: an int, or a symbolic dimension while tracing for ``jax.export``.
Dim: TypeAlias = Any

__all__ = ["Dim", "PyTree"]
