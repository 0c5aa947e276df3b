"""UCI Gesture Phase Segmentation (data set 302): 32 features, 5 phases (Table 3).

The paper's ``gesture.py`` reads the seven processed ``*_va3.csv`` files in the order
a3, b1, b3, c1, c3, a2, a1; cuts each into windows of 32 rows at offsets 0, 32, 64, ... with
a half-shifted copy (offset +16) between consecutive windows; z-scores every feature with the
mean and standard deviation of *all* windows (before the split, counting the overlapping rows
twice); and draws ``RandomState(23489)``: 10% validation, 15% test, 75% training windows.
"""

from __future__ import annotations

import csv
import os

import numpy as np

from ltcjax.data.dataset import SequenceData, Splits
from ltcjax.data.tasks.common import paper_split, regular, split_by_indices
from ltcjax.data.tasks.download import DataFile, locate_all
from ltcjax.validation import argument_error, check_positive_int

__all__ = ["FILES", "PHASES", "load_gesture", "read_gesture_csv"]

_URL = "https://archive.ics.uci.edu/ml/machine-learning-databases/00302/gesture_phase_dataset.zip"
#: The seven files in the order the paper's code reads them, with their sha256.
FILES = tuple(
    DataFile("gesture", name, _URL, (sha,), member=name, archive="zip")
    for name, sha in (
        ("a3_va3.csv", "0ef1ae696b179eccfdfc85cdaf6abcf83ff95209060e94185d0b9dfbbed765d3"),
        ("b1_va3.csv", "fc530377ccf5da9fb8d82df04806d853afe988cc3dfead00608696a4a321875b"),
        ("b3_va3.csv", "011a99aa42d984a9ad5f31e191fd6b9f6c4e72ae75c63e804c5e8905b896d115"),
        ("c1_va3.csv", "4f4fe22b7839f696ee0fa8cd50aa6ae8082224db6ddb0767c5d405aa3d98ea42"),
        ("c3_va3.csv", "032dd63b2a5ca1a0b21bfa3feae06cc09bb9f9cf2d4254c621f87cfff3186c42"),
        ("a2_va3.csv", "3f921cab6fc8395b26ec772874583fe4eb211e15f856b6bfb45627cf4620fa48"),
        ("a1_va3.csv", "df3fcdd481cf746e10e380c02f28d4554d7d67e53eda5bfd8b861dcb2037300c"),
    )
)
#: Phase letters to class indices (as in the paper's code).
PHASES = {"D": 0, "P": 1, "S": 2, "H": 3, "R": 4}


def read_gesture_csv(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Features (n, 32) float32 and phase labels (n,) int32 of one ``*_va3.csv`` file.

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "g.csv"
        >>> _ = p.write_text("1,2,Phase\\n0.5,1.5,S\\n")
        >>> x, y = read_gesture_csv(p)
        >>> x.tolist(), y.tolist()
        ([[0.5, 1.5]], [2])
    """
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], [r for r in rows[1:] if r]
    if not header or header[-1] != "Phase":
        raise argument_error("data_dir", f"a header ending in 'Phase' in {str(path)!r}", header)
    try:
        x = np.array([r[:-1] for r in body], dtype=np.float32)
        y = np.array([PHASES[r[-1]] for r in body], dtype=np.int32)
    except (KeyError, ValueError) as err:
        raise argument_error(
            "data_dir", f"numbers and phases D/P/S/H/R in {str(path)!r}", err
        ) from err
    return x, y


def _cut_interleaved(x: np.ndarray, y: np.ndarray, seq_len: int) -> list[tuple]:
    count = x.shape[0] // seq_len
    out = []
    for s in range(count):
        for start in (s * seq_len, s * seq_len + seq_len // 2):
            if start == s * seq_len or s < count - 1:
                out.append((x[start : start + seq_len], y[start : start + seq_len]))
    return out


def load_gesture(
    data_dir: str | os.PathLike | None = None,
    *,
    seq_len: int = 32,
    stats_from_all_windows: bool = True,
    download: bool = True,
    verify: bool = True,
) -> Splits:
    """The gesture task as the paper's code builds it: (N, 32, 32) windows, labels (N, 32).

    Args:
        data_dir: a directory with ``gesture/*_va3.csv`` (see :func:`ltcjax.data.load_task`).
        seq_len: window length (paper: 32); windows start every ``seq_len // 2`` rows.
        stats_from_all_windows: the paper's z-score statistics come from all windows, the
            validation and test windows included (a leak); False takes them from the training
            windows only.
        download: allow downloading into the cache (see :func:`ltcjax.data.load_task`).
        verify: check the files' sha256 (see :func:`ltcjax.data.load_task`).
    """
    check_positive_int("seq_len", seq_len)
    windows = []
    for path in locate_all(FILES, data_dir, download=download, verify=verify):
        windows.extend(_cut_interleaved(*read_gesture_csv(path), seq_len))
    x = np.stack([w[0] for w in windows])
    y = np.stack([w[1] for w in windows])
    indices = paper_split(len(x), seed=23489)
    stats_rows = x if stats_from_all_windows else x[indices[0]]
    flat = stats_rows.reshape(-1, x.shape[-1]).astype(np.float64)
    x = (x - flat.mean(axis=0)) / flat.std(axis=0)
    data: SequenceData = regular(x, y.astype(np.int32))
    return split_by_indices(data, indices)
