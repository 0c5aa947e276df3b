"""The paper reproduction: the TF-code LTC, the paper's CT-GRU decay, the model settings,
several runs trained together (vmap) and the runner / command line (issue 14)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ltcjax import CTRNNCell
from ltcjax.data import make_synthetic
from ltcjax.experiment import (
    PAPER_MODELS,
    Budget,
    PaperCTGRUCell,
    paper_model,
    run_experiment,
    train_ensemble,
)
from ltcjax.experiment.cli import main as experiment_main
from ltcjax.experiment.runner import run_path
from ltcjax.models.ltc_tf import LTCTFCell
from ltcjax.train import SequenceModel, Task


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def tf_ltc_reference(p, v, x, unfolds=6):
    """The paper TF code's fused step written out from REFERENCE.md section 5: cm_t = cm,
    no epsilon, every neuron an output."""
    p = {k: np.asarray(val, np.float64) for k, val in p._asdict().items() if val is not None}
    u = x * p["input_w"] + p["input_b"]
    sa = p["sensory_w"] * sigmoid(p["sensory_sigma"] * (u[:, None] - p["sensory_mu"]))
    s_num, s_den = (sa * p["sensory_erev"]).sum(0), sa.sum(0)
    for _ in range(unfolds):
        a = p["w"] * sigmoid(p["sigma"] * (v[:, None] - p["mu"]))
        num = p["cm"] * v + p["gleak"] * p["vleak"] + (a * p["erev"]).sum(0) + s_num
        v = num / (p["cm"] + p["gleak"] + a.sum(0) + s_den)
    return v


def test_tf_ltc_equals_the_paper_code_update_and_ignores_dt():
    cell = LTCTFCell(input_size=3, units=5)
    params = cell.init(jax.random.key(1))
    # move the constants off their initial values so that cm and gleak matter
    params = params._replace(cm=params.cm * jnp.linspace(0.2, 3.0, 5), gleak=params.gleak * 0.3)
    xs = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)
    v = np.zeros(5)
    expected = []
    for x in xs:
        v = tf_ltc_reference(params, v, x)
        expected.append(v)
    for dt in (1.0, 0.25, 9.0):  # cm_t is per unfold: the elapsed time does not enter
        ys, _ = cell.apply(params, jnp.asarray(xs)[None], timespans=dt)
        np.testing.assert_allclose(ys[0], np.stack(expected), rtol=2e-5, atol=2e-6)
    # ncps's form with the same cm differs (cm / (dt / 6) is 6x cm at dt = 1)
    from ltcjax import LTCCell

    ncps = LTCCell(input_size=3, units=5, constraint="clip", output_mapping="none", epsilon=0.0)
    ys_ncps, _ = ncps.apply(params, jnp.asarray(xs)[None], timespans=1.0)
    assert not np.allclose(ys_ncps[0], np.stack(expected), atol=1e-3)


def test_tf_ltc_padding_init_and_clipping():
    cell = LTCTFCell(input_size=2, units=4)
    p = cell.init(jax.random.key(0))
    assert np.all(p.cm == 0.5) and np.all(p.gleak == 1.0) and p.output_w is None
    assert set(np.unique(np.asarray(p.erev))) <= {-1.0, 1.0}
    assert float(p.w.min()) >= 0.01
    v0 = jnp.full((1, 4), 0.3)
    v, _ = jax.jit(cell.step)(p, v0, jnp.ones((1, 2)), jnp.zeros((1,)))
    np.testing.assert_array_equal(v, v0)  # dt = 0: padding leaves the state
    wild = p._replace(cm=jnp.array([-1.0, 0.5, 2e3, 1e-9]), w=p.w.at[0, 0].set(5e3))
    q = jax.jit(cell.project)(wild)
    np.testing.assert_allclose(q.cm, [1e-6, 0.5, 1000.0, 1e-6])
    assert float(q.w[0, 0]) == 1000.0 and float(q.w.min()) >= 1e-5


def test_tf_ltc_rejects_other_solvers():
    with pytest.raises(ValueError, match="^solver: expected the fused solver"):
        LTCTFCell(input_size=1, units=2, solver="rk4")


def test_paper_ctgru_decays_by_exp_minus_one_over_ln_tau():
    cell = PaperCTGRUCell(input_size=1, units=2, num_scales=4)
    p = jax.tree.map(jnp.zeros_like, cell.init(jax.random.key(0)))  # q = tanh(0) = 0
    hh = jnp.arange(1.0, 9.0)  # (units * scales)
    step = jax.jit(cell.step)
    new, _ = step(p, hh, jnp.zeros(1), jnp.asarray(1.0))
    ln_tau = 0.5 * np.arange(4) * np.log(10.0)
    s = np.exp(-(ln_tau**2)) / np.exp(-(ln_tau**2)).sum()  # storage weights at logits 0
    decay = np.concatenate([[0.0], np.exp(-1.0 / ln_tau[1:])])  # ln tau_0 = 0: forgets all
    expected = (1 - s) * np.arange(1.0, 9.0).reshape(2, 4) * decay
    np.testing.assert_allclose(np.asarray(new).reshape(2, 4), expected, rtol=1e-5, atol=1e-7)
    same, _ = step(p, hh, jnp.zeros(1), jnp.asarray(0.0))  # dt = 0 keeps what is stored
    kept = (1 - s) * np.arange(1.0, 9.0).reshape(2, 4)
    np.testing.assert_allclose(np.asarray(same).reshape(2, 4), kept, rtol=1e-5)


def test_paper_model_settings():
    ctrnn, node = paper_model("ctrnn"), paper_model("node")
    assert ctrnn.elapsed == node.elapsed == pytest.approx(0.6)  # 6 steps of h = 0.1
    c = ctrnn.make(3)
    assert (c.units, c.tau, c.ode_unfolds, type(c.solver).__name__) == (32, 1.0, 6, "Euler")
    n = node.make(3)
    assert (n.units, n.ode_unfolds, type(n.solver).__name__) == (32, 6, "RK4")
    assert paper_model("ltc").is_ltc and paper_model("ltc_ncps").is_ltc
    assert not any(PAPER_MODELS[m].is_ltc for m in ("lstm", "ctrnn", "node", "ctgru"))
    assert isinstance(paper_model("ltc").make(3), LTCTFCell)
    with pytest.raises(ValueError, match="^model: expected one of"):
        paper_model("gru")


def _tiny():
    splits = make_synthetic(num_sequences=60, seq_len=5, seed=0)
    model = SequenceModel(cell=CTRNNCell(input_size=1, units=3), output_dim=1)
    task = Task(kind="regression", output_dim=1, sequence=True)
    kw = dict(epochs=2, batch_size=8, learning_rate=0.02, verbose=False)
    return splits, model, task, kw


def test_runs_trained_together_equal_runs_trained_alone(tmp_path):
    splits, model, task, kw = _tiny()
    together = train_ensemble(model, task, splits, seeds=(3, 5), **kw)
    for i, seed in enumerate((3, 5)):
        alone = train_ensemble(model, task, splits, seeds=(seed,), **kw)
        assert together.best_epoch[i] == alone.best_epoch[0]
        assert together.test[i]["mse"] == pytest.approx(alone.test[0]["mse"], rel=1e-5)
        jax.tree.map(
            lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6),
            together.best_params[i],
            alone.best_params[0],
        )
    assert together.test[0]["mse"] != together.test[1]["mse"]  # the seeds differ
    # an interrupted ensemble (1 epoch, checkpointed) resumes to the same result
    train_ensemble(model, task, splits, seeds=(3, 5), **{**kw, "epochs": 1}, out_dir=tmp_path)
    resumed = train_ensemble(model, task, splits, seeds=(3, 5), **kw, out_dir=tmp_path)
    assert [h["epoch"] for h in resumed.history[1]] == [1, 2]
    assert resumed.test == together.test


def test_runner_writes_json_skips_finished_runs_and_refuses_another_budget(tmp_path):
    splits = make_synthetic(num_sequences=40, seq_len=4, seed=1)
    info = SimpleNamespace(
        kind="regression",
        output_dim=1,
        sequence=True,
        class_weights=None,
        metric="mse",
        batch_size=8,
        learning_rate_ltc=0.01,
        learning_rate_baseline=0.001,
    )
    calls = []

    def loader(name):
        calls.append(name)
        return info, splits

    budget = Budget(epochs=1, max_train_batches=2, max_eval_windows=3)
    kw = dict(runs=2, budget=budget, out=tmp_path, loader=loader, verbose=False)
    results = run_experiment("toy", "ctrnn", **kw)
    assert calls == ["toy"] and [r["seed"] for r in results] == [0, 1]
    record = json.loads(run_path(tmp_path, "toy", "ctrnn", 1).read_text())
    assert record["budget"]["steps_per_epoch"] == 2 and record["evaluated_windows"]["test"] == 3
    assert record["split_sizes"]["train"] == len(splits.train)
    assert record["config"]["elapsed_per_step"] == pytest.approx(0.6)
    assert len(record["learning_curve"]) == 1 and record["test_metric"] == record["test"]["mse"]
    assert not (tmp_path / "checkpoints" / "toy" / "ctrnn" / "seeds_0-1").exists()
    assert run_experiment("toy", "ctrnn", **kw) == results and calls == ["toy"]  # skipped
    with pytest.raises(ValueError, match="^out: expected a directory whose toy/ctrnn runs"):
        run_experiment("toy", "ctrnn", **{**kw, "budget": Budget(epochs=2)})


def test_cli_run_and_table_on_tiny_cheetah_files(tmp_path, capsys):
    """``ltcjax experiment run`` then ``table`` at tiny size (cheetah-format files written
    here: the shared data is absent in CI clones)."""
    data = tmp_path / "data" / "cheetah"
    data.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(31):
        np.save(data / f"trace_{i:04d}.npy", rng.normal(size=(52, 17)))
    out = tmp_path / "out"
    args = [
        "run",
        "--task",
        "cheetah",
        "--model",
        "lstm",
        "--model",
        "ltc",
        "--runs",
        "2",
        "--epochs",
        "1",
        "--data-dir",
        str(tmp_path / "data"),
        "--out",
        str(out),
        "--loader-option",
        "verify=false",
        "--quiet",
    ]
    assert experiment_main(args) == 0
    for model in ("ltc",):
        for run in (0, 1):
            record = json.loads(run_path(out, "cheetah", model, run).read_text())
            assert record["metric"] == "mse" and np.isfinite(record["test_metric"])
            assert record["config"]["loader_options"] == {"verify": False}
    assert experiment_main(["table", "--out", str(out)]) == 0
    table = capsys.readouterr().out
    assert "| cheetah (mse) | LTC |" in table and "2.308 +- 0.015" in table
    assert (out / "TABLE.md").read_text().endswith(table.split("\n\n")[-1])


def test_cli_errors_name_the_option(capsys):
    assert experiment_main(["run", "--task", "nosuch"]) == 2
    assert "--task: expected one of" in capsys.readouterr().err
    assert experiment_main(["run", "--all", "--task", "gesture"]) == 2
    assert "--task: expected one or more --task, or --all" in capsys.readouterr().err
