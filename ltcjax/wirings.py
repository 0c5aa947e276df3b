"""Wirings: immutable, seed-deterministic connectivity graphs for LTC networks.

A wiring says which neurons are connected by a synapse and with which polarity. It is described
by two integer matrices with entries in ``{-1, 0, +1}`` and layout ``[src, dest]``:

* ``adjacency_matrix`` (``units x units``): synapses between the neurons of the cell;
* ``sensory_adjacency_matrix`` (``input_dim x units``): synapses from the inputs ("sensory
  neurons") to the neurons of the cell. It only exists once the wiring is *built* for an input
  dimension.

``+1`` marks an excitatory synapse, ``-1`` an inhibitory one and ``0`` no synapse. The LTC cell
uses ``|adjacency|`` as a fixed sparsity mask and the signed matrix as the initial reversal
potential (``erev``). Neurons ``0 .. output_dim - 1`` are the motor (output) neurons.

The vocabulary and the random draws follow ``ncps`` 1.0.1: for the same arguments, seed and input
dimension, :class:`FullyConnected`, :class:`Random`, :class:`NCP` and :class:`AutoNCP` produce
exactly the matrices ``ncps.wirings`` produces. Unlike ``ncps``, wirings here are immutable
values: :meth:`Wiring.build` returns a new wiring instead of mutating the object, and wirings
compare and hash by content, so they can be static arguments of ``jax.jit``.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import FrozenInstanceError
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ltcjax.validation import argument_error, check_positive_int

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["Wiring", "FullyConnected", "Random", "NCP", "AutoNCP", "NeuronRole", "Role"]

NeuronRole = Literal["motor", "command", "inter"]
#: A role in :attr:`Wiring.roles`: the neurons' roles plus ``"sensory"`` for the inputs.
Role = Literal["sensory", "inter", "command", "motor"]

_ADJ_DTYPE = np.int32
_STATE_KEYS = (
    "units",
    "output_dim",
    "input_dim",
    "adjacency_matrix",
    "sensory_adjacency_matrix",
    "_hash",
)


# --------------------------------------------------------------------------------------------
# Validation helpers
# --------------------------------------------------------------------------------------------


def _check_int(value: Any, name: str, minimum: int | None = None) -> int:
    """Returns ``value`` as a Python int, or raises naming the argument ``name``."""
    if isinstance(value, bool | np.bool_):
        raise TypeError(f"{name}: expected an integer, got {value!r}")
    try:
        result = operator.index(value)
    except TypeError:
        raise TypeError(f"{name}: expected an integer, got {value!r}") from None
    if minimum is not None and result < minimum:
        raise argument_error(name, f"an integer >= {minimum}", result)
    return result


def _check_output_dim(output_dim: Any, units: int) -> int:
    """Returns ``output_dim`` (the motor neuron count) if it is an int in ``[1, units]``."""
    output_dim = _check_int(output_dim, "output_dim")
    if not 1 <= output_dim <= units:
        raise argument_error("output_dim", f"an integer in [1, units={units}]", output_dim)
    return output_dim


def _check_float(value: Any, name: str) -> float:
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | float | np.number):
        raise TypeError(f"{name}: expected a number, got {value!r}")
    return float(value)


def _as_adjacency(matrix: Any, name: str) -> np.ndarray:
    """Validates a {-1, 0, 1} matrix and returns a read-only int32 copy."""
    arr = np.asarray(matrix)
    if arr.ndim != 2:
        raise argument_error(name, "a 2-D array", f"shape {arr.shape}")
    if arr.dtype == np.bool_ or not (
        np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)
    ):
        raise TypeError(f"{name}: expected an integer or float array, got dtype {arr.dtype}")
    if not np.isin(arr, (-1, 0, 1)).all():
        raise argument_error(name, "entries in {-1, 0, 1}", "other values")
    out = arr.astype(_ADJ_DTYPE, copy=True)
    out.flags.writeable = False
    return out


def _restore(cls: type[Wiring], config: dict[str, Any], input_dim: int | None) -> Wiring:
    """Pickle helper: rebuilds a wiring from its constructor arguments."""
    wiring = cls(**config)
    return wiring if input_dim is None else wiring.build(input_dim)


# --------------------------------------------------------------------------------------------
# Base class
# --------------------------------------------------------------------------------------------


class Wiring:
    """An immutable wiring given by explicit adjacency matrices (base class of all wirings).

    Most users create one of the generated wirings (:class:`FullyConnected`, :class:`Random`,
    :class:`NCP`, :class:`AutoNCP`); a custom wiring is made with :meth:`from_adjacency`.

    Attributes:
        units: Number of neurons of the cell (the state size).
        output_dim: Number of motor neurons; they are neurons ``0 .. output_dim - 1``.
        input_dim: Number of inputs (sensory neurons), ``None`` until built.
        adjacency_matrix: Read-only ``(units, units)`` int32 array, layout ``[src, dest]``,
            entries in ``{-1, 0, 1}``.
        sensory_adjacency_matrix: Read-only ``(input_dim, units)`` int32 array, or ``None``
            until built.

    Example:
        >>> import numpy as np
        >>> adj = np.array([[0, 1, -1], [1, 0, 0], [0, 1, 1]])
        >>> w = Wiring.from_adjacency(adj, output_dim=1)
        >>> w.units, w.is_built
        (3, False)
        >>> w.build(2).sensory_adjacency_matrix.shape
        (2, 3)
    """

    units: int
    output_dim: int
    input_dim: int | None
    adjacency_matrix: np.ndarray
    sensory_adjacency_matrix: np.ndarray | None

    def __init__(
        self,
        adjacency_matrix: Any,
        output_dim: int,
        sensory_adjacency_matrix: Any | None = None,
    ) -> None:
        """Creates a wiring from explicit matrices (see :meth:`from_adjacency`)."""
        adj = _as_adjacency(adjacency_matrix, "adjacency_matrix")
        if adj.shape[0] != adj.shape[1] or adj.shape[0] == 0:
            raise argument_error(
                "adjacency_matrix", "a square non-empty array", f"shape {adj.shape}"
            )
        units = adj.shape[0]
        output_dim = _check_output_dim(output_dim, units)
        sensory = None
        input_dim = None
        if sensory_adjacency_matrix is not None:
            sensory = _as_adjacency(sensory_adjacency_matrix, "sensory_adjacency_matrix")
            if sensory.shape[1] != units or sensory.shape[0] == 0:
                raise argument_error(
                    "sensory_adjacency_matrix",
                    f"shape (input_dim, {units}) with input_dim >= 1",
                    f"shape {sensory.shape}",
                )
            input_dim = sensory.shape[0]
        self._set("units", units)
        self._set("output_dim", output_dim)
        self._set("input_dim", input_dim)
        self._set("adjacency_matrix", adj)
        self._set("sensory_adjacency_matrix", sensory)
        self._set("_hash", hash(self._key()))

    @classmethod
    def from_adjacency(
        cls,
        adjacency: Any,
        output_dim: int,
        sensory_adjacency: Any | None = None,
    ) -> Wiring:
        """Makes a custom wiring from adjacency matrices.

        Args:
            adjacency: ``(units, units)`` array with entries in ``{-1, 0, 1}``, layout
                ``[src, dest]``.
            output_dim: Number of motor neurons (neurons ``0 .. output_dim - 1``).
            sensory_adjacency: Optional ``(input_dim, units)`` array; if given, the wiring is
                built for ``input_dim``. If omitted, :meth:`build` connects every input to every
                neuron with an excitatory synapse.

        Returns:
            A plain :class:`Wiring` (whatever class this is called on).

        Example:
            >>> w = Wiring.from_adjacency(np.eye(4), 2, sensory_adjacency=np.ones((3, 4)))
            >>> w.input_dim, w.synapse_count, w.sensory_synapse_count
            (3, 4, 12)
        """
        return Wiring(adjacency, output_dim, sensory_adjacency)

    # ---- immutability ---------------------------------------------------------------------

    def _set(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenInstanceError(
            f"{type(self).__name__} is immutable: cannot assign to field {name!r}"
        )

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(
            f"{type(self).__name__} is immutable: cannot delete field {name!r}"
        )

    def __copy__(self) -> Wiring:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Wiring:
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (_restore, (type(self), self._config(), self.input_dim))

    # ---- equality ---------------------------------------------------------------------------

    def _config(self) -> dict[str, Any]:
        """Constructor arguments that recreate the unbuilt (or, here, explicit) wiring."""
        return {
            "adjacency_matrix": self.adjacency_matrix,
            "output_dim": self.output_dim,
            "sensory_adjacency_matrix": self.sensory_adjacency_matrix,
        }

    def _key(self) -> tuple[Any, ...]:
        scalars = tuple(
            (k, v) for k, v in sorted(self._config().items()) if not isinstance(v, np.ndarray)
        )
        sensory = self.sensory_adjacency_matrix
        return (
            type(self),
            scalars,
            self.units,
            self.output_dim,
            self.input_dim,
            self.adjacency_matrix.shape,
            self.adjacency_matrix.tobytes(),
            None if sensory is None else (sensory.shape, sensory.tobytes()),
        )

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if not isinstance(other, Wiring):
            return NotImplemented
        return self._hash == other._hash and self._key() == other._key()

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        text = (
            f"{type(self).__name__}(units={self.units}, output_dim={self.output_dim}, "
            f"synapses={self.synapse_count}"
        )
        if self.is_built:
            text += f", input_dim={self.input_dim}, sensory_synapses={self.sensory_synapse_count}"
        return text + ")"

    # ---- building ---------------------------------------------------------------------------

    @property
    def is_built(self) -> bool:
        """Whether the wiring has an input dimension (and a sensory adjacency matrix)."""
        return self.input_dim is not None

    def build(self, input_dim: int) -> Wiring:
        """Returns this wiring built for ``input_dim`` inputs.

        The wiring itself is never modified. Building an already built wiring with the same
        ``input_dim`` returns an equal wiring; a different ``input_dim`` raises ``ValueError``.

        Args:
            input_dim: Number of input features (sensory neurons), >= 1.

        Returns:
            The built wiring.
        """
        input_dim = _check_int(input_dim, "input_dim", minimum=1)
        if self.input_dim is not None:
            if input_dim != self.input_dim:
                raise argument_error(
                    "input_dim",
                    f"the {self.input_dim} the wiring is already built with",
                    input_dim,
                )
            return self
        return self._build(input_dim)

    def _build(self, input_dim: int) -> Wiring:
        sensory = np.ones((input_dim, self.units), dtype=_ADJ_DTYPE)
        return Wiring(self.adjacency_matrix, self.output_dim, sensory)

    # ---- queries ----------------------------------------------------------------------------

    def erev_initializer(self, dtype: Any = np.float32) -> np.ndarray:
        """Returns a float copy of ``adjacency_matrix`` (initial reversal potentials)."""
        return np.array(self.adjacency_matrix, dtype=dtype)

    def sensory_erev_initializer(self, dtype: Any = np.float32) -> np.ndarray:
        """Returns a float copy of ``sensory_adjacency_matrix``; raises if not built."""
        self._require_built("sensory_erev_initializer")
        return np.array(self.sensory_adjacency_matrix, dtype=dtype)

    @property
    def synapse_count(self) -> int:
        """Number of synapses between the neurons of the cell."""
        return int(np.abs(self.adjacency_matrix).sum())

    @property
    def sensory_synapse_count(self) -> int:
        """Number of synapses from the inputs to the neurons (0 if not built)."""
        if self.sensory_adjacency_matrix is None:
            return 0
        return int(np.abs(self.sensory_adjacency_matrix).sum())

    @property
    def num_layers(self) -> int:
        """Number of neuron layers (1, except 3 for NCP: inter, command, motor)."""
        return 1

    def get_neurons_of_layer(self, layer_id: int) -> list[int]:
        """Returns the neuron indices of layer ``layer_id`` (all neurons for a 1-layer wiring)."""
        self._check_layer(layer_id)
        return list(range(self.units))

    def get_type_of_neuron(self, neuron_id: int) -> NeuronRole:
        """Returns ``"motor"`` for neurons ``< output_dim``, otherwise ``"inter"``."""
        neuron_id = self._check_neuron(neuron_id)
        return "motor" if neuron_id < self.output_dim else "inter"

    @property
    def neuron_roles(self) -> tuple[NeuronRole, ...]:
        """Role (``"motor"``, ``"command"`` or ``"inter"``) of every neuron, by index."""
        return tuple(self.get_type_of_neuron(i) for i in range(self.units))

    @property
    def sensory_indices(self) -> tuple[int, ...]:
        """Indices of the sensory neurons (the inputs, rows of ``sensory_adjacency_matrix``).

        Sensory neurons are not neurons of the cell (they have no state): they are the
        ``input_dim`` input features, so the wiring must be built.

        Example:
            >>> FullyConnected(4).build(3).sensory_indices
            (0, 1, 2)
        """
        self._require_built("sensory_indices")
        return tuple(range(self.input_dim))

    @property
    def roles(self) -> dict[Role, tuple[int, ...]]:
        """Indices by role: ``"sensory"`` (input features; empty until built), then the
        cell's ``"inter"``, ``"command"`` and ``"motor"`` neurons.

        Example:
            >>> roles = NCP(3, 2, 1, 2, 2, 1, 1).build(2).roles
            >>> roles["sensory"], roles["inter"], roles["command"], roles["motor"]
            ((0, 1), (3, 4, 5), (1, 2), (0,))
        """
        by_role: dict[Role, tuple[int, ...]] = {
            "sensory": self.sensory_indices if self.is_built else ()
        }
        for role in ("inter", "command", "motor"):
            by_role[role] = tuple(i for i, r in enumerate(self.neuron_roles) if r == role)
        return by_role

    def _check_neuron(self, neuron_id: int) -> int:
        neuron_id = _check_int(neuron_id, "neuron_id")
        if not 0 <= neuron_id < self.units:
            raise argument_error("neuron_id", f"an index in [0, {self.units})", neuron_id)
        return neuron_id

    def _check_layer(self, layer_id: int) -> int:
        layer_id = _check_int(layer_id, "layer_id")
        if not 0 <= layer_id < self.num_layers:
            raise argument_error("layer_id", f"an index in [0, {self.num_layers})", layer_id)
        return layer_id

    def _require_built(self, what: str) -> None:
        if not self.is_built:
            raise argument_error(
                "wiring",
                f"a built wiring for {what} (wiring = wiring.build(input_dim))",
                f"{self!r}, not built",
            )

    # ---- drawing ----------------------------------------------------------------------------

    def draw(self, ax: Axes | None = None, **options: Any) -> Figure:
        """Draws the built wiring with matplotlib: :func:`ltcjax.wiring_plot.draw_wiring`
        (same options: ``neuron_colors``, ``synapse_colors``, ``draw_labels``, ``arrows``,
        ``node_size``, ``legend``); returns the figure.

        Example:
            >>> import matplotlib
            >>> matplotlib.use("Agg")
            >>> fig = AutoNCP(8, 1).build(2).draw(legend=False)
            >>> import matplotlib.pyplot as plt; plt.close(fig)
        """
        # Imported when called, not at the top: the data structure holds no plotting code,
        # and importing it imports neither the drawing module nor matplotlib.
        from ltcjax.wiring_plot import draw_wiring

        return draw_wiring(self, ax, **options)


# --------------------------------------------------------------------------------------------
# Generated wirings
# --------------------------------------------------------------------------------------------


class _GeneratedWiring(Wiring):
    """A wiring whose matrices are a deterministic function of its arguments and input_dim."""

    def _generate(self, input_dim: int | None) -> tuple[np.ndarray, np.ndarray | None]:
        raise NotImplementedError

    def _output_dim(self) -> int:
        raise NotImplementedError

    def _finish(self, input_dim: int | None) -> None:
        adj, sensory = self._generate(input_dim)
        Wiring.__init__(self, adj, self._output_dim(), sensory)

    def _build(self, input_dim: int) -> Wiring:
        new = object.__new__(type(self))
        new.__dict__.update({k: v for k, v in self.__dict__.items() if k not in _STATE_KEYS})
        new._finish(input_dim)
        return new

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._config().items())
        text = f"{type(self).__name__}({args})"
        if self.is_built:
            text += f".build({self.input_dim})"
        return text


class _SizedWiring(_GeneratedWiring):
    """A generated wiring with ``units`` and ``output_dim`` (default ``units``) arguments,
    then the arguments named in ``_options`` (:class:`FullyConnected`, :class:`Random`)."""

    _options: tuple[str, ...] = ()

    def _set_sizes(self, units: int, output_dim: int | None) -> None:
        units = _check_int(units, "units", minimum=1)
        self._set("_units", units)
        self._set("_out", units if output_dim is None else _check_output_dim(output_dim, units))

    def _config(self) -> dict[str, Any]:
        options = {name: getattr(self, name) for name in self._options}
        return {"units": self._units, "output_dim": self._out, **options}

    def _output_dim(self) -> int:
        return self._out


def _polarities(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` draws of ``rng.choice([-1, 1, 1])`` (same stream as ``n`` scalar calls)."""
    return np.array([-1, 1, 1], dtype=_ADJ_DTYPE)[rng.integers(0, 3, size=n)]


