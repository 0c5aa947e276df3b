"""Drawing a wiring with matplotlib: :func:`draw_wiring` (what ``Wiring.draw`` calls).

The plotting code lives here, outside :mod:`ltcjax.wirings`, so that the wiring data
structure holds no drawing code and importing it never imports matplotlib; matplotlib is
imported only when something is drawn. This module uses only a wiring's public attributes
and does not import :mod:`ltcjax.wirings` (but for type hints), so ``Wiring.draw`` can
import it without an import cycle.

Example:
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> from ltcjax.wirings import AutoNCP
    >>> fig = draw_wiring(AutoNCP(8, 1).build(2), draw_labels=True)
    >>> len(fig.axes)
    1
    >>> plt.close(fig)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
from jaxtyping import Float

from ltcjax.validation import argument_error

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ltcjax.wirings import Wiring

__all__ = ["draw_wiring"]

#: Default colour of each role's nodes.
NEURON_COLORS = {
    "sensory": "tab:olive",
    "inter": "tab:blue",
    "command": "tab:cyan",
    "motor": "tab:orange",
}
#: Default colour of each synapse polarity.
SYNAPSE_COLORS = {"excitatory": "tab:green", "inhibitory": "tab:red"}
#: Above this many synapses, arrow heads are left out by default and the lines are fainter.
MANY_SYNAPSES = 400

Point = tuple[float, float]


def draw_wiring(
    wiring: Wiring,
    ax: Axes | None = None,
    *,
    neuron_colors: Mapping[str, str] | None = None,
    synapse_colors: str | Mapping[str, str] | None = None,
    draw_labels: bool = False,
    arrows: bool | None = None,
    node_size: float = 150.0,
    legend: bool = True,
) -> Figure:
    """Draw a built wiring's graph with matplotlib; returns the figure.

    Neurons are drawn in layered columns, left to right: sensory (inputs), inter, command
    and motor neurons. Synapses within a column are drawn as arcs, self-connections as loops.

    Args:
        wiring: a built :class:`ltcjax.wirings.Wiring` (``wiring.build(input_dim)``).
        ax: Axes to draw into; a new figure is created if ``None``.
        neuron_colors: Colours by role (``"sensory"``, ``"inter"``, ``"command"``,
            ``"motor"``), merged with the defaults.
        synapse_colors: One colour for all synapses, or a mapping with keys
            ``"excitatory"`` and ``"inhibitory"``.
        draw_labels: Write the neuron index (``s<i>`` for inputs) inside each node.
        arrows: Draw arrow heads; by default only when there are at most 400 synapses.
        node_size: Marker area of the nodes (points^2).
        legend: Add a legend of neuron roles and synapse polarities.

    Raises:
        ValueError: If ``wiring`` is not a built wiring.

    Example:
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> import matplotlib.pyplot as plt
        >>> from ltcjax.wirings import FullyConnected
        >>> fig, ax = plt.subplots()
        >>> draw_wiring(FullyConnected(3, 1).build(2), ax, synapse_colors="gray") is fig
        True
        >>> plt.close(fig)
    """
    if not getattr(wiring, "is_built", False):
        raise argument_error(
            "wiring", "a built wiring (wiring = wiring.build(input_dim))", repr(wiring)
        )
    import matplotlib.pyplot as plt

    colors = {**NEURON_COLORS, **(neuron_colors or {})}
    if isinstance(synapse_colors, str):
        syn_colors = dict.fromkeys(SYNAPSE_COLORS, synapse_colors)
    else:
        syn_colors = {**SYNAPSE_COLORS, **(synapse_colors or {})}

    columns = _columns(wiring)
    pos = _positions(columns)
    tallest = max(len(v) for v in columns.values())
    if ax is None:
        width = 2.5 + 1.8 * len(columns)
        height = max(3.0, 0.28 * tallest + 1.0)
        _, ax = plt.subplots(figsize=(width, height))
    fig = ax.figure

    edges = _edges(wiring, pos)
    if arrows is None:
        arrows = len(edges) <= MANY_SYNAPSES
    alpha = 0.7 if len(edges) <= MANY_SYNAPSES else 0.3
    _draw_synapses(ax, edges, syn_colors, arrows, alpha)
    _draw_neurons(ax, columns, pos, colors, node_size, draw_labels)
    if legend:
        _draw_legend(ax, columns, colors, syn_colors)

    ax.set_xlim(-0.6, len(columns) - 0.4)
    ax.set_ylim(-tallest / 2.0 - 0.5, tallest / 2.0 + 1.5)
    ax.set_axis_off()
    ax.set_title(f"{type(wiring).__name__}: {wiring.units} neurons, {wiring.input_dim} inputs")
    return fig


def _columns(wiring: Wiring) -> dict[str, list[int]]:
    """The non-empty columns, left to right: sensory, inter, command, motor indices."""
    roles = wiring.roles
    columns = {role: list(roles[role]) for role in ("sensory", "inter", "command", "motor")}
    return {role: members for role, members in columns.items() if members}


def _kind(role: str) -> str:
    """``"sensory"`` for the inputs, ``"neuron"`` for the cell's neurons."""
    return "sensory" if role == "sensory" else "neuron"


def _positions(columns: dict[str, list[int]]) -> dict[tuple[str, int], Point]:
    """Node positions: column k at x = k, nodes centred vertically, spacing 1."""
    pos: dict[tuple[str, int], Point] = {}
    for x, (role, members) in enumerate(columns.items()):
        for j, idx in enumerate(members):
            pos[(_kind(role), idx)] = (float(x), (len(members) - 1) / 2.0 - j)
    return pos


