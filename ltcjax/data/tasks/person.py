"""UCI Localization Data for Person Activity (data set 196), ``ConfLongDemo_JSI.txt``.

Each line is one reading of one of four tags (ankles, chest, belt): recording (A01 ... E05),
tag id, timestamp (.NET ticks of 100 ns), date, x, y, z, activity (11 names).

Setting 1, ``"person"`` (Table 4), as the paper's ``person.py``: inputs are the one-hot tag
(4) and x, y, z (7 features); the 11 activities merge into 7 classes; each recording is cut
into windows of 32 every 16 readings; ``RandomState(27731)`` splits 10% / 15% / 75%;
timestamps are ignored. Its reading loop appends a recording when the next one starts, so
the last recording of the file is never used (``drop_last_recording=True``).

Setting 2, ``"person_irregular"`` (Table 5), as Rubanova et al.'s latent-ODE code
(``person_activity.py`` and ``parse_datasets.py``), which the paper follows: per recording,
readings are binned by ``round((t - t0) / 1e5)`` ticks (10 ms bins), each bin holding the
mean x, y, z of every tag seen in it (12 values) and a 12-dim observation mask (24 inputs);
windows of 50 bins every 25; 7 classes; ``train_test_split(train_size=0.8,
random_state=42)``. The elapsed times are real: the bins between consecutive observations.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from ltcjax.data.dataset import SequenceData, Splits
from ltcjax.data.tasks.common import (
    cut_windows,
    paper_split,
    regular,
    split_by_indices,
    window_starts,
)
from ltcjax.data.tasks.download import DataFile, locate
from ltcjax.validation import argument_error, check_positive_int

__all__ = [
    "CLASSES",
    "CLASSES_IRREGULAR",
    "FILE",
    "TAGS",
    "load_person",
    "load_person_irregular",
    "read_person",
]

FILE = DataFile(
    "person",
    "ConfLongDemo_JSI.txt",
    "https://archive.ics.uci.edu/ml/machine-learning-databases/00196/ConfLongDemo_JSI.txt",
)
#: The four tag ids, in the one-hot order of both settings.
TAGS = ("010-000-024-033", "010-000-030-096", "020-000-033-111", "020-000-032-221")
#: Setting 1 (the paper's person.py): 11 activities -> 7 classes.
CLASSES = {
    "lying down": 0,
    "lying": 0,
    "sitting down": 1,
    "sitting": 1,
    "standing up from lying": 2,
    "standing up from sitting": 2,
    "standing up from sitting on the ground": 2,
    "walking": 3,
    "falling": 4,
    "on all fours": 5,
    "sitting on the ground": 6,
}
#: Setting 2 (Rubanova et al.): its own class order; the file's name "standing up from
#: sitting on the ground" is spelled "standing up from sit on grnd" there (see
#: ``label_name_bug``).
CLASSES_IRREGULAR = {
    "walking": 0,
    "falling": 1,
    "lying": 2,
    "lying down": 2,
    "sitting": 3,
    "sitting down": 3,
    "standing up from lying": 4,
    "standing up from sitting": 4,
    "standing up from sitting on the ground": 4,
    "on all fours": 5,
    "sitting on the ground": 6,
}


def read_person(path: str | os.PathLike) -> list[dict[str, Any]]:
    """The recordings of the file in file order, each a dict of per-reading arrays:
    ``tag`` (int), ``ticks`` (float64, as the latent-ODE code parses them), ``xyz``
    (float32, (n, 3)) and ``activity`` (str). Reading stops at the first line with fewer
    than 6 fields, as in the paper's code.

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "ConfLongDemo_JSI.txt"
        >>> line = "A01,010-000-024-033,633790226051280329,27.05.2009 14:03:25:127,1,2,3,walking"
        >>> _ = p.write_text(line + "\\n")
        >>> [(r["name"], r["tag"].tolist(), r["activity"].tolist()) for r in read_person(p)]
        [('A01', [0], ['walking'])]
    """
    recordings: list[dict[str, Any]] = []
    current = None
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            parts = line.rstrip("\r\n").split(",")
            if len(parts) < 6:
                break
            if len(parts) != 8 or parts[1] not in TAGS or parts[7] not in CLASSES:
                raise argument_error(
                    "data_dir",
                    f"lines 'recording,tag,ticks,date,x,y,z,activity' with the tags {TAGS} "
                    f"and the activities {tuple(CLASSES)} in {str(path)!r}",
                    f"line {lineno}: {line.strip()!r}",
                )
            if current is None or parts[0] != current["name"]:
                current = {"name": parts[0], "tag": [], "ticks": [], "xyz": [], "activity": []}
                recordings.append(current)
            current["tag"].append(TAGS.index(parts[1]))
            current["ticks"].append(float(parts[2]))
            current["xyz"].append([float(v) for v in parts[4:7]])
            current["activity"].append(parts[7])
    if not recordings:
        raise argument_error("data_dir", f"readings in {str(path)!r}", "none")
    return [
        {
            "name": r["name"],
            "tag": np.array(r["tag"], np.int64),
            "ticks": np.array(r["ticks"], np.float64),
            "xyz": np.array(r["xyz"], np.float32),
            "activity": np.array(r["activity"]),
        }
        for r in recordings
    ]


def load_person(
    data_dir: str | os.PathLike | None = None,
    *,
    seq_len: int = 32,
    drop_last_recording: bool = True,
    include_last_window: bool = False,
    download: bool = True,
    verify: bool = True,
) -> Splits:
    """Person activity, setting 1 (Table 4): inputs (N, 32, 7), labels (N, 32) in 0-6.

    Args:
        data_dir: a directory with ``person/ConfLongDemo_JSI.txt``.
        seq_len: window length (paper: 32); windows start every ``seq_len // 2`` readings.
        drop_last_recording: reproduce the paper's loop, which never appends the file's
            last recording; False uses every recording.
        include_last_window: also take the window ending at a recording's last reading.
        download: allow downloading into the cache (see :func:`ltcjax.data.load_task`).
        verify: check the files' sha256 (see :func:`ltcjax.data.load_task`).
    """
    check_positive_int("seq_len", seq_len)
    recordings = read_person(locate(FILE, data_dir, download=download, verify=verify))
    if drop_last_recording:
        recordings = recordings[:-1]
    xs, ys = [], []
    for r in recordings:
        x = np.concatenate([np.eye(len(TAGS), dtype=np.float32)[r["tag"]], r["xyz"]], axis=1)
        y = np.array([CLASSES[a] for a in r["activity"]], np.int32)
        starts = window_starts(
            len(x), seq_len, max(seq_len // 2, 1), include_last=include_last_window
        )
        xs.append(cut_windows(x, starts, seq_len))
        ys.append(cut_windows(y, starts, seq_len))
    if sum(len(x) for x in xs) == 0:
        raise argument_error("data_dir", f"recordings longer than seq_len={seq_len}", "none")
    data = regular(np.concatenate(xs), np.concatenate(ys))
    return split_by_indices(data, paper_split(len(data), seed=27731))


def _bins(r: dict, label_name_bug: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per bin of one recording: time (bins since its start), 24 inputs, class."""
    n_tags = len(TAGS)
    t = np.round((r["ticks"] - r["ticks"][0]) / 1e5)
    new = np.concatenate([[True], t[1:] != t[:-1]])  # a new bin whenever the time changes
    bin_of = np.cumsum(new) - 1
    n_bins = int(bin_of[-1]) + 1
    sums = np.zeros((n_bins, n_tags, 3))
    counts = np.zeros((n_bins, n_tags))
    np.add.at(sums, (bin_of, r["tag"]), r["xyz"])
    np.add.at(counts, (bin_of, r["tag"]), 1)
    values = sums / np.maximum(counts, 1)[..., None]
    mask = np.repeat(counts > 0, 3, axis=1).astype(np.float32)
    inputs = np.concatenate([values.reshape(n_bins, -1), mask], axis=1)
    # the latent-ODE code marks every activity seen in a bin and takes the first marked
    # class (argmax); an activity it does not know marks nothing, and an unmarked bin is 0
    known = np.array(
        [
            not (label_name_bug and a == "standing up from sitting on the ground")
            for a in r["activity"]
        ]
    )
    cls = np.array([CLASSES_IRREGULAR[a] for a in r["activity"]])
    labels = np.full(n_bins, len(CLASSES_IRREGULAR), np.int64)
    np.minimum.at(labels, bin_of[known], cls[known])
    labels[labels == len(CLASSES_IRREGULAR)] = 0
    return t[new], inputs, labels.astype(np.int32)


