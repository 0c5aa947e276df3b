"""Learning-curve and prediction plots (PNG, matplotlib's Agg backend), written atomically
(:func:`ltcjax.train.atomic.write_atomically`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from jaxtyping import Float

from ltcjax.train.atomic import write_atomically

__all__ = ["plot_learning_curves", "plot_predictions"]


def _figure(*args: Any, **kwargs: Any):
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    return Figure(*args, **kwargs)


def plot_learning_curves(
    history: Sequence[dict[str, Any]], path: str | Path, title: str | None = None
) -> Path:
    """Plot train / validation loss and metrics per epoch from a :func:`fit` history.

    Example:
        >>> import tempfile, os
        >>> h = [{"epoch": 1, "train": {"loss": 1.0}, "valid": {"loss": 1.2}, "best_epoch": 1},
        ...      {"epoch": 2, "train": {"loss": 0.5}, "valid": {"loss": 0.7}, "best_epoch": 2}]
        >>> p = plot_learning_curves(h, os.path.join(tempfile.mkdtemp(), "c.png"))
        >>> p.exists()
        True
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    names = list(history[0]["train"]) if history else ["loss"]
    names = [n for n in names if n == "loss"] + [n for n in names if n != "loss"]
    # Regression's mse equals its loss: one panel is enough.
    names = [
        n
        for n in names
        if n == "loss"
        or any(r[s].get(n) != r[s].get("loss") for r in history for s in ("train", "valid"))
    ]
    fig = _figure(figsize=(4.0 * len(names), 3.2), layout="constrained")
    axes = fig.subplots(1, len(names), squeeze=False)[0]
    epochs = [r["epoch"] for r in history]
    for ax, name in zip(axes, names, strict=True):
        for split, style in (("train", "-o"), ("valid", "-s")):
            ys = [r[split].get(name, np.nan) for r in history]
            ax.plot(epochs, ys, style, label=split, markersize=3)
        if history and history[-1].get("best_epoch"):
            ax.axvline(history[-1]["best_epoch"], color="gray", ls=":", lw=1, label="best")
        ax.set_xlabel("epoch")
        ax.set_ylabel(name)
        if name in ("loss", "mse") and all(
            r[s].get(name, 1) > 0 for r in history for s in ("train", "valid")
        ):
            ax.set_yscale("log")
        ax.legend()
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    write_atomically(path, lambda tmp: fig.savefig(tmp, dpi=110, format="png"))
    return path


def plot_predictions(
    times: Float[np.ndarray, "n time"],
    targets: Float[np.ndarray, "n time"],
    predictions: Float[np.ndarray, "n time"],
    path: str | Path,
    inputs: Float[np.ndarray, "n time"] | None = None,
    title: str | None = None,
) -> Path:
    """Plot predicted vs target sequences (one panel per sequence) at their observation times.

    Example:
        >>> import tempfile, os, numpy as np
        >>> t = np.cumsum(np.ones((2, 5)), axis=1)
        >>> out = os.path.join(tempfile.mkdtemp(), "p.png")
        >>> p = plot_predictions(t, np.sin(t), np.sin(t) + 0.1, out)
        >>> p.exists()
        True
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n = len(times)
    fig = _figure(figsize=(9.0, 2.2 * n), layout="constrained")
    axes = fig.subplots(n, 1, squeeze=False)[:, 0]
    for i, ax in enumerate(axes):
        if inputs is not None:
            ax.step(times[i], inputs[i], where="pre", color="0.7", lw=1, label="input u")
        ax.plot(times[i], targets[i], "o-", color="k", ms=3, lw=1, label="target")
        ax.plot(times[i], predictions[i], "x--", color="C3", ms=4, lw=1, label="prediction")
        ax.set_ylabel(f"seq {i}")
        ax.grid(alpha=0.3)
    axes[0].legend(ncol=3, loc="upper right", fontsize="small")
    axes[-1].set_xlabel("time (irregular observations)")
    if title:
        fig.suptitle(title)
    write_atomically(path, lambda tmp: fig.savefig(tmp, dpi=110, format="png"))
    return path
