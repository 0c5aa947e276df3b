"""``ltcjax demo``: train a small NCP-wired LTC on an irregularly sampled synthetic task.

The task (see :mod:`ltcjax.data.synthetic`): a damped oscillator driven by a piecewise
constant input, observed at random times (every sequence has its own elapsed times). The
model, an LTC with an ``AutoNCP`` wiring followed by a linear readout, sees the input and
the elapsed times and must predict the oscillator's position at every observation. The
demo prints the loss per epoch (with progress bars), tests the best-validation parameters,
and writes ``learning_curves.png``, ``predictions.png`` and ``metrics.jsonl`` to the output
directory (default ``demo_output/``). The default run takes about a minute on two CPU cores.

Example:
    >>> main(["--quick", "--out", __import__("tempfile").mkdtemp(), "--no-progress"])
    ... # doctest: +SKIP
    0
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from ltcjax.validation import argument_error

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="ltcjax demo",
        description="Train an NCP-wired LTC on a synthetic irregularly sampled task and "
        "plot its predictions and learning curves.",
    )
    p.add_argument("--epochs", type=int, default=None, help="epochs (default 25; 6 with --quick)")
    p.add_argument("--quick", action="store_true", help="a tiny run (seconds), for smoke tests")
    p.add_argument("--units", type=int, default=24, help="LTC neurons (default 24)")
    p.add_argument("--lr", type=float, default=0.03, help="learning rate (default 0.03)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="demo_output", help="output directory (default demo_output)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the demo with ``argv`` (default ``sys.argv[1:]``); returns an exit code."""
    from ltcjax.train.cli import run_command

    return run_command("ltcjax demo", _parser(), _run, argv)


def _run(args: argparse.Namespace) -> int:
    t0 = time.perf_counter()
    if args.units < 7:  # AutoNCP(units, 4) needs more than 4 + 2 neurons
        raise argument_error("--units", "at least 7 (4 motor neurons + 3)", args.units)

    from ltcjax.data import make_synthetic
    from ltcjax.models.ltc import LTCCell
    from ltcjax.train import SequenceModel, Task, TrainConfig, Trainer, fit
    from ltcjax.train.plots import plot_learning_curves, plot_predictions
    from ltcjax.wirings import AutoNCP

    if args.quick:
        num_sequences, seq_len, epochs = 160, 24, 6
    else:
        num_sequences, seq_len, epochs = 512, 48, 25
    epochs = args.epochs or epochs
    splits = make_synthetic(num_sequences=num_sequences, seq_len=seq_len, seed=args.seed)
    cell = LTCCell(input_size=1, wiring=AutoNCP(args.units, 4, seed=args.seed))
    model = SequenceModel(cell=cell, output_dim=1, return_sequences=True)
    task = Task(kind="regression", output_dim=1, sequence=True)
    config = TrainConfig(
        epochs=epochs,
        batch_size=16,
        learning_rate=args.lr,
        schedule="cosine",
        grad_clip_norm=1.0,
        seed=args.seed,
        progress=not args.no_progress,
    )
    baseline = float(np.mean(np.square(splits.test.targets)))
    print(
        f"ltcjax demo: LTC with AutoNCP({args.units}, 4) wiring + linear readout; "
        f"{len(splits.train)} train sequences of {seq_len} irregular observations "
        f"(elapsed times 0.05-0.4); {epochs} epochs"
    )
    print(f"test MSE of predicting 0: {baseline:.4f}")
    result = fit(model, task, splits, config)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in result.history))
    curves = plot_learning_curves(result.history, out / "learning_curves.png", "LTC (AutoNCP)")
    test = splits.test.take(np.arange(3))
    trainer = Trainer(model, task, config, 1)
    pred = np.asarray(trainer.predict(result.params, test.inputs, test.timespans))
    times = np.cumsum(test.timespans, axis=1)
    preds = plot_predictions(
        times,
        test.targets[..., 0],
        pred[..., 0],
        out / "predictions.png",
        inputs=test.inputs[..., 0],
        title=f"test sequences: test MSE {result.test['mse']:.4f} (predicting 0: {baseline:.4f})",
    )
    losses = [r["train"]["loss"] for r in result.history]
    print(
        f"train loss {losses[0]:.4f} -> {losses[-1]:.4f}; test MSE {result.test['mse']:.4f} "
        f"(best validation epoch {result.best_epoch}); {time.perf_counter() - t0:.0f} s"
    )
    print(f"wrote {curves}")
    print(f"wrote {preds}")
    print(f"wrote {out / 'metrics.jsonl'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
