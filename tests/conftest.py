"""Shared test fixtures."""

from __future__ import annotations

import contextlib
import os

import matplotlib
import pytest

matplotlib.use("Agg")
os.environ.setdefault("MPLBACKEND", "Agg")


@contextlib.contextmanager
def _x64():
    import jax

    if hasattr(jax, "enable_x64"):
        with jax.enable_x64(True):
            yield
    else:  # older JAX
        from jax.experimental import enable_x64

        with enable_x64():
            yield


@pytest.fixture
def x64():
    """Run the test body with float64 enabled (scoped; other tests stay float32)."""
    with _x64():
        yield


# tests/data/ holds reference-generation scripts that need torch and ncps (the ``bench``
# extra); they are run by hand, never collected.
collect_ignore_glob = ["data/*"]
