# Figures (PNG + PDF, one style) and the run's own rule graph; every PNG goes into the HTML report.


rule plot:
    input:
        plot_inputs,
    output:
        png=report(
            "results/figures/{figure}.png",
            caption="../report/figure.rst",
            category="Figures",
        ),
        pdf="results/figures/{figure}.pdf",
    params:
        plots=json.dumps(config["plots"], sort_keys=True),
        tables=lambda wc: "--tables results/tables" if sim_points() else "",
        curves=lambda wc: (
            "--curves " + " ".join(f"results/theory/{m}/curve.csv" for m in MODELS)
            if wc.figure == "error_vs_alpha"
            else ""
        ),
    wildcard_constraints:
        figure="|".join(SIM_FIGURES),
    log:
        "results/logs/plot/{figure}.log",
    benchmark:
        "results/benchmarks/plot/{figure}.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    localrule: True
    conda:
        "../../envs/deeplin.yaml"
    shell:
        "deeplin --verbose plot {wildcards.figure} {params.tables} {params.curves}"
        " --plots {params.plots:q} --out results/figures/{wildcards.figure} 2> {log}"


rule rulegraph:
    output:
        dot="results/figures/rulegraph.dot",
        png=report(
            "results/figures/rulegraph.png", caption="../report/rulegraph.rst", category="Workflow"
        ),
        pdf="results/figures/rulegraph.pdf",
        config="results/figures/rulegraph.config.json",
    params:
        # The rule graph depends only on whether the study simulates: the inner `snakemake --rulegraph`
        # gets a stand-in study of that shape, so α, seeds or noise changes never rerun this job.
        config=json.dumps(graph_stand_in_study(), sort_keys=True),
        plots=json.dumps(config["plots"], sort_keys=True),
        python=sys.executable,
        snakefile=workflow.main_snakefile,
    log:
        "results/logs/rulegraph.log",
    localrule: True
    conda:
        "../../envs/deeplin.yaml"
    shell:
        "echo {params.config:q} > {output.config} && "
        "{params.python} -m snakemake --snakefile {params.snakefile} --configfile {output.config}"
        " --rulegraph --nolock --quiet all 2>> {log}"
        " | deeplin --verbose rulegraph --plots {params.plots:q} --out results/figures/rulegraph 2>> {log}"
