# The deep Gaussian equivalence (docs/deep_equivalence.md): the theory of every model, one job per
# simulation point for its data, deep posterior and GLM twin (paths encode model, d0, α and seed, so new grid
# points add jobs only), the tables over all points and the figures. Each step gets its slice of the config
# as one validated JSON value (deeplin.deep_equivalence.settings): the params, so reruns follow exactly it.
from deeplin.deep_equivalence import settings as de_settings
from deeplin.deep_equivalence.grid import at_points, gpu_request, grid_points
from deeplin.deep_equivalence.groups import (
    cell_seed_counts,
    group_dir,
    group_seeds,
    point_files,
    posterior_mem_mb,
    take_point,
)
from deeplin.deep_equivalence.figure_names import (
    CHAPTER as DE_CHAPTER,
    FIGURE_TABLES as DE_FIGURE_TABLES,
    FIGURES as DE_FIGURES,
    FIGURES_SUBCATEGORY as DE_FIGURES_SUBCATEGORY,
    HEADLINE_RST as DE_HEADLINE_RST,
    TABLES as DE_TABLES,
    TABLES_SUBCATEGORY as DE_TABLES_SUBCATEGORY,
    figure_labels as de_figure_labels,
    figure_names as de_figure_names,
    table_labels as de_table_labels,
)

DE = config["deep_equivalence"]
DE_RESULTS = f"{RESULTS}/deep_equivalence"
DE_MODELS = list(DE["models"])
DE_SAMPLER = DE["sampler"]
DE_POINT = f"{DE_RESULTS}/sims/{{model}}/d{{width}}/alpha{{alpha}}/seed{{seed}}"
DE_WILDCARDS = dict(
    model="|".join(re.escape(name) for name in DE_MODELS),
    width=r"\d+",
    alpha=r"[0-9][0-9.e+-]*",
    seed=r"\d+",
)


DE_GRID = grid_points(DE)
DE_SIMULATED = bool(DE_GRID)
DE_PER_JOB = DE_SAMPLER["points_per_job"]
DE_GROUP = (
    f"{DE_RESULTS}/sims/{{model}}/d{{width}}/alpha{{alpha}}/seeds{{first}}-{{last}}"
)


rule deep_equivalence_theory:
    output:
        coefficients=f"{DE_RESULTS}/theory/{{model}}/coefficients.json",
        curve=f"{DE_RESULTS}/theory/{{model}}/curve.csv",
    log:
        f"{DE_RESULTS}/logs/theory/{{model}}.log",
    benchmark:
        f"{DE_RESULTS}/benchmarks/theory/{{model}}.tsv"
    wildcard_constraints:
        model=DE_WILDCARDS["model"],
    localrule: True
    conda:
        "../../envs/deeplin.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        settings=lambda wc: settings_json(de_settings.theory_settings(config, wc.model)),
    shell:
        "deeplin --verbose deep_equivalence theory --settings {params.settings:q}"
        " --curve {output.curve} --coefficients {output.coefficients} 2> {log}"


rule deep_equivalence_data:
    output:
        f"{DE_POINT}/data.npz",
    log:
        f"{DE_POINT}/data.log",
    benchmark:
        f"{DE_POINT}/data.benchmark.tsv"
    wildcard_constraints:
        **DE_WILDCARDS,
    conda:
        "../../envs/deeplin.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        settings=lambda wc: settings_json(de_settings.data_settings(config, wc.model)),
    shell:
        "deeplin --verbose deep_equivalence data --settings {params.settings:q} --width {wildcards.width}"
        " --alpha {wildcards.alpha} --seed {wildcards.seed} --out {output} 2> {log}"


