"""Command line for the expressivity analysis: ``ltcjax expressivity {sweep,plot,tau-trace}``.

Also runnable as ``python -m ltcjax.expressivity ...``.

Example:
    python -m ltcjax.expressivity sweep --out results/expr --draws 8 --sweeps width depth
    python -m ltcjax.expressivity plot --results results/expr/sweep.json

The committed Table 2 run with MATLAB-like step control (``table2.csv``) corresponds to
``sweep --sweeps width --widths 100 --norm max --dtmax 0.6283185307179586 --max-steps 20000
--draws 100``, and the signed-f LTC rows of ``sweep.csv`` to ``sweep --sweeps width sigma_w2
--models ltc --activations tanh hardtanh --ltc-decay signed --max-steps 20000``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from .integrate import SOLVERS
from .random_networks import ACTIVATIONS, LTC_DECAYS, MODELS, WEIGHT_CONVENTIONS
from .sweep import PAPER_GRIDS

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser of :func:`main`.

    Example:
        >>> build_parser().parse_args(["sweep", "--draws", "3"]).draws
        3
    """
    parser = argparse.ArgumentParser(
        prog="ltcjax expressivity",
        description="Trajectory-length expressivity analysis of random LTC / CT-RNN / "
        "Neural ODE networks (Hasani et al. 2021, section 4).",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    sw = sub.add_parser("sweep", help="run trajectory-length sweeps, write JSON/CSV and figures")
    sw.add_argument("--out", default="expressivity_results", help="output directory")
    sw.add_argument("--draws", type=int, default=10, help="random networks per setting")
    # Options taking one or more names from a fixed set: (flag, choices, default, help).
    multi_choice = (
        ("--sweeps", PAPER_GRIDS, PAPER_GRIDS, None),
        ("--models", MODELS, MODELS, None),
        ("--activations", ACTIVATIONS, ACTIVATIONS, None),
        (
            "--conventions",
            WEIGHT_CONVENTIONS,
            ["code"],
            "weight convention(s): code = std sigma_w, paper = var sigma_w^2/k, matlab = "
            "std sigma_w^2 and a (k, k) first-layer E (what the paper's MATLAB code draws)",
        ),
        (
            "--ltc-decay",
            LTC_DECAYS,
            ["abs"],
            "LTC decay term(s): abs = 1/tau + |f_in| + |f_rec| (the reference form), signed = "
            "1/tau + f_in + f_rec (Eq. 1 literally). With several, the later ones run the LTC "
            "only.",
        ),
    )
    for flag, choices, default, help_text in multi_choice:
        sw.add_argument(
            flag, nargs="+", default=list(default), choices=list(choices), help=help_text
        )
    sw.add_argument("--widths", nargs="+", type=int, default=None)
    sw.add_argument("--sigma-w2", nargs="+", type=float, default=None, dest="sigma_w2")
    sw.add_argument("--depths", nargs="+", type=int, default=None)
    sw.add_argument("--solvers", nargs="+", default=None, choices=list(SOLVERS))
    sw.add_argument("--base-width", type=int, default=100)
    sw.add_argument("--depth-width", type=int, default=25)
    sw.add_argument("--samples", type=int, default=100, help="input samples on the circle")
    sw.add_argument("--rtol", type=float, default=1e-2)
    sw.add_argument("--atol", type=float, default=1e-4)
    sw.add_argument("--sigma-b2", type=float, default=1.0, dest="sigma_b2")
    sw.add_argument("--norm", choices=["rms", "max"], default="rms")
    sw.add_argument(
        "--dtmax",
        type=float,
        default=None,
        help="maximum adaptive step (default: none; MATLAB ode45 uses 0.1 (t1 - t0) = 0.6283 "
        "on the circle, e.g. with --norm max)",
    )
    sw.add_argument(
        "--euler-substeps",
        type=int,
        default=10,
        dest="euler_substeps",
        help="fixed Euler steps per input interval (solver euler)",
    )
    sw.add_argument("--max-steps", type=int, default=100_000)
    sw.add_argument("--seed", type=int, default=0)
    sw.add_argument("--x64", action="store_true", help="run in float64")
    sw.add_argument("--no-plots", action="store_true")
    sw.add_argument("--quiet", action="store_true", help="no progress bar")

    pl = sub.add_parser("plot", help="make figures from a sweep's JSON results")
    pl.add_argument("--results", required=True, help="sweep.json written by 'sweep'")
    pl.add_argument("--out", default=None, help="figure directory (default: next to results)")

    tt = sub.add_parser("tau-trace", help="tau_sys trace of a random paper-form LTC (Theorem 1)")
    tt.add_argument("--width", type=int, default=8)
    tt.add_argument("--depth", type=int, default=1)
    tt.add_argument("--activation", default="tanh", choices=list(ACTIVATIONS))
    tt.add_argument("--sigma-w2", type=float, default=2.0, dest="sigma_w2")
    tt.add_argument("--convention", default="code", choices=list(WEIGHT_CONVENTIONS))
    tt.add_argument("--seed", type=int, default=0)
    tt.add_argument("--out", default="tau_sys_trace.png")
    return parser


def _cmd_sweep(args) -> int:
    import jax

    if args.x64:
        jax.config.update("jax_enable_x64", True)
    from .plots import plot_all
    from .sweep import SweepConfig, default_settings, run_settings, write_results

    grids = {
        k: v
        for k, v in {
            "width": args.widths,
            "sigma_w2": args.sigma_w2,
            "depth": args.depths,
            "solver": args.solvers,
        }.items()
        if v
    }
    cfg = SweepConfig(
        num_draws=args.draws,
        num_samples=args.samples,
        rtol=args.rtol,
        atol=args.atol,
        sigma_b2=args.sigma_b2,
        max_steps=args.max_steps,
        euler_substeps=args.euler_substeps,
        norm=args.norm,
        dtmax=args.dtmax,
        seed=args.seed,
        dtype="float64" if args.x64 else "float32",
    )
    settings = []
    for conv in args.conventions:
        for i, decay in enumerate(dict.fromkeys(args.ltc_decay)):
            # The decay only changes the LTC: run the other models once, with the first decay.
            models = args.models if i == 0 else [m for m in args.models if m == "ltc"]
            if models:
                settings += default_settings(
                    args.sweeps,
                    models=models,
                    activations=args.activations,
                    weight_convention=conv,
                    ltc_decay=decay,
                    base_width=args.base_width,
                    depth_width=args.depth_width,
                    grids=grids,
                )
    t0 = time.perf_counter()
    rows, examples = run_settings(settings, cfg, progress=not args.quiet)
    elapsed = time.perf_counter() - t0
    paths = write_results(rows, args.out, examples, cfg)
    print(f"{len(settings)} settings, {len(rows)} rows in {elapsed:.1f} s -> {paths['csv']}")
    if not args.no_plots:
        figs = plot_all(rows, examples, args.out, base={"width": args.base_width})
        print(f"{len(figs)} figures in {args.out}")
    return 0


def _cmd_plot(args) -> int:
    from .plots import plot_all
    from .sweep import read_results

    rows, _ = read_results(args.results)
    ex_path = args.results.replace(".json", "_examples.json")
    examples = None
    if os.path.exists(ex_path):
        with open(ex_path) as f:
            examples = json.load(f)
    out = args.out or os.path.dirname(os.path.abspath(args.results))
    figs = plot_all(rows, examples, out)
    print(f"{len(figs)} figures in {out}")
    return 0


def _cmd_tau_trace(args) -> int:
    import jax
    import jax.numpy as jnp

    from .bounds import check_within
    from .integrate import network_solver
    from .plots import plot_tau_sys_trace
    from .random_networks import NetworkSpec, init_random_network
    from .time_constants import random_ltc_tau_sys_trace

    spec = NetworkSpec(
        "ltc", args.width, args.depth, args.activation, weight_convention=args.convention
    )
    params = init_random_network(jax.random.PRNGKey(args.seed), spec, args.sigma_w2)
    tight = network_solver("rk45", rtol=1e-6, atol=1e-8)
    tr = random_ltc_tau_sys_trace(spec, params, solver=tight)
    ok_tau = check_within(tr.tau_sys, tr.tau_lower, tr.tau_upper, 1e-5 * jnp.max(tr.tau_upper))
    ok_state = check_within(tr.states, tr.state_lower, tr.state_upper, 1e-4)
    plot_tau_sys_trace(tr, args.out)
    print(
        f"Theorem 1 holds: {bool(ok_tau.ok)}; Theorem 2 holds: {bool(ok_state.ok)}; "
        f"figure: {args.out}"
    )
    return 0 if bool(ok_tau.ok) and bool(ok_state.ok) else 1


def main(argv: list[str] | None = None) -> int:
    """Entry point: ``main(["sweep", "--draws", "4"])``; returns the exit status.

    Example:
        >>> import os, tempfile
        >>> png = os.path.join(tempfile.mkdtemp(), "t.png")
        >>> main(["tau-trace", "--width", "3", "--out", png])  # doctest: +ELLIPSIS
        Theorem 1 holds: True; Theorem 2 holds: True; figure: ...
        0
    """
    args = build_parser().parse_args(argv)
    try:
        if args.command == "sweep":
            return _cmd_sweep(args)
        if args.command == "plot":
            return _cmd_plot(args)
        return _cmd_tau_trace(args)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
