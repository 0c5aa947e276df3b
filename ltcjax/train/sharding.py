"""Data parallelism with ``jax.sharding``: a 1-D mesh over all devices, batch sharded along
its first axis, parameters and optimiser state replicated.

The same code runs on CPU, GPU and TPU; XLA inserts the gradient all-reduce. On several
hosts, call ``jax.distributed.initialize()`` at the start of every process (see
docs/training.md): the mesh then spans the devices of all processes, each process builds
the same global batch (same seed) and places, on each of its own devices, the rows that the
sharding assigns to that device (wherever the device sits in the mesh).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from ltcjax.custom_types import PyTree
from ltcjax.validation import argument_error

__all__ = [
    "DATA_AXIS",
    "batch_sharding",
    "check_batch_divisible",
    "data_mesh",
    "is_main_process",
    "replicate",
    "replicated_sharding",
    "shard_batch",
]

DATA_AXIS = "data"
#: A pytree of arrays whose first axis is the batch (a :class:`~ltcjax.data.Batch`, a dict).
BatchTree = TypeVar("BatchTree")


def data_mesh(devices: Sequence[jax.Device] | None = None) -> Mesh:
    """A 1-D mesh named ``"data"`` over ``devices`` (default: all devices of all processes).

    Example:
        >>> mesh = data_mesh()
        >>> mesh.axis_names, mesh.size == len(jax.devices())
        (('data',), True)
    """
    devices = list(jax.devices() if devices is None else devices)
    if not devices:
        raise argument_error("devices", "at least one device", "none")
    return Mesh(np.array(devices), (DATA_AXIS,))


def batch_sharding(mesh: Mesh) -> NamedSharding:
    """Sharding that splits an array's first (batch) axis across the mesh."""
    return NamedSharding(mesh, PartitionSpec(DATA_AXIS))


def replicated_sharding(mesh: Mesh) -> NamedSharding:
    """Sharding that keeps a full copy on every device."""
    return NamedSharding(mesh, PartitionSpec())


def check_batch_divisible(batch_size: int, mesh: Mesh | Any, name: str = "batch_size") -> None:
    """Raise a ValueError naming ``name`` unless ``batch_size`` divides evenly over the mesh.

    Example:
        >>> check_batch_divisible(8, data_mesh())  # fine on 1, 2, 4 or 8 devices
    """
    n = mesh.size
    if batch_size % n:
        raise ValueError(
            f"{name}: expected a multiple of the number of devices ({n}) of the data-parallel "
            f"mesh (e.g. {n * max(1, batch_size // n)}), or data parallelism off "
            f"(data_parallel=False); got {batch_size}, which is not divisible by {n}"
        )


def replicate(tree: PyTree, mesh: Mesh) -> PyTree:
    """Put every leaf of ``tree`` on all devices of ``mesh`` (replicated)."""
    return jax.device_put(tree, replicated_sharding(mesh))


def is_main_process() -> bool:
    """Whether this is process 0, the one that writes logs, plots, results and exports and
    prints progress (always true on a single host).

    Example:
        >>> is_main_process()
        True
    """
    return jax.process_index() == 0


def shard_batch(batch: BatchTree, mesh: Mesh) -> BatchTree:
    """Place a global batch (a pytree of NumPy arrays, the same on every process) sharded
    along its first axis; the result has ``batch``'s structure (None leaves stay None).

    Every process passes the full global batch; each of its devices receives exactly the
    rows the sharding assigns to it (:func:`jax.make_array_from_callback`). This holds for
    any order of the devices in the mesh, also when a process's devices are not one
    contiguous block of it, so single- and multi-host runs share one code path.

    Example:
        >>> import numpy as np
        >>> out = shard_batch({"x": np.arange(8.0).reshape(4, 2)}, data_mesh())
        >>> out["x"].shape, out["x"].sum().item()
        ((4, 2), 28.0)
    """
    sharding = batch_sharding(mesh)

    def place(value: np.ndarray) -> jax.Array:
        value = np.asarray(value)
        check_batch_divisible(value.shape[0], mesh)
        return jax.make_array_from_callback(value.shape, sharding, lambda index: value[index])

    return jax.tree.map(place, batch)
