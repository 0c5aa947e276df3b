"""Metrics from additive sufficient statistics: accuracy and F1 (the MSE is
:func:`ltcjax.train.losses.mean_squared_error`).

Training and evaluation sum per-batch statistics (a confusion matrix, or a sum of squared
errors, and a total weight) over an epoch and compute the metrics once from the totals, so
an epoch's F1 is the F1 of the whole epoch (not a mean of per-batch F1s) and padding rows
(weight 0) never count.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from ltcjax.deprecation import warn_renamed
from ltcjax.train.losses import (
    Labels,
    Logits,
    Predictions,
    Weights,
    broadcast_weights,
    mean_squared_error,
)
from ltcjax.validation import argument_error, check_choice

__all__ = [
    "accuracy",
    "confusion_matrix",
    "f1_score",
    "metrics_from_confusion",
    "mse",
]


def confusion_matrix(
    logits: Logits, labels: Labels, *, weights: Weights = None
) -> Float[Array, "classes classes"]:
    """Weighted counts ``cm[true, predicted]`` of argmax predictions.

    Example:
        >>> import jax.numpy as jnp
        >>> cm = confusion_matrix(jnp.array([[1.0, 0.0], [1.0, 0.0]]), jnp.array([0, 1]))
        >>> cm.tolist()
        [[1.0, 0.0], [1.0, 0.0]]
    """
    logits = jnp.asarray(logits)
    labels = jnp.asarray(labels)
    c = logits.shape[-1]
    pred = jnp.argmax(logits, axis=-1)
    w = broadcast_weights(weights, labels.shape, logits.dtype)
    onehot_true = _one_hot(labels, c, logits.dtype) * w[..., None]
    onehot_pred = _one_hot(pred, c, logits.dtype)
    return jnp.einsum("...i,...j->ij", onehot_true, onehot_pred)


def _one_hot(x: Array, n: int, dtype) -> Array:
    return (x[..., None] == jnp.arange(n)).astype(dtype)


def metrics_from_confusion(cm: Float[ArrayLike, "classes classes"]) -> dict[str, float]:
    """Accuracy, F1 of class 1 (binary tasks) and macro F1 from a confusion matrix.

    Example:
        >>> import numpy as np
        >>> m = metrics_from_confusion(np.array([[3.0, 1.0], [0.0, 4.0]]))
        >>> round(m["accuracy"], 3), round(m["f1"], 3), round(m["macro_f1"], 3)
        (0.875, 0.889, 0.873)
    """
    cm = np.asarray(cm, np.float64)
    total = cm.sum()
    tp = np.diag(cm)
    precision_den = cm.sum(axis=0)
    recall_den = cm.sum(axis=1)
    f1_den = precision_den + recall_den
    f1 = np.where(f1_den > 0, 2 * tp / np.where(f1_den > 0, f1_den, 1), 0.0)
    out = {
        "accuracy": float(tp.sum() / total) if total > 0 else 0.0,
        "macro_f1": float(f1.mean()),
    }
    if cm.shape[0] == 2:
        out["f1"] = float(f1[1])
    return out


def accuracy(logits: Logits, labels: Labels, *, weights: Weights = None) -> float:
    """Weighted fraction of correct argmax predictions.

    Example:
        >>> import jax.numpy as jnp
        >>> accuracy(jnp.array([[1.0, 0.0], [1.0, 0.0]]), jnp.array([0, 1]))
        0.5
    """
    return metrics_from_confusion(confusion_matrix(logits, labels, weights=weights))["accuracy"]


def f1_score(
    logits: Logits, labels: Labels, *, weights: Weights = None, average: str = "binary"
) -> float:
    """F1 of class 1 (``average="binary"``, two classes) or the macro average over classes.

    Example:
        >>> import jax.numpy as jnp
        >>> logits = jnp.array([[0.0, 1.0], [0.0, 1.0], [1.0, 0.0]])
        >>> round(f1_score(logits, jnp.array([1, 0, 1])), 3)
        0.5
    """
    check_choice("average", average, ("binary", "macro"))
    m = metrics_from_confusion(confusion_matrix(logits, labels, weights=weights))
    if average == "binary":
        if "f1" not in m:
            raise argument_error("average", "'macro' (binary F1 needs two classes)", "'binary'")
        return m["f1"]
    return m["macro_f1"]


def mse(predictions: Predictions, targets: Predictions, *, weights: Weights = None) -> float:
    """Deprecated: ``float(mean_squared_error(predictions, targets, weights=weights))`` (see
    :func:`ltcjax.train.losses.mean_squared_error`, the one implementation).

    Example:
        >>> import jax.numpy as jnp
        >>> float(mean_squared_error(jnp.zeros((2, 1)), jnp.ones((2, 1))))
        1.0
    """
    warn_renamed("ltcjax.train.mse", "float(ltcjax.train.mean_squared_error(...))")
    return float(mean_squared_error(predictions, targets, weights=weights))
