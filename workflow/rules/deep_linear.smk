# Deep linear networks with depth ∝ width (docs/deep_linear.md): one job per cell (a, N) samples its networks,
# one compares them with the finite, limit and Gaussian-process laws; a table over all cells and the figures.
# Paths encode (a, N), so adding a ratio or a width adds only its cells' jobs. Each step gets its slice of the
# config as one validated JSON value (deeplin.deep_linear.settings).
from deeplin.deep_linear import settings as dl_settings
from deeplin.deep_linear.figure_names import (
    CHAPTER as DL_CHAPTER,
    FIGURES as DL_FIGURES,
    FIGURES_SUBCATEGORY as DL_FIGURES_SUBCATEGORY,
    TABLES_SUBCATEGORY as DL_TABLES_SUBCATEGORY,
    figure_labels as dl_figure_labels,
    reads_networks as dl_reads_networks,
)
from deeplin.deep_linear.grid import at_cells, grid_cells

DL = config["deep_linear"]
DL_RESULTS = f"{RESULTS}/deep_linear"
DL_CELL = f"{DL_RESULTS}/cells/a{{a}}/N{{width}}"
DL_CELLS = grid_cells(DL)
DL_WILDCARDS = dict(a=r"[0-9][0-9.e+-]*", width=r"\d+")


rule deep_linear_simulate:
    output:
        f"{DL_CELL}/networks.npz",
    log:
        f"{DL_CELL}/simulate.log",
    benchmark:
        f"{DL_CELL}/simulate.benchmark.tsv"
    wildcard_constraints:
        **DL_WILDCARDS,
    conda:
        "../../envs/deeplin.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        settings=settings_json(dl_settings.simulation_settings(config)),
    shell:
        "deeplin --verbose deep_linear simulate --settings {params.settings:q} --a {wildcards.a}"
        " --width {wildcards.width} --out {output} 2> {log}"


rule deep_linear_compare:
    input:
        rules.deep_linear_simulate.output,
    output:
        f"{DL_CELL}/statistics.json",
    log:
        f"{DL_CELL}/compare.log",
    benchmark:
        f"{DL_CELL}/compare.benchmark.tsv"
    wildcard_constraints:
        **DL_WILDCARDS,
    conda:
        "../../envs/deeplin.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        settings=settings_json(dl_settings.comparison_settings(config)),
    shell:
        "deeplin --verbose deep_linear compare --settings {params.settings:q} --networks {input}"
        " --out {output} 2> {log}"


rule deep_linear_table:
    input:
        at_cells(rules.deep_linear_compare.output[0], DL_CELLS),
    output:
        table=report(
            f"{DL_RESULTS}/tables/deep_linear.csv",
            caption="../report/deep_linear/table.rst",
            category=DL_CHAPTER,
            subcategory=DL_TABLES_SUBCATEGORY,
        ),
        provenance=f"{DL_RESULTS}/tables/provenance.json",
    log:
        f"{DL_RESULTS}/logs/table.log",
    localrule: True
    run:
        # one path per cell: a large grid's list reaches the CLI through a scratch file
        with tempfile.TemporaryDirectory() as scratch:
            listing = write_listing(input, scratch)
            shell(
                "deeplin --verbose deep_linear table --statistics-from {listing} --out {output.table} 2> {log}"
            )


rule deep_linear_plot:
    input:
        table=rules.deep_linear_table.output.table,
        networks=lambda wc: (
            at_cells(rules.deep_linear_simulate.output[0], DL_CELLS)
            if dl_reads_networks(wc.figure)
            else []
        ),
    output:
        png=report(
            f"{DL_RESULTS}/figures/{{figure}}.png",
            caption="../report/deep_linear/figure.rst",
            category=DL_CHAPTER,
            subcategory=DL_FIGURES_SUBCATEGORY,
            labels=dl_figure_labels,
        ),
        pdf=f"{DL_RESULTS}/figures/{{figure}}.pdf",
    log:
        f"{DL_RESULTS}/logs/plot/{{figure}}.log",
    wildcard_constraints:
        figure="|".join(DL_FIGURES),
    localrule: True
    conda:
        "../../envs/deeplin.yaml"
    params:
        settings=settings_json(dl_settings.plot_settings(config)),
        stem=lambda wildcards, output: output.png.removesuffix(".png"),
    shell:
        "deeplin --verbose deep_linear plot {wildcards.figure} --settings {params.settings:q}"
        " --table {input.table} --networks {input.networks} --out {params.stem} 2> {log}"


if DL_CELLS:
    RESULT_TARGETS.extend(
        [
            *rules.deep_linear_table.output,
            *expand(rules.deep_linear_plot.output, figure=list(DL_FIGURES)),
        ]
    )
PROVENANCE_FILES.extend(
    [
        *at_cells(rules.deep_linear_simulate.output[0], DL_CELLS),
        *at_cells(rules.deep_linear_compare.output[0], DL_CELLS),
        *([rules.deep_linear_table.output.provenance] if DL_CELLS else []),
    ]
)
# The rule graph depends only on whether the study has cells: a one-cell stand-in of that shape.
GRAPH_STAND_INS["deep_linear"] = (
    {"depth_ratios": [0.5], "widths": [2], "networks": 100, "reference_draws": 1000}
    if DL_CELLS
    else {}
)
