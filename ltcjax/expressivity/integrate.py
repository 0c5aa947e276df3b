"""Integrating random networks with Diffrax, driven by the paper's circular input.

The input ``I(t) = (sin t, cos t)`` is sampled at ``num_samples`` points on ``[0, 2 pi]`` and
linearly interpolated (:class:`diffrax.LinearInterpolation`); the network state is saved at the
sample times.

Solvers come from ltcjax's one vocabulary (:mod:`ltcjax.solvers`): any solver or shorthand
accepted by :func:`ltcjax.solvers.as_solver`, normalised here by :func:`network_solver`.
Results name them by :func:`solver_label`:

==========================================  ==============  ==============================
solver (any of)                             label           Diffrax solver, step control
==========================================  ==============  ==============================
``"rk45"``, ``"ode45"``, ``"dopri5"``       ``"rk45"``      ``Dopri5`` (Dormand-Prince 5(4),
                                                            MATLAB ``ode45``), adaptive
``"rk23"``, ``"ode23"``, ``"bosh3"``        ``"rk23"``      ``Bosh3`` (Bogacki-Shampine
                                                            3(2), MATLAB ``ode23``), adaptive
``"tsit5"``                                 ``"tsit5"``     ``Tsit5`` (Tsitouras 5(4)),
                                                            adaptive
``"kvaerno3"``                              ``"kvaerno3"``  ``Kvaerno3`` (L-stable ESDIRK
                                                            3(2); Diffrax has no TR-BDF2),
                                                            adaptive
``"euler"``, ``Euler()``                    ``"euler"``     ``Euler``, ``euler_substeps``
                                                            fixed steps per input interval
==========================================  ==============  ==============================

Other Diffrax solvers (``"dopri8"``, ``"heun"``, ``"kvaerno5"``, a ``diffrax.AbstractSolver``
instance) work too and are labelled by their lower-case class name; a solver without an error
estimate (or with ``controller=diffrax.ConstantStepSize()``) takes ``euler_substeps`` fixed
steps per input interval, like ``Euler()``.

A shorthand (a name or a bare Diffrax solver) gets the paper's step control: a PID controller
with rtol 1e-2 and atol 1e-4 (Diffrax's RMS error norm), at most 200 000 steps, failures
reported in ``success`` rather than raised. A :class:`ltcjax.solvers.DiffraxSolver` is used as
given (its solver, controller or PID tolerances, ``max_steps``, ``adjoint``, ``dt0`` and
``throw``). ``network_solver(solver, norm="max", dtmax=0.1 * 2 * pi)`` gives MATLAB
``ode45``-like control (max error norm, maximum step ``0.1 * (t1 - t0)``) for comparing step
counts with the paper; MATLAB's ode45 itself (its initial step, step-size formula and Refine
output, which the paper's Table 2 counts) is :func:`ltcjax.expressivity.matlab.ode45`.

"Computational depth" is the mean number of accepted solver steps per input interval,
``num_accepted_steps / (num_samples - 1)``.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any, NamedTuple

import diffrax
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, Int

from ltcjax.deprecation import warn_renamed
from ltcjax.solvers import DiffraxSolver, Euler, Solver, as_solver
from ltcjax.validation import (
    argument_error,
    check_choice,
    check_int,
    check_positive_int,
    check_positive_number,
)

from .random_networks import ACTIVATIONS, LayerParams, NetworkSpec, network_vector_field

__all__ = [
    "DEFAULT_MAX_STEPS",
    "NORMS",
    "PAPER_ATOL",
    "PAPER_RTOL",
    "SOLVERS",
    "NetworkSolution",
    "canonical_solver",
    "circle_input",
    "computational_depth",
    "get_solver",
    "network_solver",
    "pid_controller",
    "solve_network",
    "solver_label",
]

#: Labels of the paper's solver sweep (see :func:`solver_label`).
SOLVERS: tuple[str, ...] = ("rk45", "rk23", "tsit5", "kvaerno3", "euler")
#: The paper's tolerances, given to shorthand solvers.
PAPER_RTOL = 1e-2
PAPER_ATOL = 1e-4
#: The step budget given to shorthand solvers.
DEFAULT_MAX_STEPS = 200_000
#: Error norms of :func:`pid_controller`.
NORMS: tuple[str, ...] = ("rms", "max")
# Diffrax class names labelled by MATLAB's method names (the paper's code used MATLAB).
_MATLAB_LABELS = {"Dopri5": "rk45", "Bosh3": "rk23"}
# Keyword arguments of solve_network before the solver value object (deprecated).
_CONTROL_KWARGS = ("rtol", "atol", "max_steps", "norm", "dtmax")


def _max_norm(x: Array) -> Array:
    """The max (L-infinity) error norm of MATLAB's ``ode45`` (the state is one array)."""
    return jnp.max(jnp.abs(x))


