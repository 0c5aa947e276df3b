"""ltcjax: Liquid Time-constant Networks in JAX.

Pure cells (configuration objects with ``init`` / ``step`` / ``apply``) over parameter
pytrees, ncps-compatible wirings, and thin Flax NNX / Linen and Equinox modules.

Example:
    >>> import jax, jax.numpy as jnp
    >>> import ltcjax
    >>> cell = ltcjax.LTCCell(input_size=3, wiring=ltcjax.AutoNCP(16, 2))
    >>> params = cell.init(jax.random.key(0))
    >>> ys, state = cell.apply(params, jnp.ones((4, 10, 3)))
    >>> ys.shape
    (4, 10, 2)
"""

from ltcjax.cell import RecurrentCell
from ltcjax.convert import from_ncps_ltc
from ltcjax.lstm import LSTMCell, LSTMParams
from ltcjax.ltc import (
    LTCCell,
    LTCParams,
    project_params,
    state_bounds,
    tau_sys,
    tau_sys_bounds,
)
from ltcjax.sequence import unroll, validate_timespans
from ltcjax.wirings import NCP, AutoNCP, FullyConnected, Random, Wiring

__version__ = "0.1.0"

__all__ = [
    "NCP",
    "AutoNCP",
    "FullyConnected",
    "LSTMCell",
    "LSTMParams",
    "LTCCell",
    "LTCParams",
    "Random",
    "RecurrentCell",
    "Wiring",
    "__version__",
    "from_ncps_ltc",
    "project_params",
    "state_bounds",
    "tau_sys",
    "tau_sys_bounds",
    "unroll",
    "validate_timespans",
]
