"""UCI Human Activity Recognition (data set 240): 561 features, 6 activities (Table 3).

The paper's ``har.py`` reads ``train/X_train.txt``, ``train/y_train.txt``,
``test/X_test.txt`` and ``test/y_test.txt`` of ``UCI HAR Dataset.zip`` (labels 1-6 become
0-5; no normalisation); cuts the training rows into windows of 16 every row and the test
rows into windows of 16 every 8 rows, across subject boundaries as the files list them; and
takes ``int(0.1 n)`` training windows for validation with ``RandomState(893429)``.
No checksum of the archive is published: a download is trusted on first use (recorded).
"""

from __future__ import annotations

import os

import numpy as np

from ltcjax.data.dataset import Splits
from ltcjax.data.tasks.common import cut_windows, regular, window_starts
from ltcjax.data.tasks.download import DataFile, locate_all
from ltcjax.validation import argument_error, check_positive_int

__all__ = ["FILES", "load_har", "read_har"]

_URL = "https://archive.ics.uci.edu/ml/machine-learning-databases/00240/UCI%20HAR%20Dataset.zip"
FILES = tuple(
    DataFile("har", name, _URL, member=f"{split}/{name}", archive="zip")
    for split, name in (
        ("train", "X_train.txt"),
        ("train", "y_train.txt"),
        ("test", "X_test.txt"),
        ("test", "y_test.txt"),
    )
)
NUM_FEATURES = 561


def read_har(x_path: str | os.PathLike, y_path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Features (n, 561) and labels (n,) int32 in 0-5 of one split's two text files.

    Example:
        >>> import tempfile, pathlib
        >>> d = pathlib.Path(tempfile.mkdtemp())
        >>> _ = (d / "X.txt").write_text(" ".join(["0.5"] * 561) + "\\n")
        >>> _ = (d / "y.txt").write_text("4\\n")
        >>> x, y = read_har(d / "X.txt", d / "y.txt")
        >>> x.shape, y.tolist()
        ((1, 561), [3])
    """
    x = np.loadtxt(x_path, dtype=np.float64, ndmin=2)
    y = np.loadtxt(y_path, dtype=np.float64, ndmin=1)
    if x.shape[1] != NUM_FEATURES or len(y) != len(x):
        raise argument_error(
            "data_dir",
            f"{NUM_FEATURES} features per row in {str(x_path)!r} and one label per row",
            f"{x.shape} features and {y.shape} labels",
        )
    if y.min() < 1 or y.max() > 6:
        raise argument_error("data_dir", f"labels 1-6 in {str(y_path)!r}", y.min())
    return x, (y - 1).astype(np.int32)


def load_har(
    data_dir: str | os.PathLike | None = None,
    *,
    seq_len: int = 16,
    include_last_window: bool = False,
    download: bool = True,
    verify: bool = True,
) -> Splits:
    """The HAR task as the paper's code builds it: (N, 16, 561) windows, labels (N, 16).

    Args:
        data_dir: a directory with ``har/X_train.txt`` ... or the archive's own layout
            ``har/UCI HAR Dataset/train/X_train.txt``.
        seq_len: window length (the paper's code: 16); test windows every ``seq_len // 2``.
        include_last_window: also take the window ending at the last row.
        download: allow downloading into the cache (see :func:`ltcjax.data.load_task`).
        verify: check the files' sha256 (see :func:`ltcjax.data.load_task`).
    """
    check_positive_int("seq_len", seq_len)
    xtr, ytr, xte, yte = locate_all(FILES, data_dir, download=download, verify=verify)

    def windows(x: np.ndarray, y: np.ndarray, stride: int) -> tuple[np.ndarray, np.ndarray]:
        starts = window_starts(len(x), seq_len, stride, include_last=include_last_window)
        return cut_windows(x, starts, seq_len), cut_windows(y, starts, seq_len)

    x, y = windows(*read_har(xtr, ytr), 1)
    test_x, test_y = windows(*read_har(xte, yte), max(seq_len // 2, 1))
    perm = np.random.RandomState(893429).permutation(len(x))
    n_valid = int(0.1 * len(x))
    return Splits(
        train=regular(x[perm[n_valid:]], y[perm[n_valid:]]),
        valid=regular(x[perm[:n_valid]], y[perm[:n_valid]]),
        test=regular(test_x, test_y),
    )
