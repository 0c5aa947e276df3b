"""Expressivity analysis of LTCs (Hasani et al. 2021, section 4; Theorems 1, 2, 4, 5).

* :func:`trajectory_length` / :func:`arc_length` / :func:`pca` - latent trajectory length;
* :class:`NetworkSpec`, :func:`init_random_network` - random LTC / CT-RNN / Neural ODE stacks;
* :func:`solve_network` - Diffrax integration on the circle input, with step statistics
  and the computational depth; any solver of :mod:`ltcjax.solvers` (:func:`network_solver`,
  :func:`solver_label`);
* :func:`length_lower_bound` and friends - Theorems 4/5; :func:`ltc_tau_sys_bounds`,
  :func:`ltc_state_bounds` - Theorems 1/2 for the paper-form LTC;
* :func:`tau_sys_trace` - ``tau_sys`` along a trajectory of an :class:`ltcjax.LTCCell`;
* :func:`ode45`, :func:`simulate_matlab_draws` - MATLAB's ode45 and the paper's MATLAB
  measurement (``weight_convention="matlab"``, activation ``"htanh_matlab"``; see
  docs/expressivity.md, "Audit of the paper's MATLAB code");
* :func:`run_settings`, :func:`default_settings` - sweeps (:class:`SweepRow` results);
  :mod:`.plots` - figures; :func:`ltcjax.expressivity.cli.main` - the command line
  (``ltcjax expressivity ...``).

Example:
    >>> import jax
    >>> from ltcjax.expressivity import (NetworkSpec, init_random_network, solve_network,
    ...                                  trajectory_length)
    >>> spec = NetworkSpec("ltc", width=10, activation="hardtanh")
    >>> params = init_random_network(jax.random.PRNGKey(0), spec, sigma_w2=2.0)
    >>> sol = solve_network(spec, params)
    >>> res = trajectory_length(sol.states[:, 0])
    >>> bool(res.pca_length <= res.full_length)
    True
"""

import importlib

from ltcjax.deprecation import warn_renamed

from .bounds import (
    BoundCheck,
    check_within,
    ctrnn_length_lower_bound,
    length_lower_bound,
    ltc_length_lower_bound,
    ltc_state_bounds,
    ltc_tau_sys,
    ltc_tau_sys_bounds,
    node_length_lower_bound,
    raghu_c,
)
from .integrate import (
    SOLVERS,
    NetworkSolution,
    canonical_solver,
    circle_input,
    computational_depth,
    get_solver,
    network_solver,
    pid_controller,
    solve_network,
    solver_label,
)
from .matlab import MatlabDraws, Ode45Solution, matlab_table2_depth, ode45, simulate_matlab_draws
from .random_networks import (
    ACTIVATIONS,
    ALL_ACTIVATIONS,
    MATLAB_ACTIVATIONS,
    MODELS,
    WEIGHT_CONVENTIONS,
    LayerParams,
    NetworkSpec,
    get_activation,
    init_random_network,
    matlab_htanh,
    network_vector_field,
)
from .sweep import (
    PAPER_GRIDS,
    Draws,
    SweepConfig,
    SweepExample,
    SweepRow,
    SweepSetting,
    default_settings,
    group_key,
    read_results,
    run_settings,
    simulate_draws,
    write_results,
)
from .time_constants import TauSysTrace, random_ltc_tau_sys_trace, tau_sys_trace
from .trajectory import PCAResult, TrajectoryLength, arc_length, pca, trajectory_length

__all__ = [
    "ACTIVATIONS",
    "ALL_ACTIVATIONS",
    "MATLAB_ACTIVATIONS",
    "MODELS",
    "PAPER_GRIDS",
    "SOLVERS",
    "WEIGHT_CONVENTIONS",
    "BoundCheck",
    "Draws",
    "LayerParams",
    "MatlabDraws",
    "NetworkSolution",
    "NetworkSpec",
    "Ode45Solution",
    "PCAResult",
    "SweepConfig",
    "SweepExample",
    "SweepRow",
    "SweepSetting",
    "TauSysTrace",
    "TrajectoryLength",
    "arc_length",
    "canonical_solver",
    "check_within",
    "circle_input",
    "computational_depth",
    "ctrnn_length_lower_bound",
    "default_settings",
    "get_activation",
    "get_solver",
    "group_key",
    "init_random_network",
    "length_lower_bound",
    "ltc_length_lower_bound",
    "ltc_state_bounds",
    "ltc_tau_sys",
    "ltc_tau_sys_bounds",
    "matlab_htanh",
    "matlab_table2_depth",
    "network_solver",
    "network_vector_field",
    "node_length_lower_bound",
    "ode45",
    "pca",
    "pid_controller",
    "raghu_c",
    "random_ltc_tau_sys_trace",
    "read_results",
    "run_settings",
    "simulate_draws",
    "simulate_matlab_draws",
    "solve_network",
    "solver_label",
    "tau_sys_trace",
    "trajectory_length",
    "write_results",
]


def __getattr__(name: str):
    # Deprecated: the package no longer imports its command line (the CLI layer sits above it).
    if name == "main":
        warn_renamed("ltcjax.expressivity.main", "ltcjax.expressivity.cli.main")
        return importlib.import_module("ltcjax.expressivity.cli").main
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
