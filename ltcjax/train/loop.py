"""The training loop: Optax updates, validation every epoch, best-validation restore,
early stopping, checkpoints and resume, data parallelism, progress and logs.

The protocol is the paper's: train for ``epochs`` epochs, evaluate on the validation set
after every epoch, keep the parameters of the best validation epoch, and report the test
metrics of those parameters.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, ArrayLike, Float

from ltcjax.data.dataset import Batch, BatchIterator, SequenceData, Splits
from ltcjax.train.atomic import write_text_atomically
from ltcjax.train.checkpoint import CheckpointStore
from ltcjax.train.model import SequenceModel
from ltcjax.train.plots import plot_learning_curves
from ltcjax.train.sharding import (
    check_batch_divisible,
    data_mesh,
    is_main_process,
    replicate,
    shard_batch,
)
from ltcjax.train.task import Task

__all__ = ["FitResult", "TrainConfig", "Trainer", "fit", "make_optimizer"]

PyTree = Any
Callback = Callable[[dict[str, Any]], None]

OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop")
SCHEDULES = ("constant", "cosine", "warmup_cosine", "exponential")
#: Config fields that may change when resuming (they do not affect the results so far).
#: ``epochs`` only with the constant schedule: the others stretch over all epochs.
_RESUMABLE_CHANGES = ("epochs", "progress", "patience", "checkpoint_every_steps", "max_to_keep")


@dataclasses.dataclass(frozen=True, kw_only=True)
class TrainConfig:
    """Training hyper-parameters.

    Args:
        epochs: passes over the training set.
        batch_size: sequences per training step (the global batch, over all devices).
        eval_batch_size: sequences per evaluation step (default ``batch_size``).
        learning_rate: peak learning rate.
        optimizer: "adam", "adamw", "sgd" (momentum 0.9) or "rmsprop".
        weight_decay: decoupled weight decay (adamw).
        schedule: "constant", "cosine" (decay to 0), "warmup_cosine" (linear warm-up for
            ``warmup_epochs``, then cosine) or "exponential" (to ``decay_rate`` times the
            peak at the end).
        warmup_epochs: warm-up length for "warmup_cosine".
        decay_rate: final / initial learning rate for "exponential".
        grad_clip_norm: clip gradients to this global norm (None: no clipping).
        seed: seed of the initial parameters, the RNG and the shuffling.
        patience: stop when the monitored validation metric has not improved for this
            many epochs (None: never stop early).
        data_parallel: shard each batch over all devices (None: when there are several).
        checkpoint_every_steps: also checkpoint inside an epoch every this many steps
            (None: only at the end of each epoch).
        max_to_keep: complete checkpoints kept on disk.
        progress: show tqdm progress bars.

    Example:
        >>> TrainConfig(epochs=3, learning_rate=0.01).batch_size
        16
    """

    epochs: int = 10
    batch_size: int = 16
    eval_batch_size: int | None = None
    learning_rate: float = 1e-3
    optimizer: Literal["adam", "adamw", "sgd", "rmsprop"] = "adam"
    weight_decay: float = 0.0
    schedule: Literal["constant", "cosine", "warmup_cosine", "exponential"] = "constant"
    warmup_epochs: int = 0
    decay_rate: float = 0.1
    grad_clip_norm: float | None = None
    seed: int = 0
    patience: int | None = None
    data_parallel: bool | None = None
    checkpoint_every_steps: int | None = None
    max_to_keep: int = 2
    progress: bool = True

    def __post_init__(self) -> None:
        def positive_int(name: str, value: Any, allow_none: bool = False) -> None:
            if allow_none and value is None:
                return
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}: expected a positive integer, got {value!r}")

        positive_int("epochs", self.epochs)
        positive_int("batch_size", self.batch_size)
        positive_int("eval_batch_size", self.eval_batch_size, allow_none=True)
        positive_int("patience", self.patience, allow_none=True)
        positive_int("checkpoint_every_steps", self.checkpoint_every_steps, allow_none=True)
        positive_int("max_to_keep", self.max_to_keep)
        if not (isinstance(self.learning_rate, int | float) and self.learning_rate > 0):
            raise ValueError(
                f"learning_rate: expected a positive number, got {self.learning_rate!r}"
            )
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer: expected one of {OPTIMIZERS}, got {self.optimizer!r}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule: expected one of {SCHEDULES}, got {self.schedule!r}")
        if self.grad_clip_norm is not None and not self.grad_clip_norm > 0:
            raise ValueError(
                f"grad_clip_norm: expected a positive number or None, got {self.grad_clip_norm!r}"
            )
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise ValueError(f"seed: expected an integer, got {self.seed!r}")

    def to_dict(self) -> dict[str, Any]:
        """The config as a JSON-serialisable dict."""
        return dataclasses.asdict(self)


def make_optimizer(
    config: TrainConfig, steps_per_epoch: int
) -> tuple[optax.GradientTransformation, optax.Schedule]:
    """The Optax optimiser (with clipping) and learning-rate schedule of ``config``.

    Example:
        >>> opt, schedule = make_optimizer(TrainConfig(schedule="cosine", epochs=2), 10)
        >>> round(float(schedule(0)), 6), float(schedule(20))
        (0.001, 0.0)
    """
    total = max(1, config.epochs * steps_per_epoch)
    lr = float(config.learning_rate)
    if config.schedule == "constant":
        schedule = optax.constant_schedule(lr)
    elif config.schedule == "cosine":
        schedule = optax.cosine_decay_schedule(lr, total)
    elif config.schedule == "warmup_cosine":
        warmup = min(config.warmup_epochs * steps_per_epoch, total - 1)
        schedule = optax.warmup_cosine_decay_schedule(0.0, lr, warmup, total)
    else:
        schedule = optax.exponential_decay(lr, total, config.decay_rate)
    if config.optimizer == "adam":
        opt = optax.adam(schedule)
    elif config.optimizer == "adamw":
        opt = optax.adamw(schedule, weight_decay=config.weight_decay)
    elif config.optimizer == "sgd":
        opt = optax.sgd(schedule, momentum=0.9)
    else:
        opt = optax.rmsprop(schedule)
    if config.grad_clip_norm is not None:
        opt = optax.chain(optax.clip_by_global_norm(config.grad_clip_norm), opt)
    return opt, schedule


@dataclasses.dataclass(frozen=True)
class FitResult:
    """What :func:`fit` returns.

    Attributes:
        params: the best-validation parameters (those the test metrics are for).
        final_params: the parameters after the last epoch.
        history: one dict per epoch (``epoch``, ``step``, ``lr``, ``train``, ``valid``).
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


