"""LTC and CfC speed against ncps (PyTorch), all cases in one run: one command, any backend.

Cases (issue 13; workloads W1-W3 from DESIGN.md):

* ``W1``: fully connected LTC, 64 units, 16 inputs, batch 64, 100 steps, 6 unfolds, one
  training step (forward, backward, Adam update); ``W2``: batch 1024, 256 steps, 64 units;
  ``W3``: batch 256, 256 steps, 128 units. On a CPU, W2 and W3 run sequences of
  ``--cpu-steps`` (default 32) instead of 256 steps (the cost is linear in the length; the
  table says so).
* ``paper``: the paper's training step: batch 16, 32 steps, 32 units.
* ``latency19`` / ``latency64``: one observation in, one action out: batch 1,
  ``ltcjax.compile_step`` of ``AutoNCP(19, 1)`` / ``AutoNCP(64, 1)`` (8 inputs, dt = 1
  compiled in; the parameters folded in) against ncps's ``LTC`` on a one-step sequence under
  ``torch.no_grad()``; an extra column shows a jitted ``cell.step_batch`` taking the
  parameters as arguments.
* ``cfc``: CfC training step (W1's shapes, ncps's default backbone of 128 units) against
  ncps's ``CfC``.

ltcjax and ncps are timed alternately, round after round, so that load from other
processes hits both alike; the table shows medians, the spread (min-max) over the rounds
and the ratio of the medians. ncps runs with ``--torch-threads`` (default 2) intra-op
threads, on CUDA when JAX runs on a GPU and torch sees one, with ``OMP_WAIT_POLICY=PASSIVE``
(unless set) so that its idle threads do not spin on the cores ltcjax is timed on. Usage::

    python benchmarks/bench_ltc.py                # every case on the default JAX backend
    python benchmarks/bench_ltc.py --quick        # fewer rounds, short W2/W3 sequences
    python benchmarks/bench_ltc.py --cases W1 latency64 --rounds 9
    python benchmarks/bench_ltc.py --skip-ncps    # without torch/ncps installed
    python benchmarks/bench_ltc.py --plain-scan   # also a plain lax.scan + remat LTC
    python benchmarks/bench_ltc.py --no-ynn       # XLA CPU without YNNPACK fusions

``--no-ynn`` and ``--host-devices N`` set ``XLA_FLAGS`` before JAX starts
(``--xla_cpu_experimental_ynn_fusion_type=`` and
``--xla_force_host_platform_device_count=N``; with N > 1 the training batches are sharded
over the host devices). Writes ``benchmarks/results/bench_<platform>[_tag].json`` and
``.md`` (device name, versions, load average before and after).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path


def _early_flags(argv: list[str]) -> None:
    """Set XLA_FLAGS from the command line before jax is imported."""
    flags = []
    if "--no-ynn" in argv:
        flags.append("--xla_cpu_experimental_ynn_fusion_type=")
    for i, arg in enumerate(argv):
        value = None
        if arg == "--host-devices" and i + 1 < len(argv):
            value = argv[i + 1]
        elif arg.startswith("--host-devices="):
            value = arg.split("=", 1)[1]
        if value is not None and int(value) > 1:
            flags.append(f"--xla_force_host_platform_device_count={int(value)}")
    if flags:
        os.environ["XLA_FLAGS"] = " ".join([os.environ.get("XLA_FLAGS", ""), *flags]).strip()


_early_flags(sys.argv)
# torch's OpenMP threads otherwise spin for a while after each parallel region, taking the
# cores from whichever implementation is timed next (ltcjax's latency tripled in our runs).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import optax  # noqa: E402
from jax.sharding import Mesh, NamedSharding, PartitionSpec  # noqa: E402

from ltcjax import AutoNCP, CfCCell, LTCCell, compile_step  # noqa: E402

RESULTS = Path(__file__).parent / "results"
TRAIN_CASES = {
    "W1": dict(model="ltc", batch=64, steps=100, units=64, inputs=16),
    "W2": dict(model="ltc", batch=1024, steps=256, units=64, inputs=16),
    "W3": dict(model="ltc", batch=256, steps=256, units=128, inputs=16),
    "paper": dict(model="ltc", batch=16, steps=32, units=32, inputs=16),
    "cfc": dict(model="cfc", batch=64, steps=100, units=64, inputs=16),
}
LATENCY_CASES = {
    "latency19": dict(units=19, outputs=1, inputs=8),
    "latency64": dict(units=64, outputs=1, inputs=8),
}
CASES = [*TRAIN_CASES, *LATENCY_CASES]
#: Targets of issue 13 (seconds per call; ``ratio``: ncps time / ltcjax time at least).
TARGETS = {
    "cpu": {
        "W1": dict(seconds=0.20, ratio=2.8),
        "paper": dict(ratio=5.0),
        "latency19": dict(seconds=10e-6),
        "latency64": dict(seconds=30e-6),
    },
    "gpu": {"W1": dict(seconds=3e-3), "W2": dict(seconds=15e-3), "W3": dict(seconds=10e-3)},
}


# -- ltcjax ------------------------------------------------------------------------------
def _shard_batch(*arrays):
    devices = jax.devices()
    if len(devices) == 1:
        return arrays
    sharding = NamedSharding(Mesh(devices, ("batch",)), PartitionSpec("batch"))
    return tuple(jax.device_put(a, sharding) for a in arrays)


def ltcjax_train_step(cfg: dict) -> tuple[Callable[[], None], dict]:
    """A compiled training step (loss, gradient, Adam) of ltcjax; returns (run, info)."""
    if cfg["model"] == "ltc":
        cell = LTCCell(input_size=cfg["inputs"], units=cfg["units"])
    else:
        cell = CfCCell(input_size=cfg["inputs"], units=cfg["units"])
    params = cell.init(jax.random.key(0))
    xs = jax.random.normal(jax.random.key(1), (cfg["batch"], cfg["steps"], cfg["inputs"]))
    ys = jax.random.normal(jax.random.key(2), (cfg["batch"], cfg["steps"], cell.output_size))
    xs, ys = _shard_batch(xs, ys)

    def loss(p, xs, ys):
        return jnp.mean((cell.apply(p, xs)[0] - ys) ** 2)

    run, info = _adam_training_step(loss, params, xs, ys)
    return run, {**info, "params": cell.num_params(params)}


def _adam_training_step(loss: Callable, params, xs, ys) -> tuple[Callable[[], None], dict]:
    """``loss``'s compiled training step (value, gradient, Adam update), carrying the
    parameters and optimiser state from call to call; returns (run, info)."""
    opt = optax.adam(1e-3)

    def step(p, o, xs, ys):
        value, grads = jax.value_and_grad(loss)(p, xs, ys)
        updates, o = opt.update(grads, o, p)
        return optax.apply_updates(p, updates), o, value

    state = {"p": params, "o": opt.init(params)}
    start = time.perf_counter()
    compiled = jax.jit(step).lower(state["p"], state["o"], xs, ys).compile()
    compile_s = time.perf_counter() - start
    mem = compiled.memory_analysis()

    def run():
        state["p"], state["o"], value = compiled(state["p"], state["o"], xs, ys)
        jax.block_until_ready(value)

    return run, {
        "compile_s": compile_s,
        "temp_bytes": None if mem is None else int(mem.temp_size_in_bytes),
    }


def ltcjax_latency(cfg: dict, calls: int, folded: bool = True) -> tuple[Callable[[], None], dict]:
    """``calls`` batch-1 steps carrying the state (one observation in, one action out
    each): ``ltcjax.compile_step`` (parameters folded in, dt = 1 compiled in) or, with
    ``folded=False``, a jitted ``cell.step_batch`` taking the parameters as arguments;
    returns (run, info)."""
    cell = LTCCell(input_size=cfg["inputs"], wiring=AutoNCP(cfg["units"], cfg["outputs"]))
    params = cell.init(jax.random.key(0))
    x = jax.random.normal(jax.random.key(1), (1, cfg["inputs"]))
    start = time.perf_counter()
    if folded:
        step = compile_step(cell, params, batch_shape=(1,), dt=1.0)
    else:
        jitted = jax.jit(lambda p, s, x: cell.step_batch(p, s, x, 1.0))
        step = lambda s, x: jitted(params, s, x)  # noqa: E731
    state = {"s": cell.initial_state((1,))}
    jax.block_until_ready(step(state["s"], x))
    compile_s = time.perf_counter() - start

    def run():
        s = state["s"]
        for _ in range(calls):
            s, y = step(s, x)
        jax.block_until_ready(y)
        state["s"] = s

    return run, {"compile_s": compile_s, "temp_bytes": None, "calls": calls}


def plain_scan_train_step(cfg: dict) -> tuple[Callable[[], None], dict]:
    """The LTC written the obvious way (sigmoid form, ``lax.scan``, ``jax.checkpoint`` per
    step, autodiff): the baseline of DESIGN.md, on ltcjax's parameters."""
    cell = LTCCell(input_size=cfg["inputs"], units=cfg["units"])
    params = {k: v for k, v in cell.init(jax.random.key(0))._asdict().items() if v is not None}
    xs = jax.random.normal(jax.random.key(1), (cfg["batch"], cfg["steps"], cfg["inputs"]))
    ys = jax.random.normal(jax.random.key(2), (cfg["batch"], cfg["steps"], cfg["units"]))
    xs, ys = _shard_batch(xs, ys)
    sp, unfolds = jax.nn.softplus, 6

    @jax.checkpoint
    def ode_step(p, v, x):
        u = x * p["input_w"] + p["input_b"]
        s_act = sp(p["sensory_w"]) * jax.nn.sigmoid(
            p["sensory_sigma"] * (u[:, :, None] - p["sensory_mu"])
        )
        s_num, s_den = jnp.sum(s_act * p["sensory_erev"], 1), jnp.sum(s_act, 1)
        cm_t = sp(p["cm"]) * unfolds
        for _ in range(unfolds):
            act = sp(p["w"]) * jax.nn.sigmoid(p["sigma"] * (v[:, :, None] - p["mu"]))
            num = cm_t * v + sp(p["gleak"]) * p["vleak"] + jnp.sum(act * p["erev"], 1) + s_num
            den = cm_t + sp(p["gleak"]) + jnp.sum(act, 1) + s_den
            v = num / (den + 1e-8)
        return v

    def loss(p, xs, ys):
        def body(v, x):
            v = ode_step(p, v, x)
            return v, v * p["output_w"] + p["output_b"]

        v0 = jnp.zeros((xs.shape[0], cfg["units"]))
        _, out = jax.lax.scan(body, v0, jnp.swapaxes(xs, 0, 1))
        return jnp.mean((jnp.swapaxes(out, 0, 1) - ys) ** 2)

    return _adam_training_step(loss, params, xs, ys)


