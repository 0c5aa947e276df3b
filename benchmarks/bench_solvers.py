"""Accuracy versus cost of LTC solvers: fused, Euler, RK4 (fixed steps) and Diffrax's adaptive
Tsit5, Dopri5 and Kvaerno5 (whole-sequence solves with ``ltcjax.continuous.odeint_sequence``).

For one randomly initialised LTC and a batch of irregularly sampled sequences:

* error: max |state - reference| over all observations, in float64, against scipy's
  ``solve_ivp`` (DOP853, rtol 1e-10, atol 1e-12) integrated interval by interval with the
  same piecewise-constant input: the discretisation error alone;
* steps / interval: solver steps between consecutive observations (fixed: ``ode_unfolds``;
  adaptive: mean accepted steps, from ``steps_per_interval``), and vector-field evaluations
  per interval (fused/Euler 1 per step, RK4 4, Tsit5/Dopri5 about 6 per step plus rejected
  steps and re-starts at observation times; Kvaerno5 is implicit: Newton iterations vary);
* time: jitted forward pass and forward + backward (gradient of a squared loss), float32,
  median of repeated runs on this machine.

Run: ``python benchmarks/bench_solvers.py [--quick]``; writes
``benchmarks/results/solvers_cpu.json`` and ``.md``. ``--only fused,tsit5`` re-measures only
those solvers and keeps the other rows of the existing results (``--note`` records why).
Timings depend on the machine and its load; the errors and step counts do not.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
from scipy.integrate import solve_ivp

from ltcjax import DiffraxSolver, LTCCell
from ltcjax.continuous import odeint_sequence, status_message

RESULTS = Path(__file__).parent / "results"


def _diffrax(cfg: dict) -> DiffraxSolver:
    """A whole-sequence solver from a row's settings: a status per sequence on failure."""
    return DiffraxSolver(throw=False, **cfg)


def make_data(batch, steps, features, seed=0):
    rng = np.random.default_rng(seed)
    gaps = rng.exponential(1.0, (batch, steps))
    times = np.cumsum(gaps, axis=1)
    freq = rng.uniform(0.2, 1.5, (batch, 1, features))
    phase = rng.uniform(0, 2 * np.pi, (batch, 1, features))
    xs = np.sin(freq * times[..., None] + phase) + 0.1 * rng.normal(size=(batch, steps, features))
    return xs, times, gaps


def scipy_states(cell, params, xs, gaps):
    p = jax.tree.map(lambda a: np.asarray(a, np.float64), cell.effective_params(params))
    mask, smask = cell.sparsity_masks(np.float64)
    out = np.zeros((*xs.shape[:2], cell.units))
    for b in range(xs.shape[0]):
        v = np.zeros(cell.units)
        for k in range(xs.shape[1]):
            u = xs[b, k] * p.input_w + p.input_b
            sens = (
                p.sensory_w * smask / (1 + np.exp(-p.sensory_sigma * (u[:, None] - p.sensory_mu)))
            )

            def f(_, v, sens=sens):
                rec = p.w * mask / (1 + np.exp(-p.sigma * (v[:, None] - p.mu)))
                cur = (rec * (p.erev - v[None, :])).sum(0) + (sens * (p.sensory_erev - v)).sum(0)
                return (p.gleak * (p.vleak - v) + cur) / p.cm

            v = solve_ivp(f, (0, gaps[b, k]), v, "DOP853", rtol=1e-10, atol=1e-12).y[:, -1]
            out[b, k] = v
    return out


def _failures(status) -> str | None:
    """'k of B sequences: <reason>' for the sequences whose solve failed, or None."""
    status = np.asarray(status)
    bad = status[status != 0]
    if bad.size == 0:
        return None
    reasons = sorted({status_message(code) for code in bad})
    return f"{bad.size} of {status.size} sequences ({'; '.join(reasons)})"


