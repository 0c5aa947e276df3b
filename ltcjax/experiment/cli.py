"""``ltcjax experiment``: reproduce the paper's tables.

``ltcjax experiment run --task gesture --model ltc --runs 5`` trains (``--all``: every task
whose data can be loaded, every model of Table 3) and writes each run's JSON under ``--out``;
``ltcjax experiment table`` writes ``--out``/TABLE.md, ours next to the paper's values.

Example:
    >>> main(["--help"])  # doctest: +ELLIPSIS
    usage: ltcjax experiment ...
    0
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from typing import Any

from ltcjax.experiment.models import PAPER_MODELS, TABLE_MODELS
from ltcjax.train.cli import run_command

__all__ = ["main"]

FLAGS = {
    "epochs": "--epochs",
    "runs": "--runs",
    "max_train_batches": "--max-train-batches",
    "max_eval_windows": "--max-eval-windows",
    "model": "--model",
    "task": "--task",
    "out": "--out",
    "data_dir": "--data-dir",
    "loader_option": "--loader-option",
}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="ltcjax experiment",
        description="Reproduce the LTC paper's experiments (Tables 3, 4 and 6).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser(
        "run",
        help="train models on tasks; write one JSON per run, then the table",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    run.add_argument("--task", action="append", help="a task (repeatable; see ltcjax.data.TASKS)")
    run.add_argument(
        "--model",
        action="append",
        choices=tuple(PAPER_MODELS),
        help=f"a model (repeatable; default the five of Table 3: {TABLE_MODELS})",
    )
    run.add_argument(
        "--all",
        action="store_true",
        help="every task whose data can be loaded (others are skipped, with a note)",
    )
    run.add_argument(
        "--runs", type=int, default=5, help="runs (seeds 0..runs-1) per task and model"
    )
    run.add_argument("--epochs", type=int, default=200, help="epochs per run (paper: 200)")
    run.add_argument(
        "--max-train-batches",
        type=int,
        default=None,
        help="cap on training batches per epoch (default: all, as the paper)",
    )
    run.add_argument(
        "--max-eval-windows",
        type=int,
        default=None,
        help="cap on validation and test windows (a fixed random subset; default all)",
    )
    run.add_argument(
        "--loader-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a keyword of the task's loader (repeatable; VALUE is JSON, e.g. "
        "window_axis_bug=false); recorded in each run's JSON",
    )
    run.add_argument(
        "--data-dir",
        default=None,
        help="local copies of the data sets (else $LTCJAX_DATA_DIR or the download cache)",
    )
    run.add_argument("--out", default="runs/experiment", help="output directory")
    run.add_argument(
        "--no-vmap",
        action="store_true",
        help="train the runs one after the other instead of together (vmap)",
    )
    run.add_argument("--eval-batch-size", type=int, default=512, help="sequences per eval step")
    run.add_argument("--progress", action="store_true", help="tqdm bar per epoch")
    run.add_argument("--quiet", action="store_true", help="print nothing but errors")
    table = sub.add_parser(
        "table",
        help="write the markdown table of --out's runs",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    table.add_argument("--out", default="runs/experiment", help="the directory of the runs")
    table.add_argument("--output", default=None, help="the table file (default: --out/TABLE.md)")
    return p


def main(argv: list[str] | None = None) -> int:
    """Run ``ltcjax experiment`` with ``argv`` (default ``sys.argv[1:]``); returns an exit
    code."""
    return run_command("ltcjax experiment", _parser(), _run, argv, FLAGS)


@functools.lru_cache(maxsize=1)
def _load(task: str, data_dir: str | None, options: tuple = ()) -> tuple[Any, Any]:
    from ltcjax.data import load_task, task_info

    return task_info(task), load_task(task, data_dir=data_dir, **dict(options))


def parse_options(items: list[str]) -> tuple[tuple[str, Any], ...]:
    """``["key=json", ...]`` as sorted ``(key, value)`` pairs.

    Example:
        >>> parse_options(["window_axis_bug=false", "stride=4"])
        (('stride', 4), ('window_axis_bug', False))
    """
    from ltcjax.validation import argument_error

    pairs = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise argument_error("loader_option", "KEY=VALUE", repr(item))
        try:
            pairs[key] = json.loads(value)
        except json.JSONDecodeError:
            pairs[key] = value
    return tuple(sorted(pairs.items()))


def _run(args: argparse.Namespace) -> int:
    from ltcjax.experiment.runner import Budget, run_experiment
    from ltcjax.experiment.table import write_table

    if args.command == "table":
        path = write_table(args.out, args.output)
        print(path.read_text(), end="")
        return 0
    from ltcjax.data import TASKS
    from ltcjax.validation import argument_error, check_choice

    if args.all == bool(args.task):
        raise argument_error("task", "one or more --task, or --all (not both)", args.task)
    tasks = list(TASKS) if args.all else args.task
    for task in tasks:
        check_choice("task", task, tuple(TASKS))
    models = args.model or list(TABLE_MODELS)
    budget = Budget(
        epochs=args.epochs,
        max_train_batches=args.max_train_batches,
        max_eval_windows=args.max_eval_windows,
    )
    verbose = not args.quiet
    options = parse_options(args.loader_option)
    skipped = []
    for task in tasks:
        try:
            _load(task, args.data_dir, options)
        except (FileNotFoundError, OSError) as err:
            if not args.all:
                raise
            skipped.append(task)
            print(f"skipping {task}: its data is not available ({err})", file=sys.stderr)
            continue
        for model in models:
            run_experiment(
                task,
                model,
                runs=args.runs,
                budget=budget,
                out=args.out,
                loader=lambda t: _load(t, args.data_dir, options),
                loader_options=dict(options),
                vmap=not args.no_vmap,
                eval_batch_size=args.eval_batch_size,
                verbose=verbose,
                progress=args.progress,
            )
    path = write_table(args.out)
    if verbose:
        print(path.read_text(), end="")
        if skipped:
            print(f"skipped (no data): {', '.join(skipped)}")
    return 0
