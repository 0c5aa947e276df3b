"""The results table: ours (mean +- std over runs, with the budget) next to the paper's values.

Example:
    >>> import tempfile, json, pathlib
    >>> from ltcjax.experiment.runner import run_path
    >>> out = pathlib.Path(tempfile.mkdtemp())
    >>> for i, acc in enumerate([0.70, 0.72]):
    ...     p = run_path(out, "gesture", "ltc", i)
    ...     p.parent.mkdir(parents=True, exist_ok=True)
    ...     _ = p.write_text(json.dumps({"task": "gesture", "model": "ltc", "metric": "accuracy",
    ...         "test_metric": acc, "budget": {"epochs": 3, "max_train_batches": None,
    ...         "steps_per_epoch": 10, "full_steps_per_epoch": 10},
    ...         "timing": {"train_seconds_per_epoch_per_run": 1.5,
    ...                    "projected_seconds_per_full_epoch_per_run": 1.5}}))
    >>> row = results_table(collect_results(out)).splitlines()[2]
    >>> row.split(" | ")[1:9]
    ['LTC', '71.00 +- 1.41', '2', '3', 'all', 'all', '69.55 +- 1.13', 'within 2 std']
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

from ltcjax.experiment.models import PAPER_MODELS
from ltcjax.experiment.paper import PAPER_RESULTS, PAPER_TABLE, PERCENT_TASKS, display_value

__all__ = ["collect_results", "results_table", "summarise", "write_table"]

TASK_ORDER = (
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
MODEL_ORDER = tuple(PAPER_MODELS)


def collect_results(out: str | Path) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Every run JSON under ``out/runs``, grouped by ``(task, model)``."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for path in sorted(Path(out).glob("runs/*/*/run_*.json")):
        record = json.loads(path.read_text())
        groups.setdefault((record["task"], record["model"]), []).append(record)
    return groups


def summarise(task: str, runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean, std (sample, n - 1; 0 for one run) and count of the runs' test metric in the
    paper's units, with the budget and cost of the first run."""
    values = [display_value(task, r["test_metric"]) for r in runs]
    first = runs[0]
    return {
        "mean": statistics.fmean(values),
        "std": statistics.stdev(values) if len(values) > 1 else 0.0,
        "runs": len(values),
        "metric": first["metric"],
        "budget": first["budget"],
        "seconds_per_epoch": first["timing"]["projected_seconds_per_full_epoch_per_run"],
        "evaluated": first.get("evaluated_windows")
        if first["budget"].get("max_eval_windows") is not None
        else None,
    }


def _fmt(task: str, value: float) -> str:
    return f"{value:.2f}" if task in PERCENT_TASKS else f"{value:.3f}"


def _verdict(ours: dict[str, Any], paper: tuple[float, float] | None) -> str:
    if paper is None:
        return "-"
    gap = abs(ours["mean"] - paper[0])
    if gap <= paper[1]:
        return "within 1 std"
    if gap <= 2 * paper[1]:
        return "within 2 std"
    better = ours["mean"] > paper[0] if ours["metric"] != "mse" else ours["mean"] < paper[0]
    return "better" if better else "worse"


def results_table(groups: dict[tuple[str, str], list[dict[str, Any]]]) -> str:
    """A markdown table: one row per task and model.

    Columns: ours (mean +- std over the runs, in the paper's units), runs, epochs, training
    batches per epoch ("all", or the cap of the task's full batches), the validation / test
    windows evaluated ("all", or the capped subsets), the paper's
    value (mean +- std), how ours compares (within one or two of the paper's std, or better
    / worse), and the measured training seconds per full epoch and run ("-" after a single
    epoch, whose time includes compilation).
    """
    lines = [
        "| task (metric) | model | ours | runs | epochs | train batches / epoch | "
        "eval windows | paper | vs paper | s / full epoch |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    keys = sorted(
        groups,
        key=lambda k: (
            TASK_ORDER.index(k[0]) if k[0] in TASK_ORDER else 99,
            MODEL_ORDER.index(k[1]) if k[1] in MODEL_ORDER else 99,
        ),
    )
    for task, model in keys:
        s = summarise(task, groups[(task, model)])
        paper = PAPER_RESULTS.get(task, {}).get("ltc" if model == "ltc_ncps" else model)
        metric = s["metric"] + (" %" if task in PERCENT_TASKS else "")
        b = s["budget"]
        cap = b["max_train_batches"]
        windows = (
            "all"
            if cap is None or cap >= b["full_steps_per_epoch"]
            else (f"{b['steps_per_epoch']} of {b['full_steps_per_epoch']}")
        )
        ev = s["evaluated"]
        evaluated = "all" if not ev else f"{ev['valid']} / {ev['test']}"
        cost = "-" if s["seconds_per_epoch"] is None else f"{s['seconds_per_epoch']:.3g}"
        label = PAPER_MODELS[model].label if model in PAPER_MODELS else model
        paper_txt = "-" if paper is None else f"{_fmt(task, paper[0])} +- {_fmt(task, paper[1])}"
        lines.append(
            f"| {task} ({metric}) | {label} | {_fmt(task, s['mean'])} +- {_fmt(task, s['std'])} "
            f"| {s['runs']} | {b['epochs']} | {windows} | {evaluated} | {paper_txt} "
            f"| {_verdict(s, paper)} "
            f"| {cost} |"
        )
    return "\n".join(lines) + "\n"


def write_table(out: str | Path, path: str | Path | None = None) -> Path:
    """Write :func:`results_table` of ``out``'s runs to ``path`` (default ``out/TABLE.md``),
    atomically, with a header naming the tables and the LTC parameterisations."""
    from ltcjax.train.atomic import write_text_atomically

    out = Path(out)
    path = out / "TABLE.md" if path is None else Path(path)
    tables = ", ".join(f"{t}: {PAPER_TABLE[t]}" for t in TASK_ORDER if t in PAPER_TABLE)
    header = (
        "# Paper reproduction: ours vs the paper\n\n"
        "Ours: mean +- std (n - 1) of the test metric at each run's best validation epoch. "
        f'Paper values: {tables}. Rows "LTC" use the paper\'s TF-code parameterisation '
        "(`LTCTFCell`), rows \"LTC (ncps)\" ncps's (`LTCCell`, compared with the paper's LTC "
        'value). "vs paper": |ours - paper| within one or two of the paper\'s std, else '
        "better / worse. Budget (epochs, batches per epoch) as stated per row; the paper "
        "trains 200 epochs over all windows.\n\n"
    )
    write_text_atomically(path, header + results_table(collect_results(out)))
    return path