def median_time(fn, *args, repeats):
    jax.block_until_ready(fn(*args))  # compile
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn(*args))
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, few repeats")
    parser.add_argument("--units", type=int, default=32)
    parser.add_argument(
        "--markdown-only", action="store_true", help="rewrite the .md table from the .json"
    )
    parser.add_argument(
        "--only",
        default=None,
        help="comma-separated solver names (fused, euler, rk4, tsit5, kvaerno5): re-measure "
        "only these and keep the other rows of the existing results file",
    )
    parser.add_argument("--repeats", type=int, default=None, help="timing repeats (median)")
    parser.add_argument("--note", default=None, help="a note for the results' header")
    args = parser.parse_args()
    if args.markdown_only:
        suffix = "_quick" if args.quick else ""
        data = json.loads((RESULTS / f"solvers_cpu{suffix}.json").read_text())
        (RESULTS / f"solvers_cpu{suffix}.md").write_text(to_markdown(data["meta"], data["rows"]))
        return
    batch, steps, features, units = (4, 8, 3, 8) if args.quick else (16, 32, 4, args.units)
    repeats = args.repeats or (2 if args.quick else 5)

    xs, times, gaps = make_data(batch, steps, features)
    base = LTCCell(input_size=features, units=units)
    key = jax.random.key(0)
    rows = []
    configs = [
        ("fused", dict(solver="fused", ode_unfolds=6), 1),
        ("fused", dict(solver="fused", ode_unfolds=24), 1),
        ("euler", dict(solver="euler", ode_unfolds=6), 1),
        ("euler", dict(solver="euler", ode_unfolds=24), 1),
        ("rk4", dict(solver="rk4", ode_unfolds=6), 4),
        ("rk4", dict(solver="rk4", ode_unfolds=12), 4),
        ("tsit5", dict(solver=diffrax.Tsit5(), rtol=1e-3, atol=1e-6), 6),
        ("tsit5", dict(solver=diffrax.Tsit5(), rtol=1e-6, atol=1e-9), 6),
        ("kvaerno5", dict(solver=diffrax.Kvaerno5(), rtol=1e-3, atol=1e-6), None),
        ("kvaerno5", dict(solver=diffrax.Kvaerno5(), rtol=1e-6, atol=1e-9), None),
    ]
    with jax.enable_x64(True):
        params64 = base.init(key, dtype=jnp.float64)
        reference = scipy_states(base, params64, xs, gaps)
    only = None if args.only is None else set(args.only.split(","))
    if only is not None:
        unknown = only - {name for name, _, _ in configs}
        if unknown:
            raise SystemExit(f"--only: unknown solver names {sorted(unknown)}")
        configs = [c for c in configs if c[0] in only]
    suffix = "_quick" if args.quick else ""
    previous = RESULTS / f"solvers_cpu{suffix}.json"
    kept = json.loads(previous.read_text())["rows"] if only and previous.exists() else []
    params32 = base.init(key)
    meta = dict(
        workload=f"LTC fully connected, {units} units, {features} inputs, batch {batch}, "
        f"{steps} irregular observations (gaps ~ Exp(1)), ncps init",
        machine=f"{platform.machine()} {platform.processor() or ''}".strip(),
        devices=str(jax.devices()),
        jax=jax.__version__,
        diffrax=diffrax.__version__,
        quick=args.quick,
    )
    if args.note:
        meta["note"] = args.note

    for name, cfg, evals_per_step in configs:
        fixed = "ode_unfolds" in cfg
        setting = f"{cfg['ode_unfolds']} unfolds" if fixed else f"rtol {cfg['rtol']:g}"

        def run(params, xs, times, gaps, cfg=cfg, fixed=fixed):
            if fixed:
                cell = LTCCell(input_size=features, units=units, **cfg)
                return cell.apply(params, xs, timespans=gaps)[1], None, None
            sol = odeint_sequence(base, params, xs, times, t0=0.0, solver=_diffrax(cfg))
            return sol.final_state, sol.states, sol

        with jax.enable_x64(True):
            if fixed:
                cell = LTCCell(input_size=features, units=units, **cfg)
                states = _unroll_states(cell, params64, xs, gaps)
                steps_per_interval = float(cfg["ode_unfolds"])
                rejected = 0.0
                failed = None
            else:
                sol = odeint_sequence(base, params64, xs, times, t0=0.0, solver=_diffrax(cfg))
                states = sol.states
                steps_per_interval = float(np.mean(np.asarray(sol.steps_per_interval)[:, 1:]))
                rejected = float(np.mean(sol.num_rejected_steps)) / (steps - 1)
                failed = _failures(sol.status)
            error = float(np.max(np.abs(np.asarray(states) - reference)))

        xs32, times32, gaps32 = (jnp.asarray(a, jnp.float32) for a in (xs, times, gaps))
        forward = jax.jit(lambda p, x, t, g, run=run: run(p, x, t, g)[0])
        loss = lambda p, x, t, g, run=run: jnp.sum(run(p, x, t, g)[0] ** 2)  # noqa: E731
        backward = jax.jit(jax.grad(loss))
        t_fwd = median_time(forward, params32, xs32, times32, gaps32, repeats=repeats)
        t_bwd = median_time(backward, params32, xs32, times32, gaps32, repeats=repeats)
        evals = None
        if evals_per_step is not None:
            evals = evals_per_step * (steps_per_interval + rejected) + (0 if fixed else 1)
        rows.append(
            dict(
                solver=name,
                setting=setting,
                max_error=error,
                steps_per_interval=steps_per_interval,
                evals_per_interval=evals,
                forward_ms=1e3 * t_fwd,
                forward_backward_ms=1e3 * t_bwd,
                failed=failed,
            )
        )
        print(rows[-1], flush=True)
        # after every row: a partial table survives a timeout
        write(meta, _merge(kept, rows), args.quick)
    print(to_markdown(meta, _merge(kept, rows)))


