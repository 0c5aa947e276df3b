"""Integrating random networks with Diffrax, driven by the paper's circular input.

The input ``I(t) = (sin t, cos t)`` is sampled at ``num_samples`` points on ``[0, 2 pi]`` and
linearly interpolated (:class:`diffrax.LinearInterpolation`); the network state is saved at the
sample times. Solvers are chosen by name:

=====================  ===============================  ================================
name                   Diffrax solver                   step-size control
=====================  ===============================  ================================
``"rk45"``/``"dopri5"`` ``Dopri5`` (Dormand-Prince 5(4),  adaptive PID (``rtol``, ``atol``)
                       MATLAB ``ode45``'s method)
``"rk23"``/``"bosh3"``  ``Bosh3`` (Bogacki-Shampine 3(2), adaptive
                       MATLAB ``ode23``)
``"tsit5"``            ``Tsit5`` (Tsitouras 5(4))       adaptive
``"kvaerno3"``         ``Kvaerno3`` (L-stable ESDIRK     adaptive
                       3(2); TR-BDF2-class implicit,
                       Diffrax has no TR-BDF2)
``"euler"``            ``Euler``                        fixed, ``euler_substeps`` steps
                                                        per input interval
=====================  ===============================  ================================

Adaptive solvers use Diffrax's PID controller with an RMS error norm by default;
``norm="max"`` and ``dtmax`` reproduce MATLAB ``ode45``-like control (max norm, maximum step
``0.1 * (t1 - t0)``) when comparing step counts with the paper.

"Computational depth" is the mean number of accepted solver steps per input interval,
``num_accepted_steps / (num_samples - 1)``.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import diffrax
import jax
import jax.numpy as jnp
import optimistix as optx
from jaxtyping import Array, Float, Int

from .random_networks import ACTIVATIONS, LayerParams, NetworkSpec, network_vector_field

__all__ = [
    "SOLVERS",
    "NetworkSolution",
    "circle_input",
    "computational_depth",
    "get_solver",
    "solve_network",
]

SOLVERS: tuple[str, ...] = ("rk45", "rk23", "tsit5", "kvaerno3", "euler")
_SOLVER_ALIASES = {
    "rk45": "rk45",
    "dopri5": "rk45",
    "ode45": "rk45",
    "rk23": "rk23",
    "bosh3": "rk23",
    "ode23": "rk23",
    "tsit5": "tsit5",
    "kvaerno3": "kvaerno3",
    "trbdf2": "kvaerno3",
    "tr-bdf2": "kvaerno3",
    "euler": "euler",
}
_SOLVER_CLASSES = {
    "rk45": diffrax.Dopri5,
    "rk23": diffrax.Bosh3,
    "tsit5": diffrax.Tsit5,
    "kvaerno3": diffrax.Kvaerno3,
    "euler": diffrax.Euler,
}
FIXED_STEP_SOLVERS = frozenset({"euler"})
_NORMS = {"rms": optx.rms_norm, "max": optx.max_norm}


def canonical_solver(name: str) -> str:
    """Return the canonical solver name for ``name`` (see the module table).

    Example:
        >>> canonical_solver("dopri5")
        'rk45'
    """
    key = str(name).lower()
    if key not in _SOLVER_ALIASES:
        raise ValueError(
            f"solver: unknown solver {name!r}; expected one of {sorted(_SOLVER_ALIASES)}"
        )
    return _SOLVER_ALIASES[key]


def get_solver(name: str) -> diffrax.AbstractSolver:
    """Instantiate a Diffrax solver by name.

    Example:
        >>> type(get_solver("rk23")).__name__
        'Bosh3'
    """
    return _SOLVER_CLASSES[canonical_solver(name)]()


def circle_input(
    num_samples: int = 100, t1: float = 2 * math.pi, dtype=None
) -> tuple[Float[Array, " T"], Float[Array, "T 2"]]:
    """The paper's circular input ``I(t) = (sin t, cos t)`` sampled on ``[0, t1]``.

    Args:
        num_samples: number of samples ``T`` (>= 2).
        t1: end time (default ``2 pi``, one revolution).
        dtype: floating dtype (default: JAX's default float).

    Returns:
        ``(ts, xs)`` with shapes ``(T,)`` and ``(T, 2)``.

    Example:
        >>> ts, xs = circle_input(5)
        >>> xs.shape
        (5, 2)
    """
    if isinstance(num_samples, bool) or int(num_samples) != num_samples or num_samples < 2:
        raise ValueError(f"num_samples: must be an integer >= 2, got {num_samples!r}")
    if not t1 > 0:
        raise ValueError(f"t1: must be > 0, got {t1!r}")
    dtype = jnp.zeros(()).dtype if dtype is None else dtype
    ts = jnp.linspace(0.0, t1, int(num_samples), dtype=dtype)
    return ts, jnp.stack([jnp.sin(ts), jnp.cos(ts)], axis=-1)


class NetworkSolution(NamedTuple):
    """Result of :func:`solve_network`.

    Attributes:
        ts: ``(T,)`` sample times.
        states: ``(T, depth, width)`` network state at the sample times.
        num_steps: total solver steps (accepted + rejected), from Diffrax's stats.
        num_accepted_steps: accepted steps.
        num_rejected_steps: rejected steps.
        computational_depth: accepted steps per input interval.
        success: whether Diffrax reported success (``False`` e.g. when ``max_steps`` ran out;
            the states are then not meaningful).

    Example:
        >>> import jax
        >>> from ltcjax.expressivity import NetworkSpec, init_random_network
        >>> spec = NetworkSpec("node", width=3)
        >>> sol = solve_network(spec, init_random_network(jax.random.PRNGKey(0), spec))
        >>> bool(sol.success), sol.states.shape
        (True, (100, 1, 3))
    """

    ts: Float[Array, " T"]
    states: Float[Array, "T depth k"]
    num_steps: Int[Array, ""]
    num_accepted_steps: Int[Array, ""]
    num_rejected_steps: Int[Array, ""]
    computational_depth: Float[Array, ""]
    success: Array


def computational_depth(
    num_accepted_steps: Int[Array, "*batch"] | int, num_samples: int
) -> Float[Array, "*batch"]:
    """Mean number of solver steps between consecutive input samples.

    Args:
        num_accepted_steps: accepted steps over the whole solve (Diffrax's
            ``sol.stats["num_accepted_steps"]``).
        num_samples: number of input samples ``T`` (there are ``T - 1`` intervals).

    Example:
        >>> float(computational_depth(99, 100))
        1.0
    """
    if int(num_samples) < 2:
        raise ValueError(f"num_samples: must be >= 2, got {num_samples!r}")
    return jnp.asarray(num_accepted_steps) / (int(num_samples) - 1)


@functools.partial(
    jax.jit,
    static_argnames=("spec", "solver", "max_steps", "euler_substeps", "step_to_samples", "norm"),
)
def _solve(
    spec: NetworkSpec,
    params: tuple[LayerParams, ...],
    ts: Array,
    xs: Array,
    y0: Array,
    rtol: Array,
    atol: Array,
    dtmax: Array | None,
    activation_index: Array | None,
    solver: str,
    max_steps: int,
    euler_substeps: int,
    step_to_samples: bool,
    norm: str,
) -> NetworkSolution:
    path = diffrax.LinearInterpolation(ts=ts, ys=xs)

    def vf(t, y, args):
        return network_vector_field(spec, params, y, path.evaluate(t), activation_index)

    t0, t1 = ts[0], ts[-1]
    n_int = ts.shape[0] - 1
    if solver in FIXED_STEP_SOLVERS:
        controller = diffrax.ConstantStepSize()
        dt0 = (t1 - t0) / (n_int * euler_substeps)
    else:
        controller = diffrax.PIDController(rtol=rtol, atol=atol, dtmax=dtmax, norm=_NORMS[norm])
        if step_to_samples:
            controller = diffrax.ClipStepSizeController(controller, step_ts=ts)
        dt0 = None
    sol = diffrax.diffeqsolve(
        diffrax.ODETerm(vf),
        _SOLVER_CLASSES[solver](),
        t0=t0,
        t1=t1,
        dt0=dt0,
        y0=y0,
        saveat=diffrax.SaveAt(ts=ts),
        stepsize_controller=controller,
        max_steps=max_steps,
        throw=False,
    )
    stats = sol.stats
    accepted = stats["num_accepted_steps"]
    return NetworkSolution(
        ts=ts,
        states=sol.ys.reshape(ts.shape[0], spec.depth, spec.width),
        num_steps=stats["num_steps"],
        num_accepted_steps=accepted,
        num_rejected_steps=stats["num_rejected_steps"],
        computational_depth=accepted / n_int,
        success=sol.result == diffrax.RESULTS.successful,
    )


def solve_network(
    spec: NetworkSpec,
    params: tuple[LayerParams, ...],
    *,
    solver: str = "rk45",
    rtol: float = 1e-2,
    atol: float = 1e-4,
    ts: Float[Array, " T"] | None = None,
    inputs: Float[Array, "T m"] | None = None,
    num_samples: int = 100,
    y0: Float[Array, "depth k"] | None = None,
    max_steps: int = 200_000,
    euler_substeps: int = 10,
    step_to_samples: bool = False,
    norm: str = "rms",
    dtmax: float | None = None,
    activation_index: Int[Array, ""] | int | None = None,
) -> NetworkSolution:
    """Integrate a random network driven by a linearly interpolated input.

    Jit-compiled internally (``spec``, ``solver`` and the integer options are static) and
    vmap-able over ``params`` / ``y0`` / ``inputs``. Failures (e.g. ``max_steps`` exhausted)
    do not raise; check ``success``.

    Args:
        spec: network description.
        params: parameters from :func:`~ltcjax.expressivity.init_random_network`.
        solver: solver name (see the module table); default ``"rk45"``.
        rtol: relative tolerance of adaptive solvers (paper: 1e-2).
        atol: absolute tolerance of adaptive solvers (paper: 1e-4).
        ts: sample times (default: the circle's, see :func:`circle_input`).
        inputs: ``(T, input_dim)`` input samples (default: the circle).
        num_samples: number of circle samples when ``ts``/``inputs`` are not given.
        y0: initial state ``(depth, width)`` (default zeros).
        max_steps: Diffrax ``max_steps``.
        euler_substeps: fixed Euler steps per input interval.
        step_to_samples: make adaptive solvers also stop at every sample time (the input's
            kinks); off by default, as in the paper's ``ode45`` runs.
        norm: error norm of adaptive solvers, ``"rms"`` (Diffrax default) or ``"max"``.
        dtmax: maximum step of adaptive solvers (``None`` = unbounded).
        activation_index: optional (traceable) index into ``ACTIVATIONS`` overriding
            ``spec.activation``, so one compilation serves all activations.

    Returns:
        A :class:`NetworkSolution`.

    Example:
        >>> import jax
        >>> from ltcjax.expressivity import NetworkSpec, init_random_network
        >>> spec = NetworkSpec("ctrnn", width=5, activation="tanh")
        >>> params = init_random_network(jax.random.PRNGKey(0), spec)
        >>> sol = solve_network(spec, params, num_samples=20)
        >>> sol.states.shape
        (20, 1, 5)
    """
    solver = canonical_solver(solver)
    if int(max_steps) <= 0:
        raise ValueError(f"max_steps: must be > 0, got {max_steps!r}")
    if int(euler_substeps) <= 0:
        raise ValueError(f"euler_substeps: must be > 0, got {euler_substeps!r}")
    if norm not in _NORMS:
        raise ValueError(f"norm: unknown norm {norm!r}; expected one of {sorted(_NORMS)}")
    for name, value in (("rtol", rtol), ("atol", atol), ("dtmax", dtmax)):
        if value is None or isinstance(value, jax.core.Tracer):
            continue  # traced values (inside jit / vmap) cannot be checked
        if not float(value) > 0:
            raise ValueError(f"{name}: must be > 0, got {value!r}")
    if (ts is None) != (inputs is None):
        raise ValueError("ts/inputs: give both or neither")
    dtype = params[0].w_in.dtype
    if ts is None:
        ts, inputs = circle_input(num_samples, dtype=dtype)
    ts = jnp.asarray(ts, dtype)
    inputs = jnp.asarray(inputs, dtype)
    if ts.ndim != 1 or ts.shape[0] < 2:
        raise ValueError(f"ts: expected shape (T,) with T >= 2, got {ts.shape}")
    if inputs.shape != (ts.shape[0], spec.input_dim):
        raise ValueError(
            f"inputs: expected shape ({ts.shape[0]}, {spec.input_dim}), got {inputs.shape}"
        )
    if y0 is None:
        y0 = jnp.zeros((spec.depth, spec.width), dtype)
    y0 = jnp.asarray(y0, dtype)
    if y0.shape != (spec.depth, spec.width):
        raise ValueError(f"y0: expected shape ({spec.depth}, {spec.width}), got {y0.shape}")
    # The dynamics do not depend on how parameters were drawn, nor on the activation name when
    # an index overrides it: normalise those fields so one compilation serves all of them.
    dyn_spec = spec.replace(weight_convention="code", tau_min=0.0)
    if activation_index is not None:
        dyn_spec = dyn_spec.replace(activation=ACTIVATIONS[0])
    return _solve(
        dyn_spec,
        tuple(params),
        ts,
        inputs,
        y0.reshape(-1),
        jnp.asarray(rtol, dtype),
        jnp.asarray(atol, dtype),
        None if dtmax is None else jnp.asarray(dtmax, dtype),
        None if activation_index is None else jnp.asarray(activation_index, jnp.int32),
        solver=solver,
        max_steps=int(max_steps),
        euler_substeps=int(euler_substeps),
        step_to_samples=bool(step_to_samples),
        norm=norm,
    )
