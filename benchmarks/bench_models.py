"""Forward+backward cost of every registered model at one common shape (CPU by default).

Times ``jax.jit(jax.value_and_grad(mse))`` over a whole sequence batch for each model in
:mod:`ltcjax.registry`, reports the median over repetitions and the ratio to the LSTM
measured in the same run, and writes ``benchmarks/results/models_<backend>.{json,md}``.

    python benchmarks/bench_models.py            # batch 64, 100 steps, 16 inputs, 64 units
    python benchmarks/bench_models.py --reps 3 --models lstm cfc

Wall-clock timings on a shared machine are noisy: compare ratios within one run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import statistics
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp

from ltcjax.registry import available_models, make_cell

RESULTS = Path(__file__).parent / "results"
#: Model options used here (the paper's defaults otherwise).
MODEL_KWARGS: dict[str, dict] = {"cfc": {}, "ltc": {}, "ctrnn": {}, "node": {}, "ctgru": {}}
DESCRIPTIONS = {
    "ltc": "LTC, fused solver, 6 unfolds",
    "cfc": "CfC default mode, backbone 128 x 1",
    "ctrnn": "CT-RNN, Euler, 6 unfolds",
    "node": "ODE-RNN, RK4, 6 unfolds",
    "ctgru": "CT-GRU, M = 8",
    "lstm": "LSTM",
}


def build_model(name: str, batch: int, steps: int, features: int, units: int) -> dict:
    """Compile ``jit(value_and_grad(mse))`` for ``name``; return a ready-to-time callable."""
    cell = make_cell(name, input_size=features, units=units, **MODEL_KWARGS.get(name, {}))
    params = cell.init(jax.random.key(0))
    kx, kt = jax.random.split(jax.random.key(1))
    xs = jax.random.normal(kx, (batch, steps, features))
    ts = jax.random.uniform(kt, (batch, steps), minval=0.5, maxval=1.5)

    @jax.jit
    def loss_and_grad(p, xs, ts):
        def mse(p):
            ys, _ = cell.apply(p, xs, timespans=ts)
            return jnp.mean(ys**2)

        return jax.value_and_grad(mse)(p)

    t0 = time.perf_counter()
    jax.block_until_ready(loss_and_grad(params, xs, ts))
    return {
        "model": name,
        "description": DESCRIPTIONS.get(name, name),
        "params": cell.num_params(params),
        "first_call_s": time.perf_counter() - t0,
        "run": lambda: jax.block_until_ready(loss_and_grad(params, xs, ts)),
        "times_ms": [],
    }


def time_models(models: list[str], reps: int, **shape: int) -> list[dict]:
    """Warm up every model, then time them round-robin (so load changes hit all alike)."""
    entries = [build_model(name, **shape) for name in models]
    for _ in range(reps):
        for e in entries:
            t0 = time.perf_counter()
            e["run"]()
            e["times_ms"].append((time.perf_counter() - t0) * 1e3)
    results = []
    for e in entries:
        times = e.pop("times_ms")
        del e["run"]
        results.append(
            {**e, "median_ms": statistics.median(times), "min_ms": min(times), "reps": reps}
        )
    return results


def to_markdown(report: dict) -> str:
    s = report["shape"]
    lines = [
        "# Model zoo: forward + backward cost",
        "",
        f"`jit(value_and_grad(mse))` over a batch of {s['batch']} sequences x {s['steps']} "
        f"steps, {s['features']} inputs, {s['units']} units (irregular timespans), median of "
        f"{report['reps']} repetitions (models timed round-robin) after one warm-up call; "
        "ratio to the LSTM of the same run.",
        "",
        "| model | configuration | parameters | median ms | ratio to LSTM |",
        "|---|---|---:|---:|---:|",
    ]
    for r in report["results"]:
        lines.append(
            f"| {r['model']} | {r['description']} | {r['params']} | {r['median_ms']:.1f} | "
            f"{r['ratio_to_lstm']:.2f} |"
        )
    lines += [
        "",
        f"Machine: {report['machine']}. {report['note']}",
        "",
        f"Command: `{report['command']}` (jax {report['jax_version']}, {report['backend']}).",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--features", type=int, default=16)
    parser.add_argument("--units", type=int, default=64)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--models", nargs="*", default=None, help="default: all registered")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--note", default="2-core CPU shared with other jobs: timings are noisy.")
    args = parser.parse_args(argv)
    models = args.models or list(available_models())
    if "lstm" not in models:
        models = ["lstm", *models]
    shape = {k: getattr(args, k) for k in ("batch", "steps", "features", "units")}
    results = time_models(models, args.reps, **shape)
    for r in results:
        print(f"{r['model']:6s} {r['median_ms']:9.1f} ms (first call {r['first_call_s']:.1f} s)")
    lstm_ms = next(r["median_ms"] for r in results if r["model"] == "lstm")
    for r in results:
        r["ratio_to_lstm"] = r["median_ms"] / lstm_ms
    results.sort(key=lambda r: r["median_ms"])
    backend = jax.default_backend()
    report = {
        "shape": shape,
        "reps": args.reps,
        "backend": backend,
        "jax_version": jax.__version__,
        "machine": f"{platform.machine()} {platform.system()}, {os.cpu_count()} CPUs visible, "
        f"python {platform.python_version()}",
        "note": args.note,
        "command": "python " + shlex.join(["benchmarks/bench_models.py", *sys.argv[1:]]),
        "results": results,
    }
    md = to_markdown(report)
    print(md)
    if not args.no_write:
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / f"models_{backend}.json").write_text(json.dumps(report, indent=2) + "\n")
        (RESULTS / f"models_{backend}.md").write_text(md)
    return report


if __name__ == "__main__":
    main()
