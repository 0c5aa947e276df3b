"""Expressivity analysis of LTCs (Hasani et al. 2021, section 4; Theorems 1, 2, 4, 5).

* :func:`trajectory_length` / :func:`arc_length` / :func:`pca` - latent trajectory length;
* :class:`NetworkSpec`, :func:`init_random_network` - random LTC / CT-RNN / Neural ODE stacks;
* :func:`solve_network` - Diffrax integration on the circle input, with step statistics
  and the computational depth;
* :func:`length_lower_bound` and friends - Theorems 4/5; :func:`ltc_tau_sys_bounds`,
  :func:`ltc_state_bounds` - Theorems 1/2 for the paper-form LTC;
* :func:`tau_sys_trace` - ``tau_sys`` along a trajectory of an :class:`ltcjax.LTCCell`;
* :func:`run_settings`, :func:`default_settings` - sweeps; :mod:`.plots` - figures;
  :func:`main` - the command line (``ltcjax expressivity ...``).

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
from .cli import main
from .integrate import (
    SOLVERS,
    NetworkSolution,
    circle_input,
    computational_depth,
    get_solver,
    solve_network,
)
from .random_networks import (
    ACTIVATIONS,
    MODELS,
    WEIGHT_CONVENTIONS,
    LayerParams,
    NetworkSpec,
    get_activation,
    init_random_network,
    network_vector_field,
)
from .sweep import (
    PAPER_GRIDS,
    SweepConfig,
    SweepSetting,
    default_settings,
    read_results,
    run_settings,
    simulate_draws,
    write_results,
)
from .time_constants import TauSysTrace, random_ltc_tau_sys_trace, tau_sys_trace
from .trajectory import PCAResult, TrajectoryLength, arc_length, pca, trajectory_length

__all__ = [
    "ACTIVATIONS",
    "MODELS",
    "PAPER_GRIDS",
    "SOLVERS",
    "WEIGHT_CONVENTIONS",
    "BoundCheck",
    "LayerParams",
    "NetworkSolution",
    "NetworkSpec",
    "PCAResult",
    "SweepConfig",
    "SweepSetting",
    "TauSysTrace",
    "TrajectoryLength",
    "arc_length",
    "check_within",
    "circle_input",
    "computational_depth",
    "ctrnn_length_lower_bound",
    "default_settings",
    "get_activation",
    "get_solver",
    "init_random_network",
    "length_lower_bound",
    "ltc_length_lower_bound",
    "ltc_state_bounds",
    "ltc_tau_sys",
    "ltc_tau_sys_bounds",
    "main",
    "network_vector_field",
    "node_length_lower_bound",
    "pca",
    "raghu_c",
    "random_ltc_tau_sys_trace",
    "read_results",
    "run_settings",
    "simulate_draws",
    "solve_network",
    "tau_sys_trace",
    "trajectory_length",
    "write_results",
]
