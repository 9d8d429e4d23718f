"""Where each report item stands in the Snakemake report: categories and the labels that order them.

Snakemake (9.x) lists categories alphabetically and, inside one, sorts the items by their first label when every
item has labels (by file name otherwise). The labels below put the headline first. Only the standard library is
imported, so the workflow's rules can use this module while Snakemake parses them.
"""

from __future__ import annotations

# Report categories. "Workflow" is taken: Snakemake's own page of that name (the landing page) would be listed
# twice and every caption would carry a docutils "Duplicate explicit target name" warning.
FIGURES = "Figures"
TABLES = "Tables"
PROVENANCE = "Provenance"
RULE_GRAPH = "Rule graph"

FIGURE_LABELS = {
    "error_vs_alpha": "1 · test error vs α: deep posterior against the GLM theory (headline)",
    "gap_vs_width": "2 · finite-width gap vs d0, paired gap and slope −1/2",
    "universality": "3 · universality of the linear readout",
    "diagnostics": "4 · sampler diagnostics",
}
TABLE_LABELS = {
    "headline": "1 · headline: largest width against theory, gap slopes",
    "summary": "2 · summary per model, width and α",
    "scaling": "3 · gap slopes per model, α and gap",
    "simulations": "4 · every simulated point",
    "columns": "5 · what every column means",
}


def figure_labels(wildcards) -> dict[str, str]:
    """report(labels=...) of the plot rule: the figure's place and title."""
    return {"figure": FIGURE_LABELS[wildcards.figure]}


def table_labels(name: str) -> dict[str, str]:
    """report(labels=...) of one table of the aggregate rule."""
    return {"table": TABLE_LABELS[name]}