# -- ncps --------------------------------------------------------------------------------
def _torch_device(torch):
    return "cuda" if jax.default_backend() == "gpu" and torch.cuda.is_available() else "cpu"


def _torch_sync(torch, device):
    if device == "cuda":
        torch.cuda.synchronize()


def ncps_train_step(cfg: dict) -> tuple[Callable[[], None], dict]:
    import torch
    from ncps.torch import LTC, CfC

    device = _torch_device(torch)
    torch.manual_seed(0)
    model_cls = LTC if cfg["model"] == "ltc" else CfC
    model = model_cls(cfg["inputs"], cfg["units"], batch_first=True).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(cfg["batch"], cfg["steps"], cfg["inputs"], generator=gen).to(device)
    y = torch.randn(cfg["batch"], cfg["steps"], cfg["units"], generator=gen).to(device)

    def run():
        opt.zero_grad()
        out, _ = model(x)
        loss = torch.mean((out - y) ** 2)
        loss.backward()
        opt.step()
        _torch_sync(torch, device)

    return run, {"device": device}


def ncps_latency(cfg: dict, calls: int) -> tuple[Callable[[], None], dict]:
    import torch
    from ncps.torch import LTC
    from ncps.wirings import AutoNCP as NcpsAutoNCP

    device = _torch_device(torch)
    torch.manual_seed(0)
    model = LTC(cfg["inputs"], NcpsAutoNCP(cfg["units"], cfg["outputs"]), batch_first=True)
    model = model.to(device)
    x = torch.randn(1, 1, cfg["inputs"]).to(device)
    state = {"h": torch.zeros(1, cfg["units"], device=device)}

    def run():
        with torch.no_grad():
            h = state["h"]
            for _ in range(calls):
                _, h = model(x, h)
            _torch_sync(torch, device)
        state["h"] = h

    return run, {"device": device, "calls": calls}


