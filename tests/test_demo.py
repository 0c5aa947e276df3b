"""The demo runs end to end at a tiny setting, writes its plots, and its loss goes down."""

from __future__ import annotations

import json

from ltcjax.demo import main


def test_demo_quick(tmp_path, capsys):
    assert main(["--quick", "--out", str(tmp_path), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "epoch   1/6" in out and "test MSE" in out
    for name in ("learning_curves.png", "predictions.png", "metrics.jsonl"):
        assert (tmp_path / name).stat().st_size > 0
        assert str(tmp_path / name) in out
    history = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    losses = [r["train"]["loss"] for r in history]
    assert len(losses) == 6 and losses[-1] < losses[0]


def test_demo_rejects_bad_arguments(capsys):
    assert main(["--units", "3", "--no-progress"]) == 2
    assert "units" in capsys.readouterr().err