def _add(a: dict[str, Array] | None, b: dict[str, Array]) -> dict[str, Array]:
    return b if a is None else jax.tree.map(jnp.add, a, b)


def _to_json(stats: dict[str, Array] | None) -> dict[str, Any] | None:
    return None if stats is None else {k: np.asarray(v).tolist() for k, v in stats.items()}


def _from_json(stats: dict[str, Any] | None) -> dict[str, Array] | None:
    if stats is None:
        return None
    return {k: jnp.asarray(np.asarray(v, np.float32)) for k, v in stats.items()}


class Trainer:
    """Jit-compiled train and eval steps for a :class:`SequenceModel` on a :class:`Task`.

    Args:
        model: the model (cell + readout).
        task: the task; its ``output_dim`` and ``sequence`` must match the model's.
        config: the training configuration.
        steps_per_epoch: training steps per epoch (sets the length of the LR schedule).

    Example:
        >>> import jax
        >>> from ltcjax import LTCCell
        >>> from ltcjax.data import make_synthetic, BatchIterator
        >>> splits = make_synthetic(num_sequences=32, seq_len=6, seed=0)
        >>> model = SequenceModel(cell=LTCCell(input_size=1, units=4), output_dim=1)
        >>> task = Task(kind="regression", output_dim=1, sequence=True)
        >>> trainer = Trainer(model, task, TrainConfig(batch_size=8, progress=False), 3)
        >>> state = trainer.init_state()
        >>> batch = next(BatchIterator(splits.train, 8).epoch(0))
        >>> state, stats = trainer.train_step(state, trainer.place(batch))
        >>> int(state["step"])
        1
    """

    def __init__(
        self, model: SequenceModel, task: Task, config: TrainConfig, steps_per_epoch: int
    ) -> None:
        if not isinstance(model, SequenceModel):
            raise ValueError(f"model: expected a SequenceModel, got {type(model)}")
        if model.output_dim != task.output_dim:
            raise ValueError(
                f"model: output_dim={model.output_dim} does not match the task's "
                f"output_dim={task.output_dim}"
            )
        if model.return_sequences != task.sequence:
            raise ValueError(
                f"model: return_sequences={model.return_sequences} does not match the task's "
                f"sequence={task.sequence}"
            )
        self.model = model
        self.task = task
        self.config = config
        self.steps_per_epoch = steps_per_epoch
        opt_fields = tuple((k, getattr(config, k)) for k in _OPTIMIZER_FIELDS)
        if config.schedule == "constant":  # the number of epochs does not change the steps
            opt_fields = tuple((k, 1 if k == "epochs" else v) for k, v in opt_fields)
        compiled = _compiled_steps(model, task, opt_fields, steps_per_epoch)
        self.optimizer, self.schedule, self.train_step, self.eval_step, self._predict = compiled
        use_mesh = config.data_parallel
        if use_mesh is None:
            use_mesh = len(jax.devices()) > 1
        self.mesh = data_mesh() if use_mesh else None
        if self.mesh is not None:
            check_batch_divisible(config.batch_size, self.mesh, "batch_size")
            check_batch_divisible(self.eval_batch_size, self.mesh, "eval_batch_size")

    @property
    def eval_batch_size(self) -> int:
        return self.config.eval_batch_size or self.config.batch_size

    # -- state -----------------------------------------------------------------------------
    def init_state(self, key: jax.Array | None = None) -> dict[str, Any]:
        """A fresh training state: params, opt_state, rng (key data), step, best_params."""
        if key is None:
            key = jax.random.key(self.config.seed)
        k_params, k_rng = jax.random.split(key)
        params = self.model.project(self.model.init(k_params))
        state = {
            "params": params,
            "opt_state": self.optimizer.init(params),
            "rng": jax.random.key_data(k_rng),
            "step": jnp.zeros((), jnp.int32),
            "best_params": params,
        }
        return self.place_state(state)

    def place_state(self, state: PyTree) -> PyTree:
        """Replicate ``state`` over the mesh (data parallel) or leave it on the default device."""
        return replicate(state, self.mesh) if self.mesh is not None else state

    def place(self, batch: Batch) -> dict[str, jax.Array]:
        """Move a NumPy batch to the device(s): sharded along the batch axis, or whole."""
        if self.mesh is not None:
            return shard_batch(batch, self.mesh)
        return {k: jnp.asarray(v) for k, v in batch.items()}

    # -- evaluation ------------------------------------------------------------------------
    def evaluate(self, params: PyTree, data: SequenceData) -> dict[str, float]:
        """Metrics of ``params`` on ``data`` (computed from whole-set statistics)."""
        it = BatchIterator(data, self.eval_batch_size, shuffle=False)
        acc = None
        for batch in it.epoch(0):
            acc = _add(acc, self.eval_step(params, self.place(batch)))
        return self.task.metrics(acc)

    def predict(
        self,
        params: PyTree,
        inputs: Float[ArrayLike, "batch time features"],
        timespans: Float[ArrayLike, "batch time"] | None = None,
    ) -> Array:
        """Model outputs for ``inputs`` (a jit-compiled :meth:`SequenceModel.apply`)."""
        inputs = jnp.asarray(inputs, jnp.float32)
        if timespans is None:
            timespans = jnp.ones(inputs.shape[:2], inputs.dtype)
        return self._predict(params, {"inputs": inputs, "timespans": jnp.asarray(timespans)})


