"""LTC training-step speed and memory: ltcjax vs ncps (PyTorch) vs a plain lax.scan.

Workloads from docs/design.md (DESIGN.md): W1 = fully connected LTC, 64 units, 16 inputs,
batch 64, 100 steps, 6 unfolds, one training step (forward, backward, Adam update).
Every variant is measured in the same run, and the table reports ratios against the
baselines measured there. Usage::

    python benchmarks/bench_ltc.py                 # W1 on this machine
    python benchmarks/bench_ltc.py --workload W2   # batch 1024, 256 steps (GPU-sized)
    python benchmarks/bench_ltc.py --skip-ncps     # without torch/ncps installed
    python benchmarks/bench_ltc.py --host-devices 2  # CPU: batch split over 2 host devices

XLA runs each fused CPU kernel on one thread; ``--host-devices N`` makes N host devices and
shards the batch over them (data parallel, as ``ltcjax.train`` does), so that N cores work.
Writes benchmarks/results/ltc_<workload>_<platform>[_<N>dev].json and .md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path


def _host_devices_from_argv(argv: list[str]) -> int:
    for i, arg in enumerate(argv):
        if arg == "--host-devices" and i + 1 < len(argv):
            return int(argv[i + 1])
        if arg.startswith("--host-devices="):
            return int(arg.split("=", 1)[1])
    return 1


if _host_devices_from_argv(sys.argv) > 1:  # must be set before jax initialises
    os.environ["XLA_FLAGS"] = (
        os.environ.get("XLA_FLAGS", "")
        + f" --xla_force_host_platform_device_count={_host_devices_from_argv(sys.argv)}"
    )

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402
from jax.sharding import Mesh, NamedSharding, PartitionSpec  # noqa: E402

from ltcjax import LTCCell  # noqa: E402

WORKLOADS = {
    "W1": dict(batch=64, steps=100, units=64, inputs=16),
    "W2": dict(batch=1024, steps=256, units=64, inputs=16),
    "W3": dict(batch=256, steps=256, units=128, inputs=16),
}
RESULTS = Path(__file__).parent / "results"


def _time(fn, repeats: int, warmup: int = 2) -> list[float]:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def _naive_loss_fn(remat: bool, unfolds: int = 6):
    """A plain lax.scan LTC written the obvious way (the baseline DESIGN.md measured)."""

    def step(p, v, x):
        sp = jax.nn.softplus
        u = x * p["input_w"] + p["input_b"]
        s_act = sp(p["sensory_w"]) * jax.nn.sigmoid(
            p["sensory_sigma"] * (u[:, :, None] - p["sensory_mu"])
        )
        s_num, s_den = jnp.sum(s_act * p["sensory_erev"], 1), jnp.sum(s_act, 1)
        cm_t = sp(p["cm"]) / (1.0 / unfolds)
        for _ in range(unfolds):
            act = sp(p["w"]) * jax.nn.sigmoid(p["sigma"] * (v[:, :, None] - p["mu"]))
            num = cm_t * v + sp(p["gleak"]) * p["vleak"] + jnp.sum(act * p["erev"], 1) + s_num
            den = cm_t + sp(p["gleak"]) + jnp.sum(act, 1) + s_den
            v = num / (den + 1e-8)
        return v

    if remat:
        step = jax.checkpoint(step)

    def loss(p, xs, ys):
        def body(v, x):
            v = step(p, v, x)
            return v, v * p["output_w"] + p["output_b"]

        v0 = jnp.zeros((xs.shape[0], p["gleak"].shape[0]))
        _, out = jax.lax.scan(body, v0, jnp.swapaxes(xs, 0, 1))
        return jnp.mean((jnp.swapaxes(out, 0, 1) - ys) ** 2)

    return loss


def _jax_train_step(loss, params, opt):
    @jax.jit
    def train_step(params, opt_state, xs, ys):
        value, grads = jax.value_and_grad(loss)(params, xs, ys)
        updates, opt_state = opt.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, value

    return train_step


def bench_jax(name, loss, params, xs, ys, repeats):
    opt = optax.adam(1e-3)
    opt_state = opt.init(params)
    step = _jax_train_step(loss, params, opt)
    try:
        t0 = time.perf_counter()
        compiled = step.lower(params, opt_state, xs, ys).compile()
        compile_s = time.perf_counter() - t0
        mem = compiled.memory_analysis()
        temp = None if mem is None else int(mem.temp_size_in_bytes)
        state = {"p": params, "o": opt_state}

        def run():
            p, o, v = compiled(state["p"], state["o"], xs, ys)
            jax.block_until_ready(v)
            state["p"], state["o"] = p, o

        times = _time(run, repeats)
    except Exception as err:  # e.g. out of memory on an accelerator
        return {"name": name, "error": f"{type(err).__name__}: {str(err)[:200]}"}
    return {
        "name": name,
        "median_s": statistics.median(times),
        "min_s": min(times),
        "compile_s": compile_s,
        "temp_bytes": temp,
    }


def bench_ncps(cfg, xs, ys, repeats, threads):
    import torch
    from ncps.torch import LTC

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = LTC(cfg["inputs"], cfg["units"], batch_first=True)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, y = torch.tensor(np.asarray(xs)), torch.tensor(np.asarray(ys))

    def run():
        opt.zero_grad()
        out, _ = model(x)
        loss = torch.mean((out - y) ** 2)
        loss.backward()
        opt.step()

    times = _time(run, repeats, warmup=1)
    return {
        "name": "ncps 1.0.1 (PyTorch eager)",
        "median_s": statistics.median(times),
        "min_s": min(times),
        "compile_s": 0.0,
        "temp_bytes": None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workload", default="W1", choices=sorted(WORKLOADS))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip-ncps", action="store_true")
    parser.add_argument("--skip-naive", action="store_true", help="skip the no-remat scan")
    parser.add_argument(
        "--host-devices", type=int, default=1, help="CPU host devices (batch split)"
    )
    args = parser.parse_args(argv)
    cfg = WORKLOADS[args.workload]
    key = jax.random.key(0)
    xs = jax.random.normal(key, (cfg["batch"], cfg["steps"], cfg["inputs"]))
    ys = jax.random.normal(jax.random.key(1), (cfg["batch"], cfg["steps"], cfg["units"]))
    devices = jax.devices()
    if len(devices) > 1:  # data parallel: batch sharded, parameters replicated
        batch_sharding = NamedSharding(Mesh(devices, ("batch",)), PartitionSpec("batch"))
        xs, ys = jax.device_put(xs, batch_sharding), jax.device_put(ys, batch_sharding)

    cell = LTCCell(input_size=cfg["inputs"], units=cfg["units"])
    params = cell.init(key)
    naive_params = {k: v for k, v in params._asdict().items() if v is not None}

    def ltcjax_loss(p, xs, ys):
        return jnp.mean((cell.apply(p, xs)[0] - ys) ** 2)

    def ltcjax_remat_loss(p, xs, ys):
        return jnp.mean((cell.apply(p, xs, remat=True)[0] - ys) ** 2)

    rows = []
    if not args.skip_ncps:
        rows.append(bench_ncps(cfg, xs, ys, max(2, args.repeats // 2), threads=os.cpu_count() or 1))
    if not args.skip_naive:
        rows.append(
            bench_jax(
                "plain lax.scan, no remat",
                _naive_loss_fn(False),
                naive_params,
                xs,
                ys,
                args.repeats,
            )
        )
    rows.append(
        bench_jax(
            "plain lax.scan + jax.checkpoint per step",
            _naive_loss_fn(True),
            naive_params,
            xs,
            ys,
            args.repeats,
        )
    )
    rows.append(
        bench_jax(
            "ltcjax LTCCell.apply, remat=True (least memory)",
            ltcjax_remat_loss,
            params,
            xs,
            ys,
            args.repeats,
        )
    )
    rows.append(
        bench_jax(
            "ltcjax LTCCell.apply (fused, default: custom VJP, no remat)",
            ltcjax_loss,
            params,
            xs,
            ys,
            args.repeats,
        )
    )

    ours = rows[-1].get("median_s")
    device = jax.devices()[0]
    meta = {
        "workload": args.workload,
        **cfg,
        "unfolds": 6,
        "platform": device.platform,
        "device": getattr(device, "device_kind", str(device)),
        "machine": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "jax": jax.__version__,
        "devices": len(devices),
        "date": time.strftime("%Y-%m-%d"),
    }
    RESULTS.mkdir(exist_ok=True)
    suffix = f"_{len(devices)}dev" if len(devices) > 1 else ""
    stem = RESULTS / f"ltc_{args.workload}_{device.platform}{suffix}"
    stem.with_suffix(".json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=2))
    lines = [
        f"# LTC training step, {args.workload} ({cfg})",
        "",
        f"Device: {meta['device']} x {len(devices)} ({meta['cpu_count']} CPUs), "
        f"jax {jax.__version__}, "
        f"{meta['date']}.",
        "",
        f"Command: `python benchmarks/bench_ltc.py --workload {args.workload} --host-devices "
        f"{args.host_devices}`; median of "
        f"{args.repeats} runs after warm-up.",
        "",
        "| variant | median s | min s | compile s | XLA temp memory | ltcjax speed-up |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['name']} | {r['error']} | | | | |")
            continue
        temp = "-" if r["temp_bytes"] is None else f"{r['temp_bytes'] / 2**20:.0f} MiB"
        speed = f"{r['median_s'] / ours:.2f}x" if ours else "-"
        lines.append(
            f"| {r['name']} | {r['median_s']:.3f} | {r['min_s']:.3f} | "
            f"{r['compile_s']:.1f} | {temp} | {speed} |"
        )
    text = "\n".join(lines) + "\n"
    stem.with_suffix(".md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
