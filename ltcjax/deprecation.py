"""Deprecated names and module paths, kept for one release (see CHANGELOG.md)."""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable
from typing import Any

__all__ = ["moved_module", "warn_renamed"]


def warn_renamed(old: str, new: str, *, stacklevel: int = 3) -> None:
    """Emit the DeprecationWarning for a renamed name ``old`` (now ``new``).

    Example:
        >>> import warnings
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     warn_renamed("a.old", "a.new")
        >>> str(caught[0].message)
        'a.old is deprecated: use a.new (the old name goes in 0.3)'
    """
    warnings.warn(
        f"{old} is deprecated: use {new} (the old name goes in 0.3)",
        DeprecationWarning,
        stacklevel=stacklevel,
    )


def moved_module(old: str, new: str) -> Callable[[str], Any]:
    """A module ``__getattr__`` for the old path ``old`` of a module moved to ``new``:
    every name is looked up in ``new``, with a DeprecationWarning."""

    def __getattr__(name: str) -> Any:  # noqa: N807 - a module's __getattr__
        value = getattr(importlib.import_module(new), name)
        warn_renamed(f"{old}.{name}", f"{new}.{name}")
        return value

    return __getattr__
