"""Export a trained model for deployment with ``jax.export`` (serialized StableHLO).

:func:`export_model` writes three files into a directory:

* ``model.stablehlo``: the serialized inference function ``f(leaves, inputs, timespans)``
  with a symbolic batch and time axis (any batch size and sequence length);
* ``params.npz``: the parameter leaves ``leaf_0, leaf_1, ...`` in the function's order;
* ``manifest.json``: input size, output size, platforms and format version.

:func:`load_exported` needs only JAX and NumPy (not ltcjax's training code, its
dependencies Optax, Orbax or Flax, nor the model classes) and returns a callable
``(inputs, timespans=None) -> outputs``. This module imports nothing else at run time, so
it may also be copied alone into a deployment. ``ltcjax.train.export`` re-exports it
under its former name.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import export as jax_export

if TYPE_CHECKING:  # annotations only: loading needs just jax and numpy
    from jaxtyping import Array, ArrayLike, Float

    from ltcjax.custom_types import PyTree

__all__ = ["ExportedModel", "export_model", "load_exported"]

FORMAT_VERSION = 1


def _to_host(leaf: Any) -> np.ndarray:
    """A NumPy copy of ``leaf``; a replicated array spanning several processes (multi-host
    data parallelism) is read from this process's own copy."""
    if isinstance(leaf, jax.Array) and not leaf.is_fully_addressable:
        if not leaf.is_fully_replicated:
            raise ValueError(
                "params: expected replicated (or single-process) arrays, got an array "
                "sharded over several processes"
            )
        return np.asarray(leaf.addressable_data(0))
    return np.asarray(leaf)


def export_model(
    model: Any,
    params: PyTree,
    path: str | Path,
    *,
    platforms: Sequence[str] | None = None,
) -> Path:
    """Serialize ``model.apply`` with ``params`` into the directory ``path``.

    Args:
        model: a :class:`~ltcjax.train.SequenceModel` (anything with ``apply(params,
            inputs, timespans=)`` and ``input_size``).
        params: its parameters.
        path: output directory (created).
        platforms: lowering platforms, e.g. ``("cpu", "cuda", "tpu")`` for a portable
            artefact (default: the current backend).

    Returns:
        The directory.

    Example:
        >>> import jax, jax.numpy as jnp, tempfile
        >>> from ltcjax import LTCCell
        >>> from ltcjax.train import SequenceModel
        >>> from ltcjax.export import export_model, load_exported
        >>> model = SequenceModel(cell=LTCCell(input_size=2, units=4), output_dim=1)
        >>> params = model.init(jax.random.key(0))
        >>> d = export_model(model, params, tempfile.mkdtemp())
        >>> f = load_exported(d)
        >>> f(jnp.ones((3, 7, 2)), jnp.full((3, 7), 0.5)).shape
        (3, 7, 1)
    """
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    leaves, treedef = jax.tree.flatten(params)
    leaves = [_to_host(leaf) for leaf in leaves]

    def infer(flat, inputs, timespans):
        return model.apply(jax.tree.unflatten(treedef, flat), inputs, timespans=timespans)

    b, t = jax_export.symbolic_shape("b, t")
    f = model.input_size
    dtype = leaves[0].dtype if leaves else np.float32
    args = (
        [jax.ShapeDtypeStruct(leaf.shape, leaf.dtype) for leaf in leaves],
        jax.ShapeDtypeStruct((b, t, f), dtype),
        jax.ShapeDtypeStruct((b, t), dtype),
    )
    kwargs = {} if platforms is None else {"platforms": tuple(platforms)}
    # Host callbacks (the run-time value checks) cannot be serialized: trace without them.
    from ltcjax.validation import runtime_checks

    with runtime_checks(False):
        exported = jax_export.export(jax.jit(infer), **kwargs)(*args)
    (path / "model.stablehlo").write_bytes(exported.serialize())
    np.savez(path / "params.npz", **{f"leaf_{i}": leaf for i, leaf in enumerate(leaves)})
    out_shape = exported.out_avals[0].shape
    manifest = {
        "format_version": FORMAT_VERSION,
        "input_size": f,
        "output_size": int(out_shape[-1]),
        "return_sequences": len(out_shape) == 3,
        "num_leaves": len(leaves),
        "dtype": str(np.dtype(dtype)),
        "platforms": list(exported.platforms),
        "model": repr(model),
    }
    (path / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return path


class ExportedModel:
    """A loaded export: call it as ``model(inputs, timespans=None)``.

    Attributes:
        manifest: the export's ``manifest.json``.
        exported: the deserialized :class:`jax.export.Exported`.
        leaves: the parameter arrays.
    """

    def __init__(self, exported: jax_export.Exported, leaves: list[Array], manifest: dict):
        self.exported = exported
        self.leaves = leaves
        self.manifest = manifest

    def __call__(
        self,
        inputs: Float[ArrayLike, "batch time features"],
        timespans: Float[ArrayLike, "batch time"] | None = None,
    ) -> Array:
        dtype = np.dtype(self.manifest["dtype"])
        inputs = jnp.asarray(inputs, dtype)
        f = self.manifest["input_size"]
        if inputs.ndim != 3 or inputs.shape[-1] != f:
            raise ValueError(
                f"inputs: expected shape (batch, time, {f}), got {tuple(inputs.shape)}"
            )
        if timespans is None:
            timespans = jnp.ones(inputs.shape[:2], dtype)
        timespans = jnp.asarray(timespans, dtype)
        if timespans.shape != inputs.shape[:2]:
            raise ValueError(
                f"timespans: expected shape {tuple(inputs.shape[:2])}, got {tuple(timespans.shape)}"
            )
        return self.exported.call(self.leaves, inputs, timespans)


def load_exported(path: str | Path) -> ExportedModel:
    """Load a directory written by :func:`export_model` (no training code needed).

    Example:
        >>> # see export_model
    """
    path = Path(path)
    files = ("model.stablehlo", "params.npz", "manifest.json")
    missing = [name for name in files if not (path / name).is_file()]
    if missing:
        raise FileNotFoundError(f"path: {str(path)!r} lacks the exported files {missing}")
    manifest = json.loads((path / "manifest.json").read_text())
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ValueError(
            f"path: expected an export of format_version {FORMAT_VERSION}, got "
            f"format_version {manifest.get('format_version')!r}"
        )
    exported = jax_export.deserialize(bytearray((path / "model.stablehlo").read_bytes()))
    with np.load(path / "params.npz") as data:
        leaves = [jnp.asarray(data[f"leaf_{i}"]) for i in range(manifest["num_leaves"])]
    return ExportedModel(exported, leaves, manifest)
