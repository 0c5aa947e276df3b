"""The experiment runner: train a paper model on a paper task for several runs and write each
run's result as JSON.

Layout of an output directory ``out``::

    out/runs/<task>/<model>/run_<i>.json     one finished run (written atomically)
    out/checkpoints/<task>/<model>/seeds_<a>-<b>/   the checkpoints of unfinished runs
    out/TABLE.md                             (``ltcjax experiment table``)

Rerunning skips finished runs (a finished run with a different budget is an error, so a
quick run never silently mixes with a long one) and resumes unfinished ones from their
checkpoint. Run ``i`` uses seed ``i`` for its initial parameters; the split and the batch
order are the same for all runs (as in the paper's code, whose runs differ only in their
unseeded initialisation and shuffles).
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import numpy as np

from ltcjax.data.dataset import SequenceData, Splits
from ltcjax.experiment.ensemble import EnsembleResult, train_ensemble
from ltcjax.experiment.models import paper_model
from ltcjax.train.atomic import write_text_atomically
from ltcjax.train.model import SequenceModel
from ltcjax.train.task import Task
from ltcjax.validation import argument_error, check_positive_int

__all__ = ["Budget", "run_experiment", "run_path", "scale_timespans", "task_of"]

#: ``loader(task_name) -> (TaskInfo, Splits)``.
Loader = Callable[[str], tuple[Any, Splits]]


@dataclasses.dataclass(frozen=True)
class Budget:
    """How much of the paper's protocol a run gets.

    Attributes:
        epochs: training epochs (paper: 200).
        max_train_batches: cap on the training steps per epoch (None: every full batch, as
            the paper).
        max_eval_windows: cap on the validation and the test windows: a fixed random subset
            (seed 0, the same for every model) of each (None: all, as the paper).
    """

    epochs: int = 200
    max_train_batches: int | None = None
    max_eval_windows: int | None = None

    def __post_init__(self) -> None:
        check_positive_int("epochs", self.epochs)
        check_positive_int("max_train_batches", self.max_train_batches, allow_none=True)
        check_positive_int("max_eval_windows", self.max_eval_windows, allow_none=True)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def scale_timespans(splits: Splits, factor: float) -> Splits:
    """``splits`` with every elapsed time multiplied by ``factor``.

    Example:
        >>> from ltcjax.data import make_synthetic
        >>> s = scale_timespans(make_synthetic(num_sequences=8, seq_len=3, seed=0), 0.6)
        >>> float(s.train.timespans.max()) <= 0.6 + 1e-6
        True
    """
    if factor == 1.0:
        return splits

    def scale(d: SequenceData) -> SequenceData:
        return dataclasses.replace(d, timespans=d.timespans * factor)

    return Splits(train=scale(splits.train), valid=scale(splits.valid), test=scale(splits.test))


def cap_windows(data: SequenceData, limit: int | None, seed: int = 0) -> SequenceData:
    """At most ``limit`` windows of ``data``: a random subset drawn with ``seed``, in their
    original order (all of them if ``limit`` is None or not smaller).

    Example:
        >>> from ltcjax.data import make_synthetic
        >>> len(cap_windows(make_synthetic(num_sequences=40, seq_len=3, seed=0).train, 7))
        7
    """
    if limit is None or len(data) <= limit:
        return data
    keep = np.sort(np.random.default_rng(seed).permutation(len(data))[:limit])
    return data.take(keep)


def task_of(info: Any) -> Task:
    """The :class:`~ltcjax.train.Task` of a :class:`~ltcjax.data.TaskInfo`: its kind,
    outputs, class weights, and its metric as the validation monitor."""
    return Task(
        kind=info.kind,
        output_dim=info.output_dim,
        sequence=info.sequence,
        class_weights=info.class_weights,
        monitor=info.metric,
    )


def run_path(out: Path, task: str, model: str, run: int) -> Path:
    """``out/runs/<task>/<model>/run_<run>.json``."""
    return Path(out) / "runs" / task / model / f"run_{run}.json"


def finished_runs(out: Path, task: str, model: str, runs: int, budget: Budget) -> list[int]:
    """The indices < ``runs`` whose JSON exists; a finished run with another budget raises."""
    done = []
    for i in range(runs):
        path = run_path(out, task, model, i)
        if path.is_file():
            saved = json.loads(path.read_text())["budget"]
            wanted = budget.to_dict()
            if {k: saved.get(k) for k in wanted} != wanted:
                raise argument_error(
                    "out",
                    f"a directory whose {task}/{model} runs have the budget {wanted} "
                    f"({path} has {saved}); choose another --out",
                    str(out),
                )
            done.append(i)
    return done


def run_experiment(
    task: str,
    model: str,
    *,
    runs: int,
    budget: Budget,
    out: str | Path,
    loader: Loader,
    vmap: bool = True,
    eval_batch_size: int = 512,
    verbose: bool = True,
    progress: bool = False,
    loader_options: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Train the runs ``0..runs-1`` of ``model`` on ``task`` that are not finished in ``out``.

    With ``vmap`` the unfinished runs train together (:func:`train_ensemble` over their
    seeds), else one after the other. ``loader_options`` (the keywords ``loader`` was given)
    are recorded in each run's JSON. Returns the results of all ``runs`` runs (finished
    earlier or now), as written to their JSON files.
    """
    check_positive_int("runs", runs)
    out = Path(out)
    spec = paper_model(model)
    todo = [i for i in range(runs) if i not in finished_runs(out, task, model, runs, budget)]
    if todo:
        info, splits = loader(task)
        groups = [todo] if vmap else [[i] for i in todo]
        for seeds in groups:
            train_group(
                task,
                spec,
                info,
                splits,
                seeds,
                budget,
                out,
                eval_batch_size,
                verbose=verbose,
                progress=progress,
                loader_options=loader_options or {},
            )
    elif verbose:
        print(f"{task}/{model}: {runs} runs already finished in {out}")
    return [json.loads(run_path(out, task, model, i).read_text()) for i in range(runs)]


