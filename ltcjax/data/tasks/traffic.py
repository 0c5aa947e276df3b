"""UCI Metro Interstate Traffic Volume (data set 492): 7 features, hourly volume (Table 3).

The paper's ``traffic.py`` builds the features holiday, temp - mean(temp), rain_1h, snow_1h,
clouds_all, weekday (Monday 0) and sin(hour pi / 24), and the z-scored traffic volume as the
target; it cuts windows of 32 every 4 rows. Two of its behaviours are bugs, each an option:

- ``holiday_bug`` (default True): its holiday feature compares the column to Python's
  ``None`` and is therefore 0 everywhere; False sets it to 1 on holidays.
- ``window_axis_bug`` (default True): until a fix of 2021 (commit a0bede1, after the
  paper) it stacked the windows along the wrong axis, as ozone does: 32 sequences of 12043
  steps (every 4th hour), split 25 / 3 / 4 by ``RandomState(23489)``. The paper's numbers
  most likely come from that version. False gives the fixed loader: 12043 windows of 32
  hours, split 9033 / 1204 / 1806.
"""

from __future__ import annotations

import csv
import datetime
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

__all__ = ["FILE", "load_traffic", "traffic_features"]

FILE = DataFile(
    "traffic",
    "Metro_Interstate_Traffic_Volume.csv",
    "https://archive.ics.uci.edu/ml/machine-learning-databases/00492/"
    "Metro_Interstate_Traffic_Volume.csv.gz",
    ("3ec6b8844c4e5e20904855c81079a30e4342da20b7010e78606a244e539f29f6",),
    archive="gzip",
)
COLUMNS = ("holiday", "temp", "rain_1h", "snow_1h", "clouds_all", "date_time", "traffic_volume")


def traffic_features(
    path: str | os.PathLike, *, holiday_bug: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Features (n, 7) float32 and the z-scored volume (n,) float32 of the CSV file.

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
        >>> rows = ["holiday,temp,rain_1h,snow_1h,clouds_all,weather_main,"
        ...         "weather_description,date_time,traffic_volume",
        ...         "None,280,0,0,40,Clouds,x,2012-10-02 06:00:00,100",
        ...         "Columbus Day,290,0,0,75,Clouds,x,2012-10-08 12:00:00,300"]
        >>> _ = p.write_text("\\n".join(rows) + "\\n")
        >>> x, y = traffic_features(p, holiday_bug=False)
        >>> x[:, 0].tolist(), x[:, 1].tolist(), x[:, 5].tolist(), y.tolist()
        ([0.0, 1.0], [-5.0, 5.0], [1.0, 0.0], [-1.0, 1.0])
    """
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows or any(c not in rows[0] for c in COLUMNS):
        raise argument_error("data_dir", f"columns {COLUMNS} in {str(path)!r}", "others")
    times = [datetime.datetime.strptime(r["date_time"], "%Y-%m-%d %H:%M:%S") for r in rows]
    holiday = np.array(
        [0.0 if holiday_bug else float(r["holiday"] not in ("None", "")) for r in rows],
        np.float32,
    )

    def col(name: str) -> np.ndarray:
        return np.array([r[name] for r in rows], dtype=np.float32)

    temp = col("temp")
    hour = np.array([t.hour for t in times], np.float32)
    x = np.stack(
        [
            holiday,
            temp - temp.mean(),
            col("rain_1h"),
            col("snow_1h"),
            col("clouds_all"),
            np.array([t.weekday() for t in times], np.float32),
            np.sin(hour * np.pi / 24),
        ],
        axis=-1,
    )
    volume = col("traffic_volume")
    return x, (volume - volume.mean()) / volume.std()


def load_traffic(
    data_dir: str | os.PathLike | None = None,
    *,
    seq_len: int = 32,
    stride: int = 4,
    window_axis_bug: bool = True,
    holiday_bug: bool = True,
    include_last_window: bool = False,
    download: bool = True,
    verify: bool = True,
) -> Splits:
    """Traffic as the paper's code builds it (see the module docstring): inputs
    (32, 12043, 7) and targets (32, 12043, 1) by default, (12043, 32, 7) with
    ``window_axis_bug=False``.

    Args:
        data_dir: a directory with ``traffic/Metro_Interstate_Traffic_Volume.csv``.
        seq_len: window length (paper: 32).
        stride: rows between window starts (paper: 4).
        window_axis_bug: reproduce the pre-2021 loader's stacking along the wrong axis.
        holiday_bug: reproduce the constant-0 holiday feature.
        include_last_window: also take the window ending at the last row.
        download: allow downloading into the cache (see :func:`ltcjax.data.load_task`).
        verify: check the files' sha256 (see :func:`ltcjax.data.load_task`).
    """
    check_positive_int("seq_len", seq_len)
    check_positive_int("stride", stride)
    path = locate(FILE, data_dir, download=download, verify=verify)
    x, y = traffic_features(path, holiday_bug=holiday_bug)
    starts = window_starts(len(x), seq_len, stride, include_last=include_last_window)
    wx, wy = cut_windows(x, starts, seq_len), cut_windows(y[:, None], starts, seq_len)
    if window_axis_bug:
        wx, wy = wx.transpose(1, 0, 2), wy.transpose(1, 0, 2)
    data = regular(wx, wy.astype(np.float32))
    return split_by_indices(data, paper_split(len(data), seed=23489))
