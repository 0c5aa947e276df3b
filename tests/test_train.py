"""Tests of ltcjax.train: learning, best-validation protocol, checkpoints and resume,
constraints, losses and metrics, export, errors."""

from __future__ import annotations

import dataclasses
import json
import types

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ltcjax import CfCCell, LSTMCell, LTCCell
from ltcjax.data import make_synthetic
from ltcjax.models.ltc import PROJECTION_MINIMA
from ltcjax.train import (
    BestEpochTracker,
    CheckpointStore,
    ExistingRunError,
    RunDirectory,
    SequenceModel,
    Task,
    TrainConfig,
    Trainer,
    TrainState,
    check_batch_divisible,
    export_model,
    f1_score,
    fit,
    load_exported,
    mean_squared_error,
    mse,
    softmax_cross_entropy,
)

REG = Task(kind="regression", output_dim=1, sequence=True)


@pytest.fixture(scope="module")
def splits():
    return make_synthetic(num_sequences=48, seq_len=8, seed=0)


def _model(constraint="softplus", units=4):
    cell = LTCCell(input_size=1, units=units, constraint=constraint, ode_unfolds=2)
    return SequenceModel(cell=cell, output_dim=1)


def _leaves_equal(a, b) -> bool:
    la, lb = jax.tree.leaves(a), jax.tree.leaves(b)
    return len(la) == len(lb) and all(
        np.array_equal(np.asarray(x), np.asarray(y)) for x, y in zip(la, lb, strict=True)
    )


def test_loss_decreases_and_best_validation_params_are_tested():
    s = make_synthetic(num_sequences=64, seq_len=16, seed=0)
    config = TrainConfig(epochs=10, batch_size=8, learning_rate=0.05, progress=False)
    result = fit(_model(units=6), REG, s, config, verbose=False)
    losses = [r["train"]["loss"] for r in result.history]
    # Far below predicting 0 (the oscillator's mean square): the dynamics are learnt.
    assert losses[-1] < 0.5 * float(np.mean(s.train.targets**2))
    assert losses[-1] < 0.5 * losses[0]
    assert result.test["mse"] < 0.5 * float(np.mean(s.test.targets**2))
    valid = [r["valid"]["mse"] for r in result.history]
    assert result.best_epoch == int(np.argmin(valid)) + 1
    trainer = Trainer(_model(units=6), REG, config, 1)
    # The test metrics are those of the best-validation parameters ...
    np.testing.assert_allclose(
        trainer.evaluate(result.params, s.test)["mse"], result.test["mse"], rtol=1e-6
    )
    # ... which reproduce the best validation score.
    np.testing.assert_allclose(
        trainer.evaluate(result.params, s.valid)["mse"], min(valid), rtol=1e-6
    )


def test_classification_with_class_weights_learns(capsys):
    s = make_synthetic(num_sequences=64, seq_len=10, task="classification", seed=1)
    cell = LTCCell(input_size=2, units=4, ode_unfolds=2)
    model = SequenceModel(cell=cell, output_dim=2, return_sequences=False)
    task = Task(kind="classification", output_dim=2, class_weights=(1.0, 1.5), monitor="f1")
    config = TrainConfig(
        epochs=4,
        batch_size=16,
        learning_rate=0.05,
        grad_clip_norm=1.0,
        schedule="cosine",
        progress=True,
    )
    result = fit(model, task, s, config)
    assert result.history[-1]["train"]["loss"] < result.history[0]["train"]["loss"]
    assert {"loss", "accuracy", "f1", "macro_f1"} <= set(result.test)
    # The progress bar shows the running metrics, not only the loss.
    bars = capsys.readouterr().err
    assert "loss=" in bars and "accuracy=" in bars and "macro_f1=" in bars


