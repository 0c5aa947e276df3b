"""Losses: weighted softmax cross-entropy (with class weights) and mean squared error.

Every loss takes ``weights`` broadcastable to the leading (batch, or batch x time) axes of
the targets: 0 marks padded rows or padded steps. The reduction is a weighted mean, so a
batch padded with zero-weight rows has exactly the loss of the unpadded batch.

The argument types below (jaxtyping) are shared with :mod:`ltcjax.train.metrics`; ``*lead``
stands for the leading (batch, or batch x time) axes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax.numpy as jnp
import optax
from jaxtyping import Array, ArrayLike, Float, Int

from ltcjax.validation import argument_error

__all__ = [
    "Labels",
    "Logits",
    "Predictions",
    "Weights",
    "broadcast_weights",
    "mean_squared_error",
    "softmax_cross_entropy",
]

#: Unnormalised class scores.
Logits = Float[ArrayLike, "*lead classes"]
#: Integer class labels.
Labels = Int[ArrayLike, "*#lead"]
#: Regression outputs or targets.
Predictions = Float[ArrayLike, "*lead features"]
#: Per-row (or per-step) weights, a prefix of the leading axes; None: all 1.
Weights = Float[ArrayLike, "*lead_or_prefix"] | None


def broadcast_weights(weights: Weights, shape: tuple[int, ...], dtype: Any) -> Array:
    """``weights`` (a prefix of ``shape``: per row, or per row and step) broadcast to ``shape``.

    Example:
        >>> broadcast_weights(jnp.array([1.0, 0.0]), (2, 3), jnp.float32).tolist()
        [[1.0, 1.0, 1.0], [0.0, 0.0, 0.0]]
    """
    if weights is None:
        return jnp.ones(shape, dtype)
    w = jnp.asarray(weights, dtype)
    return jnp.broadcast_to(w.reshape(w.shape + (1,) * (len(shape) - w.ndim)), shape)


def softmax_cross_entropy(
    logits: Logits,
    labels: Labels,
    *,
    weights: Weights = None,
    class_weights: Float[ArrayLike, " classes"] | Sequence[float] | None = None,
) -> Float[Array, ""]:
    """Weighted mean cross-entropy of integer ``labels`` under ``logits``.

    ``loss = sum(w * cw[y] * ce) / sum(w)``: ``weights`` (per row or per step) mask
    padding, ``class_weights`` scale each class's term (e.g. the paper's 1.6 / 0.1 for
    ozone).

    Example:
        >>> import jax.numpy as jnp
        >>> logits = jnp.array([[2.0, 0.0], [0.0, 2.0]])
        >>> round(float(softmax_cross_entropy(logits, jnp.array([0, 1]))), 4)
        0.1269
        >>> w = jnp.array([1.0, 0.0])  # the second row is padding
        >>> round(float(softmax_cross_entropy(logits, jnp.array([0, 0]), weights=w)), 4)
        0.1269
    """
    logits = jnp.asarray(logits)
    labels = jnp.asarray(labels)
    if labels.shape != logits.shape[:-1]:
        raise argument_error(
            "labels", f"shape {logits.shape[:-1]} (the logits' leading axes)", labels.shape
        )
    ce = optax.softmax_cross_entropy_with_integer_labels(logits, labels)
    w = broadcast_weights(weights, ce.shape, ce.dtype)
    scaled = w
    if class_weights is not None:
        cw = jnp.asarray(class_weights, ce.dtype)
        if cw.shape != logits.shape[-1:]:
            raise argument_error(
                "class_weights", f"shape {logits.shape[-1:]} (one per class)", cw.shape
            )
        scaled = w * cw[labels]
    return jnp.sum(scaled * ce) / jnp.maximum(jnp.sum(w), 1e-12)


def mean_squared_error(
    predictions: Predictions, targets: Predictions, *, weights: Weights = None
) -> Float[Array, ""]:
    """Weighted mean over rows / steps of the mean squared error over the last axis.

    Example:
        >>> import jax.numpy as jnp
        >>> float(mean_squared_error(jnp.zeros((2, 1)), jnp.array([[1.0], [3.0]])))
        5.0
        >>> float(mean_squared_error(jnp.zeros((2, 1)), jnp.array([[1.0], [3.0]]),
        ...                          weights=jnp.array([1.0, 0.0])))
        1.0
    """
    predictions = jnp.asarray(predictions)
    targets = jnp.asarray(targets, predictions.dtype)
    if predictions.shape != targets.shape:
        raise argument_error(
            "targets", f"shape {predictions.shape} (the predictions')", targets.shape
        )
    se = jnp.mean(jnp.square(predictions - targets), axis=-1)
    w = broadcast_weights(weights, se.shape, se.dtype)
    return jnp.sum(w * se) / jnp.maximum(jnp.sum(w), 1e-12)