# One job per point (sampler.points_per_job = 1), or one job per chunk of a cell's seeds (docs/sampler.md,
# 'Grouped posterior jobs'): the group's job writes every point's files into its folder, and the per-point
# rule takes them from there, so that every later rule sees the per-point paths of one job per point.
if DE_PER_JOB == 1:

    rule deep_equivalence_posterior:
        input:
            rules.deep_equivalence_data.output,
        output:
            metrics=f"{DE_POINT}/posterior.json",
            summary=f"{DE_POINT}/posterior_summary.npz",
        log:
            f"{DE_POINT}/posterior.log",
        benchmark:
            f"{DE_POINT}/posterior.benchmark.tsv"
        wildcard_constraints:
            **DE_WILDCARDS,
        conda:
            "../../envs/deeplin-cuda.yaml"
            if DE_SAMPLER["gpus"]
            else "../../envs/deeplin.yaml"
        threads: 1
        resources:
            **gpu_request(DE_SAMPLER),
            mem_mb=posterior_mem_mb(DE_SAMPLER, DE["simulation"]["test_size"]),
            runtime=120,
            # how, not what: the checkpoint interval changes no number, so it is a resource (resources never
            # trigger reruns; params would)
            checkpoint_seconds=str(DE_SAMPLER["checkpoint_seconds"]),
        params:
            settings=settings_json(de_settings.posterior_settings(config)),
            # The checkpoint is no output: Snakemake would delete it before rerunning a killed job.
            checkpoint=lambda wildcards, output: Path(output.metrics).with_name(
                "posterior.checkpoint.pt"
            ),
        shell:
            "deeplin --verbose deep_equivalence posterior --settings {params.settings:q} --data {input}"
            " --threads {threads} --checkpoint {params.checkpoint}"
            " --checkpoint-seconds {resources.checkpoint_seconds}"
            " --out {output.metrics} --summary-out {output.summary} 2> {log}"

else:

    rule deep_equivalence_posterior_group:
        input:
            lambda wc: [
                rules.deep_equivalence_data.output[0].format(
                    model=wc.model, width=wc.width, alpha=wc.alpha, seed=seed
                )
                for seed in group_seeds(wc.first, wc.last)
            ],
        output:
            directory(DE_GROUP),
        log:
            f"{DE_GROUP}.log",
        benchmark:
            f"{DE_GROUP}.benchmark.tsv"
        wildcard_constraints:
            model=DE_WILDCARDS["model"],
            width=DE_WILDCARDS["width"],
            alpha=DE_WILDCARDS["alpha"],
            first=r"\d+",
            last=r"\d+",
        conda:
            "../../envs/deeplin-cuda.yaml"
            if DE_SAMPLER["gpus"]
            else "../../envs/deeplin.yaml"
        threads: 1
        resources:
            **gpu_request(DE_SAMPLER),
            mem_mb=lambda wc: posterior_mem_mb(
                DE_SAMPLER,
                DE["simulation"]["test_size"],
                len(group_seeds(wc.first, wc.last)),
            ),
            runtime=lambda wc: 120 * len(group_seeds(wc.first, wc.last)),
            checkpoint_seconds=str(DE_SAMPLER["checkpoint_seconds"]),
        params:
            settings=settings_json(de_settings.posterior_settings(config)),
            # outside the output folder: Snakemake empties that before rerunning a killed job
            checkpoint=f"{DE_GROUP}.checkpoint.pt",
            outs=lambda wc, output: " ".join(
                str(point_files(output[0], s)[0])
                for s in group_seeds(wc.first, wc.last)
            ),
            summaries=lambda wc, output: " ".join(
                str(point_files(output[0], s)[1])
                for s in group_seeds(wc.first, wc.last)
            ),
        shell:
            "deeplin --verbose deep_equivalence posterior-group --settings {params.settings:q} --data {input}"
            " --threads {threads} --checkpoint {params.checkpoint}"
            " --checkpoint-seconds {resources.checkpoint_seconds}"
            " --out {params.outs} --summary-out {params.summaries} 2> {log}"

    rule deep_equivalence_posterior:
        input:
            group=lambda wc: group_dir(
                DE_GROUP, cell_seed_counts(DE_GRID, DE_QUAD_GRID), DE_PER_JOB, wc
            ),
        output:
            metrics=f"{DE_POINT}/posterior.json",
            summary=f"{DE_POINT}/posterior_summary.npz",
        log:
            f"{DE_POINT}/posterior.log",
        wildcard_constraints:
            **DE_WILDCARDS,
        localrule: True
        params:
            group_log=lambda wc, input: f"{input.group}.log",
        run:
            take_point(
                input.group,
                params.group_log,
                wildcards.seed,
                output.metrics,
                output.summary,
                log[0],
            )


