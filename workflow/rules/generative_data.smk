# Gaussian equivalence of generative data (docs/generative_data.md): one job per (generator, N) draws the
# generator and its moments, one checks the local fields, one runs the SGD streams, one integrates the two
# spectral ODEs; one job per (generator, λ, α) computes a ridge point. Paths encode these coordinates, so a new
# width, λ or α adds only its jobs. Each step gets its slice of the config as one validated JSON value
# (deeplin.generative_data.settings).
from deeplin.generative_data import settings as gd_settings
from deeplin.generative_data.figure_names import (
    CHAPTER as GD_CHAPTER,
    FIGURES as GD_FIGURES,
    FIGURES_SUBCATEGORY as GD_FIGURES_SUBCATEGORY,
    TABLES as GD_TABLES,
    TABLES_SUBCATEGORY as GD_TABLES_SUBCATEGORY,
    figure_labels as gd_figure_labels,
    figure_table as gd_figure_table,
)
from deeplin.generative_data.grid import (
    at as gd_at,
    generator_cells,
    ridge_points,
    sgd_cells,
)

GD = config["generative_data"]
GD_RESULTS = f"{RESULTS}/generative_data"
GD_CELL = f"{GD_RESULTS}/runs/{{generator}}/N{{width}}"
GD_POINT = f"{GD_CELL}/ridge/lambda{{lam}}/alpha{{alpha}}"
GD_SGD_CELLS = sgd_cells(GD)
GD_RIDGE_POINTS = ridge_points(GD)
GD_RIDGE_WIDTH = [
    {"generator": g, "width": GD["ridge"]["width"]} for g in GD["generators"]
]
GD_WILDCARDS = dict(
    generator="sign|deep_tanh",
    width=r"\d+",
    lam=r"[0-9][0-9.e+-]*",
    alpha=r"[0-9][0-9.e+-]*",
)


rule generative_data_generator:
    output:
        f"{GD_CELL}/generator.npz",
    log:
        f"{GD_CELL}/generator.log",
    benchmark:
        f"{GD_CELL}/generator.benchmark.tsv"
    wildcard_constraints:
        **GD_WILDCARDS,
    conda:
        "../../envs/deeplin.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        settings=settings_json(gd_settings.generator_settings(config)),
    shell:
        "OMP_NUM_THREADS=1 deeplin --verbose generative_data generator --settings {params.settings:q}"
        " --generator {wildcards.generator} --width {wildcards.width} --out {output} 2> {log}"


rule generative_data_fields:
    input:
        rules.generative_data_generator.output,
    output:
        f"{GD_CELL}/fields.npz",
    log:
        f"{GD_CELL}/fields.log",
    benchmark:
        f"{GD_CELL}/fields.benchmark.tsv"
    wildcard_constraints:
        **GD_WILDCARDS,
    conda:
        "../../envs/deeplin.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        settings=settings_json(gd_settings.fields_settings(config)),
    shell:
        "OMP_NUM_THREADS=1 deeplin --verbose generative_data fields --settings {params.settings:q}"
        " --generator-file {input} --out {output} 2> {log}"


rule generative_data_sgd:
    input:
        rules.generative_data_generator.output,
    output:
        f"{GD_CELL}/sgd.npz",
    log:
        f"{GD_CELL}/sgd.log",
    benchmark:
        f"{GD_CELL}/sgd.benchmark.tsv"
    wildcard_constraints:
        **GD_WILDCARDS,
    conda:
        "../../envs/deeplin.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
    params:
        settings=settings_json(gd_settings.sgd_settings(config)),
    shell:
        "OMP_NUM_THREADS=1 deeplin --verbose generative_data sgd --settings {params.settings:q}"
        " --generator-file {input} --out {output} 2> {log}"


rule generative_data_ode:
    input:
        rules.generative_data_generator.output,
    output:
        f"{GD_CELL}/ode.json",
    log:
        f"{GD_CELL}/ode.log",
    benchmark:
        f"{GD_CELL}/ode.benchmark.tsv"
    wildcard_constraints:
        **GD_WILDCARDS,
    conda:
        "../../envs/deeplin.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
    params:
        settings=settings_json(gd_settings.ode_settings(config)),
    shell:
        "OMP_NUM_THREADS=1 deeplin --verbose generative_data ode --settings {params.settings:q}"
        " --generator-file {input} --out {output} 2> {log}"


rule generative_data_ridge:
    input:
        rules.generative_data_generator.output,
    output:
        f"{GD_POINT}/point.json",
    log:
        f"{GD_POINT}/ridge.log",
    benchmark:
        f"{GD_POINT}/ridge.benchmark.tsv"
    wildcard_constraints:
        **GD_WILDCARDS,
    conda:
        "../../envs/deeplin.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        settings=settings_json(gd_settings.ridge_settings(config)),
    shell:
        "OMP_NUM_THREADS=1 deeplin --verbose generative_data ridge --settings {params.settings:q}"
        " --generator-file {input} --lam {wildcards.lam} --alpha {wildcards.alpha} --out {output} 2> {log}"


