"""Every figure is drawn, labelled and written as a non-trivial PNG and PDF; the rule graph always renders."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import pandas as pd
import pytest
from synthetic_metrics import write_study

from deeplin import figures, rulegraph
from deeplin.config import section_with_defaults
from deeplin.reporting import write_figure, write_tables
from deeplin.theory import theory_curve

matplotlib.use("Agg")
PLOTS = section_with_defaults("plots", {})


@pytest.fixture(scope="module")
def study(tmp_path_factory) -> tuple[Path, list[Path]]:
    """Tables of the synthetic study (with one flagged point) and a theory curve for its model."""
    root = tmp_path_factory.mktemp("study")
    write_tables(write_study(root, flagged_error=0.9), section_with_defaults("analysis", {}), root / "tables")
    _, rows = theory_curve("tanh", 1, "linear", 0.1, [0.5, 1.0, 2.0, 4.0])
    curve = root / "theory/tanh-L1/curve.csv"
    curve.parent.mkdir(parents=True)
    pd.DataFrame(rows).to_csv(curve, index=False)
    return root / "tables", [curve]


@pytest.mark.parametrize("name", figures.FIGURES)
def test_figure_files_are_written_and_non_trivial(study, tmp_path: Path, name: str) -> None:
    tables, curves = study
    paths = write_figure(name, tables, curves, PLOTS, tmp_path / name)
    assert [p.suffix for p in paths] == [".png", ".pdf"]
    assert all(p.stat().st_size > 10_000 for p in paths), [p.stat().st_size for p in paths]
    assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and paths[1].read_bytes()[:5] == b"%PDF-"


def _visible_axes_are_labelled(fig) -> None:
    for ax in fig.axes:
        if ax.get_visible() and ax.has_data():
            assert ax.get_xlabel() and ax.get_ylabel(), ax.get_title()


def test_axes_are_labelled(study) -> None:
    tables, curves = study
    read = {t: pd.read_csv(tables / f"{t}.csv") for t in ("simulations", "summary", "scaling")}
    curve = {"tanh-L1": pd.read_csv(curves[0])}
    drawn = [
        figures.error_vs_alpha_figure(curve, read["summary"], "colorblind"),
        figures.error_vs_alpha_figure(curve, None, "colorblind"),  # a theory-only study
        figures.gap_vs_width_figure(read["summary"], read["scaling"], "colorblind"),
        figures.universality_figure(read["summary"], "colorblind"),
        figures.diagnostics_figure(read["simulations"], "colorblind"),
    ]
    for fig in drawn:
        _visible_axes_are_labelled(fig)
    # The gap figure draws the fitted line: its slope (exactly -1/2 on the synthetic study) is in the legend.
    legend_texts = [
        t.get_text() for ax in drawn[2].axes if ax.get_legend() for t in ax.get_legend().get_texts()
    ]
    assert any("slope -0.50" in text for text in legend_texts), legend_texts


def test_universality_without_linear_readout_says_so(study) -> None:
    summary = pd.read_csv(study[0] / "summary.csv").assign(readout="tanh")
    fig = figures.universality_figure(summary, "colorblind")
    assert any("no linear-readout model" in t.get_text() for ax in fig.axes for t in ax.texts)


RULEGRAPH = """Building DAG of jobs...
digraph snakemake_dag {
    graph[bgcolor=white, margin=0];
	0[label = "all", color = "0.00 0.6 0.85", style="rounded"];
	1[label = "theory", color = "0.56 0.6 0.85", style="rounded"];
	2[label = "plot", color = "0.33 0.6 0.85", style="rounded"];
	1 -> 0
	1 -> 2
	2 -> 0
}
"""


def test_rulegraph_parsed_and_drawn_without_graphviz(tmp_path: Path, monkeypatch, caplog) -> None:
    nodes, edges = rulegraph.parse_rulegraph(rulegraph.dot_source(RULEGRAPH))
    assert nodes == {"0": "all", "1": "theory", "2": "plot"} and ("1", "2") in edges and len(edges) == 3
    monkeypatch.setattr(rulegraph.shutil, "which", lambda name: None)
    assert rulegraph.render_rulegraph(RULEGRAPH, tmp_path / "graph", dpi=80) == "networkx"
    assert "graphviz 'dot' is not installed" in caplog.text
    assert (tmp_path / "graph.dot").read_text().startswith("digraph")
    assert (tmp_path / "graph.png").stat().st_size > 5_000 and (tmp_path / "graph.pdf").stat().st_size > 1_000


def test_rulegraph_rejects_output_without_a_graph(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="digraph"):
        rulegraph.render_rulegraph("Error: no Snakefile found", tmp_path / "graph")


def test_figures_render_when_every_point_is_flagged(tmp_path: Path) -> None:
    strict = section_with_defaults("analysis", {"max_rhat": 1.0})  # the synthetic R-hats are 1.004
    tables = write_tables(write_study(tmp_path), strict, tmp_path / "tables")
    assert not tables["simulations"]["used"].any() and tables["summary"]["deep_mean"].isna().all()
    for name in figures.FIGURES:
        assert write_figure(name, tmp_path / "tables", [], PLOTS, tmp_path / name)[0].stat().st_size > 10_000


@pytest.mark.skipif(rulegraph.shutil.which("dot") is None, reason="graphviz 'dot' is not installed here")
def test_rulegraph_drawn_by_graphviz_when_installed(tmp_path: Path) -> None:
    assert rulegraph.render_rulegraph(RULEGRAPH, tmp_path / "graph") == "graphviz"
    assert (tmp_path / "graph.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "graph.pdf").stat().st_size > 1_000


@pytest.mark.parametrize("activation, depth", [("tanh", 1), ("tanh", 2), ("erf", 3)])
def test_universality_rescaling_maps_each_theory_curve_onto_the_unit_signal_glm(activation, depth) -> None:
    """(error − γ0)/η0² of a model's linear-readout curve is the unit-signal linear GLM at λ = (γ0+Δ)/η0²."""
    from deeplin.glm_channels import linear_mmse

    coefficients, rows = theory_curve(activation, depth, "linear", 0.1, [0.3, 1.0, 3.0, 9.0])
    ridge = (coefficients.gamma0 + 0.1) / coefficients.eta0**2
    for row in rows:
        rescaled = (row["error"] - coefficients.gamma0) / coefficients.eta0**2
        assert rescaled == pytest.approx(linear_mmse(row["alpha"], 1.0, ridge), rel=1e-10)
