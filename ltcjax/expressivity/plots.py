"""Matplotlib figures for the expressivity analysis (Agg backend, files or returned figures).

* :func:`plot_sweep` - trajectory length vs a swept setting, one panel per activation
  (the paper's Figure 2 line plots);
* :func:`plot_latent_grid` - 2-D PCA latent trajectories, models x activations (Figure 2's
  trajectory plots);
* :func:`plot_bounds` - measured lengths against the Theorem 4/5 lower bounds;
* :func:`plot_computational_depth` - computational depth per model and activation (Table 2);
* :func:`plot_tau_sys_trace` - ``tau_sys`` along a trajectory with Theorem 1's bounds.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ltcjax.validation import argument_error  # noqa: E402

from .sweep import SweepExample, SweepRow, as_record  # noqa: E402

__all__ = [
    "MODEL_LABELS",
    "plot_all",
    "plot_bounds",
    "plot_computational_depth",
    "plot_latent_grid",
    "plot_sweep",
    "plot_tau_sys_trace",
]

MODEL_LABELS = {
    "node": "Neural ODE",
    "ctrnn": "CT-RNN",
    "ltc": "LTC",
    "ltc_signed": "LTC, signed f (Eq. 1)",
}
MODEL_COLORS = {
    "node": "tab:blue",
    "ctrnn": "tab:orange",
    "ltc": "tab:green",
    "ltc_signed": "tab:red",
}
SERIES_ORDER = ("node", "ctrnn", "ltc", "ltc_signed")
#: A sweep result: a row or example, or its flat record (as read back from JSON).
Row = SweepRow | SweepExample | Mapping[str, Any]
ACTIVATION_LABELS = {"tanh": "tanh", "sigmoid": "sigmoid", "relu": "ReLU", "hardtanh": "hard-tanh"}
SWEEP_LABELS = {
    "width": "width k",
    "sigma_w2": r"$\sigma_w^2$",
    "depth": "depth (layers)",
    "solver": "solver",
}


def _finish(fig, path: str | os.PathLike | None, title: str | None = None):
    """Title (``suptitle``), lay out, and save ``fig`` to ``path`` if given; return it."""
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    if path is not None:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        fig.savefig(path, dpi=120, bbox_inches="tight")
        plt.close(fig)
    return fig


def _with_series(rows: Sequence[Row]) -> list[dict[str, Any]]:
    """The rows as flat records (:func:`~ltcjax.expressivity.sweep.as_record`) with a
    ``series`` key: the model, with the signed-decay LTC as its own series."""
    out = []
    for r in map(as_record, rows):
        signed = r.get("model") == "ltc" and r.get("ltc_decay", "abs") == "signed"
        out.append({**r, "series": "ltc_signed" if signed else r.get("model")})
    return out


def _series_order(rows) -> list[str]:
    present = _ordered(r["series"] for r in rows)
    return [m for m in SERIES_ORDER if m in present] + [m for m in present if m not in SERIES_ORDER]


def _select(rows: Sequence[dict[str, Any]], **conds) -> list[dict[str, Any]]:
    return [r for r in rows if all(r.get(k) == v for k, v in conds.items())]


def _last_layer(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if r["layer"] == r["depth"]]


def _ordered(values):
    seen = []
    for v in values:
        if v not in seen:
            seen.append(v)
    return seen


def plot_sweep(
    rows: Sequence[Row],
    sweep: str,
    path: str | os.PathLike | None = None,
    weight_convention: str | None = None,
    stat: str = "mean",
    title: str | None = None,
):
    """Trajectory length (log scale) vs the swept setting, one panel per activation.

    Uses the last layer of each setting; error bars span min..max over the draws.

    Args:
        rows: sweep rows (see :func:`~ltcjax.expressivity.run_settings`).
        sweep: which sweep (``"width"``, ``"sigma_w2"``, ``"depth"``, ``"solver"``).
        path: where to save (PNG); the figure is returned either way.
        weight_convention: keep only rows with this convention.
        stat: ``"mean"`` or ``"median"`` of the per-draw lengths.
        title: figure title.

    Example:
        >>> rows = [dict(sweep="width", model="ltc", activation="tanh", width=w, depth=1,
        ...              layer=1, pca_length_mean=w, pca_length_min=w, pca_length_max=w)
        ...         for w in (10, 20)]
        >>> fig = plot_sweep(rows, "width")
    """
    sel = _last_layer(_select(_with_series(rows), sweep=sweep))
    if weight_convention is not None:
        sel = _select(sel, weight_convention=weight_convention)
    if not sel:
        raise argument_error("rows", f"rows of sweep {sweep!r}", "none")
    acts = _ordered(r["activation"] for r in sel)
    fig, axes = plt.subplots(1, len(acts), figsize=(3.6 * len(acts), 3.2), squeeze=False)
    categorical = sweep == "solver"
    xs_all = _ordered(r[sweep] for r in sel)
    for ax, act in zip(axes[0], acts, strict=True):
        for model in _series_order(sel):
            rs = _select(sel, activation=act, series=model)
            if not rs:
                continue
            xs = [xs_all.index(r[sweep]) if categorical else r[sweep] for r in rs]
            ys = np.array([r[f"pca_length_{stat}"] for r in rs], float)
            lo = np.array([r.get("pca_length_min", math.nan) for r in rs], float)
            hi = np.array([r.get("pca_length_max", math.nan) for r in rs], float)
            yerr = np.abs(np.stack([ys - lo, hi - ys]))
            ax.errorbar(
                xs,
                ys,
                yerr=np.nan_to_num(yerr),
                marker="o",
                ms=3,
                capsize=2,
                color=MODEL_COLORS.get(model),
                label=MODEL_LABELS.get(model, model),
            )
        ax.set_yscale("log")
        if categorical:
            ax.set_xticks(range(len(xs_all)), [str(x) for x in xs_all], rotation=30)
        elif sweep == "sigma_w2":
            ax.set_xscale("log", base=2)
        ax.set_title(ACTIVATION_LABELS.get(act, act))
        ax.set_xlabel(SWEEP_LABELS.get(sweep, sweep))
        ax.grid(alpha=0.3, which="both")
    axes[0][0].set_ylabel(f"trajectory length (2-PC, {stat})")
    axes[0][-1].legend(fontsize=8)
    return _finish(fig, path, title)


def plot_latent_grid(
    examples: Sequence[Row],
    path: str | os.PathLike | None = None,
    title: str | None = None,
    **conds,
):
    """2-D PCA latent trajectories: one row per model, one column per activation.

    Args:
        examples: example dicts from :func:`~ltcjax.expressivity.run_settings` (each with a
            ``projection`` of shape ``(T, 2)``).
        path: where to save.
        title: figure title.
        **conds: filters, e.g. ``sweep="width", width=100, layer=1``.

    Example:
        >>> ex = [dict(model="ltc", activation="tanh", pca_length=1.0,
        ...            projection=[[0, 0], [1, 0], [1, 1]])]
        >>> fig = plot_latent_grid(ex)
    """
    sel = _select(_with_series(examples), **conds)
    if not sel:
        raise argument_error("examples", f"examples matching {conds}", "none")
    models = _series_order(sel)
    acts = _ordered(e["activation"] for e in sel)
    fig, axes = plt.subplots(
        len(models), len(acts), figsize=(2.6 * len(acts), 2.5 * len(models)), squeeze=False
    )
    for i, model in enumerate(models):
        for j, act in enumerate(acts):
            ax = axes[i][j]
            match = _select(sel, series=model, activation=act)
            if match:
                p = np.asarray(match[0]["projection"], float)
                ax.plot(p[:, 0], p[:, 1], lw=0.8, color=MODEL_COLORS.get(model))
                ax.plot(p[0, 0], p[0, 1], "k.", ms=4)
                ax.text(
                    0.02,
                    0.96,
                    f"l = {match[0]['pca_length']:.3g}",
                    transform=ax.transAxes,
                    va="top",
                    fontsize=8,
                )
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(ACTIVATION_LABELS.get(act, act))
            if j == 0:
                ax.set_ylabel(MODEL_LABELS.get(model, model))
    return _finish(fig, path, title)


def plot_bounds(
    rows: Sequence[Row],
    sweep: str,
    path: str | os.PathLike | None = None,
    activation: str = "hardtanh",
    weight_convention: str | None = None,
    title: str | None = None,
):
    """Measured mean trajectory length vs the Theorem 4/5 lower bounds (one panel per model).

    Plots ``lower_bound`` (nominal sigma_w^2) and, when present, ``lower_bound_equiv``.

    Example:
        >>> rows = [dict(sweep="width", model="ltc", activation="hardtanh", width=w, depth=1,
        ...              layer=1, pca_length_mean=w, lower_bound=1.0) for w in (10, 20)]
        >>> fig = plot_bounds(rows, "width")
    """
    sel = _last_layer(_select(_with_series(rows), sweep=sweep, activation=activation))
    if weight_convention is not None:
        sel = _select(sel, weight_convention=weight_convention)
    if not sel:
        raise argument_error(
            "rows", f"rows of sweep {sweep!r} with activation {activation!r}", "none"
        )
    models = _series_order(sel)
    fig, axes = plt.subplots(1, len(models), figsize=(3.6 * len(models), 3.2), squeeze=False)
    for ax, model in zip(axes[0], models, strict=True):
        rs = _select(sel, series=model)
        xs = [r[sweep] for r in rs]
        c = MODEL_COLORS.get(model)
        ax.plot(xs, [r["pca_length_mean"] for r in rs], "o-", color=c, label="measured")
        ax.plot(xs, [r["lower_bound"] for r in rs], "s--", color="k", label="bound (nominal)")
        if all("lower_bound_equiv" in r for r in rs):
            ax.plot(
                xs,
                [r["lower_bound_equiv"] for r in rs],
                "^:",
                color="gray",
                label=r"bound ($\sigma_w^2$ as N(0, $\sigma_w^2$/k))",
            )
        ax.set_yscale("log")
        if sweep == "sigma_w2":
            ax.set_xscale("log", base=2)
        ax.set_title(MODEL_LABELS.get(model, model))
        ax.set_xlabel(SWEEP_LABELS.get(sweep, sweep))
        ax.grid(alpha=0.3, which="both")
    axes[0][0].set_ylabel("trajectory length")
    axes[0][-1].legend(fontsize=7)
    return _finish(fig, path, title or f"Theorems 4/5 lower bounds vs measured ({activation})")


def plot_computational_depth(
    rows: Sequence[Row],
    path: str | os.PathLike | None = None,
    title: str | None = None,
    **conds,
):
    """Bar chart of the mean computational depth per activation and model (Table 2).

    Bars are means over the draws; where rows carry ``computational_depth_median`` it is drawn
    as a black marker on each bar (the depth is heavy-tailed, so the two differ).

    Example:
        >>> rows = [dict(model="ltc", activation="tanh", layer=1, depth=1,
        ...              computational_depth_mean=3.0, computational_depth_std=1.0)]
        >>> fig = plot_computational_depth(rows)
    """
    sel = _last_layer(_select(_with_series(rows), **conds))
    if not sel:
        raise argument_error("rows", f"rows matching {conds}", "none")
    acts = _ordered(r["activation"] for r in sel)
    models = _series_order(sel)
    fig, ax = plt.subplots(figsize=(1.6 * len(acts) + 2, 3.2))
    width = 0.8 / len(models)
    has_median = False
    for i, model in enumerate(models):
        vals, meds = [], []
        for act in acts:
            m = _select(sel, series=model, activation=act)
            vals.append(m[0]["computational_depth_mean"] if m else math.nan)
            meds.append(m[0].get("computational_depth_median", math.nan) if m else math.nan)
        xs = np.arange(len(acts)) + (i - (len(models) - 1) / 2) * width
        ax.bar(xs, vals, width, color=MODEL_COLORS.get(model), label=MODEL_LABELS.get(model, model))
        if np.isfinite(meds).any():
            ax.plot(xs, meds, "k_", ms=10, mew=2, label=None if has_median else "median")
            has_median = True
    ax.set_xticks(range(len(acts)), [ACTIVATION_LABELS.get(a, a) for a in acts])
    ax.set_yscale("log")
    ax.set_ylabel("computational depth (steps / interval)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, axis="y", which="both")
    if title:
        ax.set_title(title)
    return _finish(fig, path)


def plot_tau_sys_trace(
    trace,
    path: str | os.PathLike | None = None,
    neurons: Sequence[int] | None = None,
    max_neurons: int = 6,
    title: str | None = None,
):
    """``tau_sys`` of a few neurons along a trajectory with their Theorem 1 bounds.

    Args:
        trace: a :class:`~ltcjax.expressivity.TauSysTrace` (unbatched; random-network traces
            are flattened over layers).
        path: where to save.
        neurons: which (flattened) neurons to show (default: the first ``max_neurons``).
        max_neurons: number shown by default.
        title: figure title.

    Example:
        >>> import jax
        >>> from ltcjax.expressivity import NetworkSpec, init_random_network
        >>> from ltcjax.expressivity import random_ltc_tau_sys_trace
        >>> spec = NetworkSpec("ltc", width=3)
        >>> tr = random_ltc_tau_sys_trace(
        ...     spec, init_random_network(jax.random.PRNGKey(0), spec), num_samples=20)
        >>> fig = plot_tau_sys_trace(tr)
    """
    ts = np.asarray(trace.ts, float)
    taus = np.asarray(trace.tau_sys, float)
    if ts.ndim != 1:
        raise argument_error(
            "trace", "an unbatched trace (ts of shape (T,))", f"ts of shape {ts.shape}"
        )
    taus = taus.reshape(ts.shape[0], -1)
    lo = np.broadcast_to(np.asarray(trace.tau_lower, float).reshape(-1), taus.shape[1:])
    hi = np.broadcast_to(np.asarray(trace.tau_upper, float).reshape(-1), taus.shape[1:])
    idx = list(range(min(max_neurons, taus.shape[1]))) if neurons is None else list(neurons)
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for n, i in enumerate(idx):
        c = colors[n % len(colors)]
        ax.plot(ts, taus[:, i], color=c, lw=1.2, label=f"neuron {i}")
        ax.axhline(hi[i], color=c, ls="--", lw=0.7)
        ax.axhline(lo[i], color=c, ls=":", lw=0.7)
    ax.set_yscale("log")
    ax.set_xlabel("time")
    ax.set_ylabel(r"$\tau_{sys}$")
    ax.set_title(title or r"$\tau_{sys}$ with Theorem 1 bounds (-- upper, : lower)")
    ax.legend(fontsize=7, ncol=2)
    return _finish(fig, path)


def plot_all(
    rows: Sequence[Row],
    examples: Sequence[Row] | None,
    out_dir: str | os.PathLike,
    base: dict[str, Any] | None = None,
) -> list[str]:
    """Write the standard figure set for a sweep's results; returns the written paths.

    For each sweep and weight convention present: ``length_vs_{sweep}[_{convention}].png`` and
    ``bounds_vs_{sweep}[_{convention}].png``; plus ``computational_depth.png`` and
    ``latent_trajectories*.png`` at the base setting (width 100, sigma_w^2 = 2, depth 1,
    RK45 unless ``base`` says otherwise) and for the deepest depth-sweep network.

    Example:
        >>> import tempfile
        >>> rows = [dict(sweep="width", model="ltc", activation="tanh", width=w, depth=1,
        ...              layer=1, sigma_w2=2.0, solver="rk45", weight_convention="code",
        ...              pca_length_mean=w, lower_bound=1.0, computational_depth_mean=1.0)
        ...         for w in (10, 100)]
        >>> len(plot_all(rows, None, tempfile.mkdtemp())) >= 2
        True
    """
    base = {"width": 100, "sigma_w2": 2.0, "depth": 1, "solver": "rk45", **(base or {})}
    rows = [as_record(r) for r in rows]
    examples = [as_record(e) for e in examples or []]
    paths: list[str] = []
    conventions = _ordered(r.get("weight_convention") for r in rows)
    for sweep in _ordered(r["sweep"] for r in rows):
        for conv in conventions:
            if not _select(rows, sweep=sweep, weight_convention=conv):
                continue
            suffix = "" if conv == conventions[0] else f"_{conv}"
            p = os.path.join(out_dir, f"length_vs_{sweep}{suffix}.png")
            plot_sweep(
                rows,
                sweep,
                p,
                weight_convention=conv,
                title=f"Trajectory length vs {SWEEP_LABELS.get(sweep, sweep)} "
                f"({conv} weight convention)",
            )
            paths.append(p)
            if sweep != "solver" and _select(rows, sweep=sweep, activation="hardtanh"):
                p = os.path.join(out_dir, f"bounds_vs_{sweep}{suffix}.png")
                plot_bounds(rows, sweep, p, weight_convention=conv)
                paths.append(p)
    base_rows = _select(rows, **base)
    if base_rows:
        conv = base_rows[0].get("weight_convention")
        sel = _select(base_rows, weight_convention=conv, sweep=base_rows[0]["sweep"])
        p = os.path.join(out_dir, "computational_depth.png")
        plot_computational_depth(
            sel,
            p,
            title=f"Computational depth (width {base['width']}, "
            f"$\\sigma_w^2$={base['sigma_w2']}, {conv} convention)",
        )
        paths.append(p)
    if examples:
        for conv in conventions:
            sel = _select(examples, weight_convention=conv)
            sel_base = _select(sel, **base)
            suffix = "" if conv == conventions[0] else f"_{conv}"
            if sel_base:
                first = sel_base[0]["sweep"]
                p = os.path.join(out_dir, f"latent_trajectories{suffix}.png")
                plot_latent_grid(
                    sel_base,
                    p,
                    sweep=first,
                    title=f"2-D PCA latent trajectories (width {base['width']}, "
                    f"$\\sigma_w^2$={base['sigma_w2']}, {conv} convention)",
                )
                paths.append(p)
            deep = _select(sel, sweep="depth")
            if deep:
                d = max(e["depth"] for e in deep)
                p = os.path.join(out_dir, f"latent_trajectories_depth{d}{suffix}.png")
                plot_latent_grid(
                    deep,
                    p,
                    depth=d,
                    layer=d,
                    title=f"2-D PCA latent trajectories, layer {d} of {d}",
                )
                paths.append(p)
    return paths
