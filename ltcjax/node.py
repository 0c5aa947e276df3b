"""Deprecated module path: moved to :mod:`ltcjax.models.node` (the alias goes in 0.3)."""

from ltcjax.deprecation import moved_module

__getattr__ = moved_module("ltcjax.node", "ltcjax.models.node")
