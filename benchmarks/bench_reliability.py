"""What correctness costs: run-time checks on vs off, and bfloat16 vs float32 (issue 12).

W1 (LTC, fully connected, 64 units, 16 inputs, batch 64, 100 steps, 6 unfolds; one Adam
training step) is timed with the run-time checks compiled in and compiled out, alternating
in one run (medians over rounds). Then the same step and a forward pass under the precision
policies "float32", "mixed_bfloat16" and "bfloat16", and each policy's output error against
a float64 solve of the same (rounded) parameters.

    python benchmarks/bench_reliability.py [--rounds 7] [--quick]

Writes benchmarks/results/reliability_<backend>.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax

import ltcjax
from ltcjax.precision import cast_floating

RESULTS = Path(__file__).parent / "results"


def w1(units=64, inputs=16, batch=64, steps=100):
    cell = ltcjax.LTCCell(input_size=inputs, units=units, ode_unfolds=6)
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.normal(size=(batch, steps, inputs)), jnp.float32)
    y = jnp.asarray(rng.normal(size=(batch, steps, units)), jnp.float32)
    ts = jnp.asarray(rng.uniform(0.5, 1.5, (batch, steps)), jnp.float32)
    return cell, x, y, ts


def train_step(cell, precision=None):
    opt = optax.adam(1e-3)

    def loss(p, x, y, ts):
        ys, _ = cell.apply(p, x, timespans=ts, precision=precision)
        return jnp.mean(jnp.square(ys.astype(jnp.float32) - y))

    @jax.jit
    def step(p, s, x, y, ts):
        val, g = jax.value_and_grad(loss)(p, x, y, ts)
        upd, s = opt.update(g, s, p)
        return optax.apply_updates(p, upd), s, val

    return opt, step


def time_fn(fn, args, rounds, reps):
    jax.block_until_ready(fn(*args))  # compile
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        for _ in range(reps):
            out = fn(*args)
        jax.block_until_ready(out)
        times.append((time.perf_counter() - t) / reps)
    return times


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="small W1 (batch 8, 20 steps)")
    args = ap.parse_args(argv)
    sizes = dict(batch=8, steps=20) if args.quick else {}
    cell, x, y, ts = w1(**sizes)
    params = cell.init(jax.random.key(0))
    result = {
        "device": jax.devices()[0].device_kind,
        "backend": jax.default_backend(),
        "jax": jax.__version__,
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "workload": "W1" + (" (quick: batch 8, 20 steps)" if args.quick else ""),
    }

    # 1. checks on vs off, alternating rounds so that machine noise hits both
    steps = {}
    for on in (True, False):
        with ltcjax.runtime_checks(on):
            opt, step = train_step(cell)
            # traced (and compiled) inside the switch: the checks are fixed at trace time
            steps[on] = step.lower(params, opt.init(params), x, y, ts).compile()
    state = optax.adam(1e-3).init(params)
    samples = {True: [], False: []}
    for _ in range(args.rounds):
        for on in (True, False):
            samples[on] += time_fn(steps[on], (params, state, x, y, ts), 1, args.reps)
    on, off = statistics.median(samples[True]), statistics.median(samples[False])
    result["checks"] = {
        "on_s": on,
        "off_s": off,
        "overhead": on / off - 1,
        "on_spread_s": [min(samples[True]), max(samples[True])],
        "off_spread_s": [min(samples[False]), max(samples[False])],
    }
    print(f"W1 step: checks on {on * 1e3:.1f} ms, off {off * 1e3:.1f} ms ({on / off - 1:+.1%})")

    # 2. precision policies: speed and error against float64
    with jax.enable_x64(True):
        ref, _ = cell.apply(
            cast_floating(params, jnp.float64),
            x.astype(jnp.float64),
            timespans=ts.astype(jnp.float64),
        )
        ref = np.asarray(ref)
    rows = []
    for name in ("float32", "mixed_bfloat16", "bfloat16"):
        prec = ltcjax.Precision.named(name)
        p = cast_floating(params, prec.param_dtype)
        fwd = jax.jit(lambda p, x, ts, prec=prec: cell.apply(p, x, timespans=ts, precision=prec)[0])
        _, step = train_step(cell, prec)
        s = optax.adam(1e-3).init(p)
        t_fwd = statistics.median(time_fn(fwd, (p, x, ts), args.rounds, args.reps))
        t_step = statistics.median(time_fn(step, (p, s, x, y, ts), args.rounds, args.reps))
        with jax.enable_x64(True):  # the policy's own rounded params, in float64
            ref_p, _ = cell.apply(
                cast_floating(cast_floating(p, prec.compute_dtype), jnp.float64),
                x.astype(jnp.float64),
                timespans=ts.astype(jnp.float64),
            )
        out = np.asarray(fwd(p, x, ts), np.float64)
        rows.append(
            {
                "policy": name,
                "forward_s": t_fwd,
                "train_step_s": t_step,
                "max_abs_err_vs_float64_same_params": float(np.max(np.abs(out - ref_p))),
                "max_abs_err_vs_float64_float32_params": float(np.max(np.abs(out - ref))),
                "output_scale": float(np.max(np.abs(ref))),
            }
        )
        print(rows[-1])
    result["precision"] = rows
    RESULTS.mkdir(exist_ok=True)
    stem = RESULTS / f"reliability_{result['backend']}{'_quick' if args.quick else ''}"
    tmp = stem.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(result, indent=2))
    os.replace(tmp, stem.with_suffix(".json"))
    c = result["checks"]
    lines = [
        f"# Run-time checks and precision, {result['workload']}, {result['device']}",
        "",
        f"JAX {result['jax']}, {result['cpus']} CPUs; medians of {args.rounds} rounds x "
        f"{args.reps} steps (`python benchmarks/bench_reliability.py`).",
        "",
        "| run-time checks | W1 training step | spread |",
        "|---|---|---|",
        f"| on (default) | {c['on_s'] * 1e3:.1f} ms | {c['on_spread_s'][0] * 1e3:.1f}-"
        f"{c['on_spread_s'][1] * 1e3:.1f} ms |",
        f"| off | {c['off_s'] * 1e3:.1f} ms | {c['off_spread_s'][0] * 1e3:.1f}-"
        f"{c['off_spread_s'][1] * 1e3:.1f} ms |",
        f"| overhead | {c['overhead']:+.1%} | |",
        "",
        "| precision | forward | training step | max abs error vs float64 (same rounded "
        "params) | vs float64 (float32 params) |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['policy']} | {r['forward_s'] * 1e3:.1f} ms | {r['train_step_s'] * 1e3:.1f} ms"
            f" | {r['max_abs_err_vs_float64_same_params']:.2e} | "
            f"{r['max_abs_err_vs_float64_float32_params']:.2e} |"
        )
    lines.append(f"\nOutput scale (max abs of the float64 outputs): {rows[0]['output_scale']:.3f}")
    tmp = stem.with_suffix(".md.tmp")
    tmp.write_text("\n".join(lines) + "\n")
    os.replace(tmp, stem.with_suffix(".md"))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