#: The config fields that define the optimiser (and so the compiled train step).
_OPTIMIZER_FIELDS = (
    "epochs",
    "learning_rate",
    "optimizer",
    "weight_decay",
    "schedule",
    "warmup_epochs",
    "decay_rate",
    "grad_clip_norm",
)


@functools.lru_cache(maxsize=16)
def _compiled_steps(
    model: SequenceModel, task: Task, opt_fields: tuple, steps_per_epoch: int
) -> tuple[optax.GradientTransformation, optax.Schedule, Callable, Callable, Callable]:
    """Jitted train / eval / predict functions, cached so that repeated fits of the same
    model, task and optimiser (resumed runs, sweeps over seeds) compile only once."""
    optimizer, schedule = make_optimizer(TrainConfig(**dict(opt_fields)), steps_per_epoch)

    def apply(
        params: PyTree, batch: dict[str, Array], dropout_key: jax.Array | None = None
    ) -> Array:
        return model.apply(
            params,
            batch["inputs"],
            timespans=batch["timespans"],
            mask=batch.get("mask"),
            dropout_key=dropout_key,
        )

    def train_step(
        state: dict[str, Any], batch: dict[str, Array]
    ) -> tuple[dict[str, Any], dict[str, Array]]:
        mask = batch.get("mask")
        # The checkpointed RNG advances every step and keys this step's dropout, so a
        # resumed run draws the same dropout masks as an uninterrupted one.
        next_rng, dropout_key = jax.random.split(jax.random.wrap_key_data(state["rng"]))

        def loss_fn(params):
            out = apply(params, batch, dropout_key)
            return task.loss(out, batch["targets"], batch["weight"], mask), out

        (_, out), grads = jax.value_and_grad(loss_fn, has_aux=True)(state["params"])
        updates, opt_state = optimizer.update(grads, state["opt_state"], state["params"])
        params = model.project(optax.apply_updates(state["params"], updates))
        rng = jax.random.key_data(next_rng)
        stats = task.statistics(out, batch["targets"], batch["weight"], mask)
        new_state = {
            **state,
            "params": params,
            "opt_state": opt_state,
            "rng": rng,
            "step": state["step"] + 1,
        }
        return new_state, stats

    def eval_step(params: PyTree, batch: dict[str, Array]) -> dict[str, Array]:
        out = apply(params, batch)  # no dropout key: deterministic
        return task.statistics(out, batch["targets"], batch["weight"], batch.get("mask"))

    def predict(params: PyTree, batch: dict[str, Array]) -> Array:
        return apply(params, batch)

    return optimizer, schedule, jax.jit(train_step), jax.jit(eval_step), jax.jit(predict)