def pid_controller(
    rtol: float = PAPER_RTOL,
    atol: float = PAPER_ATOL,
    *,
    norm: str = "rms",
    dtmax: float | None = None,
) -> diffrax.PIDController:
    """A Diffrax PID step-size controller with an ``"rms"`` (Diffrax's) or ``"max"`` (MATLAB's)
    error norm and an optional maximum step ``dtmax``.

    Example:
        >>> c = pid_controller(norm="max", dtmax=0.6)
        >>> c.rtol, c.dtmax
        (0.01, 0.6)
    """
    check_positive_number("rtol", rtol)
    check_positive_number("atol", atol)
    check_choice("norm", norm, NORMS)
    check_positive_number("dtmax", dtmax, allow_none=True)
    norm_kwargs = {"norm": _max_norm} if norm == "max" else {}  # "rms" is Diffrax's default
    return diffrax.PIDController(rtol=rtol, atol=atol, dtmax=dtmax, **norm_kwargs)


def network_solver(
    solver: Any = "rk45",
    *,
    rtol: float | None = None,
    atol: float | None = None,
    max_steps: int | None = None,
    norm: str | None = None,
    dtmax: float | None = None,
) -> Solver:
    """Normalise ``solver`` to the value object :func:`solve_network` integrates with.

    ``solver`` is anything :func:`ltcjax.solvers.as_solver` accepts except the fused and RK4
    solvers (Diffrax has no classical RK4 with step statistics). A shorthand gets the paper's
    control (rtol 1e-2, atol 1e-4, :data:`DEFAULT_MAX_STEPS` steps, ``throw=False``); a
    :class:`~ltcjax.solvers.DiffraxSolver` keeps its own. The keyword arguments then replace
    parts of that control (None keeps it): ``rtol``, ``atol`` (the PID tolerances; a
    DiffraxSolver's own ``controller`` wins over them, as everywhere), ``max_steps``, and
    ``norm`` (``"rms"`` or ``"max"``) / ``dtmax``, which set a :func:`pid_controller` with the
    tolerances. ``Euler()`` is returned as it is (a fixed-step solve has no step control).

    Example:
        >>> s = network_solver("ode45")
        >>> s == network_solver("rk45"), s.name, s.rtol, s.max_steps
        (True, 'Dopri5', 0.01, 200000)
        >>> network_solver("ode45", norm="max", dtmax=0.6).controller.dtmax
        0.6
        >>> network_solver("euler")
        Euler()
    """
    value = as_solver(solver)
    if isinstance(value, Euler):
        return value
    if not isinstance(value, DiffraxSolver):
        raise argument_error(
            "solver",
            "a Diffrax solver (a name such as 'rk45', a diffrax.AbstractSolver instance or an "
            "ltcjax.solvers.DiffraxSolver) or Euler()",
            repr(value),
        )
    if not isinstance(solver, DiffraxSolver):  # a shorthand: the paper's control
        value = dataclasses.replace(
            value, rtol=PAPER_RTOL, atol=PAPER_ATOL, max_steps=DEFAULT_MAX_STEPS, throw=False
        )
    changes: dict[str, Any] = {"rtol": rtol, "atol": atol, "max_steps": max_steps}
    changes = {name: v for name, v in changes.items() if v is not None}
    if (norm is not None and norm != "rms") or dtmax is not None:
        changes["controller"] = pid_controller(
            changes.get("rtol", value.rtol),
            changes.get("atol", value.atol),
            norm="rms" if norm is None else norm,
            dtmax=dtmax,
        )
    elif norm is not None:
        check_choice("norm", norm, NORMS)
    return dataclasses.replace(value, **changes) if changes else value


