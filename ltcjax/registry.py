"""Models by name, for configs, experiments and the command line.

Registered: "ltc" (:class:`~ltcjax.LTCCell`), "ltc_tf" (the paper TF code's LTC,
:class:`~ltcjax.models.LTCTFCell`), "cfc" (:class:`~ltcjax.CfCCell`), "ctrnn"
(:class:`~ltcjax.CTRNNCell`), "node" (:class:`~ltcjax.ODERNNCell`), "ctgru"
(:class:`~ltcjax.CTGRUCell`) and "lstm" (:class:`~ltcjax.LSTMCell`). All share one
interface (:class:`~ltcjax.RecurrentCell`: ``init``/``step``/``apply`` with ``timespans``,
``mask``, ``lengths``), so a training loop switches model by name. "ltc" and "cfc" accept a
wiring as ``units``; the others raise a ValueError naming ``units``.

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
from ltcjax.models import CfCCell, CTGRUCell, CTRNNCell, LSTMCell, LTCCell, ODERNNCell
from ltcjax.models.ltc_tf import LTCTFCell
from ltcjax.wirings import Wiring

CellFactory = Callable[..., RecurrentCell]
_REGISTRY: dict[str, CellFactory] = {}


def register(name: str, factory: CellFactory) -> None:
    """Register ``factory(input_size=..., units=..., **kwargs) -> cell`` under ``name``
    (a cell class with those arguments, or a function)."""
    _REGISTRY[name] = factory


def available_models() -> tuple[str, ...]:
    """Registered model names."""
    return tuple(sorted(_REGISTRY))


def make_cell(name: str, *, input_size: int, units: int | Wiring, **kwargs: Any) -> RecurrentCell:
    """Build the cell registered as ``name``; ``units`` may be a wiring where supported.

    Example:
        >>> from ltcjax import AutoNCP
        >>> make_cell("cfc", input_size=2, units=AutoNCP(8, 1)).wiring.units
        8
        >>> make_cell("lstm", input_size=2, units=AutoNCP(8, 1))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: units: expected an integer number of units (LSTMCell takes no wiring), ...
    """
    if name not in _REGISTRY:
        raise ValueError(f"model: expected one of {available_models()}, got {name!r}")
    return _REGISTRY[name](input_size=input_size, units=units, **kwargs)


def _unwired(cls: type[RecurrentCell]) -> CellFactory:
    def factory(*, input_size: int, units: int | Wiring, **kwargs: Any) -> RecurrentCell:
        if isinstance(units, Wiring):
            raise ValueError(
                f"units: expected an integer number of units ({cls.__name__} takes no "
                f"wiring), got {units!r}"
            )
        return cls(units=units, input_size=input_size, **kwargs)

    return factory


register("ltc", LTCCell)
register("ltc_tf", LTCTFCell)
register("cfc", CfCCell)
register("ctrnn", _unwired(CTRNNCell))
register("node", _unwired(ODERNNCell))
register("ctgru", _unwired(CTGRUCell))
register("lstm", _unwired(LSTMCell))
