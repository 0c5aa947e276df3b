"""Training hyper-parameters (:class:`TrainConfig`) and the Optax optimiser they define
(:func:`make_optimizer`)."""

from __future__ import annotations

import dataclasses
import numbers
from typing import Any, Literal

import numpy as np
import optax

from ltcjax.validation import (
    argument_error,
    check_choice,
    check_int,
    check_positive_int,
    check_positive_number,
)

__all__ = ["OPTIMIZERS", "SCHEDULES", "TrainConfig", "make_optimizer"]

OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop")
SCHEDULES = ("constant", "cosine", "warmup_cosine", "exponential")


@dataclasses.dataclass(frozen=True, kw_only=True)
class TrainConfig:
    """Training hyper-parameters.

    Args:
        epochs: passes over the training set.
        batch_size: sequences per training step (the global batch, over all devices).
        eval_batch_size: sequences per evaluation step (default ``batch_size``).
        learning_rate: peak learning rate.
        optimizer: "adam", "adamw", "sgd" (momentum 0.9) or "rmsprop".
        weight_decay: decoupled weight decay (adamw), >= 0.
        schedule: "constant", "cosine" (decay to 0), "warmup_cosine" (linear warm-up for
            ``warmup_epochs``, then cosine) or "exponential" (to ``decay_rate`` times the
            peak at the end).
        warmup_epochs: warm-up length for "warmup_cosine".
        decay_rate: final / initial learning rate for "exponential".
        grad_clip_norm: clip gradients to this global norm (None: no clipping).
        seed: seed (>= 0) of the initial parameters, the RNG and the shuffling.
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
        >>> TrainConfig(patience=0)
        Traceback (most recent call last):
        ...
        ValueError: patience: expected a positive integer or None, got 0
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
        check_positive_int("epochs", self.epochs)
        check_positive_int("batch_size", self.batch_size)
        check_positive_int("eval_batch_size", self.eval_batch_size, allow_none=True)
        check_positive_number("learning_rate", self.learning_rate)
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        wd = self.weight_decay
        if isinstance(wd, bool) or not isinstance(wd, numbers.Real) or not wd >= 0:
            raise argument_error("weight_decay", "a number >= 0", repr(wd))
        check_choice("schedule", self.schedule, SCHEDULES)
        check_int("warmup_epochs", self.warmup_epochs, minimum=0)
        check_positive_number("decay_rate", self.decay_rate)
        check_positive_number("grad_clip_norm", self.grad_clip_norm, allow_none=True)
        check_int("seed", self.seed, minimum=0)
        check_positive_int("patience", self.patience, allow_none=True)
        check_positive_int("checkpoint_every_steps", self.checkpoint_every_steps, allow_none=True)
        check_positive_int("max_to_keep", self.max_to_keep)
        for field in dataclasses.fields(self):  # NumPy scalars as Python numbers (for JSON)
            value = getattr(self, field.name)
            if isinstance(value, np.generic):
                object.__setattr__(self, field.name, value.item())

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
