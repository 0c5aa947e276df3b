"""Windowing and splitting helpers for time-series loaders (the paper's 75:10:15 protocol)."""

from __future__ import annotations

import numpy as np
from jaxtyping import Int, Shaped

from ltcjax.data.dataset import SequenceData, Splits
from ltcjax.validation import argument_error, check_positive_int

__all__ = ["sliding_windows", "split_data", "split_indices"]


def sliding_windows(
    array: Shaped[np.ndarray, "time ..."], window: int, stride: int
) -> Shaped[np.ndarray, "windows window ..."]:
    """Cut ``array`` along its first axis into windows of ``window`` rows every ``stride`` rows.

    Incomplete trailing windows are dropped, as in the paper's loaders.

    Example:
        >>> import numpy as np
        >>> sliding_windows(np.arange(10), window=4, stride=3).tolist()
        [[0, 1, 2, 3], [3, 4, 5, 6], [6, 7, 8, 9]]
    """
    check_positive_int("window", window)
    check_positive_int("stride", stride)
    array = np.asarray(array)
    if array.shape[0] < window:
        raise argument_error(
            "window", f"at most the series' {array.shape[0]} rows (axis 0)", repr(window)
        )
    starts = np.arange(0, array.shape[0] - window + 1, stride)
    return np.stack([array[s : s + window] for s in starts])


def split_indices(
    n: int, fractions: tuple[float, float, float] = (0.75, 0.10, 0.15), seed: int = 0
) -> tuple[Int[np.ndarray, " a"], Int[np.ndarray, " b"], Int[np.ndarray, " c"]]:
    """A seeded random partition of ``range(n)`` into train / valid / test index arrays.

    Valid and test sizes are ``round(n * fraction)``; train gets the rest.

    Example:
        >>> train, valid, test = split_indices(20, seed=1)
        >>> len(train), len(valid), len(test)
        (15, 2, 3)
        >>> sorted([*train, *valid, *test]) == list(range(20))
        True
    """
    if len(fractions) != 3 or any(f < 0 for f in fractions) or not np.isclose(sum(fractions), 1):
        raise argument_error("fractions", "three non-negative fractions summing to 1", fractions)
    perm = np.random.default_rng(seed).permutation(n)
    n_valid = round(n * fractions[1])
    n_test = round(n * fractions[2])
    n_train = n - n_valid - n_test
    if min(n_train, n_valid, n_test) < 1:
        raise argument_error(
            "n",
            f"enough sequences to split {fractions} with a non-empty part each",
            f"too few, {n}",
        )
    return perm[:n_train], perm[n_train : n_train + n_valid], perm[n_train + n_valid :]


def split_data(
    data: SequenceData,
    fractions: tuple[float, float, float] = (0.75, 0.10, 0.15),
    seed: int = 0,
) -> Splits:
    """Split ``data`` at random (seeded) into train / valid / test.

    Example:
        >>> import numpy as np
        >>> d = SequenceData(inputs=np.zeros((40, 3, 1)), timespans=np.ones((40, 3)),
        ...                  targets=np.zeros(40))
        >>> s = split_data(d, seed=0)
        >>> len(s.train), len(s.valid), len(s.test)
        (30, 4, 6)
    """
    train, valid, test = split_indices(len(data), fractions, seed)
    return Splits(train=data.take(train), valid=data.take(valid), test=data.take(test))