# -- timing ------------------------------------------------------------------------------
def _timed(run: Callable[[], None], per_call: int = 1) -> float:
    start = time.perf_counter()
    run()
    return (time.perf_counter() - start) / per_call


def measure(case: str, args, platform_name: str) -> dict:
    """Both implementations of ``case``, alternated over ``args.rounds`` rounds."""
    row: dict = {"case": case}
    if case in LATENCY_CASES:
        cfg = dict(LATENCY_CASES[case])
        calls = 50 if args.quick else 200
        builders = {
            "ltcjax": lambda: ltcjax_latency(cfg, calls),
            "ncps": lambda: ncps_latency(cfg, calls),
            "args": lambda: ltcjax_latency(cfg, calls, folded=False),
        }
        per_call = calls
    else:
        cfg = dict(TRAIN_CASES[case])
        if platform_name == "cpu" and case in ("W2", "W3"):
            cfg["steps"] = args.cpu_steps
            row["note"] = f"{args.cpu_steps} of 256 steps (CPU)"
        builders = {"ltcjax": lambda: ltcjax_train_step(cfg), "ncps": lambda: ncps_train_step(cfg)}
        if args.plain_scan and cfg["model"] == "ltc":
            builders["scan"] = lambda: plain_scan_train_step(cfg)
        per_call = 1
    row["config"] = cfg
    if args.skip_ncps:
        builders.pop("ncps")
    runs = {}
    for name, build in builders.items():
        try:
            run, info = build()
            for _ in range(args.warmup):
                run()
            runs[name] = run
            row[name] = {"info": info, "times_s": []}
        except Exception as err:  # e.g. out of memory on an accelerator
            row[name] = {"error": f"{type(err).__name__}: {str(err)[:200]}"}
    rounds = args.rounds if case not in ("W2", "W3") else max(2, args.rounds // 2)
    for _ in range(rounds):
        for name, run in runs.items():
            row[name]["times_s"].append(_timed(run, per_call))
    for name in runs:
        times = row[name]["times_s"]
        row[name].update(median_s=statistics.median(times), min_s=min(times), max_s=max(times))
    if "median_s" in row.get("ltcjax", {}) and "median_s" in row.get("ncps", {}):
        row["speedup"] = row["ncps"]["median_s"] / row["ltcjax"]["median_s"]
    row["target"], row["met"] = _target(case, row, platform_name)
    return row


def _target(case: str, row: dict, platform_name: str) -> tuple[str, bool | None]:
    goal = TARGETS.get("gpu" if platform_name in ("gpu", "cuda", "rocm") else platform_name, {})
    goal = goal.get(case)
    if not goal or "median_s" not in row.get("ltcjax", {}):
        return "", None
    parts, met = [], True
    if "seconds" in goal:
        parts.append(f"<= {_fmt(goal['seconds'])}")
        met &= row["ltcjax"]["median_s"] <= goal["seconds"]
    if "ratio" in goal:
        parts.append(f">= {goal['ratio']}x ncps")
        if "speedup" not in row:  # ncps not measured: the ratio is unknown
            return ", ".join(parts), None
        met &= row["speedup"] >= goal["ratio"]
    return ", ".join(parts), bool(met)


def _fmt(seconds: float) -> str:
    if seconds >= 0.1:
        return f"{seconds:.3f} s"
    if seconds >= 1e-4:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} us"