rule deep_equivalence_twin:
    input:
        rules.deep_equivalence_data.output,
    output:
        f"{DE_POINT}/glm_twin.json",
    log:
        f"{DE_POINT}/glm_twin.log",
    benchmark:
        f"{DE_POINT}/glm_twin.benchmark.tsv"
    wildcard_constraints:
        **DE_WILDCARDS,
    conda:
        "../../envs/deeplin.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    shell:
        "deeplin --verbose deep_equivalence twin --data {input} --out {output} 2> {log}"


rule deep_equivalence_metrics:
    input:
        data=rules.deep_equivalence_data.output[0],
        posterior=rules.deep_equivalence_posterior.output.metrics,
        twin=rules.deep_equivalence_twin.output[0],
    output:
        f"{DE_POINT}/metrics.json",
    log:
        f"{DE_POINT}/metrics.log",
    wildcard_constraints:
        **DE_WILDCARDS,
    localrule: True
    conda:
        "../../envs/deeplin.yaml"
    shell:
        "deeplin deep_equivalence metrics --data {input.data} --posterior {input.posterior}"
        " --glm-twin {input.twin} --out {output} 2> {log}"


rule deep_equivalence_aggregate:
    input:
        at_points(rules.deep_equivalence_metrics.output[0], DE_GRID),
    output:
        **{
            name: report(
                f"{DE_RESULTS}/tables/{name}.csv",
                caption=f"../report/deep_equivalence/{name}.rst",
                category=DE_CHAPTER,
                subcategory=DE_TABLES_SUBCATEGORY,
                labels=de_table_labels(name),
            )
            for name in DE_TABLES
        },
        # the headline as reStructuredText, included by the report's landing page
        headline_rst=f"{DE_RESULTS}/tables/{DE_HEADLINE_RST}",
        provenance=f"{DE_RESULTS}/tables/provenance.json",
    log:
        f"{DE_RESULTS}/logs/aggregate.log",
    benchmark:
        f"{DE_RESULTS}/benchmarks/aggregate.tsv"
    localrule: True
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        settings=settings_json(de_settings.analysis_settings(config)),
        out_dir=lambda wildcards, output: Path(output.provenance).parent,
    run:
        # one path per point: a large study's list reaches the CLI through a scratch file, not the command line
        with tempfile.TemporaryDirectory() as scratch:
            listing = write_listing(input, scratch)
            shell(
                "deeplin --verbose deep_equivalence aggregate --settings {params.settings:q}"
                " --metrics-from {listing} --out-dir {params.out_dir} 2> {log}"
            )


rule deep_equivalence_plot:
    input:
        tables=lambda wc: (
            [rules.deep_equivalence_aggregate.output[t] for t in DE_FIGURE_TABLES]
            if DE_SIMULATED
            else []
        ),
        # the theory curves, where they are drawn
        curves=lambda wc: (
            expand(rules.deep_equivalence_theory.output.curve, model=DE_MODELS)
            if wc.figure == "error_vs_alpha"
            else []
        ),
    output:
        png=report(
            f"{DE_RESULTS}/figures/{{figure}}.png",
            caption="../report/deep_equivalence/figure.rst",
            category=DE_CHAPTER,
            subcategory=DE_FIGURES_SUBCATEGORY,
            labels=de_figure_labels,
        ),
        pdf=f"{DE_RESULTS}/figures/{{figure}}.pdf",
    log:
        f"{DE_RESULTS}/logs/plot/{{figure}}.log",
    benchmark:
        f"{DE_RESULTS}/benchmarks/plot/{{figure}}.tsv"
    wildcard_constraints:
        figure="|".join(DE_FIGURES),
    localrule: True
    conda:
        "../../envs/deeplin.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        settings=settings_json(de_settings.plot_settings(config)),
        tables=lambda wc, input: (
            f"--tables {Path(input.tables[0]).parent}" if input.tables else ""
        ),
        curves=lambda wc, input: (
            "--curves " + " ".join(f"{m}={c}" for m, c in zip(DE_MODELS, input.curves))
            if input.curves
            else ""
        ),
        stem=lambda wildcards, output: output.png.removesuffix(".png"),
    shell:
        "deeplin --verbose deep_equivalence plot {wildcards.figure} {params.tables} {params.curves}"
        " --settings {params.settings:q} --out {params.stem} 2> {log}"


