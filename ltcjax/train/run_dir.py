"""The output directory of a training run (:class:`RunDirectory`).

It holds ``checkpoints/`` (orbax, atomic: see :mod:`ltcjax.train.checkpoint`),
``metrics.jsonl`` (one line per epoch), ``learning_curves.png`` and ``result.json``; the
last three are rewritten atomically (:mod:`ltcjax.train.atomic`), so a killed run leaves
whole files. On several hosts every process takes part in the checkpoint saves, but only
process 0 writes the other files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ltcjax.train.atomic import write_text_atomically
from ltcjax.train.checkpoint import CheckpointStore
from ltcjax.train.config import TrainConfig
from ltcjax.train.plots import plot_learning_curves
from ltcjax.train.sharding import is_main_process
from ltcjax.train.trainer import TrainState
from ltcjax.validation import argument_error

__all__ = ["RESUMABLE_CHANGES", "ExistingRunError", "RunDirectory"]

#: Config fields that may change when resuming (they do not affect the results so far).
#: ``epochs`` only with the constant schedule: the others stretch over all epochs.
RESUMABLE_CHANGES = ("epochs", "progress", "patience", "checkpoint_every_steps", "max_to_keep")


class ExistingRunError(FileExistsError):
    """The output directory already holds a run's checkpoints, and resuming was not asked
    for. ``path`` is the directory."""

    def __init__(self, path: Path) -> None:
        self.path = path
        super().__init__(
            f"out_dir: expected a directory without checkpoints, got {str(path)!r}, which "
            "holds a run's checkpoints; pass resume=True to continue that run, or choose "
            "another directory"
        )


class RunDirectory:
    """The files of one run of ``config`` training ``model`` on ``task`` in ``path``.

    Args:
        path: the directory (created if missing), or None for a run that writes nothing:
            then every method does nothing and :meth:`restore` finds no checkpoint.
        config, model, task: the run; its checkpoints record them and a resumed run must
            match them (see :meth:`check_resumable`).
        resume: continue the run already in ``path``; without it a ``path`` that holds
            checkpoints is refused (:class:`ExistingRunError`).
        writes: whether this process writes ``metrics.jsonl``, the plot and
            ``result.json`` (default: only process 0, :func:`is_main_process`).

    Example:
        >>> import tempfile
        >>> from ltcjax import LTCCell
        >>> from ltcjax.train import SequenceModel, Task, TrainConfig
        >>> model = SequenceModel(cell=LTCCell(input_size=1, units=3), output_dim=1)
        >>> task, config = Task(kind="regression", output_dim=1), TrainConfig()
        >>> with RunDirectory(tempfile.mkdtemp(), config=config, model=model, task=task) as run:
        ...     run.write_history([{"epoch": 1, "train": {"loss": 0.5}, "valid": {"loss": 0.6},
        ...                         "best_epoch": 1}])
        ...     sorted(p.name for p in run.path.iterdir())
        ['checkpoints', 'learning_curves.png', 'metrics.jsonl']
    """

    def __init__(
        self,
        path: str | Path | None,
        *,
        config: TrainConfig,
        model: Any,
        task: Any,
        resume: bool = False,
        writes: bool | None = None,
    ) -> None:
        self.path = None if path is None else Path(path)
        self.config = config
        self.model = model
        self.task = task
        self.writes = self.path is not None and (is_main_process() if writes is None else writes)
        self.store: CheckpointStore | None = None
        if self.path is None:
            if resume:
                raise argument_error(
                    "resume", "an out_dir (the directory that holds the checkpoints)", "None"
                )
            return
        self.path.mkdir(parents=True, exist_ok=True)
        self.store = CheckpointStore(self.checkpoint_dir, max_to_keep=config.max_to_keep)
        if not resume and self.store.latest_step() is not None:
            self.close()
            raise ExistingRunError(self.path)

    @property
    def checkpoint_dir(self) -> Path | None:
        """``path/checkpoints``."""
        return None if self.path is None else self.path / "checkpoints"

    # -- checkpoints (every process) -------------------------------------------------------
    def restore(self, like: TrainState) -> tuple[TrainState, dict[str, Any]] | None:
        """The state and metadata of the newest complete checkpoint, checked against this
        run (:meth:`check_resumable`), or None if there is none. ``like`` is a fresh state
        with the structure, shapes and shardings to restore into."""
        if self.store is None or self.store.latest_step() is None:
            return None
        state, meta = self.store.restore(like=like._asdict())
        self.check_resumable(meta)
        return TrainState(**state), meta

    def save(self, state: TrainState, meta: dict[str, Any]) -> None:
        """Checkpoint ``state`` at its step, with the run's progress ``meta`` (JSON) and the
        run's config, model and task."""
        if self.store is not None:
            run = {"config": self.config.to_dict(), "model": repr(self.model)}
            self.store.save(
                int(state.step), state._asdict(), {**meta, **run, "task": repr(self.task)}
            )

    def check_resumable(self, meta: dict[str, Any]) -> None:
        """Raise a ValueError unless a checkpoint's ``meta`` is of this model, task and config
        (up to the :data:`RESUMABLE_CHANGES`)."""
        where = f"the checkpoint in {str(self.path)!r}"
        saved, config = meta["config"], self.config
        if saved.get("epochs") != config.epochs and config.schedule != "constant":
            raise argument_error(
                "resume",
                f"epochs={saved.get('epochs')!r} as in {where}: the {config.schedule!r} "
                "learning-rate schedule depends on epochs, so they may only change with "
                "schedule='constant'",
                f"epochs={config.epochs!r}",
            )
        for key, value in config.to_dict().items():
            if key not in RESUMABLE_CHANGES and saved.get(key) != value:
                raise argument_error(
                    "resume", f"{key}={saved.get(key)!r} as in {where}", f"{key}={value!r}"
                )
        for name, now in (("model", self.model), ("task", self.task)):
            if meta[name] != repr(now):
                raise argument_error("resume", f"the {name} of {where}", f"a different {name}")

    # -- logs, plots and results (process 0) -----------------------------------------------
    def write_history(self, history: list[dict[str, Any]], *, plot: bool = True) -> None:
        """Rewrite ``metrics.jsonl`` (one JSON line per epoch) and, with ``plot``,
        ``learning_curves.png`` (every epoch, so that a killed run has its plot)."""
        if self.writes:
            lines = "".join(json.dumps(record) + "\n" for record in history)
            write_text_atomically(self.path / "metrics.jsonl", lines)
            if plot:
                plot_learning_curves(history, self.path / "learning_curves.png")

    def write_result(self, summary: dict[str, Any], history: list[dict[str, Any]]) -> None:
        """Write ``result.json`` (``summary`` plus the config and model), and the learning
        curves of ``history`` if no epoch wrote them (a run resumed after its last epoch)."""
        if self.writes:
            if not (self.path / "learning_curves.png").exists():
                plot_learning_curves(history, self.path / "learning_curves.png")
            result = {**summary, "config": self.config.to_dict(), "model": repr(self.model)}
            write_text_atomically(self.path / "result.json", json.dumps(result, indent=2) + "\n")

    def close(self) -> None:
        """Release the checkpoint store."""
        if self.store is not None:
            self.store.close()
            self.store = None

    def __enter__(self) -> RunDirectory:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
