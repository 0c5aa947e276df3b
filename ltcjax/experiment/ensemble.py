"""Train several runs of one model that differ only in their seeds, together: the
:class:`~ltcjax.train.Trainer`'s compiled train and eval steps ``vmap``-ed over a leading
"run" axis of the :class:`~ltcjax.train.TrainState`.

The paper's "5 runs" are 5 trainings on the same split that differ only in the random
initialisation, so one program can train them at once; on a CPU this amortises the
per-step overhead of small models (see ``experiments/results/paper/REPORT.md`` for the
measured speed-up). Every run sees the same batches (the data order is seeded by
``data_seed``), so run ``i`` of an ensemble equals a lone run with seed ``seeds[i]``
(tested). The protocol is :func:`ltcjax.train.fit`'s: validation after every epoch, the
best-validation parameters kept per run (:class:`~ltcjax.train.BestEpochTracker`: strictly
better, so ties keep the earlier epoch), the test set evaluated once at those parameters,
checkpoints after every epoch through :class:`~ltcjax.train.RunDirectory` (atomic; a
killed ensemble resumes at its last finished epoch and gives the same results).
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp

from ltcjax.custom_types import PyTree
from ltcjax.data.dataset import BatchIterator, SequenceData, Splits
from ltcjax.train.config import TrainConfig
from ltcjax.train.loop import check_input_size
from ltcjax.train.model import SequenceModel
from ltcjax.train.progress import ProgressPrinter, format_metrics
from ltcjax.train.run_dir import RunDirectory
from ltcjax.train.task import Task
from ltcjax.train.tracker import BestEpochTracker
from ltcjax.train.trainer import Statistics, Trainer, TrainState, add_statistics
from ltcjax.validation import argument_error, check_int, check_positive_int

__all__ = ["EnsembleResult", "train_ensemble"]


@dataclasses.dataclass(frozen=True)
class EnsembleResult:
    """What :func:`train_ensemble` returns, one entry per run (per seed).

    Attributes:
        seeds: the seeds of the initial parameters.
        best_params: per run, the best-validation parameters.
        best_epoch: per run, the (1-based) epoch of ``best_params``.
        test: per run, the test metrics of ``best_params``.
        history: per run, one record per epoch (``epoch``, ``train``, ``valid``,
            ``best_epoch``).
        train_seconds: per epoch, the seconds spent training all runs (not evaluating).
        eval_seconds: per epoch, the seconds spent on the validation set.
        steps_per_epoch: training steps per epoch.
    """

    seeds: tuple[int, ...]
    best_params: list[PyTree]
    best_epoch: list[int]
    test: list[dict[str, float]]
    history: list[list[dict[str, Any]]]
    train_seconds: list[float]
    eval_seconds: list[float]
    steps_per_epoch: int


def run_slice(tree: PyTree, i: int) -> PyTree:
    """Run ``i`` of a pytree with a leading run axis."""
    return jax.tree.map(lambda a: a[i], tree)


@functools.lru_cache(maxsize=16)
def vmapped_steps(train_step: Callable, eval_step: Callable) -> tuple[Callable, Callable]:
    """The jitted train and eval steps ``vmap``-ed over a leading run axis of the state /
    parameters (the batch is shared). Cached: the :class:`~ltcjax.train.Trainer`'s steps
    are cached per model, task and optimiser, so repeated ensembles compile once."""
    vtrain = jax.jit(jax.vmap(train_step, in_axes=(0, None)))
    veval = jax.jit(jax.vmap(eval_step, in_axes=(0, None)))
    return vtrain, veval


def one_step(state: TrainState) -> TrainState:
    """``state`` with the step count of its first run (all runs take the same steps)."""
    return state._replace(step=state.step[0])


def select_runs(keep: jax.Array, new: PyTree, old: PyTree) -> PyTree:
    """Per run (leading axis), ``new`` where ``keep`` is True, else ``old``."""

    def pick(a: jax.Array, b: jax.Array) -> jax.Array:
        return jnp.where(keep.reshape((-1,) + (1,) * (a.ndim - 1)), a, b)

    return jax.tree.map(pick, new, old)


def evaluate_runs(
    trainer: Trainer, veval: Any, params: PyTree, data: SequenceData, runs: int
) -> list[dict[str, float]]:
    """Metrics of every run's ``params`` (leading run axis) on ``data``."""
    total: Statistics | None = None
    for batch in BatchIterator(data, trainer.eval_batch_size, shuffle=False).epoch(0):
        total = add_statistics(total, veval(params, trainer.place(batch)))
    return [trainer.task.metrics(run_slice(total, i)) for i in range(runs)]


