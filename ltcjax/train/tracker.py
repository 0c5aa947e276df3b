"""The best validation epoch and early stopping (:class:`BestEpochTracker`)."""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

from ltcjax.validation import check_choice, check_positive_int

__all__ = ["BestEpochTracker"]


@dataclasses.dataclass
class BestEpochTracker:
    """Which epoch had the best validation score, and whether to stop early.

    Args:
        mode: "min" if a smaller monitored value is better (a loss), "max" if larger is
            (accuracy).
        patience: stop after this many epochs without improvement (None: never).
        best_value: the best value so far (None before the first epoch).
        best_epoch: its (1-based) epoch; 0 before the first epoch.
        epoch: the last epoch given to :meth:`update`.

    Its progress (``best_value``, ``best_epoch``, ``epoch``) goes into the checkpoint
    metadata with :meth:`to_dict` and comes back with :meth:`load_dict`; ``mode`` and
    ``patience`` come from the task and the config (``patience`` may change on resume).

    Example:
        >>> tracker = BestEpochTracker(mode="min", patience=2)
        >>> [tracker.update(v, epoch) for epoch, v in enumerate([0.5, 0.3, 0.4], start=1)]
        [True, True, False]
        >>> tracker.best_epoch, tracker.best_value, tracker.should_stop
        (2, 0.3, False)
        >>> tracker.update(0.35, 4), tracker.should_stop  # 2 epochs without improvement
        (False, True)
        >>> resumed = BestEpochTracker(mode="min", patience=2)
        >>> resumed.load_dict(tracker.to_dict())
        >>> resumed == tracker
        True
    """

    mode: Literal["min", "max"] = "min"
    patience: int | None = None
    best_value: float | None = None
    best_epoch: int = 0
    epoch: int = 0

    def __post_init__(self) -> None:
        check_choice("mode", self.mode, ("min", "max"))
        check_positive_int("patience", self.patience, allow_none=True)

    def update(self, value: float, epoch: int) -> bool:
        """Record the validation ``value`` of ``epoch``; True if it is a new best."""
        self.epoch = epoch
        best = self.best_value
        improved = best is None or (value < best if self.mode == "min" else value > best)
        if improved:
            self.best_value, self.best_epoch = value, epoch
        return improved

    @property
    def should_stop(self) -> bool:
        """Whether ``patience`` epochs have passed without improvement."""
        return self.patience is not None and self.epoch - self.best_epoch >= self.patience

    def to_dict(self) -> dict[str, Any]:
        """The progress as a JSON-serialisable dict (see :meth:`load_dict`)."""
        return {"best_value": self.best_value, "best_epoch": self.best_epoch, "epoch": self.epoch}

    def load_dict(self, data: dict[str, Any]) -> None:
        """Continue from the progress ``data`` written by :meth:`to_dict`."""
        self.best_value = data["best_value"]
        self.best_epoch = int(data["best_epoch"])
        self.epoch = int(data["epoch"])