def test_other_models_of_the_zoo_train(splits):
    model = SequenceModel(cell=LSTMCell(input_size=1, units=4), output_dim=1)
    result = fit(
        model, REG, splits, TrainConfig(epochs=1, batch_size=12, progress=False), verbose=False
    )
    assert np.isfinite(result.test["mse"])


def test_clip_constraint_projects_after_every_update(splits):
    from ltcjax.data import BatchIterator

    lr = 5.0
    config = TrainConfig(epochs=1, batch_size=12, learning_rate=lr, optimizer="sgd")
    model = _model("clip")
    trainer = Trainer(model, REG, config, 1)
    state = trainer.init_state()
    batch = trainer.place(next(BatchIterator(splits.train, 12, seed=0).epoch(0)))

    def loss(params):
        out = model.apply(params, batch.inputs, timespans=batch.timespans)
        return REG.loss(out, batch.targets, batch.weight)

    grads = jax.jit(jax.grad(loss))(state.params)  # compiled, as the train step's
    new_state, _ = trainer.train_step(state, batch)
    positive = ("w", "sensory_w", "cm", "gleak")
    for name in positive:
        raw = getattr(state.params["cell"], name) - lr * getattr(grads["cell"], name)
        np.testing.assert_allclose(
            getattr(new_state.params["cell"], name),
            jnp.maximum(raw, PROJECTION_MINIMA[name]),
            rtol=1e-5,
            atol=1e-7,
        )
    raws = [getattr(state.params["cell"], k) - lr * getattr(grads["cell"], k) for k in positive]
    assert min(float(jnp.min(r)) for r in raws) < 0  # the projection had work to do
    # Unconstrained fields are plain SGD.
    np.testing.assert_allclose(
        new_state.params["cell"].vleak,
        state.params["cell"].vleak - lr * grads["cell"].vleak,
        atol=1e-5,
    )


def test_early_stopping():
    s = make_synthetic(num_sequences=24, seq_len=4, seed=0)
    # An update far below float32 resolution: parameters, hence validation, never change.
    config = TrainConfig(
        epochs=6, batch_size=8, learning_rate=1e-30, optimizer="sgd", patience=2, progress=False
    )
    result = fit(_model(), REG, s, config, verbose=False)
    assert result.stopped_early and len(result.history) == 3 and result.best_epoch == 1


class Killed(Exception):
    pass


def _kill_at(step):
    def callback(event):
        if event["event"] == "step" and event["step"] == step:
            raise Killed

    return callback


