"""Reproduce the paper's trajectory-length analysis (section 4, Figure 2, Table 2).

Runs the width / sigma_w^2 / depth / solver sweeps for LTC, CT-RNN and Neural ODE random
networks with four activations (tqdm progress bar), under both weight conventions, plus a
Table 2 run with a MATLAB-ode45-like step controller and a Theorem 1/2 check on random LTCs,
then writes JSON/CSV results, figures and REPORT.md to experiments/results/expressivity/.

Usage (about 15 minutes on 2 CPU cores):

    nice python experiments/expressivity/run_expressivity.py
    nice python experiments/expressivity/run_expressivity.py --quick   # smoke test, ~1 min
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import platform
import sys
import time

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from ltcjax.expressivity import (  # noqa: E402
    ACTIVATIONS,
    NetworkSpec,
    SweepConfig,
    SweepSetting,
    check_within,
    default_settings,
    init_random_network,
    network_solver,
    random_ltc_tau_sys_trace,
    run_settings,
    write_results,
)
from ltcjax.expressivity.plots import (  # noqa: E402
    plot_all,
    plot_computational_depth,
    plot_tau_sys_trace,
)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DEFAULT_OUT = os.path.join(ROOT, "experiments", "results", "expressivity")

MODEL_NAMES = {"node": "N-ODE", "ctrnn": "CT-RNN", "ltc": "LTC"}
# The Theorem 1/2 checks: Dopri5 with tight tolerances.
TIGHT = network_solver("rk45", rtol=1e-7, atol=1e-9)
ACT_NAMES = {"tanh": "tanh", "sigmoid": "sigmoid", "relu": "ReLU", "hardtanh": "hard-tanh"}

# REFERENCE.md section 6 (paper, RK45, hard-tanh).
PAPER_FIG2_WIDTH = {  # width -> model -> length
    100: {"node": 104.6, "ctrnn": 87.9, "ltc": 18339.9},
    200: {"node": 138.4, "ctrnn": 120.6, "ltc": 53858.6},
}
PAPER_FIG2_SIGMA = {
    1.0: {"node": 76.9, "ctrnn": 28.8, "ltc": 3052.0},
    2.0: {"node": 105.4, "ctrnn": 84.4, "ltc": 16889.2},
    4.0: {"node": 227.3, "ctrnn": 208.1, "ltc": 276980.5},
}
PAPER_TABLE2 = {  # activation -> (N-ODE, CT-RNN, LTC)
    "tanh": (0.56, 4.13, 9.19),
    "sigmoid": (0.56, 5.33, 7.00),
    "relu": (1.29, 4.31, 56.9),
    "hardtanh": (0.61, 4.05, 81.01),
}


def build_settings(quick: bool) -> list[SweepSetting]:
    grids = None
    if quick:
        grids = {"width": (10, 50), "sigma_w2": (1.0, 4.0), "depth": (1, 3), "solver": ("rk45",)}
    settings = default_settings(weight_convention="code", grids=grids)
    settings += default_settings(["width", "sigma_w2"], weight_convention="paper", grids=grids)
    # The LTC of Eq. 1 without absolute values (only differs for sign-changing activations).
    settings += default_settings(
        ["width", "sigma_w2"],
        models=["ltc"],
        activations=["tanh", "hardtanh"],
        weight_convention="code",
        ltc_decay="signed",
        grids=grids,
    )
    if quick:
        settings = [dataclasses.replace(s, width=min(s.width, 50)) for s in settings]
    return settings


def theorem_checks(num_nets: int, width: int) -> dict:
    """Theorems 1 and 2 along trajectories of random paper-form LTCs (tight tolerances)."""
    out = {}
    for act in ACTIVATIONS:
        for conv in ("code", "paper"):
            spec = NetworkSpec(
                "ltc", width=width, depth=2, activation="tanh", weight_convention=conv
            )
            idx = ACTIVATIONS.index(act)
            worst_state, worst_tau, ok = -math.inf, -math.inf, 0
            for seed in range(num_nets):
                params = init_random_network(jax.random.PRNGKey(1000 + seed), spec, 2.0, 1.0)
                tr = random_ltc_tau_sys_trace(spec, params, activation_index=idx, solver=TIGHT)
                scale = 1.0 + float(jnp.max(jnp.abs(jnp.stack([tr.state_lower, tr.state_upper]))))
                s = check_within(tr.states, tr.state_lower, tr.state_upper, 1e-6 * scale)
                t = check_within(tr.tau_sys / tr.tau_upper, tr.tau_lower / tr.tau_upper, 1.0, 1e-9)
                worst_state = max(worst_state, float(s.max_violation) / scale)
                worst_tau = max(worst_tau, float(t.max_violation))
                ok += int(bool(s.ok) and bool(t.ok))
            out[f"{act}/{conv}"] = {
                "networks": num_nets,
                "both_hold": ok,
                "max_state_violation_rel": worst_state,
                "max_tau_violation_rel": worst_tau,
            }
    return out


# ----------------------------------------------------------------------------------- report


def _get(rows, **conds):
    m = [r for r in rows if all(r.get(k) == v for k, v in conds.items())]
    return m[0] if m else None


def _fmt(x, digits=3):
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    if abs(x) >= 1e4:
        return f"{x:.3g}"
    return f"{x:.{digits}g}" if abs(x) < 100 else f"{x:.1f}"


def _slope(xs, ys):
    xs, ys = np.log(np.asarray(xs, float)), np.log(np.asarray(ys, float))
    ok = np.isfinite(ys)
    if ok.sum() < 2:
        return math.nan
    return float(np.polyfit(xs[ok], ys[ok], 1)[0])


def _series(rows, sweep, model, act, conv, key="pca_length_mean"):
    rs = [
        r
        for r in rows
        if r["sweep"] == sweep
        and r["model"] == model
        and r["activation"] == act
        and r["weight_convention"] == conv
        and r["layer"] == r["depth"]
    ]
    return [r[sweep] for r in rs], [r[key] for r in rs]


def make_report(all_rows, t2_rows, checks, meta, out_dir, rms_rows=None) -> str:
    rows = [r for r in all_rows if r.get("ltc_decay", "abs") == "abs"]
    signed = [r for r in all_rows if r.get("ltc_decay", "abs") == "signed"]
    L = []
    add = L.append
    convs = sorted({r["weight_convention"] for r in rows}, key=lambda c: c != "code")
    acts = list(ACTIVATIONS)
    models = ["node", "ctrnn", "ltc"]
    add("# Trajectory-length expressivity: reproduction of the paper's section 4\n")
    add(
        "Generated by `experiments/expressivity/run_expressivity.py` "
        f"({meta['runtime_min']:.1f} min wall-clock on {meta['machine']}; "
        f"{meta['num_settings']} settings, {meta['num_draws']} random networks per setting (the "
        f"paper used 100), {meta.get('dtype', 'float64')} sweeps, float64 Theorem 1/2 checks"
        + (
            f"; the Table 2 settings rerun with {meta['table2_draws']} draws in "
            f"{meta['table2_runtime_min']:.1f} min (`run_expressivity.py "
            f"{' '.join(meta['table2_argv'])}`)"
            if "table2_argv" in meta
            else ""
        )
        + "). "
        "Library: `ltcjax.expressivity` (user guide: [docs/expressivity.md]"
        "(../../../docs/expressivity.md)). Raw numbers: `sweep.csv` / `sweep.json` (one row per "
        "setting and layer), `table2.csv` (max-norm controller) and `table2_rms.csv` (RMS "
        "controller), `theorem_checks.json`; `hypothesis_tau_sigma_w.json` and "
        "`signed_tolerance_check.json` from the two scripts of the same names.\n"
    )
    add("## Setup\n")
    add(
        "- Input: the circle `I(t) = (sin t, cos t)`, 100 samples on [0, 2 pi], linearly "
        "interpolated; states saved at the samples; initial state 0.\n"
        "- Models (one layer: `f_in = act(W_in u + b_in)`, `f_rec = act(W_rec y + b_rec)`, "
        "`A = sum_j E_j`): LTC `dy/dt = -y (1/tau + |f_in| + |f_rec|) + f_in A_in + f_rec "
        "A_rec`; CT-RNN `dy/dt = -y/tau + f_in`; Neural ODE `dy/dt = f_in`. Deeper layers take "
        "the previous layer's state as `u`; the stack is integrated as one ODE.\n"
        "- Draws: weights and reversal potentials `E` from N(0, s^2) with **code** convention "
        "`s = sigma_w` (used for all sweeps; long read as the paper's MATLAB code, which in "
        "fact draws with `s = sigma_w^2`: see the last section) or **paper** convention "
        "`s^2 = sigma_w^2 / k` (the paper's text; width and sigma_w^2 sweeps), biases "
        "N(0, sigma_b^2 = 1), `tau = |N(0, 1)|`.\n"
        "- Solver: Diffrax Dopri5 (RK45) with a PID controller, rtol 1e-2, atol 1e-4, RMS error "
        "norm, no maximum step (solver sweep: Bosh3 = RK23, Tsit5, Kvaerno3 = L-stable ESDIRK "
        "standing in for TR-BDF2, fixed-step Euler with 10 steps per input interval; ABM is "
        "not available in Diffrax and is omitted).\n"
        "- Measure: per layer, arc length of the projection of the 100 x k state trajectory on "
        "its first two principal components; mean over draws whose solve succeeded (a draw "
        "fails if it needs more than "
        f"{meta['max_steps']} steps). Computational depth = accepted steps / 99 intervals.\n"
        "- Base setting: width 100, sigma_w^2 = 2, depth 1, RK45; the depth sweep uses width 25 "
        "(the paper's default k). Each sweep varies one factor.\n"
        "- Also run (width and sigma_w^2 sweeps, tanh and hard-tanh, code convention): the LTC "
        "of the paper's Eq. 1 without absolute values, `dy/dt = -y (1/tau + f_in + f_rec) + "
        'f_in A_in + f_rec A_rec` (`ltc_decay="signed"`, red in the figures). It is excluded '
        "from the findings checks below unless named.\n"
    )
    first_layer = [r for r in all_rows if r["layer"] == 1]
    failed = [r for r in first_layer if r["num_ok"] < r["num_draws"]]
    total = sum(r["num_draws"] for r in first_layer)
    lost = sum(r["num_draws"] - r["num_ok"] for r in first_layer)
    desc = "; ".join(
        f"{r['sweep']}/{MODEL_NAMES[r['model']]}/{ACT_NAMES[r['activation']]}/k={r['width']}/"
        f"sigma_w^2={r['sigma_w2']:g}/depth={r['depth']}/{r['solver']}/{r['weight_convention']}"
        f"{'/signed' if r.get('ltc_decay') == 'signed' else ''}: {r['num_ok']} of {r['num_draws']}"
        for r in failed
    )
    add(
        f"Failed solves (more than {meta['max_steps']} steps, or non-finite states): {lost} of "
        f"{total}" + (f" ({desc})." if failed else ".") + "\n"
    )
    add("## Figures\n")
    for f in meta["figures"]:
        add(f"![{f}]({f})\n")

    # ------------------------------------------------------------------ Figure 2 values
    add("## Figure 2 values (hard-tanh, RK45, mean 2-PC trajectory length)\n")
    add(
        "| setting | model | paper | ours, code convention | ours, paper convention "
        "| LTC with signed f (Eq. 1), code convention |"
    )
    add("|---|---|---|---|---|---|")
    for w, vals in PAPER_FIG2_WIDTH.items():
        for m in models:
            cells = []
            for conv in ("code", "paper"):
                r = _get(rows, sweep="width", width=w, model=m, activation="hardtanh",
                         weight_convention=conv, layer=1)  # fmt: skip
                cells.append(_fmt(r["pca_length_mean"]) if r else "n/a")
            r = _get(signed, sweep="width", width=w, model=m, activation="hardtanh", layer=1)
            cells.append(_fmt(r["pca_length_mean"]) if r else "")
            add(f"| width {w} | {MODEL_NAMES[m]} | {vals[m]} | " + " | ".join(cells) + " |")
    for sw2, vals in PAPER_FIG2_SIGMA.items():
        for m in models:
            cells = []
            for conv in ("code", "paper"):
                r = _get(rows, sweep="sigma_w2", sigma_w2=sw2, model=m, activation="hardtanh",
                         weight_convention=conv, layer=1)  # fmt: skip
                cells.append(_fmt(r["pca_length_mean"]) if r else "n/a")
            r = _get(signed, sweep="sigma_w2", sigma_w2=sw2, model=m, activation="hardtanh",
                     layer=1)  # fmt: skip
            cells.append(_fmt(r["pca_length_mean"]) if r else "")
            add(f"| sigma_w^2 = {sw2:g} | {MODEL_NAMES[m]} | {vals[m]} | " + " | ".join(cells)
                + " |")  # fmt: skip
    add("")

    # ------------------------------------------------------------------ Table 2
    add("## Table 2: computational depth (width 100, sigma_w^2 = 2, 1 layer)\n")
    rms = [r for r in rms_rows or [] if r["layer"] == 1]
    rms_abs = [r for r in rms if r.get("ltc_decay", "abs") == "abs"] or rows
    rms_signed = [r for r in rms if r.get("ltc_decay") == "signed"] or signed
    base_conds = dict(width=100, sigma_w2=2.0, depth=1, solver="rk45", layer=1)

    def _draws(src, **conds):
        r = _get(src, **base_conds, **conds)
        return r["num_draws"] if r else "n/a"

    n_rms, n_t2 = _draws(rms_abs, weight_convention="code"), _draws(t2_rows)
    n_paper = _draws(rows, weight_convention="paper")
    add(
        "Mean (median) accepted steps per input interval over the draws; the paper reports "
        "means over 100 draws. The depth is heavy-tailed (the stiffest draw, set by the "
        "smallest `tau = |N(0, 1)|`, dominates the mean), so compare medians too. 'RMS' = the "
        "sweep's Diffrax controller; 'max-norm' = max error norm and maximum step "
        "0.1 (t1 - t0), as MATLAB's ode45 does. Draws per setting in the column headers.\n"
    )
    add(f"| activation | model | paper (100) | ours, code conv., RMS ({n_rms}) | ours, code "
        f"conv., max-norm ({n_t2}) | ours, paper conv., RMS ({n_paper}) |")  # fmt: skip
    add("|---|---|---|---|---|---|")

    def _cell(r):
        if not r:
            return "n/a"
        return f"{_fmt(r['computational_depth_mean'])} ({_fmt(r['computational_depth_median'])})"

    for a in acts:
        for i, m in enumerate(models):
            cells = [
                _cell(_get(src, **base_conds, model=m, activation=a, weight_convention=conv))
                for src, conv in ((rms_abs, "code"), (t2_rows, "code"), (rows, "paper"))
            ]
            add(f"| {ACT_NAMES[a]} | {MODEL_NAMES[m]} | {PAPER_TABLE2[a][i]} | "
                + " | ".join(cells) + " |")  # fmt: skip
        r = _get(rms_signed, width=100, sigma_w2=2.0, activation=a, layer=1)
        if r:
            add(f"| {ACT_NAMES[a]} | LTC, signed f | {PAPER_TABLE2[a][2]} | "
                f"{_cell(r)} | | |")  # fmt: skip
    add("")

    # ------------------------------------------------------------------ findings
    add("## The paper's qualitative findings, checked\n")
    for conv in convs:
        add(f"### {conv} weight convention\n")
        same = {}
        for r in rows:
            if r["weight_convention"] != conv or r["layer"] != r["depth"]:
                continue
            key = (r["sweep"], r["activation"], r["width"], r["depth"], r["sigma_w2"], r["solver"])
            same.setdefault(key, {})[r["model"]] = r["pca_length_mean"]
        full = [v for v in same.values() if len(v) == 3]
        wins = sum(v["ltc"] > max(v["node"], v["ctrnn"]) for v in full)
        ratios = [v["ltc"] / max(v["node"], v["ctrnn"]) for v in full]
        add(
            f"1. **LTC trajectories longer than CT-RNN and N-ODE**: in {wins} of {len(full)} "
            f"settings; LTC / max(other) median ratio {_fmt(float(np.median(ratios)))} "
            f"(range {_fmt(min(ratios))} - {_fmt(max(ratios))}). Paper: 10^2 - 10^3 x at "
            "width 100-200 with hard-tanh."
        )
        if any(r["sweep"] == "depth" and r["weight_convention"] == conv for r in rows):
            lines = []
            for a in acts:
                parts = []
                for m in models:
                    xs, ys = _series(rows, "depth", m, a, conv)
                    if len(ys) >= 2 and ys[0] > 0:
                        g = (ys[-1] / ys[0]) ** (1 / max(xs[-1] - xs[0], 1))
                        parts.append(f"{MODEL_NAMES[m]} x{_fmt(g)}")
                lines.append(f"{ACT_NAMES[a]}: " + ", ".join(parts))
            add(
                "2. **Depth** (geometric growth factor per added layer of the last layer's "
                "length, depth 1 -> 5, width 25): " + "; ".join(lines) + ". Paper: exponential "
                "growth for N-ODE / CT-RNN with hard-tanh and ReLU, none with tanh / sigmoid."
            )
        slopes_w, slopes_lo, slopes_hi = [], [], []
        for m in models:
            s = [_slope(*_series(rows, "width", m, a, conv)) for a in acts]
            slopes_w.append(f"{MODEL_NAMES[m]} " + "/".join(_fmt(x, 2) for x in s))
            lo, hi = [], []
            for a in acts:
                xs, ys = _series(rows, "width", m, a, conv)
                pts = dict(zip(xs, ys, strict=True))
                lo.append(_slope([x for x in xs if x <= 100], [pts[x] for x in xs if x <= 100]))
                hi.append(_slope([100, 200], [pts[100], pts[200]]) if 100 in pts and 200 in pts
                          else math.nan)  # fmt: skip
            slopes_lo.append(f"{MODEL_NAMES[m]} " + "/".join(_fmt(x, 2) for x in lo))
            slopes_hi.append(f"{MODEL_NAMES[m]} " + "/".join(_fmt(x, 2) for x in hi))
        add(
            "3. **Width** (log-log slope of the mean length vs width, tanh/sigmoid/ReLU/hard-tanh;"
            " widths 10-200: "
            + "; ".join(slopes_w)
            + "; widths 10-100: "
            + "; ".join(slopes_lo)
            + "; widths 100 -> 200, the interval of the paper's two values: "
            + "; ".join(slopes_hi)
            + "). Paper: about linear growth (slope ~1) — its Figure 2 values give slopes "
            f"{_fmt(math.log(138.4 / 104.6) / math.log(2), 2)} (N-ODE), "
            f"{_fmt(math.log(120.6 / 87.9) / math.log(2), 2)} (CT-RNN), "
            f"{_fmt(math.log(53858.6 / 18339.9) / math.log(2), 2)} (LTC) between 100 and 200, "
            f"against our hard-tanh LTC's {_fmt(hi[-1] if m == 'ltc' else math.nan, 2)} over the "
            "same step (compare the 100 -> 200 columns, not the 10-200 fit)."
        )
        slopes_s = []
        for m in models:
            s = [_slope(*_series(rows, "sigma_w2", m, a, conv)) for a in acts]
            slopes_s.append(f"{MODEL_NAMES[m]} " + "/".join(_fmt(x, 2) for x in s))
        add(
            "4. **sigma_w^2** (log-log slope of length vs sigma_w^2 over 1..32): "
            + "; ".join(slopes_s)
            + ". Paper (sigma_w^2 1 -> 4, hard-tanh): "
            f"{_fmt(math.log(227.3 / 76.9) / math.log(4), 2)} (N-ODE), "
            f"{_fmt(math.log(208.1 / 28.8) / math.log(4), 2)} (CT-RNN), "
            f"{_fmt(math.log(276980.5 / 3052.0) / math.log(4), 2)} (LTC)."
        )
        if any(r["sweep"] == "solver" and r["weight_convention"] == conv for r in rows):
            parts = []
            for m in models:
                spread = []
                for a in acts:
                    _, ys = _series(rows, "solver", m, a, conv)
                    if ys:
                        spread.append(max(ys) / min(ys))
                parts.append(f"{MODEL_NAMES[m]} {_fmt(max(spread))}")
            ad = []
            for a in acts:
                _, ys = _series(rows, "solver", "ltc", a, conv)
                xs, _ = _series(rows, "solver", "ltc", a, conv)
                adapt = [y for x, y in zip(xs, ys, strict=True) if x != "euler"]
                if adapt:
                    ad.append(max(adapt) / min(adapt))
            add(
                "5. **Solver** (largest max/min ratio of the mean length across RK45, RK23, "
                "Tsit5, Kvaerno3, Euler over activations): "
                + ", ".join(parts)
                + f"; adaptive solvers only, LTC: {_fmt(max(ad)) if ad else 'n/a'}. "
                "Paper: the solver matters little."
            )
        src = rms_abs if conv == "code" else rows
        base = [r for r in src if r["weight_convention"] == conv and r["width"] == 100
                and r["sigma_w2"] == 2.0 and r["depth"] == 1 and r["solver"] == "rk45"]  # fmt: skip
        order_ok, avail = 0, 0
        for a in acts:
            d = {m: _get(base, model=m, activation=a) for m in models}
            if all(d.values()):
                avail += 1
                dd = [d[m]["computational_depth_median"] for m in models]
                order_ok += dd[0] < dd[1] <= dd[2]
        if avail:
            add(
                f"6. **Computational depth N-ODE < CT-RNN <= LTC** (medians, base setting, "
                f"{base[0]['num_draws']} draws): holds for {order_ok} of {avail} activations "
                "(table above)."
            )
        b = [r for r in rows if r["weight_convention"] == conv and r["activation"] == "hardtanh"
             and math.isfinite(r["lower_bound"])]  # fmt: skip
        above = sum(r["pca_length_mean"] >= r["lower_bound"] for r in b)
        above_eq = sum(r["pca_length_mean"] >= r["lower_bound_equiv"] for r in b)
        by_model = []
        for m in models:
            bm = [r for r in b if r["model"] == m]
            by_model.append(
                f"{MODEL_NAMES[m]} {sum(r['pca_length_mean'] >= r['lower_bound'] for r in bm)}"
                f"/{len(bm)}"
            )
        add(
            f"7. **Theorem 4/5 lower bounds** (hard-tanh rows, constant 1 in the O(.)): measured "
            f">= bound in {above} of {len(b)} rows with the nominal sigma_w^2 ("
            + ", ".join(by_model)
            + f"), and in {above_eq} of {len(b)} with the sigma_w^2 of the equivalent "
            "N(0, sigma_w^2/k) draw."
        )
        nb = [r for r in rows if r["weight_convention"] == conv and r["model"] == "node"
              and r["activation"] == "hardtanh" and r["depth"] == 1]  # fmt: skip
        viol = [r for r in nb if r["pca_length_max"] > 2 * math.pi * math.sqrt(r["width"]) + 1e-6]
        add(
            f"8. **Sanity bound**: a one-layer hard-tanh N-ODE has speed |dy/dt| <= sqrt(k), "
            f"so its length is at most 2 pi sqrt(k) (62.8 at k = 100); violated by "
            f"{len(viol)} of {len(nb)} rows (max over draws).\n"
        )

    if signed:
        add("### LTC with signed f (Eq. 1 without absolute values), code convention\n")
        parts = []
        for a in ("tanh", "hardtanh"):
            for sweep in ("width", "sigma_w2"):
                xs, ys = _series(signed, sweep, "ltc", a, "code")
                _, base_ys = _series(rows, sweep, "ltc", a, "code")
                if ys:
                    parts.append(
                        f"{ACT_NAMES[a]} vs {sweep}: "
                        + ", ".join(f"{x:g}: {_fmt(y)}" for x, y in zip(xs, ys, strict=True))
                        + f" (log-log slope {_fmt(_slope(xs, ys), 2)}; |f| form: "
                        + ", ".join(_fmt(y) for y in base_ys)
                        + ")"
                    )
        add("Mean trajectory length by setting. " + "; ".join(parts) + ".\n")

    # ------------------------------------------------------------------ Theorems 1 and 2
    add("## Theorems 1 and 2 along random LTC trajectories\n")
    add(
        "Two-layer paper-form LTCs (width "
        f"{meta['theorem_width']}, sigma_w^2 = 2), circle input, Dopri5 with rtol 1e-7: "
        "fraction of networks on which every saved state lies in the Theorem 2 box and every "
        "`tau_sys` in the Theorem 1 interval (the lower bound uses `W` from interval "
        "arithmetic; see `ltcjax.expressivity.bounds`).\n"
    )
    add("| activation / convention | networks | both hold | worst state excess (rel.) "
        "| worst tau excess (rel.) |")  # fmt: skip
    add("|---|---|---|---|---|")
    for k, v in checks.items():
        add(f"| {k} | {v['networks']} | {v['both_hold']} | {v['max_state_violation_rel']:.2e} "
            f"| {v['max_tau_violation_rel']:.2e} |")  # fmt: skip
    add("\n(Negative excess = the bound is never reached; it is the margin.)\n")
    return "\n".join(L)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--draws", type=int, default=10)
    ap.add_argument(
        "--max-steps",
        type=int,
        default=20_000,
        help="Diffrax max_steps per solve (200 steps per input interval); draws that need "
        "more are reported as failures",
    )
    ap.add_argument("--quick", action="store_true", help="tiny grids, for a smoke test")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--table2-only",
        action="store_true",
        help="rerun only the Table 2 settings (computational depth, width 100, sigma_w^2 = 2) "
        "with --draws draws, rewrite table2*.csv/json and their figures, record the run in "
        "run_meta.json and rebuild REPORT.md (the sweep results are kept)",
    )
    ap.add_argument(
        "--report-only",
        action="store_true",
        help="rebuild REPORT.md and the Table 2 figures from the results already in --out "
        "(no simulation)",
    )
    args = ap.parse_args(argv)
    if args.report_only:
        plot_table2(args.out)
        return write_report(args.out, quick=False)
    if args.table2_only:
        return rerun_table2(args)
    t_start = time.perf_counter()
    draws = 3 if args.quick else args.draws
    cfg = SweepConfig(num_draws=draws, seed=args.seed, dtype="float32", max_steps=args.max_steps)
    settings = build_settings(args.quick)
    print(f"{len(settings)} settings x {draws} draws", flush=True)
    rows, examples = run_settings(settings, cfg, progress=True)
    paths = write_results(rows, args.out, examples, cfg)

    figures = plot_all(rows, examples, args.out)
    # Table 2 runs (overwrites computational_depth.png with its own RMS-controller run).
    t2_settings = run_table2(args.out, draws, args.seed, args.max_steps, args.quick)[0]
    figures.append(os.path.join(args.out, "computational_depth_maxnorm.png"))

    print("Theorem 1/2 checks ...", flush=True)
    th_width = 8 if args.quick else 32
    checks = theorem_checks(2 if args.quick else 8, th_width)
    with open(os.path.join(args.out, "theorem_checks.json"), "w") as f:
        json.dump(checks, f, indent=1)
    spec = NetworkSpec("ltc", width=th_width, activation="hardtanh")
    params = init_random_network(jax.random.PRNGKey(0), spec, 2.0, 1.0)
    tr = random_ltc_tau_sys_trace(spec, params, solver=TIGHT)
    p = os.path.join(args.out, "tau_sys_trace.png")
    plot_tau_sys_trace(tr, p, title=r"$\tau_{sys}$ of a random hard-tanh LTC on the circle input")
    figures.append(p)

    meta = {
        "runtime_min": (time.perf_counter() - t_start) / 60,
        "machine": f"{os.cpu_count()} CPU cores ({platform.machine()}), JAX {jax.__version__}",
        "num_settings": len(settings) + len(t2_settings),
        "num_draws": draws,
        "table2_draws": draws,
        "max_steps": cfg.max_steps,
        "dtype": cfg.dtype,
        "cpu_seconds": time.process_time(),
        "theorem_width": th_width,
        "figures": [os.path.basename(f) for f in figures],
    }
    with open(os.path.join(args.out, "run_meta.json"), "w") as f:
        json.dump({**meta, "argv": sys.argv[1:]}, f, indent=1)
    write_report(args.out, quick=args.quick)
    print(f"done in {meta['runtime_min']:.1f} min: {paths['csv']}, REPORT.md", flush=True)
    return 0


def run_table2(out_dir: str, draws: int, seed: int, max_steps: int, quick: bool = False):
    """Table 2 settings (12 per controller): write table2.* and table2_rms.* and the figures.

    ``table2``: MATLAB-ode45-like step control (max error norm, dtmax = 0.1 (t1 - t0)).
    ``table2_rms``: the sweeps' Diffrax controller (RMS norm, no maximum step), plus the LTC
    of Eq. 1 with signed f (tanh, hard-tanh). Both use the code weight convention.
    """
    width = 50 if quick else 100
    t2_cfg = SweepConfig(num_draws=draws, seed=seed, dtype="float32", norm="max",
                         dtmax=0.2 * math.pi, max_steps=max_steps)  # fmt: skip
    t2_settings = [
        SweepSetting("table2", m, a, width=width)
        for m in ("node", "ctrnn", "ltc")
        for a in ACTIVATIONS
    ]
    t2_rows, _ = run_settings(t2_settings, t2_cfg, progress=True)
    write_results(t2_rows, out_dir, None, t2_cfg, prefix="table2")

    rms_cfg = SweepConfig(num_draws=draws, seed=seed, dtype="float32", max_steps=max_steps)
    rms_settings = t2_settings + [
        SweepSetting("table2", "ltc", a, width=width, ltc_decay="signed")
        for a in ("tanh", "hardtanh")
    ]
    rms_rows, _ = run_settings(rms_settings, rms_cfg, progress=True)
    write_results(rms_rows, out_dir, None, rms_cfg, prefix="table2_rms")
    plot_table2(out_dir)
    return t2_settings + rms_settings, t2_rows, rms_rows


def plot_table2(out_dir: str) -> None:
    """Draw computational_depth{,_maxnorm}.png from table2_rms.json / table2.json."""
    runs = (
        ("table2_rms", "computational_depth.png", "RMS"),
        ("table2", "computational_depth_maxnorm.png", "max-norm"),
    )
    for prefix, png, ctrl in runs:
        path = os.path.join(out_dir, f"{prefix}.json")
        if not os.path.exists(path):
            continue
        with open(path) as f:
            t2 = json.load(f)["rows"]
        title = (
            f"Computational depth, {ctrl} controller (width {t2[0]['width']}, $\\sigma_w^2$=2, "
            f"code convention, {t2[0]['num_draws']} draws)\nbars: mean, black marks: median"
        )
        plot_computational_depth(t2, os.path.join(out_dir, png), title=title)


def rerun_table2(args) -> int:
    """``--table2-only``: rerun Table 2 with ``args.draws`` draws and rebuild the report."""
    t0 = time.perf_counter()
    settings, _, _ = run_table2(args.out, args.draws, args.seed, args.max_steps)
    minutes = (time.perf_counter() - t0) / 60
    path = os.path.join(args.out, "run_meta.json")
    with open(path) as f:
        meta = json.load(f)
    meta.update(
        table2_draws=args.draws,
        table2_settings=len(settings),
        table2_runtime_min=minutes,
        table2_argv=sys.argv[1:],
    )
    with open(path, "w") as f:
        json.dump(meta, f, indent=1)
    write_report(args.out, quick=False)
    print(f"Table 2: {len(settings)} settings x {args.draws} draws in {minutes:.1f} min")
    return 0


def write_report(out_dir: str, quick: bool) -> int:
    """Build REPORT.md from the result files in ``out_dir`` (plus discussion.md)."""
    with open(os.path.join(out_dir, "sweep.json")) as f:
        rows = json.load(f)["rows"]
    with open(os.path.join(out_dir, "table2.json")) as f:
        t2_rows = json.load(f)["rows"]
    with open(os.path.join(out_dir, "theorem_checks.json")) as f:
        checks = json.load(f)
    with open(os.path.join(out_dir, "run_meta.json")) as f:
        meta = json.load(f)
    rms_rows = None
    if os.path.exists(os.path.join(out_dir, "table2_rms.json")):
        with open(os.path.join(out_dir, "table2_rms.json")) as f:
            rms_rows = json.load(f)["rows"]
    report = make_report(rows, t2_rows, checks, meta, out_dir, rms_rows)
    discussion = os.path.join(HERE, "discussion.md")
    if os.path.exists(discussion) and not quick:
        with open(discussion) as f:
            report += "\n" + f.read()
    from matlab_report import matlab_section  # the MATLAB-equivalent rerun (issue 15)

    section = matlab_section(out_dir) if not quick else ""
    if section:
        report = report.rstrip("\n") + "\n\n" + section
    with open(os.path.join(out_dir, "REPORT.md"), "w") as f:
        f.write(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
