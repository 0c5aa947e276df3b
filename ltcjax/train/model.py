"""The trainable model: a recurrent cell followed by a linear (Dense) readout.

The paper puts a linear layer after the RNN; :class:`SequenceModel` pairs any cell of the
zoo with that readout, as a pure configuration object with ``init`` / ``apply`` over a
parameter pytree ``{"cell": ..., "readout": {"kernel": (O, D), "bias": (D,)}}``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Bool, Float

from ltcjax.cell import RecurrentCell
from ltcjax.custom_types import PyTree
from ltcjax.deprecation import warn_renamed

__all__ = ["SequenceModel", "project_cell_params"]


def project_cell_params(cell: RecurrentCell, params: PyTree) -> PyTree:
    """Deprecated: ``cell.project(params)`` (the cell's constraint projection).

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from ltcjax import LTCCell
        >>> cell = LTCCell(input_size=1, units=3, constraint="clip")
        >>> p = cell.init(jax.random.key(0))._replace(cm=-jnp.ones(3))
        >>> bool((cell.project(p).cm > 0).all())
        True
    """
    warn_renamed("ltcjax.train.project_cell_params(cell, params)", "cell.project(params)")
    return cell.project(params)


@dataclasses.dataclass(frozen=True, kw_only=True)
class SequenceModel:
    """A recurrent cell plus a linear readout from ``cell.output_size`` to ``output_dim``.

    Args:
        cell: any :class:`~ltcjax.cell.RecurrentCell` (LTC, LSTM, CfC, ...).
        output_dim: number of task outputs (classes for classification).
        return_sequences: output at every step (B, T, D), e.g. for sequence-to-sequence
            tasks, or only after the last valid step (B, D).

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from ltcjax import LTCCell, AutoNCP
        >>> model = SequenceModel(cell=LTCCell(input_size=2, wiring=AutoNCP(8, 2)), output_dim=3)
        >>> params = model.init(jax.random.key(0))
        >>> model.apply(params, jnp.ones((4, 5, 2)), timespans=jnp.full((4, 5), 0.1)).shape
        (4, 5, 3)
    """

    cell: RecurrentCell
    output_dim: int
    return_sequences: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.cell, RecurrentCell):
            raise ValueError(f"cell: expected an ltcjax RecurrentCell, got {type(self.cell)}")
        d = self.output_dim
        if isinstance(d, bool) or not isinstance(d, int) or d < 1:
            raise ValueError(f"output_dim: expected a positive integer, got {d!r}")

    @property
    def has_dropout(self) -> bool:
        """Whether the cell draws random numbers (dropout) when given a key."""
        return self.cell.is_stochastic

    @property
    def input_size(self) -> int:
        """Number of input features."""
        return self.cell.input_size

    def init(self, key: jax.Array, dtype: Any = jnp.float32) -> PyTree:
        """Initial parameters ``{"cell": ..., "readout": {"kernel", "bias"}}``."""
        k_cell, k_out = jax.random.split(key)
        kernel = jax.nn.initializers.glorot_uniform()(
            k_out, (self.cell.output_size, self.output_dim), dtype
        )
        return {
            "cell": self.cell.init(k_cell),
            "readout": {"kernel": kernel, "bias": jnp.zeros((self.output_dim,), dtype)},
        }

    def apply(
        self,
        params: PyTree,
        inputs: Float[ArrayLike, "batch time features"],
        *,
        timespans: Float[ArrayLike, "batch time"] | float | None = None,
        mask: Bool[ArrayLike, "batch time"] | None = None,
        dropout_key: jax.Array | None = None,
    ) -> Float[Array, "batch time out"] | Float[Array, "batch out"]:
        """Outputs (B, T, D) if ``return_sequences`` else (B, D); logits for classification.

        ``dropout_key`` turns on the cell's dropout (training mode), for cells that have it
        (e.g. :class:`~ltcjax.CfCCell` with ``backbone_dropout > 0``); it is ignored by
        cells without dropout. Without it the model is deterministic (evaluation mode).

        Example:
            >>> import jax, jax.numpy as jnp
            >>> from ltcjax import CfCCell
            >>> cell = CfCCell(input_size=1, units=4, backbone_layers=2, backbone_dropout=0.5)
            >>> model = SequenceModel(cell=cell, output_dim=1)
            >>> p, x = model.init(jax.random.key(0)), jnp.ones((2, 3, 1))
            >>> a = model.apply(p, x, dropout_key=jax.random.key(1))
            >>> b = model.apply(p, x, dropout_key=jax.random.key(2))
            >>> bool(jnp.any(a != b)), bool(jnp.all(model.apply(p, x) == model.apply(p, x)))
            (True, True)
        """
        ys, _ = self.cell.apply(
            params["cell"],
            inputs,
            timespans=timespans,
            mask=mask,
            return_sequences=self.return_sequences,
            key=dropout_key,
        )
        readout = params["readout"]
        return ys @ readout["kernel"] + readout["bias"]

    def project(self, params: PyTree) -> PyTree:
        """Project the cell's parameters onto its constraint set (see
        :func:`project_cell_params`); the readout is unconstrained."""
        return {**params, "cell": self.cell.project(params["cell"])}
