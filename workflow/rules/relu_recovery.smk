# Recovery of planted neurons by the convex programs of ReLU training (docs/relu_recovery.md): one job per
# cell (d, n/d) solves every trial's relaxed and exact program; the tables over all cells and the figures.
# Paths encode (d, n/d), so adding a dimension or a ratio adds only its cells' jobs. Each step gets its slice
# of the config as one validated JSON value (deeplin.relu_recovery.settings).
from deeplin.relu_recovery import settings as rr_settings
from deeplin.relu_recovery.figure_names import (
    CHAPTER as RR_CHAPTER,
    FIGURES as RR_FIGURES,
    FIGURES_SUBCATEGORY as RR_FIGURES_SUBCATEGORY,
    TABLES_SUBCATEGORY as RR_TABLES_SUBCATEGORY,
    figure_labels as rr_figure_labels,
)
from deeplin.relu_recovery.grid import (
    at_cells as rr_at_cells,
    grid_cells as rr_grid_cells,
    runtime_minutes as rr_runtime_minutes,
)

RR = config["relu_recovery"]
RR_RESULTS = f"{RESULTS}/relu_recovery"
RR_CELL = f"{RR_RESULTS}/cells/d{{dim}}/r{{ratio}}"
RR_CELLS = rr_grid_cells(RR)
RR_WILDCARDS = dict(dim=r"\d+", ratio=r"[0-9][0-9.e+-]*")


rule relu_recovery_solve:
    output:
        f"{RR_CELL}/trials.json",
    log:
        f"{RR_CELL}/solve.log",
    benchmark:
        f"{RR_CELL}/solve.benchmark.tsv"
    wildcard_constraints:
        **RR_WILDCARDS,
    conda:
        "../../envs/deeplin.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=lambda wildcards: rr_runtime_minutes(
            RR, int(wildcards.dim), float(wildcards.ratio)
        ),
    params:
        settings=settings_json(rr_settings.solve_settings(config)),
    shell:
        "deeplin --verbose relu_recovery solve --settings {params.settings:q} --dim {wildcards.dim}"
        " --ratio {wildcards.ratio} --out {output} 2> {log}"


rule relu_recovery_table:
    input:
        rr_at_cells(rules.relu_recovery_solve.output[0], RR_CELLS),
    output:
        table=report(
            f"{RR_RESULTS}/tables/relu_recovery.csv",
            caption="../report/relu_recovery/table.rst",
            category=RR_CHAPTER,
            subcategory=RR_TABLES_SUBCATEGORY,
        ),
        thresholds=report(
            f"{RR_RESULTS}/tables/relu_recovery_thresholds.csv",
            caption="../report/relu_recovery/thresholds.rst",
            category=RR_CHAPTER,
            subcategory=RR_TABLES_SUBCATEGORY,
        ),
        provenance=f"{RR_RESULTS}/tables/provenance.json",
    log:
        f"{RR_RESULTS}/logs/table.log",
    localrule: True
    run:
        # one path per cell: a large grid's list reaches the CLI through a scratch file
        with tempfile.TemporaryDirectory() as scratch:
            listing = write_listing(input, scratch)
            shell(
                "deeplin --verbose relu_recovery table --cells-from {listing} --out {output.table}"
                " --thresholds {output.thresholds} 2> {log}"
            )


rule relu_recovery_plot:
    input:
        table=rules.relu_recovery_table.output.table,
    output:
        png=report(
            f"{RR_RESULTS}/figures/{{figure}}.png",
            caption="../report/relu_recovery/figure.rst",
            category=RR_CHAPTER,
            subcategory=RR_FIGURES_SUBCATEGORY,
            labels=rr_figure_labels,
        ),
        pdf=f"{RR_RESULTS}/figures/{{figure}}.pdf",
    log:
        f"{RR_RESULTS}/logs/plot/{{figure}}.log",
    wildcard_constraints:
        figure="|".join(RR_FIGURES),
    localrule: True
    conda:
        "../../envs/deeplin.yaml"
    params:
        settings=settings_json(rr_settings.plot_settings(config)),
        stem=lambda wildcards, output: output.png.removesuffix(".png"),
    shell:
        "deeplin --verbose relu_recovery plot {wildcards.figure} --settings {params.settings:q}"
        " --table {input.table} --out {params.stem} 2> {log}"


if RR_CELLS:
    RESULT_TARGETS.extend(
        [
            *rules.relu_recovery_table.output,
            *expand(rules.relu_recovery_plot.output, figure=list(RR_FIGURES)),
        ]
    )
PROVENANCE_FILES.extend(
    [
        *rr_at_cells(rules.relu_recovery_solve.output[0], RR_CELLS),
        *([rules.relu_recovery_table.output.provenance] if RR_CELLS else []),
    ]
)
# The rule graph depends only on whether the study has cells: a one-cell stand-in of that shape.
GRAPH_STAND_INS["relu_recovery"] = (
    {"dims": [3], "ratios": [2.0], "trials": 1, "programs": ["relaxed"]}
    if RR_CELLS
    else {}
)
