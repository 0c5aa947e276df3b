"""Training ltcjax models with Optax: losses, metrics, the loop, checkpoints, data
parallelism, export and plots.

The modules, from the bottom up: ``losses`` and ``metrics`` (pure functions), ``task``
(:class:`Task`: what is learned), ``model`` (:class:`SequenceModel`: cell + readout),
``config`` (:class:`TrainConfig`, :func:`make_optimizer`), ``sharding`` (data parallelism),
``trainer`` (:class:`TrainState`, :class:`Trainer`: the jit-compiled steps), ``tracker``
(:class:`BestEpochTracker`: best epoch, early stopping), ``checkpoint`` and ``atomic``
(atomic writes), ``plots``, ``run_dir`` (:class:`RunDirectory`: the output files),
``progress`` (bars and epoch lines), ``loop`` (:func:`fit`) and ``cli`` (``ltcjax train``).

Example:
    >>> from ltcjax import LTCCell, AutoNCP
    >>> from ltcjax.data import make_synthetic
    >>> from ltcjax.train import SequenceModel, Task, TrainConfig, fit
    >>> splits = make_synthetic(num_sequences=40, seq_len=6, seed=0)
    >>> model = SequenceModel(cell=LTCCell(input_size=1, wiring=AutoNCP(8, 2)), output_dim=1)
    >>> task = Task(kind="regression", output_dim=1, sequence=True)
    >>> result = fit(model, task, splits, TrainConfig(epochs=1, batch_size=10), verbose=False)
    >>> result.best_epoch
    1
"""

from ltcjax.export import ExportedModel, export_model, load_exported
from ltcjax.train.checkpoint import CheckpointStore
from ltcjax.train.config import TrainConfig, make_optimizer
from ltcjax.train.loop import FitResult, fit
from ltcjax.train.losses import mean_squared_error, softmax_cross_entropy
from ltcjax.train.metrics import (
    accuracy,
    confusion_matrix,
    f1_score,
    metrics_from_confusion,
    mse,
)
from ltcjax.train.model import SequenceModel, project_cell_params
from ltcjax.train.plots import plot_learning_curves, plot_predictions
from ltcjax.train.run_dir import ExistingRunError, RunDirectory
from ltcjax.train.sharding import (
    batch_sharding,
    check_batch_divisible,
    data_mesh,
    replicate,
    replicated_sharding,
    shard_batch,
)
from ltcjax.train.task import Task
from ltcjax.train.tracker import BestEpochTracker
from ltcjax.train.trainer import Trainer, TrainState

__all__ = [
    "BestEpochTracker",
    "CheckpointStore",
    "ExistingRunError",
    "ExportedModel",
    "FitResult",
    "RunDirectory",
    "SequenceModel",
    "Task",
    "TrainConfig",
    "TrainState",
    "Trainer",
    "accuracy",
    "batch_sharding",
    "check_batch_divisible",
    "confusion_matrix",
    "data_mesh",
    "export_model",
    "f1_score",
    "fit",
    "load_exported",
    "make_optimizer",
    "mean_squared_error",
    "metrics_from_confusion",
    "mse",
    "plot_learning_curves",
    "plot_predictions",
    "project_cell_params",
    "replicate",
    "replicated_sharding",
    "shard_batch",
    "softmax_cross_entropy",
]