def solver_label(solver: Any) -> str:
    """The readable name of a solver in sweep rows and reports: ``"rk45"`` (Dopri5),
    ``"rk23"`` (Bosh3), otherwise the lower-case Diffrax class name (``"tsit5"``,
    ``"kvaerno3"``, ``"euler"``, ...). Any solver or shorthand is accepted.

    Example:
        >>> solver_label("ode45"), solver_label("dopri5"), solver_label(Euler())
        ('rk45', 'rk45', 'euler')
    """
    value = network_solver(solver)
    name = value.name
    return _MATLAB_LABELS.get(name, name.lower())


def canonical_solver(name: Any) -> str:
    """Deprecated: use :func:`solver_label`.

    Example:
        >>> import warnings
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     canonical_solver("dopri5")
        'rk45'
    """
    warn_renamed("ltcjax.expressivity.canonical_solver", "ltcjax.expressivity.solver_label")
    return solver_label(name)


def get_solver(name: Any) -> diffrax.AbstractSolver:
    """Deprecated: use :func:`network_solver` (its ``.solver`` is the Diffrax solver).

    Example:
        >>> import warnings
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     type(get_solver("rk23")).__name__
        'Bosh3'
    """
    warn_renamed("ltcjax.expressivity.get_solver", "ltcjax.expressivity.network_solver")
    return _as_diffrax(network_solver(name)).solver


def _as_diffrax(solver: Solver) -> DiffraxSolver:
    """``Euler()`` as the Diffrax Euler solver (fixed steps); a DiffraxSolver as it is."""
    if isinstance(solver, Euler):
        return DiffraxSolver(solver=diffrax.Euler(), max_steps=DEFAULT_MAX_STEPS, throw=False)
    return solver


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
    check_int("num_samples", num_samples, 2)
    check_positive_number("t1", t1)
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
    check_int("num_samples", num_samples, 2)
    return jnp.asarray(num_accepted_steps) / (int(num_samples) - 1)


@functools.partial(jax.jit, static_argnames=("spec", "solver", "euler_substeps", "step_to_samples"))
def _solve(
    spec: NetworkSpec,
    params: tuple[LayerParams, ...],
    ts: Array,
    xs: Array,
    y0: Array,
    activation_index: Array | None,
    solver: DiffraxSolver,
    euler_substeps: int,
    step_to_samples: bool,
) -> NetworkSolution:
    path = diffrax.LinearInterpolation(ts=ts, ys=xs)

    def vf(t, y, args):
        return network_vector_field(spec, params, y, path.evaluate(t), activation_index)

    n_int = ts.shape[0] - 1
    if solver.is_adaptive:
        controller = solver.diffrax_controller()
        if step_to_samples:
            controller = diffrax.ClipStepSizeController(controller, step_ts=ts)
        dt0 = solver.dt0
    else:  # fixed steps: euler_substeps per input interval
        controller = diffrax.ConstantStepSize()
        dt0 = (ts[-1] - ts[0]) / (n_int * euler_substeps)
    sol = diffrax.diffeqsolve(
        diffrax.ODETerm(vf),
        solver.solver,
        t0=ts[0],
        t1=ts[-1],
        dt0=dt0,
        y0=y0,
        saveat=diffrax.SaveAt(ts=ts),
        stepsize_controller=controller,
        adjoint=solver.diffrax_adjoint(),
        max_steps=solver.max_steps,
        throw=solver.throw,
    )
    accepted = sol.stats["num_accepted_steps"]
    return NetworkSolution(
        ts=ts,
        states=sol.ys.reshape(ts.shape[0], spec.depth, spec.width),
        num_steps=sol.stats["num_steps"],
        num_accepted_steps=accepted,
        num_rejected_steps=sol.stats["num_rejected_steps"],
        computational_depth=accepted / n_int,
        success=sol.result == diffrax.RESULTS.successful,
    )


def _with_control(solver: Any, control: dict[str, Any], caller: str) -> Solver:
    """``network_solver(solver, **control)``; a non-empty ``control`` holds keyword arguments
    that ``caller`` took before the solver value object (deprecated)."""
    unknown = sorted(set(control) - set(_CONTROL_KWARGS))
    if unknown:
        raise TypeError(f"{caller}() got an unexpected keyword argument {unknown[0]!r}")
    if control:
        given = ", ".join(f"{name}=..." for name in control)
        warn_renamed(
            f"{caller}(..., {given})",
            f"{caller}(..., solver=ltcjax.expressivity.network_solver(solver, {given}))",
            stacklevel=4,
        )
    return network_solver(solver, **control)


