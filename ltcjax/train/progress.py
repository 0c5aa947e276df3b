"""What :func:`~ltcjax.train.fit` shows while it trains: a tqdm bar per epoch with the
running loss and metrics, and one summary line per epoch."""

from __future__ import annotations

from typing import Any

from jaxtyping import Array

from ltcjax.train.task import Task

__all__ = ["ProgressPrinter", "format_epoch", "format_metrics", "shown_metrics"]


def shown_metrics(metrics: dict[str, float]) -> dict[str, str]:
    """The metrics worth showing, formatted: the loss and those that differ from it (so not
    regression's mse, which equals the loss).

    Example:
        >>> shown_metrics({"loss": 0.5, "accuracy": 0.75, "f1": 0.6})
        {'loss': '0.5000', 'accuracy': '0.7500', 'f1': '0.6000'}
        >>> shown_metrics({"loss": 0.25, "mse": 0.25})  # regression: mse is the loss
        {'loss': '0.2500'}
    """
    loss = metrics["loss"]
    return {k: f"{v:.4f}" for k, v in metrics.items() if k == "loss" or v != loss}


def format_metrics(metrics: dict[str, float]) -> str:
    """``loss=... accuracy=...`` (see :func:`shown_metrics`).

    Example:
        >>> format_metrics({"loss": 0.5, "accuracy": 0.75})
        'loss=0.5000 accuracy=0.7500'
    """
    return " ".join(f"{k}={v}" for k, v in shown_metrics(metrics).items())


def format_epoch(record: dict[str, Any], epochs: int) -> str:
    """The summary line of an epoch record; ``*`` marks a new best validation epoch.

    Example:
        >>> record = {"epoch": 2, "train": {"loss": 0.5}, "valid": {"loss": 0.7}, "best_epoch": 2}
        >>> format_epoch(record, 10)
        'epoch   2/10  train: loss=0.5000  valid: loss=0.7000 *'
    """
    star = " *" if record["best_epoch"] == record["epoch"] else ""
    return (
        f"epoch {record['epoch']:>3}/{epochs}  train: {format_metrics(record['train'])}  "
        f"valid: {format_metrics(record['valid'])}{star}"
    )


class ProgressPrinter:
    """Progress output of a run: nothing unless ``verbose``; with ``bars`` also a tqdm bar
    per epoch (on stderr) with the running loss and metrics of ``task``.

    Example:
        >>> progress = ProgressPrinter(Task(kind="regression", output_dim=1), epochs=3,
        ...                          steps_per_epoch=4, verbose=True, bars=False)
        >>> progress.start_epoch(0, start=0)
        >>> progress.end_epoch({"epoch": 1, "train": {"loss": 0.5}, "valid": {"loss": 0.4},
        ...                     "best_epoch": 1})
        epoch   1/3  train: loss=0.5000  valid: loss=0.4000 *
    """

    def __init__(
        self, task: Task, *, epochs: int, steps_per_epoch: int, verbose: bool, bars: bool
    ) -> None:
        self.task = task
        self.epochs = epochs
        self.steps_per_epoch = steps_per_epoch
        self.verbose = verbose
        self._tqdm = None
        if verbose and bars:
            try:
                from tqdm.auto import tqdm

                self._tqdm = tqdm
            except ImportError:  # pragma: no cover - tqdm is a dependency
                pass
        self._bar = None

    def print(self, text: str) -> None:
        """Print a line (if ``verbose``) without breaking a progress bar."""
        if self.verbose:
            (self._tqdm.write if self._tqdm is not None else print)(text)

    def start_epoch(self, epoch: int, start: int) -> None:
        """Open the bar of the (0-based) ``epoch``, ``start`` steps in (a resumed epoch)."""
        if self._tqdm is not None:
            self._bar = self._tqdm(
                total=self.steps_per_epoch,
                initial=start,
                desc=f"epoch {epoch + 1}/{self.epochs}",
                leave=False,
                dynamic_ncols=True,
            )

    def step(self, epoch_stats: dict[str, Array]) -> None:
        """Advance the bar by one step; its postfix shows the metrics of ``epoch_stats`` (the
        statistics of the epoch so far)."""
        if self._bar is not None:
            self._bar.update(1)
            self._bar.set_postfix(shown_metrics(self.task.metrics(epoch_stats)))

    def end_epoch(self, record: dict[str, Any]) -> None:
        """Close the bar and print the epoch's summary line."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        self.print(format_epoch(record, self.epochs))
