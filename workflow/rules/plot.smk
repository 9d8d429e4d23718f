# Figures (PNG + PDF, one style) and the run's own rule graph; every PNG goes into the HTML report.


rule plot:
    input:
        plot_inputs,
    output:
        png=report(
            f"{RESULTS}/figures/{{figure}}.png",
            caption="../report/figure.rst",
            category="Figures",
            labels=figure_labels,
        ),
        pdf=f"{RESULTS}/figures/{{figure}}.pdf",
    log:
        f"{RESULTS}/logs/plot/{{figure}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/plot/{{figure}}.tsv"
    wildcard_constraints:
        figure="|".join(SIM_FIGURES),
    localrule: True
    conda:
        "../../envs/deeplin.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        plots=json.dumps(config["plots"], sort_keys=True),
        tables=lambda wc: f"--tables {RESULTS}/tables" if sim_points() else "",
        curves=lambda wc: (
            "--curves " + " ".join(f"{RESULTS}/theory/{m}/curve.csv" for m in MODELS)
            if wc.figure == "error_vs_alpha"
            else ""
        ),
        stem=lambda wildcards, output: output.png.removesuffix(".png"),
    shell:
        "deeplin --verbose plot {wildcards.figure} {params.tables} {params.curves}"
        " --plots {params.plots:q} --out {params.stem} 2> {log}"


rule rulegraph:
    output:
        dot=f"{RESULTS}/figures/rulegraph.dot",
        png=report(
            f"{RESULTS}/figures/rulegraph.png",
            caption="../report/rulegraph.rst",
            category="Rule graph",
        ),
        pdf=f"{RESULTS}/figures/rulegraph.pdf",
        config=f"{RESULTS}/figures/rulegraph.config.json",
    log:
        f"{RESULTS}/logs/rulegraph.log",
    localrule: True
    conda:
        "../../envs/deeplin.yaml"
    params:
        # The rule graph depends only on whether the study simulates: the inner `snakemake --rulegraph`
        # gets a stand-in study of that shape, so α, seeds or noise changes never rerun this job.
        config=json.dumps(graph_stand_in_study(), sort_keys=True),
        plots=json.dumps(config["plots"], sort_keys=True),
        python=sys.executable,
        snakefile=workflow.main_snakefile,
        stem=lambda wildcards, output: output.png.removesuffix(".png"),
    shell:
        "echo {params.config:q} > {output.config} && "
        "{params.python} -m snakemake --snakefile {params.snakefile} --configfile {output.config}"
        " --rulegraph --nolock --quiet all 2>> {log}"
        " | deeplin --verbose rulegraph --plots {params.plots:q} --out {params.stem} 2>> {log}"
