"""Choosing between the XLA path and the Pallas kernel, and the array plumbing around it.

``backend="auto"`` resolves to ``"xla"`` on every JAX backend: the kernel has not been
measured faster anywhere yet (no GPU or TPU figure exists for it). ``"pallas"`` runs the
kernel: compiled with Triton on GPU, Mosaic on TPU, and in Pallas *interpret mode* on CPU
(much slower than XLA; for testing only). See docs/kernels.md.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float

from ltcjax.kernels.ltc_pallas import fused_sequence
from ltcjax.validation import check_choice

__all__ = ["BACKENDS", "hold_last_valid", "hoisted_terms", "kernel_solve", "resolve_backend"]

#: The values of ``LTCCell(backend=...)``.
BACKENDS = ("auto", "xla", "pallas")
#: JAX backends where ``"auto"`` picks the kernel (none until it is measured faster there).
KERNEL_MEASURED_FASTER_ON: tuple[str, ...] = ()


def resolve_backend(backend: str, platform: str | None = None) -> str:
    """``"xla"`` or ``"pallas"`` for a cell's ``backend`` on JAX backend ``platform``
    (default: ``jax.default_backend()``). ``"auto"`` is ``"xla"`` everywhere for now.

    Example:
        >>> resolve_backend("auto"), resolve_backend("pallas")
        ('xla', 'pallas')
    """
    check_choice("backend", backend, BACKENDS)
    if backend != "auto":
        return backend
    platform = jax.default_backend() if platform is None else platform
    return "pallas" if platform in KERNEL_MEASURED_FASTER_ON else "xla"


def hoisted_terms(  # (shapes broadcast; "..." so that symbolic export shapes pass too)
    cm: Float[Array, ...],
    gleak: Float[Array, ...],
    vleak: Float[Array, ...],
    s_num: Float[Array, ...],
    s_den: Float[Array, ...],
    dt: Float[Array, ...],
    unfolds: int,
    epsilon: float,
) -> tuple[Array, Array, Array, Array]:
    """The state-independent terms of the fused step, exactly as the XLA path forms them:
    ``(cm_t, drive, conductance, moving)`` with ``cm_t = cm / (dt / unfolds)`` (dt = 1
    where it is 0), ``drive = gleak vleak + s_num``, ``conductance = gleak + s_den + eps``
    and ``moving = dt > 0``.

    Example:
        >>> import jax.numpy as jnp
        >>> one = jnp.ones(1)
        >>> [float(a[0]) for a in hoisted_terms(one, one, one, one, one, 0.5 * one, 6, 0.0)]
        [12.0, 2.0, 2.0, 1.0]
    """
    moving = dt > 0
    cm_t = cm / (jnp.where(moving, dt, 1.0) / unfolds)
    return cm_t, gleak * vleak + s_num, gleak + s_den + epsilon, moving


def kernel_solve(
    rec: Any,
    v: Float[Array, "*batch units"],
    cm: Float[Array, " units"],
    gleak: Float[Array, " units"],
    vleak: Float[Array, " units"],
    s_num: Float[Array, "*#batch units"],
    s_den: Float[Array, "*#batch units"],
    dt: Float[Array, "*#batch 1"],
    unfolds: int,
    epsilon: float,
) -> Float[Array, "*batch units"]:
    """One fused-solver step for any leading batch axes, by the kernel (a sequence of one
    step): the kernel counterpart of :func:`ltcjax.models.ltc.fused_solve`."""
    cm_t, drive, conductance, moving = hoisted_terms(
        cm, gleak, vleak, s_num, s_den, dt, unfolds, epsilon
    )
    shape = jnp.broadcast_shapes(v.shape, cm_t.shape, drive.shape, conductance.shape)
    flat = lambda a: jnp.broadcast_to(a, shape).reshape(1, -1, shape[-1])  # noqa: E731
    keep = jnp.broadcast_to(moving, (*shape[:-1], 1)).reshape(1, -1)
    vs = fused_sequence(
        rec, flat(v)[0], flat(cm_t), flat(drive), flat(conductance), keep.astype(v.dtype), unfolds
    )
    return vs[0].reshape(shape)


def hold_last_valid(
    ys: Float[Array, "time batch outputs"], valid: Bool[Array, "batch time"] | None
) -> Float[Array, "time batch outputs"]:
    """Outputs as :func:`ltcjax.unroll` reports them under a mask: at a padded step the last
    valid step's output, and 0 before the first valid step.

    Example:
        >>> import jax.numpy as jnp
        >>> ys = jnp.arange(1.0, 5.0).reshape(4, 1, 1)
        >>> valid = jnp.array([[False, True, False, True]])
        >>> hold_last_valid(ys, valid)[:, 0, 0].tolist()
        [0.0, 2.0, 2.0, 4.0]
    """
    if valid is None:
        return ys
    steps = ys.shape[0]
    index = jnp.where(valid.T, jnp.arange(steps)[:, None], -1)
    last = jax.lax.cummax(index, axis=0)  # [T, B]
    held = jnp.take_along_axis(ys, jnp.maximum(last, 0)[..., None], axis=0)
    return jnp.where(last[..., None] >= 0, held, 0.0)