class FullyConnected(_SizedWiring):
    """Every neuron is connected to every neuron (and every input to every neuron).

    Polarities are drawn with ``numpy.random.default_rng(erev_init_seed)``; a synapse is
    excitatory with probability 2/3, as in ``ncps``.

    Args:
        units: Number of neurons.
        output_dim: Number of motor neurons (default: ``units``).
        erev_init_seed: Seed of the polarity draws.
        self_connections: Whether neurons synapse onto themselves.

    Example:
        >>> w = FullyConnected(8, output_dim=2).build(3)
        >>> w.adjacency_matrix.shape, w.sensory_adjacency_matrix.shape
        ((8, 8), (3, 8))
        >>> w.synapse_count
        64
    """

    erev_init_seed: int
    self_connections: bool
    _options = ("erev_init_seed", "self_connections")

    def __init__(
        self,
        units: int,
        output_dim: int | None = None,
        erev_init_seed: int = 1111,
        self_connections: bool = True,
    ) -> None:
        self._set_sizes(units, output_dim)
        self._set("erev_init_seed", _check_int(erev_init_seed, "erev_init_seed", minimum=0))
        self._set("self_connections", bool(self_connections))
        self._finish(None)

    def _generate(self, input_dim: int | None) -> tuple[np.ndarray, np.ndarray | None]:
        n = self._units
        rng = np.random.default_rng(self.erev_init_seed)
        # ncps draws one polarity per (src, dest) in row-major order, skipping the diagonal
        # if self-connections are disabled; sensory polarities follow in build().
        mask = np.ones((n, n), dtype=bool)
        if not self.self_connections:
            np.fill_diagonal(mask, False)
        adj = np.zeros((n, n), dtype=_ADJ_DTYPE)
        adj[mask] = _polarities(rng, int(mask.sum()))
        if input_dim is None:
            return adj, None
        sensory = _polarities(rng, input_dim * n).reshape(input_dim, n)
        return adj, sensory


