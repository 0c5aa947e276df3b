"""Random continuous-time networks used in the paper's trajectory-length analysis.

Three models are provided, each a stack of ``depth`` layers of ``width`` neurons. Layer ``l``
has state ``y_l`` (shape ``(width,)``) and input ``u_l``: the driving signal ``I(t)`` for the
first layer, the state of layer ``l - 1`` for deeper layers (so the whole stack is one ODE of
dimension ``depth * width``, integrated jointly).

With ``act`` the chosen activation (tanh, sigmoid, ReLU or hard-tanh):

* **LTC** (paper form)::

      f_in  = act(W_in  u + b_in)                   # (width,)
      f_rec = act(W_rec y + b_rec)                  # (width,)
      A_in  = sum_j E_in[j, :]                      # input reversal potentials, summed over pre
      A_rec = sum_j E_rec[j, :]                     # recurrent reversal potentials
      dy/dt = -y * (1/tau + |f_in| + |f_rec|) + f_in * A_in + f_rec * A_rec

* **CT-RNN**: ``dy/dt = -y / tau + f_in``
* **Neural ODE**: ``dy/dt = f_in``

With ``ltc_decay="signed"`` the LTC uses the paper's Eq. 1 literally, without absolute values:
``dy/dt = -y * (1/tau + f_in + f_rec) + f_in * A_in + f_rec * A_rec``. For sign-changing
activations (tanh, hard-tanh) the decay rate can then turn negative and the state grows; this
variant is not covered by Theorems 1 and 2; its trajectory lengths come closer to the paper's
LTC values than the ``|f|`` form's (see the expressivity report for how close, and caveats).

For CT-RNN and Neural ODE, ``f_in = act(W_in u + b_in)`` by default (the form listed in the
reference for the paper's experiment). With ``recurrent=True`` they instead use the paper's
textual ``f(x, I)``: ``f_in = act(W_in u + W_rec y + b_in)``.

Weight matrices are stored ``[pre, post]`` (``W_in`` has shape ``(input_dim, width)``) and
applied as ``u @ W_in``.

Initialisation (``sigma_w2`` = sigma_w^2, ``sigma_b2`` = sigma_b^2):

* weights ``W_in``, ``W_rec`` and reversal potentials ``E_in``, ``E_rec`` are drawn from
  ``N(0, s^2)`` where ``s^2 = sigma_w2 / width`` for ``weight_convention="paper"`` (the paper's
  text, ``N(0, sigma_w^2 / k)`` with ``k`` the layer width, used for every matrix including the
  input one) or ``s^2 = sigma_w2`` for ``weight_convention="code"`` (standard deviation
  ``sigma_w``, what the paper's MATLAB code was long read as drawing);
* biases ``b_in``, ``b_rec`` from ``N(0, sigma_b2)``;
* time constants ``tau = |N(0, sigma_b2)|`` (standard deviation ``sigma_b``), optionally floored
  at ``tau_min`` (0 by default, as in the paper).

``weight_convention="matlab"`` draws what the paper's MATLAB code (``trajectory_length_analysis/
main.m``) actually draws, quirks included (see docs/expressivity.md, "Audit of the MATLAB
code"): ``makedist('normal', 'mu', 0, 'sigma', k * sigma / k)`` has *standard deviation*
``sigma``, the variable that the code sweeps as sigma_w^2 (``[1 2 4 8 16 32]``), so weights and
reversal potentials have standard deviation ``sigma_w2`` (variance ``sigma_w2 ** 2``); biases
and ``tau`` likewise take ``sigma_b2`` as their standard deviation (1 in the paper, where the
two readings agree); and the first layer's ``E_in`` is a ``(k, k)`` matrix, all of whose ``k``
rows ltc_def.m sums into neuron ``i``'s reversal potential although the input has only ``m``
components (``W_in`` keeps shape ``(m, k)``: the code multiplies only rows ``1:m`` of its
``(k, k)`` weight array with the input). The activation ``"htanh_matlab"`` is what the code's
``Htanh.m`` returns for the vector it is given (see :func:`matlab_htanh`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from ltcjax.validation import (
    argument_error,
    check_choice,
    check_positive_int,
    check_positive_number,
    is_concrete,
)

__all__ = [
    "ACTIVATIONS",
    "ALL_ACTIVATIONS",
    "MATLAB_ACTIVATIONS",
    "MATLAB_HTANH",
    "MODELS",
    "LTC_DECAYS",
    "WEIGHT_CONVENTIONS",
    "LayerParams",
    "NetworkSpec",
    "activation_fn",
    "canonical_activation",
    "canonical_model",
    "get_activation",
    "init_random_network",
    "layer_inputs",
    "ltc_gates",
    "matlab_htanh",
    "network_vector_field",
]

MODELS: tuple[str, ...] = ("ltc", "ctrnn", "node")
_MODEL_ALIASES = {
    "ltc": "ltc",
    "ctrnn": "ctrnn",
    "ct-rnn": "ctrnn",
    "ct_rnn": "ctrnn",
    "node": "node",
    "neural_ode": "node",
    "neural-ode": "node",
    "neuralode": "node",
}

ACTIVATIONS: tuple[str, ...] = ("tanh", "sigmoid", "relu", "hardtanh")
#: The activation that the paper's ``Htanh.m`` computes for a vector (see :func:`matlab_htanh`).
MATLAB_HTANH = "htanh_matlab"
#: Every activation name, in the order of ``activation_index`` (the paper's four, then
#: :data:`MATLAB_HTANH`).
ALL_ACTIVATIONS: tuple[str, ...] = ACTIVATIONS + (MATLAB_HTANH,)
#: What each of the paper's activations computes in its MATLAB code, by name.
MATLAB_ACTIVATIONS: dict[str, str] = {
    "tanh": "tanh",
    "sigmoid": "sigmoid",
    "relu": "relu",
    "hardtanh": MATLAB_HTANH,
}
_ACTIVATION_ALIASES = {
    MATLAB_HTANH: MATLAB_HTANH,
    "matlab_htanh": MATLAB_HTANH,
    "tanh": "tanh",
    "sigmoid": "sigmoid",
    "logistic": "sigmoid",
    "relu": "relu",
    "hardtanh": "hardtanh",
    "hard-tanh": "hardtanh",
    "hard_tanh": "hardtanh",
}


def matlab_htanh(x: Float[ArrayLike, "*shape"]) -> Float[Array, "*shape"]:
    """What the paper's ``Htanh.m`` returns for the vector ``x`` it is given (last axis).

    ``Htanh.m`` reads ``if x>=1, y = 1; elseif x<=-1, y = -1; else y = x; end``. MATLAB's
    ``if`` on an array is true only when *every* element is true, so for a vector the function
    is the identity unless all entries are >= 1 (then the scalar 1, which an assignment to a
    block of ``k`` rows broadcasts to all of them) or all are <= -1 (-1): it is no hard-tanh.

    Example:
        >>> matlab_htanh(jnp.array([3.0, -2.0, 0.5])).tolist()  # mixed: unchanged
        [3.0, -2.0, 0.5]
        >>> matlab_htanh(jnp.array([3.0, 1.0])).tolist()  # all >= 1: all 1
        [1.0, 1.0]
    """
    x = jnp.asarray(x)
    axis = -1 if x.ndim else None
    all_hi = jnp.all(x >= 1, axis=axis, keepdims=True)
    all_lo = jnp.all(x <= -1, axis=axis, keepdims=True)
    one = jnp.ones((), x.dtype)
    return jnp.where(all_hi, one, jnp.where(all_lo, -one, x))


_ACTIVATION_FNS: dict[str, Callable[[Array], Array]] = {
    "tanh": jnp.tanh,
    "sigmoid": jax.nn.sigmoid,
    "relu": jax.nn.relu,
    "hardtanh": lambda x: jnp.clip(x, -1.0, 1.0),
    MATLAB_HTANH: matlab_htanh,
}
# Activations whose output is never negative (matters for Theorem 2's reversal-potential hull).
NONNEGATIVE_ACTIVATIONS: frozenset[str] = frozenset({"sigmoid", "relu"})
# Activations with |act(x)| <= 1 (matters for Theorem 1's W bound).
BOUNDED_ACTIVATIONS: frozenset[str] = frozenset({"tanh", "sigmoid", "hardtanh"})

WEIGHT_CONVENTIONS: tuple[str, ...] = ("paper", "code", "matlab")
LTC_DECAYS: tuple[str, ...] = ("abs", "signed")


def _canonical(arg: str, name: str, aliases: dict[str, str], choices: tuple[str, ...]) -> str:
    """The canonical name of ``name`` in ``aliases`` (case-insensitive); ``arg`` names the
    argument in the error."""
    key = str(name).lower()
    if key not in aliases:
        raise argument_error(arg, f"one of {choices} (or an alias)", repr(name))
    return aliases[key]


def canonical_model(name: str) -> str:
    """Return the canonical model name (``"ltc"``, ``"ctrnn"`` or ``"node"``).

    Example:
        >>> canonical_model("Neural-ODE")
        'node'
    """
    return _canonical("model", name, _MODEL_ALIASES, MODELS)


def canonical_activation(name: str) -> str:
    """Return the canonical activation name (``tanh``, ``sigmoid``, ``relu``, ``hardtanh``).

    Example:
        >>> canonical_activation("hard-tanh")
        'hardtanh'
    """
    return _canonical("activation", name, _ACTIVATION_ALIASES, ALL_ACTIVATIONS)


def get_activation(name: str) -> Callable[[Array], Array]:
    """Look up an activation function by name.

    Args:
        name: ``"tanh"``, ``"sigmoid"``, ``"relu"`` or ``"hardtanh"`` (aliases ``"hard-tanh"``,
            ``"hard_tanh"``, ``"logistic"``), or ``"htanh_matlab"`` (:func:`matlab_htanh`).

    Returns:
        The elementwise function.

    Example:
        >>> float(get_activation("hardtanh")(jnp.array(3.0)))
        1.0
    """
    return _ACTIVATION_FNS[canonical_activation(name)]


@dataclasses.dataclass(frozen=True)
class NetworkSpec:
    """Static (hashable) description of a random network; usable as a ``jit`` static argument.

    Attributes:
        model: ``"ltc"``, ``"ctrnn"`` or ``"node"`` (aliases accepted, stored canonically).
        width: neurons per layer ``k`` (> 0).
        depth: number of stacked layers ``n`` (> 0).
        activation: activation name (see :func:`get_activation`).
        input_dim: dimension of the driving input (2 for the circle).
        weight_convention: ``"paper"`` (variance ``sigma_w^2 / width``), ``"code"``
            (standard deviation ``sigma_w``) or ``"matlab"`` (what the paper's MATLAB code
            draws: standard deviation ``sigma_w2``, a ``(k, k)`` first-layer ``E_in``; see the
            module docstring).
        recurrent: for CT-RNN / Neural ODE only, add ``W_rec y`` inside ``f_in``.
        tau_min: floor applied to the drawn time constants (0 = none, as in the paper).
        ltc_decay: LTC only: ``"abs"`` (decay ``1/tau + |f_in| + |f_rec|``, the default) or
            ``"signed"`` (``1/tau + f_in + f_rec``, Eq. 1 without absolute values).

    Example:
        >>> NetworkSpec("ltc", width=25, depth=2, activation="tanh").state_size
        50
    """

    model: str = "ltc"
    width: int = 25
    depth: int = 1
    activation: str = "tanh"
    input_dim: int = 2
    weight_convention: str = "paper"
    recurrent: bool = False
    tau_min: float = 0.0
    ltc_decay: str = "abs"

    def __post_init__(self) -> None:
        object.__setattr__(self, "model", canonical_model(self.model))
        object.__setattr__(self, "activation", canonical_activation(self.activation))
        for field in ("width", "depth", "input_dim"):
            object.__setattr__(self, field, int(check_positive_int(field, getattr(self, field))))
        check_choice("weight_convention", self.weight_convention, WEIGHT_CONVENTIONS)
        check_choice("ltc_decay", self.ltc_decay, LTC_DECAYS)
        if not float(self.tau_min) >= 0.0:
            raise argument_error("tau_min", "a number >= 0", repr(self.tau_min))
        object.__setattr__(self, "recurrent", bool(self.recurrent))
        object.__setattr__(self, "tau_min", float(self.tau_min))

    @property
    def state_size(self) -> int:
        """Total ODE dimension ``depth * width``.

        Example:
            >>> NetworkSpec("node", width=4, depth=3).state_size
            12
        """
        return self.depth * self.width

    @property
    def uses_rec(self) -> bool:
        """Whether the model has a recurrent weight matrix.

        Example:
            >>> NetworkSpec("ctrnn").uses_rec, NetworkSpec("ltc").uses_rec
            (False, True)
        """
        return self.model == "ltc" or self.recurrent

    def replace(self, **changes) -> NetworkSpec:
        """Return a copy with some fields changed.

        Example:
            >>> NetworkSpec("ltc").replace(width=10).width
            10
        """
        return dataclasses.replace(self, **changes)


class LayerParams(NamedTuple):
    """Parameters of one layer; fields a model does not use are ``None``.

    Shapes (``m`` = layer input size, ``k`` = width): ``w_in (m, k)``, ``b_in (k,)``,
    ``w_rec (k, k)``, ``b_rec (k,)`` (LTC only), ``e_in (m, k)`` (``(k, k)`` under the
    ``"matlab"`` convention), ``e_rec (k, k)`` (LTC only), ``tau (k,)`` (LTC and CT-RNN). The
    LTC's reversal potential of neuron ``i`` sums column ``i`` of ``e_in`` over all its rows.

    Example:
        >>> p = init_random_network(jax.random.PRNGKey(0), NetworkSpec("node", width=3))[0]
        >>> p.w_in.shape, p.tau is None
        ((2, 3), True)
    """

    w_in: Float[Array, "m k"]
    b_in: Float[Array, " k"]
    w_rec: Float[Array, "k k"] | None = None
    b_rec: Float[Array, " k"] | None = None
    e_in: Float[Array, "e k"] | None = None
    e_rec: Float[Array, "k k"] | None = None
    tau: Float[Array, " k"] | None = None


def init_random_network(
    key: PRNGKeyArray,
    spec: NetworkSpec,
    sigma_w2: float | Float[Array, ""] = 2.0,
    sigma_b2: float | Float[Array, ""] = 1.0,
    dtype=None,
) -> tuple[LayerParams, ...]:
    """Draw the parameters of a random network (see the module docstring for distributions).

    ``sigma_w2`` and ``sigma_b2`` may be traced, so a sweep over them does not recompile;
    vmap over ``key`` to draw many networks at once.

    Args:
        key: PRNG key.
        spec: network description.
        sigma_w2: weight variance scale sigma_w^2 (> 0).
        sigma_b2: bias variance sigma_b^2 (> 0); also the scale of ``tau``.
        dtype: floating dtype (default: JAX's default float).

    Returns:
        One :class:`LayerParams` per layer.

    Example:
        >>> spec = NetworkSpec("ltc", width=8, activation="tanh")
        >>> params = init_random_network(jax.random.PRNGKey(0), spec, sigma_w2=2.0)
        >>> params[0].w_in.shape
        (2, 8)
    """
    if not isinstance(spec, NetworkSpec):
        raise TypeError(f"spec: expected a NetworkSpec, got {type(spec).__name__}")
    for name, value in (("sigma_w2", sigma_w2), ("sigma_b2", sigma_b2)):
        if is_concrete(value):  # traced values (inside jit / vmap) cannot be checked
            check_positive_number(name, float(value))
    dtype = jnp.zeros(()).dtype if dtype is None else dtype
    k = spec.width
    if spec.weight_convention == "matlab":  # makedist's 'sigma' is the standard deviation
        w_std = jnp.asarray(sigma_w2, dtype)
        b_std = jnp.asarray(sigma_b2, dtype)
    else:
        w_var = sigma_w2 / k if spec.weight_convention == "paper" else sigma_w2
        w_std = jnp.sqrt(jnp.asarray(w_var, dtype))
        b_std = jnp.sqrt(jnp.asarray(sigma_b2, dtype))

    layers = []
    for layer_key in jax.random.split(key, spec.depth):
        m = spec.input_dim if not layers else k
        kw, kb, kwr, kbr, ke, ker, kt = jax.random.split(layer_key, 7)

        def normal(rng, shape, std):
            return std * jax.random.normal(rng, shape, dtype)

        fields = {
            "w_in": normal(kw, (m, k), w_std),
            "b_in": normal(kb, (k,), b_std),
        }
        if spec.uses_rec:
            fields["w_rec"] = normal(kwr, (k, k), w_std)
        if spec.model == "ltc":
            fields["b_rec"] = normal(kbr, (k,), b_std)
            e_rows = k if spec.weight_convention == "matlab" else m
            fields["e_in"] = normal(ke, (e_rows, k), w_std)
            fields["e_rec"] = normal(ker, (k, k), w_std)
        if spec.model in ("ltc", "ctrnn"):
            tau = jnp.abs(normal(kt, (k,), b_std))
            fields["tau"] = jnp.maximum(tau, jnp.asarray(spec.tau_min, dtype))
        layers.append(LayerParams(**fields))
    return tuple(layers)


def layer_inputs(
    spec: NetworkSpec, states: Float[Array, "*batch depth k"], u: Float[ArrayLike, "*batch m"]
) -> tuple[Array, ...]:
    """Inputs seen by each layer: ``u`` for layer 0, the previous layer's state otherwise.

    Example:
        >>> spec = NetworkSpec("ltc", width=3, depth=2)
        >>> [x.shape for x in layer_inputs(spec, jnp.zeros((2, 3)), jnp.zeros(2))]
        [(2,), (3,)]
    """
    return tuple(jnp.asarray(u) if i == 0 else states[..., i - 1, :] for i in range(spec.depth))


def activation_fn(spec: NetworkSpec, activation_index=None) -> Callable[[Array], Array]:
    """The activation of ``spec``, or ``ALL_ACTIVATIONS[activation_index]`` when an index is
    given.

    ``activation_index`` may be a traced integer (dispatch by :func:`jax.lax.switch`), so one
    compiled solve serves every activation and the activation can be vmapped over.

    Example:
        >>> spec = NetworkSpec("ltc", activation="tanh")
        >>> float(activation_fn(spec, 2)(jnp.array(-1.0)))  # ACTIVATIONS[2] == "relu"
        0.0
    """
    if activation_index is None:
        return get_activation(spec.activation)
    branches = [_ACTIVATION_FNS[name] for name in ALL_ACTIVATIONS]
    index = jnp.asarray(activation_index, jnp.int32)
    return lambda x: jax.lax.switch(index, branches, x)


def ltc_gates(
    spec: NetworkSpec,
    layer: LayerParams,
    y: Float[Array, "*batch k"],
    u: Float[ArrayLike, "*batch m"],
    activation_index=None,
) -> tuple[Array, Array]:
    """Return ``(f_in, f_rec)`` of one paper-form LTC layer.

    Example:
        >>> spec = NetworkSpec("ltc", width=4)
        >>> p = init_random_network(jax.random.PRNGKey(0), spec)[0]
        >>> [g.shape for g in ltc_gates(spec, p, jnp.zeros(4), jnp.ones(2))]
        [(4,), (4,)]
    """
    act = activation_fn(spec, activation_index)
    return act(u @ layer.w_in + layer.b_in), act(y @ layer.w_rec + layer.b_rec)


def _layer_rhs(
    spec: NetworkSpec, layer: LayerParams, y: Array, u: ArrayLike, activation_index
) -> Array:
    act = activation_fn(spec, activation_index)
    if spec.model == "ltc":
        f_in, f_rec = ltc_gates(spec, layer, y, u, activation_index)
        a_in = jnp.sum(layer.e_in, axis=0)
        a_rec = jnp.sum(layer.e_rec, axis=0)
        if spec.ltc_decay == "signed":
            decay = 1.0 / layer.tau + f_in + f_rec
        else:
            decay = 1.0 / layer.tau + jnp.abs(f_in) + jnp.abs(f_rec)
        return -y * decay + f_in * a_in + f_rec * a_rec
    pre = u @ layer.w_in + layer.b_in
    if spec.recurrent:
        pre = pre + y @ layer.w_rec
    f_in = act(pre)
    if spec.model == "ctrnn":
        return -y / layer.tau + f_in
    return f_in


def network_vector_field(
    spec: NetworkSpec,
    params: tuple[LayerParams, ...],
    y: Float[Array, " depth_times_k"],
    u: Float[ArrayLike, " m"],
    activation_index=None,
) -> Float[Array, " depth_times_k"]:
    """Time derivative of the flattened stacked state ``y`` (layer-major) given input ``u``.

    ``activation_index`` (optional, may be traced) overrides ``spec.activation`` with
    ``ACTIVATIONS[activation_index]``; see :func:`activation_fn`.

    Example:
        >>> spec = NetworkSpec("node", width=4, depth=2, activation="relu")
        >>> p = init_random_network(jax.random.PRNGKey(0), spec)
        >>> network_vector_field(spec, p, jnp.zeros(8), jnp.array([0.0, 1.0])).shape
        (8,)
    """
    if len(params) != spec.depth:
        raise argument_error("params", f"{spec.depth} layers (spec.depth)", len(params))
    states = y.reshape(spec.depth, spec.width)
    inputs = layer_inputs(spec, states, u)
    rhs = [
        _layer_rhs(spec, layer, states[i], inputs[i], activation_index)
        for i, layer in enumerate(params)
    ]
    return jnp.concatenate(rhs)
