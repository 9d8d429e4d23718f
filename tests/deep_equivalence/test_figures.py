"""Every figure is drawn, labelled and written as a non-trivial PNG and PDF, with no text running into other
text or legends over data; intervals never set the axes. The rule graph's drawing: tests/common/test_rulegraph.py.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest
from deeplin.config import validate_slice
from deeplin.deep_equivalence import figures
from deeplin.deep_equivalence.figure_names import FIGURES
from deeplin.deep_equivalence.reporting import headline_table, write_figure, write_tables
from deeplin.deep_equivalence.theory import theory_curve
from deeplin.plotting import set_style
from synthetic_metrics import analysis, write_study

matplotlib.use("Agg")
PLOTS = validate_slice({"plots": {}})["plots"]  # the shared figure style, the schema's defaults
SURVEY = {  # a theory-only study: several models per readout, α over three decades
    "tanh-L1-linear": ("tanh", 1, "linear", 0.1),
    "tanh-L2-linear": ("tanh", 2, "linear", 0.1),
    "erf-L2-linear": ("erf", 2, "linear", 0.1),
    "tanh-L1-linear-d1": ("tanh", 1, "linear", 1.0),
    "tanh-L2-tanh": ("tanh", 2, "tanh", 0.1),
    "tanh-L2-sign": ("tanh", 2, "sign", 0.1),
}


def _curve(activation: str, depth: int, readout: str, noise: float, alphas) -> pd.DataFrame:
    return pd.DataFrame(theory_curve(activation, depth, readout, noise, list(alphas))[1])


@pytest.fixture(scope="module")
def study(tmp_path_factory) -> tuple[Path, dict[str, Path]]:
    """Tables of the synthetic study (with one flagged point) and a theory curve for its model (by name)."""
    root = tmp_path_factory.mktemp("study")
    write_tables(write_study(root, flagged_error=0.9), analysis(), root / "tables")
    curve = root / "theory/tanh-L1/curve.csv"
    curve.parent.mkdir(parents=True)
    _curve("tanh", 1, "linear", 0.1, [0.5, 1.0, 2.0, 4.0]).to_csv(curve, index=False)
    return root / "tables", {"tanh-L1": curve}


@pytest.fixture(scope="module")
def tables(study) -> dict[str, pd.DataFrame]:
    return {t: pd.read_csv(study[0] / f"{t}.csv") for t in ("simulations", "summary", "scaling", "headline")}


@pytest.fixture(scope="module")
def survey() -> dict[str, pd.DataFrame]:
    alphas = np.geomspace(0.01, 20.0, 12)
    return {name: _curve(*model, alphas) for name, model in SURVEY.items()}


@pytest.mark.parametrize("name", FIGURES)
def test_figure_files_are_written_and_non_trivial(study, tmp_path: Path, name: str) -> None:
    tables_dir, curves = study
    paths = write_figure(name, tables_dir, curves, PLOTS, tmp_path / name)
    assert [p.suffix for p in paths] == [".png", ".pdf"]
    assert all(p.stat().st_size > 10_000 for p in paths), [p.stat().st_size for p in paths]
    assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and paths[1].read_bytes()[:5] == b"%PDF-"


def _visible_axes_are_labelled(fig) -> None:
    for ax in fig.axes:
        if ax.get_visible() and ax.has_data():
            assert ax.get_xlabel() and ax.get_ylabel(), ax.get_title()


def _overlap(a, b, pad: float = 0.5) -> bool:
    return a.x0 < b.x1 - pad and b.x0 < a.x1 - pad and a.y0 < b.y1 - pad and b.y0 < a.y1 - pad


def _assert_legible(fig) -> None:
    """No two tick labels of an axis touch, no title runs into another, no legend covers a plot area."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    axes = [ax for ax in fig.axes if ax.get_visible()]
    for ax in axes:
        for axis in (ax.xaxis, ax.yaxis):
            labels = [t for t in axis.get_ticklabels() if t.get_visible() and t.get_text()]
            boxes = [t.get_window_extent(renderer) for t in labels]
            for (i, a), (j, b) in itertools.combinations(enumerate(boxes), 2):
                assert not _overlap(a, b), (ax.get_title(), labels[i].get_text(), labels[j].get_text())
    titles = [(ax, ax.title.get_window_extent(renderer)) for ax in axes if ax.get_title()]
    for (ax1, a), (ax2, b) in itertools.combinations(titles, 2):
        assert not _overlap(a, b), (ax1.get_title(), ax2.get_title())
    legends = [ax.get_legend() for ax in axes if ax.get_legend()] + list(fig.legends)
    for legend in legends:
        box = legend.get_window_extent(renderer)
        for ax in axes:
            assert not _overlap(box, ax.get_window_extent(renderer)), ("legend over a panel", ax.get_title())