class Random(_SizedWiring):
    """Randomly placed synapses with a given sparsity.

    ``round(units**2 * (1 - sparsity_level))`` synapses between neurons and
    ``round(input_dim * units * (1 - sparsity_level))`` sensory synapses are placed uniformly at
    random without repetition; each is excitatory with probability 2/3 (``ncps`` semantics,
    ``numpy.random.default_rng(random_seed)``).

    Args:
        units: Number of neurons.
        output_dim: Number of motor neurons (default: ``units``).
        sparsity_level: Fraction of absent synapses, in ``[0, 1)``.
        random_seed: Seed of the draws.

    Example:
        >>> w = Random(10, output_dim=1, sparsity_level=0.5).build(4)
        >>> w.synapse_count, w.sensory_synapse_count
        (50, 20)
    """

    sparsity_level: float
    random_seed: int
    _options = ("sparsity_level", "random_seed")

    def __init__(
        self,
        units: int,
        output_dim: int | None = None,
        sparsity_level: float = 0.0,
        random_seed: int = 1111,
    ) -> None:
        self._set_sizes(units, output_dim)
        sparsity_level = _check_float(sparsity_level, "sparsity_level")
        if not 0.0 <= sparsity_level < 1.0:
            raise argument_error("sparsity_level", "a value in [0, 1)", sparsity_level)
        self._set("sparsity_level", sparsity_level)
        self._set("random_seed", _check_int(random_seed, "random_seed", minimum=0))
        self._finish(None)

    def _generate(self, input_dim: int | None) -> tuple[np.ndarray, np.ndarray | None]:
        n = self._units
        density = 1.0 - self.sparsity_level
        rng = np.random.default_rng(self.random_seed)
        # Choosing k of the N (src, dest) pairs draws the same indices as choosing k of range(N).
        count = int(np.round(n * n * density))
        flat = rng.choice(n * n, size=count, replace=False)
        adj = np.zeros(n * n, dtype=_ADJ_DTYPE)
        adj[flat] = _polarities(rng, count)
        adj = adj.reshape(n, n)
        if input_dim is None:
            return adj, None
        count = int(np.round(input_dim * n * density))
        flat = rng.choice(input_dim * n, size=count, replace=False)
        # ncps draws the polarity of each sensory synapse twice; the second draw is kept.
        sensory = np.zeros(input_dim * n, dtype=_ADJ_DTYPE)
        sensory[flat] = _polarities(rng, 2 * count)[1::2]
        return adj, sensory.reshape(input_dim, n)


