"""Seconds per epoch of training the 5 runs of one task and model together (vmap over seeds)
against one after the other, on paper-sized data (batch 16, windows of 32 steps, 32 units).

    python experiments/paper/bench_vmap.py [--task gesture] [--steps 40] [--models lstm,ltc]
        [--data-dir ../shared/data] [--out experiments/results/paper/vmap_benchmark.json]

Each configuration trains 2 epochs of ``--steps`` batches; the first epoch includes the
compilation, so the figure is the second epoch's training time (validation excluded). It also
checks that run i of the ensemble ends with the same test metrics as the lone run of seed i.
Without the task's data it uses random data of the task's shapes.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np

from ltcjax.data import SequenceData, Splits
from ltcjax.experiment import paper_model, scale_timespans, task_of, train_ensemble
from ltcjax.train import SequenceModel
from ltcjax.train.atomic import write_text_atomically


def random_splits(n, t, f, classes, sequence):
    rng = np.random.default_rng(0)

    def part(m):
        shape = (m, t) if sequence else (m,)
        return SequenceData(
            inputs=rng.normal(size=(m, t, f)).astype(np.float32),
            timespans=np.ones((m, t), np.float32),
            targets=rng.integers(0, classes, size=shape).astype(np.int32),
        )

    return Splits(train=part(n), valid=part(n // 4), test=part(n // 4))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--task", default="gesture")
    p.add_argument("--steps", type=int, default=40)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--models", default="lstm,ctrnn,node,ctgru,ltc")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--out", default=None)
    args = p.parse_args()
    try:
        from ltcjax.data import load_task, task_info

        info = task_info(args.task)
        splits = load_task(args.task, data_dir=args.data_dir)
        source = f"{args.task} (real data)"
    except (ImportError, FileNotFoundError, OSError, ValueError) as err:
        print(f"no {args.task} data ({err}); random gesture-shaped data")
        from types import SimpleNamespace

        info = SimpleNamespace(
            kind="classification",
            output_dim=5,
            sequence=True,
            class_weights=None,
            metric="accuracy",
            batch_size=16,
            learning_rate_ltc=0.01,
            learning_rate_baseline=0.001,
        )
        splits = random_splits(16 * args.steps, 32, 32, 5, True)
        source = "random, gesture-shaped (32 features, 5 classes, 32 steps)"
    rows = []
    for name in args.models.split(","):
        spec = paper_model(name)
        model = SequenceModel(
            cell=spec.make(splits.train.num_features),
            output_dim=info.output_dim,
            return_sequences=info.sequence,
        )
        lr = info.learning_rate_ltc if spec.is_ltc else info.learning_rate_baseline
        data = scale_timespans(splits, spec.elapsed)
        kw = dict(
            epochs=2,
            batch_size=info.batch_size,
            learning_rate=lr,
            max_train_batches=args.steps,
            verbose=False,
        )
        task = task_of(info)
        start = time.perf_counter()
        together = train_ensemble(model, task, data, seeds=range(args.runs), **kw)
        wall_together = time.perf_counter() - start
        start = time.perf_counter()
        alone = [train_ensemble(model, task, data, seeds=(s,), **kw) for s in range(args.runs)]
        wall_alone = time.perf_counter() - start
        sec_together = together.train_seconds[1]
        sec_alone = sum(r.train_seconds[1] for r in alone)
        diff = max(
            abs(together.test[i][k] - alone[i].test[0][k])
            for i in range(args.runs)
            for k in together.test[i]
        )
        row = {
            "model": name,
            "steps_per_epoch": together.steps_per_epoch,
            "vmap_seconds_per_epoch_all_runs": sec_together,
            "one_by_one_seconds_per_epoch_all_runs": sec_alone,
            "speedup": sec_alone / sec_together,
            "wall_with_compile_vmap": wall_together,
            "wall_with_compile_one_by_one": wall_alone,
            "max_abs_test_metric_difference": diff,
        }
        print(json.dumps(row))
        rows.append(row)
    result = {
        "data": source,
        "runs": args.runs,
        "machine": platform.processor() or platform.machine(),
        "rows": rows,
    }
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        write_text_atomically(args.out, json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