def _describe(case: str, cfg: dict) -> str:
    if case in LATENCY_CASES:
        return f"batch-1 step, AutoNCP({cfg['units']}, {cfg['outputs']}), {cfg['inputs']} in"
    model = "CfC" if cfg["model"] == "cfc" else "LTC"
    return (
        f"{model} train step, B {cfg['batch']}, T {cfg['steps']}, "
        f"N {cfg['units']}, F {cfg['inputs']}"
    )


#: Other implementations timed in the same rounds, shown in extra columns.
EXTRA_COLUMNS = {
    "args": "ltcjax jitted step_batch, params as arguments",
    "scan": "plain scan + remat",
}


def markdown(meta: dict, rows: list[dict]) -> str:
    lines = [
        "# ltcjax vs ncps: training steps and control-loop latency",
        "",
        f"Device: {meta['device']} ({meta['platform']}, {meta['devices']} JAX device(s)); "
        f"{meta['cpu_count']} CPUs; jax {meta['jax']}, torch {meta['torch']}, ncps "
        f"{meta['ncps']} with {meta['torch_threads']} threads on {meta['torch_device']}; "
        f"{meta['date']}. XLA_FLAGS: `{meta['xla_flags'] or '(none)'}`; "
        f"OMP_WAIT_POLICY: {meta['omp_wait_policy']}.",
        f"Load average before / after: {meta['load_before']} / {meta['load_after']}.",
        "",
        f"Command: `{meta['command']}`. Medians over {meta['rounds']} alternated rounds "
        "(W2/W3: half) after warm-up; spread = min-max over the rounds.",
        "",
        "| case | workload | ltcjax median | spread | ncps median | spread | ncps / ltcjax "
        "| target | met |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    extras = [name for name in EXTRA_COLUMNS if any(name in r for r in rows)]
    for name in extras:
        lines[-2] += f" {EXTRA_COLUMNS[name]} |"
        lines[-1] += "---|"
    for r in rows:
        cells = [
            r["case"],
            _describe(r["case"], r["config"]) + (f" ({r['note']})" if "note" in r else ""),
        ]
        for name in ("ltcjax", "ncps"):
            entry = r.get(name)
            if entry is None:
                cells += ["-", "-"]
            elif "error" in entry:
                cells += [entry["error"], "-"]
            else:
                cells += [
                    _fmt(entry["median_s"]),
                    f"{_fmt(entry['min_s'])} - {_fmt(entry['max_s'])}",
                ]
        cells.append(f"{r['speedup']:.2f}x" if "speedup" in r else "-")
        cells.append(r["target"] or "-")
        cells.append({True: "yes", False: "no", None: "-"}[r["met"]])
        for name in extras:
            entry = r.get(name, {})
            cells.append(
                _fmt(entry["median_s"]) if "median_s" in entry else entry.get("error", "-")
            )
        lines.append("| " + " | ".join(cells) + " |")
    mem = [
        f"{r['case']} {r['ltcjax']['info']['temp_bytes'] / 2**20:.0f} MiB"
        for r in rows
        if (r.get("ltcjax") or {}).get("info", {}).get("temp_bytes") is not None
    ]
    if mem:
        lines += [
            "",
            "XLA temporary memory of ltcjax's compiled training steps: " + ", ".join(mem) + ".",
        ]
    return "\n".join(lines) + "\n"


def write_results(out: Path, tag: str, meta: dict, rows: list[dict]) -> str:
    """Write the rows so far as JSON and markdown (atomically); return the markdown."""
    meta["load_after"] = [round(x, 1) for x in os.getloadavg()]
    out.mkdir(parents=True, exist_ok=True)
    stem = out / f"bench_{meta['platform']}{'_' + tag if tag else ''}"
    text = markdown(meta, rows)
    for path, content in (
        (stem.with_suffix(".json"), json.dumps({"meta": meta, "rows": rows}, indent=2)),
        (stem.with_suffix(".md"), text),
    ):
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(content)
        tmp.replace(path)  # atomic: a killed run never leaves half a file
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", nargs="+", default=CASES, choices=CASES)
    parser.add_argument("--rounds", type=int, default=None, help="default 7 (--quick: 3)")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="3 rounds, W2/W3 of 8 steps on CPU")
    parser.add_argument("--cpu-steps", type=int, default=None, help="W2/W3 length on CPU (32)")
    parser.add_argument("--torch-threads", type=int, default=2)
    parser.add_argument("--skip-ncps", action="store_true")
    parser.add_argument(
        "--plain-scan", action="store_true", help="also a plain lax.scan + checkpoint LTC"
    )
    parser.add_argument("--no-ynn", action="store_true", help="XLA CPU: no YNNPACK fusions")
    parser.add_argument("--host-devices", type=int, default=1, help="CPU: shard the batch")
    parser.add_argument("--tag", default="", help="suffix of the result files")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.rounds is None:
        args.rounds = 3 if args.quick else 7
    if args.cpu_steps is None:
        args.cpu_steps = 8 if args.quick else 32
    torch_version = ncps_version = "-"
    torch_device = "-"
    if not args.skip_ncps:
        import importlib.metadata

        import torch

        torch.set_num_threads(args.torch_threads)
        torch_version = torch.__version__
        ncps_version = importlib.metadata.version("ncps")
        torch_device = _torch_device(torch)
    device = jax.devices()[0]
    platform_name = device.platform
    meta = {
        "platform": platform_name,
        "device": getattr(device, "device_kind", str(device)),
        "devices": len(jax.devices()),
        "machine": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "jax": jax.__version__,
        "torch": torch_version,
        "ncps": ncps_version,
        "torch_threads": args.torch_threads,
        "torch_device": torch_device,
        "xla_flags": os.environ.get("XLA_FLAGS", ""),
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", ""),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "command": "python benchmarks/bench_ltc.py "
        + " ".join(sys.argv[1:] if argv is None else argv),
        "rounds": args.rounds,
        "load_before": [round(x, 1) for x in os.getloadavg()],
    }
    rows = []
    for case in args.cases:
        print(f"{case} ...", flush=True)
        rows.append(measure(case, args, platform_name))
        r = rows[-1]
        write_results(args.out, args.tag, meta, rows)  # after every case: a killed run keeps them
        print(
            "  ltcjax",
            _fmt(r.get("ltcjax", {}).get("median_s", float("nan"))),
            "ncps",
            _fmt(r.get("ncps", {}).get("median_s", float("nan"))) if "ncps" in r else "-",
            f"ratio {r['speedup']:.2f}" if "speedup" in r else "",
            flush=True,
        )
    print(write_results(args.out, args.tag, meta, rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