class NCP(_GeneratedWiring):
    """Neural Circuit Policy wiring: sensory -> inter -> command -> motor layers.

    Neuron indices are ordered motor ``[0, m)``, command ``[m, m + c)``, inter
    ``[m + c, units)``. Each input synapses onto ``sensory_fanout`` inter neurons, each inter
    neuron onto ``inter_fanout`` command neurons, ``recurrent_command_synapses`` random command
    -> command synapses are added, and each motor neuron receives ``motor_fanin`` synapses from
    command neurons. Neurons left unconnected get random partners. Polarities are +-1 with equal
    probability. All draws use ``numpy.random.RandomState(seed)`` at build time, as in ``ncps``;
    an unbuilt NCP therefore has an all-zero ``adjacency_matrix``.

    Args:
        inter_neurons: Number of inter neurons (layer 1).
        command_neurons: Number of command neurons (layer 2).
        motor_neurons: Number of motor neurons (layer 3, the outputs).
        sensory_fanout: Outgoing synapses per input, at most ``inter_neurons``.
        inter_fanout: Outgoing synapses per inter neuron, at most ``command_neurons``.
        recurrent_command_synapses: Number of command -> command synapse draws.
        motor_fanin: Incoming synapses per motor neuron, at most ``command_neurons``.
        seed: Seed of the draws.

    Example:
        >>> w = NCP(6, 4, 2, sensory_fanout=3, inter_fanout=2,
        ...         recurrent_command_synapses=3, motor_fanin=2).build(5)
        >>> w.units, w.output_dim, w.get_neurons_of_layer(1)
        (12, 2, [2, 3, 4, 5])
    """

    inter_neurons: int
    command_neurons: int
    motor_neurons: int
    sensory_fanout: int
    inter_fanout: int
    recurrent_command_synapses: int
    motor_fanin: int
    seed: int

    def __init__(
        self,
        inter_neurons: int,
        command_neurons: int,
        motor_neurons: int,
        sensory_fanout: int,
        inter_fanout: int,
        recurrent_command_synapses: int,
        motor_fanin: int,
        seed: int = 22222,
    ) -> None:
        self._init_ncp(
            inter_neurons,
            command_neurons,
            motor_neurons,
            sensory_fanout,
            inter_fanout,
            recurrent_command_synapses,
            motor_fanin,
            seed,
        )
        self._finish(None)

    def _init_ncp(
        self,
        inter_neurons: int,
        command_neurons: int,
        motor_neurons: int,
        sensory_fanout: int,
        inter_fanout: int,
        recurrent_command_synapses: int,
        motor_fanin: int,
        seed: int,
    ) -> None:
        inter = _check_int(inter_neurons, "inter_neurons", minimum=1)
        command = _check_int(command_neurons, "command_neurons", minimum=1)
        motor = _check_int(motor_neurons, "motor_neurons", minimum=1)
        sensory_fanout = _check_int(sensory_fanout, "sensory_fanout", minimum=0)
        inter_fanout = _check_int(inter_fanout, "inter_fanout", minimum=0)
        recurrent = _check_int(recurrent_command_synapses, "recurrent_command_synapses", 0)
        motor_fanin = _check_int(motor_fanin, "motor_fanin", minimum=0)
        seed = _check_int(seed, "seed", minimum=0)
        if seed >= 2**32:
            raise argument_error("seed", "an integer < 2**32", seed)
        if motor_fanin > command:
            raise argument_error(
                "motor_fanin", f"at most the {command} command neurons", motor_fanin
            )
        if sensory_fanout > inter:
            raise argument_error(
                "sensory_fanout", f"at most the {inter} inter neurons", sensory_fanout
            )
        if inter_fanout > command:
            raise argument_error(
                "inter_fanout", f"at most the {command} command neurons", inter_fanout
            )
        self._set("inter_neurons", inter)
        self._set("command_neurons", command)
        self._set("motor_neurons", motor)
        self._set("sensory_fanout", sensory_fanout)
        self._set("inter_fanout", inter_fanout)
        self._set("recurrent_command_synapses", recurrent)
        self._set("motor_fanin", motor_fanin)
        self._set("seed", seed)

    def _config(self) -> dict[str, Any]:
        return {
            "inter_neurons": self.inter_neurons,
            "command_neurons": self.command_neurons,
            "motor_neurons": self.motor_neurons,
            "sensory_fanout": self.sensory_fanout,
            "inter_fanout": self.inter_fanout,
            "recurrent_command_synapses": self.recurrent_command_synapses,
            "motor_fanin": self.motor_fanin,
            "seed": self.seed,
        }

    def _output_dim(self) -> int:
        return self.motor_neurons

    # Neuron index ranges: [0..motor | command | inter].
    @property
    def _motor_ids(self) -> list[int]:
        return list(range(self.motor_neurons))

    @property
    def _command_ids(self) -> list[int]:
        m = self.motor_neurons
        return list(range(m, m + self.command_neurons))

    @property
    def _inter_ids(self) -> list[int]:
        start = self.motor_neurons + self.command_neurons
        return list(range(start, start + self.inter_neurons))

    @property
    def num_layers(self) -> int:
        """Number of neuron layers: 3 (inter, command, motor)."""
        return 3

    def get_neurons_of_layer(self, layer_id: int) -> list[int]:
        """Returns the inter (0), command (1) or motor (2) neuron indices."""
        layer_id = self._check_layer(layer_id)
        return [self._inter_ids, self._command_ids, self._motor_ids][layer_id]

    def get_type_of_neuron(self, neuron_id: int) -> NeuronRole:
        """Returns ``"motor"``, ``"command"`` or ``"inter"`` from the neuron's index range."""
        neuron_id = self._check_neuron(neuron_id)
        if neuron_id < self.motor_neurons:
            return "motor"
        if neuron_id < self.motor_neurons + self.command_neurons:
            return "command"
        return "inter"

    def _generate(self, input_dim: int | None) -> tuple[np.ndarray, np.ndarray | None]:
        units = self.inter_neurons + self.command_neurons + self.motor_neurons
        adj = np.zeros((units, units), dtype=_ADJ_DTYPE)
        if input_dim is None:
            return adj, None
        sensory = np.zeros((input_dim, units), dtype=_ADJ_DTYPE)
        rng = np.random.RandomState(self.seed)
        inter, command, motor = self._inter_ids, self._command_ids, self._motor_ids
        inputs = list(range(input_dim))

        def sign() -> int:
            return int(rng.choice([-1, 1]))

        def sensory_synapse(src: int, dest: int) -> None:
            sensory[src, dest] = sign()

        def synapse(src: int, dest: int) -> None:
            adj[src, dest] = sign()

        # The order of the draws below is the order of ncps 1.0.1's NCP.build(), including
        # its bounds on the fan-in of the second pass (the second group's size in step 2).
        # 1) inputs -> inter neurons, then inputs for inter neurons nobody reached.
        fanin = np.clip(input_dim * self.sensory_fanout // self.inter_neurons, 1, input_dim)
        _connect_layers(rng, inputs, inter, self.sensory_fanout, fanin, sensory_synapse)
        # 2) inter -> command neurons, then inter sources for unreached command neurons.
        fanin = np.clip(
            self.inter_neurons * self.inter_fanout // self.command_neurons,
            1,
            self.command_neurons,
        )
        _connect_layers(rng, inter, command, self.inter_fanout, fanin, synapse)
        # 3) recurrent command -> command synapses.
        for _ in range(self.recurrent_command_synapses):
            src = int(rng.choice(command))
            dest = int(rng.choice(command))
            synapse(src, dest)
        # 4) command -> motor neurons (each motor neuron draws its sources), then motor
        # targets for command neurons left without one.
        fanout = np.clip(
            self.motor_neurons * self.motor_fanin // self.command_neurons,
            1,
            self.motor_neurons,
        )
        _connect_layers(rng, motor, command, self.motor_fanin, fanout, lambda m, c: synapse(c, m))
        return adj, sensory


def _connect_layers(
    rng: np.random.RandomState,
    first: Sequence[int],
    second: Sequence[int],
    per_first: int,
    per_missed: int | np.integer,
    connect: Callable[[int, int], None],
) -> None:
    """ncps's two-pass layer connection: each ``a`` in ``first`` draws ``per_first``
    distinct partners ``b`` in ``second`` and calls ``connect(a, b)``; then each ``b`` that
    no ``a`` drew draws ``per_missed`` distinct partners in ``first``."""
    reached: set[int] = set()
    for a in first:
        for b in rng.choice(second, size=per_first, replace=False):
            reached.add(int(b))
            connect(int(a), int(b))
    for b in (b for b in second if b not in reached):
        for a in rng.choice(first, size=int(per_missed), replace=False):
            connect(int(a), int(b))


class AutoNCP(NCP):
    """An :class:`NCP` wiring sized automatically from the number of units and outputs.

    With ``n = units - output_size``: ``command = max(int(0.4 n), 1)``, ``inter = n - command``,
    and with density ``d = 1 - sparsity_level``: ``sensory_fanout = max(int(inter d), 1)``,
    ``inter_fanout = motor_fanin = max(int(command d), 1)``,
    ``recurrent_command_synapses = max(int(2 command d), 1)`` (``ncps`` rules).

    Args:
        units: Total number of neurons.
        output_size: Number of motor neurons; must be less than ``units - 2``.
        sparsity_level: In ``[0.1, 1.0]``; higher is sparser.
        seed: Seed of the draws.

    Example:
        >>> w = AutoNCP(16, 2, sparsity_level=0.5).build(3)
        >>> w.command_neurons, w.inter_neurons, w.neuron_roles[:3]
        (5, 9, ('motor', 'motor', 'command'))
    """

    units: int
    output_size: int
    sparsity_level: float

    def __init__(
        self,
        units: int,
        output_size: int,
        sparsity_level: float = 0.5,
        seed: int = 22222,
    ) -> None:
        units = _check_int(units, "units", minimum=1)
        output_size = _check_int(output_size, "output_size", minimum=1)
        if output_size >= units - 2:
            raise argument_error("output_size", f"less than units - 2 = {units - 2}", output_size)
        sparsity_level = _check_float(sparsity_level, "sparsity_level")
        if not 0.1 <= sparsity_level <= 1.0:
            raise argument_error("sparsity_level", "a value in [0.1, 1.0]", sparsity_level)
        density = 1.0 - sparsity_level
        inter_and_command = units - output_size
        command = max(int(0.4 * inter_and_command), 1)
        inter = inter_and_command - command
        self._set("output_size", output_size)
        self._set("sparsity_level", sparsity_level)
        self._init_ncp(
            inter_neurons=inter,
            command_neurons=command,
            motor_neurons=output_size,
            sensory_fanout=max(int(inter * density), 1),
            inter_fanout=max(int(command * density), 1),
            recurrent_command_synapses=max(int(command * density * 2), 1),
            motor_fanin=max(int(command * density), 1),
            seed=seed,
        )
        self._finish(None)

    def _config(self) -> dict[str, Any]:
        return {
            "units": self.inter_neurons + self.command_neurons + self.motor_neurons,
            "output_size": self.output_size,
            "sparsity_level": self.sparsity_level,
            "seed": self.seed,
        }


def resolve_wiring(
    wiring: Wiring | None,
    units: int | Wiring | None,
    input_size: int,
    *,
    required: bool = False,
) -> Wiring | None:
    """The built wiring a cell uses, from its ``units`` / ``wiring`` arguments.

    ``units`` may itself be a wiring (ncps's ``LTC(input_size, units)`` convention). With
    only an integer ``units`` this returns None (the cell decides what that means: an
    unwired CfC), or, if ``required``, a built :class:`FullyConnected` wiring. Errors name
    the offending argument.

    Example:
        >>> resolve_wiring(None, 8, 3) is None
        True
        >>> resolve_wiring(None, 8, 3, required=True).units
        8
        >>> resolve_wiring(AutoNCP(10, 2), None, 3).input_dim
        3
        >>> resolve_wiring(None, AutoNCP(10, 2), 3).units
        10
    """
    if isinstance(units, Wiring):
        if wiring is not None:
            raise ValueError("units, wiring: expected a wiring in at most one of them, got both")
        wiring, units = units, None
    if wiring is None:
        if units is None:
            raise ValueError("units, wiring: expected the number of units or a wiring, got neither")
        check_positive_int("units", units)
        return FullyConnected(units).build(input_size) if required else None
    if not isinstance(wiring, Wiring):
        raise ValueError(f"wiring: expected an ltcjax.wirings.Wiring, got {type(wiring)}")
    if units is not None and units != wiring.units:
        raise ValueError(f"units: expected the wiring's {wiring.units} units or None, got {units}")
    if wiring.is_built and wiring.input_dim != input_size:
        raise ValueError(
            f"input_size: expected the {wiring.input_dim} input features the wiring was "
            f"built for, got {input_size}"
        )
    return wiring.build(input_size)
