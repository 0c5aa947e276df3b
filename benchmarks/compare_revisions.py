"""Is this tree slower than another git revision? W1 training-step time of both, one run.

A refactor must not slow the library down. This script checks out ``--rev`` into a
temporary git worktree and times the ltcjax W1 training step (fully connected LTC, 64 units,
16 inputs, batch 64, 100 steps, 6 unfolds; forward, backward and Adam update) of that
revision and of the working tree, in fresh subprocesses, alternating between the two for
``--rounds`` rounds so that machine load hits both alike. It reports the medians and their
ratio, and writes benchmarks/results/compare_<rev>_<workload>_cpu.{json,md}. Usage::

    python benchmarks/compare_revisions.py --rev 9a9ffb7 --rounds 4
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
WORKLOADS = {
    "W1": dict(batch=64, steps=100, units=64, inputs=16),
    "paper": dict(batch=16, steps=32, units=32, inputs=16),
}

#: Runs in a subprocess with the tree under test first on sys.path; prints seconds per step.
TIMER = """
import sys, time, statistics
sys.path.insert(0, {tree!r})
import jax, jax.numpy as jnp, optax
import ltcjax
assert ltcjax.__file__.startswith({tree!r}), ltcjax.__file__
b, t, n, f = {batch}, {steps}, {units}, {inputs}
cell = ltcjax.LTCCell(input_size=f, units=n)
params = cell.init(jax.random.key(0))
x = jax.random.normal(jax.random.key(1), (b, t, f))
y = jax.random.normal(jax.random.key(2), (b, t, n))
opt = optax.adam(1e-3)
state = opt.init(params)

@jax.jit
def train_step(params, state):
    loss, grads = jax.value_and_grad(lambda p: jnp.mean((cell.apply(p, x)[0] - y) ** 2))(params)
    updates, state = opt.update(grads, state, params)
    return optax.apply_updates(params, updates), state, loss

for _ in range(2):
    jax.block_until_ready(train_step(params, state))
times = []
for _ in range({repeats}):
    start = time.perf_counter()
    jax.block_until_ready(train_step(params, state))
    times.append(time.perf_counter() - start)
print(statistics.median(times))
"""


def time_tree(tree: Path, workload: dict, repeats: int) -> float:
    code = TIMER.format(tree=str(tree), repeats=repeats, **workload)
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=tree
    )
    return float(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rev", required=True, help="git revision to compare against")
    parser.add_argument("--workload", default="W1", choices=sorted(WORKLOADS))
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=7, help="timed steps per subprocess")
    args = parser.parse_args(argv)
    workload = WORKLOADS[args.workload]
    rev = subprocess.run(
        ["git", "rev-parse", "--short", args.rev],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    ).stdout.strip()
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    ).stdout.strip()
    timings: dict[str, list[float]] = {"base": [], "tree": []}
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base"
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(base), rev],
            check=True,
            capture_output=True,
            cwd=ROOT,
        )
        try:
            for r in range(args.rounds):
                for name, tree in (("base", base), ("tree", ROOT)):
                    timings[name].append(time_tree(tree, workload, args.repeats))
                print(
                    f"round {r + 1}/{args.rounds}: base {timings['base'][-1]:.3f} s, "
                    f"tree {timings['tree'][-1]:.3f} s",
                    flush=True,
                )
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(base)], cwd=ROOT)
    base_med, tree_med = (statistics.median(timings[k]) for k in ("base", "tree"))
    result = {
        "workload": args.workload,
        **workload,
        "base_rev": rev,
        "tree": f"{head} + working tree",
        "base_s": timings["base"],
        "tree_s": timings["tree"],
        "base_median_s": base_med,
        "tree_median_s": tree_med,
        "ratio_tree_over_base": tree_med / base_med,
        "machine": platform.machine(),
        "date": time.strftime("%Y-%m-%d %H:%M"),
    }
    RESULTS.mkdir(exist_ok=True)
    stem = RESULTS / f"compare_{rev}_{args.workload}_cpu"
    stem.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    stem.with_suffix(".md").write_text(
        f"# {args.workload} training step: {rev} vs {head} (+ working tree), one run\n\n"
        f"{args.rounds} alternating rounds, median of {args.repeats} steps each, "
        f"{result['machine']}, {result['date']}.\n\n"
        "| tree | per-round medians (s) | median (s) |\n|---|---|---|\n"
        f"| {rev} | {', '.join(f'{t:.3f}' for t in timings['base'])} | {base_med:.3f} |\n"
        f"| {head} + tree | {', '.join(f'{t:.3f}' for t in timings['tree'])} | {tree_med:.3f} |\n"
        f"\nratio (tree / {rev}): **{tree_med / base_med:.3f}**\n"
    )
    print(f"median: base {base_med:.3f} s, tree {tree_med:.3f} s, ratio {tree_med / base_med:.3f}")
    return result


if __name__ == "__main__":
    main()
