"""Training ltcjax models with Optax: losses, metrics, the loop, checkpoints, data
parallelism, export and plots.

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

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

#: Public names and the modules defining them. They are imported on first use (PEP 562), so
#: that light modules such as ``ltcjax.train.export`` do not pull in Optax and Orbax.
_EXPORTS = {
    "CheckpointStore": "ltcjax.train.checkpoint",
    "ExportedModel": "ltcjax.export",
    "export_model": "ltcjax.export",
    "load_exported": "ltcjax.export",
    "FitResult": "ltcjax.train.loop",
    "TrainConfig": "ltcjax.train.loop",
    "Trainer": "ltcjax.train.loop",
    "fit": "ltcjax.train.loop",
    "make_optimizer": "ltcjax.train.loop",
    "mean_squared_error": "ltcjax.train.losses",
    "softmax_cross_entropy": "ltcjax.train.losses",
    "accuracy": "ltcjax.train.metrics",
    "confusion_matrix": "ltcjax.train.metrics",
    "f1_score": "ltcjax.train.metrics",
    "metrics_from_confusion": "ltcjax.train.metrics",
    "mse": "ltcjax.train.metrics",
    "SequenceModel": "ltcjax.train.model",
    "project_cell_params": "ltcjax.train.model",
    "plot_learning_curves": "ltcjax.train.plots",
    "plot_predictions": "ltcjax.train.plots",
    "batch_sharding": "ltcjax.train.sharding",
    "check_batch_divisible": "ltcjax.train.sharding",
    "data_mesh": "ltcjax.train.sharding",
    "replicate": "ltcjax.train.sharding",
    "replicated_sharding": "ltcjax.train.sharding",
    "shard_batch": "ltcjax.train.sharding",
    "Task": "ltcjax.train.task",
}

if TYPE_CHECKING:  # static type checkers and IDEs see the eager imports
    from ltcjax.export import ExportedModel, export_model, load_exported
    from ltcjax.train.checkpoint import CheckpointStore
    from ltcjax.train.loop import FitResult, TrainConfig, Trainer, fit, make_optimizer
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
    from ltcjax.train.sharding import (
        batch_sharding,
        check_batch_divisible,
        data_mesh,
        replicate,
        replicated_sharding,
        shard_batch,
    )
    from ltcjax.train.task import Task


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'ltcjax.train' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


__all__ = [
    "CheckpointStore",
    "ExportedModel",
    "FitResult",
    "SequenceModel",
    "Task",
    "TrainConfig",
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