def _all_figures(tables, curve, survey) -> list:
    points = tables["simulations"].copy()
    # R-hats in 1.0075–1.0125 once made the histogram's tick labels run together ("1.00751.0100…").
    points["deep_rhat_max"] = np.linspace(1.0075, 1.0125, len(points))
    return [
        figures.error_vs_alpha_figure(curve, tables["summary"], "colorblind"),
        figures.error_vs_alpha_figure(survey, None, "colorblind"),  # a theory-only study
        figures.error_vs_alpha_figure({**survey, **curve}, tables["summary"], "colorblind"),  # mixed
        figures.gap_vs_width_figure(tables["summary"], tables["scaling"], "colorblind"),
        figures.universality_figure(tables["summary"], "colorblind"),
        figures.diagnostics_figure(points, "colorblind"),
    ]


def test_axes_are_labelled_and_no_text_collides(study, tables, survey) -> None:
    # drawn as the plot step draws them, not in whatever style an earlier test left behind
    set_style(PLOTS["context"], PLOTS["palette"])
    curve = {"tanh-L1": pd.read_csv(study[1]["tanh-L1"])}
    drawn = _all_figures(tables, curve, survey)
    for fig in drawn:
        _visible_axes_are_labelled(fig)
        _assert_legible(fig)
    # The gap figure draws the fitted line: its slope (exactly -1/2 on the synthetic study) and interval are in
    # the legend, next to the bound's reference.
    legend_texts = [
        t.get_text() for ax in drawn[3].axes if ax.get_legend() for t in ax.get_legend().get_texts()
    ]
    assert any(text.startswith("α=2: slope −0.50 [") for text in legend_texts), legend_texts
    assert any("slope −1/2" in text for text in legend_texts)
    # the paired gap is the first row
    assert "paired gap" in drawn[3].axes[0].get_title()


def test_error_vs_alpha_shows_intervals_for_deep_and_twin_and_says_what_they_are(study, tables) -> None:
    curve = {"tanh-L1": pd.read_csv(study[1]["tanh-L1"])}
    fig = figures.error_vs_alpha_figure(curve, tables["summary"], "colorblind")
    panel = fig.axes[0]
    assert len(panel.containers) == 2  # error bars of the deep posterior and of the GLM twin, largest width
    legend = " | ".join(t.get_text() for t in fig.legends[0].get_texts())
    assert "deep posterior, largest width (d0=128): mean, 95 % CI over seeds" in legend
    assert "GLM twin at that width: mean, 95 % CI over seeds" in legend and "GLM theory" in legend


def test_wild_intervals_are_cut_at_the_axis_and_marked(study, tables) -> None:
    summary = tables["summary"].copy()
    summary["deep_ci_high"] = summary["deep_mean"] + 50.0  # two seeds' t interval can be this wide
    summary["deep_ci_low"] = summary["deep_mean"] - 50.0
    fig = figures.error_vs_alpha_figure({"tanh-L1": pd.read_csv(study[1]["tanh-L1"])}, summary, "colorblind")
    low, high = fig.axes[0].get_ylim()
    assert low == 0.0 and high < 1.0  # set by the curve and the means, not by the intervals
    markers = [line.get_marker() for line in fig.axes[0].lines]
    assert "^" in markers and "v" in markers
    assert any("beyond the axis" in t.get_text() for t in fig.legends[0].get_texts())


def test_theory_only_figure_groups_models_and_claims_no_simulation(survey) -> None:
    fig = figures.error_vs_alpha_figure(survey, None, "colorblind")
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert [len(ax.get_lines()) for ax in panels] == [4, 1, 1]  # linear, tanh, sign readouts
    title = fig.get_suptitle()
    assert "theory" in title and "seed" not in title and "deep posterior" not in title
    assert panels[0].get_legend() is not None  # four curves: a legend names them


