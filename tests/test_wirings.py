"""Tests for ltcjax.wirings (reference data from ncps 1.0.1, see tests/data/)."""

from __future__ import annotations

import ast
import copy
import dataclasses
import json
import pickle
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from ltcjax.wiring_plot import draw_wiring  # noqa: E402
from ltcjax.wirings import NCP, AutoNCP, FullyConnected, Random, Wiring  # noqa: E402

CLASSES = {"FullyConnected": FullyConnected, "Random": Random, "NCP": NCP, "AutoNCP": AutoNCP}
DATA = Path(__file__).parent / "data" / "ncps_wirings.npz"


def _load_reference():
    with np.load(DATA) as data:
        configs = json.loads(str(data["configs"]))
        return [(cfg, data[f"adj_{i}"], data[f"sens_{i}"]) for i, cfg in enumerate(configs)]


REFERENCE = _load_reference()


def _ref_id(item) -> str:
    cfg = item[0]
    args = ",".join(f"{k}={v}" for k, v in cfg["kwargs"].items())
    return f"{cfg['cls']}({args})-in{cfg['input_dim']}"


def _ncp_small(**overrides) -> dict:
    args = dict(
        inter_neurons=6,
        command_neurons=4,
        motor_neurons=2,
        sensory_fanout=3,
        inter_fanout=2,
        recurrent_command_synapses=3,
        motor_fanin=2,
    )
    args.update(overrides)
    return args


# ---- exact reproduction of ncps ------------------------------------------------------------


def test_reference_covers_all_classes():
    counts = {name: sum(cfg["cls"] == name for cfg, _, _ in REFERENCE) for name in CLASSES}
    assert counts["FullyConnected"] >= 12
    assert counts["Random"] >= 20
    assert counts["NCP"] >= 6
    assert counts["AutoNCP"] >= 81


@pytest.mark.parametrize("item", REFERENCE, ids=[_ref_id(r) for r in REFERENCE])
def test_matches_ncps_reference(item):
    cfg, adj, sens = item
    wiring = CLASSES[cfg["cls"]](**cfg["kwargs"]).build(cfg["input_dim"])
    assert wiring.input_dim == cfg["input_dim"]
    np.testing.assert_array_equal(wiring.adjacency_matrix, adj)
    np.testing.assert_array_equal(wiring.sensory_adjacency_matrix, sens)
    assert wiring.adjacency_matrix.dtype == np.int32
    assert wiring.sensory_adjacency_matrix.dtype == np.int32


@pytest.mark.parametrize(
    "wiring",
    [FullyConnected(6, 2), Random(6, 2, 0.5), NCP(**_ncp_small()), AutoNCP(12, 2)],
    ids=repr,
)
def test_unbuilt_internal_adjacency_matches_built(wiring):
    built = wiring.build(3)
    if isinstance(wiring, NCP):  # ncps draws every NCP synapse in build()
        assert wiring.synapse_count == 0
    else:  # ncps draws the internal synapses at construction
        np.testing.assert_array_equal(wiring.adjacency_matrix, built.adjacency_matrix)


# ---- immutability, equality, hashing --------------------------------------------------------


@pytest.mark.parametrize(
    "wiring",
    [FullyConnected(5), Random(5, 1, 0.3), NCP(**_ncp_small()), AutoNCP(10, 1)],
    ids=repr,
)
def test_build_returns_new_wiring(wiring):
    assert not wiring.is_built
    assert wiring.input_dim is None and wiring.sensory_adjacency_matrix is None
    built = wiring.build(4)
    assert built is not wiring
    assert type(built) is type(wiring)
    assert not wiring.is_built and wiring.input_dim is None
    assert built.is_built and built.input_dim == 4
    assert built.sensory_adjacency_matrix.shape == (4, wiring.units)
    assert built != wiring
    assert built.build(4) == built
    with pytest.raises(ValueError, match="input_dim"):
        built.build(5)
    # Same arguments and seed: equal wirings with equal hashes.
    again = wiring.build(4)
    assert again == built and hash(again) == hash(built)


