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


@pytest.fixture
def without_runtime_typechecks():
    """Turn off the test-time jaxtyping/beartype checks of ltcjax's annotations for a test
    that feeds deliberately ill-typed arguments (a bad string, a wrong-rank array) to check
    the error users get: users do not run that import hook, so the error they see is
    ltcjax's own "name: expected ..., got ..." ValueError."""
    import jaxtyping

    before = jaxtyping.config.jaxtyping_disable
    jaxtyping.config.update("jaxtyping_disable", True)
    try:
        yield
    finally:
        jaxtyping.config.update("jaxtyping_disable", before)
