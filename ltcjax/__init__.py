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

from ltcjax import solvers
from ltcjax.cell import ContinuousTimeCell, RecurrentCell
from ltcjax.control import CompiledStep, compile_step
from ltcjax.convert import from_ncps_cfc, from_ncps_ltc, to_ncps_ltc
from ltcjax.models import (
    CfCCell,
    CfCParams,
    CTGRUCell,
    CTGRUParams,
    CTRNNCell,
    CTRNNParams,
    LSTMCell,
    LSTMParams,
    LTCCell,
    LTCParams,
    ODERNNCell,
    ODERNNParams,
    lecun_tanh,
    project_params,
    state_bounds,
    tau_sys,
    tau_sys_bounds,
)
from ltcjax.precision import Precision
from ltcjax.registry import available_models, make_cell, register
from ltcjax.sequence import unroll
from ltcjax.solvers import RK4, DiffraxSolver, Euler, Fused
from ltcjax.validation import (
    runtime_checks,
    runtime_checks_enabled,
    set_runtime_checks,
    validate_timespans,
)
from ltcjax.wirings import NCP, AutoNCP, FullyConnected, Random, Wiring

__version__ = "0.2.0.dev0"  # the one source of the version (pyproject reads it)

__all__ = [
    "AutoNCP",
    "available_models",
    "CfCCell",
    "ContinuousTimeCell",
    "CfCParams",
    "compile_step",
    "CompiledStep",
    "CTGRUCell",
    "CTGRUParams",
    "CTRNNCell",
    "CTRNNParams",
    "DiffraxSolver",
    "Euler",
    "from_ncps_cfc",
    "from_ncps_ltc",
    "FullyConnected",
    "Fused",
    "lecun_tanh",
    "LSTMCell",
    "LSTMParams",
    "LTCCell",
    "LTCParams",
    "make_cell",
    "NCP",
    "ODERNNCell",
    "ODERNNParams",
    "Precision",
    "project_params",
    "Random",
    "RecurrentCell",
    "register",
    "RK4",
    "runtime_checks",
    "runtime_checks_enabled",
    "set_runtime_checks",
    "solvers",
    "state_bounds",
    "tau_sys",
    "tau_sys_bounds",
    "to_ncps_ltc",
    "unroll",
    "validate_timespans",
    "Wiring",
    "__version__",
]
