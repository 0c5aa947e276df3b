"""The paper's five models (Table 3) with the settings of its TensorFlow code.

One RNN layer of 32 units and a Dense readout (at every step, or after the last step for
sMNIST); Adam with the learning rate of the task (LTC 0.01, 0.005 for occupancy and sMNIST;
baselines 0.001). Per model (``../shared/REFERENCE.md`` sections 4 and 5):

==========  =====================================================================  ==========
name        cell                                                                   elapsed
==========  =====================================================================  ==========
lstm        :class:`~ltcjax.LSTMCell` (forget bias 1)                              ignored
ctrnn       :class:`~ltcjax.CTRNNCell`, tau 1, explicit Euler, 6 unfolds            0.6
node        :class:`~ltcjax.ODERNNCell`, RK4, 6 unfolds                             0.6
ctgru       :class:`PaperCTGRUCell` (8 scales, the TF code's decay)                1
ltc         :class:`~ltcjax.models.ltc_tf.LTCTFCell` (the TF code's LTC)            1
ltc_ncps    :class:`~ltcjax.LTCCell` (ncps's LTC: softplus, ncps initialisation)    1
==========  =====================================================================  ==========

"elapsed" is the time each observation advances the ODE: the paper's code takes 6 solver
steps of h = 0.1 per observation for the CT-RNN and the Neural ODE (so 0.6), and the LTC's
6 fused unfolds per observation (ncps form: dt = 1 split into 6; TF form: independent of dt).

Known deviations from the TF code: the Neural ODE's ``cell_clip`` of 10 (traffic, power)
is not applied; the LSTM's input bias is ncps's U(-0.1, 0.1) instead of TF's zeros.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from ltcjax.cell import RecurrentCell
from ltcjax.models import CTGRUCell, CTRNNCell, LSTMCell, LTCCell, ODERNNCell
from ltcjax.models.ltc_tf import LTCTFCell
from ltcjax.validation import check_choice

__all__ = ["PAPER_MODELS", "PaperCTGRUCell", "PaperModel", "paper_model"]

#: Hidden units of every model in the paper's experiments.
UNITS = 32


@dataclasses.dataclass(frozen=True, kw_only=True)
class PaperCTGRUCell(CTGRUCell):
    """The paper TF code's CT-GRU: trace k decays by ``exp(-1 / ln tau_k)`` per observation
    (``dt = 1``) instead of Mozer et al.'s ``exp(-dt / tau_k)``; ``ln tau_0 = 0`` makes the
    first trace forget everything at every step.

    It is :class:`~ltcjax.CTGRUCell` with ``time_scales`` replaced by ``ln tau_k`` (the
    retrieval and storage weights still use ``ln tau_k``, as in both).

    Example:
        >>> import numpy as np
        >>> cell = PaperCTGRUCell(input_size=1, units=2, num_scales=3)
        >>> np.exp(-1 / cell.time_scales).round(3).tolist()
        [0.0, 0.42, 0.648]
    """

    @property
    def time_scales(self) -> np.ndarray:
        """``ln tau_k`` (``k = 0``: a tiny positive value, so that ``dt = 0`` still keeps
        the state and ``dt = 1`` forgets it)."""
        return np.maximum(self.log_time_scales, 1e-30)


@dataclasses.dataclass(frozen=True)
class PaperModel:
    """A model of the paper's tables.

    Attributes:
        name: the name on the command line.
        label: the column of the paper's tables.
        make: ``make(input_size) -> cell``.
        is_ltc: takes the LTC's learning rate (else the baselines').
        elapsed: the elapsed time of one observation (the timespans the cell sees).
        description: what the cell is (for the tables and the report).
    """

    name: str
    label: str
    make: Callable[[int], RecurrentCell]
    is_ltc: bool
    elapsed: float
    description: str


PAPER_MODELS: dict[str, PaperModel] = {
    m.name: m
    for m in (
        PaperModel(
            "lstm",
            "LSTM",
            lambda f: LSTMCell(units=UNITS, input_size=f),
            False,
            1.0,
            "LSTM, 32 units, forget bias 1",
        ),
        PaperModel(
            "ctrnn",
            "CT-RNN",
            lambda f: CTRNNCell(input_size=f, units=UNITS, tau=1.0, solver="euler", ode_unfolds=6),
            False,
            0.6,
            "CT-RNN, tau 1, Euler 6 x 0.1",
        ),
        PaperModel(
            "node",
            "Neural ODE",
            lambda f: ODERNNCell(input_size=f, units=UNITS, solver="rk4", ode_unfolds=6),
            False,
            0.6,
            "ODE-RNN, RK4 6 x 0.1",
        ),
        PaperModel(
            "ctgru",
            "CT-GRU",
            lambda f: PaperCTGRUCell(input_size=f, units=UNITS),
            False,
            1.0,
            "CT-GRU, 8 scales, TF decay exp(-1/ln tau)",
        ),
        PaperModel(
            "ltc",
            "LTC",
            lambda f: LTCTFCell(input_size=f, units=UNITS),
            True,
            1.0,
            "LTC, paper TF parameterisation (cm_t, clip, fused 6 unfolds)",
        ),
        PaperModel(
            "ltc_ncps",
            "LTC (ncps)",
            lambda f: LTCCell(input_size=f, units=UNITS),
            True,
            1.0,
            "LTC, ncps parameterisation (softplus, ncps init, fused 6 unfolds)",
        ),
    )
}

#: The five models of Table 3 (the LTC in the paper's TF parameterisation).
TABLE_MODELS = ("lstm", "ctrnn", "node", "ctgru", "ltc")


def paper_model(name: str) -> PaperModel:
    """The :class:`PaperModel` called ``name``.

    Example:
        >>> paper_model("ctrnn").make(3).ode_unfolds
        6
    """
    check_choice("model", name, tuple(PAPER_MODELS))
    return PAPER_MODELS[name]


__all__ += ["TABLE_MODELS", "UNITS"]