def _is_better(value: float, best: float | None, mode: str) -> bool:
    if best is None:
        return True
    return value < best if mode == "min" else value > best


def _write_jsonl(path: Path, history: list[dict[str, Any]]) -> None:
    write_text_atomically(path, "".join(json.dumps(r) + "\n" for r in history))


def _fmt(metrics: dict[str, float]) -> str:
    """``loss=... accuracy=...``, leaving out metrics equal to the loss (regression's mse)."""
    items = [(k, v) for k, v in metrics.items() if k == "loss" or v != metrics["loss"]]
    return " ".join(f"{k}={v:.4f}" for k, v in items)


def _postfix(metrics: dict[str, float]) -> dict[str, str]:
    """The progress bar's postfix: the running loss and metrics of the epoch (as in
    :func:`_fmt`).

    Example:
        >>> _postfix({"loss": 0.5, "accuracy": 0.75, "f1": 0.6})
        {'loss': '0.5000', 'accuracy': '0.7500', 'f1': '0.6000'}
        >>> _postfix({"loss": 0.25, "mse": 0.25})  # regression: mse is the loss
        {'loss': '0.2500'}
    """
    return {k: f"{v:.4f}" for k, v in metrics.items() if k == "loss" or v != metrics["loss"]}


def _format_epoch(record: dict[str, Any], epochs: int) -> str:
    fmt = _fmt

    star = " *" if record["best_epoch"] == record["epoch"] else ""
    return (
        f"epoch {record['epoch']:>3}/{epochs}  train: {fmt(record['train'])}  "
        f"valid: {fmt(record['valid'])}{star}"
    )


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
    ``result.json``. On several hosts only process 0 writes these files and prints; every
    process takes part in the checkpoint writes. ``resume=True`` continues
    from the newest complete checkpoint in ``out_dir`` and gives the same parameters as an
    uninterrupted run with the same config (starts afresh if there is none).

    Args:
        model: a :class:`SequenceModel`.
        task: a :class:`Task` matching the model and the targets.
        splits: train / valid / test :class:`~ltcjax.data.SequenceData`.
        config: a :class:`TrainConfig`.
        out_dir: output directory (needed for checkpoints and ``resume``).
        resume: continue from the last checkpoint in ``out_dir``.
        callbacks: functions called with ``{"event": "step", "step": n, "epoch": e}`` after
            every step and with the epoch record (``"event": "epoch"``) after every epoch
            (after its checkpoint is written).
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
    if resume and out_dir is None:
        raise ValueError("resume: needs out_dir (the directory holding the checkpoints)")
    for name in ("train", "valid", "test"):
        data = getattr(splits, name)
        if data.num_features != model.input_size:
            raise ValueError(
                f"splits.{name}: has {data.num_features} input features, but the model's "
                f"cell expects input_size={model.input_size}"
            )
    train_iter = BatchIterator(splits.train, config.batch_size, shuffle=True, seed=config.seed)
    trainer = Trainer(model, task, config, len(train_iter))
    state = trainer.init_state()
    history: list[dict[str, Any]] = []
    position = {"epoch": 0, "batch": 0}
    partial: dict[str, Array] | None = None
    best_value: float | None = None
    best_epoch = 0
    stopped_early = False

    primary = is_main_process()  # the process that writes logs, plots and results, and prints
    verbose = verbose and primary
    out = None if out_dir is None else Path(out_dir)
    store = None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        store = CheckpointStore(out / "checkpoints", max_to_keep=config.max_to_keep)
        if not resume and store.latest_step() is not None:
            store.close()
            raise FileExistsError(
                f"out_dir: {str(out)!r} already holds checkpoints; pass resume=True to "
                "continue that run, or choose another directory"
            )
    if resume and store is not None and store.latest_step() is not None:
        state, meta = store.restore(like=state)
        _check_resumable(meta, config, model, task, out)
        history = list(meta["history"])
        position = dict(meta["position"])
        partial = _from_json(meta["partial_stats"])
        best_value = meta["best_value"]
        best_epoch = int(meta["best_epoch"])
        stopped_early = bool(meta["stopped_early"])
        if verbose:
            print(
                f"resumed from step {int(state['step'])} (epoch {position['epoch']}, "
                f"batch {position['batch']}) in {out / 'checkpoints'}"
            )
    if out is not None and primary:
        _write_jsonl(out / "metrics.jsonl", history)

    def meta_now() -> dict[str, Any]:
        return {
            "position": position,
            "partial_stats": _to_json(partial),
            "history": history,
            "best_value": best_value,
            "best_epoch": best_epoch,
            "stopped_early": stopped_early,
            "config": config.to_dict(),
            "model": repr(model),
            "task": repr(task),
        }

    show_bars = verbose and config.progress
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency
        show_bars = False

    epoch = position["epoch"]
    while epoch < config.epochs and not stopped_early:
        start = position["batch"]
        bar = None
        if show_bars:
            bar = tqdm(
                total=len(train_iter),
                initial=start,
                desc=f"epoch {epoch + 1}/{config.epochs}",
                leave=False,
                dynamic_ncols=True,
            )
        for b, batch in enumerate(train_iter.epoch(epoch, start), start=start):
            state, stats = trainer.train_step(state, trainer.place(batch))
            partial = _add(partial, stats)
            step = int(state["step"])
            position = {"epoch": epoch, "batch": b + 1}
            if bar is not None:
                bar.update(1)
                bar.set_postfix(_postfix(task.metrics(partial)))
            every = config.checkpoint_every_steps
            if store is not None and every and step % every == 0 and b + 1 < len(train_iter):
                store.save(step, state, meta_now())
            for cb in callbacks:
                cb({"event": "step", "step": step, "epoch": epoch})
        if bar is not None:
            bar.close()
        train_metrics = task.metrics(partial)
        valid_metrics = trainer.evaluate(state["params"], splits.valid)
        value = valid_metrics[task.monitor]
        if _is_better(value, best_value, task.monitor_mode):
            best_value, best_epoch = value, epoch + 1
            state = {**state, "best_params": state["params"]}
        record = {
            "epoch": epoch + 1,
            "step": int(state["step"]),
            "lr": float(trainer.schedule(int(state["step"]))),
            "train": train_metrics,
            "valid": valid_metrics,
            "best_epoch": best_epoch,
        }
        history.append(record)
        partial = None
        epoch += 1
        position = {"epoch": epoch, "batch": 0}
        if config.patience is not None and epoch - best_epoch >= config.patience:
            stopped_early = epoch < config.epochs
        if verbose:
            (tqdm.write if show_bars else print)(_format_epoch(record, config.epochs))
        if out is not None and primary:
            _write_jsonl(out / "metrics.jsonl", history)
            # Every epoch (atomically), so that a killed run has its plot.
            plot_learning_curves(history, out / "learning_curves.png")
        if store is not None:
            store.save(int(state["step"]), state, meta_now())
        for cb in callbacks:
            cb({"event": "epoch", **record})

    if store is not None:
        store.close()
    best = state["best_params"]
    test_metrics = trainer.evaluate(best, splits.test)
    if verbose:
        print(f"test (best validation epoch {best_epoch}): {_fmt(test_metrics)}")
    result = FitResult(
        params=best,
        final_params=state["params"],
        history=history,
        best_epoch=best_epoch,
        test=test_metrics,
        stopped_early=stopped_early,
        out_dir=out,
    )
    if out is not None and primary:
        if not (out / "learning_curves.png").exists():  # e.g. resumed after the last epoch
            plot_learning_curves(history, out / "learning_curves.png")
        summary = {
            "best_epoch": best_epoch,
            "monitor": task.monitor,
            "best_valid": best_value,
            "test": test_metrics,
            "stopped_early": stopped_early,
            "epochs_run": len(history),
            "config": config.to_dict(),
            "model": repr(model),
        }
        write_text_atomically(out / "result.json", json.dumps(summary, indent=2) + "\n")
    return result


def _check_resumable(
    meta: dict[str, Any], config: TrainConfig, model: SequenceModel, task: Task, out: Path
) -> None:
    saved = meta["config"]
    now = config.to_dict()
    if saved.get("epochs") != config.epochs and config.schedule != "constant":
        raise ValueError(
            f"resume: the checkpoint in {str(out)!r} was written with epochs="
            f"{saved.get('epochs')!r}, but this run has epochs={config.epochs!r}; the "
            f"{config.schedule!r} learning-rate schedule depends on epochs, so it may only "
            "change with schedule='constant'"
        )
    for key, value in now.items():
        if key in _RESUMABLE_CHANGES:
            continue
        if saved.get(key) != value:
            raise ValueError(
                f"resume: the checkpoint in {str(out)!r} was written with {key}="
                f"{saved.get(key)!r}, but this run has {key}={value!r}"
            )
    if meta["model"] != repr(model):
        raise ValueError(f"resume: the checkpoint in {str(out)!r} is of a different model")
    if meta["task"] != repr(task):
        raise ValueError(f"resume: the checkpoint in {str(out)!r} is of a different task")
