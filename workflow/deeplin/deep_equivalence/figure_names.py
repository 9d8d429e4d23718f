"""The one registry of the result's figures and tables: their names, what each figure reads, and their place
in the report. The rules, the CLI, the drawing code and the report all read it. Standard library only, so
that the rules can import it while Snakemake parses them.
"""

from __future__ import annotations

from dataclasses import dataclass

# The report chapter of this result (a Snakemake report category); figures and tables are its subcategories.
CHAPTER = "Deep Gaussian equivalence"
FIGURES_SUBCATEGORY = "Figures"
TABLES_SUBCATEGORY = "Tables"


@dataclass(frozen=True)
class FigureSpec:
    """A figure: its report label (the leading number orders the report) and whether it needs simulations."""

    label: str
    needs_simulations: bool = True


FIGURES = {
    "error_vs_alpha": FigureSpec(
        "1 · test error vs α: deep posterior against the GLM theory (headline)", False
    ),
    "gap_vs_width": FigureSpec("2 · finite-width gap vs d0, paired gap and slope −1/2"),
    "universality": FigureSpec("3 · universality of the linear readout"),
    "diagnostics": FigureSpec("4 · sampler diagnostics"),
}
# The tables the aggregation writes, with their report labels; the first three are what the figures read.
TABLES = {
    "headline": "1 · headline: largest width against theory, gap slopes",
    "summary": "2 · summary per model, width and α",
    "scaling": "3 · gap slopes per model, α and gap",
    "simulations": "4 · every simulated point",
    "columns": "5 · what every column means",
}
FIGURE_TABLES = ("simulations", "summary", "scaling")
# The headline for the report's landing page, written next to the tables.
HEADLINE_RST = "headline.rst"


def figure_names(simulated: bool) -> list[str]:
    """The figures a study draws: all of them, or only those that need no simulations."""
    return [name for name, spec in FIGURES.items() if simulated or not spec.needs_simulations]


def figure_labels(wildcards) -> dict[str, str]:
    """report(labels=...) of the plot rule: the figure's place and title."""
    return {"figure": FIGURES[wildcards.figure].label}


def table_labels(name: str) -> dict[str, str]:
    """report(labels=...) of one table of the aggregate rule."""
    return {"table": TABLES[name]}