RESULT_TARGETS.extend(
    [
        *expand(rules.deep_equivalence_theory.output, model=DE_MODELS),
        *at_points(rules.deep_equivalence_metrics.output[0], DE_GRID),
        *(rules.deep_equivalence_aggregate.output if DE_SIMULATED else []),
        *expand(
            rules.deep_equivalence_plot.output,
            figure=de_figure_names(DE_SIMULATED),
        ),
    ]
)
PROVENANCE_FILES.extend(
    [
        *expand(rules.deep_equivalence_theory.output.coefficients, model=DE_MODELS),
        *(
            path
            for point_file in [
                rules.deep_equivalence_data.output[0],
                *rules.deep_equivalence_posterior.output,
                rules.deep_equivalence_twin.output[0],
                rules.deep_equivalence_metrics.output[0],
            ]
            for path in at_points(point_file, DE_GRID)
        ),
        *([rules.deep_equivalence_aggregate.output.provenance] if DE_SIMULATED else []),
    ]
)
# The rule graph depends only on whether the study simulates: a one-model stand-in of that shape.
GRAPH_STAND_INS["deep_equivalence"] = {
    "models": {
        "graph-model": {
            "activation": "tanh",
            "depth": 1,
            "readout": "linear",
            "noise": 0.1,
        }
    },
    "theory": {"alpha_num": 2},
    **(
        {
            "simulation": {
                "models": ["graph-model"],
                "widths": [2],
                "alphas": [1.0],
                "seeds": 1,
            }
        }
        if DE_SIMULATED
        else {}
    ),
    # a grouped study's graph shows the group rule
    **({"sampler": {"points_per_job": DE_PER_JOB}} if DE_PER_JOB > 1 else {}),
}


# --- Mutual information per sample by I-MMSE (docs/deep_equivalence.md, 'Mutual information at finite size').
# Per point of deep_equivalence.mutual_information: one rung per signal-to-noise ratio s_k of the ladder (its
# path holds s_k), each a fresh posterior run on the point's data with the noise rescaled; the point's I/n;
# the tables over all points; two figures.
from deeplin.deep_equivalence.mi_figure_names import (
    MI_FIGURES as DE_MI_FIGURES,
    MI_TABLES as DE_MI_TABLES,
)
from deeplin.deep_equivalence.mi_ladder import write_rung
from deeplin.deep_equivalence.mi_grid import (
    mi_points,
    rung_dirs,
    rung_group_dir,
    rung_group_labels,
)

DE_MI = DE["mutual_information"]
DE_MI_GRID = mi_points(DE)
DE_MI_ON = bool(DE_MI_GRID)
DE_RUNG = f"{DE_POINT}/mi/snr{{snr}}"
DE_RUNG_GROUP = f"{DE_POINT}/mi/rungs{{first}}-{{last}}"
DE_MI_WILDCARDS = dict(**DE_WILDCARDS, snr=r"[0-9][0-9.e+-]*")


rule deep_equivalence_mi_rung_data:
    # in Snakemake's process: a rescaling of the point's labels (numpy only), cheaper than a job's start-up;
    # `deeplin deep_equivalence mi-rung-data` does the same from a shell
    input:
        rules.deep_equivalence_data.output,
    output:
        f"{DE_RUNG}/data.npz",
    log:
        f"{DE_RUNG}/data.log",
    wildcard_constraints:
        **DE_MI_WILDCARDS,
    localrule: True
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    run:
        write_rung(input[0], float(wildcards.snr), output[0], log[0])


