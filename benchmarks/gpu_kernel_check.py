"""One-command check of the Pallas LTC kernel against the XLA path on a GPU (or TPU).

For each workload (docs/design.md: W1 = batch 64, 100 steps, 64 units; W2 = batch 1024,
256 steps, 64 units; W3 = batch 256, 256 steps, 128 units; fully connected, 16 inputs,
6 unfolds) it

1. checks that ``LTCCell(backend="pallas")`` equals ``backend="xla"`` in outputs and in the
   gradient of a loss (max relative error; 1e-4 is flagged as a failure);
2. times one training step (forward, backward, Adam update) of each: the XLA path, and the
   kernel for each ``--block-batch`` x ``--num-warps`` setting (``ltcjax.kernels.tuning``);
3. writes ``benchmarks/results/gpu_kernel_check_<device>.json`` and ``.md`` (device name,
   JAX version, per-row median / min ms, the targets W1 <= 3 ms, W2 <= 15 ms, W3 <= 10 ms),
   rewritten atomically after every row, so a run cut short keeps what it measured and
   ``--resume`` skips rows already in the JSON.

Usage (the whole check in one go, about a few minutes on an H100/H200)::

    python benchmarks/gpu_kernel_check.py
    python benchmarks/gpu_kernel_check.py --workloads W1 --block-batch 1,2,4 --repeats 20
    python benchmarks/gpu_kernel_check.py --smoke   # tiny sizes; on CPU, interpret mode

On a CPU the kernel runs in Pallas interpret mode (slow): only ``--smoke`` makes sense there.
No GPU figure exists yet: this script is what a session with a GPU runs first.
"""

from __future__ import annotations

import argparse
import json
import platform as host_platform
import statistics
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax

from ltcjax import LTCCell
from ltcjax.kernels import default_platform, tuning
from ltcjax.train.atomic import write_text_atomically

WORKLOADS = {
    "W1": dict(batch=64, steps=100, units=64, inputs=16),
    "W2": dict(batch=1024, steps=256, units=64, inputs=16),
    "W3": dict(batch=256, steps=256, units=128, inputs=16),
    "smoke": dict(batch=4, steps=5, units=6, inputs=3),
}
TARGET_MS = {"W1": 3.0, "W2": 15.0, "W3": 10.0}
RESULTS = Path(__file__).parent / "results"


def _data(spec, key):
    k = jax.random.split(key, 3)
    xs = jax.random.normal(k[0], (spec["batch"], spec["steps"], spec["inputs"]))
    ys = jax.random.normal(k[1], (spec["batch"], spec["steps"], spec["units"]))
    return xs, ys


def _train_step(cell, optimizer):
    def loss(params, xs, ys):
        out, _ = cell.apply(params, xs)
        return jnp.mean((out - ys) ** 2)

    @jax.jit
    def step(params, opt_state, xs, ys):
        value, grads = jax.value_and_grad(loss)(params, xs, ys)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, value

    return step


def _max_rel_error(a, b) -> float:
    worst = 0.0
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
        worst = max(worst, float(np.max(np.abs(x - y)) / max(1e-12, float(np.max(np.abs(y))))))
    return worst


def _agreement(spec, params, xs, ys) -> dict:
    """Max relative error of the kernel's outputs and loss gradient against the XLA path."""
    kw = dict(input_size=spec["inputs"], units=spec["units"])
    results = {}
    for backend in ("xla", "pallas"):
        cell = LTCCell(backend=backend, **kw)

        def loss(p, cell=cell):
            out, _ = cell.apply(p, xs)
            return jnp.mean((out - ys) ** 2), out

        (_, out), grads = jax.jit(jax.value_and_grad(loss, has_aux=True))(params)
        results[backend] = (out, grads)
    return {
        "outputs_max_rel_err": _max_rel_error(results["pallas"][0], results["xla"][0]),
        "grads_max_rel_err": _max_rel_error(results["pallas"][1], results["xla"][1]),
    }


def _time(step, params, opt_state, xs, ys, repeats: int) -> dict:
    t0 = time.perf_counter()
    params, opt_state, value = step(params, opt_state, xs, ys)
    jax.block_until_ready(value)
    compile_s = time.perf_counter() - t0
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        params, opt_state, value = step(params, opt_state, xs, ys)
        jax.block_until_ready((params, value))
        times.append(1e3 * (time.perf_counter() - t0))
    return {
        "median_ms": statistics.median(times),
        "min_ms": min(times),
        "first_call_s": compile_s,
        "loss_finite": bool(np.isfinite(float(value))),
    }


