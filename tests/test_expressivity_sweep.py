"""Sweeps (against direct solves), result files, figures and the command line."""

from __future__ import annotations

import csv
import json
import math
import os
import subprocess
import sys

import jax
import numpy as np
import pytest

from ltcjax.expressivity import (
    NetworkSpec,
    SweepConfig,
    SweepRow,
    SweepSetting,
    default_settings,
    group_key,
    init_random_network,
    length_lower_bound,
    network_solver,
    read_results,
    run_settings,
    solve_network,
    trajectory_length,
    write_results,
)
from ltcjax.expressivity.cli import build_parser, main
from ltcjax.expressivity.plots import plot_all
from ltcjax.solvers import Euler

RESULTS = os.path.join(os.path.dirname(__file__), "..", "experiments", "results", "expressivity")

CFG = SweepConfig(num_draws=3, num_samples=20, seed=7)


def test_sweep_rows_match_direct_solves():
    settings = [
        SweepSetting("width", "ltc", "relu", width=4, depth=2, sigma_w2=3.0,
                     weight_convention="paper"),
        SweepSetting("width", "ltc", "tanh", width=4, depth=2, sigma_w2=3.0),
        SweepSetting("width", "ltc", "htanh_matlab", width=4, depth=2, sigma_w2=3.0,
                     weight_convention="matlab"),
    ]  # fmt: skip
    rows, examples = run_settings(settings, CFG, progress=False)
    assert len(rows) == 6 and len(examples) == 6
    # "paper" is run via a reparametrisation; "matlab" draws (k, k) first-layer E_in
    # (the "matlab" LTC, linear in f, amplifies float32 rounding between the two compilations)
    for setting, rel in ((settings[0], 1e-3), (settings[2], 2e-2)):
        # Independent path: draw with the setting's own convention, solve, measure.
        spec = NetworkSpec("ltc", 4, 2, setting.activation,
                           weight_convention=setting.weight_convention)  # fmt: skip
        keys = jax.random.split(group_key(CFG.seed, setting), CFG.num_draws)
        lengths, depths, norms = [], [], []
        for key in keys:
            params = init_random_network(key, spec, setting.sigma_w2, CFG.sigma_b2)
            sol = solve_network(spec, params, num_samples=CFG.num_samples)
            assert bool(sol.success)
            tl = trajectory_length(np.swapaxes(np.asarray(sol.states), 0, 1))
            lengths.append(np.asarray(tl.pca_length))
            depths.append(float(sol.computational_depth))
            norms.append(np.linalg.norm(np.asarray(sol.states), axis=-1).mean(0))
        lengths = np.array(lengths)
        for layer in (1, 2):
            row = next(
                r for r in rows
                if r.setting.activation == setting.activation and r.layer == layer
            )  # fmt: skip
            assert row.num_ok == 3
            assert row.pca_length_mean == pytest.approx(lengths[:, layer - 1].mean(), rel=rel)
            assert row.pca_length_max == pytest.approx(lengths[:, layer - 1].max(), rel=rel)
            assert row.computational_depth_mean == pytest.approx(np.mean(depths), rel=rel)
            expected_bound = length_lower_bound(
                "ltc", setting.sigma_w2, 1.0, 4, layer, np.mean(depths),
                state_norm=np.mean(norms, axis=0)[layer - 1], dt=2 * np.pi / 19,
            )  # fmt: skip
            assert row.lower_bound == pytest.approx(float(expected_bound), rel=rel)


def test_default_settings_grid_and_errors():
    s = default_settings(["depth", "solver"], models=["node"], activations=["relu"])
    assert [x.depth for x in s[:5]] == [1, 2, 3, 4, 5] and all(x.width == 25 for x in s[:5])
    assert [x.solver for x in s[5:]] == ["rk45", "rk23", "tsit5", "kvaerno3", "euler"]
    with pytest.raises(ValueError, match="sweeps"):
        default_settings(["height"])
    with pytest.raises(ValueError, match="solver"):
        SweepSetting("x", "ltc", "tanh", solver="ode15s")
    with pytest.raises(ValueError, match="num_draws"):
        SweepConfig(num_draws=0)
    with pytest.raises(ValueError, match="norm"):
        SweepConfig(norm="l1")


def test_settings_keep_readable_solver_labels_and_the_config_gives_the_control():
    labels = [SweepSetting("solver", "ltc", "tanh", solver=s).solver
              for s in ("ode45", "dopri5", "ode23", "bosh3", Euler(), "kvaerno5")]  # fmt: skip
    assert labels == ["rk45", "rk45", "rk23", "rk23", "euler", "kvaerno5"]
    for bad in ("trbdf2", "tr-bdf2"):  # dropped: Diffrax has no TR-BDF2 (it meant Kvaerno3)
        with pytest.raises(ValueError, match="solver"):
            SweepSetting("solver", "ltc", "tanh", solver=bad)
    cfg = SweepConfig(rtol=1e-3, atol=1e-5, max_steps=777, norm="max", dtmax=0.25)
    assert cfg.solver_for("ode45") == network_solver(
        "rk45", rtol=1e-3, atol=1e-5, max_steps=777, norm="max", dtmax=0.25
    )
    assert cfg.solver_for("euler") == Euler()


