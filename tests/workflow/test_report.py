"""The Snakemake report's landing page and captions render without a docutils warning and describe only what
the study ran; report items are ordered with the headline first.

The rst files are rendered the way Snakemake 9 renders them (Jinja2 with trim_blocks and lstrip_blocks, the
link targets Snakemake appends, then docutils' publish_parts), so a warning here is a warning in the report.
"""

from __future__ import annotations

import importlib
import math
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from deeplin import report_order
from deeplin.config import RESULT_IDS, load_config, validate_config
from deeplin.deep_equivalence.figure_names import (
    CHAPTER,
    FIGURES,
    FIGURES_SUBCATEGORY,
    HEADLINE_RST,
    TABLES,
    TABLES_SUBCATEGORY,
    figure_labels,
    figure_names,
    table_labels,
)
from deeplin.deep_equivalence.mi_figure_names import MI_TABLES, QUADRATIC_TABLES
from deeplin.deep_equivalence.reporting import headline_rst, write_tables
from docutils.core import publish_parts
from jinja2 import Environment
from synthetic_metrics import analysis, write_study

REPORT = Path(__file__).resolve().parents[2] / "workflow" / "report"
RESULT_REPORT = REPORT / "deep_equivalence"

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
    """A study config as the Snakefile hands it to the report: validated, defaults filled in."""
    models = {
        "tanh-L1": {"activation": "tanh", "depth": 1, "readout": "linear", "noise": 0.1},
        "tanh-L2-sign": {"activation": "tanh", "depth": 2, "readout": "sign", "noise": 0.1},
    }
    section = {"models": models}
    if simulated:
        section["simulation"] = {"models": ["tanh-L1"], "widths": [32, 64, 128], "alphas": [2.0], "seeds": 5}
    return validate_config({"study": "demo" if simulated else "survey", "deep_equivalence": section})


class _Category(SimpleNamespace):
    def __lt__(self, other):
        return self.name < other.name

    def __hash__(self):
        return hash(self.name)


def _items(config: dict) -> tuple[dict, list]:
    """Categories (chapter -> subcategory -> files) and report items as the run registers them."""
    root = f"results/{config['study']}"
    result = f"{root}/deep_equivalence"
    simulated = bool(config["deep_equivalence"]["simulation"]["models"])
    chapter = {FIGURES_SUBCATEGORY: [f"{result}/figures/{f}.png" for f in figure_names(simulated)]}
    if simulated:
        chapter[TABLES_SUBCATEGORY] = [f"{result}/tables/{t}.csv" for t in TABLES]
    items = {
        CHAPTER: chapter,
        report_order.RULE_GRAPH: {"Other": [f"{root}/figures/rulegraph.png"]},
        report_order.PROVENANCE: {"Other": [f"{root}/provenance.csv"]},
    }
    categories = {_Category(name=name): subcategories for name, subcategories in items.items()}
    paths = [p for subcategories in items.values() for files in subcategories.values() for p in files]
    files = [SimpleNamespace(target=Path(p).name, path=p) for p in paths]
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
    """A working directory with the demo study's tables written by write_tables (the landing page reads
    headline.rst from there)."""
    monkeypatch.chdir(tmp_path)
    tables = tmp_path / "results/demo/deep_equivalence/tables"
    write_tables(write_study(tmp_path), analysis(), tables)
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
    for figure in figure_names(simulated):
        html = _render(RESULT_REPORT / "figure.rst", config, {"figure": figure})
        _clean(html, figure)
        assert len(html) > 300, figure
    if not simulated:
        html = _render(RESULT_REPORT / "figure.rst", config, {"figure": "error_vs_alpha"})
        assert "Theory only" in html and "deep posterior" not in html
    captions = sorted(REPORT.rglob("*.rst"))
    assert {p.relative_to(REPORT).as_posix() for p in captions} >= {"provenance.rst", "rulegraph.rst"}
    for rst in captions:
        if rst.name not in ("figure.rst", "workflow.rst"):
            _clean(_render(rst, config), str(rst.relative_to(REPORT)))


def test_every_table_has_its_caption(results) -> None:
    """Each table the aggregation writes (the registry's list) is a report item with a caption of its name."""
    written = {p.stem for p in results.glob("*.csv")}
    assert written == set(TABLES) and (results / HEADLINE_RST).is_file()
    ladder_and_quadratic = {*MI_TABLES, *QUADRATIC_TABLES, "mi_figure", "quadratic_figure"}
    assert {p.stem for p in RESULT_REPORT.glob("*.rst")} == {*TABLES, "figure", *ladder_and_quadratic}


def test_chapters_are_named_apart_from_workflow_and_the_headline_comes_first() -> None:
    """One chapter per result and the shared ones, none called like Snakemake's own "Workflow" page (it would
    be listed twice); inside the result's chapter, items sort by their labels, the headline first."""
    chapters = [importlib.import_module(f"deeplin.{rid}.figure_names").CHAPTER for rid in RESULT_IDS]
    chapters += [report_order.PROVENANCE, report_order.RULE_GRAPH]
    assert len(set(chapters)) == len(chapters) and CHAPTER in chapters
    names = {*chapters, FIGURES_SUBCATEGORY, TABLES_SUBCATEGORY}
    assert "workflow" not in {name.lower() for name in names}
    figures = sorted(FIGURES, key=lambda f: figure_labels(SimpleNamespace(figure=f))["figure"])
    assert figures[0] == "error_vs_alpha"
    tables = sorted(TABLES, key=lambda t: table_labels(t)["table"])
    assert tables[0] == "headline"


def test_headline_rst_is_a_narrow_table_that_escapes_markup() -> None:
    headline = pd.DataFrame(
        [
            {
                "model": "tanh_L1*",
                "width": 64,
                "alpha": 2.0,
                "seeds": 6,
                "deep_error": 0.12345,
                "deep_error_ci": 0.0123,
                "theory_error": 0.1201,
                "paired_gap_slope": -0.5123,
                "paired_gap_slope_ci_low": -0.9,
                "paired_gap_slope_ci_high": -0.1,
            },
            {
                "model": "m",
                "width": 64,
                "alpha": 4.0,
                "seeds": 0,
                "deep_error": math.nan,
                "deep_error_ci": math.nan,
                "theory_error": 0.05,
                "paired_gap_slope": math.nan,
                "paired_gap_slope_ci_low": math.nan,
                "paired_gap_slope_ci_high": math.nan,
            },
        ]
    )
    text = headline_rst(headline, 0.95)
    html = publish_parts(text, writer_name="html", settings_overrides={"warning_stream": False})["html_body"]
    _clean(html, "headline.rst")
    assert "tanh_L1*" in html and "0.123 ± 0.012" in html and "−0.51 [−0.90, −0.10]" in html
    assert "— ± —" in html and "no fit" in html and html.count("<tr") == 3


@pytest.mark.parametrize("result_id", [rid for rid in RESULT_IDS if rid != "deep_equivalence"])
def test_every_caption_of_the_other_results_renders_cleanly(result_id: str, repo: Path) -> None:
    """Each companion result's captions, for every figure and table of its registry, with the default study
    (where each of them is configured): a stray `|x|` or `*` would be a docutils message in the report."""
    config = load_config(repo / "config.yaml")
    names = importlib.import_module(f"deeplin.{result_id}.figure_names")
    captions = sorted((REPORT / result_id).glob("*.rst"))
    assert captions, result_id
    for rst in captions:
        for figure in names.FIGURES:
            for table in names.TABLES:
                html = _render(rst, config, {"figure": figure, "table": table})
                _clean(html, f"{rst.relative_to(REPORT)} ({figure}, {table})")