def _markdown(report: dict) -> str:
    lines = [
        f"# Pallas kernel vs XLA path: {report['device']}",
        "",
        f"JAX {report['jax']}, kernel platform `{report['kernel_platform']}`, "
        f"{report['date']}. One training step (forward, backward, Adam), fully connected "
        "LTC, 6 unfolds (sizes: docs/design.md; smoke: 4 x 5 steps x 6 units).",
        "",
        "| workload | variant | median ms | min ms | target ms | meets | first call s |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in report["rows"]:
        target = TARGET_MS.get(row["workload"])
        meets = "" if target is None else ("yes" if row["median_ms"] <= target else "no")
        lines.append(
            f"| {row['workload']} | {row['variant']} | {row['median_ms']:.2f} | "
            f"{row['min_ms']:.2f} | {target or ''} | {meets} | {row['first_call_s']:.1f} |"
        )
    lines += ["", "| workload | outputs max rel err | grads max rel err | agree (< 1e-4) |"]
    lines += ["|---|---|---|---|"]
    for name, agree in report["agreement"].items():
        ok = max(agree["outputs_max_rel_err"], agree["grads_max_rel_err"]) < 1e-4
        lines.append(
            f"| {name} | {agree['outputs_max_rel_err']:.2e} | {agree['grads_max_rel_err']:.2e} "
            f"| {'yes' if ok else 'NO'} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", default="W1,W2,W3")
    parser.add_argument("--block-batch", default="1,2,4,8", help="kernel rows per program")
    parser.add_argument("--num-warps", default="4", help="Triton warps per program, e.g. 4,8")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes (CPU: interpret mode)")
    parser.add_argument("--resume", action="store_true", help="skip rows already measured")
    parser.add_argument("--out", default=None, help="output stem (default: results/...)")
    args = parser.parse_args(argv)

    device = jax.devices()[0]
    device_name = getattr(device, "device_kind", device.platform)
    workloads = ["smoke"] if args.smoke else args.workloads.split(",")
    blocks = [int(b) for b in args.block_batch.split(",")]
    warps = [int(w) for w in args.num_warps.split(",")]
    slug = device_name.replace(" ", "_").replace("/", "_")
    stem = Path(args.out) if args.out else RESULTS / f"gpu_kernel_check_{slug}"
    report = {
        "device": device_name,
        "backend": jax.default_backend(),
        "kernel_platform": default_platform(),
        "jax": jax.__version__,
        "python": host_platform.python_version(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "rows": [],
        "agreement": {},
    }
    json_path = stem.with_suffix(".json")
    if args.resume and json_path.exists():
        previous = json.loads(json_path.read_text())
        report.update({k: previous[k] for k in ("rows", "agreement") if k in previous})
    done = {(r["workload"], r["variant"]) for r in report["rows"]}

    def save() -> None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomically(json_path, json.dumps(report, indent=2))
        write_text_atomically(stem.with_suffix(".md"), _markdown(report))

    if default_platform() == "interpret" and not args.smoke:
        print("No GPU/TPU: the kernel would run in interpret mode; use --smoke.", file=sys.stderr)
        return 2
    optimizer = optax.adam(1e-3)
    for name in workloads:
        spec = WORKLOADS[name]
        xs, ys = _data(spec, jax.random.key(1))
        params = LTCCell(input_size=spec["inputs"], units=spec["units"]).init(jax.random.key(0))
        if name not in report["agreement"]:
            report["agreement"][name] = _agreement(spec, params, xs, ys)
            print(name, "agreement", report["agreement"][name], flush=True)
            save()
        variants = [("xla", None, None)] + [
            (f"pallas block_batch={b} num_warps={w}", b, w) for b in blocks for w in warps
        ]
        for variant, block, num_warps in variants:
            if (name, variant) in done:
                continue
            backend = "xla" if block is None else "pallas"
            cell = LTCCell(input_size=spec["inputs"], units=spec["units"], backend=backend)
            with tuning(block_batch=block, num_warps=num_warps):  # read while tracing
                step = _train_step(cell, optimizer)
                try:
                    row = _time(step, params, optimizer.init(params), xs, ys, args.repeats)
                except Exception as error:  # a block size the compiler rejects: record it
                    print(name, variant, "FAILED:", repr(error)[:500], flush=True)
                    continue
            report["rows"].append({"workload": name, "variant": variant, **row})
            print(name, variant, f"{row['median_ms']:.2f} ms", flush=True)
            save()
    print(_markdown(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
