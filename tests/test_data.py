"""Tests of ltcjax.data: the synthetic task, windows, splits, batching, npz loading."""

from __future__ import annotations

import numpy as np
import pytest

from ltcjax.data import (
    BatchIterator,
    SequenceData,
    load_npz_splits,
    make_synthetic,
    sliding_windows,
    split_data,
    split_indices,
    synthetic_oscillator,
)


def test_synthetic_is_deterministic_and_irregular():
    a = synthetic_oscillator(num_sequences=8, seq_len=10, seed=3)
    b = synthetic_oscillator(num_sequences=8, seq_len=10, seed=3)
    c = synthetic_oscillator(num_sequences=8, seq_len=10, seed=4)
    for field in ("inputs", "timespans", "targets"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert not np.array_equal(a.timespans, c.timespans)
    assert a.inputs.shape == (8, 10, 1) and a.targets.shape == (8, 10, 1)
    # per-sequence elapsed times: rows differ from each other
    assert not np.allclose(a.timespans[0], a.timespans[1])
    assert a.timespans.min() >= 0.05 and a.timespans.max() <= 0.4


def test_synthetic_regression_depends_on_elapsed_time():
    """The target is the oscillator integrated over the elapsed times: rescaling them changes it."""
    d = synthetic_oscillator(num_sequences=4, seq_len=12, seed=0)
    d2 = synthetic_oscillator(num_sequences=4, seq_len=12, seed=0, min_dt=0.1, max_dt=0.8)
    np.testing.assert_array_equal(d.inputs, d2.inputs)
    assert not np.allclose(d.targets, d2.targets, atol=1e-2)


def test_synthetic_classification_labels_balanced():
    d = synthetic_oscillator(num_sequences=200, seq_len=8, task="classification", seed=1)
    assert d.inputs.shape == (200, 8, 2) and d.targets.dtype == np.int32
    assert 0.3 < d.targets.mean() < 0.7


def test_make_synthetic_split_sizes_and_disjoint():
    s = make_synthetic(num_sequences=100, seq_len=5, seed=0)
    assert (len(s.train), len(s.valid), len(s.test)) == (75, 10, 15)
    rows = np.concatenate([s.train.targets, s.valid.targets, s.test.targets])[:, :, 0]
    assert len(np.unique(rows, axis=0)) == 100


@pytest.mark.usefixtures("without_runtime_typechecks")
@pytest.mark.parametrize(
    ("kwargs", "name"),
    [({"task": "forecast"}, "task"), ({"num_sequences": 0}, "num_sequences")],
)
def test_synthetic_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=name):
        synthetic_oscillator(**kwargs)


def test_sliding_windows():
    x = np.arange(20).reshape(10, 2)
    w = sliding_windows(x, window=4, stride=2)
    assert w.shape == (4, 4, 2)
    np.testing.assert_array_equal(w[1], x[2:6])
    with pytest.raises(ValueError, match="window"):
        sliding_windows(x, window=11, stride=1)
    with pytest.raises(ValueError, match="stride"):
        sliding_windows(x, window=2, stride=0)


def test_split_indices_seeded_partition():
    a = split_indices(50, seed=23489)
    b = split_indices(50, seed=23489)
    c = split_indices(50, seed=1)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a[0], c[0])
    assert sorted(np.concatenate(a).tolist()) == list(range(50))
    with pytest.raises(ValueError, match="fractions"):
        split_indices(10, (0.5, 0.5, 0.5))
    with pytest.raises(ValueError, match="too few"):
        split_indices(3)


def _data(n=7, t=3):
    return SequenceData(
        inputs=np.arange(n * t, dtype=np.float32).reshape(n, t, 1),
        timespans=np.ones((n, t)),
        targets=np.arange(n),
    )


def test_batch_iterator_pads_and_covers_every_row_once():
    it = BatchIterator(_data(), batch_size=3, seed=0)
    batches = list(it.epoch(0))
    assert len(batches) == len(it) == 3
    assert all(b.inputs.shape == (3, 3, 1) for b in batches)
    weights = np.concatenate([b.weight for b in batches])
    targets = np.concatenate([b.targets for b in batches])
    assert weights.tolist() == [1] * 7 + [0] * 2
    assert sorted(targets[weights == 1].tolist()) == list(range(7))
    assert all(b.mask is None for b in batches)  # no mask: every step is valid
    masked = SequenceData(**{**vars(_data()), "mask": np.arange(21).reshape(7, 3) % 2 == 0})
    last = list(BatchIterator(masked, batch_size=3, seed=0).epoch(0))[-1]
    assert last.mask.shape == (3, 3) and last.mask.dtype == bool


def test_batch_iterator_resume_position_and_epochs_differ():
    it = BatchIterator(_data(), batch_size=2, seed=5)
    full = list(it.epoch(2))
    resumed = list(BatchIterator(_data(), batch_size=2, seed=5).epoch(2, start=2))
    for a, b in zip(full[2:], resumed, strict=True):
        np.testing.assert_array_equal(a.targets, b.targets)
    assert not np.array_equal(it.order(0), it.order(1))
    with pytest.raises(ValueError, match="batch_size"):
        BatchIterator(_data(), batch_size=0)


@pytest.mark.usefixtures("without_runtime_typechecks")
def test_sequence_data_validation():
    with pytest.raises(ValueError, match="timespans"):
        SequenceData(inputs=np.zeros((2, 3, 1)), timespans=np.ones((2, 4)), targets=np.zeros(2))
    with pytest.raises(ValueError, match="timespans"):
        SequenceData(inputs=np.zeros((2, 3, 1)), timespans=-np.ones((2, 3)), targets=np.zeros(2))
    with pytest.raises(ValueError, match="targets"):
        SequenceData(inputs=np.zeros((2, 3, 1)), timespans=np.ones((2, 3)), targets=np.zeros(3))
    with pytest.raises(ValueError, match="inputs"):
        SequenceData(inputs=np.zeros((2, 3)), timespans=np.ones((2, 3)), targets=np.zeros(2))


def test_load_npz_splits(tmp_path):
    with pytest.raises(FileNotFoundError, match="data_dir"):
        load_npz_splits(tmp_path / "missing")
    np.savez(tmp_path / "train.npz", inputs=np.zeros((4, 3, 2)), targets=np.zeros(4))
    with pytest.raises(FileNotFoundError, match=r"valid\.npz"):
        load_npz_splits(tmp_path)
    for split in ("valid", "test"):
        np.savez(
            tmp_path / f"{split}.npz",
            inputs=np.zeros((2, 3, 2)),
            targets=np.zeros(2),
            timespans=np.full((2, 3), 0.5),
        )
    s = load_npz_splits(tmp_path)
    assert len(s.train) == 4 and s.train.timespans.tolist() == np.ones((4, 3)).tolist()
    assert s.test.timespans[0, 0] == 0.5


def test_split_data_is_deterministic():
    d = _data(20)
    a, b = split_data(d, seed=2), split_data(d, seed=2)
    np.testing.assert_array_equal(a.test.targets, b.test.targets)