def train_ensemble(
    model: SequenceModel,
    task: Task,
    splits: Splits,
    *,
    seeds: Sequence[int],
    epochs: int,
    batch_size: int,
    learning_rate: float,
    max_train_batches: int | None = None,
    eval_batch_size: int = 256,
    data_seed: int = 0,
    out_dir: str | Path | None = None,
    verbose: bool = True,
    progress: bool = False,
) -> EnsembleResult:
    """Train ``len(seeds)`` runs of ``model`` together (Adam, constant ``learning_rate``).

    Each epoch takes the full batches of a fresh permutation of ``splits.train`` (the last
    partial batch is dropped, as in the paper's code), at most ``max_train_batches`` of them.

    Args:
        model, task, splits: as for :func:`ltcjax.train.fit`.
        seeds: the seeds of the runs' initial parameters (one run each).
        epochs: epochs to train.
        batch_size: sequences per training step.
        learning_rate: Adam's learning rate.
        max_train_batches: cap on the training steps per epoch (None: all full batches).
        eval_batch_size: sequences per evaluation step.
        data_seed: seed of the batch order (shared by the runs).
        out_dir: checkpoint directory; with it a killed ensemble resumes at its last
            finished epoch (same results as an uninterrupted one).
        verbose: print a line per epoch; ``progress``: also a tqdm bar per epoch.

    Returns:
        An :class:`EnsembleResult`.

    Example:
        >>> from ltcjax import CTRNNCell
        >>> from ltcjax.data import make_synthetic
        >>> splits = make_synthetic(num_sequences=48, seq_len=6, seed=0)
        >>> model = SequenceModel(cell=CTRNNCell(input_size=1, units=4), output_dim=1)
        >>> task = Task(kind="regression", output_dim=1, sequence=True)
        >>> r = train_ensemble(model, task, splits, seeds=(0, 1), epochs=2, batch_size=8,
        ...                    learning_rate=0.01, verbose=False)
        >>> len(r.test), len(r.history[1]), r.steps_per_epoch
        (2, 2, 4)
    """
    seeds = tuple(check_int("seeds", s, minimum=0) for s in seeds)
    if not seeds:
        raise argument_error("seeds", "at least one seed", "()")
    check_positive_int("epochs", epochs)
    check_positive_int("max_train_batches", max_train_batches, allow_none=True)
    check_input_size(model, splits)
    runs = len(seeds)
    full_batches = len(splits.train) // batch_size
    if full_batches < 1:
        raise argument_error(
            "batch_size", f"at most {len(splits.train)} (the training sequences)", batch_size
        )
    steps = full_batches if max_train_batches is None else min(full_batches, max_train_batches)
    config = TrainConfig(
        epochs=epochs,
        batch_size=batch_size,
        eval_batch_size=eval_batch_size,
        learning_rate=learning_rate,
        seed=data_seed,
        data_parallel=False,
        progress=progress,
    )
    trainer = Trainer(model, task, config, steps)
    vtrain, veval = vmapped_steps(trainer.train_step, trainer.eval_step)
    batches = BatchIterator(splits.train, batch_size, shuffle=True, seed=data_seed)
    printer = ProgressPrinter(
        task, epochs=epochs, steps_per_epoch=steps, verbose=verbose, bars=progress
    )
    trackers = [BestEpochTracker(task.monitor_mode) for _ in seeds]
    histories: list[list[dict[str, Any]]] = [[] for _ in seeds]
    train_seconds: list[float] = []
    eval_seconds: list[float] = []
    epoch = 0
    with RunDirectory(
        out_dir, config=config, model=model, task=task, resume=out_dir is not None
    ) as rd:
        state = jax.vmap(trainer.init_state)(jnp.stack([jax.random.key(s) for s in seeds]))
        # The runs share the step count: the checkpoint holds it once (a scalar, as
        # RunDirectory expects), and it is broadcast back over the runs on restore.
        restored = rd.restore(like=one_step(state))
        if restored is not None:
            state, meta = restored
            state = state._replace(step=jnp.broadcast_to(state.step, (runs,)))
            if meta.get("seeds") != list(seeds):
                raise argument_error(
                    "out_dir", f"a checkpoint of seeds {list(seeds)}", meta.get("seeds")
                )
            epoch = int(meta["epoch"])
            histories = meta["histories"]
            train_seconds, eval_seconds = meta["train_seconds"], meta["eval_seconds"]
            for tracker, saved in zip(trackers, meta["trackers"], strict=True):
                tracker.load_dict(saved)
            printer.print(f"resumed after epoch {epoch} from {rd.checkpoint_dir}")
        while epoch < epochs:
            printer.start_epoch(epoch, 0)
            start = time.perf_counter()
            stats: Statistics | None = None
            for b, batch in enumerate(batches.epoch(epoch)):
                if b >= steps:
                    break
                state, step_stats = vtrain(state, trainer.place(batch))
                stats = add_statistics(stats, step_stats)
                printer.step(run_slice(stats, 0))
            jax.block_until_ready(state)
            train_seconds.append(time.perf_counter() - start)
            start = time.perf_counter()
            valid = evaluate_runs(trainer, veval, state.params, splits.valid, runs)
            eval_seconds.append(time.perf_counter() - start)
            improved = [
                t.update(v[task.monitor], epoch + 1) for t, v in zip(trackers, valid, strict=True)
            ]
            best = select_runs(jnp.asarray(improved), state.params, state.best_params)
            state = state._replace(best_params=best)
            for i in range(runs):
                histories[i].append(
                    {
                        "epoch": epoch + 1,
                        "train": task.metrics(run_slice(stats, i)),
                        "valid": valid[i],
                        "best_epoch": trackers[i].best_epoch,
                    }
                )
            epoch += 1
            printer.end_epoch(histories[0][-1])
            meta = {
                "seeds": list(seeds),
                "epoch": epoch,
                "histories": histories,
                "trackers": [t.to_dict() for t in trackers],
                "train_seconds": train_seconds,
                "eval_seconds": eval_seconds,
            }
            rd.save(one_step(state), meta)
        tests = evaluate_runs(trainer, veval, state.best_params, splits.test, runs)
    for i, test in enumerate(tests):
        printer.print(
            f"run {i} (seed {seeds[i]}) test at epoch {trackers[i].best_epoch}: "
            f"{format_metrics(test)}"
        )
    return EnsembleResult(
        seeds=seeds,
        best_params=[run_slice(state.best_params, i) for i in range(runs)],
        best_epoch=[t.best_epoch for t in trackers],
        test=tests,
        history=histories,
        train_seconds=[float(s) for s in train_seconds],
        eval_seconds=[float(s) for s in eval_seconds],
        steps_per_epoch=steps,
    )
