"""The one registry of the recovery result's figures and tables, with their place in the report. Standard
library only, so that the rules can import it while Snakemake parses them."""

from __future__ import annotations

# The report chapter of this result (a Snakemake report category); figures and tables are its subcategories.
CHAPTER = "Recovery of planted neurons"
FIGURES_SUBCATEGORY = "Figures"
TABLES_SUBCATEGORY = "Tables"

FIGURES = {
    "phase_diagram": "1 · phase diagram: recovery rate over d and n/d, per program",
    "rate_vs_ratio": "2 · recovery rate against n/d with Wilson intervals, Wendel's bound and the certificate",
    "distance_vs_noise": "3 · distance to the planted neuron against the label noise",
}
TABLES = {
    "relu_recovery": "1 · every cell: recovery rates, certificate, all-ones frequency against Wendel, seconds",
    "relu_recovery_thresholds": "2 · the fitted n/d of 50 % recovery per model, program and d",
}


def figure_labels(wildcards) -> dict[str, str]:
    """report(labels=...) of the plot rule: the figure's place and title."""
    return {"figure": FIGURES[wildcards.figure]}
