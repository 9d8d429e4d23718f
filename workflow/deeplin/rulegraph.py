"""The run's own dependency graph (`snakemake --rulegraph`) as PNG and PDF.

Graphviz's `dot` renders it when installed. Otherwise a layered drawing stands in (Sugiyama, Tagawa and
Toda, IEEE Trans. Syst. Man Cybern. 1981): rules are put on layers so that every edge points down, edges
spanning several layers are routed through reserved slots of the layers they pass, the order within each
layer is chosen by barycentre sweeps to reduce crossings, and every arrow starts on the bottom border of its
source box and ends on the top border of its target box. No edge passes through a box. The figure's title
says that graphviz is missing, so the figure always exists.
"""

from __future__ import annotations

import itertools
import logging
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from .io import atomic_write

log = logging.getLogger("deeplin")

_NODE = re.compile(r'(?:^|[;{\s])(\d+)\s*\[label\s*=\s*"([^"]*)"')
_EDGE = re.compile(r"(?:^|[;{\s])(\d+)\s*->\s*(\d+)")

# Layout sizes in inches (the fallback figure is drawn one data unit per inch).
FONT_SIZE = 9.0
BOX_HEIGHT = 0.42
BOX_PADDING = 0.16  # each side of the label
LAYER_GAP = 0.62  # vertical space between two layers' boxes, where edges bend
NODE_GAP = 0.32  # horizontal space between neighbours in a layer
DUMMY_WIDTH = 0.16  # the slot an edge passing through a layer reserves there
MARGIN = 0.25
PORT_SPACING = 0.14  # least distance between two arrows meeting one border
CURVE_SAMPLES = 24


def dot_source(text: str) -> str:
    """The DOT graph inside Snakemake's output (which may carry log lines around it)."""
    start, end = text.find("digraph"), text.rfind("}")
    if start < 0 or end < start:
        raise ValueError("no 'digraph { ... }' in the rule-graph output")
    return text[start : end + 1] + "\n"


def parse_rulegraph(dot: str) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Node labels by id and (source, target) edges of Snakemake's rule-graph DOT."""
    nodes = {m.group(1): m.group(2) for m in _NODE.finditer(dot)}
    edges = [(m.group(1), m.group(2)) for m in _EDGE.finditer(dot)]
    return nodes, edges


@dataclass(frozen=True)
class Box:
    """A rule's box: centre and size in inches."""

    label: str
    x: float
    y: float
    width: float
    height: float

    @property
    def top(self) -> float:
        return self.y + self.height / 2

    @property
    def bottom(self) -> float:
        return self.y - self.height / 2

    def contains(self, x: float, y: float, tolerance: float = 1e-9) -> bool:
        """Whether (x, y) lies strictly inside the box (its border excluded)."""
        return abs(x - self.x) < self.width / 2 - tolerance and abs(y - self.y) < self.height / 2 - tolerance


@dataclass
class Layout:
    """Boxes by node id and one polyline (inches, source border to target border) per edge."""

    boxes: dict[str, Box]
    edges: list[tuple[str, str, list[tuple[float, float]]]] = field(default_factory=list)
    width: float = 0.0
    height: float = 0.0


def _text_width(label: str, size: float) -> float:
    """Width of ``label`` in inches at ``size`` points, from matplotlib's font metrics (no figure needed)."""
    from matplotlib.textpath import TextPath

    return TextPath((0, 0), label, size=size).get_extents().width / 72.0 if label else 0.0


