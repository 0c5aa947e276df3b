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
from jaxtyping import Array, Bool, Float, Shaped

from ltcjax.train.losses import broadcast_weights, mean_squared_error, softmax_cross_entropy
from ltcjax.train.metrics import confusion_matrix, metrics_from_confusion
from ltcjax.validation import argument_error, check_choice, check_positive_int

__all__ = ["Task"]

KINDS = ("classification", "regression")
METRICS = ("loss", "accuracy", "f1", "macro_f1", "mse")
#: The validation metrics that may pick the best epoch, per kind of task.
MONITORS = {"classification": ("loss", "accuracy", "f1", "macro_f1"), "regression": ("loss", "mse")}

#: The arguments of :meth:`Task.loss` and :meth:`Task.statistics` (jaxtyping): model outputs
#: (logits for classification), targets (integer labels or floats), row weights (0: padding)
#: and an optional mask of valid steps.
Outputs = Float[Array, "batch *time out"]
Targets = Shaped[Array, "batch *rest"]
RowWeight = Float[Array, " batch"]
StepMask = Bool[Array, "batch time"] | None


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
        check_choice("kind", self.kind, KINDS)
        d = check_positive_int("output_dim", self.output_dim)
        if self.class_weights is not None:
            if self.kind != "classification":
                raise argument_error(
                    "class_weights", "None for a regression task", repr(self.class_weights)
                )
            cw = tuple(float(c) for c in self.class_weights)
            if len(cw) != d:
                raise argument_error("class_weights", f"{d} weights (one per class)", len(cw))
            object.__setattr__(self, "class_weights", cw)
        monitor = self.monitor
        if monitor is None:
            monitor = "accuracy" if self.kind == "classification" else "mse"
        check_choice("monitor", monitor, MONITORS[self.kind])
        if monitor == "f1" and d != 2:
            raise argument_error("monitor", "'macro_f1' ('f1' needs output_dim=2)", "'f1'")
        object.__setattr__(self, "monitor", monitor)

    @property
    def monitor_mode(self) -> Literal["min", "max"]:
        """Whether a smaller ("min") or larger ("max") monitor value is better."""
        return "min" if self.monitor in ("loss", "mse") else "max"

    def _weights(self, weight: RowWeight, mask: StepMask) -> Array:
        if self.sequence and mask is not None:
            return weight[:, None] * mask.astype(weight.dtype)
        return weight

    def loss(
        self, outputs: Outputs, targets: Targets, weight: RowWeight, mask: StepMask = None
    ) -> Float[Array, ""]:
        """The weighted mean loss of a batch (``weight`` 0 marks padded rows)."""
        w = self._weights(weight, mask)
        if self.kind == "classification":
            return softmax_cross_entropy(
                outputs, targets, weights=w, class_weights=self.class_weights
            )
        return mean_squared_error(outputs, targets, weights=w)

    def statistics(
        self, outputs: Outputs, targets: Targets, weight: RowWeight, mask: StepMask = None
    ) -> dict[str, Array]:
        """Additive statistics of a batch: ``loss_sum``, ``count`` and a confusion matrix
        (classification) or ``se_sum`` (regression)."""
        wfull = broadcast_weights(self._weights(weight, mask), outputs.shape[:-1], weight.dtype)
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