def _edges(
    wiring: Wiring, pos: dict[tuple[str, int], Point]
) -> list[tuple[Float[np.ndarray, "_points 2"], str]]:
    """Every synapse as ``(polyline, polarity)``: sensory synapses first, then the cell's."""
    edges = []
    matrices = (("sensory", wiring.sensory_adjacency_matrix), ("neuron", wiring.adjacency_matrix))
    for kind, matrix in matrices:
        for src, dest in zip(*np.nonzero(matrix), strict=True):
            polarity = "excitatory" if matrix[src, dest] > 0 else "inhibitory"
            self_loop = bool(kind == "neuron" and src == dest)
            points = _edge_points(pos[(kind, src)], pos[("neuron", dest)], self_loop)
            edges.append((points, polarity))
    return edges


def _draw_synapses(
    ax: Axes,
    edges: list[tuple[Float[np.ndarray, "_points 2"], str]],
    syn_colors: Mapping[str, str],
    arrows: bool,
    alpha: float,
) -> None:
    """Synapses as arrows (one patch each) or as one line collection per polarity."""
    from matplotlib.collections import LineCollection
    from matplotlib.patches import FancyArrowPatch
    from matplotlib.path import Path

    if arrows:
        for points, polarity in edges:
            arrow = FancyArrowPatch(
                path=Path(points),
                arrowstyle="-|>",
                mutation_scale=8,
                color=syn_colors[polarity],
                lw=0.8,
                alpha=alpha,
                zorder=1,
            )
            ax.add_patch(arrow)
        return
    for polarity in SYNAPSE_COLORS:
        segs = [p for p, pol in edges if pol == polarity]
        if segs:
            lines = LineCollection(
                segs, colors=syn_colors[polarity], linewidths=0.6, alpha=alpha, zorder=1
            )
            ax.add_collection(lines)


def _draw_neurons(
    ax: Axes,
    columns: dict[str, list[int]],
    pos: dict[tuple[str, int], Point],
    colors: Mapping[str, str],
    node_size: float,
    draw_labels: bool,
) -> None:
    """One scatter per column, its title above it and, optionally, the node labels."""
    for role, members in columns.items():
        kind = _kind(role)
        xy = np.array([pos[(kind, i)] for i in members])
        ax.scatter(
            xy[:, 0],
            xy[:, 1],
            s=node_size,
            c=colors[role],
            edgecolors="black",
            linewidths=0.5,
            zorder=3,
            label=f"{role.capitalize()} neurons",
        )
        ax.text(
            xy[0, 0],
            (len(members) - 1) / 2.0 + 0.9,
            f"{role.capitalize()} ({len(members)})",
            ha="center",
            va="bottom",
            fontsize=9,
        )
        if draw_labels:
            for i, (x, y) in zip(members, xy, strict=True):
                label = f"s{i}" if kind == "sensory" else str(i)
                ax.text(x, y, label, ha="center", va="center", fontsize=5.5, zorder=4)


def _draw_legend(
    ax: Axes,
    columns: dict[str, list[int]],
    colors: Mapping[str, str],
    syn_colors: Mapping[str, str],
) -> None:
    """A legend of the drawn neuron roles and of both synapse polarities."""
    from matplotlib.lines import Line2D

    handles = [
        Line2D(
            [],
            [],
            ls="",
            marker="o",
            markersize=7,
            markerfacecolor=colors[role],
            markeredgecolor="black",
            label=f"{role.capitalize()} neurons",
        )
        for role in columns
    ]
    handles += [
        Line2D([], [], color=syn_colors[polarity], label=f"{polarity.capitalize()} synapse")
        for polarity in SYNAPSE_COLORS
    ]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)


def _edge_points(
    a: Point, b: Point, self_loop: bool, trim: float = 0.12
) -> Float[np.ndarray, "_points 2"]:
    """Polyline from ``a`` to ``b`` (straight, an arc within a column, or a self-loop)."""
    p0, p1 = np.asarray(a), np.asarray(b)
    t = np.linspace(0.0, 1.0, 16)[:, None]
    if self_loop:
        c1, c2 = p0 + (0.35, 0.3), p0 + (0.35, -0.3)
        pts = (1 - t) ** 3 * p0 + 3 * (1 - t) ** 2 * t * c1 + 3 * (1 - t) * t**2 * c2 + t**3 * p0
        return pts[1:-1]
    if p0[0] == p1[0]:
        # Same column: quadratic Bezier bulging to the right of the direction of travel.
        d = p1 - p0
        ctrl = (p0 + p1) / 2 + 0.3 * np.array([abs(d[1]), 0.0]) * np.sign(d[1] or 1.0)
        pts = (1 - t) ** 2 * p0 + 2 * (1 - t) * t * ctrl + t**2 * p1
    else:
        pts = np.array([p0, p1])
    # Trim both ends so arrow heads stop at the node border.
    seg = np.linalg.norm(np.diff(pts, axis=0), axis=1)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    total = cum[-1]
    if total <= 2 * trim:
        return pts
    s = np.linspace(trim, total - trim, max(2, len(pts)))
    return np.stack([np.interp(s, cum, pts[:, 0]), np.interp(s, cum, pts[:, 1])], axis=1)
