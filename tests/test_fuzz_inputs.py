"""Fuzz the npz loader and the ``ltcjax train`` command with malformed data directories.

Every malformed input must give a clear error (a ValueError / FileNotFoundError naming an
argument, or exit code 2 with ``ltcjax train: error: ...``), never a crash trace from deep
inside NumPy or JAX, and never a half-written output directory.
"""

import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ltcjax.data import load_npz_splits
from ltcjax.train.cli import main as train_main

# Users do not run the test-time jaxtyping hook: they see ltcjax's own errors.
pytestmark = pytest.mark.usefixtures("without_runtime_typechecks")

EXAMPLES = int(os.environ.get("LTCJAX_PROPERTY_EXAMPLES", "25"))
FUZZ = settings(
    max_examples=4 * EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

CORRUPTIONS = [
    "empty_file",
    "truncated",
    "not_a_zip",
    "missing_inputs",
    "missing_targets",
    "inputs_2d",
    "inputs_strings",
    "inputs_nan",
    "inputs_inf",
    "targets_nan",
    "targets_rows",
    "timespans_negative",
    "timespans_nan",
    "timespans_shape",
    "mask_float",
    "mask_shape",
    "object_array",
    "features_differ",
    "negative_labels",
    "empty_train",
]


def good_arrays(rng, n=6, t=5, f=2):
    return {
        "inputs": rng.normal(size=(n, t, f)).astype(np.float32),
        "targets": rng.normal(size=(n, t, 1)).astype(np.float32),
        "timespans": rng.uniform(0.1, 1.0, (n, t)).astype(np.float32),
    }


def write_case(root: Path, corruption: str, split: str, seed: int) -> None:
    """Write train/valid/test.npz with ``corruption`` applied to ``split``."""
    rng = np.random.default_rng(seed)
    for name in ("train", "valid", "test"):
        arrays = good_arrays(rng)
        path = root / f"{name}.npz"
        if name != split:
            np.savez(path, **arrays)
            continue
        n, t, f = arrays["inputs"].shape
        if corruption == "empty_file":
            path.write_bytes(b"")
            continue
        if corruption == "truncated":
            np.savez(path, **arrays)
            data = path.read_bytes()
            path.write_bytes(data[: int(rng.integers(1, len(data) - 1))])
            continue
        if corruption == "not_a_zip":
            path.write_bytes(rng.bytes(int(rng.integers(1, 200))))
            continue
        if corruption == "missing_inputs":
            del arrays["inputs"]
        elif corruption == "missing_targets":
            del arrays["targets"]
        elif corruption == "inputs_2d":
            arrays["inputs"] = arrays["inputs"][:, :, 0]
        elif corruption == "inputs_strings":
            arrays["inputs"] = np.full((n, t, f), "x")
        elif corruption in ("inputs_nan", "inputs_inf"):
            arrays["inputs"][rng.integers(n), rng.integers(t), 0] = (
                np.nan if corruption == "inputs_nan" else np.inf
            )
        elif corruption == "targets_nan":
            arrays["targets"][rng.integers(n), 0, 0] = np.nan
        elif corruption == "targets_rows":
            arrays["targets"] = arrays["targets"][: n - 1]
        elif corruption == "timespans_negative":
            arrays["timespans"][rng.integers(n), rng.integers(t)] = -rng.uniform(0.1, 5)
        elif corruption == "timespans_nan":
            arrays["timespans"][rng.integers(n), rng.integers(t)] = np.nan
        elif corruption == "timespans_shape":
            arrays["timespans"] = arrays["timespans"][:, 1:]
        elif corruption == "mask_float":
            arrays["mask"] = rng.uniform(size=(n, t))
        elif corruption == "mask_shape":
            arrays["mask"] = np.ones((n, t + 1), bool)
        elif corruption == "object_array":
            arrays["inputs"] = np.array([np.zeros(3), np.zeros(4)], dtype=object)
        elif corruption == "features_differ":
            arrays["inputs"] = rng.normal(size=(n, t, f + 1)).astype(np.float32)
        elif corruption == "negative_labels":
            arrays["targets"] = rng.integers(-3, 0, (n, t))
        elif corruption == "empty_train":
            arrays = {k: v[:0] for k, v in arrays.items()}
        if corruption == "object_array":
            np.savez(path, allow_pickle=True, **arrays)
        else:
            np.savez(path, **arrays)


#: Corruptions the loader itself rejects (the others are valid files that only the command,
#: which needs the splits to agree, must reject).
LOADER_REJECTS = set(CORRUPTIONS) - {"negative_labels"}


@FUZZ
@given(
    corruption=st.sampled_from(sorted(LOADER_REJECTS)),
    split=st.sampled_from(["train", "valid", "test"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_npz_loader_rejects_malformed_files_clearly(corruption, split, seed):
    with tempfile.TemporaryDirectory() as tmp:
        write_case(Path(tmp), corruption, split, seed)
        with pytest.raises((ValueError, FileNotFoundError)) as info:
            load_npz_splits(tmp)
        text = str(info.value)
        assert ": expected" in text or "lacks" in text, text
        named = split in text or corruption == "features_differ"
        assert named, text


@FUZZ
@given(
    corruption=st.sampled_from(CORRUPTIONS),
    split=st.sampled_from(["train", "valid", "test"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_train_command_fails_cleanly_and_writes_nothing(corruption, split, seed, capsys):
    with tempfile.TemporaryDirectory() as tmp:
        data, out = Path(tmp) / "data", Path(tmp) / "run"
        data.mkdir()
        write_case(data, corruption, split, seed)
        argv = ["--dataset", "npz", "--data-dir", str(data), "--epochs", "1"]
        code = train_main([*argv, "--out", str(out), "--no-progress"])
        err = capsys.readouterr().err
        assert code == 2, err
        assert err.startswith("ltcjax train: error: "), err
        assert "Traceback" not in err
        assert not out.exists() or not any(out.iterdir()), sorted(out.iterdir())


def test_fuzz_cases_cover_every_corruption():
    """The corruption list and the writer agree (a typo would silently write a good file)."""
    with tempfile.TemporaryDirectory() as tmp:
        for c in CORRUPTIONS:
            d = Path(tmp) / c
            d.mkdir()
            write_case(d, c, "train", 0)
            if c in LOADER_REJECTS:
                with pytest.raises((ValueError, FileNotFoundError)):
                    load_npz_splits(d)
