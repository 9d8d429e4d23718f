"""The run's own dependency graph (`snakemake --rulegraph`) as PNG and PDF.

Graphviz's `dot` renders it when installed; otherwise a layered drawing made with networkx and matplotlib
stands in, titled with a message saying that graphviz is missing, so the figure always exists.
"""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
from pathlib import Path

from .io import atomic_write

log = logging.getLogger("deeplin")

_NODE = re.compile(r'^\s*(\d+)\s*\[label\s*=\s*"([^"]*)"')
_EDGE = re.compile(r"^\s*(\d+)\s*->\s*(\d+)")


def dot_source(text: str) -> str:
    """The DOT graph inside Snakemake's output (which may carry log lines around it)."""
    start, end = text.find("digraph"), text.rfind("}")
    if start < 0 or end < start:
        raise ValueError("no 'digraph { ... }' in the rule-graph output")
    return text[start : end + 1] + "\n"


def parse_rulegraph(dot: str) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Node labels by id and (source, target) edges of Snakemake's rule-graph DOT."""
    nodes = {m.group(1): m.group(2) for m in map(_NODE.match, dot.splitlines()) if m}
    edges = [(m.group(1), m.group(2)) for m in map(_EDGE.match, dot.splitlines()) if m]
    return nodes, edges


def _render_with_graphviz(dot: str, stem: Path, dpi: int) -> None:
    for extension in ("png", "pdf"):
        command = ["dot", f"-T{extension}"] + ([f"-Gdpi={dpi}"] if extension == "png" else [])
        image = subprocess.run(command, input=dot.encode(), capture_output=True, check=True)
        with atomic_write(f"{stem}.{extension}", "wb") as handle:
            handle.write(image.stdout)


def _render_fallback(dot: str, stem: Path, dpi: int) -> None:
    import matplotlib  # noqa: PLC0415 (only the fallback draws with matplotlib)

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415
    import networkx as nx  # noqa: PLC0415

    from .figures import save_figure  # noqa: PLC0415

    nodes, edges = parse_rulegraph(dot)
    graph = nx.DiGraph()
    graph.add_nodes_from(nodes)
    graph.add_edges_from(edges)
    for layer, names in enumerate(nx.topological_generations(graph)):
        for name in names:
            graph.nodes[name]["layer"] = layer
    positions = nx.multipartite_layout(graph, subset_key="layer", align="horizontal")
    positions = {name: (x, -y) for name, (x, y) in positions.items()}  # inputs on top, `all` at the bottom
    fig, ax = plt.subplots(figsize=(max(6.0, 1.6 * len(nodes) ** 0.8), 4.5))
    nx.draw_networkx_edges(
        graph, positions, ax=ax, arrows=True, arrowsize=12, edge_color="grey", node_size=2500
    )
    nx.draw_networkx_labels(
        graph,
        positions,
        labels=nodes,
        ax=ax,
        font_size=9,
        bbox={"boxstyle": "round", "facecolor": "white", "edgecolor": "black"},
    )
    ax.set_title(
        "rule graph (graphviz 'dot' not found: simplified layout; install graphviz for the full one)",
        fontsize=9,
    )
    ax.axis("off")
    save_figure(fig, stem, dpi)


def render_rulegraph(text: str, stem: str | Path, dpi: int = 200) -> str:
    """Write ``stem``.dot/.png/.pdf from Snakemake's rule-graph output; returns the renderer used."""
    stem = Path(stem)
    dot = dot_source(text)
    with atomic_write(f"{stem}.dot") as handle:
        handle.write(dot)
    if shutil.which("dot"):
        _render_with_graphviz(dot, stem, dpi)
        return "graphviz"
    log.warning("graphviz 'dot' is not installed: drawing the rule graph with the simplified networkx layout")
    _render_fallback(dot, stem, dpi)
    return "networkx"