# One job per rung (sampler.points_per_job = 1), or one job per chunk of a point's rungs: they share the
# point's inputs and shapes, so they sample in one chain tensor as a cell's seeds do (docs/sampler.md,
# 'Grouped posterior jobs'); the per-rung rule then takes each rung's files from the group's folder.
if DE_PER_JOB == 1:

    rule deep_equivalence_mi_rung_posterior:
        input:
            rules.deep_equivalence_mi_rung_data.output,
        output:
            metrics=f"{DE_RUNG}/posterior.json",
            summary=f"{DE_RUNG}/posterior_summary.npz",
        log:
            f"{DE_RUNG}/posterior.log",
        benchmark:
            f"{DE_RUNG}/posterior.benchmark.tsv"
        wildcard_constraints:
            **DE_MI_WILDCARDS,
        conda:
            "../../envs/deeplin-cuda.yaml"
            if DE_SAMPLER["gpus"]
            else "../../envs/deeplin.yaml"
        threads: 1
        resources:
            **gpu_request(DE_SAMPLER),
            mem_mb=lambda wc: posterior_mem_mb(
                DE_SAMPLER, round(float(wc.alpha) * int(wc.width))
            ),
            runtime=120,
            checkpoint_seconds=str(DE_SAMPLER["checkpoint_seconds"]),
        params:
            settings=settings_json(de_settings.posterior_settings(config)),
            checkpoint=lambda wildcards, output: Path(output.metrics).with_name(
                "posterior.checkpoint.pt"
            ),
        shell:
            "deeplin --verbose deep_equivalence posterior --settings {params.settings:q} --data {input}"
            " --threads {threads} --checkpoint {params.checkpoint}"
            " --checkpoint-seconds {resources.checkpoint_seconds}"
            " --out {output.metrics} --summary-out {output.summary} 2> {log}"

else:

    rule deep_equivalence_mi_rung_group:
        input:
            lambda wc: [
                rules.deep_equivalence_mi_rung_data.output[0].format(**wc, snr=label)
                for label in rung_group_labels(DE, wc.model, wc.first, wc.last)
            ],
        output:
            directory(DE_RUNG_GROUP),
        log:
            f"{DE_RUNG_GROUP}.log",
        benchmark:
            f"{DE_RUNG_GROUP}.benchmark.tsv"
        wildcard_constraints:
            **DE_WILDCARDS,
            first=r"\d+",
            last=r"\d+",
        conda:
            "../../envs/deeplin-cuda.yaml"
            if DE_SAMPLER["gpus"]
            else "../../envs/deeplin.yaml"
        threads: 1
        resources:
            **gpu_request(DE_SAMPLER),
            # a rung's predictions are its n training outputs
            mem_mb=lambda wc: posterior_mem_mb(
                DE_SAMPLER,
                round(float(wc.alpha) * int(wc.width)),
                int(wc.last) - int(wc.first) + 1,
            ),
            runtime=lambda wc: 120 * (int(wc.last) - int(wc.first) + 1),
            checkpoint_seconds=str(DE_SAMPLER["checkpoint_seconds"]),
        params:
            settings=settings_json(de_settings.posterior_settings(config)),
            # outside the output folder: Snakemake empties that before rerunning a killed job
            checkpoint=f"{DE_RUNG_GROUP}.checkpoint.pt",
            outs=lambda wc, output: " ".join(
                str(point_files(output[0], f"snr{label}")[0])
                for label in rung_group_labels(DE, wc.model, wc.first, wc.last)
            ),
            summaries=lambda wc, output: " ".join(
                str(point_files(output[0], f"snr{label}")[1])
                for label in rung_group_labels(DE, wc.model, wc.first, wc.last)
            ),
        shell:
            "deeplin --verbose deep_equivalence posterior-group --settings {params.settings:q} --data {input}"
            " --threads {threads} --checkpoint {params.checkpoint}"
            " --checkpoint-seconds {resources.checkpoint_seconds}"
            " --out {params.outs} --summary-out {params.summaries} 2> {log}"

    rule deep_equivalence_mi_rung_posterior:
        input:
            group=lambda wc: rung_group_dir(DE, DE_RUNG_GROUP, DE_PER_JOB, wc),
        output:
            metrics=f"{DE_RUNG}/posterior.json",
            summary=f"{DE_RUNG}/posterior_summary.npz",
        log:
            f"{DE_RUNG}/posterior.log",
        wildcard_constraints:
            **DE_MI_WILDCARDS,
        localrule: True
        params:
            group_log=lambda wc, input: f"{input.group}.log",
        run:
            take_point(
                input.group,
                params.group_log,
                f"snr{wildcards.snr}",
                output.metrics,
                output.summary,
                log[0],
            )


