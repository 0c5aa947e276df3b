"""``ltcjax train``: train a model of the zoo on a data set from the command line.

Example:
    >>> main(["--help"])  # doctest: +ELLIPSIS
    usage: ltcjax train ...
    0
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ltcjax.data.dataset import Splits, load_npz_splits
from ltcjax.data.synthetic import make_synthetic
from ltcjax.train.config import OPTIMIZERS, SCHEDULES
from ltcjax.validation import argument_error, check_choice, check_positive_int

__all__ = [
    "DATASETS",
    "FLAGS",
    "WIRED_MODELS",
    "WIRINGS",
    "build_cell",
    "load_dataset",
    "main",
    "run_command",
]

#: Data sets by name. The paper's data sets join this list as their loaders land.
DATASETS = ("synthetic", "synthetic-classification", "npz")
WIRINGS = ("fc", "ncp", "autoncp", "random")
#: Models that take a wiring (the others take only a number of units: ``--wiring fc``).
WIRED_MODELS = ("ltc", "cfc")
#: CfC mode aliases: "minimal" is the closed-form solution without the gate, ncps's "pure".
CFC_MODE_ALIASES = {"minimal": "pure"}
#: The option that sets each argument: an error names the option the user typed.
FLAGS = {
    **{
        name: "--" + name.replace("_", "-")
        for name in (
            "model dataset data_dir wiring units motor sparsity mode solver ode_unfolds "
            "constraint epochs batch_size optimizer schedule patience seed num_sequences "
            "seq_len resume"
        ).split()
    },
    "learning_rate": "--lr",
    "grad_clip_norm": "--grad-clip",
    "out_dir": "--out",
}


def run_command(
    prog: str,
    parser: argparse.ArgumentParser,
    run: Callable[[argparse.Namespace], int],
    argv: list[str] | None,
    flags: Mapping[str, str] | None = None,
) -> int:
    """Parse ``argv`` (default ``sys.argv[1:]``) with ``parser`` and return ``run(args)``;
    an argument error ends with ``prog: error: ...`` on stderr and exit code 2 (as argparse's
    own errors do). ``flags`` renames the argument an error message starts with to the
    option that sets it (``learning_rate: ...`` -> ``--lr: ...``).

    Example:
        >>> p = argparse.ArgumentParser(prog="demo")
        >>> _ = p.add_argument("--lr", type=float)
        >>> def run(args):
        ...     raise argument_error("learning_rate", "a positive number", args.lr)
        >>> run_command("demo", p, run, ["--lr", "-1"], {"learning_rate": "--lr"})
        2
    """
    try:
        args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    try:
        return run(args)
    except (ValueError, FileNotFoundError, FileExistsError) as err:
        name, sep, rest = str(err).partition(": ")
        message = f"{flags[name]}: {rest}" if flags and sep and name in flags else str(err)
        print(f"{prog}: error: {message}", file=sys.stderr)
        return 2


def load_dataset(
    name: str,
    *,
    data_dir: str | Path | None = None,
    seed: int = 0,
    num_sequences: int = 512,
    seq_len: int = 48,
) -> tuple[Splits, dict[str, Any]]:
    """Load a data set by name and describe its task.

    Returns ``(splits, task_kwargs)`` where ``task_kwargs`` builds a
    :class:`~ltcjax.train.Task` (``kind``, ``output_dim``, ``sequence``).

    * ``synthetic``: the irregularly sampled driven oscillator, per-step regression.
    * ``synthetic-classification``: its damping-class variant, per-sequence labels.
    * ``npz``: ``train.npz``, ``valid.npz``, ``test.npz`` in ``data_dir`` (see
      :func:`ltcjax.data.load_npz_splits`); integer targets mean classification
      ((N,) per sequence, (N, T) per step), float targets regression ((N, D) or (N, T, D)).

    Example:
        >>> splits, task = load_dataset("synthetic", num_sequences=20, seq_len=5)
        >>> task
        {'kind': 'regression', 'output_dim': 1, 'sequence': True}
    """
    check_choice("dataset", name, DATASETS)
    if data_dir is not None and not Path(data_dir).is_dir():
        raise FileNotFoundError(f"data_dir: directory {str(data_dir)!r} does not exist")
    if name == "synthetic":
        splits = make_synthetic(num_sequences=num_sequences, seq_len=seq_len, seed=seed)
        return splits, {"kind": "regression", "output_dim": 1, "sequence": True}
    if name == "synthetic-classification":
        splits = make_synthetic(
            num_sequences=num_sequences, seq_len=seq_len, seed=seed, task="classification"
        )
        return splits, {"kind": "classification", "output_dim": 2, "sequence": False}
    if data_dir is None:
        raise argument_error("data_dir", "the directory of the 'npz' data set", "None")
    splits = load_npz_splits(data_dir)
    targets = splits.train.targets
    if np.issubdtype(targets.dtype, np.integer):
        labels = [s.targets for s in (splits.train, splits.valid, splits.test) if s.targets.size]
        if min(int(t.min()) for t in labels) < 0:
            raise argument_error(
                "data_dir", "class labels >= 0 (integer targets)", "a negative label"
            )
        n_classes = int(max(int(t.max()) for t in labels))
        sequence = targets.ndim == 2
        return splits, {"kind": "classification", "output_dim": n_classes + 1, "sequence": sequence}
    if targets.ndim not in (2, 3):
        raise argument_error(
            "data_dir", "float targets of shape (N, D) or (N, T, D)", f"shape {targets.shape}"
        )
    return splits, {
        "kind": "regression",
        "output_dim": int(targets.shape[-1]),
        "sequence": targets.ndim == 3,
    }


def build_cell(
    model: str,
    *,
    input_size: int,
    units: int,
    wiring: str = "fc",
    motor: int | None = None,
    sparsity: float | None = None,
    seed: int = 0,
    **cell_kwargs: Any,
):
    """Build a cell of the zoo by name with a wiring by name (see ``ltcjax train --help``).

    ``fc`` and ``random`` read out every neuron; ``autoncp`` is ``AutoNCP(units, motor,
    sparsity)``; ``ncp`` is an NCP with ``motor`` motor neurons (default 1), 40% of the rest
    command and 60% inter neurons, and dense connections between consecutive layers.
    ``sparsity`` (default 0.5) is for ``random`` and ``autoncp`` only, ``motor`` for ``ncp``
    and ``autoncp`` only, and wirings other than ``fc`` for the models in
    :data:`WIRED_MODELS` only: anything else is a ValueError naming the option. For CfC,
    ``mode="minimal"`` is accepted as an alias of ``"pure"``.

    Example:
        >>> cell = build_cell("ltc", input_size=2, units=8, wiring="autoncp", motor=1)
        >>> cell.units, cell.output_size
        (8, 1)
        >>> build_cell("cfc", input_size=2, units=4, mode="minimal").mode
        'pure'
    """
    from ltcjax.registry import available_models, make_cell
    from ltcjax.wirings import NCP, AutoNCP, Random

    check_choice("model", model, available_models())
    check_choice("wiring", wiring, WIRINGS)
    check_positive_int("units", units)
    if wiring != "fc" and model not in WIRED_MODELS:
        raise argument_error(
            "wiring",
            f"'fc' for model {model!r} (only the models {WIRED_MODELS} take a wiring)",
            repr(wiring),
        )
    if motor is not None and wiring not in ("ncp", "autoncp"):
        raise argument_error(
            "motor",
            "None unless the wiring is ncp or autoncp (the ones with motor neurons)",
            f"{motor} with wiring {wiring!r}",
        )
    if sparsity is not None and wiring not in ("random", "autoncp"):
        raise argument_error(
            "sparsity",
            "None unless the wiring is random or autoncp (the ones with a sparsity)",
            f"{sparsity} with wiring {wiring!r}",
        )
    motor = 1 if motor is None else motor
    sparsity = 0.5 if sparsity is None else sparsity
    if model == "cfc" and cell_kwargs.get("mode") in CFC_MODE_ALIASES:
        cell_kwargs["mode"] = CFC_MODE_ALIASES[cell_kwargs["mode"]]
    if wiring == "fc":
        spec: Any = units
    elif wiring == "random":
        spec = Random(units, sparsity_level=sparsity, random_seed=seed)
    elif wiring == "autoncp":
        if motor >= units - 2:
            raise argument_error(
                "units", f"more than motor + 2 = {motor + 2} for the autoncp wiring", units
            )
        spec = AutoNCP(units, motor, sparsity_level=sparsity, seed=seed)
    else:
        rest = units - motor
        command = max(int(0.4 * rest), 1)
        inter = rest - command
        if inter < 1:
            raise argument_error(
                "units", f"more than motor + 1 = {motor + 1} for the ncp wiring", units
            )
        spec = NCP(inter, command, motor, inter, command, command, command, seed=seed)
    try:
        return make_cell(model, input_size=input_size, units=spec, **cell_kwargs)
    except TypeError as err:
        names = ", ".join(sorted(cell_kwargs)) or "(none)"
        raise argument_error(
            "model", f"a model that accepts the options {names}", f"{model!r} ({err})"
        ) from None


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="ltcjax train",
        usage="ltcjax train [options]",
        description="Train a model of the zoo on a data set: validation every epoch, test "
        "of the best-validation parameters, checkpoints (resumable), metrics.jsonl and "
        "learning_curves.png in --out.",
    )
    p.add_argument("--model", default="ltc", help="model name (ltc, lstm, ...); default ltc")
    p.add_argument("--dataset", default="synthetic", help=f"one of {DATASETS}")
    p.add_argument("--data-dir", default=None, help="directory of the data set's files")
    p.add_argument(
        "--wiring", default="fc", help=f"one of {WIRINGS} (models {WIRED_MODELS}); default fc"
    )
    p.add_argument("--units", type=int, default=16, help="number of neurons (default 16)")
    p.add_argument(
        "--motor", type=int, default=None, help="motor neurons of ncp/autoncp (default: outputs)"
    )
    p.add_argument(
        "--sparsity", type=float, default=None, help="random/autoncp sparsity (default 0.5)"
    )
    p.add_argument("--mode", default=None, help="CfC mode: default, no_gate, pure (alias minimal)")
    p.add_argument("--solver", default=None, help="ODE solver of the cell (e.g. fused, euler)")
    p.add_argument("--ode-unfolds", type=int, default=None, help="solver sub-steps")
    p.add_argument("--constraint", default=None, help="LTC positivity: softplus or clip")
    p.add_argument("--epochs", type=int, default=10, help="passes over the data (default 10)")
    p.add_argument(
        "--batch-size", type=int, default=16, help="sequences per training step (default 16)"
    )
    p.add_argument("--lr", type=float, default=0.01, help="learning rate (default 0.01)")
    p.add_argument("--optimizer", default="adam", help=f"one of {OPTIMIZERS} (default adam)")
    p.add_argument("--schedule", default="constant", help=f"one of {SCHEDULES} (default constant)")
    p.add_argument("--grad-clip", type=float, default=None, help="global-norm clipping")
    p.add_argument("--patience", type=int, default=None, help="early-stopping patience")
    p.add_argument("--seed", type=int, default=0, help="parameters and shuffling (default 0)")
    p.add_argument("--num-sequences", type=int, default=512, help="synthetic data size")
    p.add_argument("--seq-len", type=int, default=48, help="synthetic sequence length")
    p.add_argument("--out", default="runs/train", help="output directory (default runs/train)")
    p.add_argument("--resume", action="store_true", help="continue from --out's checkpoint")
    p.add_argument(
        "--data-parallel",
        choices=("auto", "on", "off"),
        default="auto",
        help="shard batches over all devices (default auto: when there are several)",
    )
    p.add_argument("--export", action="store_true", help="export the best model to OUT/export")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    return p


def main(argv: list[str] | None = None) -> int:
    """Run ``ltcjax train`` with ``argv`` (default ``sys.argv[1:]``); returns an exit code."""
    return run_command("ltcjax train", _parser(), _run, argv, FLAGS)


def _run(args: argparse.Namespace) -> int:
    import jax

    from ltcjax.registry import available_models
    from ltcjax.train.config import TrainConfig
    from ltcjax.train.loop import fit
    from ltcjax.train.model import SequenceModel
    from ltcjax.train.run_dir import ExistingRunError
    from ltcjax.train.sharding import is_main_process
    from ltcjax.train.task import Task

    primary = is_main_process()  # on several hosts only process 0 prints and exports

    check_choice("model", args.model, available_models())
    splits, task_kwargs = load_dataset(
        args.dataset,
        data_dir=args.data_dir,
        seed=args.seed,
        num_sequences=args.num_sequences,
        seq_len=args.seq_len,
    )
    task = Task(**task_kwargs)
    cell_kwargs: dict[str, Any] = {}
    for name in ("solver", "ode_unfolds", "constraint", "mode"):
        if getattr(args, name) is not None:
            cell_kwargs[name] = getattr(args, name)
    cell = build_cell(
        args.model,
        input_size=splits.train.num_features,
        units=args.units,
        wiring=args.wiring,
        motor=task.output_dim
        if args.motor is None and args.wiring in ("ncp", "autoncp")
        else args.motor,
        sparsity=args.sparsity,
        seed=args.seed,
        **cell_kwargs,
    )
    model = SequenceModel(cell=cell, output_dim=task.output_dim, return_sequences=task.sequence)
    data_parallel = {"auto": None, "on": True, "off": False}[args.data_parallel]
    config = TrainConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.lr,
        optimizer=args.optimizer,
        schedule=args.schedule,
        grad_clip_norm=args.grad_clip,
        patience=args.patience,
        seed=args.seed,
        data_parallel=data_parallel,
        progress=not args.no_progress,
    )
    out = Path(args.out)
    n_params = cell.num_params(model.init(jax.random.key(0))["cell"])
    if primary:
        print(
            f"ltcjax train: {args.model} ({args.wiring}, {args.units} units, {n_params} cell "
            f"parameters) on {args.dataset}: {len(splits.train)}/{len(splits.valid)}/"
            f"{len(splits.test)} train/valid/test sequences; output in {out}"
        )
    try:
        result = fit(model, task, splits, config, out_dir=out, resume=args.resume)
    except ExistingRunError as err:
        raise FileExistsError(
            f"--out: expected a directory without checkpoints, got {str(err.path)!r}, which "
            "holds a run's checkpoints; pass --resume to continue that run, or choose another "
            "--out"
        ) from None
    if not primary:
        return 0
    print(f"metrics log:     {out / 'metrics.jsonl'}")
    print(f"learning curves: {out / 'learning_curves.png'}")
    print(f"result:          {out / 'result.json'}")
    if args.export:
        from ltcjax.export import export_model

        path = export_model(model, result.params, out / "export")
        print(f"exported model:  {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