# The files of every job that each table is made from (SGD: sgd.npz, ode.json pairs).
GD_TABLE_INPUTS = {
    "generative_sgd": [
        path
        for pair in zip(
            gd_at(rules.generative_data_sgd.output[0], GD_SGD_CELLS),
            gd_at(rules.generative_data_ode.output[0], GD_SGD_CELLS),
        )
        for path in pair
    ],
    "generative_ridge": gd_at(rules.generative_data_ridge.output[0], GD_RIDGE_POINTS),
    "generative_fields": gd_at(rules.generative_data_fields.output[0], GD_SGD_CELLS),
}


rule generative_data_table:
    input:
        lambda wc: GD_TABLE_INPUTS[wc.table],
    output:
        table=report(
            f"{GD_RESULTS}/tables/{{table}}.csv",
            caption="../report/generative_data/table.rst",
            category=GD_CHAPTER,
            subcategory=GD_TABLES_SUBCATEGORY,
        ),
        provenance=f"{GD_RESULTS}/tables/{{table}}.provenance.json",
    log:
        f"{GD_RESULTS}/logs/table/{{table}}.log",
    wildcard_constraints:
        table="|".join(GD_TABLES),
    localrule: True
    params:
        learning_rate=GD["sgd"]["learning_rate"],
    run:
        # one path per job: a large grid's list reaches the CLI through a scratch file
        with tempfile.TemporaryDirectory() as scratch:
            listing = write_listing(input, scratch)
            shell(
                "deeplin --verbose generative_data table {wildcards.table} --inputs-from {listing}"
                " --learning-rate {params.learning_rate} --out {output.table} 2> {log}"
            )


# The npz files a figure draws from besides its table.
GD_PLOT_INPUTS = {
    "sgd_error": [],
    "ridge_curves": gd_at(rules.generative_data_generator.output[0], GD_RIDGE_WIDTH),
    "local_fields": gd_at(rules.generative_data_fields.output[0], GD_SGD_CELLS),
}


rule generative_data_plot:
    input:
        table=lambda wc: f"{GD_RESULTS}/tables/{gd_figure_table(wc.figure)}.csv",
        inputs=lambda wc: GD_PLOT_INPUTS[wc.figure],
    output:
        png=report(
            f"{GD_RESULTS}/figures/{{figure}}.png",
            caption="../report/generative_data/figure.rst",
            category=GD_CHAPTER,
            subcategory=GD_FIGURES_SUBCATEGORY,
            labels=gd_figure_labels,
        ),
        pdf=f"{GD_RESULTS}/figures/{{figure}}.pdf",
    log:
        f"{GD_RESULTS}/logs/plot/{{figure}}.log",
    wildcard_constraints:
        figure="|".join(GD_FIGURES),
    localrule: True
    conda:
        "../../envs/deeplin.yaml"
    params:
        settings=settings_json(gd_settings.plot_settings(config)),
        stem=lambda wildcards, output: output.png.removesuffix(".png"),
    shell:
        "deeplin --verbose generative_data plot {wildcards.figure} --settings {params.settings:q}"
        " --table {input.table} --inputs {input.inputs} --out {params.stem} 2> {log}"


if GD["generators"]:
    RESULT_TARGETS.extend(
        [
            *expand(rules.generative_data_table.output, table=list(GD_TABLES)),
            *expand(rules.generative_data_plot.output, figure=list(GD_FIGURES)),
        ]
    )
PROVENANCE_FILES.extend(
    [
        *gd_at(
            rules.generative_data_generator.output[0],
            generator_cells(GD) if GD["generators"] else [],
        ),
        *gd_at(rules.generative_data_fields.output[0], GD_SGD_CELLS),
        *gd_at(rules.generative_data_sgd.output[0], GD_SGD_CELLS),
        *gd_at(rules.generative_data_ode.output[0], GD_SGD_CELLS),
        *gd_at(rules.generative_data_ridge.output[0], GD_RIDGE_POINTS),
        *(
            expand(rules.generative_data_table.output.provenance, table=list(GD_TABLES))
            if GD["generators"]
            else []
        ),
    ]
)
# The rule graph depends only on whether the study has generators: a one-generator stand-in of that shape.
GRAPH_STAND_INS["generative_data"] = (
    {
        "generators": ["sign"],
        "sgd": {"widths": [16], "time_max": 1, "streams": 2, "test_samples": 100},
        "fields": {"samples": 1000, "sparse_nonzeros": [1]},
        "ridge": {"width": 16, "lambdas": [0.1], "alphas": [1.0]},
    }
    if GD["generators"]
    else {}
)