rule deep_equivalence_mi_point:
    input:
        data=rules.deep_equivalence_data.output[0],
        rung_data=lambda wc: [f"{d}/data.npz" for d in rung_dirs(DE, DE_RUNG, wc)],
        rung_posteriors=lambda wc: [
            f"{d}/posterior.json" for d in rung_dirs(DE, DE_RUNG, wc)
        ],
    output:
        f"{DE_POINT}/mi/mi.json",
    log:
        f"{DE_POINT}/mi/mi.log",
    wildcard_constraints:
        **DE_WILDCARDS,
    localrule: True
    conda:
        "../../envs/deeplin.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        settings=settings_json(de_settings.mi_point_settings(config)),
        rungs=lambda wc: " ".join(rung_dirs(DE, DE_RUNG, wc)),
    shell:
        "deeplin --verbose deep_equivalence mi-point --settings {params.settings:q} --data {input.data}"
        " --rungs {params.rungs} --out {output} 2> {log}"


rule deep_equivalence_mi_table:
    input:
        at_points(rules.deep_equivalence_mi_point.output[0], DE_MI_GRID),
    output:
        **{
            name: report(
                f"{DE_RESULTS}/tables/{name}.csv",
                caption=f"../report/deep_equivalence/{name}.rst",
                category=DE_CHAPTER,
                subcategory=DE_TABLES_SUBCATEGORY,
                labels={"table": label},
            )
            for name, label in DE_MI_TABLES.items()
        },
        provenance=f"{DE_RESULTS}/tables/mutual_information_provenance.json",
    log:
        f"{DE_RESULTS}/logs/mutual_information_table.log",
    localrule: True
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        out_dir=lambda wildcards, output: Path(output.provenance).parent,
    run:
        with tempfile.TemporaryDirectory() as scratch:
            listing = write_listing(input, scratch)
            shell(
                "deeplin --verbose deep_equivalence mi-table --points-from {listing}"
                " --out-dir {params.out_dir} 2> {log}"
            )


rule deep_equivalence_mi_plot:
    input:
        table=rules.deep_equivalence_mi_table.output.mutual_information,
        rungs=rules.deep_equivalence_mi_table.output.mutual_information_rungs,
        curves=expand(rules.deep_equivalence_theory.output.curve, model=DE_MI["models"]),
        errors=(
            [rules.deep_equivalence_aggregate.output.summary] if DE_SIMULATED else []
        ),
    output:
        png=report(
            f"{DE_RESULTS}/figures/{{mi_figure}}.png",
            caption="../report/deep_equivalence/mi_figure.rst",
            category=DE_CHAPTER,
            subcategory=DE_FIGURES_SUBCATEGORY,
            labels=lambda wc: {"figure": DE_MI_FIGURES[wc.mi_figure]},
        ),
        pdf=f"{DE_RESULTS}/figures/{{mi_figure}}.pdf",
    log:
        f"{DE_RESULTS}/logs/plot/{{mi_figure}}.log",
    wildcard_constraints:
        mi_figure="|".join(DE_MI_FIGURES),
    localrule: True
    conda:
        "../../envs/deeplin.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        settings=settings_json(de_settings.plot_settings(config)),
        curves=lambda wc, input: " ".join(
            f"{m}={c}" for m, c in zip(DE_MI["models"], input.curves)
        ),
        errors=lambda wc, input: f"--errors {input.errors}" if input.errors else "",
        tables_dir=lambda wc, input: Path(input.table).parent,
        stem=lambda wildcards, output: output.png.removesuffix(".png"),
    shell:
        "deeplin --verbose deep_equivalence mi-plot {wildcards.mi_figure} --settings {params.settings:q}"
        " --tables {params.tables_dir} --curves {params.curves} {params.errors} --out {params.stem} 2> {log}"