def load_person_irregular(
    data_dir: str | os.PathLike | None = None,
    *,
    seq_len: int = 50,
    valid_fraction: float = 0.1,
    label_name_bug: bool = True,
    max_windows: int | None = 10000,
    download: bool = True,
    verify: bool = True,
) -> Splits:
    """Person activity, setting 2 (Table 5; Rubanova et al.'s split): inputs (N, 50, 24)
    (12 tag values, 12 observation flags), elapsed times (N, 50) in 10 ms bins, labels
    (N, 50) in 0-6, mask (N, 50) (all True: every window has 50 observed bins).

    The elapsed time of a window's first step is the gap to the recording's previous bin
    (1 at a recording's start). Test is Rubanova's 20%; as that code has no validation
    set, the last ``valid_fraction`` of its training part (in permutation order) is held
    out for validation. Its resampling of train and test with replacement (unseeded
    ``np.random.choice``) is not reproduced.

    Args:
        data_dir: a directory with ``person/ConfLongDemo_JSI.txt``.
        seq_len: bins per window (50); windows start every ``seq_len // 2`` bins.
        valid_fraction: share of the training part held out for validation.
        label_name_bug: reproduce the latent-ODE code's spelling "standing up from sit on
            grnd", which leaves "standing up from sitting on the ground" unlabelled (class 0,
            walking); False gives it class 4 (standing up).
        max_windows: keep the first windows only, as its ``n_samples = min(10000, n)``;
            None keeps all.
        download: allow downloading into the cache (see :func:`ltcjax.data.load_task`).
        verify: check the files' sha256 (see :func:`ltcjax.data.load_task`).
    """
    check_positive_int("seq_len", seq_len)
    check_positive_int("max_windows", max_windows, allow_none=True)
    if not 0 <= valid_fraction < 1:
        raise argument_error("valid_fraction", "a number in [0, 1)", repr(valid_fraction))
    recordings = read_person(locate(FILE, data_dir, download=download, verify=verify))
    xs, ts, ys = [], [], []
    for r in recordings:
        times, inputs, labels = _bins(r, label_name_bug)
        elapsed = np.diff(times, prepend=times[0] - 1.0)
        starts = window_starts(len(times), seq_len, max(seq_len // 2, 1))
        xs.append(cut_windows(inputs, starts, seq_len))
        ts.append(cut_windows(elapsed, starts, seq_len))
        ys.append(cut_windows(labels, starts, seq_len))
    x, t, y = (np.concatenate(a)[:max_windows] for a in (xs, ts, ys))
    if len(x) < 3:
        raise argument_error("data_dir", f"recordings longer than {seq_len} bins", len(x))
    data = SequenceData(
        inputs=x.astype(np.float32),
        timespans=t.astype(np.float32),
        targets=y,
        mask=np.ones(t.shape, bool),
    )
    n = len(data)
    n_test = n - int(np.floor(0.8 * n))
    perm = np.random.RandomState(42).permutation(n)  # sklearn's ShuffleSplit draw
    test, train = perm[:n_test], perm[n_test:]
    n_valid = int(valid_fraction * len(train))
    valid, train = train[len(train) - n_valid :], train[: len(train) - n_valid]
    return split_by_indices(data, (train, valid, test))
