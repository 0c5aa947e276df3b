"""Data sets, windowing and batching for training ltcjax models.

Example:
    >>> from ltcjax.data import make_synthetic, BatchIterator
    >>> splits = make_synthetic(num_sequences=40, seq_len=8, seed=0)
    >>> batch = next(BatchIterator(splits.train, batch_size=8).epoch(0))
    >>> batch.inputs.shape, batch.timespans.shape, batch.targets.shape
    ((8, 8, 1), (8, 8), (8, 8, 1))

The LTC paper's data sets load with :func:`load_task` (names in :data:`TASKS`, facts per
task from :func:`task_info`; see docs/data.md).
"""

from ltcjax.data.dataset import Batch, BatchIterator, SequenceData, Splits, load_npz_splits
from ltcjax.data.synthetic import make_synthetic, synthetic_oscillator
from ltcjax.data.tasks import TASKS, TaskInfo, load_task, task_info
from ltcjax.data.windows import sliding_windows, split_data, split_indices

__all__ = [
    "Batch",
    "BatchIterator",
    "TASKS",
    "SequenceData",
    "Splits",
    "TaskInfo",
    "load_npz_splits",
    "load_task",
    "make_synthetic",
    "sliding_windows",
    "split_data",
    "split_indices",
    "synthetic_oscillator",
    "task_info",
]