def test_results_files_and_figures(tmp_path):
    # Same (model, width, depth, solver) group as above: no new compilation.
    settings = [
        SweepSetting("sigma_w2", "ltc", act, width=4, depth=2, sigma_w2=s)
        for act in ("hardtanh", "tanh")
        for s in (2.0, 8.0)
    ]
    rows, examples = run_settings(settings, CFG, progress=False)
    assert all(isinstance(r, SweepRow) for r in rows)
    paths = write_results(rows, tmp_path, examples, CFG)
    back, cfg = read_results(paths["json"])
    assert back == rows and cfg["num_draws"] == 3
    with open(paths["examples"]) as f:
        assert json.load(f) == [e.to_dict() for e in examples]
    with open(paths["csv"]) as f:
        csv_rows = list(csv.DictReader(f))
    assert float(csv_rows[0]["pca_length_mean"]) > 0
    assert len(rows) == 8 and len(csv_rows) == 8
    figs = plot_all(rows, examples, tmp_path, base={"width": 4, "depth": 2})
    names = sorted(p.split("/")[-1] for p in figs)
    assert "length_vs_sigma_w2.png" in names and "latent_trajectories.png" in names
    assert "bounds_vs_sigma_w2.png" in names and "computational_depth.png" in names
    assert all((tmp_path / n).stat().st_size > 1000 for n in names)


def test_cli_sweep_plot_and_errors(tmp_path, capsys):
    out = tmp_path / "res"
    # --dtmax takes effect: a maximum step of 0.05 on [0, 2 pi] forces >= 2 pi / 0.05 steps,
    # a computational depth >= 2 pi / 0.05 / 14 ~ 8.98 over 15 samples (without it this smooth
    # width-3 Neural ODE needs a few steps in total).
    argv = ["sweep", "--out", str(out), "--draws", "2", "--samples", "15", "--sweeps", "width",
            "--widths", "3", "--models", "node", "--activations", "tanh", "--quiet",
            "--base-width", "3", "--dtmax", "0.05"]  # fmt: skip
    assert main(argv) == 0
    assert (out / "sweep.csv").exists() and (out / "length_vs_width.png").exists()
    rows, cfg = read_results(out / "sweep.json")
    assert cfg["dtmax"] == 0.05 and rows[0].num_ok == 2
    assert rows[0].computational_depth_median >= 2 * np.pi / 0.05 / 14 - 1e-6
    assert main(["plot", "--results", str(out / "sweep.json"), "--out", str(tmp_path / "f")]) == 0
    assert (tmp_path / "f" / "length_vs_width.png").exists()
    assert main(["sweep", "--draws", "0", "--out", str(tmp_path / "bad"), "--quiet"]) == 2
    assert "num_draws" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["sweep", "--models", "gru"])


def test_python_dash_m_entry_point():
    res = subprocess.run(
        [sys.executable, "-m", "ltcjax.expressivity", "--help"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert res.returncode == 0
    assert "sweep" in res.stdout and "tau-trace" in res.stdout


def test_cli_sweep_passes_decay_dtmax_and_euler_substeps(tmp_path, monkeypatch):
    # Plumbing: the options reach the settings and the SweepConfig (no simulation).
    import ltcjax.expressivity.sweep as sweep_mod

    seen = {}

    def fake_run_settings(settings, config, progress=True):
        seen["settings"], seen["config"] = list(settings), config
        return [], []

    monkeypatch.setattr(sweep_mod, "run_settings", fake_run_settings)
    argv = ["sweep", "--out", str(tmp_path / "fake"), "--draws", "2", "--sweeps", "width",
            "--widths", "3", "5", "--activations", "tanh", "--ltc-decay", "abs", "signed",
            "--dtmax", "0.25", "--euler-substeps", "3", "--norm", "max", "--quiet",
            "--no-plots"]  # fmt: skip
    assert main(argv) == 0
    cfg = seen["config"]
    assert (cfg.dtmax, cfg.euler_substeps, cfg.norm) == (0.25, 3, "max")
    got = sorted((s.model, s.ltc_decay, s.width) for s in seen["settings"])
    # abs for all three models, signed for the LTC only (the other models have no decay term).
    expected = sorted(
        [(m, "abs", w) for m in ("ltc", "ctrnn", "node") for w in (3, 5)]
        + [("ltc", "signed", w) for w in (3, 5)]
    )
    assert got == expected
    defaults = build_parser().parse_args(["sweep"])
    assert (defaults.dtmax, defaults.euler_substeps, defaults.ltc_decay) == (None, 10, ["abs"])


def test_committed_results_read_back_to_the_same_records():
    # The on-disk format is unchanged: the committed results read into SweepRows and write
    # back to the same JSON records and CSV columns.
    with open(os.path.join(RESULTS, "sweep.json")) as f:
        raw = json.load(f)
    rows, cfg = read_results(os.path.join(RESULTS, "sweep.json"))
    assert cfg == raw["config"] and len(rows) == len(raw["rows"]) > 0
    for row, record in zip(rows, raw["rows"], strict=True):
        again = row.to_dict()
        assert list(again) == list(record)
        assert all(a == b or (math.isnan(a) and math.isnan(b)) for a, b in
                   zip(again.values(), record.values(), strict=True))  # fmt: skip
    with open(os.path.join(RESULTS, "sweep.csv")) as f:
        header = next(csv.reader(f))
    assert header == list(rows[0].to_dict())
    with pytest.raises(ValueError, match="record"):
        SweepRow.from_dict({**raw["rows"][0], "colour": "red"})


def test_package_main_is_a_deprecated_alias_of_the_cli():
    import ltcjax.expressivity as expressivity

    with pytest.warns(DeprecationWarning, match="ltcjax.expressivity.cli.main"):
        assert expressivity.main is main
