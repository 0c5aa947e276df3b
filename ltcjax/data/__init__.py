"""Data sets, windowing and batching for training ltcjax models.

Example:
    >>> from ltcjax.data import make_synthetic, BatchIterator
    >>> splits = make_synthetic(num_sequences=40, seq_len=8, seed=0)
    >>> batch = next(BatchIterator(splits.train, batch_size=8).epoch(0))
    >>> batch.inputs.shape, batch.timespans.shape, batch.targets.shape
    ((8, 8, 1), (8, 8), (8, 8, 1))
"""

from ltcjax.data.dataset import Batch, BatchIterator, SequenceData, Splits, load_npz_splits
from ltcjax.data.synthetic import make_synthetic, synthetic_oscillator
from ltcjax.data.windows import sliding_windows, split_data, split_indices

__all__ = [
    "Batch",
    "BatchIterator",
    "SequenceData",
    "Splits",
    "load_npz_splits",
    "make_synthetic",
    "sliding_windows",
    "split_data",
    "split_indices",
    "synthetic_oscillator",
]