def _layers(nodes: list[str], edges: list[tuple[str, str]]) -> dict[str, int]:
    """Longest-path layering (every edge goes down ≥ 1 layer); sources then move down next to their targets."""
    import networkx as nx

    graph = nx.DiGraph()
    graph.add_nodes_from(nodes)
    graph.add_edges_from(edges)
    if not nx.is_directed_acyclic_graph(graph):
        raise ValueError("the rule graph has a cycle")
    layer: dict[str, int] = {}
    for name in nx.topological_sort(graph):
        layer[name] = max((layer[p] + 1 for p in graph.predecessors(name)), default=0)
    # A rule without inputs (e.g. rulegraph -> all) would otherwise sit on top with one long edge down.
    for name in nodes:
        successors = list(graph.successors(name))
        if graph.in_degree(name) == 0 and successors:
            layer[name] = min(layer[s] for s in successors) - 1
    low = min(layer.values(), default=0)
    return {name: value - low for name, value in layer.items()}


def _crossings(order: list[list[str]], down: dict[str, list[str]]) -> int:
    """Number of edge crossings between consecutive layers for the given orders."""
    total = 0
    for upper, lower in itertools.pairwise(order):
        position = {name: i for i, name in enumerate(lower)}
        pairs = [(i, position[t]) for i, name in enumerate(upper) for t in down[name] if t in position]
        total += sum(
            1 for a, (u1, l1) in enumerate(pairs) for u2, l2 in pairs[a + 1 :] if (u1 - u2) * (l1 - l2) < 0
        )
    return total


def _order(layers: list[list[str]], down: dict[str, list[str]], up: dict[str, list[str]]) -> list[list[str]]:
    """Barycentre sweeps (down, then up) that keep the order with the fewest crossings."""
    order = [list(layer) for layer in layers]
    best, best_crossings = [list(layer) for layer in order], _crossings(order, down)
    for sweep in range(24):
        downward = sweep % 2 == 0
        indices = range(1, len(order)) if downward else range(len(order) - 2, -1, -1)
        for index in indices:
            reference = order[index - 1] if downward else order[index + 1]
            position = {name: i for i, name in enumerate(reference)}
            neighbours = up if downward else down
            current = order[index]
            keys = {}
            for name in current:
                linked = [position[n] for n in neighbours[name] if n in position]
                keys[name] = (
                    sum(linked) / len(linked) if linked else current.index(name),
                    current.index(name),
                )
            order[index] = sorted(current, key=keys.__getitem__)
        crossings = _crossings(order, down)
        if crossings < best_crossings:
            best, best_crossings = [list(layer) for layer in order], crossings
    return best


def _place(order: list[list[str]], widths: dict[str, float], down: dict[str, list[str]]) -> dict[str, float]:
    """x of every node: the straightest drawing that keeps each layer's order and gaps.

    Minimises Σ w (x_u − x_v)² over the edges u → v, with weight 1 between two rules, 2 between a rule and
    an edge's slot and 8 between two slots (long edges stay straight; Sugiyama et al. 1981, §3.3), subject to
    x_{i+1} − x_i ≥ (width_i + width_{i+1})/2 + NODE_GAP within every layer: a small quadratic programme.
    """
    import numpy as np
    from scipy import optimize

    names = [name for layer in order for name in layer]
    index = {name: i for i, name in enumerate(names)}
    packed = np.zeros(len(names))
    rows, bounds = [], []
    for layer in order:
        cursor = 0.0
        for i, name in enumerate(layer):
            packed[index[name]] = cursor + widths[name] / 2
            cursor += widths[name] + NODE_GAP
            if i:
                row = np.zeros(len(names))
                row[index[name]], row[index[layer[i - 1]]] = 1.0, -1.0
                rows.append(row)
                bounds.append((widths[name] + widths[layer[i - 1]]) / 2 + NODE_GAP)
    pairs = [
        (index[u], index[v], 1.0 + (u[0] == "\0") + (v[0] == "\0") + 5.0 * (u[0] == v[0] == "\0"))
        for u in names
        for v in down[u]
    ]
    if not pairs or not rows:
        return {name: float(packed[index[name]]) for name in names}
    u, v, w = (np.array(c) for c in zip(*pairs, strict=True))

    def energy(x: np.ndarray) -> tuple[float, np.ndarray]:
        diff = x[u] - x[v]
        grad = np.zeros_like(x)
        np.add.at(grad, u, 2 * w * diff)
        np.add.at(grad, v, -2 * w * diff)
        # a faint pull to the packed drawing fixes the free translation
        return float(np.sum(w * diff**2) + 1e-4 * np.sum((x - packed) ** 2)), grad + 2e-4 * (x - packed)

    constraint = optimize.LinearConstraint(np.array(rows), np.array(bounds), np.inf)
    result = optimize.minimize(
        energy,
        packed,
        jac=True,
        constraints=[constraint],
        method="SLSQP",
        options={"maxiter": 500, "ftol": 1e-10},
    )
    x = result.x if result.success else packed
    return {name: float(x[index[name]]) for name in names}