def _merge(kept, rows):
    """``kept`` rows with those re-measured in ``rows`` replaced (same solver and setting)."""
    new = {(r["solver"], r["setting"]): r for r in rows}
    merged = [new.pop((r["solver"], r["setting"]), r) for r in kept]
    return merged + list(new.values())


def write(meta, rows, quick):
    suffix = "_quick" if quick else ""
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"solvers_cpu{suffix}.json").write_text(
        json.dumps(dict(meta=meta, rows=rows), indent=2)
    )
    (RESULTS / f"solvers_cpu{suffix}.md").write_text(to_markdown(meta, rows))


def _unroll_states(cell, params, xs, gaps):
    """The state after every observation (unroll returns outputs; scan the step here)."""
    step = jax.vmap(cell.step, in_axes=(None, 0, 0, 0))

    def body(v, inp):
        v, _ = step(params, v, *inp)
        return v, v

    v0 = cell.initial_state((xs.shape[0],), jnp.float64)
    _, states = jax.lax.scan(body, v0, (jnp.swapaxes(jnp.asarray(xs), 0, 1), jnp.asarray(gaps).T))
    return jnp.swapaxes(states, 0, 1)


def to_markdown(meta, rows):
    lines = [
        f"Workload: {meta['workload']}. Error: max over all states and observations against "
        "scipy DOP853 (rtol 1e-10), float64. Times: float32, jitted, median, "
        f"{meta['machine']}, {meta['devices']}, jax {meta['jax']}, diffrax {meta['diffrax']}."
        + (f" Note: {meta['note']}." if meta.get("note") else ""),
        "",
        "| solver | setting | max error | steps / interval | f evals / interval | "
        "forward (ms) | fwd + bwd (ms) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        evals = r["evals_per_interval"]
        evals = "n/a (implicit)" if evals is None else f"{evals:.1f}"
        error = f"{r['max_error']:.1e}"
        if r.get("failed"):  # the solver reported failures (NaN states), e.g. max_steps
            error = f"failed: {r['failed']}"
        elif not r["max_error"] < 1e3:  # the state is bounded by O(1) reversal potentials
            error = f"diverged ({error})"
        lines.append(
            f"| {r['solver']} | {r['setting']} | {error} | "
            f"{r['steps_per_interval']:.1f} | {evals} | {r['forward_ms']:.1f} | "
            f"{r['forward_backward_ms']:.1f} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
