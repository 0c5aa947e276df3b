"""Trajectory-length sweeps over width, sigma_w^2, depth, activation and solver.

Each setting draws ``num_draws`` random networks (vmapped), integrates them on the circle
input, and measures per layer the 2-D PCA trajectory length, the full-dimensional length, the
explained variance, the state norm and the computational depth, plus the Theorem 4/5 lower
bound evaluated at the measured computational depth. Results are one :class:`SweepRow` per
(setting, layer), written as JSON and CSV (flat records, see :meth:`SweepRow.to_dict`).

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
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ltcjax.solvers import Solver
from ltcjax.validation import (
    argument_error,
    check_choice,
    check_int,
    check_positive_int,
    check_positive_number,
)

from .bounds import length_lower_bound
from .integrate import NORMS, SOLVERS, network_solver, solve_network, solver_label
from .random_networks import (
    ACTIVATIONS,
    ALL_ACTIVATIONS,
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
    "Draws",
    "SweepConfig",
    "SweepExample",
    "SweepRow",
    "SweepSetting",
    "as_record",
    "default_settings",
    "group_key",
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
    "solver": SOLVERS,
}


@dataclasses.dataclass(frozen=True)
class SweepConfig:
    """Options shared by all settings of a sweep (written as the results' ``config``).

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
        for name in ("num_draws", "max_steps", "euler_substeps"):
            check_positive_int(name, getattr(self, name))
        check_int("num_samples", self.num_samples, 2)
        for name in ("rtol", "atol", "sigma_b2"):
            check_positive_number(name, getattr(self, name))
        check_positive_number("dtmax", self.dtmax, allow_none=True)
        check_choice("norm", self.norm, NORMS)
        check_choice("dtype", self.dtype, ("float32", "float64"))

    def solver_for(self, solver: Any) -> Solver:
        """The solver value object of a setting's ``solver`` under this step control.

        Example:
            >>> s = SweepConfig(norm="max", dtmax=0.5).solver_for("rk45")
            >>> s.name, s.controller.dtmax, s.max_steps
            ('Dopri5', 0.5, 100000)
        """
        return network_solver(
            solver,
            rtol=self.rtol,
            atol=self.atol,
            max_steps=self.max_steps,
            norm=self.norm,
            dtmax=self.dtmax,
        )


@dataclasses.dataclass(frozen=True)
class SweepSetting:
    """One point of a sweep (all its layers are measured).

    ``solver`` takes any solver or shorthand and keeps its label (:func:`solver_label`, e.g.
    ``"ode45"`` becomes ``"rk45"``): the setting picks the method, :class:`SweepConfig` the
    step control.

    Example:
        >>> SweepSetting("width", "ltc", "tanh", width=50, solver="ode45").solver
        'rk45'
    """

    sweep: str
    model: str
    activation: str
    width: int = 100
    depth: int = 1
    sigma_w2: float = 2.0
    solver: Any = "rk45"
    weight_convention: str = "code"
    ltc_decay: str = "abs"

    def __post_init__(self) -> None:
        object.__setattr__(self, "model", canonical_model(self.model))
        object.__setattr__(self, "activation", canonical_activation(self.activation))
        label = solver_label(self.solver)
        network_solver(label)  # the label must name the method again (rows are rerunnable)
        object.__setattr__(self, "solver", label)
        check_choice("weight_convention", self.weight_convention, WEIGHT_CONVENTIONS)
        check_positive_number("sigma_w2", self.sigma_w2)
        NetworkSpec(self.model, self.width, self.depth, ltc_decay=self.ltc_decay)  # validates


class _SettingRecord:
    """A sweep result about one setting: a dataclass whose first field is ``setting``, written
    as one flat record (the setting's fields, then its own)."""

    def to_dict(self) -> dict[str, Any]:
        """The flat record written to JSON and CSV."""
        fields = dataclasses.fields(self)[1:]  # after "setting"
        return {
            **dataclasses.asdict(self.setting),
            **{f.name: getattr(self, f.name) for f in fields},
        }

    @classmethod
    def from_dict(cls, record: Mapping[str, Any]):
        """Read back a record written by :meth:`to_dict`."""
        setting_names = [f.name for f in dataclasses.fields(SweepSetting)]
        own = dataclasses.fields(cls)[1:]
        required = setting_names[:3] + [  # sweep, model, activation, then what has no default
            f.name for f in own if f.default is dataclasses.MISSING
        ]
        missing = [n for n in required if n not in record]
        unknown = [k for k in record if k not in setting_names and k not in {f.name for f in own}]
        if missing or unknown:
            raise argument_error(
                "record",
                f"the keys of a {cls.__name__} record",
                f"missing {missing}, unknown {unknown}",
            )
        setting = SweepSetting(**{n: record[n] for n in setting_names if n in record})
        return cls(setting, **{f.name: record[f.name] for f in own if f.name in record})


@dataclasses.dataclass(frozen=True)
class SweepRow(_SettingRecord):
    """Statistics of one (setting, layer) over the setting's successful draws.

    ``pca_length_*`` summarise the 2-PC trajectory length; ``lower_bound`` is Theorem 4/5's
    bound with the nominal sigma_w^2 (as plotted in the paper), ``lower_bound_equiv`` with the
    sigma_w^2 of the equivalent N(0, sigma_w^2 / k) draw (the theorems' convention);
    ``seconds`` is the setting's run time. Statistics are NaN where no draw succeeded.

    Example:
        >>> row = SweepRow(SweepSetting("width", "ltc", "tanh"), layer=1, num_draws=2, num_ok=2)
        >>> row.to_dict()["model"], SweepRow.from_dict(row.to_dict()).num_ok
        ('ltc', 2)
    """

    setting: SweepSetting
    layer: int
    num_draws: int
    num_ok: int
    pca_length_mean: float = math.nan
    pca_length_std: float = math.nan
    pca_length_median: float = math.nan
    pca_length_min: float = math.nan
    pca_length_max: float = math.nan
    full_length_mean: float = math.nan
    explained_variance_2pc_mean: float = math.nan
    state_norm_mean: float = math.nan
    computational_depth_mean: float = math.nan
    computational_depth_std: float = math.nan
    computational_depth_median: float = math.nan
    rejected_steps_mean: float = math.nan
    lower_bound: float = math.nan
    lower_bound_equiv: float = math.nan
    seconds: float = math.nan


@dataclasses.dataclass(frozen=True)
class SweepExample(_SettingRecord):
    """The 2-D PCA projection of one (setting, layer)'s first successful draw, for the
    latent-trajectory plots (``projection``: ``T`` points ``[x, y]``, 4 significant digits)."""

    setting: SweepSetting
    layer: int
    pca_length: float
    projection: list[list[float]]


def as_record(row: SweepRow | SweepExample | Mapping[str, Any]) -> dict[str, Any]:
    """A sweep result as the flat dict written to disk (a mapping is copied as it is).

    Example:
        >>> as_record({"a": 1})
        {'a': 1}
    """
    return row.to_dict() if isinstance(row, _SettingRecord) else dict(row)


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
        check_choice("sweeps", sweep, tuple(PAPER_GRIDS))
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


class Draws(NamedTuple):
    """Per-draw measurements from :func:`simulate_draws` (``D`` draws).

    Attributes:
        pca_length, full_length, state_norm: ``(D, depth)`` per layer.
        explained_variance_ratio: ``(D, depth, 2)``.
        projection: ``(D, depth, T, 2)`` the 2-D PCA projections.
        computational_depth, num_accepted_steps, num_steps: ``(D,)`` of the joint solve.
        success: ``(D,)`` the solve succeeded and every length is finite.
    """

    pca_length: jax.Array
    full_length: jax.Array
    explained_variance_ratio: jax.Array
    projection: jax.Array
    state_norm: jax.Array
    computational_depth: jax.Array
    num_accepted_steps: jax.Array
    num_steps: jax.Array
    success: jax.Array


@functools.partial(jax.jit, static_argnames=("spec", "solver", "num_samples", "euler_substeps"))
def simulate_draws(
    spec: NetworkSpec,
    keys: jax.Array,
    sigma_w2,
    sigma_b2,
    activation_index,
    *,
    solver: Any = "rk45",
    num_samples: int = 100,
    euler_substeps: int = 10,
) -> Draws:
    """Draw and integrate ``len(keys)`` random networks (vmapped) and measure them.

    ``sigma_w2``, ``sigma_b2`` and ``activation_index`` (into ``ACTIVATIONS``, overriding
    ``spec.activation``) are traced: changing them does not recompile. ``solver`` is any
    solver or shorthand of :func:`~ltcjax.expressivity.solve_network` (static).

    Example:
        >>> spec = NetworkSpec("node", width=5)
        >>> keys = jax.random.split(jax.random.PRNGKey(0), 3)
        >>> simulate_draws(spec, keys, 2.0, 1.0, 0, num_samples=20).pca_length.shape
        (3, 1)
    """

    def one(key):
        params = init_random_network(key, spec, sigma_w2, sigma_b2, jnp.asarray(sigma_w2).dtype)
        sol = solve_network(
            spec,
            params,
            solver=solver,
            num_samples=num_samples,
            euler_substeps=euler_substeps,
            activation_index=activation_index,
        )
        layers = jnp.swapaxes(sol.states, 0, 1)  # (depth, T, k)
        tl = trajectory_length(layers)
        return Draws(
            pca_length=tl.pca_length,
            full_length=tl.full_length,
            explained_variance_ratio=tl.explained_variance_ratio,
            projection=tl.projection,
            state_norm=jnp.mean(jnp.linalg.norm(layers, axis=-1), axis=-1),
            computational_depth=sol.computational_depth,
            num_accepted_steps=sol.num_accepted_steps,
            num_steps=sol.num_steps,
            success=sol.success & jnp.all(jnp.isfinite(tl.full_length)),
        )

    return jax.vmap(one)(keys)


def group_key(seed: int, setting: SweepSetting) -> jax.Array:
    """The PRNG key of a setting's draws: common random numbers, the same draws for every
    model / activation / sigma / solver of a (width, depth) pair (stable across runs and
    Python versions).

    Example:
        >>> a = SweepSetting("width", "ltc", "tanh", width=10)
        >>> b = SweepSetting("solver", "node", "relu", width=10, solver="euler")
        >>> bool((group_key(0, a) == group_key(0, b)).all())
        True
    """
    tag = zlib.crc32(f"w{setting.width}-d{setting.depth}".encode())
    return jax.random.fold_in(jax.random.PRNGKey(seed), tag)


class _Summary(NamedTuple):
    mean: float
    std: float
    median: float
    min: float
    max: float


def _summary(x: np.ndarray) -> _Summary:
    if x.size == 0:
        return _Summary(*[math.nan] * 5)
    return _Summary(
        float(np.mean(x)), float(np.std(x)), float(np.median(x)), float(np.min(x)), float(np.max(x))
    )


def _rows_for(
    setting: SweepSetting, cfg: SweepConfig, draws: Draws, seconds: float
) -> tuple[list[SweepRow], list[SweepExample]]:
    ok = draws.success.astype(bool)
    depth = _summary(draws.computational_depth[ok])
    rejected = _summary((draws.num_steps - draws.num_accepted_steps)[ok].astype(float))
    dt = 2 * math.pi / (cfg.num_samples - 1)
    # The theorems use Raghu et al.'s N(0, sigma_w^2 / k) weights: a "code" draw with std
    # sigma_w is a "paper" draw with sigma_w^2 * k.
    # A "matlab" draw has standard deviation sigma_w^2: a "paper" draw with k sigma_w^4.
    scale = {"code": setting.width, "matlab": setting.width * setting.sigma_w2}.get(
        setting.weight_convention, 1
    )
    first_ok = int(np.argmax(ok)) if ok.any() else None
    rows, examples = [], []
    for layer in range(setting.depth):
        pca_len = _summary(draws.pca_length[ok, layer])
        state_norm = _summary(draws.state_norm[ok, layer]).mean

        def bound(sw2, layer=layer, state_norm=state_norm):
            return float(
                length_lower_bound(
                    setting.model,
                    sw2,
                    cfg.sigma_b2,
                    setting.width,
                    layer + 1,
                    depth.mean,
                    state_norm=state_norm,
                    dt=dt,
                )
            )

        rows.append(
            SweepRow(
                setting,
                layer=layer + 1,
                num_draws=int(ok.size),
                num_ok=int(ok.sum()),
                pca_length_mean=pca_len.mean,
                pca_length_std=pca_len.std,
                pca_length_median=pca_len.median,
                pca_length_min=pca_len.min,
                pca_length_max=pca_len.max,
                full_length_mean=_summary(draws.full_length[ok, layer]).mean,
                explained_variance_2pc_mean=_summary(
                    draws.explained_variance_ratio[ok, layer].sum(-1)
                ).mean,
                state_norm_mean=state_norm,
                computational_depth_mean=depth.mean,
                computational_depth_std=depth.std,
                computational_depth_median=depth.median,
                rejected_steps_mean=rejected.mean,
                lower_bound=bound(setting.sigma_w2),
                lower_bound_equiv=bound(setting.sigma_w2 * scale),
                seconds=seconds,
            )
        )
        if first_ok is not None:
            proj = draws.projection[first_ok, layer]
            examples.append(
                SweepExample(
                    setting,
                    layer=layer + 1,
                    pca_length=float(draws.pca_length[first_ok, layer]),
                    projection=[[float(f"{v:.4g}") for v in pt] for pt in proj],
                )
            )
    return rows, examples


def run_settings(
    settings: Sequence[SweepSetting],
    config: SweepConfig = SweepConfig(),
    progress: bool | Callable[[Iterable], Iterable] = True,
) -> tuple[list[SweepRow], list[SweepExample]]:
    """Run every setting and return ``(rows, examples)``.

    ``rows`` has one :class:`SweepRow` per (setting, layer) with summary statistics over the
    successful draws; ``examples`` one :class:`SweepExample` per (setting, layer) with the 2-D
    PCA projection of the first successful draw, for the latent-trajectory plots.

    Args:
        settings: the settings (see :func:`default_settings`).
        config: shared options.
        progress: show a tqdm bar (or pass a wrapper such as ``tqdm.tqdm``).

    Example:
        >>> s = [SweepSetting("width", "node", "tanh", width=4)]
        >>> rows, _ = run_settings(s, SweepConfig(num_draws=2, num_samples=10), progress=False)
        >>> rows[0].num_ok
        2
    """
    dtype = jnp.dtype(config.dtype)
    if dtype == jnp.float64 and not jax.config.jax_enable_x64:
        raise argument_error(
            "config.dtype",
            "'float32' unless jax.config.update('jax_enable_x64', True) was called",
            "'float64'",
        )
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
        conv = "matlab" if s.weight_convention == "matlab" else "code"  # "paper": rescaled
        spec = NetworkSpec(
            s.model, s.width, s.depth, s.activation, weight_convention=conv, ltc_decay=s.ltc_decay
        )
        sw2 = s.sigma_w2 / s.width if s.weight_convention == "paper" else s.sigma_w2
        keys = jax.random.split(group_key(config.seed, s), config.num_draws)
        t0 = time.perf_counter()
        draws = simulate_draws(
            spec.replace(activation=ACTIVATIONS[0]),
            keys,
            jnp.asarray(sw2, dtype),
            jnp.asarray(config.sigma_b2, dtype),
            jnp.asarray(ALL_ACTIVATIONS.index(s.activation), jnp.int32),
            solver=config.solver_for(s.solver),
            num_samples=config.num_samples,
            euler_substeps=config.euler_substeps,
        )
        draws = jax.tree_util.tree_map(np.asarray, draws)
        results[i] = _rows_for(s, config, draws, time.perf_counter() - t0)
    rows = [r for i in range(len(settings)) for r in results[i][0]]
    examples = [e for i in range(len(settings)) for e in results[i][1]]
    return rows, examples


def write_results(
    rows: Sequence[SweepRow | Mapping[str, Any]],
    out_dir: str | os.PathLike,
    examples: Sequence[SweepExample | Mapping[str, Any]] | None = None,
    config: SweepConfig | None = None,
    prefix: str = "sweep",
) -> dict[str, str]:
    """Write ``{prefix}.json`` (config + rows), ``{prefix}.csv`` and ``{prefix}_examples.json``.

    Rows and examples are written as flat records (:func:`as_record`).

    Returns:
        The written paths by kind (``"json"``, ``"csv"``, ``"examples"``).

    Example:
        >>> import tempfile
        >>> row = SweepRow(SweepSetting("width", "ltc", "tanh"), layer=1, num_draws=2, num_ok=2)
        >>> paths = write_results([row], tempfile.mkdtemp())
        >>> sorted(paths)
        ['csv', 'json']
    """
    os.makedirs(out_dir, exist_ok=True)
    paths = {
        "json": os.path.join(out_dir, f"{prefix}.json"),
        "csv": os.path.join(out_dir, f"{prefix}.csv"),
    }
    records = [as_record(r) for r in rows]
    meta = {"config": dataclasses.asdict(config) if config else None, "rows": records}
    with open(paths["json"], "w") as f:
        json.dump(meta, f, indent=1, allow_nan=True)
    fields: list[str] = []
    for r in records:
        fields += [k for k in r if k not in fields]
    with open(paths["csv"], "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(records)
    if examples is not None:
        paths["examples"] = os.path.join(out_dir, f"{prefix}_examples.json")
        with open(paths["examples"], "w") as f:
            json.dump([as_record(e) for e in examples], f, separators=(",", ":"))
    return paths


def read_results(path: str | os.PathLike) -> tuple[list[SweepRow], dict | None]:
    """Read a JSON written by :func:`write_results`: ``(rows, config)``.

    Example:
        >>> import tempfile, os
        >>> d = tempfile.mkdtemp()
        >>> row = SweepRow(SweepSetting("width", "ltc", "tanh"), layer=1, num_draws=2, num_ok=2)
        >>> _ = write_results([row], d, config=SweepConfig())
        >>> rows, config = read_results(os.path.join(d, "sweep.json"))
        >>> rows[0].setting == row.setting, config["rtol"]
        (True, 0.01)
    """
    with open(path) as f:
        data = json.load(f)
    return [SweepRow.from_dict(r) for r in data["rows"]], data.get("config")
