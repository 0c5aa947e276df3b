"""The jit-compiled steps of training: :class:`TrainState` (what a step updates) and
:class:`Trainer` (train, eval and predict steps of a model on a task, and where batches and
states live: one device, or replicated over a data-parallel mesh)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import NamedTuple, TypeVar

import jax
import jax.numpy as jnp
import optax
from jaxtyping import Array, ArrayLike, Float, Int, UInt32

from ltcjax.custom_types import PyTree
from ltcjax.data.dataset import Batch, BatchIterator, SequenceData
from ltcjax.train.config import TrainConfig, make_optimizer
from ltcjax.train.model import SequenceModel
from ltcjax.train.sharding import check_batch_divisible, data_mesh, replicate, shard_batch
from ltcjax.train.task import Task
from ltcjax.validation import argument_error

__all__ = ["Statistics", "TrainState", "Trainer", "add_statistics"]

#: Additive statistics of batches (see :meth:`Task.statistics`).
Statistics = dict[str, Array]
BatchTree = TypeVar("BatchTree")

#: The config fields that define the optimiser (and so the compiled train step).
OPTIMIZER_FIELDS = (
    "epochs",
    "learning_rate",
    "optimizer",
    "weight_decay",
    "schedule",
    "warmup_epochs",
    "decay_rate",
    "grad_clip_norm",
)


class TrainState(NamedTuple):
    """Everything a training step reads and writes (a pytree: it passes through ``jit``, is
    replicated over a mesh and checkpointed by orbax).

    Attributes:
        params: the current parameters.
        opt_state: the Optax optimiser state.
        rng: key data of the RNG; each step splits it into the next RNG and its dropout key.
        step: the number of steps taken.
        best_params: the parameters of the best validation epoch so far.
    """

    params: PyTree
    opt_state: PyTree
    rng: UInt32[Array, " key"]
    step: Int[Array, ""]
    best_params: PyTree


def add_statistics(total: Statistics | None, stats: Statistics) -> Statistics:
    """``total + stats`` leaf by leaf (``stats`` if ``total`` is None).

    Example:
        >>> import jax.numpy as jnp
        >>> add_statistics({"count": jnp.array(2.0)}, {"count": jnp.array(3.0)})["count"].item()
        5.0
    """
    return stats if total is None else jax.tree.map(jnp.add, total, stats)


class Trainer:
    """Jit-compiled train and eval steps for a :class:`SequenceModel` on a :class:`Task`.

    Args:
        model: the model (cell + readout).
        task: the task; its ``output_dim`` and ``sequence`` must match the model's.
        config: the training configuration.
        steps_per_epoch: training steps per epoch (sets the length of the LR schedule).

    Example:
        >>> from ltcjax import LTCCell
        >>> from ltcjax.data import make_synthetic, BatchIterator
        >>> splits = make_synthetic(num_sequences=32, seq_len=6, seed=0)
        >>> model = SequenceModel(cell=LTCCell(input_size=1, units=4), output_dim=1)
        >>> task = Task(kind="regression", output_dim=1, sequence=True)
        >>> trainer = Trainer(model, task, TrainConfig(batch_size=8, progress=False), 3)
        >>> state = trainer.init_state()
        >>> batch = next(BatchIterator(splits.train, 8).epoch(0))
        >>> state, stats = trainer.train_step(state, trainer.place(batch))
        >>> int(state.step), sorted(stats)
        (1, ['count', 'loss_sum', 'se_sum'])
    """

    def __init__(
        self, model: SequenceModel, task: Task, config: TrainConfig, steps_per_epoch: int
    ) -> None:
        if not isinstance(model, SequenceModel):
            raise argument_error("model", "a SequenceModel", type(model))
        if model.output_dim != task.output_dim:
            raise argument_error(
                "model", f"output_dim={task.output_dim} (the task's)", model.output_dim
            )
        if model.return_sequences != task.sequence:
            raise argument_error(
                "model",
                f"return_sequences={task.sequence} (the task's sequence)",
                model.return_sequences,
            )
        self.model = model
        self.task = task
        self.config = config
        self.steps_per_epoch = steps_per_epoch
        opt_fields = tuple((k, getattr(config, k)) for k in OPTIMIZER_FIELDS)
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

    # -- state and data placement ----------------------------------------------------------
    def init_state(self, key: jax.Array | None = None) -> TrainState:
        """A fresh :class:`TrainState` (from ``key``, default the config's seed), placed."""
        if key is None:
            key = jax.random.key(self.config.seed)
        k_params, k_rng = jax.random.split(key)
        params = self.model.project(self.model.init(k_params))
        state = TrainState(
            params=params,
            opt_state=self.optimizer.init(params),
            rng=jax.random.key_data(k_rng),
            step=jnp.zeros((), jnp.int32),
            best_params=params,
        )
        return self.place_state(state)

    def place_state(self, state: PyTree) -> PyTree:
        """Replicate ``state`` over the mesh (data parallel) or leave it on the default device."""
        return replicate(state, self.mesh) if self.mesh is not None else state

    def place(self, batch: BatchTree) -> BatchTree:
        """Move a NumPy :class:`~ltcjax.data.Batch` (or any pytree of batch-major arrays) to
        the device(s): sharded along the batch axis over the mesh, or whole."""
        if self.mesh is not None:
            return shard_batch(batch, self.mesh)
        return jax.tree.map(jnp.asarray, batch)

    # -- evaluation ------------------------------------------------------------------------
    def evaluate(self, params: PyTree, data: SequenceData) -> dict[str, float]:
        """Metrics of ``params`` on ``data`` (computed from whole-set statistics)."""
        total = None
        for batch in BatchIterator(data, self.eval_batch_size, shuffle=False).epoch(0):
            total = add_statistics(total, self.eval_step(params, self.place(batch)))
        return self.task.metrics(total)

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
        return self._predict(params, inputs, jnp.asarray(timespans))


@functools.lru_cache(maxsize=16)
def _compiled_steps(
    model: SequenceModel, task: Task, opt_fields: tuple, steps_per_epoch: int
) -> tuple[optax.GradientTransformation, optax.Schedule, Callable, Callable, Callable]:
    """Jitted train / eval / predict functions, cached so that repeated fits of the same
    model, task and optimiser (resumed runs, sweeps over seeds) compile only once."""
    optimizer, schedule = make_optimizer(TrainConfig(**dict(opt_fields)), steps_per_epoch)

    def apply(params: PyTree, batch: Batch, dropout_key: jax.Array | None = None) -> Array:
        return model.apply(
            params,
            batch.inputs,
            timespans=batch.timespans,
            mask=batch.mask,
            dropout_key=dropout_key,
        )

    def train_step(state: TrainState, batch: Batch) -> tuple[TrainState, Statistics]:
        # The checkpointed RNG advances every step and keys this step's dropout, so a
        # resumed run draws the same dropout masks as an uninterrupted one.
        next_rng, dropout_key = jax.random.split(jax.random.wrap_key_data(state.rng))

        def loss_fn(params):
            out = apply(params, batch, dropout_key)
            return task.loss(out, batch.targets, batch.weight, batch.mask), out

        (_, out), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.params)
        updates, opt_state = optimizer.update(grads, state.opt_state, state.params)
        new_state = state._replace(
            params=model.project(optax.apply_updates(state.params, updates)),
            opt_state=opt_state,
            rng=jax.random.key_data(next_rng),
            step=state.step + 1,
        )
        return new_state, task.statistics(out, batch.targets, batch.weight, batch.mask)

    def eval_step(params: PyTree, batch: Batch) -> Statistics:
        out = apply(params, batch)  # no dropout key: deterministic
        return task.statistics(out, batch.targets, batch.weight, batch.mask)

    def predict(params: PyTree, inputs: Array, timespans: Array) -> Array:
        return model.apply(params, inputs, timespans=timespans)

    return optimizer, schedule, jax.jit(train_step), jax.jit(eval_step), jax.jit(predict)