def test_wirings_are_frozen():
    wiring = AutoNCP(12, 2).build(3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        wiring.units = 3
    with pytest.raises(AttributeError):
        wiring.seed = 1
    with pytest.raises(AttributeError):
        del wiring.output_dim
    with pytest.raises(ValueError, match="read-only"):
        wiring.adjacency_matrix[0, 0] = 1
    with pytest.raises(ValueError, match="read-only"):
        wiring.sensory_adjacency_matrix[0, 0] = 1
    erev = wiring.erev_initializer()
    assert erev.dtype == np.float32 and erev.flags.writeable
    np.testing.assert_array_equal(erev, wiring.adjacency_matrix)
    np.testing.assert_array_equal(
        wiring.sensory_erev_initializer(), wiring.sensory_adjacency_matrix
    )
    assert wiring.erev_initializer(np.float64).dtype == np.float64


def test_equality_and_hash_by_content():
    a, b = FullyConnected(6, erev_init_seed=3), FullyConnected(6, erev_init_seed=3)
    assert a == b and hash(a) == hash(b) and a is not b
    assert FullyConnected(6, output_dim=6) == FullyConnected(6)
    assert FullyConnected(6, erev_init_seed=4) != a
    assert FullyConnected(6, self_connections=False) != FullyConnected(6)
    assert Random(6, sparsity_level=0.5) != Random(6, sparsity_level=0.4)
    assert AutoNCP(16, 2, seed=1) != AutoNCP(16, 2, seed=2)
    assert a != "not a wiring"
    assert len({a, b, a.build(2), b.build(2), a.build(3)}) == 3

    adj = np.array([[0, 1], [-1, 1]])
    c1 = Wiring.from_adjacency(adj, 1, np.ones((3, 2)))
    c2 = Wiring.from_adjacency(adj.astype(np.float64), 1, np.ones((3, 2), dtype=np.int8))
    assert c1 == c2 and hash(c1) == hash(c2)
    assert c1 != Wiring.from_adjacency(adj * -1, 1, np.ones((3, 2)))
    # The input array is copied: changing it later does not change the wiring.
    adj[0, 1] = 0
    assert c1.adjacency_matrix[0, 1] == 1


def test_usable_as_static_field_of_frozen_dataclass():
    @dataclasses.dataclass(frozen=True)
    class Layer:
        wiring: Wiring
        name: str = "ltc"

    layer_a = Layer(AutoNCP(12, 2).build(3))
    layer_b = Layer(AutoNCP(12, 2).build(3))
    assert layer_a == layer_b and hash(layer_a) == hash(layer_b)
    assert Layer(AutoNCP(12, 2, seed=1).build(3)) != layer_a


@pytest.mark.parametrize(
    "wiring",
    [
        FullyConnected(4, 2, self_connections=False),
        Random(5, 1, 0.5).build(2),
        NCP(**_ncp_small()).build(3),
        AutoNCP(12, 2),
        Wiring.from_adjacency(np.eye(3), 1, np.ones((2, 3))),
    ],
    ids=repr,
)
def test_pickle_and_copy_roundtrip(wiring):
    restored = pickle.loads(pickle.dumps(wiring))
    assert restored == wiring and type(restored) is type(wiring)
    assert not restored.adjacency_matrix.flags.writeable
    assert copy.copy(wiring) is wiring and copy.deepcopy(wiring) is wiring


def test_determinism():
    for make in (
        lambda: FullyConnected(7, erev_init_seed=9).build(3),
        lambda: Random(7, 2, 0.4, random_seed=9).build(3),
        lambda: NCP(**_ncp_small(), seed=9).build(3),
        lambda: AutoNCP(20, 3, 0.6, seed=9).build(3),
    ):
        first, second = make(), make()
        np.testing.assert_array_equal(first.adjacency_matrix, second.adjacency_matrix)
        np.testing.assert_array_equal(
            first.sensory_adjacency_matrix, second.sensory_adjacency_matrix
        )
    a, b = AutoNCP(32, 2, seed=1).build(4), AutoNCP(32, 2, seed=2).build(4)
    assert not np.array_equal(a.adjacency_matrix, b.adjacency_matrix)


# ---- counts, roles, layers -------------------------------------------------------------------


@pytest.mark.parametrize("units", [3, 10, 17])
@pytest.mark.parametrize("sparsity", [0.0, 0.2, 0.5, 0.75, 0.95])
def test_random_synapse_counts(units, sparsity):
    wiring = Random(units, 1, sparsity).build(4)
    assert wiring.synapse_count == int(np.round(units * units * (1 - sparsity)))
    assert wiring.sensory_synapse_count == int(np.round(4 * units * (1 - sparsity)))


def test_fully_connected_counts_and_polarity():
    wiring = FullyConnected(10).build(3)
    assert wiring.synapse_count == 100 and wiring.sensory_synapse_count == 30
    assert wiring.output_dim == 10 and set(wiring.neuron_roles) == {"motor"}
    no_self = FullyConnected(10, self_connections=False)
    assert no_self.synapse_count == 90
    assert np.all(np.diag(no_self.adjacency_matrix) == 0)
    # Excitatory with probability 2/3.
    frac = (FullyConnected(40).adjacency_matrix > 0).mean()
    assert 0.6 < frac < 0.73


def test_base_roles_and_layers():
    wiring = Random(6, output_dim=2)
    assert wiring.neuron_roles == ("motor", "motor", "inter", "inter", "inter", "inter")
    assert wiring.num_layers == 1
    assert wiring.get_neurons_of_layer(0) == list(range(6))
    with pytest.raises(ValueError, match="layer_id"):
        wiring.get_neurons_of_layer(1)
    with pytest.raises(ValueError, match="neuron_id"):
        wiring.get_type_of_neuron(6)


@pytest.mark.parametrize(
    "wiring",
    [NCP(**_ncp_small()).build(5), AutoNCP(32, 4, 0.5).build(3), AutoNCP(16, 1, 0.7).build(2)],
    ids=repr,
)
def test_ncp_roles_and_layers(wiring):
    m, c, i = wiring.motor_neurons, wiring.command_neurons, wiring.inter_neurons
    assert wiring.units == m + c + i and wiring.output_dim == m
    assert wiring.num_layers == 3
    assert wiring.get_neurons_of_layer(0) == list(range(m + c, m + c + i))
    assert wiring.get_neurons_of_layer(1) == list(range(m, m + c))
    assert wiring.get_neurons_of_layer(2) == list(range(m))
    assert wiring.neuron_roles == ("motor",) * m + ("command",) * c + ("inter",) * i
    assert [wiring.get_type_of_neuron(k) for k in range(wiring.units)] == list(wiring.neuron_roles)
    with pytest.raises(ValueError, match="layer_id"):
        wiring.get_neurons_of_layer(3)
    # Layered structure: inputs reach only inter neurons; inter -> command; command -> command or
    # motor; motor neurons have no outgoing synapses.
    sens = np.abs(wiring.sensory_adjacency_matrix)
    adj = np.abs(wiring.adjacency_matrix)
    assert sens[:, : m + c].sum() == 0 and sens[:, m + c :].sum(axis=0).min() >= 1
    assert adj[m + c :, :m].sum() == 0 and adj[m + c :, m + c :].sum() == 0
    assert adj[:m].sum() == 0
    assert adj[m : m + c, m + c :].sum() == 0
    assert adj[m + c :, m : m + c].sum(axis=0).min() >= 1  # every command neuron is reached
    assert adj[m : m + c, :m].sum(axis=0).min() >= 1  # every motor neuron is reached
    assert adj[m : m + c, :m].sum(axis=1).min() >= 1  # every command neuron reaches a motor


@pytest.mark.parametrize(
    "wiring,inter,command,motor",
    [
        (NCP(**_ncp_small()).build(5), None, None, None),
        (AutoNCP(16, 2).build(3), None, None, None),
        (Random(6, output_dim=2).build(4), (2, 3, 4, 5), (), (0, 1)),
        (FullyConnected(3).build(2), (), (), (0, 1, 2)),
    ],
    ids=repr,
)
def test_roles_include_sensory_inputs(wiring, inter, command, motor):
    roles = wiring.roles
    assert list(roles) == ["sensory", "inter", "command", "motor"]
    assert roles["sensory"] == wiring.sensory_indices == tuple(range(wiring.input_dim))
    # The sensory rows are exactly those of the sensory adjacency matrix.
    assert len(roles["sensory"]) == wiring.sensory_adjacency_matrix.shape[0]
    if isinstance(wiring, NCP):
        m, c = wiring.motor_neurons, wiring.command_neurons
        inter, command, motor = (
            tuple(range(m + c, wiring.units)),
            tuple(range(m, m + c)),
            tuple(range(m)),
        )
        # Sensory neurons feed only inter neurons.
        fed = set(np.nonzero(np.abs(wiring.sensory_adjacency_matrix).sum(axis=0))[0].tolist())
        assert fed <= set(inter)
    assert (roles["inter"], roles["command"], roles["motor"]) == (inter, command, motor)
    neuron_ids = sorted(roles["inter"] + roles["command"] + roles["motor"])
    assert neuron_ids == list(range(wiring.units))


def test_sensory_roles_need_a_built_wiring():
    wiring = AutoNCP(10, 2)
    assert wiring.roles["sensory"] == ()
    with pytest.raises(ValueError, match="wiring: expected a built wiring for sensory_indices"):
        wiring.sensory_indices


def test_motor_count_limits():
    # ncps allows every neuron to be a motor neuron for FullyConnected and Random (their
    # default output_dim is units); ltcjax keeps that, and rejects more motors than units.
    assert FullyConnected(4, output_dim=4).roles["motor"] == (0, 1, 2, 3)
    assert Random(4, output_dim=4).output_dim == 4
    for make in (lambda: FullyConnected(4, output_dim=5), lambda: Random(4, output_dim=5)):
        with pytest.raises(ValueError, match=r"output_dim: expected an integer in \[1, units=4\]"):
            make()
    # AutoNCP needs room for inter and command neurons: output_size < units - 2.
    for output_size in (8, 10, 12):
        with pytest.raises(ValueError, match="output_size: expected less than units - 2"):
            AutoNCP(10, output_size)
    assert AutoNCP(10, 7).output_dim == 7
    # NCP counts its motor neurons on top of at least one inter and one command neuron.
    ncp = NCP(1, 1, 5, 1, 1, 0, 1)
    assert ncp.units == 7 and ncp.output_dim == 5 < ncp.units
    with pytest.raises(ValueError, match="output_dim"):
        Wiring.from_adjacency(np.zeros((3, 3)), output_dim=4)


def test_autoncp_sizes():
    wiring = AutoNCP(16, 2, sparsity_level=0.5)
    assert (wiring.units, wiring.output_size, wiring.output_dim) == (16, 2, 2)
    assert (wiring.command_neurons, wiring.inter_neurons) == (5, 9)
    assert (wiring.sensory_fanout, wiring.inter_fanout, wiring.motor_fanin) == (4, 2, 2)
    assert wiring.recurrent_command_synapses == 5
    assert isinstance(wiring, NCP)


# ---- custom wirings ----------------------------------------------------------------------------


def test_from_adjacency():
    adj = np.array([[0, 1, -1], [1, 0, 0], [0, 1, 1]])
    wiring = Wiring.from_adjacency(adj, output_dim=1)
    assert type(wiring) is Wiring and not wiring.is_built
    assert (wiring.units, wiring.output_dim, wiring.synapse_count) == (3, 1, 5)
    assert wiring.sensory_synapse_count == 0
    with pytest.raises(ValueError, match="build"):
        wiring.sensory_erev_initializer()
    built = wiring.build(2)
    np.testing.assert_array_equal(built.sensory_adjacency_matrix, np.ones((2, 3)))
    np.testing.assert_array_equal(built.adjacency_matrix, adj)
    given = Wiring.from_adjacency(adj, 1, sensory_adjacency=[[1, 0, -1]])
    assert given.is_built and given.input_dim == 1 and given.sensory_synapse_count == 2
    # Round trip of a generated wiring through its arrays keeps the arrays.
    ncp = AutoNCP(16, 2).build(3)
    custom = Wiring.from_adjacency(
        ncp.adjacency_matrix, ncp.output_dim, ncp.sensory_adjacency_matrix
    )
    np.testing.assert_array_equal(custom.adjacency_matrix, ncp.adjacency_matrix)
    assert custom.synapse_count == ncp.synapse_count


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        (dict(adjacency=np.zeros((3, 3)), output_dim=0), ValueError, "output_dim"),
        (dict(adjacency=np.zeros((3, 3)), output_dim=4), ValueError, "output_dim"),
        (dict(adjacency=np.zeros((3, 3)), output_dim=1.5), TypeError, "output_dim"),
        (dict(adjacency=np.zeros((3, 4)), output_dim=1), ValueError, "adjacency_matrix"),
        (dict(adjacency=np.zeros(3), output_dim=1), ValueError, "adjacency_matrix"),
        (dict(adjacency=2 * np.eye(3), output_dim=1), ValueError, r"\{-1, 0, 1\}"),
        (dict(adjacency=np.full((2, 2), 0.5), output_dim=1), ValueError, "adjacency_matrix"),
        (
            dict(adjacency=np.eye(3), output_dim=1, sensory_adjacency=np.ones((2, 4))),
            ValueError,
            "sensory_adjacency_matrix",
        ),
        (
            dict(adjacency=np.eye(3), output_dim=1, sensory_adjacency=-3 * np.ones((2, 3))),
            ValueError,
            "sensory_adjacency_matrix",
        ),
    ],
)
def test_from_adjacency_errors(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        Wiring.from_adjacency(**kwargs)


# ---- argument validation --------------------------------------------------------------------


@pytest.mark.usefixtures("without_runtime_typechecks")
@pytest.mark.parametrize(
    ("make", "exc", "match"),
    [
        (lambda: FullyConnected(0), ValueError, "units"),
        (lambda: FullyConnected(4.0), TypeError, "units"),
        (lambda: FullyConnected(4, output_dim=5), ValueError, "output_dim"),
        (lambda: FullyConnected(4, output_dim=0), ValueError, "output_dim"),
        (lambda: FullyConnected(4, erev_init_seed=-1), ValueError, "erev_init_seed"),
        (lambda: Random(4, sparsity_level=1.0), ValueError, "sparsity_level"),
        (lambda: Random(4, sparsity_level=-0.1), ValueError, "sparsity_level"),
        (lambda: Random(4, output_dim=7), ValueError, "output_dim"),
        (lambda: Random(4, random_seed=None), TypeError, "random_seed"),
        (lambda: NCP(**_ncp_small(motor_fanin=5)), ValueError, "motor_fanin"),
        (lambda: NCP(**_ncp_small(sensory_fanout=7)), ValueError, "sensory_fanout"),
        (lambda: NCP(**_ncp_small(inter_fanout=5)), ValueError, "inter_fanout"),
        (lambda: NCP(**_ncp_small(motor_neurons=0)), ValueError, "motor_neurons"),
        (lambda: NCP(**_ncp_small(command_neurons=0)), ValueError, "command_neurons"),
        (lambda: NCP(**_ncp_small(inter_neurons=0)), ValueError, "inter_neurons"),
        (
            lambda: NCP(**_ncp_small(recurrent_command_synapses=-1)),
            ValueError,
            "recurrent_command_synapses",
        ),
        (lambda: NCP(**_ncp_small(), seed=2**32), ValueError, "seed"),
        (lambda: AutoNCP(10, 8), ValueError, "output_size"),
        (lambda: AutoNCP(10, 0), ValueError, "output_size"),
        (lambda: AutoNCP(10, 2, sparsity_level=0.05), ValueError, "sparsity_level"),
        (lambda: AutoNCP(10, 2, sparsity_level=1.5), ValueError, "sparsity_level"),
        (lambda: FullyConnected(4).build(0), ValueError, "input_dim"),
        (lambda: FullyConnected(4).build(2.0), TypeError, "input_dim"),
    ],
)
def test_argument_errors(make, exc, match):
    with pytest.raises(exc, match=f"^{match}: expected"):  # the one message style
        make()


# ---- drawing -----------------------------------------------------------------------------------


def _node_count(fig: Figure) -> int:
    ax = fig.axes[0]
    return sum(len(c.get_offsets()) for c in ax.collections if isinstance(c, PathCollection))


@pytest.mark.parametrize(
    ("wiring", "arrows"),
    [
        (AutoNCP(12, 2).build(3), None),
        (NCP(**_ncp_small()).build(4), False),
        (FullyConnected(5, 2).build(2), True),
        (Random(6, 1, 0.5).build(3), None),
    ],
    ids=["autoncp", "ncp-lines", "fc-arrows", "random"],
)
def test_draw(wiring, arrows):
    fig = wiring.draw(arrows=arrows, draw_labels=True)
    try:
        assert isinstance(fig, Figure)
        assert _node_count(fig) == wiring.units + wiring.input_dim
        labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
        assert "Sensory neurons" in labels and "Motor neurons" in labels
        assert "Excitatory synapse" in labels and "Inhibitory synapse" in labels
        if isinstance(wiring, NCP):
            assert "Command neurons" in labels and "Inter neurons" in labels
        fig.canvas.draw()
    finally:
        plt.close(fig)


def test_draw_into_given_axes_and_requires_build():
    fig, ax = plt.subplots()
    try:
        wiring = AutoNCP(10, 1).build(2)
        out = wiring.draw(ax, legend=False, synapse_colors="gray", neuron_colors={"motor": "k"})
        assert out is fig and ax.get_legend() is None
        assert _node_count(fig) == 12
    finally:
        plt.close(fig)
    with pytest.raises(ValueError, match="build"):
        AutoNCP(10, 1).draw()


def test_draw_wiring_writes_a_png_like_wiring_draw(tmp_path):
    wiring = NCP(**_ncp_small()).build(4)
    fig = draw_wiring(wiring, draw_labels=True)
    same = wiring.draw(draw_labels=True)
    try:
        path = tmp_path / "wiring.png"
        fig.savefig(path)
        assert path.read_bytes().startswith(b"\x89PNG")
        assert _node_count(fig) == _node_count(same) == wiring.units + wiring.input_dim
        assert len(fig.axes[0].patches) == len(same.axes[0].patches) > 0  # arrows
    finally:
        plt.close(fig)
        plt.close(same)
    with pytest.raises(ValueError, match="wiring: expected a built wiring"):
        draw_wiring(AutoNCP(10, 1))
    with pytest.raises(ValueError, match="wiring: expected a built wiring"):
        draw_wiring(np.eye(3))


def test_wirings_module_imports_no_drawing_code():
    # The data structure imports neither matplotlib nor the drawing module at module level
    # (Wiring.draw imports ltcjax.wiring_plot when called).
    import ltcjax.wirings

    tree = ast.parse(Path(ltcjax.wirings.__file__).read_text())
    imported = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module)
    assert not any(name.startswith(("matplotlib", "ltcjax.wiring_plot")) for name in imported)
