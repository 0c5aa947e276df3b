"""Trajectory-length sweeps over width, sigma_w^2, depth, activation and solver.

Each setting draws ``num_draws`` random networks (vmapped), integrates them on the circle
input, and measures per layer the 2-D PCA trajectory length, the full-dimensional length, the
explained variance, the state norm and the computational depth, plus the Theorem 4/5 lower
bound evaluated at the measured computational depth. Results are one row per
(setting, layer), written as JSON and CSV.

Compilation is shared as much as possible: ``sigma_w2`` and the activation are traced values,
so one compilation serves every (sigma_w2, activation) pair of a (model, width, depth, solver)
group. The ``"paper"`` weight convention (variance ``sigma_w^2 / k``) is run as the ``"code"``
convention with ``sigma_w^2 / k``, which draws exactly the same networks.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import json
import math
import os
import time
import zlib
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .bounds import length_lower_bound
from .integrate import canonical_solver, solve_network
from .random_networks import (
    ACTIVATIONS,
    MODELS,
    WEIGHT_CONVENTIONS,
    NetworkSpec,
    canonical_activation,
    canonical_model,
    init_random_network,
)
from .trajectory import trajectory_length

__all__ = [
    "PAPER_GRIDS",
    "SweepConfig",
    "SweepSetting",
    "default_settings",
    "read_results",
    "run_settings",
    "simulate_draws",
    "write_results",
]

#: The paper's sweep grids (section 4).
PAPER_GRIDS: dict[str, tuple] = {
    "width": (10, 25, 50, 100, 150, 200),
    "sigma_w2": (1.0, 2.0, 4.0, 8.0, 16.0, 32.0),
    "depth": (1, 2, 3, 4, 5),
    "solver": ("rk45", "rk23", "tsit5", "kvaerno3", "euler"),
}


@dataclasses.dataclass(frozen=True)
class SweepConfig:
    """Options shared by all settings of a sweep.

    Attributes:
        num_draws: random networks per setting (paper: 100).
        num_samples: input samples on the circle (paper: 100).
        rtol, atol: adaptive-solver tolerances (paper: 1e-2, 1e-4).
        sigma_b2: bias variance (paper: 1).
        max_steps: Diffrax ``max_steps`` (draws exceeding it are counted as failures).
        euler_substeps: fixed Euler steps per input interval.
        norm: adaptive error norm, ``"rms"`` or ``"max"``.
        dtmax: maximum adaptive step (``None`` = unbounded; MATLAB's ode45 uses
            ``0.1 * (t1 - t0)``).
        seed: base PRNG seed.
        dtype: ``"float32"`` or ``"float64"`` (the latter needs ``jax_enable_x64``).

    Example:
        >>> SweepConfig(num_draws=4).num_samples
        100
    """

    num_draws: int = 10
    num_samples: int = 100
    rtol: float = 1e-2
    atol: float = 1e-4
    sigma_b2: float = 1.0
    max_steps: int = 100_000
    euler_substeps: int = 10
    norm: str = "rms"
    dtmax: float | None = None
    seed: int = 0
    dtype: str = "float32"

    def __post_init__(self) -> None:
        for name in ("num_draws", "num_samples", "max_steps", "euler_substeps"):
            if int(getattr(self, name)) <= 0:
                raise ValueError(f"{name}: must be a positive integer, got {getattr(self, name)}")
        if self.num_samples < 2:
            raise ValueError(f"num_samples: must be >= 2, got {self.num_samples}")
        if self.dtype not in ("float32", "float64"):
            raise ValueError(f"dtype: expected 'float32' or 'float64', got {self.dtype!r}")


@dataclasses.dataclass(frozen=True)
class SweepSetting:
    """One point of a sweep (all its layers are measured).

    Example:
        >>> SweepSetting("width", "ltc", "tanh", width=50).depth
        1
    """

    sweep: str
    model: str
    activation: str
    width: int = 100
    depth: int = 1
    sigma_w2: float = 2.0
    solver: str = "rk45"
    weight_convention: str = "code"
    ltc_decay: str = "abs"

    def __post_init__(self) -> None:
        object.__setattr__(self, "model", canonical_model(self.model))
        object.__setattr__(self, "activation", canonical_activation(self.activation))
        object.__setattr__(self, "solver", canonical_solver(self.solver))
        if self.weight_convention not in WEIGHT_CONVENTIONS:
            raise ValueError(
                f"weight_convention: unknown {self.weight_convention!r}; "
                f"expected one of {WEIGHT_CONVENTIONS}"
            )
        if not float(self.sigma_w2) > 0:
            raise ValueError(f"sigma_w2: must be > 0, got {self.sigma_w2}")
        NetworkSpec(self.model, self.width, self.depth, ltc_decay=self.ltc_decay)  # validates


def default_settings(
    sweeps: Iterable[str] = ("width", "sigma_w2", "depth", "solver"),
    models: Sequence[str] = MODELS,
    activations: Sequence[str] = ACTIVATIONS,
    weight_convention: str = "code",
    ltc_decay: str = "abs",
    base_width: int = 100,
    depth_width: int = 25,
    base_sigma_w2: float = 2.0,
    grids: dict[str, Sequence] | None = None,
) -> list[SweepSetting]:
    """Settings of the paper's sweeps: each varies one factor around the base setting.

    Base: width ``base_width`` (100), sigma_w^2 = 2, depth 1, RK45; the depth sweep uses width
    ``depth_width`` (25, the paper's default k). ``ltc_decay`` applies to the LTC settings.

    Example:
        >>> len(default_settings(["width"], models=["ltc"], activations=["tanh"]))
        6
    """
    grids = {**PAPER_GRIDS, **(grids or {})}
    out = []
    for sweep in sweeps:
        if sweep not in PAPER_GRIDS:
            raise ValueError(
                f"sweeps: unknown sweep {sweep!r}; expected one of {list(PAPER_GRIDS)}"
            )
        for model in models:
            for act in activations:
                for value in grids[sweep]:
                    kw: dict[str, Any] = {
                        "width": base_width,
                        "sigma_w2": base_sigma_w2,
                        "weight_convention": weight_convention,
                        "ltc_decay": ltc_decay if model == "ltc" else "abs",
                    }
                    if sweep == "depth":
                        kw["width"] = depth_width
                    kw[sweep] = value
                    out.append(SweepSetting(sweep, model, act, **kw))
    return out


@functools.partial(
    jax.jit,
    static_argnames=(
        "spec",
        "solver",
        "num_samples",
        "max_steps",
        "euler_substeps",
        "norm",
    ),
)
def simulate_draws(
    spec: NetworkSpec,
    keys: jax.Array,
    sigma_w2,
    sigma_b2,
    activation_index,
    rtol,
    atol,
    dtmax=None,
    *,
    solver: str = "rk45",
    num_samples: int = 100,
    max_steps: int = 100_000,
    euler_substeps: int = 10,
    norm: str = "rms",
) -> dict[str, jax.Array]:
    """Draw and integrate ``len(keys)`` random networks (vmapped) and measure them.

    ``sigma_w2``, ``sigma_b2``, ``activation_index`` (into ``ACTIVATIONS``, overriding
    ``spec.activation``) and the tolerances are traced: changing them does not recompile.

    Returns:
        Per-draw arrays: ``pca_length``, ``full_length``, ``state_norm`` ``(D, depth)``,
        ``explained_variance_ratio`` ``(D, depth, 2)``, ``projection`` ``(D, depth, T, 2)``,
        ``computational_depth``, ``num_accepted_steps``, ``num_steps``, ``success`` ``(D,)``.

    Example:
        >>> spec = NetworkSpec("node", width=5)
        >>> keys = jax.random.split(jax.random.PRNGKey(0), 3)
        >>> out = simulate_draws(spec, keys, 2.0, 1.0, 0, 1e-2, 1e-4, num_samples=20)
        >>> out["pca_length"].shape
        (3, 1)
    """

    def one(key):
        params = init_random_network(key, spec, sigma_w2, sigma_b2, jnp.asarray(sigma_w2).dtype)
        sol = solve_network(
            spec,
            params,
            solver=solver,
            rtol=rtol,
            atol=atol,
            num_samples=num_samples,
            max_steps=max_steps,
            euler_substeps=euler_substeps,
            norm=norm,
            dtmax=dtmax,
            activation_index=activation_index,
        )
        layers = jnp.swapaxes(sol.states, 0, 1)  # (depth, T, k)
        tl = trajectory_length(layers)
        return {
            "pca_length": tl.pca_length,
            "full_length": tl.full_length,
            "explained_variance_ratio": tl.explained_variance_ratio,
            "projection": tl.projection,
            "state_norm": jnp.mean(jnp.linalg.norm(layers, axis=-1), axis=-1),
            "computational_depth": sol.computational_depth,
            "num_accepted_steps": sol.num_accepted_steps,
            "num_steps": sol.num_steps,
            "success": sol.success & jnp.all(jnp.isfinite(tl.full_length)),
        }

    return jax.vmap(one)(keys)


def _group_key(seed: int, setting: SweepSetting) -> jax.Array:
    # Common random numbers: the same draws for every model / activation / sigma / solver of a
    # (width, depth) pair (stable across runs and Python versions).
    tag = zlib.crc32(f"w{setting.width}-d{setting.depth}".encode())
    return jax.random.fold_in(jax.random.PRNGKey(seed), tag)


def _stats(x: np.ndarray) -> dict[str, float]:
    if x.size == 0:
        return {k: math.nan for k in ("mean", "std", "median", "min", "max")}
    return {
        "mean": float(np.mean(x)),
        "std": float(np.std(x)),
        "median": float(np.median(x)),
        "min": float(np.min(x)),
        "max": float(np.max(x)),
    }


def _rows_for(
    setting: SweepSetting, cfg: SweepConfig, out: dict[str, np.ndarray], seconds: float
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    ok = out["success"].astype(bool)
    depth_ok = out["computational_depth"][ok]
    mean_depth = float(np.mean(depth_ok)) if depth_ok.size else math.nan
    rows, examples = [], []
    dt = 2 * math.pi / (cfg.num_samples - 1)
    for layer in range(setting.depth):
        pca_len = out["pca_length"][ok, layer]
        norm = out["state_norm"][ok, layer]
        mean_norm = float(np.mean(norm)) if norm.size else math.nan

        def bound(sw2, layer=layer, mean_norm=mean_norm):
            return float(
                length_lower_bound(
                    setting.model,
                    sw2,
                    cfg.sigma_b2,
                    setting.width,
                    layer + 1,
                    mean_depth,
                    state_norm=mean_norm,
                    dt=dt,
                )
            )

        # The theorems use Raghu et al.'s N(0, sigma_w^2 / k) weights: a "code" draw with std
        # sigma_w is a "paper" draw with sigma_w^2 * k.
        scale = setting.width if setting.weight_convention == "code" else 1
        row: dict[str, Any] = {
            **dataclasses.asdict(setting),
            "layer": layer + 1,
            "num_draws": int(ok.size),
            "num_ok": int(ok.sum()),
        }
        for name, val in _stats(pca_len).items():
            row[f"pca_length_{name}"] = val
        row["full_length_mean"] = _stats(out["full_length"][ok, layer])["mean"]
        row["explained_variance_2pc_mean"] = _stats(
            out["explained_variance_ratio"][ok, layer].sum(-1)
        )["mean"]
        row["state_norm_mean"] = _stats(norm)["mean"]
        cd = _stats(depth_ok)
        row["computational_depth_mean"] = cd["mean"]
        row["computational_depth_std"] = cd["std"]
        row["computational_depth_median"] = cd["median"]
        row["rejected_steps_mean"] = _stats(
            (out["num_steps"] - out["num_accepted_steps"])[ok].astype(float)
        )["mean"]
        row["lower_bound"] = bound(setting.sigma_w2)
        row["lower_bound_equiv"] = bound(setting.sigma_w2 * scale)
        row["seconds"] = seconds
        rows.append(row)
        first_ok = int(np.argmax(ok)) if ok.any() else None
        if first_ok is not None:
            proj = out["projection"][first_ok, layer]
            examples.append(
                {
                    **dataclasses.asdict(setting),
                    "layer": layer + 1,
                    "pca_length": float(out["pca_length"][first_ok, layer]),
                    "projection": [[float(f"{v:.4g}") for v in pt] for pt in proj],
                }
            )
    return rows, examples


def run_settings(
    settings: Sequence[SweepSetting],
    config: SweepConfig = SweepConfig(),
    progress: bool | Callable[[Iterable], Iterable] = True,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Run every setting and return ``(rows, examples)``.

    ``rows`` has one dict per (setting, layer) with summary statistics over the successful
    draws (``pca_length_{mean,std,median,min,max}``, ``full_length_mean``,
    ``explained_variance_2pc_mean``, ``state_norm_mean``, ``computational_depth_{mean,std}``,
    ``lower_bound`` (Theorems 4/5 with the nominal sigma_w^2, as plotted in the paper),
    ``lower_bound_equiv`` (with the sigma_w^2 of the equivalent N(0, sigma_w^2 / k) draw, the
    theorems' convention), ``num_ok``...). ``examples`` holds the 2-D PCA projection of the first
    successful draw of each (setting, layer), for the latent-trajectory plots.

    Args:
        settings: the settings (see :func:`default_settings`).
        config: shared options.
        progress: show a tqdm bar (or pass a wrapper such as ``tqdm.tqdm``).

    Example:
        >>> s = [SweepSetting("width", "node", "tanh", width=4)]
        >>> rows, _ = run_settings(s, SweepConfig(num_draws=2, num_samples=10), progress=False)
        >>> rows[0]["num_ok"]
        2
    """
    dtype = jnp.dtype(config.dtype)
    if dtype == jnp.float64 and not jax.config.jax_enable_x64:
        raise ValueError("config.dtype: float64 requires jax.config.update('jax_enable_x64', True)")
    # Group settings sharing a compilation; run groups in order of first appearance.
    order: dict[tuple, list[int]] = {}
    for i, s in enumerate(settings):
        order.setdefault((s.model, s.width, s.depth, s.solver, s.ltc_decay), []).append(i)
    flat = [i for idx in order.values() for i in idx]
    iterator: Iterable[int] = flat
    if progress is True:
        from tqdm.auto import tqdm

        iterator = tqdm(flat, desc="expressivity sweep", unit="setting")
    elif callable(progress):
        iterator = progress(flat)
    results: dict[int, tuple[list, list]] = {}
    for i in iterator:
        s = settings[i]
        spec = NetworkSpec(
            s.model, s.width, s.depth, s.activation, weight_convention="code", ltc_decay=s.ltc_decay
        )
        sw2 = s.sigma_w2 / s.width if s.weight_convention == "paper" else s.sigma_w2
        keys = jax.random.split(_group_key(config.seed, s), config.num_draws)
        t0 = time.perf_counter()
        out = simulate_draws(
            spec.replace(activation=ACTIVATIONS[0]),
            keys,
            jnp.asarray(sw2, dtype),
            jnp.asarray(config.sigma_b2, dtype),
            jnp.asarray(ACTIVATIONS.index(s.activation), jnp.int32),
            jnp.asarray(config.rtol, dtype),
            jnp.asarray(config.atol, dtype),
            None if config.dtmax is None else jnp.asarray(config.dtmax, dtype),
            solver=s.solver,
            num_samples=config.num_samples,
            max_steps=config.max_steps,
            euler_substeps=config.euler_substeps,
            norm=config.norm,
        )
        out = jax.tree_util.tree_map(np.asarray, out)
        results[i] = _rows_for(s, config, out, time.perf_counter() - t0)
    rows = [r for i in range(len(settings)) for r in results[i][0]]
    examples = [e for i in range(len(settings)) for e in results[i][1]]
    return rows, examples


def write_results(
    rows: Sequence[dict[str, Any]],
    out_dir: str | os.PathLike,
    examples: Sequence[dict[str, Any]] | None = None,
    config: SweepConfig | None = None,
    prefix: str = "sweep",
) -> dict[str, str]:
    """Write ``{prefix}.json`` (config + rows), ``{prefix}.csv`` and ``{prefix}_examples.json``.

    Returns:
        The written paths by kind (``"json"``, ``"csv"``, ``"examples"``).

    Example:
        >>> import tempfile
        >>> paths = write_results([{"a": 1}], tempfile.mkdtemp())
        >>> sorted(paths)
        ['csv', 'json']
    """
    os.makedirs(out_dir, exist_ok=True)
    paths = {
        "json": os.path.join(out_dir, f"{prefix}.json"),
        "csv": os.path.join(out_dir, f"{prefix}.csv"),
    }
    meta = {"config": dataclasses.asdict(config) if config else None, "rows": list(rows)}
    with open(paths["json"], "w") as f:
        json.dump(meta, f, indent=1, allow_nan=True)
    fields: list[str] = []
    for r in rows:
        fields += [k for k in r if k not in fields]
    with open(paths["csv"], "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    if examples is not None:
        paths["examples"] = os.path.join(out_dir, f"{prefix}_examples.json")
        with open(paths["examples"], "w") as f:
            json.dump(list(examples), f, separators=(",", ":"))
    return paths


def read_results(path: str | os.PathLike) -> tuple[list[dict[str, Any]], dict | None]:
    """Read a JSON written by :func:`write_results`: ``(rows, config)``.

    Example:
        >>> import tempfile, os
        >>> d = tempfile.mkdtemp()
        >>> _ = write_results([{"a": 1}], d)
        >>> read_results(os.path.join(d, "sweep.json"))[0]
        [{'a': 1}]
    """
    with open(path) as f:
        data = json.load(f)
    return data["rows"], data.get("config")
