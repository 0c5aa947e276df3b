"""UCI Occupancy Detection (data set 357): 5 sensor features, occupied or not (Table 3).

The paper's ``occupancy.py`` z-scores Temperature, Humidity, Light, CO2 and HumidityRatio with
the statistics of ``datatraining.txt``; cuts it into windows of 16 rows (the text says 32)
every row, and both test files into windows every 8 rows; takes ``int(0.1 n)`` training
windows for validation with ``RandomState(893429)``; the test set is both test files.
"""

from __future__ import annotations

import csv
import os

import numpy as np

from ltcjax.data.dataset import Splits
from ltcjax.data.tasks.common import cut_windows, regular, window_starts
from ltcjax.data.tasks.download import DataFile, locate_all
from ltcjax.validation import argument_error, check_positive_int

__all__ = ["FEATURES", "FILES", "load_occupancy", "read_occupancy_file"]

_URL = "https://archive.ics.uci.edu/ml/machine-learning-databases/00357/occupancy_data.zip"
FILES = tuple(
    DataFile("occupancy", name, _URL, (sha,), member=name, archive="zip")
    for name, sha in (
        ("datatraining.txt", "b2c4d0ce2b9e4e453c476f7125ef31aeec2d1f5c7f5572d0e80de3df6521ab56"),
        ("datatest.txt", "1b92c7c1b2838963464fa891a610cf3c5db4becb7189189b29b330107a584c7f"),
        ("datatest2.txt", "d026d1bd5aeccd4aff4f3b3710d48e40613bd5fc370db7e61bbdcaa50d985095"),
    )
)
FEATURES = ("Temperature", "Humidity", "Light", "CO2", "HumidityRatio")


def read_occupancy_file(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """The five features (n, 5) float64 and the occupancy labels (n,) int32 of one file
    (a header of column names; each row may start with an extra row id).

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "o.txt"
        >>> head = '"date","Temperature","Humidity","Light","CO2","HumidityRatio","Occupancy"'
        >>> _ = p.write_text(head + '\\n"1","2015-02-04 17:51:00",23.2,27.3,426,721,0.0048,1\\n')
        >>> x, y = read_occupancy_file(p)
        >>> x.shape, y.tolist()
        ((1, 5), [1])
    """
    with open(path, newline="") as f:
        rows = [r for r in csv.reader(f) if r]
    header = rows[0]
    missing = [c for c in (*FEATURES, "Occupancy") if c not in header]
    if missing:
        raise argument_error("data_dir", f"columns {missing} in {str(path)!r}", header)
    # pandas' rule: a row with one more field than the header starts with its index
    cols = [header.index(c) - len(header) for c in (*FEATURES, "Occupancy")]
    table = np.array([[r[c] for c in cols] for r in rows[1:]], dtype=np.float64)
    return table[:, :-1], table[:, -1].astype(np.int32)


def load_occupancy(
    data_dir: str | os.PathLike | None = None,
    *,
    seq_len: int = 16,
    include_last_window: bool = False,
    download: bool = True,
    verify: bool = True,
) -> Splits:
    """The occupancy task as the paper's code builds it: (N, 16, 5) windows, labels (N, 16).

    Args:
        data_dir: a directory with ``occupancy/datatraining.txt``, ``datatest.txt``,
            ``datatest2.txt``.
        seq_len: window length (the paper's code: 16; its text: 32). Test windows start every
            ``seq_len // 2`` rows.
        include_last_window: also take the window ending at the last row (the paper's
            ``range(0, n - seq_len, stride)`` never does).
        download: allow downloading into the cache (see :func:`ltcjax.data.load_task`).
        verify: check the files' sha256 (see :func:`ltcjax.data.load_task`).
    """
    check_positive_int("seq_len", seq_len)
    paths = locate_all(FILES, data_dir, download=download, verify=verify)
    (train_x, train_y), *tests = [read_occupancy_file(p) for p in paths]
    mean, std = train_x.mean(axis=0), train_x.std(axis=0)

    def windows(x: np.ndarray, y: np.ndarray, stride: int) -> tuple[np.ndarray, np.ndarray]:
        starts = window_starts(len(x), seq_len, stride, include_last=include_last_window)
        return cut_windows((x - mean) / std, starts, seq_len), cut_windows(y, starts, seq_len)

    x, y = windows(train_x, train_y, 1)
    parts = [windows(tx, ty, max(seq_len // 2, 1)) for tx, ty in tests]
    perm = np.random.RandomState(893429).permutation(len(x))
    n_valid = int(0.1 * len(x))
    return Splits(
        train=regular(x[perm[n_valid:]], y[perm[n_valid:]]),
        valid=regular(x[perm[:n_valid]], y[perm[:n_valid]]),
        test=regular(np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])),
    )
