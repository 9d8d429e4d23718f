"""The one registry of the generative-data result's figures and tables, with their place in the report.
Standard library only, so that the rules can import it while Snakemake parses them."""

from __future__ import annotations

# The report chapter of this result (a Snakemake report category); figures and tables are its subcategories.
CHAPTER = "Gaussian equivalence of generative data"
FIGURES_SUBCATEGORY = "Figures"
TABLES_SUBCATEGORY = "Tables"

# Figure name → (report label, the table it reads).
FIGURES = {
    "sgd_error": ("1 · online SGD: test error against time, simulation and both ODEs", "generative_sgd"),
    "ridge_curves": ("2 · ridge learning curves: fixed point against both kinds of data", "generative_ridge"),
    "local_fields": (
        "3 · local fields at initialisation against N(0, 1), with the sparse control",
        "generative_fields",
    ),
}
TABLES = {
    "generative_sgd": "1 · SGD simulation and the two ODE solutions at every recorded time",
    "generative_ridge": "2 · ridge test error: theory and the two simulations at every (λ, α)",
    "generative_fields": "3 · local-field statistics at initialisation (Gaussian equivalence check)",
}


def figure_labels(wildcards) -> dict[str, str]:
    """report(labels=...) of the plot rule: the figure's place and title."""
    return {"figure": FIGURES[wildcards.figure][0]}


def figure_table(name: str) -> str:
    """The table that figure ``name`` is drawn from."""
    return FIGURES[name][1]
