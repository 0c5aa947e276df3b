"""Sequence data sets as plain NumPy arrays, and a resumable batch iterator.

A :class:`SequenceData` holds ``inputs`` (N, T, F), ``timespans`` (N, T) (elapsed time
before each observation), ``targets`` ((N, T, ...) per step or (N, ...) per sequence) and
an optional ``mask`` (N, T) of valid steps. :class:`BatchIterator` cuts it into fixed-shape
batches: the permutation of an epoch is a pure function of ``(seed, epoch)``, so an
iterator position ``(epoch, batch)`` is all a checkpoint needs to resume the data stream.
The last, partial batch of an epoch is padded to full size with rows of weight 0, so every
batch has the same shape (one compilation) and no example is dropped.
"""

from __future__ import annotations

import dataclasses
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import numpy as np
from jaxtyping import ArrayLike, Bool, Float, Shaped

from ltcjax.validation import argument_error, check_positive_int, validate_timespans

__all__ = ["Batch", "BatchIterator", "SequenceData", "Splits", "load_npz_splits"]


class Batch(NamedTuple):
    """One fixed-shape batch: NumPy arrays from :class:`BatchIterator`, device arrays after
    :meth:`ltcjax.train.Trainer.place` (a pytree, so it passes through ``jit``).

    Attributes:
        inputs: (B, T, F) observations.
        timespans: (B, T) elapsed time before each observation.
        targets: (B, T, ...) per-step or (B, ...) per-sequence targets.
        weight: (B,) row weights: 1 for real rows, 0 for the padding of an epoch's last batch.
        mask: (B, T) valid steps, or None (every step is valid).

    Example:
        >>> import numpy as np
        >>> b = Batch(inputs=np.zeros((2, 3, 1)), timespans=np.ones((2, 3)),
        ...           targets=np.zeros(2), weight=np.ones(2))
        >>> b.inputs.shape, b.mask is None
        ((2, 3, 1), True)
    """

    inputs: Float[ArrayLike, "batch time features"]
    timespans: Float[ArrayLike, ...]
    targets: Shaped[ArrayLike, "batch ..."]
    weight: Float[ArrayLike, " batch"]
    mask: Bool[ArrayLike, "batch time"] | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class SequenceData:
    """A set of sequences with elapsed times and targets (NumPy arrays, one row each).

    Args:
        inputs: (N, T, F) observations.
        timespans: (N, T) elapsed time before each observation (finite, >= 0).
        targets: (N, T, ...) per-step targets or (N, ...) per-sequence targets; integer
            class labels for classification, floats for regression.
        mask: optional (N, T) booleans, False at padded steps.

    Example:
        >>> import numpy as np
        >>> d = SequenceData(inputs=np.zeros((4, 5, 2)), timespans=np.ones((4, 5)),
        ...                  targets=np.zeros((4,), np.int32))
        >>> len(d), d.take(np.array([0, 2])).inputs.shape
        (4, (2, 5, 2))
    """

    inputs: Float[np.ndarray, "n time features"]
    timespans: Float[np.ndarray, "n time"]
    targets: Shaped[np.ndarray, "n ..."]
    mask: Bool[np.ndarray, "n time"] | None = None

    def __post_init__(self) -> None:
        inputs = np.asarray(self.inputs)
        if inputs.ndim != 3:
            raise argument_error("inputs", "shape (sequences, time, features)", inputs.shape)
        _check_numeric("inputs", inputs)
        n, t = inputs.shape[:2]
        ts = np.asarray(self.timespans)
        if ts.shape != (n, t):
            raise argument_error("timespans", f"shape {(n, t)}", ts.shape)
        validate_timespans(ts)
        targets = np.asarray(self.targets)
        if targets.shape[:1] != (n,):
            raise argument_error(
                "targets", f"{n} rows (one per sequence)", f"shape {targets.shape}"
            )
        _check_numeric("targets", targets)
        object.__setattr__(self, "inputs", inputs)
        object.__setattr__(self, "timespans", ts)
        object.__setattr__(self, "targets", targets)
        if self.mask is not None:
            mask = np.asarray(self.mask)
            if mask.dtype != bool and not (
                np.issubdtype(mask.dtype, np.integer) and np.all((mask == 0) | (mask == 1))
            ):
                raise argument_error("mask", "booleans (or 0/1 integers)", f"dtype {mask.dtype}")
            mask = mask.astype(bool)
            if mask.shape != (n, t):
                raise argument_error("mask", f"shape {(n, t)}", mask.shape)
            object.__setattr__(self, "mask", mask)

    def __len__(self) -> int:
        return int(self.inputs.shape[0])

    @property
    def num_features(self) -> int:
        """Number of input features F."""
        return int(self.inputs.shape[-1])

    def take(self, indices: np.ndarray) -> SequenceData:
        """The sequences at ``indices`` (a new SequenceData)."""
        return SequenceData(
            inputs=self.inputs[indices],
            timespans=self.timespans[indices],
            targets=self.targets[indices],
            mask=None if self.mask is None else self.mask[indices],
        )


