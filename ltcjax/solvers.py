"""Generic ODE integration over one observation interval, for any continuous-time cell.

``integrate(f, y, dt, method, unfolds)`` advances ``dy/dt = f(y)`` (input held constant
over the interval) by ``dt`` with ``unfolds`` fixed steps of ``dt / unfolds``.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp

FIXED_STEP_METHODS = ("euler", "rk4")


def euler_step(f: Callable[[jax.Array], jax.Array], y: jax.Array, h: jax.Array) -> jax.Array:
    """One explicit Euler step ``y + h f(y)``."""
    return y + h * f(y)


def rk4_step(f: Callable[[jax.Array], jax.Array], y: jax.Array, h: jax.Array) -> jax.Array:
    """One classical fourth-order Runge-Kutta step."""
    k1 = f(y)
    k2 = f(y + 0.5 * h * k1)
    k3 = f(y + 0.5 * h * k2)
    k4 = f(y + h * k3)
    return y + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)


def integrate(
    f: Callable[[jax.Array], jax.Array],
    y: jax.Array,
    dt: jax.Array,
    method: str,
    unfolds: int,
) -> jax.Array:
    """Advance ``y`` by ``dt`` with ``unfolds`` fixed steps of ``method`` ("euler"/"rk4").

    ``dt`` must broadcast against ``y`` (e.g. shape ``(..., 1)``).

    Example:
        >>> import jax.numpy as jnp
        >>> y = integrate(lambda y: -y, jnp.ones(1), jnp.asarray(1.0), "rk4", 10)
        >>> round(float(y[0]), 5)  # exp(-1)
        0.36788
    """
    step = {"euler": euler_step, "rk4": rk4_step}[method]
    h = jnp.asarray(dt) / unfolds
    for _ in range(unfolds):
        y = step(f, y, h)
    return y


def validate_solver(solver: object, allowed: tuple[str, ...]) -> object:
    """Check a cell's ``solver`` argument: one of the names in ``allowed``.

    The one place that decides which solvers a continuous-time cell accepts; cells call it
    from ``__post_init__``.

    Example:
        >>> validate_solver("rk4", ("euler", "rk4"))
        'rk4'
    """
    if isinstance(solver, str) and solver in allowed:
        return solver
    raise ValueError(f"solver: expected one of {allowed}, got {solver!r}")
