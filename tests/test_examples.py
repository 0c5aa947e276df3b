"""Smoke tests of the scripts in examples/ at tiny sizes (they must run and learn)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _load(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow  # ~19 s on the quiet 2-core CPU, mostly compiling the adaptive gradient
def test_irregular_oscillator_runs_learns_and_writes_its_figure(tmp_path):
    pytest.importorskip("optax")
    example = _load("irregular_oscillator")
    out = tmp_path / "oscillator.png"
    results = example.run(steps=8, n_train=8, seq=8, units=4, n_test=2, out=out)
    assert out.exists() and out.stat().st_size > 1000
    assert set(results) == {"fused", "adaptive (Tsit5)"}
    for name, r in results.items():
        history = np.asarray(r["history"])
        assert history.shape == (8,) and np.all(np.isfinite(history)), name
        assert history[-1] < history[0], (name, history)  # Adam on one batch: loss goes down
        assert np.isfinite(r["test_mse"]), name
