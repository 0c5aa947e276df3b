"""What is learned: classification or regression, per sequence or per step.

A :class:`Task` turns model outputs and targets into a loss and into additive statistics
(summed over an epoch), and those statistics into metrics. Its ``monitor`` metric picks
the best validation epoch.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, Float

from ltcjax.train.losses import mean_squared_error, softmax_cross_entropy
from ltcjax.train.metrics import confusion_matrix, metrics_from_confusion

__all__ = ["Task"]

KINDS = ("classification", "regression")
METRICS = ("loss", "accuracy", "f1", "macro_f1", "mse")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Task:
    """A supervised sequence task.

    Args:
        kind: "classification" (integer labels, softmax cross-entropy) or "regression"
            (float targets, mean squared error).
        output_dim: number of classes, or number of regression targets.
        sequence: targets at every step (sequence to sequence; targets (B, T) or
            (B, T, D)) rather than one per sequence ((B,) or (B, D)).
        class_weights: per-class loss weights (classification only).
        monitor: validation metric that selects the best epoch (and drives early
            stopping): "loss", "accuracy", "f1", "macro_f1" or "mse". Default: accuracy
            for classification, mse for regression.

    Example:
        >>> import jax.numpy as jnp
        >>> task = Task(kind="classification", output_dim=2)
        >>> stats = task.statistics(jnp.array([[2.0, 0.0]]), jnp.array([0]), jnp.ones(1))
        >>> task.metrics(stats)["accuracy"]
        1.0
    """

    kind: Literal["classification", "regression"]
    output_dim: int
    sequence: bool = False
    class_weights: tuple[float, ...] | None = None
    monitor: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind: expected one of {KINDS}, got {self.kind!r}")
        d = self.output_dim
        if isinstance(d, bool) or not isinstance(d, int) or d < 1:
            raise ValueError(f"output_dim: expected a positive integer, got {d!r}")
        if self.class_weights is not None:
            if self.kind != "classification":
                raise ValueError("class_weights: only classification tasks take class weights")
            cw = tuple(float(c) for c in self.class_weights)
            if len(cw) != d:
                raise ValueError(
                    f"class_weights: expected {d} weights (one per class), got {len(cw)}"
                )
            object.__setattr__(self, "class_weights", cw)
        monitor = self.monitor
        if monitor is None:
            monitor = "accuracy" if self.kind == "classification" else "mse"
        allowed = (
            ("loss", "accuracy", "f1", "macro_f1")
            if self.kind == "classification"
            else (
                "loss",
                "mse",
            )
        )
        if monitor not in allowed:
            raise ValueError(f"monitor: expected one of {allowed} for {self.kind}, got {monitor!r}")
        if monitor == "f1" and d != 2:
            raise ValueError("monitor: 'f1' needs output_dim=2; use 'macro_f1'")
        object.__setattr__(self, "monitor", monitor)

    @property
    def monitor_mode(self) -> Literal["min", "max"]:
        """Whether a smaller ("min") or larger ("max") monitor value is better."""
        return "min" if self.monitor in ("loss", "mse") else "max"

    def _weights(self, weight: Array, mask: Array | None) -> Array:
        if self.sequence and mask is not None:
            return weight[:, None] * mask.astype(weight.dtype)
        return weight

    def loss(
        self,
        outputs: Float[Array, ...],
        targets: Array,
        weight: Float[Array, " batch"],
        mask: Array | None = None,
    ) -> Float[Array, ""]:
        """The weighted mean loss of a batch (``weight`` 0 marks padded rows)."""
        w = self._weights(weight, mask)
        if self.kind == "classification":
            return softmax_cross_entropy(
                outputs, targets, weights=w, class_weights=self.class_weights
            )
        return mean_squared_error(outputs, targets, weights=w)

    def statistics(
        self,
        outputs: Float[Array, ...],
        targets: Array,
        weight: Float[Array, " batch"],
        mask: Array | None = None,
    ) -> dict[str, Array]:
        """Additive statistics of a batch: ``loss_sum``, ``count`` and a confusion matrix
        (classification) or ``se_sum`` (regression)."""
        w = self._weights(weight, mask)
        lead = outputs.shape[:-1]
        wfull = jnp.broadcast_to(w.reshape(w.shape + (1,) * (len(lead) - w.ndim)), lead)
        stats = {"count": jnp.sum(wfull)}
        if self.kind == "classification":
            ce = optax.softmax_cross_entropy_with_integer_labels(outputs, targets)
            scaled = wfull
            if self.class_weights is not None:
                scaled = wfull * jnp.asarray(self.class_weights, ce.dtype)[targets]
            stats["loss_sum"] = jnp.sum(scaled * ce)
            stats["confusion"] = confusion_matrix(outputs, targets, weights=wfull)
        else:
            se = jnp.mean(jnp.square(outputs - targets.astype(outputs.dtype)), axis=-1)
            stats["se_sum"] = stats["loss_sum"] = jnp.sum(wfull * se)
        return stats

    def metrics(self, stats: dict[str, Any]) -> dict[str, float]:
        """Metrics from summed statistics: loss and accuracy / F1, or loss and mse."""
        count = float(np.asarray(stats["count"]))
        out = {"loss": float(np.asarray(stats["loss_sum"])) / max(count, 1e-12)}
        if self.kind == "classification":
            out.update(metrics_from_confusion(np.asarray(stats["confusion"])))
        else:
            out["mse"] = float(np.asarray(stats["se_sum"])) / max(count, 1e-12)
        return out
