"""The Snakemake report's landing page and captions render without a docutils warning and describe only what
the study ran; report items are ordered with the headline first.

The rst files are rendered the way Snakemake 9 renders them (Jinja2 with trim_blocks and lstrip_blocks, the
link targets Snakemake appends, then docutils' publish_parts), so a warning here is a warning in the report.
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from deeplin import report_order
from deeplin.config import section_with_defaults
from deeplin.reporting import WRITTEN_TABLES, headline_rst, write_tables
from docutils.core import publish_parts
from jinja2 import Environment
from synthetic_metrics import write_study

REPORT = Path(__file__).resolve().parents[1] / "workflow" / "report"
FIGURES = ("error_vs_alpha", "gap_vs_width", "universality", "diagnostics")

# What Snakemake appends to every caption and to the landing page (snakemake/report/__init__.py, 9.x).
RST_LINKS = textwrap.dedent("""

.. _Workflow: javascript:show_panel('workflow')
.. _Statistics: javascript:show_panel('statistics')
{% for cat, catresults in categories|dictsort %}
.. _{{ cat.name }}: javascript:app.showCategory('{{ cat.name|urlencode }}')
{% endfor %}
{% for res in files %}
.. _{{ res.target }}: javascript:app.showResultInfo('{{ res.path|urlencode }}')
{% endfor %}
""")


def _study(simulated: bool) -> dict:
    models = {
        "tanh-L1": {"activation": "tanh", "depth": 1, "readout": "linear", "noise": 0.1},
        "tanh-L2-sign": {"activation": "tanh", "depth": 2, "readout": "sign", "noise": 0.1},
    }
    config = {
        "study": "demo" if simulated else "survey",
        "models": models,
        "theory": section_with_defaults("theory", {}),
        "simulation": section_with_defaults(
            "simulation", {"models": ["tanh-L1"], "widths": [32, 64, 128], "alphas": [2.0], "seeds": 5}
            if simulated else {}
        ),
        "sampler": section_with_defaults("sampler", {}),
        "analysis": section_with_defaults("analysis", {}),
    }  # fmt: skip
    return config


class _Category(SimpleNamespace):
    def __lt__(self, other):
        return self.name < other.name

    def __hash__(self):
        return hash(self.name)


def _items(config: dict) -> tuple[dict, list]:
    """Categories and report items as the run registers them (the categories the plot rules must use)."""
    root = f"results/{config['study']}"
    simulated = bool(config["simulation"]["models"])
    figures = FIGURES if simulated else FIGURES[:1]
    items = {report_order.FIGURES: [f"{root}/figures/{f}.png" for f in figures]}
    items[report_order.RULE_GRAPH] = [f"{root}/figures/rulegraph.png"]
    items[report_order.PROVENANCE] = [f"{root}/provenance.csv"]
    if simulated:
        items[report_order.TABLES] = [f"{root}/tables/{t}.csv" for t in WRITTEN_TABLES]
    categories = {_Category(name=name): {} for name in items}
    files = [SimpleNamespace(target=Path(p).name, path=p) for paths in items.values() for p in paths]
    return categories, files


def _render(rst: Path, config: dict, wildcards: dict | None = None) -> str:
    env = Environment(trim_blocks=True, lstrip_blocks=True)
    categories, files = _items(config)
    snakemake = SimpleNamespace(config=config, wildcards=SimpleNamespace(**(wildcards or {})))
    text = env.from_string(rst.read_text() + RST_LINKS).render(
        snakemake=snakemake, categories=categories, files=files
    )
    settings = {"halt_level": 5, "warning_stream": False}  # Snakemake's defaults otherwise (report level 2)
    return publish_parts(text, writer_name="html", settings_overrides=settings)["html_body"]


def _clean(html: str, where: str) -> None:
    for word in ("System Message", "WARNING", "ERROR", "Duplicate", "SPEC", "``", "&lt;string&gt;"):
        assert word not in html, (where, word, html[max(0, html.find(word) - 300) : html.find(word) + 300])


@pytest.fixture()
def results(tmp_path, monkeypatch) -> Path:
    """A working directory with results/demo/tables/ written by write_tables (the landing page reads headline.csv)."""
    monkeypatch.chdir(tmp_path)
    tables = tmp_path / "results/demo/tables"
    write_tables(write_study(tmp_path), section_with_defaults("analysis", {}), tables)
    return tables


def test_landing_page_of_a_simulation_study_leads_with_the_headline_table(results) -> None:
    html = _render(REPORT / "workflow.rst", _study(simulated=True))
    _clean(html, "workflow.rst")
    assert html.find("<table") < html.find("What is compared") and "Result." in html
    assert "deep error (± 95 % CI)" in html and "paired-gap slope [95 % CI]" in html  # the headline's header
    assert "tanh-L1" in html and "no fit" in html  # its row (a constant synthetic paired gap: no slope)
    assert "javascript:app.showResultInfo" in html  # file names link to the report items


def test_landing_page_of_a_theory_only_study_describes_no_simulation(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    html = _render(REPORT / "workflow.rst", _study(simulated=False))
    _clean(html, "workflow.rst")
    assert "<table" not in html and "Nothing was simulated" in html
    for word in ("seed", "HMC", "width d0 =", "Sampler", "headline.csv", "twin"):
        assert word not in html, word


@pytest.mark.parametrize("simulated", [True, False])
def test_every_caption_renders_cleanly(results, simulated: bool) -> None:
    config = _study(simulated)
    for figure in FIGURES if simulated else FIGURES[:1]:
        html = _render(REPORT / "figure.rst", config, {"figure": figure})
        _clean(html, figure)
        assert len(html) > 300, figure
    if not simulated:
        html = _render(REPORT / "figure.rst", config, {"figure": "error_vs_alpha"})
        assert "Theory only" in html and "deep posterior" not in html
    for rst in sorted(REPORT.glob("*.rst")):
        if rst.name not in ("figure.rst", "workflow.rst"):
            _clean(_render(rst, config), rst.name)


def test_no_category_is_called_workflow_and_the_headline_comes_first() -> None:
    categories = {report_order.FIGURES, report_order.TABLES, report_order.PROVENANCE, report_order.RULE_GRAPH}
    assert "workflow" not in {c.lower() for c in categories}
    figures = sorted(FIGURES, key=lambda f: report_order.figure_labels(SimpleNamespace(figure=f))["figure"])
    assert figures[0] == "error_vs_alpha" and set(report_order.FIGURE_LABELS) == set(FIGURES)
    tables = sorted(WRITTEN_TABLES, key=lambda t: report_order.table_labels(t)["table"])
    assert tables[0] == "headline" and set(report_order.TABLE_LABELS) == set(WRITTEN_TABLES)


def test_headline_rst_is_a_narrow_table_that_escapes_markup() -> None:
    headline = pd.DataFrame(
        [
            {"model": "tanh_L1*", "width": 64, "alpha": 2.0, "seeds": 6, "deep_error": 0.12345, "deep_error_ci": 0.0123,
             "theory_error": 0.1201, "paired_gap_slope": -0.5123, "paired_gap_slope_ci_low": -0.9,
             "paired_gap_slope_ci_high": -0.1},
            {"model": "m", "width": 64, "alpha": 4.0, "seeds": 0, "deep_error": math.nan, "deep_error_ci": math.nan,
             "theory_error": 0.05, "paired_gap_slope": math.nan, "paired_gap_slope_ci_low": math.nan,
             "paired_gap_slope_ci_high": math.nan},
        ]
    )  # fmt: skip
    text = headline_rst(headline, 0.95)
    html = publish_parts(text, writer_name="html", settings_overrides={"warning_stream": False})["html_body"]
    _clean(html, "headline.rst")
    assert "tanh_L1*" in html and "0.123 ± 0.012" in html and "−0.51 [−0.90, −0.10]" in html
    assert "— ± —" in html and "no fit" in html and html.count("<tr") == 3