def solve_network(
    spec: NetworkSpec,
    params: tuple[LayerParams, ...],
    *,
    solver: Any = "rk45",
    ts: Float[ArrayLike, " T"] | None = None,
    inputs: Float[ArrayLike, "T m"] | None = None,
    num_samples: int = 100,
    y0: Float[ArrayLike, "*depth k"] | None = None,
    euler_substeps: int = 10,
    step_to_samples: bool = False,
    activation_index: Int[Array, ""] | int | None = None,
    **control: Any,
) -> NetworkSolution:
    """Integrate a random network driven by a linearly interpolated input.

    Jit-compiled internally (``spec``, the solver and the integer options are static, so a
    new tolerance compiles anew) and vmap-able over ``params`` / ``y0`` / ``inputs``. With a
    shorthand solver, failures (e.g. ``max_steps`` exhausted) do not raise; check
    ``success`` (a :class:`~ltcjax.solvers.DiffraxSolver` raises if its ``throw`` is True).

    Args:
        spec: network description.
        params: parameters from :func:`~ltcjax.expressivity.init_random_network`.
        solver: any solver or shorthand (see the module table and :func:`network_solver`);
            default ``"rk45"`` (Dopri5 with the paper's rtol 1e-2, atol 1e-4).
        ts: sample times (default: the circle's, see :func:`circle_input`).
        inputs: ``(T, input_dim)`` input samples (default: the circle).
        num_samples: number of circle samples when ``ts``/``inputs`` are not given.
        y0: initial state ``(depth, width)`` (default zeros).
        euler_substeps: steps per input interval of a fixed-step solver (``"euler"``).
        step_to_samples: make adaptive solvers also stop at every sample time (the input's
            kinks); off by default, as in the paper's ``ode45`` runs.
        activation_index: optional (traceable) index into ``ACTIVATIONS`` overriding
            ``spec.activation``, so one compilation serves all activations.
        **control: deprecated: ``rtol``, ``atol``, ``max_steps``, ``norm``, ``dtmax``; pass
            ``solver=network_solver(solver, rtol=...)`` instead.

    Returns:
        A :class:`NetworkSolution`.

    Example:
        >>> import jax, math
        >>> from ltcjax.expressivity import NetworkSpec, init_random_network
        >>> spec = NetworkSpec("ctrnn", width=5, activation="tanh")
        >>> params = init_random_network(jax.random.PRNGKey(0), spec)
        >>> matlab = network_solver("ode45", norm="max", dtmax=0.2 * math.pi)
        >>> sol = solve_network(spec, params, solver=matlab, num_samples=20)
        >>> sol.states.shape, bool(sol.computational_depth >= 10 / 19)
        ((20, 1, 5), True)
    """
    solver = _as_diffrax(_with_control(solver, control, "solve_network"))
    check_positive_int("euler_substeps", euler_substeps)
    if (ts is None) != (inputs is None):
        given = "ts" if inputs is None else "inputs"
        raise argument_error("ts, inputs", "both or neither", f"only {given}")
    dtype = params[0].w_in.dtype
    if ts is None:
        ts, inputs = circle_input(num_samples, dtype=dtype)
    ts = jnp.asarray(ts, dtype)
    inputs = jnp.asarray(inputs, dtype)
    if ts.ndim != 1 or ts.shape[0] < 2:
        raise argument_error("ts", "shape (T,) with T >= 2", ts.shape)
    if inputs.shape != (ts.shape[0], spec.input_dim):
        raise argument_error("inputs", f"shape ({ts.shape[0]}, {spec.input_dim})", inputs.shape)
    if y0 is None:
        y0 = jnp.zeros((spec.depth, spec.width), dtype)
    y0 = jnp.asarray(y0, dtype)
    if y0.shape != (spec.depth, spec.width):
        raise argument_error("y0", f"shape ({spec.depth}, {spec.width})", y0.shape)
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
        None if activation_index is None else jnp.asarray(activation_index, jnp.int32),
        solver=solver,
        euler_substeps=int(euler_substeps),
        step_to_samples=bool(step_to_samples),
    )