def train_group(
    task_name: str,
    spec: Any,
    info: Any,
    splits: Splits,
    seeds: list[int],
    budget: Budget,
    out: Path,
    eval_batch_size: int,
    *,
    verbose: bool,
    progress: bool,
    loader_options: dict[str, Any],
) -> None:
    """Train the runs ``seeds`` together and write their JSON files."""
    cell = spec.make(splits.train.num_features)
    model = SequenceModel(cell=cell, output_dim=info.output_dim, return_sequences=info.sequence)
    task = task_of(info)
    lr = info.learning_rate_ltc if spec.is_ltc else info.learning_rate_baseline
    cap = budget.max_eval_windows
    data = Splits(
        train=splits.train, valid=cap_windows(splits.valid, cap), test=cap_windows(splits.test, cap)
    )
    data = scale_timespans(data, spec.elapsed)
    ckpt = out / "checkpoints" / task_name / spec.name / f"seeds_{seeds[0]}-{seeds[-1]}"
    if verbose:
        print(
            f"{task_name}/{spec.name}: runs {seeds} together, {budget.epochs} epochs, "
            f"batch {info.batch_size}, lr {lr}, "
            f"{len(splits.train)}/{len(splits.valid)}/{len(splits.test)} windows"
        )
    start = time.perf_counter()
    result = train_ensemble(
        model,
        task,
        data,
        seeds=seeds,
        epochs=budget.epochs,
        batch_size=info.batch_size,
        learning_rate=lr,
        max_train_batches=budget.max_train_batches,
        eval_batch_size=eval_batch_size,
        out_dir=ckpt,
        verbose=verbose,
        progress=progress,
    )
    wall = time.perf_counter() - start
    config = {
        "units": 32,
        "batch_size": info.batch_size,
        "learning_rate": lr,
        "optimizer": "adam",
        "elapsed_per_step": spec.elapsed,
        "eval_batch_size": eval_batch_size,
        "data_seed": 0,
        "runs_trained_together": len(seeds),
        "cell": repr(cell),
        "loader_options": loader_options,
    }
    for i, seed in enumerate(seeds):
        record = run_record(task_name, spec, info, splits, result, i, seed, budget, config, wall)
        path = run_path(out, task_name, spec.name, seed)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomically(path, json.dumps(record, indent=1) + "\n")
    shutil.rmtree(ckpt, ignore_errors=True)  # the runs are finished: their JSON is the record


def run_record(
    task_name: str,
    spec: Any,
    info: Any,
    splits: Splits,
    result: EnsembleResult,
    i: int,
    seed: int,
    budget: Budget,
    config: dict[str, Any],
    wall: float,
) -> dict[str, Any]:
    """The JSON record of run ``i`` of an ensemble ``result``."""
    epochs = len(result.train_seconds)
    steps = result.steps_per_epoch
    together = len(result.seeds)
    # The first epoch includes compilation: the per-epoch cost is the median of the others
    # (None after a single epoch: no figure without compilation).
    timed = sorted(result.train_seconds[1:])
    train_epoch = timed[len(timed) // 2] if timed else None
    full_batches = len(splits.train) // info.batch_size

    def per(scale: float) -> float | None:
        return None if train_epoch is None else train_epoch * scale

    return {
        "task": task_name,
        "model": spec.name,
        "model_label": spec.label,
        "model_description": spec.description,
        "run": seed,
        "seed": seed,
        "metric": info.metric,
        "budget": {
            **budget.to_dict(),
            "steps_per_epoch": steps,
            "full_steps_per_epoch": full_batches,
        },
        "config": config,
        "split_sizes": {k: len(getattr(splits, k)) for k in ("train", "valid", "test")},
        "evaluated_windows": {
            k: min(len(getattr(splits, k)), budget.max_eval_windows or len(getattr(splits, k)))
            for k in ("valid", "test")
        },
        "best_epoch": result.best_epoch[i],
        "best_valid": result.history[i][result.best_epoch[i] - 1]["valid"][info.metric],
        "test": result.test[i],
        "test_metric": result.test[i][info.metric],
        "timing": {
            "wall_clock_seconds_group": wall,
            "runs_trained_together": together,
            "train_seconds_per_epoch_group": per(1.0),
            "train_seconds_per_epoch_per_run": per(1 / together),
            "ms_per_step_per_run": per(1000 / together / max(steps, 1)),
            "projected_seconds_per_full_epoch_per_run": per(
                full_batches / together / max(steps, 1)
            ),
            "eval_seconds_per_epoch_group": sum(result.eval_seconds) / max(epochs, 1),
        },
        "learning_curve": result.history[i],
        "jax_version": jax.__version__,
        "finished": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }
