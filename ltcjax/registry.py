"""Models by name, for configs, experiments and the command line.

Registered: "ltc" (:class:`~ltcjax.ltc.LTCCell`), "cfc" (:class:`~ltcjax.cfc.CfCCell`),
"ctrnn" (:class:`~ltcjax.ctrnn.CTRNNCell`), "node" (:class:`~ltcjax.node.ODERNNCell`),
"ctgru" (:class:`~ltcjax.ctgru.CTGRUCell`) and "lstm" (:class:`~ltcjax.lstm.LSTMCell`). All
share one interface (``init``/``step``/``apply`` with ``timespans``, ``mask``,
``lengths``), so a training loop switches model by name. "ltc" and "cfc" accept a wiring as
``units``; the others raise a ValueError naming ``units``.

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
from ltcjax.cfc import CfCCell
from ltcjax.ctgru import CTGRUCell
from ltcjax.ctrnn import CTRNNCell
from ltcjax.lstm import LSTMCell
from ltcjax.ltc import LTCCell
from ltcjax.node import ODERNNCell
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


def _cfc(*, input_size: int, units: int | Wiring, **kwargs: Any) -> CfCCell:
    if isinstance(units, Wiring):
        return CfCCell(input_size=input_size, wiring=units, **kwargs)
    return CfCCell(input_size=input_size, units=units, **kwargs)


def _unwired(cls: type[RecurrentCell], label: str) -> CellFactory:
    def factory(*, input_size: int, units: int | Wiring, **kwargs: Any) -> RecurrentCell:
        if isinstance(units, Wiring):
            raise ValueError(f"units: the {label} takes an integer number of units, not a wiring")
        return cls(units=units, input_size=input_size, **kwargs)

    return factory


_lstm = _unwired(LSTMCell, "LSTM")

register("ltc", _ltc)
register("cfc", _cfc)
register("ctrnn", _unwired(CTRNNCell, "CT-RNN"))
register("node", _unwired(ODERNNCell, "ODE-RNN"))
register("ctgru", _unwired(CTGRUCell, "CT-GRU"))
register("lstm", _lstm)