def layered_layout(nodes: dict[str, str], edges: list[tuple[str, str]]) -> Layout:
    """Boxes and edge routes of the rule graph: inputs on top, `all` at the bottom, no edge through a box."""
    edges = [(s, t) for s, t in dict.fromkeys(edges) if s != t and s in nodes and t in nodes]
    layer = _layers(list(nodes), edges)
    # A box is wide enough for its label and for its arrows to meet its borders PORT_SPACING apart.
    ports = {n: max(sum(s == n for s, _ in edges), sum(t == n for _, t in edges)) for n in nodes}
    widths = {
        n: max(_text_width(label, FONT_SIZE), (ports[n] - 1) * PORT_SPACING) + 2 * BOX_PADDING
        for n, label in nodes.items()
    }
    # Long edges become chains through one dummy node per layer they cross.
    down: dict[str, list[str]] = {n: [] for n in nodes}
    up: dict[str, list[str]] = {n: [] for n in nodes}
    chains: list[tuple[str, str, list[str]]] = []
    for source, target in edges:
        chain = [source]
        for between in range(layer[source] + 1, layer[target]):
            dummy = f"\0{source}->{target}@{between}"
            layer[dummy], widths[dummy] = between, DUMMY_WIDTH
            down[dummy], up[dummy] = [], []
            chain.append(dummy)
        chain.append(target)
        for a, b in itertools.pairwise(chain):
            down[a].append(b)
            up[b].append(a)
        chains.append((source, target, chain))
    depth = max(layer.values(), default=-1) + 1
    initial = [[n for n in layer if layer[n] == i] for i in range(depth)]
    order = _order(initial, down, up)
    x = _place(order, widths, down)
    left = min((x[n] - widths[n] / 2 for n in x), default=0.0)
    right = max((x[n] + widths[n] / 2 for n in x), default=0.0)
    step = BOX_HEIGHT + LAYER_GAP

    def y_of(name: str) -> float:
        return MARGIN + BOX_HEIGHT / 2 + (depth - 1 - layer[name]) * step

    shift = MARGIN - left
    boxes = {n: Box(nodes[n], x[n] + shift, y_of(n), widths[n], BOX_HEIGHT) for n in nodes}
    layout = Layout(boxes, width=right - left + 2 * MARGIN, height=depth * step - LAYER_GAP + 2 * MARGIN)
    # Ports: the out-edges of a box leave its bottom border spread in the order of their next hop, and the
    # in-edges reach its top border spread in the order of their previous hop, so arrowheads never coincide.
    out_port: dict[tuple[str, str], float] = {}
    in_port: dict[tuple[str, str], float] = {}
    for name, box in boxes.items():
        for ports, links, key in (
            (out_port, sorted(down[name], key=lambda n: x[n]), lambda n, m=name: (m, n)),
            (in_port, sorted(up[name], key=lambda n: x[n]), lambda n, m=name: (n, m)),
        ):
            usable = box.width - 2 * BOX_PADDING
            for i, link in enumerate(links):
                ports[key(link)] = box.x + (
                    usable * ((i + 1) / (len(links) + 1) - 0.5) if len(links) > 1 else 0.0
                )
    for source, target, chain in chains:
        points = [(out_port[(source, chain[1])], boxes[source].bottom)]
        for dummy in chain[1:-1]:
            centre = y_of(dummy)
            top = (x[dummy] + shift, centre + BOX_HEIGHT / 2)
            points += _bend(points[-1], top) + [(top[0], centre - BOX_HEIGHT / 2)]
        points += _bend(points[-1], (in_port[(chain[-2], target)], boxes[target].top))
        layout.edges.append((source, target, points))
    return layout


