"""The model zoo: one file per model, each a :class:`~ltcjax.cell.RecurrentCell`.

==========  ==========================================  ===============================
module      cell                                        kind
==========  ==========================================  ===============================
``ltc``     :class:`LTCCell` (+ ``tau_sys``, bounds)     continuous time, fused solver
``ltc_tf``  :class:`LTCTFCell` (the paper's TF code)     continuous time, fused solver
``cfc``     :class:`CfCCell`                             closed form (ncps ``CfC``)
``ctrnn``   :class:`CTRNNCell`                           continuous time (paper baseline)
``node``    :class:`ODERNNCell`                          continuous time (paper baseline)
``ctgru``   :class:`CTGRUCell`                           decaying traces (paper baseline)
``lstm``    :class:`LSTMCell` (+ the mixed-memory LSTM)  discrete time (paper baseline)
==========  ==========================================  ===============================

``dense`` holds the ``tanh(W [x; h] + b)`` layer that the CT-RNN and ODE-RNN share.
"""

from ltcjax.models.cfc import CfCCell, CfCParams, lecun_tanh
from ltcjax.models.ctgru import CTGRUCell, CTGRUParams
from ltcjax.models.ctrnn import CTRNNCell, CTRNNParams
from ltcjax.models.lstm import LSTMCell, LSTMParams
from ltcjax.models.ltc import (
    LTCCell,
    LTCParams,
    project_params,
    state_bounds,
    tau_sys,
    tau_sys_bounds,
)
from ltcjax.models.ltc_tf import LTCTFCell
from ltcjax.models.node import ODERNNCell, ODERNNParams

__all__ = [
    "CfCCell",
    "CfCParams",
    "CTGRUCell",
    "CTGRUParams",
    "CTRNNCell",
    "CTRNNParams",
    "LSTMCell",
    "LSTMParams",
    "LTCCell",
    "LTCParams",
    "LTCTFCell",
    "ODERNNCell",
    "ODERNNParams",
    "lecun_tanh",
    "project_params",
    "state_bounds",
    "tau_sys",
    "tau_sys_bounds",
]
