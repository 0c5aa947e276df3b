"""Data parallelism with ``jax.sharding``: a 1-D mesh over all devices, batch sharded along
its first axis, parameters and optimiser state replicated.

The same code runs on CPU, GPU and TPU; XLA inserts the gradient all-reduce. On several
hosts, call ``jax.distributed.initialize()`` at the start of every process (see
docs/training.md): the mesh then spans the devices of all processes, each process builds
the same global batch (same seed) and contributes its own rows to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

__all__ = [
    "DATA_AXIS",
    "batch_sharding",
    "check_batch_divisible",
    "data_mesh",
    "replicate",
    "replicated_sharding",
    "shard_batch",
]

DATA_AXIS = "data"
PyTree = Any


def data_mesh(devices: Sequence[jax.Device] | None = None) -> Mesh:
    """A 1-D mesh named ``"data"`` over ``devices`` (default: all devices of all processes).

    Example:
        >>> mesh = data_mesh()
        >>> mesh.axis_names, mesh.size == len(jax.devices())
        (('data',), True)
    """
    devices = list(jax.devices() if devices is None else devices)
    if not devices:
        raise ValueError("devices: expected at least one device")
    return Mesh(np.array(devices), (DATA_AXIS,))


def batch_sharding(mesh: Mesh) -> NamedSharding:
    """Sharding that splits an array's first (batch) axis across the mesh."""
    return NamedSharding(mesh, PartitionSpec(DATA_AXIS))


def replicated_sharding(mesh: Mesh) -> NamedSharding:
    """Sharding that keeps a full copy on every device."""
    return NamedSharding(mesh, PartitionSpec())


def check_batch_divisible(batch_size: int, mesh: Mesh, name: str = "batch_size") -> None:
    """Raise a ValueError naming ``name`` unless ``batch_size`` divides evenly over the mesh.

    Example:
        >>> check_batch_divisible(8, data_mesh())  # fine on 1, 2, 4 or 8 devices
    """
    n = mesh.size
    if batch_size % n:
        raise ValueError(
            f"{name}: {batch_size} is not divisible by the number of devices ({n}) of the "
            f"data-parallel mesh; use a multiple of {n} (e.g. {n * max(1, batch_size // n)}) "
            "or turn data parallelism off (data_parallel=False)"
        )


def replicate(tree: PyTree, mesh: Mesh) -> PyTree:
    """Put every leaf of ``tree`` on all devices of ``mesh`` (replicated)."""
    return jax.device_put(tree, replicated_sharding(mesh))


def shard_batch(batch: dict[str, np.ndarray], mesh: Mesh) -> dict[str, jax.Array]:
    """Place a global batch (NumPy, same on every process) sharded along its first axis.

    Each process passes the full global batch and contributes its own contiguous block of
    rows, so single- and multi-host runs share one code path.

    Example:
        >>> import numpy as np
        >>> out = shard_batch({"x": np.zeros((4, 3))}, data_mesh())
        >>> out["x"].shape
        (4, 3)
    """
    sharding = batch_sharding(mesh)
    nproc = jax.process_count()
    out = {}
    for key, value in batch.items():
        value = np.asarray(value)
        check_batch_divisible(value.shape[0], mesh)
        if nproc == 1:
            out[key] = jax.device_put(value, sharding)
        else:
            rows = value.shape[0] // nproc
            pid = jax.process_index()
            local = value[pid * rows : (pid + 1) * rows]
            out[key] = jax.make_array_from_process_local_data(sharding, local, value.shape)
    return out
