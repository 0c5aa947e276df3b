"""Helpers shared by the framework adapters."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from ltcjax.cell import RecurrentCell
from ltcjax.models.ltc import LTCCell
from ltcjax.wirings import Wiring


def make_ltc_cell(input_size: int, units: int | Wiring, **cell_kwargs: Any) -> LTCCell:
    """``LTCCell`` from ncps-style arguments: ``units`` is an int or a wiring."""
    if isinstance(units, Wiring):
        return LTCCell(input_size=input_size, wiring=units, **cell_kwargs)
    return LTCCell(input_size=input_size, units=units, **cell_kwargs)


def split_time_channel(
    cell: RecurrentCell, inputs: jax.Array, time_channel: bool
) -> tuple[jax.Array, jax.Array]:
    """Split ``inputs`` into features and elapsed time (last channel when ``time_channel``)."""
    expected = cell.input_size + (1 if time_channel else 0)
    if inputs.shape[-1] != expected:
        what = " plus one elapsed-time channel" if time_channel else ""
        raise ValueError(
            f"inputs: expected {cell.input_size} features{what} on the last axis, "
            f"got shape {tuple(inputs.shape)}"
        )
    if time_channel:
        return inputs[..., :-1], inputs[..., -1]
    return inputs, jnp.ones(inputs.shape[:-1], inputs.dtype)


def step_any_batch(cell: RecurrentCell, params: Any, carry: Any, x: jax.Array, dt: jax.Array):
    """``cell.step`` over any number of leading batch axes of ``x`` (and of ``carry``)."""
    batch_shape = x.shape[:-1]
    flat = lambda a: a.reshape(-1, *a.shape[len(batch_shape) :])  # noqa: E731
    step = cell.step_many
    carry, y = step(params, jax.tree.map(flat, carry), flat(x), dt.reshape(-1))
    unflat = lambda a: a.reshape(*batch_shape, *a.shape[1:])  # noqa: E731
    return jax.tree.map(unflat, carry), unflat(y)
