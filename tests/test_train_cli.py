"""``ltcjax train`` (ltcjax.train.cli.main): a full run, resume, export and clear errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ltcjax.train import load_exported
from ltcjax.train.cli import build_cell, load_dataset, main

TINY = ["--units", "6", "--num-sequences", "32", "--seq-len", "6", "--batch-size", "8"]


def test_train_run_resume_and_export(tmp_path, capsys):
    out = tmp_path / "run"
    argv = [*TINY, "--wiring", "autoncp", "--epochs", "2", "--lr", "0.02", "--seed", "1"]
    assert main([*argv, "--out", str(out), "--export", "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "epoch   1/2" in text and "epoch   2/2" in text and "test (best validation" in text
    lines = (out / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(x)["epoch"] for x in lines] == [1, 2]
    assert (out / "learning_curves.png").stat().st_size > 0
    result = json.loads((out / "result.json").read_text())
    assert result["epochs_run"] == 2 and "mse" in result["test"]
    splits, _ = load_dataset("synthetic", seed=1, num_sequences=32, seq_len=6)
    pred = load_exported(out / "export")(splits.test.inputs, splits.test.timespans)
    assert pred.shape == splits.test.targets.shape
    mse = float(np.mean((np.asarray(pred) - splits.test.targets) ** 2))
    np.testing.assert_allclose(mse, result["test"]["mse"], rtol=1e-5)
    # Without --resume the run refuses to overwrite; with it, training continues.
    assert main([*argv, "--out", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "--out:" in err and "pass --resume" in err and "resume=True" not in err
    argv3 = [a if a != "2" else "3" for a in argv]
    assert main([*argv3, "--out", str(out), "--resume", "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "resumed from step" in text and "epoch   3/3" in text and "epoch   1/3" not in text
    assert len((out / "metrics.jsonl").read_text().splitlines()) == 3


@pytest.mark.parametrize(
    ("argv", "name"),
    [
        (["--model", "transformer"], "model:"),
        (["--wiring", "star"], "wiring:"),
        (["--dataset", "npz", "--data-dir", "/nonexistent/ltcjax-data"], "--data-dir:"),
        (["--dataset", "npz"], "--data-dir:"),
        (["--dataset", "gesture"], "dataset:"),
        (["--model", "lstm", "--solver", "rk4"], "model:"),
        (["--batch-size", "0"], "--batch-size:"),
        (["--lr", "-0.5"], "error: --lr: expected a positive number, got -0.5"),
        (["--solver", "dopri99"], "solver"),
        (["--model", "ctgru", "--wiring", "autoncp"], "error: --wiring:"),
        (["--wiring", "fc", "--motor", "2"], "error: --motor:"),
        (["--wiring", "ncp", "--sparsity", "0.3"], "error: --sparsity:"),
        (["--mode", "minimal"], "model:"),  # an LTC has no CfC mode
    ],
)
def test_bad_configs_give_clear_errors(tmp_path, capsys, argv, name):
    assert main([*TINY, *argv, "--out", str(tmp_path / "x"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ltcjax train: error:") and name in err


def test_npz_dataset_task_inference(tmp_path):
    rng = np.random.default_rng(0)
    for split, n in (("train", 8), ("valid", 2), ("test", 2)):
        np.savez(
            tmp_path / f"{split}.npz",
            inputs=rng.normal(size=(n, 5, 3)).astype(np.float32),
            targets=rng.integers(0, 3, size=(n, 5)),
        )
    splits, task = load_dataset("npz", data_dir=tmp_path)
    assert task == {"kind": "classification", "output_dim": 3, "sequence": True}
    assert splits.train.timespans.shape == (8, 5)


def test_build_cell_wirings():
    assert build_cell("ltc", input_size=2, units=8, wiring="ncp", motor=2).output_size == 2
    assert build_cell("ltc", input_size=2, units=8, wiring="random").output_size == 8
    assert build_cell("ltc", input_size=2, units=8, wiring="fc").output_size == 8
    with pytest.raises(ValueError, match="units"):
        build_cell("ltc", input_size=2, units=4, wiring="autoncp", motor=2)
    # Only ltc and cfc take a wiring: the error names the wiring, not the units.
    for model in ("lstm", "ctgru", "ctrnn", "node"):
        with pytest.raises(ValueError, match="^wiring: expected 'fc' for model .*only the models"):
            build_cell(model, input_size=2, units=8, wiring="autoncp")
    assert build_cell("cfc", input_size=2, units=8, wiring="autoncp", motor=2).output_size == 2
    with pytest.raises(ValueError, match="^motor:"):
        build_cell("ltc", input_size=2, units=8, wiring="random", motor=2)
    with pytest.raises(ValueError, match="^sparsity:"):
        build_cell("ltc", input_size=2, units=8, wiring="fc", sparsity=0.2)
    assert build_cell("ltc", input_size=2, units=8, wiring="random", sparsity=0.2).units == 8
    # CfC's "minimal" mode is its "pure" mode.
    assert build_cell("cfc", input_size=2, units=4, mode="minimal").mode == "pure"
    assert build_cell("cfc", input_size=2, units=4, mode="no_gate").mode == "no_gate"


def test_help_shows_the_defaults(capsys):
    assert main(["--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
    for flag, default in [
        ("--epochs", "default 10"),
        ("--batch-size", "default 16"),
        ("--optimizer", "default adam"),
        ("--schedule", "default constant"),
        ("--out", "default runs/train"),
        ("--lr", "default 0.01"),
        ("--seed", "default 0"),
    ]:
        after = text.split(f"{flag} ", 1)[1]
        assert default in after.split(" --", 1)[0], (flag, default)
    assert "'adamw'" in text and "'warmup_cosine'" in text  # the choices are listed
