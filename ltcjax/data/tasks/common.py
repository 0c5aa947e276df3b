"""What the paper's loaders share: task descriptions, their window starts and their splits.

The paper's code (``experiments_with_ltcs/*.py``) cuts windows with
``range(0, n - window, stride)``: a window that would end exactly at the end of the series is
never taken (an off-by-one). :func:`window_starts` reproduces that by default and takes it
with ``include_last=True``. Its random splits draw one ``np.random.RandomState(seed)``
permutation and take ``int(0.1 n)`` validation, then ``int(0.15 n)`` test sequences, the rest
for training (:func:`paper_split`).
"""

from __future__ import annotations

import dataclasses
from typing import Literal

import numpy as np
from jaxtyping import Int, Shaped

from ltcjax.data.dataset import SequenceData, Splits

__all__ = [
    "TaskInfo",
    "cut_windows",
    "paper_split",
    "regular",
    "split_by_indices",
    "window_starts",
]


@dataclasses.dataclass(frozen=True)
class TaskInfo:
    """What a runner needs to know about one of the paper's tasks.

    Attributes:
        name: the task's name in :data:`ltcjax.data.TASKS`.
        kind: ``"classification"`` or ``"regression"``.
        output_dim: classes (classification) or regression dimensions.
        input_dim: input features per step (with the default options).
        sequence: targets at every step (True) or one per sequence (False: smnist).
        class_weights: per-class loss weights (ozone: ``(0.1, 1.6)``, index 1 = positive), or
            None.
        metric: the paper's table metric, ``"accuracy"``, ``"mse"`` or ``"f1"``.
        batch_size: the paper's batch size (16; person activity 64).
        learning_rate_ltc: the paper's Adam learning rate for the LTC.
        learning_rate_baseline: the paper's learning rate for the other models.
        table: where the paper reports it, e.g. ``"Table 3"``.
        description: one line on the data and its windows.

    Example:
        >>> from ltcjax.data import task_info
        >>> info = task_info("ozone")
        >>> info.kind, info.output_dim, info.class_weights, info.metric
        ('classification', 2, (0.1, 1.6), 'f1')
    """

    name: str
    kind: Literal["classification", "regression"]
    output_dim: int
    input_dim: int
    sequence: bool
    class_weights: tuple[float, ...] | None
    metric: Literal["accuracy", "mse", "f1"]
    batch_size: int
    learning_rate_ltc: float
    learning_rate_baseline: float
    table: str
    description: str


def window_starts(
    n: int, window: int, stride: int, *, include_last: bool = False, shift: int = 0
) -> Int[np.ndarray, " windows"]:
    """Start rows of the windows the paper's code cuts from ``n`` rows.

    ``shift`` rows are reserved after each window (the cheetah targets are the inputs shifted
    by one). The paper's ``range(0, n - window - shift, stride)`` drops a window that would
    end exactly at row ``n``; ``include_last=True`` keeps it.

    Example:
        >>> window_starts(10, 4, 3).tolist(), window_starts(10, 4, 3, include_last=True).tolist()
        ([0, 3], [0, 3, 6])
    """
    stop = n - window - shift + (1 if include_last else 0)
    return np.arange(0, max(stop, 0), stride)


def cut_windows(
    array: Shaped[np.ndarray, "time ..."], starts: Int[np.ndarray, " windows"], window: int
) -> Shaped[np.ndarray, "windows window ..."]:
    """The rows ``[s, s + window)`` of ``array`` for each start ``s``, stacked.

    Example:
        >>> import numpy as np
        >>> cut_windows(np.arange(6), np.array([0, 2]), 3).tolist()
        [[0, 1, 2], [2, 3, 4]]
    """
    return np.asarray(array)[np.asarray(starts)[:, None] + np.arange(window)]


def paper_split(
    n: int, seed: int, valid: float = 0.1, test: float = 0.15
) -> tuple[Int[np.ndarray, " a"], Int[np.ndarray, " b"], Int[np.ndarray, " c"]]:
    """The paper's split of ``range(n)``: ``RandomState(seed).permutation(n)``, the first
    ``int(valid n)`` for validation, the next ``int(test n)`` for test, the rest for training.

    Returns ``(train, valid, test)`` index arrays, each in permutation order.

    Example:
        >>> train, valid, test = paper_split(605, seed=23489)
        >>> len(train), len(valid), len(test)
        (455, 60, 90)
    """
    perm = np.random.RandomState(seed).permutation(n)
    n_valid = int(valid * n)
    n_test = int(test * n)
    return perm[n_valid + n_test :], perm[:n_valid], perm[n_valid : n_valid + n_test]


def regular(inputs: np.ndarray, targets: np.ndarray) -> SequenceData:
    """A :class:`SequenceData` of regularly sampled sequences (every elapsed time 1.0),
    inputs as float32."""
    inputs = np.ascontiguousarray(inputs, dtype=np.float32)
    return SequenceData(
        inputs=inputs,
        timespans=np.ones(inputs.shape[:2], np.float32),
        targets=np.ascontiguousarray(targets),
    )


def split_by_indices(
    data: SequenceData,
    indices: tuple[Int[np.ndarray, " a"], Int[np.ndarray, " b"], Int[np.ndarray, " c"]],
) -> Splits:
    """``Splits`` of ``data`` from ``(train, valid, test)`` index arrays."""
    train, valid, test = indices
    return Splits(train=data.take(train), valid=data.take(valid), test=data.take(test))
