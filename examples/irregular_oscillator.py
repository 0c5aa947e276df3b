"""Irregularly sampled damped oscillators: train an LTC with Diffrax's adaptive solver and with
the paper's fused step, and compare.

Each sequence is a damped oscillator ``x(t) = A exp(-zeta w t) cos(w_d t + phi)`` with its own
frequency, amplitude and phase, observed with noise at 32 random times in [0, 8] (every
sequence in a batch has its own time grid). The model reads the noisy observations and
predicts the clean position at each observation time (a continuous-time filtering task).

* fused: ``cell.apply(params, x, timespans=diff(times))`` (the paper's semi-implicit step,
  6 unfolds per interval);
* adaptive: ``ltcjax.continuous.odeint_sequence(cell, params, x, times, solver=Tsit5())``:
  one adaptive solve per sequence over its whole window, stepping exactly to each
  observation time; after training, its dense output gives the prediction between
  observations.

Both start from the same parameters and are trained with Adam for the same number of steps;
the script prints test MSE, wall time and the adaptive solver's steps per interval, and writes
``examples/irregular_oscillator.png``. Run ``python examples/irregular_oscillator.py``
(about a minute on a laptop CPU; ``--quick`` for a smoke test, ``--steps`` to train longer).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import diffrax
import jax
import jax.numpy as jnp
import matplotlib
import numpy as np
import optax

from ltcjax import DiffraxSolver, FullyConnected, LTCCell
from ltcjax.continuous import check_status, odeint_sequence

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

T_END = 8.0
FIGURE = Path(__file__).with_suffix(".png")


#: The adaptive whole-sequence solver of the comparison (a status per sequence on failure).
ADAPTIVE = DiffraxSolver(solver=diffrax.Tsit5(), rtol=1e-3, atol=1e-5, throw=False)


def oscillators(n, steps, seed, noise=0.1):
    """``(times (n, steps), noisy (n, steps, 1), clean (n, steps, 1), params (n, 4))``."""
    rng = np.random.default_rng(seed)
    times = np.sort(rng.uniform(0.0, T_END, (n, steps)), axis=1)
    times[:, 0] = 0.0
    theta = np.stack(
        [
            rng.uniform(0.5, 1.0, n),
            rng.uniform(1.5, 3.0, n),
            rng.uniform(0, 2 * np.pi, n),
            np.full(n, 0.08),
        ],
        axis=1,
    )
    clean = position(theta, times)
    noisy = clean + noise * rng.normal(size=clean.shape)
    return times.astype(np.float32), noisy[..., None].astype(np.float32), clean[..., None], theta


def position(theta, t):
    amp, omega, phase, zeta = (theta[:, i : i + 1] for i in range(4))
    omega_d = omega * np.sqrt(1 - zeta**2)
    return amp * np.exp(-zeta * omega * t) * np.cos(omega_d * t + phase)


def main(argv: list[str] | None = None) -> dict:
    """Parse the command line (``argv``; default ``sys.argv``) and :func:`run`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few steps, small data")
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--units", type=int, default=16)
    parser.add_argument("--out", default=str(FIGURE))
    args = parser.parse_args(argv)
    if args.quick:
        return run(steps=15, n_train=16, seq=16, units=args.units, out=args.out)
    return run(steps=args.steps, units=args.units, out=args.out)


def run(
    steps: int = 150,
    n_train: int = 64,
    seq: int = 32,
    units: int = 16,
    n_test: int = 32,
    out: str | Path = FIGURE,
) -> dict:
    """Train both models and write the figure to ``out``.

    Returns ``{name: dict(params, history, seconds, test_mse)}`` for ``"fused"`` and
    ``"adaptive (Tsit5)"`` (``history``: the training loss at every Adam step).

    Example (a smoke test, a few seconds)::

        results = run(steps=3, n_train=4, seq=6, units=4, n_test=2, out="/tmp/osc.png")
        results["fused"]["history"]  # 3 training losses
    """
    tr_t, tr_x, tr_y, _ = oscillators(n_train, seq, seed=0)
    te_t, te_x, te_y, te_theta = oscillators(n_test, seq, seed=1)
    cell = LTCCell(input_size=1, wiring=FullyConnected(units, output_dim=1))
    init = cell.init(jax.random.key(0))

    def predict_fused(params, x, t):
        gaps = jnp.diff(t, axis=1, prepend=t[:, :1])
        return cell.apply(params, x, timespans=gaps)[0]

    def predict_adaptive(params, x, t):
        sol = odeint_sequence(cell, params, x, t, solver=ADAPTIVE)
        return sol.outputs

    grid = np.linspace(0.0, T_END, 400, dtype=np.float32)  # dense-output query times
    optimizer = optax.adam(0.01)
    results = {}
    for name, predict in (("fused", predict_fused), ("adaptive (Tsit5)", predict_adaptive)):

        def loss(params, x, t, y, predict=predict):
            return jnp.mean((predict(params, x, t) - y) ** 2)

        @jax.jit
        def update(params, opt_state, x, t, y, loss=loss):
            value, grads = jax.value_and_grad(loss)(params, x, t, y)
            updates, opt_state = optimizer.update(grads, opt_state, params)
            return optax.apply_updates(params, updates), opt_state, value

        params, opt_state = init, optimizer.init(init)
        update(params, opt_state, tr_x, tr_t, tr_y)  # compile outside the timing
        history, start = [], time.perf_counter()
        for _ in range(steps):
            params, opt_state, value = update(params, opt_state, tr_x, tr_t, tr_y)
            history.append(float(value))
        elapsed = time.perf_counter() - start
        if predict is predict_fused:
            test = float(jax.jit(loss)(params, te_x, te_t, te_y))
        else:  # one solve gives the test predictions and the dense output between them
            dense = odeint_sequence(
                cell,
                params,
                te_x,
                te_t,
                solver=ADAPTIVE,
                query_times=grid,
            )
            check_status(dense)
            test = float(jnp.mean((dense.outputs - te_y) ** 2))
        results[name] = dict(params=params, history=history, seconds=elapsed, test_mse=test)
        print(f"{name:>17}: test MSE {test:.4f}, {steps} steps in {elapsed:.1f} s", flush=True)

    print(
        "adaptive solver, mean accepted steps per interval:",
        f"{float(np.mean(np.asarray(dense.steps_per_interval)[:, 1:])):.2f}",
    )

    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(11, 3.8))
    for name, r in results.items():
        ax0.plot(r["history"], label=f"{name}: test MSE {r['test_mse']:.3f}, {r['seconds']:.0f} s")
    ax0.set(xlabel="Adam step", ylabel="training MSE", yscale="log", title="training")
    ax0.legend(fontsize=8)
    ax1.plot(grid, position(te_theta[:1], grid[None])[0], "k-", lw=1, label="clean signal")
    ax1.plot(te_t[0], te_x[0, :, 0], "k.", ms=4, label="noisy observations")
    fused_pred = predict_fused(results["fused"]["params"], te_x[:1], te_t[:1])
    ax1.plot(te_t[0], fused_pred[0, :, 0], "o", mfc="none", label="fused, at observations")
    ax1.plot(
        grid, dense.query_outputs[0, :, 0], "-", lw=1.5, alpha=0.8, label="adaptive, dense output"
    )
    ax1.set(xlabel="t", title="a test sequence (irregular times)")
    ax1.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    print("wrote", out)
    return results


if __name__ == "__main__":
    main()
