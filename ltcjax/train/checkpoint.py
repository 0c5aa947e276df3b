"""Atomic training checkpoints with orbax-checkpoint.

A checkpoint holds the training state pytree (parameters, optimiser state, RNG key data,
step count, best-validation parameters) and a JSON document (epoch, data-iterator
position, history, configuration). Orbax writes each checkpoint into a temporary
directory ``<step>.orbax-checkpoint-tmp*`` and renames it to ``<step>`` only once every
file is written (the rename is atomic on POSIX file systems), so a process killed
mid-write leaves the previous checkpoint as the latest complete one. Stale temporary
directories are ignored, and removed when the next :class:`CheckpointStore` opens the
directory (orbax's ``cleanup_tmp_directories``, on the primary process), i.e. before a
resumed run's first save.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path
from typing import Any

import jax
import orbax.checkpoint as ocp

from ltcjax.custom_types import PyTree

__all__ = ["CheckpointStore"]

TMP_MARKER = ".orbax-checkpoint-tmp"


def _manager_options(max_to_keep: int) -> ocp.CheckpointManagerOptions:
    """Synchronous saves, ``max_to_keep``, and removal of stale temporary directories where
    this orbax has the option (it defaults to off)."""
    kwargs: dict[str, Any] = {
        "max_to_keep": max_to_keep,
        "create": True,
        "enable_async_checkpointing": False,
    }
    fields = {f.name for f in dataclasses.fields(ocp.CheckpointManagerOptions)}
    if "cleanup_tmp_directories" in fields:
        kwargs["cleanup_tmp_directories"] = True
    return ocp.CheckpointManagerOptions(**kwargs)


class CheckpointStore:
    """Save and restore (state, metadata) pairs under ``directory``, keeping the newest few.

    Args:
        directory: where the numbered checkpoint directories live (created if missing).
        max_to_keep: how many complete checkpoints to keep.

    Example:
        >>> import tempfile, jax.numpy as jnp
        >>> store = CheckpointStore(tempfile.mkdtemp())
        >>> store.save(3, {"w": jnp.ones(2)}, {"epoch": 1})
        >>> state, meta = store.restore(like={"w": jnp.zeros(2)})
        >>> state["w"].tolist(), meta["epoch"], store.latest_step()
        ([1.0, 1.0], 1, 3)
        >>> store.close()
    """

    def __init__(self, directory: str | Path, max_to_keep: int = 2) -> None:
        self.directory = Path(directory).absolute()
        options = _manager_options(max_to_keep)
        if not getattr(options, "cleanup_tmp_directories", False) and jax.process_index() == 0:
            # An orbax without the option: remove unfinished writes ourselves.
            for stale in self.directory.glob(f"*{TMP_MARKER}*"):
                shutil.rmtree(stale, ignore_errors=True)
        self._manager = ocp.CheckpointManager(self.directory, options=options)

    def latest_step(self) -> int | None:
        """The step of the newest complete checkpoint, or None."""
        self._manager.reload()
        return self._manager.latest_step()

    def all_steps(self) -> list[int]:
        """Steps of all complete checkpoints, oldest first."""
        self._manager.reload()
        return sorted(self._manager.all_steps())

    def save(self, step: int, state: PyTree, meta: dict[str, Any]) -> None:
        """Write a checkpoint for ``step`` (blocks until it is committed)."""
        self._manager.save(
            int(step),
            args=ocp.args.Composite(
                state=ocp.args.StandardSave(state), meta=ocp.args.JsonSave(meta)
            ),
            force=True,
        )
        self._manager.wait_until_finished()

    def restore(self, step: int | None = None, *, like: PyTree) -> tuple[PyTree, dict[str, Any]]:
        """Restore ``(state, meta)`` of ``step`` (default: the newest complete checkpoint).

        ``like`` is a pytree with the structure, shapes, dtypes and shardings to restore
        into (e.g. a freshly initialised state).
        """
        if step is None:
            step = self.latest_step()
            if step is None:
                raise FileNotFoundError(f"resume: no complete checkpoint in {self.directory}")
        abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, like)
        restored = self._manager.restore(
            int(step),
            args=ocp.args.Composite(
                state=ocp.args.StandardRestore(abstract), meta=ocp.args.JsonRestore()
            ),
        )
        return restored["state"], dict(restored["meta"])

    def close(self) -> None:
        """Release the manager's resources."""
        self._manager.close()
