"""Sequential MNIST: each image is 28 steps of 28 pixels, one label per image (Table 3).

The paper's ``smnist.py`` loads Keras's ``mnist.npz``, scales pixels by 1/255, and keeps the
last 10% of the training images (the last 6000) for validation.
"""

from __future__ import annotations

import os

import numpy as np

from ltcjax.data.dataset import Splits
from ltcjax.data.tasks.common import regular
from ltcjax.data.tasks.download import DataFile, locate
from ltcjax.validation import argument_error

__all__ = ["FILE", "load_smnist"]

#: Keras's mnist.npz (its published sha256), and the ../shared/data copy (same arrays,
#: different file bytes: see docs/data.md).
FILE = DataFile(
    "mnist",
    "mnist.npz",
    "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz",
    (
        "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",
        "06af5dfe73b70e3bc1c36439982b18a8d76803db9b544f6fdf838a37fbb01b64",
    ),
)


def load_smnist(
    data_dir: str | os.PathLike | None = None,
    *,
    download: bool = True,
    verify: bool = True,
) -> Splits:
    """sMNIST as the paper's code builds it: inputs (N, 28, 28) in [0, 1], labels (N,).

    Splits: 54000 training, 6000 validation (the last training images), 10000 test.

    Args:
        data_dir: a directory with ``mnist/mnist.npz`` (Keras layout: ``x_train``,
            ``y_train``, ``x_test``, ``y_test``).
        download: allow downloading into the cache (see :func:`ltcjax.data.load_task`).
        verify: check the files' sha256 (see :func:`ltcjax.data.load_task`).
    """
    path = locate(FILE, data_dir, download=download, verify=verify)
    with np.load(path) as z:
        if any(k not in z.files for k in ("x_train", "y_train", "x_test", "y_test")):
            raise argument_error(
                "data_dir", f"arrays x_train, y_train, x_test, y_test in {str(path)!r}", z.files
            )
        x_train, y_train, x_test, y_test = (
            z[k] for k in ("x_train", "y_train", "x_test", "y_test")
        )
    split = int(0.9 * len(x_train))

    def part(x: np.ndarray, y: np.ndarray):
        return regular(x.reshape(-1, 28, 28).astype(np.float32) / 255.0, y.astype(np.int32))

    return Splits(
        train=part(x_train[:split], y_train[:split]),
        valid=part(x_train[split:], y_train[split:]),
        test=part(x_test, y_test),
    )
