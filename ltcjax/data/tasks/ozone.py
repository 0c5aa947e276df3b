"""UCI Ozone Level Detection, eight-hour peak (``eighthr.data``): 72 features (Table 3).

The paper's ``ozone.py`` replaces '?' by 0, z-scores the whole matrix with one scalar mean
and standard deviation, cuts windows of 32 every 4 rows, and then stacks them along the wrong
axis: what it trains on are 32 sequences (one per offset within a window) of 626 steps each
(every 4th day), split 25 / 3 / 4 by ``RandomState(23489)``, one batch per epoch. With
``window_axis_bug=False`` the 626 windows of 32 days are the sequences instead (split by the
same seed). The loss weighs class 1 (ozone day, 6.3%) 1.6 and class 0 0.1; the metric is F1.
"""

from __future__ import annotations

import os

import numpy as np

from ltcjax.data.dataset import Splits
from ltcjax.data.tasks.common import (
    cut_windows,
    paper_split,
    regular,
    split_by_indices,
    window_starts,
)
from ltcjax.data.tasks.download import DataFile, locate
from ltcjax.validation import argument_error, check_positive_int

__all__ = ["FILE", "load_ozone", "read_ozone"]

FILE = DataFile(
    "ozone",
    "eighthr.data",
    "https://archive.ics.uci.edu/ml/machine-learning-databases/ozone/eighthr.data",
    ("0c10d1e216db3249c565e3ed5474302032067f6df0ea6fd49e6f06ec061f83a9",),
)
NUM_FEATURES = 72


def read_ozone(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Features (n, 72) with '?' as 0 and labels (n,) int32 of ``eighthr.data`` (rows:
    date, 72 values, label). Reading stops at the first line without 74 fields, as in the
    paper's code.

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "eighthr.data"
        >>> _ = p.write_text("1/1/1998," + ",".join(["?"] + ["1.5"] * 71) + ",1.0\\n")
        >>> x, y = read_ozone(p)
        >>> x[0, :2].tolist(), y.tolist()
        ([0.0, 1.5], [1])
    """
    xs, ys = [], []
    with open(path) as f:
        for line in f:
            parts = line.rstrip("\r\n").split(",")
            if len(parts) != NUM_FEATURES + 2:
                break
            xs.append([0.0 if v == "?" else float(v) for v in parts[1:-1]])
            ys.append(int(float(parts[-1])))
    if not xs:
        raise argument_error("data_dir", f"rows of {NUM_FEATURES + 2} fields in {str(path)!r}", 0)
    return np.array(xs), np.array(ys, dtype=np.int32)


def load_ozone(
    data_dir: str | os.PathLike | None = None,
    *,
    seq_len: int = 32,
    stride: int = 4,
    window_axis_bug: bool = True,
    include_last_window: bool = False,
    download: bool = True,
    verify: bool = True,
) -> Splits:
    """Ozone as the paper's code builds it (see the module docstring).

    Default (``window_axis_bug=True``): inputs (32, 626, 72), labels (32, 626), split
    25 / 3 / 4. With ``window_axis_bug=False``: inputs (626, 32, 72), split 471 / 62 / 93.

    Args:
        data_dir: a directory with ``ozone/eighthr.data``.
        seq_len: window length (paper: 32).
        stride: rows between window starts (paper: 4).
        window_axis_bug: reproduce the paper's stacking along the wrong axis.
        include_last_window: also take the window ending at the last row.
        download: allow downloading into the cache (see :func:`ltcjax.data.load_task`).
        verify: check the files' sha256 (see :func:`ltcjax.data.load_task`).
    """
    check_positive_int("seq_len", seq_len)
    check_positive_int("stride", stride)
    x, y = read_ozone(locate(FILE, data_dir, download=download, verify=verify))
    x = (x - x.mean()) / x.std()
    starts = window_starts(len(x), seq_len, stride, include_last=include_last_window)
    wx, wy = cut_windows(x, starts, seq_len), cut_windows(y, starts, seq_len)
    if window_axis_bug:
        wx, wy = wx.transpose(1, 0, 2), wy.transpose(1, 0)
    data = regular(wx, wy.astype(np.int32))
    return split_by_indices(data, paper_split(len(data), seed=23489))