def _check_numeric(name: str, values: np.ndarray) -> None:
    """Raise unless ``values`` are integers, booleans or finite floats."""
    if values.dtype == bool or np.issubdtype(values.dtype, np.integer):
        return
    if not np.issubdtype(values.dtype, np.floating):
        raise argument_error(name, "numeric values (integers or floats)", f"dtype {values.dtype}")
    if not np.all(np.isfinite(values)):
        raise argument_error(name, "finite values", "NaN or inf")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Splits:
    """Train / validation / test splits.

    Example:
        >>> from ltcjax.data import make_synthetic
        >>> splits = make_synthetic(num_sequences=20, seq_len=8, seed=0)
        >>> len(splits.train), len(splits.valid), len(splits.test)
        (15, 2, 3)
    """

    train: SequenceData
    valid: SequenceData
    test: SequenceData


class BatchIterator:
    """Fixed-shape batches of a :class:`SequenceData`, resumable at any position.

    Args:
        data: the sequences.
        batch_size: rows per batch; the last batch of an epoch is padded with weight-0 rows.
        shuffle: draw a new permutation every epoch from ``(seed, epoch)``.
        seed: seed of the permutations.

    Example:
        >>> import numpy as np
        >>> d = SequenceData(inputs=np.zeros((5, 3, 1)), timespans=np.ones((5, 3)),
        ...                  targets=np.arange(5))
        >>> it = BatchIterator(d, batch_size=2, seed=0)
        >>> [b.weight.tolist() for b in it.epoch(0)]
        [[1.0, 1.0], [1.0, 1.0], [1.0, 0.0]]
        >>> last = list(it.epoch(0))[2].targets  # resume at batch 2 of epoch 0:
        >>> (next(it.epoch(0, start=2)).targets == last).all()
        np.True_
    """

    def __init__(
        self, data: SequenceData, batch_size: int, *, shuffle: bool = True, seed: int = 0
    ) -> None:
        check_positive_int("batch_size", batch_size)
        if len(data) == 0:
            raise argument_error("data", "at least one sequence", "an empty data set")
        self.data = data
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = int(seed)

    def __len__(self) -> int:
        """Batches per epoch."""
        return -(-len(self.data) // self.batch_size)

    def order(self, epoch: int) -> np.ndarray:
        """The permutation of the sequences used in ``epoch`` (deterministic)."""
        n = len(self.data)
        if not self.shuffle:
            return np.arange(n)
        return np.random.default_rng([self.seed, int(epoch)]).permutation(n)

    def epoch(self, epoch: int, start: int = 0) -> Iterator[Batch]:
        """Yield the batches of ``epoch``, beginning at batch index ``start``."""
        order = self.order(epoch)
        for b in range(start, len(self)):
            yield self.batch(order[b * self.batch_size : (b + 1) * self.batch_size])

    def batch(self, indices: np.ndarray) -> Batch:
        """The rows ``indices``, padded to ``batch_size`` rows of weight 0."""
        pad = self.batch_size - len(indices)
        weight = np.concatenate([np.ones(len(indices)), np.zeros(pad)]).astype(np.float32)
        idx = np.concatenate([indices, np.full(pad, indices[0] if len(indices) else 0)])
        d = self.data
        return Batch(
            inputs=d.inputs[idx].astype(np.float32),
            timespans=d.timespans[idx].astype(np.float32),
            targets=d.targets[idx],
            weight=weight,
            mask=None if d.mask is None else d.mask[idx],
        )


def load_npz_splits(data_dir: str | Path) -> Splits:
    """Load ``train.npz``, ``valid.npz`` and ``test.npz`` from ``data_dir``.

    Each file holds the arrays ``inputs``, ``targets``, and optionally ``timespans``
    (default 1.0) and ``mask``. This is the generic loader for your own time series.

    Example:
        >>> import tempfile, numpy as np
        >>> from pathlib import Path
        >>> tmp = Path(tempfile.mkdtemp())
        >>> for s in ("train", "valid", "test"):
        ...     np.savez(tmp / f"{s}.npz", inputs=np.zeros((3, 4, 2)), targets=np.zeros(3))
        >>> len(load_npz_splits(tmp).train)
        3
    """
    path = Path(data_dir)
    if not path.is_dir():
        raise FileNotFoundError(f"data_dir: directory {str(path)!r} does not exist")
    missing = [f"{s}.npz" for s in ("train", "valid", "test") if not (path / f"{s}.npz").is_file()]
    if missing:
        raise FileNotFoundError(
            f"data_dir: {str(path)!r} lacks the expected files {missing} "
            "(each with arrays 'inputs', 'targets' and optionally 'timespans', 'mask')"
        )
    parts = {}
    for split in ("train", "valid", "test"):
        name = f"{split}.npz"
        try:
            with open(path / name, "rb") as fh:
                loaded = np.load(fh, allow_pickle=False)
                if not isinstance(loaded, np.lib.npyio.NpzFile):  # a bare .npy array
                    raise ValueError("a single array, not an archive of named arrays")
                with loaded:
                    arrays = {key: loaded[key] for key in loaded.files}
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
            raise argument_error(
                "data_dir",
                f"{name} to be an .npz archive of numeric arrays (np.savez)",
                f"a file NumPy cannot read ({type(err).__name__}: {err})",
            ) from err
        for key in ("inputs", "targets"):
            if key not in arrays:
                raise argument_error(
                    "data_dir", f"an array {key!r} in {name}", f"arrays {list(arrays)}"
                )
        inputs = arrays["inputs"]
        ts = arrays.get("timespans")
        if ts is None:
            ts = np.ones(inputs.shape[:2], np.float32) if inputs.ndim >= 2 else np.ones(0)
        try:
            parts[split] = SequenceData(
                inputs=inputs, timespans=ts, targets=arrays["targets"], mask=arrays.get("mask")
            )
        except ValueError as err:
            raise ValueError(f"data_dir: in {name}: {err}") from err
    empty = [f"{split}.npz" for split, d in parts.items() if len(d) == 0]
    if empty:
        raise argument_error("data_dir", "at least one sequence in every split", f"none in {empty}")
    kinds = {
        split: (
            "integer" if np.issubdtype(d.targets.dtype, np.integer) else "float",
            d.targets.ndim,
        )
        for split, d in parts.items()
    }
    if len(set(kinds.values())) > 1:
        raise argument_error(
            "data_dir", "targets of one kind (dtype, rank) in every split", f"{kinds}"
        )
    features = {split: d.num_features for split, d in parts.items()}
    if len(set(features.values())) > 1:
        raise argument_error(
            "data_dir", "the same number of input features in every split", features
        )
    return Splits(**parts)