def test_universality_without_linear_readout_says_so(study) -> None:
    summary = pd.read_csv(study[0] / "summary.csv").assign(readout="tanh")
    fig = figures.universality_figure(summary, "colorblind")
    assert any("no linear-readout model" in t.get_text() for ax in fig.axes for t in ax.texts)


def test_universality_marks_widths(tables) -> None:
    fig = figures.universality_figure(tables["summary"], "colorblind")
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert {"d0=32", "d0=64", "d0=128"} <= set(labels)


def test_confidence_level_is_read_back_from_the_tables(tables) -> None:
    assert figures.confidence_level(tables["summary"]) == pytest.approx(0.95)
    assert figures.interval_words(None) == "CI over seeds"


def test_headline_table_is_the_largest_width_against_theory(tables) -> None:
    summary, scaling = tables["summary"], tables["scaling"]
    headline = headline_table(summary, scaling)
    assert list(headline["width"]) == [128] and list(headline["alpha"]) == [2.0]
    widest = summary[summary["width"] == 128].iloc[0]
    row = headline.iloc[0]
    assert row["deep_error"] == pytest.approx(widest["deep_mean"], rel=1e-3)
    assert row["deep_error_ci"] == pytest.approx(widest["deep_ci_high"] - widest["deep_mean"], rel=1e-3)
    assert row["theory_error"] == pytest.approx(0.12) and row["seeds"] == 5
    assert row["paired_gap"] == pytest.approx(-1e-4, rel=1e-3)  # the synthetic estimator is 1e-4 above
    # The synthetic paired gap is constant (no SE): no slope. A fitted one is passed through with its interval.
    assert np.isnan(row["paired_gap_slope"]) and pd.isna(row["slope_widths"]) or row["slope_widths"] == ""
    fitted = scaling.copy()
    paired = fitted["gap"] == "glm_estimator"
    fitted.loc[paired, ["slope", "slope_ci_low", "slope_ci_high", "widths_used"]] = [
        -0.61,
        -0.9,
        -0.3,
        "32,64,128",
    ]
    row = headline_table(summary, fitted).iloc[0]
    assert (row["paired_gap_slope"], row["paired_gap_slope_ci_low"], row["paired_gap_slope_ci_high"]) == (
        -0.61,
        -0.9,
        -0.3,
    )
    assert row["slope_widths"] == "32,64,128"
    assert tables["headline"].columns.tolist() == headline.columns.tolist()  # write_tables wrote it


def test_figures_render_when_every_point_is_flagged(tmp_path: Path) -> None:
    paths = write_study(tmp_path)
    for path in paths:  # every posterior job recorded a failed verdict
        record = json.loads(path.read_text())
        record["posterior"].update(flagged_by="rhat>1.05", passes_diagnostics=False)
        path.write_text(json.dumps(record))
    tables = write_tables(paths, analysis(), tmp_path / "tables")
    assert not tables["simulations"]["used"].any() and tables["summary"]["deep_mean"].isna().all()
    for name in FIGURES:
        assert write_figure(name, tmp_path / "tables", {}, PLOTS, tmp_path / name)[0].stat().st_size > 10_000


@pytest.mark.parametrize("activation, depth", [("tanh", 1), ("tanh", 2), ("erf", 3)])
def test_universality_rescaling_maps_each_theory_curve_onto_the_unit_signal_glm(activation, depth) -> None:
    """(error − γ0)/η0² of a model's linear-readout curve is the unit-signal linear GLM at λ = (γ0+Δ)/η0²."""
    from deeplin.deep_equivalence.glm_channels import linear_mmse

    coefficients, rows = theory_curve(activation, depth, "linear", 0.1, [0.3, 1.0, 3.0, 9.0])
    ridge = (coefficients.gamma0 + 0.1) / coefficients.eta0**2
    for row in rows:
        rescaled = (row["error"] - coefficients.gamma0) / coefficients.eta0**2
        assert rescaled == pytest.approx(linear_mmse(row["alpha"], 1.0, ridge), rel=1e-10)
