"""The rule graph (deeplin.rulegraph) always renders: with graphviz when installed, else with its layered
fallback, whose layout never routes an edge through a box."""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

import pytest
from deeplin import rulegraph

RULEGRAPH = """Building DAG of jobs...
digraph snakemake_dag {
    graph[bgcolor=white, margin=0];
	0[label = "all", color = "0.00 0.6 0.85", style="rounded"];
	1[label = "deep_equivalence_theory", color = "0.56 0.6 0.85", style="rounded"];
	2[label = "deep_equivalence_plot", color = "0.33 0.6 0.85", style="rounded"];
	1 -> 0
	1 -> 2
	2 -> 0
}
"""
# This workflow's rule graph with simulations (snakemake --rulegraph), where a crude layout drew edges
# through boxes and ended arrows in empty space.
FULL_RULEGRAPH = """digraph snakemake_dag {
	0[label = "all"]; 1[label = "deep_equivalence_theory"]; 2[label = "deep_equivalence_metrics"];
	3[label = "deep_equivalence_data"]; 4[label = "deep_equivalence_posterior"];
	5[label = "deep_equivalence_twin"]; 6[label = "deep_equivalence_aggregate"];
	7[label = "deep_equivalence_plot"]; 8[label = "rulegraph"]; 9[label = "provenance"];
	6 -> 0
	2 -> 0
	1 -> 0
	9 -> 0
	8 -> 0
	7 -> 0
	3 -> 2
	5 -> 2
	4 -> 2
	3 -> 4
	3 -> 5
	2 -> 6
	1 -> 7
	6 -> 7
	3 -> 9
	6 -> 9
	2 -> 9
	1 -> 9
	4 -> 9
	5 -> 9
}
"""


@pytest.mark.parametrize("text", [RULEGRAPH, FULL_RULEGRAPH], ids=["small", "full"])
def test_fallback_layout_routes_every_edge_around_the_boxes(text: str) -> None:
    nodes, edges = rulegraph.parse_rulegraph(rulegraph.dot_source(text))
    layout = rulegraph.layered_layout(nodes, edges)
    boxes = layout.boxes
    assert len(layout.edges) == len(edges)
    for (_, box_a), (_, box_b) in itertools.combinations(boxes.items(), 2):  # boxes apart
        assert (
            abs(box_a.x - box_b.x) >= (box_a.width + box_b.width) / 2
            or abs(box_a.y - box_b.y) >= box_a.height
        )
    for source, target, points in layout.edges:
        (x0, y0), (x1, y1) = points[0], points[-1]
        # starts on the source's bottom border, ends (the arrowhead) on the target's top border
        assert (
            y0 == pytest.approx(boxes[source].bottom) and abs(x0 - boxes[source].x) <= boxes[source].width / 2
        )
        assert y1 == pytest.approx(boxes[target].top) and abs(x1 - boxes[target].x) <= boxes[target].width / 2
        assert all(b <= a + 1e-12 for (_, a), (_, b) in itertools.pairwise(points))  # always downwards
        for name, box in boxes.items():
            for x, y in points:
                assert not box.contains(x, y), (source, target, "passes through", name)
    # no two arrowheads meet one box at the same point
    heads = [(t, round(p[-1][0], 6)) for _, t, p in layout.edges]
    assert len(heads) == len(set(heads))
    # inputs on top, `all` at the bottom
    by_label = {box.label: box for box in boxes.values()}
    assert by_label["all"].y == min(box.y for box in boxes.values())


def test_rulegraph_parsed_and_drawn_without_graphviz(tmp_path: Path, monkeypatch, caplog) -> None:
    nodes, edges = rulegraph.parse_rulegraph(rulegraph.dot_source(RULEGRAPH))
    assert nodes == {"0": "all", "1": "deep_equivalence_theory", "2": "deep_equivalence_plot"}
    assert ("1", "2") in edges and len(edges) == 3
    monkeypatch.setattr(rulegraph.shutil, "which", lambda name: None)
    for text, stem in ((RULEGRAPH, "graph"), (FULL_RULEGRAPH, "full")):
        assert rulegraph.render_rulegraph(text, tmp_path / stem, dpi=80) == "layered"
        assert (tmp_path / f"{stem}.dot").read_text().startswith("digraph")
        assert (tmp_path / f"{stem}.png").stat().st_size > 5_000 and (
            tmp_path / f"{stem}.pdf"
        ).stat().st_size > 1_000
    assert "graphviz 'dot' is not installed" in caplog.text


def test_rulegraph_rejects_output_without_a_graph(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="digraph"):
        rulegraph.render_rulegraph("Error: no Snakefile found", tmp_path / "graph")


@pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz 'dot' is not installed here")
def test_rulegraph_drawn_by_graphviz_when_installed(tmp_path: Path) -> None:
    assert rulegraph.render_rulegraph(FULL_RULEGRAPH, tmp_path / "graph") == "graphviz"
    assert (tmp_path / "graph.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "graph.pdf").stat().st_size > 1_000