def test_kill_and_resume_equals_uninterrupted_run(splits, tmp_path):
    kill_step = 13  # in epoch 3 (the crash test below covers an epoch boundary)
    # 36 training sequences / batch 8 = 5 steps per epoch; checkpoints every 2 steps too.
    config = TrainConfig(
        epochs=3, batch_size=8, learning_rate=0.05, progress=False, checkpoint_every_steps=2, seed=3
    )
    ref = fit(_model("clip"), REG, splits, config, out_dir=tmp_path / "ref", verbose=False)
    run = tmp_path / "run"
    with pytest.raises(Killed):
        fit(
            _model("clip"),
            REG,
            splits,
            config,
            out_dir=run,
            callbacks=[_kill_at(kill_step)],
            verbose=False,
        )
    # The killed run has its log and learning curves of the finished epochs (1 and 2).
    assert len((run / "metrics.jsonl").read_text().splitlines()) == 2
    assert (run / "learning_curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not (run / "result.json").exists()
    assert not [p.name for p in run.iterdir() if p.name.endswith(".tmp")]
    store = CheckpointStore(run / "checkpoints")
    assert store.latest_step() == 12  # mid-epoch: epoch 3, batch 2
    store.close()
    res = fit(_model("clip"), REG, splits, config, out_dir=run, resume=True, verbose=False)
    assert _leaves_equal(res.final_params, ref.final_params)
    assert _leaves_equal(res.params, ref.params)
    assert res.history == ref.history and res.test == ref.test
    lines = (run / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(x)["epoch"] for x in lines] == [1, 2, 3]
    assert (run / "learning_curves.png").stat().st_size > 0


def test_cfc_backbone_dropout_trains_with_checkpointed_keys_and_resumes_exactly(splits, tmp_path):
    from ltcjax.data import BatchIterator

    cell = CfCCell(input_size=1, units=4, backbone_layers=2, backbone_units=8, backbone_dropout=0.3)
    model = SequenceModel(cell=cell, output_dim=1)
    assert model.has_dropout and not _model().has_dropout
    # 36 training sequences / batch 12 = 3 steps per epoch; checkpoints every 2 steps too.
    config = TrainConfig(
        epochs=2, batch_size=12, learning_rate=0.02, progress=False, checkpoint_every_steps=2
    )
    trainer = Trainer(model, REG, config, 3)
    state = trainer.init_state()
    batch = trainer.place(next(BatchIterator(splits.train, 12, seed=0).epoch(0)))
    other = state._replace(rng=jax.random.key_data(jax.random.key(99)))
    loss = lambda stats: float(stats["loss_sum"] / stats["count"])  # noqa: E731
    # Training mode: the dropout masks come from the state's RNG ...
    train_a = loss(trainer.train_step(state, batch)[1])
    assert train_a == loss(trainer.train_step(state, batch)[1])
    assert train_a != loss(trainer.train_step(other, batch)[1])
    # ... evaluation is deterministic, without dropout.
    eval_a = loss(trainer.eval_step(state.params, batch))
    assert eval_a == loss(trainer.eval_step(state.params, batch))
    plain = model.apply(state.params, batch.inputs, timespans=batch.timespans)
    np.testing.assert_allclose(
        eval_a, float(REG.loss(plain, batch.targets, batch.weight)), rtol=1e-6
    )
    assert eval_a != train_a
    # Kill in epoch 2 (step 5; the last checkpoint is step 4) and resume: same run.
    ref = fit(model, REG, splits, config, verbose=False)
    run = tmp_path / "run"
    with pytest.raises(Killed):
        fit(model, REG, splits, config, out_dir=run, callbacks=[_kill_at(5)], verbose=False)
    res = fit(model, REG, splits, config, out_dir=run, resume=True, verbose=False)
    assert res.history[0]["step"] == 3
    assert _leaves_equal(res.final_params, ref.final_params)
    assert res.history == ref.history and res.test == ref.test


def test_crash_mid_checkpoint_write_keeps_previous_checkpoint(splits, tmp_path, monkeypatch):
    from orbax.checkpoint._src.path import atomicity

    config = TrainConfig(epochs=3, batch_size=12, learning_rate=0.05, progress=False)
    ref = fit(_model(), REG, splits, config, out_dir=tmp_path / "ref", verbose=False)

    # 3 steps per epoch: the checkpoint of epoch 2 (step 6) dies after its files are
    # written but before the commit (rename of the temporary directory).
    original = atomicity.AtomicRenameTemporaryPath.finalize

    async def crash(self):
        if "6.orbax-checkpoint-tmp" in str(self.get()):
            raise Killed("killed while writing")
        return await original(self)

    monkeypatch.setattr(atomicity.AtomicRenameTemporaryPath, "finalize", crash)
    run = tmp_path / "run"
    with pytest.raises(Killed):
        fit(_model(), REG, splits, config, out_dir=run, verbose=False)
    monkeypatch.setattr(atomicity.AtomicRenameTemporaryPath, "finalize", original)
    ckpt = run / "checkpoints"
    assert any(".orbax-checkpoint-tmp" in p.name for p in ckpt.iterdir())  # partial write
    # A second, corrupted partial directory (as if killed even earlier in the write).
    (ckpt / "9.orbax-checkpoint-tmp").mkdir()
    (ckpt / "9.orbax-checkpoint-tmp" / "garbage").write_bytes(b"\x00" * 10)
    store = CheckpointStore(ckpt)
    assert store.all_steps() == [3]
    store.close()
    res = fit(_model(), REG, splits, config, out_dir=run, resume=True, verbose=False)
    assert _leaves_equal(res.final_params, ref.final_params)
    assert res.history == ref.history
    assert not any(".orbax-checkpoint-tmp" in p.name for p in ckpt.iterdir())  # cleaned up


def test_only_process_zero_writes_logs_plots_results_and_prints(
    splits, tmp_path, monkeypatch, capsys
):
    import ltcjax.train.loop as loop

    config = TrainConfig(epochs=2, batch_size=12, progress=True)
    monkeypatch.setattr(loop, "is_main_process", lambda: False)  # as on process 1 of 2
    fit(_model(), REG, splits, config, out_dir=tmp_path)
    out, err = capsys.readouterr()
    assert out == "" and "epoch" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoints"]  # orbax's part only
    store = CheckpointStore(tmp_path / "checkpoints")
    assert store.latest_step() == 6
    store.close()
    monkeypatch.setattr(loop, "is_main_process", lambda: True)
    fit(_model(), REG, splits, config, out_dir=tmp_path / "p0")
    assert "epoch   2/2" in capsys.readouterr().out
    names = {p.name for p in (tmp_path / "p0").iterdir()}
    assert names == {"checkpoints", "metrics.jsonl", "learning_curves.png", "result.json"}


def test_stale_temporary_checkpoint_is_removed_by_the_next_store(tmp_path):
    store = CheckpointStore(tmp_path)
    store.save(1, {"w": jnp.ones(2)}, {"epoch": 1})
    store.close()
    # An unfinished write of a killed process (orbax names it <step>.orbax-checkpoint-tmp*).
    stale = tmp_path / "5.orbax-checkpoint-tmp-123"
    stale.mkdir()
    (stale / "garbage").write_bytes(b"\x00" * 10)
    store = CheckpointStore(tmp_path)
    assert store.latest_step() == 1  # ignored ...
    store.save(2, {"w": jnp.zeros(2)}, {"epoch": 2})
    store.close()
    assert not stale.exists()  # ... and gone after the next save
    assert sorted(p.name for p in tmp_path.iterdir()) == ["1", "2"]


def test_resume_guards(splits, tmp_path):
    config = TrainConfig(epochs=1, batch_size=12, progress=False)
    fit(_model(), REG, splits, config, out_dir=tmp_path, verbose=False)
    with pytest.raises(FileExistsError, match="out_dir"):
        fit(_model(), REG, splits, config, out_dir=tmp_path, verbose=False)
    with pytest.raises(ValueError, match="learning_rate"):
        fit(
            _model(),
            REG,
            splits,
            TrainConfig(epochs=1, batch_size=12, learning_rate=0.5),
            out_dir=tmp_path,
            resume=True,
            verbose=False,
        )
    with pytest.raises(ValueError, match="resume"):
        fit(_model(), REG, splits, config, resume=True, verbose=False)
    # More epochs may be added when resuming.
    res = fit(
        _model(),
        REG,
        splits,
        TrainConfig(epochs=2, batch_size=12, progress=False),
        out_dir=tmp_path,
        resume=True,
        verbose=False,
    )
    assert len(res.history) == 2
    # ... but not with a schedule that depends on the number of epochs.
    cosine = TrainConfig(epochs=1, batch_size=12, schedule="cosine", progress=False)
    fit(_model(), REG, splits, cosine, out_dir=tmp_path / "cos", verbose=False)
    with pytest.raises(ValueError, match="epochs=1 as in .*cosine.*, got epochs=2"):
        fit(
            _model(),
            REG,
            splits,
            dataclasses.replace(cosine, epochs=2),
            out_dir=tmp_path / "cos",
            resume=True,
            verbose=False,
        )


LOAD_WITHOUT_TRAINING_CODE = """
import sys
for name in ("optax", "orbax", "orbax.checkpoint", "flax", "flax.nnx", "matplotlib", "tqdm"):
    sys.modules[name] = None  # importing any of these now raises ImportError
import numpy as np
from ltcjax.export import load_exported

f = load_exported(sys.argv[1])
with np.load(sys.argv[2]) as io:
    np.save(sys.argv[3], np.asarray(f(io["x"], io["ts"])))
heavy = [m for m in sys.modules if m.startswith(("ltcjax.train.", "ltcjax.nn")) and sys.modules[m]]
assert heavy == [], heavy
"""


def test_export_round_trip_identical_outputs(splits, tmp_path):
    model = _model()
    params = model.init(jax.random.key(1))
    path = export_model(model, params, tmp_path / "export")
    loaded = load_exported(path)
    for b, t in [(3, 8), (5, 13)]:  # symbolic batch and time axes
        x = jax.random.normal(jax.random.key(b), (b, t, 1))
        ts = jax.random.uniform(jax.random.key(t), (b, t), minval=0.05, maxval=0.4)
        want = jax.jit(model.apply)(params, x, timespans=ts)
        np.testing.assert_array_equal(np.asarray(loaded(x, ts)), np.asarray(want))
    assert loaded.manifest["input_size"] == 1
    with pytest.raises(ValueError, match="inputs"):
        loaded(jnp.ones((2, 3, 4)))
    with pytest.raises(FileNotFoundError, match="path"):
        load_exported(tmp_path / "nothing")
    # Loading needs only jax and numpy: a fresh process without Optax, Orbax, Flax.
    import subprocess
    import sys

    x, ts = np.asarray(x), np.asarray(ts)
    np.savez(tmp_path / "io.npz", x=x, ts=ts)
    out = tmp_path / "y.npy"
    args = [sys.executable, "-c", LOAD_WITHOUT_TRAINING_CODE, str(path), str(tmp_path / "io.npz")]
    proc = subprocess.run([*args, str(out)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    np.testing.assert_array_equal(np.load(out), np.asarray(want))  # the last (b, t) above


def test_losses_and_metrics():
    logits = jnp.array([[2.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    labels = jnp.array([0, 1, 1])
    full = softmax_cross_entropy(logits, labels)
    # Padding rows (weight 0) do not change the loss.
    padded = softmax_cross_entropy(
        jnp.concatenate([logits, jnp.zeros((2, 2))]),
        jnp.array([0, 1, 1, 0, 0]),
        weights=jnp.array([1.0, 1, 1, 0, 0]),
    )
    np.testing.assert_allclose(padded, full, rtol=1e-6)
    ce = -jax.nn.log_softmax(logits)[jnp.arange(3), labels]
    cw = softmax_cross_entropy(logits, labels, class_weights=jnp.array([2.0, 0.5]))
    np.testing.assert_allclose(cw, (2 * ce[0] + 0.5 * ce[1] + 0.5 * ce[2]) / 3, rtol=1e-6)
    # predictions 0, 1, 0 against 0, 1, 1: class 1 has tp 1, fp 0, fn 1 -> F1 2/3
    np.testing.assert_allclose(f1_score(logits, labels), 2 / 3)
    # class 0: tp 1, fp 1, fn 0 -> F1 2/3 too
    np.testing.assert_allclose(f1_score(logits, labels, average="macro"), 2 / 3)
    y = jnp.ones((2, 3, 1))
    np.testing.assert_allclose(
        mean_squared_error(jnp.zeros_like(y), y, weights=jnp.array([[1.0, 1, 0], [0, 0, 0]])),
        1.0,
    )
    # mse is a deprecated alias of mean_squared_error (as a float).
    with pytest.warns(DeprecationWarning, match="mean_squared_error"):
        assert mse(jnp.zeros((2, 1)), jnp.array([[1.0], [3.0]])) == 5.0


@pytest.mark.usefixtures("without_runtime_typechecks")
def test_loss_arguments_of_the_wrong_shape_name_the_argument():
    logits = jnp.array([[2.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    labels = jnp.array([0, 1, 1])
    with pytest.raises(ValueError, match="labels"):
        softmax_cross_entropy(logits, labels[:2])
    with pytest.raises(ValueError, match="class_weights"):
        softmax_cross_entropy(logits, labels, class_weights=jnp.ones(3))


@pytest.mark.usefixtures("without_runtime_typechecks")
def test_bad_configs():
    with pytest.raises(ValueError, match="batch_size"):
        check_batch_divisible(6, types.SimpleNamespace(size=4))
    check_batch_divisible(8, types.SimpleNamespace(size=4))
    with pytest.raises(ValueError, match="batch_size"):
        TrainConfig(batch_size=0)
    with pytest.raises(ValueError, match="optimizer"):
        TrainConfig(optimizer="adagrad-x")
    with pytest.raises(ValueError, match="schedule"):
        TrainConfig(schedule="linear-x")
    with pytest.raises(ValueError, match="^learning_rate: expected a positive number, got 0"):
        TrainConfig(learning_rate=0)
    with pytest.raises(ValueError, match="^patience: expected a positive integer or None, got 0"):
        TrainConfig(patience=0)
    with pytest.raises(ValueError, match="^seed: expected an integer >= 0, got -1"):
        TrainConfig(seed=-1)  # the shuffling's NumPy generator needs seeds >= 0
    with pytest.raises(ValueError, match="^weight_decay: expected a number >= 0"):
        TrainConfig(weight_decay=-0.1)
    # NumPy integers are stored as ints: the config goes into JSON files.
    numpy_config = TrainConfig(epochs=np.int64(3), seed=np.int32(1))
    assert json.loads(json.dumps(numpy_config.to_dict()))["epochs"] == 3
    assert type(numpy_config.seed) is int
    with pytest.raises(ValueError, match="monitor"):
        Task(kind="regression", output_dim=1, monitor="accuracy")
    with pytest.raises(ValueError, match="class_weights"):
        Task(kind="classification", output_dim=3, class_weights=(1.0, 2.0))
    with pytest.raises(ValueError, match="output_dim"):
        Trainer(_model(), Task(kind="regression", output_dim=2, sequence=True), TrainConfig(), 1)
    with pytest.raises(ValueError, match="return_sequences"):
        Trainer(_model(), Task(kind="regression", output_dim=1), TrainConfig(), 1)
    s = make_synthetic(num_sequences=20, seq_len=4, task="classification", seed=0)
    with pytest.raises(ValueError, match="input_size"):
        fit(_model(), REG, s, TrainConfig(epochs=1), verbose=False)


HARD_KILL = """
import os, sys
from ltcjax import LTCCell
from ltcjax.data import make_synthetic
from ltcjax.train import SequenceModel, Task, TrainConfig, fit

def die(event):
    if event["event"] == "step" and event["step"] == 7:
        os._exit(9)  # no cleanup, like SIGKILL

splits = make_synthetic(num_sequences=48, seq_len=8, seed=0)
cell = LTCCell(input_size=1, units=4, constraint="clip", ode_unfolds=2)
model = SequenceModel(cell=cell, output_dim=1)
task = Task(kind="regression", output_dim=1, sequence=True)
config = TrainConfig(epochs=3, batch_size=8, learning_rate=0.05, progress=False,
                     checkpoint_every_steps=2, seed=3)
fit(model, task, splits, config, out_dir=sys.argv[1], callbacks=[die], verbose=False)
"""


def test_hard_killed_process_resumes_to_the_uninterrupted_result(splits, tmp_path):
    import subprocess
    import sys

    run = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, "-c", HARD_KILL, str(run)], capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 9, proc.stderr[-2000:]
    store = CheckpointStore(run / "checkpoints")
    assert store.latest_step() == 6  # mid-epoch 2 (5 steps per epoch)
    store.close()
    config = TrainConfig(
        epochs=3, batch_size=8, learning_rate=0.05, progress=False, checkpoint_every_steps=2, seed=3
    )
    res = fit(_model("clip"), REG, splits, config, out_dir=run, resume=True, verbose=False)
    ref = fit(_model("clip"), REG, splits, config, verbose=False)
    assert res.history[0]["step"] == 5 and len(res.history) == 3
    assert _leaves_equal(res.final_params, ref.final_params)
    assert res.history == ref.history and res.test == ref.test


@pytest.mark.parametrize("kind", ["classification", "regression"])
def test_epoch_statistics_agree_with_the_loss(kind):
    """Summed statistics give the batch loss, with per-step masks and padding rows."""
    k = jax.random.split(jax.random.key(0), 3)
    outputs = jax.random.normal(k[0], (6, 5, 3))
    weight = jnp.array([1.0, 1, 1, 1, 0, 0])
    mask = jax.random.bernoulli(k[2], 0.8, (6, 5))
    if kind == "classification":
        task = Task(kind=kind, output_dim=3, sequence=True, class_weights=(1.0, 2.0, 0.5))
        targets = jax.random.randint(k[1], (6, 5), 0, 3)
    else:
        task = Task(kind=kind, output_dim=3, sequence=True)
        targets = jax.random.normal(k[1], (6, 5, 3))
    stats = task.statistics(outputs, targets, weight, mask)
    np.testing.assert_allclose(
        stats["loss_sum"] / stats["count"], task.loss(outputs, targets, weight, mask), rtol=1e-6
    )
    assert float(stats["count"]) == float(jnp.sum(mask[:4]))
    if kind == "regression":
        assert task.metrics(stats)["mse"] == task.metrics(stats)["loss"]


def test_train_state_is_a_typed_pytree(splits):
    trainer = Trainer(_model(), REG, TrainConfig(batch_size=12), 3)
    state = trainer.init_state()
    assert isinstance(state, TrainState) and int(state.step) == 0
    assert _leaves_equal(state.params, state.best_params)
    doubled = jax.jit(lambda s: jax.tree.map(lambda x: x * 2, s))(state)
    assert isinstance(doubled, TrainState)  # jit keeps the type
    # A batch of the iterator is typed too, and placed batches keep its fields.
    from ltcjax.data import Batch, BatchIterator

    batch = trainer.place(next(BatchIterator(splits.train, 12).epoch(0)))
    assert isinstance(batch, Batch) and batch.mask is None
    assert isinstance(batch.inputs, jax.Array) and batch.inputs.shape == (12, 8, 1)


@pytest.mark.usefixtures("without_runtime_typechecks")
def test_best_epoch_tracker_improvement_patience_and_round_trip():
    tracker = BestEpochTracker(mode="max", patience=2)
    assert tracker.update(0.5, 1) and not tracker.should_stop
    assert not tracker.update(0.5, 2)  # equal is no improvement
    assert tracker.update(0.7, 3) and (tracker.best_epoch, tracker.best_value) == (3, 0.7)
    assert not tracker.update(0.6, 4) and not tracker.should_stop
    assert not tracker.update(0.1, 5) and tracker.should_stop  # 2 epochs without improvement
    # The progress survives the checkpoint's JSON metadata.
    resumed = BestEpochTracker(mode="max", patience=2)
    resumed.load_dict(json.loads(json.dumps(tracker.to_dict())))
    assert resumed == tracker and resumed.should_stop
    # A smaller value is better with mode="min"; without patience there is no stopping.
    lossy = BestEpochTracker(mode="min")
    assert [lossy.update(v, e) for e, v in enumerate([3.0, 2.0, 2.5], 1)] == [True, True, False]
    for epoch in range(4, 30):
        lossy.update(9.0, epoch)
    assert lossy.best_epoch == 2 and lossy.best_value == 2.0 and not lossy.should_stop
    with pytest.raises(ValueError, match="^mode: expected one of"):
        BestEpochTracker(mode="up")
    with pytest.raises(ValueError, match="^patience: expected a positive integer"):
        BestEpochTracker(patience=0)


def test_run_directory_refuses_an_existing_run_and_checks_resumes(tmp_path):
    config, model = TrainConfig(epochs=1, batch_size=12), _model()
    state = Trainer(model, REG, config, 3).init_state()
    with RunDirectory(tmp_path, config=config, model=model, task=REG) as run:
        assert run.restore(like=state) is None  # a new run
        run.save(state._replace(step=jnp.asarray(4, jnp.int32)), {"position": [1, 2]})
    with pytest.raises(ExistingRunError, match="^out_dir: .*pass resume=True") as info:
        RunDirectory(tmp_path, config=config, model=model, task=REG)
    assert info.value.path == tmp_path and isinstance(info.value, FileExistsError)
    with RunDirectory(tmp_path, config=config, model=model, task=REG, resume=True) as run:
        restored, meta = run.restore(like=state)
    assert isinstance(restored, TrainState) and int(restored.step) == 4
    assert _leaves_equal(restored.params, state.params) and meta["position"] == [1, 2]
    assert meta["config"] == config.to_dict() and meta["model"] == repr(model)
    other = dataclasses.replace(config, seed=5)
    with RunDirectory(tmp_path, config=other, model=model, task=REG, resume=True) as run:
        with pytest.raises(ValueError, match="^resume: expected seed=0 as in .*, got seed=5$"):
            run.restore(like=state)
    with RunDirectory(tmp_path, config=config, model=_model(units=5), task=REG, resume=True) as run:
        with pytest.raises(ValueError, match="^resume: expected the model of"):
            run.restore(like=state)
    with pytest.raises(ValueError, match="^resume: expected an out_dir"):
        RunDirectory(None, config=config, model=model, task=REG, resume=True)


def test_run_directory_writes_atomically_and_only_on_process_zero(tmp_path, monkeypatch):
    import ltcjax.train.atomic as atomic

    config, model = TrainConfig(epochs=2), _model()
    record = {"epoch": 1, "train": {"loss": 0.5}, "valid": {"loss": 0.6}, "best_epoch": 1}
    history = [record, {**record, "epoch": 2}]
    with RunDirectory(tmp_path / "p0", config=config, model=model, task=REG, writes=True) as run:
        run.write_history(history[:1])
        before = (run.path / "metrics.jsonl").read_bytes()

        def killed_before_rename(src, dst):
            raise Killed

        monkeypatch.setattr(atomic.os, "replace", killed_before_rename)
        with pytest.raises(Killed):
            run.write_history(history)
        with pytest.raises(Killed):
            run.write_result({"best_epoch": 1}, history)
        monkeypatch.undo()
        # The interrupted writes left the old file, no partial result and no temporary file.
        assert (run.path / "metrics.jsonl").read_bytes() == before
        names = sorted(p.name for p in run.path.iterdir())
        assert names == ["checkpoints", "learning_curves.png", "metrics.jsonl"]
        run.write_result({"best_epoch": 1}, history)
        result = json.loads((run.path / "result.json").read_text())
        assert result["best_epoch"] == 1 and result["config"] == config.to_dict()
    # Another process (writes=False) takes part in the checkpoints only.
    state = Trainer(model, REG, config, 3).init_state()
    with RunDirectory(tmp_path / "p1", config=config, model=model, task=REG, writes=False) as run:
        run.write_history(history)
        run.save(state, {})
        run.write_result({"best_epoch": 1}, history)
    assert sorted(p.name for p in (tmp_path / "p1").iterdir()) == ["checkpoints"]
    assert (tmp_path / "p1" / "checkpoints" / "0").is_dir()
