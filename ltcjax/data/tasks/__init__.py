"""The LTC paper's data sets as ready-to-train splits: :func:`load_task`, :data:`TASKS`.

Each task downloads its original files into a cache (``$LTCJAX_DATA``, default
``~/.cache/ltcjax``) with sha256 checks and atomic writes, or reads a local copy
(``data_dir=`` or ``$LTCJAX_DATA_DIR``); see :mod:`ltcjax.data.tasks.download` and
docs/data.md. Preprocessing, windows and splits follow the paper's code by default; each of
its bugs is a documented keyword of the task's loader, the corrected behaviour one argument
away.

Example:
    >>> from ltcjax.data import TASKS, task_info
    >>> TASKS[:4]
    ('gesture', 'occupancy', 'har', 'smnist')
    >>> task_info("person").batch_size, task_info("smnist").sequence
    (64, False)
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from typing import Any

from ltcjax.data.dataset import Splits
from ltcjax.data.tasks.cheetah import load_cheetah
from ltcjax.data.tasks.common import TaskInfo
from ltcjax.data.tasks.gesture import load_gesture
from ltcjax.data.tasks.har import load_har
from ltcjax.data.tasks.occupancy import load_occupancy
from ltcjax.data.tasks.ozone import load_ozone
from ltcjax.data.tasks.person import load_person, load_person_irregular
from ltcjax.data.tasks.power import load_power
from ltcjax.data.tasks.smnist import load_smnist
from ltcjax.data.tasks.traffic import load_traffic
from ltcjax.validation import argument_error, check_choice

__all__ = ["LOADERS", "TASKS", "TaskInfo", "load_task", "task_info"]


def _info(name: str, kind: str, output_dim: int, input_dim: int, **kw: Any) -> TaskInfo:
    defaults: dict[str, Any] = {
        "sequence": True,
        "class_weights": None,
        "metric": "accuracy" if kind == "classification" else "mse",
        "batch_size": 16,
        "learning_rate_ltc": 0.01,
        "learning_rate_baseline": 0.001,
        "table": "Table 3",
    }
    defaults.update(kw)
    return TaskInfo(name=name, kind=kind, output_dim=output_dim, input_dim=input_dim, **defaults)


_INFO = {
    "gesture": _info(
        "gesture",
        "classification",
        5,
        32,
        description="UCI gesture phase segmentation: 7 files, windows 32 / 16, 5 phases",
    ),
    "occupancy": _info(
        "occupancy",
        "classification",
        2,
        5,
        learning_rate_ltc=0.005,
        description="UCI occupancy detection: windows 16 / 1 (test 16 / 8), 2 classes",
    ),
    "har": _info(
        "har",
        "classification",
        6,
        561,
        description="UCI HAR: 561 features, windows 16 / 1 (test 16 / 8), 6 activities",
    ),
    "smnist": _info(
        "smnist",
        "classification",
        10,
        28,
        sequence=False,
        learning_rate_ltc=0.005,
        description="sequential MNIST: 28 steps of 28 pixels, one label per image",
    ),
    "traffic": _info(
        "traffic",
        "regression",
        1,
        7,
        description="UCI metro traffic volume: 7 features, windows 32 / 4 (axis bug)",
    ),
    "power": _info(
        "power",
        "regression",
        1,
        6,
        description="UCI household power: minute rows, windows 32 / 32",
    ),
    "ozone": _info(
        "ozone",
        "classification",
        2,
        72,
        class_weights=(0.1, 1.6),
        metric="f1",
        description="UCI ozone (eight-hour): 72 features, windows 32 / 4 (axis bug)",
    ),
    "person": _info(
        "person",
        "classification",
        7,
        7,
        batch_size=64,
        table="Table 4",
        description="UCI person activity: tag one-hot + xyz, windows 32 / 16, 7 classes",
    ),
    "person_irregular": _info(
        "person_irregular",
        "classification",
        7,
        24,
        batch_size=64,
        table="Table 5",
        description="UCI person activity, Rubanova et al.'s binned irregular setting "
        "(batch and LTC learning rate not published: setting 1's used)",
    ),
    "cheetah": _info(
        "cheetah",
        "regression",
        17,
        17,
        table="Table 6",
        description="Half-Cheetah traces: predict the next of 17 values, windows 32 / 10",
    ),
}

#: The loader of each task (each documents its options).
LOADERS: dict[str, Callable[..., Splits]] = {
    "gesture": load_gesture,
    "occupancy": load_occupancy,
    "har": load_har,
    "smnist": load_smnist,
    "traffic": load_traffic,
    "power": load_power,
    "ozone": load_ozone,
    "person": load_person,
    "person_irregular": load_person_irregular,
    "cheetah": load_cheetah,
}

#: The task names, in the paper's order.
TASKS: tuple[str, ...] = tuple(LOADERS)


def task_info(name: str) -> TaskInfo:
    """The :class:`TaskInfo` of task ``name`` (one of :data:`TASKS`).

    Example:
        >>> task_info("ozone").class_weights
        (0.1, 1.6)
    """
    check_choice("name", name, TASKS)
    return _INFO[name]


def load_task(
    name: str,
    *,
    data_dir: str | os.PathLike | None = None,
    download: bool = True,
    verify: bool = True,
    **options: Any,
) -> Splits:
    """Train / validation / test splits of one of the paper's tasks.

    Args:
        name: one of :data:`TASKS`.
        data_dir: a directory with local copies (``<data_dir>/<task folder>/<file>``, the
            layout of ``../shared/data``); default ``$LTCJAX_DATA_DIR``, else the cache
            ``$LTCJAX_DATA`` (default ``~/.cache/ltcjax``) with a download on first use.
        download: allow downloading a file missing from the cache.
        verify: check each file's sha256 against the known checksums.
        **options: the task's own keywords (e.g. ``window_axis_bug=False`` for ozone and
            traffic, ``stats_from_all_windows=False`` for gesture,
            ``drop_last_recording=False`` for person); see ``LOADERS[name]``.

    Example:
        >>> import tempfile, pathlib
        >>> load_task("ozone", data_dir=tempfile.mkdtemp())  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        FileNotFoundError: data_dir: ... lacks the file 'ozone/eighthr.data' ...
    """
    check_choice("name", name, TASKS)
    loader = LOADERS[name]
    accepted = [
        p
        for p in inspect.signature(loader).parameters
        if p not in ("data_dir", "download", "verify")
    ]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise argument_error("options", f"keywords of the task {name!r}: {accepted}", unknown)
    return loader(data_dir, download=download, verify=verify, **options)
