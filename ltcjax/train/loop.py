"""The training loop, :func:`fit`: Optax updates, validation every epoch, best-validation
restore, early stopping, checkpoints and resume, data parallelism, progress and logs.

The protocol is the paper's: train for ``epochs`` epochs, evaluate on the validation set
after every epoch, keep the parameters of the best validation epoch, and report the test
metrics of those parameters. The pieces live beside this module: the compiled steps and
:class:`~ltcjax.train.trainer.TrainState` in :mod:`ltcjax.train.trainer`, the best epoch and
early stopping in :mod:`ltcjax.train.tracker`, the output files in
:mod:`ltcjax.train.run_dir` and the progress output in :mod:`ltcjax.train.progress`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import jax.numpy as jnp
import numpy as np

from ltcjax.custom_types import PyTree
from ltcjax.data.dataset import BatchIterator, Splits
from ltcjax.train.config import TrainConfig, make_optimizer
from ltcjax.train.model import SequenceModel
from ltcjax.train.progress import ProgressPrinter, format_metrics
from ltcjax.train.run_dir import RunDirectory
from ltcjax.train.sharding import is_main_process
from ltcjax.train.task import Task
from ltcjax.train.tracker import BestEpochTracker
from ltcjax.train.trainer import Statistics, Trainer, TrainState, add_statistics
from ltcjax.validation import argument_error

# TrainConfig, Trainer and make_optimizer have their own modules now; importing them from
# here keeps working.
__all__ = ["FitResult", "RunProgress", "TrainConfig", "Trainer", "fit", "make_optimizer"]

Callback = Callable[[dict[str, Any]], None]


@dataclasses.dataclass(frozen=True)
class FitResult:
    """What :func:`fit` returns.

    Attributes:
        params: the best-validation parameters (those the test metrics are for).
        final_params: the parameters after the last epoch.
        history: one dict per epoch (``epoch``, ``step``, ``lr``, ``train``, ``valid``,
            ``best_epoch``).
        best_epoch: the (1-based) epoch of ``params``.
        test: test-set metrics of ``params``.
        stopped_early: whether early stopping ended training.
        out_dir: the output directory, if any.
    """

    params: PyTree
    final_params: PyTree
    history: list[dict[str, Any]]
    best_epoch: int
    test: dict[str, float]
    stopped_early: bool = False
    out_dir: Path | None = None


@dataclasses.dataclass
class RunProgress:
    """Where a run stands, on the host: the JSON half of a checkpoint (the arrays are in the
    :class:`TrainState`).

    Attributes:
        tracker: the best epoch so far and the early-stopping rule.
        epoch: the (0-based) epoch being trained.
        batch: the next batch of that epoch (the data iterator's position).
        epoch_stats: the summed statistics of the epoch's batches so far.
        history: the records of the finished epochs.
        stopped_early: whether early stopping ended the run.
    """

    tracker: BestEpochTracker
    epoch: int = 0
    batch: int = 0
    epoch_stats: Statistics | None = None
    history: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    stopped_early: bool = False

    def add_step(self, stats: Statistics) -> None:
        """Count one training step and its statistics."""
        self.epoch_stats = add_statistics(self.epoch_stats, stats)
        self.batch += 1

    def end_epoch(self, record: dict[str, Any], epochs: int) -> None:
        """Append the epoch's ``record`` and move to the next epoch of ``epochs``."""
        self.history.append(record)
        self.epoch, self.batch, self.epoch_stats = self.epoch + 1, 0, None
        self.stopped_early = self.tracker.should_stop and self.epoch < epochs

    def summary(self, monitor: str, test: dict[str, float]) -> dict[str, Any]:
        """The run's result (``result.json``, less the config) with its ``test`` metrics."""
        return {
            "best_epoch": self.tracker.best_epoch,
            "monitor": monitor,
            "best_valid": self.tracker.best_value,
            "test": test,
            "stopped_early": self.stopped_early,
            "epochs_run": len(self.history),
        }

    def to_meta(self) -> dict[str, Any]:
        """The checkpoint metadata (JSON) of this progress."""
        stats = self.epoch_stats
        return {
            "position": {"epoch": self.epoch, "batch": self.batch},
            "partial_stats": None if stats is None else jax_to_lists(stats),
            "history": self.history,
            "tracker": self.tracker.to_dict(),
            "stopped_early": self.stopped_early,
        }

    def load_meta(self, meta: dict[str, Any]) -> None:
        """Continue from the checkpoint metadata ``meta`` (see :meth:`to_meta`)."""
        stats = meta["partial_stats"]
        self.epoch, self.batch = int(meta["position"]["epoch"]), int(meta["position"]["batch"])
        self.epoch_stats = None if stats is None else lists_to_jax(stats)
        self.history = list(meta["history"])
        self.tracker.load_dict(meta["tracker"])
        self.stopped_early = bool(meta["stopped_early"])


def jax_to_lists(stats: Statistics) -> dict[str, Any]:
    """Statistics as JSON values (nested lists of floats)."""
    return {k: np.asarray(v).tolist() for k, v in stats.items()}


def lists_to_jax(stats: dict[str, Any]) -> Statistics:
    """The inverse of :func:`jax_to_lists` (float32 arrays)."""
    return {k: jnp.asarray(np.asarray(v, np.float32)) for k, v in stats.items()}


def fit(
    model: SequenceModel,
    task: Task,
    splits: Splits,
    config: TrainConfig,
    *,
    out_dir: str | Path | None = None,
    resume: bool = False,
    callbacks: Sequence[Callback] = (),
    verbose: bool = True,
) -> FitResult:
    """Train ``model`` on ``splits.train``, validate every epoch, test the best epoch.

    With ``out_dir``, writes ``checkpoints/`` (orbax, atomic), ``metrics.jsonl`` (one line
    per epoch), ``learning_curves.png`` (rewritten atomically after every epoch) and
    ``result.json`` (see :class:`RunDirectory`). On several hosts only process 0 writes these
    files and prints; every process takes part in the checkpoint writes. ``resume=True``
    continues from the newest complete checkpoint in ``out_dir`` and gives the same
    parameters as an uninterrupted run with the same config (starts afresh if there is none).

    Args:
        model: a :class:`SequenceModel`.
        task: a :class:`Task` matching the model and the targets.
        splits: train / valid / test :class:`~ltcjax.data.SequenceData`.
        config: a :class:`TrainConfig`.
        out_dir: output directory (needed for checkpoints and ``resume``).
        resume: continue from the last checkpoint in ``out_dir``.
        callbacks: functions called with ``{"event": "step", "step": n, "epoch": e}`` after
            every step (``e`` 0-based) and with the epoch record (``"event": "epoch"``) after
            every epoch (after its checkpoint is written).
        verbose: print one line per epoch (and progress bars with the running loss and
            metrics if ``config.progress``); only on process 0.

    Returns:
        A :class:`FitResult`.

    Example:
        >>> from ltcjax import LTCCell
        >>> from ltcjax.data import make_synthetic
        >>> splits = make_synthetic(num_sequences=40, seq_len=6, seed=0)
        >>> model = SequenceModel(cell=LTCCell(input_size=1, units=4), output_dim=1)
        >>> task = Task(kind="regression", output_dim=1, sequence=True)
        >>> result = fit(model, task, splits, TrainConfig(epochs=2, batch_size=10,
        ...              learning_rate=0.01), verbose=False)
        >>> len(result.history), sorted(result.test)
        (2, ['loss', 'mse'])
    """
    check_input_size(model, splits)
    batches = BatchIterator(splits.train, config.batch_size, shuffle=True, seed=config.seed)
    trainer = Trainer(model, task, config, len(batches))
    primary = is_main_process()  # the process that writes logs, plots and results, and prints
    printer = ProgressPrinter(
        task,
        epochs=config.epochs,
        steps_per_epoch=len(batches),
        verbose=verbose and primary,
        bars=config.progress,
    )
    run = RunDirectory(
        out_dir, config=config, model=model, task=task, resume=resume, writes=primary
    )
    with run:
        state = trainer.init_state()
        progress = RunProgress(tracker=BestEpochTracker(task.monitor_mode, config.patience))
        restored = run.restore(like=state)
        if restored is not None:
            state, meta = restored
            progress.load_meta(meta)
            where = f"epoch {progress.epoch}, batch {progress.batch}"
            printer.print(f"resumed from step {int(state.step)} ({where}) in {run.checkpoint_dir}")
        run.write_history(progress.history, plot=False)
        every = config.checkpoint_every_steps
        while progress.epoch < config.epochs and not progress.stopped_early:
            printer.start_epoch(progress.epoch, progress.batch)
            for batch in batches.epoch(progress.epoch, start=progress.batch):
                state, stats = trainer.train_step(state, trainer.place(batch))
                progress.add_step(stats)
                step = int(state.step)
                printer.step(progress.epoch_stats)
                if every and step % every == 0 and progress.batch < len(batches):
                    run.save(state, progress.to_meta())
                notify(callbacks, {"event": "step", "step": step, "epoch": progress.epoch})
            state, record = validate_epoch(trainer, state, progress, splits)
            progress.end_epoch(record, config.epochs)
            printer.end_epoch(record)
            run.write_history(progress.history)
            run.save(state, progress.to_meta())
            notify(callbacks, {"event": "epoch", **record})
        test = trainer.evaluate(state.best_params, splits.test)
        best_epoch = progress.tracker.best_epoch
        printer.print(f"test (best validation epoch {best_epoch}): {format_metrics(test)}")
        run.write_result(progress.summary(task.monitor, test), progress.history)
    return FitResult(
        params=state.best_params,
        final_params=state.params,
        history=progress.history,
        best_epoch=best_epoch,
        test=test,
        stopped_early=progress.stopped_early,
        out_dir=run.path,
    )


def validate_epoch(
    trainer: Trainer, state: TrainState, progress: RunProgress, splits: Splits
) -> tuple[TrainState, dict[str, Any]]:
    """Evaluate the epoch just trained on ``splits.valid``; keep its parameters as the best
    if they are. Returns the state and the epoch's record (a line of ``metrics.jsonl``)."""
    task = trainer.task
    valid = trainer.evaluate(state.params, splits.valid)
    if progress.tracker.update(valid[task.monitor], progress.epoch + 1):
        state = state._replace(best_params=state.params)
    step = int(state.step)
    record = {
        "epoch": progress.epoch + 1,
        "step": step,
        "lr": float(trainer.schedule(step)),
        "train": task.metrics(progress.epoch_stats),
        "valid": valid,
        "best_epoch": progress.tracker.best_epoch,
    }
    return state, record


def check_input_size(model: SequenceModel, splits: Splits) -> None:
    """Raise a ValueError unless every split has the model's number of input features."""
    for name in ("train", "valid", "test"):
        got = getattr(splits, name).num_features
        if got != model.input_size:
            raise argument_error(
                f"splits.{name}", f"{model.input_size} input features (the model's input_size)", got
            )


def notify(callbacks: Sequence[Callback], event: dict[str, Any]) -> None:
    """Call every callback with ``event``."""
    for callback in callbacks:
        callback(event)
