"""Tests of ltcjax.data.tasks: the paper's data sets (load_task, TASKS, task_info).

Real copies: ../shared/data from this checkout (or $LTCJAX_SHARED_DATA); absent (as in CI,
which clones main alone) those tests skip. HAR and person activity are not there: their
loaders run on small files written here in the original formats. Expected window and split
counts are derived by hand from the paper's code (REFERENCE.md section 5):

- gesture: files of 1830, 1069, 1420, 1107, 1444, 1260, 1743 rows -> 2 (n // 32) - 1
  windows each = 605 -> int(60.5) = 60 valid, int(90.75) = 90 test, 455 train.
- occupancy: 8143 training rows -> range(0, 8127) = 8127 windows -> 812 valid, 7315
  train; test 2665 and 9752 rows, stride 8 -> 332 + 1217 = 1549.
- traffic: 48204 rows -> range(0, 48172, 4) = 12043 windows; bugged axis: 32 series
  -> 3 / 4 / 25; fixed: 1204 / 1806 / 9033.
- ozone: 2534 rows -> range(0, 2502, 4) = 626 windows; 32 series -> 3 / 4 / 25; fixed:
  62 / 93 / 471.
- power: 2075259 rows -> range(0, 2075227, 32) = 64851 windows -> 6485 / 9727 / 48639.
- smnist: 54000 / 6000 / 10000. cheetah: range(0, 967, 10) = 97 windows per file ->
  970 train (10 files) / 485 valid (5) / 970 test (10).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import os
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import numpy as np
import pytest

from ltcjax.data import TASKS, BatchIterator, TaskInfo, load_task, task_info
from ltcjax.data.tasks import download as dl

SHA_EMPTY = hashlib.sha256(b"").hexdigest()


def shared_data_dir() -> Path | None:
    env = os.environ.get("LTCJAX_SHARED_DATA")
    path = Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data"
    return path if (path / "ozone" / "eighthr.data").is_file() else None


SHARED = shared_data_dir()
needs_shared = pytest.mark.skipif(SHARED is None, reason="../shared/data is not present")


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path, monkeypatch):
    """Every test gets its own empty cache and no $LTCJAX_DATA_DIR."""
    monkeypatch.setenv("LTCJAX_DATA", str(tmp_path / "cache"))
    monkeypatch.delenv("LTCJAX_DATA_DIR", raising=False)
    return tmp_path / "cache"


@pytest.fixture(scope="session")
def load_real(tmp_path_factory):
    """Load a task from the shared copies, once per session (power's parse is cached in a
    session cache directory)."""
    if SHARED is None:
        pytest.skip("../shared/data is not present")
    cache = tmp_path_factory.mktemp("task_cache")
    loaded = {}

    def load(name, **options):
        key = (name, tuple(sorted(options.items())))
        if key not in loaded:
            with pytest.MonkeyPatch.context() as mp:
                mp.setenv("LTCJAX_DATA", str(cache))
                loaded[key] = load_task(name, data_dir=SHARED, **options)
        return loaded[key]

    return load


def sizes(splits):
    return len(splits.train), len(splits.valid), len(splits.test)


def in_window_order(splits, seed):
    """Inputs and targets of all windows in their original order, undoing the paper's
    split (RandomState(seed) permutation: int(0.1 n) valid, int(0.15 n) test, rest train)."""
    n = sum(sizes(splits))
    perm = np.random.RandomState(seed).permutation(n)
    v, t = int(0.1 * n), int(0.15 * n)
    order = np.concatenate([perm[v + t :], perm[:v], perm[v : v + t]])
    out = []
    for field in ("inputs", "targets"):
        joined = np.concatenate(
            [getattr(p, field) for p in (splits.train, splits.valid, splits.test)]
        )
        arr = np.empty_like(joined)
        arr[order] = joined
        out.append(arr)
    return out


# ------------------------------------------------------------------- task descriptions


def test_tasks_and_their_facts():
    assert TASKS == (
        "gesture",
        "occupancy",
        "har",
        "smnist",
        "traffic",
        "power",
        "ozone",
        "person",
        "person_irregular",
        "cheetah",
    )
    infos = {name: task_info(name) for name in TASKS}
    assert all(isinstance(i, TaskInfo) and i.name == n for n, i in infos.items())
    assert infos["ozone"].class_weights == (0.1, 1.6) and infos["ozone"].metric == "f1"
    assert [n for n, i in infos.items() if i.kind == "regression"] == [
        "traffic",
        "power",
        "cheetah",
    ]
    assert {n: i.output_dim for n, i in infos.items()} == {
        "gesture": 5,
        "occupancy": 2,
        "har": 6,
        "smnist": 10,
        "traffic": 1,
        "power": 1,
        "ozone": 2,
        "person": 7,
        "person_irregular": 7,
        "cheetah": 17,
    }
    assert [n for n, i in infos.items() if not i.sequence] == ["smnist"]
    assert {n for n, i in infos.items() if i.learning_rate_ltc == 0.005} == {
        "occupancy",
        "smnist",
    }
    assert all(i.learning_rate_baseline == 0.001 for i in infos.values())
    assert {n: i.batch_size for n, i in infos.items() if i.batch_size != 16} == {
        "person": 64,
        "person_irregular": 64,
    }
    assert infos["person"].table == "Table 4" and infos["cheetah"].table == "Table 6"
    assert infos["person_irregular"].table == "Table 5" and infos["gesture"].table == "Table 3"


def test_unknown_task_and_option_are_named():
    with pytest.raises(ValueError, match="name: expected one of"):
        task_info("mnist")
    with pytest.raises(ValueError, match="name: expected one of"):
        load_task("mnist")
    with pytest.raises(ValueError, match=r"options: .*window_axis_bug.*\['window_axes'\]"):
        load_task("ozone", window_axes=False)


# ------------------------------------------------------------------ real shared copies

EXPECTED = {
    # name: (train, valid, test), input shape per sequence, target shape per sequence
    "gesture": ((455, 60, 90), (32, 32), (32,)),
    "occupancy": ((7315, 812, 1549), (16, 5), (16,)),
    "smnist": ((54000, 6000, 10000), (28, 28), ()),
    "traffic": ((25, 3, 4), (12043, 7), (12043, 1)),
    "power": ((48639, 6485, 9727), (32, 6), (32, 1)),
    "ozone": ((25, 3, 4), (626, 72), (626,)),
    "cheetah": ((970, 485, 970), (32, 17), (32, 17)),
}


@needs_shared
@pytest.mark.parametrize("name", list(EXPECTED))
def test_real_copies_shapes_splits_and_values(load_real, name):
    splits = load_real(name)
    (n_train, n_valid, n_test), x_shape, y_shape = EXPECTED[name]
    info = task_info(name)
    assert sizes(splits) == (n_train, n_valid, n_test)
    for part in (splits.train, splits.valid, splits.test):
        assert part.inputs.shape[1:] == x_shape and part.inputs.dtype == np.float32
        assert part.targets.shape[1:] == y_shape
        assert x_shape[-1] == info.input_dim
        assert np.isfinite(part.inputs).all()
        assert (part.timespans == 1.0).all() and part.mask is None
        if info.kind == "classification":
            assert part.targets.dtype == np.int32
            assert part.targets.min() >= 0 and part.targets.max() < info.output_dim
        else:
            assert part.targets.dtype == np.float32 and np.isfinite(part.targets).all()
    batch = next(BatchIterator(splits.train, info.batch_size).epoch(0))
    assert batch.inputs.shape == (info.batch_size, *x_shape)


def _read_csv_rows(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


@needs_shared
def test_gesture_windows_interleave_statistics_and_split_follow_the_paper(load_real):
    """Rebuild the paper's gesture windows with plain loops from the CSV text."""
    order = ["a3", "b1", "b3", "c1", "c3", "a2", "a1"]
    windows, phases = [], []
    for stem in order:
        rows = _read_csv_rows(SHARED / "gesture" / f"{stem}_va3.csv")[1:]
        x = np.array([[float(v) for v in r[:-1]] for r in rows])
        y = np.array(["DPSHR".index(r[-1]) for r in rows])
        count = len(x) // 32
        for s in range(count):
            windows.append(x[32 * s : 32 * s + 32])
            phases.append(y[32 * s : 32 * s + 32])
            if s < count - 1:
                windows.append(x[32 * s + 16 : 32 * s + 48])
                phases.append(y[32 * s + 16 : 32 * s + 48])
    raw = np.stack(windows)
    assert raw.shape == (605, 32, 32)
    mean = raw.reshape(-1, 32).mean(0)
    std = raw.reshape(-1, 32).std(0)
    perm = np.random.RandomState(23489).permutation(605)
    splits = load_real("gesture")
    np.testing.assert_allclose(splits.valid.inputs, (raw[perm[:60]] - mean) / std, atol=2e-4)
    np.testing.assert_allclose(splits.test.inputs, (raw[perm[60:150]] - mean) / std, atol=2e-4)
    np.testing.assert_allclose(splits.train.inputs, (raw[perm[150:]] - mean) / std, atol=2e-4)
    # corrected statistics: the training windows alone are standardised
    fixed = load_real("gesture", stats_from_all_windows=False)
    flat = fixed.train.inputs.reshape(-1, 32).astype(np.float64)
    np.testing.assert_allclose(flat.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(flat.std(0), 1, atol=1e-4)
    assert not np.allclose(fixed.valid.inputs, splits.valid.inputs, atol=1e-3)
    np.testing.assert_array_equal(splits.valid.targets, np.stack(phases)[perm[:60]])


@needs_shared
def test_occupancy_uses_training_statistics_and_both_test_files(load_real):
    rows = _read_csv_rows(SHARED / "occupancy" / "datatraining.txt")[1:]
    train = np.array([[float(v) for v in r[2:7]] for r in rows])
    mean, std = train.mean(0), train.std(0)
    test_rows = _read_csv_rows(SHARED / "occupancy" / "datatest.txt")[1:]
    test = np.array([[float(v) for v in r[2:7]] for r in test_rows])
    test2_rows = _read_csv_rows(SHARED / "occupancy" / "datatest2.txt")[1:]
    test2 = np.array([[float(v) for v in r[2:7]] for r in test2_rows])
    splits = load_real("occupancy")
    np.testing.assert_allclose(splits.test.inputs[0], (test[:16] - mean) / std, rtol=1e-5)
    np.testing.assert_allclose(splits.test.inputs[1], (test[8:24] - mean) / std, rtol=1e-5)
    np.testing.assert_allclose(splits.test.inputs[332], (test2[:16] - mean) / std, rtol=1e-5)
    assert splits.test.targets[0].tolist() == [int(r[7]) for r in test_rows[:16]]
    perm = np.random.RandomState(893429).permutation(8127)
    k = perm[0]  # the first validation window starts at row perm[0]
    np.testing.assert_allclose(splits.valid.inputs[0], (train[k : k + 16] - mean) / std, rtol=1e-5)


@needs_shared
def test_smnist_scales_pixels_and_keeps_the_last_6000_for_validation(load_real):
    with np.load(SHARED / "mnist" / "mnist.npz") as z:
        x_train, y_train, x_test = z["x_train"], z["y_train"], z["x_test"]
    splits = load_real("smnist")
    np.testing.assert_array_equal(splits.train.inputs[7], x_train[7] / np.float32(255))
    np.testing.assert_array_equal(splits.valid.inputs[0], x_train[54000] / np.float32(255))
    np.testing.assert_array_equal(splits.test.inputs[-1], x_test[-1] / np.float32(255))
    assert splits.valid.targets.tolist() == y_train[54000:].tolist()
    assert splits.train.inputs.max() == 1.0 and splits.train.inputs.min() == 0.0


def _traffic_raw():
    with open(SHARED / "traffic" / "Metro_Interstate_Traffic_Volume.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    temp = np.array([float(r["temp"]) for r in rows])
    volume = np.array([float(r["traffic_volume"]) for r in rows])
    return rows, temp - temp.mean(), (volume - volume.mean()) / volume.std()


@needs_shared
def test_traffic_axis_bug_makes_32_strided_series_and_the_fix_makes_windows(load_real):
    rows, temp, volume = _traffic_raw()
    perm = np.random.RandomState(23489).permutation(32)
    bugged = load_real("traffic")
    j = perm[0]  # the first validation series: rows j, j + 4, j + 8, ...
    np.testing.assert_allclose(bugged.valid.inputs[0, :, 1], temp[j : j + 4 * 12043 : 4], atol=1e-3)
    np.testing.assert_allclose(
        bugged.valid.targets[0, :, 0], volume[j : j + 4 * 12043 : 4], atol=1e-4
    )
    assert (bugged.train.inputs[..., 0] == 0).all()  # the constant holiday feature
    fixed = load_real("traffic", window_axis_bug=False, holiday_bug=False)
    assert sizes(fixed) == (9033, 1204, 1806)
    k = np.random.RandomState(23489).permutation(12043)[0]
    np.testing.assert_allclose(fixed.valid.inputs[0, :, 1], temp[4 * k : 4 * k + 32], atol=1e-3)
    holidays = np.array([r["holiday"] != "None" for r in rows], np.float32)
    x, y = in_window_order(fixed, 23489)
    np.testing.assert_array_equal(x[:, 0, 0], holidays[: 4 * 12043 : 4])
    assert x[:, 0, 0].max() == 1.0  # some window starts on a holiday
    np.testing.assert_allclose(y[:, 0, 0], volume[: 4 * 12043 : 4], atol=1e-4)
    # weekday (Monday 0) and sin(hour pi / 24) of the first row, 2012-10-02 09:00 (Tuesday)
    np.testing.assert_allclose(x[0, 0, 5:], [1.0, np.sin(9 * np.pi / 24)], rtol=1e-6)


@needs_shared
def test_ozone_fills_missing_with_zero_global_zscore_and_axis_bug(load_real):
    lines = (SHARED / "ozone" / "eighthr.data").read_text().splitlines()
    raw = np.array([[0.0 if v == "?" else float(v) for v in ln.split(",")[1:-1]] for ln in lines])
    labels = np.array([int(float(ln.split(",")[-1])) for ln in lines])
    assert raw.shape == (2534, 72) and 0.05 < labels.mean() < 0.08
    z = (raw - raw.mean()) / raw.std()
    bugged = load_real("ozone")
    j = np.random.RandomState(23489).permutation(32)[0]
    np.testing.assert_allclose(bugged.valid.inputs[0], z[j : j + 4 * 626 : 4], atol=1e-5)
    assert bugged.valid.targets[0].tolist() == labels[j : j + 4 * 626 : 4].tolist()
    fixed = load_real("ozone", window_axis_bug=False)
    assert sizes(fixed) == (471, 62, 93) and fixed.train.inputs.shape[1:] == (32, 72)
    k = np.random.RandomState(23489).permutation(626)[0]
    np.testing.assert_allclose(fixed.valid.inputs[0], z[4 * k : 4 * k + 32], atol=1e-5)


@needs_shared
def test_power_fills_missing_rows_with_the_last_value_and_standardises(load_real):
    with gzip.open(SHARED / "power" / "household_power_consumption.txt.gz", "rt") as f:
        head = [next(f) for _ in range(7000)]
    rows = [ln.strip().split(";") for ln in head[1:]]
    missing = next(i for i, r in enumerate(rows) if r[2] == "?")
    last = next(i for i in range(missing, -1, -1) if rows[i][2] != "?")
    splits = load_real("power")
    x, y = in_window_order(splits, 23489)  # windows of 32 every 32 rows: row order
    flat_y, flat_x = y.reshape(-1), x.reshape(-1, 6)
    a, b = float(rows[0][2]), float(rows[1][2])
    scale = (flat_y[0] - flat_y[1]) / (a - b)  # 1 / std
    np.testing.assert_allclose(flat_y[2], flat_y[0] + scale * (float(rows[2][2]) - a), atol=1e-4)
    assert flat_y[missing] == flat_y[last] and (flat_x[missing] == flat_x[last]).all()
    assert abs(float(flat_y.mean())) < 0.01 and abs(float(flat_y.std()) - 1) < 0.01
    # the paper's float32 statistics: Voltage (x column 1) is not centred (float32
    # accumulation over 2 million rows: mean 243.4 V instead of 240.8 V)
    assert -0.85 < float(flat_x[:, 1].astype(np.float64).mean()) < -0.75
    exact = load_real("power", float32_statistics=False)
    _, x64 = in_window_order(exact, 23489)
    voltage = x64.reshape(-1, 6)[:, 1].astype(np.float64)
    assert abs(voltage.mean()) < 1e-3 and abs(voltage.std() - 1) < 1e-3


@needs_shared
def test_cheetah_targets_are_the_next_step_and_files_split_as_the_paper(load_real):
    splits = load_real("cheetah")
    np.testing.assert_array_equal(splits.train.inputs[:, 1:], splits.train.targets[:, :-1])
    trace15 = np.load(SHARED / "cheetah" / "trace_0015.npy").astype(np.float32)
    trace0 = np.load(SHARED / "cheetah" / "trace_0000.npy").astype(np.float32)
    trace5 = np.load(SHARED / "cheetah" / "trace_0005.npy").astype(np.float32)
    np.testing.assert_array_equal(splits.train.inputs[1], trace15[10:42])
    np.testing.assert_array_equal(splits.train.targets[96], trace15[961:993])
    np.testing.assert_array_equal(splits.valid.inputs[0], trace0[:32])
    np.testing.assert_array_equal(splits.test.inputs[0], trace5[:32])


# ---------------------------------------------------------------- HAR on written files


def write_har(root: Path, n_train: int = 40, n_test: int = 30) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(0)
    base = root / "har" / "UCI HAR Dataset"
    out = []
    for split, n in (("train", n_train), ("test", n_test)):
        (base / split).mkdir(parents=True)
        x = np.round(rng.uniform(-1, 1, (n, 561)), 6)
        y = rng.integers(1, 7, n)
        np.savetxt(base / split / f"X_{split}.txt", x, fmt="%.6e")
        np.savetxt(base / split / f"y_{split}.txt", y, fmt="%d")
        out += [x, y]
    return tuple(out)


def test_har_on_small_files_in_the_archive_layout(tmp_path):
    x, y, xt, yt = write_har(tmp_path)
    splits = load_task("har", data_dir=tmp_path)
    # 40 rows: range(0, 24) = 24 windows -> int(2.4) = 2 valid, 22 train;
    # 30 test rows, stride 8: range(0, 14, 8) = 2 windows
    assert sizes(splits) == (22, 2, 2)
    assert splits.train.inputs.shape[1:] == (16, 561)
    perm = np.random.RandomState(893429).permutation(24)
    np.testing.assert_allclose(splits.valid.inputs[1], x[perm[1] : perm[1] + 16], rtol=1e-6)
    assert splits.valid.targets[1].tolist() == (y[perm[1] : perm[1] + 16] - 1).tolist()
    np.testing.assert_allclose(splits.test.inputs[1], xt[8:24], rtol=1e-6)
    assert splits.test.targets.max() <= 5 and splits.test.targets.min() >= 0
    last = load_task("har", data_dir=tmp_path, include_last_window=True)
    assert sizes(last) == (23, 2, 2)  # 25 windows: the one ending at row 40 is kept


def test_har_flat_layout_and_bad_labels(tmp_path):
    x = np.zeros((20, 561))
    flat = tmp_path / "har"
    flat.mkdir()
    for split in ("train", "test"):
        np.savetxt(flat / f"X_{split}.txt", x)
        np.savetxt(flat / f"y_{split}.txt", np.full(20, 7), fmt="%d")
    with pytest.raises(ValueError, match="data_dir: expected labels 1-6"):
        load_task("har", data_dir=tmp_path)


# ------------------------------------------------------- person activity on written files

TAG = ("010-000-024-033", "010-000-030-096", "020-000-033-111", "020-000-032-221")


def person_line(rec, tag, ticks, xyz, activity):
    return f"{rec},{TAG[tag]},{ticks},27.05.2009 14:03:25:127,{xyz[0]},{xyz[1]},{xyz[2]},{activity}"


def write_person(root: Path, lengths=(200, 150, 100)) -> Path:
    """Recordings A01, A02, ... of ``lengths`` readings: reading i of a recording has tag
    i % 4, values (i, -i, rec), and activity "walking" except "sitting" for i % 10 == 9."""
    lines = []
    for r, n in enumerate(lengths):
        for i in range(n):
            act = "sitting" if i % 10 == 9 else "walking"
            lines.append(
                person_line(f"A{r + 1:02d}", i % 4, 633790226051280329 + i, (i, -i, r), act)
            )
    path = root / "person" / "ConfLongDemo_JSI.txt"
    path.parent.mkdir(parents=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def test_person_setting_1_drops_the_last_recording_by_default(tmp_path):
    write_person(tmp_path)
    splits = load_task("person", data_dir=tmp_path)
    # A01: range(0, 168, 16) = 11 windows, A02: range(0, 118, 16) = 8; A03 dropped
    assert sizes(splits) == (16, 1, 2)
    assert splits.train.inputs.shape[1:] == (32, 7)
    everything = load_task("person", data_dir=tmp_path, drop_last_recording=False)
    assert sizes(everything) == (19, 2, 3)  # + A03: range(0, 68, 16) = 5 -> 24 windows
    # window w of the whole set: the paper's permutation puts window perm[0] first in valid
    perm = np.random.RandomState(27731).permutation(19)
    w = perm[0]
    rec, start = (0, 16 * w) if w < 11 else (1, 16 * (w - 11))
    v = splits.valid.inputs[0]
    np.testing.assert_array_equal(v[:, 4], np.arange(start, start + 32))  # x = i
    np.testing.assert_array_equal(v[:, 6], rec)  # z = recording
    np.testing.assert_array_equal(v[:, :4], np.eye(4)[np.arange(start, start + 32) % 4])
    expected = [1 if i % 10 == 9 else 3 for i in range(start, start + 32)]  # sitting 1, walking 3
    assert splits.valid.targets[0].tolist() == expected


def write_person_irregular(root: Path, recordings: int = 4, readings: int = 300) -> None:
    """Readings in pairs: pair p (readings 2p, 2p + 1) at ticks t0 + p * 2e5 (+ 3e4 for the
    second reading, still the same 1e5-tick bin), tags {0, 1} for even p and {2, 3} for odd
    p; activity "walking", but "standing up from sitting on the ground" for p % 7 == 3."""
    lines = []
    for r in range(recordings):
        for i in range(readings):
            p = i // 2
            tag = i % 2 + (2 if p % 2 else 0)
            ticks = 633790226051280329 + p * 200000 + (30000 if i % 2 else 0)
            act = "standing up from sitting on the ground" if p % 7 == 3 else "walking"
            lines.append(person_line(f"B{r + 1:02d}", tag, ticks, (i, -i, r), act))
    path = root / "person" / "ConfLongDemo_JSI.txt"
    path.parent.mkdir(parents=True)
    path.write_text("\n".join(lines) + "\n")


def test_person_irregular_bins_masks_elapsed_times_and_split(tmp_path):
    write_person_irregular(tmp_path)
    splits = load_task("person_irregular", data_dir=tmp_path)
    # 150 bins per recording -> range(0, 100, 25) = 4 windows of 50; 16 windows:
    # floor(0.8 * 16) = 12 train (1 of them held out for validation), 4 test
    assert sizes(splits) == (11, 1, 4)
    assert splits.train.inputs.shape[1:] == (50, 24) and splits.train.mask.all()
    w = np.random.RandomState(42).permutation(16)[
        0
    ]  # first test window: recording w // 4, bins 25 (w % 4) ... + 49
    rec, first_bin = w // 4, 25 * (w % 4)
    x, t, y = splits.test.inputs[0], splits.test.timespans[0], splits.test.targets[0]
    # elapsed: 2 bins between pairs (1 at a recording's first bin)
    assert t[1:].tolist() == [2.0] * 49 and t[0] == (1.0 if first_bin == 0 else 2.0)
    bins = np.arange(first_bin, first_bin + 50)
    even = bins % 2 == 0
    # mask: tags 0, 1 observed in even pairs, tags 2, 3 in odd ones
    np.testing.assert_array_equal(x[even, 12:18], 1)
    np.testing.assert_array_equal(x[even, 18:24], 0)
    np.testing.assert_array_equal(x[~even, 18:24], 1)
    # values: the tag's x, y, z = (reading index, -index, recording)
    np.testing.assert_array_equal(x[even, 0], 2 * bins[even])
    np.testing.assert_array_equal(x[even, 4], -(2 * bins[even] + 1))
    np.testing.assert_array_equal(x[~even, 8], rec)
    np.testing.assert_array_equal(x[~even, 9], 2 * bins[~even] + 1)
    # the misspelt activity is unlabelled (0, walking) by default, standing up (4) if fixed
    assert (y == 0).all()
    fixed = load_task("person_irregular", data_dir=tmp_path, label_name_bug=False)
    expected = np.where(bins % 7 == 3, 4, 0)
    np.testing.assert_array_equal(fixed.test.targets[0], expected)


def test_person_rejects_unknown_activity(tmp_path):
    path = write_person(tmp_path, lengths=(40,))
    path.write_text(path.read_text() + person_line("A02", 0, 1, (0, 0, 0), "dancing") + "\n")
    with pytest.raises(ValueError, match="data_dir: expected lines .* got line 41"):
        load_task("person", data_dir=tmp_path)


# ------------------------------------------------- local directories and checksums


def test_data_dir_missing_file_names_file_url_and_option(tmp_path):
    with pytest.raises(FileNotFoundError) as err:
        load_task("ozone", data_dir=tmp_path)
    msg = str(err.value)
    assert "data_dir" in msg and "ozone/eighthr.data" in msg and dl.DATA_DIR_ENV in msg
    assert "archive.ics.uci.edu" in msg


def test_data_dir_checksum_mismatch_is_an_error_unless_verify_false(tmp_path):
    (tmp_path / "ozone").mkdir()
    lines = [f"1/{i}/1998," + ",".join([str(i)] * 72) + f",{i % 2}.0\n" for i in range(41)]
    (tmp_path / "ozone" / "eighthr.data").write_text("".join(lines))
    with pytest.raises(ValueError, match="data_dir: expected sha256 0c10d1e2.* verify=False"):
        load_task("ozone", data_dir=tmp_path)
    splits = load_task("ozone", data_dir=tmp_path, verify=False, seq_len=16, stride=1)
    # 41 rows: range(0, 25) = 25 windows -> 16 series of 25 steps (axis bug), 13 / 1 / 2
    assert sizes(splits) == (13, 1, 2) and splits.train.inputs.shape[1:] == (25, 72)


def test_environment_data_dir_is_used(tmp_path, monkeypatch):
    write_person(tmp_path)
    monkeypatch.setenv("LTCJAX_DATA_DIR", str(tmp_path))
    assert sizes(load_task("person")) == (16, 1, 2)


# -------------------------------------------------------------------- downloads


class FakeResponse:
    """An urlopen response serving ``payload``; raises ``fail`` after ``fail_after`` bytes."""

    def __init__(self, payload: bytes, fail_after: int | None = None, fail=None):
        self.stream = io.BytesIO(payload)
        self.headers = {"Content-Length": str(len(payload))}
        self.fail_after, self.fail = fail_after, fail

    def read(self, n=-1):
        if self.fail_after is not None and self.stream.tell() >= self.fail_after:
            raise self.fail
        size = n if self.fail_after is None else min(n, self.fail_after - self.stream.tell())
        return self.stream.read(size)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def serve(monkeypatch, payloads, **kw):
    """Replace urllib's urlopen by a server of ``payloads`` (url -> bytes); returns the
    list of requested URLs."""
    requested = []

    def urlopen(url, timeout=None):
        requested.append(url)
        if url not in payloads:
            raise urllib.error.URLError("offline")
        return FakeResponse(payloads[url], **kw)

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    return requested


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*")) if folder.exists() else []


def test_download_verifies_and_caches_then_reuses_the_cache(monkeypatch, isolated_cache):
    body = b"a,b\n1,2\n"
    f = dl.DataFile("toy", "t.csv", "https://x.invalid/t.csv", (hashlib.sha256(body).hexdigest(),))
    requested = serve(monkeypatch, {f.url: body})
    path = dl.locate(f)
    assert path == isolated_cache / "toy" / "t.csv" and path.read_bytes() == body
    assert files_in(isolated_cache / "toy") == ["t.csv"]  # no temporary file left
    assert dl.locate(f) == path and len(requested) == 1  # second call: the cache


def test_download_extracts_members_of_zip_and_gzip(monkeypatch, isolated_cache):
    a, b = b"first\n", b"second\n"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("__MACOSX/set/train/._a.txt", b"junk")
        z.writestr("set/train/a.txt", a)
        z.writestr("set/test/b.txt", b)
    url = "https://x.invalid/set.zip"
    files = [
        dl.DataFile("toy", "a.txt", url, (hashlib.sha256(a).hexdigest(),), "train/a.txt", "zip"),
        dl.DataFile("toy", "b.txt", url, (hashlib.sha256(b).hexdigest(),), "test/b.txt", "zip"),
    ]
    gz = dl.DataFile(
        "toy",
        "c.txt",
        "https://x.invalid/c.txt.gz",
        (hashlib.sha256(a).hexdigest(),),
        archive="gzip",
    )
    requested = serve(monkeypatch, {url: buf.getvalue(), gz.url: gzip.compress(a)})
    paths = dl.locate_all([*files, gz])
    assert [p.read_bytes() for p in paths] == [a, b, a]
    assert requested == [url, gz.url]  # one download per archive
    assert files_in(isolated_cache / "toy") == ["a.txt", "b.txt", "c.txt"]


def test_checksum_mismatch_on_download_leaves_nothing(monkeypatch, isolated_cache):
    f = dl.DataFile("toy", "t.csv", "https://x.invalid/t.csv", (SHA_EMPTY,))
    serve(monkeypatch, {f.url: b"tampered"})
    with pytest.raises(ValueError, match="download: expected sha256 e3b0c442"):
        dl.locate(f)
    assert files_in(isolated_cache / "toy") == []
    archive = dl.DataFile("toy", "t.csv", f.url, url_sha256=SHA_EMPTY)
    with pytest.raises(ValueError, match="nothing was cached"):
        dl.locate(archive)
    assert files_in(isolated_cache / "toy") == []


def test_interrupted_download_leaves_no_partial_file(monkeypatch, isolated_cache):
    body = bytes(range(256)) * 10000  # 2.5 MB: interrupted after the first 1 MiB chunk
    f = dl.DataFile(
        "toy", "big.bin", "https://x.invalid/big.bin", (hashlib.sha256(body).hexdigest(),)
    )
    serve(monkeypatch, {f.url: body}, fail_after=1 << 20, fail=ConnectionResetError("reset"))
    with pytest.raises(FileNotFoundError, match="downloading https://x.invalid/big.bin failed"):
        dl.locate(f)
    assert files_in(isolated_cache / "toy") == []
    serve(monkeypatch, {f.url: body}, fail_after=1 << 20, fail=KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        dl.locate(f)
    assert files_in(isolated_cache / "toy") == []
    serve(monkeypatch, {f.url: body})  # back online: the next call downloads it whole
    assert dl.locate(f).read_bytes() == body


def test_offline_without_data_names_file_url_and_data_dir(monkeypatch, isolated_cache):
    serve(monkeypatch, {})
    with pytest.raises(FileNotFoundError) as err:
        load_task("ozone")
    msg = str(err.value)
    assert "ozone/eighthr.data" in msg and OZONE_URL in msg and "data_dir=" in msg
    assert files_in(isolated_cache) in ([], ["ozone"])
    with pytest.raises(FileNotFoundError, match="download=False"):
        load_task("ozone", download=False)


OZONE_URL = "https://archive.ics.uci.edu/ml/machine-learning-databases/ozone/eighthr.data"


@needs_shared
def test_load_task_downloads_the_original_into_the_cache(monkeypatch, isolated_cache):
    serve(monkeypatch, {OZONE_URL: (SHARED / "ozone" / "eighthr.data").read_bytes()})
    splits = load_task("ozone")
    assert sizes(splits) == (25, 3, 4)
    assert (isolated_cache / "ozone" / "eighthr.data").is_file()
    serve(monkeypatch, {})  # offline now: the cache is enough
    assert sizes(load_task("ozone")) == (25, 3, 4)


def test_unpublished_checksum_is_recorded_on_first_use_and_then_enforced(
    monkeypatch, isolated_cache
):
    f = dl.DataFile("toy", "t.txt", "https://x.invalid/t.txt")
    serve(monkeypatch, {f.url: b"v1"})
    with pytest.warns(UserWarning, match="trust on first use"):
        path = dl.locate(f)
    record = path.with_name("t.txt.sha256").read_text().split()[0]
    assert record == hashlib.sha256(b"v1").hexdigest()
    path.write_bytes(b"v2")  # the cached file changes afterwards
    with pytest.raises(ValueError, match="cache: expected sha256"):
        dl.locate(f)


def test_parsed_arrays_cache_is_atomic_and_rebuilt_when_unreadable(isolated_cache):
    calls = []

    def build():
        calls.append(1)
        return {"x": np.arange(4.0)}

    assert dl.cached_arrays("toy", "k", build)["x"].tolist() == [0, 1, 2, 3]
    path = isolated_cache / "toy" / "parsed-k.npz"
    assert files_in(isolated_cache / "toy") == ["parsed-k.npz"]
    path.write_bytes(b"garbage")  # e.g. a copy from an older, broken run
    assert dl.cached_arrays("toy", "k", build)["x"].tolist() == [0, 1, 2, 3]
    assert len(calls) == 2 and dl.cached_arrays("toy", "k", build) and len(calls) == 2
