"""Models by name, for configs, experiments and the command line.

Example:
    >>> from ltcjax.registry import make_cell, available_models
    >>> cell = make_cell("ltc", input_size=3, units=8)
    >>> "ltc" in available_models()
    True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ltcjax.cell import RecurrentCell
from ltcjax.lstm import LSTMCell
from ltcjax.ltc import LTCCell
from ltcjax.wirings import Wiring

CellFactory = Callable[..., RecurrentCell]
_REGISTRY: dict[str, CellFactory] = {}


def register(name: str, factory: CellFactory) -> None:
    """Register ``factory(input_size=..., units=..., **kwargs) -> cell`` under ``name``."""
    _REGISTRY[name] = factory


def available_models() -> tuple[str, ...]:
    """Registered model names."""
    return tuple(sorted(_REGISTRY))


def make_cell(name: str, *, input_size: int, units: int | Wiring, **kwargs: Any) -> RecurrentCell:
    """Build the cell registered as ``name``; ``units`` may be a wiring where supported."""
    if name not in _REGISTRY:
        raise ValueError(f"model: expected one of {available_models()}, got {name!r}")
    return _REGISTRY[name](input_size=input_size, units=units, **kwargs)


def _ltc(*, input_size: int, units: int | Wiring, **kwargs: Any) -> LTCCell:
    if isinstance(units, Wiring):
        return LTCCell(input_size=input_size, wiring=units, **kwargs)
    return LTCCell(input_size=input_size, units=units, **kwargs)


def _lstm(*, input_size: int, units: int | Wiring, **kwargs: Any) -> LSTMCell:
    if isinstance(units, Wiring):
        raise ValueError("units: the LSTM takes an integer number of units, not a wiring")
    return LSTMCell(units=units, input_size=input_size, **kwargs)


register("ltc", _ltc)
register("lstm", _lstm)
