"""Rerun the paper's Figure 2 settings and Table 2 as its MATLAB code computes them (issue 15).

"matlab" = what trajectory_length_analysis/main.m computes, quirks included:
``weight_convention="matlab"`` (standard deviation sigma_w^2, first-layer E summed over k rows),
main.m's Htanh (``"htanh_matlab"``), MATLAB ode45 with RelTol 1e-2 / AbsTol 1e-4, PCA and arc
length over ode45's refined output points, Table 2's count (4 points per step / 100)
(:func:`ltcjax.expressivity.matlab.simulate_matlab_draws`).

Ablations (``--ablations``, fewer draws, base setting width 100, sigma_w^2 = 2): the same
pipeline with one audited point undone at a time:

* ``std_sigma_w``: weights with standard deviation sigma_w = sqrt(sigma_w^2) (the "code" reading);
* ``e_in_m_rows``: the first layer's E summed over the m = 2 input rows only;
* ``elementwise_hardtanh``: a true (elementwise) hard-tanh;
* ``diffrax_100_samples``: MATLAB's model and draws, but ltcjax's measurement (Diffrax Dopri5,
  RMS norm, states at the 100 input samples, accepted steps per input interval).

Results go to experiments/results/expressivity/matlab.json (ablations: matlab_ablations.json),
one record per setting with the per-draw values, rewritten atomically after every setting; a
rerun skips the settings already there (resumable). Run in the background:

    nohup nice python experiments/expressivity/run_matlab.py > /tmp/matlab_run.log 2>&1 &
    nohup nice python experiments/expressivity/run_matlab.py --ablations --draws 20 > /tmp/abl.log &
    python experiments/expressivity/run_matlab.py --quick   # smoke test, a few seconds
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import time

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from tqdm.auto import tqdm  # noqa: E402

from ltcjax.expressivity import (  # noqa: E402
    NetworkSpec,
    SweepConfig,
    SweepSetting,
    group_key,
    run_settings,
)
from ltcjax.expressivity.matlab import activation_index_of, simulate_matlab_draws  # noqa: E402
from ltcjax.expressivity.random_networks import MATLAB_ACTIVATIONS  # noqa: E402
from ltcjax.train.atomic import write_text_atomically  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
RESULTS = os.path.join(ROOT, "experiments", "results", "expressivity")
DEFAULT_OUT = os.path.join(RESULTS, "matlab.json")
ABLATIONS_OUT = os.path.join(RESULTS, "matlab_ablations.json")
MODELS = ("node", "ctrnn", "ltc")
ACTS = ("tanh", "sigmoid", "relu", "hardtanh")
VARIANTS = (
    "matlab",
    "std_sigma_w",
    "e_in_m_rows",
    "elementwise_hardtanh",
    "diffrax_100_samples",
)


def main_settings() -> list[dict]:
    """Figure 2 (hard-tanh) and Table 2 settings, the shared base setting first."""
    out = []
    base = [(a, 100, 2.0) for a in ("hardtanh", "relu", "tanh", "sigmoid")]
    fig2 = [("hardtanh", 200, 2.0), ("hardtanh", 100, 1.0), ("hardtanh", 100, 4.0)]
    for act, width, sw2 in base + fig2:
        for model in MODELS:
            out.append(dict(model=model, activation=act, width=width, sigma_w2=sw2))
    return out


def ablation_settings() -> list[dict]:
    return [
        dict(model=m, activation=a, width=100, sigma_w2=2.0)
        for a in ("hardtanh", "relu")
        for m in MODELS
    ]


def record_key(variant: str, s: dict, draws: int, seed: int) -> str:
    return (
        f"{variant}|{s['model']}|{s['activation']}|k={s['width']}|sw2={s['sigma_w2']}"
        f"|draws={draws}|seed={seed}"
    )


def _stats(x: np.ndarray) -> dict:
    x = np.asarray(x, float)
    if x.size == 0:
        return {"mean": math.nan, "median": math.nan, "std": math.nan, "min": math.nan,
                "max": math.nan}  # fmt: skip
    return {"mean": float(np.mean(x)), "median": float(np.median(x)), "std": float(np.std(x)),
            "min": float(np.min(x)), "max": float(np.max(x))}  # fmt: skip


def run_one(variant: str, s: dict, draws: int, seed: int, chunk: int) -> dict:
    """One setting under one variant: per-draw values and summaries."""
    act = s["activation"]
    sw2 = float(s["sigma_w2"])
    conv, act_run, sw2_run = "matlab", MATLAB_ACTIVATIONS[act], sw2
    if variant == "std_sigma_w":
        sw2_run = math.sqrt(sw2)  # "matlab" std = the value passed
    elif variant == "e_in_m_rows":
        conv, sw2_run = "code", sw2**2  # "code" std = sqrt(value) = sigma_w^2, E_in (m, k)
    elif variant == "elementwise_hardtanh":
        act_run = act
    t0 = time.perf_counter()
    setting = SweepSetting("matlab", s["model"], act, width=s["width"], sigma_w2=sw2)
    keys = jax.random.split(group_key(seed, setting), draws)
    if variant == "diffrax_100_samples":
        st = SweepSetting(
            "matlab", s["model"], act_run, width=s["width"], sigma_w2=sw2,
            weight_convention="matlab",
        )  # fmt: skip
        cfg = SweepConfig(num_draws=draws, seed=seed, dtype="float64", max_steps=60_000)
        rows, _ = run_settings([st], cfg, progress=False)
        r = rows[0]
        return {
            "variant": variant, **s, "num_draws": draws, "num_ok": r.num_ok,
            "pca_length": {"mean": r.pca_length_mean, "median": r.pca_length_median,
                           "std": r.pca_length_std, "min": r.pca_length_min,
                           "max": r.pca_length_max},
            "computational_depth": {"mean": r.computational_depth_mean,
                                    "median": r.computational_depth_median,
                                    "std": r.computational_depth_std},
            "seconds": time.perf_counter() - t0,
        }  # fmt: skip
    spec = NetworkSpec(s["model"], s["width"], 1, act_run, weight_convention=conv)
    parts = []
    for i in range(0, draws, chunk):
        d = simulate_matlab_draws(
            spec.replace(activation="tanh"),
            keys[i : i + chunk],
            jnp.asarray(sw2_run, jnp.float64),
            jnp.asarray(1.0, jnp.float64),
            jnp.asarray(activation_index_of(act_run), jnp.int32),
            max_steps=60_000,
        )
        parts.append(jax.tree_util.tree_map(np.asarray, d))
    d = jax.tree_util.tree_map(lambda *a: np.concatenate(a), *parts)
    ok = d.success.astype(bool)
    return {
        "variant": variant,
        **s,
        "num_draws": draws,
        "num_ok": int(ok.sum()),
        "pca_length": _stats(d.pca_length[ok, 0]),
        "full_length": _stats(d.full_length[ok, 0]),
        "computational_depth": _stats(d.computational_depth[ok]),
        "num_steps": _stats(d.num_steps[ok]),
        "num_failed": _stats(d.num_failed[ok]),
        "explained_variance_2pc": _stats(d.explained_variance_ratio[ok, 0].sum(-1)),
        "per_draw": {
            "pca_length": [float(f"{v:.6g}") for v in d.pca_length[:, 0]],
            "computational_depth": [float(v) for v in d.computational_depth],
            "num_steps": [int(v) for v in d.num_steps],
            "success": [bool(v) for v in d.success],
        },
        "seconds": time.perf_counter() - t0,
    }


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--draws", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--chunk", type=int, default=25, help="draws vmapped together")
    ap.add_argument("--out", default=None, help="default: matlab.json / matlab_ablations.json")
    ap.add_argument("--ablations", action="store_true", help="run the ablation variants")
    ap.add_argument("--quick", action="store_true", help="smoke test: 2 draws, width 10")
    ap.add_argument("--models", nargs="+", choices=MODELS, default=MODELS)
    ap.add_argument("--activations", nargs="+", choices=ACTS, default=ACTS)
    ap.add_argument("--widths", nargs="+", type=int, default=None)
    ap.add_argument("--sigmas", nargs="+", type=float, default=None, help="sigma_w^2 values")
    ap.add_argument(
        "--table2-width", type=int, default=None,
        help="run Table 2's settings (4 activations x 3 models, sigma_w^2 = 2) at this width "
        "instead (e.g. 25, main.m's default k)",
    )  # fmt: skip
    args = ap.parse_args(argv)
    if args.out is None:
        args.out = ABLATIONS_OUT if args.ablations else DEFAULT_OUT
    if args.quick:
        settings = [dict(model=m, activation="hardtanh", width=10, sigma_w2=2.0) for m in MODELS]
        jobs = [("matlab", s) for s in settings]
        args.draws, args.chunk = 2, 2
    elif args.ablations:
        jobs = [
            (v, s)
            for v in VARIANTS[1:]
            for s in ablation_settings()
            if v != "elementwise_hardtanh" or s["activation"] == "hardtanh"
        ]
    elif args.table2_width:
        jobs = [
            ("matlab", dict(model=m, activation=a, width=args.table2_width, sigma_w2=2.0))
            for a in ("hardtanh", "relu", "tanh", "sigmoid")
            for m in MODELS
        ]
    else:
        jobs = [("matlab", s) for s in main_settings()]
    jobs = [
        (v, s)
        for v, s in jobs
        if s["model"] in args.models
        and s["activation"] in args.activations
        and (args.widths is None or s["width"] in args.widths)
        and (args.sigmas is None or s["sigma_w2"] in args.sigmas)
    ]
    data = {"records": {}}
    if os.path.exists(args.out):
        with open(args.out) as f:
            data = json.load(f)
    data["meta"] = {
        "jax": jax.__version__,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "dtype": "float64",
    }
    todo = [
        (v, s) for v, s in jobs if record_key(v, s, args.draws, args.seed) not in data["records"]
    ]
    print(f"{len(jobs) - len(todo)} of {len(jobs)} settings already done; {len(todo)} to run")
    for variant, s in tqdm(todo, desc="matlab rerun", unit="setting"):
        rec = run_one(variant, s, args.draws, args.seed, args.chunk)
        if os.path.exists(args.out):  # merge records another run wrote meanwhile
            with open(args.out) as f:
                data["records"] = {**json.load(f)["records"], **data["records"]}
        data["records"][record_key(variant, s, args.draws, args.seed)] = rec
        write_text_atomically(args.out, json.dumps(data, indent=1))
        tqdm.write(
            f"{variant} {s}: length mean {rec['pca_length']['mean']:.4g} median "
            f"{rec['pca_length']['median']:.4g}, depth mean "
            f"{rec['computational_depth']['mean']:.4g} ({rec['num_ok']}/{args.draws} ok, "
            f"{rec['seconds']:.0f} s)"
        )


if __name__ == "__main__":
    main()
