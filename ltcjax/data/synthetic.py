"""A built-in, irregularly sampled synthetic task: a driven, damped oscillator.

Each sequence observes a damped harmonic oscillator ``x'' + 2 zeta omega x' + omega^2 x =
omega^2 u`` at random times (elapsed times drawn per sequence and per step, so the
batch is genuinely irregular). The forcing ``u`` is held constant between observations and
changes level at random.

* ``task="regression"`` (sequence to sequence): input ``u`` (1 feature), target the
  position ``x`` at every observation, shape (N, T, 1). The response depends on the
  elapsed times, so a model that ignores them cannot fit it.
* ``task="classification"``: inputs ``u`` and a noisy observation of ``x`` (2 features),
  label 1 when the oscillator is underdamped (``zeta`` = 0.15) and 0 when it is heavily
  damped (``zeta`` = 1.2), shape (N,).

Everything is NumPy and deterministic for a seed.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from ltcjax.data.dataset import SequenceData, Splits
from ltcjax.data.windows import split_data
from ltcjax.validation import argument_error, check_choice, check_positive_int

__all__ = ["make_synthetic", "synthetic_oscillator"]

TASKS = ("regression", "classification")


def _simulate(
    u: np.ndarray, dt: np.ndarray, omega: float, zeta: np.ndarray, substeps: int = 8
) -> np.ndarray:
    """RK4-integrate the oscillator over each interval with the forcing held constant."""
    n, t = u.shape
    x = np.zeros(n)
    v = np.zeros(n)
    out = np.empty((n, t))

    def f(x, v, u_i):
        return v, omega**2 * (u_i - x) - 2.0 * zeta * omega * v

    for i in range(t):
        h = dt[:, i] / substeps
        for _ in range(substeps):
            k1x, k1v = f(x, v, u[:, i])
            k2x, k2v = f(x + 0.5 * h * k1x, v + 0.5 * h * k1v, u[:, i])
            k3x, k3v = f(x + 0.5 * h * k2x, v + 0.5 * h * k2v, u[:, i])
            k4x, k4v = f(x + h * k3x, v + h * k3v, u[:, i])
            x = x + h / 6 * (k1x + 2 * k2x + 2 * k3x + k4x)
            v = v + h / 6 * (k1v + 2 * k2v + 2 * k3v + k4v)
        out[:, i] = x
    return out


def synthetic_oscillator(
    *,
    num_sequences: int = 512,
    seq_len: int = 48,
    task: Literal["regression", "classification"] = "regression",
    noise: float = 0.05,
    min_dt: float = 0.05,
    max_dt: float = 0.4,
    seed: int = 0,
) -> SequenceData:
    """Generate the whole synthetic data set (see the module docstring).

    Args:
        num_sequences: number of sequences N.
        seq_len: observations per sequence T.
        task: "regression" (per-step position) or "classification" (damping class).
        noise: standard deviation of the observation noise on ``x`` (classification).
        min_dt, max_dt: elapsed times are drawn uniformly from this range.
        seed: seed of every draw.

    Example:
        >>> d = synthetic_oscillator(num_sequences=4, seq_len=10, seed=0)
        >>> d.inputs.shape, d.timespans.shape, d.targets.shape
        ((4, 10, 1), (4, 10), (4, 10, 1))
    """
    check_choice("task", task, TASKS)
    check_positive_int("num_sequences", num_sequences)
    check_positive_int("seq_len", seq_len)
    if not 0 <= min_dt <= max_dt:
        raise argument_error("min_dt, max_dt", "0 <= min_dt <= max_dt", f"{min_dt}, {max_dt}")
    rng = np.random.default_rng(seed)
    n, t = num_sequences, seq_len
    dt = rng.uniform(min_dt, max_dt, size=(n, t))
    # Forcing: a new random level with probability 0.25 at each observation.
    levels = rng.uniform(-1.0, 1.0, size=(n, t))
    change = rng.random((n, t)) < 0.25
    change[:, 0] = True
    idx = np.maximum.accumulate(np.where(change, np.arange(t), 0), axis=1)
    u = np.take_along_axis(levels, idx, axis=1)
    omega = 2.0 * np.pi / 2.0
    if task == "regression":
        x = _simulate(u, dt, omega, np.full(n, 0.2))
        return SequenceData(
            inputs=u[..., None].astype(np.float32),
            timespans=dt.astype(np.float32),
            targets=x[..., None].astype(np.float32),
        )
    labels = rng.integers(0, 2, size=n)
    zeta = np.where(labels == 1, 0.15, 1.2)
    x = _simulate(u, dt, omega, zeta) + noise * rng.standard_normal((n, t))
    return SequenceData(
        inputs=np.stack([u, x], axis=-1).astype(np.float32),
        timespans=dt.astype(np.float32),
        targets=labels.astype(np.int32),
    )


def make_synthetic(
    *,
    num_sequences: int = 512,
    seq_len: int = 48,
    task: Literal["regression", "classification"] = "regression",
    seed: int = 0,
    fractions: tuple[float, float, float] = (0.75, 0.10, 0.15),
    **kwargs: float,
) -> Splits:
    """The synthetic task split 75:10:15 (seeded) into train / valid / test.

    Extra keyword arguments go to :func:`synthetic_oscillator`.

    Example:
        >>> s = make_synthetic(num_sequences=40, seq_len=6, task="classification", seed=3)
        >>> s.train.inputs.shape, s.test.targets.shape
        ((30, 6, 2), (6,))
    """
    data = synthetic_oscillator(
        num_sequences=num_sequences, seq_len=seq_len, task=task, seed=seed, **kwargs
    )
    return split_data(data, fractions, seed)
