"""Theoretical bounds: trajectory-length lower bounds (Theorems 4, 5) and LTC state /
time-constant bounds (Theorems 1, 2) for the paper-form random LTC.

Trajectory-length lower bounds (hard-tanh networks, 2-D input; ``d`` = layer (1-based), ``L`` =
computational depth, ``k`` = width, ``l(I)`` = input length, ``2 pi`` for the unit circle)::

    c      = sqrt(sigma_w^2 + sigma_b^2 + k * sqrt(sigma_w^2 + sigma_b^2))
    N-ODE  : (sigma_w sqrt(k) / c)^(d L) * l(I)
    CT-RNN : ((sigma_w - sigma_b) sqrt(k) / c)^(d L) * l(I)
    LTC    : (sigma_w sqrt(k) / c)^(d L) * (sigma_w + ||z_d|| / min(dt, L)) * l(I)

The theorems state these as ``O(.)``: the functions return the expressions with constant 1.
For CT-RNN the base is clipped at 0 (the bound is vacuous when ``sigma_w <= sigma_b``).

Paper-form LTC layer (see :mod:`~ltcjax.expressivity.random_networks`)::

    dy/dt = -y (1/tau + |f_in| + |f_rec|) + f_in A_in + f_rec A_rec
          = (0 - y)/tau + |f_in| (s_in A_in - y) + |f_rec| (s_rec A_rec - y),  s = sign(f)

* Theorem 1: ``tau_sys = 1 / (1/tau + |f_in| + |f_rec|)`` satisfies
  ``tau / (1 + tau W) <= tau_sys <= tau`` with ``W >= sup(|f_in| + |f_rec|)``.
* Theorem 2: ``y`` is pulled towards a convex combination of ``0`` and the effective reversal
  potentials ``s A``, so ``min(0, y0, A_min) <= y(t) <= max(0, y0, A_max)`` where ``A_min`` /
  ``A_max`` range over ``{A_in, A_rec}`` for non-negative activations (sigmoid, ReLU) and over
  ``{+-A_in, +-A_rec}`` for sign-changing ones (tanh, hard-tanh).

``W`` is computed by interval arithmetic: with the layer input in the box ``|u_j| <= U_j`` (the
input bound for layer 1, the previous layer's Theorem-2 bound for deeper layers) the
pre-activation of neuron ``i`` lies in ``b_i +- sum_j |W_ji| U_j``, and for a monotone activation
``sup|act|`` over an interval is attained at an end point.

The Theorem 1/2 functions take ``spec`` (a paper-form LTC, ``ltc_decay="abs"``), its
``params`` and an optional ``activation_index`` (an index into ``ACTIVATIONS`` overriding
``spec.activation``, may be traced); bounds come as ``(lower, upper)`` of shape
``(depth, width)``.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from ltcjax.validation import argument_error

from .random_networks import (
    ACTIVATIONS,
    NONNEGATIVE_ACTIVATIONS,
    LayerParams,
    NetworkSpec,
    activation_fn,
    canonical_model,
    layer_inputs,
    ltc_gates,
)

__all__ = [
    "BoundCheck",
    "check_within",
    "ctrnn_length_lower_bound",
    "length_lower_bound",
    "ltc_length_lower_bound",
    "ltc_state_bounds",
    "ltc_tau_sys",
    "ltc_tau_sys_bounds",
    "node_length_lower_bound",
    "raghu_c",
]

TWO_PI = 2 * math.pi


def raghu_c(sigma_w2, sigma_b2, width) -> Array:
    """The constant ``c = sqrt(sigma_w^2 + sigma_b^2 + k sqrt(sigma_w^2 + sigma_b^2))``.

    Example:
        >>> round(float(raghu_c(2.0, 1.0, 100)), 3)
        13.274
    """
    s = jnp.asarray(sigma_w2) + jnp.asarray(sigma_b2)
    return jnp.sqrt(s + jnp.asarray(width) * jnp.sqrt(s))


def _base(sigma_w2, sigma_b2, width, ctrnn: bool = False) -> Array:
    sw = jnp.sqrt(jnp.asarray(sigma_w2, dtype=float))
    num = sw - jnp.sqrt(jnp.asarray(sigma_b2, dtype=float)) if ctrnn else sw
    return jnp.maximum(num, 0.0) * jnp.sqrt(jnp.asarray(width)) / raghu_c(sigma_w2, sigma_b2, width)


def node_length_lower_bound(
    sigma_w2, sigma_b2, width, layer, comp_depth, input_length=TWO_PI
) -> Array:
    """Theorem 4 (Neural ODE): ``(sigma_w sqrt(k) / c)^(d L) * l(I)``.

    Args:
        sigma_w2: weight variance scale sigma_w^2.
        sigma_b2: bias variance sigma_b^2.
        width: layer width ``k``.
        layer: layer index ``d`` (1-based).
        comp_depth: computational depth ``L``.
        input_length: length of the input trajectory (``2 pi`` for the unit circle).

    Example:
        >>> round(float(node_length_lower_bound(2.0, 1.0, 100, 1, 0.0)), 4)
        6.2832
    """
    e = jnp.asarray(layer) * jnp.asarray(comp_depth)
    return _base(sigma_w2, sigma_b2, width) ** e * input_length


def ctrnn_length_lower_bound(
    sigma_w2, sigma_b2, width, layer, comp_depth, input_length=TWO_PI
) -> Array:
    """Theorem 4 (CT-RNN): ``((sigma_w - sigma_b) sqrt(k) / c)^(d L) * l(I)`` (base >= 0).

    Example:
        >>> float(ctrnn_length_lower_bound(1.0, 1.0, 100, 1, 2.0))
        0.0
    """
    e = jnp.asarray(layer) * jnp.asarray(comp_depth)
    return _base(sigma_w2, sigma_b2, width, ctrnn=True) ** e * input_length


def ltc_length_lower_bound(
    sigma_w2, sigma_b2, width, layer, comp_depth, state_norm, dt, input_length=TWO_PI
) -> Array:
    """Theorem 5 (LTC): ``(sigma_w sqrt(k)/c)^(d L) (sigma_w + ||z_d|| / min(dt, L)) l(I)``.

    Args:
        sigma_w2, sigma_b2, width, layer, comp_depth, input_length: as in
            :func:`node_length_lower_bound`.
        state_norm: ``||z_d||``, the norm of the layer's state (e.g. its mean along the
            trajectory).
        dt: the time step entering ``min(dt, L)`` (e.g. the input sampling interval).

    Example:
        >>> b = ltc_length_lower_bound(2.0, 1.0, 100, 1, 1.0, state_norm=0.5, dt=0.1)
        >>> round(float(b), 2)
        42.94
    """
    e = jnp.asarray(layer) * jnp.asarray(comp_depth)
    sw = jnp.sqrt(jnp.asarray(sigma_w2, dtype=float))
    factor = sw + jnp.asarray(state_norm) / jnp.minimum(jnp.asarray(dt), jnp.asarray(comp_depth))
    return _base(sigma_w2, sigma_b2, width) ** e * factor * input_length


def length_lower_bound(
    model: str,
    sigma_w2,
    sigma_b2,
    width,
    layer,
    comp_depth,
    input_length=TWO_PI,
    state_norm=0.0,
    dt=TWO_PI / 99,
) -> Array:
    """Dispatch to the Theorem 4/5 lower bound of ``model`` (``"node"``, ``"ctrnn"``, ``"ltc"``).

    Example:
        >>> float(length_lower_bound("node", 2.0, 1.0, 100, 1, 0.0)) > 6.28
        True
    """
    model = canonical_model(model)
    if model == "node":
        return node_length_lower_bound(sigma_w2, sigma_b2, width, layer, comp_depth, input_length)
    if model == "ctrnn":
        return ctrnn_length_lower_bound(sigma_w2, sigma_b2, width, layer, comp_depth, input_length)
    return ltc_length_lower_bound(
        sigma_w2, sigma_b2, width, layer, comp_depth, state_norm, dt, input_length
    )


def _require_ltc(spec: NetworkSpec) -> None:
    if spec.model != "ltc":
        raise argument_error(
            "spec", "an LTC (Theorems 1 and 2 concern the LTC)", f"model {spec.model!r}"
        )
    if spec.ltc_decay != "abs":
        raise argument_error(
            "spec",
            "ltc_decay='abs' (with 'signed' the decay rate 1/tau + f can be negative, and "
            "Theorems 1 and 2 do not hold)",
            f"ltc_decay={spec.ltc_decay!r}",
        )


def _activation_nonneg(spec: NetworkSpec, activation_index) -> Array:
    if activation_index is None:
        return jnp.asarray(spec.activation in NONNEGATIVE_ACTIVATIONS)
    table = jnp.asarray([a in NONNEGATIVE_ACTIVATIONS for a in ACTIVATIONS])
    return table[jnp.asarray(activation_index, jnp.int32)]


def ltc_state_bounds(
    spec: NetworkSpec,
    params: tuple[LayerParams, ...],
    y0: Float[Array, "depth k"] | None = None,
    activation_index=None,
) -> tuple[Float[Array, "depth k"], Float[Array, "depth k"]]:
    """Theorem 2 bounds ``(lower, upper)`` on every neuron of a paper-form random LTC started
    at ``y0`` (default zeros; the bound includes it), valid for any input signal.

    Example:
        >>> import jax
        >>> from ltcjax.expressivity import NetworkSpec, init_random_network
        >>> spec = NetworkSpec("ltc", width=4)
        >>> lo, hi = ltc_state_bounds(spec, init_random_network(jax.random.PRNGKey(0), spec))
        >>> bool((lo <= 0).all() and (hi >= 0).all())
        True
    """
    _require_ltc(spec)
    dtype = params[0].w_in.dtype
    y0 = jnp.zeros((spec.depth, spec.width), dtype) if y0 is None else jnp.asarray(y0, dtype)
    a_in = jnp.stack([jnp.sum(p.e_in, axis=0) for p in params])
    a_rec = jnp.stack([jnp.sum(p.e_rec, axis=0) for p in params])
    nonneg = _activation_nonneg(spec, activation_index)
    a_lo = jnp.where(nonneg, jnp.minimum(a_in, a_rec), -jnp.maximum(jnp.abs(a_in), jnp.abs(a_rec)))
    a_hi = jnp.where(nonneg, jnp.maximum(a_in, a_rec), jnp.maximum(jnp.abs(a_in), jnp.abs(a_rec)))
    lower = jnp.minimum(jnp.minimum(a_lo, 0.0), y0)
    upper = jnp.maximum(jnp.maximum(a_hi, 0.0), y0)
    return lower, upper


def _sup_abs_act(spec, activation_index, w: Array, b: Array, u_bound: Array) -> Array:
    act = activation_fn(spec, activation_index)
    radius = jnp.abs(w).T @ u_bound
    return jnp.maximum(jnp.abs(act(b - radius)), jnp.abs(act(b + radius)))


def ltc_tau_sys_bounds(
    spec: NetworkSpec,
    params: tuple[LayerParams, ...],
    input_bound: float | Float[Array, " m"] = 1.0,
    y0: Float[Array, "depth k"] | None = None,
    activation_index=None,
) -> tuple[Float[Array, "depth k"], Float[Array, "depth k"]]:
    """Theorem 1 bounds ``(tau / (1 + tau W), tau)`` on ``tau_sys`` of a paper-form LTC.

    ``W`` bounds ``|f_in| + |f_rec|`` for inputs with ``|I_j(t)| <= input_bound`` (per input
    component; 1 for the circle) and states inside the Theorem 2 box from ``y0`` (see the
    module docstring).

    Example:
        >>> import jax
        >>> from ltcjax.expressivity import init_random_network
        >>> spec = NetworkSpec("ltc", width=4, depth=2)
        >>> params = init_random_network(jax.random.PRNGKey(0), spec)
        >>> taus = ltc_tau_sys(spec, params, jnp.zeros((2, 4)), jnp.ones(2))
        >>> lo, hi = ltc_tau_sys_bounds(spec, params, input_bound=1.0)
        >>> bool((lo <= taus).all() and (taus <= hi).all())
        True
    """
    _require_ltc(spec)
    dtype = params[0].w_in.dtype
    s_lo, s_hi = ltc_state_bounds(spec, params, y0, activation_index)
    s_abs = jnp.maximum(jnp.abs(s_lo), jnp.abs(s_hi))
    u_bound = jnp.broadcast_to(jnp.asarray(input_bound, dtype), (spec.input_dim,))
    lowers, uppers = [], []
    for i, p in enumerate(params):
        ub = u_bound if i == 0 else s_abs[i - 1]
        w_bound = _sup_abs_act(spec, activation_index, p.w_in, p.b_in, ub) + _sup_abs_act(
            spec, activation_index, p.w_rec, p.b_rec, s_abs[i]
        )
        lowers.append(p.tau / (1.0 + p.tau * w_bound))
        uppers.append(p.tau)
    return jnp.stack(lowers), jnp.stack(uppers)


def ltc_tau_sys(
    spec: NetworkSpec,
    params: tuple[LayerParams, ...],
    states: Float[Array, "*batch depth k"],
    inputs: Float[ArrayLike, "*batch m"],
    activation_index=None,
) -> Float[Array, "*batch depth k"]:
    """The liquid time constant ``tau_sys = 1 / (1/tau + |f_in| + |f_rec|)`` of each neuron at
    network ``states`` ``(..., depth, width)`` (e.g. a whole trajectory) driven by ``inputs``
    ``(..., input_dim)`` at the same times.

    Example:
        >>> import jax
        >>> from ltcjax.expressivity import NetworkSpec, init_random_network
        >>> spec = NetworkSpec("ltc", width=4, depth=2)
        >>> params = init_random_network(jax.random.PRNGKey(0), spec)
        >>> ltc_tau_sys(spec, params, jnp.zeros((7, 2, 4)), jnp.ones((7, 2))).shape
        (7, 2, 4)
    """
    _require_ltc(spec)
    us = layer_inputs(spec, states, inputs)
    out = []
    for i, p in enumerate(params):
        f_in, f_rec = ltc_gates(spec, p, states[..., i, :], us[i], activation_index)
        out.append(1.0 / (1.0 / p.tau + jnp.abs(f_in) + jnp.abs(f_rec)))
    return jnp.stack(out, axis=-2)


class BoundCheck(NamedTuple):
    """Result of :func:`check_within`.

    Attributes:
        ok: whether every value lies in ``[lower - slack, upper + slack]``.
        max_violation: largest amount by which a value leaves ``[lower, upper]`` (<= 0 if none).

    Example:
        >>> float(check_within(jnp.array([1.5]), 0.0, 1.0).max_violation)
        0.5
    """

    ok: Array
    max_violation: Array


def check_within(values, lower, upper, slack=0.0) -> BoundCheck:
    """Check ``lower <= values <= upper`` (broadcasting) up to ``slack``.

    Example:
        >>> bool(check_within(jnp.array([0.5]), 0.0, 1.0).ok)
        True
    """
    values = jnp.asarray(values)
    viol = jnp.maximum(jnp.asarray(lower) - values, values - jnp.asarray(upper))
    worst = jnp.max(viol)
    return BoundCheck(ok=worst <= slack, max_violation=worst)
