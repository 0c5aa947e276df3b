"""Trajectory length: arc length of a latent trajectory and of its 2-D PCA projection.

The paper (section 4) projects each layer's ``T x k`` latent trajectory onto its first two
principal components and reports the arc length (sum of chord lengths) of the projected curve.
All functions here are pure, jit-able and accept any number of leading batch dimensions.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from ltcjax.validation import argument_error

__all__ = ["PCAResult", "TrajectoryLength", "arc_length", "pca", "trajectory_length"]


class PCAResult(NamedTuple):
    """Principal-component analysis of a ``T x k`` trajectory.

    Attributes:
        projection: ``(..., T, n)`` centred data projected on the first ``n`` components.
        components: ``(..., n, k)`` unit principal directions (rows), by decreasing variance.
        explained_variance: ``(..., n)`` variance along each component (divided by ``T - 1``).
        explained_variance_ratio: ``(..., n)`` fraction of the total variance per component
            (0 where the trajectory has zero variance).
        mean: ``(..., k)`` the subtracted mean.
    """

    projection: Float[Array, "*batch T n"]
    components: Float[Array, "*batch n k"]
    explained_variance: Float[Array, "*batch n"]
    explained_variance_ratio: Float[Array, "*batch n"]
    mean: Float[Array, "*batch k"]


class TrajectoryLength(NamedTuple):
    """Result of :func:`trajectory_length`.

    Attributes:
        pca_length: ``(...)`` arc length of the projection on the first ``n_components`` PCs.
        full_length: ``(...)`` arc length of the full ``k``-dimensional trajectory.
        explained_variance_ratio: ``(..., n_components)`` variance fraction of each kept PC.
        projection: ``(..., T, n_components)`` the projected trajectory (for plotting).
    """

    pca_length: Float[Array, "*batch"]
    full_length: Float[Array, "*batch"]
    explained_variance_ratio: Float[Array, "*batch n"]
    projection: Float[Array, "*batch T n"]


def _check_curve(name: str, x, min_points: int = 2) -> Array:
    x = jnp.asarray(x)
    if x.ndim < 2:
        raise argument_error(name, "shape (..., T, k) with ndim >= 2", x.shape)
    if x.shape[-2] < min_points:
        raise argument_error(name, f"at least {min_points} time points (axis -2)", x.shape[-2])
    if not jnp.issubdtype(x.dtype, jnp.floating):
        x = x.astype(jnp.zeros(()).dtype)
    return x


def arc_length(curve: Float[Array, "*batch T d"]) -> Float[Array, "*batch"]:
    """Arc length of a sampled curve: the sum of Euclidean chord lengths.

    Args:
        curve: ``(..., T, d)`` points in order along the curve.

    Returns:
        ``(...)`` lengths.

    Example:
        >>> t = jnp.linspace(0.0, 2 * jnp.pi, 1001)
        >>> circle = jnp.stack([jnp.cos(t), jnp.sin(t)], axis=-1)
        >>> round(float(arc_length(circle)), 3)
        6.283
    """
    curve = _check_curve("curve", curve)
    chords = jnp.diff(curve, axis=-2)
    # sqrt(sum of squares) with a safe gradient at zero-length chords.
    sq = jnp.sum(chords * chords, axis=-1)
    safe = jnp.where(sq > 0, sq, 1.0)
    return jnp.sum(jnp.where(sq > 0, jnp.sqrt(safe), 0.0), axis=-1)


def _pca_single(x: Array, n_components: int) -> PCAResult:
    t = x.shape[0]
    mean = jnp.mean(x, axis=0)
    centred = x - mean
    # Thin SVD: centred = U S V^T; principal directions are the rows of V^T.
    _, s, vt = jnp.linalg.svd(centred, full_matrices=False)
    var = s**2 / max(t - 1, 1)
    total = jnp.sum(var)
    ratio_all = jnp.where(total > 0, var / jnp.where(total > 0, total, 1.0), 0.0)
    n_avail = vt.shape[0]
    comps = vt[:n_components]
    ev = var[:n_components]
    ratio = ratio_all[:n_components]
    if n_avail < n_components:  # fewer samples than components: pad with zeros
        pad = n_components - n_avail
        comps = jnp.concatenate([comps, jnp.zeros((pad, vt.shape[1]), vt.dtype)])
        ev = jnp.concatenate([ev, jnp.zeros((pad,), ev.dtype)])
        ratio = jnp.concatenate([ratio, jnp.zeros((pad,), ratio.dtype)])
    return PCAResult(centred @ comps.T, comps, ev, ratio, mean)


def _batched(fn, x: Array, core_ndim: int):
    batch_shape = x.shape[:-core_ndim]
    flat = x.reshape((-1,) + x.shape[-core_ndim:])
    out = jax.vmap(fn)(flat)
    return jax.tree_util.tree_map(lambda a: a.reshape(batch_shape + a.shape[1:]), out)


def pca(latents: Float[Array, "*batch T k"], n_components: int = 2) -> PCAResult:
    """Principal-component analysis of one or many ``T x k`` trajectories.

    Args:
        latents: ``(..., T, k)`` trajectories (time along axis -2).
        n_components: number of leading components kept (1 <= n_components <= k); static.

    Returns:
        A :class:`PCAResult`.

    Example:
        >>> x = jnp.stack([jnp.arange(5.0), jnp.zeros(5), jnp.zeros(5)], axis=-1)
        >>> [round(float(r), 3) for r in pca(x).explained_variance_ratio]
        [1.0, 0.0]
    """
    latents = _check_curve("latents", latents, min_points=1)
    n_components = int(n_components)
    if not 1 <= n_components <= latents.shape[-1]:
        raise argument_error(
            "n_components", f"an integer in [1, k={latents.shape[-1]}]", n_components
        )
    return _batched(lambda x: _pca_single(x, n_components), latents, 2)


def trajectory_length(
    latents: Float[ArrayLike, "*batch T k"], n_components: int = 2
) -> TrajectoryLength:
    """Trajectory length of latent trajectories, as in the paper's Figure 2.

    Projects each ``T x k`` trajectory on its first ``n_components`` principal components
    (PCA of that trajectory alone) and returns the arc length of the projection, the arc
    length of the full-dimensional trajectory, and the explained-variance ratios.

    Args:
        latents: ``(..., T, k)`` trajectories (time along axis -2).
        n_components: number of principal components (default 2, as in the paper); static.

    Returns:
        A :class:`TrajectoryLength` (``pca_length <= full_length`` always).

    Example:
        >>> t = jnp.linspace(0.0, 2 * jnp.pi, 2001)
        >>> circle = jnp.stack([3 * jnp.cos(t), 3 * jnp.sin(t), jnp.zeros_like(t)], axis=-1)
        >>> res = trajectory_length(circle)
        >>> round(float(res.pca_length), 2), round(float(res.full_length), 2)
        (18.85, 18.85)
    """
    latents = _check_curve("latents", latents)
    res = pca(latents, n_components)
    return TrajectoryLength(
        pca_length=arc_length(res.projection),
        full_length=arc_length(latents),
        explained_variance_ratio=res.explained_variance_ratio,
        projection=res.projection,
    )
