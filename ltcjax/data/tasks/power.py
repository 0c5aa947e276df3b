"""UCI Individual Household Electric Power Consumption (data set 235) (Table 3).

The paper's ``power.py`` reads the minute rows (2,075,259; the text says hourly), replaces
each missing value ('?') by the last value of its column (a column missing from the first
row would get its column index, 0-6), z-scores each column on the full data (statistics
computed in float32, see ``float32_statistics``), predicts
Global_active_power (y) from the other six columns (x), cuts windows of 32 every 32 rows and
splits them by ``RandomState(23489)``: 48639 / 6485 / 9727 windows.

Parsing 2 million rows takes seconds, so the parsed matrix is cached in the cache directory
(``parsed-*.npz``, keyed by the source file's sha256).
"""

from __future__ import annotations

import gzip
import io
import os
from pathlib import Path

import numpy as np

from ltcjax.data.dataset import Splits
from ltcjax.data.tasks.common import (
    cut_windows,
    paper_split,
    regular,
    split_by_indices,
    window_starts,
)
from ltcjax.data.tasks.download import DataFile, cached_arrays, file_sha256, locate
from ltcjax.validation import argument_error, check_positive_int

__all__ = ["FILE", "fill_forward", "load_power", "read_power"]

#: The unzipped UCI text (no sha256 published: trusted on first download), or the gzipped
#: rebuild of ../shared/data (accepted by its own checksum; see docs/data.md).
FILE = DataFile(
    "power",
    "household_power_consumption.txt",
    "https://archive.ics.uci.edu/ml/machine-learning-databases/00235/"
    "household_power_consumption.zip",
    member="household_power_consumption.txt",
    archive="zip",
    alternatives=(
        (
            "household_power_consumption.txt.gz",
            "5dab1f31ae75425ca71598f4c9b291c6a7ee02545d0a67613c0112058c7364a6",
        ),
    ),
)
_PARSER_VERSION = "1"


def fill_forward(values: np.ndarray) -> np.ndarray:
    """Replace each NaN by the last finite value above it in its column; a column that
    starts with NaN uses its column index until its first value (the paper's quirk).

    Example:
        >>> import numpy as np
        >>> fill_forward(np.array([[np.nan, 1.0], [2.0, np.nan], [np.nan, 3.0]])).tolist()
        [[0.0, 1.0], [2.0, 1.0], [2.0, 3.0]]
    """
    values = np.asarray(values, dtype=np.float64)
    n, f = values.shape
    padded = np.concatenate([np.arange(f, dtype=np.float64)[None], values])
    valid = ~np.isnan(padded)
    last = np.maximum.accumulate(np.where(valid, np.arange(n + 1)[:, None], 0), axis=0)
    return padded[last, np.arange(f)][1:]


def read_power(path: str | os.PathLike) -> np.ndarray:
    """The seven value columns (n, 7) float64 of the ';'-separated text (plain or .gz),
    '?' and empty fields as NaN.

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "p.txt"
        >>> _ = p.write_text("Date;Time;a;b;c;d;e;f;g\\n1/1/2007;00:00:00;1;2;3;4;5;6;7\\n"
        ...                  "1/1/2007;00:01:00;?;?;?;?;?;?;\\n")
        >>> read_power(p)[:, [0, 6]].tolist()
        [[1.0, 7.0], [nan, nan]]
    """
    path = Path(path)
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    text = raw.replace(b"?", b"nan").replace(b"\r\n", b"\n").replace(b";\n", b";nan\n")
    try:
        values = np.loadtxt(
            io.BytesIO(text),
            delimiter=";",
            dtype=np.float64,
            skiprows=1,
            usecols=range(2, 9),
            ndmin=2,
        )
    except ValueError as err:
        raise argument_error(
            "data_dir", f"rows 'Date;Time;' + 7 values in {str(path)!r}", err
        ) from err
    return values


def load_power(
    data_dir: str | os.PathLike | None = None,
    *,
    seq_len: int = 32,
    include_last_window: bool = False,
    float32_statistics: bool = True,
    download: bool = True,
    verify: bool = True,
) -> Splits:
    """Power as the paper's code builds it: inputs (N, 32, 6), targets (N, 32, 1).

    Args:
        data_dir: a directory with ``power/household_power_consumption.txt`` (the UCI text)
            or ``power/household_power_consumption.txt.gz``.
        seq_len: window length, also the stride (paper: 32 minute rows).
        include_last_window: also take the window ending at the last row.
        float32_statistics: compute the z-score statistics in float32 as the paper's code
            does; over 2 million rows float32 accumulation is inexact (the Voltage mean comes
            out 243.4 V instead of 240.8 V, so the standardised Voltage has mean -0.79).
            False computes them in float64.
        download: allow downloading into the cache (see :func:`ltcjax.data.load_task`).
        verify: check the files' sha256 (see :func:`ltcjax.data.load_task`).
    """
    check_positive_int("seq_len", seq_len)
    path = locate(FILE, data_dir, download=download, verify=verify)
    key = f"v{_PARSER_VERSION}-{file_sha256(path)[:24]}"
    table = cached_arrays(
        "power", key, lambda: {"values": fill_forward(read_power(path)).astype(np.float32)}
    )["values"]
    if float32_statistics:  # the paper's in-place float32 arithmetic, reproduced exactly
        table = table.copy()
        table -= np.mean(table, axis=0)
        table /= np.std(table, axis=0)
    else:
        table = table.astype(np.float64)
        table = ((table - table.mean(axis=0)) / table.std(axis=0)).astype(np.float32)
    starts = window_starts(len(table), seq_len, seq_len, include_last=include_last_window)
    data = regular(
        cut_windows(table[:, 1:], starts, seq_len), cut_windows(table[:, :1], starts, seq_len)
    )
    return split_by_indices(data, paper_split(len(data), seed=23489))