if DE_MI_ON:
    RESULT_TARGETS.extend(
        [
            *at_points(rules.deep_equivalence_mi_point.output[0], DE_MI_GRID),
            *rules.deep_equivalence_mi_table.output,
            *expand(
                rules.deep_equivalence_mi_plot.output, mi_figure=list(DE_MI_FIGURES)
            ),
        ]
    )
    PROVENANCE_FILES.extend(
        [
            *at_points(rules.deep_equivalence_mi_point.output[0], DE_MI_GRID),
            rules.deep_equivalence_mi_table.output.provenance,
        ]
    )
    GRAPH_STAND_INS["deep_equivalence"]["mutual_information"] = {
        "models": ["graph-model"],
        "widths": [2],
        "alphas": [1.0],
        "seeds": 1,
        "rungs": 2,
    }


# --- Beyond the proportional regime: n = κ d0² (docs/deep_equivalence.md, 'Beyond the proportional regime').
# The points are ordinary simulation points (α = κ d0), made by the rules above; here only their table and
# figure.
from deeplin.deep_equivalence.mi_figure_names import (
    QUADRATIC_FIGURES as DE_QUAD_FIGURES,
    QUADRATIC_TABLES as DE_QUAD_TABLES,
)
from deeplin.deep_equivalence.quadratic_regime import quadratic_points

DE_QUAD_GRID = quadratic_points(DE)


rule deep_equivalence_quadratic_table:
    input:
        at_points(rules.deep_equivalence_metrics.output[0], DE_QUAD_GRID),
    output:
        report(
            f"{DE_RESULTS}/tables/quadratic_regime.csv",
            caption="../report/deep_equivalence/quadratic_regime.rst",
            category=DE_CHAPTER,
            subcategory=DE_TABLES_SUBCATEGORY,
            labels={"table": DE_QUAD_TABLES["quadratic_regime"]},
        ),
    log:
        f"{DE_RESULTS}/logs/quadratic_table.log",
    localrule: True
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    run:
        with tempfile.TemporaryDirectory() as scratch:
            listing = write_listing(input, scratch)
            shell(
                "deeplin --verbose deep_equivalence quadratic-table --metrics-from {listing}"
                " --out {output} 2> {log}"
            )


rule deep_equivalence_quadratic_plot:
    input:
        rules.deep_equivalence_quadratic_table.output,
    output:
        png=report(
            f"{DE_RESULTS}/figures/quadratic_regime.png",
            caption="../report/deep_equivalence/quadratic_figure.rst",
            category=DE_CHAPTER,
            subcategory=DE_FIGURES_SUBCATEGORY,
            labels={"figure": DE_QUAD_FIGURES["quadratic_regime"]},
        ),
        pdf=f"{DE_RESULTS}/figures/quadratic_regime.pdf",
    log:
        f"{DE_RESULTS}/logs/plot/quadratic_regime.log",
    localrule: True
    conda:
        "../../envs/deeplin.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        settings=settings_json(de_settings.plot_settings(config)),
        stem=lambda wildcards, output: output.png.removesuffix(".png"),
    shell:
        "deeplin --verbose deep_equivalence quadratic-plot --settings {params.settings:q} --table {input}"
        " --out {params.stem} 2> {log}"


if DE_QUAD_GRID:
    RESULT_TARGETS.extend(
        [
            *at_points(rules.deep_equivalence_metrics.output[0], DE_QUAD_GRID),
            *rules.deep_equivalence_quadratic_table.output,
            *rules.deep_equivalence_quadratic_plot.output,
        ]
    )
    PROVENANCE_FILES.extend(
        at_points(rules.deep_equivalence_metrics.output[0], DE_QUAD_GRID)
    )
    GRAPH_STAND_INS["deep_equivalence"]["quadratic"] = {
        "models": ["graph-model"],
        "widths": [2],
        "kappas": [1.0],
        "seeds": 1,
    }