def _bend(start: tuple[float, float], end: tuple[float, float]) -> list[tuple[float, float]]:
    """A cubic Bézier from ``start`` down to ``end`` with vertical tangents, sampled; it stays between their y."""
    (x0, y0), (x1, y1) = start, end
    middle = (y0 + y1) / 2
    points = []
    for i in range(1, CURVE_SAMPLES + 1):
        t = i / CURVE_SAMPLES
        a, b, c, d = (1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t**2, t**3
        points.append((a * x0 + b * x0 + c * x1 + d * x1, a * y0 + (b + c) * middle + d * y1))
    return points


def _render_with_graphviz(dot: str, stem: Path, dpi: int) -> None:
    for extension in ("png", "pdf"):
        command = ["dot", f"-T{extension}"] + ([f"-Gdpi={dpi}"] if extension == "png" else [])
        image = subprocess.run(command, input=dot.encode(), capture_output=True, check=True)
        with atomic_write(f"{stem}.{extension}", "wb") as handle:
            handle.write(image.stdout)


def draw_layout(layout: Layout, title: str):
    """A matplotlib figure of the layout, one data unit per inch: rounded boxes, curved arrows, a title."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
    from matplotlib.path import Path as MplPath

    title_height = 0.45
    width, height = max(layout.width, 5.5), layout.height + title_height
    fig = plt.figure(figsize=(width, height))
    ax = fig.add_axes((0.0, 0.0, 1.0, layout.height / height))
    ax.set_xlim((layout.width - width) / 2, (layout.width + width) / 2)
    ax.set_ylim(0.0, layout.height)
    ax.axis("off")
    for _, _, points in layout.edges:
        ax.add_patch(
            FancyArrowPatch(
                path=MplPath(points),
                arrowstyle="-|>",
                mutation_scale=9,
                shrinkA=0,
                shrinkB=0,
                color="0.35",
                lw=0.9,
                zorder=1,
            )
        )
    for box in layout.boxes.values():
        ax.add_patch(
            FancyBboxPatch(
                (box.x - box.width / 2, box.bottom),
                box.width,
                box.height,
                boxstyle="round,pad=0,rounding_size=0.08",
                facecolor="#eef3f8",
                edgecolor="#34495e",
                lw=1.0,
                zorder=2,
            )
        )
        ax.text(box.x, box.y, box.label, ha="center", va="center", fontsize=FONT_SIZE, zorder=3)
    fig.text(0.5, 1.0 - 0.5 * title_height / height, title, ha="center", va="center", fontsize=8, wrap=True)
    return fig


def _render_fallback(dot: str, stem: Path, dpi: int) -> None:
    from .plotting import save_figure

    nodes, edges = parse_rulegraph(dot)
    title = "rule graph (graphviz 'dot' not found: simplified layout; install graphviz for the full one)"
    save_figure(draw_layout(layered_layout(nodes, edges), title), stem, dpi)


def render_rulegraph(text: str, stem: str | Path, dpi: int = 200) -> str:
    """Write ``stem``.dot/.png/.pdf from Snakemake's rule-graph output; returns the renderer used."""
    stem = Path(stem)
    dot = dot_source(text)
    with atomic_write(f"{stem}.dot") as handle:
        handle.write(dot)
    if shutil.which("dot"):
        _render_with_graphviz(dot, stem, dpi)
        return "graphviz"
    log.warning("graphviz 'dot' is not installed: drawing the rule graph with the simplified layered layout")
    _render_fallback(dot, stem, dpi)
    return "layered"
