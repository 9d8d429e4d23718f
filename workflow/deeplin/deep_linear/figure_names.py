"""The one registry of the deep-linear result's figures and tables, with their place in the report. Standard
library only, so that the rules can import it while Snakemake parses them."""

from __future__ import annotations

# The report chapter of this result (a Snakemake report category); figures and tables are its subcategories.
CHAPTER = "Deep linear networks, depth ∝ width"
FIGURES_SUBCATEGORY = "Figures"
TABLES_SUBCATEGORY = "Tables"

# Figure name → (report label, whether it reads the cells' networks as well as the table).
FIGURES = {
    "output_density": ("1 · density of one output: Gaussian mixture against the Gaussian process", True),
    "moments": ("2 · kurtosis and cross moment against a: finite N, limit, Gaussian process", False),
    "correlation": ("3 · the outputs' correlation against its limit law", True),
    "ks_vs_width": ("4 · Kolmogorov–Smirnov distance to the limit law against N", False),
}
TABLES = {"deep_linear": "1 · every statistic of every cell against the finite, limit and GP laws"}


def figure_labels(wildcards) -> dict[str, str]:
    """report(labels=...) of the plot rule: the figure's place and title."""
    return {"figure": FIGURES[wildcards.figure][0]}


def reads_networks(name: str) -> bool:
    """Whether figure ``name`` draws histograms from the simulated networks."""
    return FIGURES[name][1]
