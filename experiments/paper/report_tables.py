"""Print the per-task tables of REPORT.md from the run JSONs of an output directory:
ours vs the paper (gap in units of the paper's std), the runs' best epochs (a best epoch at
the last epoch means the run was still improving when its budget ended), the training loss
of the first and last epoch, and the measured cost.

    python experiments/paper/report_tables.py [experiments/results/paper]
"""

from __future__ import annotations

import statistics
import sys

from ltcjax.experiment.models import PAPER_MODELS
from ltcjax.experiment.paper import PAPER_RESULTS, PERCENT_TASKS, display_value
from ltcjax.experiment.table import MODEL_ORDER, TASK_ORDER, collect_results


def fmt_time(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def main(out: str = "experiments/results/paper") -> None:
    groups = collect_results(out)
    tasks = [t for t in TASK_ORDER if any(k[0] == t for k in groups)]
    print(
        "| task | model | ours | paper | gap / paper std | best epochs | train loss "
        "first -> last epoch | ms / step / run | s / full epoch / run |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for task in tasks:
        for model in MODEL_ORDER:
            runs = groups.get((task, model))
            if not runs:
                continue
            vals = [display_value(task, r["test_metric"]) for r in runs]
            mean = statistics.fmean(vals)
            std = statistics.stdev(vals) if len(vals) > 1 else 0.0
            paper = PAPER_RESULTS.get(task, {}).get("ltc" if model == "ltc_ncps" else model)
            fmt = "{:.2f}" if task in PERCENT_TASKS else "{:.3f}"
            ours = f"{fmt.format(mean)} +- {fmt.format(std)}"
            if paper:
                ptxt = f"{fmt.format(paper[0])} +- {fmt.format(paper[1])}"
                gap = f"{(mean - paper[0]) / paper[1]:+.1f}"
            else:
                ptxt, gap = "-", "-"
            best = ",".join(str(r["best_epoch"]) for r in runs)
            first = statistics.fmean(r["learning_curve"][0]["train"]["loss"] for r in runs)
            last = statistics.fmean(r["learning_curve"][-1]["train"]["loss"] for r in runs)
            t = runs[0]["timing"]
            print(
                f"| {task} | {PAPER_MODELS[model].label} | {ours} | {ptxt} | {gap} | {best} | "
                f"{first:.3f} -> {last:.3f} | {fmt_time(t['ms_per_step_per_run'], '.1f')} | "
                f"{fmt_time(t['projected_seconds_per_full_epoch_per_run'], '.3g')} |"
            )


if __name__ == "__main__":
    main(*sys.argv[1:])
